/* rv-change.c: the sensitive account changes that consume a step-up */
#include "config.h"
#include "rv-change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rv-account.h"
#include "rv-arena.h"
#include "rv-auth.h"
#include "rv-buf.h"
#include "rv-code.h"
#include "rv-conf.h"
#include "rv-deliver.h"
#include "rv-err.h"
#include "rv-ident.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-main.h"
#include "rv-password.h"
#include "rv-pwnorm.h"
#include "rv-pwpolicy.h"
#include "rv-req.h"
#include "rv-run.h"
#include "rv-store.h"
#include "rv-template.h"
#include "rv-util.h"

/* ---- shared pieces ---------------------------------------------------------- */

static int
field_editable(int field, struct rv_err *err)
{
	if (field != RV_FIELD_EDIT)
		return rv_err_set(err, "account_center.field_not_editable",
				  "the field is not editable");
	return 0;
}

static int
need_scope(const struct rv_req *req, const char *scope, struct rv_err *err)
{
	if (!rv_auth_has_scope(req->caller, scope))
		return rv_err_set(err, RV_E_SCOPE,
				  "the token lacks the %s scope", scope);
	return 0;
}

static int
audit(struct rv_txn *txn, const char *event, const char *user,
      const struct rv_req *req, struct rv_err *err)
{
	json_t *f = json_pack("{s:s}", "client", req->caller->client_id);
	int rc = rv_store_audit(txn, event, user, f, err);

	json_decref(f);
	return rc;
}

/* Adds address a to the list (at most 2) unless it is there already. */
static void
add_address(const char **list, size_t *n, const char *a, bool email)
{
	size_t i;

	if (a == NULL || *a == '\0')
		return;
	for (i = 0; i < *n; i++)
		if (email ? strcasecmp(list[i], a) == 0 : strcmp(list[i], a) == 0)
			return;
	list[(*n)++] = a;
}

/*
 * After the commit: the notice of type to every address the user has now,
 * and to one the change replaced or removed (ASVS 5.0 6.3.7; NIST SP
 * 800-63B-4 4.6: all notification addresses), by e-mail and by SMS as
 * configured, in the language of the request. Failures are logged, never
 * returned.
 */
static void
notify(struct rv_req *req, const char *type, const struct rv_user *before,
       const struct rv_user *after, const char *when)
{
	const struct rv_conf *conf = req->conf;
	struct rv_template_vars v;
	struct rv_message m = { NULL, NULL, NULL, NULL };
	struct rv_err err;
	const char *mails[2], *phones[2], *lang;
	size_t nm = 0, np = 0, i;

	if (rv_deliver_mail_configured(conf)) {
		add_address(mails, &nm, after->email, true);
		add_address(mails, &nm, before->email, true);
	}
	if (rv_deliver_sms_configured(conf)) {
		add_address(phones, &np, after->phone, false);
		add_address(phones, &np, before->phone, false);
	}
	if (nm + np == 0)
		return;
	rv_err_init(&err);
	memset(&v, 0, sizeof(v));
	v.locale = rv_req_lang(req);
	v.time = when;
	v.has_user = true;
	v.user_id = after->id;
	v.user_username = after->username;
	v.user_primary_email = after->email;
	v.user_primary_phone = after->phone;
	v.user_name = after->name;
	v.has_application = true;
	v.app_id = req->caller->client_id;
	v.app_name = *conf->del_app_name ? conf->del_app_name : req->caller->client_id;
	if (rv_template_render(type, rv_req_lang(req), conf->i18n_fallback, &v, &m, &lang, &err) < 0) {
		rv_log_warnx("%s notice: %s", type, err.msg);
		rv_err_release(&err);
		return;
	}
	for (i = 0; i < nm; i++) {
		struct rv_mail mail = { mails[i], m.subject, m.text,
					*m.html ? m.html : NULL, lang };

		if (rv_deliver_mail(conf, &mail, &err) < 0)
			rv_log_warnx("%s notice by e-mail failed: %s", type, err.msg);
		rv_err_release(&err);
	}
	for (i = 0; i < np; i++) {
		if (rv_deliver_sms(conf, phones[i], m.sms, &err) < 0)
			rv_log_warnx("%s notice by SMS failed: %s", type, err.msg);
		rv_err_release(&err);
	}
	rv_message_release(&m);
}

/* After the commit: the notices and the on-change programs (hook: false
 * for a change they are not run for). Failures are logged, never
 * returned. */
