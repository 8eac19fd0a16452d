/* fuzz-template.c: message templates: hostile files and hostile values
 *
 * The input is a templates document NUL value NUL value ... The document is
 * loaded as the override file xx.xml would be by rv_template_init(), over
 * the shipped templates (loaded once), and the language it adds is dropped
 * again after the input, so no state is left from one input to the next
 * (reloading the shipped files for each input made the target ten times
 * slower; hence rv-template.c is included, for its load_doc()). Then every type is
 * rendered in one of "xx", a region of it, a language we lack and none,
 * with the values filling code, user and application fields. Each rendered part is
 * checked as the mailer and the SMS gateway rely on: the subject is one
 * line, and the SMS text is valid UTF-8 (rv_sms_segments()) when the
 * values are, as the store keeps them. Values are cut to VALUE_MAX bytes,
 * the store's longest field: a template of many placeholders multiplies
 * their length.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "rv.h"
#include "../../src/rv-template.c"

#define NVALUES 9
#define VALUE_MAX 256	/* bytes: the store's longest field (an e-mail) */

static size_t shipped;	/* nsets with the shipped templates only */

static const char *const types[] = {
	"UserPermissionValidation", "BindNewIdentifier", "BindMfa", "Generic",
	"PasswordChanged", "EmailChanged", "PhoneChanged", "NoSuchType",
};
static const char *const langs[] = { "xx", "XX-yy", "de-CH", "zz", NULL };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct rv_err err;

	fuzz_init();
	rv_err_init(&err);
	if (rv_template_init(NULL, &err) < 0)
		abort();
	shipped = nsets;
	return 0;
}

static void
check(const struct rv_message *m, bool utf8)
{
	bool gsm;

	if (strpbrk(m->subject, "\r\n") != NULL) {
		fprintf(stderr, "a rendered subject has a line break: %s\n",
			m->subject);
		abort();
	}
	/* the values are UTF-8 when they come from the store */
	if (utf8 && rv_sms_segments(m->sms, &gsm) < 0) {
		fprintf(stderr, "a rendered SMS is not UTF-8\n");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rv_template_vars v;
	struct rv_message m = { NULL, NULL, NULL, NULL };
	struct rv_err err;
	const uint8_t *rest = data;
	size_t rest_len = size, t, l;
	char *doc, *val[NVALUES] = { NULL };
	const char *lang;
	xmlDoc *xdoc;
	bool utf8 = true;
	int i;

	fuzz_split(data, size, &doc, &rest, &rest_len);
	for (i = 0; i < NVALUES && rest_len > 0; i++)
		fuzz_split(rest, rest_len, &val[i], &rest, &rest_len);
	for (i = 0; i < NVALUES; i++) {
		if (val[i] != NULL && strlen(val[i]) > VALUE_MAX)
			val[i][VALUE_MAX] = '\0';
		if (val[i] != NULL && rv_sms_segments(val[i], NULL) < 0)
			utf8 = false;
	}
	rv_err_init(&err);
	/* as rv_xml_each_lang_file() reads dir/xx.xml for rv_template_init() */
	if (rv_xml_read_memory("xx.xml", doc, strlen(doc), &xdoc, &err) == 0) {
		load_doc(xdoc, "xx", &err);
		xmlFreeDoc(xdoc);
	}
	rv_err_release(&err);
	memset(&v, 0, sizeof(v));
	v.code = val[0] ? val[0] : "123456";
	v.expires_in_minutes = val[1] ? val[1] : "10";
	v.locale = val[2];
	v.time = val[3];
	v.user_id = val[4];
	v.user_username = val[5];
	v.user_primary_email = val[6];
	v.user_name = val[7];
	v.app_name = val[8];
	v.user_primary_phone = val[6];
	v.app_id = val[4];
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		/* one language per type, picked by the input */
		l = (t + size) % (sizeof(langs) / sizeof(langs[0]));
		v.has_user = (t + l) % 2 == 0;
		v.has_application = (t + l) % 3 != 0;
		if (rv_template_render(types[t], langs[l], "en", &v, &m, &lang,
				       &err) == 0)
			check(&m, utf8);
		rv_message_release(&m);
		rv_err_release(&err);
	}
	if (doc[0] != '\0')
		rv_sms_segments(doc, NULL);
	while (nsets > shipped)
		free_parts(sets[--nsets].part);
	free(doc);
	for (i = 0; i < NVALUES; i++)
		free(val[i]);
	return 0;
}
