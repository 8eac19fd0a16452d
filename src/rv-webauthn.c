/* rv-webauthn.c: passkeys: WebAuthn registration and assertion checks
 * with libfido2 (W3C Web Authentication Level 2, 7.1 and 7.2)
 *
 * Everything here reads hostile input: the JSON through jansson, the CBOR
 * of the attestation object and of the key through libcbor (whole buffer,
 * definite lengths, no duplicate keys), authenticatorData by hand with
 * every length checked against what is left. The signatures are libfido2's
 * (fido_cred_verify, fido_cred_verify_self, fido_assert_verify), as pam-u2f
 * uses them; the checks around them are ours, in the order of 7.1 and 7.2,
 * so that err->msg names the one that failed.
 */
#include "config.h"
#include "rv-webauthn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>

#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"



/* authenticatorData flags (6.1) */
#define F_UP 0x01
#define F_UV 0x04
#define F_BE 0x08
#define F_BS 0x10
#define F_AT 0x40
#define F_ED 0x80

#define MAX_CRED_ID 1023	/* 6.5.1: credentialIdLength at most 1023 */
#define MAX_CLIENT_DATA 4096	/* a browser's is about 200 bytes */
#define MAX_ATT_OBJ 16384	/* room for a packed x5c chain */
#define MAX_AUTH_DATA 4096
#define MAX_SIG 1024		/* RS256-4096 is 512 */
#define MAX_ID_B64 1400		/* 1023 bytes in base64url: 1364 */
#define AUTH_DATA_MIN 37	/* rpIdHash 32, flags 1, signCount 4 */
#define MAP_MAX 32		/* pairs: a COSE key or a statement has < 8 */

void
rv_webauthn_cred_release(struct rv_webauthn_cred *c)
{
	free(c->cred_id);
	free(c->public_key);
	free(c->transports);
	memset(c, 0, sizeof(*c));
}

/* ---- options ----------------------------------------------------------- */

/* base64url without padding; caller must free() it. */
static char *
b64url(const unsigned char *p, size_t n)
{
	char *s = rv_xmalloc(RV_B64_SIZE(n));

	rv_b64_encode(p, n, RV_B64_URL, false, s);
	return s;
}

static json_t *
b64url_json(const unsigned char *p, size_t n)
{
	char *s = b64url(p, n);
	json_t *j = json_string(s);

	free(s);
	return j;
}

static const char *
uv_word(const struct rv_webauthn_rp *rp)
{
	return rp->require_uv ? "required" : "preferred";
}

json_t *
rv_webauthn_creation_options(const struct rv_webauthn_rp *rp,
			     const char *user_id, const char *user_name,
			     const char *display_name,
			     const unsigned char *challenge, size_t clen,
			     const char *const *exclude, size_t n)
{
	json_t *params = json_array(), *ex = json_array();
	size_t i;
	/* @simplewebauthn/server's supportedAlgorithmIDs, in its order */
	static const int algs[] = { COSE_EDDSA, COSE_ES256, COSE_RS256 };

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		json_array_append_new(params, json_pack("{s:i, s:s}", "alg",
							algs[i], "type",
							"public-key"));
	for (i = 0; i < n; i++)
		json_array_append_new(ex, json_pack("{s:s, s:s}", "id",
						    exclude[i], "type",
						    "public-key"));
	return json_pack("{s:{s:s, s:s}, s:{s:o, s:s, s:s}, s:o, s:o, s:i, "
			 "s:s, s:o, s:{s:s, s:b, s:s}, s:{s:b}}",
			 "rp", "name", rp->rp_name, "id", rp->rp_id,
			 "user", "id", b64url_json((const unsigned char *)user_id,
						   strlen(user_id)),
			 "name", user_name, "displayName", display_name,
			 "challenge", b64url_json(challenge, clen),
			 "pubKeyCredParams", params,
			 "timeout", 300000,
			 "attestation", "none",
			 "excludeCredentials", ex,
			 "authenticatorSelection", "residentKey", "preferred",
			 "requireResidentKey", 0,
			 "userVerification", uv_word(rp),
			 "extensions", "credProps", 1);
}

