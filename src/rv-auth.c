/* rv-auth.c: who is calling: bearer JWT access tokens or REMOTE_USER */
#include "config.h"
#include "rv-auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-req.h"
#include "rv-util.h"

/* A Logto ES384 access token is well under 1 KiB; 16 KiB leaves room for
 * providers that put groups or roles into the token. */
#define TOKEN_MAX	16384
/* Larger sets are a sign of a wrong file, not of key rotation. */
#define JWKS_MAX_KEYS	100
#define KEYFILE_MAX	65536
#define RSA_MIN_BITS	2048
/* NumericDate bound (year 9999): keeps exp + leeway from overflowing. */
#define TIME_MAX	253402300799LL

/* RFC 6750 3 challenges */
#define REALM		"Bearer realm=\"reverify\""
#define INVALID_TOKEN	"Bearer error=\"invalid_token\""

/* What remote-user mode grants: every user scope the routes ask for
 * (logto-spec 6.2) but the sessions and trusted-devices ones. */
static const char remote_user_scope[] =
	"openid profile email phone custom_data identities";

struct alg {
	const char *name;
	cjose_jwk_kty_t kty;
	cjose_jwk_ec_curve crv;		/* EC only */
};

/* The signature algorithms cjose 0.6 verifies with public keys (DESIGN.md
 * "Callers"); HS* and none are never accepted, EdDSA is not in cjose 0.6. */
static const struct alg algs[] = {
	{ "RS256", CJOSE_JWK_KTY_RSA, CJOSE_JWK_EC_INVALID },
	{ "RS384", CJOSE_JWK_KTY_RSA, CJOSE_JWK_EC_INVALID },
	{ "RS512", CJOSE_JWK_KTY_RSA, CJOSE_JWK_EC_INVALID },
	{ "PS256", CJOSE_JWK_KTY_RSA, CJOSE_JWK_EC_INVALID },
	{ "PS384", CJOSE_JWK_KTY_RSA, CJOSE_JWK_EC_INVALID },
	{ "PS512", CJOSE_JWK_KTY_RSA, CJOSE_JWK_EC_INVALID },
	{ "ES256", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_256 },
	{ "ES384", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_384 },
	{ "ES512", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_521 },
};

struct key {
	cjose_jwk_t *jwk;
	char *kid;			/* NULL when the JWK has none */
	const struct alg *alg;		/* the JWK's own "alg", or NULL */
	cjose_jwk_kty_t kty;
	cjose_jwk_ec_curve crv;		/* EC only */
};

/* The key set of rv_auth_setup(), read by every request. */
static struct key *keys;
static size_t nkeys;

static time_t (*clock_fn)(void);

