/* unit/store-contract: the store's contract (rv-store.h) through its public
 * API only, on the backend of the fixture (Berkeley DB, or PostgreSQL under
 * REVERIFY_TEST_STORE=pgsql): users and their unique keys, records, limit
 * windows, the audit chain, purge and stats, a doomed transaction, and
 * read-check-update across processes */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-store.h"
#include "rv-util.h"
#include "fixture.h"
#include "tap.h"

static struct rv_conf conf;
static struct rv_store *st;
static long long *now;		/* the store's clock (fixture_clock) */

#define T0 1700000000000LL
#define MINUTE 60000LL
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

/* A child of a race ends when it has run this long, and the whole test
 * when it has: a lock that is never granted fails the test instead of
 * hanging it. Bounds, not timings. */
#define CHILD_SECONDS 120
#define TEST_SECONDS 600

static void
on_alarm(int sig)
{
	static const char msg[] = "Bail out! store-contract: still running after "
				  "600 s (a lock never granted?)\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* ---- running transactions ------------------------------------------------ */

/* what the last run() failed with: the code, the status, the log line */
static char err_code[64];
static int err_status;
static char err_msg[256];

static int
run_on(struct rv_store *on, rv_store_txn_fn *body, void *ctx)
{
	struct rv_err err;
	int rc;

	rv_err_init(&err);
	rc = rv_store_txn(on, body, ctx, &err);
	err_code[0] = err_msg[0] = '\0';
	err_status = 0;
	if (rc < 0) {
		rv_strlcpy(err_code, err.code ? err.code : "?", sizeof(err_code));
		rv_strlcpy(err_msg, err.msg, sizeof(err_msg));
		err_status = err.status;
	}
	rv_err_release(&err);
	return rc;
}

static int
run(rv_store_txn_fn *body, void *ctx)
{
	return run_on(st, body, ctx);
}

/* ---- users ------------------------------------------------------------------ */

static void
new_user(struct rv_user *u, const char *id, const char *username,
	 const char *email, const char *phone)
{
	rv_user_init(u);
	rv_strlcpy(u->id, id, sizeof(u->id));
	u->username = username ? rv_xstrdup(username) : NULL;
	u->email = email ? rv_xstrdup(email) : NULL;
	u->phone = phone ? rv_xstrdup(phone) : NULL;
	u->created_at = u->updated_at = *now;
}

static int
user_put_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	(void)s;
	return rv_store_user_put(txn, ctx, err);
}

/* Puts a user with these keys in a transaction of its own: "" when it
 * committed, else the error code (err_status has the status). */
static const char *
put_user(const char *id, const char *username, const char *email,
	 const char *phone)
{
	struct rv_user u;

	new_user(&u, id, username, email, phone);
	u.password_hash = rv_xstrdup("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA");
	run(user_put_body, &u);
	rv_user_release(&u);
	return err_code;
}

enum lookup { BY_ID, BY_USERNAME, BY_EMAIL, BY_PHONE };

struct user_get {
	enum lookup by;
	const char *key;
	bool for_update;
	struct rv_user u;
	int rc;
};

static int
user_get_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct user_get *g = ctx;

	(void)s;
	rv_user_release(&g->u);
	switch (g->by) {
	case BY_ID:
		g->rc = rv_store_user_get(txn, g->key, g->for_update, &g->u, err);
		break;
	case BY_USERNAME:
		g->rc = rv_store_user_by_username(txn, g->key, &g->u, err);
		break;
	case BY_EMAIL:
		g->rc = rv_store_user_by_email(txn, g->key, &g->u, err);
		break;
	case BY_PHONE:
		g->rc = rv_store_user_by_phone(txn, g->key, &g->u, err);
		break;
	}
	return g->rc < 0 ? -1 : 0;
}

/* The id of the user found by key, "" when none, "(error)" on a failure. */
static const char *
find(enum lookup by, const char *key)
{
	static char id[RV_ID_MAX + 16];
	struct user_get g;

	memset(&g, 0, sizeof(g));
	g.by = by;
	g.key = key;
	if (run(user_get_body, &g) < 0) {
		diag("lookup '%s': %s", key, err_msg);
		rv_strlcpy(id, "(error)", sizeof(id));
	} else {
		rv_strlcpy(id, g.rc == 1 ? g.u.id : "", sizeof(id));
	}
	rv_user_release(&g.u);
	return id;
}

struct user_del {
	const char *id;
	int rc;
};

static int
user_del_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct user_del *d = ctx;

	(void)s;
	d->rc = rv_store_user_del(txn, d->id, err);
	return d->rc < 0 ? -1 : 0;
}

/* appends src to the string dst of size bytes, cut to fit */
static void
cat(char *dst, const char *src, size_t size)
{
	size_t len = strlen(dst);

	if (len + 1 < size)
		rv_strlcpy(dst + len, src, size - len);
}

static bool
str_eq(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void
test_users(void)
{
	struct rv_user u;
	struct user_get g;

	/* every field round trips */
	new_user(&u, "u1", "Alice", "Alice@Example.com", "4915112345678");
	u.name = rv_xstrdup("Alice Liddell");
	u.avatar = rv_xstrdup("https://example.com/a.png");
	u.password_hash = rv_xstrdup("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA");
	u.created_at = T0 - 5000;
	u.updated_at = T0 - 4000;
	u.password_updated_at = T0 - 3000;
	u.last_sign_in_at = T0 - 2000;
	ok(run(user_put_body, &u) == 0, "users: a user is stored");
	memset(&g, 0, sizeof(g));
	g.by = BY_ID;
	g.key = "u1";
	ok(run(user_get_body, &g) == 0 && g.rc == 1, "users: get by id finds it");
	ok(strcmp(g.u.id, "u1") == 0 && str_eq(g.u.username, "Alice") &&
	   str_eq(g.u.email, "Alice@Example.com") && str_eq(g.u.phone, "4915112345678") &&
	   str_eq(g.u.name, u.name) && str_eq(g.u.avatar, u.avatar) &&
	   str_eq(g.u.password_hash, u.password_hash),
	   "users: the strings read back as given (case kept)");
	ok(g.u.created_at == u.created_at && g.u.updated_at == u.updated_at &&
	   g.u.password_updated_at == u.password_updated_at &&
	   g.u.last_sign_in_at == u.last_sign_in_at && !g.u.suspended,
	   "users: the times and the flag read back");
	g.for_update = true;
	ok(run(user_get_body, &g) == 0 && g.rc == 1 && str_eq(g.u.email, u.email),
	   "users: get for update reads the same");
	rv_user_release(&g.u);
	rv_user_release(&u);

	/* a user without the optional strings */
	is_str(put_user("u2", NULL, NULL, NULL), "", "users: a user with no username, e-mail or phone");
	memset(&g, 0, sizeof(g));
	g.by = BY_ID;
	g.key = "u2";
	ok(run(user_get_body, &g) == 0 && g.rc == 1 && g.u.username == NULL &&
	   g.u.email == NULL && g.u.phone == NULL && g.u.name == NULL,
	   "users: unset strings read back as NULL");
	rv_user_release(&g.u);

	is_str(find(BY_USERNAME, "aLiCe"), "u1", "users: found by username, ignoring case");
	is_str(find(BY_EMAIL, "alice@example.COM"), "u1", "users: found by e-mail, ignoring case");
	is_str(find(BY_PHONE, "4915112345678"), "u1", "users: found by phone");
	is_str(find(BY_PHONE, "4915112345679"), "", "users: another phone is not found");
	is_str(find(BY_ID, "nobody"), "", "users: an unknown id is not found");
	is_str(find(BY_ID, "bad id/.."), "", "users: an invalid id is not found");
	is_str(find(BY_USERNAME, ""), "", "users: an empty username is not found");

	/* uniqueness, as the indexes fold */
	is_str(put_user("u3", "bob", "ALICE@example.com", NULL), "user.email_already_in_use",
	       "users: an e-mail another user has, in other case, is refused");
	is_int(err_status, 422, "users: ... with 422 (e-mail)");
	is_str(put_user("u3", "ALICE", "bob@example.com", NULL), "user.username_already_in_use",
	       "users: a username another user has, in other case, is refused");
	is_int(err_status, 422, "users: ... with 422 (username)");
	is_str(put_user("u3", "bob", "bob@example.com", "4915112345678"),
	       "user.phone_already_in_use", "users: a phone another user has is refused");
	is_int(err_status, 422, "users: ... with 422 (phone)");
	is_str(find(BY_ID, "u3"), "", "users: nothing of a refused user was written");
	is_str(find(BY_USERNAME, "bob"), "", "users: ... nor of its keys");
	is_str(put_user("u3", "bob", "bob@example.com", NULL), "", "users: a third user");
	is_str(put_user("u1", "ALICE", "alice@new.example", "4915112345678"), "",
	       "users: a user may keep their own keys (in other case) and change the e-mail");
	is_str(find(BY_EMAIL, "alice@example.com"), "", "users: the old e-mail is free again");
	is_str(find(BY_EMAIL, "ALICE@NEW.EXAMPLE"), "u1", "users: the new e-mail finds the user");
	is_str(find(BY_USERNAME, "alice"), "u1", "users: the username in its new case still finds the user");
	is_str(put_user("u3", "bob", "alice@example.com", NULL), "",
	       "users: another user may take the freed e-mail");
	is_str(put_user("u1", "Alice", "alice@new.example", NULL), "",
	       "users: a user may drop the phone");
	is_str(find(BY_PHONE, "4915112345678"), "", "users: the dropped phone is free");
	is_str(put_user("u2", NULL, NULL, "4915112345678"), "",
	       "users: another user may take the freed phone");
	is_str(put_user("bad id", NULL, NULL, NULL), "guard.invalid_input",
	       "users: a put of an invalid id is refused");
}

/* ---- user_each ---- */

struct each_users {
	char ids[512];		/* the ids starting with 'o', comma-separated */
	char last[RV_ID_MAX + 1];
	bool ordered;
	int calls, stop_at;
	int rc;
};

static int
each_user_fn(const struct rv_user *u, void *ctx)
{
	struct each_users *e = ctx;

	e->calls++;
	if (e->last[0] != '\0' && strcmp(e->last, u->id) >= 0)
		e->ordered = false;
	rv_strlcpy(e->last, u->id, sizeof(e->last));
	if (u->id[0] == 'o') {
		if (e->ids[0] != '\0')
			cat(e->ids, ",", sizeof(e->ids));
		cat(e->ids, u->id, sizeof(e->ids));
	}
	return e->calls == e->stop_at ? 7 : 0;
}

static int
each_user_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct each_users *e = ctx;
	int stop_at = e->stop_at;

	(void)s;
	memset(e, 0, sizeof(*e));
	e->ordered = true;
	e->stop_at = stop_at;
	e->rc = rv_store_user_each(txn, each_user_fn, e, err);
	return e->rc < 0 ? -1 : 0;
}

