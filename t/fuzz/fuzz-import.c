/* fuzz-import.c: the lines of "reverify-admin user import"
 *
 * The input is an import file. It is cut into lines as reverify-admin
 * does (a line over RV_IMPORT_LINE_MAX is skipped, blank lines too) and
 * each goes through rv_import_parse_line(): UTF-8, JSON object, known
 * keys, each field's check (id, username, e-mail, phone, name, avatar,
 * password hash format). A line that passes must pass rv_import_check()
 * again on its own fields.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "rv.h"
#include "rv-import.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;
	char why[300];

	while (p < end) {
		const char *v[RV_IMPORT_NFIELDS] = { NULL };
		json_t *root = NULL;
		size_t len;
		char *line;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl ? nl : end) - p);
		p = nl ? nl + 1 : end;
		if (len > RV_IMPORT_LINE_MAX)
			continue;
		/* the line as read, NUL bytes included */
		line = fuzz_strndup(p - len - (nl != NULL), len);
		if (strspn(line, " \t\r") != len &&
		    rv_import_parse_line(line, len, &root, v, why,
					 sizeof(why)) == 0 &&
		    rv_import_check(v, rv_import_names, why, sizeof(why)) < 0) {
			fprintf(stderr, "a parsed line fails its check: %s\n",
				why);
			abort();
		}
		json_decref(root);
		free(line);
	}
	return 0;
}
