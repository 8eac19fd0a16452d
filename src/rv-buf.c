/* rv-buf.c: growable byte/string buffer (git strbuf style) */
#include "config.h"
#include "rv-buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-util.h"

char rv_buf_empty[1];

void
rv_buf_init(struct rv_buf *b)
{
	b->buf = rv_buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->secret = false;
}

void
rv_buf_release(struct rv_buf *b)
{
	if (b->alloc)
		free(b->buf);
	rv_buf_init(b);
}

void
rv_buf_release_secret(struct rv_buf *b)
{
	if (b->alloc)
		rv_wipe(b->buf, b->alloc);
	rv_buf_release(b);
}

void
rv_buf_grow(struct rv_buf *b, size_t n)
{
	size_t need;

	if (n > (size_t)-1 / 2 - b->len)
		rv_bug(__FILE__, __LINE__, "buffer size overflow");
	need = b->len + n + 1;
	if (need <= b->alloc)
		return;
	if (b->alloc == 0) {
		b->alloc = need < 64 ? 64 : need;
		b->buf = rv_xmalloc(b->alloc);
		b->buf[0] = '\0';
		return;
	}
	while (b->alloc < need)
		b->alloc = b->alloc * 3 / 2 + 16;
	if (b->secret) {
		char *nb = rv_xmalloc(b->alloc);

		memcpy(nb, b->buf, b->len + 1);
		rv_wipe(b->buf, b->len);
		free(b->buf);
		b->buf = nb;
		return;
	}
	b->buf = rv_xrealloc(b->buf, b->alloc);
}

void
rv_buf_reset(struct rv_buf *b)
{
	if (b->alloc) {
		b->len = 0;
		b->buf[0] = '\0';
	}
}

void
rv_buf_add(struct rv_buf *b, const void *data, size_t n)
{
	if (n == 0)
		return;
	rv_buf_grow(b, n);
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
rv_buf_addstr(struct rv_buf *b, const char *s)
{
	rv_buf_add(b, s, strlen(s));
}

void
rv_buf_addch(struct rv_buf *b, char c)
{
	rv_buf_add(b, &c, 1);
}

void
rv_buf_addll(struct rv_buf *b, long long v)
{
	char d[24], *p = d + sizeof(d);
	/* the magnitude as unsigned: -LLONG_MIN does not fit a long long */
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	rv_buf_add(b, p, (size_t)(d + sizeof(d) - p));
}

void
rv_buf_vaddf(struct rv_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	rv_buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		rv_bug(__FILE__, __LINE__, "vsnprintf failed");
	if ((size_t)n >= b->alloc - b->len) {
		rv_buf_grow(b, (size_t)n);
		n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
rv_buf_addf(struct rv_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rv_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *
rv_buf_detach(struct rv_buf *b, size_t *len_r)
{
	char *p;

	if (b->alloc == 0)
		rv_buf_grow(b, 0);
	p = b->buf;
	if (len_r != NULL)
		*len_r = b->len;
	rv_buf_init(b);
	return p;
}
