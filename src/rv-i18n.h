/* rv-i18n.h: message catalogs and language negotiation */
#ifndef RV_I18N_H
#define RV_I18N_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

struct rv_err;
struct rv_buf;

/*
 * Loads the catalogs: first the shipped ones built into the program
 * (conf/locale/<lang>.xml), then every "LANG.xml" in overrides_dir (may be NULL
 * or a missing directory), whose messages replace or add to the shipped
 * ones; an override file may add a new language. Each file is checked
 * strictly (root <catalog lang="...">, only <message code="..."> children,
 * no duplicate code); a problem is reported as "file:line: what" and
 * returns -1. Call once at start-up; not thread-safe.
 */
int rv_i18n_init(const char *overrides_dir, struct rv_err *err);
void rv_i18n_release(void);

/* A language tag as catalogs and templates name their language: 2-3
 * lowercase letters, optionally "-" and 2-8 letters or digits. */
bool rv_i18n_lang_valid(const char *tag);

/*
 * Checks the root of a catalog or template file: element root_name whose
 * only attribute is lang="xx" (a valid tag, equal to expect_lang when that
 * is not NULL), with no text outside its child_name elements. Copies the
 * tag into lang_r (size >= 16). 0, or -1 with "file:line: what".
 */
int rv_i18n_check_root(xmlNode *root, const char *root_name,
		       const char *child_name, const char *expect_lang,
		       char *lang_r, size_t size, struct rv_err *err);

/* Number of loaded languages. */
size_t rv_i18n_count(void);

/*
 * Picks the language for a response: the first language of query_locale
 * (the ?locale= value, may be NULL) or else of accept_language (may be
 * NULL; sorted by q-value, q=0 excluded) that we have, matching exactly
 * and then by base language ("de-CH" -> "de"); else fallback if we have it;
 * else "en". Returns a static string (the tag of a loaded catalog).
 */
const char *rv_i18n_negotiate(const char *query_locale,
			      const char *accept_language,
			      const char *fallback);

/* The raw message of code in lang, falling back to English, then NULL. */
const char *rv_i18n_message(const char *lang, const char *code);

/*
 * Appends the message of err->code in lang to out, with err's vars filled
 * in ({{name}}); a placeholder with no value is left as it is (logto-spec
 * 4.6 rendering). An unknown code renders as the code itself.
 */
void rv_i18n_render(const char *lang, const struct rv_err *err,
		    struct rv_buf *out);

#endif