static void
test_user_each(void)
{
	/* bytewise: '-' < '9' < 'Z' < '_' < 'a'; a collation of a language
	 * would order them otherwise */
	static const char *const ids[] = { "ob", "o_u", "oZ", "oa", "o-dash", "o9" };
	struct each_users e;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (put_user(ids[i], NULL, NULL, NULL)[0] != '\0')
			bad++;
	is_int(bad, 0, "user_each: six users stored");
	memset(&e, 0, sizeof(e));
	ok(run(each_user_body, &e) == 0 && e.rc == 0, "user_each: walks every user");
	ok(e.ordered, "user_each: in strictly increasing id order");
	is_str(e.ids, "o-dash,o9,oZ,o_u,oa,ob", "user_each: the order is bytewise");
	e.stop_at = 2;
	ok(run(each_user_body, &e) == 0 && e.rc == 7 && e.calls == 2,
	   "user_each: stops when fn returns non-zero, and returns that");
}

/* ---- records ---------------------------------------------------------------- */

static void
new_record(struct rv_record *r, const char *id, const char *owner,
	   const char *creator, long long ttl_ms)
{
	rv_record_init(r);
	rv_strlcpy(r->id, id, sizeof(r->id));
	r->type = RV_RECORD_PASSWORD;
	rv_strlcpy(r->owner, owner, sizeof(r->owner));
	rv_strlcpy(r->creator, creator, sizeof(r->creator));
	rv_strlcpy(r->identifier, owner[0] ? owner : creator, sizeof(r->identifier));
	r->verified = true;
	r->created_at = *now;
	r->expires_at = *now + ttl_ms;
}

static int
rec_put_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	(void)s;
	return rv_store_record_put(txn, ctx, err);
}

static int
put_record(const char *id, const char *owner, const char *creator, long long ttl_ms)
{
	struct rv_record r;

	new_record(&r, id, owner, creator, ttl_ms);
	if (run(rec_put_body, &r) < 0) {
		diag("record put '%s': %s", id, err_msg);
		return -1;
	}
	return 0;
}

struct rec_get {
	const char *id;
	bool for_update;
	struct rv_record r;
	int rc;
};

static int
rec_get_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct rec_get *g = ctx;

	(void)s;
	g->rc = rv_store_record_get(txn, g->id, g->for_update, &g->r, err);
	return g->rc < 0 ? -1 : 0;
}

/* record_get: 1, 0, or -1 on a failure */
static int
rec_get(const char *id, bool for_update, struct rv_record *r)
{
	struct rec_get g;

	memset(&g, 0, sizeof(g));
	g.id = id;
	g.for_update = for_update;
	if (run(rec_get_body, &g) < 0) {
		diag("record get '%s': %s", id, err_msg);
		return -1;
	}
	if (r != NULL)
		*r = g.r;
	return g.rc;
}

struct rec_op {
	const char *id, *user, *keep;
	bool for_update;
	long n;
	int rc;
	char ids[256];
};

static int
rec_del_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct rec_op *op = ctx;

	(void)s;
	op->rc = rv_store_record_del(txn, op->id, err);
	return op->rc < 0 ? -1 : 0;
}

/* record_del: 1, 0, or -1 */
static int
rec_del(const char *id)
{
	struct rec_op op;

	memset(&op, 0, sizeof(op));
	op.id = id;
	if (run(rec_del_body, &op) < 0) {
		diag("record del '%s': %s", id, err_msg);
		return -1;
	}
	return op.rc;
}

static int
rec_each_fn(const struct rv_record *r, void *ctx)
{
	struct rec_op *op = ctx;

	/* in any order: the ids are sorted by the caller's expectations */
	if (op->ids[0] != '\0')
		cat(op->ids, ",", sizeof(op->ids));
	cat(op->ids, r->id, sizeof(op->ids));
	op->n++;
	return 0;
}

static int
rec_each_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct rec_op *op = ctx;

	(void)s;
	op->ids[0] = '\0';
	op->n = 0;
	op->rc = rv_store_record_each_user(txn, op->user, op->for_update,
					   rec_each_fn, op, err);
	return op->rc < 0 ? -1 : 0;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The live records of user, their ids sorted and comma-separated (static),
 * or "(error)". */
static const char *
records_of_fu(const char *user, bool for_update)
{
	static char out[256];
	struct rec_op op;
	char *ids[16], *p, *save = NULL;
	size_t n = 0, i;

	memset(&op, 0, sizeof(op));
	op.user = user;
	op.for_update = for_update;
	if (run(rec_each_body, &op) < 0) {
		diag("records of '%s': %s", user, err_msg);
		return "(error)";
	}
	for (p = strtok_r(op.ids, ",", &save); p != NULL && n < 16;
	     p = strtok_r(NULL, ",", &save))
		ids[n++] = p;
	qsort(ids, n, sizeof(ids[0]), cmp_id);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			cat(out, ",", sizeof(out));
		cat(out, ids[i], sizeof(out));
	}
	return out;
}

static const char *
records_of(const char *user)
{
	return records_of_fu(user, false);
}

static int
rec_del_user_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct rec_op *op = ctx;

	(void)s;
	op->n = rv_store_record_del_user(txn, op->user, op->keep, err);
	return op->n < 0 ? -1 : 0;
}

