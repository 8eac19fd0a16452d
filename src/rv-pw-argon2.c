/* rv-pw-argon2.c: argon2i, argon2d, argon2id PHC strings (libargon2);
 * Logto stores argon2i, so its users import as they are */
#include "config.h"
#include "rv-pw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

#define SALT_LEN 16
#define HASH_LEN 32

static bool
argon2_match(const char *h)
{
	return strncmp(h, "$argon2i$", 9) == 0 || strncmp(h, "$argon2d$", 9) == 0 ||
	       strncmp(h, "$argon2id$", 10) == 0;
}

/* "$argon2id$v=19$m=19456,t=2,p=1$salt$hash": the cost parameters, read
 * strictly before libargon2 is given the string */
static int
params(const char *h, long *m_r, long *t_r, long *p_r)
{
	const char *p = strstr(h, "$m=");
	char tail;

	/* the widths bound each number, the callers check the ranges */
	if (p == NULL ||
	    /* NOLINTNEXTLINE(cert-err34-c) */
	    sscanf(p, "$m=%9ld,t=%4ld,p=%4ld%c", m_r, t_r, p_r, &tail) != 4 ||
	    tail != '$')
		return -1;
	return 0;
}

static int
argon2_verify_hash(const char *password, size_t len, const char *hash,
		   const struct rv_conf *conf, struct rv_err *err)
{
	argon2_type type = strncmp(hash, "$argon2id$", 10) == 0 ? Argon2_id :
			   strncmp(hash, "$argon2i$", 9) == 0 ? Argon2_i : Argon2_d;
	long m, t, p;
	int rc;

	/* versions 1.0 (16) and 1.3 (19) only, and only those digits */
	if (strstr(hash, "$v=") != NULL && strstr(hash, "$v=19$") == NULL &&
	    strstr(hash, "$v=16$") == NULL)
		return rv_err_set(err, 500, RV_E_INTERNAL, "unknown argon2 version");
	if (params(hash, &m, &t, &p) < 0 || m < 8 || t < 1 || p < 1 || p > 16)
		return rv_err_set(err, 500, RV_E_INTERNAL,
				  "malformed argon2 hash parameters");
	if (m > conf->pw_max_argon2_memory || t > conf->pw_max_argon2_time)
		return rv_err_set(err, 500, RV_E_INTERNAL,
				  "argon2 hash over the cost caps (m=%ld, t=%ld)", m, t);
	rc = argon2_verify(hash, password, len, type);
	if (rc == ARGON2_OK)
		return 1;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 0;
	return rv_err_set(err, 500, RV_E_INTERNAL, "argon2 hash: %s",
			  argon2_error_message(rc));
}

static int
argon2_new_hash(const char *password, size_t len, const struct rv_conf *conf,
		char **hash_r, struct rv_err *err)
{
	unsigned char salt[SALT_LEN];
	uint32_t m = (uint32_t)conf->pw_argon2_memory, t = (uint32_t)conf->pw_argon2_time,
		 p = (uint32_t)conf->pw_argon2_parallelism;
	size_t enclen;
	char *enc;
	int rc;

	if (rv_random_bytes(salt, sizeof(salt), err) < 0)
		return -1;
	enclen = argon2_encodedlen(t, m, p, SALT_LEN, HASH_LEN, Argon2_id);
	enc = rv_xmalloc(enclen);
	rc = argon2id_hash_encoded(t, m, p, password, len, salt, sizeof(salt),
				   HASH_LEN, enc, enclen);
	rv_wipe(salt, sizeof(salt));
	if (rc != ARGON2_OK) {
		free(enc);
		return rv_err_set(err, 500, RV_E_INTERNAL, "argon2id: %s",
				  argon2_error_message(rc));
	}
	*hash_r = enc;
	return 0;
}

static bool
argon2_current(const char *hash, const struct rv_conf *conf)
{
	long m, t, p;

	return conf->pw_scheme == RV_PW_ARGON2ID &&
	       strncmp(hash, "$argon2id$v=19$", 15) == 0 &&
	       params(hash, &m, &t, &p) == 0 &&
	       m >= conf->pw_argon2_memory && t >= conf->pw_argon2_time &&
	       p >= conf->pw_argon2_parallelism;
}

const struct rv_pw_scheme rv_pw_argon2 = {
	"argon2", argon2_match, argon2_verify_hash, argon2_new_hash, argon2_current,
};
