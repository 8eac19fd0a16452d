/* rv-mfa.c: enrolling second factors through /api/my-account/mfa-verifications
 * (logto-spec 6.2, 6.7, 8.1.9; issue 20) */
#include "config.h"
#include "rv-mfa.h"
#include "rv-mfa-int.h"

#include <stdlib.h>
#include <string.h>

#include "rv-account.h"
#include "rv-auth.h"
#include "rv-change.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-main.h"
#include "rv-req.h"
#include "rv-seal.h"
#include "rv-store.h"
#include "rv-totp.h"
#include "rv-util.h"

/* ---- shared with rv-mfa-verify.c ------------------------------------------ */

int
rv_mfa_enabled(const struct rv_conf *conf, const char *factor,
	       struct rv_err *err)
{
	if (!rv_conf_list_has(conf->mfa_factors ? conf->mfa_factors : "", factor))
		return rv_err_set(err, "session.mfa.mfa_factor_not_enabled",
				  "<mfa factors> does not name %s", factor);
	if (strcmp(factor, "webauthn") == 0 &&
	    (conf->wa_rp_id == NULL || *conf->wa_rp_id == '\0'))
		return rv_err_set(err, "session.mfa.mfa_factor_not_enabled",
				  "passkeys need <webauthn rp-id>");
	return 0;
}

int
rv_mfa_user(struct rv_txn *txn, const struct rv_caller *c, struct rv_user *u,
	    struct rv_err *err)
{
	char id[RV_ID_MAX + 1];
	int rc;

	if (rv_account_user(txn, c, true, u, err) < 0)
		return -1;
	if (!c->user_is_username)
		return 0;
	/* found through the username index, which does not lock: again by
	 * id, locked, so that two uses of one code run one after the other */
	rv_strlcpy(id, u->id, sizeof(id));
	rv_user_release(u);
	if ((rc = rv_store_user_get(txn, id, true, u, err)) < 0)
		return -1;
	if (rc == 0)
		return rv_err_set(err, "entity.not_found", "the caller's user is gone");
	return 0;
}

int
rv_mfa_audit(struct rv_txn *txn, const char *event, const char *user,
	     const struct rv_req *req, const char *factor_id, struct rv_err *err)
{
	json_t *f = json_pack("{s:s}", "client", req->caller->client_id);
	int rc;

	if (factor_id != NULL)
		json_object_set_new(f, "factor", json_string(factor_id));
	rc = rv_store_audit(txn, event, user, f, err);
	json_decref(f);
	return rc;
}

/* the key of sealed TOTP secrets, read once per process */
static unsigned char seal_key[RV_SEAL_KEY_LEN];
static bool seal_loaded;

const unsigned char *
rv_mfa_seal_key(const struct rv_conf *conf, struct rv_err *err)
{
	char *path;
	int rc;

	if (seal_loaded)
		return seal_key;
	path = rv_conf_mfa_key_path(conf);
	rc = rv_seal_key_load(path, true, seal_key, err);
	free(path);
	if (rc < 0)
		return NULL;
	seal_loaded = true;
	return seal_key;
}

void
rv_mfa_seal_aad(const char *user, const char *factor_id, char *out, size_t size)
{
	snprintf(out, size, "totp %s %s", user, factor_id);
}

long
rv_mfa_totp_key(const struct rv_conf *conf, const char *user,
		const struct rv_factor *f, unsigned char key[RV_TOTP_KEY_MAX],
		struct rv_err *err)
{
	const unsigned char *k = rv_mfa_seal_key(conf, err);
	char aad[2 * RV_ID_MAX];

	if (k == NULL)
		return -1;
	rv_mfa_seal_aad(user, f->id, aad, sizeof(aad));
	return rv_unseal(k, aad, f->secret, key, RV_TOTP_KEY_MAX, err);
}

/* ---- listing --------------------------------------------------------------- */

