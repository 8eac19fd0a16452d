/* unit/account: rv-account.c: the logto-verification-id evaluation
 * (logto-spec 6.1, 3.7; bound to client and session, no action: issue
 * 14), the cap on live records, suspension, handles, and the profile of
 * GET /api/my-account (6.4) */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-store.h"
#include "fixture.h"
#include "tap.h"

static struct rv_conf conf;
static struct rv_store *st;
static struct rv_arena arena = RV_ARENA_INIT;
/* what put_record binds a record to, and who proves() asks as */
static const char *put_client = "app", *put_sid = "", *put_action = "";
static const char *call_client = "app", *call_sid = "";

static void
put_record(const char *id, enum rv_record_type type, const char *owner,
	   const char *tpl, bool verified, long long ttl)
{
	struct rv_record r;

	rv_record_init(&r);
	rv_strlcpy(r.id, id, sizeof(r.id));
	r.type = type;
	rv_strlcpy(r.owner, owner, sizeof(r.owner));
	rv_strlcpy(r.creator, owner[0] ? owner : "u1", sizeof(r.creator));
	rv_strlcpy(r.template_type, tpl, sizeof(r.template_type));
	rv_strlcpy(r.client_id, put_client, sizeof(r.client_id));
	rv_strlcpy(r.sid, put_sid, sizeof(r.sid));
	rv_strlcpy(r.action, put_action, sizeof(r.action));
	r.verified = verified;
	r.created_at = rv_store_now();
	r.expires_at = r.created_at + ttl;
	fixture_store_put(st, NULL, &r);
}

struct check_ctx {
	struct rv_req *req;
	const char *user;
	bool result;
};

static int
check_body(struct rv_store *s, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct check_ctx *c = vctx;
	int rc;

	(void)s;
	if ((rc = rv_account_stepup(txn, c->req, c->user, RV_CHANGE_PASSWORD, NULL, err)) < 0)
		return rc;
	c->result = rc == 1;
	return 0;
}

/* does header value id prove user? */
static bool
proves(const char *id, const char *user)
{
	char hdr[128];
	const char *env[] = { hdr, NULL };
	struct rv_caller caller;
	struct rv_req req;
	struct check_ctx c;
	struct rv_err err;

	snprintf(hdr, sizeof(hdr), "HTTP_LOGTO_VERIFICATION_ID=%s", id ? id : "");
	rv_req_init(&req, &arena, &conf, (char **)(uintptr_t)(id ? env : env + 1),
		    NULL, NULL);
	memset(&caller, 0, sizeof(caller));
	rv_strlcpy(caller.user, user, sizeof(caller.user));
	rv_strlcpy(caller.client_id, call_client, sizeof(caller.client_id));
	rv_strlcpy(caller.sid, call_sid, sizeof(caller.sid));
	req.caller = &caller;
	c.req = &req;
	c.user = user;
	c.result = false;
	rv_err_init(&err);
	rv_store_txn(st, check_body, &c, &err);
	rv_err_release(&err);
	rv_req_release(&req);
	rv_arena_reset(&arena);
	return c.result;
}

struct add_ctx {
	int n;
	long long base;
};

static int
add_body(struct rv_store *s, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct add_ctx *a = vctx;
	struct rv_record r;

	(void)s;
	rv_record_init(&r);
	snprintf(r.id, sizeof(r.id), "c%020d", a->n);
	r.type = RV_RECORD_PASSWORD;
	strcpy(r.owner, "u3");
	strcpy(r.creator, "u3");
	strcpy(r.client_id, "app");
	r.verified = true;
	r.created_at = a->base + a->n;
	r.expires_at = rv_store_now() + 600000;
	return rv_account_record_add(txn, &conf, &r, err);
}

static int
count_one(const struct rv_record *r, void *vctx)
{
	(void)r;
	++*(int *)vctx;
	return 0;
}

static int
count_body(struct rv_store *s, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	(void)s;
	*(int *)vctx = 0;
	return rv_store_record_each_user(txn, "u3", false, count_one, vctx, err) < 0 ? -1 : 0;
}

static int
live_of_u3(void)
{
	struct rv_err err;
	int n = -1;

	rv_err_init(&err);
	if (rv_store_txn(st, count_body, &n, &err) < 0)
		diag("count: %s", err.msg);
	rv_err_release(&err);
	return n;
}

