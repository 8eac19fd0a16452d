/* rv-deliver.h: sending codes: the e-mail message, sendmail and SMS programs */
#ifndef RV_DELIVER_H
#define RV_DELIVER_H

#include <stdbool.h>
#include <stddef.h>

struct rv_buf;
struct rv_conf;
struct rv_err;

/*
 * Delivery runs a program, never a shell (DESIGN.md "Codes and delivery"):
 * <delivery sendmail="..."> and <delivery sms-command="..."> are split into
 * argv at each space, as written (the loader has normalised the spaces).
 * There is no quoting: an argument cannot contain a space. The program
 * (the first word) must be an absolute path; it is not searched in PATH.
 *
 * Result rules shared by rv_deliver_mail() and rv_deliver_sms(), on -1:
 *   no channel configured            501 connector.not_found, {{type}} Email/Sms
 *   a value refused (header, phone)  400 guard.invalid_input, nothing run
 *   exit 75 (EX_TEMPFAIL), timeout, killed by a signal, program cannot
 *   start or is not an absolute path 503 connector.general + Retry-After: 60
 *   any other non-zero exit status   502 connector.general
 * The caller's values (recipient, subject, lang, phone) are checked first,
 * so a client mistake is a 400 even when the channel is off.
 * The program's stderr (its first 512 bytes, control characters escaped)
 * goes to the log, never to the client. err->msg says what happened (exit
 * status, signal, timeout), never the message text or the code; recipients
 * are not logged either (DESIGN.md: identifiers only as hashes).
 */

#define RV_DELIVER_MAX_ADDR	254	/* an address (RFC 5321 path limit) */
#define RV_DELIVER_MAX_FROM	320	/* mail-from, with a display name */
#define RV_DELIVER_MAX_SUBJECT	512
#define RV_DELIVER_MAX_LANG	35
#define RV_DELIVER_MAX_PHONE	32
#define RV_DELIVER_RETRY_AFTER	60	/* seconds, on a 503 */

/* A message as the templates produced it (all UTF-8; values already
 * HTML-escaped inside html). The strings are borrowed for the call. */
struct rv_mail {
	const char *to;		/* one bare address: local@domain */
	const char *subject;
	const char *text;	/* text/plain body */
	const char *html;	/* text/html body, may be NULL */
	const char *lang;	/* Content-Language, may be NULL */
};

/* Is e-mail delivery configured (a sendmail command and a mail-from)? */
bool rv_deliver_mail_configured(const struct rv_conf *conf);
/* Is SMS delivery configured (an sms-command)? */
bool rv_deliver_sms_configured(const struct rv_conf *conf);

/*
 * Checks a string that will reach a message header or a program's argv.
 * Returns 0 when it is acceptable; -1 (err: 400 guard.invalid_input, the
 * details name what) when value is NULL, longer than max bytes, not valid
 * UTF-8, or holds a control character: CR, LF, any other C0 character
 * (TAB included), DEL, or a C1 character (U+0080-U+009F). The value itself
 * is not copied into err. The send functions call it before anything
 * runs; endpoints may call it for their own early checks.
 */
int rv_deliver_check_header(const char *what, const char *value, size_t max,
			    struct rv_err *err);

/*
 * Checks that addr is one bare address, as rv_deliver_mail needs its To:
 * rv_deliver_check_header with RV_DELIVER_MAX_ADDR, one '@' with text on
 * both sides, and none of " ,;:<>()[]\"\\" (sendmail -t takes the
 * recipients from To, so a list, a group or a display name would add
 * recipients). Returns 0, or -1 with err as rv_deliver_check_header.
 */
int rv_deliver_check_addr(const char *what, const char *addr,
			  struct rv_err *err);

/*
 * Appends to out the RFC 5322 message for m, ready for "sendmail -t -i" on
 * stdin, with LF line ends:
 *   From (<delivery mail-from>; a non-ASCII display name is RFC 2047
 *   encoded), To, Subject (as is when plain printable ASCII, folded at
 *   spaces; otherwise RFC 2047 "=?UTF-8?B?...?=" words of whole characters,
 *   folded so that no line exceeds 78 characters), Date (UTC, "+0000"),
 *   Message-ID <random@domain of mail-from>, MIME-Version: 1.0,
 *   Auto-Submitted: auto-generated, Content-Language (when m->lang), and a
 *   multipart/alternative body with a random boundary: a text/plain part
 *   and, when m->html, a text/html part, both charset=utf-8 and base64 in
 *   lines of 76 characters. The bodies are encoded as given (their line
 *   ends are not changed).
 * m->to must be one bare address (no display name, none of the characters
 * space , ; < > ( ) [ ] " \, exactly one @ with text on both sides); lang
 * holds only letters, digits and '-'. Returns 0, or -1 when a value is
 * refused (400 guard.invalid_input, see rv_deliver_check_header; out is
 * then left as it was) or the random generator fails (500).
 */
int rv_deliver_build_mail(const struct rv_conf *conf, const struct rv_mail *m,
			  struct rv_buf *out, struct rv_err *err);

/*
 * Sends m: builds the message and runs <delivery sendmail> with it on stdin,
 * within <delivery timeout>. 0 sent; -1 with err by the result rules above.
 */
int rv_deliver_mail(const struct rv_conf *conf, const struct rv_mail *m,
		    struct rv_err *err);

/*
 * Sends an SMS: runs the <delivery sms-command> words plus phone as one more
 * argument, with text on stdin, within <delivery timeout>. phone must be 1
 * to 32 ASCII digits (else 400 guard.invalid_input). 0 sent; -1 with err by
 * the result rules above.
 */
int rv_deliver_sms(const struct rv_conf *conf, const char *phone,
		   const char *text, struct rv_err *err);

/*
 * The process runner both use, exported for tests. Runs argv (NULL-terminated;
 * argv[0] an absolute path) with posix_spawn: no shell, no PATH search, in
 * its own process group, signal mask emptied and signal handlers reset, the
 * environment only PATH=/usr/sbin:/usr/bin:/sbin:/bin, LANG=C.UTF-8 and,
 * when we have it, REVERIFY_OUTBOX. stdin is a pipe fed with input[0..len)
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

#endif
