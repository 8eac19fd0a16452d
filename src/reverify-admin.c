/* reverify-admin.c: the operator's tool: store, users, tokens, keys, audit */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "rv-account.h"
#include "rv-auth.h"
#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-ident.h"
#include "rv-import.h"
#include "rv-json.h"
#include "rv-lockout.h"
#include "rv-log.h"
#include "rv-password.h"
#include "rv-store.h"
#include "rv-util.h"
#include "rv-xml.h"

#ifndef RV_CONFIG_DEFAULT
#define RV_CONFIG_DEFAULT "/etc/reverify/reverify.xml"
#endif

#define PROG "reverify-admin"

/* exit statuses (reverify-admin(8) EXIT STATUS) */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

#define NEW_ID_LEN 21			/* like record ids (logto-spec 3.3) */
#define PASSWORD_MAX 256		/* bytes */
#define JWKS_FILE_MAX ((size_t)1024 * 1024)
#define TTL_DEFAULT 3600
#define TTL_MAX (366LL * 24 * 3600)
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

typedef int cmd_fn(struct admin *a, int argc, char **argv);

#define CMD_NOCONF 0x1	/* loads no configuration itself (help, config check) */

struct command {
	const char *name;
	const char *sub;	/* NULL: a command of one word */
	cmd_fn *fn;
	const char *usage;	/* after "reverify-admin " */
	const char *summary;
	const char *options;	/* lines for --help, or NULL */
	unsigned flags;
};

static const struct command *command_table(size_t *n_r);

/* ---- messages --------------------------------------------------------- */

static void __attribute__((format(printf, 2, 0)))
vmessage(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s", PROG, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Prints "reverify-admin: what" on stderr; returns EXIT_FAIL. */
static int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

/* The same, returning -1 (git's "return error(...)"). */
static int __attribute__((format(printf, 1, 2)))
error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	return -1;
}

static void __attribute__((format(printf, 1, 2)))
warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

/* Informational output on stdout, silenced by -q. */
static void __attribute__((format(printf, 2, 3)))
note(const struct admin *a, const char *fmt, ...)
{
	va_list ap;

	if (a->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The store's 422 codes, and ours, with a sentence for people. */
static const struct {
	const char *code;
	const char *sentence;
} conflicts[] = {
	{ "user.username_already_in_use",
	  "the username is already used by another user" },
	{ "user.email_already_in_use",
	  "the e-mail address is already used by another user" },
	{ "user.phone_already_in_use",
	  "the phone number is already used by another user" },
	{ "user.id_already_in_use", "a user with this id exists already" },
};

/* What went wrong, for people: "code: sentence" for a conflict, else the
 * library's detail (which names files, never secrets). */
static void
describe_err(const struct rv_err *err, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++)
		if (err->code != NULL && !strcmp(err->code, conflicts[i].code)) {
			snprintf(buf, size, "%s: %s", err->code,
				 conflicts[i].sentence);
			return;
		}
	snprintf(buf, size, "%s", err->msg[0] ? err->msg :
		 err->code ? err->code : "unknown error");
}

static int
fail_err(const struct rv_err *err)
{
	char what[sizeof(err->msg) + 64];

	describe_err(err, what, sizeof(what));
	return fail("%s", what);
}

static int
error_err(const struct rv_err *err)
{
	fail_err(err);
	return -1;
}

static void
command_name(const struct command *c, char *buf, size_t size)
{
	if (c->sub != NULL)
		snprintf(buf, size, "%s %s", c->name, c->sub);
	else
		snprintf(buf, size, "%s", c->name);
}

/* "reverify-admin: user add: what" and the usage line; returns EXIT_USAGE. */
static int __attribute__((format(printf, 2, 3)))
usage_error(const struct admin *a, const char *fmt, ...)
{
	char name[64];
	va_list ap;

	command_name(a->cmd, name, sizeof(name));
	fprintf(stderr, "%s: %s: ", PROG, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s %s\n", PROG, a->cmd->usage);
	return EXIT_USAGE;
}

static void
print_command_help(const struct command *c, FILE *f)
{
	fprintf(f, "usage: %s %s\n%s\n", PROG, c->usage, c->summary);
	if (c->options != NULL)
		fprintf(f, "%s", c->options);
}

static void
print_usage(FILE *f)
{
	const struct command *t;
	size_t i, n;

	t = command_table(&n);
	fprintf(f, "usage: %s [-q] [-c FILE] COMMAND [ARGS]\n"
		"  -c FILE  configuration (default: $REVERIFY_CONFIG, else %s)\n"
		"  -q       no informational output\n"
		"commands:\n", PROG, RV_CONFIG_DEFAULT);
	for (i = 0; i < n; i++)
		fprintf(f, "  %s\n", t[i].usage);
	fprintf(f, "Run '%s COMMAND --help' for more; see reverify-admin(8).\n", PROG);
}

/* Prints one line of JSON on stdout. */
static void
print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	RV_ASSERT(s != NULL);
	puts(s);
	free(s);
}

/* ---- user fields ------------------------------------------------------ */

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
};

/* The names the fields go by in messages. */
static const char *const option_names[RV_IMPORT_NFIELDS] = {
	"--id", "--username", "--email", "--phone", "--name", "--avatar",
	"--password-hash",
};

/* Fills u (initialised) from a checked input; id must be set. */
static void
fill_user(struct rv_user *u, const struct user_input *in, long long now)
{
	rv_strlcpy(u->id, in->v[F_ID], sizeof(u->id));
	u->username = in->v[F_USERNAME] ? rv_xstrdup(in->v[F_USERNAME]) : NULL;
	u->email = in->v[F_EMAIL] ? rv_xstrdup(in->v[F_EMAIL]) : NULL;
	u->phone = in->v[F_PHONE] ? rv_xstrdup(in->v[F_PHONE]) : NULL;
	u->name = in->v[F_NAME] ? rv_xstrdup(in->v[F_NAME]) : NULL;
	u->avatar = in->v[F_AVATAR] ? rv_xstrdup(in->v[F_AVATAR]) : NULL;
	u->password_hash = in->v[F_HASH] ? rv_xstrdup(in->v[F_HASH]) : NULL;
	u->created_at = u->updated_at = now;
	u->password_updated_at = u->password_hash ? now : 0;
}

/* ---- configuration, log and store ------------------------------------- */

/*
 * Loads the configuration: explicit (config check FILE), else -c, else
 * $REVERIFY_CONFIG, else the compiled-in default, where a missing file means
 * the built-in defaults (as the programs do, rv_main()).
 */
static int
load_conf(struct admin *a, const char *explicit_path)
{
	bool no_file;
	const char *path = rv_conf_path(explicit_path ? explicit_path : a->conf_arg,
					&no_file);

	if (no_file) {
		rv_conf_defaults(&a->conf);
		return 0;
	}
	if (access(path, R_OK) != 0)
		return error("cannot read the configuration '%s': %s", path,
			     strerror(errno));
	if (rv_conf_load(path, &a->conf, &a->err) < 0)
		return error("%s", a->err.msg);
	return 0;
}

/*
 * Copies of audit events go to the site's log (rv_store_audit) when it is
 * syslog or a file. On stderr, or when the log cannot be opened, only
 * warnings: our own messages are the output there.
 */
static void
open_log(const struct admin *a)
{
	if (a->conf.log_target == RV_CONF_LOG_STDERR || rv_log_open_conf(&a->conf) < 0)
		rv_log_open(RV_LOG_STDERR, NULL, NULL, RV_LOG_LEVEL_WARN);
}

static int
open_store(struct admin *a, bool create)
{
	const char *akey = a->conf.audit_key;

	if (rv_store_open(&a->conf, create, &a->st, &a->err) < 0)
		return error_err(&a->err);
	/* the store logs it too, but the log may be a file nobody reads */
	if (!create && akey != NULL && *akey != '\0' && !rv_store_audit_keyed(a->st))
		warning("the audit key file '%s' is missing: new audit entries are "
			"not keyed (reverify-admin init creates it)", akey);
	return 0;
}

static bool
exists(const char *path)
{
	struct stat sb;

	return path != NULL && *path != '\0' && stat(path, &sb) == 0;
}

/* ---- argument parsing ------------------------------------------------- */

