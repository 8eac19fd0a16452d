/* rv-password.h: password hashes: one registration table of schemes */
#ifndef RV_PASSWORD_H
#define RV_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

struct rv_conf;
struct rv_err;

/*
 * A scheme knows one family of encoded hashes (Dovecot's password_scheme):
 * which strings are its own, how to verify a password against one, and
 * whether a hash is as strong as the configuration asks (else it is
 * rehashed after a successful verify).
 */
struct rv_pw_scheme {
	const char *name;		/* "argon2id", "bcrypt", "sha512-crypt"... */
	bool (*match)(const char *hash);
	/* 1 match, 0 no match, -1 the hash is malformed or too costly */
	int (*verify)(const char *password, size_t len, const char *hash,
		      const struct rv_conf *conf, struct rv_err *err);
};

/* The scheme of an encoded hash, or NULL when no scheme knows it. */
const struct rv_pw_scheme *rv_password_scheme(const char *hash);
/*
 * Verifies password against hash: 1 match, 0 no match, -1 malformed or
 * unknown hash (err->msg says which, without the password). Constant-time
 * compare inside each scheme.
 */
int rv_password_verify(const char *password, size_t len, const char *hash,
		       const struct rv_conf *conf, struct rv_err *err);
/* A new argon2id hash (PHC string, m=19456 KiB, t=2, p=1, OWASP) of
 * password; *hash_r is malloc'd. */
int rv_password_hash(const char *password, size_t len,
		     const struct rv_conf *conf, char **hash_r,
		     struct rv_err *err);

#endif
