/* rv-log.c: logging to stderr, syslog or a file */
#include "config.h"
#include "rv-log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-util.h"

static const char *log_prog = "reverify";
static enum rv_log_target log_target = RV_LOG_STDERR;
static enum rv_log_level log_level = RV_LOG_LEVEL_INFO;
static int log_fd = 2;
static const char *log_reqid;

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
rv_log_facility(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(facilities[i].name, name) == 0)
			return facilities[i].value;
	return -1;
}

const char *
rv_log_prog(void)
{
	return log_prog;
}

void
rv_log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	log_prog = slash ? slash + 1 : prog;
}

int
rv_log_open(enum rv_log_target target, const char *facility,
	    const char *file, enum rv_log_level level)
{
	int fd, fac;

	rv_log_close();
	log_level = level;
	switch (target) {
	case RV_LOG_SYSLOG:
		fac = facility ? rv_log_facility(facility) : LOG_DAEMON;
		openlog(log_prog, LOG_PID | LOG_NDELAY, fac < 0 ? LOG_DAEMON : fac);
		break;
	case RV_LOG_FILE:
		/* a symbolic link planted at the log's path would have us
		 * append to any file we may write (security review F15) */
		fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0640);
		if (fd == -1) {
			rv_log_warn("cannot open log file '%s'", file);
			return -1;
		}
		log_fd = fd;
		break;
	case RV_LOG_STDERR:
		break;
	}
	log_target = target;
	return 0;
}

int
rv_log_open_conf(const struct rv_conf *conf)
{
	static const enum rv_log_target targets[] = {
		[RV_CONF_LOG_SYSLOG] = RV_LOG_SYSLOG,
		[RV_CONF_LOG_STDERR] = RV_LOG_STDERR,
		[RV_CONF_LOG_FILE] = RV_LOG_FILE,
	};
	static const enum rv_log_level levels[] = {
		[RV_CONF_LOG_WARN] = RV_LOG_LEVEL_WARN,
		[RV_CONF_LOG_INFO] = RV_LOG_LEVEL_INFO,
		[RV_CONF_LOG_DEBUG] = RV_LOG_LEVEL_DEBUG,
	};

	RV_ASSERT(conf->log_target >= 0 && conf->log_target <= RV_CONF_LOG_FILE);
	RV_ASSERT(conf->log_level >= 0 && conf->log_level <= RV_CONF_LOG_DEBUG);
	return rv_log_open(targets[conf->log_target], conf->log_facility,
			   conf->log_file, levels[conf->log_level]);
}

void
rv_log_close(void)
{
	if (log_target == RV_LOG_SYSLOG)
		closelog();
	if (log_target == RV_LOG_FILE && log_fd > 2)
		close(log_fd);
	log_target = RV_LOG_STDERR;
	log_fd = 2;
}

void
rv_log_set_request_id(const char *id)
{
	log_reqid = id;
}

/*
 * Writes one line with a single write(2), so lines of concurrent processes
 * sharing a file or a pipe do not interleave. Control characters in the text
 * are escaped: log lines may quote client input.
 */
static void vlog(int prio, const char *errstr, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
vlog(int prio, const char *errstr, const char *fmt, va_list ap)
{
	struct rv_buf line = RV_BUF_INIT, text = RV_BUF_INIT;
	const unsigned char *p;
	int saved = errno;

	rv_buf_vaddf(&text, fmt, ap);
	if (errstr != NULL)
		rv_buf_addf(&text, ": %s", errstr);
	if (log_target == RV_LOG_FILE) {
		char ts[32];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		rv_buf_addf(&line, "%s.%03ldZ ", ts, now.tv_nsec / 1000000);
	}
	if (log_target != RV_LOG_SYSLOG)
		rv_buf_addf(&line, "%s[%ld]: ", log_prog, (long)getpid());
	if (log_reqid != NULL)
		rv_buf_addf(&line, "%s: ", log_reqid);
	if (prio == LOG_WARNING && log_target != RV_LOG_SYSLOG)
		rv_buf_addstr(&line, "warning: ");
	for (p = (const unsigned char *)text.buf; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			rv_buf_addf(&line, "\\x%02x", *p);
		else
			rv_buf_addch(&line, (char)*p);
	}
	if (log_target == RV_LOG_SYSLOG) {
		syslog(prio, "%s", line.buf);
	} else {
		rv_buf_addch(&line, '\n');
		if (write(log_fd, line.buf, line.len) < 0) {
			/* nowhere left to report it */
		}
	}
	rv_buf_release(&text);
	rv_buf_release(&line);
	errno = saved;
}

#define LOGFN(name, prio, lvl, witherr) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		if (log_level < (lvl)) \
			return; \
		va_start(ap, fmt); \
		vlog(prio, (witherr) ? strerror(errno) : NULL, fmt, ap); \
		va_end(ap); \
	}

LOGFN(rv_log_warn, LOG_WARNING, RV_LOG_LEVEL_WARN, 1)
LOGFN(rv_log_warnx, LOG_WARNING, RV_LOG_LEVEL_WARN, 0)
LOGFN(rv_log_info, LOG_INFO, RV_LOG_LEVEL_INFO, 0)
LOGFN(rv_log_debug, LOG_DEBUG, RV_LOG_LEVEL_DEBUG, 0)

void
rv_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
