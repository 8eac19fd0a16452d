/* rv-pw-crypt.c: crypt(3) hashes through libxcrypt: bcrypt ($2a$, $2b$,
 * PHP's $2y$), sha256-crypt ($5$), sha512-crypt ($6$), yescrypt ($y$) */
#include "config.h"
#include "rv-pw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crypt.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

static bool
is_bcrypt(const char *h)
{
	return strncmp(h, "$2a$", 4) == 0 || strncmp(h, "$2b$", 4) == 0 ||
	       strncmp(h, "$2y$", 4) == 0;
}

static bool
crypt_match(const char *h)
{
	return is_bcrypt(h) || strncmp(h, "$5$", 3) == 0 ||
	       strncmp(h, "$6$", 3) == 0 || strncmp(h, "$y$", 3) == 0;
}

/* "$2b$10$...": the two-digit cost, or -1 */
static int
bcrypt_cost(const char *h)
{
	if (strlen(h) < 7 || h[3] != '$' || h[6] != '$' ||
	    h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9')
		return -1;
	return (h[4] - '0') * 10 + (h[5] - '0');
}

/* "$6$rounds=N$...": N, 5000 (the default) without it, -1 if malformed:
 * digits only, no sign or leading zero, at most 9 of them */
static long
sha_rounds(const char *h)
{
	const char *p = h + 10;
	size_t n;
	long r = 0;

	if (strncmp(h + 3, "rounds=", 7) != 0)
		return 5000;
	n = strspn(p, "0123456789");
	if (n == 0 || n > 9 || p[n] != '$' || p[0] == '0')
		return -1;
	while (n-- > 0)
		r = r * 10 + (*p++ - '0');
	return r < 1000 ? -1 : r;
}

/*
 * yescrypt "$y$" + flags + N + r + "$": the cost is in the second and third
 * characters (log2 N and r, in crypt's base-64 alphabet). libxcrypt's
 * default is "j9T"; every step of N doubles time and memory (jCT takes a
 * second, jFT seven). Allow the default flags and up to four times the
 * default cost, refuse the rest as over the cap.
 */
static bool
yescrypt_ok(const char *h)
{
	static const char itoa64[] =
		"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const char *n, *r;

	if (strlen(h) < 7 || h[3] != 'j' || h[6] != '$')
		return false;
	n = strchr(itoa64, h[4]);
	r = strchr(itoa64, h[5]);
	return n != NULL && r != NULL && h[4] != '\0' && h[5] != '\0' &&
	       n - itoa64 <= strchr(itoa64, 'B') - itoa64 &&
	       r - itoa64 <= strchr(itoa64, 'T') - itoa64;
}

static int
crypt_verify_hash(const char *password, size_t len, const char *hash,
		  const struct rv_conf *conf, struct rv_err *err)
{
	struct crypt_data *cd;
	const char *out;
	char *pw;
	size_t n = strlen(hash);
	int rc;

	if (is_bcrypt(hash)) {
		int cost = bcrypt_cost(hash);

		if (cost < 4 || cost > conf->pw_max_bcrypt_cost)
			return rv_err_set(err, RV_E_INTERNAL,
					  "bcrypt cost %d outside 4..%lld", cost,
					  conf->pw_max_bcrypt_cost);
	} else if (hash[1] == 'y') {
		if (!yescrypt_ok(hash))
			return rv_err_set(err, RV_E_INTERNAL,
					  "yescrypt parameters over the cap");
	} else if (hash[1] == '5' || hash[1] == '6') {
		long r = sha_rounds(hash);

		if (r < 0 || r > conf->pw_max_crypt_rounds)
			return rv_err_set(err, RV_E_INTERNAL,
					  "sha-crypt rounds outside 1000..%lld",
					  conf->pw_max_crypt_rounds);
	}
	if (memchr(password, '\0', len) != NULL)
		return 0;	/* crypt(3) would stop at the NUL */
	pw = rv_xstrndup(password, len);
	cd = rv_xcalloc(1, sizeof(*cd));
	out = crypt_rn(pw, hash, cd, sizeof(*cd));
	if (out == NULL || out[0] == '*')
		rc = rv_err_set(err, RV_E_INTERNAL, "malformed crypt(3) hash");
	else
		rc = strlen(out) == n && rv_memeq_secret(out, hash, n) ? 1 : 0;
	rv_wipe(pw, len);
	rv_wipe(cd, sizeof(*cd));
	free(pw);
	free(cd);
	return rc;
}

static int
crypt_new_hash(const char *password, size_t len, const struct rv_conf *conf,
	       char **hash_r, struct rv_err *err)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	unsigned char rnd[16];
	struct crypt_data *cd;
	const char *out;
	char *pw;
	int rc = 0;

	if (memchr(password, '\0', len) != NULL)
		return rv_err_set(err, RV_E_INVALID_INPUT, "password with a NUL");
	/* bcrypt reads only RV_BCRYPT_MAX bytes: never hash a longer one
	 * silently (the policy says so first, rv_pwpolicy_check) */
	if (len > RV_BCRYPT_MAX)
		return rv_err_set(err, RV_E_INVALID_INPUT,
				  "password of %zu bytes: bcrypt reads only %d",
				  len, RV_BCRYPT_MAX);
	if (rv_random_bytes(rnd, sizeof(rnd), err) < 0)
		return -1;
	if (crypt_gensalt_rn("$2b$", (unsigned long)conf->pw_bcrypt_cost,
			     (const char *)rnd, sizeof(rnd), setting, sizeof(setting)) == NULL) {
		rv_wipe(rnd, sizeof(rnd));
		return rv_err_set(err, RV_E_INTERNAL, "bcrypt salt failed");
	}
	rv_wipe(rnd, sizeof(rnd));
	pw = rv_xstrndup(password, len);
	cd = rv_xcalloc(1, sizeof(*cd));
	out = crypt_rn(pw, setting, cd, sizeof(*cd));
	if (out == NULL || out[0] == '*')
		rc = rv_err_set(err, RV_E_INTERNAL, "bcrypt failed");
	else
		*hash_r = rv_xstrdup(out);
	rv_wipe(pw, len);
	rv_wipe(cd, sizeof(*cd));
	free(pw);
	free(cd);
	return rc;
}

static bool
crypt_current(const char *hash, const struct rv_conf *conf)
{
	return conf->pw_scheme == RV_PW_BCRYPT && strncmp(hash, "$2b$", 4) == 0 &&
	       bcrypt_cost(hash) >= conf->pw_bcrypt_cost;
}

const struct rv_pw_scheme rv_pw_crypt = {
	"crypt", crypt_match, crypt_verify_hash, crypt_new_hash, crypt_current,
};
