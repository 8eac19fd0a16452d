/* unit/deliver: rv-deliver.c, the message, the runner, sendmail and SMS */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pthread.h>

#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-deliver.h"
#include "rv-run.h"
#include "rv-err.h"
#include "rv-store.h"
#include "rv-log.h"
#include "rv-util.h"
#include "fixture.h"
#include "tap.h"

static const char *dir;
static char tools[PATH_MAX];

/* dir/name, in one of four rotating static buffers */
static const char *
in_dir(const char *name)
{
	static char bufs[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return bufs[i];
}

/* tools/name in the source tree, absolute */
static const char *
tools_path(const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", tools, name);
	return buf;
}

static bool
exists(const char *name)
{
	return access(in_dir(name), F_OK) == 0;
}

static void
write_file(const char *name, const char *body, mode_t mode)
{
	FILE *f = fopen(in_dir(name), "w");

	RV_ASSERT(f != NULL);
	fputs(body, f);
	fclose(f);
	chmod(in_dir(name), mode);
}

/* A helper script in the temporary directory; @ in body becomes dir. */
static const char *
script(const char *name, const char *body)
{
	struct rv_buf b = RV_BUF_INIT;
	const char *p;

	rv_buf_addstr(&b, "#!/bin/sh\n");
	for (p = body; *p != '\0'; p++)
		if (*p == '@')
			rv_buf_addstr(&b, dir);
		else
			rv_buf_addch(&b, *p);
	write_file(name, b.buf, 0755);
	rv_buf_release(&b);
	return in_dir(name);
}

static bool
read_path(const char *path, struct rv_buf *out)
{
	char tmp[4096];
	size_t n;
	FILE *f;

	rv_buf_reset(out);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		rv_buf_add(out, tmp, n);
	fclose(f);
	return true;
}

/* How many files in dir start with prefix; reads the first into out, and
 * removes them all so that the next check starts from an empty outbox. */
static int
take(const char *prefix, struct rv_buf *out)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	rv_buf_reset(out);
	RV_ASSERT(d != NULL);
	/* cppcheck-suppress readdirCalled ; readdir_r() is the deprecated one */
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (n++ == 0)
			read_path(in_dir(de->d_name), out);
		unlink(in_dir(de->d_name));
	}
	closedir(d);
	return n;
}

/* Files in dir, hidden ones included, except those the tests keep. */
static int
stray_files(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	RV_ASSERT(d != NULL);
	/* cppcheck-suppress readdirCalled ; readdir_r() is the deprecated one */
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "mail-", 5) == 0 ||
		    strncmp(de->d_name, "sms-", 4) == 0 ||
		    strncmp(de->d_name, ".mail-", 6) == 0 ||
		    strncmp(de->d_name, ".sms-", 5) == 0)
			n++;
	closedir(d);
	return n;
}

static void
set(char **field, const char *value)
{
	free(*field);
	*field = rv_xstrdup(value);
}

/* ---- parsing what we built --------------------------------------------- */

static bool
b64dec(const char *in, size_t n, struct rv_buf *out)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char *buf = rv_xmalloc(n + 4);
	int len = 0, fin = 0;
	bool good;

	EVP_DecodeInit(ctx);
	good = EVP_DecodeUpdate(ctx, buf, &len, (const unsigned char *)in,
				(int)n) >= 0 &&
	       EVP_DecodeFinal(ctx, buf + len, &fin) == 1;
	if (good)
		rv_buf_add(out, buf, (size_t)(len + fin));
	free(buf);
	EVP_ENCODE_CTX_free(ctx);
	return good;
}

/* The unfolded value of a header of msg; false when it is not there. */
static bool
header(const char *msg, const char *name, struct rv_buf *out)
{
	const char *end = strstr(msg, "\n\n"), *p = msg, *e;
	size_t nl = strlen(name);

	rv_buf_reset(out);
	if (end == NULL)
		return false;
	while (p < end) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ':' && p[nl + 1] == ' ') {
			for (p += nl + 2;; p = e + 1) {
				e = strchr(p, '\n');
				rv_buf_add(out, p, (size_t)(e - p));
				if (e[1] != ' ' && e[1] != '\t')
					return true;
			}
		}
		p = strchr(p, '\n') + 1;
	}
	return false;
}

/* Decodes a value made only of =?UTF-8?B?...?= words. */
static bool
decode_words(const char *v, struct rv_buf *out)
{
	const char *e;

	rv_buf_reset(out);
	for (;;) {
		v += strspn(v, " ");
		if (*v == '\0')
			return out->len > 0;
		if (strncmp(v, "=?UTF-8?B?", 10) != 0)
			return false;
		v += 10;
		if ((e = strstr(v, "?=")) == NULL || !b64dec(v, (size_t)(e - v), out))
			return false;
		v = e + 2;
	}
}

static size_t
longest_line(const char *s)
{
	size_t n, max = 0;

	for (;;) {
		n = strcspn(s, "\n");
		if (n > max)
			max = n;
		if (s[n] == '\0')
			return max;
		s += n + 1;
	}
}

