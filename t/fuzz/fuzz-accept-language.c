/* fuzz-accept-language.c: Accept-Language and ?locale= negotiation
 *
 * The input is "query locale" NUL "Accept-Language value" NUL "fallback"
 * (missing parts are NULL). The catalogs are the shipped ones plus one
 * override language, so that a region tag can match a loaded one exactly.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-util.h"
#include "rv.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char extra[] =
		"<catalog lang=\"pt-br\">"
		"<message code=\"guard.invalid_input\">x {{type}}</message>"
		"</catalog>\n";
	struct rv_err err;
	char dir[4200], path[4300];

	(void)argc;
	(void)argv;
	fuzz_init();
	snprintf(dir, sizeof(dir), "%s/locale", fuzz_tmpdir());
	snprintf(path, sizeof(path), "%s/pt-br.xml", dir);
	if (mkdir(dir, 0700) < 0)
		abort();
	fuzz_write_file(path, extra, strlen(extra));
	rv_err_init(&err);
	if (rv_i18n_init(dir, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *locale, *accept = NULL, *fallback = NULL;
	const uint8_t *rest, *rest2;
	size_t rest_len, rest2_len;
	const char *lang;
	struct rv_buf out = RV_BUF_INIT;
	struct rv_err err;
	bool have_accept = size > 0 && memchr(data, '\0', size) != NULL;

	fuzz_split(data, size, &locale, &rest, &rest_len);
	if (have_accept)
		fuzz_split(rest, rest_len, &accept, &rest2, &rest2_len);
	if (have_accept && rest2_len > 0)
		fallback = fuzz_strndup(rest2, rest2_len);
	lang = rv_i18n_negotiate(*locale ? locale : NULL, accept, fallback);
	if (lang == NULL || !rv_i18n_lang_valid(lang))
		abort();
	/* the header alone, as on a request without ?locale= */
	lang = rv_i18n_negotiate(NULL, accept ? accept : locale, NULL);
	if (lang == NULL)
		abort();
	rv_err_init(&err);
	rv_err_set(&err, "session.verification_blocked_too_many_attempts", "fuzz");
	rv_err_var_minutes(&err, "relativeTime", (long)size);
	rv_i18n_render(lang, &err, &out);
	rv_err_release(&err);
	rv_buf_release(&out);
	free(locale);
	free(accept);
	free(fallback);
	return 0;
}
