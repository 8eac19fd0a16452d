/* authn-lib.h: a software WebAuthn authenticator for the tests
 *
 * Keys are made at run time with OpenSSL (P-256, Ed25519 or RSA-2048);
 * authenticatorData, the CBOR of the attestation object and of the COSE
 * key, clientDataJSON and the signatures are assembled here as an
 * authenticator and a browser would, and the JSON is what
 * @simplewebauthn/browser posts. Shared by t/helper/authenticator (the
 * e2e tests), t/unit/webauthn and the fuzz corpus.
 */
#ifndef AUTHN_LIB_H
#define AUTHN_LIB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "rv-buf.h"

#define AUTHN_UP 0x01
#define AUTHN_UV 0x04
#define AUTHN_BE 0x08
#define AUTHN_BS 0x10
#define AUTHN_AT 0x40
#define AUTHN_ED 0x80

struct authn {
	EVP_PKEY *key;
	int alg;			/* COSE: -7, -8 or -257 */
	unsigned char id[64];		/* the credential id */
	size_t id_len;
};

/* What one ceremony sends; authn_opts_init gives a correct one. */
struct authn_opts {
	const char *rp_id;		/* hashed into rpIdHash */
	const char *origin;		/* clientDataJSON origin */
	const char *type;		/* clientDataJSON type; NULL: the ceremony's */
	const char *challenge;		/* base64url, put into clientDataJSON as is */
	bool cross_origin;
	unsigned char flags;		/* UP, UV, BE, BS (AT is the ceremony's) */
	unsigned long count;
	const char *fmt;		/* "none", "packed", "packed-x5c", or any
					   other name, sent as is with an empty
					   statement */
	bool bad_sig;			/* sign other bytes than the right ones */
	const char *raw_id;		/* base64url sent as id and rawId instead
					   of the credential's */
};
void authn_opts_init(struct authn_opts *o);

/* A new credential: alg -7, -8 or -257, a random 32-byte id; 0 or -1. */
int authn_new(struct authn *a, int alg);
/* PEM private key at path, the id (base64url) at path.id. 0 or -1. */
int authn_save(const struct authn *a, const char *path);
int authn_load(struct authn *a, const char *path);
void authn_release(struct authn *a);

/* The pieces, for tests that take them apart: authenticatorData (with
 * attested credential data when at), clientDataJSON, the attestation
 * object around given authData. */
void authn_authdata(const struct authn *a, const struct authn_opts *o,
		    bool at, struct rv_buf *out);
void authn_client_data(const struct authn_opts *o, const char *type,
		       struct rv_buf *out);
int authn_attobj(const struct authn *a, const struct authn_opts *o,
		 const struct rv_buf *ad, const struct rv_buf *cd,
		 struct rv_buf *out);

/* RegistrationResponseJSON around clientDataJSON and an attestation object
 * as given; AuthenticationResponseJSON likewise. New references. */
json_t *authn_reg_json(const struct authn *a, const struct authn_opts *o,
		       const struct rv_buf *cd, const struct rv_buf *att,
		       const struct rv_buf *ad);
json_t *authn_get_json(const struct authn *a, const struct authn_opts *o,
		       const struct rv_buf *cd, const struct rv_buf *ad,
		       const struct rv_buf *sig);

/* Whole ceremonies: RegistrationResponseJSON (navigator.credentials.create)
 * and AuthenticationResponseJSON (.get); NULL when signing failed. */
json_t *authn_create(const struct authn *a, const struct authn_opts *o);
json_t *authn_get(const struct authn *a, const struct authn_opts *o);

/* The signature of ad || SHA-256(cd) with key (DER for ECDSA); 0 or -1. */
int authn_sign(EVP_PKEY *key, const struct rv_buf *ad, const struct rv_buf *cd,
	       bool bad, struct rv_buf *sig);

/* base64url without padding; caller must free() it. */
char *authn_b64(const void *p, size_t n);

/* CBOR (RFC 8949) by hand: a head (major type, value), an integer, a byte
 * or text string. */
void authn_cbor_head(struct rv_buf *b, unsigned int major, unsigned long long v);
void authn_cbor_int(struct rv_buf *b, long long v);
void authn_cbor_bytes(struct rv_buf *b, const void *p, size_t n);
void authn_cbor_text(struct rv_buf *b, const char *s);

#endif