void
rv_change_after(struct rv_req *req, const char *event, const char *type,
	     const struct rv_user *before, const struct rv_user *after,
	     bool hook)
{
	const struct rv_conf *conf = req->conf;
	struct rv_err err;
	char when[32];

	rv_err_init(&err);
	rv_iso8601_ms(rv_store_now(), when);
	notify(req, type, before, after, when);
	if (!hook)
		return;

	/* <hooks on-change>: argv = program, event, user id; JSON on stdin */
	if (conf->hook_on_change != NULL && *conf->hook_on_change) {
		char *list = rv_xstrdup(conf->hook_on_change), *save = NULL, *prog;
		json_t *j = json_pack("{s:s, s:s, s:s}", "event", event, "userId",
				      after->id, "time", when);
		char *in = json_dumps(j, JSON_COMPACT);
		char errbuf[256];
		int status;

		for (prog = strtok_r(list, " ", &save); prog != NULL;
		     prog = strtok_r(NULL, " ", &save)) {
			const char *argv[] = { prog, event, after->id, NULL };

			if (rv_deliver_run(argv, in, strlen(in), (int)conf->del_timeout * 1000,
					   &status, errbuf, sizeof(errbuf), &err) < 0)
				rv_log_warnx("on-change program '%s': %s", prog, err.msg);
			else if (status != 0)
				rv_log_warnx("on-change program '%s' failed (%d): %s", prog,
					     status, errbuf);
			rv_err_release(&err);
		}
		free(in);
		json_decref(j);
		free(list);
	}
}

static void
copy_user(const struct rv_user *u, struct rv_user *out)
{
	rv_user_init(out);
	memcpy(out->id, u->id, sizeof(out->id));
	out->username = u->username ? rv_xstrdup(u->username) : NULL;
	out->email = u->email ? rv_xstrdup(u->email) : NULL;
	out->phone = u->phone ? rv_xstrdup(u->phone) : NULL;
	out->name = u->name ? rv_xstrdup(u->name) : NULL;
}

static void
set_field(char **field, const char *value)
{
	free(*field);
	*field = value ? rv_xstrdup(value) : NULL;
}

/* ---- POST /api/my-account/password (6.5.2) --------------------------------- */

struct pw_change {
	struct rv_req *req;
	char *password;		/* NFKC form (rv_pwnorm) */
	char *new_hash;
	struct rv_user before, after;
	bool has_method, verified;
	const char *record_kept;	/* the record used, not revoked */
};

static int
pw_load(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct pw_change *p = vctx;
	struct rv_record rec;
	int proven;

	rv_user_release(&p->before);
	if (rv_account_user(txn, p->req->caller, false, &p->before, err) < 0)
		return -1;
	p->has_method = rv_account_has_method(&p->before);
	if ((proven = rv_account_stepup(txn, p->req, p->before.id,
					RV_CHANGE_PASSWORD, &rec, err)) < 0)
		return proven;
	p->verified = proven == 1;
	return 0;
}

static int
pw_store(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct pw_change *p = vctx;
	char used_id[RV_RECORD_ID_LEN + 1];
	int used;

	rv_user_release(&p->after);
	if (rv_account_user(txn, p->req->caller, true, &p->after, err) < 0)
		return -1;
	/* the step-up is checked again where it is consumed */
	if (rv_account_has_method(&p->after)) {
		if (!rv_account_stepup_use(txn, p->req, p->after.id, RV_CHANGE_PASSWORD, used_id,
			    err, &used))
			return rv_account_stepup_denied(p->req->conf,
							RV_CHANGE_PASSWORD, err);
		if (used < 0)
			return -1;
		p->record_kept = rv_arena_strdup(p->req->arena, used_id);
	}
	set_field(&p->after.password_hash, p->new_hash);
	p->after.password_updated_at = p->after.updated_at = rv_store_now();
	if (rv_store_user_put(txn, &p->after, err) < 0)
		return -1;
	/* every other record, however many (F8) */
	if (p->req->conf->ver_revoke_on_password &&
	    rv_store_record_del_user(txn, p->after.id,
				     p->req->conf->ver_stepup == RV_STEPUP_SINGLE_USE ?
				     NULL : p->record_kept, err) < 0)
		return -1;
	return audit(txn, "user.password_changed", p->after.id, p->req, err);
}

