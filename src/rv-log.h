/* rv-log.h: logging (OpenBSD log.h shape) */
#ifndef RV_LOG_H
#define RV_LOG_H

#include <stdarg.h>
#include <stdbool.h>

struct rv_conf;

enum rv_log_target {
	RV_LOG_STDERR,
	RV_LOG_SYSLOG,
	RV_LOG_FILE,
};

enum rv_log_level {
	RV_LOG_LEVEL_WARN,
	RV_LOG_LEVEL_INFO,
	RV_LOG_LEVEL_DEBUG,
};

/*
 * One line per event: "<prog>[<pid>]: <request id>: <text>" on stderr or in
 * a file (with a UTC timestamp first), the same without the prefix in
 * syslog. Until rv_log_open() is called, everything goes to stderr.
 * Never pass a secret (password, code, token, pepper) to these functions.
 */
void rv_log_init(const char *prog);
/* The program's name as rv_log_init took it ("reverify" before). */
const char *rv_log_prog(void);
/* Switches the backend; 0 on success, -1 (logged to stderr) when the file
 * cannot be opened. facility is a syslog facility name ("daemon", "auth",
 * "local0"...). */
int rv_log_open(enum rv_log_target target, const char *facility,
		const char *file, enum rv_log_level level);
/* rv_log_open() as <log> of conf says: its target, facility, file and
 * level. */
int rv_log_open_conf(const struct rv_conf *conf);
void rv_log_close(void);
/* The request id to put on each line until the next call; NULL clears it.
 * The string must stay valid until then. */
void rv_log_set_request_id(const char *id);

void rv_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rv_log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rv_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rv_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Startup only: log and exit(1). */
void rv_fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Maps a facility name to its syslog value; -1 if unknown. */
int rv_log_facility(const char *name);

#endif
