/* tap.c: a tiny TAP emitter for the C unit tests */
#include "config.h"
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;
static int tap_planned = -1;

void
tap_plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

TAP_PRINTF(2, 0) static int
tap_result(int cond, const char *fmt, va_list ap)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cond = tap_result(cond != 0, fmt, ap);
	va_end(ap);
	return cond;
}

int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int cond;

	va_start(ap, fmt);
	cond = tap_result(got == want, fmt, ap);
	va_end(ap);
	if (!cond) {
		diag("got: %lld", got);
		diag("want: %lld", want);
	}
	return cond;
}

int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int cond;

	if (got == NULL || want == NULL)
		cond = got == want;
	else
		cond = strcmp(got, want) == 0;
	va_start(ap, fmt);
	cond = tap_result(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		if (got != NULL)
			diag("got: '%s'", got);
		else
			diag("got: NULL");
		if (want != NULL)
			diag("want: '%s'", want);
		else
			diag("want: NULL");
	}
	return cond;
}

void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void
skip_all(const char *fmt, ...)
{
	va_list ap;

	if (tap_count > 0 || tap_planned >= 0) {
		printf("Bail out! skip_all after the plan or a check\n");
		fflush(stdout);
		exit(1);
	}
	fputs("1..0 # SKIP ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(0);
}

int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_count);
	else if (tap_planned != tap_count) {
		diag("planned %d tests but ran %d", tap_planned, tap_count);
		tap_failed++;
	}
	fflush(stdout);
	return tap_failed > 0;
}
