/* rv-account.c: who the caller is, their step-up proof, their profile */
#include "config.h"
#include "rv-account.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rv-arena.h"
#include "rv-auth.h"
#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-main.h"
#include "rv-req.h"
#include "rv-store.h"
#include "rv-util.h"

int
rv_account_gate(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct rv_caller *c = rv_arena_zalloc(req->arena, sizeof(*c));

	(void)resp;
	if (rv_auth_caller(req, c, err) < 0)
		return -1;
	req->caller = c;
	/* logto-spec 1.2 step 9: after authentication, before the body */
	if (!req->conf->ac_enabled)
		return rv_err_set(err, "account_center.not_enabled",
				  "the account center is disabled");
	return 0;
}

int
rv_account_user(struct rv_txn *txn, const struct rv_caller *c, bool rmw,
		struct rv_user *u, struct rv_err *err)
{
	int rc;

	if (c->user_is_username) {
		rc = rv_store_user_by_username(txn, c->user, u, err);
		/* the index folds case; the front authenticator may not:
		 * "Alice" is not "alice" (F12) */
		if (rc == 1 && (u->username == NULL || strcmp(u->username, c->user) != 0)) {
			rv_user_release(u);
			rv_user_init(u);
			rc = 0;
		}
	} else {
		rc = rv_store_user_get(txn, c->user, rmw, u, err);
	}
	if (rc == 0)
		return rv_err_set(err, "entity.not_found",
				  "the caller's user does not exist");
	if (rc < 0)
		return -1;
	/* Logto revokes a suspended user's tokens; we verify tokens
	 * locally, so every route asks (F3) */
	if (u->suspended) {
		rv_err_set(err, "user.suspended", "user '%s' is suspended", u->id);
		rv_user_release(u);
		rv_user_init(u);
		return -1;
	}
	return 1;
}

int
rv_account_stepup(struct rv_txn *txn, struct rv_req *req, const char *user,
		  enum rv_change ch, struct rv_record *rec_r, struct rv_err *err)
{
	const char *id = rv_req_header(req, "logto-verification-id");
	struct rv_record r;
	bool refused = false;
	int rc;

	if (id != NULL && *id != '\0') {
		/* a single-use record is locked: of two changes that present
		 * it, the second waits and then finds it gone (the store's
		 * contract: a read that decides a write is for_update) */
		if ((rc = rv_store_record_get(txn, id,
					      req->conf->ver_stepup == RV_STEPUP_SINGLE_USE,
					      &r, err)) < 0)
			return rc;
		/* an action-bound record serves only introspection for its
		 * action (deviation 4): a "payout" step-up changes no password */
		if (rc == 1 && rv_account_proves(&r, user) && r.action[0] == '\0' &&
		    rv_account_bound(&r, req->caller)) {
			if (rv_policy_accepts_record(req->conf, ch, &r)) {
				if (rec_r != NULL)
					*rec_r = r;
				return 1;
			}
			refused = true;
		}
	}
	/* RFC 9470 6.1: a sign-in at the IdP within max-age */
	if (rv_policy_accepts_login(req->conf, ch) &&
	    rv_policy_fresh_login(req->conf, req->caller)) {
		if (rec_r != NULL)
			rv_record_init(rec_r);
		return 1;
	}
	if (refused)
		return rv_policy_denied(req->conf, ch, true, err);
	return 0;
}

bool
rv_account_stepup_use(struct rv_txn *txn, struct rv_req *req, const char *user,
		      enum rv_change ch, char *id_r, struct rv_err *err, int *rc_r)
{
	struct rv_record rec;
	int proven;

	*rc_r = 0;
	if ((proven = rv_account_stepup(txn, req, user, ch, &rec, err)) < 0) {
		*rc_r = proven;
		return true;
	}
	if (proven == 0)
		return false;
	if (id_r != NULL)
		memcpy(id_r, rec.id, sizeof(rec.id));
	if (req->conf->ver_stepup == RV_STEPUP_SINGLE_USE && rec.id[0] != '\0') {
		int del = rv_store_record_del(txn, rec.id, err);

		if (del < 0)
			*rc_r = -1;
		else if (del == 0)	/* another change used it first */
			return false;
	}
	return true;
}