/* <verification max-live-records>: the oldest go (F11) */
static void
test_cap(void)
{
	struct add_ctx a = { 0, rv_store_now() };
	struct rv_err err;
	int all = 1;

	conf.ver_max_live_records = 3;
	rv_err_init(&err);
	for (a.n = 1; a.n <= 5; a.n++)
		if (rv_store_txn(st, add_body, &a, &err) < 0)
			all = 0;
	rv_err_release(&err);
	ok(all && live_of_u3() == 3, "max-live-records 3: five made, three live");
	ok(!proves("c00000000000000000001", "u3") && !proves("c00000000000000000002", "u3") &&
	   proves("c00000000000000000003", "u3") && proves("c00000000000000000005", "u3"),
	   "the two oldest were evicted, the newest three prove");
	conf.ver_max_live_records = 20;
}

static int
suspend_body(struct rv_store *s, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct rv_user u;
	int rc;

	(void)s;
	(void)vctx;
	rv_user_init(&u);
	if ((rc = rv_store_user_get(txn, "u3", true, &u, err)) < 1) {
		rv_user_release(&u);
		return rc < 0 ? -1 : rv_err_set(err, "entity.not_found", "no u3");
	}
	u.suspended = true;
	rc = rv_store_user_put(txn, &u, err);
	rv_user_release(&u);
	return rc;
}

/* a suspended user has no records: the store drops them (F3) */
static void
test_suspend(void)
{
	struct rv_user u;
	struct rv_err err;

	rv_user_init(&u);
	strcpy(u.id, "u3");
	u.username = strdup("carol");
	rv_err_init(&err);
	ok(fixture_store_put(st, &u, NULL) == 0 && live_of_u3() == 3,
	   "setup: carol with three live records");
	ok(rv_store_txn(st, suspend_body, NULL, &err) == 0 && live_of_u3() == 0,
	   "suspending carol deletes her records in the same transaction");
	rv_err_release(&err);
	rv_user_release(&u);
}