static void
test_records(void)
{
	struct rv_record r, got;
	struct rec_op op;

	/* every field round trips */
	new_record(&r, "r00000000000000000001", "u1", "u1", 10 * MINUTE);
	r.type = RV_RECORD_EMAIL_CODE;
	rv_strlcpy(r.identifier, "Alice@Example.com", sizeof(r.identifier));
	rv_strlcpy(r.template_type, "UserPermissionValidation", sizeof(r.template_type));
	rv_strlcpy(r.client_id, "app-1", sizeof(r.client_id));
	rv_strlcpy(r.sid, "sid-xyz", sizeof(r.sid));
	rv_strlcpy(r.action, "delete-account", sizeof(r.action));
	r.verified = false;
	r.verified_at = *now - 1;
	r.has_code = true;
	for (int i = 0; i < RV_MAC_LEN; i++)
		r.code_mac[i] = (unsigned char)(0xa0 + i);
	r.code_sent_at = *now - 2;
	r.tries = 2;
	ok(run(rec_put_body, &r) == 0, "records: a record is stored");
	is_int(rec_get(r.id, false, &got), 1, "records: a live record is found");
	ok(strcmp(got.id, r.id) == 0 && got.type == RV_RECORD_EMAIL_CODE &&
	   strcmp(got.owner, "u1") == 0 && strcmp(got.creator, "u1") == 0 &&
	   strcmp(got.identifier, r.identifier) == 0 &&
	   strcmp(got.template_type, r.template_type) == 0 &&
	   strcmp(got.client_id, r.client_id) == 0 && strcmp(got.sid, r.sid) == 0 &&
	   strcmp(got.action, r.action) == 0,
	   "records: the strings read back");
	ok(!got.verified && got.created_at == r.created_at &&
	   got.expires_at == r.expires_at && got.verified_at == r.verified_at &&
	   got.code_sent_at == r.code_sent_at && got.tries == 2 && got.has_code &&
	   memcmp(got.code_mac, r.code_mac, RV_MAC_LEN) == 0,
	   "records: the flags, times, tries and code MAC read back");
	ok(rec_get(r.id, true, &got) == 1 && got.tries == 2, "records: get for update reads the same");
	r.tries = 3;
	r.verified = true;
	r.has_code = false;
	ok(run(rec_put_body, &r) == 0 && rec_get(r.id, false, &got) == 1 &&
	   got.tries == 3 && got.verified && !got.has_code,
	   "records: a put replaces the record");
	is_int(rec_get("zzzzzzzzzzzzzzzzzzzzz", false, NULL), 0, "records: an unknown record is missing");
	is_int(rec_get("../../../etc/passwd!!", false, NULL), 0, "records: a malformed id is missing");

	/* expiry against rv_store_now */
	ok(put_record("r00000000000000000002", "u1", "u1", MINUTE) == 0,
	   "records: a record for a minute");
	*now += MINUTE - 1;
	is_int(rec_get("r00000000000000000002", false, NULL), 1, "records: live a moment before it expires");
	*now += 2;
	is_int(rec_get("r00000000000000000002", false, NULL), 0,
	       "records: an expired record is missing (logto-spec 3.4)");
	is_int(rec_get("r00000000000000000002", true, NULL), 0, "records: ... also for update");
	*now -= 2 * MINUTE;
	is_int(rec_get("r00000000000000000002", false, NULL), 1,
	       "records: expiry follows the store's clock, not the database's");
	*now += 2 * MINUTE;

	/* by user: the owner, or the creator of an unowned record */
	ok(put_record("r00000000000000000003", "", "u1", 10 * MINUTE) == 0 &&
	   put_record("r00000000000000000004", "u2", "u2", 10 * MINUTE) == 0 &&
	   put_record("r00000000000000000005", "", "u2", 10 * MINUTE) == 0,
	   "records: an unowned record of u1, two of u2");
	is_str(records_of("u1"), "r00000000000000000001,r00000000000000000003",
	       "records: each_user lists the live records owned, and created unowned");
	is_str(records_of("u2"), "r00000000000000000004,r00000000000000000005",
	       "records: each_user of another user lists theirs only");
	is_str(records_of("nobody"), "", "records: each_user of a user without records lists none");
	is_str(records_of_fu("u1", true), "r00000000000000000001,r00000000000000000003",
	       "records: each_user for update lists the same");
	is_str(records_of_fu("nobody", true), "",
	       "records: ... and none for a user without records");

	/* delete by user, expired or not, but keep */
	memset(&op, 0, sizeof(op));
	op.user = "u1";
	op.keep = "r00000000000000000001";
	ok(run(rec_del_user_body, &op) == 0, "records: del_user runs");
	is_int(op.n, 2, "records: del_user counts the expired and the unowned one it deleted");
	is_int(rec_get("r00000000000000000001", false, NULL), 1, "records: del_user keeps keep");
	is_int(rec_del("r00000000000000000002"), 0, "records: the expired one is gone");
	is_int(rec_get("r00000000000000000003", false, NULL), 0, "records: the unowned one is gone");
	is_str(records_of("u2"), "r00000000000000000004,r00000000000000000005",
	       "records: another user's records stay");
	op.keep = NULL;
	op.user = "u2";
	ok(run(rec_del_user_body, &op) == 0 && op.n == 2 && strcmp(records_of("u2"), "") == 0,
	   "records: del_user without keep deletes them all");

	is_int(rec_del("r00000000000000000001"), 1, "records: record_del deletes: 1");
	is_int(rec_del("r00000000000000000001"), 0, "records: then there is nothing to delete: 0");
	is_int(rec_get("r00000000000000000001", false, NULL), 0, "records: a deleted record is missing");
	is_int(rec_del("not a record id"), 0, "records: record_del of a malformed id: 0");
}

/* A user's records go with the user, and with a suspension. */
static void
test_user_cascade(void)
{
	struct user_get g;
	struct rv_user u;
	struct user_del d = { "d1", 0 };

	ok(put_user("d1", "dora", "dora@example.com", NULL)[0] == '\0' &&
	   put_record("d00000000000000000001", "d1", "d1", 10 * MINUTE) == 0 &&
	   put_record("d00000000000000000002", "", "d1", 10 * MINUTE) == 0 &&
	   put_record("d00000000000000000003", "d1", "d1", -MINUTE) == 0 &&
	   put_record("d00000000000000000004", "u3", "u3", 10 * MINUTE) == 0,
	   "cascade: a user with an owned, an unowned and an expired record");
	is_str(records_of("d1"), "d00000000000000000001,d00000000000000000002",
	       "cascade: the user's live records");
	ok(run(user_del_body, &d) == 0 && d.rc == 1, "cascade: user_del: 1");
	is_str(find(BY_ID, "d1"), "", "cascade: the user is gone");
	is_str(find(BY_USERNAME, "dora"), "", "cascade: so are its index entries");
	is_int(rec_get("d00000000000000000001", false, NULL), 0, "cascade: the owned record is gone");
	is_int(rec_get("d00000000000000000002", false, NULL), 0, "cascade: the unowned record is gone");
	is_int(rec_del("d00000000000000000003"), 0, "cascade: the expired record is gone too");
	is_int(rec_get("d00000000000000000004", false, NULL), 1, "cascade: another user's record stays");
	ok(run(user_del_body, &d) == 0 && d.rc == 0, "cascade: user_del again: 0");

	/* a suspended user has no records */
	ok(put_user("s1", "sam", NULL, NULL)[0] == '\0' &&
	   put_record("s00000000000000000001", "s1", "s1", 10 * MINUTE) == 0 &&
	   put_record("s00000000000000000002", "", "s1", 10 * MINUTE) == 0,
	   "suspend: a user with two records");
	new_user(&u, "s1", "sam", NULL, NULL);
	u.suspended = true;
	ok(run(user_put_body, &u) == 0, "suspend: the user is put suspended");
	rv_user_release(&u);
	is_str(records_of("s1"), "", "suspend: the records went in the same put");
	is_int(rec_del("s00000000000000000002"), 0, "suspend: the unowned one too");
	memset(&g, 0, sizeof(g));
	g.by = BY_ID;
	g.key = "s1";
	ok(run(user_get_body, &g) == 0 && g.rc == 1 && g.u.suspended,
	   "suspend: the user stays, suspended");
	rv_user_release(&g.u);
}

/* ---- windows ---------------------------------------------------------------- */

struct win_op {
	char key[65];
	struct rv_window w;
	int rc;
};

static int
win_get_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct win_op *op = ctx;

	(void)s;
	op->rc = rv_store_window_get(txn, op->key, &op->w, err);
	return op->rc < 0 ? -1 : 0;
}

static int
win_put_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct win_op *op = ctx;

	(void)s;
	return rv_store_window_put(txn, op->key, &op->w, err);
}

static void
win_key(const char *what, char key[65])
{
	rv_store_mac_hex(st, "test", what, key);
}

/* window_get in a transaction of its own: 1, 0, or -1 */
static int
win_get(const char *what, struct rv_window *w)
{
	struct win_op op;

	memset(&op, 0x55, sizeof(op));	/* the get must clear it */
	win_key(what, op.key);
	if (run(win_get_body, &op) < 0) {
		diag("window get '%s': %s", what, err_msg);
		return -1;
	}
	*w = op.w;
	return op.rc;
}

