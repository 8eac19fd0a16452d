/* rv-buf.h: growable byte/string buffer (git strbuf style) */
#ifndef RV_BUF_H
#define RV_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Invariants (as git's strbuf):
 * - buf is never NULL once initialised; RV_BUF_INIT points it at a shared
 *   empty string, so an untouched buffer reads as "".
 * - buf[len] is always '\0', so buf is a C string when the content has no NUL;
 *   the content may still hold binary data (use len).
 * - alloc is private; 0 means buf is the shared empty string.
 */
struct rv_buf {
	char *buf;
	size_t len;
	size_t alloc;
	bool secret;		/* growing wipes the old copy (a stored user
				   holds its password hash) */
};

extern char rv_buf_empty[];
#define RV_BUF_INIT { rv_buf_empty, 0, 0, false }

void rv_buf_init(struct rv_buf *b);
/* Frees the storage and re-initialises. */
void rv_buf_release(struct rv_buf *b);
/* Like release, but wipes the content first (for secrets). */
void rv_buf_release_secret(struct rv_buf *b);
/* Makes room for n more bytes (aborts on OOM). */
void rv_buf_grow(struct rv_buf *b, size_t n);
/* Empties the buffer and keeps its storage. */
void rv_buf_reset(struct rv_buf *b);
void rv_buf_add(struct rv_buf *b, const void *data, size_t n);
void rv_buf_addstr(struct rv_buf *b, const char *s);
void rv_buf_addch(struct rv_buf *b, char c);
/* The decimal of v, as "%lld" writes it, without printf's cost. */
void rv_buf_addll(struct rv_buf *b, long long v);
void rv_buf_addf(struct rv_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rv_buf_vaddf(struct rv_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Returns the storage (caller must free()) and re-initialises b. */
char *rv_buf_detach(struct rv_buf *b, size_t *len_r);

#endif
