/* rv-password.c: password hashes: one registration table of schemes */
#include "config.h"
#include "rv-password.h"

#include <stdlib.h>
#include <string.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-pw.h"
#include "rv-util.h"

#define MAX_HASH 1024

static const struct rv_pw_scheme *const schemes[] = {
	&rv_pw_argon2,
	&rv_pw_crypt,
	&rv_pw_pbkdf2,
};

const struct rv_pw_scheme *
rv_password_scheme(const char *hash)
{
	size_t i;

	if (hash == NULL || strlen(hash) > MAX_HASH)
		return NULL;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i]->match(hash))
			return schemes[i];
	return NULL;
}

const char *
rv_password_describe(const char *hash)
{
	static const struct {
		const char *prefix, *name;
	} names[] = {
		{ "$argon2id$", "argon2id" }, { "$argon2i$", "argon2i" },
		{ "$argon2d$", "argon2d" }, { "$2a$", "bcrypt" }, { "$2b$", "bcrypt" },
		{ "$2y$", "bcrypt" }, { "$5$", "sha256-crypt" },
		{ "$6$", "sha512-crypt" }, { "$y$", "yescrypt" },
		{ "$pbkdf2-sha256$", "pbkdf2-sha256" },
		{ "$pbkdf2-sha512$", "pbkdf2-sha512" }, { "$pbkdf2$", "pbkdf2-sha1" },
		{ "pbkdf2_sha256$", "pbkdf2-sha256" }, { "pbkdf2_sha1$", "pbkdf2-sha1" },
		{ "pbkdf2:sha256:", "pbkdf2-sha256" }, { "pbkdf2:sha512:", "pbkdf2-sha512" },
		{ "pbkdf2:sha1:", "pbkdf2-sha1" },
	};
	size_t i;

	if (rv_password_scheme(hash) == NULL)
		return NULL;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(hash, names[i].prefix, strlen(names[i].prefix)) == 0)
			return names[i].name;
	return rv_password_scheme(hash)->name;
}

int
rv_password_verify(const char *password, size_t len, const char *hash,
		   const struct rv_conf *conf, struct rv_err *err)
{
	const struct rv_pw_scheme *s = rv_password_scheme(hash);

	if (s == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "password hash of unknown format");
	return s->verify(password, len, hash, conf, err);
}

int
rv_password_verify_forms(const char *raw, size_t raw_len, const char *nfkc,
			 size_t nfkc_len, const char *hash,
			 const struct rv_conf *conf, bool *raw_r,
			 struct rv_err *err)
{
	int m_nfkc, m_raw = 0;

	*raw_r = false;
	m_nfkc = rv_password_verify(nfkc, nfkc_len, hash, conf, err);
	if (m_nfkc < 0)
		return -1;	/* the hash is the problem, whatever the form */
	if (raw_len != nfkc_len || memcmp(raw, nfkc, raw_len) != 0) {
		/* no short cut on a first match: the same work either way */
		if ((m_raw = rv_password_verify(raw, raw_len, hash, conf, err)) < 0)
			return -1;
	}
	if (m_nfkc == 1)
		return 1;
	*raw_r = m_raw == 1;
	return m_raw == 1;
}

/* the family that makes the configured scheme's new hashes */
static const struct rv_pw_scheme *
configured(const struct rv_conf *conf)
{
	switch (conf->pw_scheme) {
	case RV_PW_BCRYPT:
		return &rv_pw_crypt;
	case RV_PW_PBKDF2_SHA256:
		return &rv_pw_pbkdf2;
	default:
		return &rv_pw_argon2;
	}
}

int
rv_password_hash(const char *password, size_t len, const struct rv_conf *conf,
		 char **hash_r, struct rv_err *err)
{
	return configured(conf)->hash(password, len, conf, hash_r, err);
}

bool
rv_password_needs_rehash(const char *hash, const struct rv_conf *conf)
{
	const struct rv_pw_scheme *s = rv_password_scheme(hash);

	return s == NULL || s != configured(conf) || !s->current(hash, conf);
}

void
rv_password_decoy(const struct rv_conf *conf)
{
	static char *decoy;
	static int decoy_scheme = -1;
	unsigned char rnd[16];
	char pw[2 * sizeof(rnd) + 1];
	struct rv_err err;

	/* a hex password: no NUL for crypt(3) to stop at, so every scheme
	 * does its full work */
	rv_err_init(&err);
	if (decoy == NULL || decoy_scheme != conf->pw_scheme) {
		free(decoy);
		decoy = NULL;
		if (rv_random_bytes(rnd, sizeof(rnd), &err) == 0) {
			rv_hex(rnd, sizeof(rnd), pw);
			rv_password_hash(pw, strlen(pw), conf, &decoy, &err);
		}
		decoy_scheme = conf->pw_scheme;
	}
	if (decoy != NULL && rv_random_bytes(rnd, sizeof(rnd), &err) == 0) {
		rv_hex(rnd, sizeof(rnd), pw);
		(void)rv_password_verify(pw, strlen(pw), decoy, conf, &err);
	}
	rv_wipe(rnd, sizeof(rnd));
	rv_wipe(pw, sizeof(pw));
	rv_err_release(&err);
}
