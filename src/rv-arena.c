/* rv-arena.c: per-request arena (our T_BEGIN/T_END) */
#include "config.h"
#include "rv-arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-util.h"

#define CHUNK_MIN 8192
#define ALIGN 16

struct rv_arena_chunk {
	struct rv_arena_chunk *next;
	size_t size, used;
	_Alignas(ALIGN) unsigned char data[];
};

void *
rv_arena_alloc(struct rv_arena *a, size_t n)
{
	struct rv_arena_chunk *c = a->head;

	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (n == 0)
		n = ALIGN;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;

		c = rv_xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	c->used += n;
	a->total += n;
	return c->data + c->used - n;
}

void *
rv_arena_zalloc(struct rv_arena *a, size_t n)
{
	return memset(rv_arena_alloc(a, n), 0, n);
}

char *
rv_arena_strndup(struct rv_arena *a, const char *s, size_t n)
{
	char *p = rv_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
rv_arena_strdup(struct rv_arena *a, const char *s)
{
	return rv_arena_strndup(a, s, strlen(s));
}

char *
rv_arena_printf(struct rv_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	RV_ASSERT(n >= 0);
	p = rv_arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
rv_arena_reset(struct rv_arena *a)
{
	struct rv_arena_chunk *c, *next;

	if (a->head == NULL)
		return;
	/* keep the oldest chunk (the last in the list) for the next request */
	for (c = a->head; c->next != NULL; c = next) {
		next = c->next;
		rv_wipe(c->data, c->used);
		free(c);
	}
	rv_wipe(c->data, c->used);
	c->used = 0;
	a->head = c;
	a->total = 0;
}

void
rv_arena_release(struct rv_arena *a)
{
	struct rv_arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		rv_wipe(c->data, c->used);
		free(c);
	}
	a->head = NULL;
	a->total = 0;
}
