/* rv-deliver.h: sending codes: the mail and SMS channels, checks, results */
#ifndef RV_DELIVER_H
#define RV_DELIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "rv-mail.h"	/* struct rv_mail */

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
 *   start or is not an absolute path 503 connector.general + Retry-After
 *                                    (RV_RUN_RETRY_AFTER, 60 s)
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
 * Appends to out the RFC 5322 message for m, as rv_mail_compose() writes it
 * (rv-mail.h), From <delivery mail-from>, after checking the values:
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

#endif
