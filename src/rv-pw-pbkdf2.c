/* rv-pw-pbkdf2.c: PBKDF2-HMAC (SHA-1, SHA-256, SHA-512) through OpenSSL,
 * in the encodings users have: PHC ($pbkdf2-sha256$i=N,l=32$...), passlib
 * ($pbkdf2-sha256$N$... in its adapted base64), Django (pbkdf2_sha256$N$...)
 * and Werkzeug (pbkdf2:sha256:N$...) */
#include "config.h"
#include "rv-pw.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

#define MAX_HASH 1024		/* longest encoded string looked at */
#define MAX_SALT 256		/* bytes, decoded */
#define MIN_DK 16		/* bytes of derived key */
#define MAX_DK 64
#define MAX_FIELDS 5		/* "", ident, params, salt, hash */
#define NEW_SALT 16
#define NEW_DK 32

enum fmt { FMT_PHC, FMT_PASSLIB, FMT_DJANGO, FMT_WERKZEUG };

/* one parsed hash; salt and dk are wiped after use */
struct pbkdf2 {
	enum fmt fmt;
	const EVP_MD *md;
	const char *md_name;
	int iter;
	unsigned char salt[MAX_SALT];
	size_t saltlen;
	unsigned char dk[MAX_DK];
	size_t dklen;
};

struct span {
	const char *p;
	size_t n;
};

static bool
pbkdf2_match(const char *h)
{
	return strncmp(h, "$pbkdf2$", 8) == 0 || strncmp(h, "$pbkdf2-", 8) == 0 ||
	       strncmp(h, "pbkdf2_", 7) == 0 || strncmp(h, "pbkdf2:", 7) == 0;
}

