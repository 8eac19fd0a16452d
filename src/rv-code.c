/* rv-code.c: one-time codes: send and verify (logto-spec 2.2, 2.3, 4, 5.2) */
#include "config.h"
#include "rv-code.h"

#include <stdio.h>
#include <string.h>

#include "rv-account.h"
#include "rv-auth.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-deliver.h"
#include "rv-err.h"
#include "rv-ident.h"
#include "rv-json.h"
#include "rv-limit.h"
#include "rv-lockout.h"
#include "rv-log.h"
#include "rv-store.h"
#include "rv-template.h"
#include "rv-util.h"

#define CODE_LEN 6

int
rv_code_identifier(json_t *body, bool *email_r, const char **value_r,
		   struct rv_err *err)
{
	json_t *id;
	const char *type, *value;

	if (rv_json_obj(body, "identifier", true, &id, err) < 0)
		return -1;
	if (!json_is_string(json_object_get(id, "type")))
		return rv_json_invalid(err, "identifier.type", "invalid_union_discriminator",
				       "Invalid discriminator value. Expected 'email' | 'phone'");
	type = json_string_value(json_object_get(id, "type"));
	if (strcmp(type, "email") != 0 && strcmp(type, "phone") != 0)
		return rv_json_invalid(err, "identifier.type", "invalid_union_discriminator",
				       "Invalid discriminator value. Expected 'email' | 'phone'");
	*email_r = type[0] == 'e';
	/* checked in place, so that errors name identifier.value */
	value = json_string_value(json_object_get(id, "value"));
	if (value == NULL)
		return rv_json_invalid(err, "identifier.value", "invalid_type",
				       "Expected string, received %s",
				       json_object_get(id, "value") ?
				       rv_json_type_name(json_object_get(id, "value")) : "undefined");
	if (*email_r ? !rv_ident_email_ok(value) : !rv_ident_phone_ok(value))
		return rv_json_invalid(err, "identifier.value", "invalid_string",
				       *email_r ? "Invalid email" : "Invalid phone number");
	*value_r = value;
	return 0;
}

int
rv_code_generate(char out[7], struct rv_err *err)
{
	unsigned char pool[32];
	size_t have = 0, used = 0;
	int n = 0;

	/* 250 = 25 * 10: bytes >= 250 are dropped, so each digit is uniform */
	while (n < CODE_LEN) {
		if (used == have) {
			if (rv_random_bytes(pool, sizeof(pool), err) < 0)
				return -1;
			have = sizeof(pool);
			used = 0;
		}
		if (pool[used] < 250)
			out[n++] = (char)('0' + pool[used] % 10);
		used++;
	}
	out[CODE_LEN] = '\0';
	rv_wipe(pool, sizeof(pool));
	return 0;
}

static void
code_mac(const struct rv_store *st, const char *record_id, const char *code,
	 unsigned char mac[RV_MAC_LEN])
{
	rv_hmac_sha256(rv_store_pepper(st), 32, record_id, strlen(record_id),
		       code, strlen(code), mac);
}

/* ---- send ------------------------------------------------------------------ */

/*
 * The send limits, all reserved in one transaction before a code goes out
 * and all given back when delivery fails (4.8):
 *  - per recipient (logto-spec 5.2): <codes send-max> in <codes
 *    send-window>, keyed by the normal form of the address or number. The
 *    sends of users to an identifier that is not their own
 *    (BindNewIdentifier) count in a window of their own, so that they
 *    never use up the owner's step-up sends to it (security review F5);
 *  - per caller (F5, F11): <codes caller-send-max> in <codes
 *    caller-send-window>, to all recipients together, keyed by user id;
 *  - per site, SMS only (F5): <delivery sms-hourly-max> per rolling hour.
 * Logto has only the first, shared by every sender.
 */
enum send_limit { LIMIT_RECIPIENT, LIMIT_CALLER, LIMIT_SMS, LIMIT_N };

struct send_ctx {
	const struct rv_conf *conf;
	const struct rv_caller *c;
	bool email;
	const char *value;
	const char *requested;		/* templateType of the body, or NULL */
	struct rv_user user;
	const char *template_type;
	bool is_new;
	char keys[LIMIT_N][65];		/* "" for a limit that is off */
	long long slots[LIMIT_N];	/* the reserved send times */
	long long retry_after;		/* seconds, when limited */
	enum { SEND_OK, SEND_LIMITED, SEND_NO_CHANNEL } outcome;
	struct rv_record *rec;
};