int
rv_change_password(struct rv_req *req, struct rv_err *err)
{
	struct rv_store *st;
	struct pw_change p;
	struct rv_pw_userinfo ui;
	struct rv_err herr;
	const char *raw;
	size_t len = 0;
	bool raw_only;
	int rc = -1, same;

	memset(&p, 0, sizeof(p));
	rv_user_init(&p.before);
	rv_user_init(&p.after);
	p.req = req;
	/* body, first-party, user, step-up if methods, field, policy, same */
	if (rv_json_str(req->json, "password", true, 1, 1024, &raw, err) < 0 ||
	    rv_pwnorm(raw, strlen(raw), &p.password, &len, err) < 0 ||
	    rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_store_txn(st, pw_load, &p, err) < 0)
		goto out;
	if (p.has_method && !p.verified) {
		rv_account_stepup_denied(req->conf, RV_CHANGE_PASSWORD, err);
		goto out;
	}
	if (field_editable(req->conf->ac_password, err) < 0)
		goto out;
	ui.name = p.before.name;
	ui.username = p.before.username;
	ui.email = p.before.email;
	ui.phone = p.before.phone;
	/* the policy, the comparison and the new hash all see the NFKC
	 * form (NIST SP 800-63B-4 3.1.1.2) */
	if (rv_pwpolicy_check(req->conf, p.password, len, &ui, err) < 0)
		goto out;
	/* Logto compares only argon2i hashes; every scheme is compared here,
	 * an imported hash of the raw bytes too */
	rv_err_init(&herr);
	same = p.before.password_hash ?
	       rv_password_verify_forms(raw, strlen(raw), p.password, len,
					p.before.password_hash, req->conf,
					&raw_only, &herr) : 0;
	rv_err_release(&herr);
	if (same == 1) {
		rv_err_set(err, "user.same_password", "the new password is the current one");
		goto out;
	}
	if (rv_password_hash(p.password, len, req->conf, &p.new_hash, err) < 0 ||
	    rv_store_txn(st, pw_store, &p, err) < 0)
		goto out;
	rv_change_after(req, "password.changed", "PasswordChanged", &p.before, &p.after,
		     true);
	rc = 0;
out:
	rv_pwnorm_free(&p.password, len);
	if (p.new_hash) {
		rv_wipe(p.new_hash, strlen(p.new_hash));
		free(p.new_hash);
	}
	rv_user_release(&p.before);
	rv_user_release(&p.after);
	return rc;
}

/* ---- POST /api/my-account/primary-email, -phone (6.6.1, 6.6.3) ------------- */

struct primary {
	struct rv_req *req;
	bool email;
	const char *value;		/* NULL: remove */
	const char *record_b;		/* newIdentifierVerificationRecordId */
	struct rv_user before, after;
};

/* another user has the value? e-mails without case (the index folds
 * them), phones also in their other national form (6.6.3, EP-20) */
static int
collides(struct rv_txn *txn, const struct primary *p, struct rv_err *err)
{
	struct rv_user o;
	char variant[64];
	int rc;

	rv_user_init(&o);
	rc = p->email ? rv_store_user_by_email(txn, p->value, &o, err) :
			rv_store_user_by_phone(txn, p->value, &o, err);
	if (rc == 1 && strcmp(o.id, p->after.id) == 0)
		rc = 0;
	rv_user_release(&o);
	if (rc != 0 || p->email)
		return rc;
	rv_ident_phone_variant(p->value, variant, sizeof(variant));
	if (*variant == '\0')
		return 0;
	rc = rv_store_user_by_phone(txn, variant, &o, err);
	if (rc == 1 && strcmp(o.id, p->after.id) == 0)
		rc = 0;
	rv_user_release(&o);
	return rc;
}