static json_t *
factor_json(const struct rv_factor *f)
{
	char at[32];
	json_t *o;
	int i, left = 0;

	rv_iso8601_ms(f->created_at, at);
	o = json_pack("{s:s, s:s, s:s}", "id", f->id, "type", rv_factor_type_name(f->type),
		      "createdAt", at);
	if (f->last_used_at > 0) {
		rv_iso8601_ms(f->last_used_at, at);
		json_object_set_new(o, "lastUsedAt", json_string(at));
	}
	if (f->type == RV_FACTOR_WEBAUTHN) {
		if (f->name != NULL)
			json_object_set_new(o, "name", json_string(f->name));
		if (f->agent != NULL)
			json_object_set_new(o, "agent", json_string(f->agent));
	}
	if (f->type == RV_FACTOR_BACKUP_CODES) {
		for (i = 0; i < RV_FACTOR_CODES; i++)
			left += f->code_used_at[i] == 0;
		json_object_set_new(o, "remainCodes", json_integer(left));
	}
	return o;
}

json_t *
rv_mfa_factors_json(const struct rv_user *u)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < u->nfactors; i++)
		json_array_append_new(a, factor_json(&u->factors[i]));
	return a;
}

/* the identities scope: 401, unlike the profile routes' 400 (6.2) */
static int
need_identities(const struct rv_req *req, struct rv_err *err)
{
	if (!rv_auth_has_scope(req->caller, "identities"))
		return rv_err_set(err, "auth.unauthorized",
				  "the token lacks the identities scope");
	return 0;
}

/* After a committed enrolment or removal: the MfaChanged notice to every
 * address of the user (NIST SP 800-63B-4 4.6: a new authenticator is
 * announced; ASVS 5.0 6.3.7) and the on-change programs (mfa.changed). */
static void
notice(struct rv_req *req, const struct rv_user *u)
{
	rv_change_after(req, "mfa.changed", "MfaChanged", u, u, true);
}

struct list_ctx {
	struct rv_req *req;
	json_t *out;
};

static int
list_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct list_ctx *l = vctx;
	struct rv_user u;

	(void)st;
	rv_user_init(&u);
	if (rv_account_user(txn, l->req->caller, false, &u, err) < 0)
		return -1;
	json_decref(l->out);
	l->out = rv_mfa_factors_json(&u);
	rv_user_release(&u);
	return 0;
}

int
rv_mfa_list(struct rv_req *req, json_t **out_r, struct rv_err *err)
{
	struct list_ctx l = { req, NULL };
	struct rv_store *st;

	if (need_identities(req, err) < 0)
		return -1;
	if (req->conf->ac_mfa == RV_FIELD_OFF)
		return rv_err_set(err, "account_center.field_not_enabled",
				  "<account-center mfa> is off");
	if ((st = rv_main_store(err)) == NULL ||
	    rv_store_txn(st, list_body, &l, err) < 0) {
		json_decref(l.out);
		return -1;
	}
	*out_r = l.out;
	return 0;
}

/* ---- the generators ------------------------------------------------------- */

/* the name an authenticator app shows: the username, else the e-mail,
 * else the phone, else the id */
struct label_ctx {
	struct rv_req *req;
	char label[300];
};

static int
label_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct label_ctx *l = vctx;
	struct rv_user u;

	(void)st;
	rv_user_init(&u);
	if (rv_account_user(txn, l->req->caller, false, &u, err) < 0)
		return -1;
	rv_strlcpy(l->label, u.username ? u.username : u.email ? u.email :
		   u.phone ? u.phone : u.id, sizeof(l->label));
	rv_user_release(&u);
	return 0;
}

