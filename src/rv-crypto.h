/* rv-crypto.h: OpenSSL wrappers: randomness, ids, constant-time compare */
#ifndef RV_CRYPTO_H
#define RV_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

struct rv_err;

/* RAND_bytes; -1 (err set, 500) when the generator fails. */
int rv_random_bytes(void *buf, size_t n, struct rv_err *err);
/*
 * Writes len characters of [0-9a-z] and a NUL into out (size len + 1), each
 * uniform by rejection sampling (no modulo bias): the record id format of
 * logto-spec 3.3 when len is 21.
 */
int rv_random_id(char *out, size_t len, struct rv_err *err);
/* HMAC-SHA256 over a || b (b may be NULL with blen 0) into out[32]. The
 * keyed state of the few keys used most is kept for the process and
 * reset after each call (much cheaper than keying anew); rv_hmac_forget()
 * drops and wipes it (rv_store_close calls it). */
void rv_hmac_sha256(const void *key, size_t klen, const void *a, size_t alen,
		    const void *b, size_t blen, unsigned char out[32]);
void rv_hmac_forget(void);
/* SHA-256 of data into out[32]. */
void rv_sha256(const void *data, size_t n, unsigned char out[32]);
/* Lowercase hex of n bytes into out (2n + 1 bytes with the NUL). */
void rv_hex(const unsigned char *in, size_t n, char *out);
/* Exactly 2n hex digits into n bytes; 0 ok, -1 malformed. */
int rv_unhex(const char *hex, unsigned char *out, size_t n);
/* Like rv_random_id, from getrandom(2) instead of OpenSSL's DRBG, for ids
 * that are not secrets (request ids): a CGI request that needs no other
 * randomness then does not pay for instantiating the DRBG (a third of a
 * CGI start). Never fails: falls back to rv_random_id. */
void rv_random_id_light(char *out, size_t len);
/* Constant-time equality of two buffers of the same length (CRYPTO_memcmp). */
bool rv_memeq_secret(const void *a, const void *b, size_t n);

#endif