static bool
span_is(struct span s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* Splits s at every '$' into at most max spans; the count, or -1 for more */
static int
split(const char *s, struct span *f, int max)
{
	int n = 0;
	const char *d;

	for (;;) {
		if (n == max)
			return -1;
		f[n].p = s;
		if ((d = strchr(s, '$')) == NULL) {
			f[n++].n = strlen(s);
			return n;
		}
		f[n++].n = (size_t)(d - s);
		s = d + 1;
	}
}

/* A decimal count 1..INT_MAX: digits only, no sign, no leading zero. */
static int
parse_count(struct span s, int *v_r)
{
	long long v = 0;
	size_t i;

	if (s.n == 0 || s.n > 10 || s.p[0] == '0')
		return -1;
	for (i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	if (v > INT_MAX)
		return -1;
	*v_r = (int)v;
	return 0;
}

/* the digest named s ("sha1", "sha256", "sha512"); 0, or -1 for another */
static int
set_md(struct pbkdf2 *k, struct span s)
{
	if (span_is(s, "sha1")) {
		k->md = EVP_sha1();
		k->md_name = "sha1";
	} else if (span_is(s, "sha256")) {
		k->md = EVP_sha256();
		k->md_name = "sha256";
	} else if (span_is(s, "sha512")) {
		k->md = EVP_sha512();
		k->md_name = "sha512";
	} else
		return -1;
	return 0;
}

/* a salt used as its text (Django, Werkzeug): 1..MAX_SALT bytes */
static int
text_salt(struct pbkdf2 *k, struct span s)
{
	if (s.n == 0 || s.n > MAX_SALT)
		return -1;
	memcpy(k->salt, s.p, s.n);
	k->saltlen = s.n;
	return 0;
}

static bool
dk_ok(const struct pbkdf2 *k)
{
	return k->dklen >= MIN_DK && k->dklen <= MAX_DK;
}

/* "$pbkdf2-sha256$i=N[,l=N]$salt$hash" or passlib's "$pbkdf2-sha256$N$salt$hash" */
static const char *
parse_dollar(struct pbkdf2 *k, const struct span *f, int nf)
{
	if (nf != 5 || f[0].n != 0)
		return "wrong number of fields";
	if (span_is(f[1], "pbkdf2"))
		set_md(k, (struct span){ "sha1", 4 });
	else if (span_is(f[1], "pbkdf2-sha256") || span_is(f[1], "pbkdf2-sha512"))
		set_md(k, (struct span){ f[1].p + 7, f[1].n - 7 });
	else
		return "unknown digest";
	if (f[2].n >= 2 && memcmp(f[2].p, "i=", 2) == 0) {
		struct span i = { f[2].p + 2, 0 }, l = { NULL, 0 };
		const char *comma = memchr(f[2].p, ',', f[2].n);
		int lv = 0;

		k->fmt = FMT_PHC;
		i.n = (comma != NULL ? (size_t)(comma - f[2].p) : f[2].n) - 2;
		if (comma != NULL) {
			l.p = comma + 1;
			l.n = f[2].n - (size_t)(l.p - f[2].p);
			if (l.n < 2 || memcmp(l.p, "l=", 2) != 0)
				return "unknown parameter";
			l.p += 2;
			l.n -= 2;
			if (parse_count(l, &lv) < 0)
				return "bad l=";
		}
		if (parse_count(i, &k->iter) < 0)
			return "bad i=";
		if (rv_b64_decode(f[3].p, f[3].n, RV_B64_STD, RV_B64_PAD_OPT,
				  k->salt, sizeof(k->salt), &k->saltlen) < 0)
			return "bad salt";
		if (rv_b64_decode(f[4].p, f[4].n, RV_B64_STD, RV_B64_PAD_OPT,
				  k->dk, sizeof(k->dk), &k->dklen) < 0 || !dk_ok(k))
			return "bad hash";
		/* so that a cut hash never verifies: l=, or else the digest's
		 * size (as in hashlib and passlib) */
		if (l.p != NULL ? (size_t)lv != k->dklen :
				  k->dklen != (size_t)EVP_MD_size(k->md))
			return "hash length is not l= or the digest size";
		return NULL;
	}
	k->fmt = FMT_PASSLIB;
	if (parse_count(f[2], &k->iter) < 0)
		return "bad rounds";
	if (rv_b64_decode(f[3].p, f[3].n, RV_B64_AB64, RV_B64_PAD_NO,
			  k->salt, sizeof(k->salt), &k->saltlen) < 0)
		return "bad salt";
	if (rv_b64_decode(f[4].p, f[4].n, RV_B64_AB64, RV_B64_PAD_NO,
			  k->dk, sizeof(k->dk), &k->dklen) < 0 ||
	    k->dklen != (size_t)EVP_MD_size(k->md))
		return "bad hash";
	return NULL;
}

/* Django: "pbkdf2_sha256$N$salt$hash" (the salt is text, hash padded base64) */
static const char *
parse_django(struct pbkdf2 *k, const struct span *f, int nf)
{
	k->fmt = FMT_DJANGO;
	if (nf != 4)
		return "wrong number of fields";
	if (!span_is(f[0], "pbkdf2_sha256") && !span_is(f[0], "pbkdf2_sha1"))
		return "unknown digest";
	set_md(k, (struct span){ f[0].p + 7, f[0].n - 7 });
	if (parse_count(f[1], &k->iter) < 0)
		return "bad iterations";
	if (text_salt(k, f[2]) < 0)
		return "bad salt";
	if (rv_b64_decode(f[3].p, f[3].n, RV_B64_STD, RV_B64_PAD_REQ,
			  k->dk, sizeof(k->dk), &k->dklen) < 0 ||
	    k->dklen != (size_t)EVP_MD_size(k->md))
		return "bad hash";	/* Django derives the digest's size */
	return NULL;
}

/* Werkzeug: "pbkdf2:sha256:N$salt$hexhash"; without N it is refused, as the
 * default count differs across Werkzeug versions */
static const char *
parse_werkzeug(struct pbkdf2 *k, const struct span *f, int nf)
{
	struct span md, n;
	const char *colon;

	k->fmt = FMT_WERKZEUG;
	if (nf != 3)
		return "wrong number of fields";
	md.p = f[0].p + 7;
	if ((colon = memchr(md.p, ':', f[0].n - 7)) == NULL)
		return "no iteration count";
	md.n = (size_t)(colon - md.p);
	n.p = colon + 1;
	n.n = f[0].n - (size_t)(n.p - f[0].p);
	if (set_md(k, md) < 0)
		return "unknown digest";
	if (parse_count(n, &k->iter) < 0)
		return "bad iterations";
	if (text_salt(k, f[1]) < 0)
		return "bad salt";
	if (f[2].n != 2 * (size_t)EVP_MD_size(k->md))
		return "bad hash";	/* Werkzeug derives the digest's size */
	if (f[2].n != strspn(f[2].p, "0123456789abcdef"))
		return "bad hash";	/* Werkzeug writes and compares lowercase */
	k->dklen = f[2].n / 2;
	if (rv_unhex(f[2].p, k->dk, k->dklen) < 0)	/* the last field: ends at the NUL */
		return "bad hash";
	return NULL;
}

/* Parses h into *k (no cost cap here); NULL, or what is wrong with it */
static const char *
parse(const char *h, struct pbkdf2 *k)
{
	struct span f[MAX_FIELDS];
	int nf;

	memset(k, 0, sizeof(*k));
	if (strnlen(h, MAX_HASH + 1) > MAX_HASH)
		return "too long";
	if ((nf = split(h, f, MAX_FIELDS)) < 0)
		return "too many fields";
	if (h[0] == '$')
		return parse_dollar(k, f, nf);
	if (strncmp(h, "pbkdf2_", 7) == 0)
		return parse_django(k, f, nf);
	if (strncmp(h, "pbkdf2:", 7) == 0)
		return parse_werkzeug(k, f, nf);
	return "unknown format";
}

static const char *const fmt_names[] = { "phc", "passlib", "django", "werkzeug" };

static int
pbkdf2_verify(const char *password, size_t len, const char *hash,
	      const struct rv_conf *conf, struct rv_err *err)
{
	struct pbkdf2 k;
	unsigned char dk[MAX_DK];
	const char *what;
	int rc;

	if ((what = parse(hash, &k)) != NULL) {
		rc = rv_err_set(err, RV_E_INTERNAL, "malformed pbkdf2 hash: %s",
				what);
		goto out;
	}
	if (k.iter > conf->pw_max_pbkdf2_iterations) {
		rc = rv_err_set(err, RV_E_INTERNAL,
				"pbkdf2 hash over the cost cap (%d > %lld iterations)",
				k.iter, conf->pw_max_pbkdf2_iterations);
		goto out;
	}
	if (len > INT_MAX) {
		rc = rv_err_set(err, RV_E_INTERNAL, "password too long for pbkdf2");
		goto out;
	}
	if (PKCS5_PBKDF2_HMAC(password, (int)len, k.salt, (int)k.saltlen, k.iter,
			      k.md, (int)k.dklen, dk) != 1) {
		rc = rv_err_set(err, RV_E_INTERNAL, "pbkdf2-%s (%s) failed",
				k.md_name, fmt_names[k.fmt]);
		goto out;
	}
	rc = rv_memeq_secret(dk, k.dk, k.dklen) ? 1 : 0;
out:
	rv_wipe(dk, sizeof(dk));
	rv_wipe(&k, sizeof(k));
	return rc;
}

static int
pbkdf2_new_hash(const char *password, size_t len, const struct rv_conf *conf,
		char **hash_r, struct rv_err *err)
{
	unsigned char salt[NEW_SALT], dk[NEW_DK];
	char salt64[(NEW_SALT + 2) / 3 * 4 + 1], dk64[(NEW_DK + 2) / 3 * 4 + 1];
	int rc = 0;

	if (len > INT_MAX || conf->pw_pbkdf2_iterations < 1 ||
	    conf->pw_pbkdf2_iterations > INT_MAX)
		return rv_err_set(err, RV_E_INTERNAL,
				  "pbkdf2: password or iteration count out of range");
	if (rv_random_bytes(salt, sizeof(salt), err) < 0)
		return -1;
	if (PKCS5_PBKDF2_HMAC(password, (int)len, salt, sizeof(salt),
			      (int)conf->pw_pbkdf2_iterations, EVP_sha256(),
			      sizeof(dk), dk) != 1) {
		rc = rv_err_set(err, RV_E_INTERNAL, "pbkdf2-sha256 failed");
		goto out;
	}
	rv_b64_encode(salt, sizeof(salt), RV_B64_STD, false, salt64);
	rv_b64_encode(dk, sizeof(dk), RV_B64_STD, false, dk64);
	*hash_r = rv_xasprintf("$pbkdf2-sha256$i=%lld,l=%d$%s$%s",
			       conf->pw_pbkdf2_iterations, NEW_DK, salt64, dk64);
out:
	rv_wipe(salt, sizeof(salt));
	rv_wipe(dk, sizeof(dk));
	rv_wipe(dk64, sizeof(dk64));
	return rc;
}

static bool
pbkdf2_current(const char *hash, const struct rv_conf *conf)
{
	struct pbkdf2 k;
	bool cur;

	if (conf->pw_scheme != RV_PW_PBKDF2_SHA256 ||
	    strncmp(hash, "$pbkdf2-sha256$i=", 17) != 0)
		return false;
	cur = parse(hash, &k) == NULL && k.fmt == FMT_PHC &&
	      k.iter >= conf->pw_pbkdf2_iterations && k.dklen >= NEW_DK &&
	      k.saltlen >= NEW_SALT;
	rv_wipe(&k, sizeof(k));
	return cur;
}

const struct rv_pw_scheme rv_pw_pbkdf2 = {
	"pbkdf2", pbkdf2_match, pbkdf2_verify, pbkdf2_new_hash, pbkdf2_current,
};
