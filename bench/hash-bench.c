/* hash-bench.c: the raw cost of one password verify, without reverify's
 * pipeline: the reference of the bench's password scenarios
 *
 * Usage: bench/hash-bench argon2id T M_KIB [N]      (fresh and reused buffer)
 *        bench/hash-bench bcrypt COST [N]
 *        bench/hash-bench lib CONFIG [N]   (rv_password_verify of a hash
 *                                           of the configured scheme)
 * Prints one line per variant: "NAME median_ms min_ms max_ms".
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <argon2.h>
#include <crypt.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-password.h"

static const char pw[] = "correct horse battery staple";

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *name, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%s %.2f %.2f %.2f\n", name, t[n / 2], t[0], t[n - 1]);
	fflush(stdout);
}

/* the reused buffer: allocated and pre-faulted once, wiped after use */
static uint8_t *pool;
static size_t pool_len;

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
	}
	*memory = pool;
	return 0;
}

static void
pool_free(uint8_t *memory, size_t bytes)
{
	explicit_bzero(memory, bytes);
}

static int
argon2_run(uint32_t t, uint32_t m, bool reuse, const uint8_t *want)
{
	uint8_t out[32], salt[16];
	argon2_context ctx;

	memset(salt, 's', sizeof(salt));
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = out;
	ctx.outlen = sizeof(out);
	ctx.pwd = (uint8_t *)pw;
	ctx.pwdlen = sizeof(pw) - 1;
	ctx.salt = salt;
	ctx.saltlen = sizeof(salt);
	ctx.t_cost = t;
	ctx.m_cost = m;
	ctx.lanes = ctx.threads = 1;
	ctx.version = ARGON2_VERSION_13;
	if (reuse) {
		ctx.allocate_cbk = pool_alloc;
		ctx.free_cbk = pool_free;
	}
	if (want == NULL)
		return argon2_ctx(&ctx, Argon2_id);
	return argon2_verify_ctx(&ctx, (const char *)want, Argon2_id);
}

static int
bench_argon2(uint32_t t, uint32_t m, int n)
{
	uint8_t want[32], salt[16];
	double *fresh = calloc((size_t)n, sizeof(double));
	double *reused = calloc((size_t)n, sizeof(double));
	char name[64];
	int i, rc;

	memset(salt, 's', sizeof(salt));
	if (fresh == NULL || reused == NULL ||
	    argon2id_hash_raw(t, m, 1, pw, sizeof(pw) - 1, salt, sizeof(salt),
			      want, sizeof(want)) != ARGON2_OK)
		return 1;
	/* interleaved, so that both see the same machine */
	for (i = 0; i < n; i++) {
		double t0 = now_ms();

		rc = argon2_run(t, m, false, want);
		fresh[i] = now_ms() - t0;
		t0 = now_ms();
		rc |= argon2_run(t, m, true, want);
		reused[i] = now_ms() - t0;
		if (rc != ARGON2_OK) {
			fprintf(stderr, "hash-bench: argon2 verify failed\n");
			return 1;
		}
	}
	snprintf(name, sizeof(name), "argon2id-t%u-m%u-fresh", t, m);
	report(name, fresh, n);
	snprintf(name, sizeof(name), "argon2id-t%u-m%u-reused", t, m);
	report(name, reused, n);
	return 0;
}

static int
bench_bcrypt(int cost, int n)
{
	struct crypt_data cd;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], hash[CRYPT_OUTPUT_SIZE], name[64];
	double *t = calloc((size_t)n, sizeof(double));
	int i;

	if (t == NULL ||
	    crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting,
			     sizeof(setting)) == NULL) {
		free(t);
		return 1;
	}
	memset(&cd, 0, sizeof(cd));
	if (crypt_r(pw, setting, &cd) == NULL) {
		free(t);
		return 1;
	}
	snprintf(hash, sizeof(hash), "%s", cd.output);
	for (i = 0; i < n; i++) {
		double t0 = now_ms();
		const char *h = crypt_r(pw, hash, &cd);

		t[i] = now_ms() - t0;
		if (h == NULL || strcmp(h, hash) != 0) {
			free(t);
			return 1;
		}
	}
	snprintf(name, sizeof(name), "bcrypt-%d", cost);
	report(name, t, n);
	free(t);
	return 0;
}

/* the library's verify, as verification-password does it (argon2 buffer
 * reuse included), of a hash of CONFIG's scheme */
static int
bench_lib(const char *config, int n)
{
	struct rv_conf conf;
	struct rv_err err;
	double *t = calloc((size_t)n, sizeof(double));
	char *hash = NULL;
	int i;

	rv_err_init(&err);
	if (t == NULL || rv_conf_load(config, &conf, &err) < 0 ||
	    rv_password_hash(pw, sizeof(pw) - 1, &conf, &hash, &err) < 0) {
		fprintf(stderr, "hash-bench: %s\n", err.msg);
		return 1;
	}
	for (i = 0; i < n; i++) {
		double t0 = now_ms();
		int rc = rv_password_verify(pw, sizeof(pw) - 1, hash, &conf, &err);

		t[i] = now_ms() - t0;
		if (rc != 1) {
			fprintf(stderr, "hash-bench: verify gave %d: %s\n", rc, err.msg);
			return 1;
		}
	}
	report(rv_password_describe(hash), t, n);
	free(hash);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "argon2id") == 0)
		return bench_argon2((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]),
				    argc > 4 ? atoi(argv[4]) : 9);
	if (argc >= 3 && strcmp(argv[1], "bcrypt") == 0)
		return bench_bcrypt(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 9);
	if (argc >= 3 && strcmp(argv[1], "lib") == 0)
		return bench_lib(argv[2], argc > 3 ? atoi(argv[3]) : 9);
	fprintf(stderr, "usage: hash-bench argon2id T M_KIB [N] | bcrypt COST [N] | "
			"lib CONFIG [N]\n");
	return 2;
}