static int
win_put(const char *what, const struct rv_window *w)
{
	struct win_op op;

	win_key(what, op.key);
	op.w = *w;
	if (run(win_put_body, &op) < 0) {
		diag("window put '%s': %s", what, err_msg);
		return -1;
	}
	return 0;
}

struct win_walk {
	char last[65];
	bool ordered;
	int calls, stop_at, rc;
	int w1_n, full_n;	/* n of those windows, -1: not seen */
	bool placeholder;	/* a window read while absent was listed */
};

static int
win_walk_fn(const char *key, const struct rv_window *w, void *ctx)
{
	struct win_walk *ww = ctx;
	char k[65];

	ww->calls++;
	if (ww->last[0] != '\0' && strcmp(ww->last, key) >= 0)
		ww->ordered = false;
	rv_strlcpy(ww->last, key, sizeof(ww->last));
	win_key("w1", k);
	if (strcmp(key, k) == 0)
		ww->w1_n = w->n;
	win_key("full", k);
	if (strcmp(key, k) == 0)
		ww->full_n = w->n;
	win_key("absent", k);
	if (strcmp(key, k) == 0)
		ww->placeholder = true;
	win_key("w2", k);
	if (strcmp(key, k) == 0)
		ww->placeholder = true;
	return ww->calls == ww->stop_at ? 3 : 0;
}

static int
win_walk_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct win_walk *ww = ctx;
	int stop_at = ww->stop_at;

	(void)s;
	memset(ww, 0, sizeof(*ww));
	ww->ordered = true;
	ww->stop_at = stop_at;
	ww->w1_n = ww->full_n = -1;
	ww->rc = rv_store_window_each(txn, win_walk_fn, ww, err);
	return ww->rc < 0 ? -1 : 0;
}

static void
test_windows(void)
{
	struct rv_window w, got;
	int i, bad = 0;

	is_int(win_get("absent", &got), 0, "windows: the get of an absent key: 0");
	ok(got.n == 0 && got.blocked_until == 0 && got.expires_at == 0,
	   "windows: ... and an empty window");
	memset(&w, 0, sizeof(w));
	w.events[0] = *now - 3;
	w.events[1] = *now - 2;
	w.events[2] = *now - 1;
	w.n = 3;
	w.blocked_until = *now + MINUTE;
	w.expires_at = *now + 10 * MINUTE;
	ok(win_put("w1", &w) == 0, "windows: a window is stored");
	ok(win_get("w1", &got) == 1 && got.n == 3 && got.events[0] == w.events[0] &&
	   got.events[1] == w.events[1] && got.events[2] == w.events[2] &&
	   got.blocked_until == w.blocked_until && got.expires_at == w.expires_at,
	   "windows: it reads back event by event");
	w.n = 1;
	w.blocked_until = 0;
	ok(win_put("w1", &w) == 0 && win_get("w1", &got) == 1 && got.n == 1 &&
	   got.blocked_until == 0, "windows: a put replaces the window");
	for (i = 0; i < RV_WINDOW_MAX; i++)
		w.events[i] = T0 + i;
	w.n = RV_WINDOW_MAX;
	ok(win_put("full", &w) == 0, "windows: a full window is stored");
	if (win_get("full", &got) != 1 || got.n != RV_WINDOW_MAX)
		bad++;
	for (i = 0; i < got.n && i < RV_WINDOW_MAX; i++)
		if (got.events[i] != T0 + i)
			bad++;
	is_int(bad, 0, "windows: %d events read back in order", RV_WINDOW_MAX);
	is_int(win_get("w2", &got), 0, "windows: another key is another window");

	{
		struct win_walk ww;

		memset(&ww, 0, sizeof(ww));
		ok(run(win_walk_body, &ww) == 0 && ww.rc == 0 && ww.calls == 2,
		   "window_each: walks the two windows");
		ok(ww.ordered, "window_each: in key order");
		ok(ww.w1_n == 1 && ww.full_n == RV_WINDOW_MAX, "window_each: each with its window");
		ok(!ww.placeholder, "window_each: a key read while absent is no window");
		ww.stop_at = 1;
		ok(run(win_walk_body, &ww) == 0 && ww.rc == 3 && ww.calls == 1,
		   "window_each: stops when fn returns non-zero, and returns that");
	}
}

/* ---- audit ------------------------------------------------------------------ */

struct audit_op {
	const char *event;
	const char *user;
	int n;			/* entries in the one transaction */
	bool then_fail;		/* the body returns -1 after them */
	int proc;		/* (races) */
};

static int
audit_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct audit_op *a = ctx;
	int i, rc = 0;

	(void)s;
	for (i = 0; i < a->n && rc == 0; i++) {
		json_t *f = json_pack("{s:i, s:i, s:s}", "proc", a->proc, "i", i,
				      "keyed", "0123abcd");

		rc = rv_store_audit(txn, a->event, a->user, f, err);
		json_decref(f);
	}
	if (rc == 0 && a->then_fail)
		return rv_err_set(err, "test.failed", "the body fails");
	return rc;
}

static int
audit_n(const char *event, int n)
{
	struct audit_op a = { event, "u1", n, false, 0 };

	if (run(audit_body, &a) < 0) {
		diag("audit: %s", err_msg);
		return -1;
	}
	return 0;
}

struct audit_walk {
	long long keys[64];	/* "_key" */
	long long seqs[64];
	char hashes[64][65];
	char prevs[64][65];
	char events[64][32];
	bool users_ok, fields_ok;
	int n, stop_at;
};

static int
audit_walk_fn(json_t *e, void *ctx)
{
	struct audit_walk *w = ctx;
	const char *user = json_string_value(json_object_get(e, "user"));
	const char *ev = json_string_value(json_object_get(e, "event"));

	if (w->n < 64) {
		w->seqs[w->n] = json_integer_value(json_object_get(e, "seq"));
		w->keys[w->n] = json_is_integer(json_object_get(e, "_key")) ?
				json_integer_value(json_object_get(e, "_key")) : -1;
		rv_strlcpy(w->hashes[w->n], json_string_value(json_object_get(e, "hash")) ?
			   json_string_value(json_object_get(e, "hash")) : "", 65);
		rv_strlcpy(w->prevs[w->n], json_string_value(json_object_get(e, "prev")) ?
			   json_string_value(json_object_get(e, "prev")) : "", 65);
		rv_strlcpy(w->events[w->n], ev ? ev : "", 32);
	}
	if (ev != NULL && strncmp(ev, "test.", 5) == 0) {
		if (user == NULL || strcmp(user, "u1") != 0)
			w->users_ok = false;
		if (!json_is_integer(json_object_get(e, "i")) ||
		    !str_eq(json_string_value(json_object_get(e, "keyed")), "0123abcd"))
			w->fields_ok = false;
	}
	w->n++;
	return w->n == w->stop_at ? 5 : 0;
}

/* audit_each from from into *w; its result */
static int
audit_walk(long long from, struct audit_walk *w, int stop_at)
{
	struct rv_err err;
	int rc;

	memset(w, 0, sizeof(*w));
	w->users_ok = w->fields_ok = true;
	w->stop_at = stop_at;
	rv_err_init(&err);
	rc = rv_store_audit_each(st, from, audit_walk_fn, w, &err);
	if (rc < 0)
		diag("audit_each: %s", err.msg);
	rv_err_release(&err);
	return rc;
}

/* rv_store_audit_verify: its result; *count_r */
static int
verify(long long *count_r)
{
	struct rv_err err;
	long long bad = 0;
	int rc;

	rv_err_init(&err);
	rc = rv_store_audit_verify(st, count_r, &bad, &err);
	if (rc != 1)
		diag("audit verify: %d (bad %lld): %s", rc, bad, err.msg);
	rv_err_release(&err);
	return rc;
}

static long long
head(char hash[65])
{
	struct rv_err err;
	long long seq = -1;

	rv_err_init(&err);
	if (rv_store_audit_head(st, &seq, hash, &err) < 0) {
		diag("audit head: %s", err.msg);
		seq = -1;
	}
	rv_err_release(&err);
	return seq;
}

static void
test_audit_empty(void)
{
	char hash[65];
	long long count = -1;

	is_int(head(hash), 0, "audit: the head of an empty chain is 0");
	is_str(hash, ZEROS, "audit: ... with 64 zeros");
	ok(verify(&count) == 1 && count == 0, "audit: an empty chain verifies");
}