json_t *
rv_webauthn_request_options(const struct rv_webauthn_rp *rp,
			    const unsigned char *challenge, size_t clen,
			    const struct rv_webauthn_cred *allow, size_t n)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *c = json_pack("{s:s, s:s}", "id", allow[i].cred_id,
				      "type", "public-key");

		if (allow[i].transports != NULL && *allow[i].transports) {
			json_t *t = json_array();
			const char *p = allow[i].transports;

			while (*p) {
				size_t w = strcspn(p, " ");

				if (w > 0)
					json_array_append_new(t, json_stringn(p, w));
				p += w;
				p += strspn(p, " ");
			}
			json_object_set_new(c, "transports", t);
		}
		json_array_append_new(list, c);
	}
	return json_pack("{s:o, s:i, s:s, s:o, s:s}",
			 "challenge", b64url_json(challenge, clen),
			 "timeout", 300000, "rpId", rp->rp_id,
			 "allowCredentials", list,
			 "userVerification", uv_word(rp));
}

/* ---- the JSON envelope --------------------------------------------------- */

/* Decodes the base64url string member key of obj (at most max bytes) into
 * a malloc'd buffer; -1 with err when absent, not a string or malformed. */
static int
b64_member(json_t *obj, const char *key, size_t max, unsigned char **out_r,
	   size_t *len_r, struct rv_err *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: '%s' missing or not a string", key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > max / 3 * 4 + 4)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: '%s' too long", key);
	*out_r = rv_xmalloc(n / 4 * 3 + 3);
	if (rv_b64_decode(s, n, RV_B64_URL, RV_B64_PAD_OPT, *out_r, max, len_r) < 0) {
		free(*out_r);
		*out_r = NULL;
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: '%s' is not base64url", key);
	}
	return 0;
}

const char *
rv_webauthn_payload_id(json_t *payload)
{
	const char *id = json_string_value(json_object_get(payload, "id"));
	const char *raw = json_string_value(json_object_get(payload, "rawId"));

	if (id == NULL || raw == NULL || strcmp(id, raw) != 0 || *id == '\0' ||
	    strlen(id) > MAX_ID_B64)
		return NULL;
	return id;
}

/* The envelope shared by both ceremonies: {id, rawId, type "public-key",
 * response {...}}; *raw_r the decoded rawId (malloc'd), *resp_r borrowed. */
static int
envelope(json_t *payload, unsigned char **raw_r, size_t *raw_len_r,
	 json_t **resp_r, struct rv_err *err)
{
	const char *type;

	if (!json_is_object(payload))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: payload is not an object");
	if (rv_webauthn_payload_id(payload) == NULL)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: id missing or not equal to rawId");
	type = json_string_value(json_object_get(payload, "type"));
	if (type == NULL || strcmp(type, "public-key") != 0)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: type is not 'public-key'");
	*resp_r = json_object_get(payload, "response");
	if (!json_is_object(*resp_r))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: response is not an object");
	if (b64_member(payload, "rawId", MAX_CRED_ID, raw_r, raw_len_r, err) < 0)
		return -1;
	return 0;
}

/*
 * clientDataJSON (7.1 steps 5-10, 7.2 steps 10-14): a JSON object whose
 * type is want, whose challenge decodes to exactly the challenge
 * (compared in constant time), whose origin is one of the configured ones
 * (exactly), and whose crossOrigin is absent or false.
 */
static int
check_client_data(const struct rv_webauthn_rp *rp, const char *want,
		  const unsigned char *challenge, size_t clen,
		  const unsigned char *cd, size_t cdlen, struct rv_err *err)
{
	json_t *j, *co;
	const char *type, *origin;
	unsigned char *got = NULL;
	size_t glen = 0, i;
	int rc = -1;

	j = json_loadb((const char *)cd, cdlen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: clientDataJSON is not a JSON object");
		goto out;
	}
	type = json_string_value(json_object_get(j, "type"));
	if (type == NULL || strcmp(type, want) != 0) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: clientDataJSON type is not '%s'", want);
		goto out;
	}
	if (b64_member(j, "challenge", 64, &got, &glen, err) < 0)
		goto out;
	if (glen != clen || !rv_memeq_secret(got, challenge, clen)) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: challenge does not match");
		goto out;
	}
	origin = json_string_value(json_object_get(j, "origin"));
	for (i = 0; origin != NULL && rp->origins[i] != NULL; i++)
		if (strcmp(origin, rp->origins[i]) == 0)
			break;
	if (origin == NULL || rp->origins[i] == NULL) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: origin not allowed");
		goto out;
	}
	co = json_object_get(j, "crossOrigin");
	if (co != NULL && !json_is_false(co)) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: crossOrigin is not false");
		goto out;
	}
	rc = 0;
