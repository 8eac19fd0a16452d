/* rv-code.h: one-time codes: send and verify (logto-spec 2.2, 2.3, 4, 5.2) */
#ifndef RV_CODE_H
#define RV_CODE_H

#include <stdbool.h>
#include <jansson.h>

struct rv_caller;
struct rv_conf;
struct rv_err;
struct rv_record;
struct rv_store;

/* The "identifier" object of both bodies (logto-spec 2.2): {type: "email"
 * (value at most 256 characters, ^\S+@\S+\.\S+$) | "phone" (^\d+$), value}.
 * 400 guard.invalid_input otherwise. *value_r points into body. */
int rv_code_identifier(json_t *body, bool *email_r, const char **value_r,
		       struct rv_err *err);

/*
 * POST /api/verifications/verification-code after the body and first-party
 * checks, in Logto's order: the caller's user (404); new identifier or the
 * caller's own (exact compare); the template (BindNewIdentifier for a new
 * one, else template_type or UserPermissionValidation); the e-mail policy
 * for a new e-mail (422/400); the send limit of the normalised recipient
 * (429 request.message_rate_limited + Retry-After; the slot is reserved
 * atomically); the channel (501 connector.not_found); the code is made,
 * stored only as HMAC(pepper, record id || code), rendered in lang and
 * delivered (502/503 connector.general: then the slot is released and no
 * record is stored); the record (owned by the caller unless the identifier
 * is new; created by the caller always; bound to the caller's client and
 * session; carrying action, or none when NULL: deviation 4) replaces the
 * caller's older unverified code for the same identifier and template
 * (deviation 2), and evicts the caller's oldest records beyond
 * <verification max-live-records>.
 */
int rv_code_send(struct rv_store *st, const struct rv_conf *conf,
		 const struct rv_caller *c, bool email, const char *value,
		 const char *template_type, const char *action,
		 const char *lang, struct rv_record *rec_r,
		 struct rv_err *err);

/*
 * POST /api/verifications/verification-code/verify after the body and
 * first-party checks (logto-spec 2.3): the record must be live, of the
 * identifier's type, the caller's (deviation 1) and bound to the caller's
 * client and session (rv_account_bound), else 400
 * verification_record.not_found (not counted; 401 user.suspended when the
 * caller is suspended); then, inside the lockout of
 * the identifier as sent and in one transaction: empty code or none left ->
 * verification_code.not_found, another identifier -> email_mismatch /
 * phone_mismatch, expired -> expired, tries used up -> exceed_max_try,
 * wrong -> the try is counted first, then code_mismatch; right -> the code
 * is consumed and the record verified (its expiry unchanged). Every failure
 * counts toward the lockout.
 */
int rv_code_verify(struct rv_store *st, const struct rv_conf *conf,
		   const struct rv_caller *c, bool email, const char *value,
		   const char *record_id, const char *code, struct rv_err *err);

/* 6 digits, each uniform (rejection sampling), into out[7]. */
int rv_code_generate(char out[7], struct rv_err *err);

#endif