static void
test_audit(void)
{
	struct audit_walk w;
	struct audit_op a = { "test.batch", "u1", 2, false, 0 };
	struct rv_audit_check c;
	struct rv_err err;
	char hash[65], h[65];
	long long count = -1, n = -1, seq;
	int i, chained = 1;

	ok(audit_n("test.one", 1) == 0 && audit_n("test.two", 1) == 0 &&
	   audit_n("test.three", 1) == 0, "audit: three entries, one per transaction");
	ok(run(audit_body, &a) == 0, "audit: two entries in one transaction");
	a.then_fail = true;
	a.event = "test.lost";
	ok(run(audit_body, &a) < 0, "audit: a transaction that fails after two entries");
	ok(verify(&count) == 1 && count == 5, "audit: the chain of five verifies");
	is_int(head(hash), 5, "audit: the head is entry 5: nothing of the failed one");
	is_int(audit_walk(1, &w, 0), 0, "audit: audit_each walks it");
	is_int(w.n, 5, "audit: ... five entries");
	for (i = 0; i < w.n && i < 5; i++)
		if (w.seqs[i] != i + 1 || strcmp(w.prevs[i], i == 0 ? ZEROS : w.hashes[i - 1]) != 0)
			chained = 0;
	ok(chained, "audit: in order 1..5, each prev the hash of the one before");
	ok(w.keys[0] == 1 && w.keys[4] == 5, "audit: each entry has its sequence number as _key");
	ok(strcmp(w.events[0], "test.one") == 0 && strcmp(w.events[2], "test.three") == 0 &&
	   strcmp(w.events[4], "test.batch") == 0, "audit: the events as appended");
	ok(w.users_ok && w.fields_ok, "audit: the user and the extra fields are kept");
	is_str(hash, w.hashes[4], "audit: the head's hash is the last entry's");
	ok(audit_walk(3, &w, 0) == 0 && w.n == 3 && w.seqs[0] == 3,
	   "audit: audit_each from 3 starts at 3");
	is_int(audit_walk(1, &w, 2), 5, "audit: audit_each stops when fn returns non-zero, and returns that");
	is_int(w.n, 2, "audit: ... after two entries");

	/* the expected head */
	memset(&c, 0, sizeof(c));
	c.head_seq = 5;
	rv_strlcpy(c.head_hash, hash, sizeof(c.head_hash));
	rv_err_init(&err);
	ok(rv_store_audit_check(st, &c, &err) == 1 && c.head_found && c.count == 5,
	   "audit: the chain reaches the expected head");
	memset(&c, 0, sizeof(c));
	c.head_seq = 5;
	rv_strlcpy(c.head_hash, ZEROS, sizeof(c.head_hash));
	ok(rv_store_audit_check(st, &c, &err) == 0 && c.bad_seq == 5,
	   "audit: a head with another hash is found out");
	rv_err_release(&err);

	/* prune: 1-5 are old, two new ones come after */
	*now += MINUTE;
	ok(audit_n("test.new", 2) == 0, "audit: two later entries");
	rv_err_init(&err);
	ok(rv_store_audit_prune(st, *now, NULL, NULL, &n, &err) == 0 && n == 5,
	   "audit: prune deletes the five old entries");
	if (n != 5)
		diag("prune: %lld: %s", n, err.msg);
	rv_err_release(&err);
	memset(&c, 0, sizeof(c));
	rv_err_init(&err);
	ok(rv_store_audit_check(st, &c, &err) == 1 && c.anchor_seq == 5 &&
	   strcmp(c.anchor_hash, hash) == 0 && c.first_seq == 6 && c.count == 3,
	   "audit: the anchor is entry 5, and the chain verifies from it (6, 7, the prune's 8)");
	rv_err_release(&err);
	seq = head(h);
	is_int(seq, 8, "audit: the prune is in the chain: entry 8 is the head");
	ok(audit_walk(1, &w, 0) == 0 && w.n == 3 && w.seqs[0] == 6 &&
	   strcmp(w.events[2], "audit.pruned") == 0 && strcmp(w.hashes[2], h) == 0,
	   "audit: audit_each walks from the first entry kept");
	ok(audit_walk(0, &w, 0) == 0 && w.n == 4 && w.keys[0] == 0 && w.seqs[0] == 5 &&
	   strcmp(w.hashes[0], hash) == 0 && w.keys[1] == 6,
	   "audit: audit_each from 0 starts with the anchor (_key 0: entry 5 and its hash)");
	ok(audit_n("test.after", 1) == 0 && verify(&count) == 1 && count == 4 && head(h) == 9,
	   "audit: the chain goes on after a prune");
}

/* ---- purge and stats ------------------------------------------------------- */

struct user_count {
	long long n;
};

static int
count_user(const struct rv_user *u, void *ctx)
{
	(void)u;
	((struct user_count *)ctx)->n++;
	return 0;
}

static int
count_users_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	(void)s;
	((struct user_count *)ctx)->n = 0;
	return rv_store_user_each(txn, count_user, ctx, err) < 0 ? -1 : 0;
}

static int
stats(struct rv_store_stats *s)
{
	struct rv_err err;
	int rc;

	rv_err_init(&err);
	if ((rc = rv_store_stats(st, s, &err)) < 0)
		diag("stats: %s", err.msg);
	rv_err_release(&err);
	return rc;
}

static long
purge(long max)
{
	struct rv_err err;
	long n = -1;

	rv_err_init(&err);
	if (rv_store_purge(st, max, &n, &err) < 0) {
		diag("purge: %s", err.msg);
		n = -1;
	}
	rv_err_release(&err);
	return n;
}

/* a backlog of expired records over several purge chunks (100): purge
 * without a limit works it all off, and stats walks it */
#define BACKLOG 3500

static int
backlog_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	int *from = ctx, i;

	(void)s;
	for (i = *from; i < *from + 500 && i < BACKLOG; i++) {
		struct rv_record r;
		char id[32];

		snprintf(id, sizeof(id), "backlog%014d", i);
		new_record(&r, id, "u1", "u1", 1000);
		if (rv_store_record_put(txn, &r, err) < 0)
			return -1;
	}
	return 0;
}

static void
test_purge(void)
{
	struct rv_store_stats s1, s2, s3;
	struct user_count uc;
	struct rv_window w, got;
	long long count = -1;
	int from, rc = 0;

	ok(purge(0) >= 0, "purge: what earlier tests left expired goes");
	ok(stats(&s1) == 0 && s1.records == s1.live_records,
	   "stats: after a purge every record is live");
	ok(put_record("p00000000000000000001", "u3", "u3", 10 * MINUTE) == 0 &&
	   put_record("p00000000000000000002", "", "u3", 10 * MINUTE) == 0 &&
	   put_record("p00000000000000000003", "u3", "u3", -1) == 0 &&
	   put_record("p00000000000000000004", "u3", "u3", -MINUTE) == 0,
	   "purge: two live and two expired records");
	memset(&w, 0, sizeof(w));
	w.n = 1;
	w.events[0] = *now;
	w.expires_at = *now + MINUTE;
	ok(win_put("live", &w) == 0, "purge: a live window");
	w.expires_at = *now - 1;
	ok(win_put("expired", &w) == 0, "purge: an expired window");
	ok(stats(&s2) == 0, "stats: runs");
	is_int(s2.records - s1.records, 4, "stats: counts every record");
	is_int(s2.live_records - s1.live_records, 2, "stats: and the live ones");
	is_int(s2.windows - s1.windows, 2, "stats: counts the windows");
	is_int(purge(0), 3, "purge: removes the two expired records and the expired window");
	ok(stats(&s3) == 0 && s3.records == s1.records + 2 &&
	   s3.live_records == s1.live_records + 2 && s3.windows == s1.windows + 1,
	   "stats: the live ones stay");
	ok(rec_get("p00000000000000000001", false, NULL) == 1 &&
	   rec_get("p00000000000000000002", false, NULL) == 1 &&
	   rec_del("p00000000000000000003") == 0 && rec_del("p00000000000000000004") == 0,
	   "purge: the live records are there, the expired ones are gone");
	ok(win_get("live", &got) == 1 && win_get("expired", &got) == 0,
	   "purge: the live window is there, the expired one is gone");
	memset(&uc, 0, sizeof(uc));
	ok(run(count_users_body, &uc) == 0 && uc.n == s3.users,
	   "stats: counts the users");
	ok(verify(&count) == 1 && count == s3.audit,
	   "stats: counts the audit entries (the anchor not)");

	ok(put_record("p00000000000000000005", "u3", "u3", -1) == 0 &&
	   put_record("p00000000000000000006", "u3", "u3", -1) == 0 &&
	   put_record("p00000000000000000007", "u3", "u3", -1) == 0,
	   "purge: three more expired records");
	is_int(purge(2), 2, "purge: with a limit of 2 removes 2");
	is_int(purge(2), 1, "purge: then the last one");
	is_int(purge(0), 0, "purge: then nothing");

	for (from = 0; from < BACKLOG && rc == 0; from += 500)
		rc = run(backlog_body, &from);
	ok(rc == 0, "purge: %d records are stored", BACKLOG);
	*now += 2000;
	ok(stats(&s2) == 0 && s2.records == s3.records + BACKLOG &&
	   s2.live_records == s3.live_records,
	   "stats: walks a store with a backlog");
	is_int(purge(0), BACKLOG, "purge: without a limit removes a backlog, chunk by chunk");
}