bool
rv_account_stepup_proven(struct rv_txn *txn, struct rv_req *req,
			 const char *user, enum rv_change ch, struct rv_err *err)
{
	int used;

	if (!rv_account_stepup_use(txn, req, user, ch, NULL, err, &used)) {
		rv_account_stepup_denied(req->conf, ch, err);
		return false;
	}
	return used == 0;
}

bool
rv_account_proves(const struct rv_record *r, const char *user)
{
	if (r->owner[0] == '\0' || strcmp(r->owner, user) != 0 || !r->verified)
		return false;
	switch (r->type) {
	case RV_RECORD_PASSWORD:
	case RV_RECORD_TOTP:		/* the second factors (issue 20) */
	case RV_RECORD_BACKUP_CODE:
	case RV_RECORD_PASSKEY:
		return true;
	case RV_RECORD_EMAIL_CODE:
	case RV_RECORD_PHONE_CODE:
		return strcmp(r->template_type, "UserPermissionValidation") == 0;
	case RV_RECORD_WEBAUTHN:	/* a new passkey proves nothing yet */
		break;
	}
	return false;
}

bool
rv_account_owns(const struct rv_record *r, const char *user)
{
	if (r->owner[0] != '\0')
		return strcmp(r->owner, user) == 0;
	return strcmp(r->creator, user) == 0;
}

bool
rv_account_bound(const struct rv_record *r, const struct rv_caller *c)
{
	if (c == NULL || strcmp(r->client_id, c->client_id) != 0)
		return false;
	return r->sid[0] == '\0' || c->sid[0] == '\0' || strcmp(r->sid, c->sid) == 0;
}

void
rv_account_bind(struct rv_record *r, const struct rv_caller *c)
{
	rv_strlcpy(r->client_id, c->client_id, sizeof(r->client_id));
	rv_strlcpy(r->sid, c->sid, sizeof(r->sid));
}

void
rv_account_handle(const struct rv_store *st, const char *id,
		  char out[RV_HANDLE_LEN + 1])
{
	char mac[65];

	rv_store_mac_hex(st, "handle", id, mac);
	memcpy(out, mac, RV_HANDLE_LEN);
	out[RV_HANDLE_LEN] = '\0';
}

