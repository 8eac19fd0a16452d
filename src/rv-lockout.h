/* rv-lockout.h: the identifier lockout (logto-spec 5.1, Logto's BasicSentinel) */
#ifndef RV_LOCKOUT_H
#define RV_LOCKOUT_H

struct rv_conf;
struct rv_err;
struct rv_store;
struct rv_txn;

/*
 * Failed verifications are pooled per identifier (the user id for
 * passwords, the e-mail or phone as sent for codes), so password and code
 * failures for the same identifier count together, in a window keyed by a
 * keyed hash of it. <lockout max-attempts> failures within <lockout window>
 * block the identifier for <lockout duration>; the failure that reaches the
 * limit is itself answered as blocked, and while blocked even a correct
 * credential is refused. Failures answered as blocked do not count again
 * (so a block is not extended by hammering it). Everything happens inside
 * the caller's transaction with write locks: N concurrent failures add
 * exactly N.
 */

/* The key of identifier's window (64 hex digits + NUL). */
void rv_lockout_key(const struct rv_store *st, const char *identifier,
		    char key[65]);
/* 1 blocked (*until_r = epoch ms), 0 not, -1 error. */
int rv_lockout_check(struct rv_txn *txn, const char *key, long long *until_r,
		     struct rv_err *err);
/* Counts one failure: 2 when this failure reached the limit and started a
 * block, 1 when a block was already active, 0 not blocked, -1 error. */
int rv_lockout_fail(struct rv_txn *txn, const struct rv_conf *conf,
		    const char *key, long long *until_r, struct rv_err *err);
/* Fills err: 400 session.verification_blocked_too_many_attempts, the
 * remaining minutes in the message ("in 60 minutes") and Retry-After. */
int rv_lockout_error(long long until, struct rv_err *err);

#endif