/*
 * getopt_long over a command's arguments (argv[0] is the command word);
 * options and operands may mix, "--" ends the options. Returns the
 * option, -1 at the end, or '?' after printing a usage error.
 */
static int
cmd_getopt(const struct admin *a, int argc, char **argv, const struct option *lo)
{
	int ch = getopt_long(argc, argv, ":", lo, NULL);
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (ch == '?') {
		if (optopt != 0)
			usage_error(a, "unknown option '-%c'", optopt);
		else
			usage_error(a, "unknown option '%.*s'",
				    (int)strcspn(arg, "="), arg);
	} else if (ch == ':') {
		usage_error(a, "option '%s' needs a value", arg);
		ch = '?';
	}
	return ch;
}

/* Checks that min to max operands are left; EXIT_OK or EXIT_USAGE. */
static int
want_args(const struct admin *a, int argc, char **argv, int min, int max)
{
	int n = argc - optind;

	if (n < min)
		return usage_error(a, "missing argument");
	if (n > max)
		return usage_error(a, "unexpected argument '%s'", argv[optind + max]);
	return EXIT_OK;
}

/* For commands without options: only operands. */
static int
plain_args(const struct admin *a, int argc, char **argv, int min, int max)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };

	if (cmd_getopt(a, argc, argv, none) != -1)
		return EXIT_USAGE;
	return want_args(a, argc, argv, min, max);
}

/* ---- passwords -------------------------------------------------------- */

/*
 * Reads one line from fd 0 byte by byte, without stdio (which would keep a
 * copy we cannot wipe) and with the echo off on a terminal. Strips the line
 * end (LF or CR LF). 0 with buf[*len_r] = '\0', or -1 after a message.
 */
static int
read_password(char *buf, size_t size, size_t *len_r)
{
	struct termios old, noecho;
	bool tty = isatty(0) && tcgetattr(0, &old) == 0, eol = false;
	size_t n = 0;
	ssize_t r;

	if (tty) {
		fprintf(stderr, "password: ");
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &noecho);
	}
	while (n < size && !eol) {
		if ((r = read(0, buf + n, 1)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		eol = buf[n++] == '\n';
	}
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (eol)
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > PASSWORD_MAX)	/* also when the line went on past size */
		return error("the password is longer than %d bytes", PASSWORD_MAX);
	buf[n] = '\0';
	*len_r = n;
	return 0;
}

/* Reads a password from stdin and hashes it; *hash_r is malloc'd. */
static int
password_from_stdin(struct admin *a, char **hash_r)
{
	char buf[PASSWORD_MAX + 3];	/* the password, CR LF, one more */
	const char *why;
	size_t len = 0;
	int rc = -1;

	if (read_password(buf, sizeof(buf), &len) < 0)
		goto out;
	if (len == 0) {
		fail("the password on standard input is empty");
		goto out;
	}
	if ((why = rv_import_text_problem(buf, len, RV_IMPORT_TEXT_NO_CONTROL,
					  NULL)) != NULL) {
		fail("the password %s", why);
		goto out;
	}
	if (rv_password_hash(buf, len, &a->conf, hash_r, &a->err) < 0) {
		fail_err(&a->err);
		goto out;
	}
	rc = 0;
out:
	rv_wipe(buf, sizeof(buf));
	return rc;
}

/* ---- transaction bodies ----------------------------------------------- */

static int
audit(struct rv_txn *txn, const char *event, const char *user, struct rv_err *err)
{
	json_t *fields = json_pack("{s:s}", "by", "admin");
	int rc = rv_store_audit(txn, event, user, fields, err);

	json_decref(fields);
	return rc;
}

/* 0 when no user has id, else -1 (422) or a store error. */
static int
id_free(struct rv_txn *txn, const char *id, struct rv_err *err)
{
	struct rv_user other;
	int rc;

	rv_user_init(&other);
	rc = rv_store_user_get(txn, id, true, &other, err);
	rv_user_release(&other);
	if (rc == 1)
		return rv_err_set(err, "user.id_already_in_use",
				  "user id '%s' exists", id);
	return rc < 0 ? rc : 0;
}

struct create_ctx {
	const struct rv_user *u;
	const char *event;	/* "user.created", "user.imported" */
};

static int
create_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct create_ctx *c = vctx;
	int rc;

	if ((rc = id_free(txn, c->u->id, err)) != 0 ||
	    (rc = rv_store_user_put(txn, c->u, err)) != 0)
		return rc;
	return audit(txn, c->event, c->u->id, err);
}

/* The checks rv_store_user_put() would make, without writing (--dry-run). */
static int
free_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	const struct rv_user *u = vctx;
	struct rv_user other;
	int rc;

	if ((rc = id_free(txn, u->id, err)) != 0)
		return rc;
	rv_user_init(&other);
	rc = rv_store_user_by_username(txn, u->username, &other, err);
	if (rc == 1)
		rc = rv_err_set(err, "user.username_already_in_use", "taken");
	if (rc == 0 && (rc = rv_store_user_by_email(txn, u->email, &other, err)) == 1)
		rc = rv_err_set(err, "user.email_already_in_use", "taken");
	if (rc == 0 && (rc = rv_store_user_by_phone(txn, u->phone, &other, err)) == 1)
		rc = rv_err_set(err, "user.phone_already_in_use", "taken");
	rv_user_release(&other);
	return rc;
}

struct get_ctx {
	const char *id;
	struct rv_user u;
	int found;
};

static int
get_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct get_ctx *c = vctx;

	rv_user_release(&c->u);
	c->found = rv_store_user_get(txn, c->id, false, &c->u, err);
	return c->found < 0 ? c->found : 0;
}

/* 1 found (*u filled: release it), 0 no such user, -1 error (printed). */
static int
load_user(struct admin *a, const char *id, struct rv_user *u)
{
	struct get_ctx c;

	c.id = id;
	c.found = 0;
	rv_user_init(&c.u);
	if (rv_store_txn(a->st, false, get_body, &c, &a->err) < 0) {
		rv_user_release(&c.u);
		return error_err(&a->err);
	}
	*u = c.u;
	return c.found;
}

enum change { CH_DELETE, CH_PASSWORD, CH_SUSPEND, CH_UNSUSPEND };

struct change_ctx {
	enum change what;
	const char *id;
	const char *hash;	/* CH_PASSWORD */
	int found;
};

static const char *const change_events[] = {
	"user.deleted", "user.password_set", "user.suspended", "user.unsuspended",
};

static int
change_user(struct rv_txn *txn, struct change_ctx *c, struct rv_err *err)
{
	struct rv_user u;
	long long now = rv_store_now();
	int rc;

	rv_user_init(&u);
	if ((rc = c->found = rv_store_user_get(txn, c->id, true, &u, err)) != 1)
		goto out;
	if (c->what == CH_PASSWORD) {
		if (u.password_hash != NULL)
			rv_wipe(u.password_hash, strlen(u.password_hash));
		free(u.password_hash);
		u.password_hash = rv_xstrdup(c->hash);
		u.password_updated_at = now;
	} else {
		u.suspended = c->what == CH_SUSPEND;
	}
	u.updated_at = now;
	rc = rv_store_user_put(txn, &u, err);
out:
	rv_user_release(&u);
	return rc < 0 ? rc : 0;
}

static int
change_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct change_ctx *c = vctx;
	int rc;

	if (c->what == CH_DELETE) {
		if ((rc = c->found = rv_store_user_del(txn, c->id, err)) < 0)
			return rc;
	} else if ((rc = change_user(txn, c, err)) < 0) {
		return rc;
	}
	return c->found == 1 ? audit(txn, change_events[c->what], c->id, err) : 0;
}

/* Runs one change on user id; EXIT_OK, or EXIT_FAIL after a message. */
static int
change(struct admin *a, enum change what, const char *id, const char *hash)
{
	struct change_ctx c = { what, id, hash, 0 };

	if (rv_store_txn(a->st, true, change_body, &c, &a->err) < 0)
		return fail_err(&a->err);
	if (c.found != 1)
		return fail("no user '%s'", id);
	return EXIT_OK;
}

/* ---- init ------------------------------------------------------------- */

static int
init_key(struct admin *a, bool *created_r)
{
	const char *key = a->conf.auth_local_key, *jwks = a->conf.auth_jwks;

	if (key == NULL || *key == '\0' || exists(key))
		return 0;
	if (rv_auth_keygen(key, jwks, false, &a->err) < 0)
		return error_err(&a->err);
	note(a, "created the signing key '%s' and added its public key to '%s'",
	     key, jwks);
	*created_r = true;
	return 0;
}

