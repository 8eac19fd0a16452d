/* unit/verify: rv-verify.c, the password step-up (logto-spec 2.1, 5.1):
 * right and wrong passwords, the lockout after <lockout max-attempts>
 * failures and its end, and the rehash of a hash in an older scheme, on a
 * real store with a moved clock */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rv.h"
#include "rv-auth.h"
#include "rv-password.h"
#include "rv-store.h"
#include "rv-verify.h"
#include "fixture.h"
#include "tap.h"

#define RIGHT "correct horse battery staple"

static struct rv_conf conf;
static struct rv_store *st;
static struct rv_caller caller;
static long long *now;	/* the store's clock (fixture_clock) */

struct user_ctx {
	struct rv_user *u;
	const char *id;
	int rc;
};

static int
get_body(struct rv_store *s, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct user_ctx *c = vctx;

	(void)s;
	c->rc = rv_store_user_get(txn, c->id, false, c->u, err);
	return c->rc < 0 ? -1 : 0;
}

/* stores user id with a hash of password made with *hc */
static void
add_user(const char *id, const char *name, const char *password,
	 const struct rv_conf *hc)
{
	struct rv_user u;
	struct rv_err err;

	rv_user_init(&u);
	rv_strlcpy(u.id, id, sizeof(u.id));
	u.username = rv_xstrdup(name);
	u.created_at = u.updated_at = *now;
	rv_err_init(&err);
	if (rv_password_hash(password, strlen(password), hc, &u.password_hash, &err) < 0)
		diag("add user %s: %s", id, err.msg);
	fixture_store_put(st, &u, NULL);
	rv_err_release(&err);
	rv_user_release(&u);
}

/* the stored hash of user id (static copy), or "" */
static const char *
hash_of(const char *id)
{
	static char h[512];
	struct rv_user u;
	struct user_ctx c = { &u, id, 0 };
	struct rv_err err;

	h[0] = '\0';
	rv_user_init(&u);
	rv_err_init(&err);
	if (rv_store_txn(st, get_body, &c, &err) == 0 && c.rc == 1 &&
	    u.password_hash != NULL)
		rv_strlcpy(h, u.password_hash, sizeof(h));
	rv_err_release(&err);
	rv_user_release(&u);
	return h;
}

static struct rv_record rec;
static char got[96];
static int got_status;

/* rv_verify_password as user through client app: "" on success (rec
 * filled), else the error code (got_status its HTTP status) */
static const char *
verify(const char *user, const char *password)
{
	struct rv_err err;

	rv_strlcpy(caller.user, user, sizeof(caller.user));
	rv_record_init(&rec);
	rv_err_init(&err);
	got_status = 0;
	if (rv_verify_password(st, &conf, &caller, password, strlen(password),
			       NULL, &rec, &err) == 0) {
		got[0] = '\0';
	} else {
		rv_strlcpy(got, err.code ? err.code : "(none)", sizeof(got));
		got_status = err.status;
	}
	rv_err_release(&err);
	return got;
}

int
main(void)
{
	struct rv_conf old;
	struct rv_err err;

	now = fixture_clock(1700000000000LL);
	fixture_dir("verify");
	st = fixture_store(&conf);
	/* cheap hashes; the default argon2id scheme */
	conf.pw_argon2_memory = 1024;
	conf.pw_argon2_time = 1;
	conf.lock_max_attempts = 3;
	conf.lock_window = 3600;
	conf.lock_duration = 600;
	memset(&caller, 0, sizeof(caller));
	strcpy(caller.client_id, "app");
	caller.first_party = true;

	add_user("u1", "alice", RIGHT, &conf);

	is_str(verify("u1", RIGHT), "", "the right password: a record");
	ok(rec.type == RV_RECORD_PASSWORD && rec.verified && strcmp(rec.owner, "u1") == 0 &&
	   strcmp(rec.client_id, "app") == 0 && rec.id[0] != '\0' &&
	   rec.expires_at > *now,
	   "a verified Password record of the caller, bound to its client, live");
	is_str(verify("u1", "wrong horse"), "session.invalid_credentials",
	       "a wrong password: session.invalid_credentials");
	ok(got_status == 422, "... with status 422");
	is_str(verify("u9", RIGHT), "entity.not_found", "an unknown user: entity.not_found");

	/* the lockout of the user id: one failure so far */
	is_str(verify("u1", "wrong 2"), "session.invalid_credentials",
	       "failure 2 of 3: still invalid_credentials");
	is_str(verify("u1", "wrong 3"), "session.verification_blocked_too_many_attempts",
	       "failure 3 of 3 reaches <lockout max-attempts>: blocked");
	ok(got_status == 400, "... with status 400");
	is_str(verify("u1", RIGHT), "session.verification_blocked_too_many_attempts",
	       "while blocked even the right password is refused");
	*now += 600 * 1000;
	is_str(verify("u1", RIGHT), "", "after <lockout duration> (moved clock): the right password works");

	/* a hash of an older scheme is replaced on success */
	old = conf;
	old.pw_scheme = RV_PW_PBKDF2_SHA256;
	old.pw_pbkdf2_iterations = 1000;
	add_user("u2", "bob", RIGHT, &old);
	ok(rv_password_needs_rehash(hash_of("u2"), &conf),
	   "rehash: bob's pbkdf2-sha256 hash is of another scheme than <password>");
	is_str(verify("u2", "wrong horse"), "session.invalid_credentials",
	       "rehash: a wrong password fails");
	ok(rv_password_needs_rehash(hash_of("u2"), &conf), "a failure leaves the old hash");
	is_str(verify("u2", RIGHT), "", "rehash: the right password against the old hash works");
	rv_err_init(&err);
	ok(!rv_password_needs_rehash(hash_of("u2"), &conf) &&
	   strncmp(hash_of("u2"), "$argon2id$", 10) == 0 &&
	   rv_password_verify(RIGHT, strlen(RIGHT), hash_of("u2"), &conf, &err) == 1,
	   "the hash is now argon2id with the configured parameters, of the same password");
	rv_err_release(&err);
	is_str(verify("u2", RIGHT), "", "the new hash verifies");

	fixture_cleanup();
	return done_testing();
}
