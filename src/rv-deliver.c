/* rv-deliver.c: sending codes: the mail and SMS channels, checks, results */
#include "config.h"
#include "rv-deliver.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-mail.h"
#include "rv-run.h"
#include "rv-util.h"

#define ERRBUF_LOG	512	/* bytes of a program's stderr that reach the log */

/* ---- checks ------------------------------------------------------------ */

static int
refuse(struct rv_err *err, const char *what, const char *why)
{
	rv_err_details(err, "%s %s", what, why);
	return rv_err_set(err, RV_E_INVALID_INPUT, "%s refused: %s", what,
			  why);
}

/* Length of the UTF-8 character at s (1-4), 0 when it is not valid UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t
utf8_char(const unsigned char *s, unsigned long *cp_r)
{
	unsigned long cp;
	size_t n, i;

	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1f;
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		cp = s[0] & 0x0f;
		n = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07;
		n = 4;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*cp_r = cp;
	return n;
}

int
rv_deliver_check_header(const char *what, const char *value, size_t max,
			struct rv_err *err)
{
	const unsigned char *p;
	unsigned long cp;
	char why[64];
	size_t n;

	if (value == NULL)
		return refuse(err, what, "is missing");
	if (strnlen(value, max + 1) > max) {
		snprintf(why, sizeof(why), "is longer than %zu bytes", max);
		return refuse(err, what, why);
	}
	for (p = (const unsigned char *)value; *p != '\0'; p += n) {
		if ((n = utf8_char(p, &cp)) == 0)
			return refuse(err, what, "is not valid UTF-8");
		/* C0 (CR, LF, TAB...), DEL and C1: nothing a header or an
		 * argument needs, and CR/LF would start a new header */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return refuse(err, what, "holds a control character");
	}
	return 0;
}

/* One bare address: sendmail -t takes the recipients from To, so a comma,
 * a group or a display name would add recipients of the client's choice. */
int
rv_deliver_check_addr(const char *what, const char *addr, struct rv_err *err)
{
	const char *at;

	if (rv_deliver_check_header(what, addr, RV_DELIVER_MAX_ADDR, err) < 0)
		return -1;
	at = strchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strpbrk(addr, " ,;:<>()[]\"\\") != NULL)
		return refuse(err, what, "is not one bare address");
	return 0;
}