static int
cmd_init(struct admin *a, int argc, char **argv)
{
	const char *home = a->conf.store_home;
	char *pepper = rv_conf_pepper_path(&a->conf), *db = rv_xasprintf("%s/users.db", home);
	const char *akey = a->conf.audit_key;
	bool had_home = exists(home), had_pepper = exists(pepper), had_db = exists(db);
	bool had_akey = akey == NULL || *akey == '\0' || exists(akey);
	bool created = false;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if (open_store(a, true) < 0)
		goto out;
	if (!had_home)
		note(a, "created the store home '%s'", home);
	if (!had_pepper)
		note(a, "created the pepper file '%s'", pepper);
	if (!had_db)
		note(a, "created the databases in '%s'", home);
	if (!had_akey && !rv_store_audit_keyed(a->st)) {
		fail("cannot create the audit key file '%s': its directory does not "
		     "exist (create it, or set <audit key>)", akey);
		goto out;
	}
	if (!had_akey)
		note(a, "created the audit key file '%s'", akey);
	if (init_key(a, &created) < 0)
		goto out;
	if (had_home && had_pepper && had_db && had_akey && !created)
		note(a, "nothing to do: '%s' is initialised already", home);
	rc = EXIT_OK;
out:
	free(pepper);
	free(db);
	return rc;
}

/* ---- user add, show, list, del, set-password, suspend ----------------- */

static json_t *
user_json(const struct rv_user *u)
{
	const struct rv_pw_scheme *s = rv_password_scheme(u->password_hash);
	json_t *j = json_object();

#define NULLABLE(v) ((v) != NULL ? json_string(v) : json_null())
	json_object_set_new(j, "id", json_string(u->id));
	json_object_set_new(j, "username", NULLABLE(u->username));
	json_object_set_new(j, "primaryEmail", NULLABLE(u->email));
	json_object_set_new(j, "primaryPhone", NULLABLE(u->phone));
	json_object_set_new(j, "name", NULLABLE(u->name));
	json_object_set_new(j, "avatar", NULLABLE(u->avatar));
	json_object_set_new(j, "hasPassword",
			    json_boolean(u->password_hash && *u->password_hash));
	json_object_set_new(j, "passwordScheme", NULLABLE(s ? rv_password_describe(u->password_hash) : NULL));
	json_object_set_new(j, "createdAt", json_integer(u->created_at));
	json_object_set_new(j, "updatedAt", json_integer(u->updated_at));
	json_object_set_new(j, "isSuspended", json_boolean(u->suspended));
#undef NULLABLE
	return j;
}

/* Gives in a new random id unless it has one. */
static int
new_id(struct admin *a, struct user_input *in)
{
	if (in->v[F_ID] != NULL)
		return 0;
	if (rv_random_id(in->id_buf, NEW_ID_LEN, &a->err) < 0)
		return error_err(&a->err);
	in->v[F_ID] = in->id_buf;
	return 0;
}

/* Creates one user; 0, or -1 with a->err filled (not printed). */
static int
create_user(struct admin *a, const struct user_input *in, const char *event)
{
	struct rv_user u;
	struct create_ctx c = { &u, event };
	int rc;

	rv_user_init(&u);
	fill_user(&u, in, rv_store_now());
	rc = rv_store_txn(a->st, true, create_body, &c, &a->err);
	rv_user_release(&u);
	return rc;
}

static int
user_add_opts(struct admin *a, int argc, char **argv, struct user_input *in,
	      bool *pw_r)
{
	static const struct option lo[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "email", required_argument, NULL, 'e' },
		{ "phone", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "password-stdin", no_argument, NULL, 'P' },
		{ "id", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1) {
		switch (ch) {
		case 'u': in->v[F_USERNAME] = optarg; break;
		case 'e': in->v[F_EMAIL] = optarg; break;
		case 'p': in->v[F_PHONE] = optarg; break;
		case 'n': in->v[F_NAME] = *optarg ? optarg : NULL; break;
		case 'P': *pw_r = true; break;
		case 'i': in->v[F_ID] = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	return want_args(a, argc, argv, 0, 0);
}

static int
cmd_user_add(struct admin *a, int argc, char **argv)
{
	struct user_input in;
	char why[160], *hash = NULL;
	bool pw = false;
	int rc;

	memset(&in, 0, sizeof(in));
	if ((rc = user_add_opts(a, argc, argv, &in, &pw)) != EXIT_OK)
		return rc;
	if (rv_import_check(in.v, option_names, why, sizeof(why)) < 0)
		return fail("%s", why);
	if (open_store(a, false) < 0 || new_id(a, &in) < 0)
		return EXIT_FAIL;
	if (pw && password_from_stdin(a, &hash) < 0)
		return EXIT_FAIL;
	in.v[F_HASH] = hash;
	rc = create_user(a, &in, "user.created") < 0 ? fail_err(&a->err) : EXIT_OK;
	if (hash != NULL) {
		rv_wipe(hash, strlen(hash));
		free(hash);
	}
	if (rc == EXIT_OK)
		puts(in.v[F_ID]);
	return rc;
}

static int
cmd_user_show(struct admin *a, int argc, char **argv)
{
	struct rv_user u;
	json_t *j;
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0 || (rc = load_user(a, argv[optind], &u)) < 0)
		return EXIT_FAIL;
	if (rc == 0)
		return fail("no user '%s'", argv[optind]);
	j = user_json(&u);
	print_json(j);
	json_decref(j);
	rv_user_release(&u);
	return EXIT_OK;
}

static int
list_one(const struct rv_user *u, void *vctx)
{
	struct rv_buf *out = vctx;
	json_t *j = user_json(u);
	char *s = json_dumps(j, JSON_COMPACT);

	RV_ASSERT(s != NULL);
	rv_buf_addstr(out, s);
	rv_buf_addch(out, '\n');
	free(s);
	json_decref(j);
	return 0;
}

/* Collects the output and prints it after the commit: a retried
 * transaction starts again from an empty buffer. */
static int
list_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	rv_buf_reset(vctx);
	return rv_store_user_each(txn, list_one, vctx, err);
}

static int
cmd_user_list(struct admin *a, int argc, char **argv)
{
	struct rv_buf out = RV_BUF_INIT;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_txn(a->st, false, list_body, &out, &a->err) < 0)
		rc = fail_err(&a->err);
	else
		fwrite(out.buf, 1, out.len, stdout);
	rv_buf_release(&out);
	return rc;
}

static int
cmd_user_del(struct admin *a, int argc, char **argv)
{
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if ((rc = change(a, CH_DELETE, argv[optind], NULL)) == EXIT_OK)
		note(a, "deleted user '%s'", argv[optind]);
	return rc;
}

static int
cmd_user_set_password(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "password-stdin", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	char *hash = NULL;
	bool pw = false;
	int ch, rc;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1)
		if (ch != 'P')
			return EXIT_USAGE;
		else
			pw = true;
	if ((rc = want_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	if (!pw)
		return usage_error(a, "the password must come with --password-stdin");
	if (open_store(a, false) < 0 || password_from_stdin(a, &hash) < 0)
		return EXIT_FAIL;
	if ((rc = change(a, CH_PASSWORD, argv[optind], hash)) == EXIT_OK)
		note(a, "set the password of user '%s'", argv[optind]);
	rv_wipe(hash, strlen(hash));
	free(hash);
	return rc;
}

static int
suspend(struct admin *a, int argc, char **argv, enum change what)
{
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if ((rc = change(a, what, argv[optind], NULL)) == EXIT_OK)
		note(a, "%s user '%s'", what == CH_SUSPEND ? "suspended" : "unsuspended",
		     argv[optind]);
	return rc;
}

static int
cmd_user_suspend(struct admin *a, int argc, char **argv)
{
	return suspend(a, argc, argv, CH_SUSPEND);
}

static int
cmd_user_unsuspend(struct admin *a, int argc, char **argv)
{
	return suspend(a, argc, argv, CH_UNSUSPEND);
}

/* ---- user unlock, unlock --email/--phone -------------------------------- */

struct unlock_ctx {
	const char *user;	/* user unlock: the user id, else NULL */
	const char *kind;	/* "user", "email", "phone" */
	const char *value;	/* what the operator named */
	char key[65];
	int found;		/* user unlock: 1 the user exists */
	int lifted;		/* 1 a block was lifted */
};

static int
unlock_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct unlock_ctx *c = vctx;
	char hash[65];
	json_t *f;
	int rc;

	c->found = 1;
	if (c->user != NULL) {
		struct rv_user u;

		rv_user_init(&u);
		c->found = rv_store_user_get(txn, c->user, false, &u, err);
		rv_user_release(&u);
		if (c->found != 1)
			return c->found < 0 ? -1 : 0;
	}
	if ((c->lifted = rv_lockout_lift(txn, c->key, err)) < 1)
		return c->lifted < 0 ? -1 : 0;
	/* identifiers in the trail only as keyed hashes, as on the routes */
	f = json_pack("{s:s, s:s}", "by", "admin", "kind", c->kind);
	if (c->user == NULL) {
		rv_store_mac_hex(st, "audit", c->value, hash);
		json_object_set_new(f, "recipient", json_string(hash));
	}
	rc = rv_store_audit(txn, "lockout.lifted", c->user, f, err);
	json_decref(f);
	return rc;
}

