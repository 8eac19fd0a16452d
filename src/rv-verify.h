/* rv-verify.h: the verification flows behind /api/verifications */
#ifndef RV_VERIFY_H
#define RV_VERIFY_H

#include <stddef.h>

struct rv_caller;
struct rv_conf;
struct rv_err;
struct rv_record;
struct rv_store;

/*
 * POST /api/verifications/password (logto-spec 2.1): in this order, the
 * caller's user (404 entity.not_found), then inside the lockout guard of
 * the user id (5.1; 400 session.verification_blocked_too_many_attempts)
 * the password (422 session.invalid_credentials; a user without a
 * password runs a decoy hash of the same cost), then suspension (401
 * user.suspended). On success a verified Password record owned by the
 * caller is stored and copied into *rec_r, and a hash in another scheme or
 * with weaker parameters than <password> is replaced in the same request.
 * Every outcome is in the audit trail. The first-party check is the
 * caller's, before this.
 */
int rv_verify_password(struct rv_store *st, const struct rv_conf *conf,
		       const struct rv_caller *c, const char *password,
		       size_t len, struct rv_record *rec_r, struct rv_err *err);

#endif
