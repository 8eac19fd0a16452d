/* admin.c: reverify-admin: main, options, the command table, help,
 * messages, and the configuration, log and store of a run */
#include "config.h"
#include "admin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-conf.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-store.h"
#include "rv-util.h"
#include "rv-xml.h"

#ifndef RV_CONFIG_DEFAULT
#define RV_CONFIG_DEFAULT "/etc/reverify/reverify.xml"
#endif

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

int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

int
error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	return -1;
}

void
warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

void
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

void
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

int
fail_err(const struct rv_err *err)
{
	char what[sizeof(err->msg) + 64];

	describe_err(err, what, sizeof(what));
	return fail("%s", what);
}

int
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

int
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

void
print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	RV_ASSERT(s != NULL);
	puts(s);
	free(s);
}

/* ---- configuration, log and store ------------------------------------- */

int
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

int
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

bool
exists(const char *path)
{
	struct stat sb;

	return path != NULL && *path != '\0' && stat(path, &sb) == 0;
}

/* ---- argument parsing ------------------------------------------------- */

int
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

int
want_args(const struct admin *a, int argc, char **argv, int min, int max)
{
	int n = argc - optind;

	if (n < min)
		return usage_error(a, "missing argument");
	if (n > max)
		return usage_error(a, "unexpected argument '%s'", argv[optind + max]);
	return EXIT_OK;
}

int
plain_args(const struct admin *a, int argc, char **argv, int min, int max)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };

	if (cmd_getopt(a, argc, argv, none) != -1)
		return EXIT_USAGE;
	return want_args(a, argc, argv, min, max);
}

/* ---- help and the command table --------------------------------------- */

static const struct command *find_command(int argc, char **argv, int *words_r);
static bool list_group(const char *name, FILE *f);

int
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
	  "Create the store home, its pepper file and databases (with PostgreSQL:\n"
	  "the schema, in an existing database), and the local signing key when\n"
	  "<auth local-key> is set. Changes nothing that exists.",
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
	  "user set-password ID --password-stdin [--force]",
	  "Set a user's password from the first line of stdin, in its NFKC form,\n"
	  "if it meets <password-policy> as the user's own new password would.",
	  "  --password-stdin  read the password from the first line of stdin\n"
	  "  --force           set it even when the policy refuses it\n", 0 },
	{ "user", "suspend", cmd_user_suspend, "user suspend ID",
	  "Suspend a user.", NULL, 0 },
	{ "user", "unsuspend", cmd_user_unsuspend, "user unsuspend ID",
	  "Lift a user's suspension.", NULL, 0 },
	{ "user", "mfa-reset", cmd_user_mfa_reset, "user mfa-reset ID",
	  "Remove every second factor of a user (TOTP, backup codes, passkeys),\n"
	  "for one who lost them; audited as user.mfa_reset.", NULL, 0 },
	{ "user", "unlock", cmd_user_unlock, "user unlock ID",
	  "Lift the lockout of a user's password and second-factor step-ups\n"
	  "(<lockout>) and forget the account's consecutive failures.", NULL, 0 },
	{ "user", "import", cmd_user_import, "user import [--dry-run] FILE|-",
	  "Create users from JSON lines with Logto's field names: id, username,\n"
	  "primaryEmail, primaryPhone, name, avatar, passwordHash. Prints\n"
	  "{\"id\",\"username\"} for each user imported.",
	  "  --dry-run  check every line, against the store too, and write nothing\n", 0 },
	{ "token", NULL, cmd_token,
	  "token [--scope S] [--client-id ID] [--sid SID] [--audience A] [--ttl SECONDS]"
	  " [--expired] [--any-user] [--auth-time T] [--acr ACR] USER_ID",
	  "Print an access token for USER_ID signed with <auth local-key>.",
	  "  --scope S       granted scopes (default: \"" SCOPE_DEFAULT "\")\n"
	  "  --client-id ID  client_id claim (default: the first <auth first-party>)\n"
	  "  --sid SID       sid claim: the sign-in session step-up records are bound to\n"
	  "  --audience A    aud claim (default: <auth audience>)\n"
	  "  --ttl SECONDS   lifetime (default: 3600)\n"
	  "  --expired       a token that expired an hour ago\n"
	  "  --any-user      do not check that the user exists\n"
	  "  --auth-time T   auth_time claim: epoch seconds, or -N for N seconds ago\n"
	  "  --acr ACR       acr claim (RFC 9470)\n", 0 },
	{ "jwks", "import", cmd_jwks_import, "jwks import FILE|-",
	  "Check a JSON Web Key Set of public keys and replace <auth jwks> with it.",
	  NULL, 0 },
	{ "pwned", "build", cmd_pwned_build, "pwned build IN|- OUT",
	  "Build the index that <password-policy pwned-list> maps, from a text\n"
	  "file of SHA-1 hashes, one a line, alone or as HASH:count (the Have I\n"
	  "Been Pwned downloads), either case. Sorted input is streamed; other\n"
	  "input is sorted in memory (20 bytes an entry). OUT is replaced in one\n"
	  "rename, so running programs see the old index or the new one.",
	  NULL, CMD_NOCONF },
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
	{ "migrate", NULL, cmd_migrate, "migrate",
	  "Bring a PostgreSQL store's schema up to this version's; the programs\n"
	  "refuse a schema older or newer than theirs.", NULL, 0 },
	{ "store", "copy", cmd_store_copy, "store copy --to OTHER.xml",
	  "Copy users, live records, windows and the audit chain into the empty,\n"
	  "initialised store of another configuration (Berkeley DB to PostgreSQL\n"
	  "or back), with the same pepper and audit key; stop the site first.",
	  "  --to OTHER.xml  the destination's configuration\n", 0 },
	{ "audit", "verify", cmd_audit_verify, "audit verify [--head SEQ:HASH]",
	  "Check the hash chain of the audit log, from the prune anchor on.",
	  "  --head SEQ:HASH  a head printed by 'audit head' and kept elsewhere:\n"
	  "                   the chain must reach it (a dropped tail fails)\n", 0 },
	{ "audit", "show", cmd_audit_show, "audit show [--from N]",
	  "Print the audit log, one JSON object per line.",
	  "  --from N  start at entry N (0: with the prune anchor, when there is one)\n", 0 },
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