static int
unlock(struct admin *a, struct unlock_ctx *c)
{
	if (rv_store_txn(a->st, true, unlock_body, c, &a->err) < 0)
		return fail_err(&a->err);
	if (c->found != 1)
		return fail("no user '%s'", c->user);
	if (c->lifted)
		note(a, "lifted the block of %s '%s'", c->kind, c->value);
	else
		note(a, "nothing to do: %s '%s' is not blocked", c->kind, c->value);
	return EXIT_OK;
}

static int
cmd_user_unlock(struct admin *a, int argc, char **argv)
{
	struct unlock_ctx c;
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.user = c.value = argv[optind];
	c.kind = "user";
	if (!rv_user_id_valid(c.user))
		return fail("no user '%s'", c.user);
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	rv_lockout_key(a->st, RV_LOCKOUT_USER, c.user, NULL, c.key);
	return unlock(a, &c);
}

static int
cmd_unlock(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "email", required_argument, NULL, 'e' },
		{ "phone", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct unlock_ctx c;
	int ch, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1) {
		if (ch != 'e' && ch != 'p')
			return EXIT_USAGE;
		if (c.kind != NULL)
			return usage_error(a, "name one of --email and --phone, once");
		c.kind = ch == 'e' ? "email" : "phone";
		c.value = optarg;
	}
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (c.kind == NULL)
		return usage_error(a, "name an address with --email or a number with --phone");
	if (*c.kind == 'e' ? !rv_ident_email_ok(c.value) : !rv_ident_phone_ok(c.value))
		return fail("'%s' is not %s", c.value, *c.kind == 'e' ?
			    "an e-mail address" : "a phone number (1 to 32 digits)");
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	rv_lockout_key(a->st, *c.kind == 'e' ? RV_LOCKOUT_EMAIL : RV_LOCKOUT_PHONE,
		       c.value, NULL, c.key);
	return unlock(a, &c);
}

/* ---- user import ------------------------------------------------------ */

struct import {
	struct admin *a;
	bool dry_run;
	long line;
	long imported, failed;
	json_t *seen;		/* --dry-run: "kind:folded value" -> line */
};

static int __attribute__((format(printf, 2, 3)))
line_error(struct import *im, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	im->failed++;
	return error("line %ld: %s", im->line, what);
}

/* Reads one line of at most max bytes (without the newline) into b: 1 a
 * line, 2 a longer line (skipped), 0 the end, -1 a read error. */
static int
read_line(FILE *f, size_t max, struct rv_buf *b)
{
	bool over = false, any = false;
	int ch;

	rv_buf_reset(b);
	while ((ch = getc(f)) != EOF && ch != '\n') {
		any = true;
		if (b->len < max)
			rv_buf_addch(b, (char)ch);
		else
			over = true;
	}
	if (ferror(f))
		return -1;
	if (ch == EOF && !any)
		return 0;
	return over ? 2 : 1;
}

/* Parses and checks one non-blank line; *root_r holds the strings of in. */
static int
parse_line(struct import *im, const struct rv_buf *b, json_t **root_r,
	   struct user_input *in)
{
	char why[300];

	if (rv_import_parse_line(b->buf, b->len, root_r, in->v, why,
				 sizeof(why)) < 0)
		return line_error(im, "%s", why);
	return 0;
}

/* --dry-run: is a key of this user also in an earlier good line? */
static int
seen_before(struct import *im, const struct user_input *in)
{
	static const struct {
		enum field f;
		int key;	/* enum rv_user_key; -1: compared as it is */
		const char *code;
	} keys[] = {
		{ F_ID, -1, "user.id_already_in_use" },
		{ F_USERNAME, RV_USER_KEY_USERNAME, "user.username_already_in_use" },
		{ F_EMAIL, RV_USER_KEY_EMAIL, "user.email_already_in_use" },
		{ F_PHONE, RV_USER_KEY_PHONE, "user.phone_already_in_use" },
	};
	char *k[4];
	json_t *prev = NULL;
	size_t i;

	for (i = 0; i < 4; i++) {
		const char *v = in->v[keys[i].f];
		/* as the store's indexes compare them */
		char *folded = v == NULL ? NULL : keys[i].key < 0 ? rv_xstrdup(v) :
			       rv_store_fold((enum rv_user_key)keys[i].key, v);

		k[i] = v ? rv_xasprintf("%d:%s", keys[i].f, folded) : NULL;
		free(folded);
		if (prev != NULL || k[i] == NULL ||
		    (prev = json_object_get(im->seen, k[i])) == NULL)
			continue;
		line_error(im, "%s: the value is used by line %lld already",
			   keys[i].code, (long long)json_integer_value(prev));
	}
	for (i = 0; i < 4; i++) {
		if (prev == NULL && k[i] != NULL)
			json_object_set_new(im->seen, k[i], json_integer(im->line));
		free(k[i]);
	}
	return prev != NULL ? -1 : 0;
}

/* Imports (or with --dry-run, checks) one parsed line. */
static int
import_user(struct import *im, struct user_input *in)
{
	struct admin *a = im->a;
	char what[sizeof(a->err.msg) + 64];
	const char *given = in->v[F_ID];
	struct rv_user u;
	json_t *out;
	int rc;

	if (new_id(a, in) < 0) {
		im->failed++;
		return -1;
	}
	if (im->dry_run) {
		rv_user_init(&u);
		fill_user(&u, in, 0);
		rc = rv_store_txn(a->st, false, free_body, &u, &a->err);
		rv_user_release(&u);
		if (rc == 0 && seen_before(im, in) < 0)
			return -1;
	} else {
		rc = create_user(a, in, "user.imported");
	}
	if (rc < 0) {
		describe_err(&a->err, what, sizeof(what));
		rv_err_release(&a->err);
		return line_error(im, "%s", what);
	}
	im->imported++;
	out = json_pack("{s:o, s:o}", "id", im->dry_run && given == NULL ?
			json_null() : json_string(in->v[F_ID]),
			"username", in->v[F_USERNAME] ? json_string(in->v[F_USERNAME]) :
			json_null());
	print_json(out);
	json_decref(out);
	return 0;
}

static bool
blank(const struct rv_buf *b)
{
	return strspn(b->buf, " \t\r") == b->len;
}

static int
import_stream(struct import *im, FILE *f)
{
	struct rv_buf b = RV_BUF_INIT;
	struct user_input in;
	json_t *root;
	int r;

	while ((r = read_line(f, RV_IMPORT_LINE_MAX, &b)) > 0) {
		im->line++;
		if (r == 2) {
			line_error(im, "longer than %zu KiB", RV_IMPORT_LINE_MAX / 1024);
			continue;
		}
		if (blank(&b))
			continue;
		memset(&in, 0, sizeof(in));
		if (parse_line(im, &b, &root, &in) == 0)
			import_user(im, &in);
		json_decref(root);
	}
	rv_buf_release(&b);
	return r;
}

static int
import_opts(struct admin *a, int argc, char **argv, bool *dry_r)
{
	static const struct option lo[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1)
		if (ch != 'n')
			return EXIT_USAGE;
		else
			*dry_r = true;
	return want_args(a, argc, argv, 1, 1);
}

