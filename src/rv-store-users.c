/* rv-store-users.c: the store's users: get, lookups by index, put, delete */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <stdlib.h>
#include <string.h>

#include "rv-err.h"
#include "rv-util.h"

/* ---- users ----------------------------------------------------------------- */

void
rv_user_init(struct rv_user *u)
{
	memset(u, 0, sizeof(*u));
}

void
rv_user_release(struct rv_user *u)
{
	free(u->username);
	free(u->email);
	free(u->phone);
	free(u->name);
	free(u->avatar);
	if (u->password_hash != NULL) {
		rv_wipe(u->password_hash, strlen(u->password_hash));
		free(u->password_hash);
	}
	while (u->nfactors > 0)
		rv_factor_release(&u->factors[--u->nfactors]);
	free(u->factors);
	rv_user_init(u);
}

bool
rv_user_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return false;
	for (; id[n]; n++)
		if (!((id[n] >= 'a' && id[n] <= 'z') || (id[n] >= 'A' && id[n] <= 'Z') ||
		      (id[n] >= '0' && id[n] <= '9') || id[n] == '_' || id[n] == '-'))
			return false;
	return n > 0 && n <= RV_ID_MAX;
}

static int
user_from_doc(const struct rv_doc *d, struct rv_user *u, struct rv_err *err)
{
	const struct rv_doc_member *mfa = rv_store_doc_get(d, "mfa");

	rv_user_init(u);
	rv_store_doc_copy(d, "id", u->id, sizeof(u->id));
	u->username = rv_store_doc_dup(d, "username");
	u->email = rv_store_doc_dup(d, "email");
	u->phone = rv_store_doc_dup(d, "phone");
	u->name = rv_store_doc_dup(d, "name");
	u->avatar = rv_store_doc_dup(d, "avatar");
	u->password_hash = rv_store_doc_dup(d, "passwordHash");
	u->created_at = rv_store_doc_int(d, "createdAt");
	u->updated_at = rv_store_doc_int(d, "updatedAt");
	u->password_updated_at = rv_store_doc_int(d, "passwordUpdatedAt");
	u->last_sign_in_at = rv_store_doc_int(d, "lastSignInAt");
	u->suspended = rv_store_doc_true(d, "suspended");
	if (mfa != NULL && mfa->type == RV_DOC_NESTED &&
	    rv_store_factors_read(mfa->val, mfa->vlen, u) < 0) {
		rv_user_release(u);
		return rv_err_set(err, RV_E_INTERNAL,
				  "store: a user's factors do not read");
	}
	return 0;
}

static json_t *
user_to_json(const struct rv_user *u)
{
	json_t *j = json_object();

	json_object_set_new(j, "v", json_integer(FORMAT_VERSION));
	set_str(j, "id", u->id);
	set_str(j, "username", u->username);
	set_str(j, "email", u->email);
	set_str(j, "phone", u->phone);
	set_str(j, "name", u->name);
	set_str(j, "avatar", u->avatar);
	set_str(j, "passwordHash", u->password_hash);
	json_object_set_new(j, "createdAt", json_integer(u->created_at));
	json_object_set_new(j, "updatedAt", json_integer(u->updated_at));
	json_object_set_new(j, "passwordUpdatedAt", json_integer(u->password_updated_at));
	json_object_set_new(j, "lastSignInAt", json_integer(u->last_sign_in_at));
	json_object_set_new(j, "suspended", json_boolean(u->suspended));
	if (u->nfactors > 0)
		json_object_set_new(j, "mfa", rv_store_factors_json(u));
	return j;
}

int
rv_store_user_get(struct rv_txn *txn, const char *id, bool for_update,
		  struct rv_user *u, struct rv_err *err)
{
	struct rv_doc d;
	int rc;

	if (!rv_user_id_valid(id))
		return 0;
	rc = rv_store_get_doc(txn, RV_T_USERS, id, for_update, &d, err);
	if (rc == 1) {
		rc = user_from_doc(&d, u, err);
		rv_store_doc_release(&d);
		if (rc < 0)
			return rv_store_fail(txn, RV_FAULT_FAIL);
		return 1;
	}
	return rc;
}

static int
user_by_index(struct rv_txn *txn, enum rv_user_key ukey, const char *value,
	      struct rv_user *u, struct rv_err *err)
{
	char *key, *doc;
	struct rv_doc d;
	size_t len;
	int rc;

	if (value == NULL || *value == '\0' || strlen(value) > 1024)
		return 0;
	if (txn->fault != RV_FAULT_NONE)
		return -1;
	key = rv_store_fold(ukey, value);
	rc = txn->st->be->find(txn, ukey, key, &doc, &len, err);
	free(key);
	if (rc != 1)
		return rc;
	if (rv_store_doc_parse(doc, len, &d, err) < 0) {
		rv_store_doc_free(doc, len);
		return rv_store_fail(txn, RV_FAULT_FAIL);
	}
	d.raw = doc;
	d.rawlen = len;
	rc = user_from_doc(&d, u, err);
	rv_store_doc_release(&d);
	return rc < 0 ? rv_store_fail(txn, RV_FAULT_FAIL) : 1;
}

