/* rv-password.h: password hashes: one registration table of schemes */
#ifndef RV_PASSWORD_H
#define RV_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

struct rv_conf;
struct rv_err;

/*
 * bcrypt reads only the first 72 bytes of a password. A new bcrypt hash of
 * a longer one is refused (rv_pwpolicy_check() says so with too_long
 * {max: 72, unit: "bytes"}); a bcrypt hash imported from elsewhere is
 * verified as its origin did, on the first 72 bytes (libxcrypt).
 */
#define RV_BCRYPT_MAX 72

/*
 * A scheme knows one family of encoded hashes (Dovecot's password_scheme):
 * which strings are its own, how to verify a password against one (within
 * the cost caps of <password>), how to make a new one with the configured
 * parameters, and whether a hash is as strong as the configuration asks.
 * Adding a format means adding one rv-pw-*.c file and a line in the table
 * of rv-password.c.
 */
struct rv_pw_scheme {
	const char *name;	/* the family: "argon2", "crypt", "pbkdf2" */
	bool (*match)(const char *hash);
	/* 1 match, 0 no match, -1 malformed, or over a cost cap (err says
	 * which; never the password) */
	int (*verify)(const char *password, size_t len, const char *hash,
		      const struct rv_conf *conf, struct rv_err *err);
	/* a new hash with the configured parameters (*hash_r malloc'd); NULL
	 * when the family does not make new hashes */
	int (*hash)(const char *password, size_t len, const struct rv_conf *conf,
		    char **hash_r, struct rv_err *err);
	/* is hash of the configured <password scheme> with at least the
	 * configured parameters? */
	bool (*current)(const char *hash, const struct rv_conf *conf);
};

/* The scheme of an encoded hash, or NULL when no scheme knows it. */
const struct rv_pw_scheme *rv_password_scheme(const char *hash);
/* The exact scheme of an encoded hash, for people: "argon2id", "argon2i",
 * "bcrypt", "sha512-crypt", "yescrypt", "pbkdf2-sha256"...; NULL when no
 * scheme knows it. A static string. */
const char *rv_password_describe(const char *hash);
/*
 * Verifies password against hash: 1 match, 0 no match, -1 a malformed,
 * unknown or too costly hash (err->msg says which, without the password;
 * callers answer it like a wrong password and log it as a store problem).
 * Each scheme compares in constant time.
 */
int rv_password_verify(const char *password, size_t len, const char *hash,
		       const struct rv_conf *conf, struct rv_err *err);
/*
 * Verifies a password a user typed against hash, in both the forms it may
 * have been hashed from: nfkc (its NFKC form, rv_pwnorm(): what reverify
 * hashes) and, when raw differs from it, the bytes as they were sent (a
 * hash imported from a system that did not normalise). Both forms are
 * tried whatever the first gives, so that the work depends only on the
 * input, never on which form matched. 1 match, with *raw_r true when only
 * the raw form matched (the caller replaces the hash by one of nfkc); 0 no
 * match; -1 as rv_password_verify(). A hash made by reverify can never
 * match a raw form that differs from its NFKC form (that form is not in
 * NFKC, and reverify only hashes NFKC forms), so the second try gives
 * nothing away for such hashes.
 */
int rv_password_verify_forms(const char *raw, size_t raw_len,
			     const char *nfkc, size_t nfkc_len,
			     const char *hash, const struct rv_conf *conf,
			     bool *raw_r, struct rv_err *err);
/* A new hash of password in <password scheme> with its parameters
 * (argon2id m=19456 KiB, t=2, p=1 by default); *hash_r is malloc'd. */
int rv_password_hash(const char *password, size_t len,
		     const struct rv_conf *conf, char **hash_r,
		     struct rv_err *err);
/* Should a hash that just verified be replaced (another scheme, or weaker
 * parameters than the configuration)? */
bool rv_password_needs_rehash(const char *hash, const struct rv_conf *conf);
/*
 * Costs what verifying against a hash of the configured scheme costs, for a
 * user who has no password (logto-spec 1.4: a decoy, so that timing does
 * not tell). The decoy hash is made once per process.
 */
void rv_password_decoy(const struct rv_conf *conf);

#endif
