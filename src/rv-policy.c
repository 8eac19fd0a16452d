/* rv-policy.c: the step-up policy: which proofs satisfy which change */
#include "config.h"
#include "rv-policy.h"

#include <stddef.h>
#include <string.h>

#include "rv-auth.h"
#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-err.h"
#include "rv-store.h"

#define NOT_A_RECORD (-1)
#define NO_SWITCH ((size_t)-1)

/*
 * The proofs, one row per kind: its name (in <step-up-policy> lists and in
 * data.acceptedProofs), the record type that carries it, and the
 * <step-up-policy> or <verification> switch that may rule it out as
 * identity proof everywhere (800-63B-4 3.1.3.1: e-mail SHALL NOT be an
 * out-of-band authenticator; 3.2.9: the PSTN is restricted). A code
 * record proves the user only with template UserPermissionValidation
 * (rv_account_proves); confirming a new address is not this table's
 * business.
 */
static const struct proof {
	const char *name;
	int record_type;	/* enum rv_record_type, or NOT_A_RECORD */
	size_t allowed;		/* offset of a bool in struct rv_conf */
} proofs[] = {
	{ "password", RV_RECORD_PASSWORD, NO_SWITCH },
	{ "email-code", RV_RECORD_EMAIL_CODE, offsetof(struct rv_conf, sp_email_proof) },
	{ "phone-code", RV_RECORD_PHONE_CODE, offsetof(struct rv_conf, sp_phone_proof) },
	/* second factors (issue 20; ours: Logto takes none as step-up) */
	{ "totp", RV_RECORD_TOTP, NO_SWITCH },
	{ "backup-code", RV_RECORD_BACKUP_CODE, NO_SWITCH },
	{ "passkey", RV_RECORD_PASSKEY, NO_SWITCH },
	/* RFC 9470 6.1: a sign-in at the IdP within max-age */
	{ "login", NOT_A_RECORD, offsetof(struct rv_conf, ver_accept_fresh_login) },
};
#define NPROOFS (sizeof(proofs) / sizeof(proofs[0]))

/* the list of each change in struct rv_conf */
static const size_t change_list[] = {
	[RV_CHANGE_PASSWORD] = offsetof(struct rv_conf, sp_password),
	[RV_CHANGE_EMAIL] = offsetof(struct rv_conf, sp_email),
	[RV_CHANGE_PHONE] = offsetof(struct rv_conf, sp_phone),
	[RV_CHANGE_USERNAME] = offsetof(struct rv_conf, sp_username),
	[RV_CHANGE_PROFILE] = offsetof(struct rv_conf, sp_profile),
	[RV_CHANGE_MFA] = offsetof(struct rv_conf, sp_mfa),
};

static const char *
list_of(const struct rv_conf *conf, enum rv_change ch)
{
	const char *l = *(char *const *)((const char *)conf + change_list[ch]);

	return l != NULL ? l : "";
}

static bool
switched_on(const struct rv_conf *conf, const struct proof *p)
{
	return p->allowed == NO_SWITCH ||
	       *(const bool *)((const char *)conf + p->allowed);
}

/* Does ch accept proof p: named in its list and not switched off? */
static bool
accepts(const struct rv_conf *conf, enum rv_change ch, const struct proof *p)
{
	return switched_on(conf, p) && rv_conf_list_has(list_of(conf, ch), p->name);
}

bool
rv_policy_list_ok(const char *list, bool allow_none, const char **bad_r)
{
	const char *w = list;
	size_t n, i;

	*bad_r = "";
	if (list == NULL || *list == '\0')
		return false;
	if (allow_none && strcmp(list, "none") == 0)
		return true;
	while (*w) {
		n = strcspn(w, " ");
		for (i = 0; i < NPROOFS; i++)
			if (strlen(proofs[i].name) == n &&
			    strncmp(proofs[i].name, w, n) == 0)
				break;
		if (i == NPROOFS) {
			*bad_r = w;
			return false;
		}
		w += n;
		w += *w == ' ';
	}
	return true;
}

bool
rv_policy_needed(const struct rv_conf *conf, enum rv_change ch)
{
	return strcmp(list_of(conf, ch), "none") != 0;
}

bool
rv_policy_fresh_login(const struct rv_conf *conf, const struct rv_caller *c)
{
	long long now = rv_auth_now();

	if (!conf->ver_accept_fresh_login || conf->ver_max_age == 0 ||
	    c == NULL || c->auth_time <= 0)
		return false;
	if (c->auth_time > now + conf->auth_leeway ||
	    now - c->auth_time > conf->ver_max_age)
		return false;
	return conf->ver_acr_values == NULL || *conf->ver_acr_values == '\0' ||
	       (*c->acr != '\0' && rv_conf_list_has(conf->ver_acr_values, c->acr));
}

bool
rv_policy_accepts_record(const struct rv_conf *conf, enum rv_change ch,
			 const struct rv_record *r)
{
	size_t i;

	for (i = 0; i < NPROOFS; i++)
		if (proofs[i].record_type == (int)r->type)
			return accepts(conf, ch, &proofs[i]);
	return false;
}

bool
rv_policy_accepts_login(const struct rv_conf *conf, enum rv_change ch)
{
	size_t i;

	for (i = 0; i < NPROOFS; i++)
		if (proofs[i].record_type == NOT_A_RECORD)
			return accepts(conf, ch, &proofs[i]);
	return false;
}

json_t *
rv_policy_accepted(const struct rv_conf *conf, enum rv_change ch)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < NPROOFS; i++)
		if (accepts(conf, ch, &proofs[i]))
			json_array_append_new(a, json_string(proofs[i].name));
	return a;
}

int
rv_policy_denied(const struct rv_conf *conf, enum rv_change ch, bool refused,
		 struct rv_err *err)
{
	struct rv_buf h = RV_BUF_INIT;

	if (refused) {
		rv_err_set(err, "verification_record.proof_not_accepted",
			   "the step-up record is of a kind this change does "
			   "not accept (<step-up-policy>)");
		json_decref(err->data);
		err->data = json_pack("{s:o}", "acceptedProofs",
				      rv_policy_accepted(conf, ch));
	} else {
		rv_err_set(err, "verification_record.permission_denied",
			   "no valid step-up record in logto-verification-id");
	}
	/* RFC 9470 3: the parameters are quoted strings; the loader keeps
	 * quotes and backslashes out of acr-values */
	rv_buf_addstr(&h, "Bearer error=\"insufficient_user_authentication\", "
		      "error_description=\"a verification record is required\"");
	if (conf->ver_acr_values != NULL && *conf->ver_acr_values != '\0')
		rv_buf_addf(&h, ", acr_values=\"%s\"", conf->ver_acr_values);
	if (conf->ver_max_age > 0)
		rv_buf_addf(&h, ", max_age=\"%lld\"", conf->ver_max_age);
	rv_err_header(err, "WWW-Authenticate", "%s", h.buf);
	rv_buf_release(&h);
	return -1;
}