static int unauthorized(struct rv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int key_error(struct rv_err *err, const char *path, size_t i,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void
rv_auth_set_clock(time_t (*now)(void))
{
	clock_fn = now;
}

static long long
now_time(void)
{
	return (long long)(clock_fn != NULL ? clock_fn() : time(NULL));
}

static const struct alg *
find_alg(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

static bool
alg_fits(const struct alg *a, const struct key *k)
{
	if (a->kty != k->kty)
		return false;
	if (a->kty == CJOSE_JWK_KTY_EC && a->crv != k->crv)
		return false;
	return k->alg == NULL || k->alg == a;
}

static const char *
key_kind(const struct key *k)
{
	if (k->kty == CJOSE_JWK_KTY_RSA)
		return "RSA";
	switch (k->crv) {
	case CJOSE_JWK_EC_P_256:
		return "EC P-256";
	case CJOSE_JWK_EC_P_384:
		return "EC P-384";
	case CJOSE_JWK_EC_P_521:
		return "EC P-521";
	default:
		return "EC";
	}
}

/*
 * A short, printable excerpt of an untrusted value for err->msg: the log
 * must not get control characters from a token, nor a whole token.
 */
static const char *
show(const char *s, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 4 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[n++] = c >= 0x20 && c < 0x7f && c != '\'' ? (char)c : '?';
	}
	if (s[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Valid UTF-8 without control characters (C0, DEL, C1): what we accept as
 * a user id, client id or scope, since they reach logs and JSON output.
 */
static bool
clean_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		unsigned long cp;
		size_t n, i;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			n = 1;
			cp = *p & 0x1f;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			n = 2;
			cp = *p & 0x0f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 3;
			cp = *p & 0x07;
		} else {
			return false;
		}
		/* a NUL stops here, so we never read past the string */
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return false;
		p += n + 1;
	}
	return true;
}

/* The next word of a space-separated list, or NULL at its end. */
static const char *
next_word(const char **p, size_t *len_r)
{
	const char *w = *p;

	while (*w == ' ')
		w++;
	*len_r = strcspn(w, " ");
	*p = w + *len_r;
	return *len_r > 0 ? w : NULL;
}

/* ---- start-up: the key set --------------------------------------------- */

static void
free_keys(struct key *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cjose_jwk_release(set[i].jwk);
		free(set[i].kid);
	}
	free(set);
}

static void token_forget(void);

void
rv_auth_release(void)
{
	token_forget();
	free_keys(keys, nkeys);
	keys = NULL;
	nkeys = 0;
}

static int
check_algorithms(const char *list, struct rv_err *err)
{
	const char *p = list != NULL ? list : "", *w;
	size_t n, count = 0;

	while ((w = next_word(&p, &n)) != NULL) {
		char name[16];

		if (n >= sizeof(name))
			return rv_err_set(err, RV_E_INTERNAL, "<auth "
					  "algorithms>: '%.*s...' is not "
					  "supported", (int)sizeof(name), w);
		memcpy(name, w, n);
		name[n] = '\0';
		if (strcmp(name, "none") == 0 || strncmp(name, "HS", 2) == 0)
			return rv_err_set(err, RV_E_INTERNAL, "<auth "
					  "algorithms>: '%s' is refused (only "
					  "public-key signatures)", name);
		if (find_alg(name) == NULL)
			return rv_err_set(err, RV_E_INTERNAL, "<auth "
					  "algorithms>: '%s' is not supported "
					  "(RS*, PS*, ES* only)", name);
		count++;
	}
	if (count == 0)
		return rv_err_set(err, RV_E_INTERNAL,
				  "<auth algorithms> names no algorithm");
	return 0;
}

/* A start-up error about key i of the JWKS at path. */
static int
key_error(struct rv_err *err, const char *path, size_t i, const char *fmt, ...)
{
	char why[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return rv_err_set(err, RV_E_INTERNAL, "JWKS '%s': key %zu %s",
			  path, i, why);
}

const char *
rv_auth_jwk_bad_member(json_t *jk)
{
	static const char *const members[] = {
		"n", "e", "x", "y", "d", "p", "q", "dp", "dq", "qi", "k",
	};
	const char *s, *pad;
	size_t i;

	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		if ((s = json_string_value(json_object_get(jk, members[i]))) == NULL ||
		    (pad = strchr(s, '=')) == NULL)
			continue;	/* cjose checks the rest itself */
		/* cjose stops at the first '=' and asserts unless the
		 * characters before it are 0, 2 or 3 modulo 4; it ignores
		 * what follows */
		if ((size_t)(pad - s) % 4 == 1 || pad[strspn(pad, "=")] != '\0')
			return members[i];
	}
	return NULL;
}

/* Bits of an RSA modulus from the JWK's "n", or 0 when it is unreadable. */
static size_t
rsa_bits(json_t *jk)
{
	const char *n = json_string_value(json_object_get(jk, "n"));
	uint8_t *raw = NULL;
	size_t len = 0, i = 0, bits = 0;
	cjose_err cerr;

	if (n == NULL ||
	    !cjose_base64url_decode(n, strlen(n), &raw, &len, &cerr))
		return 0;
	while (i < len && raw[i] == 0)
		i++;
	if (i < len) {
		unsigned char top = raw[i];

		bits = (len - i) * 8;
		while ((top & 0x80) == 0) {
			top = (unsigned char)(top << 1);
			bits--;
		}
	}
	cjose_get_dealloc()(raw);
	return bits;
}

/*
 * Checks key number i of the JWKS and fills *k: 1 usable, 0 skipped (not a
 * signature key we can use), -1 a start-up error.
 */
static int
load_key(const struct rv_conf *conf, size_t i, json_t *jk, struct key *k,
	 struct rv_err *err)
{
	static const char *const private_parts[] = {
		"d", "p", "q", "dp", "dq", "qi", "oth", "k",
	};
	const char *path = conf->auth_jwks, *kty, *kid = NULL, *bad;
	const struct alg *a = NULL;
	cjose_jwk_t *jwk;
	cjose_err cerr;
	json_t *v;
	size_t j;
	bool fits = false;

	if (!json_is_object(jk))
		return key_error(err, path, i, "is not an object");
	if ((kty = json_string_value(json_object_get(jk, "kty"))) == NULL)
		return key_error(err, path, i, "has no kty");
	for (j = 0; j < sizeof(private_parts) / sizeof(private_parts[0]); j++)
		if (json_object_get(jk, private_parts[j]) != NULL)
			return key_error(err, path, i, "has private part "
					 "\"%s\"; publish public keys only",
					 private_parts[j]);
	if (strcmp(kty, "oct") == 0)
		return key_error(err, path, i, "is a symmetric key");
	/* OKP (EdDSA) and the like: cjose 0.6 cannot verify them */
	if (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0)
		return 0;
	if ((v = json_object_get(jk, "use")) != NULL) {
		if (!json_is_string(v))
			return key_error(err, path, i, "has a bad \"use\"");
		if (strcmp(json_string_value(v), "sig") != 0)
			return 0;	/* "enc": an encryption key */
	}
	if ((v = json_object_get(jk, "key_ops")) != NULL) {
		json_t *op;
		size_t x;
		bool verify = false;

		if (!json_is_array(v))
			return key_error(err, path, i, "has a bad \"key_ops\"");
		json_array_foreach(v, x, op)
			if (json_is_string(op) &&
			    strcmp(json_string_value(op), "verify") == 0)
				verify = true;
		if (!verify)
			return 0;
	}
	if ((v = json_object_get(jk, "kid")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > 255)
			return key_error(err, path, i, "has a bad \"kid\"");
		kid = json_string_value(v);
	}
	if ((v = json_object_get(jk, "alg")) != NULL) {
		if (!json_is_string(v))
			return key_error(err, path, i, "has a bad \"alg\"");
		a = find_alg(json_string_value(v));
		/* an encryption alg, HS*, or one we were told not to accept */
		if (a == NULL ||
		    !rv_conf_list_has(conf->auth_algorithms, a->name))
			return 0;
	}

	if ((bad = rv_auth_jwk_bad_member(jk)) != NULL)
		return key_error(err, path, i, "has a bad \"%s\" (misplaced \"=\" "
				 "padding)", bad);
	if ((jwk = cjose_jwk_import_json(jk, &cerr)) == NULL)
		return key_error(err, path, i, "cannot be imported: %s",
				 cerr.message);
	k->jwk = jwk;
	k->kty = cjose_jwk_get_kty(jwk, &cerr);
	k->crv = CJOSE_JWK_EC_INVALID;
	if (k->kty == CJOSE_JWK_KTY_RSA) {
		size_t bits = rsa_bits(jk);

		if (bits < RSA_MIN_BITS) {
			cjose_jwk_release(jwk);
			return key_error(err, path, i, "is RSA with %zu bits; "
					 "at least %d are needed", bits,
					 RSA_MIN_BITS);
		}
	} else if (k->kty == CJOSE_JWK_KTY_EC) {
		k->crv = cjose_jwk_EC_get_curve(jwk, &cerr);
	} else {
		cjose_jwk_release(jwk);
		return key_error(err, path, i, "has an unexpected type");
	}
	if (a != NULL && !(a->kty == k->kty &&
			   (a->kty != CJOSE_JWK_KTY_EC || a->crv == k->crv))) {
		cjose_jwk_release(jwk);
		return key_error(err, path, i, "says alg %s, which does not "
				 "fit its %s key", a->name, key_kind(k));
	}
	k->alg = a;
	for (j = 0; j < sizeof(algs) / sizeof(algs[0]); j++)
		if (rv_conf_list_has(conf->auth_algorithms, algs[j].name) &&
		    alg_fits(&algs[j], k))
			fits = true;
	if (!fits) {
		cjose_jwk_release(jwk);
		k->jwk = NULL;
		return 0;
	}
	k->kid = kid != NULL ? rv_xstrdup(kid) : NULL;
	return 1;
}

static int
load_jwks(const struct rv_conf *conf, struct rv_err *err)
{
	const char *path = conf->auth_jwks, *why = NULL;
	struct stat sb;
	struct key *set = NULL;
	size_t i, j, n = 0, total, skipped = 0;
	json_error_t jerr;
	json_t *root, *arr;
	FILE *f;
	int rc = -1;

	if (path == NULL || *path == '\0')
		return rv_err_set(err, RV_E_INTERNAL, "<auth jwks> is "
				  "not set (required in jwt mode)");
	if ((f = fopen(path, "re")) == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "cannot open JWKS "
				  "'%s': %s", path, strerror(errno));
	/* whoever can write the key set can sign tokens (security review F15) */
	if (fstat(fileno(f), &sb) != 0 || (why = rv_file_unsafe(path, &sb)) != NULL) {
		fclose(f);
		return rv_err_set(err, RV_E_INTERNAL, "the JWKS '%s' %s", path,
				  why != NULL ? why : strerror(errno));
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (root == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "JWKS '%s' is not valid JSON: line %d: %s",
				  path, jerr.line, jerr.text);
	arr = json_object_get(root, "keys");
	if (!json_is_array(arr)) {
		rv_err_set(err, RV_E_INTERNAL, "JWKS '%s' is not a key "
			   "set (no \"keys\" array)", path);
		goto out;
	}
	total = json_array_size(arr);
	if (total == 0 || total > JWKS_MAX_KEYS) {
		rv_err_set(err, RV_E_INTERNAL, "JWKS '%s' has %zu keys "
			   "(1 to %d expected)", path, total, JWKS_MAX_KEYS);
		goto out;
	}
	set = rv_xcalloc(total, sizeof(*set));
	for (i = 0; i < total; i++) {
		int r = load_key(conf, i, json_array_get(arr, i), &set[n], err);

		if (r < 0)
			goto out;
		if (r == 0)
			skipped++;
		else
			n++;
	}
	if (n == 0) {
		rv_err_set(err, RV_E_INTERNAL, "JWKS '%s' has no usable "
			   "signature key (%zu skipped: encryption keys, or no "
			   "allowed algorithm fits)", path, skipped);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (n > 1 && set[i].kid == NULL) {
			rv_err_set(err, RV_E_INTERNAL, "JWKS '%s': a "
				   "key has no kid, which only a single key "
				   "may lack", path);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcmp(set[i].kid, set[j].kid) == 0) {
				char b[48];

				show(set[i].kid, b, sizeof(b));
				rv_err_set(err, RV_E_INTERNAL, "JWKS "
					   "'%s': kid '%s' is used twice",
					   path, b);
				goto out;
			}
	}
	keys = set;
	nkeys = n;
	set = NULL;
	rc = 0;
out:
	if (set != NULL)
		free_keys(set, n);
	json_decref(root);
	return rc;
}

int
rv_auth_setup(const struct rv_conf *conf, struct rv_err *err)
{
	rv_auth_release();
	if (conf->auth_mode != RV_CONF_AUTH_JWT)
		return 0;
	if (conf->auth_issuer == NULL || *conf->auth_issuer == '\0')
		return rv_err_set(err, RV_E_INTERNAL, "<auth issuer> is "
				  "not set (required in jwt mode)");
	if (conf->auth_audience == NULL || *conf->auth_audience == '\0')
		return rv_err_set(err, RV_E_INTERNAL, "<auth audience> "
				  "is not set (required in jwt mode)");
	if (check_algorithms(conf->auth_algorithms, err) < 0)
		return -1;
	return load_jwks(conf, err);
}

/* ---- per request --------------------------------------------------------- */

/* 401 auth.unauthorized with the RFC 6750 challenge. */
static int
unauthorized(struct rv_err *err, const char *fmt, ...)
{
	char why[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	rv_err_header(err, "WWW-Authenticate", INVALID_TOKEN);
	return rv_err_set(err, "auth.unauthorized", "%s", why);
}

/* jansson's error text quotes the input ("near '...'"), which must not
 * reach the log from a token: name the kind of error only. */
static const char *
json_error_what(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_duplicate_key:
		return "duplicate member";
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return "NUL character";
	case json_error_end_of_input_expected:
		return "trailing data";
	case json_error_premature_end_of_input:
		return "truncated";
	default:
		return "syntax error";
	}
}

static bool
is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Reads the protected header ourselves (duplicate members refused, which
 * cjose does not do) and picks the key. 0 with *k_r and *a_r, or -1.
 */
static int
pick_key(const struct rv_conf *conf, const char *token, size_t hlen,
	 const struct key **k_r, const struct alg **a_r, struct rv_err *err)
{
	const struct alg *a;
	const struct key *k = NULL;
	const char *alg, *kid = NULL;
	uint8_t *raw = NULL;
	size_t rawlen = 0, i;
	json_error_t jerr;
	cjose_err cerr;
	json_t *hdr, *v;
	char b1[48], b2[48];
	int rc = -1;

	if (!cjose_base64url_decode(token, hlen, &raw, &rawlen, &cerr))
		return unauthorized(err, "token header is not base64url");
	hdr = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES,
			 &jerr);
	cjose_get_dealloc()(raw);
	if (hdr == NULL)
		return unauthorized(err, "token header is not JSON (%s at "
				    "byte %d)", json_error_what(&jerr),
				    jerr.position);
	if (!json_is_object(hdr)) {
		unauthorized(err, "token header is not a JSON object");
		goto out;
	}
	if ((alg = json_string_value(json_object_get(hdr, "alg"))) == NULL) {
		unauthorized(err, "token header has no alg");
		goto out;
	}
	if (strcmp(alg, "none") == 0 || strncmp(alg, "HS", 2) == 0) {
		unauthorized(err, "token alg '%s' is refused (not a public-key "
			     "signature)", show(alg, b1, sizeof(b1)));
		goto out;
	}
	if ((a = find_alg(alg)) == NULL ||
	    !rv_conf_list_has(conf->auth_algorithms, a->name)) {
		unauthorized(err, "token alg '%s' is not in <auth algorithms>",
			     show(alg, b1, sizeof(b1)));
		goto out;
	}
	/* RFC 7515 4.1.11: we understand no extension */
	if (json_object_get(hdr, "crit") != NULL) {
		unauthorized(err, "token header has crit (not supported)");
		goto out;
	}
	if ((v = json_object_get(hdr, "kid")) != NULL) {
		if (!json_is_string(v)) {
			unauthorized(err, "token kid is not a string");
			goto out;
		}
		kid = json_string_value(v);
		for (i = 0; i < nkeys && k == NULL; i++)
			if (keys[i].kid != NULL &&
			    strcmp(keys[i].kid, kid) == 0)
				k = &keys[i];
		if (k == NULL) {
			unauthorized(err, "token kid '%s' is not in the JWKS",
				     show(kid, b1, sizeof(b1)));
			goto out;
		}
	} else if (nkeys == 1) {
		k = &keys[0];
	} else {
		unauthorized(err, "token has no kid and the JWKS has %zu keys",
			     nkeys);
		goto out;
	}
	if (!alg_fits(a, k)) {
		unauthorized(err, "token alg %s does not fit key '%s' "
			     "(%s%s%s)", a->name,
			     k->kid ? show(k->kid, b2, sizeof(b2)) : "",
			     key_kind(k), k->alg ? ", alg " : "",
			     k->alg ? k->alg->name : "");
		goto out;
	}
	*k_r = k;
	*a_r = a;
	rc = 0;
out:
	json_decref(hdr);
	return rc;
}

/* Checks the compact JWS and its signature; *claims_r is the payload. */
static int
verify_token(const struct rv_conf *conf, const char *token, size_t len,
	     json_t **claims_r, struct rv_err *err)
{
	const char *dot1, *dot2, *calg;
	const struct key *k = NULL;
	const struct alg *a = NULL;
	cjose_jws_t *jws;
	cjose_err cerr;
	json_error_t jerr;
	uint8_t *pt = NULL;
	size_t i, ptlen = 0;
	json_t *claims;

	dot1 = memchr(token, '.', len);
	dot2 = dot1 == NULL ? NULL :
	       memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (dot2 == NULL ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		return unauthorized(err, "token is not a compact JWS (three "
				    "dot-separated parts)");
	for (i = 0; i < len; i++)
		if (token + i != dot1 && token + i != dot2 &&
		    !is_b64url(token[i]))
			return unauthorized(err, "token is not a compact JWS "
					    "(byte %zu is not base64url)", i);
	if (dot1 == token || dot2 == dot1 + 1)
		return unauthorized(err, "token is not a compact JWS (empty "
				    "header or payload)");
	if (pick_key(conf, token, (size_t)(dot1 - token), &k, &a, err) < 0)
		return -1;
	if (dot2 + 1 == token + len)
		return unauthorized(err, "token has no signature");

	if ((jws = cjose_jws_import(token, len, &cerr)) == NULL)
		return unauthorized(err, "token is not a JWS: %s",
				    cerr.message);
	/* cjose_jws_verify() goes by cjose's reading of alg: it must be ours */
	calg = json_string_value(json_object_get(cjose_jws_get_protected(jws),
						 "alg"));
	/* pick_key() set a when it returned 0; the analyzer does not follow
	 * the variadic unauthorized() to see that its other result is -1 */
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	if (calg == NULL || strcmp(calg, a->name) != 0) {
		cjose_jws_release(jws);
		return unauthorized(err, "token alg read differently by cjose");
	}
	if (!cjose_jws_verify(jws, k->jwk, &cerr)) {
		char b[48];

		cjose_jws_release(jws);
		return unauthorized(err, "token signature does not verify with "
				    "key '%s' (%s)",
				    k->kid ? show(k->kid, b, sizeof(b)) : "",
				    a->name);
	}
	if (!cjose_jws_get_plaintext(jws, &pt, &ptlen, &cerr)) {
		cjose_jws_release(jws);
		return unauthorized(err, "token payload unreadable: %s",
				    cerr.message);
	}
	/* pt belongs to jws */
	claims = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES,
			    &jerr);
	cjose_jws_release(jws);
	if (claims == NULL)
		return unauthorized(err, "token claims are not JSON (%s at "
				    "byte %d)", json_error_what(&jerr),
				    jerr.position);
	if (!json_is_object(claims)) {
		json_decref(claims);
		return unauthorized(err, "token claims are not a JSON object");
	}
	*claims_r = claims;
	return 0;
}

/* A NumericDate claim: 1 present, 0 absent, -1 not a usable number. */
static int
time_claim(json_t *claims, const char *name, long long *t_r)
{
	json_t *v = json_object_get(claims, name);
	double d;

	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*t_r = (long long)json_integer_value(v);
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		if (!(d >= -(double)TIME_MAX && d <= (double)TIME_MAX))
			return -1;
		*t_r = (long long)d;
	} else {
		return -1;
	}
	return *t_r >= -TIME_MAX && *t_r <= TIME_MAX ? 1 : -1;
}