out:
	if (got != NULL)
		rv_wipe(got, glen);
	free(got);
	json_decref(j);
	return rc;
}

/* ---- authenticatorData (6.1) -------------------------------------------- */

struct authdata {
	const unsigned char *rp_hash;	/* 32 bytes */
	unsigned char flags;
	unsigned long count;
	const unsigned char *aaguid;	/* 16 bytes, when AT */
	const unsigned char *cred_id;
	size_t cred_id_len;
	int alg;			/* the COSE key's, when AT */
	int ext;			/* FIDO_EXT_* the extensions name */
	int prot;			/* credProtect's value, or 0 */
};

#define CBOR_DEPTH 8	/* a COSE key or an x5c chain needs 3 */

/*
 * Walks one CBOR item at p (RFC 8949 3) before libcbor sees it, so that
 * no declared length can make it allocate more than the input could hold:
 * definite lengths only (CTAP2's canonical form has no other), every
 * length and count within the bytes left, no tags, nesting at most
 * CBOR_DEPTH. The item's length, or 0 when it is not that.
 */
static size_t
cbor_walk(const unsigned char *p, size_t n, int depth)
{
	unsigned int major, ai;
	uint64_t v = 0, items;
	size_t off = 1, k, len;

	if (n == 0 || depth > CBOR_DEPTH)
		return 0;
	major = p[0] >> 5;
	ai = p[0] & 31;
	if (ai < 24) {
		v = ai;
	} else if (ai <= 27) {
		len = (size_t)1 << (ai - 24);
		if (n - off < len)
			return 0;
		for (k = 0; k < len; k++)
			v = v << 8 | p[off + k];
		off += len;
	} else {
		return 0;	/* reserved, or indefinite length */
	}
	switch (major) {
	case 0: case 1: case 7:
		return off;
	case 2: case 3:
		return v <= n - off ? off + (size_t)v : 0;
	case 4: case 5:
		if (v > n - off)
			return 0;	/* each item takes a byte at least */
		items = major == 5 ? v * 2 : v;
		for (; items > 0; items--) {
			if ((len = cbor_walk(p + off, n - off, depth + 1)) == 0)
				return 0;
			off += len;
		}
		return off;
	default:
		return 0;	/* tags */
	}
}

/* One whole CBOR item at p (at most n bytes): *used_r its length; the
 * item, or NULL. */
static cbor_item_t *
cbor_one(const unsigned char *p, size_t n, size_t *used_r)
{
	struct cbor_load_result res;
	cbor_item_t *item;
	size_t len = cbor_walk(p, n, 0);

	if (len == 0)
		return NULL;
	item = cbor_load(p, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
		if (item != NULL)
			cbor_decref(&item);
		return NULL;
	}
	*used_r = res.read;
	return item;
}

/* A definite map of at most MAP_MAX pairs whose keys are all distinct
 * (same type, same value). */
static bool
map_ok(const cbor_item_t *m)
{
	struct cbor_pair *pairs;
	size_t n, i, k;

	if (!cbor_isa_map(m) || !cbor_map_is_definite(m) ||
	    cbor_map_size(m) > MAP_MAX)
		return false;
	n = cbor_map_size(m);
	pairs = cbor_map_handle(m);
	for (i = 0; i < n; i++) {
		const cbor_item_t *a = pairs[i].key;

		if (cbor_isa_string(a) && !cbor_string_is_definite(a))
			return false;
		for (k = 0; k < i; k++) {
			const cbor_item_t *b = pairs[k].key;

			if (cbor_typeof(a) != cbor_typeof(b))
				continue;
			if ((cbor_isa_uint(a) || cbor_isa_negint(a)) &&
			    cbor_get_int(a) == cbor_get_int(b))
				return false;
			if (cbor_isa_string(a) &&
			    cbor_string_length(a) == cbor_string_length(b) &&
			    memcmp(cbor_string_handle(a), cbor_string_handle(b),
				   cbor_string_length(a)) == 0)
				return false;
		}
	}
	return true;
}

/* The value of the integer key k (COSE labels: k >= 0 a uint, else a
 * negint), or NULL. */