/* The decoded body of the part of that type; checks its 76-char lines. */
static bool
part(const char *msg, const char *boundary, const char *type,
     struct rv_buf *out)
{
	char *head = rv_xasprintf("--%s\nContent-Type: %s; charset=utf-8\n"
				  "Content-Transfer-Encoding: base64\n\n",
				  boundary, type);
	char *tail = rv_xasprintf("\n--%s", boundary);
	const char *p = strstr(msg, head), *e, *l;
	bool good = false;

	rv_buf_reset(out);
	if (p != NULL) {
		p += strlen(head);
		e = strstr(p, tail);
		good = e != NULL;
		for (l = p; good && l < e; l += strcspn(l, "\n") + 1)
			good = strcspn(l, "\n") == 76 ||
			       l + strcspn(l, "\n") == e;
		good = good && b64dec(p, (size_t)(e - p + 1), out);
	}
	free(head);
	free(tail);
	return good;
}

static void
boundary_of(const char *msg, char *out, size_t size)
{
	struct rv_buf v = RV_BUF_INIT;
	const char *b;

	out[0] = '\0';
	if (header(msg, "Content-Type", &v) &&
	    (b = strstr(v.buf, "boundary=\"")) != NULL) {
		b += 10;
		snprintf(out, size, "%.*s", (int)strcspn(b, "\""), b);
	}
	rv_buf_release(&v);
}

static bool
is_err(int rc, const struct rv_err *err, int status, const char *code)
{
	bool good = rc == -1 && err->status == status && err->code != NULL &&
		    strcmp(err->code, code) == 0;

	if (!good)
		diag("rc %d status %d code %s msg '%s'", rc, err->status,
		     err->code ? err->code : "(null)", err->msg);
	return good;
}

static bool
retry_after(const struct rv_err *err)
{
	return strcmp(err->headers, "Retry-After: 60\r\n") == 0;
}

/* ---- the message --------------------------------------------------------- */