/* Appends the words of s to the scope list, dropping those that do not
 * fit whole (a cut word could name another scope). */
static void
add_scopes(char *dst, size_t size, const char *s)
{
	size_t len = strlen(dst), n;
	const char *w;

	while ((w = next_word(&s, &n)) != NULL) {
		if (len + (len > 0) + n >= size)
			continue;
		if (len > 0)
			dst[len++] = ' ';
		memcpy(dst + len, w, n);
		len += n;
		dst[len] = '\0';
	}
}

static int
check_claims(const struct rv_conf *conf, json_t *claims, struct rv_caller *c,
	     struct rv_err *err)
{
	const char *s;
	json_t *v, *e;
	long long now = now_time(), leeway = conf->auth_leeway, exp, nbf;
	size_t i;
	bool aud_ok = false;
	char b[48];
	int r;

	if ((s = json_string_value(json_object_get(claims, "iss"))) == NULL)
		return unauthorized(err, "token has no iss");
	if (strcmp(s, conf->auth_issuer) != 0)
		return unauthorized(err, "token iss '%s' is not <auth issuer>",
				    show(s, b, sizeof(b)));
	v = json_object_get(claims, "aud");
	if (json_is_string(v)) {
		aud_ok = strcmp(json_string_value(v), conf->auth_audience) == 0;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			s = json_string_value(e);
			if (s != NULL && strcmp(s, conf->auth_audience) == 0)
				aud_ok = true;
		}
	}
	if (!aud_ok)
		return unauthorized(err, "token aud does not name <auth "
				    "audience>");

	if ((r = time_claim(claims, "exp", &exp)) == 0)
		return unauthorized(err, "token has no exp");
	if (r < 0)
		return unauthorized(err, "token exp is not a date");
	if (exp + leeway <= now)
		return unauthorized(err, "token expired %lld s ago (leeway "
				    "%lld s)", now - exp, leeway);
	if ((r = time_claim(claims, "nbf", &nbf)) < 0)
		return unauthorized(err, "token nbf is not a date");
	if (r > 0 && nbf > now + leeway)
		return unauthorized(err, "token not valid for another %lld s "
				    "(nbf, leeway %lld s)", nbf - now, leeway);

	/* logto-spec 7: no accountId (client credentials) is a 401 */
	if ((s = json_string_value(json_object_get(claims, "sub"))) == NULL ||
	    *s == '\0')
		return unauthorized(err, "token has no sub");
	if (strlen(s) >= sizeof(c->user) || !clean_text(s))
		return unauthorized(err, "token sub is longer than 255 bytes "
				    "or has control characters");
	rv_strlcpy(c->user, s, sizeof(c->user));

	v = json_object_get(claims, "client_id");
	if (v == NULL || json_is_null(v))
		v = json_object_get(claims, "azp");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v))
			return unauthorized(err, "token client_id is not a "
					    "string");
		s = json_string_value(v);
		if (strlen(s) >= sizeof(c->client_id) || !clean_text(s))
			return unauthorized(err, "token client_id is longer "
					    "than 255 bytes or has control "
					    "characters");
		rv_strlcpy(c->client_id, s, sizeof(c->client_id));
	}

	/* the sign-in session (OpenID Connect Front-Channel Logout 1.0):
	 * a step-up record is bound to it when the token carries one */
	v = json_object_get(claims, "sid");
	if (v != NULL && !json_is_null(v)) {
		s = json_string_value(v);
		if (s == NULL || strlen(s) > RV_SID_MAX || !clean_text(s))
			return unauthorized(err, "token sid is not a string of "
					    "at most %d bytes without control "
					    "characters", RV_SID_MAX);
		rv_strlcpy(c->sid, s, sizeof(c->sid));
	}

	if ((v = json_object_get(claims, "scope")) == NULL || json_is_null(v))
		v = json_object_get(claims, "scp");
	if (json_is_string(v)) {
		s = json_string_value(v);
		if (!clean_text(s))
			return unauthorized(err, "token scope has control "
					    "characters");
		add_scopes(c->scope, sizeof(c->scope), s);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			s = json_string_value(e);
			if (s == NULL || !clean_text(s))
				return unauthorized(err, "token scp is not a "
						    "list of scope names");
			add_scopes(c->scope, sizeof(c->scope), s);
		}
	} else if (v != NULL && !json_is_null(v)) {
		return unauthorized(err, "token scope is not a string");
	}

	c->user_is_username = false;
	c->first_party = c->client_id[0] != '\0' &&
			 rv_conf_list_has(conf->auth_first_party, c->client_id);
	c->exp = exp;
	if (!rv_auth_has_scope(c, "openid"))
		return rv_err_set(err, "auth.forbidden",
				  "token scope lacks openid");
	return 0;
}

