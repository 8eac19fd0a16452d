/* rv-conf.c: reverify.xml, loaded once and checked against a typed table */
#include "config.h"
#include "rv-conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "rv-buf.h"
#include "rv-err.h"
#include "rv-policy.h"
#include "rv-util.h"
#include "rv-xml.h"

#ifndef RV_SYSCONFDIR
#define RV_SYSCONFDIR "/etc"
#endif
#ifndef RV_PKGDATADIR
#define RV_PKGDATADIR "/usr/share/reverify"
#endif
#ifndef RV_LOCALSTATEDIR
#define RV_LOCALSTATEDIR "/var"
#endif
#ifndef RV_CONFIG_DEFAULT
#define RV_CONFIG_DEFAULT "/etc/reverify/reverify.xml"
#endif

#define FIELD_VALUES "off|read-only|edit"

#define K(sec, name, type, field, min, max, values, def, doc) \
	{ sec, name, type, offsetof(struct rv_conf, field), min, max, values, def, doc }

static const struct rv_conf_key keys[] = {
	K("log", "target", RV_CONF_ENUM, log_target, 0, 0, "syslog|stderr|file",
	  "syslog", "where log lines go; stderr suits tests and foreground runs"),
	K("log", "file", RV_CONF_PATH, log_file, 0, 0, NULL,
	  "", "the log file when target is file"),
	K("log", "facility", RV_CONF_STR, log_facility, 0, 0, NULL,
	  "daemon", "syslog facility (auth, authpriv, daemon, user, local0-local7)"),
	K("log", "level", RV_CONF_ENUM, log_level, 0, 0, "warn|info|debug",
	  "info", "warn: problems only; info: one line per request; debug: more"),
	/* 64 KiB: a verification body is a few hundred bytes; Logto's
	 * koa-body allows 1 MiB (logto-spec 12.3) but no route needs it */
	K("http", "max-body", RV_CONF_UINT, http_max_body, 1024, 1048576, NULL,
	  "65536", "largest request body in bytes; larger gets 413"),
	K("http", "base-path", RV_CONF_STR, http_base_path, 0, 0, NULL,
	  "", "URL prefix in front of /api when the site mounts reverify below its root"),
	/* Logto answers any origin on these paths (logto-spec 1.2 step 4) */
	K("http", "cors", RV_CONF_BOOL, http_cors, 0, 0, NULL,
	  "yes", "answer CORS requests from any origin, as Logto does"),
	/* Logto's fallback language (logto-spec 1.2 step 1, 4.7) */
	K("i18n", "fallback", RV_CONF_LANG, i18n_fallback, 0, 0, NULL,
	  "en", "language used when the request asks for none we have"),
	K("i18n", "overrides", RV_CONF_PATH, i18n_overrides, 0, 0, NULL,
	  RV_SYSCONFDIR "/reverify/locale",
	  "directory of <lang>.xml catalogs that replace or add messages"),

	K("store", "backend", RV_CONF_ENUM, store_backend, 0, 0, "bdb|pgsql",
	  "bdb", "bdb: a Berkeley DB environment in home; pgsql: a PostgreSQL database (conninfo)"),
	K("store", "home", RV_CONF_PATH, store_home, 0, 0, NULL,
	  RV_LOCALSTATEDIR "/lib/reverify",
	  "Berkeley DB environment directory shared by all programs of the site "
	  "(with pgsql: the directory of the pepper file)"),
	K("store", "conninfo", RV_CONF_STR, store_conninfo, 0, 0, NULL,
	  "", "libpq connection string of the pgsql backend, without a password "
	  "(use ~/.pgpass, PGPASSFILE or a service file)"),
	K("store", "statement-timeout", RV_CONF_UINT, store_statement_timeout, 100, 600000, NULL,
	  "5000", "pgsql: milliseconds a statement or a lock wait may take"),
	K("store", "pepper", RV_CONF_PATH, store_pepper, 0, 0, NULL,
	  "", "secret key file for code and identifier hashes (default: home/pepper)"),
	K("store", "users-sync", RV_CONF_BOOL, store_users_sync, 0, 0, NULL,
	  "yes", "flush user changes to disk before answering"),
	K("store", "records-sync", RV_CONF_BOOL, store_records_sync, 0, 0, NULL,
	  "no", "flush verification records to disk before answering"),
	K("store", "limits-sync", RV_CONF_BOOL, store_limits_sync, 0, 0, NULL,
	  "no", "flush send and lockout counters to disk before answering"),
	K("store", "cache", RV_CONF_UINT, store_cache_kib, 256, 1048576, NULL,
	  "4096", "Berkeley DB cache in KiB, shared by all processes"),
	K("store", "purge-batch", RV_CONF_UINT, store_purge_batch, 0, 10000, NULL,
	  "32", "expired records removed per request at most (0: only by reverify-admin purge)"),

	/* the chain's key lives outside the store, so that whoever can write
	 * audit.db cannot rewrite it (security review F10) */
	K("audit", "key", RV_CONF_PATH, audit_key, 0, 0, NULL,
	  RV_SYSCONFDIR "/reverify/audit.key",
	  "secret key file of the audit chain (HMAC-SHA256), outside the store home; "
	  "empty: an unkeyed SHA-256 chain"),
	K("audit", "retention", RV_CONF_UINT, audit_retention, 0, 36500, NULL,
	  "0", "days audit entries are kept by reverify-admin purge and audit prune (0: forever)"),

	K("auth", "mode", RV_CONF_ENUM, auth_mode, 0, 0, "jwt|remote-user",
	  "jwt", "jwt: bearer access tokens checked against the JWKS; remote-user: trust REMOTE_USER"),
	K("auth", "jwks", RV_CONF_PATH, auth_jwks, 0, 0, NULL,
	  RV_SYSCONFDIR "/reverify/jwks.json", "JSON Web Key Set of the token issuer"),
	K("auth", "issuer", RV_CONF_STR, auth_issuer, 0, 0, NULL,
	  "", "required iss of access tokens (required in jwt mode)"),
	K("auth", "audience", RV_CONF_STR, auth_audience, 0, 0, NULL,
	  "", "required aud of access tokens (required in jwt mode)"),
	K("auth", "leeway", RV_CONF_UINT, auth_leeway, 0, 300, NULL,
	  "60", "seconds of clock skew allowed on exp and nbf"),
	K("auth", "algorithms", RV_CONF_LIST, auth_algorithms, 0, 0, NULL,
	  "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512",
	  "signature algorithms accepted (never none or HS*)"),
	K("auth", "first-party", RV_CONF_LIST, auth_first_party, 0, 0, NULL,
	  "", "client ids of the site's own applications; others get 403 on mutations"),
	K("auth", "remote-user", RV_CONF_ENUM, auth_remote_user, 0, 0, "id|username",
	  "id", "what REMOTE_USER holds in remote-user mode"),
	K("auth", "local-key", RV_CONF_PATH, auth_local_key, 0, 0, NULL,
	  "", "private JWK used by reverify-admin token (demo and tests)"),

	/* new hashes: argon2id with OWASP's minimum by default */
	K("password", "scheme", RV_CONF_ENUM, pw_scheme, 0, 0, "argon2id|bcrypt|pbkdf2-sha256",
	  "argon2id", "scheme of new password hashes; others are rehashed after a good verify"),
	K("password", "argon2-memory", RV_CONF_UINT, pw_argon2_memory, 1024, 1048576, NULL,
	  "19456", "argon2id memory cost of new hashes, KiB"),
	K("password", "argon2-time", RV_CONF_UINT, pw_argon2_time, 1, 32, NULL,
	  "2", "argon2id passes of new hashes"),
	K("password", "argon2-parallelism", RV_CONF_UINT, pw_argon2_parallelism, 1, 16, NULL,
	  "1", "argon2id lanes of new hashes"),
	K("password", "bcrypt-cost", RV_CONF_UINT, pw_bcrypt_cost, 4, 16, NULL,
	  "10", "bcrypt cost of new hashes (scheme=\"bcrypt\")"),
	K("password", "pbkdf2-iterations", RV_CONF_UINT, pw_pbkdf2_iterations, 1000, 10000000, NULL,
	  "600000", "PBKDF2-SHA256 iterations of new hashes (scheme=\"pbkdf2-sha256\")"),
	/* caps, so that an imported hash cannot make one request cost a minute */
	K("password", "max-argon2-memory", RV_CONF_UINT, pw_max_argon2_memory, 1024, 4194304, NULL,
	  "262144", "largest argon2 memory cost verified, KiB"),
	K("password", "max-argon2-time", RV_CONF_UINT, pw_max_argon2_time, 1, 64, NULL,
	  "16", "largest argon2 time cost verified"),
	K("password", "max-bcrypt-cost", RV_CONF_UINT, pw_max_bcrypt_cost, 4, 20, NULL,
	  "14", "largest bcrypt cost verified"),
	K("password", "max-pbkdf2-iterations", RV_CONF_UINT, pw_max_pbkdf2_iterations, 1000, 100000000, NULL,
	  "2000000", "largest PBKDF2 iteration count verified"),
	K("password", "max-crypt-rounds", RV_CONF_UINT, pw_max_crypt_rounds, 1000, 100000000, NULL,
	  "1000000", "largest sha-crypt rounds verified ($5$, $6$)"),

	/* delivery: a sendmail pipe and an SMS script, never a shell (DESIGN.md) */
	K("delivery", "sendmail", RV_CONF_LIST, del_sendmail, 0, 0, NULL,
	  "/usr/sbin/sendmail -t -i", "mail command and its arguments (no shell); empty: no e-mail"),
	K("delivery", "mail-from", RV_CONF_STR, del_mail_from, 0, 0, NULL,
	  "", "From address of code e-mails; e-mail is off while it is empty"),
	K("delivery", "sms-command", RV_CONF_LIST, del_sms_command, 0, 0, NULL,
	  "", "SMS gateway program and its arguments; the number is added, the text goes to stdin"),
	K("delivery", "timeout", RV_CONF_UINT, del_timeout, 1, 120, NULL,
	  "10", "seconds a delivery program may run before it is killed"),
	K("delivery", "templates", RV_CONF_PATH, del_templates, 0, 0, NULL,
	  RV_SYSCONFDIR "/reverify/templates",
	  "directory of LANG.xml message templates that replace the shipped ones"),
	K("delivery", "application-name", RV_CONF_STR, del_app_name, 0, 0, NULL,
	  "", "{{application.name}} in templates (default: the token's client id)"),
	/* not in Logto (security review F5: SMS pumping): a budget for the
	 * whole site, and the countries a code may go to */
	K("delivery", "sms-hourly-max", RV_CONF_UINT, del_sms_hourly_max, 0, 1000000, NULL,
	  "0", "SMS codes the whole site sends per rolling hour at most (0: no limit)"),
	K("delivery", "sms-prefixes", RV_CONF_LIST, del_sms_prefixes, 0, 0, NULL,
	  "", "country calling codes (digits, like 49 33 1) SMS codes may go to; empty: any"),

	/* codes: 6 digits, 600 s, 10 tries (logto-spec 4.1, 4.4); 10 sends per
	 * recipient per 600 s (5.2) */
	K("codes", "ttl", RV_CONF_UINT, code_ttl, 60, 3600, NULL,
	  "600", "seconds a code stays valid"),
	K("codes", "max-tries", RV_CONF_UINT, code_max_tries, 1, 100, NULL,
	  "10", "wrong guesses allowed per code"),
	K("codes", "send-max", RV_CONF_UINT, send_max, 1, 1000, NULL,
	  "10", "codes sent to one recipient within send-window"),
	K("codes", "send-window", RV_CONF_UINT, send_window, 60, 86400, NULL,
	  "600", "seconds over which sends are counted"),
	K("codes", "send-gap", RV_CONF_UINT, send_gap, 0, 3600, NULL,
	  "0", "seconds between two sends to one recipient at least (0: off)"),
	/* not in Logto (security review F5, F11): one caller's sends to all
	 * recipients together; at most RV_WINDOW_MAX events fit a window */
	K("codes", "caller-send-max", RV_CONF_UINT, caller_send_max, 1, 256, NULL,
	  "20", "codes one user may have sent, to all recipients, within caller-send-window"),
	K("codes", "caller-send-window", RV_CONF_UINT, caller_send_window, 60, 86400, NULL,
	  "3600", "seconds over which a user's sends are counted"),

	/* new e-mail addresses (logto-spec 5.3) */
	K("email-policy", "block-subaddressing", RV_CONF_BOOL, ep_block_subaddressing, 0, 0, NULL,
	  "no", "refuse new addresses with a + in the local part"),
	K("email-policy", "allow", RV_CONF_LIST, ep_allow, 0, 0, NULL,
	  "", "only these addresses or @domains (* is a wildcard) may be added; empty: any"),
	K("email-policy", "block", RV_CONF_LIST, ep_block, 0, 0, NULL,
	  "", "addresses or @domains (* is a wildcard) that may not be added"),

	/* new passwords (logto-spec 6.5.3: Logto's defaults) */
	K("password-policy", "min-length", RV_CONF_UINT, pp_min_length, 1, 256, NULL,
	  "8", "shortest new password, in characters"),
	K("password-policy", "max-length", RV_CONF_UINT, pp_max_length, 8, 1024, NULL,
	  "256", "longest new password, in characters"),
	K("password-policy", "character-types", RV_CONF_UINT, pp_character_types, 1, 4, NULL,
	  "1", "kinds of characters needed: lowercase, uppercase, digits, symbols"),
	K("password-policy", "reject-pwned", RV_CONF_BOOL, pp_reject_pwned, 0, 0, NULL,
	  "yes", "refuse passwords on the pwned list"),
	K("password-policy", "pwned-list", RV_CONF_PATH, pp_pwned_list, 0, 0, NULL,
	  "", "breached passwords: an index built by reverify-admin pwned build, or a text list "
	  "(a password or SHA-1 hex a line); empty: the built-in sample"),
	K("password-policy", "reject-repetition", RV_CONF_BOOL, pp_reject_repetition, 0, 0, NULL,
	  "yes", "refuse passwords that are mostly repeated or sequential characters"),
	K("password-policy", "reject-user-info", RV_CONF_BOOL, pp_reject_user_info, 0, 0, NULL,
	  "yes", "refuse passwords that are mostly the user's name, username, e-mail or phone"),
	K("password-policy", "reject-words", RV_CONF_LIST, pp_reject_words, 0, 0, NULL,
	  "", "words a new password may not mostly consist of"),

	/* 10 minutes for every record (logto-spec 3.4) */
	K("verification", "record-ttl", RV_CONF_UINT, ver_record_ttl, 60, 86400, NULL,
	  "600", "seconds a verification record lives"),
	/* window: Logto's behaviour (logto-spec 3.6); single-use: deviation 4 */
	K("verification", "step-up", RV_CONF_ENUM, ver_stepup, 0, 0, "window|single-use",
	  "window", "window: a record allows any number of changes until it expires; "
	  "single-use: the first change consumes it"),
	K("verification", "revoke-on-password-change", RV_CONF_BOOL, ver_revoke_on_password,
	  0, 0, NULL, "yes", "a password change revokes the user's other records"),
	/* Logto has no cap; one account must not make unbounded permanent
	 * writes (issue 14, F11) */
	K("verification", "max-live-records", RV_CONF_UINT, ver_max_live_records,
	  1, 1000, NULL, "20",
	  "live records one user may have; a new one evicts the oldest"),
	/* RFC 9470 3: the auth-params of the step-up challenge */
	K("verification", "acr-values", RV_CONF_LIST, ver_acr_values, 0, 0, NULL,
	  "", "acr values the step-up challenge names (acr_values), most "
	  "preferred first; with accept-fresh-login, the token acr values accepted"),
	K("verification", "max-age", RV_CONF_UINT, ver_max_age, 0, 86400, NULL,
	  "0", "seconds a sign-in stays fresh: the challenge's max_age (0: not sent)"),
	/* RFC 9470 6.1: the resource server judges auth_time and acr */
	K("verification", "accept-fresh-login", RV_CONF_BOOL, ver_accept_fresh_login,
	  0, 0, NULL, "no", "a token whose auth_time is within max-age (and whose acr "
	  "is in acr-values, when set) counts as a step-up (proof \"login\")"),

	/* which proofs satisfy which change (rv-policy.h); the defaults are
	 * Logto's: any proof, for every change (logto-spec 3.7, 6.1) */
#define PROOFS_ALL "password email-code phone-code totp backup-code passkey login"
	K("step-up-policy", "password", RV_CONF_LIST, sp_password, 0, 0, NULL,
	  PROOFS_ALL, "proofs accepted for a password change"),
	K("step-up-policy", "email", RV_CONF_LIST, sp_email, 0, 0, NULL,
	  PROOFS_ALL, "proofs accepted to set or remove the primary e-mail"),
	K("step-up-policy", "phone", RV_CONF_LIST, sp_phone, 0, 0, NULL,
	  PROOFS_ALL, "proofs accepted to set or remove the primary phone"),
	K("step-up-policy", "username", RV_CONF_LIST, sp_username, 0, 0, NULL,
	  PROOFS_ALL, "proofs accepted for a username change"),
	K("step-up-policy", "profile", RV_CONF_LIST, sp_profile, 0, 0, NULL,
	  "none", "proofs accepted for a name or avatar change (none: no step-up, as Logto)"),
	K("step-up-policy", "mfa", RV_CONF_LIST, sp_mfa, 0, 0, NULL,
	  PROOFS_ALL, "proofs accepted to enrol, replace, rename or remove a "
	  "second factor, or to see the state of the backup codes"),
	/* 800-63B-4 3.1.3.1: e-mail SHALL NOT be an out-of-band authenticator */
	K("step-up-policy", "email-proof", RV_CONF_BOOL, sp_email_proof, 0, 0, NULL,
	  "yes", "no: a code to the user's e-mail proves nothing for any change"),
	/* 800-63B-4 3.2.9: the PSTN is a restricted authenticator */
	K("step-up-policy", "phone-proof", RV_CONF_BOOL, sp_phone_proof, 0, 0, NULL,
	  "yes", "no: a code to the user's phone proves nothing for any change "
	  "(it still confirms a new number)"),

	K("introspection", "clients", RV_CONF_LIST, intro_clients, 0, 0, NULL,
	  "", "services allowed to introspect records: CLIENT_ID:SHA256_HEX_OF_SECRET ..."),

	K("hooks", "on-change", RV_CONF_LIST, hook_on_change, 0, 0, NULL,
	  "", "programs run after a password, e-mail or phone change (absolute paths)"),

	/* 100 failures per rolling hour -> 60 minutes (logto-spec 5.1) */
	K("lockout", "max-attempts", RV_CONF_UINT, lock_max_attempts, 1, 256, NULL,
	  "100", "failed verifications of one identifier within window that block it"),
	K("lockout", "window", RV_CONF_UINT, lock_window, 60, 86400, NULL,
	  "3600", "seconds over which failures are counted"),
	K("lockout", "duration", RV_CONF_UINT, lock_duration, 60, 604800, NULL,
	  "3600", "seconds an identifier stays blocked"),
	/* NIST SP 800-63B-4 3.2.2: no more than 100 consecutive failures on
	 * one account; a success resets the count (rv-lockout.h) */
	K("lockout", "consecutive-max", RV_CONF_UINT, lock_consecutive_max, 1, 100, NULL,
	  "100", "failed verifications of one account in a row (no success between) that block it"),
	K("lockout", "consecutive-duration", RV_CONF_UINT, lock_consecutive_duration,
	  60, 31622400, NULL, "86400",
	  "seconds an account stays blocked after consecutive-max failures; "
	  "each further failure blocks it again"),

	/* Logto's account center gates the API (logto-spec 1.2 step 9, 6.2);
	 * reverify turns it on with the fields it manages editable */
	K("account-center", "enabled", RV_CONF_BOOL, ac_enabled, 0, 0, NULL,
	  "yes", "no: every route answers 400 account_center.not_enabled"),
	K("account-center", "name", RV_CONF_ENUM, ac_name, 0, 0, FIELD_VALUES,
	  "edit", "permission of the name field"),
	K("account-center", "avatar", RV_CONF_ENUM, ac_avatar, 0, 0, FIELD_VALUES,
	  "edit", "permission of the avatar field"),
	K("account-center", "username", RV_CONF_ENUM, ac_username, 0, 0, FIELD_VALUES,
	  "edit", "permission of the username field"),
	K("account-center", "email", RV_CONF_ENUM, ac_email, 0, 0, FIELD_VALUES,
	  "edit", "permission of the primary e-mail field"),
	K("account-center", "phone", RV_CONF_ENUM, ac_phone, 0, 0, FIELD_VALUES,
	  "edit", "permission of the primary phone field"),
	K("account-center", "password", RV_CONF_ENUM, ac_password, 0, 0, FIELD_VALUES,
	  "edit", "permission of the password field"),
	K("account-center", "mfa", RV_CONF_ENUM, ac_mfa, 0, 0, FIELD_VALUES,
	  "edit", "permission of the second factors (TOTP, backup codes, passkeys)"),
	/* issue 20: the second factors */
	K("mfa", "factors", RV_CONF_LIST, mfa_factors, 0, 0, NULL,
	  "totp backup-code webauthn", "the second factors users may enrol and "
	  "step up with (totp, backup-code, webauthn)"),
	K("mfa", "key", RV_CONF_PATH, mfa_key, 0, 0, NULL,
	  "", "AES-256-GCM key file for TOTP secrets at rest (default: home/mfa.key; "
	  "keep it outside the store's backups, like the pepper)"),
	K("mfa", "issuer", RV_CONF_STR, mfa_issuer, 0, 0, NULL,
	  "reverify", "the issuer an authenticator app shows for the account"),
	/* RFC 6238 5.2: one step of clock skew either way */
	K("mfa", "totp-window", RV_CONF_UINT, mfa_totp_window, 0, 2, NULL,
	  "1", "TOTP steps of clock skew accepted either way"),
	K("webauthn", "rp-id", RV_CONF_STR, wa_rp_id, 0, 0, NULL,
	  "", "the relying party id of passkeys, a domain (empty: no passkeys)"),
	K("webauthn", "rp-name", RV_CONF_STR, wa_rp_name, 0, 0, NULL,
	  "reverify", "the relying party name authenticators show"),
	K("webauthn", "origins", RV_CONF_LIST, wa_origins, 0, 0, NULL,
	  "", "the origins passkey ceremonies may come from (default: https://rp-id)"),
	K("webauthn", "user-verification", RV_CONF_ENUM, wa_uv, 0, 0, "preferred|required",
	  "preferred", "required: a passkey must verify the user (PIN, biometrics)"),
	{ NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

const struct rv_conf_key *
rv_conf_keys(void)
{
	return keys;
}

#define FIELD(conf, k, type) ((type *)((char *)(conf) + (k)->offset))

static bool
is_string_type(enum rv_conf_type t)
{
	return t == RV_CONF_STR || t == RV_CONF_PATH || t == RV_CONF_LANG ||
	       t == RV_CONF_LIST;
}

bool
rv_conf_list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	if (list == NULL || n == 0)
		return false;
	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/* Words of at most 255 printable characters, no quotes, single spaces. */
static char *
normalise_list(const char *v, const char **why_r)
{
	struct rv_buf b = RV_BUF_INIT;
	const char *p = v;

	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		n = strcspn(p, " \t\n\r");
		if (n == 0)
			break;
		if (n > 255) {
			*why_r = "has a word longer than 255 characters";
			rv_buf_release(&b);
			return NULL;
		}
		if (b.len > 0)
			rv_buf_addch(&b, ' ');
		rv_buf_add(&b, p, n);
		p += n;
	}
	return rv_buf_detach(&b, NULL);
}

/* The index of value in "a|b|c", or -1. */
static int
enum_index(const char *values, const char *value)
{
	const char *p = values;
	size_t len = strlen(value);
	int i = 0;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == len && strncmp(p, value, n) == 0)
			return i;
		if (bar == NULL)
			break;
		p = bar + 1;
		i++;
	}
	return -1;
}

