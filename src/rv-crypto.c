/* rv-crypto.c: OpenSSL wrappers: randomness, ids, constant-time compare */
#include "config.h"
#include "rv-crypto.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "rv-err.h"
#include "rv-util.h"

static const char id_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";

int
rv_random_bytes(void *buf, size_t n, struct rv_err *err)
{
	if (n > 0x7fffffff || RAND_bytes(buf, (int)n) != 1) {
		unsigned long e = ERR_get_error();
		char what[120];

		ERR_error_string_n(e, what, sizeof(what));
		ERR_clear_error();
		return rv_err_set(err, 500, RV_E_INTERNAL,
				  "RAND_bytes failed: %s", what);
	}
	return 0;
}

int
rv_random_id(char *out, size_t len, struct rv_err *err)
{
	unsigned char pool[64];
	size_t have = 0, used = 0, i = 0;

	/* 252 = 7 * 36: bytes >= 252 are dropped so every symbol has the
	 * same chance */
	while (i < len) {
		if (used == have) {
			if (rv_random_bytes(pool, sizeof(pool), err) < 0)
				return -1;
			have = sizeof(pool);
			used = 0;
		}
		if (pool[used] < 252)
			out[i++] = id_alphabet[pool[used] % 36];
		used++;
	}
	out[len] = '\0';
	rv_wipe(pool, sizeof(pool));
	return 0;
}

bool
rv_memeq_secret(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
