/* rv-pw-argon2.c: argon2i, argon2d, argon2id PHC strings (libargon2);
 * Logto stores argon2i, so its users import as they are */
#include "config.h"
#include "rv-pw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <argon2.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define B64_MAX 128		/* longest salt or hash we decode ourselves */

/*
 * The memory of a verify: one buffer per process, kept between requests
 * while they come (given back after a few idle seconds: argon2_idle), so
 * that a busy FastCGI worker does not map, fault in and unmap
 * 19-64 MiB per request (measured: t=3 m=64 MiB 456 -> 254 ms, t=2 m=19
 * MiB about 10% less; bench/hash-bench). It is made on the first verify
 * (an idle worker stays small), pre-faulted (MAP_POPULATE), kept out of
 * core dumps, grown for a bigger hash (never above <password
 * max-argon2-memory>, checked before), and wiped after every use
 * (libargon2 wipes it too, unless its global flag says otherwise).
 */
static uint8_t *pool;
static size_t pool_len;

/* the buffer back to the system (wiped after its last use already): an
 * idle password worker is as small as the others (doc/performance.md) */
static void
argon2_idle(void)
{
	if (pool != NULL)
		munmap(pool, pool_len);
	pool = NULL;
	pool_len = 0;
}

static int
pool_alloc(uint8_t **memory, size_t bytes)
{
	if (bytes > pool_len) {
		if (pool != NULL)
			munmap(pool, pool_len);
		pool = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (pool == MAP_FAILED) {
			pool = NULL;
			pool_len = 0;
			return ARGON2_MEMORY_ALLOCATION_ERROR;
		}
		pool_len = bytes;
		rv_on_idle(argon2_idle);
#ifdef MADV_DONTDUMP
		(void)madvise(pool, pool_len, MADV_DONTDUMP);
#endif
	}
	*memory = pool;
	return ARGON2_OK;
}

static void
pool_free(uint8_t *memory, size_t bytes)
{
	rv_wipe(memory, bytes);
}


/* base64 without padding (PHC strings), n characters of s into out;
 * the decoded length, or -1 */
static int
b64_decode(const char *s, size_t n, uint8_t *out, size_t max)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t i, len = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		const char *c = s[i] != '\0' ? strchr(alpha, s[i]) : NULL;

		if (c == NULL)
			return -1;
		acc = acc << 6 | (uint32_t)(c - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len == max)
				return -1;
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	/* the unused low bits must be zero (canonical encoding) */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (int)len;
}

/*
 * Verifies hash (already checked by params()) with the kept buffer: 1
 * match, 0 mismatch, -2 when the string is not in the plain form
 * "$argon2X$[v=N$]m=M,t=T,p=P$salt$hash" (the caller then lets
 * libargon2 decode it), else -1 with err.
 */
/* libargon2's answer: 1 match, 0 mismatch, -1 with err otherwise */
static int
verdict(int rc, struct rv_err *err)
{
	if (rc == ARGON2_OK)
		return 1;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 0;
	return rv_err_set(err, RV_E_INTERNAL, "argon2 hash: %s",
			  argon2_error_message(rc));
}

static int
verify_pooled(const char *password, size_t len, const char *hash,
	      argon2_type type, long m, long t, long p, struct rv_err *err)
{
	uint8_t salt[B64_MAX], want[B64_MAX], out[B64_MAX];
	const char *s, *h;
	argon2_context ctx;
	int saltlen, wantlen, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.version = strstr(hash, "$v=19$") != NULL ? ARGON2_VERSION_13 :
							ARGON2_VERSION_10;
	if ((s = strstr(hash, "$m=")) == NULL || (s = strchr(s + 1, '$')) == NULL ||
	    (h = strchr(s + 1, '$')) == NULL || strchr(h + 1, '$') != NULL)
		return -2;
	s++;
	h++;
	if ((saltlen = b64_decode(s, (size_t)(h - 1 - s), salt, sizeof(salt))) < 0 ||
	    (wantlen = b64_decode(h, strlen(h), want, sizeof(want))) < 0)
		return -2;
	ctx.out = out;
	ctx.outlen = (uint32_t)wantlen;
	ctx.pwd = (uint8_t *)(uintptr_t)password;
	ctx.pwdlen = (uint32_t)len;
	ctx.salt = salt;
	ctx.saltlen = (uint32_t)saltlen;
	ctx.t_cost = (uint32_t)t;
	ctx.m_cost = (uint32_t)m;
	ctx.lanes = ctx.threads = (uint32_t)p;
	ctx.allocate_cbk = pool_alloc;
	ctx.free_cbk = pool_free;
	ctx.flags = ARGON2_DEFAULT_FLAGS;
	rc = argon2_verify_ctx(&ctx, (const char *)want, type);
	rv_wipe(out, sizeof(out));
	return verdict(rc, err);
}