static const char *
enum_name(const char *values, int index, char *buf, size_t size)
{
	const char *p = values;
	int i;

	for (i = 0; i < index && (p = strchr(p, '|')) != NULL; i++)
		p++;
	if (p == NULL)
		return "";
	rv_strlcpy(buf, p, size);
	if (strchr(buf, '|'))
		*strchr(buf, '|') = '\0';
	return buf;
}

static bool
valid_lang(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 2 || n > 15)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || (s[i] == '-' && i >= 2)))
			return false;
	return true;
}

/* Resolves a relative path against the directory of the config file. */
static char *
resolve_path(const char *conf_path, const char *value)
{
	const char *slash;

	if (*value == '\0' || *value == '/' || conf_path == NULL ||
	    (slash = strrchr(conf_path, '/')) == NULL)
		return rv_xstrdup(value);
	return rv_xasprintf("%.*s/%s", (int)(slash - conf_path), conf_path, value);
}

/*
 * Sets one key from its text. why_r gets a static description of what is
 * wrong when -1 is returned.
 */
static int
set_value(struct rv_conf *conf, const struct rv_conf_key *k, const char *v,
	  const char **why_r)
{
	long long n;
	int i;

	if (strlen(v) > 4096) {
		*why_r = "is longer than 4096 bytes";
		return -1;
	}
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 &&
		    !(k->type == RV_CONF_LIST && (*p == '\t' || *p == '\n' || *p == '\r'))) {
			*why_r = "contains a control character";
			return -1;
		}
	switch (k->type) {
	case RV_CONF_LIST: {
		char *list = normalise_list(v, why_r);

		if (list == NULL)
			return -1;
		free(*FIELD(conf, k, char *));
		*FIELD(conf, k, char *) = list;
		return 0;
	}
	case RV_CONF_LANG:
		if (!valid_lang(v)) {
			*why_r = "is not a language tag (like en or pt-BR)";
			return -1;
		}
		/* FALLTHROUGH */
	case RV_CONF_STR:
		free(*FIELD(conf, k, char *));
		*FIELD(conf, k, char *) = rv_xstrdup(v);
		return 0;
	case RV_CONF_PATH:
		free(*FIELD(conf, k, char *));
		*FIELD(conf, k, char *) = resolve_path(conf->path, v);
		return 0;
	case RV_CONF_UINT:
		if (rv_parse_ll(v, 0, 9223372036854775807LL, &n) < 0) {
			*why_r = "is not a whole number";
			return -1;
		}
		if (n < k->min || n > k->max) {
			*why_r = "is out of range";
			return -1;
		}
		*FIELD(conf, k, long long) = n;
		return 0;
	case RV_CONF_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
			*FIELD(conf, k, bool) = true;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
			*FIELD(conf, k, bool) = false;
		else {
			*why_r = "is not yes or no";
			return -1;
		}
		return 0;
	case RV_CONF_ENUM:
		if ((i = enum_index(k->values, v)) < 0) {
			*why_r = "is not one of the allowed values";
			return -1;
		}
		*FIELD(conf, k, int) = i;
		return 0;
	}
	*why_r = "has an unknown type";
	return -1;
}