static cbor_item_t *
map_int(const cbor_item_t *m, long k)
{
	struct cbor_pair *pairs = cbor_map_handle(m);
	size_t i, n = cbor_map_size(m);

	for (i = 0; i < n; i++) {
		cbor_item_t *key = pairs[i].key;

		if (k >= 0 && cbor_isa_uint(key) &&
		    cbor_get_int(key) == (uint64_t)k)
			return pairs[i].value;
		if (k < 0 && cbor_isa_negint(key) &&
		    cbor_get_int(key) == (uint64_t)(-1 - k))
			return pairs[i].value;
	}
	return NULL;
}

/* The value of the text key k, or NULL. */
static cbor_item_t *
map_str(const cbor_item_t *m, const char *k)
{
	struct cbor_pair *pairs = cbor_map_handle(m);
	size_t i, n = cbor_map_size(m), kl = strlen(k);

	for (i = 0; i < n; i++) {
		cbor_item_t *key = pairs[i].key;

		if (cbor_isa_string(key) && cbor_string_length(key) == kl &&
		    memcmp(cbor_string_handle(key), k, kl) == 0)
			return pairs[i].value;
	}
	return NULL;
}

/* A definite byte string, else NULL. */
static const unsigned char *
bytes_of(const cbor_item_t *v, size_t *len_r)
{
	if (v == NULL || !cbor_isa_bytestring(v) ||
	    !cbor_bytestring_is_definite(v))
		return NULL;
	*len_r = cbor_bytestring_length(v);
	return cbor_bytestring_handle(v);
}

/* The COSE alg (label 3) of a credential public key (RFC 8152 7, RFC 8230,
 * RFC 8812): only the three we take, each with the kty it needs. */
static int
cose_alg(const cbor_item_t *key, int *alg_r)
{
	const cbor_item_t *kty, *alg;
	long a;

	if (!map_ok(key))
		return -1;
	kty = map_int(key, 1);
	alg = map_int(key, 3);
	if (kty == NULL || alg == NULL ||
	    !cbor_isa_uint(kty) || !cbor_isa_negint(alg) ||
	    cbor_get_int(alg) > 1000)
		return -1;
	a = -1 - (long)cbor_get_int(alg);
	if ((a == COSE_ES256 && cbor_get_int(kty) == 2) ||	/* EC2 */
	    (a == COSE_EDDSA && cbor_get_int(kty) == 1) ||	/* OKP */
	    (a == COSE_RS256 && cbor_get_int(kty) == 3)) {	/* RSA */
		*alg_r = (int)a;
		return 0;
	}
	return -1;
}

/* The extensions libfido2 compares with what was asked for (CTAP 2.1
 * 12.1 credProtect, 12.5 hmac-secret), so that it is asked for them. */
static void
extensions(const cbor_item_t *m, struct authdata *ad)
{
	const cbor_item_t *v;

	v = map_str(m, "credProtect");
	if (v != NULL && cbor_isa_uint(v) && cbor_get_int(v) >= 1 &&
	    cbor_get_int(v) <= 3) {
		ad->ext |= FIDO_EXT_CRED_PROTECT;
		ad->prot = (int)cbor_get_int(v);
	}
	v = map_str(m, "hmac-secret");
	if (v != NULL && cbor_is_bool(v) && cbor_get_bool(v))
		ad->ext |= FIDO_EXT_HMAC_SECRET;
}

/*
 * Parses authenticatorData exactly: the fixed 37 bytes, then attested
 * credential data when AT (aaguid, credentialIdLength, the id, one COSE
 * key), then one extensions map when ED, and nothing after. want_at: AT
 * must be set (registration) or must not (assertion).
 */
static int
parse_authdata(const unsigned char *p, size_t n, bool want_at,
	       struct authdata *ad, struct rv_err *err)
{
	size_t off = AUTH_DATA_MIN, used;
	cbor_item_t *item;

