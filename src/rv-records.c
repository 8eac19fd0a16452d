/* rv-records.c: list, revoke and introspect verification records */
#include "config.h"
#include "rv-records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-account.h"
#include "rv-arena.h"
#include "rv-auth.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-req.h"
#include "rv-store.h"
#include "rv-util.h"

/* ---- masking ------------------------------------------------------------ */

void
rv_records_mask_email(const char *email, char *out, size_t size)
{
	const char *at = strrchr(email, '@');
	size_t first = 0;

	if (at == NULL) {
		rv_strlcpy(out, "***", size);
		return;
	}
	/* the first code point of the local part, whole (UTF-8) */
	if (at > email) {
		first = 1;
		while (email + first < at &&
		       ((unsigned char)email[first] & 0xc0) == 0x80)
			first++;
	}
	snprintf(out, size, "%.*s***%s", (int)first, email, at);
}

void
rv_records_mask_phone(const char *phone, char *out, size_t size)
{
	size_t n = strlen(phone), keep = n > 4 ? 4 : 0, i;

	if (size == 0)
		return;
	for (i = 0; i < n - keep && i + 1 < size; i++)
		out[i] = '*';
	rv_strlcpy(out + i, phone + (n - keep), size - i);
}

/* ---- GET /api/verifications ---------------------------------------------- */

struct list_ctx {
	const struct rv_caller *c;
	struct rv_record *recs;
	size_t n, alloc;
};

static int
collect(const struct rv_record *r, void *vctx)
{
	struct list_ctx *l = vctx;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 8;
		l->recs = rv_xrealloc(l->recs, l->alloc * sizeof(*l->recs));
	}
	l->recs[l->n] = *r;
	/* nothing secret leaves the store read */
	rv_wipe(l->recs[l->n].code_mac, sizeof(l->recs[l->n].code_mac));
	l->n++;
	return 0;
}

static int
list_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
	  struct rv_err *err)
{
	struct list_ctx *l = vctx;
	struct rv_user u;
	int rc;

	l->n = 0;		/* a retried transaction starts over */
	rv_user_init(&u);
	if (rv_account_user(txn, l->c, false, &u, err) < 0)
		return -1;
	rc = rv_store_record_each_user(txn, u.id, false, collect, l, err);
	rv_user_release(&u);
	return rc < 0 ? -1 : 0;
}

/* newest first; the id breaks ties so the order is stable */
static int
newest_first(const void *a, const void *b)
{
	const struct rv_record *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? 1 : -1;
	return strcmp(y->id, x->id);
}

static json_t *
record_json(const struct rv_store *st, const struct rv_record *r)
{
	char created[32], expires[32], masked[sizeof(r->identifier) + 8];
	char handle[RV_HANDLE_LEN + 1];
	json_t *o;

	rv_iso8601_ms(r->created_at, created);
	rv_iso8601_ms(r->expires_at, expires);
	/* the handle, never the id: whoever holds the token must not learn
	 * the ids of the user's next step-up from the list (F1) */
	rv_account_handle(st, r->id, handle);
	o = json_pack("{s:s, s:s, s:b}", "handle", handle,
		      "type", rv_record_type_name(r->type), "verified", r->verified);
	switch (r->type) {
	case RV_RECORD_EMAIL_CODE:
		rv_records_mask_email(r->identifier, masked, sizeof(masked));
		break;
	case RV_RECORD_PHONE_CODE:
		rv_records_mask_phone(r->identifier, masked, sizeof(masked));
		break;
	default:
		masked[0] = '\0';	/* Password: the type only */
		break;
	}
	json_object_set_new(o, "identifier", masked[0] ? json_string(masked) : json_null());
	json_object_set_new(o, "templateType",
			    r->type != RV_RECORD_PASSWORD && r->template_type[0] ?
			    json_string(r->template_type) : json_null());
	json_object_set_new(o, "createdAt", json_string(created));
	json_object_set_new(o, "expiresAt", json_string(expires));
	return o;
}

int
rv_records_list(struct rv_store *st, const struct rv_caller *c, json_t **list_r,
		struct rv_err *err)
{
	struct list_ctx l;
	json_t *arr;
	size_t i;

	memset(&l, 0, sizeof(l));
	l.c = c;
	if (rv_store_txn(st, list_body, &l, err) < 0) {
		free(l.recs);
		return -1;
	}
	if (l.n > 1)
		qsort(l.recs, l.n, sizeof(*l.recs), newest_first);
	arr = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(arr, record_json(st, &l.recs[i]));
	free(l.recs);
	*list_r = json_pack("{s:o}", "records", arr);
	return 0;
}