static int
send_load(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct send_ctx *s = vctx;
	const char *own;

	rv_user_release(&s->user);
	if (rv_account_user(txn, s->c, false, &s->user, err) < 0)
		return -1;
	/* exact, case-sensitive, no phone normalisation (logto-spec 2.2.3) */
	own = s->email ? s->user.email : s->user.phone;
	s->is_new = own == NULL || strcmp(own, s->value) != 0;
	s->template_type = s->is_new ? "BindNewIdentifier" :
			   s->requested ? s->requested : "UserPermissionValidation";
	return 0;
}

/* checks every limit and reserves one slot in each, or none (5.2) */
static int
send_reserve(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct send_ctx *s = vctx;
	const struct rv_conf *conf = s->conf;
	long long now = rv_store_now();
	struct rv_window w[LIMIT_N];
	int i, got;

	for (i = 0; i < LIMIT_N; i++) {
		if (*s->keys[i] == '\0')
			continue;
		if (rv_store_window_get(txn, s->keys[i], &w[i], err) < 0)
			return -1;
		switch (i) {
		case LIMIT_RECIPIENT:
			got = rv_limit_take(&w[i], conf->send_max, conf->send_window * 1000,
					  conf->send_gap * 1000, now, &s->slots[i],
					  &s->retry_after);
			break;
		case LIMIT_CALLER:
			got = rv_limit_take(&w[i], conf->caller_send_max,
					  conf->caller_send_window * 1000, 0, now,
					  &s->slots[i], &s->retry_after);
			break;
		default:
			got = rv_limit_budget_take(&w[i], conf->del_sms_hourly_max, now,
					  &s->slots[i], &s->retry_after);
			break;
		}
		if (!got) {
			s->outcome = SEND_LIMITED;
			return 0;	/* nothing put: the transaction writes nothing */
		}
	}
	/* Logto checks the connector after the limit (2.2 steps 8, 9) */
	if (s->email ? !rv_deliver_mail_configured(conf) :
		       !rv_deliver_sms_configured(conf)) {
		s->outcome = SEND_NO_CHANNEL;
		return 0;
	}
	for (i = 0; i < LIMIT_N; i++)
		if (*s->keys[i] != '\0' &&
		    rv_store_window_put(txn, s->keys[i], &w[i], err) < 0)
			return -1;
	s->outcome = SEND_OK;
	return 0;
}

/* a failed delivery does not count toward any limit (4.8) */
static int
send_release(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct send_ctx *s = vctx;
	struct rv_window w;
	bool back;
	int i;

	for (i = 0; i < LIMIT_N; i++) {
		if (*s->keys[i] == '\0')
			continue;
		if (rv_store_window_get(txn, s->keys[i], &w, err) < 0)
			return -1;
		back = i == LIMIT_SMS ? rv_limit_budget_give_back(&w, s->slots[i]) :
					rv_limit_give_back(&w, s->slots[i]);
		if (back && rv_store_window_put(txn, s->keys[i], &w, err) < 0)
			return -1;
	}
	return 0;
}

/* the keys of the limits that apply to this send; the recipient's in its
 * normal form (rv_ident_normalise: case, trailing dot, IDNA, national 0) */
static void
send_keys(struct rv_store *st, struct send_ctx *s)
{
	char norm[300];

	rv_ident_normalise(s->value, norm, sizeof(norm));
	/* "send" is the kind of 0.1, kept for the owner's own sends */
	rv_store_mac_hex(st, s->is_new ? "send-new" : "send", norm,
			 s->keys[LIMIT_RECIPIENT]);
	rv_store_mac_hex(st, "send-caller", s->user.id, s->keys[LIMIT_CALLER]);
	if (!s->email && s->conf->del_sms_hourly_max > 0)
		rv_store_mac_hex(st, "send-sms-site", "", s->keys[LIMIT_SMS]);
}

struct stale_ctx {
	const struct rv_record *fresh;
	char ids[16][RV_RECORD_ID_LEN + 1];
	int n;
};

static int
find_stale(const struct rv_record *r, void *vctx)
{
	struct stale_ctx *sc = vctx;
	const struct rv_record *f = sc->fresh;

	if (sc->n < 16 && !r->verified && r->type == f->type &&
	    strcmp(r->creator, f->creator) == 0 &&
	    strcmp(r->identifier, f->identifier) == 0 &&
	    strcmp(r->template_type, f->template_type) == 0)
		rv_strlcpy(sc->ids[sc->n++], r->id, sizeof(sc->ids[0]));
	return 0;
}

