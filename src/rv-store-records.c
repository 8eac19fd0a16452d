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

/* in enum rv_record_type's order */
static const char *const record_types[RV_RECORD_TYPES] = {
	"Password", "EmailVerificationCode", "PhoneVerificationCode",
	"Totp", "BackupCode", "Passkey", "WebAuthn",
};

const char *
rv_record_type_name(enum rv_record_type t)
{
	return (unsigned)t < RV_RECORD_TYPES ? record_types[t] : "Unknown";
}

void
rv_record_init(struct rv_record *r)
{
	memset(r, 0, sizeof(*r));
}

static int
record_from_doc(const struct rv_doc *d, struct rv_record *r, struct rv_err *err)
{
	const struct rv_doc_member *type = rv_store_doc_get(d, "type"),
				   *mac = rv_store_doc_get(d, "code");
	char code[2 * RV_MAC_LEN + 1];
	int i;

	rv_record_init(r);
	for (i = 0; i < RV_RECORD_TYPES; i++)
		if (type != NULL && type->type == RV_DOC_STRING && !type->esc &&
		    type->vlen == strlen(record_types[i]) &&
		    memcmp(type->val, record_types[i], type->vlen) == 0)
			break;
	if (i == RV_RECORD_TYPES)
		return rv_err_set(err, RV_E_INTERNAL, "store: record of unknown type");
	r->type = (enum rv_record_type)i;
	rv_store_doc_copy(d, "id", r->id, sizeof(r->id));
	rv_store_doc_copy(d, "owner", r->owner, sizeof(r->owner));
	rv_store_doc_copy(d, "creator", r->creator, sizeof(r->creator));
	rv_store_doc_copy(d, "identifier", r->identifier, sizeof(r->identifier));
	rv_store_doc_copy(d, "templateType", r->template_type, sizeof(r->template_type));
	rv_store_doc_copy(d, "clientId", r->client_id, sizeof(r->client_id));
	rv_store_doc_copy(d, "sid", r->sid, sizeof(r->sid));
	rv_store_doc_copy(d, "action", r->action, sizeof(r->action));
	rv_store_doc_copy(d, "challenge", r->challenge, sizeof(r->challenge));
	rv_store_doc_copy(d, "credential", r->credential, sizeof(r->credential));
	r->verified = rv_store_doc_true(d, "verified");
	r->created_at = rv_store_doc_int(d, "createdAt");
	r->expires_at = rv_store_doc_int(d, "expiresAt");
	r->verified_at = rv_store_doc_int(d, "verifiedAt");
	r->code_sent_at = rv_store_doc_int(d, "codeSentAt");
	r->tries = (int)rv_store_doc_int(d, "tries");
	rv_store_doc_copy(d, "code", code, sizeof(code));
	r->has_code = mac != NULL && mac->type == RV_DOC_STRING &&
		      mac->vlen == 2 * RV_MAC_LEN &&
		      rv_unhex(code, r->code_mac, RV_MAC_LEN) == 0;
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
	if (r->has_code) {
		rv_hex(r->code_mac, RV_MAC_LEN, hex);
		set_str(j, "code", hex);
	}
	if (r->challenge[0] != '\0')
		set_str(j, "challenge", r->challenge);
	if (r->credential[0] != '\0')
		set_str(j, "credential", r->credential);
	return j;
}

bool
rv_record_id_valid(const char *id)
{
	return id != NULL && strlen(id) == RV_RECORD_ID_LEN &&
	       strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz") == RV_RECORD_ID_LEN;
}

int
rv_store_record_get(struct rv_txn *txn, const char *id, bool for_update,
		    struct rv_record *r, struct rv_err *err)
{
	struct rv_doc d;
	int rc;

	if (!rv_record_id_valid(id))
		return 0;
	rc = rv_store_get_doc(txn, RV_T_RECORDS, id, for_update, &d, err);
	if (rc != 1)
		return rc;
	rc = record_from_doc(&d, r, err);
	rv_store_doc_release(&d);
	if (rc < 0)
		return rv_store_fail(txn, RV_FAULT_FAIL);
	/* expired = missing (logto-spec 3.4), against our clock */
	return r->expires_at > rv_store_now() ? 1 : 0;
}

/* the user a record is filed under: its owner, or the creator of a
 * record for a new identifier */
static const char *
record_uid(const struct rv_record *r)
{
	return r->owner[0] != '\0' ? r->owner : r->creator;
}

int
rv_store_record_put(struct rv_txn *txn, const struct rv_record *r,
		    struct rv_err *err)
{
	struct rv_cols cols;
	json_t *j;
	int rc;

	RV_ASSERT(rv_record_id_valid(r->id));
	memset(&cols, 0, sizeof(cols));
	cols.uid = record_uid(r);
	cols.expires_at = r->expires_at;
	j = record_to_json(r);
	rc = rv_store_put_json(txn, RV_T_RECORDS, r->id, &cols, j, NULL, err);
	json_decref(j);
	return rc;
}

int
rv_store_record_del(struct rv_txn *txn, const char *id, struct rv_err *err)
{
	int rc;

	if (!rv_record_id_valid(id))
		return 0;
	if (txn->fault != RV_FAULT_NONE)
		return -1;
	if ((rc = txn->st->be->del(txn, RV_T_RECORDS, id, err)) == 1)
		txn->wrote |= RV_T_RECORDS;
	return rc;
}