static int
cmd_user_import(struct admin *a, int argc, char **argv)
{
	struct import im = { a, false, 0, 0, 0, NULL };
	const char *src;
	FILE *f;
	int rc;

	if ((rc = import_opts(a, argc, argv, &im.dry_run)) != EXIT_OK)
		return rc;
	src = argv[optind];
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if ((f = strcmp(src, "-") == 0 ? stdin : fopen(src, "re")) == NULL)
		return fail("cannot open '%s': %s", src, strerror(errno));
	im.seen = json_object();
	if (import_stream(&im, f) < 0)
		rc = fail("cannot read '%s': %s", src, strerror(errno));
	if (f != stdin)
		fclose(f);
	json_decref(im.seen);
	if (!a->quiet && im.dry_run)
		fprintf(stderr, "%s: dry run: %ld would be imported, %ld failed; "
			"nothing written\n", PROG, im.imported, im.failed);
	else if (!a->quiet)
		fprintf(stderr, "%s: %ld imported, %ld failed\n", PROG, im.imported,
			im.failed);
	return rc == EXIT_OK && im.failed == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---- token ------------------------------------------------------------ */

struct token_opts {
	const char *scope, *client_id, *audience, *sid;
	long ttl;
	bool ttl_set, expired, any_user;
};

static int
token_opts(struct admin *a, int argc, char **argv, struct token_opts *o)
{
	static const struct option lo[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "client-id", required_argument, NULL, 'c' },
		{ "sid", required_argument, NULL, 'S' },
		{ "audience", required_argument, NULL, 'a' },
		{ "ttl", required_argument, NULL, 't' },
		{ "expired", no_argument, NULL, 'e' },
		{ "any-user", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	long long ttl;
	int ch;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1) {
		switch (ch) {
		case 's': o->scope = optarg; break;
		case 'c': o->client_id = optarg; break;
		case 'S': o->sid = optarg; break;
		case 'a': o->audience = optarg; break;
		case 'e': o->expired = true; break;
		case 'A': o->any_user = true; break;
		case 't':
			if (rv_parse_ll(optarg, 1, TTL_MAX, &ttl) < 0)
				return usage_error(a, "--ttl wants 1 to %lld "
						   "seconds", TTL_MAX);
			o->ttl = (long)ttl;
			o->ttl_set = true;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (o->expired && o->ttl_set)
		return usage_error(a, "--expired and --ttl exclude each other");
	return want_args(a, argc, argv, 1, 1);
}

/* The user must exist unless --any-user; 0 or -1 after a message. */
static int
token_subject(struct admin *a, const struct token_opts *o, const char *sub)
{
	struct rv_user u;
	const char *why;
	int rc;

	if (o->any_user) {
		why = rv_import_text_problem(sub, strlen(sub),
					     RV_IMPORT_TEXT_NO_CONTROL |
					     RV_IMPORT_TEXT_NO_SPACE, NULL);
		if (why == NULL && (*sub == '\0' || strlen(sub) > 255))
			why = "must be 1 to 255 bytes";
		return why == NULL ? 0 : error("the subject %s", why);
	}
	if (open_store(a, false) < 0 || (rc = load_user(a, sub, &u)) < 0)
		return -1;
	rv_user_release(&u);
	if (rc == 0)
		return error("no user '%s' (use --any-user to mint anyway)", sub);
	return 0;
}

static int
cmd_token(struct admin *a, int argc, char **argv)
{
	struct token_opts o = {
		SCOPE_DEFAULT, NULL, NULL, NULL, TTL_DEFAULT, false, false, false,
	};
	const struct rv_conf *c = &a->conf;
	const char *aud, *sub;
	char *client = NULL, *token = NULL;
	int rc;

	if ((rc = token_opts(a, argc, argv, &o)) != EXIT_OK)
		return rc;
	sub = argv[optind];
	aud = o.audience ? o.audience : c->auth_audience;
	if (c->auth_local_key == NULL || *c->auth_local_key == '\0')
		return fail("no <auth local-key> configured");
	if (c->auth_issuer == NULL || *c->auth_issuer == '\0')
		return fail("no <auth issuer> configured");
	if (aud == NULL || *aud == '\0')
		return fail("no audience: configure <auth audience> or give --audience");
	if (token_subject(a, &o, sub) < 0)
		return EXIT_FAIL;
	if (o.client_id != NULL)
		client = *o.client_id ? rv_xstrdup(o.client_id) : NULL;
	else if (c->auth_first_party != NULL && *c->auth_first_party)
		client = rv_xstrndup(c->auth_first_party,
				     strcspn(c->auth_first_party, " "));
	if (rv_auth_mint(c->auth_local_key, c->auth_issuer, aud, sub, client,
			 *o.scope ? o.scope : NULL, o.sid, o.expired ? -3600 : o.ttl,
			 &token, &a->err) < 0)
		rc = fail_err(&a->err);
	else
		puts(token);
	free(token);
	free(client);
	return rc;
}

/* ---- jwks import ------------------------------------------------------ */

/* Reads a whole file ("-": stdin) of at most max bytes into b. */
static int
read_input(const char *src, size_t max, struct rv_buf *b)
{
	FILE *f = strcmp(src, "-") == 0 ? stdin : fopen(src, "re");
	char chunk[4096];
	size_t n;
	int rc = 0;

	if (f == NULL)
		return error("cannot open '%s': %s", src, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= max)
		rv_buf_add(b, chunk, n);
	if (ferror(f))
		rc = error("cannot read '%s': %s", src, strerror(errno));
	else if (b->len > max)
		rc = error("'%s' is larger than %zu bytes", src, max);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* Each key must be a public JWK that cjose can import. */
static int
check_jwk(const char *src, size_t i, json_t *jk)
{
	static const char *const private_parts[] = {
		"d", "p", "q", "dp", "dq", "qi", "oth", "k",
	};
	const char *bad;
	cjose_jwk_t *jwk;
	cjose_err cerr;
	size_t j;

	if (!json_is_object(jk))
		return error("'%s': key %zu is not an object", src, i);
	for (j = 0; j < sizeof(private_parts) / sizeof(private_parts[0]); j++)
		if (json_object_get(jk, private_parts[j]) != NULL)
			return error("'%s': key %zu has the private part \"%s\"; "
				     "import public keys only", src, i, private_parts[j]);
	if ((bad = rv_auth_jwk_bad_member(jk)) != NULL)
		return error("'%s': key %zu has a bad \"%s\" (misplaced \"=\" "
			     "padding)", src, i, bad);
	if ((jwk = cjose_jwk_import_json(jk, &cerr)) == NULL)
		return error("'%s': key %zu cannot be imported: %s", src, i,
			     cerr.message);
	cjose_jwk_release(jwk);
	return 0;
}

/* Number of keys of a valid JWKS, or -1 after a message. */
static long
check_jwks(const char *src, json_t *root)
{
	json_t *keys = json_object_get(root, "keys");
	size_t i;

	if (!json_is_object(root) || !json_is_array(keys))
		return error("'%s' is not a key set (no \"keys\" array)", src);
	if (json_array_size(keys) == 0)
		return error("'%s' has no keys", src);
	for (i = 0; i < json_array_size(keys); i++)
		if (check_jwk(src, i, json_array_get(keys, i)) < 0)
			return -1;
	return (long)json_array_size(keys);
}

/* The checks the programs make at start-up (rv_auth_setup), on the file at
 * tmp, reported as if made on src. */
static int
check_as_programs(struct admin *a, const char *tmp, const char *src)
{
	static char placeholder[] = "x";
	struct rv_conf c = a->conf;	/* shallow: never released */
	const char *at;
	int rc;

	c.auth_jwks = (char *)tmp;
	c.auth_mode = RV_CONF_AUTH_JWT;
	if (*c.auth_issuer == '\0')
		c.auth_issuer = placeholder;
	if (*c.auth_audience == '\0')
		c.auth_audience = placeholder;
	rc = rv_auth_setup(&c, &a->err);
	rv_auth_release();
	if (rc == 0)
		return 0;
	if ((at = strstr(a->err.msg, tmp)) != NULL)
		return error("%.*s%s%s", (int)(at - a->err.msg), a->err.msg, src,
			    at + strlen(tmp));
	return error_err(&a->err);
}

/* Replaces path with text through a temporary file and rename(2), 0644. */
static int
replace_file(struct admin *a, const char *path, const char *text, const char *src)
{
	char *tmp = rv_xasprintf("%s.XXXXXX", path);
	size_t len = strlen(text);
	int fd, rc = -1;

	if ((fd = mkstemp(tmp)) < 0) {
		fail("cannot create a file next to '%s': %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) < 0) {
		fail("cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
	} else if (close(fd) < 0) {
		fail("cannot write '%s': %s", tmp, strerror(errno));
	} else if (check_as_programs(a, tmp, src) == 0) {
		if (rename(tmp, path) == 0)
			rc = 0;
		else
			fail("cannot replace '%s': %s", path, strerror(errno));
	}
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int
cmd_jwks_import(struct admin *a, int argc, char **argv)
{
	struct rv_buf in = RV_BUF_INIT;
	const char *src, *path = a->conf.auth_jwks;
	json_error_t je;
	json_t *root = NULL;
	char *dumped = NULL, *text = NULL;
	long n;
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	src = strcmp(argv[optind], "-") == 0 ? "(stdin)" : argv[optind];
	rc = EXIT_FAIL;
	if (path == NULL || *path == '\0') {
		fail("no <auth jwks> configured");
		goto out;
	}
	if (read_input(argv[optind], JWKS_FILE_MAX, &in) < 0)
		goto out;
	if ((root = json_loadb(in.buf, in.len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		fail("'%s' is not valid JSON: line %d: %s", src, je.line, je.text);
		goto out;
	}
	if ((n = check_jwks(src, root)) < 0)
		goto out;
	dumped = json_dumps(root, JSON_INDENT(2));
	RV_ASSERT(dumped != NULL);
	text = rv_xasprintf("%s\n", dumped);
	if (replace_file(a, path, text, src) < 0)
		goto out;
	note(a, "imported %ld key%s into '%s'", n, n == 1 ? "" : "s", path);
	rc = EXIT_OK;
out:
	free(dumped);
	free(text);
	json_decref(root);
	rv_buf_release(&in);
	return rc;
}

/* ---- config check ----------------------------------------------------- */

static void
warn_auth(const struct admin *a, const struct rv_conf *c)
{
	if (c->auth_mode == RV_CONF_AUTH_REMOTE_USER) {
		warning("<auth mode=\"remote-user\">: reverify trusts REMOTE_USER; "
			"the web server must authenticate every request");
		return;
	}
	if (*c->auth_issuer == '\0')
		warning("<auth issuer> is empty: jwt mode refuses to start without it");
	if (*c->auth_audience == '\0')
		warning("<auth audience> is empty: jwt mode refuses to start without it");
	if (*c->auth_first_party == '\0')
		warning("<auth first-party> is empty: every client is a third party "
			"and gets 403 on changes");
	if (*c->auth_local_key != '\0' && !exists(c->auth_local_key) && !a->quiet)
		fprintf(stderr, "%s: note: the local key '%s' does not exist yet "
			"(reverify-admin init creates it)\n", PROG, c->auth_local_key);
}

static void
warn_store(const struct rv_conf *c)
{
	char *pepper = rv_conf_pepper_path(c);
	struct stat sb;

	if (!c->store_users_sync)
		warning("<store users-sync=\"no\">: user changes may be lost in a crash");
	if (stat(pepper, &sb) == 0 && (sb.st_mode & S_IROTH))
		warning("the pepper file '%s' is readable by anyone (chmod 600)", pepper);
	free(pepper);
	if (c->audit_key == NULL || *c->audit_key == '\0')
		warning("<audit key> is empty: the audit chain is plain SHA-256, which "
			"anyone who can write the store can rewrite");
	else if (!exists(c->audit_key))
		warning("the audit key file '%s' does not exist: the audit chain is "
			"not keyed (reverify-admin init creates it)", c->audit_key);
	else if (stat(c->audit_key, &sb) == 0 && (sb.st_mode & (S_IRWXG | S_IRWXO)))
		warning("the audit key file '%s' is open to group or others: "
			"programs refuse it (chmod 600)", c->audit_key);
}

static int
cmd_config_check(struct admin *a, int argc, char **argv)
{
	struct rv_buf out = RV_BUF_INIT;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 1)) != EXIT_OK)
		return rc;
	if (load_conf(a, optind < argc ? argv[optind] : NULL) < 0)
		return EXIT_FAIL;
	rv_conf_dump(&a->conf, &out);
	fwrite(out.buf, 1, out.len, stdout);
	rv_buf_release(&out);
	warn_auth(a, &a->conf);
	warn_store(&a->conf);
	if (a->conf.http_cors && !a->quiet)
		fprintf(stderr, "%s: note: <http cors=\"yes\">: browsers on any origin "
			"may call the API, as with Logto\n", PROG);
	return EXIT_OK;
}

/* ---- maintenance: purge, backup, recover, audit, stats ---------------- */

static int audit_prune(struct admin *a, long long before_ms);

static int
cmd_purge(struct admin *a, int argc, char **argv)
{
	long n = 0;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_purge(a->st, 0, &n, &a->err) < 0)
		return fail_err(&a->err);
	note(a, "purged %ld", n);
	/* <audit retention>: the cron job or timer of purge applies it */
	if (a->conf.audit_retention > 0 &&
	    audit_prune(a, rv_store_now() - a->conf.audit_retention * 86400000LL) < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}

/* Lists, audit entries and log lines name records by their handle only
 * (issue 14, F1): this finds the entries of an id a user reports. */
static int
cmd_record_handle(struct admin *a, int argc, char **argv)
{
	char handle[RV_HANDLE_LEN + 1];
	const char *id;
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	id = argv[optind];
	if (strlen(id) != RV_RECORD_ID_LEN ||
	    strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz") != RV_RECORD_ID_LEN)
		return usage_error(a, "a record id is %d of [0-9a-z]", RV_RECORD_ID_LEN);
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	rv_account_handle(a->st, id, handle);
	puts(handle);
	return EXIT_OK;
}

static int
cmd_backup(struct admin *a, int argc, char **argv)
{
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_backup(a->st, argv[optind], &a->err) < 0)
		return fail_err(&a->err);
	note(a, "backed up '%s' to '%s'", a->conf.store_home, argv[optind]);
	return EXIT_OK;
}

static int
cmd_recover(struct admin *a, int argc, char **argv)
{
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (!exists(a->conf.store_home))
		return fail("the store home '%s' does not exist", a->conf.store_home);
	if (rv_store_recover(&a->conf, &a->err) < 0)
		return fail_err(&a->err);
	note(a, "recovered '%s'", a->conf.store_home);
	return EXIT_OK;
}

struct show_ctx {
	struct rv_buf out;
	long long last;		/* the last sequence number collected */
};

static int
show_one(json_t *entry, void *vctx)
{
	struct show_ctx *c = vctx;
	long long seq = json_integer_value(json_object_get(entry, "_key"));
	char *s;

	if (seq <= c->last)	/* the walk was retried: start again */
		rv_buf_reset(&c->out);
	c->last = seq;
	json_object_del(entry, "_key");
	s = json_dumps(entry, JSON_COMPACT);
	RV_ASSERT(s != NULL);
	rv_buf_addstr(&c->out, s);
	rv_buf_addch(&c->out, '\n');
	free(s);
	return 0;
}

static int
cmd_audit_show(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_ctx c = { RV_BUF_INIT, 0 };
	long long from = 1;
	int ch, rc;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1)
		if (ch != 'f')
			return EXIT_USAGE;
		else if (rv_parse_ll(optarg, 1, 9223372036854775807LL, &from) < 0)
			return usage_error(a, "--from wants an entry number from 1");
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_audit_each(a->st, from, show_one, &c, &a->err) < 0)
		rc = fail_err(&a->err);
	else
		fwrite(c.out.buf, 1, c.out.len, stdout);
	rv_buf_release(&c.out);
	return rc;
}

/* ---- audit: verify, head, prune ----------------------------------------- */

/* SEQ:HASH (64 lowercase hex digits), as "audit head" prints it */
static int
parse_head(const char *s, long long *seq_r, char hash[65])
{
	const char *colon = strchr(s, ':');
	char num[24];
	size_t i;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(num) || strlen(colon + 1) != 64)
		return -1;
	memcpy(num, s, (size_t)(colon - s));
	num[colon - s] = '\0';
	if (rv_parse_ll(num, 0, 9223372036854775807LL, seq_r) < 0)
		return -1;
	for (i = 0; i < 64; i++)
		if (!((colon[1 + i] >= '0' && colon[1 + i] <= '9') ||
		      (colon[1 + i] >= 'a' && colon[1 + i] <= 'f')))
			return -1;
	memcpy(hash, colon + 1, 65);
	return 0;
}

/* "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ": epoch ms */
static int
parse_date(const char *s, long long *ms_r)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T')
		end = strptime(end + 1, "%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0' || tm.tm_year < 70)
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms_r = (long long)t * 1000;
	return 0;
}

static void
print_date(long long ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", ms);
}

static int
cmd_audit_verify(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "head", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct rv_audit_check c;
	const char *why;
	char when[32];
	int ch, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1)
		if (ch != 'H')
			return EXIT_USAGE;
		else if (parse_head(optarg, &c.head_seq, c.head_hash) < 0 || c.head_seq < 1)
			return usage_error(a, "--head wants SEQ:HASH as 'audit head' prints it");
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if ((rc = rv_store_audit_check(a->st, &c, &a->err)) < 0)
		return fail_err(&a->err);
	if (rc == 1) {
		note(a, "audit chain intact: %lld entries", c.count);
		if (c.anchor_seq > 0) {
			print_date(c.anchor_ts, when, sizeof(when));
			note(a, "pruned up to entry %lld on %s", c.anchor_seq, when);
		}
		if (c.head_seq > 0)
			note(a, "the expected head %lld is in the chain", c.head_seq);
		if (c.unkeyed > 0 && c.keyed == 0 && c.count > 0)
			warning("the audit chain is not keyed (plain SHA-256): whoever "
				"can write the store can rewrite it; see <audit key>");
		else if (c.unkeyed > 0)
			note(a, "%lld entries before the audit key (plain SHA-256), "
			     "%lld keyed", c.unkeyed, c.keyed);
		return EXIT_OK;
	}
	/* err->msg: "audit chain broken: entry N: why" */
	if ((why = strstr(a->err.msg, ": entry ")) != NULL &&
	    (why = strchr(why + 8, ':')) != NULL)
		why += 2;
	else
		why = a->err.msg;
	return fail("audit chain broken at entry %lld: %s", c.bad_seq, why);
}

static int
cmd_audit_head(struct admin *a, int argc, char **argv)
{
	long long seq;
	char hash[65];
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_audit_head(a->st, &seq, hash, &a->err) < 0)
		return fail_err(&a->err);
	printf("%lld:%s\n", seq, hash);
	return EXIT_OK;
}

static void
prune_progress(long long done, long long total, void *ctx)
{
	fprintf(stderr, "\r%s: pruned %lld of %lld audit entries", PROG, done, total);
}

/* Prunes the audit entries written before before_ms; 0 or -1 (printed). */
static int
audit_prune(struct admin *a, long long before_ms)
{
	bool tty = isatty(STDERR_FILENO) && !a->quiet;
	long long n = 0;
	char when[32];
	int rc;

	rc = rv_store_audit_prune(a->st, before_ms, tty ? prune_progress : NULL, NULL,
				  &n, &a->err);
	if (tty && n > 0)
		fputc('\n', stderr);
	if (rc < 0)
		return error_err(&a->err);
	print_date(before_ms, when, sizeof(when));
	note(a, "pruned %lld audit entries written before %s", n, when);
	return 0;
}

static int
cmd_audit_prune(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "before", required_argument, NULL, 'b' },
		{ "keep-days", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	long long before = 0, days = -1, now = rv_store_now();
	int ch, rc;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1) {
		if (ch == 'b') {
			if (parse_date(optarg, &before) < 0)
				return usage_error(a, "--before wants a date, YYYY-MM-DD "
						   "or YYYY-MM-DDTHH:MM:SSZ (UTC)");
		} else if (ch == 'k') {
			if (rv_parse_ll(optarg, 1, 36500, &days) < 0)
				return usage_error(a, "--keep-days wants a number of days "
						   "from 1 to 36500");
		} else {
			return EXIT_USAGE;
		}
	}
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (before > 0 && days >= 0)
		return usage_error(a, "give --before or --keep-days, not both");
	if (before == 0 && days < 0) {
		if (a->conf.audit_retention == 0)
			return usage_error(a, "<audit retention> is 0 (keep forever): "
					   "give --before or --keep-days");
		days = a->conf.audit_retention;
	}
	if (days >= 0)
		before = now - days * 86400000LL;
	if (before > now)
		return usage_error(a, "--before is in the future");
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	return audit_prune(a, before) < 0 ? EXIT_FAIL : EXIT_OK;
}