/* ---- a failed call dooms the transaction ----------------------------------- */

struct doomed {
	const char *id, *username, *window;	/* what the body writes first */
	const char *bad_id;	/* the failing put: this id, or an e-mail clash */
	int inner_rc;
	char inner_code[64];
};

static int
doomed_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct doomed *d = ctx;
	struct rv_user u;
	struct rv_window w;
	char key[65];

	d->inner_rc = 0;
	d->inner_code[0] = '\0';
	new_user(&u, d->id, d->username, NULL, NULL);
	if (rv_store_user_put(txn, &u, err) < 0) {
		rv_user_release(&u);
		return -1;
	}
	rv_user_release(&u);
	memset(&w, 0, sizeof(w));
	w.n = 1;
	w.events[0] = *now;
	w.expires_at = *now + MINUTE;
	rv_store_mac_hex(s, "test", d->window, key);
	if (rv_store_window_put(txn, key, &w, err) < 0)
		return -1;
	/* the failing call: its -1 is ignored, as a careless body would */
	new_user(&u, d->bad_id ? d->bad_id : "y2", "yann", "X@EXAMPLE.COM", NULL);
	d->inner_rc = rv_store_user_put(txn, &u, err);
	rv_user_release(&u);
	if (d->inner_rc < 0)
		rv_strlcpy(d->inner_code, err->code ? err->code : "?", sizeof(d->inner_code));
	return 0;
}

static void
test_doomed(void)
{
	struct doomed d;
	struct rv_window got;
	int rc;

	is_str(put_user("x1", "xena", "x@example.com", NULL), "", "doomed: a user with an e-mail");
	memset(&d, 0, sizeof(d));
	d.id = "y1";
	d.username = "yves";
	d.window = "doomed1";
	rc = run(doomed_body, &d);
	ok(d.inner_rc < 0 && strcmp(d.inner_code, "user.email_already_in_use") == 0,
	   "doomed: a put of another user's e-mail fails (422) inside the body");
	if (!is_int(rc, -1, "doomed: the body returns 0 after it, but the transaction fails"))
		diag("the failed call did not doom the transaction (rv-store.h: "
		     "\"A failed store call (-1) dooms the transaction\")");
	is_str(find(BY_ID, "y1"), "", "doomed: nothing of the body is committed: not the user put before");
	is_str(find(BY_USERNAME, "yves"), "", "doomed: ... nor its index entries");
	is_int(win_get("doomed1", &got), 0, "doomed: ... nor the window");

	memset(&d, 0, sizeof(d));
	d.id = "z1";
	d.username = "zoe";
	d.window = "doomed2";
	d.bad_id = "not a valid id";
	rc = run(doomed_body, &d);
	ok(d.inner_rc < 0, "doomed: a put of an invalid user id fails inside the body");
	is_int(rc, -1, "doomed: the transaction fails with it");
	ok(strcmp(find(BY_ID, "z1"), "") == 0 && win_get("doomed2", &got) == 0,
	   "doomed: and commits nothing");
}

/* ---- across processes -------------------------------------------------------- */

/*
 * A pause between the read and the write of a race's body (race_paused):
 * on its first run, the body of each child says it has read (a byte on
 * said) and waits until the parent lets them all go on (EOF on go), which
 * it does when every child has read or none more has for PAUSE_MS (the
 * others wait on a lock: the store serialises them). On a store that
 * locks, it changes nothing; on one that does not, every child then reads
 * before any writes, and the lost update shows each time. A bound, not a
 * timing: the checks hold whatever the speed.
 */
#define PAUSE_MS 300

static struct {
	bool armed;		/* race_paused */
	bool done;		/* (child) paused once */
	int said[2], go[2];
} pause_;

static void
pause_after_read(void)
{
	char c;

	if (!pause_.armed || pause_.done)
		return;
	pause_.done = true;
	if (write(pause_.said[1], "r", 1) != 1)
		return;
	while (read(pause_.go[0], &c, 1) < 0 && errno == EINTR)
		;
}

/* the parent's side: let them go when all n have read, or after a pause */
static void
pause_release(int n)
{
	struct pollfd pfd;
	int got = 0;

	close(pause_.said[1]);
	close(pause_.go[0]);
	pfd.fd = pause_.said[0];
	pfd.events = POLLIN;
	while (got < n) {
		char buf[32];
		ssize_t r;
		int rc = poll(&pfd, 1, PAUSE_MS);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0 || (r = read(pause_.said[0], buf, sizeof(buf))) <= 0)
			break;
		got += (int)r;
	}
	close(pause_.go[1]);
	/* said stays open until the children are gone: a late byte must
	 * not end its writer with SIGPIPE while it holds locks */
}

/*
 * Runs child(mine, i, fd) in n processes that start together (a gate
 * pipe), each on a store it opens after the fork; a child exits with what
 * child returns (0: all went well). fd is passed on to the children (-1:
 * none). Waits for every child; the number that exited 0, or -1 when one
 * could not be started (after the others were waited for).
 */
static int
race(int n, int (*child)(struct rv_store *mine, int i, int fd), int fd)
{
	pid_t pids[32];
	int gate[2], i, started = 0, good = 0, status;

	RV_ASSERT(n <= 32);
	if (pipe(gate) != 0) {
		diag("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			diag("fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			struct rv_store *mine;
			char c;
			int rc;

			signal(SIGALRM, SIG_DFL);
			signal(SIGPIPE, SIG_IGN);
			alarm(CHILD_SECONDS);
			close(gate[1]);
			if (pause_.armed) {
				close(pause_.go[1]);
				close(pause_.said[0]);
			}
			mine = fixture_store_open();
			/* wait until the parent opens the gate (EOF) */
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			rc = mine != NULL ? child(mine, i, fd) : 1;
			rv_store_close(&mine);
			_exit(rc);
		}
		pids[started++] = pid;
	}
	close(gate[0]);
	close(gate[1]);
	if (pause_.armed)
		pause_release(started);
	for (i = 0; i < started; i++) {
		while (waitpid(pids[i], &status, 0) < 0)
			if (errno != EINTR) {
				status = -1;
				break;
			}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			good++;
		else if (WIFSIGNALED(status))
			diag("child %d ended by signal %d%s", i, WTERMSIG(status),
			     WTERMSIG(status) == SIGALRM ? " (it ran too long)" : "");
	}
	if (pause_.armed) {
		close(pause_.said[0]);
		pause_.armed = false;
	}
	return started == n ? good : -1;
}

/* race() with a pause between the read and the write (pause_after_read) */
static int
race_paused(int n, int (*child)(struct rv_store *mine, int i, int fd), int fd)
{
	if (pipe(pause_.said) != 0)
		return -1;
	if (pipe(pause_.go) != 0) {
		close(pause_.said[0]);
		close(pause_.said[1]);
		return -1;
	}
	pause_.armed = true;
	pause_.done = false;
	return race(n, child, fd);
}

/* the event of process i's transaction j */
#define EVENT(i, j) ((long long)(i) * 1000 + (j))

struct count_op {
	char key[65];
	long long event;
};

/* read the window (locked, even while absent), append one event, put it */
static int
count_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct count_op *op = ctx;
	struct rv_window w;

	(void)s;
	if (rv_store_window_get(txn, op->key, &w, err) < 0)
		return -1;
	pause_after_read();
	if (w.n >= RV_WINDOW_MAX)
		return rv_err_set(err, "test.full", "the window is full");
	w.events[w.n++] = op->event;
	w.expires_at = T0 + 1000 * MINUTE;
	return rv_store_window_put(txn, op->key, &w, err);
}

