/* unit/buf: rv-buf.c and rv-util.c */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-buf.h"
#include "rv-util.h"
#include "tap.h"

int
main(void)
{
	struct rv_buf b = RV_BUF_INIT;
	char small[4];
	long long v;
	size_t len;
	char *p;

	/* an untouched buffer reads as "" */
	is_str(b.buf, "", "initial buffer is the empty string");
	is_int((long long)b.len, 0, "initial length is 0");
	rv_buf_reset(&b);
	is_str(b.buf, "", "reset of an empty buffer keeps it empty");

	rv_buf_addstr(&b, "abc");
	rv_buf_addch(&b, '-');
	rv_buf_addf(&b, "%d/%s", 42, "x");
	is_str(b.buf, "abc-42/x", "add, addch and addf append");
	is_int((long long)b.len, 8, "length follows");

	/* growing past the first allocation keeps the content */
	for (int i = 0; i < 1000; i++)
		rv_buf_addstr(&b, "0123456789");
	is_int((long long)b.len, 10008, "10 KB appended");
	ok(b.buf[b.len] == '\0', "always NUL-terminated");
	ok(memcmp(b.buf, "abc-42/x0123", 12) == 0, "content kept across growth");

	/* binary content */
	rv_buf_reset(&b);
	rv_buf_add(&b, "a\0b", 3);
	is_int((long long)b.len, 3, "binary data keeps its length");
	ok(b.buf[1] == '\0' && b.buf[2] == 'b', "NUL inside the content");

	p = rv_buf_detach(&b, &len);
	is_int((long long)len, 3, "detach returns the length");
	is_str(b.buf, "", "detach leaves an empty buffer");
	free(p);
	p = rv_buf_detach(&b, &len);
	ok(p != NULL && *p == '\0' && len == 0, "detach of an empty buffer gives a fresh empty string");
	free(p);

	/* addll writes what "%lld" writes: the ends, and every power of ten
	 * and its neighbours, of both signs */
	{
		static const long long ends[] = { 0, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1 };
		char want[32];
		long long t, d = 1;
		int bad = 0, n = 0;

		for (int i = 0; i < 19 + 4; i++) {
			for (int k = -1; k <= 1; k++) {
				for (int s = 0; s < 2; s++) {
					t = i < 4 ? ends[i] : d + k;
					if (s)
						t = t == LLONG_MIN ? t : -t;
					snprintf(want, sizeof(want), "%lld", t);
					rv_buf_reset(&b);
					rv_buf_addll(&b, t);
					bad += strcmp(b.buf, want) != 0 || b.len != strlen(want);
					n++;
				}
			}
			if (i >= 4 && d <= LLONG_MAX / 10)
				d *= 10;
		}
		ok(bad == 0 && n == 138, "addll writes as %%lld does (%d values)", n);
	}

	rv_buf_addf(&b, "%s", "secret");
	rv_buf_release_secret(&b);
	ok(b.buf == rv_buf_empty && b.len == 0 && b.alloc == 0, "release_secret re-initialises");

	/* rv-util */
	is_int((long long)rv_strlcpy(small, "abcdef", sizeof(small)), 6,
	       "strlcpy returns the source length");
	is_str(small, "abc", "strlcpy truncates and terminates");
	ok(rv_str_ieq("Content-Type", "content-type"), "ieq ignores ASCII case");
	ok(!rv_str_ieq("abc", "abcd"), "ieq needs the same length");
	ok(rv_str_iprefix("Application/JSON; x", "application/json"), "iprefix");
	ok(rv_parse_ll("65536", 0, 100000, &v) == 0 && v == 65536, "parse_ll in range");
	ok(rv_parse_ll("-1", 0, 10, &v) < 0, "parse_ll refuses a sign");
	ok(rv_parse_ll("1 ", 0, 10, &v) < 0, "parse_ll refuses trailing space");
	ok(rv_parse_ll("", 0, 10, &v) < 0, "parse_ll refuses the empty string");
	ok(rv_parse_ll("11", 0, 10, &v) < 0, "parse_ll refuses out of range");
	ok(rv_parse_ll("99999999999999999999", 0, 10, &v) < 0, "parse_ll refuses overflow");
	return done_testing();
}
