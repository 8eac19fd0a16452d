/*
 * rv-store-doc.c: a reader of the store's own documents, without jansson
 *
 * Every stored value is a flat JSON object that jansson wrote (compact:
 * string, integer, true, false and null members; rv-store-int.h). To read
 * one, jansson builds a hash table, a string per member and frees them
 * again: for a user that is some 60,000 instructions, the largest part of
 * GET /api/my-account (doc/performance.md). This reader makes one pass
 * over the bytes and records where each member is; a string is decoded only
 * when a caller copies it out, a nested array or object (a window's events)
 * is checked and passed over. It takes exactly what it can read with
 * certainty (an object, valid UTF-8, no \u0000, integers in range, no
 * member twice, at most RV_DOC_MAX members) and refuses everything else;
 * rv_store_doc_parse then hands the bytes to jansson and reads jansson's
 * compact dump of them, so that jansson's reading stays the reference for
 * anything unusual.
 */
#include "config.h"
#include "rv-store-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rv-err.h"
#include "rv-util.h"

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* the 4 hex digits at p as a number, or -1 */
static long
hex4(const char *p)
{
	long v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if ((h = rv_hexdigit(p[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * The string whose opening quote is at p: its contents in *s and *n,
 * *esc when it has escapes; the byte after the closing quote, or NULL.
 */
static const char *
scan_string(const char *p, const char *end, const char **s, size_t *n,
	    bool *esc)
{
	const unsigned char *q = (const unsigned char *)p + 1;
	const unsigned char *e = (const unsigned char *)end;
	long u, lo;

	*esc = false;
	*s = (const char *)q;
	while (q < e && *q != '"') {
		if (*q < 0x20)
			return NULL;
		if (*q == '\\') {
			*esc = true;
			if (++q >= e)
				return NULL;
			if (*q == 'u') {
				if (e - q < 5 || (u = hex4((const char *)q + 1)) <= 0)
					return NULL;	/* \u0000 too */
				q += 5;
				if (u >= 0xdc00 && u <= 0xdfff)
					return NULL;
				if (u >= 0xd800 && u <= 0xdbff) {
					if (e - q < 6 || q[0] != '\\' || q[1] != 'u' ||
					    (lo = hex4((const char *)q + 2)) < 0xdc00 ||
					    lo > 0xdfff)
						return NULL;
					q += 6;
				}
				continue;
			}
			if (strchr("\"\\/bfnrt", *q) == NULL || *q == '\0')
				return NULL;
			q++;
		} else if (*q >= 0x80) {
			if (rv_utf8_next(&q, e) < 0)
				return NULL;
		} else {
			q++;
		}
	}
	if (q >= e)
		return NULL;
	*n = (size_t)((const char *)q - *s);
	return (const char *)q + 1;
}

/* an integer as jansson writes it; the byte after it, or NULL */
static const char *
scan_int(const char *p, const char *end, long long *v)
{
	char buf[24], *ep;
	size_t n = 0;

	if (p < end && *p == '-')
		buf[n++] = *p++;
	if (p >= end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < end &&
						 p[1] >= '0' && p[1] <= '9'))
		return NULL;
	while (p < end && *p >= '0' && *p <= '9') {
		if (n >= sizeof(buf) - 1)
			return NULL;
		buf[n++] = *p++;
	}
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return NULL;	/* a real: jansson's business */
	buf[n] = '\0';
	errno = 0;
	*v = strtoll(buf, &ep, 10);
	return errno == 0 ? p : NULL;
}

static bool
word(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);

	return (size_t)(end - p) >= n && memcmp(p, w, n) == 0;
}

static const char *skip_nested(const char *p, const char *end, int depth);

/* one value at p of an array or object at depth (checked, not kept):
 * *v its integer, else 0; the byte after it, or NULL */
static const char *
skip_value(const char *p, const char *end, int depth, long long *v)
{
	const char *s;
	size_t n;
	bool esc;

	*v = 0;
	if (*p == '"')
		return scan_string(p, end, &s, &n, &esc);
	if (*p == '{' || *p == '[')
		return skip_nested(p, end, depth + 1);
	if (word(p, end, "true") || word(p, end, "null"))
		return p + 4;
	if (word(p, end, "false"))
		return p + 5;
	return scan_int(p, end, v);
}

/* a nested array or object at p (checked, not kept); the byte after it,
 * or NULL */
static const char *
skip_nested(const char *p, const char *end, int depth)
{
	char close = *p == '{' ? '}' : ']';
	const char *s;
	long long v;
	size_t n;
	bool esc;

	if (depth > 2048)	/* jansson's own limit */
		return NULL;
	p = skip_ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if (p >= end || *p != '"' ||
			    (p = scan_string(p, end, &s, &n, &esc)) == NULL)
				return NULL;
			p = skip_ws(p, end);
			if (p >= end || *p++ != ':')
				return NULL;
			p = skip_ws(p, end);
		}
		if (p >= end || (p = skip_value(p, end, depth, &v)) == NULL)
			return NULL;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		return p < end && *p == close ? p + 1 : NULL;
	}
}

/*
 * 0 and *d filled when buf is an object this reader takes; else -1. A key
 * with escapes is taken only from jansson's dump (dumped: its keys are
 * unique, with no escape that is not needed), so that every key this
 * reader compares unescaped is one no other spelling can repeat.
 */
static int
doc_scan(const char *buf, size_t len, struct rv_doc *d, bool dumped)
{
	const char *p = buf, *end = buf + len;
	struct rv_doc_member *m;
	size_t i;

	d->n = 0;
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	p = skip_ws(p, end);
	if (p < end && *p == '}')
		return skip_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		if (d->n == RV_DOC_MAX || p >= end || *p != '"')
			return -1;
		m = &d->m[d->n];
		if ((p = scan_string(p, end, &m->key, &m->klen, &m->kesc)) == NULL ||
		    (m->kesc && !dumped))
			return -1;
		for (i = 0; i < d->n && !dumped; i++)
			if (d->m[i].klen == m->klen && memcmp(d->m[i].key, m->key, m->klen) == 0)
				return -1;
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		if (p >= end)
			return -1;
		m->esc = false;
		m->num = 0;
		if (*p == '"') {
			m->type = RV_DOC_STRING;
			p = scan_string(p, end, &m->val, &m->vlen, &m->esc);
		} else if (word(p, end, "true")) {
			m->type = RV_DOC_TRUE;
			p += 4;
		} else if (word(p, end, "false")) {
			m->type = RV_DOC_FALSE;
			p += 5;
		} else if (word(p, end, "null")) {
			m->type = RV_DOC_NULL;
			p += 4;
		} else if (*p == '{' || *p == '[') {
			m->type = RV_DOC_NESTED;
			m->val = p;
			p = skip_nested(p, end, 1);
			m->vlen = p != NULL ? (size_t)(p - m->val) : 0;
		} else {
			m->type = RV_DOC_INT;
			p = scan_int(p, end, &m->num);
		}
		if (p == NULL)
			return -1;
		d->n++;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return skip_ws(p + 1, end) == end ? 0 : -1;
		return -1;
	}
}

