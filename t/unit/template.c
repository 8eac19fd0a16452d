/* unit/template: rv-template.c, message templates, rendering, SMS segments */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "rv-err.h"
#include "rv-template.h"
#include "rv-xml.h"
#include "fixture.h"
#include "tap.h"

static const char *const langs[] = { "en", "de", "fr", "ja", "ko" };
static const char *const types[] = {
	"UserPermissionValidation", "BindNewIdentifier", "BindMfa", "Generic",
	"PasswordChanged", "EmailChanged", "PhoneChanged",
};
#define NLANGS (sizeof(langs) / sizeof(langs[0]))
#define NTYPES (sizeof(types) / sizeof(types[0]))
#define NOTICE(t) ((t) >= 4)

static const char *dir;

/* A full set of values, as the sender fills them. */
static struct rv_template_vars
full_vars(void)
{
	struct rv_template_vars v = {
		.code = "123456", .expires_in_minutes = "10", .locale = "en",
		.time = "2025-01-31T12:34:56Z",
		.user_id = "u1d2e3f4", .user_username = "alice",
		.user_primary_email = "alice@example.com",
		.user_primary_phone = "+491701234567", .user_name = "Alice",
		.app_id = "app1", .app_name = "Example Application!!",
		.has_user = true, .has_application = true,
	};

	return v;
}

static bool
has(const char *s, const char *needle)
{
	return s != NULL && strstr(s, needle) != NULL;
}

/* ---- the shipped templates ---------------------------------------------- */

static void
test_shipped(void)
{
	struct rv_template_vars v = full_vars();
	struct rv_message m;
	struct rv_err err;
	size_t l, t;

	rv_err_init(&err);
	for (l = 0; l < NLANGS; l++)
		for (t = 0; t < NTYPES; t++) {
			const char *used = NULL, *problem = NULL;
			const char *parts[4];
			int rc, i;

			v.locale = langs[l];
			rc = rv_template_render(types[t], langs[l], "en", &v, &m,
						&used, &err);
			parts[0] = m.subject, parts[1] = m.text;
			parts[2] = m.html, parts[3] = m.sms;
			if (rc < 0)
				problem = err.msg;
			else if (used == NULL || strcmp(used, langs[l]) != 0)
				problem = "rendered in another language";
			for (i = 0; problem == NULL && i < 4; i++) {
				if (*parts[i] == '\0')
					problem = "a part is empty";
				else if (has(parts[i], "{{"))
					problem = "a placeholder is left";
				else if (!NOTICE(t) && i != 0 && !has(parts[i], "123456"))
					problem = "the code is missing";
				else if (NOTICE(t) && has(parts[i], "123456"))
					problem = "a notice shows the code";
				else if (!has(parts[i], "Example Application!!") &&
					 !(i == 0 && !NOTICE(t)))
					problem = "the application name is missing";
			}
			if (problem == NULL && !NOTICE(t) && !has(m.subject, "123456"))
				problem = "the code is not in the subject";
			if (problem == NULL && !NOTICE(t) &&
			    (!has(m.text, "10") || !has(m.html, "10") || !has(m.sms, "10")))
				problem = "the expiry is missing";
			if (problem == NULL && NOTICE(t) &&
			    (!has(m.text, v.time) || !has(m.html, v.time)))
				problem = "the time of the change is missing";
			if (problem == NULL && (!has(m.text, "alice") ||
						!has(m.html, "alice")))
				problem = "the username is missing";
			if (problem == NULL &&
			    (!has(m.html, "<html lang=\"") || has(m.html, "http")))
				problem = "the HTML is not self-contained";
			if (!ok(problem == NULL, "shipped %s %s renders", langs[l], types[t]))
				diag("%s", problem);
			rv_message_release(&m);
		}
	rv_err_release(&err);
}

/* ---- the language chain (logto-spec 4.7) -------------------------------- */