/*
 * Tokens verified before: a client sends the same access token with many
 * requests, and its signature check (RSA or ECDSA), JWS import and claims
 * parse are about 70% of the instructions of GET /api/my-account
 * (callgrind). An accepted token of at most TOKEN_KEEP_MAX bytes is kept
 * with the caller it gave and a hash of the settings that judged it
 * (issuer, audience, algorithms, first-party clients, leeway); a slot is
 * picked by a hash of the token, and the token compared in full in
 * constant time, so that the timing tells nothing of a kept token. A hit
 * repeats the time checks (exp, nbf with the leeway) against the clock of
 * now. Only accepted tokens are kept; rv_auth_setup() and
 * rv_auth_release() forget them all.
 */
#define TOKEN_CACHE 32
#define TOKEN_KEEP_MAX 4096

struct token_entry {
	char *token;		/* malloc'd; NULL: free slot */
	size_t len;
	uint64_t judge;
	struct rv_caller c;
	bool has_nbf;
	long long nbf;
};
static struct token_entry token_cache[TOKEN_CACHE];

static void
token_forget(void)
{
	size_t i;

	for (i = 0; i < TOKEN_CACHE; i++) {
		if (token_cache[i].token != NULL) {
			rv_wipe(token_cache[i].token, token_cache[i].len);
			free(token_cache[i].token);
		}
	}
	rv_wipe(token_cache, sizeof(token_cache));
}

