/* rv-lockout.h: the identifier lockout (logto-spec 5.1, Logto's BasicSentinel) */
#ifndef RV_LOCKOUT_H
#define RV_LOCKOUT_H

#include <stdbool.h>

struct rv_conf;
struct rv_err;
struct rv_store;
struct rv_txn;

/*
 * Failed verifications are pooled per identifier, in a window keyed by a
 * keyed hash of it: the user id for passwords; for codes the identifier of
 * the code record, never the value a request names (only a wrong code for
 * the record's own identifier is a guess at it; security review F2). User
 * ids, e-mail addresses and phone numbers have key spaces of their own, so
 * that no value of one kind can block another (phone "4242" is not user
 * 4242). <lockout max-attempts> failures within <lockout window> block the
 * identifier for <lockout duration>; the failure that reaches the limit is
 * itself answered as blocked, and while blocked even a correct credential
 * is refused. Failures answered as blocked do not count again (so a block
 * is not extended by hammering it). Everything happens inside the caller's
 * transaction with write locks: N concurrent failures add exactly N.
 */

enum rv_lockout_kind {
	RV_LOCKOUT_USER,	/* a user id (the password route) */
	RV_LOCKOUT_EMAIL,	/* an e-mail address */
	RV_LOCKOUT_PHONE,	/* a phone number */
	RV_LOCKOUT_ACCOUNT,	/* a user id: the consecutive-failure cap */
	/* a user id: each second factor has a pool of its own, as in Logto
	 * (5.1: MfaTotp, MfaBackupCode and WebAuthn) */
	RV_LOCKOUT_TOTP,
	RV_LOCKOUT_BACKUP_CODE,
	RV_LOCKOUT_WEBAUTHN,
};

/*
 * The key of a window (64 hex digits + NUL). E-mail addresses and phone
 * numbers are normalised first (rv_ident_normalise), so that the case of
 * an address or a national 0 does not give it a second window. creator:
 * NULL for the identifier's own window; a user id for the window of the
 * codes that user sent to an identifier not its own (BindNewIdentifier),
 * so that one account's guesses at codes to another's address never block
 * the address's owner.
 */
void rv_lockout_key(const struct rv_store *st, enum rv_lockout_kind kind,
		    const char *value, const char *creator, char key[65]);
/* Lifts a block: clears the window of key. 1 there was a block, 0 there
 * was none (the window is left as it is), -1 error. */
int rv_lockout_lift(struct rv_txn *txn, const char *key, struct rv_err *err);
/* 1 blocked (*until_r = epoch ms), 0 not, -1 error. */
int rv_lockout_check(struct rv_txn *txn, const char *key, long long *until_r,
		     struct rv_err *err);
/* Counts one failure: 2 when this failure reached the limit and started a
 * block, 1 when a block was already active, 0 not blocked, -1 error. */
int rv_lockout_fail(struct rv_txn *txn, const struct rv_conf *conf,
		    const char *key, long long *until_r, struct rv_err *err);
/*
 * The consecutive-failure cap of an account (NIST SP 800-63B-4 3.2.2: at
 * most 100 consecutive failed attempts on one subscriber account), next to
 * the rolling windows above: every counted failure of the account's own
 * proofs (its password; a code to its own e-mail or phone) adds one to a
 * counter under rv_lockout_key(RV_LOCKOUT_ACCOUNT, user id) that no timer
 * forgets; a success resets it (3.2.2: "disregard previous failed
 * attempts"), and so does reverify-admin user unlock. The failure that
 * reaches <lockout consecutive-max> blocks the account for <lockout
 * consecutive-duration>; the counter stays where it is, so that after the
 * block every further failure blocks again at once. Checked with
 * rv_lockout_check like a window.
 */
/* Counts one failure of the account: 2/1/0/-1 as rv_lockout_fail. */
int rv_lockout_streak_fail(struct rv_txn *txn, const struct rv_conf *conf,
			   const char *key, long long *until_r,
			   struct rv_err *err);
/* A success: forgets the account's failures (writes only when it has
 * some). 0 or -1. */
int rv_lockout_streak_reset(struct rv_txn *txn, const char *key,
			    struct rv_err *err);
/* Lifts a block and forgets the failures: 1 there were some, 0 none, -1
 * error (reverify-admin user unlock). */
int rv_lockout_streak_clear(struct rv_txn *txn, const char *key,
			    struct rv_err *err);

/* rv_lockout_check of an identifier's window (key) and of an account's
 * streak (streak; NULL: none): 1 when either blocks, *until_r the end of
 * the block that ends last; 0 (*until_r 0), -1 error. */
int rv_lockout_check2(struct rv_txn *txn, const char *key, const char *streak,
		      long long *until_r, struct rv_err *err);
/* One failure of an account's own proof: counted in the window of key and,
 * unless the window was blocked already, in the streak (NULL: none; a
 * code to another user's address is no attempt on the account).
 * 2/1/0/-1 as rv_lockout_fail, the larger of the two; *until_r as
 * rv_lockout_check2; *streak_started_r true when the streak's block began. */
int rv_lockout_fail2(struct rv_txn *txn, const struct rv_conf *conf,
		     const char *key, const char *streak, long long *until_r,
		     bool *streak_started_r, struct rv_err *err);

/* Fills err: 400 session.verification_blocked_too_many_attempts, the
 * remaining minutes in the message ("in 60 minutes") and Retry-After. */
int rv_lockout_error(long long until, struct rv_err *err);

#endif
