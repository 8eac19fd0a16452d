/* rv-deliver.c: sending codes: the e-mail message, sendmail and SMS programs */
#include "config.h"
#include "rv-deliver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

#if defined(__GLIBC__) && \
	(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define RV_HAVE_ADDCLOSEFROM 1
#endif

#define ERRBUF_LOG	512	/* bytes of a program's stderr that reach the log */
#define WORD_BYTES	42	/* bytes per RFC 2047 word, see add_encoded_words */

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

/* ---- the message ------------------------------------------------------- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 (RFC 4648) of data; with wrap, in lines of wrap characters, each
 * ended by LF (the last one too). */
static void
add_base64(struct rv_buf *out, const void *data, size_t n, size_t wrap)
{
	const unsigned char *s = data;
	unsigned long v;
	size_t i, col = 0;
	char q[4];

	for (i = 0; i < n; i += 3) {
		v = (unsigned long)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = b64chars[v >> 18 & 63];
		q[1] = b64chars[v >> 12 & 63];
		q[2] = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64chars[v & 63] : '=';
		rv_buf_add(out, q, 4);
		col += 4;
		if (wrap != 0 && col >= wrap) {
			rv_buf_addch(out, '\n');
			col = 0;
		}
	}
	if (wrap != 0 && col != 0)
		rv_buf_addch(out, '\n');
}

/* Printable ASCII only: such a value may appear in a header as it is. */
static bool
is_plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* Column of the end of out (characters since its last LF). */
static size_t
column(const struct rv_buf *out)
{
	size_t i = out->len;

	while (i > 0 && out->buf[i - 1] != '\n')
		i--;
	return out->len - i;
}

/*
 * s (valid UTF-8) as RFC 2047 "B" words of whole characters (RFC 2047 6.3),
 * WORD_BYTES bytes at most: 56 base64 characters, 68 with "=?UTF-8?B?" and
 * "?=". Words after the first go on continuation lines (" " + 68), and the
 * first one follows a header name of at most 9 characters ("Subject: "),
 * so no line passes 78 characters (RFC 5322 2.1.1, RFC 2047 2).
 */
static void
add_encoded_words(struct rv_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = 0, end, n;

	while (p[start] != '\0') {
		end = start;
		while (p[end] != '\0') {
			n = p[end] < 0x80 ? 1 : p[end] < 0xe0 ? 2 :
			    p[end] < 0xf0 ? 3 : 4;
			if (end + n - start > WORD_BYTES)
				break;
			end += n;
		}
		if (start != 0)
			rv_buf_addstr(out, "\n ");
		rv_buf_addstr(out, "=?UTF-8?B?");
		add_base64(out, p + start, end - start, 0);
		rv_buf_addstr(out, "?=");
		start = end;
	}
}

/* A plain ASCII value, folded before a space when a line would pass 78. */
static void
add_folded(struct rv_buf *out, const char *s)
{
	size_t col = column(out), first = col, seg;

	while (*s != '\0') {
		seg = strspn(s, " ");
		seg += strcspn(s + seg, " ");
		if (*s == ' ' && col > first && col + seg > 78) {
			rv_buf_addch(out, '\n');
			col = 0;
		}
		rv_buf_add(out, s, seg);
		col += seg;
		s += seg;
	}
}

static void
add_subject(struct rv_buf *out, const char *subject)
{
	rv_buf_addstr(out, "Subject: ");
	/* "=?" in plain text would be read as an encoded word */
	if (is_plain(subject) && strstr(subject, "=?") == NULL)
		add_folded(out, subject);
	else
		add_encoded_words(out, subject);
	rv_buf_addch(out, '\n');
}

/* From: as configured; only a non-ASCII display name needs encoding. An
 * address with UTF-8 in it goes as it is (RFC 6532). */
static void
add_from(struct rv_buf *out, const char *from)
{
	const char *lt = strrchr(from, '<');
	char *name;
	size_t b, e;

	rv_buf_addstr(out, "From: ");
	if (is_plain(from) || lt == NULL || !is_plain(lt)) {
		rv_buf_addf(out, "%s\n", from);
		return;
	}
	b = strspn(from, " ");
	e = (size_t)(lt - from);
	while (e > b && from[e - 1] == ' ')
		e--;
	if (e - b >= 2 && from[b] == '"' && from[e - 1] == '"') {
		b++;
		e--;
	}
	name = rv_xstrndup(from + b, e - b);
	add_encoded_words(out, name);
	free(name);
	rv_buf_addstr(out, column(out) + 1 + strlen(lt) > 78 ? "\n " : " ");
	rv_buf_addf(out, "%s\n", lt);
}

/* The domain of mail-from, for Message-ID; "localhost" when it has none we
 * can use there. */
static void
from_domain(const char *from, char *out, size_t size)
{
	const char *a = strrchr(from, '<'), *at;
	size_t n;

	a = a != NULL ? a + 1 : from;
	n = strcspn(a, ">");
	at = memrchr(a, '@', n);
	if (at != NULL) {
		at++;
		n -= (size_t)(at - a);
		if (n > 0 && n < size &&
		    strspn(at, "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") >= n &&
		    at[0] != '.' && at[0] != '-') {
			memcpy(out, at, n);
			out[n] = '\0';
			return;
		}
	}
	rv_strlcpy(out, "localhost", size);
}

static void
add_date(struct rv_buf *out)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	time_t now = time(NULL);
	struct tm tm;

	/* fixed English names: strftime would follow the C locale */
	gmtime_r(&now, &tm);
	rv_buf_addf(out, "Date: %s, %d %s %d %02d:%02d:%02d +0000\n",
		    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
add_part(struct rv_buf *out, const char *boundary, const char *type,
	 const char *body)
{
	rv_buf_addf(out, "--%s\n"
		    "Content-Type: %s; charset=utf-8\n"
		    "Content-Transfer-Encoding: base64\n\n",
		    boundary, type);
	add_base64(out, body, strlen(body), 76);
}

int
rv_deliver_build_mail(const struct rv_conf *conf, const struct rv_mail *m,
		      struct rv_buf *out, struct rv_err *err)
{
	struct rv_buf msg = RV_BUF_INIT;
	const char *from = conf->del_mail_from;
	char domain[256], msgid[25], boundary[40];

	if (check_mail(m, err) < 0 ||
	    rv_deliver_check_header("mail-from", from, RV_DELIVER_MAX_FROM,
				    err) < 0)
		return -1;
	if (!has_word(from))
		return refuse(err, "mail-from", "is empty");
	if (rv_random_id(msgid, sizeof(msgid) - 1, err) < 0)
		return -1;
	/* "=_" cannot occur in base64, so the boundary never meets a body */
	memcpy(boundary, "=_rv_", 5);
	if (rv_random_id(boundary + 5, 24, err) < 0)
		return -1;
	from_domain(from, domain, sizeof(domain));

	add_from(&msg, from);
	rv_buf_addf(&msg, "To: %s\n", m->to);
	add_subject(&msg, m->subject);
	add_date(&msg);
	rv_buf_addf(&msg, "Message-ID: <%s@%s>\n", msgid, domain);
	rv_buf_addstr(&msg, "MIME-Version: 1.0\n"
		      "Auto-Submitted: auto-generated\n");
	if (m->lang != NULL)
		rv_buf_addf(&msg, "Content-Language: %s\n", m->lang);
	rv_buf_addf(&msg, "Content-Type: multipart/alternative;\n"
		    " boundary=\"%s\"\n\n", boundary);
	add_part(&msg, boundary, "text/plain", m->text);
	if (m->html != NULL)
		add_part(&msg, boundary, "text/html", m->html);
	rv_buf_addf(&msg, "--%s--\n", boundary);

	rv_buf_add(out, msg.buf, msg.len);
	/* the bodies hold the code */
	rv_buf_release_secret(&msg);
	return 0;
}

/* ---- the runner -------------------------------------------------------- */

static int
unavailable(struct rv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* 503 connector.general + Retry-After: a failure worth retrying later */
static int
unavailable(struct rv_err *err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rv_err_set(err, RV_E_DELIVERY_LATER, "%s", msg);
	rv_err_header(err, "Retry-After", "%d", RV_DELIVER_RETRY_AFTER);
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
		return unavailable(err, "cannot run '%s': %s", argv[0],
				   strerror(rc));
	return 0;
}

int
rv_deliver_run(const char *const argv[], const char *input, size_t len,
	       int timeout_ms, int *status_r, char *errbuf, size_t errlen,
	       struct rv_err *err)
{
	int in[2] = { -1, -1 }, ep[2] = { -1, -1 };
	sigset_t pipeset, oldmask, pending;
	struct timespec zero = { 0, 0 };
	struct pollfd pfd[2];
	long long deadline, left;
	size_t off = 0, got = 0, chunk;
	bool had_sigpipe;
	int rc = -1, wst = 0, n, in_i, err_i, step = 1, i;
	ssize_t w;
	pid_t pid, r;

	RV_ASSERT(argv != NULL && argv[0] != NULL);
	*status_r = -1;
	if (errlen > 0)
		errbuf[0] = '\0';
	if (argv[0][0] != '/')
		return unavailable(err, "'%s' is not an absolute path", argv[0]);
	/* posix_spawn may report a failed exec only as exit status 127 (it
	 * does under valgrind): say why while we still can */
	if (faccessat(AT_FDCWD, argv[0], X_OK, AT_EACCESS) == -1)
		return unavailable(err, "cannot run '%s': %s", argv[0],
				   strerror(errno));
	if (make_pipe(in) < 0 || make_pipe(ep) < 0) {
		unavailable(err, "cannot make a pipe: %s", strerror(errno));
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
		in_i = err_i = -1;
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
		/* the pipes wake us; the exit of a child that has closed
		 * them is noticed by the waitpid above, soon enough */
		i = poll(pfd, (nfds_t)n, left < step ? (int)left : step);
		if (i <= 0) {
			if (step < 50)
				step *= 2;
			continue;
		}
		step = 1;
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
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	return rc;
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
		unavailable(err, "%s program '%s' is not an absolute path",
			    channel, argv[0]);
		goto out;
	}
	if (timeout > INT_MAX / 1000)
		timeout = INT_MAX / 1000;
	if (rv_deliver_run(argv, input, len, (int)(timeout * 1000), &status,
			   errbuf, sizeof(errbuf), &rerr) < 0) {
		rv_log_warnx("%s: %s", channel, rerr.msg);
		unavailable(err, "%s", rerr.msg);
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
		unavailable(err, "%s", msg);
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