/* ---- DELETE /api/verifications/:id -------------------------------------- */

struct revoke_ctx {
	const struct rv_caller *c;
	const char *ref;		/* a record id or a handle */
	char id[RV_RECORD_ID_LEN + 1];	/* found by handle */
	const struct rv_store *st;
};

static int
find_handle(const struct rv_record *r, void *vctx)
{
	struct revoke_ctx *x = vctx;
	char handle[RV_HANDLE_LEN + 1];

	rv_account_handle(x->st, r->id, handle);
	if (strcmp(handle, x->ref) != 0)
		return 0;
	memcpy(x->id, r->id, sizeof(x->id));
	return 1;
}

static bool
handle_shape(const char *s)
{
	return strlen(s) == RV_HANDLE_LEN && strspn(s, "0123456789abcdef") == RV_HANDLE_LEN;
}

bool
rv_records_ref_ok(const char *s)
{
	return rv_record_id_valid(s) || handle_shape(s);
}

static int
revoke_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
	    struct rv_err *err)
{
	struct revoke_ctx *x = vctx;
	char handle[RV_HANDLE_LEN + 1];
	const char *id = x->ref;
	struct rv_record r;
	struct rv_user u;
	json_t *f;
	int rc;

	rv_user_init(&u);
	if (rv_account_user(txn, x->c, false, &u, err) < 0)
		return -1;
	x->id[0] = '\0';
	if (handle_shape(x->ref)) {
		/* the list's handle: one of the caller's own records */
		if ((rc = rv_store_record_each_user(txn, u.id, false, find_handle, x, err)) < 0)
			goto out;
		id = x->id;
	}
	rc = *id != '\0' ? rv_store_record_get(txn, id, true, &r, err) : 0;
	if (rc < 0)
		goto out;
	/* missing, expired and someone else's look the same */
	if (rc == 0 || !rv_account_owns(&r, u.id)) {
		rc = rv_err_set(err, RV_E_NO_RECORD,
				"no record of user '%s' to revoke", u.id);
		goto out;
	}
	if ((rc = rv_store_record_del(txn, r.id, err)) < 0)
		goto out;
	rv_account_handle(st, r.id, handle);
	f = json_pack("{s:s, s:s}", "record", handle, "client", x->c->client_id);
	rc = rv_store_audit(txn, "record.revoked", u.id, f, err);
	json_decref(f);
out:
	rv_user_release(&u);
	return rc < 0 ? -1 : 0;
}

int
rv_records_revoke(struct rv_store *st, const struct rv_caller *c, const char *id,
		  struct rv_err *err)
{
	struct revoke_ctx x;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.ref = id ? id : "";
	x.st = st;

	return rv_store_txn(st, revoke_body, &x, err);
}

/* ---- introspection: the service credentials ------------------------------ */

#define CLIENT_ID_MAX 255
#define BASIC_MAX 1024		/* decoded credentials, bytes */

struct client {
	char id[CLIENT_ID_MAX + 1];
	unsigned char hash[32];	/* SHA-256 of the secret */
};

static struct client *clients;
static size_t nclients;

static int
client_add(const char *word, size_t n, struct rv_err *err)
{
	const char *colon = memchr(word, ':', n);
	size_t idlen, i;
	char hex[65];

	if (colon == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "<introspection clients>: '%.*s' is not CLIENT_ID:SHA256_HEX",
				  (int)(n > 64 ? 64 : n), word);
	idlen = (size_t)(colon - word);
	if (idlen == 0 || idlen > CLIENT_ID_MAX)
		return rv_err_set(err, RV_E_INTERNAL,
				  "<introspection clients>: a client id must have 1-%d characters",
				  CLIENT_ID_MAX);
	for (i = 0; i < idlen; i++)
		if ((unsigned char)word[i] <= 0x20 || (unsigned char)word[i] >= 0x7f)
			return rv_err_set(err, RV_E_INTERNAL,
					  "<introspection clients>: client ids are printable ASCII");
	for (i = 0; i < nclients; i++)
		if (strlen(clients[i].id) == idlen && memcmp(clients[i].id, word, idlen) == 0)
			return rv_err_set(err, RV_E_INTERNAL,
					  "<introspection clients>: client '%.*s' is listed twice",
					  (int)idlen, word);
	clients = rv_xrealloc(clients, (nclients + 1) * sizeof(*clients));
	memcpy(clients[nclients].id, word, idlen);
	clients[nclients].id[idlen] = '\0';
	if (n - idlen - 1 != 64)
		goto bad_hash;
	memcpy(hex, colon + 1, 64);
	hex[64] = '\0';
	if (rv_unhex(hex, clients[nclients].hash, 32) < 0)
		goto bad_hash;
	nclients++;
	return 0;
bad_hash:
	return rv_err_set(err, RV_E_INTERNAL,
			  "<introspection clients>: client '%s': the secret must be given "
			  "as 64 hex digits of its SHA-256", clients[nclients].id);
}