/* FNV-1a, 64 bits */
static uint64_t
fnv(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n-- > 0)
		h = (h ^ *p++) * UINT64_C(0x100000001b3);
	return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 1);
}

static uint64_t
token_judge(const struct rv_conf *conf)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	h = fnv_str(h, conf->auth_issuer);
	h = fnv_str(h, conf->auth_audience);
	h = fnv_str(h, conf->auth_first_party);
	h = fnv_str(h, conf->auth_algorithms);
	return fnv(h, &conf->auth_leeway, sizeof(conf->auth_leeway));
}

static struct token_entry *
token_slot(const char *token, size_t len)
{
	return &token_cache[fnv(UINT64_C(0xcbf29ce484222325), token, len) % TOKEN_CACHE];
}

/* 1 and *c filled for a kept token still in its time, else 0 */
static int
token_cached(const struct rv_conf *conf, const char *token, size_t len,
	     uint64_t judge, struct rv_caller *c)
{
	const struct token_entry *e = token_slot(token, len);
	long long now = now_time();

	if (e->token == NULL || e->len != len || e->judge != judge ||
	    !rv_memeq_secret(e->token, token, len) ||
	    e->c.exp + conf->auth_leeway <= now ||
	    (e->has_nbf && e->nbf > now + conf->auth_leeway))
		return 0;
	*c = e->c;
	return 1;
}

