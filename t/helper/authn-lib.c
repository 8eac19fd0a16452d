/* authn-lib.c: a software WebAuthn authenticator for the tests (see the
 * header) */
#include "config.h"
#include "authn-lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "rv-crypto.h"
#include "rv-util.h"

void
authn_opts_init(struct authn_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rp_id = "localhost";
	o->origin = "http://localhost";
	o->flags = AUTHN_UP | AUTHN_UV;
	o->fmt = "none";
}

/* ---- CBOR -------------------------------------------------------------- */

void
authn_cbor_head(struct rv_buf *b, unsigned int major, unsigned long long v)
{
	unsigned char h[9];
	size_t n, i;

	if (v < 24) {
		h[0] = (unsigned char)(major << 5 | v);
		n = 1;
	} else {
		unsigned int ai = v <= 0xff ? 24 : v <= 0xffff ? 25 :
				  v <= 0xffffffffULL ? 26 : 27;

		n = (size_t)1 << (ai - 24);
		h[0] = (unsigned char)(major << 5 | ai);
		for (i = 0; i < n; i++)
			h[n - i] = (unsigned char)(v >> (8 * i));
		n++;
	}
	rv_buf_add(b, h, n);
}

void
authn_cbor_int(struct rv_buf *b, long long v)
{
	if (v >= 0)
		authn_cbor_head(b, 0, (unsigned long long)v);
	else
		authn_cbor_head(b, 1, (unsigned long long)(-1 - v));
}

void
authn_cbor_bytes(struct rv_buf *b, const void *p, size_t n)
{
	authn_cbor_head(b, 2, n);
	rv_buf_add(b, p, n);
}

void
authn_cbor_text(struct rv_buf *b, const char *s)
{
	authn_cbor_head(b, 3, strlen(s));
	rv_buf_addstr(b, s);
}

/* ---- keys -------------------------------------------------------------- */

int
authn_new(struct authn *a, int alg)
{
	memset(a, 0, sizeof(*a));
	a->alg = alg;
	if (alg == -7)
		a->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (alg == -8)
		a->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (alg == -257)
		a->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	a->id_len = 32;
	if (a->key == NULL || RAND_bytes(a->id, (int)a->id_len) != 1)
		return -1;
	return 0;
}

void
authn_release(struct authn *a)
{
	EVP_PKEY_free(a->key);
	memset(a, 0, sizeof(*a));
}

int
authn_save(const struct authn *a, const char *path)
{
	char *idpath = rv_xasprintf("%s.id", path);
	char *id = authn_b64(a->id, a->id_len);
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "w")) != NULL) {
		rc = PEM_write_PrivateKey(f, a->key, NULL, NULL, 0, NULL, NULL) == 1 ? 0 : -1;
		if (fclose(f) != 0)
			rc = -1;
	}
	if (rc == 0 && (f = fopen(idpath, "w")) != NULL) {
		fprintf(f, "%s\n", id);
		rc = fclose(f) != 0 ? -1 : 0;
	} else {
		rc = -1;
	}
	free(id);
	free(idpath);
	return rc;
}