	memset(ad, 0, sizeof(*ad));
	if (n < AUTH_DATA_MIN)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: authenticatorData truncated (%zu bytes)", n);
	ad->rp_hash = p;
	ad->flags = p[32];
	ad->count = (unsigned long)p[33] << 24 | (unsigned long)p[34] << 16 |
		    (unsigned long)p[35] << 8 | p[36];
	if (!(ad->flags & F_AT) != !want_at)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: attested credential data %s",
				  want_at ? "missing (flag AT)" : "not expected (flag AT)");
	if (ad->flags & F_AT) {
		if (n - off < 18)
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: attested credential data truncated");
		ad->aaguid = p + off;
		ad->cred_id_len = (size_t)p[off + 16] << 8 | p[off + 17];
		off += 18;
		if (ad->cred_id_len == 0 || ad->cred_id_len > MAX_CRED_ID)
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: credentialIdLength %zu out of range",
					  ad->cred_id_len);
		if (n - off < ad->cred_id_len)
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: credential id truncated");
		ad->cred_id = p + off;
		off += ad->cred_id_len;
		if ((item = cbor_one(p + off, n - off, &used)) == NULL)
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: credential public key is not CBOR");
		if (cose_alg(item, &ad->alg) < 0) {
			cbor_decref(&item);
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: credential public key not supported");
		}
		cbor_decref(&item);
		off += used;
	}
	if (ad->flags & F_ED) {
		if ((item = cbor_one(p + off, n - off, &used)) == NULL)
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: extensions are not CBOR");
		if (!map_ok(item)) {
			cbor_decref(&item);
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: extensions are not a map");
		}
		extensions(item, ad);
		cbor_decref(&item);
		off += used;
	}
	if (off != n)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: %zu bytes after authenticatorData", n - off);
	return 0;
}

/* 7.1 steps 13-15, 7.2 steps 15-17: rpIdHash, UP, UV when required, and
 * BS only with BE (6.1). */
static int
check_rp_flags(const struct rv_webauthn_rp *rp, const struct authdata *ad,
	       struct rv_err *err)
{
	unsigned char h[32];

	rv_sha256(rp->rp_id, strlen(rp->rp_id), h);
	if (memcmp(h, ad->rp_hash, sizeof(h)) != 0)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: rpIdHash is not the RP ID's");
	if (!(ad->flags & F_UP))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: user not present (flag UP)");
	if (rp->require_uv && !(ad->flags & F_UV))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: user not verified (flag UV)");
	if ((ad->flags & F_BS) && !(ad->flags & F_BE))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: flag BS without BE");
	return 0;
}

/* ---- keys in libfido2's form -------------------------------------------- */

static void
key_free(int alg, void **key)
{
	if (alg == COSE_ES256)
		es256_pk_free((es256_pk_t **)key);
	else if (alg == COSE_EDDSA)
		eddsa_pk_free((eddsa_pk_t **)key);
	else if (alg == COSE_RS256)
		rs256_pk_free((rs256_pk_t **)key);
	*key = NULL;
}

/* The key of COSE alg in the bytes fido_cred_pubkey_ptr gives (es256: x ||
 * y, checked to be on the curve; eddsa: 32 bytes; rs256: n || e), or NULL;
 * free it with key_free. */
static void *
key_from(int alg, const unsigned char *p, size_t n)
{
	void *key = NULL;
	int r = FIDO_ERR_INVALID_ARGUMENT;

	if (alg == COSE_ES256 && (key = es256_pk_new()) != NULL)
		r = es256_pk_from_ptr(key, p, n);
	else if (alg == COSE_EDDSA && (key = eddsa_pk_new()) != NULL)
		r = eddsa_pk_from_ptr(key, p, n);
	else if (alg == COSE_RS256 && (key = rs256_pk_new()) != NULL)
		r = rs256_pk_from_ptr(key, p, n);
	if (r != FIDO_OK)
		key_free(alg, &key);
	return key;
}

/* ---- registration (7.1) ----------------------------------------------- */

/* The pieces of an attestation object (a map of exactly fmt, attStmt and
 * authData); they point into *top_r (release with cbor_decref). */
struct attobj {
	cbor_item_t *top;
	char fmt[16];
	const cbor_item_t *stmt;
	const unsigned char *ad;
	size_t ad_len;
};

static int
parse_attobj(const unsigned char *p, size_t n, struct attobj *ao,
	     struct rv_err *err)
{
	const cbor_item_t *fmt;
	size_t used = 0;

