/* rv-json.c: strict JSON request bodies and typed fields (jansson) */
#include "config.h"
#include "rv-json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif

#include "rv-buf.h"
#include "rv-err.h"
#include "rv-util.h"

/*
 * jansson frees its lexer's token buffer (the raw text of a password or
 * a code) and every parsed string without wiping them, and a FastCGI
 * worker lives long (security review F13). The free given to jansson
 * wipes the whole block first. The block's size comes from the
 * allocator (malloc_usable_size), not from a header of ours: json_dumps()
 * returns memory from jansson's malloc that callers (ours and cjose's)
 * release with plain free(), so jansson's malloc must stay plain malloc.
 */
static void
json_wiping_free(void *p)
{
	if (p == NULL)
		return;
#ifdef HAVE_MALLOC_USABLE_SIZE
	rv_wipe(p, malloc_usable_size(p));
#endif
	free(p);
}

void
rv_json_alloc_init(void)
{
	json_set_alloc_funcs(malloc, json_wiping_free);
}

const char *
rv_json_type_name(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

/* Adds one zod-like issue to err->data {"issues":[...],"name":"ZodError"}
 * (logto-spec 1.3) and sets the details line. */
static int
invalid(struct rv_err *err, const char *path, const char *issue,
	const char *expected, const char *received, const char *msg)
{
	json_t *iss, *jpath;
	const char *p, *dot;

	if (err == NULL)
		return -1;
	rv_err_set(err, RV_E_INVALID_INPUT, "invalid body: %s: %s",
		   path && *path ? path : "(root)", msg);
	rv_err_var(err, "type", "body");
	jpath = json_array();
	for (p = path; p && *p; p = dot ? dot + 1 : p + strlen(p)) {
		dot = strchr(p, '.');
		json_array_append_new(jpath, json_stringn(p, dot ? (size_t)(dot - p) : strlen(p)));
		if (dot == NULL)
			break;
	}
	iss = json_pack("{s:s, s:o, s:s}", "code", issue, "path", jpath,
			"message", msg);
	if (expected != NULL)
		json_object_set_new(iss, "expected", json_string(expected));
	if (received != NULL)
		json_object_set_new(iss, "received", json_string(received));
	if (err->data != NULL)
		json_decref(err->data);
	err->data = json_pack("{s:[o], s:s}", "issues", iss, "name", "ZodError");
	if (strcmp(issue, "invalid_type") == 0 && expected && received)
		rv_err_details(err, "Error in key path \"%s\": (%s) Expected %s but received %s.",
			       path ? path : "", issue, expected, received);
	else
		rv_err_details(err, "Error in key path \"%s\": (%s) %s",
			       path ? path : "", issue, msg);
	return -1;
}

int
rv_json_invalid(struct rv_err *err, const char *path, const char *issue,
		const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return invalid(err, path, issue, NULL, NULL, msg);
}

/* Nesting depth of the body outside strings; stops counting past limit. */
static int
depth_ok(const char *s, size_t len)
{
	int depth = 0;
	bool in_str = false;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > RV_JSON_MAX_DEPTH)
				return 0;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return 1;
}

int
rv_json_parse_body(const char *body, size_t len, json_t **root_r,
		   struct rv_err *err)
{
	json_error_t jerr;
	json_t *root;
	char msg[200];

	*root_r = NULL;
	if (len == 0) {
		*root_r = json_object();
		return 0;
	}
	if (!depth_ok(body, len)) {
		rv_err_set(err, RV_E_INVALID_INPUT,
			   "invalid body: nested deeper than %d", RV_JSON_MAX_DEPTH);
		rv_err_var(err, "type", "body");
		rv_err_details(err, "JSON nested deeper than %d levels",
			       RV_JSON_MAX_DEPTH);
		return -1;
	}
	/* jansson checks UTF-8 and refuses \u0000 unless JSON_ALLOW_NUL */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		snprintf(msg, sizeof(msg), "%s", jerr.text);
		rv_err_set(err, RV_E_INVALID_INPUT, "invalid body: %s", msg);
		rv_err_var(err, "type", "body");
		rv_err_details(err, "Invalid JSON at line %d, column %d: %s",
			       jerr.line, jerr.column, msg);
		return -1;
	}
	if (!json_is_object(root)) {
		invalid(err, "", "invalid_type", "object", rv_json_type_name(root),
			"Expected object");
		json_decref(root);
		return -1;
	}
	*root_r = root;
	return 0;
}

int
rv_json_str(json_t *obj, const char *key, bool required, size_t min_len,
	    size_t max_len, const char **v_r, struct rv_err *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t n = 0;

	if (v == NULL || (json_is_null(v) && !required)) {
		if (!required)
			return 0;
		return invalid(err, key, "invalid_type", "string", "undefined",
			       "Required");
	}
	if (!json_is_string(v))
		return invalid(err, key, "invalid_type", "string",
			       rv_json_type_name(v), "Expected string");
	s = json_string_value(v);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			n++;
	if (n < min_len) {
		char m[96];

		snprintf(m, sizeof(m), "String must contain at least %zu character(s)",
			 min_len);
		return invalid(err, key, "too_small", NULL, NULL, m);
	}
	if (n > max_len) {
		char m[96];

		snprintf(m, sizeof(m), "String must contain at most %zu character(s)",
			 max_len);
		return invalid(err, key, "too_big", NULL, NULL, m);
	}
	*v_r = s;
	return 1;
}

