/* rv-util.c: allocation that never fails, assertions, small string helpers */
#include "config.h"
#include "rv-util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "rv-log.h"

static void __attribute__((noreturn))
oom(size_t n)
{
	rv_log_warnx("out of memory allocating %zu bytes", n);
	abort();
}

void *
rv_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
rv_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
rv_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *
rv_xstrdup(const char *s)
{
	return rv_xstrndup(s, strlen(s));
}

char *
rv_xstrndup(const char *s, size_t n)
{
	char *p = rv_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
rv_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return s;
}

void
rv_bug(const char *file, int line, const char *what)
{
	rv_log_warnx("BUG: %s:%d: assertion '%s' failed", file, line, what);
	abort();
}

static bool setup_deferred;

void
rv_setup_defer(bool on)
{
	setup_deferred = on;
}

bool
rv_setup_deferred(void)
{
	return setup_deferred;
}

static void (*idle_fns[8])(void);

void
rv_on_idle(void (*fn)(void))
{
	size_t i;

	for (i = 0; i < sizeof(idle_fns) / sizeof(idle_fns[0]); i++) {
		if (idle_fns[i] == fn)
			return;
		if (idle_fns[i] == NULL) {
			idle_fns[i] = fn;
			return;
		}
	}
	rv_bug(__FILE__, __LINE__, "more than 8 idle functions");
}

void
rv_run_idle(void)
{
	size_t i;

	for (i = 0; i < sizeof(idle_fns) / sizeof(idle_fns[0]) && idle_fns[i]; i++)
		idle_fns[i]();
}

void
rv_ensure_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

void
rv_wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
	/* glibc's is memset with a barrier; OpenSSL's goes a byte at a
	 * time, a quarter of the wiping frees' cost (doc/performance.md) */
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	OPENSSL_cleanse(p, n);
#endif
}

size_t
rv_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

char
rv_ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int
rv_hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
rv_utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	long cp;
	int n, i;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 1;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 2;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 3;
	else
		return -1;
	cp = p[0] & (0x3f >> n);
	if (end - p <= n)
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*pp = p + n + 1;
	return cp;
}

bool
rv_str_ieq(const char *a, const char *b)
{
	while (*a && rv_ascii_lower(*a) == rv_ascii_lower(*b))
		a++, b++;
	return *a == '\0' && *b == '\0';
}

bool
rv_str_iprefix(const char *s, const char *prefix)
{
	while (*prefix) {
		if (rv_ascii_lower(*s) != rv_ascii_lower(*prefix))
			return false;
		s++, prefix++;
	}
	return true;
}

const char *
rv_str_show(const char *s, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 4 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[n++] = c >= 0x20 && c < 0x7f && c != '\'' ? (char)c : '?';
	}
	if (s[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

int
rv_parse_ll(const char *s, long long min, long long max, long long *v_r)
{
	long long v = 0;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (LLONG_MAX - (*p - '0')) / 10)
			return -1;	/* would overflow */
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*v_r = v;
	return 0;
}

void
rv_iso8601_ms(long long ms, char out[32])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	if (strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		out[0] = '\0';
	snprintf(out + strlen(out), 8, ".%03dZ", (int)(ms % 1000 + 1000) % 1000);
}

const char *
rv_file_unsafe(const char *path, const struct stat *sb)
{
	const char *slash = strrchr(path, '/');
	struct stat dsb;
	char *dir;
	int rc;

	if (sb->st_mode & (S_IWGRP | S_IWOTH))
		return "is writable by group or others: refusing it (chmod go-w)";
	if (slash == NULL)
		dir = rv_xstrdup(".");
	else if (slash == path)
		dir = rv_xstrdup("/");
	else
		dir = rv_xasprintf("%.*s", (int)(slash - path), path);
	rc = stat(dir, &dsb);
	free(dir);
	if (rc == 0 && (dsb.st_mode & S_IWOTH) && !(dsb.st_mode & S_ISVTX))
		return "is in a directory anyone may write to: refusing it "
		       "(chmod o-w or +t on the directory)";
	return NULL;
}

/* the two characters after A-Z, a-z, 0-9 of each alphabet */
static const char b64_extra[][2] = {
	[RV_B64_STD] = { '+', '/' },
	[RV_B64_AB64] = { '.', '/' },
	[RV_B64_URL] = { '-', '_' },
};

static int
b64_value(char c, enum rv_b64_alphabet alpha)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == b64_extra[alpha][0])
		return 62;
	if (c == b64_extra[alpha][1])
		return 63;
	return -1;
}

static char
b64_char(unsigned int v, enum rv_b64_alphabet alpha)
{
	if (v < 26)
		return (char)('A' + v);
	if (v < 52)
		return (char)('a' + v - 26);
	if (v < 62)
		return (char)('0' + v - 52);
	return b64_extra[alpha][v - 62];
}

size_t
rv_b64_encode(const void *in, size_t n, enum rv_b64_alphabet alpha, bool pad,
	      char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned int v = (unsigned int)p[i] << 16 | (unsigned int)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64_char(v >> 18, alpha);
		out[o++] = b64_char(v >> 12 & 63, alpha);
		out[o++] = b64_char(v >> 6 & 63, alpha);
		out[o++] = b64_char(v & 63, alpha);
	}
	if (i < n) {
		unsigned int v = (unsigned int)p[i] << 16 |
				 (i + 1 < n ? (unsigned int)p[i + 1] << 8 : 0);

		out[o++] = b64_char(v >> 18, alpha);
		out[o++] = b64_char(v >> 12 & 63, alpha);
		if (i + 1 < n)
			out[o++] = b64_char(v >> 6 & 63, alpha);
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int
rv_b64_decode(const char *in, size_t n, enum rv_b64_alphabet alpha,
	      enum rv_b64_pad pad, unsigned char *out, size_t max,
	      size_t *len_r)
{
	size_t npad = 0, rem, outlen, i, o = 0;
	unsigned int acc = 0;
	int bits = 0;

	while (npad < n && in[n - 1 - npad] == '=')
		npad++;
	n -= npad;
	rem = n % 4;
	if (n == 0 || rem == 1 || npad > 2)
		return -1;
	if (npad > 0 && (pad == RV_B64_PAD_NO || rem == 0 || npad != 4 - rem))
		return -1;
	if (npad == 0 && pad == RV_B64_PAD_REQ && rem != 0)
		return -1;
	outlen = n / 4 * 3 + (rem == 0 ? 0 : rem - 1);
	if (outlen > max)
		return -1;
	for (i = 0; i < n; i++) {
		int v = b64_value(in[i], alpha);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned int)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;	/* not the canonical encoding */
	*len_r = o;
	return 0;
}

long long
rv_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
