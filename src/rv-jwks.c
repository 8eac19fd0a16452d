/* rv-jwks.c: the JWKS of the token issuer: loading and key checks */
#include "config.h"
#include "rv-jwks.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-util.h"

/* Larger sets are a sign of a wrong file, not of key rotation. */
#define JWKS_MAX_KEYS	100
#define RSA_MIN_BITS	2048

/* The signature algorithms cjose 0.6 verifies with public keys (DESIGN.md
 * "Callers"); HS* and none are never accepted, EdDSA is not in cjose 0.6. */
static const struct rv_jwks_alg algs[] = {
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

/* The key set of rv_auth_setup(), read by every request. */
static struct rv_jwks_key *keys;
static size_t nkeys;

static int key_error(struct rv_err *err, const char *path, size_t i,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

const struct rv_jwks_alg *
rv_jwks_alg(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

bool
rv_jwks_alg_fits(const struct rv_jwks_alg *a,
		 const struct rv_jwks_key *k)
{
	if (a->kty != k->kty)
		return false;
	if (a->kty == CJOSE_JWK_KTY_EC && a->crv != k->crv)
		return false;
	return k->alg == NULL || k->alg == a;
}

const char *
rv_jwks_key_kind(const struct rv_jwks_key *k)
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

const struct rv_jwks_key *
rv_jwks_keys(size_t *n_r)
{
	if (n_r != NULL)
		*n_r = nkeys;
	return keys;
}

static void
free_keys(struct rv_jwks_key *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cjose_jwk_release(set[i].jwk);
		free(set[i].kid);
	}
	free(set);
}

void
rv_jwks_release(void)
{
	free_keys(keys, nkeys);
	keys = NULL;
	nkeys = 0;
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
load_key(const struct rv_conf *conf, size_t i, json_t *jk,
	 struct rv_jwks_key *k, struct rv_err *err)
{
	static const char *const private_parts[] = {
		"d", "p", "q", "dp", "dq", "qi", "oth", "k",
	};
	const char *path = conf->auth_jwks, *kty, *kid = NULL, *bad;
	const struct rv_jwks_alg *a = NULL;
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
		a = rv_jwks_alg(json_string_value(v));
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
				 "fit its %s key", a->name, rv_jwks_key_kind(k));
	}
	k->alg = a;
	for (j = 0; j < sizeof(algs) / sizeof(algs[0]); j++)
		if (rv_conf_list_has(conf->auth_algorithms, algs[j].name) &&
		    rv_jwks_alg_fits(&algs[j], k))
			fits = true;
	if (!fits) {
		cjose_jwk_release(jwk);
		k->jwk = NULL;
		return 0;
	}
	k->kid = kid != NULL ? rv_xstrdup(kid) : NULL;
	return 1;
}

int
rv_jwks_load(const struct rv_conf *conf, struct rv_err *err)
{
	const char *path = conf->auth_jwks, *why = NULL;
	struct stat sb;
	struct rv_jwks_key *set = NULL;
	size_t i, j, n = 0, total, skipped = 0;
	json_error_t jerr;
	json_t *root, *arr;
	FILE *f;
	int rc = -1;

	rv_jwks_release();
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

				rv_str_show(set[i].kid, b, sizeof(b));
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
