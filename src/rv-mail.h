/* rv-mail.h: the e-mail message: RFC 5322, RFC 2047 words, MIME, base64 */
#ifndef RV_MAIL_H
#define RV_MAIL_H

struct rv_buf;
struct rv_err;

/* A message as the templates produced it (all UTF-8; values already
 * HTML-escaped inside html). The strings are borrowed for the call. */
struct rv_mail {
	const char *to;		/* one bare address: local@domain */
	const char *subject;
	const char *text;	/* text/plain body */
	const char *html;	/* text/html body, may be NULL */
	const char *lang;	/* Content-Language, may be NULL */
};

/*
 * Appends to out the RFC 5322 message for m from from, ready for
 * "sendmail -t -i" on stdin, with LF line ends:
 *   From (from; a non-ASCII display name is RFC 2047
 *   encoded), To, Subject (as is when plain printable ASCII, folded at
 *   spaces; otherwise RFC 2047 "=?UTF-8?B?...?=" words of whole characters,
 *   folded so that no line exceeds 78 characters), Date (UTC, "+0000"),
 *   Message-ID <random@domain of from>, MIME-Version: 1.0,
 *   Auto-Submitted: auto-generated, Content-Language (when m->lang), and a
 *   multipart/alternative body with a random boundary: a text/plain part
 *   and, when m->html, a text/html part, both charset=utf-8 and base64 in
 *   lines of 76 characters. The bodies are encoded as given (their line
 *   ends are not changed).
 * The values must have passed rv_deliver_build_mail()'s checks (one bare
 * address in m->to, headers without control characters, valid UTF-8).
 * Returns 0, or -1 with err (500) when the random generator fails; out is
 * then left as it was.
 */
int rv_mail_compose(const char *from, const struct rv_mail *m,
		    struct rv_buf *out, struct rv_err *err);

#endif