int
rv_json_obj(json_t *obj, const char *key, bool required, json_t **v_r,
	    struct rv_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || (json_is_null(v) && !required)) {
		if (!required)
			return 0;
		return invalid(err, key, "invalid_type", "object", "undefined",
			       "Required");
	}
	if (!json_is_object(v))
		return invalid(err, key, "invalid_type", "object",
			       rv_json_type_name(v), "Expected object");
	*v_r = v;
	return 1;
}

static int
dump_cb(const char *data, size_t size, void *ctx)
{
	rv_buf_add(ctx, data, size);
	return 0;
}

/*
 * The compact JSON of a value, byte for byte as jansson's
 * json_dump_callback(JSON_COMPACT | JSON_ENCODE_ANY) writes it (t/unit/json
 * holds the two side by side), without its callback per piece: a string is
 * copied in runs between the bytes it escapes. Reals, which no answer of
 * ours has, are left to jansson. The recursion is as deep as the value.
 */
static void
dump_string(const char *s, size_t n, struct rv_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *p, *run = s, *end = s + n;
	char esc[7] = "\\u00";

	rv_buf_grow(out, n + 2);
	rv_buf_addch(out, '"');
	for (p = s; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rv_buf_add(out, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"': rv_buf_add(out, "\\\"", 2); break;
		case '\\': rv_buf_add(out, "\\\\", 2); break;
		case '\b': rv_buf_add(out, "\\b", 2); break;
		case '\f': rv_buf_add(out, "\\f", 2); break;
		case '\n': rv_buf_add(out, "\\n", 2); break;
		case '\r': rv_buf_add(out, "\\r", 2); break;
		case '\t': rv_buf_add(out, "\\t", 2); break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			rv_buf_add(out, esc, 6);
		}
	}
	rv_buf_add(out, run, (size_t)(end - run));
	rv_buf_addch(out, '"');
}

void
rv_json_dump_str(const char *s, struct rv_buf *out)
{
	dump_string(s, strlen(s), out);
}

struct member {
	const char *key;
	json_t *value;
};

static int
member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->key, ((const struct member *)b)->key);
}

static void dump_value(const json_t *v, bool sorted, struct rv_buf *out);

/* an object's members in key order, as JSON_SORT_KEYS sorts them (by
 * bytes; keys have no NUL) */
static void
dump_sorted(const json_t *v, struct rv_buf *out) /* NOLINT(misc-no-recursion) */
{
	size_t i = 0, n = json_object_size(v);
	struct member *m = rv_xmalloc((n > 0 ? n : 1) * sizeof(*m));
	const char *key;
	json_t *item;

	/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
	json_object_foreach((json_t *)(uintptr_t)v, key, item) {
		m[i].key = key;
		m[i++].value = item;
	}
	qsort(m, n, sizeof(*m), member_cmp);
	rv_buf_addch(out, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			rv_buf_addch(out, ',');
		dump_string(m[i].key, strlen(m[i].key), out);
		rv_buf_addch(out, ':');
		dump_value(m[i].value, true, out);
	}
	rv_buf_addch(out, '}');
	free(m);
}

static void
dump_value(const json_t *v, bool sorted, struct rv_buf *out) /* NOLINT(misc-no-recursion) */
{
	const char *key;
	json_t *item;
	size_t i;
	bool first = true;

	if (v == NULL)
		return;		/* as json_dump_callback: nothing (a failed json_pack) */
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (sorted) {
			dump_sorted(v, out);
			break;
		}
		rv_buf_addch(out, '{');
		/* json_object_foreach takes a non-const object; it only reads */
		/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
		json_object_foreach((json_t *)(uintptr_t)v, key, item) {
			if (!first)
				rv_buf_addch(out, ',');
			first = false;
			dump_string(key, strlen(key), out);
			rv_buf_addch(out, ':');
			dump_value(item, false, out);
		}
		rv_buf_addch(out, '}');
		break;
	case JSON_ARRAY:
		rv_buf_addch(out, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				rv_buf_addch(out, ',');
			dump_value(json_array_get(v, i), sorted, out);
		}
		rv_buf_addch(out, ']');
		break;
	case JSON_STRING:
		dump_string(json_string_value(v), json_string_length(v), out);
		break;
	case JSON_INTEGER:
		rv_buf_addll(out, (long long)json_integer_value(v));
		break;
	case JSON_TRUE:
		rv_buf_add(out, "true", 4);
		break;
	case JSON_FALSE:
		rv_buf_add(out, "false", 5);
		break;
	case JSON_NULL:
		rv_buf_add(out, "null", 4);
		break;
	default:
		json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY |
				   (sorted ? JSON_SORT_KEYS : 0));
	}
}

void
rv_json_dump(const json_t *v, struct rv_buf *out)
{
	dump_value(v, false, out);
}

void
rv_json_dump_sorted(const json_t *v, struct rv_buf *out)
{
	dump_value(v, true, out);
}

/* The recursion is as deep as the value, which jansson's parser bounds
 * (JSON_PARSER_MAX_DEPTH, 2048 levels). */
void
rv_json_wipe_strings(json_t *v) /* NOLINT(misc-no-recursion) */
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_string(v)) {
		/* jansson owns this buffer; nothing else refers to it. The
		 * uintptr_t cast drops the const on purpose. */
		/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
		rv_wipe((char *)(uintptr_t)json_string_value(v), json_string_length(v));
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			rv_json_wipe_strings(item);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			rv_json_wipe_strings(item);
	}
}