static void
token_keep(const char *token, size_t len, uint64_t judge,
	   const struct rv_caller *c, json_t *claims)
{
	struct token_entry *e = token_slot(token, len);

	if (len > TOKEN_KEEP_MAX)
		return;
	if (e->token != NULL) {
		rv_wipe(e->token, e->len);
		free(e->token);
	}
	e->token = rv_xstrndup(token, len);
	e->len = len;
	e->judge = judge;
	e->c = *c;
	e->has_nbf = time_claim(claims, "nbf", &e->nbf) > 0;
}

static int
jwt_caller(struct rv_req *req, struct rv_caller *c, struct rv_err *err)
{
	uint64_t judge;
	const char *h = rv_req_header(req, "Authorization"), *token;
	json_t *claims = NULL;
	size_t len;
	int rc;

	/* an empty header counts as missing, as in Logto (a falsy string) */
	if (h == NULL || *h == '\0') {
		rv_err_header(err, "WWW-Authenticate", REALM);
		return rv_err_set(err, "auth.authorization_header_missing",
				  "no Authorization header");
	}
	if (strncmp(h, "Bearer ", 7) != 0) {
		if (err != NULL) {
			if (err->data != NULL)
				json_decref(err->data);
			err->data = json_pack("{s:[s]}", "supportedTypes",
					      "Bearer");
		}
		rv_err_header(err, "WWW-Authenticate", INVALID_TOKEN);
		return rv_err_set(err,
				  "auth.authorization_token_type_not_supported",
				  "Authorization is not of type Bearer");
	}
	token = h + 7;
	if ((len = strnlen(token, TOKEN_MAX + 1)) > TOKEN_MAX)
		return unauthorized(err, "token longer than %d bytes",
				    TOKEN_MAX);
	if (len == 0)
		return unauthorized(err, "empty bearer token");
	if (keys == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "no JWKS loaded (rv_auth_setup not called)");
	judge = token_judge(req->conf);
	if (token_cached(req->conf, token, len, judge, c))
		return 0;
	if (verify_token(req->conf, token, len, &claims, err) < 0)
		return -1;
	rc = check_claims(req->conf, claims, c, err);
	if (rc == 0)
		token_keep(token, len, judge, c, claims);
	json_decref(claims);
	return rc;
}

static int
remote_user_caller(struct rv_req *req, struct rv_caller *c, struct rv_err *err)
{
	const char *u = rv_req_param(req, "REMOTE_USER");

	if (u == NULL || *u == '\0')
		return rv_err_set(err, "auth.unauthorized",
				  "REMOTE_USER is not set (is the location "
				  "protected by the web server?)");
	if (strlen(u) >= sizeof(c->user) || !clean_text(u))
		return rv_err_set(err, "auth.unauthorized",
				  "REMOTE_USER is longer than 255 bytes, not "
				  "UTF-8 or has control characters");
	rv_strlcpy(c->user, u, sizeof(c->user));
	c->user_is_username =
		req->conf->auth_remote_user == RV_CONF_REMOTE_USER_USERNAME;
	rv_strlcpy(c->scope, remote_user_scope, sizeof(c->scope));
	c->first_party = true;
	c->exp = 0;
	return 0;
}

int
rv_auth_caller(struct rv_req *req, struct rv_caller *c, struct rv_err *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (req->conf->auth_mode == RV_CONF_AUTH_REMOTE_USER)
		rc = remote_user_caller(req, c, err);
	else
		rc = jwt_caller(req, c, err);
	if (rc < 0)
		memset(c, 0, sizeof(*c));
	return rc;
}

bool
rv_auth_has_scope(const struct rv_caller *c, const char *scope)
{
	return rv_conf_list_has(c->scope, scope);
}

int
rv_auth_require_first_party(const struct rv_caller *c, struct rv_err *err)
{
	char b[48];

	if (c->first_party)
		return 0;
	return rv_err_set(err, "auth.third_party_application_forbidden",
			  "client '%s' is not in <auth first-party>",
			  show(c->client_id, b, sizeof(b)));
}

/* ---- keys for reverify-admin and tests ----------------------------------- */

