/* spawn-bench.c: the reference of the send-code scenario: how fast this
 * machine can start the configured sendmail command from C and hand it a
 * message, with nothing of reverify around it.
 *
 *   spawn-bench SECONDS PROCS MESSAGE-FILE PROGRAM [ARG...]
 *
 * PROCS processes (one per FastCGI worker of the bench) each, for SECONDS,
 * posix_spawn PROGRAM with its stdin a pipe, write MESSAGE-FILE into it and
 * wait for the exit, as rv_deliver_run does (doc/performance.md). Prints
 * one line: "spawn-bench: N per s p50 X ms p99 Y ms (R runs, F failed)";
 * a run fails when the program does not exit 0. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_SAMPLES 200000

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* one spawn, the message written, the exit waited for; 0 when it exited 0 */
static int
one(char *const argv[], const char *msg, size_t len)
{
	posix_spawn_file_actions_t fa;
	int p[2], status;
	pid_t pid;
	size_t off = 0;
	ssize_t w;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	while (off < len && (w = write(p[1], msg + off, len - off)) > 0)
		off += (size_t)w;
	close(p[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static double lat[MAX_SAMPLES];
	char *msg;
	struct stat st;
	double secs, start, t;
	long procs, i, n = 0, got = 0, failed = 0;
	int fd, out[2];
	FILE *in;

	if (argc < 5 || (secs = atof(argv[1])) <= 0 || (procs = atol(argv[2])) < 1 ||
	    procs > 64) {
		fprintf(stderr, "usage: spawn-bench SECONDS PROCS MESSAGE-FILE PROGRAM [ARG...]\n");
		return 2;
	}
	msg = NULL;
	if ((fd = open(argv[3], O_RDONLY)) < 0 || fstat(fd, &st) != 0 ||
	    (msg = malloc((size_t)st.st_size + 1)) == NULL ||
	    read(fd, msg, (size_t)st.st_size) != st.st_size) {
		fprintf(stderr, "spawn-bench: cannot read %s\n", argv[3]);
		free(msg);
		return 1;
	}
	close(fd);
	signal(SIGPIPE, SIG_IGN);
	if (pipe(out) != 0) {
		free(msg);
		return 1;
	}
	for (i = 0; i < procs; i++) {
		if (fork() == 0) {
			FILE *o = fdopen(out[1], "w");

			close(out[0]);
			start = now_ms();
			while ((t = now_ms()) - start < secs * 1000) {
				int rc = one(argv + 4, msg, (size_t)st.st_size);

				fprintf(o, "%d %.4f\n", rc, now_ms() - t);
			}
			fclose(o);
			free(msg);
			_exit(0);
		}
	}
	close(out[1]);
	in = fdopen(out[0], "r");
	{
		int rc;

		while (fscanf(in, "%d %lf", &rc, &t) == 2) {
			if (rc != 0)
				failed++;
			if (got < MAX_SAMPLES)
				lat[got++] = t;
			n++;
		}
	}
	while (wait(NULL) > 0)
		;
	if (got == 0) {
		fprintf(stderr, "spawn-bench: nothing ran\n");
		return 1;
	}
	qsort(lat, (size_t)got, sizeof(lat[0]), cmp);
	printf("spawn-bench: %.1f per s p50 %.2f ms p99 %.2f ms (%ld runs, %ld failed)\n",
	       (double)n / secs, lat[got / 2], lat[(got * 99) / 100], n, failed);
	free(msg);
	return 0;
}