static void
test_build(struct rv_conf *conf)
{
	static const char text[] =
		"Ihr Bestätigungscode lautet 123456.\n"
		"Er ist 10 Minuten gültig. Wenn Sie ihn nicht angefordert "
		"haben, ignorieren Sie diese Nachricht.\n";
	static const char html[] =
		"<p>Ihr Bestätigungscode lautet <b>123456</b>.</p>\n";
	static const char ja[] =
		"認証コードのお知らせ：あなたの確認コードは以下の通りです。"
		"このコードの有効期限は十分間です";
	static const char longascii[] =
		"Your verification code for Example Application, valid for ten "
		"minutes, requested from a new device";
	struct rv_mail m = {
		.to = "user@example.com", .subject = "Ihr Bestätigungscode",
		.text = text, .html = html, .lang = "de",
	};
	struct rv_buf out = RV_BUF_INIT, v = RV_BUF_INIT, out2 = RV_BUF_INIT;
	struct rv_err err;
	char boundary[80], b2[80], id[80];
	struct tm tm;
	const char *p;
	time_t t;
	int rc;

	rv_err_init(&err);
	rc = rv_deliver_build_mail(conf, &m, &out, &err);
	ok(rc == 0, "a message builds");
	ok(header(out.buf, "From", &v) &&
	   strcmp(v.buf, "Reverify <noreply@example.com>") == 0,
	   "From is the configured mail-from");
	ok(header(out.buf, "To", &v) && strcmp(v.buf, "user@example.com") == 0,
	   "To is the recipient");
	ok(header(out.buf, "Subject", &v) &&
	   strncmp(v.buf, "=?UTF-8?B?", 10) == 0 &&
	   decode_words(v.buf, &out2) &&
	   strcmp(out2.buf, "Ihr Bestätigungscode") == 0,
	   "a German subject is an RFC 2047 word that decodes back");
	memset(&tm, 0, sizeof(tm));
	ok(header(out.buf, "Date", &v) &&
	   (p = strptime(v.buf, "%a, %d %b %Y %H:%M:%S +0000", &tm)) != NULL &&
	   *p == '\0' && (t = timegm(&tm)) != (time_t)-1 &&
	   labs((long)(t - time(NULL))) < 60,
	   "Date is RFC 5322 in UTC (+0000) and now ('%s')", v.buf);
	ok(header(out.buf, "Message-ID", &v) &&
	   sscanf(v.buf, "<%79[0-9a-z]@example.com>", id) == 1 &&
	   strlen(id) == 24 && strcmp(v.buf + strlen(v.buf) - 13, "@example.com>") == 0,
	   "Message-ID is <random@domain of mail-from> ('%s')", v.buf);
	ok(header(out.buf, "MIME-Version", &v) && strcmp(v.buf, "1.0") == 0,
	   "MIME-Version: 1.0");
	ok(header(out.buf, "Auto-Submitted", &v) &&
	   strcmp(v.buf, "auto-generated") == 0,
	   "Auto-Submitted: auto-generated");
	ok(header(out.buf, "Content-Language", &v) && strcmp(v.buf, "de") == 0,
	   "Content-Language from lang");
	boundary_of(out.buf, boundary, sizeof(boundary));
	ok(header(out.buf, "Content-Type", &v) &&
	   strncmp(v.buf, "multipart/alternative; boundary=\"", 33) == 0 &&
	   strlen(boundary) > 20,
	   "multipart/alternative with a boundary");
	{
		char *close = rv_xasprintf("\n--%s--\n", boundary);

		ok(strlen(out.buf) > strlen(close) &&
		   strcmp(out.buf + out.len - strlen(close), close) == 0,
		   "the message ends with the closing boundary");
		free(close);
	}
	ok(part(out.buf, boundary, "text/plain", &v) && strcmp(v.buf, text) == 0,
	   "the text/plain part is base64 in 76-char lines and decodes to the input");
	ok(part(out.buf, boundary, "text/html", &v) && strcmp(v.buf, html) == 0,
	   "the text/html part decodes to the input");
	ok(longest_line(out.buf) <= 78 && strchr(out.buf, '\r') == NULL &&
	   strlen(out.buf) == out.len,
	   "no line passes 78 characters, LF line ends only");

	rv_buf_reset(&out2);
	rc = rv_deliver_build_mail(conf, &m, &out2, &err);
	boundary_of(out2.buf, b2, sizeof(b2));
	ok(rc == 0 && strcmp(boundary, b2) != 0 &&
	   header(out2.buf, "Message-ID", &v) && strstr(v.buf, id) == NULL,
	   "each message has its own boundary and Message-ID");

	/* Japanese: several words, folded */
	m.subject = ja;
	m.lang = NULL;
	m.html = NULL;
	rv_buf_reset(&out);
	rc = rv_deliver_build_mail(conf, &m, &out, &err);
	ok(rc == 0 && header(out.buf, "Subject", &v) &&
	   strstr(out.buf, "?=\n =?UTF-8?B?") != NULL &&
	   decode_words(v.buf, &out2) && strcmp(out2.buf, ja) == 0,
	   "a long Japanese subject is folded into words that decode back");
	ok(longest_line(out.buf) <= 78,
	   "the folded Japanese subject keeps lines within 78 (longest %zu)",
	   longest_line(out.buf));
	boundary_of(out.buf, boundary, sizeof(boundary));
	ok(!header(out.buf, "Content-Language", &v) &&
	   part(out.buf, boundary, "text/plain", &v) &&
	   strstr(out.buf, "text/html") == NULL,
	   "without lang and html: no Content-Language, only a text part");

	/* ASCII stays ASCII */
	m.subject = "Your verification code";
	rv_buf_reset(&out);
	rc = rv_deliver_build_mail(conf, &m, &out, &err);
	ok(rc == 0 && strstr(out.buf, "\nSubject: Your verification code\n") != NULL,
	   "a plain ASCII subject stays plain");
	m.subject = longascii;
	rv_buf_reset(&out);
	rc = rv_deliver_build_mail(conf, &m, &out, &err);
	ok(rc == 0 && strstr(out.buf, "\nSubject: Your verification") != NULL &&
	   header(out.buf, "Subject", &v) && strcmp(v.buf, longascii) == 0 &&
	   longest_line(out.buf) <= 78,
	   "a long ASCII subject is folded at spaces and unfolds back");
	m.subject = "x =?UTF-8?B?QQ==?= y";
	rv_buf_reset(&out);
	rc = rv_deliver_build_mail(conf, &m, &out, &err);
	ok(rc == 0 && header(out.buf, "Subject", &v) &&
	   decode_words(v.buf, &out2) && strcmp(out2.buf, m.subject) == 0,
	   "an ASCII subject holding '=?' is encoded");

	/* a non-ASCII display name in mail-from */
	set(&conf->del_mail_from, "\"Bestätigung\" <noreply@example.com>");
	m.subject = "Code";
	rv_buf_reset(&out);
	rc = rv_deliver_build_mail(conf, &m, &out, &err);
	ok(rc == 0 && header(out.buf, "From", &v) &&
	   strcmp(v.buf + strlen(v.buf) - 22, " <noreply@example.com>") == 0 &&
	   (v.buf[strlen(v.buf) - 22] = '\0', decode_words(v.buf, &out2)) &&
	   strcmp(out2.buf, "Bestätigung") == 0,
	   "a non-ASCII display name in mail-from is encoded");
	set(&conf->del_mail_from, "noreply@mail.example.org");
	rv_buf_reset(&out);
	rc = rv_deliver_build_mail(conf, &m, &out, &err);
	ok(rc == 0 && header(out.buf, "Message-ID", &v) &&
	   strstr(v.buf, "@mail.example.org>") != NULL &&
	   header(out.buf, "From", &v) &&
	   strcmp(v.buf, "noreply@mail.example.org") == 0,
	   "a bare mail-from works too");
	set(&conf->del_mail_from, "Reverify <noreply@example.com>");

	rv_buf_release(&out);
	rv_buf_release(&out2);
	rv_buf_release(&v);
	rv_err_release(&err);
}

/* ---- refused values ---------------------------------------------------- */

static bool
refused(const char *what, const char *value, size_t max)
{
	struct rv_err err;
	int rc;
	bool good;

	rv_err_init(&err);
	rc = rv_deliver_check_header(what, value, max, &err);
	good = is_err(rc, &err, 400, "guard.invalid_input") &&
	       strncmp(err.details, what, strlen(what)) == 0;
	rv_err_release(&err);
	return good;
}