	memset(ao, 0, sizeof(*ao));
	ao->top = cbor_one(p, n, &used);
	if (ao->top == NULL || used != n)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: attestationObject is not one CBOR item");
	if (!map_ok(ao->top) || cbor_map_size(ao->top) != 3)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: attestationObject is not a map of fmt, attStmt, authData");
	fmt = map_str(ao->top, "fmt");
	ao->stmt = map_str(ao->top, "attStmt");
	ao->ad = bytes_of(map_str(ao->top, "authData"), &ao->ad_len);
	if (fmt == NULL || !cbor_isa_string(fmt) ||
	    !cbor_string_is_definite(fmt) ||
	    cbor_string_length(fmt) >= sizeof(ao->fmt) ||
	    ao->stmt == NULL || !map_ok(ao->stmt) || ao->ad == NULL)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: attestationObject is not a map of fmt, attStmt, authData");
	if (ao->ad_len > MAX_AUTH_DATA)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: authData too long");
	memcpy(ao->fmt, cbor_string_handle(fmt), cbor_string_length(fmt));
	ao->fmt[cbor_string_length(fmt)] = '\0';
	return 0;
}

/*
 * The attestation statement (8.2 packed, 8.7 none) through libfido2: the
 * authData (again: libfido2 decodes the key into its own form), the
 * clientDataHash, and for packed alg and sig, with x5c the leaf certificate
 * (fido_cred_verify) or without it the credential key (self attestation,
 * fido_cred_verify_self).
 */
static int
check_statement(const struct rv_webauthn_rp *rp, const struct attobj *ao,
		const struct authdata *ad, const unsigned char cdh[32],
		fido_cred_t *fc, struct rv_err *err)
{
	const cbor_item_t *alg, *sig, *x5c;
	const unsigned char *sp, *xp = NULL;
	size_t slen, xlen = 0;
	int r;

	if (fido_cred_set_type(fc, ad->alg) != FIDO_OK ||
	    fido_cred_set_rp(fc, rp->rp_id, rp->rp_name) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(fc, cdh, 32) != FIDO_OK ||
	    fido_cred_set_authdata_raw(fc, ao->ad, ao->ad_len) != FIDO_OK ||
	    fido_cred_set_uv(fc, rp->require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: libfido2 refused the authenticator data");
	if (fido_cred_set_extensions(fc, ad->ext & ~FIDO_EXT_CRED_PROTECT) != FIDO_OK ||
	    (ad->prot != 0 && fido_cred_set_prot(fc, ad->prot) != FIDO_OK))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: extensions refused");
	if (strcmp(ao->fmt, "none") == 0) {
		if (cbor_map_size(ao->stmt) != 0)
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: attestation 'none' with a statement");
		return 0;
	}
	if (strcmp(ao->fmt, "packed") != 0)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: attestation format not supported");
	alg = map_str(ao->stmt, "alg");
	sig = map_str(ao->stmt, "sig");
	x5c = map_str(ao->stmt, "x5c");
	sp = bytes_of(sig, &slen);
	if (alg == NULL || !cbor_isa_negint(alg) || sp == NULL ||
	    slen == 0 || slen > MAX_SIG ||
	    cbor_map_size(ao->stmt) != (x5c != NULL ? 3u : 2u))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: packed statement malformed");
	if (x5c != NULL) {
		if (!cbor_isa_array(x5c) || !cbor_array_is_definite(x5c) ||
		    cbor_array_size(x5c) < 1 ||
		    (xp = bytes_of(cbor_array_handle(x5c)[0], &xlen)) == NULL ||
		    xlen == 0)
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: packed x5c malformed");
		if (cbor_get_int(alg) != (uint64_t)(-1 - COSE_ES256))
			return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: packed x5c alg not ES256");
	} else if (cbor_get_int(alg) > 1000 ||
		   -1 - (long)cbor_get_int(alg) != ad->alg) {
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: packed self attestation alg is not the key's");
	}
	if (fido_cred_set_fmt(fc, "packed") != FIDO_OK ||
	    fido_cred_set_sig(fc, sp, slen) != FIDO_OK ||
	    (xp != NULL && fido_cred_set_x509(fc, xp, xlen) != FIDO_OK))
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: libfido2 refused the statement");
	r = xp != NULL ? fido_cred_verify(fc) : fido_cred_verify_self(fc);
	if (r != FIDO_OK)
		return rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: attestation signature invalid (%s)",
				  fido_strerr(r));
	return 0;
}

static void
fill_aaguid(char out[37], const unsigned char *g)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[g[i] >> 4];
		out[o++] = hex[g[i] & 15];
	}
	out[o] = '\0';
}

