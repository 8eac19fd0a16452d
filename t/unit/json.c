/* unit/json: rv-json.c, strict bodies and typed fields */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-buf.h"
#include "rv-err.h"
#include "rv-json.h"
#include "tap.h"

static int
bad(const char *body, size_t len, const char *detail, const char *title)
{
	struct rv_err err;
	json_t *root;
	int rc, good;

	rv_err_init(&err);
	rc = rv_json_parse_body(body, len, &root, &err);
	good = rc < 0 && err.status == 400 &&
	       strcmp(err.code, "guard.invalid_input") == 0 &&
	       strstr(err.details, detail) != NULL;
	if (!ok(good, "%s", title))
		diag("rc %d status %d details '%s'", rc, err.status, err.details);
	if (rc == 0)
		json_decref(root);
	rv_err_release(&err);
	return good;
}

/* a fixed generator for the dump comparison */
static unsigned long long rnd_state = 42;

static unsigned
rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rnd_state >> 33);
}

/* a random value of at most depth levels: every kind but reals */
static json_t *
random_value(int depth) /* NOLINT(misc-no-recursion) */
{
	static const char *const pieces[] = { "a", "\"", "\\", "/", "\x01", "\x1f",
		"\x7f", "\n", "\t", "\b", "\f", "\r", "\xc3\xa9", "\xe6\xbc\xa2",
		"\xf0\x9f\x98\x80", "\xe2\x80\xa8", " ", "<", "}" };
	char buf[64] = "";
	json_t *v;
	int i, n;

	switch (rnd() % (depth > 0 ? 7 : 5)) {
	case 0: return json_integer((json_int_t)rnd() - (json_int_t)rnd() * 65536);
	case 1: return json_true();
	case 2: return json_false();
	case 3: return json_null();
	case 4:
		for (i = 0, n = (int)(rnd() % 8); i < n; i++)
			strncat(buf, pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))],
				sizeof(buf) - strlen(buf) - 1);
		return json_string(buf);
	case 5:
		v = json_array();
		for (i = 0, n = (int)(rnd() % 4); i < n; i++)
			json_array_append_new(v, random_value(depth - 1));
		return v;
	default:
		v = json_object();
		for (i = 0, n = (int)(rnd() % 4); i < n; i++) {
			json_t *k = random_value(0);

			json_object_set_new(v, json_is_string(k) ? json_string_value(k) : "k",
					    random_value(depth - 1));
			json_decref(k);
		}
		return v;
	}
}

