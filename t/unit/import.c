/* unit/import: rv-import.c: the user fields and the lines of
 * "reverify-admin user import" (moved there from reverify-admin, so that
 * t/fuzz/fuzz-import can reach them) */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-import.h"
#include "tap.h"

/* The problem with one line, "" when it parses; v is filled. */
static const char *
line(const char *s, size_t len, const char *v[RV_IMPORT_NFIELDS])
{
	static char why[300];
	json_t *root = NULL;
	const char *dup[RV_IMPORT_NFIELDS] = { NULL };
	int f;

	memset(v, 0, sizeof(const char *) * RV_IMPORT_NFIELDS);
	why[0] = '\0';
	if (rv_import_parse_line(s, len, &root, v, why, sizeof(why)) < 0 &&
	    why[0] == '\0')
		strcpy(why, "(failed without a reason)");
	/* the values point into root: keep copies for the caller's checks */
	for (f = 0; f < RV_IMPORT_NFIELDS; f++) {
		static char keep[RV_IMPORT_NFIELDS][128];

		if (v[f] == NULL)
			continue;
		snprintf(keep[f], sizeof(keep[f]), "%s", v[f]);
		dup[f] = keep[f];
	}
	memcpy(v, dup, sizeof(dup));
	json_decref(root);
	return why;
}

#define LINE(s, v) line((s), sizeof(s) - 1, (v))

int
main(void)
{
	const char *v[RV_IMPORT_NFIELDS];
	char why[200];

	/* a whole Logto export line */
	is_str(LINE("{\"id\":\"u_1\",\"username\":\"alice\",\"primaryEmail\":"
		    "\"alice@example.com\",\"primaryPhone\":\"15551234567\","
		    "\"name\":\"Alice\",\"avatar\":\"\",\"passwordHash\":"
		    "\"$2b$04$wnfeg5rZW9s1C7qiaXiSVeZA5lDm7QAhvBA.gptynbRpO7y3VLqmu\"}", v),
	       "", "a full line parses");
	is_str(v[RV_IMPORT_ID], "u_1", "id");
	is_str(v[RV_IMPORT_EMAIL], "alice@example.com", "primaryEmail");
	ok(v[RV_IMPORT_AVATAR] == NULL, "an empty avatar is absent, as Logto exports it");
	is_str(LINE("{\"username\":\"bob\",\"passwordHash\":null,\"name\":\"\"}", v),
	       "", "null and empty name are absent");
	ok(v[RV_IMPORT_HASH] == NULL && v[RV_IMPORT_NAME] == NULL, "both absent");

	/* each way a line is refused, with the reason the admin sees */
	is_str(LINE("{\"name\":\"x\"}", v),
	       "a user needs at least one of username, primaryEmail and primaryPhone",
	       "an identifier is needed");
	is_str(LINE("[1]", v), "not a JSON object", "an array");
	ok(strncmp(LINE("{\"username\":\"a\",\"username\":\"b\"}", v),
		   "not valid JSON: ", 16) == 0, "duplicate keys are not valid JSON");
	is_str(LINE("{\"nick\":\"a\"}", v), "unknown key \"nick\"", "unknown key");
	is_str(LINE("{\"username\":1}", v), "username must be a string or null",
	       "a number");
	is_str(LINE("{\"username\":\"\\u0000\"}", v),
	       "a string contains a NUL character (\\u0000)", "an escaped NUL");
	is_str(line("{\"username\":\"a\0\"}", 17, v), "the text contains a NUL byte",
	       "a raw NUL byte");
	is_str(LINE("{\"username\":\"\xc3\"}", v), "the text is not valid UTF-8",
	       "broken UTF-8");
	is_str(LINE("{\"username\":\"a b\"}", v), "username must not contain spaces",
	       "a space in a username");
	is_str(LINE("{\"username\":\"a\\u2028b\"}", v),
	       "username must not contain spaces", "U+2028 is a space (JavaScript's \\s)");
	is_str(LINE("{\"name\":\"a\\u0085b\",\"username\":\"c\"}", v),
	       "name contains a control character", "a C1 control in a name");
	is_str(LINE("{\"primaryEmail\":\"@a.bc\"}", v),
	       "primaryEmail is not an e-mail address", "an e-mail without a local part");
	is_str(LINE("{\"primaryPhone\":\"1 555\"}", v),
	       "primaryPhone must be 1 to 32 digits", "a phone with a space");
	is_str(LINE("{\"primaryPhone\":\"+1555\"}", v),
	       "primaryPhone must be 1 to 32 digits", "a phone with a plus");
	is_str(LINE("{\"id\":\"a/b\",\"username\":\"c\"}", v),
	       "id is not a user id (1 to 64 of A-Z, a-z, 0-9, _ and -)", "a bad id");
	is_str(LINE("{\"username\":\"c\",\"passwordHash\":\"{SSHA}abc\"}", v),
	       "passwordHash of unknown format", "a hash of no scheme");

	/* the same checks for command-line input, under other names */
	{
		static const char *const names[RV_IMPORT_NFIELDS] = {
			"--id", "--username", "--email", "--phone", "--name",
			"--avatar", "--password-hash",
		};
		const char *in[RV_IMPORT_NFIELDS] = { NULL };

		in[RV_IMPORT_EMAIL] = "no-at-sign";
		is_int(rv_import_check(in, names, why, sizeof(why)), -1,
		       "a bad --email");
		is_str(why, "--email is not an e-mail address", "named as an option");
		in[RV_IMPORT_EMAIL] = "x@y.zz";
		is_int(rv_import_check(in, names, why, sizeof(why)), 0, "a good one");
	}
	ok(rv_import_text_problem("a\tb", 3, RV_IMPORT_TEXT_NO_CONTROL, NULL) != NULL,
	   "a tab is a control character");
	ok(rv_import_text_problem("a\tb", 3, 0, NULL) == NULL, "unless asked");
	return done_testing();
}
