/* rv-seal.c: secrets kept encrypted at rest: AES-256-GCM under a key file */
#include "config.h"
#include "rv-seal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

#define SEAL_PREFIX "v1."
#define NONCE_LEN 12		/* 96 bits: GCM's own size (SP 800-38D 8.2) */
#define TAG_LEN 16
/* one call's plaintext at most: sealed values are small secrets */
#define SEAL_MAX 4096

static void
free_wiped(unsigned char *p, size_t n)
{
	rv_wipe(p, n);
	free(p);
}

int
rv_seal_key_load(const char *path, bool create,
		 unsigned char key[RV_SEAL_KEY_LEN], struct rv_err *err)
{
	return rv_key_file_load(path, "seal key file", S_IRWXG | S_IRWXO,
				"readable or writable by group or others (chmod 600)",
				create, NULL, key, err);
}

/*
 * One AES-256-GCM pass: encrypts (enc) or decrypts n bytes of in into out
 * under key and nonce with aad; the tag is written (enc) or checked. 0, or
 * -1 (the tag did not match, or OpenSSL failed).
 */
static int
gcm(bool enc, const unsigned char *key, const unsigned char *nonce,
    const char *aad, const unsigned char *in, size_t n, unsigned char *out,
    unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, ok;

	ok = ctx != NULL &&
	     EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad,
			      (int)strlen(aad)) == 1 &&
	     (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1) &&
	     (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
					 tag) == 1) &&
	     EVP_CipherFinal_ex(ctx, out + n, &len) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
					  tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -1;
}

char *
rv_seal(const unsigned char key[RV_SEAL_KEY_LEN], const char *aad,
	const void *plain, size_t n, struct rv_err *err)
{
	size_t rawlen = NONCE_LEN + n + TAG_LEN, plen = strlen(SEAL_PREFIX);
	unsigned char *raw;
	char *out = NULL;

	if (n > SEAL_MAX) {
		rv_err_set(err, RV_E_INTERNAL, "cannot seal %zu bytes (at most %d)",
			   n, SEAL_MAX);
		return NULL;
	}
	raw = rv_xmalloc(rawlen);
	if (rv_random_bytes(raw, NONCE_LEN, err) < 0)
		goto done;
	if (gcm(true, key, raw, aad != NULL ? aad : "", plain, n,
		raw + NONCE_LEN, raw + NONCE_LEN + n) < 0) {
		rv_err_set(err, RV_E_INTERNAL, "AES-256-GCM encryption failed");
		goto done;
	}
	out = rv_xmalloc(plen + RV_B64_SIZE(rawlen));
	memcpy(out, SEAL_PREFIX, plen);
	rv_b64_encode(raw, rawlen, RV_B64_URL, false, out + plen);
done:
	free_wiped(raw, rawlen);
	return out;
}

long
rv_unseal(const unsigned char key[RV_SEAL_KEY_LEN], const char *aad,
	  const char *sealed, unsigned char *out, size_t outsize,
	  struct rv_err *err)
{
	size_t plen = strlen(SEAL_PREFIX), rawlen = 0, n, max;
	unsigned char *raw;
	int rc;

	rv_wipe(out, outsize);
	if (sealed == NULL || strncmp(sealed, SEAL_PREFIX, plen) != 0)
		return rv_err_set(err, RV_E_INTERNAL,
				  "the sealed value is not of version 1");
	n = strlen(sealed + plen);
	if (n >= RV_B64_SIZE(SEAL_MAX + NONCE_LEN + TAG_LEN))
		return rv_err_set(err, RV_E_INTERNAL,
				  "the sealed value is longer than any we make");
	max = n / 4 * 3 + 2;
	raw = rv_xmalloc(max);
	if (rv_b64_decode(sealed + plen, n, RV_B64_URL, RV_B64_PAD_NO, raw, max,
			  &rawlen) < 0 || rawlen < NONCE_LEN + TAG_LEN) {
		free_wiped(raw, max);
		return rv_err_set(err, RV_E_INTERNAL,
				  "the sealed value is malformed");
	}
	n = rawlen - NONCE_LEN - TAG_LEN;
	if (n > outsize)
		rc = rv_err_set(err, RV_E_INTERNAL,
				"the sealed value is longer than its buffer");
	else if (gcm(false, key, raw, aad != NULL ? aad : "", raw + NONCE_LEN,
		     n, out, raw + NONCE_LEN + n) < 0)
		rc = rv_err_set(err, RV_E_INTERNAL,
				"the sealed value does not open (another key or "
				"aad, or tampered)");
	else
		rc = (int)n;
	if (rc < 0)
		rv_wipe(out, outsize);
	free_wiped(raw, max);
	return rc;
}