static const char *
render_lang(const char *type, const char *lang, const char *fallback)
{
	struct rv_template_vars v = full_vars();
	struct rv_message m;
	const char *used = NULL;
	struct rv_err err;

	rv_err_init(&err);
	if (rv_template_render(type, lang, fallback, &v, &m, &used, &err) < 0)
		used = err.code;
	rv_message_release(&m);
	rv_err_release(&err);
	return used;
}

static void
test_chain(void)
{
	struct rv_template_vars v = full_vars();
	struct rv_message m = { NULL, NULL, NULL, NULL };
	struct rv_err err;
	int rc;

	is_str(render_lang("Generic", "de-CH", "en"), "de", "de-CH renders in de");
	is_str(render_lang("Generic", "ko_KR", "en"), "ko", "ko_KR renders in ko");
	is_str(render_lang("BindMfa", "FR", "en"), "fr", "language tags ignore case");
	is_str(render_lang("Generic", "xx", "fr"), "fr", "an unknown language takes the fallback");
	is_str(render_lang("Generic", NULL, "ja"), "ja", "no language: the fallback");
	is_str(render_lang("Generic", "xx", "de-AT"), "de", "the fallback is matched by base language too");
	is_str(render_lang("Generic", "xx", "yy"), "en",
	       "nothing fits the language or the fallback: the shipped English");
	is_str(render_lang("SignIn", "en", "en"), "connector.invalid_config",
	       "an unknown type: connector.invalid_config (logto-spec 4.5)");

	rv_err_init(&err);
	memset(&m, 0x5a, sizeof(m));
	rc = rv_template_render("SignIn", "en", NULL, &v, &m, NULL, &err);
	ok(rc == -1 && err.status == 400 && m.subject == NULL && m.text == NULL &&
	   m.html == NULL && m.sms == NULL, "a failed render is 400 and leaves *m all NULL");
	rv_message_release(&m);
	rv_message_release(&m);
	ok(1, "releasing an empty message twice is fine");
	rv_err_release(&err);
	ok(rv_template_render("Generic", "en", "en", &v, &m, NULL, NULL) == 0 &&
	   has(m.sms, "123456"), "lang_r and err may be NULL");
	rv_message_release(&m);
	ok(m.subject == NULL && m.sms == NULL, "rv_message_release sets the parts to NULL");

	ok(rv_template_type_valid("UserPermissionValidation") &&
	   rv_template_type_valid("PhoneChanged"), "the seven types are valid");
	ok(!rv_template_type_valid("SignIn") && !rv_template_type_valid("generic") &&
	   !rv_template_type_valid("") && !rv_template_type_valid(NULL),
	   "other names are not");
}

/* ---- placeholders (logto-spec 4.6) and escaping ------------------------- */

#define XX_GENERIC \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<templates lang=\"xx\">\n" \
	"  <!-- only Generic: the other types fall back -->\n" \
	"  <template type=\"Generic\">\n" \
	"    <subject>Code {{code}} for {{user.username}} at {{application.name}}</subject>\n" \
	"    <text>\n" \
	"a={{foo.bar}} b={{ user.username }} c={{user.avatar}} d={{application.name}} " \
	"e={{\tcode\n}} f={{code.x}} g={{{code}}} h={{co de}} i={{organization.name}} " \
	"j={{user}} k={{user.}} l={{.code}} m={{expiresInMinutes}} n={{locale}} " \
	"o={{time}} p={{user.primaryEmail}} q={{user.name}} r={{user.id}} " \
	"s={{user.primaryPhone}} t={{application.id}} u={{code}\n" \
	"    </text>\n" \
	"    <html><![CDATA[<p title=\"{{user.username}}\">{{user.username}} &amp; {{code}}</p>]]></html>\n" \
	"    <sms>{{code}} {{user.username}}</sms>\n" \
	"  </template>\n" \
	"</templates>\n"

