/* rv-jwks.h: the JWKS of the token issuer: loading and key checks */
#ifndef RV_JWKS_H
#define RV_JWKS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjose/cjose.h>
#include <jansson.h>

struct rv_conf;
struct rv_err;

/* A signature algorithm we verify (RS*, PS*, ES*). */
struct rv_jwks_alg {
	const char *name;
	cjose_jwk_kty_t kty;
	cjose_jwk_ec_curve crv;		/* EC only */
};

/* A usable key of the set. */
struct rv_jwks_key {
	cjose_jwk_t *jwk;
	char *kid;			/* NULL when the JWK has none */
	const struct rv_jwks_alg *alg;	/* the JWK's own "alg", or NULL */
	cjose_jwk_kty_t kty;
	cjose_jwk_ec_curve crv;		/* EC only */
};

/*
 * Loads and checks the JWKS file <auth jwks> as rv_auth_setup() describes
 * (rv-auth.h), keeping the keys that fit <auth algorithms>; replaces any
 * key set loaded before (none is left on failure). Not thread-safe. 0 on
 * success; -1 with err (500 internal_error, msg naming the file).
 */
int rv_jwks_load(const struct rv_conf *conf, struct rv_err *err);
/* Frees the key set. */
void rv_jwks_release(void);

/* The loaded keys and their number (*n_r, when n_r is not NULL); NULL
 * when none is loaded. Valid until the next load or release. */
const struct rv_jwks_key *rv_jwks_keys(size_t *n_r);

/* The algorithm of that name (case-sensitive), or NULL when we do not
 * verify it. */
const struct rv_jwks_alg *rv_jwks_alg(const char *name);
/* Can key k sign with a: same type and curve, and k's own "alg" (if any)
 * is a? */
bool rv_jwks_alg_fits(const struct rv_jwks_alg *a,
		      const struct rv_jwks_key *k);
/* "RSA", "EC P-256", ...: for messages. */
const char *rv_jwks_key_kind(const struct rv_jwks_key *k);

/*
 * Call before any cjose_jwk_import*() of a JWK from a file: cjose 0.6
 * aborts the process (an assertion in its base64url decoder) on a value
 * with "=" after a number of characters that is 1 modulo 4 ("AAAAA==="),
 * and ignores whatever follows a "=". NULL when no member cjose decodes
 * ("n", "e", "x", "y", "d", "k"...) has such a "="; else the name of the
 * first that has (a static string). (Named for its first home, rv-auth.c;
 * reverify-admin calls it.)
 */
const char *rv_auth_jwk_bad_member(json_t *jk);

#endif