static void
test_injection(struct rv_conf *conf)
{
	struct rv_mail m = {
		.to = "a@example.com\r\nBcc: x@evil.example",
		.subject = "Your code", .text = "123456",
	};
	struct rv_buf out = RV_BUF_INIT;
	struct rv_err err;
	char *canary;
	int rc;

	rv_err_init(&err);
	canary = rv_xasprintf("%s touch-args", script("canary.sh",
		"cat >/dev/null; touch @/canary\n"));
	set(&conf->del_sendmail, canary);
	free(canary);

	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 400, "guard.invalid_input") && !exists("canary") &&
	   strstr(err.msg, "evil") == NULL,
	   "a To with CRLF + Bcc is refused (400) before anything runs");
	rv_err_release(&err);
	m.to = "a@example.com";
	m.subject = "Your code\nBcc: x@evil.example";
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 400, "guard.invalid_input") && !exists("canary"),
	   "a subject with LF is refused (400), nothing runs");
	rv_err_release(&err);
	m.subject = "Your code";
	set(&conf->del_mail_from, "noreply@example.com\001");
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 400, "guard.invalid_input") && !exists("canary"),
	   "a mail-from with a control character is refused (400), nothing runs");
	rv_err_release(&err);
	set(&conf->del_mail_from, "Reverify <noreply@example.com>");
	m.to = "a@example.com, x@evil.example";
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 400, "guard.invalid_input") && !exists("canary"),
	   "a To with two addresses is refused (sendmail -t would send to both)");
	rv_err_release(&err);
	m.to = "a@example.com";
	m.lang = "de\nBcc: x@evil.example";
	rc = rv_deliver_build_mail(conf, &m, &out, &err);
	ok(is_err(rc, &err, 400, "guard.invalid_input") && out.len == 0,
	   "a lang with LF is refused and nothing is built");
	rv_err_release(&err);
	m.lang = NULL;
	ok(rv_deliver_mail(conf, &m, &err) == 0 && exists("canary"),
	   "the canary script does run for a clean message (so the checks above mean it)");
	unlink(in_dir("canary"));

	ok(refused("subject", "a\tb", 100), "a TAB is refused");
	ok(refused("subject", "a\177b", 100), "DEL is refused");
	ok(refused("subject", "a\302\205b", 100), "a C1 control (U+0085 NEL) is refused");
	ok(refused("subject", "a\303(b", 100) && refused("subject", "\300\257", 100) &&
	   refused("subject", "\355\240\200", 100),
	   "invalid UTF-8 (bad continuation, overlong, surrogate) is refused");
	ok(refused("to", "abcdef", 5) && refused("to", NULL, 5),
	   "a value over max bytes, or NULL, is refused");
	ok(rv_deliver_check_header("subject", "Ihr Bestätigungscode 認証", 100,
				   &err) == 0 &&
	   rv_deliver_check_header("to", "abcde", 5, &err) == 0,
	   "UTF-8 text and a value of exactly max bytes pass");
	rv_err_release(&err);

	/* the same address check that rv_deliver_mail makes, on its own, so
	 * that a sender can refuse before it reserves anything */
	ok(rv_deliver_check_addr("to", "a@example.com", &err) == 0 &&
	   rv_deliver_check_addr("to", "a$|&`{x}~@example.com", &err) == 0,
	   "check_addr: one bare address passes, shell characters included");
	rc = rv_deliver_check_addr("to", "x@evil.example,a@example.com", &err);
	ok(is_err(rc, &err, 400, "guard.invalid_input") &&
	   strncmp(err.details, "to ", 3) == 0,
	   "check_addr: a list is refused (400), the details name what");
	rv_err_release(&err);
	rc = 0;
	{
		static const char *const bad[] = {
			"a;b@example.com", "$(id)@example.com", "Eve <e@example.com>",
			"\"a b\"@example.com", "a\\b@example.com", "a@b@example.com",
			"g:a@example.com;", "@example.com", "a@", "a@example.com\r\nBcc: x",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (rv_deliver_check_addr("to", bad[i], &err) == 0)
				rc = -1;
			rv_err_release(&err);
		}
	}
	ok(rc == 0, "check_addr: ; ( < \" \\ two @, a group, no local part or "
	   "domain, CR LF: each refused");
	rv_buf_release(&out);
	rv_err_release(&err);
}

/* ---- the runner -------------------------------------------------------- */

static int
run(const char *prog, const char *arg, const char *input, size_t len,
    int timeout_ms, char *errbuf, size_t errlen, struct rv_err *err)
{
	const char *argv[] = { prog, arg, NULL };
	int status = -2;

	rv_err_release(err);
	if (rv_deliver_run(argv, input, len, timeout_ms, &status, errbuf,
			   errlen, err) < 0)
		return -100;
	return status;
}