int
rv_mfa_totp_generate(struct rv_req *req, json_t **out_r, struct rv_err *err)
{
	struct label_ctx l;
	struct rv_store *st;
	char secret[RV_TOTP_SECRET_B32 + 1], *uri = NULL, *qr = NULL;

	memset(&l, 0, sizeof(l));
	l.req = req;
	if (rv_mfa_enabled(req->conf, "totp", err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_store_txn(st, label_body, &l, err) < 0 ||
	    rv_totp_secret_new(secret, err) < 0)
		return -1;
	uri = rv_totp_uri(req->conf->mfa_issuer, l.label, secret);
	qr = rv_qr_data_url(uri, err);
	if (qr != NULL)
		*out_r = json_pack("{s:s, s:s}", "secret", secret, "secretQrCode", qr);
	rv_wipe(secret, sizeof(secret));
	rv_wipe(uri, strlen(uri));
	free(uri);
	if (qr == NULL)
		return -1;
	rv_wipe(qr, strlen(qr));
	free(qr);
	return 0;
}

int
rv_mfa_backup_generate(struct rv_req *req, json_t **out_r, struct rv_err *err)
{
	char codes[RV_BACKUP_CODES][RV_BACKUP_CODE_LEN + 1];
	json_t *a;
	int i;

	if (rv_mfa_enabled(req->conf, "backup-code", err) < 0 ||
	    rv_backup_codes_new(codes, err) < 0)
		return -1;
	a = json_array();
	for (i = 0; i < RV_BACKUP_CODES; i++)
		json_array_append_new(a, json_string(codes[i]));
	rv_wipe(codes, sizeof(codes));
	*out_r = json_pack("{s:o}", "codes", a);
	return 0;
}

/* ---- binding a factor ------------------------------------------------------- */

enum add_kind { ADD_TOTP, ADD_BACKUP, ADD_WEBAUTHN };

struct add_ctx {
	struct rv_req *req;
	enum add_kind kind;
	bool replace;			/* PUT .../totp */
	const char *secret, *code;	/* Totp */
	const char *codes[RV_BACKUP_CODES];	/* BackupCode */
	const char *record_id, *name;	/* WebAuthn */
	struct rv_user user;		/* out: the user as committed */
};

/* The caller's user, locked, then the step-up, the field, the scope and
 * the first-party check, in 6.6.1's order. */
static int
enrol_prelude(struct rv_txn *txn, struct rv_req *req, struct rv_user *u,
	      struct rv_err *err)
{
	if (rv_mfa_user(txn, req->caller, u, err) < 0 ||
	    !rv_account_stepup_proven(txn, req, u->id, RV_CHANGE_MFA, err))
		return -1;
	if (req->conf->ac_mfa != RV_FIELD_EDIT)
		return rv_err_set(err, "account_center.field_not_editable",
				  "<account-center mfa> is not edit");
	if (need_identities(req, err) < 0 ||
	    rv_auth_require_first_party(req->caller, err) < 0)
		return -1;
	return 0;
}

static int
new_factor(struct rv_user *u, enum rv_factor_type t, struct rv_factor **f_r,
	   struct rv_err *err)
{
	struct rv_factor *f = rv_user_factor_add(u);

	if (f == NULL)
		return rv_err_set(err, "guard.invalid_input",
				  "the user has %d factors already", RV_FACTOR_MAX);
	f->type = t;
	f->created_at = rv_store_now();
	*f_r = f;
	return rv_random_id(f->id, RV_RECORD_ID_LEN, err);
}

static int
add_totp(struct rv_txn *txn, struct add_ctx *a, struct rv_user *u,
	 struct rv_err *err)
{
	const struct rv_conf *conf = a->req->conf;
	unsigned char key[RV_TOTP_KEY_MAX];
	const unsigned char *sk;
	struct rv_factor *old = rv_user_factor_of(u, RV_FACTOR_TOTP), *f;
	long long step = -1;
	char aad[2 * RV_ID_MAX];
	bool replay;
	long n;
	int rc = -1;

	if (!rv_totp_secret_valid(a->secret))
		return rv_err_set(err, "user.totp_secret_invalid", "not a base32 secret "
				  "of %d to %d bytes", RV_TOTP_KEY_MIN, RV_TOTP_KEY_MAX);
	n = rv_base32_decode(a->secret, key, sizeof(key));
	if (a->code != NULL &&
	    rv_totp_check(key, (size_t)n, a->code, rv_store_now() / 1000,
			  (int)conf->mfa_totp_window, -1, &step, &replay) != 1) {
		rv_err_set(err, "session.mfa.invalid_totp_code",
			   "the code does not match the new secret");
		goto out;
	}
	if (old != NULL && !a->replace) {
		rv_err_set(err, "user.totp_already_in_use", "the user has a TOTP factor");
		goto out;
	}
	if (old != NULL)
		rv_user_factor_del(u, old);
	if (new_factor(u, RV_FACTOR_TOTP, &f, err) < 0 ||
	    (sk = rv_mfa_seal_key(conf, err)) == NULL)
		goto out;
	rv_mfa_seal_aad(u->id, f->id, aad, sizeof(aad));
	/* the code that confirmed the secret is used up (RFC 6238 5.2) */
	f->last_step = step;
	if ((f->secret = rv_seal(sk, aad, key, (size_t)n, err)) == NULL)
		goto out;
	rc = rv_mfa_audit(txn, old != NULL ? "mfa.totp.replaced" : "mfa.totp.added",
			  u->id, a->req, f->id, err);
out:
	rv_wipe(key, sizeof(key));
	return rc;
}

static int
add_backup(struct rv_store *st, struct rv_txn *txn, struct add_ctx *a,
	   struct rv_user *u, struct rv_err *err)
{
	const unsigned char *pepper = rv_store_pepper(st);
	struct rv_factor *old = rv_user_factor_of(u, RV_FACTOR_BACKUP_CODES), *f;
	int i;

	/* they recover another factor; alone they would be a password
	 * written on paper (6.7) */
	if (rv_user_factor_of(u, RV_FACTOR_TOTP) == NULL &&
	    rv_user_factor_of(u, RV_FACTOR_WEBAUTHN) == NULL)
		return rv_err_set(err, "session.mfa.backup_code_can_not_be_alone",
				  "no other factor");
	if (old != NULL) {
		for (i = 0; i < RV_FACTOR_CODES; i++)
			if (old->code_used_at[i] == 0)
				return rv_err_set(err, "user.backup_code_already_in_use",
						  "the user has unused backup codes");
		rv_user_factor_del(u, old);	/* all used: a new set */
	}
	if (new_factor(u, RV_FACTOR_BACKUP_CODES, &f, err) < 0)
		return -1;
	for (i = 0; i < RV_FACTOR_CODES; i++)
		rv_backup_code_mac(pepper, u->id, a->codes[i], f->code_mac[i]);
	return rv_mfa_audit(txn, "mfa.backup_codes.added", u->id, a->req, f->id, err);
}

static int
add_webauthn(struct rv_txn *txn, struct add_ctx *a, struct rv_user *u,
	     struct rv_err *err)
{
	struct rv_record r;
	struct rv_factor *f;
	json_t *j;
	int rc;

	/* the caller's verified registration (6.3's new-identifier record) */
	rc = rv_store_record_get(txn, a->record_id, true, &r, err);
	if (rc < 0)
		return -1;
	if (rc == 0 || r.type != RV_RECORD_WEBAUTHN || !r.verified ||
	    strcmp(r.owner, u->id) != 0 || r.credential[0] == '\0' ||
	    !rv_account_bound(&r, a->req->caller))
		return rv_err_set(err, "verification_record.not_found",
				  "no verified passkey registration of the caller's");
	if (new_factor(u, RV_FACTOR_WEBAUTHN, &f, err) < 0)
		return -1;
	j = json_loads(r.credential, 0, NULL);
	if (j == NULL || rv_factor_from_json(j, f) < 0 || f->type != RV_FACTOR_WEBAUTHN) {
		json_decref(j);
		rv_user_factor_del(u, f);
		return rv_err_set(err, RV_E_INTERNAL, "store: a registration's "
				  "credential does not read");
	}
	json_decref(j);
	if (a->name != NULL) {
		free(f->name);
		f->name = rv_xstrdup(a->name);
	}
	/* the registration is used up by the factor it made */
	if (rv_store_record_del(txn, r.id, err) < 0)
		return -1;
	return rv_mfa_audit(txn, "mfa.webauthn.added", u->id, a->req, f->id, err);
}

static int
add_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct add_ctx *a = vctx;
	static const char *const factor[] = { "totp", "backup-code", "webauthn" };
	struct rv_user u;
	int rc = -1;

	rv_user_init(&u);
	if (enrol_prelude(txn, a->req, &u, err) < 0 ||
	    rv_mfa_enabled(a->req->conf, factor[a->kind], err) < 0)
		goto out;
	switch (a->kind) {
	case ADD_TOTP:
		rc = add_totp(txn, a, &u, err);
		break;
	case ADD_BACKUP:
		rc = add_backup(st, txn, a, &u, err);
		break;
	case ADD_WEBAUTHN:
		rc = add_webauthn(txn, a, &u, err);
		break;
	}
	if (rc == 0) {
		u.updated_at = rv_store_now();
		rc = rv_store_user_put(txn, &u, err);
	}
	if (rc == 0) {		/* kept for the notice */
		rv_user_release(&a->user);
		a->user = u;
		rv_user_init(&u);
	}
out:
	rv_user_release(&u);
	return rc;
}

