/* rv-mfa-verify.c: step-up by a second factor: a TOTP code, a backup code, a
 * passkey; and the passkey ceremonies (logto-spec 2.5; issue 20) */
#include "config.h"
#include "rv-mfa.h"
#include "rv-mfa-int.h"

#include <stdlib.h>
#include <string.h>

#include "rv-account.h"
#include "rv-auth.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-lockout.h"
#include "rv-log.h"
#include "rv-main.h"
#include "rv-req.h"
#include "rv-store.h"
#include "rv-util.h"
#include "rv-webauthn.h"

enum outcome { SV_OK, SV_WRONG, SV_BLOCKED };

struct sv {
	struct rv_req *req;
	enum rv_record_type type;	/* of the record a success makes */
	const char *code;		/* Totp, BackupCode */
	const char *action;		/* of the new record, or NULL */
	const char *record_id;		/* a ceremony's record */
	json_t *payload;		/* a ceremony's browser answer */
	bool registration;
	struct rv_record *rec;
	/* out */
	enum outcome outcome;
	long long until;
	char user[RV_ID_MAX + 1];
	char pool[65], streak[65];
	struct rv_err why;		/* a refused ceremony's reason */
	json_t *options;
};

static const char *const event_ok[] = {
	[RV_RECORD_TOTP] = "verify.totp.ok",
	[RV_RECORD_BACKUP_CODE] = "verify.backup_code.ok",
	[RV_RECORD_PASSKEY] = "verify.passkey.ok",
};
static const char *const event_failed[] = {
	[RV_RECORD_TOTP] = "verify.totp.failed",
	[RV_RECORD_BACKUP_CODE] = "verify.backup_code.failed",
	[RV_RECORD_PASSKEY] = "verify.passkey.failed",
};

/* The factor's lockout pool (5.1: each second factor has its own, as in
 * Logto) and the account's consecutive failures: 1 blocked, 0 not. */
static int
sv_blocked(struct rv_store *st, struct rv_txn *txn, struct sv *v,
	   enum rv_lockout_kind kind, struct rv_err *err)
{
	int rc;

	rv_lockout_key(st, kind, v->user, NULL, v->pool);
	rv_lockout_key(st, RV_LOCKOUT_ACCOUNT, v->user, NULL, v->streak);
	rc = rv_lockout_check2(txn, v->pool, v->streak, &v->until, err);
	if (rc == 1)
		v->outcome = SV_BLOCKED;
	return rc;
}

/* A wrong proof: counted; the body then commits (0), and the caller
 * answers from v->outcome. */
static int
sv_fail(struct rv_txn *txn, struct sv *v, const char *factor_id,
	struct rv_err *err)
{
	bool streak;
	int rc = rv_lockout_fail2(txn, v->req->conf, v->pool, v->streak,
				  &v->until, &streak, err);

	if (rc < 0)
		return -1;
	v->outcome = rc > 0 ? SV_BLOCKED : SV_WRONG;
	if (rc == 1)	/* refused during a block: not audited again */
		return 0;
	return rv_mfa_audit(txn, streak ? "lockout.consecutive" :
			    rc == 2 ? "lockout.started" : event_failed[v->type],
			    v->user, v->req, factor_id, err);
}

/* A right proof: the account's failures forgotten, the user (its factor's
 * use) written, and the record verified: v->rec when it exists (a
 * ceremony's), else a new one. */
static int
sv_ok(struct rv_txn *txn, struct sv *v, struct rv_user *u, struct rv_factor *f,
      bool existing, struct rv_err *err)
{
	const struct rv_conf *conf = v->req->conf;
	struct rv_record *r = v->rec;
	long long now = rv_store_now();

	f->last_used_at = now;
	u->updated_at = now;
	if (rv_lockout_streak_reset(txn, v->streak, err) < 0 ||
	    rv_store_user_put(txn, u, err) < 0)
		return -1;
	if (!existing) {
		rv_record_init(r);
		if (rv_random_id(r->id, RV_RECORD_ID_LEN, err) < 0)
			return -1;
		r->type = v->type;
		rv_strlcpy(r->owner, u->id, sizeof(r->owner));
		rv_strlcpy(r->creator, u->id, sizeof(r->creator));
		rv_strlcpy(r->identifier, u->id, sizeof(r->identifier));
		rv_account_bind(r, v->req->caller);
		if (v->action != NULL)
			rv_strlcpy(r->action, v->action, sizeof(r->action));
		r->created_at = now;
		r->expires_at = now + conf->ver_record_ttl * 1000;
	}
	r->verified = true;
	r->verified_at = now;
	r->challenge[0] = '\0';		/* used up: no second verify */
	if ((existing ? rv_store_record_put(txn, r, err) :
	     rv_account_record_add(txn, conf, r, err)) < 0)
		return -1;
	v->outcome = SV_OK;
	return rv_mfa_audit(txn, event_ok[v->type], u->id, v->req, f->id, err);
}