int
rv_records_intro_setup(const struct rv_conf *conf, struct rv_err *err)
{
	const char *p = conf->intro_clients ? conf->intro_clients : "";

	free(clients);
	clients = NULL;
	nclients = 0;
	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n > 0 && client_add(p, n, err) < 0)
			return -1;
		p += n;
		p += strspn(p, " ");
	}
	if (nclients == 0)
		rv_log_warnx("no <introspection clients>: every introspection is refused");
	return 0;
}

void
rv_records_intro_teardown(void)
{
	if (clients != NULL)
		rv_wipe(clients, nclients * sizeof(*clients));
	free(clients);
	clients = NULL;
	nclients = 0;
}

static int
intro_denied(struct rv_err *err, const char *why)
{
	rv_err_set(err, "auth.unauthorized", "introspection: %s", why);
	rv_err_header(err, "WWW-Authenticate", "Basic realm=\"reverify introspection\"");
	return -1;
}

int
rv_records_intro_gate(struct rv_req *req, struct rv_resp *resp,
		      struct rv_err *err)
{
	const char *h = rv_req_header(req, "Authorization");
	unsigned char cred[BASIC_MAX], digest[32];
	const unsigned char *colon;
	const char *why = NULL;
	struct rv_caller *c;
	size_t n, len, idlen, i;
	long found = -1, known = -1;

	(void)resp;
	if (h == NULL)
		return intro_denied(err, "no Authorization header");
	/* RFC 7617: the scheme is case-insensitive; user tokens are refused */
	if (!rv_str_iprefix(h, "Basic "))
		return intro_denied(err, "not Basic credentials");
	h += 6;
	h += strspn(h, " ");
	n = strcspn(h, " ");
	if (h[n + strspn(h + n, " ")] != '\0' ||
	    rv_b64_decode(h, n, RV_B64_STD, RV_B64_PAD_OPT, cred, sizeof(cred),
			  &len) < 0) {
		why = "malformed Basic credentials";
		goto out;
	}
	if (memchr(cred, '\0', len) != NULL ||
	    (colon = memchr(cred, ':', len)) == NULL) {
		why = "malformed Basic credentials";
		goto out;
	}
	idlen = (size_t)(colon - cred);
	rv_sha256(colon + 1, len - idlen - 1, digest);
	/* every entry costs the same: no early exit on the secret */
	for (i = 0; i < nclients; i++) {
		bool id_ok = strlen(clients[i].id) == idlen &&
			     memcmp(clients[i].id, cred, idlen) == 0;
		bool secret_ok = rv_memeq_secret(clients[i].hash, digest, sizeof(digest));

		if (id_ok && known < 0)
			known = (long)i;
		if (id_ok && secret_ok && found < 0)
			found = (long)i;
	}
	if (found < 0) {
		/* only a configured id goes to the log, never what was sent */
		why = nclients == 0 ? "no clients configured" :
		      known < 0 ? "unknown client" :
		      rv_arena_printf(req->arena, "client '%s': wrong secret",
				      clients[known].id);
		goto out;
	}
	c = rv_arena_zalloc(req->arena, sizeof(*c));
	rv_strlcpy(c->client_id, clients[found].id, sizeof(c->client_id));
	req->caller = c;
out:
	rv_wipe(digest, sizeof(digest));
	rv_wipe(cred, sizeof(cred));
	return why == NULL ? 0 : intro_denied(err, why);
}

/* ---- introspection: the answer ------------------------------------------- */

int
rv_records_intro_parse(json_t *body, struct rv_records_query *q,
		       struct rv_err *err)
{
	json_t *v;

