/* rv-mint.h: new key pairs and signed tokens, for reverify-admin and tests */
#ifndef RV_MINT_H
#define RV_MINT_H

#include <stdbool.h>

#include <jansson.h>

struct rv_err;

/*
 * Not in the per-request library (libreverify.a) but in
 * libreverify-admin.a, so that no endpoint program links key generation
 * or signing. The names keep the rv_auth_ prefix of their first home.
 */

/*
 * For reverify-admin and tests: creates a new EC P-384 key pair (Logto
 * signs ES384 by default) with kid = 16 random [0-9a-z] characters. Writes
 * the private JWK ("use":"sig", "alg":"ES384") to key_path, mode 0600,
 * created exclusively unless overwrite, and adds the public JWK to the JWKS
 * file jwks_path (created if missing; existing keys kept; replaced
 * atomically through a temporary file and rename(2), mode 0644). When the
 * JWKS cannot be written, a newly created key file is removed again (with
 * overwrite, the old key file is only replaced once the JWKS is written).
 * 0 on success, -1 with err (500).
 */
int rv_auth_keygen(const char *key_path, const char *jwks_path, bool overwrite,
		   struct rv_err *err);

/*
 * Mints a compact JWS signed with the private JWK in key_path. The alg
 * comes from the key (EC P-256 ES256, P-384 ES384, P-521 ES512, RSA
 * RS256); the header has "typ":"at+jwt" and the key's kid (if any). Claims:
 * iss, aud (a string), sub, client_id (omitted when NULL), scope (omitted
 * when NULL), sid (omitted when NULL), iat = now, exp = now + ttl (ttl may be negative, for an
 * expired token), jti (random). *token_r is malloc'd; the caller frees it.
 * 0 on success, -1 with err (500).
 */
int rv_auth_mint(const char *key_path, const char *issuer, const char *audience,
		 const char *sub, const char *client_id, const char *scope,
		 const char *sid, long ttl, char **token_r, struct rv_err *err);

/* The same with extra claims (may be NULL; borrowed), set last, over the
 * others: "auth_time" and "acr" for RFC 9470 tests. */
int rv_auth_mint_claims(const char *key_path, const char *issuer,
			const char *audience, const char *sub,
			const char *client_id, const char *scope,
			const char *sid, json_t *extra, long ttl,
			char **token_r, struct rv_err *err);

#endif