static int
cmd_stats(struct admin *a, int argc, char **argv)
{
	struct rv_store_stats s;
	json_t *j;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_stats(a->st, &s, &a->err) < 0)
		return fail_err(&a->err);
	j = json_pack("{s:I, s:I, s:I, s:I, s:I}", "users", (json_int_t)s.users,
		      "records", (json_int_t)s.records, "liveRecords",
		      (json_int_t)s.live_records, "windows", (json_int_t)s.windows,
		      "auditEntries", (json_int_t)s.audit);
	print_json(j);
	json_decref(j);
	return EXIT_OK;
}

/* ---- help and the command table --------------------------------------- */

static const struct command *find_command(int argc, char **argv, int *words_r);
static bool list_group(const char *name, FILE *f);

static int
cmd_help(struct admin *a, int argc, char **argv)
{
	const struct command *c;
	int words;

	if (argc <= 1) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (argc == 2 && list_group(argv[1], stdout))
		return EXIT_OK;
	if ((c = find_command(argc - 1, argv + 1, &words)) == NULL)
		return words == 0 ? EXIT_OK : EXIT_USAGE;
	if (words < argc - 1)
		return usage_error(a, "unexpected argument '%s'", argv[words + 1]);
	print_command_help(c, stdout);
	return EXIT_OK;
}