void
rv_store_doc_release(struct rv_doc *d)
{
	if (d->own != NULL) {
		rv_wipe(d->own, strlen(d->own));
		free(d->own);
	}
	if (d->raw != NULL)
		rv_store_doc_free(d->raw, d->rawlen);
	memset(d, 0, sizeof(*d));
}

int
rv_store_doc_parse(const char *doc, size_t len, struct rv_doc *d,
		   struct rv_err *err)
{
	const struct rv_doc_member *v;
	json_t *j;
	size_t n;

	memset(d, 0, sizeof(*d));
	if (doc_scan(doc, len, d, false) < 0) {
		/* jansson's reading, in the form this reader takes */
		if (rv_store_load_json(doc, len, &j, err) < 0)
			return -1;
		d->own = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		RV_ASSERT(d->own != NULL);
		n = strlen(d->own);
		if (doc_scan(d->own, n, d, true) < 0) {
			rv_store_doc_release(d);
			return rv_err_set(err, RV_E_INTERNAL,
					  "store: value has more than %d members, or reals",
					  RV_DOC_MAX);
		}
	}
	v = rv_store_doc_get(d, "v");
	if (v == NULL || v->type != RV_DOC_INT || v->num != FORMAT_VERSION) {
		rv_store_doc_release(d);
		return rv_err_set(err, RV_E_INTERNAL,
				  "store: value of unknown format version");
	}
	return 0;
}

static size_t decode(const char *p, size_t len, bool esc, char *out);