/* ---- TOTP and backup codes ---------------------------------------------------- */

/* Does the code match the user's TOTP factor f? 1 yes (f's step moved on),
 * 0 no, -1 error (the secret does not open). */
static int
totp_match(const struct sv *v, struct rv_factor *f, struct rv_err *err)
{
	unsigned char key[RV_TOTP_KEY_MAX];
	long long step;
	bool replay;
	long n = rv_mfa_totp_key(v->req->conf, v->user, f, key, err);
	int rc;

	if (n < 0)
		return -1;
	rc = rv_totp_check(key, (size_t)n, v->code, rv_store_now() / 1000,
			   (int)v->req->conf->mfa_totp_window, f->last_step,
			   &step, &replay);
	rv_wipe(key, sizeof(key));
	if (rc == 1)
		f->last_step = step;
	else if (replay)
		rv_log_info("user '%s': a TOTP code used before (RFC 6238 5.2)",
			    v->user);
	return rc == 1;
}

/* Does the code match an unused backup code of f? Every code is compared,
 * in constant time; the one matched is used up. */
static int
backup_match(struct rv_store *st, const struct sv *v, struct rv_factor *f)
{
	unsigned char mac[RV_MAC_LEN];
	int i, hit = -1;

	if (!rv_backup_code_valid(v->code))
		return 0;
	rv_backup_code_mac(rv_store_pepper(st), v->user, v->code, mac);
	for (i = 0; i < RV_FACTOR_CODES; i++)
		if (rv_memeq_secret(mac, f->code_mac[i], RV_MAC_LEN) &&
		    f->code_used_at[i] == 0)
			hit = i;
	if (hit < 0)
		return 0;
	f->code_used_at[hit] = rv_store_now();
	return 1;
}

static int
code_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct sv *v = vctx;
	bool totp = v->type == RV_RECORD_TOTP;
	struct rv_factor *f;
	struct rv_user u;
	int rc = -1;

	rv_user_init(&u);
	if (rv_mfa_user(txn, v->req->caller, &u, err) < 0 ||
	    rv_mfa_enabled(v->req->conf, totp ? "totp" : "backup-code", err) < 0)
		goto out;
	rv_strlcpy(v->user, u.id, sizeof(v->user));
	if ((f = rv_user_factor_of(&u, totp ? RV_FACTOR_TOTP :
				   RV_FACTOR_BACKUP_CODES)) == NULL) {
		rv_err_set(err, "verification_record.factor_not_enrolled",
			   "the user has no %s", totp ? "TOTP factor" : "backup codes");
		goto out;
	}
	if ((rc = sv_blocked(st, txn, v, totp ? RV_LOCKOUT_TOTP :
			     RV_LOCKOUT_BACKUP_CODE, err)) != 0)
		goto out;
	rc = totp ? totp_match(v, f, err) : backup_match(st, v, f);
	if (rc >= 0)
		rc = rc == 1 ? sv_ok(txn, v, &u, f, false, err) :
		     sv_fail(txn, v, f->id, err);
out:
	rv_user_release(&u);
	return rc < 0 ? -1 : 0;
}

/* the answer of a body that committed (0) from v->outcome */
static int
sv_answer(const struct sv *v, const char *wrong_code, struct rv_err *err)
{
	switch (v->outcome) {
	case SV_OK:
		return 0;
	case SV_BLOCKED:
		rv_log_info("user '%s': second-factor attempt while blocked", v->user);
		return rv_lockout_error(v->until, err);
	case SV_WRONG:
		break;
	}
	if (v->why.msg[0] != '\0')
		return rv_err_set(err, wrong_code, "%s", v->why.msg);
	return rv_err_set(err, wrong_code, "wrong %s", v->type == RV_RECORD_TOTP ?
			  "TOTP code" : v->type == RV_RECORD_BACKUP_CODE ?
			  "backup code" : "passkey");
}

static void
sv_init(struct sv *v, struct rv_req *req, enum rv_record_type type,
	bool registration, struct rv_record *rec_r)
{
	memset(v, 0, sizeof(*v));
	rv_err_init(&v->why);
	v->req = req;
	v->type = type;
	v->registration = registration;
	v->rec = rec_r;
}