#define DE_UPV \
	"<templates lang=\"de\">\n" \
	"  <template type=\"UserPermissionValidation\">\n" \
	"    <subject>Eigener Betreff {{code}}</subject>\n" \
	"    <text>Eigener Text {{code}}</text>\n" \
	"    <html>&lt;b&gt;{{code}}&lt;/b&gt;</html>\n" \
	"    <sms>Eigene SMS {{code}}</sms>\n" \
	"  </template>\n" \
	"</templates>\n"

static void
test_render(void)
{
	struct rv_template_vars v = full_vars();
	struct rv_message m;
	struct rv_err err;
	const char *used;

	rv_err_init(&err);
	fixture_put("xx.xml", XX_GENERIC);
	fixture_put("de.xml", DE_UPV);
	fixture_put("README", "not a template");
	if (!ok(rv_template_init(dir, &err) == 0,
		"overrides load: a new language and a replaced template"))
		diag("%s", err.msg);

	v.app_name = "App";
	v.user_primary_email = NULL;
	v.user_name = NULL;
	v.time = "T";
	rv_template_render("Generic", "xx", "en", &v, &m, &used, &err);
	is_str(used, "xx", "the added language is used");
	is_str(m.text,
	       "a={{foo.bar}} b=alice c= d=App e=123456 f= g={123456} h={{co de}} "
	       "i={{organization.name}} j= k= l={{.code}} m=10 n=en o=T p= q= "
	       "r=u1d2e3f4 s=+491701234567 t=app1 u={{code}",
	       "placeholders: unknown roots stay, missing leaves are empty, "
	       "inner white space is allowed");
	is_str(m.subject, "Code 123456 for alice at App", "the subject is filled");
	is_str(m.html, "<p title=\"alice\">alice &amp; 123456</p>",
	       "CDATA in <html> is taken as text");
	rv_message_release(&m);

	v.has_user = false;
	v.has_application = false;
	rv_template_render("Generic", "xx", "en", &v, &m, NULL, &err);
	is_str(m.text,
	       "a={{foo.bar}} b={{ user.username }} c={{user.avatar}} d={{application.name}} "
	       "e=123456 f= g={123456} h={{co de}} i={{organization.name}} j={{user}} "
	       "k={{user.}} l={{.code}} m=10 n=en o=T p={{user.primaryEmail}} "
	       "q={{user.name}} r={{user.id}} s={{user.primaryPhone}} "
	       "t={{application.id}} u={{code}",
	       "without user and application, their placeholders stay as they are");
	ok(has(m.sms, "{{user.username}}"), "... in the SMS too");
	rv_message_release(&m);

	v = full_vars();
	v.code = NULL;
	rv_template_render("Generic", "xx", "en", &v, &m, NULL, &err);
	is_str(m.sms, " alice", "a NULL value renders empty");
	rv_message_release(&m);

	v = full_vars();
	v.user_username = "<script>alert('x')</script>&\"";
	rv_template_render("Generic", "xx", "en", &v, &m, NULL, &err);
	is_str(m.html,
	       "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\">"
	       "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot; &amp; 123456</p>",
	       "values are HTML-escaped in the html part");
	ok(has(m.text, "b=<script>alert('x')</script>&\""), "... and raw in the text");
	is_str(m.sms, "123456 <script>alert('x')</script>&\"", "... and in the SMS");
	rv_message_release(&m);

	v.user_username = "eve\r\nBcc: victim@example.com\x7f\xc2\x85\xe2\x80\xa8!";
	v.app_name = "A\tB";
	rv_template_render("Generic", "xx", "en", &v, &m, NULL, &err);
	is_str(m.subject, "Code 123456 for eveBcc: victim@example.com! at AB",
	       "CR, LF and other control characters never reach the subject");
	ok(has(m.text, "b=eve\r\nBcc:"), "the text keeps the raw value");
	rv_message_release(&m);

	/* the chain with an override-only language */
	is_str(render_lang("BindMfa", "xx", "en"), "en",
	       "a type missing in an added language: the type in the fallback");
	v = full_vars();
	rv_template_render("BindMfa", "xx", "xx", &v, &m, &used, &err);
	ok(strcmp(used, "xx") == 0 && has(m.subject, "Code 123456 for alice"),
	   "a type missing in the fallback too: Generic of the fallback");
	rv_message_release(&m);
	is_str(render_lang("PasswordChanged", "xx-YY", "xx"), "xx",
	       "xx-YY: base language, then Generic of the fallback");

	/* the replaced template */
	rv_template_render("UserPermissionValidation", "de", "en", &v, &m, &used, &err);
	is_str(m.subject, "Eigener Betreff 123456", "an override replaces (de, UserPermissionValidation)");
	is_str(m.html, "<b>123456</b>", "escaped HTML in <html> is accepted");
	rv_message_release(&m);
	rv_template_render("BindNewIdentifier", "de", "en", &v, &m, &used, &err);
	ok(has(m.subject, "Bestätigen Sie"), "... and leaves the other de templates alone");
	rv_message_release(&m);

	fixture_rm("xx.xml");
	fixture_rm("de.xml");
	fixture_rm("README");
	rv_err_release(&err);
}

