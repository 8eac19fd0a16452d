/* rv-mfa.h: second factors: TOTP, backup codes and passkeys, enrolled
 * through Logto's My Account API (logto-spec 6.2, 6.7, 8.1.9) and taken
 * as step-up (ours: issue 20, reverify(7) DEVIATIONS) */
#ifndef RV_MFA_H
#define RV_MFA_H

#include <stdbool.h>

#include <jansson.h>

struct rv_conf;
struct rv_err;
struct rv_record;
struct rv_req;
struct rv_user;

/*
 * Enrolment (program my-account-mfa). The checks come in the order of the
 * primary e-mail's (6.6.1): the body's shape first (400
 * guard.invalid_input), then inside one transaction the caller's user,
 * the step-up (<step-up-policy mfa>, 401), the account-center field mfa
 * (400 account_center.field_not_editable), the identities scope (401
 * auth.unauthorized, 6.2), the first-party client, the factor enabled in
 * <mfa factors> (400 session.mfa.mfa_factor_not_enabled), then the
 * factor's own rules. Every change is audited in its transaction.
 */

/* GET /api/my-account/mfa-verifications: the identities scope (401), the
 * mfa field readable (400 account_center.field_not_enabled); the factors,
 * [{id, type, createdAt, lastUsedAt?, name?, agent?, remainCodes?}]. */
int rv_mfa_list(struct rv_req *req, json_t **out_r, struct rv_err *err);

/* POST .../totp-secret/generate: {secret, secretQrCode} (a new secret; the
 * client sends it back to bind it). POST .../backup-codes/generate:
 * {codes: [10 codes]}. Neither stores anything. */
int rv_mfa_totp_generate(struct rv_req *req, json_t **out_r, struct rv_err *err);
int rv_mfa_backup_generate(struct rv_req *req, json_t **out_r,
			   struct rv_err *err);

/*
 * POST /api/my-account/mfa-verifications ({type: "Totp", secret, code?},
 * {type: "BackupCode", codes}, {type: "WebAuthn",
 * newIdentifierVerificationRecordId, name?}) and, with replace, PUT
 * .../totp ({secret, code?}, which replaces the authenticator app or adds
 * one). Logto's errors: 400 user.totp_secret_invalid, 400
 * session.mfa.invalid_totp_code (a code that was given and is wrong), 422
 * user.totp_already_in_use, 422 session.mfa.backup_code_can_not_be_alone,
 * 422 user.backup_code_already_in_use (a set with unused codes), 400
 * verification_record.not_found (no verified WebAuthn record of the
 * caller's). 0 when bound.
 */
int rv_mfa_add(struct rv_req *req, bool replace_totp, struct rv_err *err);

/* GET .../backup-codes: step-up, scope; {codes: [{code: null, usedAt}]}
 * (the codes themselves are kept only as keyed hashes: shown once, when
 * made; reverify(7) DEVIATIONS), 404 verification_record.not_found when
 * the user has none. */
int rv_mfa_backup_codes(struct rv_req *req, json_t **out_r, struct rv_err *err);

/* PATCH .../:id/name {name}: a passkey's name; the factor as listed.
 * DELETE .../:id: removes a factor (and the backup codes with the last
 * other factor: they cannot be alone). Unknown id: 400
 * verification_record.not_found. */
int rv_mfa_rename(struct rv_req *req, const char *id, json_t **out_r,
		  struct rv_err *err);
int rv_mfa_delete(struct rv_req *req, const char *id, struct rv_err *err);

/*
 * Step-up (program verification-mfa), each like the password's (2.1):
 * first-party, the caller's user (404, 401 user.suspended), the factor
 * enabled, enrolled (400 verification_record.factor_not_enrolled), the
 * factor's own lockout pool and the account's consecutive failures (400
 * session.verification_blocked_too_many_attempts), then the check. A
 * success stores a verified record of its own type (Totp, BackupCode,
 * Passkey) bound to the caller's client, carrying the body's action.
 */
/* POST /api/verifications/totp {code, action?}: 400
 * session.mfa.invalid_totp_code for a wrong code or one used before
 * (RFC 6238 5.2). */
int rv_mfa_verify_totp(struct rv_req *req, struct rv_record *rec_r,
		       struct rv_err *err);
/* POST /api/verifications/backup-code {code, action?}: each code once; 400
 * session.mfa.invalid_backup_code. */
int rv_mfa_verify_backup(struct rv_req *req, struct rv_record *rec_r,
			 struct rv_err *err);
/*
 * POST /api/verifications/web-authn/registration (logto-spec 2.5) and
 * .../authentication (ours, {action?}): a new record (WebAuthn, or
 * Passkey) holding a fresh challenge, and the options for the browser
 * (*options_r). Passkeys need <webauthn rp-id>.
 */
int rv_mfa_webauthn_begin(struct rv_req *req, bool registration,
			  struct rv_record *rec_r, json_t **options_r,
			  struct rv_err *err);
/* .../registration/verify and .../authentication/verify
 * {verificationRecordId, payload}: the caller's unverified record of the
 * kind, the ceremony checked (rv-webauthn.h), the record verified and its
 * challenge used up. 400 session.mfa.webauthn_verification_failed. */
int rv_mfa_webauthn_finish(struct rv_req *req, bool registration,
			   struct rv_record *rec_r, struct rv_err *err);

/*
 * reverify-admin user import: the "mfaVerifications" of a Logto user export
 * (list, an array) as factors of u: "Totp" entries (their base32 "key"
 * sealed), "BackupCode" entries (their codes as keyed hashes under pepper,
 * used ones marked used); passkeys and other types are counted in
 * *skipped_r (a passkey is bound to Logto's RP ID: registered again).
 * check_only (--dry-run) seals nothing. 0, or -1 with err naming the
 * entry.
 */
int rv_mfa_import(const struct rv_conf *conf, const unsigned char *pepper,
		  struct rv_user *u, json_t *list, bool check_only,
		  int *skipped_r, struct rv_err *err);

/* The factors of u as GET lists them (reverify-admin user show too). */
json_t *rv_mfa_factors_json(const struct rv_user *u);

#endif