static int
count_child(struct rv_store *mine, int i, int txns, const char *what)
{
	struct count_op op;
	int j, bad = 0;

	rv_store_mac_hex(mine, "test", what, op.key);
	for (j = 0; j < txns; j++) {
		op.event = EVENT(i, j);
		if (run_on(mine, count_body, &op) < 0) {
			diag("child %d, transaction %d: %s", i, j, err_msg);
			bad++;
		}
	}
	return bad ? 1 : 0;
}

enum { COUNT_PROCS = 12, COUNT_TXNS = 20, ABSENT_PROCS = 8 };

static int
counter_child(struct rv_store *mine, int i, int fd)
{
	(void)fd;
	return count_child(mine, i, COUNT_TXNS, "counter");
}

static int
absent_child(struct rv_store *mine, int i, int fd)
{
	(void)fd;
	return count_child(mine, i, 1, "absent");
}

/* each of procs x txns events exactly once in the window of what */
static void
check_events(const char *what, int procs, int txns, const char *title)
{
	static int seen[32][COUNT_TXNS];
	struct rv_window w;
	int i, j, bad = 0;

	memset(seen, 0, sizeof(seen));
	if (win_get(what, &w) != 1) {
		ok(0, "%s", title);
		return;
	}
	for (i = 0; i < w.n; i++) {
		long long p = w.events[i] / 1000, t = w.events[i] % 1000;

		if (p < 0 || p >= procs || t < 0 || t >= txns || seen[p][t]++)
			bad++;
	}
	for (i = 0; i < procs; i++)
		for (j = 0; j < txns; j++)
			if (seen[i][j] != 1)
				bad++;
	if (!is_int(w.n, (long long)procs * txns, "%s", title) || bad)
		diag("%d events missing, doubled or unknown", bad);
	ok(bad == 0, "%s: each event once", title);
}

static void
test_counter(void)
{
	struct rv_window w;

	is_int(race(COUNT_PROCS, counter_child, -1), COUNT_PROCS,
	       "counter: %d processes x %d transactions each committed every one",
	       COUNT_PROCS, COUNT_TXNS);
	check_events("counter", COUNT_PROCS, COUNT_TXNS,
		     "counter: the window holds exactly 240 events (no update lost)");

	is_int(win_get("absent", &w), 0, "absent key: the window does not exist yet");
	is_int(race_paused(ABSENT_PROCS, absent_child, -1), ABSENT_PROCS,
	       "absent key: %d processes each created-or-appended once", ABSENT_PROCS);
	check_events("absent", ABSENT_PROCS, 1,
		     "absent key: the window holds exactly 8 events (the absent key was locked)");
}

/* a record's tries, read for update and put back */
#define TRIES_ID "t00000000000000000001"
enum { TRIES_PROCS = 4, TRIES_EACH = 25 };

static int
tries_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct rv_record r;
	int rc;

	(void)s;
	(void)ctx;
	if ((rc = rv_store_record_get(txn, TRIES_ID, true, &r, err)) != 1)
		return rc < 0 ? -1 : rv_err_set(err, "test.missing", "no record");
	r.tries++;
	return rv_store_record_put(txn, &r, err);
}

static int
tries_child(struct rv_store *mine, int i, int fd)
{
	int j, bad = 0;

	(void)fd;
	for (j = 0; j < TRIES_EACH; j++)
		if (run_on(mine, tries_body, NULL) < 0) {
			diag("child %d, increment %d: %s", i, j, err_msg);
			bad++;
		}
	return bad ? 1 : 0;
}

static void
test_tries(void)
{
	struct rv_record r;

	ok(put_record(TRIES_ID, "u3", "u3", 100 * MINUTE) == 0, "record counter: a record");
	is_int(race(TRIES_PROCS, tries_child, -1), TRIES_PROCS,
	       "record counter: %d processes x %d increments all committed",
	       TRIES_PROCS, TRIES_EACH);
	ok(rec_get(TRIES_ID, false, &r) == 1, "record counter: the record is there");
	is_int(r.tries, TRIES_PROCS * TRIES_EACH,
	       "record counter: its tries are exactly 100 (a read for update locks the record)");
}

/* a user's records as a set: a walk for update counts them, then the
 * transaction adds one whose tries is the count it saw */
enum { SET_PROCS = 8 };

struct set_op {
	const char *user;
	char prefix;
	int i;
};

static int
set_count_fn(const struct rv_record *r, void *ctx)
{
	(void)r;
	++*(int *)ctx;
	return 0;
}

static int
set_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct set_op *op = ctx;
	struct rv_record r;
	char id[RV_RECORD_ID_LEN + 1];
	int n = 0;

	(void)s;
	if (rv_store_record_each_user(txn, op->user, true, set_count_fn, &n, err) < 0)
		return -1;
	pause_after_read();
	snprintf(id, sizeof(id), "%c%020d", op->prefix, op->i);
	new_record(&r, id, op->user, op->user, 100 * MINUTE);
	r.tries = n;
	return rv_store_record_put(txn, &r, err);
}

static int
set_child_of(struct rv_store *mine, int i, const char *user, char prefix)
{
	struct set_op op = { user, prefix, i };

	if (run_on(mine, set_body, &op) < 0) {
		diag("child %d: %s", i, err_msg);
		return 1;
	}
	return 0;
}

static int
set_child(struct rv_store *mine, int i, int fd)
{
	(void)fd;
	return set_child_of(mine, i, "setu", 'k');
}

struct set_seen {
	const char *user;
	int seen[SET_PROCS];
	int n, bad;
};

static int
set_seen_fn(const struct rv_record *r, void *ctx)
{
	struct set_seen *ss = ctx;

	ss->n++;
	if (r->tries < 0 || r->tries >= SET_PROCS || ss->seen[r->tries]++)
		ss->bad++;
	return 0;
}

static int
set_seen_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct set_seen *ss = ctx;

	(void)s;
	memset(ss->seen, 0, sizeof(ss->seen));
	ss->n = ss->bad = 0;
	return rv_store_record_each_user(txn, ss->user, false, set_seen_fn, ss, err) < 0 ? -1 : 0;
}

static void
test_set(void)
{
	struct set_seen ss;

	is_str(put_user("setu", NULL, NULL, NULL), "", "record set: a user without records");
	is_int(race_paused(SET_PROCS, set_child, -1), SET_PROCS,
	       "record set: %d processes walk its records for update and add one", SET_PROCS);
	memset(&ss, 0, sizeof(ss));
	ss.user = "setu";
	ok(run(set_seen_body, &ss) == 0 && ss.n == SET_PROCS, "record set: %d records", SET_PROCS);
	if (!is_int(ss.bad, 0, "record set: each walk saw the records of the ones before (counts 0-7, once each)"))
		diag("a walk for update did not lock the user's records as a set");
}

enum { AUDIT_PROCS = 8, AUDIT_EACH = 10 };

static int
audit_child(struct rv_store *mine, int i, int fd)
{
	struct audit_op a = { "test.concurrent", "u1", 1, false, i };
	int j, bad = 0;

	(void)fd;
	for (j = 0; j < AUDIT_EACH; j++)
		if (run_on(mine, audit_body, &a) < 0) {
			diag("child %d, append %d: %s", i, j, err_msg);
			bad++;
		}
	return bad ? 1 : 0;
}

static void
test_audit_race(void)
{
	char h[65];
	long long before = -1, after = -1, head0, head1;

	ok(verify(&before) == 1, "audit race: the chain verifies before");
	head0 = head(h);
	is_int(race(AUDIT_PROCS, audit_child, -1), AUDIT_PROCS,
	       "audit race: %d processes x %d appends all committed", AUDIT_PROCS, AUDIT_EACH);
	ok(verify(&after) == 1, "audit race: the chain verifies after");
	is_int(after - before, AUDIT_PROCS * AUDIT_EACH, "audit race: 80 more entries");
	head1 = head(h);
	is_int(head1 - head0, AUDIT_PROCS * AUDIT_EACH, "audit race: the head moved by 80, no gap");
}

/* ---- single use, a new key, a unique key --------------------------------- */

#define ONCE_ID "o00000000000000000001"

struct once_op {
	bool won;
	int i;
};

static int
once_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct once_op *op = ctx;
	struct rv_record r;
	int rc;

	(void)s;
	op->won = false;
	if ((rc = rv_store_record_get(txn, ONCE_ID, true, &r, err)) < 0)
		return -1;
	if (rc == 0)
		return 0;
	pause_after_read();
	if ((rc = rv_store_record_del(txn, ONCE_ID, err)) < 0)
		return -1;
	op->won = rc == 1;
	return 0;
}