static bool
argon2_match(const char *h)
{
	return strncmp(h, "$argon2i$", 9) == 0 || strncmp(h, "$argon2d$", 9) == 0 ||
	       strncmp(h, "$argon2id$", 10) == 0;
}

/* "$argon2id$v=19$m=19456,t=2,p=1$salt$hash": the cost parameters, read
 * strictly before libargon2 is given the string */
static int
params(const char *h, long *m_r, long *t_r, long *p_r)
{
	const char *p = strstr(h, "$m=");
	char tail;

	/* the widths bound each number, the callers check the ranges */
	if (p == NULL ||
	    /* NOLINTNEXTLINE(cert-err34-c) */
	    sscanf(p, "$m=%9ld,t=%4ld,p=%4ld%c", m_r, t_r, p_r, &tail) != 4 ||
	    tail != '$')
		return -1;
	return 0;
}

static int
argon2_verify_hash(const char *password, size_t len, const char *hash,
		   const struct rv_conf *conf, struct rv_err *err)
{
	argon2_type type = strncmp(hash, "$argon2id$", 10) == 0 ? Argon2_id :
			   strncmp(hash, "$argon2i$", 9) == 0 ? Argon2_i : Argon2_d;
	long m, t, p;
	int rc;

	/* versions 1.0 (16) and 1.3 (19) only, and only those digits */
	if (strstr(hash, "$v=") != NULL && strstr(hash, "$v=19$") == NULL &&
	    strstr(hash, "$v=16$") == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "unknown argon2 version");
	if (params(hash, &m, &t, &p) < 0 || m < 8 || t < 1 || p < 1 || p > 16)
		return rv_err_set(err, RV_E_INTERNAL,
				  "malformed argon2 hash parameters");
	if (m > conf->pw_max_argon2_memory || t > conf->pw_max_argon2_time)
		return rv_err_set(err, RV_E_INTERNAL,
				  "argon2 hash over the cost caps (m=%ld, t=%ld)", m, t);
	if (len > UINT32_MAX)
		return rv_err_set(err, RV_E_INTERNAL, "password too long");
	rc = verify_pooled(password, len, hash, type, m, t, p, err);
	if (rc != -2)
		return rc;
	return verdict(argon2_verify(hash, password, len, type), err);
}

static int
argon2_new_hash(const char *password, size_t len, const struct rv_conf *conf,
		char **hash_r, struct rv_err *err)
{
	unsigned char salt[SALT_LEN];
	uint32_t m = (uint32_t)conf->pw_argon2_memory, t = (uint32_t)conf->pw_argon2_time,
		 p = (uint32_t)conf->pw_argon2_parallelism;
	size_t enclen;
	char *enc;
	int rc;

	if (rv_random_bytes(salt, sizeof(salt), err) < 0)
		return -1;
	enclen = argon2_encodedlen(t, m, p, SALT_LEN, HASH_LEN, Argon2_id);
	enc = rv_xmalloc(enclen);
	rc = argon2id_hash_encoded(t, m, p, password, len, salt, sizeof(salt),
				   HASH_LEN, enc, enclen);
	rv_wipe(salt, sizeof(salt));
	if (rc != ARGON2_OK) {
		free(enc);
		return rv_err_set(err, RV_E_INTERNAL, "argon2id: %s",
				  argon2_error_message(rc));
	}
	*hash_r = enc;
	return 0;
}

static bool
argon2_current(const char *hash, const struct rv_conf *conf)
{
	long m, t, p;

	return conf->pw_scheme == RV_PW_ARGON2ID &&
	       strncmp(hash, "$argon2id$v=19$", 15) == 0 &&
	       params(hash, &m, &t, &p) == 0 &&
	       m >= conf->pw_argon2_memory && t >= conf->pw_argon2_time &&
	       p >= conf->pw_argon2_parallelism;
}

const struct rv_pw_scheme rv_pw_argon2 = {
	"argon2", argon2_match, argon2_verify_hash, argon2_new_hash, argon2_current,
};