bool
rv_account_action_ok(const char *action)
{
	size_t n = strlen(action);

	return n >= 1 && n <= RV_ACTION_MAX &&
	       strspn(action, "abcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

int
rv_account_action_param(json_t *body, const char **action_r, struct rv_err *err)
{
	*action_r = NULL;
	if (rv_json_str(body, "action", false, 1, RV_ACTION_MAX, action_r, err) < 0)
		return -1;
	if (*action_r != NULL && !rv_account_action_ok(*action_r))
		return rv_json_invalid(err, "action", "invalid_string",
				       "Invalid action: ^[a-z0-9._:-]{1,64}$");
	return 0;
}

struct cap_rec {
	char id[RV_RECORD_ID_LEN + 1];
	long long created;
};

struct cap_ctx {
	struct cap_rec *recs;
	size_t n, alloc;
};

static int
cap_collect(const struct rv_record *r, void *vctx)
{
	struct cap_ctx *x = vctx;

	if (x->n == x->alloc) {
		x->alloc = x->alloc ? 2 * x->alloc : 16;
		x->recs = rv_xrealloc(x->recs, x->alloc * sizeof(*x->recs));
	}
	memcpy(x->recs[x->n].id, r->id, sizeof(x->recs[0].id));
	x->recs[x->n].created = r->created_at;
	x->n++;
	return 0;
}

static int
oldest_first(const void *a, const void *b)
{
	const struct cap_rec *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

int
rv_account_record_add(struct rv_txn *txn, const struct rv_conf *conf,
		      const struct rv_record *r, struct rv_err *err)
{
	struct cap_ctx x;
	size_t i, drop;
	int rc;

	rc = -1;
	memset(&x, 0, sizeof(x));
	if (rv_store_record_each_user(txn, r->creator, true, cap_collect, &x, err) < 0)
		goto out;
	/* the oldest go, so that the newest max - 1 and this one stay (F11) */
	if (x.n >= (size_t)conf->ver_max_live_records) {
		drop = x.n - (size_t)conf->ver_max_live_records + 1;
		qsort(x.recs, x.n, sizeof(*x.recs), oldest_first);
		for (i = 0; i < drop; i++)
			if (rv_store_record_del(txn, x.recs[i].id, err) < 0)
				goto out;
	}
	rc = rv_store_record_put(txn, r, err);
out:
	free(x.recs);
	return rc;
}

int
rv_account_stepup_denied(const struct rv_conf *conf, enum rv_change ch,
			 struct rv_err *err)
{
	return rv_policy_denied(conf, ch, false, err);
}

bool
rv_account_has_method(const struct rv_user *u)
{
	return (u->password_hash && *u->password_hash) ||
	       (u->email && *u->email) || (u->phone && *u->phone);
}

/* key (with its comma and colon), then the string or null */
static void
put_str(struct rv_buf *out, const char *key, const char *v)
{
	rv_buf_addstr(out, key);
	if (v != NULL)
		rv_json_dump_str(v, out);
	else
		rv_buf_add(out, "null", 4);
}

static void
put_bool(struct rv_buf *out, const char *key, bool v)
{
	rv_buf_addstr(out, key);
	rv_buf_addstr(out, v ? "true" : "false");
}

static bool
readable(int field)
{
	return field == RV_FIELD_READ_ONLY || field == RV_FIELD_EDIT;
}

/* The members in the order of Logto's answer, which is the order the
 * jansson object of earlier releases was built in: t/unit/account
 * compares the bytes with jansson's dump of that object */
void
rv_account_profile_write(const struct rv_user *u, const struct rv_caller *c,
			 const struct rv_conf *conf, struct rv_buf *out)
{
	put_str(out, "{\"id\":", u->id);
	/* stage 1: the token's scopes; stage 2: the account-center fields */
	if (rv_auth_has_scope(c, "profile")) {
		if (readable(conf->ac_name))
			put_str(out, ",\"name\":", u->name);
		if (readable(conf->ac_avatar))
			put_str(out, ",\"avatar\":", u->avatar);
		if (readable(conf->ac_username))
			put_str(out, ",\"username\":", u->username);
		rv_buf_addstr(out, ",\"lastSignInAt\":");
		if (u->last_sign_in_at)
			rv_buf_addll(out, u->last_sign_in_at);
		else
			rv_buf_add(out, "null", 4);
		rv_buf_addstr(out, ",\"createdAt\":");
		rv_buf_addll(out, u->created_at);
		rv_buf_addstr(out, ",\"updatedAt\":");
		rv_buf_addll(out, u->updated_at);
		rv_buf_addstr(out, ",\"applicationId\":null");
		put_bool(out, ",\"isSuspended\":", u->suspended);
		if (readable(conf->ac_password))
			put_bool(out, ",\"hasPassword\":",
				 u->password_hash && *u->password_hash);
	}
	if (rv_auth_has_scope(c, "email") && readable(conf->ac_email))
		put_str(out, ",\"primaryEmail\":", u->email);
	if (rv_auth_has_scope(c, "phone") && readable(conf->ac_phone))
		put_str(out, ",\"primaryPhone\":", u->phone);
	put_bool(out, ",\"hasSecurityVerificationMethod\":", rv_account_has_method(u));
	rv_buf_addch(out, '}');
}

json_t *
rv_account_profile(const struct rv_user *u, const struct rv_caller *c,
		   const struct rv_conf *conf)
{
	struct rv_buf b = RV_BUF_INIT;
	json_t *o;

	rv_account_profile_write(u, c, conf, &b);
	o = json_loadb(b.buf, b.len, 0, NULL);
	RV_ASSERT(o != NULL);
	rv_buf_release(&b);
	return o;
}