static int
code_run(struct rv_req *req, enum rv_record_type type, const char *wrong,
	 struct rv_record *rec_r, struct rv_err *err)
{
	struct rv_store *st;
	struct sv v;

	sv_init(&v, req, type, false, rec_r);
	/* the body, then first-party (2.1's order) */
	if (rv_json_str(req->json, "code", true, 1, 64, &v.code, err) < 0 ||
	    rv_account_action_param(req->json, &v.action, err) < 0 ||
	    rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_store_txn(st, code_body, &v, err) < 0)
		return -1;
	return sv_answer(&v, wrong, err);
}

int
rv_mfa_verify_totp(struct rv_req *req, struct rv_record *rec_r,
		   struct rv_err *err)
{
	return code_run(req, RV_RECORD_TOTP, "session.mfa.invalid_totp_code",
			rec_r, err);
}

int
rv_mfa_verify_backup(struct rv_req *req, struct rv_record *rec_r,
		     struct rv_err *err)
{
	return code_run(req, RV_RECORD_BACKUP_CODE, "session.mfa.invalid_backup_code",
			rec_r, err);
}

/* ---- passkeys ------------------------------------------------------------------ */

#define MAX_ORIGINS 8

/* the relying party of <webauthn>: its origins, split (default
 * https://RP-ID), into buf */
struct rp {
	struct rv_webauthn_rp rp;
	const char *origins[MAX_ORIGINS + 1];
	char buf[1024];
};

static void
rp_of(const struct rv_conf *conf, struct rp *r)
{
	const char *list = conf->wa_origins;
	char *p, *save = NULL;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->rp.rp_id = conf->wa_rp_id;
	r->rp.rp_name = conf->wa_rp_name;
	r->rp.require_uv = conf->wa_uv == RV_UV_REQUIRED;
	r->rp.origins = r->origins;
	if (list == NULL || *list == '\0')
		snprintf(r->buf, sizeof(r->buf), "https://%s", conf->wa_rp_id);
	else
		rv_strlcpy(r->buf, list, sizeof(r->buf));
	for (p = strtok_r(r->buf, " ", &save); p != NULL && n < MAX_ORIGINS;
	     p = strtok_r(NULL, " ", &save))
		r->origins[n++] = p;
}

/* a stored passkey as rv-webauthn.h takes it (borrowed strings) */
static void
cred_of(const struct rv_factor *f, struct rv_webauthn_cred *c)
{
	memset(c, 0, sizeof(*c));
	c->cred_id = f->cred_id;
	c->cose_alg = f->cose_alg;
	c->public_key = f->public_key;
	c->sign_count = f->sign_count;
	memcpy(c->aaguid, f->aaguid, sizeof(c->aaguid));
	c->transports = f->transports;
	c->backup_eligible = f->backup_eligible;
	c->backed_up = f->backed_up;
}

static int
begin_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct sv *v = vctx;
	const struct rv_conf *conf = v->req->conf;
	struct rv_record *r = v->rec;
	unsigned char challenge[RV_WEBAUTHN_CHALLENGE_LEN];
	struct rv_webauthn_cred creds[RV_FACTOR_MAX];
	const char *ids[RV_FACTOR_MAX];
	struct rv_user u;
	long long now = rv_store_now();
	size_t i, n = 0;
	struct rp rp;
	int rc = -1;

	(void)st;
	rv_user_init(&u);
	if (rv_account_user(txn, v->req->caller, false, &u, err) < 0 ||
	    rv_mfa_enabled(conf, "webauthn", err) < 0)
		goto out;
	for (i = 0; i < u.nfactors; i++)
		if (u.factors[i].type == RV_FACTOR_WEBAUTHN) {
			cred_of(&u.factors[i], &creds[n]);
			ids[n++] = u.factors[i].cred_id;
		}
	if (!v->registration && n == 0) {
		rv_err_set(err, "verification_record.factor_not_enrolled",
			   "the user has no passkey");
		goto out;
	}
	rv_record_init(r);
	if (rv_random_id(r->id, RV_RECORD_ID_LEN, err) < 0 ||
	    rv_random_bytes(challenge, sizeof(challenge), err) < 0)
		goto out;
	rv_b64_encode(challenge, sizeof(challenge), RV_B64_URL, false, r->challenge);
	r->type = v->registration ? RV_RECORD_WEBAUTHN : RV_RECORD_PASSKEY;
	rv_strlcpy(r->owner, u.id, sizeof(r->owner));
	rv_strlcpy(r->creator, u.id, sizeof(r->creator));
	rv_strlcpy(r->identifier, u.id, sizeof(r->identifier));
	rv_account_bind(r, v->req->caller);
	if (v->action != NULL)
		rv_strlcpy(r->action, v->action, sizeof(r->action));
	r->created_at = now;
	r->expires_at = now + conf->ver_record_ttl * 1000;
	if (rv_account_record_add(txn, conf, r, err) < 0)
		goto out;
	rp_of(conf, &rp);
	json_decref(v->options);
	/* the user's name as the authenticator shows it (8.1.9: the
	 * username), its passkeys excluded from a second registration */
	v->options = v->registration ?
		rv_webauthn_creation_options(&rp.rp, u.id,
			u.username ? u.username : u.email ? u.email : u.id,
			u.name ? u.name : u.username ? u.username : u.id,
			challenge, sizeof(challenge), ids, n) :
		rv_webauthn_request_options(&rp.rp, challenge, sizeof(challenge),
					    creds, n);
	rc = rv_mfa_audit(txn, v->registration ? "mfa.webauthn.challenge" :
			  "verify.passkey.challenge", u.id, v->req, NULL, err);