/* the byte of the winner goes to fd after the commit, never from a body
 * that may run again */
static int
report(int fd, int i)
{
	unsigned char b = (unsigned char)i;

	return write(fd, &b, 1) == 1 ? 0 : 1;
}

static int
once_child(struct rv_store *mine, int i, int fd)
{
	struct once_op op = { false, i };

	if (run_on(mine, once_body, &op) < 0) {
		diag("child %d: %s", i, err_msg);
		return 1;
	}
	return op.won ? report(fd, i) : 0;
}

#define NEW_ID "race-new"

static int
create_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct once_op *op = ctx;
	struct rv_user u;
	char name[32];
	int rc;

	(void)s;
	op->won = false;
	rv_user_init(&u);
	rc = rv_store_user_get(txn, NEW_ID, true, &u, err);
	rv_user_release(&u);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	pause_after_read();
	snprintf(name, sizeof(name), "racer%d", op->i);
	new_user(&u, NEW_ID, name, NULL, NULL);
	rc = rv_store_user_put(txn, &u, err);
	rv_user_release(&u);
	if (rc < 0)
		return -1;
	op->won = true;
	return 0;
}

static int
create_child(struct rv_store *mine, int i, int fd)
{
	struct once_op op = { false, i };

	if (run_on(mine, create_body, &op) < 0) {
		diag("child %d: %s", i, err_msg);
		return 1;
	}
	return op.won ? report(fd, i) : 0;
}

#define NEW_REC "n00000000000000000001"

static int
create_rec_body(struct rv_store *s, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct once_op *op = ctx;
	struct rv_record r;
	int rc;

	(void)s;
	op->won = false;
	if ((rc = rv_store_record_get(txn, NEW_REC, true, &r, err)) != 0)
		return rc < 0 ? -1 : 0;
	pause_after_read();
	new_record(&r, NEW_REC, "u3", "u3", 10 * MINUTE);
	r.tries = op->i;
	if (rv_store_record_put(txn, &r, err) < 0)
		return -1;
	op->won = true;
	return 0;
}

static int
create_rec_child(struct rv_store *mine, int i, int fd)
{
	struct once_op op = { false, i };

	if (run_on(mine, create_rec_body, &op) < 0) {
		diag("child %d: %s", i, err_msg);
		return 1;
	}
	return op.won ? report(fd, i) : 0;
}

/* exit 0 when this one got the e-mail, 2 on 422 email_already_in_use */
static int
email_child(struct rv_store *mine, int i, int fd)
{
	struct rv_user u;
	char id[32];
	int rc;

	snprintf(id, sizeof(id), "mail%d", i);
	new_user(&u, id, NULL, i % 2 ? "Race@Example.com" : "race@EXAMPLE.com", NULL);
	rc = run_on(mine, user_put_body, &u);
	rv_user_release(&u);
	if (rc == 0)
		return report(fd, i);
	if (err_status == 422 && strcmp(err_code, "user.email_already_in_use") == 0)
		return 0;
	diag("child %d: %s: %s", i, err_code, err_msg);
	return 1;
}

enum { ONCE_PROCS = 8 };

/* Runs child in ONCE_PROCS processes; the bytes they reported (at most
 * 32) into won, their count returned; *good_r the children that exited 0. */
static int
race_once(int (*child)(struct rv_store *mine, int i, int fd), bool paused,
	  int *good_r, unsigned char won[32])
{
	int fds[2], n = 0;
	ssize_t got;

	if (pipe(fds) != 0) {
		diag("pipe: %s", strerror(errno));
		*good_r = -1;
		return -1;
	}
	*good_r = (paused ? race_paused : race)(ONCE_PROCS, child, fds[1]);
	close(fds[1]);
	while (n < 32 && ((got = read(fds[0], won + n, (size_t)(32 - n))) > 0 ||
			  (got < 0 && errno == EINTR)))
		if (got > 0)
			n += (int)got;
	close(fds[0]);
	return n;
}

static void
test_once(void)
{
	struct user_get g;
	unsigned char won[32];
	char name[32];
	int good, n;

	ok(put_record(ONCE_ID, "u3", "u3", 10 * MINUTE) == 0, "single use: a record");
	n = race_once(once_child, true, &good, won);
	is_int(good, ONCE_PROCS, "single use: %d processes read it for update and ran", ONCE_PROCS);
	is_int(n, 1, "single use: exactly one of them consumed it");
	is_int(rec_get(ONCE_ID, false, NULL), 0, "single use: it is gone");

	is_str(find(BY_ID, NEW_ID), "", "new key: the user does not exist yet");
	n = race_once(create_child, true, &good, won);
	is_int(good, ONCE_PROCS, "new key: %d processes create-if-absent, all committed", ONCE_PROCS);
	if (!is_int(n, 1, "new key: exactly one created it (a second writer retries, never overwrites)"))
		diag("%d transactions each found the user absent and put it", n);
	memset(&g, 0, sizeof(g));
	g.by = BY_ID;
	g.key = NEW_ID;
	snprintf(name, sizeof(name), "racer%d", n == 1 ? won[0] : -1);
	ok(run(user_get_body, &g) == 0 && g.rc == 1 && str_eq(g.u.username, name),
	   "new key: the user is the one its creator wrote");
	rv_user_release(&g.u);

	n = race_once(create_rec_child, true, &good, won);
	is_int(good, ONCE_PROCS, "new record key: %d processes create-if-absent, all committed",
	       ONCE_PROCS);
	if (!is_int(n, 1, "new record key: exactly one created it"))
		diag("%d transactions each found the record absent and put it", n);
	{
		struct rv_record r;

		ok(rec_get(NEW_REC, false, &r) == 1 && n == 1 && r.tries == won[0],
		   "new record key: the record is the one its creator wrote");
	}

	n = race_once(email_child, false, &good, won);
	is_int(good, ONCE_PROCS, "unique key: %d processes put users with one e-mail: stored or 422",
	       ONCE_PROCS);
	is_int(n, 1, "unique key: exactly one got the e-mail");
	snprintf(name, sizeof(name), "mail%d", n == 1 ? won[0] : -1);
	is_str(find(BY_EMAIL, "RACE@example.COM"), name, "unique key: the e-mail finds that one");
}

/* ---- keys ------------------------------------------------------------------- */

static void
test_keys(void)
{
	char a[65], b[65], c[65];

	rv_store_mac_hex(st, "send", "a@example.com", a);
	rv_store_mac_hex(st, "send", "a@example.com", b);
	rv_store_mac_hex(st, "fail", "a@example.com", c);
	ok(strcmp(a, b) == 0 && strcmp(a, c) != 0 && strlen(a) == 64 &&
	   strspn(a, "0123456789abcdef") == 64,
	   "keys: keyed hashes are stable, hex, and separated by kind");
	{
		char *u = rv_store_fold(RV_USER_KEY_USERNAME, "MiXeD");
		char *e = rv_store_fold(RV_USER_KEY_EMAIL, "A@B.Example");
		char *p = rv_store_fold(RV_USER_KEY_PHONE, "4915112345678");

		ok(strcmp(u, "mixed") == 0 && strcmp(e, "a@b.example") == 0 &&
		   strcmp(p, "4915112345678") == 0,
		   "keys: the indexes fold usernames and e-mails, not phones");
		free(u);
		free(e);
		free(p);
	}
}

int
main(void)
{
	signal(SIGALRM, on_alarm);
	alarm(TEST_SECONDS);
	/* warnings only: every audit entry would be copied to the log */
	rv_log_open(RV_LOG_STDERR, NULL, NULL, RV_LOG_LEVEL_WARN);
	/* the store first: a build without the backend skips before a check */
	fixture_dir("store-contract");
	st = fixture_store(&conf);
	now = fixture_clock(T0);
	is_str(rv_store_backend_name(st), fixture_backend(),
	       "the store runs on the backend of the fixture");
	{
		struct rv_err err;

		rv_err_init(&err);
		ok(rv_store_ping(st, &err) == 0, "the store answers a ping");
		rv_err_release(&err);
	}

	test_audit_empty();
	test_users();
	test_user_each();
	test_records();
	test_user_cascade();
	test_windows();
	test_audit();
	test_purge();
	test_doomed();
	test_counter();
	test_tries();
	test_set();
	test_audit_race();
	test_once();
	test_keys();

	fixture_cleanup();
	return done_testing();
}