static const struct command commands[] = {
	{ "init", NULL, cmd_init, "init",
	  "Create the store home, its pepper file and databases, and the local\n"
	  "signing key when <auth local-key> is set. Changes nothing that exists.",
	  NULL, 0 },
	{ "user", "add", cmd_user_add,
	  "user add [--username U] [--email E] [--phone P] [--name N]"
	  " [--password-stdin] [--id ID]",
	  "Create a user with at least one of a username, an e-mail and a phone\n"
	  "number, and print its id.",
	  "  --username U      1 to 128 characters, no spaces\n"
	  "  --email E         an e-mail address of at most 256 bytes\n"
	  "  --phone P         1 to 32 digits\n"
	  "  --name N          a display name of at most 128 characters\n"
	  "  --password-stdin  read the password from the first line of stdin\n"
	  "  --id ID           the user id (default: 21 random characters)\n", 0 },
	{ "user", "show", cmd_user_show, "user show ID",
	  "Print a user as one JSON object (never the password hash).", NULL, 0 },
	{ "user", "list", cmd_user_list, "user list",
	  "Print every user, one JSON object per line.", NULL, 0 },
	{ "user", "del", cmd_user_del, "user del ID",
	  "Delete a user and the user's verification records.", NULL, 0 },
	{ "user", "set-password", cmd_user_set_password,
	  "user set-password ID --password-stdin",
	  "Set a user's password from the first line of stdin.", NULL, 0 },
	{ "user", "suspend", cmd_user_suspend, "user suspend ID",
	  "Suspend a user.", NULL, 0 },
	{ "user", "unsuspend", cmd_user_unsuspend, "user unsuspend ID",
	  "Lift a user's suspension.", NULL, 0 },
	{ "user", "unlock", cmd_user_unlock, "user unlock ID",
	  "Lift the lockout of a user's password step-up (<lockout>).", NULL, 0 },
	{ "user", "import", cmd_user_import, "user import [--dry-run] FILE|-",
	  "Create users from JSON lines with Logto's field names: id, username,\n"
	  "primaryEmail, primaryPhone, name, avatar, passwordHash. Prints\n"
	  "{\"id\",\"username\"} for each user imported.",
	  "  --dry-run  check every line, against the store too, and write nothing\n", 0 },
	{ "token", NULL, cmd_token,
	  "token [--scope S] [--client-id ID] [--sid SID] [--audience A] [--ttl SECONDS]"
	  " [--expired] [--any-user] USER_ID",
	  "Print an access token for USER_ID signed with <auth local-key>.",
	  "  --scope S       granted scopes (default: \"" SCOPE_DEFAULT "\")\n"
	  "  --client-id ID  client_id claim (default: the first <auth first-party>)\n"
	  "  --sid SID       sid claim: the sign-in session step-up records are bound to\n"
	  "  --audience A    aud claim (default: <auth audience>)\n"
	  "  --ttl SECONDS   lifetime (default: 3600)\n"
	  "  --expired       a token that expired an hour ago\n"
	  "  --any-user      do not check that the user exists\n", 0 },
	{ "jwks", "import", cmd_jwks_import, "jwks import FILE|-",
	  "Check a JSON Web Key Set of public keys and replace <auth jwks> with it.",
	  NULL, 0 },
	{ "config", "check", cmd_config_check, "config check [FILE]",
	  "Load the configuration, print it with every default filled in, and\n"
	  "warn about weak settings.", NULL, CMD_NOCONF },
	{ "unlock", NULL, cmd_unlock, "unlock --email ADDRESS | --phone NUMBER",
	  "Lift the lockout of codes to an e-mail address or phone number\n"
	  "(<lockout>); the case of an address and a national 0 do not matter.",
	  "  --email ADDRESS  the address, as the user has it\n"
	  "  --phone NUMBER   the number, digits only\n", 0 },
	{ "purge", NULL, cmd_purge, "purge",
	  "Remove expired verification records and rate-limit windows, and the\n"
	  "audit entries older than <audit retention> when it is set.", NULL, 0 },
	{ "record", "handle", cmd_record_handle, "record handle RECORD_ID",
	  "Print the handle of a record id: lists, audit entries and log lines\n"
	  "name records by their handle, never by their id.", NULL, 0 },
	{ "backup", NULL, cmd_backup, "backup DIR",
	  "Copy the databases and logs of the running store into DIR.", NULL, 0 },
	{ "recover", NULL, cmd_recover, "recover",
	  "Run recovery on the store; no other process may use it meanwhile.", NULL, 0 },
	{ "audit", "verify", cmd_audit_verify, "audit verify [--head SEQ:HASH]",
	  "Check the hash chain of the audit log, from the prune anchor on.",
	  "  --head SEQ:HASH  a head printed by 'audit head' and kept elsewhere:\n"
	  "                   the chain must reach it (a dropped tail fails)\n", 0 },
	{ "audit", "show", cmd_audit_show, "audit show [--from N]",
	  "Print the audit log, one JSON object per line.",
	  "  --from N  start at entry N\n", 0 },
	{ "audit", "head", cmd_audit_head, "audit head",
	  "Print the head of the audit chain as SEQ:HASH, to keep elsewhere.",
	  NULL, 0 },
	{ "audit", "prune", cmd_audit_prune,
	  "audit prune [--before DATE|--keep-days N]",
	  "Delete the oldest audit entries, keeping the chain verifiable from an\n"
	  "anchor; the prune is audited. A broken chain is not pruned.",
	  "  --before DATE  entries written before DATE (YYYY-MM-DD or\n"
	  "                 YYYY-MM-DDTHH:MM:SSZ, UTC)\n"
	  "  --keep-days N  entries older than N days (default: <audit retention>)\n", 0 },
	{ "stats", NULL, cmd_stats, "stats",
	  "Print the number of users, records, live records, windows and audit\n"
	  "entries as one JSON object.", NULL, 0 },
	{ "help", NULL, cmd_help, "help [COMMAND]",
	  "Show the usage of every command, or of one.", NULL, CMD_NOCONF },
};