/* ---- strict loading ----------------------------------------------------- */

#define T_OK(type) \
	"<template type=\"" type "\"><subject>s</subject><text>t</text>" \
	"<html></html><sms>m</sms></template>\n"

static void
refused(const char *xml, int line, const char *what, const char *title)
{
	char want[512];
	struct rv_err err;
	int rc;

	rv_err_init(&err);
	fixture_put("zz.xml", xml);
	rc = rv_template_init(dir, &err);
	snprintf(want, sizeof(want), "%s/zz.xml:%d: ", dir, line);
	if (!ok(rc == -1 && strncmp(err.msg, want, strlen(want)) == 0 &&
		strstr(err.msg, what) != NULL, "refused: %s", title))
		diag("got %d '%s', want '%s%s'", rc, err.msg, want, what);
	fixture_rm("zz.xml");
	rv_err_release(&err);
}

static void
test_strict(void)
{
	struct rv_err err;

	refused("<templates lang=\"zz\">\n<foo/>\n</templates>\n", 2,
		"unknown element <foo>", "an unknown element");
	refused("<templates lang=\"zz\">\n"
		"<template type=\"Generic\"><subject>s</subject><text>t</text>\n"
		"<html/><sms>m</sms><extra/></template>\n</templates>\n", 3,
		"unknown element <extra>", "an unknown element in <template>");
	refused("<templates lang=\"zz\" version=\"2\">\n</templates>\n", 1,
		"unknown attribute 'version'", "an unknown attribute of <templates>");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\" id=\"1\">"
		"<subject>s</subject><text>t</text><html/><sms>m</sms></template>\n"
		"</templates>\n", 2, "unknown attribute 'id'",
		"an unknown attribute of <template>");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">"
		"<subject lang=\"en\">s</subject><text>t</text><html/><sms>m</sms>"
		"</template>\n</templates>\n", 2, "unknown attribute 'lang' of <subject>",
		"an unknown attribute of <subject>");
	refused("<templates lang=\"zz\">\n" T_OK("Generic") "\n"
		"<template type=\"SignIn\"><subject>s</subject></template>\n"
		"</templates>\n", 4, "unknown template type 'SignIn'", "an unknown type");
	refused("<templates lang=\"zz\">\n<template>\n</template>\n</templates>\n", 2,
		"needs type=", "a template without a type");
	refused("<templates lang=\"zz\">\n<template type=\"BindMfa\">\n"
		"<subject>s</subject>\n<text>t</text>\n<html/>\n</template>\n"
		"</templates>\n", 2, "template 'BindMfa' has no <sms>", "a missing <sms>");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">\n"
		"<subject>s</subject>\n<text>t</text>\n<text>t</text>\n<html/>\n"
		"<sms>m</sms>\n</template>\n</templates>\n", 5,
		"<text> appears twice", "a repeated <text>");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">\n"
		"<subject>s</subject>\n<text>t</text>\n<html/>\n<sms>m</sms>\n"
		"<sms>m</sms>\n</template>\n</templates>\n", 7,
		"<sms> appears twice", "a repeated <sms> at the end");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">\n"
		"<subject>s</subject>\n<html/>\n<text>t</text>\n<sms>m</sms>\n"
		"</template>\n</templates>\n", 4,
		"has no <text> before <html>", "parts out of order");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">\n"
		"<subject>  \n  </subject>\n<text>t</text>\n<html/>\n<sms>m</sms>\n"
		"</template>\n</templates>\n", 3,
		"<subject> of template 'Generic' is empty", "an empty subject");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">\n"
		"<subject>s</subject>\n<text>t</text>\n<html/>\n<sms></sms>\n"
		"</template>\n</templates>\n", 6,
		"<sms> of template 'Generic' is empty", "an empty SMS");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">\n"
		"<subject>line one\nline two</subject>\n<text>t</text>\n<html/>\n"
		"<sms>m</sms>\n</template>\n</templates>\n", 3,
		"must be one line", "a subject of two lines");
	refused("<templates lang=\"zz\">\n" T_OK("Generic") T_OK("BindMfa")
		T_OK("Generic") "</templates>\n", 4,
		"template 'Generic' appears twice", "a type twice in one file");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">\n"
		"<subject>s</subject>\n<text>t</text>\n<html><p>{{code}}</p></html>\n"
		"<sms>m</sms>\n</template>\n</templates>\n", 5,
		"<html> holds text only", "unescaped HTML (neither CDATA nor &lt;)");
	refused("<templates lang=\"zz\">\nstray\n" T_OK("Generic") "</templates>\n", 1,
		"text outside <template>", "stray text");
	refused("<templates lang=\"de\">\n</templates>\n", 1,
		"does not match the file name", "a lang that is not the file name");
	refused("<templates lang=\"Zz_1\">\n</templates>\n", 1,
		"needs lang=", "a malformed lang");
	refused("<catalog lang=\"zz\">\n</catalog>\n", 1,
		"the root element must be <templates>", "another root element");
	refused("<templates lang=\"zz\">\n<template type=\"Generic\">\n"
		"<subject>s</subject>\n</templates>\n", 4,
		"", "malformed XML (the parser's line)");

	rv_err_init(&err);
	ok(rv_template_init("/nonexistent/rv-templates", &err) == 0,
	   "a missing override directory is no error");
	fixture_put("zz.xml", "<templates lang=\"zz\"/>\n");
	ok(rv_template_init(dir, &err) == 0, "an override file may be empty");
	fixture_rm("zz.xml");
	ok(rv_template_init(NULL, &err) == 0, "loading again starts afresh");
	rv_err_release(&err);
}

