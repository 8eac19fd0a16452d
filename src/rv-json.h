/* rv-json.h: strict JSON request bodies and typed fields (jansson) */
#ifndef RV_JSON_H
#define RV_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct rv_buf;
struct rv_err;

#define RV_JSON_MAX_DEPTH 32

/*
 * Makes jansson wipe every block it frees (parsed strings, the lexer's
 * token buffer, dumps it releases itself). Call once, before any JSON is
 * made: rv_main() and reverify-admin do. Memory that json_dumps() returns
 * may still be released with free() (which does not wipe it).
 */
void rv_json_alloc_init(void);

/*
 * Parses a request body that must be one JSON object: valid UTF-8, no NUL
 * (raw or \u0000), no duplicate keys, nesting at most RV_JSON_MAX_DEPTH.
 * An empty body (len 0) is the empty object, as Logto's body parser makes
 * it. 0 with *root_r (a new reference) or -1 with err = 400
 * guard.invalid_input, a "details" line and zod-like "data".
 */
int rv_json_parse_body(const char *body, size_t len, json_t **root_r,
		       struct rv_err *err);

/*
 * Typed fields of a body object. Each returns 1 when the field is there and
 * valid (*v_r points into obj: valid while obj lives), 0 when it is absent
 * (or null) and optional, and -1 with err = 400 guard.invalid_input naming
 * the key path otherwise. Lengths count Unicode code points.
 */
int rv_json_str(json_t *obj, const char *key, bool required, size_t min_len,
		size_t max_len, const char **v_r, struct rv_err *err);
int rv_json_obj(json_t *obj, const char *key, bool required, json_t **v_r,
		struct rv_err *err);

/*
 * Fills err with 400 guard.invalid_input for the body field at path
 * ("identifier.value"), with a zod-like issue (code "invalid_type",
 * "too_small", "invalid_string", "invalid_enum_value"...) and message.
 * Returns -1.
 */
int rv_json_invalid(struct rv_err *err, const char *path, const char *issue,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Overwrites every string value inside v with zeros (secrets in a body),
 * before the last json_decref. The strings read as empty afterwards. */
void rv_json_wipe_strings(json_t *v);

/* Appends the compact serialisation of v to out. */
void rv_json_dump(const json_t *v, struct rv_buf *out);
/* The same with every object's members in key order: what
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS) writes (the audit chain's hash). */
void rv_json_dump_sorted(const json_t *v, struct rv_buf *out);
/* Appends s (valid UTF-8) as a JSON string, as rv_json_dump writes one:
 * for answers written without building a jansson value. */
void rv_json_dump_str(const char *s, struct rv_buf *out);
/* The zod name of a JSON type ("string", "number", "object", "null"...). */
const char *rv_json_type_name(const json_t *v);

#endif
