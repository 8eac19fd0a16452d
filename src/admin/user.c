/* user.c: reverify-admin user add, show, list, del, set-password,
 * suspend, unsuspend, and the transactions behind them */
#include "config.h"
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "rv-buf.h"
#include "rv-crypto.h"
#include "rv-import.h"
#include "rv-password.h"
#include "rv-pwnorm.h"
#include "rv-pwpolicy.h"
#include "rv-mfa.h"
#include "rv-store.h"
#include "rv-util.h"

#define PASSWORD_MAX 256		/* bytes */

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

/*
 * The issues of a policy refusal as one line: "too_short (min 8), pwned".
 * buf gets at most size bytes.
 */
static void
policy_issues(const json_t *issues, char *buf, size_t size)
{
	size_t i, off = 0;
	json_t *o;

	buf[0] = '\0';
	json_array_foreach(issues, i, o) {
		const char *code = json_string_value(json_object_get(o, "code"));
		json_t *in = json_object_get(o, "interpolation");
		const char *key, *unit;
		json_t *v;

		if (code == NULL || off >= size)
			continue;
		if (strncmp(code, "password_rejected.", 18) == 0)
			code += 18;
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "", code);
		unit = json_string_value(json_object_get(in, "unit"));
		json_object_foreach(in, key, v)
			if (json_is_integer(v) && off < size)
				off += (size_t)snprintf(buf + off, size - off, " (%s %lld%s%s)",
							key, (long long)json_integer_value(v),
							unit ? " " : "", unit ? unit : "");
	}
}

/*
 * Reads a password from stdin and hashes its NFKC form (rv_pwnorm); *hash_r
 * is malloc'd. With policy_user, the password must first pass
 * <password-policy> as that user's new one.
 */