static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes data to a new temporary file next to path (for a rename(2) onto
 * it) with the given mode. *tmp_r is malloc'd.
 */
static int
write_temp(const char *path, const char *data, size_t len, mode_t mode,
	   char **tmp_r, struct rv_err *err)
{
	char *tmp = rv_xasprintf("%s.XXXXXX", path);
	int fd, e;

	if ((fd = mkstemp(tmp)) < 0) {
		e = errno;
		free(tmp);
		return rv_err_set(err, RV_E_INTERNAL, "cannot create a "
				  "file next to '%s': %s", path, strerror(e));
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return rv_err_set(err, RV_E_INTERNAL, "cannot write a "
				  "file next to '%s': %s", path, strerror(e));
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(tmp);
		free(tmp);
		return rv_err_set(err, RV_E_INTERNAL, "cannot write a "
				  "file next to '%s': %s", path, strerror(e));
	}
	*tmp_r = tmp;
	return 0;
}

/* The JWKS at path, or a new empty one when there is no file. */
static json_t *
read_jwks(const char *path, struct rv_err *err)
{
	json_error_t jerr;
	json_t *root;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return json_pack("{s:[]}", "keys");
		rv_err_set(err, RV_E_INTERNAL, "cannot open JWKS '%s': %s",
			   path, strerror(errno));
		return NULL;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (root == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "JWKS '%s' is not valid "
			   "JSON: line %d: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_array(json_object_get(root, "keys"))) {
		json_decref(root);
		rv_err_set(err, RV_E_INTERNAL, "JWKS '%s' is not a key "
			   "set (no \"keys\" array)", path);
		return NULL;
	}
	return root;
}

int
rv_auth_keygen(const char *key_path, const char *jwks_path, bool overwrite,
	       struct rv_err *err)
{
	cjose_jwk_t *jwk;
	cjose_err cerr;
	char kid[17];
	char *priv = NULL, *pub = NULL, *keyfile = NULL, *jwks_text = NULL;
	char *key_tmp = NULL, *jwks_tmp = NULL;
	json_t *jwks = NULL, *pubj = NULL;
	size_t plen = 0, klen = 0;
	int fd = -1, rc = -1, e;
	bool created = false;

	if (rv_random_id(kid, 16, err) < 0)
		return -1;
	jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_384, &cerr);
	if (jwk == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "cannot create a "
				  "P-384 key: %s", cerr.message);
	if (!cjose_jwk_set_kid(jwk, kid, 16, &cerr) ||
	    (priv = cjose_jwk_to_json(jwk, true, &cerr)) == NULL ||
	    (pub = cjose_jwk_to_json(jwk, false, &cerr)) == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "cannot export the new "
			   "key: %s", cerr.message);
		goto out;
	}
	/*
	 * The private JWK is written from cjose's own text, with use and alg
	 * spliced in, so that the secret passes through no buffer we cannot
	 * wipe (jansson would keep copies).
	 */
	plen = strlen(priv);
	RV_ASSERT(plen > 2 && priv[plen - 1] == '}');
	keyfile = rv_xasprintf("%.*s,\"use\":\"sig\",\"alg\":\"ES384\"}\n",
			       (int)(plen - 1), priv);
	klen = strlen(keyfile);

	if ((jwks = read_jwks(jwks_path, err)) == NULL)
		goto out;
	if ((pubj = json_loads(pub, 0, NULL)) == NULL ||
	    json_object_set_new(pubj, "use", json_string("sig")) < 0 ||
	    json_object_set_new(pubj, "alg", json_string("ES384")) < 0 ||
	    json_array_append(json_object_get(jwks, "keys"), pubj) < 0) {
		rv_err_set(err, RV_E_INTERNAL, "cannot build the JWKS");
		goto out;
	}
	jwks_text = json_dumps(jwks, JSON_INDENT(2));
	RV_ASSERT(jwks_text != NULL);

	/* the key first: without overwrite, an existing key stops us before
	 * the JWKS changes */
	if (overwrite) {
		if (write_temp(key_path, keyfile, klen, 0600, &key_tmp,
			       err) < 0)
			goto out;
	} else {
		fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
			  O_NOFOLLOW, 0600);
		if (fd < 0) {
			rv_err_set(err, RV_E_INTERNAL, "cannot create key "
				   "file '%s': %s", key_path, strerror(errno));
			goto out;
		}
		created = true;
		if (fchmod(fd, 0600) < 0 || write_all(fd, keyfile, klen) < 0 ||
		    fsync(fd) < 0) {
			rv_err_set(err, RV_E_INTERNAL, "cannot write key "
				   "file '%s': %s", key_path, strerror(errno));
			goto out;
		}
		e = close(fd);
		fd = -1;
		if (e < 0) {
			rv_err_set(err, RV_E_INTERNAL, "cannot write key "
				   "file '%s': %s", key_path, strerror(errno));
			goto out;
		}
	}
	{
		size_t jlen = strlen(jwks_text);

		jwks_text = rv_xrealloc(jwks_text, jlen + 2);
		memcpy(jwks_text + jlen, "\n", 2);
		if (write_temp(jwks_path, jwks_text, jlen + 1, 0644, &jwks_tmp,
			       err) < 0)
			goto out;
	}
	if (rename(jwks_tmp, jwks_path) < 0) {
		rv_err_set(err, RV_E_INTERNAL, "cannot replace JWKS "
			   "'%s': %s", jwks_path, strerror(errno));
		goto out;
	}
	free(jwks_tmp);
	jwks_tmp = NULL;
	if (key_tmp != NULL && rename(key_tmp, key_path) < 0) {
		rv_err_set(err, RV_E_INTERNAL, "cannot replace key file "
			   "'%s' (the JWKS already has the new key): %s",
			   key_path, strerror(errno));
		goto out;
	}
	free(key_tmp);
	key_tmp = NULL;
	created = false;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(key_path);
	if (key_tmp != NULL) {
		unlink(key_tmp);
		free(key_tmp);
	}
	if (jwks_tmp != NULL) {
		unlink(jwks_tmp);
		free(jwks_tmp);
	}
	free(jwks_text);
	json_decref(pubj);
	json_decref(jwks);
	if (keyfile != NULL) {
		rv_wipe(keyfile, klen);
		free(keyfile);
	}
	if (priv != NULL) {
		rv_wipe(priv, plen);
		free(priv);
	}
	free(pub);
	cjose_jwk_release(jwk);
	return rc;
}

