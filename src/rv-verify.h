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
 * caller's user (404 entity.not_found; 401 user.suspended before any
 * hashing, unlike Logto, which checks suspension after the password:
 * a suspended account is no password oracle), then inside the lockout
 * guard of the user id (5.1; 400
 * session.verification_blocked_too_many_attempts) the password (422
 * session.invalid_credentials; a user without a password runs a decoy
 * hash of the same cost). The password is the NFKC form of what was sent
 * (400 guard.invalid_input, first, when that is not well-formed UTF-8);
 * a hash that only the bytes as sent match (imported from a system that
 * did not normalise) is accepted too, with the same work either way
 * (rv_password_verify_forms()), and replaced by a hash of the NFKC form.
 * On success a verified Password record owned by
 * the caller, bound to its client and session and carrying action (NULL:
 * none; deviation 4) is stored (evicting the caller's oldest records
 * beyond <verification max-live-records>) and copied into *rec_r, and a
 * hash in another scheme or with weaker parameters than <password> is
 * replaced in the same request. Every outcome is in the audit trail. The
 * first-party check and the action's syntax are the caller's, before
 * this.
 */
int rv_verify_password(struct rv_store *st, const struct rv_conf *conf,
		       const struct rv_caller *c, const char *password,
		       size_t len, const char *action, struct rv_record *rec_r,
		       struct rv_err *err);

#endif
