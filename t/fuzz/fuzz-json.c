/* fuzz-json.c: a request body -> the typed fields the endpoints read
 *
 * The input is a request body. It goes through rv_json_parse_body() (UTF-8,
 * NUL, duplicate keys, depth), then, when it is an object, through every
 * body schema the endpoints declare: the field reads of each handler
 * (rv_json_str/rv_json_obj with the same bounds), rv_code_identifier() and
 * rv_records_intro_parse(). Errors are rendered as the client would see
 * them (message in a language, zod-like data), then the body is wiped as the
 * request layer does with secrets.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz-util.h"
#include "rv.h"
#include "rv-code.h"
#include "rv-records.h"

static const char *const langs[] = { "en", "de", "fr", "ja", "ko" };

static void
show(struct rv_err *err, unsigned pick)
{
	struct rv_buf out = RV_BUF_INIT;

	rv_i18n_render(langs[pick % 5], err, &out);
	if (err->data != NULL)
		rv_json_dump(err->data, &out);
	rv_buf_release(&out);
	rv_err_release(err);
}

/* one rv_json_str() read, as a handler makes it */
static void
field(json_t *root, const char *key, bool required, size_t min, size_t max,
      unsigned pick)
{
	struct rv_err err;
	const char *v;

	rv_err_init(&err);
	if (rv_json_str(root, key, required, min, max, &v, &err) < 0)
		show(&err, pick);
	rv_err_release(&err);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rv_err err;

	(void)argc;
	(void)argv;
	fuzz_init();
	rv_err_init(&err);
	if (rv_i18n_init(NULL, &err) < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rv_records_query q;
	struct rv_buf dump = RV_BUF_INIT;
	struct rv_err err;
	json_t *root = NULL, *obj;
	const char *value;
	bool email;
	unsigned pick = size > 0 ? data[0] : 0;

	rv_err_init(&err);
	if (rv_json_parse_body((const char *)data, size, &root, &err) < 0) {
		show(&err, pick);
		return 0;
	}
	/* verification-password, my-account-password */
	field(root, "password", true, 1, 1024, pick);
	/* verification-code */
	if (rv_code_identifier(root, &email, &value, &err) < 0)
		show(&err, pick);
	field(root, "templateType", false, 1, 64, pick);
	/* verification-code-verify */
	field(root, "verificationId", true, 0, 256, pick);
	field(root, "code", true, 0, 256, pick);
	/* my-account-primary-email / -phone */
	field(root, "email", true, 1, 256, pick);
	field(root, "phone", true, 1, 256, pick);
	field(root, "newIdentifierVerificationRecordId", true, 0, 256, pick);
	/* PATCH my-account */
	field(root, "name", true, 1, 128, pick);
	field(root, "avatar", true, 1, 2048, pick);
	field(root, "username", true, 1, 128, pick);
	/* verification-introspect */
	if (rv_records_intro_parse(root, &q, &err) < 0)
		show(&err, pick);
	if (rv_json_obj(root, "customData", false, &obj, &err) < 0)
		show(&err, pick);

	rv_json_dump(root, &dump);
	rv_json_wipe_strings(root);
	rv_buf_release(&dump);
	json_decref(root);
	rv_err_release(&err);
	return 0;
}