static int
primary_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct primary *p = vctx;
	const struct rv_conf *conf = p->req->conf;
	enum rv_change ch = p->email ? RV_CHANGE_EMAIL : RV_CHANGE_PHONE;
	struct rv_record b;
	int rc, used;

	rv_user_release(&p->before);
	rv_user_release(&p->after);
	if (rv_account_user(txn, p->req->caller, true, &p->after, err) < 0)
		return -1;
	copy_user(&p->after, &p->before);
	/* step-up, field, scope, first-party (6.6.1 steps 2-5, 6.6.2 1-4) */
	if (!rv_account_stepup_use(txn, p->req, p->after.id, ch, NULL, err, &used))
		return rv_account_stepup_denied(conf, ch, err);
	if (used < 0 ||
	    field_editable(p->email ? conf->ac_email : conf->ac_phone, err) < 0 ||
	    need_scope(p->req, p->email ? "email" : "phone", err) < 0 ||
	    rv_auth_require_first_party(p->req->caller, err) < 0)
		return -1;
	if (p->value == NULL) {
		/* the last way to sign in stays (6.6.2 step 6) */
		int left = (p->after.username != NULL) +
			   (p->email ? p->after.phone != NULL : p->after.email != NULL);

		if (left == 0)
			return rv_err_set(err, "user.last_sign_in_method_required",
					  "removing the last identifier");
		set_field(p->email ? &p->after.email : &p->after.phone, NULL);
	} else {
		if (p->email && rv_ident_email_policy(conf, p->value, err) < 0)
			return -1;
		/* record B: live, of the type, verified, for exactly this
		 * value (6.6.1), and ours: a BindNewIdentifier record the
		 * caller made through this client, with no action (F7) */
		rc = rv_store_record_get(txn, p->record_b, true, &b, err);
		if (rc < 0)
			return -1;
		if (rc == 0 || b.type != (p->email ? RV_RECORD_EMAIL_CODE : RV_RECORD_PHONE_CODE) ||
		    !b.verified || strcmp(b.identifier, p->value) != 0 ||
		    strcmp(b.creator, p->after.id) != 0 ||
		    strcmp(b.template_type, "BindNewIdentifier") != 0 ||
		    b.action[0] != '\0' || !rv_account_bound(&b, p->req->caller))
			return rv_err_set(err, "verification_record.not_found",
					  "no verified record for the new %s",
					  p->email ? "e-mail" : "phone");
		if ((rc = collides(txn, p, err)) != 0)
			return rc < 0 ? -1 :
			       rv_err_set(err, p->email ? "user.email_already_in_use" :
					  "user.phone_already_in_use", "taken by another user");
		/* used up by the change it serves (F7) */
		if (rv_store_record_del(txn, b.id, err) < 0)
			return -1;
		set_field(p->email ? &p->after.email : &p->after.phone, p->value);
	}
	p->after.updated_at = rv_store_now();
	if (rv_store_user_put(txn, &p->after, err) < 0)
		return -1;
	return audit(txn, p->email ? (p->value ? "user.email_changed" : "user.email_removed") :
		     (p->value ? "user.phone_changed" : "user.phone_removed"),
		     p->after.id, p->req, err);
}

static int
primary_run(struct primary *p, struct rv_err *err)
{
	struct rv_store *st;
	int rc = -1;

	if ((st = rv_main_store(err)) != NULL &&
	    rv_store_txn(st, primary_body, p, err) == 0) {
		rv_change_after(p->req, p->email ? "email.changed" : "phone.changed",
			     p->email ? "EmailChanged" : "PhoneChanged", &p->before, &p->after,
			     true);
		rc = 0;
	}
	rv_user_release(&p->before);
	rv_user_release(&p->after);
	return rc;
}

int
rv_change_primary(struct rv_req *req, bool email, struct rv_err *err)
{
	struct primary p;

	memset(&p, 0, sizeof(p));
	p.req = req;
	p.email = email;
	if (rv_json_str(req->json, email ? "email" : "phone", true, 1, 256, &p.value, err) < 0 ||
	    rv_json_str(req->json, "newIdentifierVerificationRecordId", true, 0, 256,
			&p.record_b, err) < 0)
		return -1;
	if (email ? !rv_ident_email_ok(p.value) : !rv_ident_phone_ok(p.value))
		return rv_json_invalid(err, email ? "email" : "phone", "invalid_string",
				       email ? "Invalid email" : "Invalid phone number");
	return primary_run(&p, err);
}

int
rv_change_remove_primary(struct rv_req *req, bool email, struct rv_err *err)
{
	struct primary p;

	memset(&p, 0, sizeof(p));
	p.req = req;
	p.email = email;
	return primary_run(&p, err);
}

/* ---- PATCH /api/my-account (6.7) ---------------------------------------------- */

struct profile {
	struct rv_req *req;
	json_t *name, *avatar, *username;	/* NULL: not in the body */
	json_t *result;
	struct rv_user before, after;	/* for the notice of a new username */
	bool renamed;
};