/* response.transports: the known words, separated by spaces; NULL when
 * none (anything else is ignored: it is a hint, 5.8.4). */
static char *
transports_of(json_t *resp)
{
	static const char *const known[] = {
		"usb", "nfc", "ble", "smart-card", "hybrid", "internal", NULL
	};
	json_t *arr = json_object_get(resp, "transports"), *v;
	char buf[64];
	size_t i, k, len = 0;

	if (!json_is_array(arr))
		return NULL;
	buf[0] = '\0';
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		for (k = 0; s != NULL && known[k] != NULL; k++)
			if (strcmp(s, known[k]) == 0 &&
			    len + strlen(s) + 2 < sizeof(buf) &&
			    strstr(buf, s) == NULL) {
				len += (size_t)snprintf(buf + len, sizeof(buf) - len,
							"%s%s", len ? " " : "", s);
				break;
			}
	}
	return len ? rv_xstrdup(buf) : NULL;
}

int
rv_webauthn_register(const struct rv_webauthn_rp *rp,
		     const unsigned char *challenge, size_t clen,
		     json_t *payload, struct rv_webauthn_cred *cred_r,
		     struct rv_err *err)
{
	unsigned char *raw = NULL, *cd = NULL, *att = NULL, cdh[32];
	size_t raw_len = 0, cd_len = 0, att_len = 0;
	struct attobj ao = { 0 };
	struct authdata ad;
	fido_cred_t *fc = NULL;
	json_t *resp;
	void *key;
	int rc = -1;

	memset(cred_r, 0, sizeof(*cred_r));
	if (envelope(payload, &raw, &raw_len, &resp, err) < 0 ||
	    b64_member(resp, "clientDataJSON", MAX_CLIENT_DATA, &cd, &cd_len, err) < 0 ||
	    check_client_data(rp, "webauthn.create", challenge, clen, cd, cd_len, err) < 0 ||
	    b64_member(resp, "attestationObject", MAX_ATT_OBJ, &att, &att_len, err) < 0 ||
	    parse_attobj(att, att_len, &ao, err) < 0 ||
	    parse_authdata(ao.ad, ao.ad_len, true, &ad, err) < 0 ||
	    check_rp_flags(rp, &ad, err) < 0)
		goto out;
	if (ad.cred_id_len != raw_len || memcmp(ad.cred_id, raw, raw_len) != 0) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: credential id is not rawId");
		goto out;
	}
	rv_sha256(cd, cd_len, cdh);
	if ((fc = fido_cred_new()) == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "webauthn: fido_cred_new failed");
		goto out;
	}
	if (check_statement(rp, &ao, &ad, cdh, fc, err) < 0)
		goto out;
	/* stored only if it can be read back (a point off the curve would
	 * otherwise fail every later assertion) */
	key = fido_cred_pubkey_ptr(fc) == NULL ? NULL :
	      key_from(ad.alg, fido_cred_pubkey_ptr(fc), fido_cred_pubkey_len(fc));
	if (key == NULL) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: public key unusable");
		goto out;
	}
	key_free(ad.alg, &key);
	cred_r->cred_id = b64url(raw, raw_len);
	cred_r->cose_alg = ad.alg;
	cred_r->public_key = b64url(fido_cred_pubkey_ptr(fc),
				    fido_cred_pubkey_len(fc));
	cred_r->sign_count = ad.count;
	fill_aaguid(cred_r->aaguid, ad.aaguid);
	cred_r->transports = transports_of(resp);
	cred_r->backup_eligible = (ad.flags & F_BE) != 0;
	cred_r->backed_up = (ad.flags & F_BS) != 0;
	rc = 0;
out:
	fido_cred_free(&fc);
	if (ao.top != NULL)
		cbor_decref(&ao.top);
	free(raw);
	free(cd);
	free(att);
	return rc;
}

/* ---- assertion (7.2) ---------------------------------------------------- */

/* The signature under the stored key, by libfido2 (its own checks of
 * rpIdHash and flags repeat ours). */
