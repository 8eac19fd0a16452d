/* unit/change: rv-change.c, POST /api/my-account/password (logto-spec
 * 6.5.2, 6.1) through a request struct built by hand: a user with a
 * verification method needs a step-up record, the current password is
 * refused, and a change revokes the user's other records (F8). A real
 * store; no delivery is configured, so no notice goes out. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-change.h"
#include "rv-password.h"
#include "rv-pwpolicy.h"
#include "rv-store.h"
#include "fixture.h"
#include "tap.h"

#include "rv-main.h"

#define OLD_PW "correct horse battery staple"
#define NEW_PW "a Different horse 4 staples"

static struct rv_conf conf;
static struct rv_store *store;
static struct rv_arena arena = RV_ARENA_INIT;

struct user_ctx {
	struct rv_user *u;
	int rc;
};

static int
user_body(struct rv_store *s, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct user_ctx *c = vctx;

	(void)s;
	c->rc = rv_store_user_get(txn, "u1", false, c->u, err);
	return c->rc < 0 ? -1 : 0;
}

/* a verified Password record of u1, made through client app */
static void
add_record(const char *id)
{
	struct rv_record r;

	rv_record_init(&r);
	rv_strlcpy(r.id, id, sizeof(r.id));
	r.type = RV_RECORD_PASSWORD;
	strcpy(r.owner, "u1");
	strcpy(r.creator, "u1");
	strcpy(r.identifier, "u1");
	strcpy(r.client_id, "app");
	r.verified = true;
	r.created_at = r.verified_at = rv_store_now();
	r.expires_at = r.created_at + 600000;
	fixture_store_put(store, NULL, &r);
}

static bool
has_record(const char *id)
{
	struct rv_record r;

	return fixture_store_get(store, id, &r) == 1;
}

/* does u1's stored hash verify pw? */
static bool
password_is(const char *pw)
{
	struct rv_user u;
	struct user_ctx c = { &u, 0 };
	struct rv_err err;
	bool yes;

	rv_user_init(&u);
	rv_err_init(&err);
	yes = rv_store_txn(store, user_body, &c, &err) == 0 && c.rc == 1 &&
	      u.password_hash != NULL &&
	      rv_password_verify(pw, strlen(pw), u.password_hash, &conf, &err) == 1;
	rv_err_release(&err);
	rv_user_release(&u);
	return yes;
}

static char got[96];
static int got_status;

/* POST /api/my-account/password {"password": pw} as u1 through app, with
 * logto-verification-id: record (NULL: none); "" on success, else the
 * error code */
static const char *
change(const char *pw, const char *record)
{
	char hdr[128];
	char *env[] = { hdr, NULL };
	struct rv_caller caller;
	struct rv_req req;
	struct rv_err err;

	snprintf(hdr, sizeof(hdr), "HTTP_LOGTO_VERIFICATION_ID=%s", record ? record : "");
	rv_req_init(&req, &arena, &conf, record ? env : env + 1, NULL, NULL);
	memset(&caller, 0, sizeof(caller));
	strcpy(caller.user, "u1");
	strcpy(caller.client_id, "app");
	caller.first_party = true;
	req.caller = &caller;
	req.json = json_pack("{s:s}", "password", pw);
	rv_err_init(&err);
	got_status = 0;
	if (rv_change_password(&req, &err) == 0) {
		got[0] = '\0';
	} else {
		rv_strlcpy(got, err.code ? err.code : "(none)", sizeof(got));
		got_status = err.status;
	}
	rv_err_release(&err);
	rv_req_release(&req);
	rv_arena_reset(&arena);
	return got;
}

int
main(void)
{
	struct rv_user u;
	struct rv_err err;

	fixture_dir("change");
	/* rv_change_password takes the store of the process (rv_main_store) */
	store = fixture_store(&conf);
	rv_main_set_store(store, &conf);
	conf.pw_argon2_memory = 1024;
	conf.pw_argon2_time = 1;
	rv_err_init(&err);
	if (rv_pwpolicy_init(&conf, &err) < 0)
		diag("pwpolicy: %s", err.msg);
	rv_err_release(&err);

	rv_user_init(&u);
	strcpy(u.id, "u1");
	u.username = rv_xstrdup("alice");
	u.email = rv_xstrdup("alice@example.com");
	u.created_at = u.updated_at = rv_store_now();
	rv_err_init(&err);
	if (rv_password_hash(OLD_PW, strlen(OLD_PW), &conf, &u.password_hash, &err) < 0)
		diag("hash: %s", err.msg);
	rv_err_release(&err);
	fixture_store_put(store, &u, NULL);
	rv_user_release(&u);

	is_str(change(NEW_PW, NULL), "verification_record.permission_denied",
	       "a user with a password and an e-mail: no step-up record, permission_denied");
	ok(got_status == 401, "... with status 401");
	is_str(change(NEW_PW, "p00000000000000000099"), "verification_record.permission_denied",
	       "a record id that names no record: permission_denied");
	ok(password_is(OLD_PW), "the password is unchanged");

	add_record("p00000000000000000001");
	is_str(change(OLD_PW, "p00000000000000000001"), "user.same_password",
	       "the current password as the new one: user.same_password");
	ok(password_is(OLD_PW) && has_record("p00000000000000000001"),
	   "the password and the record are unchanged");

	add_record("p00000000000000000002");
	add_record("p00000000000000000003");
	is_str(change(NEW_PW, "p00000000000000000001"), "", "with a step-up record: changed");
	ok(password_is(NEW_PW) && !password_is(OLD_PW), "the new password is stored, the old one gone");
	ok(!has_record("p00000000000000000002") && !has_record("p00000000000000000003"),
	   "the user's other records are revoked (F8)");

	rv_arena_release(&arena);
	rv_pwpolicy_release();
	rv_main_set_store(NULL, NULL);	/* fixture_cleanup closes it */
	fixture_cleanup();
	return done_testing();
}