static const struct command *
command_table(size_t *n_r)
{
	*n_r = sizeof(commands) / sizeof(commands[0]);
	return commands;
}

static bool
is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Prints the usage of each subcommand of a group; false if it is none. */
static bool
list_group(const char *name, FILE *f)
{
	size_t i;
	bool any = false;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0 && commands[i].sub != NULL) {
			fprintf(f, "%s %s %s\n", any ? "   or:" : "usage:", PROG,
				commands[i].usage);
			any = true;
		}
	return any;
}

/*
 * The command named by the first one or two words of argv; *words_r gets
 * how many. NULL after a message when there is none. "user --help" lists
 * the group on stdout and also gives NULL, with *words_r = 0.
 */
static const struct command *
find_command(int argc, char **argv, int *words_r)
{
	size_t i, n = sizeof(commands) / sizeof(commands[0]);
	bool group = false;

	*words_r = -1;
	for (i = 0; i < n; i++) {
		if (strcmp(commands[i].name, argv[0]) != 0)
			continue;
		if (commands[i].sub == NULL) {
			*words_r = 1;
			return &commands[i];
		}
		group = true;
		if (argc > 1 && strcmp(commands[i].sub, argv[1]) == 0) {
			*words_r = 2;
			return &commands[i];
		}
	}
	if (group && argc > 1 && is_help(argv[1])) {
		list_group(argv[0], stdout);
		*words_r = 0;
	} else if (group) {
		fprintf(stderr, "%s: %s: %s\n", PROG, argv[0], argc > 1 ?
			"unknown subcommand" : "missing subcommand");
		list_group(argv[0], stderr);
	} else {
		fprintf(stderr, "%s: '%s' is not a command; see '%s help'\n", PROG,
			argv[0], PROG);
	}
	return NULL;
}

/* --help anywhere before "--" */
static bool
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (is_help(argv[i]))
			return true;
	return false;
}

/* ---- main ------------------------------------------------------------- */

/* Global options: the index of the command word, or 0 when there is
 * nothing more to do (*rc_r then says how it ended). */
static int
global_opts(struct admin *a, int argc, char **argv, int *rc_r)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*rc_r = EXIT_OK;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:qhV", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': a->conf_arg = optarg; break;
		case 'q': a->quiet = true; break;
		case 'h': print_usage(stdout); return 0;
		case 'V': printf("%s (%s) %s\n", PROG, PACKAGE_NAME, PACKAGE_VERSION);
			  return 0;
		case ':':
			fprintf(stderr, "%s: option '%s' needs a value\n", PROG,
				argv[optind - 1]);
			goto usage;
		default:
			if (optopt != 0)
				fprintf(stderr, "%s: unknown option '-%c'\n", PROG, optopt);
			else
				fprintf(stderr, "%s: unknown option '%s'\n", PROG,
					argv[optind - 1]);
			goto usage;
		}
	}
	if (optind < argc)
		return optind;
	fprintf(stderr, "%s: missing command\n", PROG);
usage:
	print_usage(stderr);
	*rc_r = EXIT_USAGE;
	return 0;
}

static int
run(struct admin *a, int argc, char **argv)
{
	int first, words, rc = EXIT_USAGE;

	if ((first = global_opts(a, argc, argv, &rc)) == 0)
		return rc;
	argc -= first;
	argv += first;
	if ((a->cmd = find_command(argc, argv, &words)) == NULL)
		return words == 0 ? EXIT_OK : EXIT_USAGE;
	argc -= words - 1;
	argv += words - 1;
	if (wants_help(argc, argv)) {
		print_command_help(a->cmd, stdout);
		return EXIT_OK;
	}
	if (!(a->cmd->flags & CMD_NOCONF)) {
		if (load_conf(a, NULL) < 0)
			return EXIT_FAIL;
		open_log(a);
	}
	optind = 0;	/* glibc: start afresh on the command's arguments */
	return a->cmd->fn(a, argc, argv);
}

int
main(int argc, char **argv)
{
	struct admin a;
	int rc;

	memset(&a, 0, sizeof(a));
	rv_err_init(&a.err);
	rv_ensure_std_fds();
	rv_json_alloc_init();	/* before any JSON is made */
	rv_log_init(PROG);
	rv_xml_init();
	rc = run(&a, argc, argv);
	rv_store_close(&a.st);
	rv_conf_release(&a.conf);
	rv_err_release(&a.err);
	rv_log_close();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the output: %s\n", PROG, strerror(errno));
		rc = EXIT_FAIL;
	}
	return rc;
}