int
authn_load(struct authn *a, const char *path)
{
	char *idpath = rv_xasprintf("%s.id", path), line[200];
	FILE *f;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	if ((f = fopen(path, "r")) != NULL) {
		a->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (a->key != NULL && (f = fopen(idpath, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (rv_b64_decode(line, strlen(line), RV_B64_URL, RV_B64_PAD_OPT,
					  a->id, sizeof(a->id), &a->id_len) == 0)
				rc = 0;
		}
		fclose(f);
	}
	free(idpath);
	if (rc == 0) {
		if (EVP_PKEY_is_a(a->key, "EC"))
			a->alg = -7;
		else if (EVP_PKEY_is_a(a->key, "ED25519"))
			a->alg = -8;
		else if (EVP_PKEY_is_a(a->key, "RSA"))
			a->alg = -257;
		else
			rc = -1;
	}
	return rc;
}

/* A big number parameter into a fixed width, big-endian. */
static void
bn_param(EVP_PKEY *key, const char *name, unsigned char *out, size_t n)
{
	BIGNUM *bn = NULL;

	memset(out, 0, n);
	if (EVP_PKEY_get_bn_param(key, name, &bn) == 1)
		BN_bn2binpad(bn, out, (int)n);
	BN_free(bn);
}

/* The COSE_Key (RFC 8152 13, RFC 8230, RFC 8812) in CTAP2's canonical
 * order. */
static void
cose_key(const struct authn *a, struct rv_buf *b)
{
	unsigned char pub[300];
	size_t len = 0;

	if (a->alg == -7) {
		EVP_PKEY_get_octet_string_param(a->key, OSSL_PKEY_PARAM_PUB_KEY,
						pub, sizeof(pub), &len);
		authn_cbor_head(b, 5, 5);
		authn_cbor_int(b, 1);
		authn_cbor_int(b, 2);		/* kty EC2 */
		authn_cbor_int(b, 3);
		authn_cbor_int(b, -7);
		authn_cbor_int(b, -1);
		authn_cbor_int(b, 1);		/* crv P-256 */
		authn_cbor_int(b, -2);
		authn_cbor_bytes(b, pub + 1, 32);	/* after 0x04 */
		authn_cbor_int(b, -3);
		authn_cbor_bytes(b, pub + 33, 32);
	} else if (a->alg == -8) {
		EVP_PKEY_get_raw_public_key(a->key, pub, &(size_t){ 32 });
		authn_cbor_head(b, 5, 4);
		authn_cbor_int(b, 1);
		authn_cbor_int(b, 1);		/* kty OKP */
		authn_cbor_int(b, 3);
		authn_cbor_int(b, -8);
		authn_cbor_int(b, -1);
		authn_cbor_int(b, 6);		/* crv Ed25519 */
		authn_cbor_int(b, -2);
		authn_cbor_bytes(b, pub, 32);
	} else {
		bn_param(a->key, OSSL_PKEY_PARAM_RSA_N, pub, 256);
		bn_param(a->key, OSSL_PKEY_PARAM_RSA_E, pub + 256, 3);
		authn_cbor_head(b, 5, 4);
		authn_cbor_int(b, 1);
		authn_cbor_int(b, 3);		/* kty RSA */
		authn_cbor_int(b, 3);
		authn_cbor_int(b, -257);
		authn_cbor_int(b, -1);
		authn_cbor_bytes(b, pub, 256);
		authn_cbor_int(b, -2);
		authn_cbor_bytes(b, pub + 256, 3);
	}
}

/* ---- the pieces ------------------------------------------------------- */

void
authn_authdata(const struct authn *a, const struct authn_opts *o, bool at,
	       struct rv_buf *out)
{
	unsigned char h[32], fixed[5];
	static const unsigned char aaguid[16] = {
		0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a,
		0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0, 0x55, 0x03
	};

	rv_sha256(o->rp_id, strlen(o->rp_id), h);
	rv_buf_add(out, h, sizeof(h));
	fixed[0] = (unsigned char)(o->flags | (at ? AUTHN_AT : 0));
	fixed[1] = (unsigned char)(o->count >> 24);
	fixed[2] = (unsigned char)(o->count >> 16);
	fixed[3] = (unsigned char)(o->count >> 8);
	fixed[4] = (unsigned char)o->count;
	rv_buf_add(out, fixed, sizeof(fixed));
	if (at) {
		unsigned char l[2] = { (unsigned char)(a->id_len >> 8),
				       (unsigned char)a->id_len };

		rv_buf_add(out, aaguid, sizeof(aaguid));
		rv_buf_add(out, l, 2);
		rv_buf_add(out, a->id, a->id_len);
		cose_key(a, out);
	}
}

void
authn_client_data(const struct authn_opts *o, const char *type,
		  struct rv_buf *out)
{
	rv_buf_addf(out, "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\","
		    "\"crossOrigin\":%s}", o->type != NULL ? o->type : type,
		    o->challenge != NULL ? o->challenge : "",
		    o->origin, o->cross_origin ? "true" : "false");
}

int
authn_sign(EVP_PKEY *key, const struct rv_buf *ad, const struct rv_buf *cd,
	   bool bad, struct rv_buf *sig)
{
	struct rv_buf msg = RV_BUF_INIT;
	unsigned char h[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 0;
	int rc = -1;

	rv_sha256(cd->buf, cd->len, h);
	rv_buf_add(&msg, ad->buf, ad->len);
	rv_buf_add(&msg, h, sizeof(h));
	if (bad)
		msg.buf[0] ^= 1;
	if (ctx != NULL &&
	    EVP_DigestSignInit(ctx, NULL, EVP_PKEY_is_a(key, "ED25519") ? NULL :
			       EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(ctx, NULL, &len, (unsigned char *)msg.buf, msg.len) == 1) {
		rv_buf_grow(sig, len);
		if (EVP_DigestSign(ctx, (unsigned char *)sig->buf + sig->len, &len,
				   (unsigned char *)msg.buf, msg.len) == 1) {
			sig->len += len;
			sig->buf[sig->len] = '\0';
			rc = 0;
		}
	}
	EVP_MD_CTX_free(ctx);
	rv_buf_release(&msg);
	return rc;
}

/* A self-signed certificate for an attestation key: the leaf of x5c. */
static int
att_cert(EVP_PKEY *key, struct rv_buf *der)
{
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char *p = NULL;
	int n = -1;

	if (x == NULL)
		return -1;
	name = X509_get_subject_name(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"reverify test attestation", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	if (X509_set_pubkey(x, key) == 1 && X509_sign(x, key, EVP_sha256()) > 0)
		n = i2d_X509(x, &p);
	X509_free(x);
	if (n <= 0)
		return -1;
	rv_buf_add(der, p, (size_t)n);
	OPENSSL_free(p);
	return 0;
}

int
authn_attobj(const struct authn *a, const struct authn_opts *o,
	     const struct rv_buf *ad, const struct rv_buf *cd,
	     struct rv_buf *out)
{
	struct rv_buf sig = RV_BUF_INIT, cert = RV_BUF_INIT;
	bool packed = strcmp(o->fmt, "packed") == 0;
	bool x5c = strcmp(o->fmt, "packed-x5c") == 0;
	EVP_PKEY *ak = NULL;
	int rc = -1;

	if (x5c && ((ak = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
		    att_cert(ak, &cert) < 0))
		goto out;
	if ((packed || x5c) &&
	    authn_sign(x5c ? ak : a->key, ad, cd, o->bad_sig, &sig) < 0)
		goto out;
	/* canonical CTAP2 order: shorter keys first */
	authn_cbor_head(out, 5, 3);
	authn_cbor_text(out, "fmt");
	authn_cbor_text(out, packed || x5c ? "packed" : o->fmt);
	authn_cbor_text(out, "attStmt");
	if (packed || x5c) {
		authn_cbor_head(out, 5, x5c ? 3 : 2);
		authn_cbor_text(out, "alg");
		authn_cbor_int(out, x5c ? -7 : a->alg);
		authn_cbor_text(out, "sig");
		authn_cbor_bytes(out, sig.buf, sig.len);
		if (x5c) {
			authn_cbor_text(out, "x5c");
			authn_cbor_head(out, 4, 1);
			authn_cbor_bytes(out, cert.buf, cert.len);
		}
	} else {
		authn_cbor_head(out, 5, 0);
	}
	authn_cbor_text(out, "authData");
	authn_cbor_bytes(out, ad->buf, ad->len);
	rc = 0;
out:
	EVP_PKEY_free(ak);
	rv_buf_release(&sig);
	rv_buf_release(&cert);
	return rc;
}

/* ---- the JSON --------------------------------------------------------- */

char *
authn_b64(const void *p, size_t n)
{
	char *s = rv_xmalloc(RV_B64_SIZE(n));

	rv_b64_encode(p, n, RV_B64_URL, false, s);
	return s;
}

static json_t *
b64j(const void *p, size_t n)
{
	char *s = authn_b64(p, n);
	json_t *j = json_string(s);

	free(s);
	return j;
}

/* {id, rawId, type, response, clientExtensionResults,
 * authenticatorAttachment} around response */
static json_t *
envelope(const struct authn *a, const struct authn_opts *o, json_t *response)
{
	json_t *id = o->raw_id != NULL ? json_string(o->raw_id) :
			     b64j(a->id, a->id_len);

	return json_pack("{s:O, s:o, s:s, s:o, s:{}, s:s}", "id", id,
			 "rawId", id, "type", "public-key", "response", response,
			 "clientExtensionResults", "authenticatorAttachment",
			 "platform");
}

json_t *
authn_reg_json(const struct authn *a, const struct authn_opts *o,
	       const struct rv_buf *cd, const struct rv_buf *att,
	       const struct rv_buf *ad)
{
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(a->key, &spki);
	json_t *resp;

	resp = json_pack("{s:o, s:o, s:[s], s:i, s:o, s:o}",
			 "clientDataJSON", b64j(cd->buf, cd->len),
			 "attestationObject", b64j(att->buf, att->len),
			 "transports", "internal",
			 "publicKeyAlgorithm", a->alg,
			 "publicKey", b64j(spki, n > 0 ? (size_t)n : 0),
			 "authenticatorData", b64j(ad->buf, ad->len));
	OPENSSL_free(spki);
	return envelope(a, o, resp);
}

json_t *
authn_get_json(const struct authn *a, const struct authn_opts *o,
	       const struct rv_buf *cd, const struct rv_buf *ad,
	       const struct rv_buf *sig)
{
	return envelope(a, o, json_pack("{s:o, s:o, s:o}",
					"clientDataJSON", b64j(cd->buf, cd->len),
					"authenticatorData", b64j(ad->buf, ad->len),
					"signature", b64j(sig->buf, sig->len)));
}

/* create: the attestation object in out; get: the signature */
static json_t *
ceremony(const struct authn *a, const struct authn_opts *o, bool create)
{
	struct rv_buf ad = RV_BUF_INIT, cd = RV_BUF_INIT, out = RV_BUF_INIT;
	json_t *j = NULL;

	authn_authdata(a, o, create, &ad);
	authn_client_data(o, create ? "webauthn.create" : "webauthn.get", &cd);
	if (create && authn_attobj(a, o, &ad, &cd, &out) == 0)
		j = authn_reg_json(a, o, &cd, &out, &ad);
	else if (!create && authn_sign(a->key, &ad, &cd, o->bad_sig, &out) == 0)
		j = authn_get_json(a, o, &cd, &ad, &out);
	rv_buf_release(&ad);
	rv_buf_release(&cd);
	rv_buf_release(&out);
	return j;
}

json_t *
authn_create(const struct authn *a, const struct authn_opts *o)
{
	return ceremony(a, o, true);
}

json_t *
authn_get(const struct authn *a, const struct authn_opts *o)
{
	return ceremony(a, o, false);
}