/* Is the process gone (or a zombie waiting for a parent that isn't us)? */
static bool
gone(pid_t pid)
{
	char path[64];
	struct rv_buf stat = RV_BUF_INIT;
	struct timespec pause = { 0, 50 * 1000000L };
	const char *p;
	bool dead = false;
	int i;

	/* SIGKILL is delivered asynchronously: on a loaded machine the
	 * process may take a moment to go; wait up to 3 s */
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (i = 0; i < 60 && !dead; i++) {
		if (i > 0)
			nanosleep(&pause, NULL);
		if (!read_path(path, &stat)) {
			dead = true;
			break;
		}
		dead = (p = strrchr(stat.buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z';
	}
	rv_buf_release(&stat);
	return dead;
}

static void
test_runner(void)
{
	struct rv_buf out = RV_BUF_INIT;
	struct rv_err err;
	char errbuf[64], *big;
	const char *exitsh, *sleepsh;
	long long t0, ms;
	struct timespec ts;
	sigset_t set;
	pid_t pid;
	size_t i;
	int st, fd;

	rv_err_init(&err);
	exitsh = script("exit.sh", "cat >/dev/null; exit \"$1\"\n");
	ok(run(exitsh, "0", "x", 1, 2000, NULL, 0, &err) == 0 &&
	   run(exitsh, "1", "x", 1, 2000, NULL, 0, &err) == 1 &&
	   run(exitsh, "75", "x", 1, 2000, NULL, 0, &err) == 75,
	   "exit statuses 0, 1, 75 come back as they are");
	ok(run(script("kill.sh", "kill -TERM $$\n"), NULL, "", 0, 2000, NULL, 0,
	       &err) == 256 + SIGTERM,
	   "a child killed by a signal gives 256 + the signal");

	sleepsh = script("sleep.sh", "sleep 5 &\necho $! >@/sleep.pid\nwait\n");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	/* 1 s: long enough for a loaded machine to start the script and let
	 * it write its pid; the upper bound is loose on purpose */
	st = run(sleepsh, NULL, "", 0, 1000, NULL, 0, &err);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ms = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 - t0;
	ok(st == -1 && ms >= 990 && ms < 4500,
	   "a child sleeping past the timeout is killed after about 1 s (%lld ms)",
	   ms);
	errno = 0;
	ok(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD,
	   "and reaped: no zombie of ours is left");
	ok(read_path(in_dir("sleep.pid"), &out) &&
	   (pid = (pid_t)atol(out.buf)) > 0 && gone(pid),
	   "what it started is killed too (its process group)");

	big = rv_xmalloc(1 << 20);
	memset(big, 'x', 1 << 20);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	st = run(script("noread.sh", "exit 0\n"), NULL, big, 1 << 20, 5000, NULL,
		 0, &err);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ms = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 - t0;
	ok(st == 0 && ms < 1000,
	   "a child that exits without reading 1 MiB of stdin: status 0, no hang (%lld ms)",
	   ms);
	sigpending(&set);
	ok(!sigismember(&set, SIGPIPE) &&
	   sigprocmask(SIG_BLOCK, NULL, &set) == 0 && !sigismember(&set, SIGPIPE),
	   "we survive it: no SIGPIPE pending, none left blocked");
	free(big);

	/* input reaches the child byte for byte (NULs, no final LF) */
	{
		static const char bin[] = "From: x\n\n\0binary\r\n.\n\377";

		ok(run(tools_path("outbox-sendmail"), "-t", bin, sizeof(bin) - 1,
		       2000, NULL, 0, &err) == 0 &&
		   take("mail-", &out) == 1 && out.len == sizeof(bin) - 1 &&
		   memcmp(out.buf, bin, out.len) == 0,
		   "stdin reaches the program exactly (outbox-sendmail keeps it byte for byte)");
	}

	ok(run(script("stderr.sh",
		      "printf 'line1\\001\\n' >&2\n"
		      "head -c 5000 /dev/zero | tr '\\000' e >&2\nexit 1\n"),
	       NULL, "", 0, 2000, errbuf, sizeof(errbuf), &err) == 1 &&
	   strncmp(errbuf, "line1\001\neee", 10) == 0 &&
	   strlen(errbuf) == sizeof(errbuf) - 1,
	   "stderr is captured, truncated to the buffer and NUL-terminated");

	ok(run(in_dir("no-such-program"), NULL, "x", 1, 2000, NULL, 0, &err) == -100 &&
	   err.status == 503 && strcmp(err.code, "connector.general") == 0 &&
	   retry_after(&err) && strstr(err.msg, "No such file") != NULL,
	   "a missing program cannot start: 503 connector.general + Retry-After");
	write_file("noexec.sh", "#!/bin/sh\nexit 0\n", 0644);
	ok(run(in_dir("noexec.sh"), NULL, "x", 1, 2000, NULL, 0, &err) == -100 &&
	   err.status == 503 && retry_after(&err),
	   "a program that is not executable: 503 (%s)", err.msg);
	ok(run("bin/sh", NULL, "", 0, 2000, NULL, 0, &err) == -100 &&
	   err.status == 503 && strstr(err.msg, "not an absolute path") != NULL,
	   "a relative program path is refused: 503, not an absolute path");

	/* no descriptor of ours reaches the child, close-on-exec or not */
	fd = open("/dev/null", O_RDONLY);
	RV_ASSERT(fd >= 0 && dup2(fd, 42) == 42);
	ok(run(script("fds.sh", "ls /proc/self/fd >@/fds\n"), NULL, "", 0, 2000,
	       NULL, 0, &err) == 0 &&
	   read_path(in_dir("fds"), &out) && strcmp(out.buf, "0\n1\n2\n3\n") == 0,
	   "the child has only fds 0, 1, 2 (+ the one ls opens)");
	if (strcmp(out.buf, "0\n1\n2\n3\n") != 0) {
		for (i = 0; i < out.len; i++)
			if (out.buf[i] == '\n')
				out.buf[i] = ' ';
		diag("the child's fds: %s", out.buf);
	}
	close(fd);
	close(42);

	setenv("RV_TEST_SECRET", "do-not-pass", 1);
	ok(run(script("env.sh", "env >@/env\n"), NULL, "", 0, 2000, NULL, 0,
	       &err) == 0 && read_path(in_dir("env"), &out) &&
	   strstr(out.buf, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n") != NULL &&
	   strstr(out.buf, "LANG=C.UTF-8\n") != NULL &&
	   strstr(out.buf, "REVERIFY_OUTBOX=") != NULL &&
	   strstr(out.buf, "RV_TEST_SECRET") == NULL &&
	   strstr(out.buf, "HOME=") == NULL,
	   "the child gets only PATH, LANG and REVERIFY_OUTBOX from us");
	unsetenv("RV_TEST_SECRET");

	rv_buf_release(&out);
	rv_err_release(&err);
}

/* ---- sending ------------------------------------------------------------- */

static void
test_mail(struct rv_conf *conf, const char *logpath)
{
	static const char text[] = "Your verification code is 123456.\n";
	struct rv_mail m = {
		.to = "user@example.com", .subject = "Your verification code",
		.text = text, .lang = "en",
	};
	struct rv_buf out = RV_BUF_INIT, v = RV_BUF_INIT;
	struct rv_err err;
	char boundary[80], *cmd;
	const char *p;
	int rc;

	rv_err_init(&err);
	cmd = rv_xasprintf("%s -t -i", tools_path("outbox-sendmail"));
	set(&conf->del_sendmail, cmd);
	free(cmd);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(rc == 0 && take("mail-", &out) == 1 && stray_files() == 0,
	   "rv_deliver_mail through outbox-sendmail: 0, one .eml file, no temp file");
	boundary_of(out.buf, boundary, sizeof(boundary));
	ok(strncmp(out.buf, "From: Reverify <noreply@example.com>\nTo: user@example.com\n", 58) == 0 &&
	   part(out.buf, boundary, "text/plain", &v) && strcmp(v.buf, text) == 0,
	   "the outbox holds the message, and its text decodes to the input");

	write_file("FAIL", "temp\n", 0644);
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 503, "connector.general") && retry_after(&err) &&
	   stray_files() == 0,
	   "outbox FAIL holding 'temp': exit 75, 503 + Retry-After, nothing written");
	write_file("FAIL", "broken\n", 0644);
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 502, "connector.general") && err.headers[0] == '\0' &&
	   stray_files() == 0,
	   "outbox FAIL without 'temp': exit 1, 502 without Retry-After");
	ok(strstr(err.msg, "exited with status 1") != NULL &&
	   strstr(err.msg, "123456") == NULL && strstr(err.msg, "user@") == NULL,
	   "err->msg says what happened, without the code or the recipient ('%s')",
	   err.msg);
	unlink(in_dir("FAIL"));

	cmd = rv_xasprintf("%s 75", in_dir("exit.sh"));
	set(&conf->del_sendmail, cmd);
	free(cmd);
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 503, "connector.general") && retry_after(&err),
	   "sendmail exit 75 (EX_TEMPFAIL): 503 + Retry-After");
	cmd = rv_xasprintf("%s 1", in_dir("exit.sh"));
	set(&conf->del_sendmail, cmd);
	free(cmd);
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 502, "connector.general"), "sendmail exit 1: 502");
	cmd = rv_xasprintf("%s 0", in_dir("exit.sh"));
	set(&conf->del_sendmail, cmd);
	free(cmd);
	rv_err_release(&err);
	ok(rv_deliver_mail(conf, &m, &err) == 0, "sendmail exit 0: sent");
	set(&conf->del_sendmail, in_dir("kill.sh"));
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 503, "connector.general") && retry_after(&err) &&
	   strstr(err.msg, "signal 15") != NULL,
	   "sendmail killed by a signal: 503 + Retry-After");
	set(&conf->del_sendmail, "/nonexistent/sendmail -t -i");
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 503, "connector.general") && retry_after(&err),
	   "a missing sendmail: 503 + Retry-After");
	set(&conf->del_sendmail, "sendmail -t -i");
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 503, "connector.general") &&
	   strstr(err.msg, "not an absolute path") != NULL,
	   "a relative sendmail path is refused: 503, not an absolute path");

	set(&conf->del_sendmail, in_dir("stderr.sh"));
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 502, "connector.general") &&
	   strstr(err.msg, "line1") == NULL,
	   "the program's stderr is not in err (502 for its exit 1)");
	ok(read_path(logpath, &out) && strstr(out.buf, "line1\\x01\\x0aeeee") != NULL &&
	   strchr(out.buf, '\001') == NULL &&
	   strstr(out.buf, "'sendmail' is not an absolute path") != NULL &&
	   strstr(out.buf, "123456") == NULL,
	   "the log has the program's stderr (escaped) and the path complaint, never the code");
	/* "line1\001\n" (7 bytes) + 505 'e' = 512 */
	ok((p = strstr(out.buf, "\\x0ae")) != NULL && strspn(p + 4, "e") == 505,
	   "the log keeps only the first 512 bytes of stderr");

	set(&conf->del_mail_from, "");
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(!rv_deliver_mail_configured(conf) &&
	   is_err(rc, &err, 501, "connector.not_found") && err.nvars == 1 &&
	   strcmp(err.vars[0].name, "type") == 0 &&
	   strcmp(err.vars[0].value, "Email") == 0,
	   "no mail-from: 501 connector.not_found, type Email");
	m.to = "a@example.com\nBcc: x@evil.example";
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(is_err(rc, &err, 400, "guard.invalid_input"),
	   "a bad recipient is still a 400 when e-mail is off (no 5xx for a client mistake)");
	m.to = "user@example.com";
	set(&conf->del_mail_from, "Reverify <noreply@example.com>");
	set(&conf->del_sendmail, "");
	rv_err_release(&err);
	rc = rv_deliver_mail(conf, &m, &err);
	ok(!rv_deliver_mail_configured(conf) &&
	   is_err(rc, &err, 501, "connector.not_found"),
	   "no sendmail command: 501 connector.not_found");

	rv_buf_release(&out);
	rv_buf_release(&v);
	rv_err_release(&err);
}

