/* unit/i18n: rv-i18n.c, catalogs and Accept-Language negotiation */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "rv-buf.h"
#include "rv-err.h"
#include "rv-i18n.h"
#include "rv-xml.h"
#include "fixture.h"
#include "tap.h"

static const char *dir;

static const char *
render(const char *lang, struct rv_err *err)
{
	static struct rv_buf b = RV_BUF_INIT;

	rv_buf_reset(&b);
	rv_i18n_render(lang, err, &b);
	return b.buf;
}

int
main(void)
{
	static const char *langs[] = { "en", "de", "fr", "ja", "ko" };
	const struct rv_err_code *codes;
	struct rv_err err;
	size_t ncodes, i, l;
	int missing = 0;

	rv_xml_init();
	rv_err_init(&err);
	if (!ok(rv_i18n_init(NULL, &err) == 0, "the built-in catalogs load"))
		diag("%s", err.msg);
	is_int((long long)rv_i18n_count(), 5, "five languages are built in");

	/* every code we answer with has a message in every language */
	codes = rv_err_codes(&ncodes);
	for (l = 0; l < 5; l++)
		for (i = 0; i < ncodes; i++) {
			const char *m = rv_i18n_message(langs[l], codes[i].code);
			const char *en = rv_i18n_message("en", codes[i].code);

			if (m == NULL || (l > 0 && m == en)) {
				diag("no %s message for %s", langs[l], codes[i].code);
				missing++;
			}
		}
	is_int(missing, 0, "every error code has a message in en, de, fr, ja and ko");

	/* negotiation */
	is_str(rv_i18n_negotiate(NULL, NULL, "en"), "en", "nothing asked: fallback");
	is_str(rv_i18n_negotiate(NULL, "ja", "en"), "ja", "Accept-Language: ja");
	is_str(rv_i18n_negotiate(NULL, "de-CH", "en"), "de",
	       "de-CH falls back to de (logto-spec 12.4: deliberately better)");
	is_str(rv_i18n_negotiate(NULL, "es, fr;q=0.8, ko;q=0.9", "en"), "ko",
	       "the highest q we have wins");
	is_str(rv_i18n_negotiate(NULL, "fr;q=0.5,  de ; q = 0.7", "en"), "de",
	       "whitespace around q-values is allowed");
	is_str(rv_i18n_negotiate(NULL, "de;q=0, fr;q=0.1", "en"), "fr",
	       "q=0 means not acceptable");
	is_str(rv_i18n_negotiate(NULL, "de;q=0", "en"), "en", "only q=0: fallback");
	is_str(rv_i18n_negotiate(NULL, "xx, yy-ZZ, *", "ko"), "ko",
	       "nothing we have: the configured fallback");
	is_str(rv_i18n_negotiate(NULL, "xx", "zz"), "en", "unknown fallback: en");
	is_str(rv_i18n_negotiate("fr", "de", "en"), "fr", "?locale= comes first");
	is_str(rv_i18n_negotiate("xx", "de", "en"), "de", "an unknown ?locale= is skipped");
	is_str(rv_i18n_negotiate(NULL, "KO-kr", "en"), "ko", "tags ignore case");
	is_str(rv_i18n_negotiate(NULL, "fr;q=abc, ja", "en"), "ja",
	       "a malformed q-value drops that range");
	is_str(rv_i18n_negotiate(NULL, ",,;;,=", "en"), "en", "garbage gives the fallback");

	/* rendering */
	rv_err_set(&err, "guard.invalid_input", "x");
	rv_err_var(&err, "type", "body");
	is_str(render("en", &err), "The request body is invalid.", "placeholders are filled");
	rv_err_release(&err);
	rv_err_set(&err, "session.verification_blocked_too_many_attempts", "x");
	rv_err_var_minutes(&err, "relativeTime", 60);
	is_str(render("en", &err), "Too many attempts. Please try again in 60 minutes.",
	       "relative time in English");
	ok(strstr(render("de", &err), "in 60 Minuten") != NULL, "relative time in German");
	ok(strstr(render("fr", &err), "dans 60 minutes") != NULL, "relative time in French");
	ok(strstr(render("ja", &err), "60 分後") != NULL, "relative time in Japanese");
	ok(strstr(render("ko", &err), "60분 후") != NULL, "relative time in Korean");
	rv_err_var_minutes(&err, "relativeTime", 1);
	ok(strstr(render("en", &err), "in 1 minute.") != NULL, "one minute is singular");
	rv_err_release(&err);
	rv_err_set(&err, RV_E_SCOPE, "x");
	ok(err.status == 400 && strcmp(err.code, "auth.unauthorized") == 0,
	   "a second status has a name of its own: auth.unauthorized:scope is 400");
	rv_err_release(&err);
	rv_err_set(&err, "guard.invalid_input", "x");
	is_str(render("en", &err), "The request {{type}} is invalid.",
	       "a placeholder with no value is left as it is (logto-spec 4.6)");
	rv_err_release(&err);
	rv_err_set(&err, "no.such_code", "x");
	ok(err.status == 500 && strcmp(err.code, "internal_error") == 0,
	   "a name missing from the error table is a 500 internal_error");
	err.code = "no.such_code";
	is_str(render("de", &err), "no.such_code", "an unknown code renders as itself");
	rv_err_release(&err);

	/* overrides */
	dir = fixture_dir("i18n");
	fixture_put("de.xml", "<catalog lang=\"de\"><message code=\"internal_error\">Kaputt.</message></catalog>");
	fixture_put("es.xml", "<catalog lang=\"es\"><message code=\"internal_error\">Error interno.</message></catalog>");
	fixture_put("README", "not a catalog");
	ok(rv_i18n_init(dir, &err) == 0, "override files load");
	is_str(rv_i18n_message("de", "internal_error"), "Kaputt.", "an override replaces one message");
	ok(rv_i18n_message("de", "auth.forbidden") != rv_i18n_message("en", "auth.forbidden"),
	   "the other German messages stay");
	is_str(rv_i18n_negotiate(NULL, "es", "en"), "es", "an override file may add a language");
	is_str(rv_i18n_message("es", "auth.forbidden"), rv_i18n_message("en", "auth.forbidden"),
	       "a missing message falls back to English");
	fixture_rm("es.xml");

	fixture_put("de.xml", "<catalog lang=\"de\">\n<message code=\"a\">x</message>\n<message code=\"a\">y</message>\n</catalog>");
	rv_err_init(&err);
	ok(rv_i18n_init(dir, &err) < 0 && strstr(err.msg, "de.xml:3: message 'a' appears twice"),
	   "a code twice in one file is refused with file:line");
	rv_err_release(&err);
	fixture_put("de.xml", "<catalog lang=\"fr\"><message code=\"a\">x</message></catalog>");
	ok(rv_i18n_init(dir, &err) < 0 && strstr(err.msg, "does not match the file name"),
	   "lang must match the file name");
	rv_err_release(&err);
	fixture_put("de.xml", "<catalog lang=\"de\">\n<msg code=\"a\">x</msg></catalog>");
	ok(rv_i18n_init(dir, &err) < 0 && strstr(err.msg, "de.xml:2: unknown element <msg>"),
	   "an unknown element is refused with file:line");
	rv_err_release(&err);
	fixture_put("de.xml", "<catalog lang=\"de\"><message code=\"a\"></message></catalog>");
	ok(rv_i18n_init(dir, &err) < 0 && strstr(err.msg, "empty"), "an empty message is refused");
	rv_err_release(&err);
	fixture_put("de.xml", "<catalog lang=\"de\"><message code=\"A B\">x</message></catalog>");
	ok(rv_i18n_init(dir, &err) < 0, "a bad code is refused");
	rv_err_release(&err);
	fixture_put("de.xml", "<catalog lang=\"de\"><message code=\"a\">x</message>");
	ok(rv_i18n_init(dir, &err) < 0 && strstr(err.msg, "de.xml:1:"),
	   "malformed XML is refused with file:line");
	rv_err_release(&err);
	fixture_rm("de.xml");
	fixture_rm("README");
	fixture_cleanup();
	ok(rv_i18n_init("/nonexistent/dir", &err) == 0, "a missing override directory is fine");
	rv_i18n_release();
	return done_testing();
}
