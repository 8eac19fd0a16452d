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
	RV_CONF_LIST,		/* char *, words separated by single spaces */
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
enum rv_conf_auth_mode { RV_CONF_AUTH_JWT, RV_CONF_AUTH_REMOTE_USER };
enum rv_conf_remote_user { RV_CONF_REMOTE_USER_ID, RV_CONF_REMOTE_USER_USERNAME };
enum rv_conf_stepup { RV_STEPUP_WINDOW, RV_STEPUP_SINGLE_USE };
enum rv_conf_uv { RV_UV_PREFERRED, RV_UV_REQUIRED };
enum rv_conf_pw_scheme { RV_PW_ARGON2ID, RV_PW_BCRYPT, RV_PW_PBKDF2_SHA256 };
/* account-center field permissions (logto-spec 6.2, 6.4) */
enum rv_conf_field { RV_FIELD_OFF, RV_FIELD_READ_ONLY, RV_FIELD_EDIT };
enum rv_conf_store_backend { RV_STORE_BDB, RV_STORE_PGSQL };
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
	/* <store> */
	int store_backend;
	char *store_home;
	char *store_conninfo;
	long long store_statement_timeout;
	char *store_pepper;
	bool store_users_sync;
	bool store_records_sync;
	bool store_limits_sync;
	long long store_cache_kib;
	long long store_purge_batch;
	/* <audit> */
	char *audit_key;
	long long audit_retention;
	/* <auth> */
	int auth_mode;
	char *auth_jwks;
	char *auth_issuer;
	char *auth_audience;
	long long auth_leeway;
	char *auth_algorithms;
	char *auth_first_party;
	int auth_remote_user;
	char *auth_local_key;
	/* <password> */
	int pw_scheme;
	long long pw_argon2_memory;
	long long pw_argon2_time;
	long long pw_argon2_parallelism;
	long long pw_bcrypt_cost;
	long long pw_pbkdf2_iterations;
	long long pw_max_argon2_memory;
	long long pw_max_argon2_time;
	long long pw_max_bcrypt_cost;
	long long pw_max_pbkdf2_iterations;
	long long pw_max_crypt_rounds;
	/* <delivery> */
	char *del_sendmail;
	char *del_mail_from;
	char *del_sms_command;
	long long del_timeout;
	char *del_templates;
	char *del_app_name;
	long long del_sms_hourly_max;
	char *del_sms_prefixes;
	/* <codes> */
	long long code_ttl;
	long long code_max_tries;
	long long send_max;
	long long send_window;
	long long send_gap;
	long long caller_send_max;
	long long caller_send_window;
	/* <email-policy> */
	bool ep_block_subaddressing;
	char *ep_allow;
	char *ep_block;
	/* <password-policy> */
	long long pp_min_length;
	long long pp_max_length;
	long long pp_character_types;
	bool pp_reject_pwned;
	char *pp_pwned_list;
	bool pp_reject_repetition;
	bool pp_reject_user_info;
	char *pp_reject_words;
	/* <verification> */
	long long ver_record_ttl;
	int ver_stepup;
	bool ver_revoke_on_password;
	long long ver_max_live_records;
	char *ver_acr_values;
	long long ver_max_age;
	bool ver_accept_fresh_login;
	/* <step-up-policy> (rv-policy.h) */
	char *sp_password;
	char *sp_email;
	char *sp_phone;
	char *sp_username;
	char *sp_profile;
	char *sp_mfa;
	bool sp_email_proof;
	bool sp_phone_proof;
	/* <introspection> */
	char *intro_clients;
	/* <hooks> */
	char *hook_on_change;
	/* <lockout> */
	long long lock_max_attempts;
	long long lock_window;
	long long lock_duration;
	long long lock_consecutive_max;
	long long lock_consecutive_duration;
	/* <account-center> */
	bool ac_enabled;
	int ac_name;
	int ac_avatar;
	int ac_username;
	int ac_email;
	int ac_phone;
	int ac_password;
	int ac_mfa;
	/* <mfa>, <webauthn> (issue 20) */
	char *mfa_factors;
	char *mfa_key;
	char *mfa_issuer;
	long long mfa_totp_window;
	char *wa_rp_id;
	char *wa_rp_name;
	char *wa_origins;
	int wa_uv;
};

/* Is word one of the space-separated words of list? */
bool rv_conf_list_has(const char *list, const char *word);

/* The table, terminated by an entry with section NULL. */
const struct rv_conf_key *rv_conf_keys(void);

/* Fills conf with the defaults of the table. */
void rv_conf_defaults(struct rv_conf *conf);
/*
 * The configuration file every program reads: path (-c FILE) when not
 * NULL, else $REVERIFY_CONFIG when set and not empty, else the compiled-in
 * default. *missing_r is true when it is that default and it does not
 * exist: the programs then run on the built-in defaults (rv_conf_defaults)
 * rather than refuse to start. Returns path, the environment's string or a
 * static string.
 */
const char *rv_conf_path(const char *path, bool *missing_r);
/* The pepper file of the store: <store pepper>, else "pepper" in <store
 * home>. Caller must free() it. */
char *rv_conf_pepper_path(const struct rv_conf *conf);
/* The key file of sealed TOTP secrets: <mfa key>, else "mfa.key" in <store
 * home>. Caller must free() it. */
char *rv_conf_mfa_key_path(const struct rv_conf *conf);
/*
 * Loads path over the defaults. Unknown elements or attributes, repeated
 * sections, text where none belongs, bad values and out-of-range numbers
 * are errors: -1 with err->msg "file:line: what". On error conf holds the
 * defaults.
 */
int rv_conf_load(const char *path, struct rv_conf *conf, struct rv_err *err);
/* The same for a file's contents already in memory (len bytes of data);
 * path names it in messages and anchors relative paths. */
int rv_conf_load_memory(const char *path, const char *data, size_t len,
			struct rv_conf *conf, struct rv_err *err);
void rv_conf_release(struct rv_conf *conf);
/* Writes the effective configuration as a reverify.xml document. */
void rv_conf_dump(const struct rv_conf *conf, struct rv_buf *out);
/* Writes the XML Schema of the file, generated from the table. */
void rv_conf_xsd(struct rv_buf *out);

#endif