/* the body of POST .../mfa-verifications and PUT .../totp (the guard) */
static int
add_parse(struct rv_req *req, bool replace, struct add_ctx *a, struct rv_err *err)
{
	static const char *const types = "Totp BackupCode WebAuthn";
	const char *type = "Totp";
	json_t *codes, *c;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->req = req;
	a->replace = replace;
	if (!replace) {
		if (rv_json_str(req->json, "type", true, 1, 32, &type, err) < 0)
			return -1;
		if (!rv_conf_list_has(types, type))
			return rv_json_invalid(err, "type", "invalid_enum_value",
					       "Expected 'Totp' | 'BackupCode' | "
					       "'WebAuthn', received '%.32s'", type);
	}
	if (strcmp(type, "Totp") == 0) {
		a->kind = ADD_TOTP;
		return rv_json_str(req->json, "secret", true, 1, 256, &a->secret, err) < 0 ||
		       rv_json_str(req->json, "code", false, 1, 16, &a->code, err) < 0 ?
		       -1 : 0;
	}
	if (strcmp(type, "WebAuthn") == 0) {
		a->kind = ADD_WEBAUTHN;
		return rv_json_str(req->json, "newIdentifierVerificationRecordId", true,
				   1, 64, &a->record_id, err) < 0 ||
		       rv_json_str(req->json, "name", false, 1, 128, &a->name, err) < 0 ?
		       -1 : 0;
	}
	a->kind = ADD_BACKUP;
	codes = json_object_get(req->json, "codes");
	if (!json_is_array(codes))
		return rv_json_invalid(err, "codes", "invalid_type",
				       "Expected array, received %s",
				       rv_json_type_name(codes));
	if (json_array_size(codes) != RV_BACKUP_CODES)
		return rv_json_invalid(err, "codes", "invalid_length",
				       "Expected %d codes", RV_BACKUP_CODES);
	json_array_foreach(codes, i, c) {
		const char *s = json_string_value(c);
		size_t k;

		if (s == NULL || !rv_backup_code_valid(s))
			return rv_json_invalid(err, "codes", "invalid_string",
					       "Expected codes of %d letters and digits",
					       RV_BACKUP_CODE_LEN);
		for (k = 0; k < i; k++)
			if (strcasecmp(a->codes[k], s) == 0)
				return rv_json_invalid(err, "codes", "invalid_string",
						       "The codes must differ");
		a->codes[i] = s;
	}
	return 0;
}