struct record_walk {
	int (*fn)(const struct rv_record *r, void *ctx);
	void *ctx;
	struct rv_err *err;
	long long now;
	/* a deletion walk gathers the ids */
	const char *keep;
	char (*ids)[RV_RECORD_ID_LEN + 1];
	size_t n, cap;
};

static int
record_walk(const char *key, const char *doc, size_t len, void *vctx)
{
	struct record_walk *w = vctx;
	struct rv_record r;
	struct rv_doc d;
	int rc;

	if (w->fn == NULL) {	/* gathering */
		if (!rv_record_id_valid(key) ||
		    (w->keep != NULL && strcmp(key, w->keep) == 0))
			return 0;
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 16;
			w->ids = rv_xrealloc(w->ids, w->cap * sizeof(*w->ids));
		}
		rv_strlcpy(w->ids[w->n++], key, sizeof(*w->ids));
		return 0;
	}
	if (rv_store_doc_parse(doc, len, &d, w->err) < 0)
		return -1;
	rc = record_from_doc(&d, &r, w->err);
	rv_store_doc_release(&d);
	if (rc == 0 && r.expires_at > w->now)
		rc = w->fn(&r, w->ctx);
	return rc;
}

long
rv_store_record_del_user(struct rv_txn *txn, const char *user,
			 const char *keep, struct rv_err *err)
{
	struct record_walk w;
	long n = 0;
	size_t i;
	int rc;

	if (!rv_user_id_valid(user))
		return 0;
	if (txn->fault != RV_FAULT_NONE)
		return -1;
	memset(&w, 0, sizeof(w));
	w.keep = keep;
	w.err = err;
	/* every one the user has, locked, then each by its key: no cap (F8) */
	rc = txn->st->be->each_record(txn, user, true, record_walk, &w, err);
	for (i = 0; rc == 0 && i < w.n; i++) {
		rc = txn->st->be->del(txn, RV_T_RECORDS, w.ids[i], err);
		if (rc == 1) {
			n++;
			rc = 0;
		}
	}
	free(w.ids);
	if (rc < 0)
		return -1;
	if (n > 0)
		txn->wrote |= RV_T_RECORDS;
	return n;
}

int
rv_store_record_each_user(struct rv_txn *txn, const char *user, bool for_update,
			  int (*fn)(const struct rv_record *r, void *ctx),
			  void *ctx, struct rv_err *err)
{
	struct record_walk w;

	if (!rv_user_id_valid(user))
		return 0;
	if (txn->fault != RV_FAULT_NONE)
		return -1;
	memset(&w, 0, sizeof(w));
	w.fn = fn;
	w.ctx = ctx;
	w.err = err;
	w.now = rv_store_now();
	return txn->st->be->each_record(txn, user, for_update, record_walk, &w, err);
}

/* ---- limits -------------------------------------------------------------- */

static void
window_from_doc(const struct rv_doc *d, struct rv_window *w)
{
	memset(w, 0, sizeof(*w));
	w->n = (int)rv_store_doc_ints(d, "events", w->events, RV_WINDOW_MAX);
	w->blocked_until = rv_store_doc_int(d, "blockedUntil");
	w->expires_at = rv_store_doc_int(d, "expiresAt");
}

int
rv_store_window_get(struct rv_txn *txn, const char *key, struct rv_window *w,
		    struct rv_err *err)
{
	struct rv_doc d;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = rv_store_get_doc(txn, RV_T_LIMITS, key, true, &d, err);
	if (rc != 1)
		return rc;
	window_from_doc(&d, w);
	rv_store_doc_release(&d);
	return 1;
}

struct window_walk {
	int (*fn)(const char *key, const struct rv_window *w, void *ctx);
	void *ctx;
	struct rv_err *err;
};

static int
window_walk(const char *key, const char *doc, size_t len, void *vctx)
{
	struct window_walk *ww = vctx;
	struct rv_window w;
	struct rv_doc d;

	if (rv_store_doc_parse(doc, len, &d, ww->err) < 0)
		return -1;
	window_from_doc(&d, &w);
	rv_store_doc_release(&d);
	return ww->fn(key, &w, ww->ctx);
}

int
rv_store_window_each(struct rv_txn *txn,
		     int (*fn)(const char *key, const struct rv_window *w, void *ctx),
		     void *ctx, struct rv_err *err)
{
	struct window_walk ww = { fn, ctx, err };

	if (txn->fault != RV_FAULT_NONE)
		return -1;
	return txn->st->be->each_window(txn, window_walk, &ww, err);
}

int
rv_store_window_put(struct rv_txn *txn, const char *key,
		    const struct rv_window *w, struct rv_err *err)
{
	json_t *j = json_object(), *ev = json_array();
	struct rv_cols cols;
	int i, rc;

	for (i = 0; i < w->n; i++)
		json_array_append_new(ev, json_integer(w->events[i]));
	json_object_set_new(j, "v", json_integer(FORMAT_VERSION));
	json_object_set_new(j, "events", ev);
	json_object_set_new(j, "blockedUntil", json_integer(w->blocked_until));
	json_object_set_new(j, "expiresAt", json_integer(w->expires_at));
	memset(&cols, 0, sizeof(cols));
	cols.expires_at = w->expires_at;
	rc = rv_store_put_json(txn, RV_T_LIMITS, key, &cols, j, NULL, err);
	json_decref(j);
	return rc;
}