	memset(q, 0, sizeof(*q));
	if (rv_json_str(body, "verificationRecordId", true, 1, 256, &q->record_id, err) < 0 ||
	    rv_json_str(body, "userId", true, 1, 256, &q->user_id, err) < 0 ||
	    rv_json_str(body, "action", false, 1, RV_ACTION_MAX, &q->action, err) < 0)
		return -1;
	if (q->action != NULL && !rv_account_action_ok(q->action))
		return rv_json_invalid(err, "action", "invalid_string",
				       "Invalid action: ^[a-z0-9._:-]{1,64}$");
	v = json_object_get(body, "consume");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_boolean(v))
			return rv_json_invalid(err, "consume", "invalid_type",
					       "Expected boolean, received %s",
					       rv_json_type_name(v));
		q->consume = json_is_true(v);
	}
	return 0;
}

struct intro_ctx {
	const struct rv_conf *conf;
	const char *client;
	const struct rv_records_query *q;
	struct rv_record rec;
	bool active, consumed;
};

/* does the record serve the action asked for? One with an action serves
 * only that action; one without serves only a question naming none */
static bool
action_fits(const struct rv_record *r, const char *asked)
{
	return asked == NULL ? r->action[0] == '\0' : strcmp(r->action, asked) == 0;
}

/* the owner still exists and is not suspended (F3) */
static int
owner_in_good_standing(struct rv_txn *txn, const char *id, struct rv_err *err)
{
	struct rv_user u;
	int rc;

	rv_user_init(&u);
	rc = rv_store_user_get(txn, id, false, &u, err);
	if (rc == 1 && u.suspended)
		rc = 0;
	rv_user_release(&u);
	return rc;
}

static int
intro_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
	   struct rv_err *err)
{
	struct intro_ctx *x = vctx;
	char handle[RV_HANDLE_LEN + 1];
	const char *user;
	json_t *f;
	int rc;

	x->active = x->consumed = false;
	/* write-locked when it may be consumed: concurrent consumes queue
	 * here and the later ones find it gone */
	rc = rv_store_record_get(txn, x->q->record_id, x->q->consume, &x->rec, err);
	if (rc < 0)
		return -1;
	x->active = rc == 1 && rv_account_proves(&x->rec, x->q->user_id) &&
		    action_fits(&x->rec, x->q->action);
	if (x->active) {
		if ((rc = owner_in_good_standing(txn, x->rec.owner, err)) < 0)
			return -1;
		x->active = rc == 1;
	}
	/* consume means consume, in either step-up mode (F6) */
	if (x->active && x->q->consume) {
		if (rv_store_record_del(txn, x->rec.id, err) < 0)
			return -1;
		x->consumed = true;
	}
	f = json_pack("{s:s, s:b, s:b}", "client", x->client, "active", x->active,
		      "consumed", x->consumed);
	if (rv_record_id_valid(x->q->record_id)) {
		rv_account_handle(st, x->q->record_id, handle);
		json_object_set_new(f, "record", json_string(handle));
	}
	if (x->q->action != NULL)
		json_object_set_new(f, "action", json_string(x->q->action));
	user = rv_user_id_valid(x->q->user_id) ? x->q->user_id : NULL;
	rc = rv_store_audit(txn, "record.introspected", user, f, err);
	json_decref(f);
	return rc;
}

int
rv_records_introspect(struct rv_store *st, const struct rv_conf *conf,
		      const char *client_id, const struct rv_records_query *q,
		      json_t **answer_r, struct rv_err *err)
{
	struct intro_ctx x;
	char verified[32], expires[32];
	json_t *o;

	memset(&x, 0, sizeof(x));
	x.conf = conf;
	x.client = client_id;
	x.q = q;
	if (rv_store_txn(st, intro_body, &x, err) < 0) {
		rv_wipe(&x.rec, sizeof(x.rec));
		return -1;
	}
	if (!x.active) {
		rv_wipe(&x.rec, sizeof(x.rec));
		*answer_r = json_pack("{s:b}", "active", 0);
		return 0;
	}
	rv_iso8601_ms(x.rec.verified_at, verified);
	rv_iso8601_ms(x.rec.expires_at, expires);
	o = json_pack("{s:b, s:s, s:s, s:s, s:s}", "active", 1,
		      "type", rv_record_type_name(x.rec.type),
		      "verifiedAt", verified, "expiresAt", expires,
		      "userId", x.rec.owner);
	/* only what was checked: the action asked for, which matched */
	if (q->action != NULL)
		json_object_set_new(o, "action", json_string(q->action));
	if (x.consumed)
		json_object_set_new(o, "consumed", json_true());
	rv_wipe(&x.rec, sizeof(x.rec));
	*answer_r = o;
	return 0;
}