int
rv_mfa_add(struct rv_req *req, bool replace_totp, struct rv_err *err)
{
	struct add_ctx a;
	struct rv_store *st;

	int rc;

	if (add_parse(req, replace_totp, &a, err) < 0 ||
	    (st = rv_main_store(err)) == NULL)
		return -1;
	rv_user_init(&a.user);
	if ((rc = rv_store_txn(st, add_body, &a, err)) == 0)
		notice(req, &a.user);
	rv_user_release(&a.user);
	return rc;
}

/* ---- the backup codes' state, renaming, removing ---------------------------- */

struct one_ctx {
	struct rv_req *req;
	const char *id;
	const char *name;
	enum { ONE_CODES, ONE_RENAME, ONE_DELETE } op;
	json_t *out;
	struct rv_user user;	/* out: the user as committed (DELETE) */
};

/* {codes: [{code: null, usedAt}]}: the codes are kept only hashed */
static json_t *
codes_json(const struct rv_factor *f)
{
	json_t *a = json_array();
	char at[32];
	int i;

	for (i = 0; i < RV_FACTOR_CODES; i++) {
		json_t *o = json_pack("{s:n}", "code");

		if (f->code_used_at[i] != 0) {
			rv_iso8601_ms(f->code_used_at[i], at);
			json_object_set_new(o, "usedAt", json_string(at));
		} else {
			json_object_set_new(o, "usedAt", json_null());
		}
		json_array_append_new(a, o);
	}
	return json_pack("{s:o}", "codes", a);
}

