/* admin.h: reverify-admin's own declarations, shared by its files in src/admin */
#ifndef RV_ADMIN_H
#define RV_ADMIN_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-import.h"

struct rv_store;
struct rv_user;

#define PROG "reverify-admin"

/* exit statuses (reverify-admin(8) EXIT STATUS) */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

#define NEW_ID_LEN 21			/* like record ids (logto-spec 3.3) */
#define SCOPE_DEFAULT "openid profile email phone"

struct command;

/* The state of one run; commands get it and fill nothing else global. */
struct admin {
	const struct command *cmd;
	const char *conf_arg;		/* -c FILE */
	bool quiet;			/* -q */
	struct rv_conf conf;
	struct rv_store *st;
	struct rv_err err;
};

/* ---- admin.c: messages ------------------------------------------------ */

/* Prints "reverify-admin: what" on stderr; returns EXIT_FAIL. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, returning -1 (git's "return error(...)"). */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "reverify-admin: warning: what" on stderr. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Informational output on stdout, silenced by -q. */
void note(const struct admin *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* What went wrong, for people: "code: sentence" for a conflict, else the
 * library's detail (which names files, never secrets). */
void describe_err(const struct rv_err *err, char *buf, size_t size);
/* describe_err() printed as fail() and error() do, with their results. */
int fail_err(const struct rv_err *err);
int error_err(const struct rv_err *err);
/* "reverify-admin: user add: what" and the usage line; returns EXIT_USAGE. */
int usage_error(const struct admin *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints one line of JSON on stdout. */
void print_json(json_t *j);

/* ---- admin.c: configuration and store --------------------------------- */

/* Loads the configuration: explicit_path (config check FILE) if not NULL,
 * else as rv_conf_path() finds it (-c, $REVERIFY_CONFIG, the compiled-in
 * default), where a missing default means the built-in defaults, as for
 * the programs (rv_main). 0, or -1 after a message. */
int load_conf(struct admin *a, const char *explicit_path);
/* Opens (create: creates) the store into a->st; 0, or -1 after a message. */
int open_store(struct admin *a, bool create);
/* Does path name something that exists? false for NULL and "". */
bool exists(const char *path);

/* ---- admin.c: arguments ------------------------------------------------ */

/*
 * getopt_long over a command's arguments (argv[0] is the command word);
 * options and operands may mix, "--" ends the options. Returns the
 * option, -1 at the end, or '?' after printing a usage error.
 */
int cmd_getopt(const struct admin *a, int argc, char **argv,
	       const struct option *lo);
/* Checks that min to max operands are left; EXIT_OK or EXIT_USAGE. */
int want_args(const struct admin *a, int argc, char **argv, int min, int max);
/* For commands without options: only operands. */
int plain_args(const struct admin *a, int argc, char **argv, int min, int max);

/* ---- user.c: users ----------------------------------------------------- */

/* The fields of a user; the checks and the import line are in rv-import.c. */
enum field {
	F_ID = RV_IMPORT_ID, F_USERNAME = RV_IMPORT_USERNAME,
	F_EMAIL = RV_IMPORT_EMAIL, F_PHONE = RV_IMPORT_PHONE,
	F_NAME = RV_IMPORT_NAME, F_AVATAR = RV_IMPORT_AVATAR,
	F_HASH = RV_IMPORT_HASH,
};

/* A new user as given on the command line or in an import line: borrowed
 * strings, NULL when absent; a new id is made in id_buf. */
struct user_input {
	const char *v[RV_IMPORT_NFIELDS];
	char id_buf[NEW_ID_LEN + 1];
	json_t *mfa;		/* import: Logto's "mfaVerifications", or NULL */
	int mfa_skipped;	/* out: entries not imported (passkeys) */
};

/* Gives in a new random id unless it has one; 0, or -1 after a message. */
int new_id(struct admin *a, struct user_input *in);
/* Creates one user, audited as event; 0, or -1 with a->err filled (not
 * printed). */
int create_user(struct admin *a, const struct user_input *in, const char *event);
/* The checks create_user() would make, without writing (--dry-run); 0, or
 * -1 with a->err filled (not printed). */
int check_user(struct admin *a, const struct user_input *in);
/* 1 found (*u filled: release it), 0 no such user, -1 error (printed). */
int load_user(struct admin *a, const char *id, struct rv_user *u);

/* ---- audit.c ------------------------------------------------------------ */

/* Prunes the audit entries written before before_ms; 0 or -1 (printed). */
int audit_prune(struct admin *a, long long before_ms);

/* ---- the commands: EXIT_OK, EXIT_FAIL or EXIT_USAGE ------------------- */

int cmd_help(struct admin *a, int argc, char **argv);		/* admin.c */
int cmd_user_add(struct admin *a, int argc, char **argv);	/* user.c */
int cmd_user_show(struct admin *a, int argc, char **argv);
int cmd_user_list(struct admin *a, int argc, char **argv);
int cmd_user_del(struct admin *a, int argc, char **argv);
int cmd_user_set_password(struct admin *a, int argc, char **argv);
int cmd_user_suspend(struct admin *a, int argc, char **argv);
int cmd_user_unsuspend(struct admin *a, int argc, char **argv);
int cmd_user_mfa_reset(struct admin *a, int argc, char **argv);
int cmd_user_import(struct admin *a, int argc, char **argv);	/* import.c */
int cmd_user_unlock(struct admin *a, int argc, char **argv);	/* lockout.c */
int cmd_unlock(struct admin *a, int argc, char **argv);
int cmd_token(struct admin *a, int argc, char **argv);		/* keys.c */
int cmd_jwks_import(struct admin *a, int argc, char **argv);
int cmd_config_check(struct admin *a, int argc, char **argv);	/* config.c */
int cmd_pwned_build(struct admin *a, int argc, char **argv);	/* pwned.c */
int cmd_init(struct admin *a, int argc, char **argv);		/* store.c */
int cmd_purge(struct admin *a, int argc, char **argv);
int cmd_record_handle(struct admin *a, int argc, char **argv);
int cmd_backup(struct admin *a, int argc, char **argv);
int cmd_recover(struct admin *a, int argc, char **argv);
int cmd_stats(struct admin *a, int argc, char **argv);
int cmd_store_copy(struct admin *a, int argc, char **argv);	/* copy.c */
int cmd_migrate(struct admin *a, int argc, char **argv);
int cmd_audit_show(struct admin *a, int argc, char **argv);	/* audit.c */
int cmd_audit_verify(struct admin *a, int argc, char **argv);
int cmd_audit_head(struct admin *a, int argc, char **argv);
int cmd_audit_prune(struct admin *a, int argc, char **argv);

#endif
