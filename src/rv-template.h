/* rv-template.h: message templates (e-mail and SMS) and their rendering */
#ifndef RV_TEMPLATE_H
#define RV_TEMPLATE_H

#include <stdbool.h>

struct rv_err;

/*
 * What a template is filled with (logto-spec 4.6). Strings may be NULL
 * (then the leaf renders empty). The roots code, expiresInMinutes, locale
 * and time are always present; user and application only when has_user /
 * has_application is set: otherwise {{user.x}} and {{application.x}} are
 * left as they are (an unknown root, as in Logto). Any other root
 * ({{organization.name}}, {{foo}}) is left as it is too, and a leaf we do
 * not know under a present root ({{user.avatar}}) renders empty.
 */
struct rv_template_vars {
	const char *code, *expires_in_minutes, *locale, *time;
	const char *user_id, *user_username, *user_primary_email,
		*user_primary_phone, *user_name;
	const char *app_id, *app_name;
	bool has_user, has_application;
};

/*
 * A rendered message; every part is malloc'd and NUL-terminated (html may
 * be "": the template has no HTML part, send text only). The parts hold the
 * code: rv_message_release() wipes, frees and sets them to NULL (safe to
 * call twice, or on a message that rv_template_render() failed to fill).
 */
struct rv_message {
	char *subject, *text, *html, *sms;
};

/*
 * Loads the shipped templates (conf/templates/LANG.xml, built into the
 * program), then every "LANG.xml" in overrides_dir (NULL, "" or a missing
 * directory: none), whose (lang, type) entries replace the shipped ones; an
 * override file may also add a language, with only some of the types.
 * Checked strictly, like the catalogs (rv-i18n.h): root <templates
 * lang="...">, lang matching the file name of an override, only <template
 * type="..."> children with one of the seven types, each type once per file,
 * each holding <subject>, <text>, <html>, <sms> once and in that order, text
 * only (CDATA allowed). Each part is trimmed of leading and trailing white
 * space; subject, text and sms must not be empty, and the subject must be
 * one line without control characters. A problem is reported as
 * "file:line: what" in err->msg (500) and returns -1. Call once at start-up;
 * not thread-safe.
 */
int rv_template_init(const char *overrides_dir, struct rv_err *err);
void rv_template_release(void);

/* Is type one of the 8 names (UserPermissionValidation, BindNewIdentifier,
 * BindMfa, Generic, PasswordChanged, EmailChanged, PhoneChanged,
 * UsernameChanged)? */
bool rv_template_type_valid(const char *type);

/*
 * Renders type in lang into *m. The template is (type, lang), else (type,
 * fallback), else (Generic, fallback) (logto-spec 4.7), where each language
 * is matched exactly (ignoring case) and then by its base language ("de-CH"
 * -> "de"); lang and fallback may be NULL. Placeholders are
 * {{name}} with optional white space inside the braces (logto-spec 4.6,
 * /{{\s*([\w.]+)\s*}}/), filled from v. In the html part every value is
 * HTML-escaped (& < > " '); subject, text and sms get the raw value, except
 * that control characters (C0, DEL, C1, U+2028, U+2029) are removed from
 * values going into the subject.
 *
 * 0 on success, *lang_r (may be NULL) set to the language used (a static
 * string, valid until rv_template_release()). -1 with 400
 * connector.invalid_config for an unknown type, 400
 * connector.template_not_found when no template fits; *m is then all NULL.
 */
int rv_template_render(const char *type, const char *lang,
		       const char *fallback, const struct rv_template_vars *v,
		       struct rv_message *m, const char **lang_r,
		       struct rv_err *err);
void rv_message_release(struct rv_message *m);

/*
 * The number of SMS segments needed for a UTF-8 text: GSM-7 when every
 * character is in the GSM 03.38 default alphabet or its extension table
 * (an extension character counts two septets), 160 septets for a single
 * message, 153 per part of a longer one (an escape pair is never split);
 * else UCS-2, in UTF-16 code units: 70 for a single message, 67 per part (a
 * surrogate pair is never split). *gsm7_r (may be NULL) tells which.
 * 0 for "", -1 for invalid UTF-8.
 */
int rv_sms_segments(const char *utf8, bool *gsm7_r);

#endif
