/* rv-seal.h: secrets kept encrypted at rest (TOTP secrets): AES-256-GCM
 * under a key file outside the store, like the pepper (issue 20) */
#ifndef RV_SEAL_H
#define RV_SEAL_H

#include <stdbool.h>
#include <stddef.h>

struct rv_err;

#define RV_SEAL_KEY_LEN 32

/*
 * Reads the key file at path: 32 bytes of key, or 64 hex digits (with an
 * optional newline), as the pepper file is kept. A file readable or
 * writable by group or others is refused (500, "chmod 600"), like the
 * pepper. With create, a missing file is made (mode 0600, 32 random
 * bytes as hex) when its directory exists. 0, or -1 with err (500; 503
 * when missing; the message names the path, never the key). The reader is
 * the store's, rv_key_file_load (rv-crypto.h).
 */
int rv_seal_key_load(const char *path, bool create,
		     unsigned char key[RV_SEAL_KEY_LEN], struct rv_err *err);

/*
 * Encrypts n bytes with AES-256-GCM under key, a fresh random 96-bit
 * nonce per call, and aad (a NUL-terminated string, e.g. "totp" || user
 * id || factor id: a sealed secret copied to another user or factor does
 * not open) authenticated: "v1." then base64url without padding of
 * nonce || ciphertext || 16-byte tag. malloc'd, or NULL with err (500).
 */
char *rv_seal(const unsigned char key[RV_SEAL_KEY_LEN], const char *aad,
	      const void *plain, size_t n, struct rv_err *err);
/*
 * Opens what rv_seal made into out[outsize]: the plaintext length, or -1
 * with err (500: wrong key, another aad, tampered, malformed or too long
 * for out; the message says which, never the plaintext). out is wiped on
 * failure.
 */
long rv_unseal(const unsigned char key[RV_SEAL_KEY_LEN], const char *aad,
	       const char *sealed, unsigned char *out, size_t outsize,
	       struct rv_err *err);

#endif
