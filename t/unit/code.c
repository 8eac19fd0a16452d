/* unit/code: rv-code.c: code generation, and the order of the checks of
 * rv_code_verify (logto-spec 2.3; deviation 1; security review F2) on a
 * real store, with records put directly (no delivery) */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-code.h"
#include "rv-lockout.h"
#include "rv-store.h"
#include "fixture.h"
#include "tap.h"

/* code_mac is file-static: reached as STYLE 4.11 allows */
#include "rv-code.c"

static struct rv_conf conf;
static struct rv_store *st;
static long long *now;	/* the store's clock (fixture_clock) */

static void
test_generate(void)
{
	char code[7];
	int count[6][10];
	int i, d, bad = 0, low = 1000, high = 0;
	struct rv_err err;

	memset(count, 0, sizeof(count));
	rv_err_init(&err);
	for (i = 0; i < 2000; i++) {
		if (rv_code_generate(code, &err) < 0 || strlen(code) != 6) {
			bad++;
			continue;
		}
		for (d = 0; d < 6; d++) {
			if (code[d] < '0' || code[d] > '9')
				bad++;
			else
				count[d][code[d] - '0']++;
		}
	}
	rv_err_release(&err);
	ok(bad == 0, "2000 codes: each exactly 6 digits");
	for (d = 0; d < 6; d++)
		for (i = 0; i < 10; i++) {
			if (count[d][i] < low)
				low = count[d][i];
			if (count[d][i] > high)
				high = count[d][i];
		}
	/* 200 expected per digit and place; 120..280 is beyond 5 sigma */
	ok(low >= 120 && high <= 280,
	   "every digit in every place: 120..280 times of 2000 (got %d..%d)", low, high);
}

/* an e-mail code record of alice (u1) for alice@example.com with code
 * CODE, sent now, live for an hour, bound to client app */
static void
put_code(const char *id, const char *code)
{
	struct rv_record r;

	rv_record_init(&r);
	rv_strlcpy(r.id, id, sizeof(r.id));
	r.type = RV_RECORD_EMAIL_CODE;
	strcpy(r.owner, "u1");
	strcpy(r.creator, "u1");
	strcpy(r.identifier, "alice@example.com");
	strcpy(r.template_type, "UserPermissionValidation");
	strcpy(r.client_id, "app");
	r.created_at = r.code_sent_at = *now;
	r.expires_at = *now + 3600000;	/* outlives the code's ttl */
	r.has_code = true;
	code_mac(st, r.id, code, r.code_mac);
	fixture_store_put(st, NULL, &r);
}

/* the stored record id (its tries, verified); NULL when there is none */
static const struct rv_record *
get(const char *id)
{
	static struct rv_record r;

	return fixture_store_get(st, id, &r) == 1 ? &r : NULL;
}

struct win_ctx {
	const char *key;
	struct rv_window w;
};

static int
win_body(struct rv_store *s, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct win_ctx *wc = vctx;

	(void)s;
	return rv_store_window_get(txn, wc->key, &wc->w, err) < 0 ? -1 : 0;
}

/* the failures counted in the lockout window of alice@example.com */
static int
failures(void)
{
	char key[65];
	struct win_ctx wc;
	struct rv_err err;

	rv_lockout_key(st, RV_LOCKOUT_EMAIL, "alice@example.com", NULL, key);
	memset(&wc, 0, sizeof(wc));
	wc.key = key;
	rv_err_init(&err);
	if (rv_store_txn(st, win_body, &wc, &err) < 0)
		diag("window: %s", err.msg);
	rv_err_release(&err);
	return wc.w.n;
}

static struct rv_caller caller;
static char got_code[64];

/* rv_code_verify as alice through app; the error code ("" for success) */
static const char *
verify(bool email, const char *value, const char *id, const char *code)
{
	struct rv_err err;

	rv_err_init(&err);
	if (rv_code_verify(st, &conf, &caller, email, value, id, code, &err) == 0)
		got_code[0] = '\0';
	else
		rv_strlcpy(got_code, err.code ? err.code : "(none)", sizeof(got_code));
	rv_err_release(&err);
	return got_code;
}