static int
one_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct one_ctx *o = vctx;
	struct rv_factor *f;
	struct rv_user u;
	const char *event;
	int rc = -1;

	(void)st;
	rv_user_init(&u);
	json_decref(o->out);
	o->out = NULL;
	if (o->op == ONE_CODES) {
		/* step-up and scope; no field (6.2) */
		if (rv_mfa_user(txn, o->req->caller, &u, err) < 0 ||
		    !rv_account_stepup_proven(txn, o->req, u.id, RV_CHANGE_MFA, err) ||
		    need_identities(o->req, err) < 0)
			goto out;
		if ((f = rv_user_factor_of(&u, RV_FACTOR_BACKUP_CODES)) == NULL) {
			rv_err_set(err, RV_E_NO_RECORD, "the user has no backup codes");
			goto out;
		}
		o->out = codes_json(f);
		rc = 0;
		goto out;
	}
	if (enrol_prelude(txn, o->req, &u, err) < 0)
		goto out;
	if ((f = rv_user_factor(&u, o->id)) == NULL) {
		rv_err_set(err, "verification_record.not_found", "no such factor");
		goto out;
	}
	if (o->op == ONE_RENAME) {
		if (f->type != RV_FACTOR_WEBAUTHN) {
			rv_json_invalid(err, "name", "custom",
					"Only a passkey has a name");
			goto out;
		}
		free(f->name);
		f->name = rv_xstrdup(o->name);
		o->out = factor_json(f);
		event = "mfa.renamed";
	} else {
		rv_user_factor_del(&u, f);
		/* backup codes cannot be alone (6.7): they go with the last
		 * factor they recover */
		if (rv_user_factor_of(&u, RV_FACTOR_TOTP) == NULL &&
		    rv_user_factor_of(&u, RV_FACTOR_WEBAUTHN) == NULL &&
		    (f = rv_user_factor_of(&u, RV_FACTOR_BACKUP_CODES)) != NULL)
			rv_user_factor_del(&u, f);
		event = "mfa.removed";
	}
	u.updated_at = rv_store_now();
	if (rv_store_user_put(txn, &u, err) < 0 ||
	    rv_mfa_audit(txn, event, u.id, o->req, o->id, err) < 0)
		goto out;
	rv_user_release(&o->user);
	o->user = u;
	rv_user_init(&u);
	rc = 0;
out:
	rv_user_release(&u);
	return rc;
}

static void
one_init(struct one_ctx *o, struct rv_req *req, const char *id, int op)
{
	memset(o, 0, sizeof(*o));
	o->req = req;
	o->id = id;
	o->op = op;
	rv_user_init(&o->user);
}

static int
one_run(struct one_ctx *o, struct rv_err *err)
{
	struct rv_store *st = rv_main_store(err);

	if (st == NULL || rv_store_txn(st, one_body, o, err) < 0) {
		json_decref(o->out);
		o->out = NULL;
		return -1;
	}
	return 0;
}

int
rv_mfa_backup_codes(struct rv_req *req, json_t **out_r, struct rv_err *err)
{
	struct one_ctx o;

	one_init(&o, req, NULL, ONE_CODES);
	if (one_run(&o, err) < 0)
		return -1;
	*out_r = o.out;
	return 0;
}

int
rv_mfa_rename(struct rv_req *req, const char *id, json_t **out_r,
	      struct rv_err *err)
{
	struct one_ctx o;

	int rc;

	one_init(&o, req, id, ONE_RENAME);
	if (rv_json_str(req->json, "name", true, 1, 128, &o.name, err) < 0)
		return -1;
	rc = one_run(&o, err);
	rv_user_release(&o.user);
	if (rc < 0)
		return -1;
	*out_r = o.out;
	return 0;
}

int
rv_mfa_delete(struct rv_req *req, const char *id, struct rv_err *err)
{
	struct one_ctx o;
	int rc;

	one_init(&o, req, id, ONE_DELETE);
	if ((rc = one_run(&o, err)) == 0)
		notice(req, &o.user);
	rv_user_release(&o.user);
	return rc;
}

