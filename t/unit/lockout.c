/* unit/lockout: rv-lockout.c, the identifier lockout (logto-spec 5.1):
 * keys, the window, the block, its expiry and lifting, on a real store
 * with a moved clock */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rv.h"
#include "rv-lockout.h"
#include "rv-store.h"
#include "fixture.h"
#include "tap.h"

static struct rv_conf conf;
static struct rv_store *st;
static long long *now;	/* the store's clock (fixture_clock) */

enum op_kind { OP_FAIL, OP_CHECK, OP_LIFT, OP_STREAK, OP_RESET, OP_CLEAR };

struct op {
	enum op_kind kind;
	const char *key;
	long long until;
	int rc;
};

static int
op_body(struct rv_store *s, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct op *o = vctx;

	(void)s;
	switch (o->kind) {
	case OP_FAIL:
		o->rc = rv_lockout_fail(txn, &conf, o->key, &o->until, err);
		break;
	case OP_CHECK:
		o->rc = rv_lockout_check(txn, o->key, &o->until, err);
		break;
	case OP_LIFT:
		o->rc = rv_lockout_lift(txn, o->key, err);
		break;
	case OP_STREAK:
		o->rc = rv_lockout_streak_fail(txn, &conf, o->key, &o->until, err);
		break;
	case OP_RESET:
		o->rc = rv_lockout_streak_reset(txn, o->key, err);
		break;
	case OP_CLEAR:
		o->rc = rv_lockout_streak_clear(txn, o->key, err);
		break;
	}
	return o->rc < 0 ? -1 : 0;
}

/* one operation in a transaction of its own; its result (-1 on error) */
static int
run(enum op_kind kind, const char *key, long long *until_r)
{
	struct op o = { kind, key, 0, -1 };
	struct rv_err err;

	rv_err_init(&err);
	if (rv_store_txn(st, op_body, &o, &err) < 0) {
		diag("lockout op %d: %s", (int)kind, err.msg);
		o.rc = -1;
	}
	rv_err_release(&err);
	if (until_r != NULL)
		*until_r = o.until;
	return o.rc;
}

static void
test_keys(void)
{
	char a[65], b[65], c[65];
	size_t i;
	bool hex = true;

	rv_lockout_key(st, RV_LOCKOUT_USER, "4242", NULL, a);
	rv_lockout_key(st, RV_LOCKOUT_USER, "4242", NULL, b);
	for (i = 0; i < 64; i++)
		if (strchr("0123456789abcdef", a[i]) == NULL)
			hex = false;
	ok(strlen(a) == 64 && hex, "a key is 64 hex digits");
	ok(strcmp(a, b) == 0, "the same identifier has the same key");
	rv_lockout_key(st, RV_LOCKOUT_PHONE, "4242", NULL, c);
	ok(strcmp(a, c) != 0, "user 4242 and phone 4242 have keys of their own");
	rv_lockout_key(st, RV_LOCKOUT_EMAIL, "Alice@Example.COM", NULL, a);
	rv_lockout_key(st, RV_LOCKOUT_EMAIL, "alice@example.com", NULL, b);
	ok(strcmp(a, b) == 0, "an e-mail address is normalised: its case gives no second window");
	rv_lockout_key(st, RV_LOCKOUT_EMAIL, "alice@example.com", "u-other", c);
	ok(strcmp(b, c) != 0, "another user's codes to an address have a window of their own");
}

static void
test_block(void)
{
	char key[65];
	long long until = 0, until2 = 0, t0 = *now;

	rv_lockout_key(st, RV_LOCKOUT_USER, "u-block", NULL, key);
	ok(run(OP_CHECK, key, &until) == 0, "no failure yet: not blocked");
	ok(run(OP_FAIL, key, &until) == 0, "failure 1 of 3: not blocked");
	*now += 1000;
	ok(run(OP_FAIL, key, &until) == 0, "failure 2 of 3: not blocked");
	*now += 1000;
	ok(run(OP_FAIL, key, &until) == 2 && until == *now + conf.lock_duration * 1000,
	   "failure 3 of 3 reaches the limit: blocked (2) for <lockout duration>");
	ok(run(OP_CHECK, key, &until2) == 1 && until2 == until,
	   "check: blocked, until the end of the block");
	*now += 5000;
	ok(run(OP_FAIL, key, &until2) == 1 && until2 == until,
	   "a failure while blocked: 1, and the block is not extended");
	*now = until - 1;
	ok(run(OP_CHECK, key, NULL) == 1, "1 ms before its end: still blocked");
	*now = until;
	ok(run(OP_CHECK, key, NULL) == 0, "at its end (moved clock): the block is over");
	ok(run(OP_FAIL, key, &until2) == 0,
	   "the failures before the block have left the window: a new failure does not block");
	(void)t0;
}