int
main(void)
{
	struct rv_err err;
	struct rv_buf deep = RV_BUF_INIT, out = RV_BUF_INIT;
	json_t *root;
	const char *s;
	int i;

	rv_err_init(&err);
	ok(rv_json_parse_body("", 0, &root, &err) == 0 && json_is_object(root) &&
	   json_object_size(root) == 0, "an empty body is the empty object");
	json_decref(root);
	ok(rv_json_parse_body("{\"a\":1}", 7, &root, &err) == 0, "an object parses");
	json_decref(root);

	bad("{\"a\":", 5, "Invalid JSON at line 1", "truncated JSON is refused");
	bad("{\"a\":1,\"a\":2}", 13, "duplicate", "duplicate keys are refused");
	bad("{\"a\":\"x\\u0000y\"}", 16, "\\u0000", "an escaped NUL is refused");
	bad("{\"a\":\"x\0y\"}", 10, "Invalid JSON", "a raw NUL is refused");
	bad("{\"a\":\"\xc3\x28\"}", 10, "Invalid JSON", "invalid UTF-8 is refused");
	bad("{\"a\":\"\xed\xa0\x80\"}", 11, "Invalid JSON", "a UTF-8 surrogate is refused");
	bad("[1,2]", 5, "Expected object but received array", "an array body is refused");
	bad("\"s\"", 3, "Expected object but received string", "a string body is refused");
	bad("null", 4, "Expected object but received null", "null is refused");
	bad("{} {}", 5, "Invalid JSON", "trailing data is refused");
	for (i = 0; i < 33; i++)
		rv_buf_addch(&deep, '[');
	for (i = 0; i < 33; i++)
		rv_buf_addch(&deep, ']');
	bad(deep.buf, deep.len, "nested deeper than 32", "33 levels are refused");
	rv_buf_reset(&deep);
	rv_buf_addstr(&deep, "{\"a\":");
	for (i = 0; i < 31; i++)
		rv_buf_addch(&deep, '[');
	for (i = 0; i < 31; i++)
		rv_buf_addch(&deep, ']');
	rv_buf_addstr(&deep, ",\"b\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}");
	ok(rv_json_parse_body(deep.buf, deep.len, &root, &err) == 0,
	   "32 levels pass, and brackets inside strings do not count");
	json_decref(root);
	rv_buf_release(&deep);

	/* typed fields */
	{
		static const char b[] =
			"{\"password\":\"p\\u00e4ss\",\"n\":1,\"e\":\"\",\"o\":{},\"z\":null}";

		ok(rv_json_parse_body(b, sizeof(b) - 1, &root, &err) == 0, "fields body parses");
	}
	ok(rv_json_str(root, "password", true, 1, 256, &s, &err) == 1 &&
	   strcmp(s, "p\xc3\xa4ss") == 0, "a string field");
	ok(rv_json_str(root, "password", true, 5, 256, &s, &err) < 0 &&
	   strcmp(err.code, "guard.invalid_input") == 0 && strstr(err.details, "too_small"),
	   "lengths count characters, not bytes (4 < 5)");
	rv_err_release(&err);
	ok(rv_json_str(root, "password", true, 1, 3, &s, &err) < 0 &&
	   strstr(err.details, "too_big"), "too long is refused");
	rv_err_release(&err);
	ok(rv_json_str(root, "missing", true, 1, 3, &s, &err) < 0 &&
	   strstr(err.details, "Error in key path \"missing\": (invalid_type) Expected string but received undefined."),
	   "a missing required field is named in details");
	ok(err.data != NULL && json_is_array(json_object_get(err.data, "issues")),
	   "data carries the issue list");
	rv_err_release(&err);
	ok(rv_json_str(root, "missing", false, 1, 3, &s, &err) == 0, "an optional field may be absent");
	ok(rv_json_str(root, "z", false, 1, 3, &s, &err) == 0, "an optional null is absent");
	ok(rv_json_str(root, "n", true, 1, 3, &s, &err) < 0 &&
	   strstr(err.details, "Expected string but received number"), "a number is not a string");
	rv_err_release(&err);
	ok(rv_json_str(root, "e", true, 1, 3, &s, &err) < 0, "an empty string is too short");
	rv_err_release(&err);
	{
		json_t *o;

		ok(rv_json_obj(root, "o", true, &o, &err) == 1, "an object field");
		ok(rv_json_obj(root, "n", true, &o, &err) < 0, "a number is not an object");
		rv_err_release(&err);
	}
	rv_json_dump(root, &out);
	ok(strncmp(out.buf, "{\"password\":", 12) == 0, "dump keeps key order, compact");
	rv_buf_release(&out);
	json_decref(root);

	/* rv_json_dump writes what jansson writes, byte for byte */
	{
		int differ = 0, sorted_differ = 0;
		char *want;
		json_t *v;

		for (i = 0; i < 5000; i++) {
			v = random_value(4);
			want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			rv_buf_init(&out);
			rv_json_dump(v, &out);
			rv_buf_addch(&out, '\0');
			if (want == NULL || strcmp(out.buf, want) != 0) {
				if (differ++ < 3)
					diag("got %s, jansson %s", out.buf, want ? want : "(null)");
			}
			free(want);
			want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
			rv_buf_reset(&out);
			rv_json_dump_sorted(v, &out);
			if (want == NULL || strcmp(out.buf, want) != 0) {
				if (sorted_differ++ < 3)
					diag("sorted: got %s, jansson %s", out.buf,
					     want ? want : "(null)");
			}
			free(want);
			rv_buf_release(&out);
			json_decref(v);
		}
		ok(differ == 0, "5,000 random values dump as jansson dumps them (%d differ)", differ);
		ok(sorted_differ == 0, "... and sorted as JSON_SORT_KEYS sorts them (%d differ)",
		   sorted_differ);
		v = json_real(0.5);
		rv_buf_init(&out);
		rv_json_dump(v, &out);
		rv_buf_addch(&out, '\0');
		is_str(out.buf, "0.5", "a real is left to jansson");
		rv_buf_release(&out);
		json_decref(v);
		rv_buf_init(&out);
		rv_json_dump(NULL, &out);
		ok(out.len == 0, "NULL (a json_pack that failed) writes nothing, as jansson");
		rv_buf_release(&out);
	}
	return done_testing();
}
