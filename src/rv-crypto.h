/* rv-crypto.h: OpenSSL wrappers: randomness, ids, constant-time compare */
#ifndef RV_CRYPTO_H
#define RV_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
/*
 * Reads a key file (the pepper, the audit key, the seal key): 64 hex
 * digits and maybe a newline, or exactly 32 raw bytes, into out[32]. It is
 * opened with O_NOFOLLOW and refused when not a regular file or its mode
 * has a bit of forbid (the message then ends "must not be " chmod_hint);
 * what names it in messages ("pepper file"), which name the path, never
 * the key. With create, a missing file is made (0600, a random key in
 * hex) when its directory exists. With missing_r non-NULL, a missing file
 * is no error: *missing_r is set and out is left alone. 0, or -1 with err
 * (500; 503 when missing). What was read is wiped.
 */
int rv_key_file_load(const char *path, const char *what, mode_t forbid,
		     const char *chmod_hint, bool create, bool *missing_r,
		     unsigned char out[32], struct rv_err *err);
/* Constant-time equality of two buffers of the same length (CRYPTO_memcmp). */
bool rv_memeq_secret(const void *a, const void *b, size_t n);

#endif
