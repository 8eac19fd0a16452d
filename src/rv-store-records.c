/* rv-store-records.c: the store's verification records and limit windows */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <stdlib.h>
#include <string.h>

#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

/* ---- records ---------------------------------------------------------------- */

static const char *const record_types[] = {
	"Password", "EmailVerificationCode", "PhoneVerificationCode",
};

const char *
rv_record_type_name(enum rv_record_type t)
{
	return (unsigned)t < 3 ? record_types[t] : "Unknown";
}

void
rv_record_init(struct rv_record *r)
{
	memset(r, 0, sizeof(*r));
	r->uses_left = -1;
}

static int
record_from_json(json_t *j, struct rv_record *r, struct rv_err *err)
{
	const char *type = jstr(j, "type"), *code = jstr(j, "code");
	int i;

	rv_record_init(r);
	for (i = 0; i < 3; i++)
		if (type && strcmp(type, record_types[i]) == 0)
			break;
	if (i == 3)
		return rv_err_set(err, RV_E_INTERNAL, "store: record of unknown type");
	r->type = (enum rv_record_type)i;
	copy_str(r->id, sizeof(r->id), jstr(j, "id"));
	copy_str(r->owner, sizeof(r->owner), jstr(j, "owner"));
	copy_str(r->creator, sizeof(r->creator), jstr(j, "creator"));
	copy_str(r->identifier, sizeof(r->identifier), jstr(j, "identifier"));
	copy_str(r->template_type, sizeof(r->template_type), jstr(j, "templateType"));
	copy_str(r->client_id, sizeof(r->client_id), jstr(j, "clientId"));
	copy_str(r->sid, sizeof(r->sid), jstr(j, "sid"));
	copy_str(r->action, sizeof(r->action), jstr(j, "action"));
	r->verified = json_is_true(json_object_get(j, "verified"));
	r->created_at = jint(j, "createdAt");
	r->expires_at = jint(j, "expiresAt");
	r->verified_at = jint(j, "verifiedAt");
	r->code_sent_at = jint(j, "codeSentAt");
	r->tries = (int)jint(j, "tries");
	r->uses_left = json_is_integer(json_object_get(j, "usesLeft")) ?
		       (int)jint(j, "usesLeft") : -1;
	r->has_code = code != NULL && rv_unhex(code, r->code_mac, RV_MAC_LEN) == 0;
	return 0;
}

static json_t *
record_to_json(const struct rv_record *r)
{
	json_t *j = json_object();
	char hex[2 * RV_MAC_LEN + 1];

	json_object_set_new(j, "v", json_integer(FORMAT_VERSION));
	set_str(j, "id", r->id);
	set_str(j, "type", rv_record_type_name(r->type));
	set_str(j, "owner", r->owner);
	set_str(j, "creator", r->creator);
	set_str(j, "identifier", r->identifier);
	set_str(j, "templateType", r->template_type);
	set_str(j, "clientId", r->client_id);
	if (r->sid[0] != '\0')
		set_str(j, "sid", r->sid);
	set_str(j, "action", r->action);
	json_object_set_new(j, "verified", json_boolean(r->verified));
	json_object_set_new(j, "createdAt", json_integer(r->created_at));
	json_object_set_new(j, "expiresAt", json_integer(r->expires_at));
	json_object_set_new(j, "verifiedAt", json_integer(r->verified_at));
	json_object_set_new(j, "codeSentAt", json_integer(r->code_sent_at));
	json_object_set_new(j, "tries", json_integer(r->tries));
	if (r->uses_left >= 0)
		json_object_set_new(j, "usesLeft", json_integer(r->uses_left));
	if (r->has_code) {
		rv_hex(r->code_mac, RV_MAC_LEN, hex);
		set_str(j, "code", hex);
	}
	return j;
}

bool
rv_record_id_valid(const char *id)
{
	return id != NULL && strlen(id) == RV_RECORD_ID_LEN &&
	       strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz") == RV_RECORD_ID_LEN;
}

int
rv_store_record_get(struct rv_txn *txn, const char *id, bool rmw,
		    struct rv_record *r, struct rv_err *err)
{
	json_t *j;
	int rc;

	if (!rv_record_id_valid(id))
		return 0;
	rc = rv_store_get_json(txn, txn->st->records, id, RV_RECORD_ID_LEN, rmw, &j, err);
	if (rc != 1)
		return rc;
	rc = record_from_json(j, r, err);
	json_decref(j);
	if (rc < 0)
		return -1;
	/* expired = missing (logto-spec 3.4), against our clock */
	return r->expires_at > rv_store_now() ? 1 : 0;
}

int
rv_store_record_put(struct rv_txn *txn, const struct rv_record *r,
		    struct rv_err *err)
{
	json_t *j;
	int rc;