void
rv_conf_defaults(struct rv_conf *conf)
{
	const struct rv_conf_key *k;
	const char *why;

	memset(conf, 0, sizeof(*conf));
	for (k = keys; k->section != NULL; k++)
		if (set_value(conf, k, k->def, &why) < 0)
			rv_bug(__FILE__, __LINE__, "bad default in the key table");
}

const char *
rv_conf_path(const char *path, bool *missing_r)
{
	*missing_r = false;
	if (path == NULL && (path = getenv("REVERIFY_CONFIG")) != NULL && *path == '\0')
		path = NULL;
	if (path == NULL) {
		path = RV_CONFIG_DEFAULT;
		*missing_r = access(path, F_OK) != 0 && errno == ENOENT;
	}
	return path;
}

char *
rv_conf_pepper_path(const struct rv_conf *conf)
{
	if (conf->store_pepper != NULL && *conf->store_pepper != '\0')
		return rv_xstrdup(conf->store_pepper);
	return rv_xasprintf("%s/pepper", conf->store_home);
}

char *
rv_conf_mfa_key_path(const struct rv_conf *conf)
{
	if (conf->mfa_key != NULL && *conf->mfa_key != '\0')
		return rv_xstrdup(conf->mfa_key);
	return rv_xasprintf("%s/mfa.key", conf->store_home);
}

