/* rv-mfa-int.h: what rv-mfa.c and rv-mfa-verify.c share */
#ifndef RV_MFA_INT_H
#define RV_MFA_INT_H

#include <stddef.h>

#include "rv-totp.h"

struct rv_caller;
struct rv_conf;
struct rv_err;
struct rv_factor;
struct rv_req;
struct rv_txn;
struct rv_user;

/* 0 when <mfa factors> names factor ("totp", "backup-code", "webauthn";
 * passkeys need <webauthn rp-id> too), else 400
 * session.mfa.mfa_factor_not_enabled. */
int rv_mfa_enabled(const struct rv_conf *conf, const char *factor,
		   struct rv_err *err);
/* The caller's user (rv_account_user), locked for update whichever way it
 * was found. 0 or -1 with err. */
int rv_mfa_user(struct rv_txn *txn, const struct rv_caller *c,
		struct rv_user *u, struct rv_err *err);
/* An audit entry with the client and the factor's id (NULL: none). */
int rv_mfa_audit(struct rv_txn *txn, const char *event, const char *user,
		 const struct rv_req *req, const char *factor_id,
		 struct rv_err *err);
/* The sealing key (<mfa key>), read (and made when missing) once. */
const unsigned char *rv_mfa_seal_key(const struct rv_conf *conf,
				     struct rv_err *err);
/* The associated data of a TOTP secret: bound to its user and factor. */
void rv_mfa_seal_aad(const char *user, const char *factor_id, char *out,
		     size_t size);
/* The TOTP key of factor f of user, unsealed into key: its length, or -1
 * with err (500). The caller wipes key. */
long rv_mfa_totp_key(const struct rv_conf *conf, const char *user,
		     const struct rv_factor *f,
		     unsigned char key[RV_TOTP_KEY_MAX], struct rv_err *err);

#endif
