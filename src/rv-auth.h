/* rv-auth.h: who is calling: bearer JWT access tokens or REMOTE_USER */
#ifndef RV_AUTH_H
#define RV_AUTH_H

#include <stdbool.h>
#include <time.h>

struct rv_conf;
struct rv_err;
struct rv_req;

#define RV_SID_MAX 128	/* longest "sid" claim taken, bytes */

/* The authenticated caller of one request (DESIGN.md "Callers"). */
struct rv_caller {
	char user[256];		/* token "sub", or REMOTE_USER */
	bool user_is_username;	/* remote-user mode with remote-user="username":
				   user holds a username to resolve */
	char client_id[256];	/* "client_id" claim, else "azp"; "" if none */
	char sid[RV_SID_MAX + 1];	/* "sid" claim (the sign-in session);
					   "" if none */
	char scope[1024];	/* granted scopes, separated by single spaces
				   ("scope" string claim, or "scp" array) */
	bool first_party;	/* client_id is in <auth first-party>, or
				   remote-user mode */
	long long exp;		/* token expiry (epoch seconds), 0 in
				   remote-user mode */
};

/*
 * Once at start-up, in the setup hook of a program that authenticates
 * callers. In jwt mode: checks that <auth issuer> and <auth audience> are
 * set and that <auth algorithms> names only RS*, PS* and ES* algorithms,
 * then loads and checks the JWKS file <auth jwks>: a {"keys":[...]} object
 * of public keys only (a key with "d", or a symmetric "oct" key, is
 * refused), RSA keys of at least 2048 bits, EC keys on P-256, P-384 or
 * P-521; keys with "use":"enc", "key_ops" without "verify", an "alg" not
 * allowed, or a kty cjose cannot use (OKP) are skipped. At least one key
 * must remain; a key without "kid" is allowed only when it is the only one,
 * and kids are unique. In remote-user mode there is nothing to load.
 * Replaces any key set loaded before (none is left on failure).
 * Not thread-safe. 0 on success; -1 with err (500 internal_error, msg
 * naming the file) on a start-up error.
 */
int rv_auth_setup(const struct rv_conf *conf, struct rv_err *err);
/* Frees the key set; rv_auth_caller() in jwt mode then fails with 500. */
void rv_auth_release(void);

/*
 * Authenticates the caller of req, in the order of logto-spec 7, using
 * req->conf and the key set of rv_auth_setup().
 *  jwt mode:
 *   - no Authorization header: 401 auth.authorization_header_missing,
 *     with WWW-Authenticate: Bearer realm="reverify";
 *   - not starting with the case-sensitive "Bearer ": 401
 *     auth.authorization_token_type_not_supported, err->data =
 *     {"supportedTypes":["Bearer"]};
 *   - any other fault of the token (over 16 KiB, not a compact JWS, header
 *     not a JSON object, "crit" present, alg not allowed or not fitting the
 *     key's type and curve, unknown kid, bad signature, claims not a JSON
 *     object, iss, aud, exp, nbf, sub or client_id wrong): 401
 *     auth.unauthorized; a "sid" that is not a string of at most
 *     RV_SID_MAX bytes of clean text is auth.unauthorized too;
 *   - every 401 but the first sets WWW-Authenticate: Bearer
 *     error="invalid_token";
 *   - scope without "openid": 403 auth.forbidden.
 *  remote-user mode: REMOTE_USER missing, empty, longer than 255 bytes,
 *   not UTF-8 or with control characters: 401 auth.unauthorized; otherwise
 *   user = REMOTE_USER, scope = "openid profile email phone custom_data
 *   identities", first_party = true, exp = 0.
 * err->msg says why, for the log; it never holds the token. *c is
 * overwritten (zeroed on failure). 0 on success, -1 with err.
 * Reads the key set without locking: do not run it during rv_auth_setup().
 */
int rv_auth_caller(struct rv_req *req, struct rv_caller *c, struct rv_err *err);

/* Is scope one of the caller's granted scopes (whole word)? */
bool rv_auth_has_scope(const struct rv_caller *c, const char *scope);

/* 0 when c->first_party, else -1 with 403
 * auth.third_party_application_forbidden (logto-spec 7). */
int rv_auth_require_first_party(const struct rv_caller *c, struct rv_err *err);

/* For tests: the clock used for exp/nbf checks and by rv_auth_mint();
 * NULL restores time(). Not thread-safe. */
void rv_auth_set_clock(time_t (*now)(void));

/*
 * Bearer tokens answered from the process's cache of accepted tokens
 * (hits) and checked in full (misses), since the start: for tests and
 * the debug log.
 */
void rv_auth_cache_stats(unsigned long *hits, unsigned long *misses);
/* That clock's now, in epoch seconds. */
long long rv_auth_now(void);

#endif