static void
test_sms(struct rv_conf *conf)
{
	static const char *const evil[] = {
		"; touch @/canary", "$(touch @/canary)", "`touch @/canary`",
		"| touch @/canary",
	};
	struct rv_buf out = RV_BUF_INIT, want = RV_BUF_INIT;
	struct rv_err err;
	const char *p;
	size_t i;
	int rc;
	bool good;

	rv_err_init(&err);
	ok(!rv_deliver_sms_configured(conf) &&
	   is_err(rv_deliver_sms(conf, "4915112345678", "x", &err), &err, 501,
		  "connector.not_found") &&
	   strcmp(err.vars[0].value, "Sms") == 0,
	   "no sms-command: 501 connector.not_found, type Sms");
	rv_err_release(&err);
	ok(is_err(rv_deliver_sms(conf, "49; x", "x", &err), &err, 400,
		  "guard.invalid_input"),
	   "a bad phone is still a 400 when SMS is off");
	set(&conf->del_sms_command, tools_path("outbox-sms"));
	rv_err_release(&err);
	rc = rv_deliver_sms(conf, "4915112345678", "Your code is 123456", &err);
	ok(rc == 0 && take("sms-", &out) == 1 && stray_files() == 0 &&
	   strcmp(out.buf, "To: 4915112345678\n\nYour code is 123456") == 0,
	   "rv_deliver_sms through outbox-sms: To: line, blank line, the text");

	good = true;
	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		rv_buf_reset(&want);
		for (p = evil[i]; *p != '\0'; p++)
			if (*p == '@')
				rv_buf_addstr(&want, dir);
			else
				rv_buf_addch(&want, *p);
		rc = run(tools_path("outbox-sms"), want.buf, "hi", 2, 2000, NULL,
			 0, &err);
		good = good && rc == 0 && take("sms-", &out) == 1 &&
		       strncmp(out.buf, "To: ", 4) == 0 &&
		       strncmp(out.buf + 4, want.buf, want.len) == 0 &&
		       strcmp(out.buf + 4 + want.len, "\n\nhi") == 0 &&
		       !exists("canary");
		if (!good)
			diag("'%s' gave rc %d, file '%s'", want.buf, rc, out.buf);
	}
	ok(good, "shell metacharacters in the phone reach the script as one literal argument");
	ok(!exists("canary"), "and no canary appears");

	good = true;
	for (i = 0; i < 5; i++) {
		static const char *const bad[] = {
			"123; touch x", "", "123456789012345678901234567890123",
			"+4915112345678", "49 151",
		};
		rv_err_release(&err);
		rc = rv_deliver_sms(conf, bad[i], "x", &err);
		good = good && is_err(rc, &err, 400, "guard.invalid_input");
	}
	ok(good && stray_files() == 0,
	   "rv_deliver_sms refuses a phone that is not 1-32 digits (400), sends nothing");
	ok(rv_deliver_sms(conf, "12345678901234567890123456789012", "x", &err) == 0 &&
	   take("sms-", &out) == 1, "32 digits are fine");

	write_file("FAIL", "please fail, temp\n", 0644);
	rv_err_release(&err);
	rc = rv_deliver_sms(conf, "4915112345678", "x", &err);
	ok(is_err(rc, &err, 503, "connector.general") && retry_after(&err) &&
	   stray_files() == 0, "SMS with outbox FAIL 'temp': 503 + Retry-After");
	write_file("FAIL", "attempted\n", 0644);
	rv_err_release(&err);
	rc = rv_deliver_sms(conf, "4915112345678", "x", &err);
	ok(is_err(rc, &err, 502, "connector.general"),
	   "SMS with outbox FAIL without the word 'temp': 502");
	unlink(in_dir("FAIL"));

	ok(run(tools_path("outbox-sms"), NULL, "x", 1, 2000, NULL, 0, &err) == 1 &&
	   stray_files() == 0, "outbox-sms without a phone: exit 1");
	setenv("REVERIFY_OUTBOX", in_dir("exit.sh"), 1);
	ok(run(tools_path("outbox-sendmail"), "-t", "x", 1, 2000, NULL, 0, &err) == 1,
	   "outbox-sendmail with a REVERIFY_OUTBOX that is not a directory: exit 1");
	unsetenv("REVERIFY_OUTBOX");
	{
		char errbuf[128];

		ok(run(tools_path("outbox-sms"), "1", "x", 1, 2000, errbuf,
		       sizeof(errbuf), &err) == 1 &&
		   strstr(errbuf, "REVERIFY_OUTBOX is not set") != NULL,
		   "outbox-sms without REVERIFY_OUTBOX: exit 1 with a message");
	}
	setenv("REVERIFY_OUTBOX", dir, 1);

	/* the timeout through the send path: <delivery timeout> is seconds */
	set(&conf->del_sms_command, in_dir("sleep.sh"));
	conf->del_timeout = 1;
	rv_err_release(&err);
	rc = rv_deliver_sms(conf, "4915112345678", "x", &err);
	ok(is_err(rc, &err, 503, "connector.general") && retry_after(&err) &&
	   strstr(err.msg, "timed out after 1 s") != NULL,
	   "an SMS program past <delivery timeout>: 503 + Retry-After");

	rv_buf_release(&out);
	rv_buf_release(&want);
	rv_err_release(&err);
}