static int
send_store(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct send_ctx *s = vctx;
	struct stale_ctx sc;
	char key[65];
	json_t *f;
	int i, rc;

	/* a new code for the same caller, identifier and template replaces
	 * the older unverified one (DESIGN.md deviation 2) */
	memset(&sc, 0, sizeof(sc));
	sc.fresh = s->rec;
	/* the user id: c->user is a username in remote-user="username" mode */
	if (rv_store_record_each_user(txn, s->user.id, true, find_stale, &sc, err) < 0)
		return -1;
	for (i = 0; i < sc.n; i++)
		if (rv_store_record_del(txn, sc.ids[i], err) < 0)
			return -1;
	if (rv_account_record_add(txn, s->conf, s->rec, err) < 0)
		return -1;
	rv_store_mac_hex(st, "audit", s->value, key);
	f = json_pack("{s:s, s:s, s:s, s:i}", "channel", s->email ? "email" : "sms",
		      "recipient", key, "template", s->template_type, "replaced", sc.n);
	rc = rv_store_audit(txn, "code.sent", s->user.id, f, err);
	json_decref(f);
	return rc;
}

static int
deliver(struct send_ctx *s, const char *code, const char *lang,
	struct rv_err *err)
{
	struct rv_template_vars v;
	struct rv_message m = { NULL, NULL, NULL, NULL };
	char minutes[24];
	int rc;

	memset(&v, 0, sizeof(v));
	snprintf(minutes, sizeof(minutes), "%lld", (s->conf->code_ttl + 59) / 60);
	v.code = code;
	v.expires_in_minutes = minutes;
	v.locale = lang;
	v.has_user = true;
	v.user_id = s->user.id;
	v.user_username = s->user.username;
	v.user_primary_email = s->user.email;
	v.user_primary_phone = s->user.phone;
	v.user_name = s->user.name;
	v.has_application = true;
	v.app_id = s->c->client_id;
	v.app_name = *s->conf->del_app_name ? s->conf->del_app_name : s->c->client_id;
	if (rv_template_render(s->template_type, lang, s->conf->i18n_fallback, &v, &m,
			       &lang, err) < 0)
		return -1;
	if (s->email) {
		struct rv_mail mail = { s->value, m.subject, m.text,
					*m.html ? m.html : NULL, lang };

		rc = rv_deliver_mail(s->conf, &mail, err);
	} else {
		rc = rv_deliver_sms(s->conf, s->value, m.sms, err);
	}
	rv_message_release(&m);
	return rc;
}

int
rv_code_send(struct rv_store *st, const struct rv_conf *conf,
	     const struct rv_caller *c, bool email, const char *value,
	     const char *template_type, const char *action, const char *lang,
	     struct rv_record *rec_r, struct rv_err *err)
{
	struct send_ctx s;
	char code[CODE_LEN + 1];
	long long now;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	rv_user_init(&s.user);
	s.conf = conf;
	s.c = c;
	s.email = email;
	s.value = value;
	s.requested = template_type;
	s.rec = rec_r;
	if (rv_store_txn(st, send_load, &s, err) < 0)
		goto out;
	if (email && s.is_new && rv_ident_email_policy(conf, value, err) < 0)
		goto out;
	/* the address is checked whole before anything is reserved or sent:
	 * one refused by rv_deliver_mail after send_reserve left an empty
	 * send window behind */
	if (email && rv_deliver_check_addr("recipient", value, err) < 0)
		goto out;
	/* the countries SMS may go to, before anything is reserved or sent
	 * (not in Logto; security review F5) */
	if (!email && !rv_ident_phone_allowed(conf->del_sms_prefixes, value)) {
		rv_err_set(err, "reverify.phone_not_allowed",
			   "the number is outside <delivery sms-prefixes>");
		goto out;
	}
	send_keys(st, &s);
	if (rv_store_txn(st, send_reserve, &s, err) < 0)
		goto out;
	if (s.outcome == SEND_LIMITED) {
		rv_err_set(err, "request.message_rate_limited",
			   "a send limit is reached (recipient, caller or site)");
		rv_err_header(err, "Retry-After", "%lld", s.retry_after > 0 ? s.retry_after : 1);
		goto out;
	}
	if (s.outcome == SEND_NO_CHANNEL) {
		rv_err_set(err, "connector.not_found", "no %s delivery configured",
			   email ? "e-mail" : "SMS");
		rv_err_var(err, "type", "%s", email ? "Email" : "Sms");
		goto out;
	}
	now = rv_store_now();
	rv_record_init(rec_r);
	if (rv_random_id(rec_r->id, RV_RECORD_ID_LEN, err) < 0 ||
	    rv_code_generate(code, err) < 0) {
		rv_store_txn(st, send_release, &s, NULL);
		goto out;
	}
	rec_r->type = email ? RV_RECORD_EMAIL_CODE : RV_RECORD_PHONE_CODE;
	rv_strlcpy(rec_r->owner, s.is_new ? "" : s.user.id, sizeof(rec_r->owner));
	rv_strlcpy(rec_r->creator, s.user.id, sizeof(rec_r->creator));
	rv_strlcpy(rec_r->identifier, value, sizeof(rec_r->identifier));
	rv_strlcpy(rec_r->template_type, s.template_type, sizeof(rec_r->template_type));
	rv_account_bind(rec_r, c);
	if (action != NULL)
		rv_strlcpy(rec_r->action, action, sizeof(rec_r->action));
	rec_r->created_at = rec_r->code_sent_at = now;
	rec_r->expires_at = now + conf->ver_record_ttl * 1000;
	rec_r->has_code = true;
	code_mac(st, rec_r->id, code, rec_r->code_mac);
	if (deliver(&s, code, lang, err) < 0) {
		struct rv_err rerr;

		rv_err_init(&rerr);
		if (rv_store_txn(st, send_release, &s, &rerr) < 0)
			rv_log_warnx("cannot release a send slot: %s", rerr.msg);
		rv_err_release(&rerr);
		goto out;
	}
	if (rv_store_txn(st, send_store, &s, err) < 0)
		goto out;
	rc = 0;
out:
	rv_wipe(code, sizeof(code));
	rv_user_release(&s.user);
	return rc;
}