int
main(void)
{
	struct rv_user u;
	struct rv_caller c;
	struct rv_err err;
	json_t *prof;

	fixture_dir("account");
	st = fixture_store(&conf);
	rv_err_init(&err);
	rv_user_init(&u);
	strcpy(u.id, "u1");
	u.username = strdup("alice");
	u.email = strdup("a@example.com");
	u.created_at = u.updated_at = 1700000000000LL;
	fixture_store_put(st, &u, NULL);

	put_record("p00000000000000000001", RV_RECORD_PASSWORD, "u1", "", true, 600000);
	put_record("e00000000000000000001", RV_RECORD_EMAIL_CODE, "u1",
		   "UserPermissionValidation", true, 600000);
	put_record("e00000000000000000002", RV_RECORD_EMAIL_CODE, "u1", "BindMfa", true, 600000);
	put_record("e00000000000000000003", RV_RECORD_EMAIL_CODE, "", "BindNewIdentifier",
		   true, 600000);
	put_record("e00000000000000000004", RV_RECORD_EMAIL_CODE, "u1",
		   "UserPermissionValidation", false, 600000);
	put_record("p00000000000000000002", RV_RECORD_PASSWORD, "u1", "", true, -1000);
	put_record("p00000000000000000003", RV_RECORD_PASSWORD, "u2", "", true, 600000);
	put_record("s00000000000000000001", RV_RECORD_PHONE_CODE, "u1",
		   "UserPermissionValidation", true, 600000);

	ok(proves("p00000000000000000001", "u1"), "a verified Password record of the caller proves");
	ok(proves("e00000000000000000001", "u1"),
	   "a verified UserPermissionValidation e-mail record proves (3.7)");
	ok(proves("s00000000000000000001", "u1"), "the same for a phone record");
	ok(!proves("e00000000000000000002", "u1"), "a BindMfa record does not (3.7)");
	ok(!proves("e00000000000000000003", "u1"), "a BindNewIdentifier record does not");
	ok(!proves("e00000000000000000004", "u1"), "an unverified record does not (D-25)");
	ok(!proves("p00000000000000000002", "u1"), "an expired record does not (D-24)");
	ok(!proves("p00000000000000000003", "u1"), "another user's record does not (D-22)");
	ok(!proves("p00000000000000000001", "u2"), "nor does mine for another caller");
	ok(!proves("zzzzzzzzzzzzzzzzzzzzz", "u1"), "an unknown id does not");
	ok(!proves("", "u1"), "an empty header does not (the tests send one, 6.1)");
	ok(!proves(NULL, "u1"), "no header does not");
	ok(!proves("invalid-verification-record-id", "u1"), "garbage does not (PU-1)");

	/* bound to the client and the session that made it (issue 14) */
	call_client = "other-app";
	ok(!proves("p00000000000000000001", "u1"), "not through another client");
	call_client = "app";
	put_sid = "s1";
	put_record("p00000000000000000004", RV_RECORD_PASSWORD, "u1", "", true, 600000);
	put_sid = "";
	call_sid = "s1";
	ok(proves("p00000000000000000004", "u1"), "the same session: proves");
	ok(proves("p00000000000000000001", "u1"), "a record made without a sid: any session of the client");
	call_sid = "s2";
	ok(!proves("p00000000000000000004", "u1"), "another session of the same client: does not");
	call_sid = "";
	ok(proves("p00000000000000000004", "u1"), "a token without a sid: the client decides");
	put_action = "payout";
	put_record("p00000000000000000005", RV_RECORD_PASSWORD, "u1", "", true, 600000);
	put_action = "";
	ok(!proves("p00000000000000000005", "u1"),
	   "an action-bound record proves nothing to the Account API (deviation 4)");

	{
		char h1[RV_HANDLE_LEN + 1], h2[RV_HANDLE_LEN + 1];

		rv_account_handle(st, "p00000000000000000001", h1);
		rv_account_handle(st, "p00000000000000000002", h2);
		ok(strlen(h1) == RV_HANDLE_LEN && strspn(h1, "0123456789abcdef") == RV_HANDLE_LEN &&
		   strcmp(h1, h2) != 0 && !proves(h1, "u1"),
		   "a handle: 32 hex digits, one per id, no proof");
	}
	ok(rv_account_action_ok("payout") && rv_account_action_ok("a.b:c-d_0") &&
	   !rv_account_action_ok("") && !rv_account_action_ok("Payout") &&
	   !rv_account_action_ok("pay out") && !rv_account_action_ok("p\xc3\xa4y"),
	   "actions: 1-64 of [a-z0-9._:-]");

	rv_account_stepup_denied(&conf, RV_CHANGE_PASSWORD, &err);
	ok(err.status == 401 && strcmp(err.code, "verification_record.permission_denied") == 0 &&
	   strstr(err.headers, "WWW-Authenticate: Bearer error=\"insufficient_user_authentication\"") &&
	   strstr(err.headers, "acr_values") == NULL && strstr(err.headers, "max_age") == NULL,
	   "the denial is 401 with the RFC 9470 challenge");
	rv_err_release(&err);

	/* the step-up policy (rv-policy.h) */
	conf.sp_email_proof = false;
	ok(!proves("e00000000000000000001", "u1") && proves("s00000000000000000001", "u1") &&
	   proves("p00000000000000000001", "u1"),
	   "email-proof=no: an e-mail code proves nothing; SMS and password still do");
	conf.sp_email_proof = true;
	conf.sp_phone_proof = false;
	ok(!proves("s00000000000000000001", "u1") && proves("e00000000000000000001", "u1"),
	   "phone-proof=no: an SMS code proves nothing (3.2.9); an e-mail code does");
	conf.sp_phone_proof = true;
	free(conf.sp_password);
	conf.sp_password = strdup("password");
	ok(!proves("s00000000000000000001", "u1") && proves("p00000000000000000001", "u1"),
	   "password=\"password\": an SMS code no longer proves a password change");
	rv_policy_denied(&conf, RV_CHANGE_PASSWORD, true, &err);
	{
		char *d = json_dumps(err.data, JSON_COMPACT);

		ok(err.status == 401 &&
		   strcmp(err.code, "verification_record.proof_not_accepted") == 0 &&
		   strcmp(d, "{\"acceptedProofs\":[\"password\"]}") == 0,
		   "a refused proof: 401 verification_record.proof_not_accepted, "
		   "data.acceptedProofs");
		free(d);
	}
	rv_err_release(&err);
	free(conf.sp_password);
	conf.sp_password = strdup("password email-code phone-code login");
	free(conf.ver_acr_values);
	conf.ver_acr_values = strdup("urn:rv:password phr");
	conf.ver_max_age = 300;
	rv_account_stepup_denied(&conf, RV_CHANGE_EMAIL, &err);
	ok(strstr(err.headers, ", acr_values=\"urn:rv:password phr\", max_age=\"300\"\r\n") != NULL,
	   "the challenge carries acr_values and max_age (RFC 9470 3)");
	rv_err_release(&err);
	{
		const char *bad;

		ok(rv_policy_list_ok("password login", false, &bad) &&
		   rv_policy_list_ok("none", true, &bad) &&
		   !rv_policy_list_ok("none", false, &bad) &&
		   rv_policy_list_ok("password totp backup-code passkey", false, &bad) &&
		   !rv_policy_list_ok("password hotp", false, &bad) && strcmp(bad, "hotp") == 0 &&
		   !rv_policy_list_ok("", true, &bad),
		   "policy lists name known proofs");
	}
	memset(&c, 0, sizeof(c));
	conf.ver_accept_fresh_login = true;
	c.auth_time = rv_auth_now() - 100;
	strcpy(c.acr, "phr");
	ok(rv_policy_fresh_login(&conf, &c), "a sign-in 100 s ago with an accepted acr is fresh");
	strcpy(c.acr, "urn:other");
	ok(!rv_policy_fresh_login(&conf, &c), "... not with another acr");
	strcpy(c.acr, "phr");
	c.auth_time = rv_auth_now() - 301;
	ok(!rv_policy_fresh_login(&conf, &c), "... nor 301 s ago (max-age 300)");
	c.auth_time = 0;
	ok(!rv_policy_fresh_login(&conf, &c), "... nor without auth_time");
	c.auth_time = rv_auth_now() - 10;
	conf.ver_accept_fresh_login = false;
	ok(!rv_policy_fresh_login(&conf, &c), "... nor with accept-fresh-login=\"no\"");
	free(conf.ver_acr_values);
	conf.ver_acr_values = strdup("");
	conf.ver_max_age = 0;

	/* the profile (6.4) */
	memset(&c, 0, sizeof(c));
	strcpy(c.user, "u1");
	strcpy(c.scope, "openid");
	prof = rv_account_profile(&u, &c, &conf);
	ok(json_object_size(prof) == 2 && json_object_get(prof, "id") &&
	   json_is_true(json_object_get(prof, "hasSecurityVerificationMethod")),
	   "openid only: id and hasSecurityVerificationMethod");
	json_decref(prof);
	strcpy(c.scope, "openid profile");
	prof = rv_account_profile(&u, &c, &conf);
	ok(json_object_get(prof, "username") && !json_object_get(prof, "primaryEmail") &&
	   json_integer_value(json_object_get(prof, "createdAt")) == 1700000000000LL &&
	   json_is_false(json_object_get(prof, "hasPassword")) &&
	   json_is_null(json_object_get(prof, "name")),
	   "profile: username, epoch-ms timestamps, hasPassword, null name; no e-mail (AI-2)");
	json_decref(prof);
	strcpy(c.scope, "openid profile email phone");
	prof = rv_account_profile(&u, &c, &conf);
	ok(json_is_string(json_object_get(prof, "primaryEmail")) &&
	   json_is_null(json_object_get(prof, "primaryPhone")),
	   "email and phone scopes add primaryEmail and primaryPhone (AI-3, AI-4)");
	json_decref(prof);
	conf.ac_name = RV_FIELD_READ_ONLY;
	conf.ac_username = RV_FIELD_OFF;
	conf.ac_email = RV_FIELD_OFF;
	prof = rv_account_profile(&u, &c, &conf);
	ok(json_object_get(prof, "name") && !json_object_get(prof, "username") &&
	   !json_object_get(prof, "primaryEmail") && json_object_get(prof, "primaryPhone"),
	   "account-center fields: read-only shows, off hides (AR-1)");
	json_decref(prof);
	free(u.email);
	u.email = NULL;
	prof = rv_account_profile(&u, &c, &conf);
	ok(json_is_false(json_object_get(prof, "hasSecurityVerificationMethod")),
	   "no password, e-mail or phone: no security verification method");
	json_decref(prof);

	test_cap();
	test_suspend();

	rv_user_release(&u);
	rv_arena_release(&arena);
	fixture_cleanup();
	return done_testing();
}