static void
test_window(void)
{
	char key[65];
	long long until;

	rv_lockout_key(st, RV_LOCKOUT_PHONE, "15550100", NULL, key);
	ok(run(OP_FAIL, key, &until) == 0 && run(OP_FAIL, key, &until) == 0,
	   "window: two failures");
	*now += conf.lock_window * 1000 + 1;
	ok(run(OP_FAIL, key, &until) == 0,
	   "after <lockout window> the two have left it: a third failure does not block");
	*now += 1000;
	ok(run(OP_FAIL, key, &until) == 0, "two failures within the window: not blocked");
	*now += 1000;
	ok(run(OP_FAIL, key, &until) == 2, "the third within the window blocks");
}

static void
test_lift_and_error(void)
{
	char key[65], other[65];
	long long until;
	struct rv_err err;

	rv_lockout_key(st, RV_LOCKOUT_EMAIL, "lift@example.com", NULL, key);
	rv_lockout_key(st, RV_LOCKOUT_EMAIL, "other@example.com", NULL, other);
	run(OP_FAIL, key, &until);
	run(OP_FAIL, key, &until);
	ok(run(OP_FAIL, key, &until) == 2, "lift: blocked");
	ok(run(OP_CHECK, other, NULL) == 0, "another identifier is not blocked");
	ok(run(OP_LIFT, key, NULL) == 1, "lift of a block: 1");
	ok(run(OP_CHECK, key, NULL) == 0, "after the lift: not blocked");
	ok(run(OP_LIFT, key, NULL) == 0, "lift without a block: 0");
	ok(run(OP_FAIL, key, &until) == 0, "after the lift the window starts empty");

	rv_err_init(&err);
	ok(rv_lockout_error(*now + 3600000, &err) == -1 && err.status == 400 &&
	   strcmp(err.code, "session.verification_blocked_too_many_attempts") == 0,
	   "the error: 400 session.verification_blocked_too_many_attempts");
	ok(strstr(err.msg, "60 more minutes") != NULL && strstr(err.headers, "Retry-After: 3600") != NULL,
	   "it names the minutes left (60) and Retry-After (3600 s)");
	rv_err_release(&err);
	rv_err_init(&err);
	rv_lockout_error(*now + 1, &err);
	ok(strstr(err.msg, " 1 more minutes") != NULL, "under a minute left: 1 minute");
	rv_err_release(&err);
}

/* the consecutive-failure cap of an account (800-63B-4 3.2.2) */
static void
test_streak(void)
{
	char key[65];
	long long until = 0;
	int i, rc = 0;

	rv_lockout_key(st, RV_LOCKOUT_ACCOUNT, "u9", NULL, key);
	conf.lock_consecutive_max = 5;
	conf.lock_consecutive_duration = 86400;
	for (i = 0; i < 4; i++) {
		rc |= run(OP_STREAK, key, &until);
		*now += 7200000;	/* two hours: any window forgets */
	}
	ok(rc == 0 && run(OP_CHECK, key, NULL) == 0,
	   "4 failures two hours apart, cap 5: not blocked");
	ok(run(OP_STREAK, key, &until) == 2 && until == *now + 86400000,
	   "the 5th, eight hours after the first: blocked for the duration");
	ok(run(OP_CHECK, key, NULL) == 1 && run(OP_STREAK, key, NULL) == 1,
	   "while blocked: blocked, and a failure is not counted again");
	*now = until;
	ok(run(OP_CHECK, key, NULL) == 0, "at the end of the block: not blocked");
	ok(run(OP_STREAK, key, &until) == 2,
	   "the count was kept: the next failure blocks again at once");
	ok(run(OP_CLEAR, key, NULL) == 1 && run(OP_CHECK, key, NULL) == 0 &&
	   run(OP_CLEAR, key, NULL) == 0, "a clear (user unlock) lifts and forgets");
	rc = 0;
	for (i = 0; i < 4; i++)
		rc |= run(OP_STREAK, key, &until);
	ok(rc == 0 && run(OP_RESET, key, NULL) == 0, "4 failures, then a success");
	rc = 0;
	for (i = 0; i < 4; i++)
		rc |= run(OP_STREAK, key, &until);
	ok(rc == 0 && run(OP_CHECK, key, NULL) == 0,
	   "a success resets the count: 4 more are not blocked");
	ok(run(OP_STREAK, key, &until) == 2, "the 5th in a row is");
}

int
main(void)
{
	now = fixture_clock(1700000000000LL);
	fixture_dir("lockout");
	st = fixture_store(&conf);
	conf.lock_max_attempts = 3;
	conf.lock_window = 60;
	conf.lock_duration = 600;

	test_keys();
	test_block();
	test_window();
	test_lift_and_error();
	test_streak();

	fixture_cleanup();
	return done_testing();
}