void
rv_conf_release(struct rv_conf *conf)
{
	const struct rv_conf_key *k;

	for (k = keys; k->section != NULL; k++)
		if (is_string_type(k->type))
			free(*FIELD(conf, k, char *));
	free(conf->path);
	memset(conf, 0, sizeof(*conf));
}

static bool
section_known(const char *name)
{
	const struct rv_conf_key *k;

	for (k = keys; k->section != NULL; k++)
		if (strcmp(k->section, name) == 0)
			return true;
	return false;
}

static const struct rv_conf_key *
find_key(const char *section, const char *name)
{
	const struct rv_conf_key *k;

	for (k = keys; k->section != NULL; k++)
		if (strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* Is every word of list 1 to 15 digits (a country calling code, or a
 * longer prefix of E.164 numbers)? */
static bool
digit_words(const char *list)
{
	const char *p = list;

	while (p != NULL && *p) {
		size_t n = strcspn(p, " ");

		if (n == 0 || n > 15 || strspn(p, "0123456789") != n)
			return false;
		p = p[n] ? p + n + 1 : NULL;
	}
	return true;
}

static void
describe_range(const struct rv_conf_key *k, char *buf, size_t size)
{
	if (k->type == RV_CONF_UINT)
		snprintf(buf, size, " (%lld to %lld)", k->min, k->max);
	else if (k->type == RV_CONF_ENUM)
		snprintf(buf, size, " (one of %s)", k->values);
	else
		buf[0] = '\0';
}

static int
load_section(struct rv_conf *conf, xmlNode *sec, struct rv_err *err)
{
	const char *sname = (const char *)sec->name;
	const struct rv_conf_key *k;
	xmlAttr *a;

	if (rv_xml_first(sec) != NULL)
		return rv_xml_error(err, rv_xml_first(sec),
				    "<%s> takes no child elements; <%s> is unknown",
				    sname, (const char *)rv_xml_first(sec)->name);
	if (rv_xml_has_stray_text(sec))
		return rv_xml_error(err, sec, "<%s> takes attributes, not text", sname);
	for (a = sec->properties; a != NULL; a = a->next) {
		const char *aname = (const char *)a->name;
		xmlChar *v;
		const char *why = NULL;
		char range[160];
		int rc;

		if (a->ns != NULL || (k = find_key(sname, aname)) == NULL)
			return rv_xml_error(err, sec, "unknown setting '%s' in <%s>",
					    aname, sname);
		v = xmlNodeListGetString(sec->doc, a->children, 1);
		rc = set_value(conf, k, v ? (const char *)v : "", &why);
		if (rc == 0 && k->offset == offsetof(struct rv_conf, del_sms_prefixes) &&
		    !digit_words(conf->del_sms_prefixes)) {
			why = "is not a list of country calling codes (1 to 15 digits each)";
			rc = -1;
		}
		if (rc < 0) {
			describe_range(k, range, sizeof(range));
			rv_xml_error(err, sec, "<%s %s=\"%.64s\">: the value %s%s",
				     sname, aname, v ? (const char *)v : "", why, range);
		}
		xmlFree(v);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Loads the parsed file path over the defaults; doc is freed, NULL when
 * it could not be parsed (err says why). */
/*
 * Does a libpq connection string carry a password? In the keyword form a
 * "password" keyword (any case, spaces before the '='); in the URI form
 * (postgresql://user:secret@host/db?password=...) a ':' in the user part
 * or a password parameter.
 */
static bool
conninfo_has_password(const char *ci)
{
	char *low, *p;
	bool found = false;

	if (ci == NULL || *ci == '\0')
		return false;
	low = rv_xstrdup(ci);
	for (p = low; *p; p++)
		*p = rv_ascii_lower(*p);
	for (p = low; !found && (p = strstr(p, "password")) != NULL; p += 8) {
		const char *q = p + 8;

		while (*q == ' ' || *q == '\t')
			q++;
		found = *q == '=';
	}
	if (!found && (strncmp(low, "postgresql://", 13) == 0 ||
		       strncmp(low, "postgres://", 11) == 0)) {
		char *auth = strstr(low, "//") + 2;
		size_t n = strcspn(auth, "/?");
		char *at = memchr(auth, '@', n);

		found = at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL;
	}
	rv_wipe(low, strlen(low));
	free(low);
	return found;
}

/* <step-up-policy> names known proofs; acr-values fit the challenge's
 * quoted string (RFC 9470 3); a fresh login needs a max-age */
static int
check_policy(const struct rv_conf *conf, xmlNode *root, struct rv_err *err)
{
	static const struct {
		const char *name;
		size_t list;
	} lists[] = {
		{ "password", offsetof(struct rv_conf, sp_password) },
		{ "email", offsetof(struct rv_conf, sp_email) },
		{ "phone", offsetof(struct rv_conf, sp_phone) },
		{ "username", offsetof(struct rv_conf, sp_username) },
		{ "profile", offsetof(struct rv_conf, sp_profile) },
		{ "mfa", offsetof(struct rv_conf, sp_mfa) },
	};
	static const char *const factors[] = { "totp", "backup-code", "webauthn" };
	const char *bad, *acr = conf->ver_acr_values, *w;
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const char *l = *(char *const *)((const char *)conf + lists[i].list);

		if (!rv_policy_list_ok(l, i == 4, &bad))
			return rv_xml_error(err, root, "<step-up-policy %s> %s: "
					    "name proofs among password, email-code, "
					    "phone-code, totp, backup-code, passkey and "
					    "login%s", lists[i].name,
					    *bad ? "has an unknown proof" : "is empty",
					    i == 4 ? ", or none" : "");
	}
	for (w = conf->mfa_factors ? conf->mfa_factors : ""; *w; ) {
		size_t n = strcspn(w, " ");

		for (i = 0; i < 3; i++)
			if (strlen(factors[i]) == n && strncmp(w, factors[i], n) == 0)
				break;
		if (i == 3)
			return rv_xml_error(err, root, "<mfa factors> has an unknown "
					    "factor: name totp, backup-code, webauthn");
		w += n;
		w += *w == ' ';
	}
	if (conf->wa_rp_id != NULL && strpbrk(conf->wa_rp_id, "/: \"\\") != NULL)
		return rv_xml_error(err, root, "<webauthn rp-id> must be a domain "
				    "(\"example.com\"), without scheme or port");
	if (acr != NULL && (strlen(acr) > 400 || strpbrk(acr, "\"\\") != NULL))
		return rv_xml_error(err, root, "<verification acr-values> must be at "
				    "most 400 bytes without quotes or backslashes");
	if (conf->ver_accept_fresh_login && conf->ver_max_age == 0)
		return rv_xml_error(err, root, "<verification accept-fresh-login=\"yes\"> "
				    "needs max-age=\"SECONDS\"");
	return 0;
}

static int
load_doc(const char *path, xmlDoc *doc, struct rv_conf *conf,
	 struct rv_err *err)
{
	xmlNode *root, *sec, *prev;
	int rc = -1;

	rv_conf_defaults(conf);
	conf->path = rv_xstrdup(path);
	if (doc == NULL)
		goto fail;
	root = xmlDocGetRootElement(doc);
	if (!rv_xml_is(root, "reverify")) {
		rv_xml_error(err, root, "the root element must be <reverify>");
		goto out;
	}
	if (root->properties != NULL) {
		rv_xml_error(err, root, "<reverify> takes no attributes");
		goto out;
	}
	if (rv_xml_has_stray_text(root)) {
		rv_xml_error(err, root, "text directly inside <reverify>");
		goto out;
	}
	for (sec = rv_xml_first(root); sec != NULL; sec = rv_xml_next(sec->next)) {
		if (sec->ns != NULL || !section_known((const char *)sec->name)) {
			rv_xml_error(err, sec, "unknown element <%s>",
				     (const char *)sec->name);
			goto out;
		}
		for (prev = rv_xml_first(root); prev != sec;
		     prev = rv_xml_next(prev->next))
			if (xmlStrEqual(prev->name, sec->name)) {
				rv_xml_error(err, sec, "<%s> appears twice (first on line %ld)",
					     (const char *)sec->name,
					     (long)xmlGetLineNo(prev));
				goto out;
			}
		if (load_section(conf, sec, err) < 0)
			goto out;
	}
	if (conf->store_backend == RV_STORE_PGSQL &&
	    (conf->store_conninfo == NULL || *conf->store_conninfo == '\0')) {
		rv_xml_error(err, root, "<store backend=\"pgsql\"> needs conninfo=\"...\"");
		goto out;
	}
	if (conninfo_has_password(conf->store_conninfo)) {
		rv_xml_error(err, root, "<store conninfo> holds a password: put it in "
			     "libpq's password file (~/.pgpass or PGPASSFILE) or a "
			     "service file, never in the configuration");
		goto out;
	}
	if (check_policy(conf, root, err) < 0)
		goto out;
	if (conf->log_target == RV_CONF_LOG_FILE &&
	    (conf->log_file == NULL || *conf->log_file == '\0')) {
		rv_xml_error(err, root, "<log target=\"file\"> needs file=\"...\"");
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
fail:
	if (rc < 0) {
		char *keep = conf->path;

		conf->path = NULL;
		rv_conf_release(conf);
		rv_conf_defaults(conf);
		free(keep);
	}
	return rc;
}

int
rv_conf_load(const char *path, struct rv_conf *conf, struct rv_err *err)
{
	xmlDoc *doc = NULL;
	struct stat sb;
	const char *why;

	/* the configuration names the JWKS, the hooks and the sendmail
	 * command: whoever may change it runs code (security review F15) */
	if (stat(path, &sb) == 0 && (why = rv_file_unsafe(path, &sb)) != NULL) {
		rv_conf_defaults(conf);
		return rv_err_set(err, RV_E_INTERNAL, "the configuration '%s' %s",
				  path, why);
	}
	rv_xml_read_file(path, &doc, err);
	return load_doc(path, doc, conf, err);
}

int
rv_conf_load_memory(const char *path, const char *data, size_t len,
		    struct rv_conf *conf, struct rv_err *err)
{
	xmlDoc *doc = NULL;

	rv_xml_read_memory(path, data, len, &doc, err);
	return load_doc(path, doc, conf, err);
}

static void
add_xml_escaped(struct rv_buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': rv_buf_addstr(out, "&amp;"); break;
		case '<': rv_buf_addstr(out, "&lt;"); break;
		case '>': rv_buf_addstr(out, "&gt;"); break;
		case '"': rv_buf_addstr(out, "&quot;"); break;
		default: rv_buf_addch(out, *s);
		}
	}
}

void
rv_conf_dump(const struct rv_conf *conf, struct rv_buf *out)
{
	const struct rv_conf_key *k;
	const char *section = NULL;
	char buf[64];

	rv_buf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	if (conf->path != NULL) {
		rv_buf_addstr(out, "<!-- effective configuration of ");
		add_xml_escaped(out, conf->path);
		rv_buf_addstr(out, " -->\n");
	} else {
		rv_buf_addstr(out, "<!-- built-in defaults -->\n");
	}
	rv_buf_addstr(out, "<reverify>");
	for (k = keys; k->section != NULL; k++) {
		if (section == NULL || strcmp(section, k->section) != 0) {
			if (section != NULL)
				rv_buf_addstr(out, "/>");
			section = k->section;
			rv_buf_addf(out, "\n  <%s", section);
		}
		rv_buf_addf(out, "\n      %s=\"", k->name);
		switch (k->type) {
		case RV_CONF_STR:
		case RV_CONF_PATH:
		case RV_CONF_LANG:
		case RV_CONF_LIST: {
			const char *s = *FIELD((struct rv_conf *)conf, k, char *);

			add_xml_escaped(out, s ? s : "");
			break;
		}
		case RV_CONF_UINT:
			rv_buf_addf(out, "%lld", *FIELD((struct rv_conf *)conf, k, long long));
			break;
		case RV_CONF_BOOL:
			rv_buf_addstr(out, *FIELD((struct rv_conf *)conf, k, bool) ? "yes" : "no");
			break;
		case RV_CONF_ENUM:
			rv_buf_addstr(out, enum_name(k->values,
				      *FIELD((struct rv_conf *)conf, k, int), buf, sizeof(buf)));
			break;
		}
		rv_buf_addch(out, '"');
	}
	if (section != NULL)
		rv_buf_addstr(out, "/>");
	rv_buf_addstr(out, "\n</reverify>\n");
}

void
rv_conf_xsd(struct rv_buf *out)
{
	const struct rv_conf_key *k;
	const char *section = NULL;

	rv_buf_addstr(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<!-- reverify.xsd: the schema of reverify.xml. Generated from the key\n"
		"     table in src/rv-conf.c by 'make update-xsd'; do not edit. -->\n"
		"<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n"
		"  <xs:element name=\"reverify\">\n"
		"    <xs:complexType>\n"
		"      <xs:all>\n");
	for (k = keys; k->section != NULL; k++) {
		if (section == NULL || strcmp(section, k->section) != 0) {
			if (section != NULL)
				rv_buf_addstr(out, "          </xs:complexType>\n"
					      "        </xs:element>\n");
			section = k->section;
			rv_buf_addf(out, "        <xs:element name=\"%s\" minOccurs=\"0\">\n"
				    "          <xs:complexType>\n", section);
		}
		rv_buf_addf(out, "            <xs:attribute name=\"%s\">\n"
			    "              <xs:annotation><xs:documentation>", k->name);
		add_xml_escaped(out, k->doc);
		rv_buf_addstr(out, "</xs:documentation></xs:annotation>\n"
			      "              <xs:simpleType>\n");
		switch (k->type) {
		case RV_CONF_STR:
		case RV_CONF_PATH:
		case RV_CONF_LIST:
			rv_buf_addstr(out, "                <xs:restriction base=\"xs:string\">"
				      "<xs:maxLength value=\"4096\"/></xs:restriction>\n");
			break;
		case RV_CONF_LANG:
			rv_buf_addstr(out, "                <xs:restriction base=\"xs:string\">"
				      "<xs:pattern value=\"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?\"/>"
				      "</xs:restriction>\n");
			break;
		case RV_CONF_UINT:
			rv_buf_addf(out, "                <xs:restriction base=\"xs:nonNegativeInteger\">"
				    "<xs:minInclusive value=\"%lld\"/>"
				    "<xs:maxInclusive value=\"%lld\"/></xs:restriction>\n",
				    k->min, k->max);
			break;
		case RV_CONF_BOOL:
			rv_buf_addstr(out, "                <xs:restriction base=\"xs:string\">"
				      "<xs:enumeration value=\"yes\"/><xs:enumeration value=\"no\"/>"
				      "<xs:enumeration value=\"true\"/><xs:enumeration value=\"false\"/>"
				      "<xs:enumeration value=\"on\"/><xs:enumeration value=\"off\"/>"
				      "</xs:restriction>\n");
			break;
		case RV_CONF_ENUM: {
			const char *p = k->values;

			rv_buf_addstr(out, "                <xs:restriction base=\"xs:string\">");
			while (*p) {
				const char *bar = strchr(p, '|');
				int n = bar ? (int)(bar - p) : (int)strlen(p);

				rv_buf_addf(out, "<xs:enumeration value=\"%.*s\"/>", n, p);
				p += n + (bar ? 1 : 0);
			}
			rv_buf_addstr(out, "</xs:restriction>\n");
			break;
		}
		}
		rv_buf_addstr(out, "              </xs:simpleType>\n"
			      "            </xs:attribute>\n");
	}
	if (section != NULL)
		rv_buf_addstr(out, "          </xs:complexType>\n"
			      "        </xs:element>\n");
	rv_buf_addstr(out, "      </xs:all>\n"
		      "    </xs:complexType>\n"
		      "  </xs:element>\n"
		      "</xs:schema>\n");
}
