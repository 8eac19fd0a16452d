/* rv-import.h: the fields of a user to create, and one line of
 * "reverify-admin user import" (a JSON object per line) */
#ifndef RV_IMPORT_H
#define RV_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The longest import line, without its newline. */
#define RV_IMPORT_LINE_MAX ((size_t)64 * 1024)

enum rv_import_field {
	RV_IMPORT_ID, RV_IMPORT_USERNAME, RV_IMPORT_EMAIL, RV_IMPORT_PHONE,
	RV_IMPORT_NAME, RV_IMPORT_AVATAR, RV_IMPORT_HASH,
};
#define RV_IMPORT_NFIELDS (RV_IMPORT_HASH + 1)

/* The keys of an import line, in the order of enum rv_import_field
 * ("id", "username", "primaryEmail", ...). */
extern const char *const rv_import_names[RV_IMPORT_NFIELDS];

#define RV_IMPORT_TEXT_NO_CONTROL 0x1	/* no C0, DEL or C1 control */
#define RV_IMPORT_TEXT_NO_SPACE 0x2	/* no white space (JavaScript's \s) */

/*
 * Checks n bytes of text: strict UTF-8 without NUL and, as flags ask, no
 * control characters and no white space. NULL when fine (*chars_r, if not
 * NULL, gets the number of characters), else what is wrong (a static
 * string that reads after the name of the thing: "is not valid UTF-8").
 */
const char *rv_import_text_problem(const char *s, size_t n, unsigned flags,
				   size_t *chars_r);

/* NULL when v is a good value for the field, else what is wrong with it,
 * worded to follow the field's name (static). */
const char *rv_import_field_problem(enum rv_import_field f, const char *v);

/*
 * 0 when the fields v (NULL = absent) make a user we can create: each
 * present one is good and there is a username, e-mail or phone. Else -1
 * with why (size bytes) saying what, naming the field by names[f].
 */
int rv_import_check(const char *const v[RV_IMPORT_NFIELDS],
		    const char *const names[RV_IMPORT_NFIELDS], char *why,
		    size_t size);

/*
 * Parses and checks one non-blank import line of len bytes (strict UTF-8,
 * one JSON object, no duplicate keys, only the keys of rv_import_names,
 * each a string or null; "" for name or avatar is absent, as Logto exports
 * them). 0 with v filled (pointing into *root_r, which the caller must
 * json_decref() in every case; NULL when absent), or -1 with why.
 */
int rv_import_parse_line(const char *line, size_t len, json_t **root_r,
			 const char *v[RV_IMPORT_NFIELDS], char *why,
			 size_t size);

#endif
