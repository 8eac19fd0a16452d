/* tap.h: a tiny TAP emitter for the C unit tests */
#ifndef RV_TAP_H
#define RV_TAP_H

#if defined(__GNUC__)
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TAP_NORETURN __attribute__((noreturn))
#else
#define TAP_PRINTF(f, a)
#define TAP_NORETURN
#endif

/* Print the plan "1..n" now; optional (done_testing prints it otherwise). */
void tap_plan(int n);

/* Each check prints "ok N - title" or "not ok N - title" and returns cond. */
int ok(int cond, const char *fmt, ...) TAP_PRINTF(2, 3);
int is_int(long long got, long long want, const char *fmt, ...)
	TAP_PRINTF(3, 4);
/* NULL-safe; NULL equals only NULL. */
int is_str(const char *got, const char *want, const char *fmt, ...)
	TAP_PRINTF(3, 4);

/* Print "# message" (a diagnostic line). */
void diag(const char *fmt, ...) TAP_PRINTF(1, 2);

/* Skip the whole program: print "1..0 # SKIP why" and exit 0. Only before
 * the first check (after one, it bails out: a skip-all must come first). */
void skip_all(const char *fmt, ...) TAP_PRINTF(1, 2) TAP_NORETURN;

/* Print the plan if none was given; 0 when every check passed, else 1. */
int done_testing(void);

#endif