/* Logto's username rule: ^[A-Z_a-z]\w*$ */
static bool
username_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128 || !((s[0] >= 'a' && s[0] <= 'z') ||
				    (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int
profile_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct profile *p = vctx;
	struct rv_user u;
	int rc = -1;

	rv_user_init(&u);
	rv_user_release(&p->before);
	rv_user_release(&p->after);
	p->renamed = false;
	if (rv_account_user(txn, p->req->caller, true, &u, err) < 0)
		return -1;
	copy_user(&u, &p->before);
	/* the username (6.7), and name or avatar when <step-up-policy
	 * profile> asks for a proof */
	if (p->username != NULL && !rv_account_stepup_proven(txn, p->req, u.id, RV_CHANGE_USERNAME, err))
		goto out;
	if ((p->name != NULL || p->avatar != NULL) &&
	    rv_policy_needed(p->req->conf, RV_CHANGE_PROFILE) &&
	    !rv_account_stepup_proven(txn, p->req, u.id, RV_CHANGE_PROFILE, err))
		goto out;
	if (p->username != NULL) {
		if (json_is_null(p->username)) {
			/* removing the username: another identifier must stay */
			if (u.email == NULL && u.phone == NULL) {
				rv_err_set(err, "user.last_sign_in_method_required",
					   "the username is the last identifier");
				goto out;
			}
			set_field(&u.username, NULL);
		} else {
			set_field(&u.username, json_string_value(p->username));
		}
	}
	if (p->name != NULL)
		set_field(&u.name, json_is_null(p->name) ? NULL : json_string_value(p->name));
	if (p->avatar != NULL)
		set_field(&u.avatar, json_is_null(p->avatar) ? NULL : json_string_value(p->avatar));
	u.updated_at = rv_store_now();
	if (rv_store_user_put(txn, &u, err) < 0 ||
	    audit(txn, "user.profile_changed", u.id, p->req, err) < 0)
		goto out;
	if (p->result != NULL)
		json_decref(p->result);
	p->result = rv_account_profile(&u, p->req->caller, p->req->conf);
	copy_user(&u, &p->after);
	p->renamed = p->username != NULL &&
		     (p->before.username == NULL ? u.username != NULL :
		      u.username == NULL || strcmp(p->before.username, u.username) != 0);
	rc = 0;
out:
	rv_user_release(&u);
	return rc;
}

/* a string of at most max characters, or null; NULL when absent */
static int
nullable(json_t *body, const char *key, size_t max, json_t **v_r, struct rv_err *err)
{
	json_t *v = json_object_get(body, key);
	const char *s;

	*v_r = v;
	if (v == NULL || json_is_null(v))
		return 0;
	return rv_json_str(body, key, true, 1, max, &s, err) < 0 ? -1 : 0;
}

int
rv_change_profile(struct rv_req *req, json_t **profile_r, struct rv_err *err)
{
	const struct rv_conf *conf = req->conf;
	struct rv_store *st;
	struct profile p;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	rv_user_init(&p.before);
	rv_user_init(&p.after);
	p.req = req;
	if (nullable(req->json, "name", 128, &p.name, err) < 0 ||
	    nullable(req->json, "avatar", 2048, &p.avatar, err) < 0 ||
	    nullable(req->json, "username", 128, &p.username, err) < 0)
		return -1;
	if (p.username != NULL && !json_is_null(p.username) &&
	    !username_ok(json_string_value(p.username)))
		return rv_json_invalid(err, "username", "invalid_string",
				       "Invalid username: ^[A-Z_a-z]\\w*$");
	if (p.avatar != NULL && !json_is_null(p.avatar) &&
	    strncmp(json_string_value(p.avatar), "https://", 8) != 0 &&
	    strncmp(json_string_value(p.avatar), "http://", 7) != 0)
		return rv_json_invalid(err, "avatar", "invalid_string", "Invalid url");
	/* first-party, the profile scope, then each field sent (6.2, AR-2) */
	if (rv_auth_require_first_party(req->caller, err) < 0 ||
	    need_scope(req, "profile", err) < 0 ||
	    (json_object_get(req->json, "customData") != NULL &&
	     rv_err_set(err, "account_center.field_not_editable",
			"customData is not kept by reverify") < 0) ||
	    (p.name != NULL && field_editable(conf->ac_name, err) < 0) ||
	    (p.avatar != NULL && field_editable(conf->ac_avatar, err) < 0) ||
	    (p.username != NULL && field_editable(conf->ac_username, err) < 0) ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_store_txn(st, profile_body, &p, err) < 0) {
		if (p.result != NULL)
			json_decref(p.result);
		goto out;
	}
	/* a new username is notified; the on-change programs are for the
	 * password, e-mail and phone */
	if (p.renamed)
		rv_change_after(req, "username.changed", "UsernameChanged", &p.before,
			     &p.after, false);
	*profile_r = p.result;
	rc = 0;
out:
	rv_user_release(&p.before);
	rv_user_release(&p.after);
	return rc;
}
