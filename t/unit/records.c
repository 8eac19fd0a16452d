/* unit/records: rv-records.c, the caller's records and introspection
 * (DESIGN.md deviations 4 and 7; security review F1, F6): the list shows
 * handles, never ids; a revocation takes an id or a handle; an
 * introspection answers for the action asked and consumes. A real store;
 * the records are put directly. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-records.h"
#include "rv-store.h"
#include "fixture.h"
#include "tap.h"

static struct rv_conf conf;
static struct rv_store *st;
static struct rv_caller caller;

static void
add_user(const char *id, const char *name)
{
	struct rv_user u;

	rv_user_init(&u);
	rv_strlcpy(u.id, id, sizeof(u.id));
	u.username = rv_xstrdup(name);
	u.created_at = u.updated_at = rv_store_now();
	fixture_store_put(st, &u, NULL);
	rv_user_release(&u);
}

/* a verified Password record id of owner, for action ("" none), made
 * age ms ago, through client app */
static void
add_password(const char *id, const char *owner, const char *action, long long age)
{
	struct rv_record r;

	rv_record_init(&r);
	rv_strlcpy(r.id, id, sizeof(r.id));
	r.type = RV_RECORD_PASSWORD;
	rv_strlcpy(r.owner, owner, sizeof(r.owner));
	rv_strlcpy(r.creator, owner, sizeof(r.creator));
	rv_strlcpy(r.identifier, owner, sizeof(r.identifier));
	strcpy(r.client_id, "app");
	rv_strlcpy(r.action, action, sizeof(r.action));
	r.verified = true;
	r.created_at = r.verified_at = rv_store_now() - age;
	r.expires_at = r.created_at + 600000;
	fixture_store_put(st, NULL, &r);
}

/* the list of the caller u1, as compact JSON (static), or "error" */
static const char *
list(void)
{
	static char out[4096];
	json_t *l = NULL;
	struct rv_err err;
	char *s;

	rv_err_init(&err);
	strcpy(out, "error");
	if (rv_records_list(st, &caller, &l, &err) == 0 &&
	    (s = json_dumps(l, JSON_COMPACT)) != NULL) {
		rv_strlcpy(out, s, sizeof(out));
		free(s);
	}
	json_decref(l);
	rv_err_release(&err);
	return out;
}

static const char *
revoke(const char *ref)
{
	static char code[96];
	struct rv_err err;

	rv_err_init(&err);
	if (rv_records_revoke(st, &caller, ref, &err) == 0)
		code[0] = '\0';
	else
		rv_strlcpy(code, err.code ? err.code : "(none)", sizeof(code));
	rv_err_release(&err);
	return code;
}

/* introspection by service "payments" of record id for user, with action
 * (NULL none) and consume; the answer as compact JSON (static) */
static const char *
introspect(const char *id, const char *user, const char *action, bool consume)
{
	static char out[1024];
	struct rv_records_query q = { id, user, action, consume };
	json_t *a = NULL;
	struct rv_err err;
	char *s;

	rv_err_init(&err);
	strcpy(out, "error");
	if (rv_records_introspect(st, &conf, "payments", &q, &a, &err) == 0 &&
	    (s = json_dumps(a, JSON_COMPACT)) != NULL) {
		rv_strlcpy(out, s, sizeof(out));
		free(s);
	}
	json_decref(a);
	rv_err_release(&err);
	return out;
}

static bool
active(const char *answer)
{
	return strstr(answer, "\"active\":true") != NULL;
}

