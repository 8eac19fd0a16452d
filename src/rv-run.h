/* rv-run.h: running a program: posix_spawn, pipes, a timeout, its stderr */
#ifndef RV_RUN_H
#define RV_RUN_H

#include <stddef.h>

struct rv_err;

#define RV_RUN_RETRY_AFTER	60	/* seconds, on a 503 */

/*
 * The process runner of the delivery channels and the on-change hooks.
 * Runs argv (NULL-terminated; argv[0] an absolute path) with posix_spawn:
 * no shell, no PATH search, in its own process group, signal mask emptied
 * and signal handlers reset, the environment only
 * PATH=/usr/sbin:/usr/bin:/sbin:/bin, LANG=C.UTF-8 and, when we have it,
 * REVERIFY_OUTBOX. stdin is a pipe fed with input[0..len)
 * (a child that exits without reading is fine: EPIPE is ignored and no
 * SIGPIPE reaches us), stdout is /dev/null, stderr is captured into errbuf
 * (the first errlen - 1 bytes, NUL-terminated; errbuf may be NULL when
 * errlen is 0), and no other descriptor of ours is open in the child.
 * After timeout_ms the whole process group is killed with SIGKILL; the
 * child is always reaped before returning.
 * *status_r gets the exit status 0-255, 256 + the signal number when the
 * child was killed by a signal, or -1 on timeout. Returns 0 when the program
 * ran (whatever its status), -1 when it could not be started (argv[0] not
 * absolute or not executable, spawn failed, no pipe): err is then 503
 * connector.general with Retry-After, and *status_r is -1.
 * Uses sigprocmask: call it from a single-threaded process, and do not
 * ignore SIGCHLD (the child must stay ours to reap).
 */
int rv_deliver_run(const char *const argv[], const char *input, size_t len,
		   int timeout_ms, int *status_r, char *errbuf, size_t errlen,
		   struct rv_err *err);

/* Sets err to 503 connector.general with Retry-After: RV_RUN_RETRY_AFTER,
 * the runner's failure and any other worth retrying later. Returns -1. */
int rv_run_unavailable(struct rv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