int
rv_store_user_by_username(struct rv_txn *txn, const char *username,
			  struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, RV_USER_KEY_USERNAME, username, u, err);
}

int
rv_store_user_by_email(struct rv_txn *txn, const char *email,
		       struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, RV_USER_KEY_EMAIL, email, u, err);
}

int
rv_store_user_by_phone(struct rv_txn *txn, const char *phone,
		       struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, RV_USER_KEY_PHONE, phone, u, err);
}

/* the 422 of a unique key held by another user (-1: not known which) */
static int
clash(struct rv_err *err, int ukey)
{
	switch (ukey) {
	case RV_USER_KEY_USERNAME:
		return rv_err_set(err, "user.username_already_in_use", "username taken");
	case RV_USER_KEY_PHONE:
		return rv_err_set(err, "user.phone_already_in_use", "phone taken");
	case RV_USER_KEY_EMAIL:
		return rv_err_set(err, "user.email_already_in_use", "e-mail taken");
	default:
		return rv_err_set(err, "user.email_already_in_use",
				  "unique index clash");
	}
}

/* Is value (as the index folds it) held by a user other than id? */
static int
taken(struct rv_txn *txn, enum rv_user_key ukey, const char *value,
      const char *id, struct rv_err *err)
{
	struct rv_user other;
	int rc;

	if (value == NULL || *value == '\0')
		return 0;
	rv_user_init(&other);
	rc = user_by_index(txn, ukey, value, &other, err);
	if (rc == 1)
		rc = strcmp(other.id, id) != 0;
	rv_user_release(&other);
	return rc;
}

int
rv_store_user_put(struct rv_txn *txn, const struct rv_user *u,
		  struct rv_err *err)
{
	const char *values[3] = { u->username, u->email, u->phone };
	char *keys[3] = { NULL, NULL, NULL };
	struct rv_cols cols;
	json_t *j;
	int i, rc = 0, which = -1;

	/* a put that fails dooms the transaction, whatever the body does
	 * with the answer (the contract; t/unit/store-contract "doomed") */
	if (!rv_user_id_valid(u->id)) {
		rv_err_set(err, RV_E_INVALID_INPUT, "bad user id");
		return rv_store_fail(txn, RV_FAULT_FAIL);
	}
	for (i = 0; i < 3 && rc == 0; i++)
		if ((rc = taken(txn, (enum rv_user_key)i, values[i], u->id, err)) > 0) {
			clash(err, i);
			return rv_store_fail(txn, RV_FAULT_FAIL);
		}
	if (rc < 0)
		return -1;
	memset(&cols, 0, sizeof(cols));
	for (i = 0; i < 3; i++)
		if (values[i] != NULL && *values[i] != '\0')
			cols.ukey[i] = keys[i] = rv_store_fold((enum rv_user_key)i, values[i]);
	j = user_to_json(u);
	rc = rv_store_put_json(txn, RV_T_USERS, u->id, &cols, j, &which, err);
	json_decref(j);
	for (i = 0; i < 3; i++)
		free(keys[i]);
	if (rc == 1) {	/* a unique key clash we did not see: a race lost */
		clash(err, which);
		return rv_store_fail(txn, RV_FAULT_FAIL);
	}
	/* a suspended user has no live step-up (issue 14, F3): whatever
	 * suspends, suspends in the transaction that drops the records */
	if (rc == 0 && u->suspended &&
	    rv_store_record_del_user(txn, u->id, NULL, err) < 0)
		return -1;
	return rc;
}

int
rv_store_user_del(struct rv_txn *txn, const char *id, struct rv_err *err)
{
	int rc;

	if (!rv_user_id_valid(id))
		return 0;
	if (txn->fault != RV_FAULT_NONE)
		return -1;
	rc = txn->st->be->del(txn, RV_T_USERS, id, err);
	if (rc != 1)
		return rc;
	txn->wrote |= RV_T_USERS;
	/* the user's records go with the user (logto-spec 3.1: cascade) */
	return rv_store_record_del_user(txn, id, NULL, err) < 0 ? -1 : 1;
}

struct user_walk {
	int (*fn)(const struct rv_user *u, void *ctx);
	void *ctx;
	struct rv_err *err;
};

static int
user_walk(const char *key, const char *doc, size_t len, void *vctx)
{
	struct user_walk *w = vctx;
	struct rv_user u;
	struct rv_doc d;
	int rc;

	(void)key;
	if (rv_store_doc_parse(doc, len, &d, w->err) < 0)
		return -1;
	rc = user_from_doc(&d, &u, w->err);
	rv_store_doc_release(&d);
	if (rc < 0)
		return -1;
	rc = w->fn(&u, w->ctx);
	rv_user_release(&u);
	return rc;
}

int
rv_store_user_each(struct rv_txn *txn,
		   int (*fn)(const struct rv_user *u, void *ctx), void *ctx,
		   struct rv_err *err)
{
	struct user_walk w = { fn, ctx, err };

	if (txn->fault != RV_FAULT_NONE)
		return -1;
	return txn->st->be->each_user(txn, user_walk, &w, err);
}