const struct rv_doc_member *
rv_store_doc_get(const struct rv_doc *d, const char *key)
{
	const struct rv_doc_member *m;
	size_t i, n = strlen(key);
	char *k;
	bool same;

	for (i = 0; i < d->n; i++) {
		m = &d->m[i];
		if (!m->kesc) {
			if (m->klen == n && memcmp(m->key, key, n) == 0)
				return m;
			continue;
		}
		/* a key with escapes (from jansson's dump): decoded */
		k = rv_xmalloc(m->klen + 1);
		same = decode(m->key, m->klen, true, k) == n && memcmp(k, key, n) == 0;
		free(k);
		if (same)
			return m;
	}
	return NULL;
}

/* the UTF-8 of code point cp into out; its length */
static size_t
put_utf8(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* the JSON string contents p[len] (esc: with escapes, checked by
 * scan_string) decoded into out, which has room for len + 1 bytes
 * (decoding never lengthens); the decoded length */
static size_t
decode(const char *p, size_t len, bool esc, char *out)
{
	const char *end = p + len;
	size_t n = 0;
	unsigned long cp;

	if (!esc) {
		memcpy(out, p, len);
		out[len] = '\0';
		return len;
	}
	while (p < end) {
		if (*p != '\\') {
			out[n++] = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'b': out[n++] = '\b'; p++; break;
		case 'f': out[n++] = '\f'; p++; break;
		case 'n': out[n++] = '\n'; p++; break;
		case 'r': out[n++] = '\r'; p++; break;
		case 't': out[n++] = '\t'; p++; break;
		case 'u':
			cp = (unsigned long)hex4(p + 1);
			p += 5;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     ((unsigned long)hex4(p + 2) - 0xdc00);
				p += 6;
			}
			n += put_utf8(cp, out + n);
			break;
		default: out[n++] = *p++; break;	/* " \ / */
		}
	}
	out[n] = '\0';
	return n;
}

char *
rv_store_doc_dup(const struct rv_doc *d, const char *key)
{
	const struct rv_doc_member *m = rv_store_doc_get(d, key);
	char *s;

	if (m == NULL || m->type != RV_DOC_STRING)
		return NULL;
	s = rv_xmalloc(m->vlen + 1);
	decode(m->val, m->vlen, m->esc, s);
	return s;
}

void
rv_store_doc_copy(const struct rv_doc *d, const char *key, char *dst,
		  size_t size)
{
	const struct rv_doc_member *m = rv_store_doc_get(d, key);
	char *s;

	if (size == 0)
		return;
	if (m == NULL || m->type != RV_DOC_STRING) {
		dst[0] = '\0';
		return;
	}
	if (!m->esc && m->vlen < size) {
		memcpy(dst, m->val, m->vlen);
		dst[m->vlen] = '\0';
		return;
	}
	s = rv_store_doc_dup(d, key);
	rv_strlcpy(dst, s, size);
	rv_wipe(s, strlen(s));
	free(s);
}

long long
rv_store_doc_int(const struct rv_doc *d, const char *key)
{
	const struct rv_doc_member *m = rv_store_doc_get(d, key);

	return m != NULL && m->type == RV_DOC_INT ? m->num : 0;
}

bool
rv_store_doc_true(const struct rv_doc *d, const char *key)
{
	const struct rv_doc_member *m = rv_store_doc_get(d, key);

	return m != NULL && m->type == RV_DOC_TRUE;
}

bool
rv_store_doc_has_str(const struct rv_doc *d, const char *key)
{
	const struct rv_doc_member *m = rv_store_doc_get(d, key);

	return m != NULL && m->type == RV_DOC_STRING && m->vlen > 0;
}

size_t
rv_store_doc_ints(const struct rv_doc *d, const char *key, long long *out,
		  size_t max)
{
	const struct rv_doc_member *m = rv_store_doc_get(d, key);
	const char *p, *end;
	size_t n = 0;
	long long v;

	if (m == NULL || m->type != RV_DOC_NESTED || m->val[0] != '[')
		return 0;
	/* checked by skip_nested when the document was read: an array of
	 * JSON values, integers or not */
	end = m->val + m->vlen - 1;	/* the closing bracket */
	p = skip_ws(m->val + 1, end);
	while (p < end && n < max) {
		if ((p = skip_value(p, end, 1, &v)) == NULL)
			break;
		out[n++] = v;	/* as json_integer_value: 0 for a non-integer */
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	return n;
}