/* ---- verify ---------------------------------------------------------------- */

struct verify_ctx {
	const struct rv_conf *conf;
	const struct rv_caller *c;
	bool email;
	const char *value, *record_id, *code;
	const char *me;		/* the caller's user id */
	char me_buf[RV_ID_MAX + 1];
	const char *fail;	/* the code's error, or NULL on success */
	bool missing;		/* record check failed: not counted */
	long long blocked_until;
	bool blocked;
};

/* v->me: the caller's user id; in remote-user="username" mode c->user is
 * a username, resolved here (404 entity.not_found when unknown, as on send) */
static int
caller_id(struct rv_txn *txn, struct verify_ctx *v, struct rv_err *err)
{
	struct rv_user u;
	int rc;

	if (!v->c->user_is_username) {
		v->me = v->c->user;
		return 0;
	}
	rv_user_init(&u);
	rc = rv_account_user(txn, v->c, false, &u, err);
	if (rc > 0)
		rv_strlcpy(v->me_buf, u.id, sizeof(v->me_buf));
	rv_user_release(&u);
	if (rc < 0)
		return -1;
	v->me = v->me_buf;
	return 0;
}

/* A suspended user has no records (rv_store_user_put drops them), so a
 * record that is found needs no look at the user; one that is not is
 * answered 401 user.suspended when that is why (F3). 0 or -1. */
static int
suspended(struct rv_txn *txn, const struct verify_ctx *v, struct rv_err *err)
{
	struct rv_user u;
	int rc;

	if (v->c->user_is_username)
		return 0;	/* caller_id asked already */
	rv_user_init(&u);
	rc = rv_store_user_get(txn, v->me, false, &u, err);
	if (rc == 1 && u.suspended)
		rc = rv_err_set(err, "user.suspended", "user '%s' is suspended", u.id);
	rv_user_release(&u);
	return rc < 0 ? -1 : 0;
}

static const char *
check_code(struct rv_store *st, const struct verify_ctx *v, struct rv_record *r)
{
	unsigned char mac[RV_MAC_LEN];

	if (*v->code == '\0' || !r->has_code)
		return "verification_code.not_found";
	if (strcmp(r->identifier, v->value) != 0)
		return v->email ? "verification_code.email_mismatch" :
				  "verification_code.phone_mismatch";
	/* the policy is read now, not when the code was sent (4.4) */
	if (r->code_sent_at + v->conf->code_ttl * 1000 <= rv_store_now())
		return "verification_code.expired";
	if (r->tries >= v->conf->code_max_tries)
		return "verification_code.exceed_max_try";
	/* count the try before comparing: concurrent guesses see it */
	r->tries++;
	if (strlen(v->code) > 64)
		return "verification_code.code_mismatch";
	code_mac(st, r->id, v->code, mac);
	if (!rv_memeq_secret(mac, r->code_mac, RV_MAC_LEN))
		return "verification_code.code_mismatch";
	return NULL;
}

/* The lockout window of a code record: its own identifier (never the
 * value the request names), in the key space of its kind; the codes a
 * user sent to an identifier not its own count apart (rv-lockout.h). */
