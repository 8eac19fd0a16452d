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

static void
user_from_json(json_t *j, struct rv_user *u)
{
	rv_user_init(u);
	copy_str(u->id, sizeof(u->id), jstr(j, "id"));
	u->username = jdup(j, "username");
	u->email = jdup(j, "email");
	u->phone = jdup(j, "phone");
	u->name = jdup(j, "name");
	u->avatar = jdup(j, "avatar");
	u->password_hash = jdup(j, "passwordHash");
	u->created_at = jint(j, "createdAt");
	u->updated_at = jint(j, "updatedAt");
	u->password_updated_at = jint(j, "passwordUpdatedAt");
	u->last_sign_in_at = jint(j, "lastSignInAt");
	u->suspended = json_is_true(json_object_get(j, "suspended"));
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
	return j;
}

int
rv_store_user_get(struct rv_txn *txn, const char *id, bool rmw,
		  struct rv_user *u, struct rv_err *err)
{
	json_t *j;
	int rc;

	if (!rv_user_id_valid(id))
		return 0;
	rc = rv_store_get_json(txn, txn->st->users, id, strlen(id), rmw, &j,
			       err);
	if (rc == 1) {
		user_from_json(j, u);
		json_decref(j);
	}
	return rc;
}

static int
user_by_index(struct rv_txn *txn, DB *idx, const char *value, bool lower,
	      struct rv_user *u, struct rv_err *err)
{
	char *key;
	DBT k, pk, v;
	json_t *j;
	int ret, rc;

	if (value == NULL || *value == '\0' || strlen(value) > 1024)
		return 0;
	key = lower ? fold(value) : rv_xstrdup(value);
	memset(&k, 0, sizeof(k));
	memset(&pk, 0, sizeof(pk));
	memset(&v, 0, sizeof(v));
	k.data = key;
	k.size = (u_int32_t)strlen(key);
	pk.flags = DB_DBT_MALLOC;
	v.flags = DB_DBT_MALLOC;
	ret = idx->pget(idx, txn->t, &k, &pk, &v, 0);
	free(key);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return rv_store_db_fail(txn, ret, "index lookup", err);
	free(pk.data);
	rc = rv_store_load_json(&v, &j, err);
	free(v.data);
	if (rc < 0)
		return -1;
	user_from_json(j, u);
	json_decref(j);
	return 1;
}

int
rv_store_user_by_username(struct rv_txn *txn, const char *username,
			  struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, txn->st->users_username, username, true, u, err);
}

int
rv_store_user_by_email(struct rv_txn *txn, const char *email,
		       struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, txn->st->users_email, email, true, u, err);
}

int
rv_store_user_by_phone(struct rv_txn *txn, const char *phone,
		       struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, txn->st->users_phone, phone, false, u, err);
}

/* Is value (as the index folds it) held by a user other than id? */
static int
taken(struct rv_txn *txn, DB *idx, const char *value, bool lower,
      const char *id, struct rv_err *err)
{
	struct rv_user other;
	int rc;

	if (value == NULL || *value == '\0')
		return 0;
	rv_user_init(&other);
	rc = user_by_index(txn, idx, value, lower, &other, err);
	if (rc == 1)
		rc = strcmp(other.id, id) != 0;
	rv_user_release(&other);
	return rc;
}

int
rv_store_user_put(struct rv_txn *txn, const struct rv_user *u,
		  struct rv_err *err)
{
	struct rv_store *st = txn->st;
	json_t *j;
	int rc;

	if (!rv_user_id_valid(u->id))
		return rv_err_set(err, RV_E_INVALID_INPUT, "bad user id");
	if ((rc = taken(txn, st->users_username, u->username, true, u->id, err)) != 0)
		return rc < 0 ? rc : rv_err_set(err, "user.username_already_in_use",
						"username taken");
	if ((rc = taken(txn, st->users_email, u->email, true, u->id, err)) != 0)
		return rc < 0 ? rc : rv_err_set(err, "user.email_already_in_use",
						"e-mail taken");
	if ((rc = taken(txn, st->users_phone, u->phone, false, u->id, err)) != 0)
		return rc < 0 ? rc : rv_err_set(err, "user.phone_already_in_use",
						"phone taken");
	j = user_to_json(u);
	rc = rv_store_put_json(txn, st->users, u->id, strlen(u->id), j, 0, err);
	json_decref(j);
	if (rc == 1)	/* a secondary key clash we did not see: a race lost */
		return rv_err_set(err, "user.email_already_in_use",
				  "unique index clash");
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
	rc = rv_store_del_key(txn, txn->st->users, id, strlen(id), err);
	if (rc != 1)
		return rc;
	/* the user's records go with the user (logto-spec 3.1: cascade) */
	return rv_store_record_del_user(txn, id, NULL, err) < 0 ? -1 : 1;
}

int
rv_store_user_each(struct rv_txn *txn,
		   int (*fn)(const struct rv_user *u, void *ctx), void *ctx,
		   struct rv_err *err)
{
	DBC *c;
	DBT k, v;
	int ret, rc = 0;

	if ((ret = txn->st->users->cursor(txn->st->users, txn->t, &c, 0)) != 0)
		return rv_store_db_fail(txn, ret, "cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while (rc == 0 && (ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		struct rv_user u;
		json_t *j;

		if (rv_store_load_json(&v, &j, err) < 0) {
			rc = -1;
			break;
		}
		user_from_json(j, &u);
		json_decref(j);
		rc = fn(&u, ctx);
		rv_user_release(&u);
	}
	c->close(c);
	if (rc == 0 && ret != DB_NOTFOUND)
		return rv_store_db_fail(txn, ret, "cursor", err);
	return rc;
}
