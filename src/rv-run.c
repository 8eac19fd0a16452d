/* rv-run.c: running a program: posix_spawn, pipes, a timeout, its stderr */
#include "config.h"
#include "rv-run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

#if defined(__GLIBC__) && \
	(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define RV_HAVE_ADDCLOSEFROM 1
#endif

int
rv_run_unavailable(struct rv_err *err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rv_err_set(err, RV_E_DELIVERY_LATER, "%s", msg);
	rv_err_header(err, "Retry-After", "%d", RV_RUN_RETRY_AFTER);
	return -1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Moves a new descriptor above 2: when our own 0-2 were closed, a pipe end
 * could land there and clash with the child's dup2 onto 0-2. */
static int
above_stdio(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int
make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	p[0] = above_stdio(p[0]);
	p[1] = above_stdio(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		close_fd(&p[0]);
		close_fd(&p[1]);
		return -1;
	}
	return 0;
}

#ifndef RV_HAVE_ADDCLOSEFROM
/* Without posix_spawn_file_actions_addclosefrom_np: marks every descriptor
 * above 2 close-on-exec (a lasting change; we never exec otherwise). */
static void
cloexec_all(void)
{
	struct dirent *de;
	DIR *d;
	int fd, flags;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	/* cppcheck-suppress readdirCalled ; readdir_r() is the deprecated one */
	while ((de = readdir(d)) != NULL) {
		fd = atoi(de->d_name);
		if (fd > 2 && fd != dirfd(d) &&
		    (flags = fcntl(fd, F_GETFD)) != -1)
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	closedir(d);
}
#endif

static void
keep_stderr(char *errbuf, size_t errlen, size_t *got, const char *data,
	    size_t n)
{
	if (errlen == 0 || *got >= errlen - 1)
		return;
	if (n > errlen - 1 - *got)
		n = errlen - 1 - *got;
	memcpy(errbuf + *got, data, n);
	*got += n;
	errbuf[*got] = '\0';
}

/* Reads what the program wrote to stderr; 0 at EOF or on an error. */
static ssize_t
read_stderr(int fd, char *errbuf, size_t errlen, size_t *got)
{
	char tmp[4096];
	ssize_t r;

	r = read(fd, tmp, sizeof(tmp));
	if (r > 0)
		keep_stderr(errbuf, errlen, got, tmp, (size_t)r);
	else if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	return r < 0 ? 0 : r;
}

static int
spawn(const char *const argv[], int in_r, int in_w, int err_r, int err_w,
      pid_t *pid_r, struct rv_err *err)
{
	static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char env_lang[] = "LANG=C.UTF-8";
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	const char *outbox = getenv("REVERIFY_OUTBOX");
	char *env_outbox = NULL, *envp[4];
	sigset_t none, all;
	int rc;

	envp[0] = env_path;
	envp[1] = env_lang;
	envp[2] = NULL;
	envp[3] = NULL;
	if (outbox != NULL)	/* for tools/outbox-* (DESIGN.md "Outbox") */
		envp[2] = env_outbox = rv_xasprintf("REVERIFY_OUTBOX=%s", outbox);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclose(&fa, in_w);
	posix_spawn_file_actions_addclose(&fa, err_r);
	posix_spawn_file_actions_adddup2(&fa, in_r, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
#ifdef RV_HAVE_ADDCLOSEFROM
	/* the FastCGI connection, database files...: none is the child's */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#else
	cloexec_all();
#endif
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	/* its own group, so that a timeout also kills what it started */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

	/* posix_spawn does not change argv: the cast is the execve one */
	rc = posix_spawn(pid_r, argv[0], &fa, &attr, (char *const *)argv, envp);

	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(env_outbox);
	if (rc != 0)
		return rv_run_unavailable(err, "cannot run '%s': %s", argv[0],
					  strerror(rc));
	return 0;
}

int
rv_deliver_run(const char *const argv[], const char *input, size_t len,
	       int timeout_ms, int *status_r, char *errbuf, size_t errlen,
	       struct rv_err *err)
{
	int in[2] = { -1, -1 }, ep[2] = { -1, -1 }, chld = -1, chld_i;
	sigset_t pipeset, chldset, oldmask, pending;
	struct signalfd_siginfo si;
	struct timespec zero = { 0, 0 };
	struct pollfd pfd[3];
	long long deadline, left;
	size_t off = 0, got = 0, chunk;
	bool had_sigpipe;
	int rc = -1, wst = 0, n, in_i, err_i, step = 1, wait_ms, i;
	ssize_t w;
	pid_t pid, r;

	RV_ASSERT(argv != NULL && argv[0] != NULL);
	*status_r = -1;
	if (errlen > 0)
		errbuf[0] = '\0';
	if (argv[0][0] != '/')
		return rv_run_unavailable(err, "'%s' is not an absolute path",
					  argv[0]);
	/* posix_spawn may report a failed exec only as exit status 127 (it
	 * does under valgrind): say why while we still can */
	if (faccessat(AT_FDCWD, argv[0], X_OK, AT_EACCESS) == -1)
		return rv_run_unavailable(err, "cannot run '%s': %s", argv[0],
					  strerror(errno));
	if (make_pipe(in) < 0 || make_pipe(ep) < 0) {
		rv_run_unavailable(err, "cannot make a pipe: %s",
				   strerror(errno));
		goto out;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);

	/* A child that exits without reading makes our write fail with
	 * EPIPE: hold SIGPIPE back and drop it afterwards unless it was
	 * already pending. The child gets an empty mask (spawn). */
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipeset, &oldmask);
	sigpending(&pending);
	had_sigpipe = sigismember(&pending, SIGPIPE);
	/* the child's exit as a descriptor that wakes the poll below: SIGCHLD
	 * held back from before the spawn (so that an early exit is not
	 * missed) and read through a signalfd. Without one, the exit of a
	 * child that has closed its pipes is found by polling waitpid 1 to
	 * 50 ms apart, which under load was most of a send-code's time
	 * (doc/performance.md). (Not pidfd_open: valgrind 3.19 does not know
	 * it, and .ci/valgrind reports the warning.) */
	sigemptyset(&chldset);
	sigaddset(&chldset, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chldset, NULL);
	if ((chld = signalfd(-1, &chldset, SFD_NONBLOCK | SFD_CLOEXEC)) >= 0)
		chld = above_stdio(chld);

	if (spawn(argv, in[0], in[1], ep[0], ep[1], &pid, err) < 0)
		goto out_mask;
	rc = 0;
	close_fd(&in[0]);
	close_fd(&ep[1]);
	if (len == 0)
		close_fd(&in[1]);

	deadline = now_ms() + timeout_ms;
	for (;;) {
		r = waitpid(pid, &wst, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			/* SIGCHLD ignored: someone reaped it for us */
			rv_log_warn("cannot wait for '%s'", argv[0]);
			wst = -1;
			break;
		}
		if ((left = deadline - now_ms()) <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			wst = -1;
			break;
		}
		n = 0;
		in_i = err_i = chld_i = -1;
		if (chld >= 0) {
			pfd[n].fd = chld;
			pfd[n].events = POLLIN;
			chld_i = n++;
		}
		if (in[1] >= 0) {
			pfd[n].fd = in[1];
			pfd[n].events = POLLOUT;
			in_i = n++;
		}
		if (ep[0] >= 0) {
			pfd[n].fd = ep[0];
			pfd[n].events = POLLIN;
			err_i = n++;
		}
		/* the pipes and the signalfd wake us, and the waitpid above
		 * looks; with the signalfd still every 100 ms (a SIGCHLD that
		 * another thread took), without it 1 to 50 ms apart */
		wait_ms = chld >= 0 ? 100 : step;
		i = poll(pfd, (nfds_t)n, left < wait_ms ? (int)left : wait_ms);
		if (i <= 0) {
			if (step < 50)
				step *= 2;
			continue;
		}
		step = 1;
		if (chld_i >= 0 && pfd[chld_i].revents != 0)
			while (read(chld, &si, sizeof(si)) > 0)
				;	/* a SIGCHLD: the waitpid above looks */
		if (in_i >= 0 && pfd[in_i].revents != 0) {
			chunk = len - off < 65536 ? len - off : 65536;
			w = write(in[1], input + off, chunk);
			if (w > 0)
				off += (size_t)w;
			if (off == len ||
			    (w < 0 && errno != EAGAIN && errno != EINTR))
				close_fd(&in[1]);	/* done, or EPIPE */
		}
		if (err_i >= 0 && pfd[err_i].revents != 0 &&
		    read_stderr(ep[0], errbuf, errlen, &got) == 0)
			close_fd(&ep[0]);
	}
	/* what it wrote just before exiting; bounded, in case something
	 * it started keeps writing */
	for (i = 0; i < 64 && ep[0] >= 0; i++)
		if (read_stderr(ep[0], errbuf, errlen, &got) <= 0)
			break;
	if (wst == -1)
		*status_r = -1;
	else if (WIFEXITED(wst))
		*status_r = WEXITSTATUS(wst);
	else if (WIFSIGNALED(wst))
		*status_r = 256 + WTERMSIG(wst);

out_mask:
	if (!had_sigpipe) {
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipeset, NULL, &zero);
	}
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
out:
	close_fd(&chld);
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	return rc;
}

