/* rv-password.c: password hashes: one registration table of schemes */
#include "config.h"
#include "rv-password.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <crypt.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

/* OWASP's argon2id minimum (m=19 MiB, t=2, p=1) */
#define ARGON2_M 19456
#define ARGON2_T 2
#define ARGON2_P 1
#define ARGON2_SALT 16
#define ARGON2_HASH 32
/* an imported hash may not make one request cost more than this */
#define ARGON2_MAX_M (256 * 1024)
#define ARGON2_MAX_T 16

/* ---- argon2i, argon2d, argon2id (libargon2; Logto stores argon2i) ---- */

static bool
argon2_match(const char *h)
{
	return strncmp(h, "$argon2i$", 9) == 0 || strncmp(h, "$argon2d$", 9) == 0 ||
	       strncmp(h, "$argon2id$", 10) == 0;
}

/* m=,t=,p= must be present and within bounds before libargon2 runs it */
static bool
argon2_params_ok(const char *h)
{
	const char *p = strstr(h, "$m=");
	long m = 0, t = 0, par = 0;

	if (p == NULL || sscanf(p, "$m=%ld,t=%ld,p=%ld", &m, &t, &par) != 3)
		return false;
	return m >= 8 && m <= ARGON2_MAX_M && t >= 1 && t <= ARGON2_MAX_T &&
	       par >= 1 && par <= 16;
}

static int
argon2_verify_hash(const char *password, size_t len, const char *hash,
		   const struct rv_conf *conf, struct rv_err *err)
{
	argon2_type type = strncmp(hash, "$argon2id$", 10) == 0 ? Argon2_id :
			   strncmp(hash, "$argon2i$", 9) == 0 ? Argon2_i : Argon2_d;
	int rc;

	(void)conf;
	if (!argon2_params_ok(hash))
		return rv_err_set(err, 500, RV_E_INTERNAL,
				  "argon2 hash with missing or excessive parameters");
	rc = argon2_verify(hash, password, len, type);
	if (rc == ARGON2_OK)
		return 1;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 0;
	return rv_err_set(err, 500, RV_E_INTERNAL, "argon2 hash: %s",
			  argon2_error_message(rc));
}

/* ---- crypt(3): bcrypt $2a$ $2b$ $2y$, sha-crypt $5$ $6$, yescrypt $y$ ---- */

static bool
crypt_match(const char *h)
{
	return strncmp(h, "$2a$", 4) == 0 || strncmp(h, "$2b$", 4) == 0 ||
	       strncmp(h, "$2y$", 4) == 0 || strncmp(h, "$5$", 3) == 0 ||
	       strncmp(h, "$6$", 3) == 0 || strncmp(h, "$y$", 3) == 0;
}

static int
crypt_verify_hash(const char *password, size_t len, const char *hash,
		  const struct rv_conf *conf, struct rv_err *err)
{
	struct crypt_data *cd;
	char *pw;
	const char *out;
	size_t n;
	int rc;

	(void)conf;
	/* bcrypt cost is two digits after the prefix: cap it (2^16) */
	if (hash[1] == '2' && (strlen(hash) < 7 || hash[4] > '1' ||
			       (hash[4] == '1' && hash[5] > '6')))
		return rv_err_set(err, 500, RV_E_INTERNAL, "bcrypt cost out of bounds");
	if (memchr(password, '\0', len) != NULL)
		return 0;	/* crypt() cannot see past a NUL */
	pw = rv_xstrndup(password, len);
	cd = rv_xcalloc(1, sizeof(*cd));
	out = crypt_rn(pw, hash, cd, sizeof(*cd));
	if (out == NULL || out[0] == '*') {
		rc = rv_err_set(err, 500, RV_E_INTERNAL, "malformed crypt(3) hash");
	} else {
		n = strlen(hash);
		rc = strlen(out) == n && rv_memeq_secret(out, hash, n) ? 1 : 0;
	}
	rv_wipe(pw, len);
	rv_wipe(cd, sizeof(*cd));
	free(pw);
	free(cd);
	return rc;
}

static const struct rv_pw_scheme schemes[] = {
	{ "argon2", argon2_match, argon2_verify_hash },
	{ "crypt", crypt_match, crypt_verify_hash },
};

const struct rv_pw_scheme *
rv_password_scheme(const char *hash)
{
	size_t i;

	if (hash == NULL)
		return NULL;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].match(hash))
			return &schemes[i];
	return NULL;
}

int
rv_password_verify(const char *password, size_t len, const char *hash,
		   const struct rv_conf *conf, struct rv_err *err)
{
	const struct rv_pw_scheme *s = rv_password_scheme(hash);

	if (s == NULL)
		return rv_err_set(err, 500, RV_E_INTERNAL, "password hash of unknown format");
	if (strlen(hash) > 1024)
		return rv_err_set(err, 500, RV_E_INTERNAL, "password hash too long");
	return s->verify(password, len, hash, conf, err);
}

int
rv_password_hash(const char *password, size_t len, const struct rv_conf *conf,
		 char **hash_r, struct rv_err *err)
{
	unsigned char salt[ARGON2_SALT];
	size_t enclen;
	char *enc;
	int rc;

	(void)conf;
	if (rv_random_bytes(salt, sizeof(salt), err) < 0)
		return -1;
	enclen = argon2_encodedlen(ARGON2_T, ARGON2_M, ARGON2_P, ARGON2_SALT,
				   ARGON2_HASH, Argon2_id);
	enc = rv_xmalloc(enclen);
	rc = argon2id_hash_encoded(ARGON2_T, ARGON2_M, ARGON2_P, password, len,
				   salt, sizeof(salt), ARGON2_HASH, enc, enclen);
	rv_wipe(salt, sizeof(salt));
	if (rc != ARGON2_OK) {
		free(enc);
		return rv_err_set(err, 500, RV_E_INTERNAL, "argon2id: %s",
				  argon2_error_message(rc));
	}
	*hash_r = enc;
	return 0;
}
