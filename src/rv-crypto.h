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
/* Constant-time equality of two buffers of the same length (CRYPTO_memcmp). */
bool rv_memeq_secret(const void *a, const void *b, size_t n);

#endif