/* a thread that takes whatever signal comes to it, as a library's might */
static void *
idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* scandir's filter: the tasks, by their numeric names */
static int
a_task(const struct dirent *e)
{
	return e->d_name[0] >= '0' && e->d_name[0] <= '9';
}

/* the blocked-signal mask of every thread but this one, ANDed: 0 when
 * another thread takes signals */
static unsigned long long
others_blocked(void)
{
	char path[320], line[256];
	unsigned long long all = ~0ULL, m;
	struct dirent **names = NULL;
	int i, n = scandir("/proc/self/task", &names, a_task, alphasort);
	FILE *f;

	for (i = 0; names != NULL && i < n; i++) {
		const char *t = names[i]->d_name;

		if (t[0] != '.' && atol(t) != (long)getpid()) {
			snprintf(path, sizeof(path), "/proc/self/task/%s/status", t);
			if ((f = fopen(path, "r")) != NULL) {
				while (fgets(line, sizeof(line), f) != NULL)
					if (sscanf(line, "SigBlk: %llx", &m) == 1)
						all &= m;
				fclose(f);
			}
		}
		free(names[i]);
	}
	free(names);
	return all;
}

/* SIGCHLD and threads: the runner hears its child's exit through a
 * signalfd, which only sees a SIGCHLD that no other thread took */