out:
	rv_wipe(challenge, sizeof(challenge));
	rv_user_release(&u);
	return rc;
}

int
rv_mfa_webauthn_begin(struct rv_req *req, bool registration,
		      struct rv_record *rec_r, json_t **options_r,
		      struct rv_err *err)
{
	struct rv_store *st;
	struct sv v;

	sv_init(&v, req, RV_RECORD_PASSKEY, registration, rec_r);
	if ((!registration &&
	     rv_account_action_param(req->json, &v.action, err) < 0) ||
	    rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_store_txn(st, begin_body, &v, err) < 0) {
		json_decref(v.options);
		return -1;
	}
	*options_r = v.options;
	return 0;
}

/* a registration verified: the credential, as the factor it will be, in
 * the record until POST /api/my-account/mfa-verifications binds it */
static int
keep_credential(struct sv *v, const struct rv_webauthn_cred *c,
		struct rv_err *err)
{
	const char *agent = rv_req_header(v->req, "user-agent");
	struct rv_factor f;
	struct rv_buf b = RV_BUF_INIT;
	json_t *j;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	f.type = RV_FACTOR_WEBAUTHN;
	if (rv_random_id(f.id, RV_RECORD_ID_LEN, err) < 0)
		return -1;
	f.created_at = rv_store_now();
	f.agent = (char *)(agent != NULL && *agent != '\0' ? agent : NULL);
	f.cred_id = c->cred_id;
	f.cose_alg = c->cose_alg;
	f.public_key = c->public_key;
	f.sign_count = c->sign_count;
	memcpy(f.aaguid, c->aaguid, sizeof(f.aaguid));
	f.transports = c->transports;
	f.backup_eligible = c->backup_eligible;
	f.backed_up = c->backed_up;
	j = rv_factor_to_json(&f);
	/* a User-Agent is cut, not refused */
	if (f.agent != NULL && strlen(f.agent) > 256)
		json_object_set_new(j, "agent", json_stringn(f.agent, 256));
	rv_json_dump(j, &b);
	json_decref(j);
	if (b.len >= sizeof(v->rec->credential))
		rc = rv_err_set(err, "session.mfa.webauthn_verification_failed",
				"the credential is too large to keep");
	else
		memcpy(v->rec->credential, b.buf, b.len + 1);
	rv_buf_release(&b);
	return rc;
}

/* W3C WebAuthn 7.2 step 6: a userHandle, when the authenticator gives
 * one, is the user's handle (user.id of the registration: base64url of
 * the user id) */
static bool
user_handle_ok(json_t *payload, const char *user)
{
	json_t *h = json_object_get(json_object_get(payload, "response"), "userHandle");
	char want[RV_B64_SIZE(RV_ID_MAX)];
	const char *s;

	if (h == NULL || json_is_null(h))
		return true;
	if ((s = json_string_value(h)) == NULL)
		return false;
	if (*s == '\0')
		return true;
	rv_b64_encode(user, strlen(user), RV_B64_URL, false, want);
	return strcmp(s, want) == 0;
}

