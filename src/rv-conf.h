/* rv-conf.h: reverify.xml, loaded once and checked against a typed table */
#ifndef RV_CONF_H
#define RV_CONF_H

#include <stdbool.h>
#include <stddef.h>

struct rv_buf;
struct rv_err;

enum rv_conf_type {
	RV_CONF_STR,		/* char *, any text */
	RV_CONF_PATH,		/* char *, relative to the config file's directory */
	RV_CONF_UINT,		/* long long in [min, max] */
	RV_CONF_BOOL,		/* bool: yes|no|true|false|on|off */
	RV_CONF_ENUM,		/* int: index into values ("a|b|c") */
	RV_CONF_LANG,		/* char *, a language tag */
};

/*
 * The single source of truth for every setting: its place in the file
 * (<section attribute="..."/>), type, range, default and one line of help.
 * The loader, rv_conf_dump(), the generated conf/reverify.xsd and the
 * checks of conf/reverify.xml.sample and doc/reverify.xml.5 all use it.
 */
struct rv_conf_key {
	const char *section;
	const char *name;
	enum rv_conf_type type;
	size_t offset;
	long long min, max;	/* RV_CONF_UINT */
	const char *values;	/* RV_CONF_ENUM */
	const char *def;	/* default, as written in the file */
	const char *doc;
};

enum rv_conf_log_target { RV_CONF_LOG_SYSLOG, RV_CONF_LOG_STDERR, RV_CONF_LOG_FILE };
enum rv_conf_log_level { RV_CONF_LOG_WARN, RV_CONF_LOG_INFO, RV_CONF_LOG_DEBUG };

struct rv_conf {
	char *path;		/* the file it came from; NULL for defaults */
	/* <log> */
	int log_target;
	char *log_file;
	char *log_facility;
	int log_level;
	/* <http> */
	long long http_max_body;
	char *http_base_path;
	bool http_cors;
	/* <i18n> */
	char *i18n_fallback;
	char *i18n_overrides;
};

/* The table, terminated by an entry with section NULL. */
const struct rv_conf_key *rv_conf_keys(void);

/* Fills conf with the defaults of the table. */
void rv_conf_defaults(struct rv_conf *conf);
/*
 * Loads path over the defaults. Unknown elements or attributes, repeated
 * sections, text where none belongs, bad values and out-of-range numbers
 * are errors: -1 with err->msg "file:line: what". On error conf holds the
 * defaults.
 */
int rv_conf_load(const char *path, struct rv_conf *conf, struct rv_err *err);
void rv_conf_release(struct rv_conf *conf);
/* Writes the effective configuration as a reverify.xml document. */
void rv_conf_dump(const struct rv_conf *conf, struct rv_buf *out);
/* Writes the XML Schema of the file, generated from the table. */
void rv_conf_xsd(struct rv_buf *out);

#endif