/* Reads a small file into a malloc'd, NUL-terminated buffer. */
static int
read_small_file(const char *path, size_t max, char **buf_r, size_t *len_r,
		struct rv_err *err)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rv_err_set(err, RV_E_INTERNAL, "cannot open "
				  "'%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > max) {
		close(fd);
		return rv_err_set(err, RV_E_INTERNAL, "'%s' is not a "
				  "regular file of at most %zu bytes", path,
				  max);
	}
	buf = rv_xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			close(fd);
			rv_wipe(buf, len);
			free(buf);
			return rv_err_set(err, RV_E_INTERNAL, "cannot "
					  "read '%s': %s", path, strerror(e));
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*buf_r = buf;
	*len_r = len;
	return 0;
}

int
rv_auth_mint(const char *key_path, const char *issuer, const char *audience,
	     const char *sub, const char *client_id, const char *scope,
	     const char *sid, long ttl, char **token_r, struct rv_err *err)
{
	cjose_jwk_t *jwk;
	cjose_header_t *hdr = NULL;
	cjose_jws_t *jws = NULL;
	cjose_err cerr;
	json_t *claims = NULL;
	const char *alg, *kid, *ser, *bad;
	char *buf = NULL, *payload = NULL;
	json_t *jk;
	char jti[22];
	size_t len = 0;
	long long now;
	int rc = -1;

	RV_ASSERT(issuer != NULL && audience != NULL && sub != NULL);
	*token_r = NULL;
	if (read_small_file(key_path, KEYFILE_MAX, &buf, &len, err) < 0)
		return -1;
	jk = json_loadb(buf, len, 0, NULL);
	rv_wipe(buf, len);
	free(buf);
	if ((bad = rv_auth_jwk_bad_member(jk)) != NULL) {
		rv_json_wipe_strings(jk);
		json_decref(jk);
		return rv_err_set(err, RV_E_INTERNAL, "key file '%s' has "
				  "a bad \"%s\" (misplaced \"=\" padding)",
				  key_path, bad);
	}
	if (jk == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "key file '%s' is "
				  "not JSON", key_path);
	jwk = cjose_jwk_import_json(jk, &cerr);
	rv_json_wipe_strings(jk);
	json_decref(jk);
	if (jwk == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "key file '%s' is "
				  "not a JWK: %s", key_path, cerr.message);
	switch (cjose_jwk_get_kty(jwk, &cerr)) {
	case CJOSE_JWK_KTY_RSA:
		alg = "RS256";
		break;
	case CJOSE_JWK_KTY_EC:
		switch (cjose_jwk_EC_get_curve(jwk, &cerr)) {
		case CJOSE_JWK_EC_P_256:
			alg = "ES256";
			break;
		case CJOSE_JWK_EC_P_384:
			alg = "ES384";
			break;
		case CJOSE_JWK_EC_P_521:
			alg = "ES512";
			break;
		default:
			alg = NULL;
			break;
		}
		break;
	default:
		alg = NULL;
		break;
	}
	if (alg == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "key file '%s' holds "
			   "neither an RSA nor a P-256/384/521 key", key_path);
		goto out;
	}
	if (rv_random_id(jti, 21, err) < 0)
		goto out;
	kid = cjose_jwk_get_kid(jwk, &cerr);
	if ((hdr = cjose_header_new(&cerr)) == NULL ||
	    !cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &cerr) ||
	    !cjose_header_set(hdr, "typ", "at+jwt", &cerr) ||
	    (kid != NULL &&
	     !cjose_header_set(hdr, CJOSE_HDR_KID, kid, &cerr))) {
		rv_err_set(err, RV_E_INTERNAL, "cannot build a JWS "
			   "header: %s", cerr.message);
		goto out;
	}
	now = now_time();
	claims = json_pack("{s:s, s:s, s:s}", "iss", issuer, "aud", audience,
			   "sub", sub);
	if (claims == NULL ||
	    (client_id != NULL &&
	     json_object_set_new(claims, "client_id",
				 json_string(client_id)) < 0) ||
	    (scope != NULL &&
	     json_object_set_new(claims, "scope", json_string(scope)) < 0) ||
	    (sid != NULL &&
	     json_object_set_new(claims, "sid", json_string(sid)) < 0) ||
	    json_object_set_new(claims, "iat", json_integer(now)) < 0 ||
	    json_object_set_new(claims, "exp", json_integer(now + ttl)) < 0 ||
	    json_object_set_new(claims, "jti", json_string(jti)) < 0 ||
	    (payload = json_dumps(claims, JSON_COMPACT)) == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "cannot build the claims "
			   "(a value is not UTF-8?)");
		goto out;
	}
	if ((jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)payload,
				  strlen(payload), &cerr)) == NULL ||
	    !cjose_jws_export(jws, &ser, &cerr)) {
		rv_err_set(err, RV_E_INTERNAL, "cannot sign with key "
			   "file '%s' (not a private key?): %s", key_path,
			   cerr.message);
		goto out;
	}
	*token_r = rv_xstrdup(ser);
	rc = 0;
out:
	if (jws != NULL)
		cjose_jws_release(jws);
	free(payload);
	json_decref(claims);
	if (hdr != NULL)
		cjose_header_release(hdr);
	cjose_jwk_release(jwk);
	return rc;
}