/* ---- SMS segments ------------------------------------------------------- */

static char *
repeat(const char *s, int n, const char *tail)
{
	size_t len = strlen(s);
	char *r = malloc(len * (size_t)n + strlen(tail) + 1);
	int i;

	for (i = 0; i < n; i++)
		memcpy(r + len * (size_t)i, s, len);
	strcpy(r + len * (size_t)n, tail);
	return r;
}

static void
check_segments(const char *s, int n, const char *tail, int want, bool want_gsm,
	       const char *title)
{
	char *text = repeat(s, n, tail);
	bool gsm = !want_gsm;
	int got = rv_sms_segments(text, &gsm);

	if (!ok(got == want && gsm == want_gsm, "segments: %s", title))
		diag("got %d %s, want %d %s", got, gsm ? "GSM-7" : "UCS-2",
		     want, want_gsm ? "GSM-7" : "UCS-2");
	free(text);
}

static void
test_segments(void)
{
	bool gsm;

	check_segments("", 0, "", 0, true, "an empty text is 0");
	check_segments("a", 160, "", 1, true, "160 'a' are 1 GSM-7 segment");
	check_segments("a", 161, "", 2, true, "161 'a' are 2 (153 per part)");
	check_segments("a", 306, "", 2, true, "306 'a' are 2");
	check_segments("a", 307, "", 3, true, "307 'a' are 3");
	check_segments("€", 1, "", 1, true, "€ is GSM-7 (extension table)");
	check_segments("€", 80, "", 1, true, "80 € are 160 septets: 1");
	check_segments("€", 81, "", 2, true, "81 € are 162 septets: 2");
	check_segments("a", 159, "[", 2, true, "[ counts two septets");
	{
		/* 152 + 2 + 152 = 306 septets: 2 parts of 153 if the escape
		 * pair could be split, 3 as it cannot */
		char *a152 = repeat("a", 152, ""), *t = repeat("a", 152, "€");

		check_segments(t, 1, a152, 3, true,
			       "an escape pair is never split between parts");
		free(t);
		free(a152);
	}
	check_segments("äöüßéÄÖÜ@£$¥èùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæÉ¤¡Ñ§¿ñà", 1, "", 1, true,
		       "the default alphabet's letters are GSM-7");
	check_segments("日", 1, "", 1, false, "one Japanese character is UCS-2");
	check_segments("a", 10, "ç", 1, false, "ç is not GSM-7");
	check_segments("a", 10, "\xe2\x80\x99", 1, false, "’ is not GSM-7");
	check_segments("a", 10, "«", 1, false, "« is not GSM-7");
	check_segments("a", 10, "`", 1, false, "` is not GSM-7");
	check_segments("한", 70, "", 1, false, "70 hangul are 1 UCS-2 segment");
	check_segments("한", 71, "", 2, false, "71 are 2 (67 per part)");
	check_segments("😀", 35, "", 1, false, "35 emoji are 70 UTF-16 units: 1");
	check_segments("😀", 66, "aa", 3, false,
		       "a surrogate pair is never split between parts (134 units: 3)");
	ok(rv_sms_segments("a\xff", &gsm) == -1, "invalid UTF-8 is -1");
	ok(rv_sms_segments("\xc0\xaf", NULL) == -1 &&
	   rv_sms_segments("\xed\xa0\x80", NULL) == -1,
	   "overlong forms and surrogates are invalid");
}