static int
check_lang(const char *lang, struct rv_err *err)
{
	if (rv_deliver_check_header("lang", lang, RV_DELIVER_MAX_LANG, err) < 0)
		return -1;
	if (lang[0] == '\0' || strspn(lang, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
				      strlen(lang))
		return refuse(err, "lang", "is not a language tag");
	return 0;
}

/* The values that come with the message (not from the configuration). */
static int
check_mail(const struct rv_mail *m, struct rv_err *err)
{
	if (rv_deliver_check_addr("to", m->to, err) < 0 ||
	    rv_deliver_check_header("subject", m->subject,
				    RV_DELIVER_MAX_SUBJECT, err) < 0)
		return -1;
	if (m->lang != NULL && check_lang(m->lang, err) < 0)
		return -1;
	if (m->text == NULL)
		return refuse(err, "text", "is missing");
	return 0;
}

static int
check_phone(const char *phone, struct rv_err *err)
{
	size_t n;

	if (phone == NULL)
		return refuse(err, "phone", "is missing");
	n = strnlen(phone, RV_DELIVER_MAX_PHONE + 1);
	if (n == 0 || n > RV_DELIVER_MAX_PHONE ||
	    strspn(phone, "0123456789") != n)
		return refuse(err, "phone", "is not 1 to 32 digits");
	return 0;
}

/* ---- configuration ----------------------------------------------------- */

static bool
has_word(const char *s)
{
	return s != NULL && s[strspn(s, " ")] != '\0';
}

bool
rv_deliver_mail_configured(const struct rv_conf *conf)
{
	return has_word(conf->del_sendmail) && has_word(conf->del_mail_from);
}

bool
rv_deliver_sms_configured(const struct rv_conf *conf)
{
	return has_word(conf->del_sms_command);
}

static int
not_configured(struct rv_err *err, const char *type)
{
	/* logto-spec 4.8: no connector of the needed type */
	rv_err_set(err, "connector.not_found", "no %s delivery configured",
		   type);
	rv_err_var(err, "type", "%s", type);
	return -1;
}

/*
 * Splits the command at its spaces, as written: no quoting (rv-deliver.h).
 * Returns a NULL-terminated argv with room for extra more entries; its
 * strings point into *copy_r. The caller frees both.
 */
static const char **
split_words(const char *cmd, size_t extra, char **copy_r)
{
	const char **argv, *c;
	char *copy, *p, *word;
	size_t n = 1, i = 0;

	for (c = cmd; *c != '\0'; c++)
		n += *c == ' ';
	argv = rv_xcalloc(n + extra + 1, sizeof(*argv));
	copy = rv_xstrdup(cmd);
	for (p = copy; (word = strsep(&p, " ")) != NULL;)
		if (*word != '\0')
			argv[i++] = word;
	*copy_r = copy;
	return argv;
}

/* Replaces every run of 4 or more digits with '#'. */
static void
mask_digits(char *s)
{
	size_t i = 0, j;

	while (s[i]) {
		for (j = i; s[j] >= '0' && s[j] <= '9'; j++)
			;
		if (j - i >= 4)
			memset(s + i, '#', j - i);
		i = j > i ? j : i + 1;
	}
}

/* ---- the message (composed by rv-mail.c) ------------------------------- */

int
rv_deliver_build_mail(const struct rv_conf *conf, const struct rv_mail *m,
		      struct rv_buf *out, struct rv_err *err)
{
	const char *from = conf->del_mail_from;

	if (check_mail(m, err) < 0 ||
	    rv_deliver_check_header("mail-from", from, RV_DELIVER_MAX_FROM,
				    err) < 0)
		return -1;
	if (!has_word(from))
		return refuse(err, "mail-from", "is empty");
	return rv_mail_compose(from, m, out, err);
}

/* ---- sending ----------------------------------------------------------- */

/* Runs the command words (+ arg) with input; maps the result (rv-deliver.h). */
static int
deliver(const struct rv_conf *conf, const char *channel, const char *cmd,
	const char *arg, const char *input, size_t len, struct rv_err *err)
{
	struct rv_err rerr;
	const char **argv;
	char *copy, errbuf[ERRBUF_LOG + 1] = "", msg[256];
	long long timeout = conf->del_timeout > 0 ? conf->del_timeout : 10;
	size_t argc;
	int status, rc = -1;

	argv = split_words(cmd, 1, &copy);
	for (argc = 0; argv[argc] != NULL; argc++)
		;
	argv[argc] = arg;
	rv_err_init(&rerr);
	if (argv[0][0] != '/') {
		rv_log_warnx("%s: program '%s' is not an absolute path "
			     "(<delivery> in the configuration)", channel,
			     argv[0]);
		rv_run_unavailable(err, "%s program '%s' is not an absolute "
				   "path", channel, argv[0]);
		goto out;
	}
	if (timeout > INT_MAX / 1000)
		timeout = INT_MAX / 1000;
	if (rv_deliver_run(argv, input, len, (int)(timeout * 1000), &status,
			   errbuf, sizeof(errbuf), &rerr) < 0) {
		rv_log_warnx("%s: %s", channel, rerr.msg);
		rv_run_unavailable(err, "%s", rerr.msg);
		goto out;
	}
	if (status == 0) {
		rc = 0;
		goto out;
	}
	/* what a failing program said helps the admin; it may echo its input,
	 * and the input holds the code, so runs of digits are masked (a code
	 * never reaches the log, DESIGN.md) */
	if (errbuf[0] != '\0') {
		mask_digits(errbuf);
		rv_log_warnx("%s: '%s' wrote: %s", channel, argv[0], errbuf);
	}
	if (status == -1)
		snprintf(msg, sizeof(msg), "%s program '%s' timed out after %lld s",
			 channel, argv[0], timeout);
	else if (status > 255)
		snprintf(msg, sizeof(msg), "%s program '%s' was killed by signal %d",
			 channel, argv[0], status - 256);
	else
		snprintf(msg, sizeof(msg), "%s program '%s' exited with status %d%s",
			 channel, argv[0], status,
			 status == 75 ? " (temporary failure)" : "");
	rv_log_warnx("%s", msg);
	if (status == 75 || status == -1 || status > 255)
		rv_run_unavailable(err, "%s", msg);
	else
		rv_err_set(err, "connector.general", "%s", msg);
out:
	/* a program may echo its input, and the input holds the code */
	rv_wipe(errbuf, sizeof(errbuf));
	rv_err_release(&rerr);
	free(argv);
	free(copy);
	return rc;
}

int
rv_deliver_mail(const struct rv_conf *conf, const struct rv_mail *m,
		struct rv_err *err)
{
	struct rv_buf msg = RV_BUF_INIT;
	int rc;

	/* the client's values first: a client mistake is never a 5xx */
	if (check_mail(m, err) < 0)
		return -1;
	if (!rv_deliver_mail_configured(conf))
		return not_configured(err, "Email");
	if (rv_deliver_build_mail(conf, m, &msg, err) < 0)
		return -1;
	rc = deliver(conf, "sendmail", conf->del_sendmail, NULL, msg.buf,
		     msg.len, err);
	rv_buf_release_secret(&msg);
	return rc;
}

int
rv_deliver_sms(const struct rv_conf *conf, const char *phone,
	       const char *text, struct rv_err *err)
{
	if (check_phone(phone, err) < 0)
		return -1;
	if (text == NULL)
		return refuse(err, "text", "is missing");
	if (!rv_deliver_sms_configured(conf))
		return not_configured(err, "Sms");
	return deliver(conf, "sms", conf->del_sms_command, phone, text,
		       strlen(text), err);
}
