/* pwned-bench.c: the cost of the breached-password index (rv-pwned.c):
 * building it, and one lookup as rv_pwpolicy_check() pays it (the stat()
 * that notices a new build, then the bisection of the mapped file)
 *
 * Usage: bench/pwned-bench [ENTRIES [LOOKUPS]]   (1000000 and 1000000)
 * Prints "pwned-build ENTRIES SECONDS", then "pwned-hit ENTRIES NS" and
 * "pwned-miss ENTRIES NS": nanoseconds per lookup, the median of 5 runs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-pwned.h"
#include "rv-util.h"

#define RUNS 5

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per lookup of n digests from keys (RV_PWNED_SHA1 bytes each), the
 * median of RUNS; *found_r counts the hits of the last run */
static double
time_lookups(struct rv_pwned *idx, const unsigned char *keys, unsigned long n,
	     unsigned long *found_r)
{
	double t[RUNS], t0;
	struct rv_err err;
	unsigned long i;
	int r;

	rv_err_init(&err);
	for (r = 0; r < RUNS; r++) {
		*found_r = 0;
		t0 = now_s();
		for (i = 0; i < n; i++)
			*found_r += rv_pwned_lookup(idx, keys + i * RV_PWNED_SHA1, &err) == 1;
		t[r] = (now_s() - t0) * 1e9 / (double)n;
	}
	rv_err_release(&err);
	qsort(t, RUNS, sizeof(t[0]), cmp);
	return t[RUNS / 2];
}

int
main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long m = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	char dir[] = "/tmp/rv-pwned-bench-XXXXXX", *txt, *idxp;
	unsigned char *all, *hits, *misses;
	char hex[2 * RV_PWNED_SHA1 + 1];
	unsigned long long count;
	struct rv_pwned *idx = NULL;
	unsigned long i, found;
	struct rv_err err;
	double t0, ns_hit, ns_miss;
	FILE *fp;
	int rc = 1;

	if (n == 0 || m == 0 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: pwned-bench [ENTRIES [LOOKUPS]]\n");
		return 2;
	}
	rv_err_init(&err);
	txt = rv_xasprintf("%s/list.txt", dir);
	idxp = rv_xasprintf("%s/list.idx", dir);
	/* random digests: a breach list looks like that to a bisection */
	all = rv_xmalloc(n * RV_PWNED_SHA1);
	hits = rv_xmalloc(m * RV_PWNED_SHA1);
	misses = rv_xmalloc(m * RV_PWNED_SHA1);
	if (rv_random_bytes(all, n * RV_PWNED_SHA1, &err) < 0 ||
	    rv_random_bytes(misses, m * RV_PWNED_SHA1, &err) < 0 ||
	    (fp = fopen(txt, "w")) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		rv_hex(all + i * RV_PWNED_SHA1, RV_PWNED_SHA1, hex);
		fprintf(fp, "%s:%lu\n", hex, i % 97 + 1);
	}
	for (i = 0; i < m; i++)
		memcpy(hits + i * RV_PWNED_SHA1,
		       all + (i * 7919 % n) * RV_PWNED_SHA1, RV_PWNED_SHA1);
	if (fclose(fp) != 0 || (fp = fopen(txt, "r")) == NULL)
		goto out;
	t0 = now_s();
	if (rv_pwned_build(fp, txt, idxp, NULL, NULL, &count, &err) < 0) {
		fclose(fp);
		goto out;
	}
	printf("pwned-build %llu %.2f\n", count, now_s() - t0);
	fclose(fp);
	if (rv_pwned_open(idxp, &idx, &err) < 0)
		goto out;
	ns_hit = time_lookups(idx, hits, m, &found);
	if (found != m) {
		fprintf(stderr, "pwned-bench: %lu of %lu hits found\n", found, m);
		goto out;
	}
	printf("pwned-hit %llu %.0f\n", count, ns_hit);
	ns_miss = time_lookups(idx, misses, m, &found);
	printf("pwned-miss %llu %.0f\n", count, ns_miss);
	rc = 0;
out:
	if (rc != 0 && err.msg[0])
		fprintf(stderr, "pwned-bench: %s\n", err.msg);
	rv_pwned_close(&idx);
	unlink(txt);
	unlink(idxp);
	rmdir(dir);
	free(txt);
	free(idxp);
	free(all);
	free(hits);
	free(misses);
	rv_err_release(&err);
	return rc;
}
