/* unit/conf: rv-conf.c, the typed key table and reverify.xml loading */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-err.h"
#include "rv-util.h"
#include "rv-xml.h"
#include "fixture.h"
#include "tap.h"

static const char *dir;

static const char *
write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads text; returns the error message ("" when it loaded). */
static const char *
load(const char *text, struct rv_conf *conf)
{
	static struct rv_err err;

	rv_err_init(&err);
	if (rv_conf_load(write_file("reverify.xml", text), conf, &err) == 0)
		return "";
	return err.msg;
}

static void
refused(const char *text, const char *want, const char *title)
{
	struct rv_conf conf;
	const char *msg = load(text, &conf);

	if (!ok(msg[0] != '\0' && strstr(msg, want) != NULL, "%s", title))
		diag("message: '%s', want it to contain '%s'", msg, want);
	rv_conf_release(&conf);
}

int
main(void)
{
	struct rv_conf conf;
	struct rv_buf out = RV_BUF_INIT;
	const struct rv_conf_key *k;
	const char *msg;
	char want[256];

	dir = fixture_dir("conf");
	rv_xml_init();

	/* defaults come from the table */
	rv_conf_defaults(&conf);
	is_int(conf.http_max_body, 65536, "default body limit is 64 KiB");
	is_str(conf.i18n_fallback, "en", "default fallback language is en");
	ok(conf.http_cors, "CORS is on by default (logto-spec 1.2)");
	is_int(conf.log_target, RV_CONF_LOG_SYSLOG, "syslog by default");
	rv_conf_release(&conf);
	for (k = rv_conf_keys(); k->section; k++)
		if (k->doc == NULL || k->def == NULL)
			break;
	ok(k->section == NULL, "every key has a default and a help line");

	/* a good file */
	msg = load("<?xml version=\"1.0\"?>\n<reverify>\n"
		   "  <!-- comment -->\n"
		   "  <log target=\"file\" file=\"log/rv.log\" level=\"debug\"/>\n"
		   "  <http max-body=\"2048\" cors=\"no\" base-path=\"/auth\"/>\n"
		   "  <i18n fallback=\"de\"/>\n</reverify>\n", &conf);
	is_str(msg, "", "a valid file loads");
	is_int(conf.http_max_body, 2048, "max-body read");
	ok(!conf.http_cors, "cors=no read");
	is_str(conf.http_base_path, "/auth", "base-path read");
	is_str(conf.i18n_fallback, "de", "fallback read");
	is_int(conf.log_level, RV_CONF_LOG_DEBUG, "enum read");
	snprintf(want, sizeof(want), "%s/log/rv.log", dir);
	is_str(conf.log_file, want, "relative paths are relative to the config file");
	rv_buf_reset(&out);
	rv_conf_dump(&conf, &out);
	ok(strstr(out.buf, "max-body=\"2048\"") != NULL &&
	   strstr(out.buf, "cors=\"no\"") != NULL, "dump shows the effective values");
	rv_conf_release(&conf);

	/* the dump is itself a valid configuration */
	rv_conf_defaults(&conf);
	rv_buf_reset(&out);
	rv_conf_dump(&conf, &out);
	rv_conf_release(&conf);
	msg = load(out.buf, &conf);
	is_str(msg, "", "the dump of the defaults loads back");
	rv_conf_release(&conf);

	/* refusals, each naming file and line */
	snprintf(want, sizeof(want), "%s/reverify.xml:3: unknown element <bogus>", dir);
	refused("<reverify>\n  <http/>\n  <bogus/>\n</reverify>\n", want,
		"an unknown element is refused with file:line");
	refused("<reverify>\n<http max-bodyy=\"1\"/>\n</reverify>\n",
		":2: unknown setting 'max-bodyy' in <http>",
		"an unknown attribute is refused with its line");
	refused("<reverify>\n<http max-body=\"lots\"/>\n</reverify>\n",
		":2: <http max-body=\"lots\">: the value is not a whole number",
		"a bad number is refused");
	refused("<reverify>\n<http max-body=\"1\"/>\n</reverify>\n",
		"is out of range (1024 to 1048576)",
		"an out-of-range number is refused with the range");
	/* the limits of issue 14 */
	refused("<reverify>\n<codes caller-send-max=\"0\"/>\n</reverify>\n",
		":2: <codes caller-send-max=\"0\">: the value is out of range (1 to 256)",
		"caller-send-max 0 is refused with the range");
	refused("<reverify>\n<codes caller-send-max=\"257\"/>\n</reverify>\n",
		"is out of range (1 to 256)", "caller-send-max above a window's 256");
	refused("<reverify>\n<codes caller-send-window=\"59\"/>\n</reverify>\n",
		"is out of range (60 to 86400)", "caller-send-window below a minute");
	refused("<reverify>\n<delivery sms-hourly-max=\"1000001\"/>\n</reverify>\n",
		":2: <delivery sms-hourly-max=\"1000001\">: the value is out of range (0 to 1000000)",
		"sms-hourly-max above 1000000");
	refused("<reverify>\n<delivery sms-prefixes=\"49 +33\"/>\n</reverify>\n",
		":2: <delivery sms-prefixes=\"49 +33\">: the value is not a list of country calling codes",
		"sms-prefixes with a + is refused");
	refused("<reverify>\n<delivery sms-prefixes=\"1234567890123456\"/>\n</reverify>\n",
		"is not a list of country calling codes (1 to 15 digits each)",
		"an sms prefix longer than 15 digits is refused");
	is_str(load("<reverify>\n<delivery sms-prefixes=\" 49\n 33 81 \" sms-hourly-max=\"500\"/>\n"
		    "<codes caller-send-max=\"5\" caller-send-window=\"600\"/>\n</reverify>\n", &conf),
	       "", "the limits load");
	is_str(conf.del_sms_prefixes, "49 33 81", "sms-prefixes is a clean list");
	ok(conf.del_sms_hourly_max == 500 && conf.caller_send_max == 5 &&
	   conf.caller_send_window == 600, "the limits have their values");
	rv_conf_release(&conf);
	rv_conf_defaults(&conf);
	ok(conf.del_sms_hourly_max == 0 && *conf.del_sms_prefixes == '\0' &&
	   conf.caller_send_max == 20 && conf.caller_send_window == 3600,
	   "defaults: no SMS budget, any country, 20 sends per caller and hour");
	rv_conf_release(&conf);
	refused("<reverify>\n<log level=\"loud\"/>\n</reverify>\n",
		"is not one of the allowed values (one of warn|info|debug)",
		"a bad enum value is refused with the choices");
	refused("<reverify>\n<http cors=\"maybe\"/>\n</reverify>\n",
		"is not yes or no", "a bad boolean is refused");
	refused("<reverify>\n<i18n fallback=\"d\"/>\n</reverify>\n",
		"is not a language tag", "a bad language tag is refused");
	refused("<reverify>\n<http/>\n<http/>\n</reverify>\n",
		":3: <http> appears twice (first on line 2)",
		"a repeated section is refused");
	refused("<reverify>\n<http>text</http>\n</reverify>\n",
		"takes attributes, not text", "text in a section is refused");
	refused("<reverify>\n<http><x/></http>\n</reverify>\n",
		"takes no child elements", "a child element in a section is refused");
	refused("<config/>\n", "the root element must be <reverify>",
		"a wrong root element is refused");
	refused("<reverify>\n<log target=\"file\"/>\n</reverify>\n",
		"needs file=", "target=file without file= is refused");
	refused("<reverify>\n<http max-body=\"2048\">\n</reverify>\n",
		":3:", "malformed XML is refused with its line");
	refused("<!DOCTYPE r [<!ENTITY x \"y\">]>\n<reverify/>\n",
		"DOCTYPE is not allowed", "a DOCTYPE (entities) is refused");
	refused("<reverify><log file=\"/a&#x1;b\"/></reverify>\n",
		"", "a control character is refused");
	refused("", "", "an empty file is refused");
	{
		struct rv_err err;

		rv_err_init(&err);
		snprintf(want, sizeof(want), "%s/missing.xml", dir);
		ok(rv_conf_load(want, &conf, &err) < 0 && strstr(err.msg, "missing.xml"),
		   "a missing file is refused, naming it");
		rv_conf_release(&conf);
	}

	/* the same loader from memory (t/fuzz/fuzz-config): relative paths
	 * are anchored at the name given, and errors name it */
	{
		static const char good[] =
			"<reverify><auth jwks=\"keys/jwks.json\"/></reverify>\n";
		static const char bad[] = "<reverify>\n<nope/>\n</reverify>\n";
		struct rv_err err;

		rv_err_init(&err);
		ok(rv_conf_load_memory("/etc/rv/reverify.xml", good, sizeof(good) - 1,
				       &conf, &err) == 0 &&
		   strcmp(conf.auth_jwks, "/etc/rv/keys/jwks.json") == 0,
		   "a file in memory loads, paths relative to its name");
		rv_conf_release(&conf);
		ok(rv_conf_load_memory("/etc/rv/reverify.xml", bad, sizeof(bad) - 1,
				       &conf, &err) < 0 &&
		   strstr(err.msg, "/etc/rv/reverify.xml:2:") != NULL,
		   "an error in memory names the file and line");
		rv_conf_release(&conf);
		ok(rv_conf_load_memory("mem.xml", "<reverify", 9, &conf, &err) < 0 &&
		   conf.path == NULL && conf.http_max_body > 0,
		   "a document that does not parse leaves the defaults");
		rv_conf_release(&conf);
		rv_err_release(&err);
	}

	/* the schema is generated from the table */
	rv_buf_reset(&out);
	rv_conf_xsd(&out);
	ok(strstr(out.buf, "<xs:attribute name=\"max-body\">") != NULL &&
	   strstr(out.buf, "<xs:maxInclusive value=\"1048576\"/>") != NULL,
	   "the XSD carries names and ranges from the table");
	rv_buf_release(&out);

	fixture_cleanup();
	return done_testing();
}