int
main(void)
{
	struct rv_user u;

	now = fixture_clock(1700000000000LL);
	/* the store first: a build without its backend skips before a check */
	fixture_dir("code");
	st = fixture_store(&conf);
	test_generate();

	conf.code_ttl = 600;
	conf.code_max_tries = 3;
	conf.lock_max_attempts = 100;
	rv_user_init(&u);
	strcpy(u.id, "u1");
	u.username = rv_xstrdup("alice");
	u.email = rv_xstrdup("alice@example.com");
	u.created_at = u.updated_at = *now;
	fixture_store_put(st, &u, NULL);
	rv_user_release(&u);
	rv_user_init(&u);
	strcpy(u.id, "u2");
	u.username = rv_xstrdup("bob");
	u.created_at = u.updated_at = *now;
	fixture_store_put(st, &u, NULL);
	rv_user_release(&u);

	memset(&caller, 0, sizeof(caller));
	strcpy(caller.user, "u1");
	strcpy(caller.client_id, "app");
	caller.first_party = true;

	put_code("e00000000000000000001", "123456");

	is_str(verify(true, "alice@example.com", "e00000000000000000009", "123456"),
	       "verification_record.not_found", "a missing record: not_found");
	is_str(verify(false, "alice@example.com", "e00000000000000000001", "123456"),
	       "verification_record.not_found", "a phone verify of an e-mail record: not_found");
	strcpy(caller.user, "u2");
	is_str(verify(true, "alice@example.com", "e00000000000000000001", "123456"),
	       "verification_record.not_found", "a record of another user: not_found (deviation 1)");
	strcpy(caller.user, "u1");
	strcpy(caller.client_id, "other-app");
	is_str(verify(true, "alice@example.com", "e00000000000000000001", "123456"),
	       "verification_record.not_found", "through another client: not_found (issue 14)");
	strcpy(caller.client_id, "app");
	ok(get("e00000000000000000001") != NULL && get("e00000000000000000001")->tries == 0 &&
	   failures() == 0, "none of these counted a try or a lockout failure");

	is_str(verify(true, "alice@example.com", "e00000000000000000001", ""),
	       "verification_code.not_found", "an empty code: verification_code.not_found");
	is_str(verify(true, "mallory@example.com", "e00000000000000000001", "123456"),
	       "verification_code.email_mismatch", "another address: email_mismatch, before the code");
	ok(get("e00000000000000000001")->tries == 0 && failures() == 0,
	   "an empty code and a mismatched identifier count no try and no lockout failure");

	is_str(verify(true, "alice@example.com", "e00000000000000000001", "000000"),
	       "verification_code.code_mismatch", "a wrong code: code_mismatch");
	ok(get("e00000000000000000001")->tries == 1 && failures() == 1,
	   "a wrong code (a real guess) counts a try and a lockout failure");

	*now += 600000;
	is_str(verify(true, "alice@example.com", "e00000000000000000001", "123456"),
	       "verification_code.expired", "after <codes ttl> (moved clock): expired, even the right code");
	ok(get("e00000000000000000001")->tries == 1 && failures() == 1,
	   "an expired code counts no try and no lockout failure");
	*now -= 600000;

	is_str(verify(true, "alice@example.com", "e00000000000000000001", "111111"),
	       "verification_code.code_mismatch", "a second wrong code: code_mismatch");
	is_str(verify(true, "alice@example.com", "e00000000000000000001", "222222"),
	       "verification_code.code_mismatch", "a third wrong code: code_mismatch");
	is_str(verify(true, "alice@example.com", "e00000000000000000001", "123456"),
	       "verification_code.exceed_max_try",
	       "after <codes max-tries> tries: exceed_max_try, even the right code");
	ok(get("e00000000000000000001")->tries == 3 && failures() == 3 &&
	   !get("e00000000000000000001")->verified,
	   "exceed_max_try counts nothing; the record is not verified");

	put_code("e00000000000000000002", "654321");
	is_str(verify(true, "alice@example.com", "e00000000000000000002", "654321"),
	       "", "the right code: verified");
	ok(get("e00000000000000000002") != NULL && get("e00000000000000000002")->verified &&
	   !get("e00000000000000000002")->has_code &&
	   get("e00000000000000000002")->expires_at == *now + 3600000,
	   "the record is verified, the code consumed, its expiry unchanged");
	is_str(verify(true, "alice@example.com", "e00000000000000000002", "654321"),
	       "verification_code.not_found", "the same code again: not_found (consumed)");

	fixture_cleanup();
	return done_testing();
}