static int
finish_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct sv *v = vctx;
	enum rv_record_type want = v->registration ? RV_RECORD_WEBAUTHN :
				   RV_RECORD_PASSKEY;
	unsigned char challenge[RV_WEBAUTHN_CHALLENGE_LEN];
	struct rv_webauthn_cred c;
	struct rv_factor *f = NULL;
	const char *id;
	struct rv_user u;
	unsigned long count = 0;
	bool clone = false;
	size_t clen = 0, i;
	struct rp rp;
	int rc = -1;

	rv_user_init(&u);
	memset(&c, 0, sizeof(c));
	if (rv_mfa_user(txn, v->req->caller, &u, err) < 0 ||
	    rv_mfa_enabled(v->req->conf, "webauthn", err) < 0)
		goto out;
	rv_strlcpy(v->user, u.id, sizeof(v->user));
	/* the caller's own record of the kind, through its client, with a
	 * challenge not used yet: anything else is unknown */
	if ((rc = rv_store_record_get(txn, v->record_id, true, v->rec, err)) < 0)
		goto out;
	if (rc == 0 || v->rec->type != want || strcmp(v->rec->owner, u.id) != 0 ||
	    !rv_account_bound(v->rec, v->req->caller)) {
		rc = rv_err_set(err, "verification_record.not_found",
				"no %s record of the caller's",
				rv_record_type_name(want));
		goto out;
	}
	/* a challenge answers one ceremony (W3C WebAuthn 13.4.3) */
	if (v->rec->verified ||
	    rv_b64_decode(v->rec->challenge, strlen(v->rec->challenge), RV_B64_URL,
			  RV_B64_PAD_NO, challenge, sizeof(challenge), &clen) < 0) {
		rc = rv_err_set(err, "session.mfa.webauthn_verification_failed",
				"the challenge of this record was used");
		goto out;
	}
	rp_of(v->req->conf, &rp);
	if (v->registration) {
		/* a failed registration guesses at nothing: refused, not
		 * counted */
		if ((rc = rv_webauthn_register(&rp.rp, challenge, clen, v->payload,
					       &c, err)) < 0)
			goto out;
		rc = keep_credential(v, &c, err);
		rv_webauthn_cred_release(&c);
		if (rc < 0)
			goto out;
		v->rec->verified = true;
		v->rec->verified_at = rv_store_now();
		v->rec->challenge[0] = '\0';
		v->outcome = SV_OK;
		rc = rv_store_record_put(txn, v->rec, err);
		if (rc == 0)
			rc = rv_mfa_audit(txn, "mfa.webauthn.registered", u.id,
					  v->req, NULL, err);
		goto out;
	}
	if ((rc = sv_blocked(st, txn, v, RV_LOCKOUT_WEBAUTHN, err)) != 0)
		goto out;
	id = rv_webauthn_payload_id(v->payload);
	for (i = 0; id != NULL && i < u.nfactors; i++)
		if (u.factors[i].type == RV_FACTOR_WEBAUTHN &&
		    strcmp(u.factors[i].cred_id, id) == 0)
			f = &u.factors[i];
	if (f == NULL) {
		rv_err_set(&v->why, "session.mfa.webauthn_verification_failed",
			   "a credential the user does not have");
		rc = sv_fail(txn, v, NULL, err);
		goto out;
	}
	cred_of(f, &c);
	if (!user_handle_ok(v->payload, u.id)) {
		rv_err_set(&v->why, "session.mfa.webauthn_verification_failed",
			   "userHandle is another user's");
		rc = sv_fail(txn, v, f->id, err);
		goto out;
	}
	if (rv_webauthn_assert(&rp.rp, challenge, clen, v->payload, &c, &count,
			       &clone, &v->why) < 0) {
		/* W3C WebAuthn 7.2 step 21: a signature counter that did
		 * not move on is a cloned authenticator */
		if (clone && rv_mfa_audit(txn, "mfa.webauthn.clone", u.id, v->req,
					  f->id, err) < 0)
			goto out;
		rc = sv_fail(txn, v, f->id, err);
		goto out;
	}
	f->sign_count = count;
	rc = sv_ok(txn, v, &u, f, true, err);
out:
	rv_wipe(challenge, sizeof(challenge));
	rv_user_release(&u);
	return rc < 0 ? -1 : 0;
}

int
rv_mfa_webauthn_finish(struct rv_req *req, bool registration,
		       struct rv_record *rec_r, struct rv_err *err)
{
	struct rv_store *st;
	struct sv v;

	sv_init(&v, req, RV_RECORD_PASSKEY, registration, rec_r);
	if (rv_json_str(req->json, "verificationRecordId", true, 1, 64,
			&v.record_id, err) < 0 ||
	    rv_json_obj(req->json, "payload", true, &v.payload, err) < 0 ||
	    rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_store_txn(st, finish_body, &v, err) < 0)
		return -1;
	return sv_answer(&v, "session.mfa.webauthn_verification_failed", err);
}
