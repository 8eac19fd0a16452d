/* rv-change.h: the sensitive account changes that consume a step-up */
#ifndef RV_CHANGE_H
#define RV_CHANGE_H

#include <stdbool.h>
#include <jansson.h>

struct rv_err;
struct rv_req;
struct rv_user;

/*
 * Each function runs one Logto route's checks in Logto's order (the spec
 * section is named) and makes the change in the same transaction as the
 * checks that guard it (no window between a collision check and the
 * write). The step-up record of logto-verification-id is evaluated as in
 * logto-spec 6.1 and, with <verification step-up="single-use">, consumed in
 * that transaction (DESIGN.md deviation 4). Every change is audited; after
 * the commit a notice goes to the previous e-mail address (and phone) and
 * the <hooks on-change> programs run, neither of which can undo it. The
 * caller is req->caller (set by rv_account_gate); the body is req->json.
 */

/* POST /api/my-account/password (6.5.2): 204 on success. */
int rv_change_password(struct rv_req *req, struct rv_err *err);
/* POST /api/my-account/primary-email or -phone (6.6.1, 6.6.3). */
int rv_change_primary(struct rv_req *req, bool email, struct rv_err *err);
/* DELETE /api/my-account/primary-email or -phone (6.6.2, 6.6.4). */
int rv_change_remove_primary(struct rv_req *req, bool email, struct rv_err *err);
/*
 * After a committed change of user (before and after it): the notice of
 * template type (PasswordChanged, ..., MfaChanged) to every address the
 * user has and had, in the request's language, and with hook the <hooks
 * on-change> programs with event. Failures are logged, never returned.
 */
void rv_change_after(struct rv_req *req, const char *event, const char *type,
		     const struct rv_user *before, const struct rv_user *after,
		     bool hook);

/* PATCH /api/my-account (6.7, 8.1.5): *profile_r gets the new profile. */
int rv_change_profile(struct rv_req *req, json_t **profile_r, struct rv_err *err);

#endif
