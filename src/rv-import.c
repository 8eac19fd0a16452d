/* rv-import.c: the fields of a user to create, and one import line */
#include "config.h"

#include "rv-import.h"

#include <stdio.h>
#include <string.h>

#include "rv-password.h"
#include "rv-store.h"
#include "rv-util.h"

const char *const rv_import_names[RV_IMPORT_NFIELDS] = {
	"id", "username", "primaryEmail", "primaryPhone", "name", "avatar",
	"passwordHash",
};

/* C0, DEL and C1 controls */
static bool
is_control(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* What JavaScript's \s matches (Logto's e-mail pattern uses \S). */
static bool
is_space(long cp)
{
	return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0xa0 ||
	       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 ||
	       cp == 0xfeff;
}

const char *
rv_import_text_problem(const char *s, size_t n, unsigned flags, size_t *chars_r)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t chars = 0;
	long cp;

	while (p < end) {
		if (*p == '\0')
			return "contains a NUL byte";
		if ((cp = rv_utf8_next(&p, end)) < 0)
			return "is not valid UTF-8";
		if ((flags & RV_IMPORT_TEXT_NO_CONTROL) && is_control(cp))
			return "contains a control character";
		if ((flags & RV_IMPORT_TEXT_NO_SPACE) && is_space(cp))
			return "must not contain spaces";
		chars++;
	}
	if (chars_r != NULL)
		*chars_r = chars;
	return NULL;
}

/* Logto's ^\S+@\S+\.\S+$, on text already free of spaces. */
static bool
email_shaped(const char *s)
{
	size_t n = strlen(s), at, j;
	const char *p;

	/* the first '@' after the first character leaves the most room */
	if (n < 5 || (p = strchr(s + 1, '@')) == NULL)
		return false;
	at = (size_t)(p - s);
	for (j = at + 2; j + 1 < n; j++)
		if (s[j] == '.')
			return true;
	return false;
}

const char *
rv_import_field_problem(enum rv_import_field f, const char *v)
{
	size_t len = strlen(v), chars = 0;
	const char *why;

	why = rv_import_text_problem(v, len, RV_IMPORT_TEXT_NO_CONTROL |
			   (f == RV_IMPORT_USERNAME || f == RV_IMPORT_EMAIL ||
			    f == RV_IMPORT_AVATAR || f == RV_IMPORT_HASH ?
			    RV_IMPORT_TEXT_NO_SPACE : 0), &chars);
	if (why != NULL)
		return why;
	switch (f) {
	case RV_IMPORT_ID:
		return rv_user_id_valid(v) ? NULL :
		       "is not a user id (1 to 64 of A-Z, a-z, 0-9, _ and -)";
	case RV_IMPORT_USERNAME:
		return chars >= 1 && chars <= 128 ? NULL :
		       "must be 1 to 128 characters";
	case RV_IMPORT_EMAIL:
		if (len > 256)
			return "is longer than 256 bytes";
		return email_shaped(v) ? NULL : "is not an e-mail address";
	case RV_IMPORT_PHONE:
		return len >= 1 && len <= 32 && strspn(v, "0123456789") == len ?
		       NULL : "must be 1 to 32 digits";
	case RV_IMPORT_NAME:
		return chars <= 128 ? NULL : "is longer than 128 characters";
	case RV_IMPORT_AVATAR:
		return len <= 2048 ? NULL : "is longer than 2048 bytes";
	case RV_IMPORT_HASH:
		if (len > 1024)
			return "is longer than 1024 bytes";
		return rv_password_scheme(v) != NULL ? NULL : "of unknown format";
	}
	return "is unknown";
}

int
rv_import_check(const char *const v[RV_IMPORT_NFIELDS],
		const char *const names[RV_IMPORT_NFIELDS], char *why,
		size_t size)
{
	const char *p;
	int f;

	for (f = RV_IMPORT_ID; f <= RV_IMPORT_HASH; f++) {
		if (v[f] == NULL)
			continue;
		if ((p = rv_import_field_problem((enum rv_import_field)f,
						 v[f])) != NULL) {
			snprintf(why, size, "%s %s", names[f], p);
			return -1;
		}
	}
	if (!v[RV_IMPORT_USERNAME] && !v[RV_IMPORT_EMAIL] && !v[RV_IMPORT_PHONE]) {
		snprintf(why, size, "a user needs at least one of %s, %s and %s",
			 names[RV_IMPORT_USERNAME], names[RV_IMPORT_EMAIL],
			 names[RV_IMPORT_PHONE]);
		return -1;
	}
	return 0;
}

/* Logto's "mfaVerifications": null, or an array of at most RV_FACTOR_MAX
 * objects, each with a string "type". 0, or -1 with why. */
static int
mfa_problem(json_t *jv, char *why, size_t size)
{
	json_t *e;
	size_t i;

	if (json_is_null(jv))
		return 0;
	if (!json_is_array(jv) || json_array_size(jv) > RV_FACTOR_MAX) {
		snprintf(why, size, "mfaVerifications must be an array of at most "
			 "%d entries", RV_FACTOR_MAX);
		return -1;
	}
	json_array_foreach(jv, i, e)
		if (!json_is_string(json_object_get(e, "type"))) {
			snprintf(why, size, "mfaVerifications[%zu] has no \"type\"", i);
			return -1;
		}
	return 0;
}

/* Fills v from the keys of one line; 0, or -1 with why. */
static int
line_fields(json_t *root, const char *v[RV_IMPORT_NFIELDS], char *why,
	    size_t size)
{
	const char *key;
	json_t *jv;
	int f;

	json_object_foreach(root, key, jv) {
		/* second factors (issue 20): read by rv_mfa_import */
		if (strcmp(key, "mfaVerifications") == 0) {
			if (mfa_problem(jv, why, size) < 0)
				return -1;
			continue;
		}
		for (f = RV_IMPORT_ID; f <= RV_IMPORT_HASH; f++)
			if (strcmp(key, rv_import_names[f]) == 0)
				break;
		if (f > RV_IMPORT_HASH) {
			snprintf(why, size, "unknown key \"%.64s\"", key);
			return -1;
		}
		if (!json_is_string(jv) && !json_is_null(jv)) {
			snprintf(why, size, "%s must be a string or null", key);
			return -1;
		}
		v[f] = json_string_value(jv);
		/* Logto exports an unset name or avatar as "" */
		if ((f == RV_IMPORT_NAME || f == RV_IMPORT_AVATAR) && v[f] &&
		    !*v[f])
			v[f] = NULL;
	}
	return 0;
}

int
rv_import_parse_line(const char *line, size_t len, json_t **root_r,
		     const char *v[RV_IMPORT_NFIELDS], char *why, size_t size)
{
	json_error_t je;
	const char *p;

	*root_r = NULL;
	/* JSON itself keeps control characters out of strings */
	if ((p = rv_import_text_problem(line, len, 0, NULL)) != NULL) {
		snprintf(why, size, "the text %s", p);
		return -1;
	}
	*root_r = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (*root_r == NULL && strstr(je.text, "JSON_ALLOW_NUL") != NULL) {
		snprintf(why, size, "a string contains a NUL character (\\u0000)");
		return -1;
	}
	if (*root_r == NULL) {
		snprintf(why, size, "not valid JSON: column %d: %s", je.column,
			 je.text);
		return -1;
	}
	if (!json_is_object(*root_r)) {
		snprintf(why, size, "not a JSON object");
		return -1;
	}
	if (line_fields(*root_r, v, why, size) < 0)
		return -1;
	return rv_import_check(v, rv_import_names, why, size);
}
