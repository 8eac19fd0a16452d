/* rv-policy.h: the step-up policy: which proofs satisfy which change */
#ifndef RV_POLICY_H
#define RV_POLICY_H

#include <stdbool.h>

#include <jansson.h>

struct rv_caller;
struct rv_conf;
struct rv_err;
struct rv_record;

/*
 * A proof is what a step-up presents: a verified record of one type (a
 * Password record, a code to the user's own e-mail or phone), or a fresh
 * sign-in at the identity provider (RFC 9470 6.1: the access token's
 * auth_time within <verification max-age>, its acr accepted). The table
 * of proofs in rv-policy.c has one row per kind, keyed by record type:
 * a new kind of record (TOTP, a passkey, a backup code) is one row there.
 * Each change names the proofs it accepts in <step-up-policy>; the
 * defaults accept every proof, as Logto does (logto-spec 3.7, 6.1).
 */
enum rv_change {
	RV_CHANGE_PASSWORD,	/* POST /api/my-account/password */
	RV_CHANGE_EMAIL,	/* POST, DELETE /api/my-account/primary-email */
	RV_CHANGE_PHONE,	/* POST, DELETE /api/my-account/primary-phone */
	RV_CHANGE_USERNAME,	/* PATCH /api/my-account {username} */
	RV_CHANGE_PROFILE,	/* PATCH /api/my-account {name, avatar} */
	RV_CHANGE_MFA,		/* /api/my-account/mfa-verifications: enrol,
				   replace, rename, remove a factor */
};

/* Is list (words separated by single spaces) a list of proof names, or
 * "none" alone when allow_none? false with *bad_r the offending word
 * (points into list; "" for an empty list). For the config loader. */
bool rv_policy_list_ok(const char *list, bool allow_none, const char **bad_r);

/* Does change ch need a step-up at all? (false: <step-up-policy> says
 * "none", allowed for profile only.) */
bool rv_policy_needed(const struct rv_conf *conf, enum rv_change ch);

/* Is a token's sign-in fresh enough to stand for a step-up: <verification
 * accept-fresh-login="yes">, an auth_time claim at most max-age seconds
 * ago (not in the future beyond <auth leeway>), and, when
 * <verification acr-values> is set, an acr claim that is one of them? */
bool rv_policy_fresh_login(const struct rv_conf *conf, const struct rv_caller *c);

/* Does change ch accept the record r (a verified proof of the caller)?
 * (The record type's switch, email-proof or phone-proof, is applied.) */
bool rv_policy_accepts_record(const struct rv_conf *conf, enum rv_change ch,
			      const struct rv_record *r);
/* Does change ch accept a fresh sign-in (rv_policy_fresh_login)? */
bool rv_policy_accepts_login(const struct rv_conf *conf, enum rv_change ch);

/* The names of the proofs change ch accepts, a new JSON array. */
json_t *rv_policy_accepted(const struct rv_conf *conf, enum rv_change ch);

/*
 * Fills err with the step-up refusal and returns -1: 401
 * verification_record.permission_denied (no usable proof; Logto's code), or
 * with refused set 401 verification_record.proof_not_accepted (a valid
 * proof of a kind change ch does not accept; ours, reverify(7)
 * DEVIATIONS) with data {"acceptedProofs": [...]}. Both carry the RFC 9470
 * challenge: WWW-Authenticate: Bearer
 * error="insufficient_user_authentication", with acr_values and max_age
 * when <verification acr-values> and max-age are set (RFC 9470 3).
 */
int rv_policy_denied(const struct rv_conf *conf, enum rv_change ch,
		     bool refused, struct rv_err *err);

#endif
