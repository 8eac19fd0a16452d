/* rv-arena.h: per-request arena (our T_BEGIN/T_END) */
#ifndef RV_ARENA_H
#define RV_ARENA_H

#include <stddef.h>

/*
 * Everything that lives exactly as long as one request is allocated here
 * and freed at once by rv_arena_reset(), which rv_main() calls after each
 * request. Memory from an arena is never freed one piece at a time.
 * Allocation aborts on OOM; results are aligned for any type.
 */
struct rv_arena_chunk;
struct rv_arena {
	struct rv_arena_chunk *head;
	size_t total;		/* bytes handed out since the last reset */
};

#define RV_ARENA_INIT { NULL, 0 }

void *rv_arena_alloc(struct rv_arena *a, size_t n);
void *rv_arena_zalloc(struct rv_arena *a, size_t n);
char *rv_arena_strdup(struct rv_arena *a, const char *s);
char *rv_arena_strndup(struct rv_arena *a, const char *s, size_t n);
char *rv_arena_printf(struct rv_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Frees all but the first chunk, wiping what was handed out (requests hold
 * passwords and codes), and makes the arena empty again. */
void rv_arena_reset(struct rv_arena *a);
/* Frees everything. */
void rv_arena_release(struct rv_arena *a);

#endif
