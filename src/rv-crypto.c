/* rv-crypto.c: OpenSSL wrappers: randomness, ids, constant-time compare,
 * key files */
#include "config.h"
#include "rv-crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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
		return rv_err_set(err, RV_E_INTERNAL,
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

void
rv_random_id_light(char *out, size_t len)
{
	unsigned char pool[64];
	size_t have = 0, used = 0, i = 0;

	while (i < len) {
		if (used == have) {
			ssize_t n = getrandom(pool, sizeof(pool), GRND_NONBLOCK);

			if (n <= 0) {
				if (rv_random_id(out, len, NULL) < 0)
					out[0] = '\0';
				return;
			}
			have = (size_t)n;
			used = 0;
		}
		if (pool[used] < 252)
			out[i++] = id_alphabet[pool[used] % 36];
		used++;
	}
	out[len] = '\0';
}

bool
rv_memeq_secret(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/*
 * A keyed HMAC-SHA256 context per key, kept for the process: the key
 * schedule and the digest lookup of EVP_MAC_init were most of the cost of
 * an HMAC, and a request makes several with the same one or two keys (the
 * pepper, the audit key). Each call uses the kept context and re-inits it
 * after the final (EVP_MAC_init without a key: the keyed start state is
 * copied back, and what the message left in it is freed with
 * OPENSSL_clear_free); a copy and a free per call were a third of an
 * HMAC (issue 17). Keys of at most 64 bytes, a few of them; another goes
 * the long way.
 */
#define HMAC_KEYS 4
#define HMAC_KEY_MAX 64

static struct {
	unsigned char key[HMAC_KEY_MAX];
	size_t klen;
	EVP_MAC_CTX *ctx;
} keyed[HMAC_KEYS];

static EVP_MAC_CTX *
hmac_new(const void *key, size_t klen)
{
	/* fetched once per process: a fetch is a provider lookup */
	static EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];

	if (mac == NULL)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	RV_ASSERT(mac != NULL);
	ctx = EVP_MAC_CTX_new(mac);
	RV_ASSERT(ctx != NULL);
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, klen, params) != 1)
		rv_bug(__FILE__, __LINE__, "HMAC-SHA256 init failed");
	return ctx;
}

/* the kept context of key, ready for a message; NULL: none kept */
static EVP_MAC_CTX *
hmac_kept(const void *key, size_t klen)
{
	int i, free_slot = -1;

	if (klen == 0 || klen > HMAC_KEY_MAX)
		return NULL;
	for (i = 0; i < HMAC_KEYS; i++) {
		if (keyed[i].ctx == NULL) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (keyed[i].klen == klen && rv_memeq_secret(keyed[i].key, key, klen))
			return keyed[i].ctx;
	}
	if (free_slot < 0)
		return NULL;
	keyed[free_slot].ctx = hmac_new(key, klen);
	memcpy(keyed[free_slot].key, key, klen);
	keyed[free_slot].klen = klen;
	return keyed[free_slot].ctx;
}

void
rv_hmac_forget(void)
{
	int i;

	for (i = 0; i < HMAC_KEYS; i++) {
		EVP_MAC_CTX_free(keyed[i].ctx);
		rv_wipe(keyed[i].key, sizeof(keyed[i].key));
		keyed[i].ctx = NULL;
		keyed[i].klen = 0;
	}
}

void
rv_hmac_sha256(const void *key, size_t klen, const void *a, size_t alen,
	       const void *b, size_t blen, unsigned char out[32])
{
	EVP_MAC_CTX *kept = hmac_kept(key, klen);
	EVP_MAC_CTX *ctx = kept != NULL ? kept : hmac_new(key, klen);
	size_t outlen = 0;

	if (EVP_MAC_update(ctx, a, alen) != 1 ||
	    (blen > 0 && EVP_MAC_update(ctx, b, blen) != 1) ||
	    EVP_MAC_final(ctx, out, &outlen, 32) != 1 || outlen != 32)
		rv_bug(__FILE__, __LINE__, "HMAC-SHA256 failed");
	if (ctx != kept)
		EVP_MAC_CTX_free(ctx);
	else if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1)
		rv_bug(__FILE__, __LINE__, "HMAC-SHA256 re-init failed");
}

void
rv_sha256(const void *data, size_t n, unsigned char out[32])
{
	/* fetched once per process, one context reused: EVP_Digest with
	 * EVP_sha256() looks the digest up and makes a context each time,
	 * a quarter of its cost on a bearer token */
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;
	unsigned int len = 0;

	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (ctx == NULL)
		ctx = EVP_MD_CTX_new();
	if (md == NULL || ctx == NULL || EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, data, n) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != 32)
		rv_bug(__FILE__, __LINE__, "SHA-256 failed");
}

void
rv_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int
rv_unhex(const char *hex, unsigned char *out, size_t n)
{
	size_t i;

	if (strlen(hex) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = rv_hexdigit(hex[2 * i]), lo = rv_hexdigit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* with create, a file is made only in a directory that exists (an audit
 * key whose directory is gone is reported missing, not unwritable) */
static bool
dir_exists(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat sb;
	char *dir;
	int rc;

	if (slash == NULL || slash == path)
		return true;
	dir = rv_xasprintf("%.*s", (int)(slash - path), path);
	rc = stat(dir, &sb);
	free(dir);
	return rc == 0;
}

static int
key_file_create(const char *path, const char *what, struct rv_err *err)
{
	unsigned char key[32];
	char hex[2 * sizeof(key) + 2];
	ssize_t len = (ssize_t)sizeof(hex) - 1;
	int fd, e;

	if (rv_random_bytes(key, sizeof(key), err) < 0)
		return -1;
	rv_hex(key, sizeof(key), hex);
	rv_wipe(key, sizeof(key));
	hex[len - 1] = '\n';
	hex[len] = '\0';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && write(fd, hex, (size_t)len) == len && fsync(fd) == 0) {
		rv_wipe(hex, sizeof(hex));
		close(fd);
		return 0;
	}
	e = errno;
	rv_wipe(hex, sizeof(hex));
	if (fd >= 0)
		close(fd);
	return rv_err_set(err, RV_E_INTERNAL, "cannot write the %s '%s': %s",
			  what, path, strerror(e));
}

int
rv_key_file_load(const char *path, const char *what, mode_t forbid,
		 const char *chmod_hint, bool create, bool *missing_r,
		 unsigned char out[32], struct rv_err *err)
{
	char buf[80];
	struct stat sb;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && create && dir_exists(path)) {
		if (key_file_create(path, what, err) < 0)
			return -1;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0 && errno == ENOENT && missing_r != NULL) {
		*missing_r = true;
		return 0;
	}
	if (fd < 0)
		return rv_err_set(err, RV_E_UNAVAILABLE,
				  "cannot open the %s '%s': %s%s", what, path,
				  strerror(errno),
				  errno == ENOENT ? " (run reverify-admin init)" : "");
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & forbid)) {
		close(fd);
		return rv_err_set(err, RV_E_INTERNAL, "the %s '%s' must not be %s",
				  what, path, chmod_hint);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == 32) {
		memcpy(out, buf, 32);	/* raw (64 hex digits are longer) */
	} else {
		if (n < 0)
			n = 0;
		buf[n] = '\0';
		if (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		if (rv_unhex(buf, out, 32) < 0)
			rc = rv_err_set(err, RV_E_INTERNAL,
					"the %s '%s' must hold 64 hex digits "
					"(or 32 bytes)", what, path);
	}
	rv_wipe(buf, sizeof(buf));
	return rc;
}
