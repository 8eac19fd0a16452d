/* rv-mail.c: the e-mail message: RFC 5322, RFC 2047 words, MIME, base64 */
#include "config.h"
#include "rv-mail.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rv-buf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

#define WORD_BYTES	42	/* bytes per RFC 2047 word, see add_encoded_words */

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
rv_mail_compose(const char *from, const struct rv_mail *m, struct rv_buf *out,
		struct rv_err *err)
{
	struct rv_buf msg = RV_BUF_INIT;
	char domain[256], msgid[25], boundary[40];

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