static void
test_threads(void)
{
	struct rv_err err;
	struct timespec t0, t1;
	unsigned long long bit = 1ULL << (SIGCHLD - 1), term = 1ULL << (SIGTERM - 1);
	pthread_t t;

	rv_err_init(&err);
	rv_store_watchdog();
	ok((others_blocked() & bit) && (others_blocked() & term),
	   "the store's watchdog thread blocks SIGCHLD and SIGTERM (the main thread gets them)");
	if (pthread_create(&t, NULL, idle_thread, NULL) != 0) {
		ok(0, "a thread that takes signals");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(run("/bin/true", NULL, NULL, 0, 30000, NULL, 0, &err) == 0,
	   "with a thread that takes SIGCHLD, a child still runs and exits 0");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(t1.tv_sec - t0.tv_sec < 15,
	   "and the runner sees the exit long before its 30 s timeout (%lld s)",
	   (long long)(t1.tv_sec - t0.tv_sec));
	rv_err_release(&err);
}

int
main(void)
{
	struct rv_conf conf;
	const char *top = getenv("top_srcdir");
	char logpath[PATH_MAX + 16];

	if (realpath(top != NULL ? top : ".", tools) == NULL ||
	    strlen(tools) + 7 > sizeof(tools)) {
		printf("Bail out! cannot resolve top_srcdir\n");
		return 1;
	}
	strcat(tools, "/tools");
	dir = fixture_dir("deliver");
	setenv("REVERIFY_OUTBOX", dir, 1);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	rv_log_init("unit-deliver");
	rv_log_open(RV_LOG_FILE, NULL, logpath, RV_LOG_LEVEL_INFO);

	rv_conf_defaults(&conf);
	set(&conf.del_mail_from, "Reverify <noreply@example.com>");
	ok(!rv_deliver_sms_configured(&conf) && rv_deliver_mail_configured(&conf),
	   "defaults: e-mail on once mail-from is set, SMS off");

	test_build(&conf);
	test_injection(&conf);
	test_runner();
	test_mail(&conf, logpath);
	test_sms(&conf);
	test_threads();	/* last: it leaves two threads running */

	rv_log_close();
	rv_conf_release(&conf);
	fixture_cleanup();
	return done_testing();
}