static int
check_signature(const struct rv_webauthn_rp *rp,
		const struct rv_webauthn_cred *cred, const unsigned char *adp,
		size_t ad_len, const unsigned char cdh[32],
		const unsigned char *sig, size_t sig_len, struct rv_err *err)
{
	unsigned char pk[600];
	size_t pk_len = 0;
	fido_assert_t *fa = NULL;
	void *key;
	int r, rc = -1;

	if (cred->public_key == NULL ||
	    rv_b64_decode(cred->public_key, strlen(cred->public_key), RV_B64_URL,
			  RV_B64_PAD_OPT, pk, sizeof(pk), &pk_len) < 0 ||
	    (key = key_from(cred->cose_alg, pk, pk_len)) == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "webauthn: stored public key (alg %d) unusable",
				  cred->cose_alg);
	if ((fa = fido_assert_new()) == NULL ||
	    fido_assert_set_count(fa, 1) != FIDO_OK ||
	    fido_assert_set_rp(fa, rp->rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(fa, cdh, 32) != FIDO_OK ||
	    fido_assert_set_authdata_raw(fa, 0, adp, ad_len) != FIDO_OK ||
	    fido_assert_set_sig(fa, 0, sig, sig_len) != FIDO_OK ||
	    fido_assert_set_up(fa, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(fa, rp->require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: libfido2 refused the assertion");
		goto out;
	}
	r = fido_assert_verify(fa, 0, cred->cose_alg, key);
	if (r != FIDO_OK) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: signature invalid (%s)", fido_strerr(r));
		goto out;
	}
	rc = 0;
out:
	fido_assert_free(&fa);
	key_free(cred->cose_alg, &key);
	return rc;
}

/* Whether the stored id (base64url) decodes to raw. */
static bool
same_id(const struct rv_webauthn_cred *cred, const unsigned char *raw,
	size_t raw_len)
{
	unsigned char id[MAX_CRED_ID];
	size_t len;

	return cred->cred_id != NULL &&
	       rv_b64_decode(cred->cred_id, strlen(cred->cred_id), RV_B64_URL,
			     RV_B64_PAD_OPT, id, sizeof(id), &len) == 0 &&
	       len == raw_len && memcmp(id, raw, len) == 0;
}

int
rv_webauthn_assert(const struct rv_webauthn_rp *rp,
		   const unsigned char *challenge, size_t clen,
		   json_t *payload, const struct rv_webauthn_cred *cred,
		   unsigned long *count_r, bool *clone_r, struct rv_err *err)
{
	unsigned char *raw = NULL, *cd = NULL, *adp = NULL, *sig = NULL, cdh[32];
	size_t raw_len = 0, cd_len = 0, ad_len = 0, sig_len = 0;
	struct authdata ad;
	json_t *resp;
	int rc = -1;

	*clone_r = false;
	*count_r = cred->sign_count;
	if (envelope(payload, &raw, &raw_len, &resp, err) < 0)
		goto out;
	/* 7.2 step 5: the credential is the one asked for */
	if (!same_id(cred, raw, raw_len)) {
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: credential id is not the stored one");
		goto out;
	}
	if (b64_member(resp, "clientDataJSON", MAX_CLIENT_DATA, &cd, &cd_len, err) < 0 ||
	    check_client_data(rp, "webauthn.get", challenge, clen, cd, cd_len, err) < 0 ||
	    b64_member(resp, "authenticatorData", MAX_AUTH_DATA, &adp, &ad_len, err) < 0 ||
	    parse_authdata(adp, ad_len, false, &ad, err) < 0 ||
	    check_rp_flags(rp, &ad, err) < 0 ||
	    b64_member(resp, "signature", MAX_SIG, &sig, &sig_len, err) < 0)
		goto out;
	rv_sha256(cd, cd_len, cdh);
	if (check_signature(rp, cred, adp, ad_len, cdh, sig, sig_len, err) < 0)
		goto out;
	/* 7.2 step 21: a count that does not go up means two copies of the
	 * key (0 and 0: an authenticator without a counter) */
	if ((ad.count != 0 || cred->sign_count != 0) &&
	    ad.count <= cred->sign_count) {
		*clone_r = true;
		rv_err_set(err, "session.mfa.webauthn_verification_failed", "webauthn: sign count %lu not above the stored %lu (cloned authenticator?)",
			   ad.count, cred->sign_count);
		goto out;
	}
	*count_r = ad.count;
	rc = 0;
out:
	free(raw);
	free(cd);
	free(adp);
	free(sig);
	return rc;
}