/* ---- reverify-admin user import ----------------------------------------------- */

/* one Logto "Totp" entry: {"type": "Totp", "key": BASE32, ...} */
static int
import_totp(const struct rv_conf *conf, struct rv_user *u, json_t *e,
	    bool check_only, struct rv_err *err)
{
	const char *secret = json_string_value(json_object_get(e, "key"));
	unsigned char key[RV_TOTP_KEY_MAX];
	const unsigned char *sk;
	struct rv_factor *f;
	char aad[2 * RV_ID_MAX];
	long n;
	int rc = -1;

	if (secret == NULL || !rv_totp_secret_valid(secret))
		return rv_err_set(err, "user.totp_secret_invalid",
				  "a Totp entry without a base32 \"key\"");
	if (rv_user_factor_of(u, RV_FACTOR_TOTP) != NULL)
		return rv_err_set(err, "user.totp_already_in_use", "two Totp entries");
	if (new_factor(u, RV_FACTOR_TOTP, &f, err) < 0)
		return -1;
	if (check_only) {
		f->secret = rv_xstrdup("-");
		return 0;
	}
	n = rv_base32_decode(secret, key, sizeof(key));
	rv_mfa_seal_aad(u->id, f->id, aad, sizeof(aad));
	if ((sk = rv_mfa_seal_key(conf, err)) != NULL &&
	    (f->secret = rv_seal(sk, aad, key, (size_t)n, err)) != NULL)
		rc = 0;
	rv_wipe(key, sizeof(key));
	return rc;
}

/* one Logto "BackupCode" entry: {"type": "BackupCode", "codes": [{"code",
 * "usedAt"}]}: Logto keeps the codes in clear; we keep keyed hashes */
static int
import_backup(const unsigned char *pepper, struct rv_user *u, json_t *e,
	      struct rv_err *err)
{
	json_t *codes = json_object_get(e, "codes"), *c, *used;
	struct rv_factor *f;
	size_t i;

	if (json_array_size(codes) != RV_FACTOR_CODES)
		return rv_err_set(err, RV_E_INVALID_INPUT, "a BackupCode entry "
				  "without %d \"codes\"", RV_FACTOR_CODES);
	if (rv_user_factor_of(u, RV_FACTOR_BACKUP_CODES) != NULL)
		return rv_err_set(err, "user.backup_code_already_in_use",
				  "two BackupCode entries");
	if (new_factor(u, RV_FACTOR_BACKUP_CODES, &f, err) < 0)
		return -1;
	json_array_foreach(codes, i, c) {
		const char *code = json_string_value(json_object_get(c, "code"));

		if (code == NULL || !rv_backup_code_valid(code))
			return rv_err_set(err, RV_E_INVALID_INPUT, "backup code %zu "
					  "is not %d letters and digits", i + 1,
					  RV_BACKUP_CODE_LEN);
		rv_backup_code_mac(pepper, u->id, code, f->code_mac[i]);
		used = json_object_get(c, "usedAt");
		if (used != NULL && !json_is_null(used))
			f->code_used_at[i] = f->created_at;
	}
	return 0;
}

int
rv_mfa_import(const struct rv_conf *conf, const unsigned char *pepper,
	      struct rv_user *u, json_t *list, bool check_only, int *skipped_r,
	      struct rv_err *err)
{
	json_t *e;
	size_t i;

	*skipped_r = 0;
	json_array_foreach(list, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		int rc;

		if (type != NULL && strcmp(type, "Totp") == 0)
			rc = import_totp(conf, u, e, check_only, err);
		else if (type != NULL && strcmp(type, "BackupCode") == 0)
			rc = import_backup(pepper, u, e, err);
		else {
			/* a passkey is bound to Logto's RP ID and kept in a
			 * form of its own: registered again, not imported */
			(*skipped_r)++;
			rc = 0;
		}
		if (rc < 0) {
			char msg[sizeof(err->msg)];

			snprintf(msg, sizeof(msg), "mfaVerifications[%zu]: %.200s", i, err->msg);
			rv_strlcpy(err->msg, msg, sizeof(err->msg));
			return -1;
		}
	}
	return 0;
}