static void
record_lockout_key(struct rv_store *st, const struct rv_record *r, char key[65])
{
	rv_lockout_key(st, r->type == RV_RECORD_EMAIL_CODE ? RV_LOCKOUT_EMAIL :
		       RV_LOCKOUT_PHONE, r->identifier,
		       *r->owner == '\0' ? r->creator : NULL, key);
}

static int
verify_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct verify_ctx *v = vctx;
	enum rv_record_type want = v->email ? RV_RECORD_EMAIL_CODE : RV_RECORD_PHONE_CODE;
	char key[65], streak[65], handle[RV_HANDLE_LEN + 1];
	struct rv_record r;
	json_t *f;
	bool guess, streak_started = false;
	int rc;

	v->fail = NULL;
	v->missing = v->blocked = false;
	if (caller_id(txn, v, err) < 0)
		return -1;
	rc = rv_store_record_get(txn, v->record_id, true, &r, err);
	if (rc < 0)
		return -1;
	/* deviation 1: the caller's own record, or one they created for a
	 * new identifier (Logto checks no owner here), made through the
	 * caller's client and session */
	if (rc == 0 || r.type != want || !rv_account_owns(&r, v->me) ||
	    !rv_account_bound(&r, v->c)) {
		v->missing = true;
		return suspended(txn, v, err);
	}
	record_lockout_key(st, &r, key);
	/* a code to the owner's own address is an attempt on the account */
	*streak = '\0';
	if (*r.owner != '\0')
		rv_lockout_key(st, RV_LOCKOUT_ACCOUNT, r.owner, NULL, streak);
	if ((rc = rv_lockout_check2(txn, key, *r.owner ? streak : NULL,
				    &v->blocked_until, err)) != 0) {
		v->blocked = rc == 1;
		return rc < 0 ? -1 : 0;
	}
	v->fail = check_code(st, v, &r);
	/* only a code compared with the record's, for the record's own
	 * identifier, is a guess (security review F2): an empty code, another
	 * identifier, an expired or spent code count against nobody, and
	 * write nothing (F11: no disk for free). Logto counts every failure
	 * under the value as sent (logto-spec 2.3 step 3, 5.1). */
	guess = v->fail != NULL &&
		strcmp(v->fail, "verification_code.code_mismatch") == 0;
	if (v->fail != NULL && !guess)
		return 0;
	if (v->fail == NULL) {
		r.has_code = false;
		memset(r.code_mac, 0, sizeof(r.code_mac));
		r.verified = true;
		r.verified_at = rv_store_now();
		if (*r.owner != '\0' &&
		    rv_lockout_streak_reset(txn, streak, err) < 0)
			return -1;
	}
	if (rv_store_record_put(txn, &r, err) < 0)
		return -1;
	if (v->fail != NULL) {
		rc = rv_lockout_fail2(txn, v->conf, key, *r.owner ? streak : NULL,
				      &v->blocked_until, &streak_started, err);
		if (rc < 0)
			return -1;
		v->blocked = rc > 0;
		if (rc == 1)
			return 0;	/* already blocked: not audited again */
	}
	rv_store_mac_hex(st, "audit", v->value, key);
	rv_account_handle(st, r.id, handle);
	f = json_pack("{s:s, s:s}", "recipient", key, "record", handle);
	if (v->fail != NULL)
		json_object_set_new(f, "reason", json_string(v->fail));
	rc = rv_store_audit(txn, v->fail == NULL ? "verify.code.ok" :
			    streak_started ? "lockout.consecutive" :
			    v->blocked ? "lockout.started" : "verify.code.failed",
			    v->me, f, err);
	json_decref(f);
	return rc;
}

int
rv_code_verify(struct rv_store *st, const struct rv_conf *conf,
	       const struct rv_caller *c, bool email, const char *value,
	       const char *record_id, const char *code, struct rv_err *err)
{
	struct verify_ctx v;

	memset(&v, 0, sizeof(v));
	v.conf = conf;
	v.c = c;
	v.email = email;
	v.value = value;
	v.record_id = record_id;
	v.code = code;
	if (rv_store_txn(st, verify_body, &v, err) < 0)
		return -1;
	if (v.missing)
		return rv_err_set(err, "verification_record.not_found",
				  "no live %s code record of the caller with that id",
				  email ? "e-mail" : "phone");
	if (v.blocked)
		return rv_lockout_error(v.blocked_until, err);
	if (v.fail != NULL)
		return rv_err_set(err, v.fail, "code verification failed");
	return 0;
}