static int
password_from_stdin(struct admin *a, const struct rv_user *policy_user,
		    char **hash_r)
{
	char buf[PASSWORD_MAX + 3];	/* the password, CR LF, one more */
	char issues[512], *norm = NULL;
	struct rv_pw_userinfo ui;
	const char *why;
	size_t len = 0, nlen = 0;
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
	if (rv_pwnorm(buf, len, &norm, &nlen, &a->err) < 0) {
		fail("the password is not valid UTF-8");
		goto out;
	}
	if (policy_user != NULL) {
		ui.name = policy_user->name;
		ui.username = policy_user->username;
		ui.email = policy_user->email;
		ui.phone = policy_user->phone;
		if (rv_pwpolicy_init(&a->conf, &a->err) < 0) {
			fail_err(&a->err);
			goto out;
		}
		if (rv_pwpolicy_check(&a->conf, norm, nlen, &ui, &a->err) < 0) {
			if (a->err.data == NULL) {
				fail_err(&a->err);
				goto out;
			}
			policy_issues(a->err.data, issues, sizeof(issues));
			fail("the password does not meet <password-policy>: %s "
			     "(--force sets it anyway)", issues);
			goto out;
		}
	}
	if (rv_password_hash(norm, nlen, &a->conf, hash_r, &a->err) < 0) {
		fail_err(&a->err);
		goto out;
	}
	rc = 0;
out:
	rv_pwnorm_free(&norm, nlen);
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

int
load_user(struct admin *a, const char *id, struct rv_user *u)
{
	struct get_ctx c;

	c.id = id;
	c.found = 0;
	rv_user_init(&c.u);
	if (rv_store_txn(a->st, get_body, &c, &a->err) < 0) {
		rv_user_release(&c.u);
		return error_err(&a->err);
	}
	*u = c.u;
	return c.found;
}

enum change { CH_DELETE, CH_PASSWORD, CH_SUSPEND, CH_UNSUSPEND, CH_MFA_RESET };

struct change_ctx {
	enum change what;
	const char *id;
	const char *hash;	/* CH_PASSWORD */
	int found;
};

static const char *const change_events[] = {
	"user.deleted", "user.password_set", "user.suspended", "user.unsuspended",
	"user.mfa_reset",
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
	} else if (c->what == CH_MFA_RESET) {
		while (u.nfactors > 0)
			rv_user_factor_del(&u, &u.factors[u.nfactors - 1]);
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

	if (rv_store_txn(a->st, change_body, &c, &a->err) < 0)
		return fail_err(&a->err);
	if (c.found != 1)
		return fail("no user '%s'", id);
	return EXIT_OK;
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
	/* the second factors, as GET /api/my-account/mfa-verifications lists
	 * them: never a secret */
	json_object_set_new(j, "mfaVerifications", rv_mfa_factors_json(u));
#undef NULLABLE
	return j;
}

int
new_id(struct admin *a, struct user_input *in)
{
	if (in->v[F_ID] != NULL)
		return 0;
	if (rv_random_id(in->id_buf, NEW_ID_LEN, &a->err) < 0)
		return error_err(&a->err);
	in->v[F_ID] = in->id_buf;
	return 0;
}

/* an import line's second factors (rv_mfa_import) */
static int
user_factors(struct admin *a, const struct user_input *in, struct rv_user *u,
	     bool check_only)
{
	int skipped = 0;

	if (in->mfa == NULL || json_array_size(in->mfa) == 0)
		return 0;
	if (rv_mfa_import(&a->conf, rv_store_pepper(a->st), u, in->mfa,
			  check_only, &skipped, &a->err) < 0)
		return -1;
	if (skipped > 0)
		warning("user '%s': %d of mfaVerifications not imported (passkeys are "
		     "registered again)", u->id, skipped);
	return 0;
}

int
create_user(struct admin *a, const struct user_input *in, const char *event)
{
	struct rv_user u;
	struct create_ctx c = { &u, event };
	int rc;

	rv_user_init(&u);
	fill_user(&u, in, rv_store_now());
	rc = user_factors(a, in, &u, false);
	if (rc == 0)
		rc = rv_store_txn(a->st, create_body, &c, &a->err);
	rv_user_release(&u);
	return rc;
}

int
check_user(struct admin *a, const struct user_input *in)
{
	struct rv_user u;
	int rc;

	rv_user_init(&u);
	fill_user(&u, in, 0);
	rc = user_factors(a, in, &u, true);
	if (rc == 0)
		rc = rv_store_txn(a->st, free_body, &u, &a->err);
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

int
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
	if (pw && password_from_stdin(a, NULL, &hash) < 0)
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

int
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

int
cmd_user_list(struct admin *a, int argc, char **argv)
{
	struct rv_buf out = RV_BUF_INIT;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_txn(a->st, list_body, &out, &a->err) < 0)
		rc = fail_err(&a->err);
	else
		fwrite(out.buf, 1, out.len, stdout);
	rv_buf_release(&out);
	return rc;
}

int
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

int
cmd_user_set_password(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "password-stdin", no_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct rv_user u;
	char *hash = NULL;
	bool pw = false, force = false;
	int ch, rc;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1) {
		switch (ch) {
		case 'P': pw = true; break;
		case 'f': force = true; break;
		default: return EXIT_USAGE;
		}
	}
	if ((rc = want_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	if (!pw)
		return usage_error(a, "the password must come with --password-stdin");
	if (open_store(a, false) < 0 || (rc = load_user(a, argv[optind], &u)) < 0)
		return EXIT_FAIL;
	if (rc == 0)
		return fail("no user '%s'", argv[optind]);
	/* the policy as for the user's own change (NIST SP 800-63B-4
	 * 3.1.1.2: the blocklist on every setting of a password) */
	rc = password_from_stdin(a, force ? NULL : &u, &hash);
	rv_user_release(&u);
	if (rc < 0)
		return EXIT_FAIL;
	if ((rc = change(a, CH_PASSWORD, argv[optind], hash)) == EXIT_OK)
		note(a, "set the password of user '%s'%s", argv[optind],
		     force ? " (--force: the policy was not applied)" : "");
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

int
cmd_user_suspend(struct admin *a, int argc, char **argv)
{
	return suspend(a, argc, argv, CH_SUSPEND);
}

int
cmd_user_unsuspend(struct admin *a, int argc, char **argv)
{
	return suspend(a, argc, argv, CH_UNSUSPEND);
}

int
cmd_user_mfa_reset(struct admin *a, int argc, char **argv)
{
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if ((rc = change(a, CH_MFA_RESET, argv[optind], NULL)) == EXIT_OK)
		note(a, "removed the second factors of user '%s'", argv[optind]);
	return rc;
}