	RV_ASSERT(rv_record_id_valid(r->id));
	j = record_to_json(r);
	rc = rv_store_put_json(txn, txn->st->records, r->id, RV_RECORD_ID_LEN, j, 0, err);
	json_decref(j);
	return rc;
}

int
rv_store_record_del(struct rv_txn *txn, const char *id, struct rv_err *err)
{
	if (!rv_record_id_valid(id))
		return 0;
	return rv_store_del_key(txn, txn->st->records, id, RV_RECORD_ID_LEN,
				err);
}

/* A cursor on the owner index, and the DBTs of a walk of user's records */
static int
owner_cursor(struct rv_txn *txn, const char *user, DBC **c, DBT *k, DBT *pk,
	     DBT *v, struct rv_err *err)
{
	int ret;

	if ((ret = txn->st->records_user->cursor(txn->st->records_user, txn->t, c, 0)) != 0)
		return rv_store_db_fail(txn, ret, "cursor", err);
	memset(k, 0, sizeof(*k));
	memset(pk, 0, sizeof(*pk));
	memset(v, 0, sizeof(*v));
	k->data = (void *)user;
	k->size = (u_int32_t)strlen(user);
	return 0;
}

long
rv_store_record_del_user(struct rv_txn *txn, const char *user,
			 const char *keep, struct rv_err *err)
{
	DBC *c;
	DBT k, pk, v;
	long n = 0;
	int ret;

	if (!rv_user_id_valid(user))
		return 0;
	if (owner_cursor(txn, user, &c, &k, &pk, &v, err) < 0)
		return -1;
	/* through the owner index until none is left: no cap (F8) */
	ret = c->pget(c, &k, &pk, &v, DB_SET | DB_RMW);
	while (ret == 0) {
		if (keep == NULL || pk.size != strlen(keep) ||
		    memcmp(pk.data, keep, pk.size) != 0) {
			if ((ret = c->del(c, 0)) != 0)
				break;
			n++;
		}
		ret = c->pget(c, &k, &pk, &v, DB_NEXT_DUP | DB_RMW);
	}
	c->close(c);
	if (ret != DB_NOTFOUND)
		return rv_store_db_fail(txn, ret, "delete records", err);
	return n;
}

int
rv_store_record_each_user(struct rv_txn *txn, const char *user,
			  int (*fn)(const struct rv_record *r, void *ctx),
			  void *ctx, struct rv_err *err)
{
	DBC *c;
	DBT k, pk, v;
	long long now = rv_store_now();
	int ret, rc = 0;

	if (!rv_user_id_valid(user))
		return 0;
	if (owner_cursor(txn, user, &c, &k, &pk, &v, err) < 0)
		return -1;
	for (ret = c->pget(c, &k, &pk, &v, DB_SET); rc == 0 && ret == 0;
	     ret = c->pget(c, &k, &pk, &v, DB_NEXT_DUP)) {
		struct rv_record r;
		json_t *j;

		if (rv_store_load_json(&v, &j, err) < 0) {
			rc = -1;
			break;
		}
		rc = record_from_json(j, &r, err);
		json_decref(j);
		if (rc == 0 && r.expires_at > now)
			rc = fn(&r, ctx);
	}
	c->close(c);
	if (rc == 0 && ret != DB_NOTFOUND)
		return rv_store_db_fail(txn, ret, "cursor", err);
	return rc;
}

/* ---- limits -------------------------------------------------------------- */

int
rv_store_window_get(struct rv_txn *txn, const char *key, struct rv_window *w,
		    struct rv_err *err)
{
	json_t *j, *ev;
	size_t i;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = rv_store_get_json(txn, txn->st->limits, key, strlen(key), true, &j,
			       err);
	if (rc != 1)
		return rc;
	ev = json_object_get(j, "events");
	for (i = 0; i < json_array_size(ev) && w->n < RV_WINDOW_MAX; i++)
		w->events[w->n++] = (long long)json_integer_value(json_array_get(ev, i));
	w->blocked_until = jint(j, "blockedUntil");
	w->expires_at = jint(j, "expiresAt");
	json_decref(j);
	return 1;
}

int
rv_store_window_put(struct rv_txn *txn, const char *key,
		    const struct rv_window *w, struct rv_err *err)
{
	json_t *j = json_object(), *ev = json_array();
	int i, rc;

	for (i = 0; i < w->n; i++)
		json_array_append_new(ev, json_integer(w->events[i]));
	json_object_set_new(j, "v", json_integer(FORMAT_VERSION));
	json_object_set_new(j, "events", ev);
	json_object_set_new(j, "blockedUntil", json_integer(w->blocked_until));
	json_object_set_new(j, "expiresAt", json_integer(w->expires_at));
	rc = rv_store_put_json(txn, txn->st->limits, key, strlen(key), j, 0,
			       err);
	json_decref(j);
	return rc;
}
