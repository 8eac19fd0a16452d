/* unit/arena: rv-arena.c */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "rv-arena.h"
#include "tap.h"

int
main(void)
{
	struct rv_arena a = RV_ARENA_INIT;
	char *s, *big;
	void *p;
	int aligned = 1;

	for (int i = 1; i < 100; i++) {
		p = rv_arena_alloc(&a, (size_t)i);
		if ((uintptr_t)p % 16 != 0)
			aligned = 0;
		memset(p, 0xaa, (size_t)i);
	}
	ok(aligned, "every allocation is 16-byte aligned");
	s = rv_arena_strdup(&a, "hello");
	is_str(s, "hello", "strdup");
	is_str(rv_arena_strndup(&a, "hello", 3), "hel", "strndup");
	is_str(rv_arena_printf(&a, "%s-%d", "x", 7), "x-7", "printf");
	big = rv_arena_alloc(&a, 100000);
	memset(big, 1, 100000);
	ok(a.total >= 100000, "large allocations get their own chunk");
	p = rv_arena_zalloc(&a, 64);
	ok(((char *)p)[0] == 0 && ((char *)p)[63] == 0, "zalloc zeroes");
	rv_arena_reset(&a);
	is_int((long long)a.total, 0, "reset empties the arena");
	ok(a.head != NULL, "reset keeps one chunk for the next request");
	s = rv_arena_strdup(&a, "again");
	is_str(s, "again", "usable after reset");
	rv_arena_release(&a);
	ok(a.head == NULL, "release frees everything");
	return done_testing();
}
