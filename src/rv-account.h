/* rv-account.h: who the caller is, their step-up proof, their profile */
#ifndef RV_ACCOUNT_H
#define RV_ACCOUNT_H

#include <stdbool.h>
#include <jansson.h>

#include "rv-policy.h"

struct rv_buf;
struct rv_caller;
struct rv_conf;
struct rv_err;
struct rv_record;
struct rv_req;
struct rv_resp;
struct rv_store;
struct rv_txn;
struct rv_user;

/*
 * The gate of every account and verification route (rv_endpoint.gate), in
 * Logto's order (logto-spec 1.2): authenticate the caller (401/403, spec
 * 7), then the account-center switch (400 account_center.not_enabled,
 * step 9); both before the body is parsed. Sets req->caller.
 */
int rv_account_gate(struct rv_req *req, struct rv_resp *resp, struct rv_err *err);

/*
 * Loads the caller's user inside txn: 1 found (*u filled, release it),
 * -1 with 404 entity.not_found when the token's user no longer exists
 * (spec 1.4), -1 with 401 user.suspended when the user is suspended (F3:
 * every route refuses a suspended user), or another error. A
 * REMOTE_USER username is resolved, and must match the stored username
 * exactly (the index folds case; F12).
 */
int rv_account_user(struct rv_txn *txn, const struct rv_caller *c,
		    bool rmw, struct rv_user *u, struct rv_err *err);

/*
 * Evaluates the step-up of the request for change ch (rv-policy.h) inside
 * txn. First the logto-verification-id header (spec 6.1): a record with
 * that id that exists, is not expired, belongs to user, is verified, is of
 * a type accepted as step-up proof (spec 3.7: a Password record, or an
 * e-mail/phone code record with template UserPermissionValidation),
 * carries no action (an action-bound record serves only introspection)
 * and is bound to req->caller (rv_account_bound); then <step-up-policy>
 * must accept its type for ch. Failing that, a fresh sign-in
 * (rv_policy_fresh_login) when ch accepts "login".
 * 1 when proven, *rec_r (may be NULL) filled with the record, or with an
 * empty id when the fresh sign-in proved it; 0 when nothing proves it;
 * -1 with 401 verification_record.proof_not_accepted (rv_policy_denied)
 * when a valid record of a kind ch does not accept was presented and
 * nothing else proves it. A store error (a deadlock above all, which the
 * transaction runner retries) is -1 with err too: either must end the
 * transaction body, never count as "not verified".
 */
int rv_account_stepup(struct rv_txn *txn, struct rv_req *req,
		      const char *user, enum rv_change ch,
		      struct rv_record *rec_r, struct rv_err *err);

/* rv_account_stepup for a change that uses it: in single-use mode a record
 * is consumed now, in the change's own transaction. false: not proven.
 * id_r (may be NULL) gets the record's id ("" for a fresh sign-in). A
 * store error, or a proof the policy refuses, is true with *rc_r < 0 and
 * err. */
bool rv_account_stepup_use(struct rv_txn *txn, struct rv_req *req,
			   const char *user, enum rv_change ch, char *id_r,
			   struct rv_err *err, int *rc_r);
/* The same for a change that stops at the first refusal: true when proven,
 * false with err (401 verification_record.permission_denied, the policy's
 * refusal, or a store error). */
bool rv_account_stepup_proven(struct rv_txn *txn, struct rv_req *req,
			      const char *user, enum rv_change ch,
			      struct rv_err *err);

/* Does record r prove user's identity (logto-spec 3.7, 6.1): owned by
 * user, verified, and a Password record, a code record with template
 * UserPermissionValidation, or a step-up by a second factor (Totp,
 * BackupCode, Passkey: ours, issue 20)? (Liveness is the lookup's
 * business.) */
bool rv_account_proves(const struct rv_record *r, const char *user);
/* Is r user's: owned by user, or unowned (a new identifier) and created by
 * user (DESIGN.md deviation 1)? */
bool rv_account_owns(const struct rv_record *r, const char *user);

/* Was r made through the client of c: the same client_id, and the same
 * sid when both carry one (issue 14: a record id that leaks to another
 * application or sign-in session proves nothing there)? Everywhere a
 * record is taken (logto-verification-id, newIdentifierVerificationRecordId,
 * verify) a record that is not bound to the caller is treated as unknown. */
bool rv_account_bound(const struct rv_record *r, const struct rv_caller *c);
/* Binds a new record to the caller c (client_id and sid). */
void rv_account_bind(struct rv_record *r, const struct rv_caller *c);

/* The handle of a record: the first RV_HANDLE_LEN hex digits of
 * HMAC(pepper, "handle" || 0 || id). Lists, audit entries and log lines
 * show it instead of the id; it proves nothing. */
#define RV_HANDLE_LEN 32
void rv_account_handle(const struct rv_store *st, const char *id,
		       char out[RV_HANDLE_LEN + 1]);

/* An action label of a record (deviation 4): 1-64 of [a-z0-9._:-]. */
#define RV_ACTION_MAX 64
bool rv_account_action_ok(const char *action);
/* The optional "action" member of a step-up body (POST
 * /api/verifications/password and .../verification-code): *action_r is
 * NULL when absent or null; 400 guard.invalid_input naming action when it
 * is not a string of that form. */
int rv_account_action_param(json_t *body, const char **action_r,
			    struct rv_err *err);

/* Stores the new record r in txn, first evicting the oldest live records
 * of its creator so that at most <verification max-live-records> remain,
 * r included (F11). 0 or -1 with err. */
int rv_account_record_add(struct rv_txn *txn, const struct rv_conf *conf,
			  const struct rv_record *r, struct rv_err *err);

/* rv_policy_denied(conf, ch, false, err): 401
 * verification_record.permission_denied with the RFC 9470 challenge. */
int rv_account_stepup_denied(const struct rv_conf *conf, enum rv_change ch,
			     struct rv_err *err);

/* Does the user have a password, an e-mail or a phone (spec 6.2 "if
 * methods")? */
bool rv_account_has_method(const struct rv_user *u);

/* The profile of GET /api/my-account (spec 6.4): filtered by the caller's
 * scopes, then by the account-center fields, appended to out as compact
 * JSON, as rv_json_dump writes the same object, without building it
 * (issue 17). The user's strings are valid UTF-8, as the store keeps them. */
void rv_account_profile_write(const struct rv_user *u, const struct rv_caller *c,
			      const struct rv_conf *conf, struct rv_buf *out);
/* The same as a new reference (the PATCH answer). */
json_t *rv_account_profile(const struct rv_user *u, const struct rv_caller *c,
			   const struct rv_conf *conf);

#endif