/* ---- the report: shipped SMS texts against one segment ------------------ */

static void
test_sms_report(void)
{
	struct rv_template_vars v = full_vars();
	struct rv_message m;
	struct rv_err err;
	size_t l, t;

	rv_err_init(&err);
	diag("SMS segments with code 123456, application name \"%s\" (%zu chars), "
	     "%s minutes, time %s:", v.app_name, strlen(v.app_name),
	     v.expires_in_minutes, v.time);
	for (l = 0; l < NLANGS; l++)
		for (t = 0; t < NTYPES; t++) {
			bool gsm = false, want_gsm = l < 3;
			int n = -1;
			size_t chars = 0;
			const char *p;

			if (rv_template_render(types[t], langs[l], "en", &v, &m, NULL,
					       &err) == 0) {
				n = rv_sms_segments(m.sms, &gsm);
				for (p = m.sms; *p; p++)
					chars += ((unsigned char)*p & 0xc0) != 0x80;
			}
			diag("  %s %-24s %s %d segment%s (%zu chars)", langs[l], types[t],
			     gsm ? "GSM-7" : "UCS-2", n, n == 1 ? " " : "s", chars);
			ok(n == 1 && gsm == want_gsm, "the %s %s SMS fits one %s segment",
			   langs[l], types[t], want_gsm ? "GSM-7" : "UCS-2");
			rv_message_release(&m);
		}
	rv_err_release(&err);
}

int
main(void)
{
	struct rv_err err;

	rv_xml_init();
	rv_err_init(&err);
	dir = fixture_dir("template");
	if (!ok(rv_template_init(NULL, &err) == 0, "the built-in templates load"))
		diag("%s", err.msg);
	test_shipped();
	test_chain();
	test_sms_report();
	test_segments();
	test_render();
	test_strict();
	rv_template_release();
	rv_template_release();
	ok(1, "releasing twice is fine");
	fixture_cleanup();
	rv_err_release(&err);
	return done_testing();
}