int
main(void)
{
	char h1[RV_HANDLE_LEN + 1], h2[RV_HANDLE_LEN + 1], h3[RV_HANDLE_LEN + 1];
	char hb[RV_HANDLE_LEN + 1];
	const char *l, *a;

	fixture_dir("records");
	st = fixture_store(&conf);
	add_user("u1", "alice");
	add_user("u2", "bob");
	memset(&caller, 0, sizeof(caller));
	strcpy(caller.user, "u1");
	strcpy(caller.client_id, "app");
	caller.first_party = true;

	add_password("p00000000000000000001", "u1", "", 3000);
	add_password("p00000000000000000002", "u1", "", 2000);
	add_password("p00000000000000000003", "u1", "", 1000);
	add_password("p00000000000000000009", "u2", "", 1000);
	rv_account_handle(st, "p00000000000000000001", h1);
	rv_account_handle(st, "p00000000000000000002", h2);
	rv_account_handle(st, "p00000000000000000003", h3);
	rv_account_handle(st, "p00000000000000000009", hb);

	/* the list */
	l = list();
	ok(strstr(l, h1) && strstr(l, h2) && strstr(l, h3),
	   "list: the caller's three records, by handle");
	ok(strstr(l, "p0000000000000000000") == NULL && strstr(l, hb) == NULL,
	   "list: no record id, and not another user's record");
	ok(strstr(l, h3) < strstr(l, h2) && strstr(l, h2) < strstr(l, h1),
	   "list: newest first");
	ok(strstr(l, "\"type\":\"Password\"") && strstr(l, "\"identifier\":null") &&
	   strstr(l, "\"verified\":true") && strstr(l, "owner") == NULL &&
	   strstr(l, "tries") == NULL,
	   "list: type, verified, null identifier; no owner, no tries");

	/* revocation */
	is_str(revoke(hb), "verification_record.not_found",
	       "revoke another user's record by handle: not_found");
	is_str(revoke("p00000000000000000009"), "verification_record.not_found",
	       "revoke another user's record by id: not_found");
	is_str(revoke(h1), "", "revoke by handle");
	is_str(revoke("p00000000000000000002"), "", "revoke by id");
	is_str(revoke("p00000000000000000002"), "verification_record.not_found",
	       "revoke it again: not_found");
	l = list();
	ok(strstr(l, h1) == NULL && strstr(l, h2) == NULL && strstr(l, h3) != NULL,
	   "the list after the revocations: only the third");
	ok(rv_records_ref_ok(h1) && rv_records_ref_ok("p00000000000000000001") &&
	   !rv_records_ref_ok("x") && !rv_records_ref_ok("../etc"),
	   "a handle and an id can name a record; other strings cannot");

	/* introspection */
	a = introspect("p00000000000000000003", "u1", NULL, false);
	ok(active(a) && strstr(a, "\"type\":\"Password\"") && strstr(a, "\"userId\":\"u1\"") &&
	   strstr(a, "consumed") == NULL,
	   "introspect a record without action, asking none: active");
	is_str(introspect("p00000000000000000003", "u2", NULL, false), "{\"active\":false}",
	       "introspect for another user: exactly {\"active\":false}");
	is_str(introspect("p00000000000000000003", "u1", "payout", false), "{\"active\":false}",
	       "a record without action does not serve an action");
	is_str(introspect("p00000000000000000001", "u1", NULL, false), "{\"active\":false}",
	       "a revoked record: inactive");

	add_password("p00000000000000000004", "u1", "payout", 500);
	is_str(introspect("p00000000000000000004", "u1", NULL, false), "{\"active\":false}",
	       "a record for action payout does not answer a question without action");
	is_str(introspect("p00000000000000000004", "u1", "refund", false), "{\"active\":false}",
	       "nor one for another action");
	a = introspect("p00000000000000000004", "u1", "payout", false);
	ok(active(a) && strstr(a, "\"action\":\"payout\""),
	   "for its action payout: active, with the action");

	a = introspect("p00000000000000000004", "u1", "payout", true);
	ok(active(a) && strstr(a, "\"consumed\":true"), "consume: active and consumed");
	is_str(introspect("p00000000000000000004", "u1", "payout", false), "{\"active\":false}",
	       "after consume: inactive");
	a = introspect("p00000000000000000003", "u1", NULL, true);
	ok(active(a) && strstr(a, "\"consumed\":true") &&
	   strcmp(introspect("p00000000000000000003", "u1", NULL, true), "{\"active\":false}") == 0,
	   "a second consume of the same record: inactive");
	ok(strstr(list(), h3) == NULL, "a consumed record is gone from the list");

	fixture_cleanup();
	return done_testing();
}
