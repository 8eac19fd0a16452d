/* mail-sink.c: the bench's sendmail stand-in in C: writes the message on
 * stdin to a new file $REVERIFY_OUTBOX/mail-<pid>-<usec>.eml (under a
 * temporary name, then renamed) and does nothing else: the least a
 * sendmail can do, so that send-code measures reverify and the spawn, not
 * a shell script's start (tools/outbox-sendmail is the tests' one).
 * Arguments (-t -i ...) are ignored. Exit 0, or 75 (EX_TEMPFAIL). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

int
main(void)
{
	const char *dir = getenv("REVERIFY_OUTBOX");
	char tmp[4096], path[4200], buf[65536];
	struct timeval tv;
	ssize_t n, w, off;
	int fd;

	if (dir == NULL || *dir == '\0')
		return 75;
	snprintf(tmp, sizeof(tmp), "%s/.mail-%ld.tmp", dir, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return 75;
	while ((n = read(0, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		for (off = 0; off < n; off += w) {
			if ((w = write(fd, buf + off, (size_t)(n - off))) <= 0) {
				unlink(tmp);
				return 75;
			}
		}
	}
	gettimeofday(&tv, NULL);
	snprintf(path, sizeof(path), "%s/mail-%ld-%lld.eml", dir, (long)getpid(),
		 (long long)tv.tv_sec * 1000000 + tv.tv_usec);
	if (n < 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return 75;
	}
	return 0;
}
