/* rv-lockout.c: the identifier lockout (logto-spec 5.1, Logto's BasicSentinel) */
#include "config.h"
#include "rv-lockout.h"

#include <stdio.h>
#include <string.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-ident.h"
#include "rv-store.h"

/*
 * Until 0.1 one kind, "lockout", served user ids, e-mail addresses and
 * phone numbers alike (security review F2: a phone "4242" was user 4242).
 * Windows under the old kind are no longer read and simply expire.
 */
static const char *const kinds[] = {
	"lockout-user", "lockout-email", "lockout-phone", "lockout-account",
	"lockout-totp", "lockout-backup-code", "lockout-webauthn",
};
static const char *const new_kinds[] = {
	"lockout-user", "lockout-email-new", "lockout-phone-new", "lockout-account",
	"lockout-totp", "lockout-backup-code", "lockout-webauthn",
};

void
rv_lockout_key(const struct rv_store *st, enum rv_lockout_kind kind,
	       const char *value, const char *creator, char key[65])
{
	char norm[300], both[RV_ID_MAX + 1 + sizeof(norm)];

	if (kind == RV_LOCKOUT_USER || kind >= RV_LOCKOUT_ACCOUNT) {
		rv_store_mac_hex(st, kinds[kind], value, key);
		return;
	}
	rv_ident_normalise(value, norm, sizeof(norm));
	if (creator == NULL) {
		rv_store_mac_hex(st, kinds[kind], norm, key);
		return;
	}
	/* a user id has no space (rv_user_id_valid), so the pair is unique */
	snprintf(both, sizeof(both), "%s %s", creator, norm);
	rv_store_mac_hex(st, new_kinds[kind], both, key);
}

/* Clears the window of key when it is blocked or, with all, when it holds
 * anything: 1 cleared, 0 nothing to clear, -1 error. */
static int
clear(struct rv_txn *txn, const char *key, bool all, struct rv_err *err)
{
	struct rv_window w;
	int rc = rv_store_window_get(txn, key, &w, err);

	if (rc < 0)
		return -1;
	if (rc == 0 || (all ? w.n == 0 && w.blocked_until == 0 :
			w.blocked_until <= rv_store_now()))
		return 0;
	/* cleared, not deleted: the store has no window delete, and purge
	 * removes it once expires_at has passed */
	memset(&w, 0, sizeof(w));
	w.expires_at = rv_store_now();
	if (rv_store_window_put(txn, key, &w, err) < 0)
		return -1;
	return 1;
}

int
rv_lockout_lift(struct rv_txn *txn, const char *key, struct rv_err *err)
{
	return clear(txn, key, false, err);
}

/* drops the failures that have left the window */
static void
trim(struct rv_window *w, long long since)
{
	int i = 0;

	while (i < w->n && w->events[i] <= since)
		i++;
	if (i > 0) {
		memmove(w->events, w->events + i, (size_t)(w->n - i) * sizeof(w->events[0]));
		w->n -= i;
	}
}

int
rv_lockout_check(struct rv_txn *txn, const char *key, long long *until_r,
		 struct rv_err *err)
{
	struct rv_window w;
	int rc = rv_store_window_get(txn, key, &w, err);

	if (rc < 0)
		return -1;
	*until_r = w.blocked_until;
	return rc == 1 && w.blocked_until > rv_store_now() ? 1 : 0;
}

int
rv_lockout_fail(struct rv_txn *txn, const struct rv_conf *conf, const char *key,
		long long *until_r, struct rv_err *err)
{
	long long now = rv_store_now(), window = conf->lock_window * 1000;
	struct rv_window w;
	int blocked = 0;

	if (rv_store_window_get(txn, key, &w, err) < 0)
		return -1;
	trim(&w, now - window);
	if (w.blocked_until > now) {
		/* already blocked: the same expiry, not extended (5.1) */
		blocked = 1;
	} else if (w.n + 1 >= conf->lock_max_attempts) {
		/* this failure reaches the limit: it is answered as blocked
		 * and, like Logto's Blocked rows, not counted afterwards */
		w.blocked_until = now + conf->lock_duration * 1000;
		blocked = 2;
	} else if (w.n < RV_WINDOW_MAX) {
		w.events[w.n++] = now;
	}
	w.expires_at = w.n > 0 ? w.events[w.n - 1] + window : now;
	if (w.blocked_until > w.expires_at)
		w.expires_at = w.blocked_until;
	if (rv_store_window_put(txn, key, &w, err) < 0)
		return -1;
	*until_r = w.blocked_until;
	return blocked;
}

/* a counter no timer forgets: purge may drop it only after ten years */
#define STREAK_KEEP (10LL * 366 * 24 * 3600 * 1000)

int
rv_lockout_streak_fail(struct rv_txn *txn, const struct rv_conf *conf,
		       const char *key, long long *until_r, struct rv_err *err)
{
	long long now = rv_store_now();
	struct rv_window w;
	int blocked = 0;

	if (rv_store_window_get(txn, key, &w, err) < 0)
		return -1;
	if (w.blocked_until > now) {
		blocked = 1;
	} else {
		/* the last consecutive-max failures are kept, oldest first */
		while (w.n > 0 && (w.n >= RV_WINDOW_MAX ||
				   w.n >= conf->lock_consecutive_max)) {
			memmove(w.events, w.events + 1,
				(size_t)(w.n - 1) * sizeof(w.events[0]));
			w.n--;
		}
		w.events[w.n++] = now;
		if (w.n >= conf->lock_consecutive_max) {
			w.blocked_until = now + conf->lock_consecutive_duration * 1000;
			blocked = 2;
		}
	}
	w.expires_at = now + STREAK_KEEP;
	if (rv_store_window_put(txn, key, &w, err) < 0)
		return -1;
	*until_r = w.blocked_until;
	return blocked;
}

int
rv_lockout_streak_clear(struct rv_txn *txn, const char *key, struct rv_err *err)
{
	return clear(txn, key, true, err);
}

int
rv_lockout_streak_reset(struct rv_txn *txn, const char *key, struct rv_err *err)
{
	return rv_lockout_streak_clear(txn, key, err) < 0 ? -1 : 0;
}

int
rv_lockout_check2(struct rv_txn *txn, const char *key, const char *streak,
		  long long *until_r, struct rv_err *err)
{
	long long until = 0;
	int a, b = 0;

	*until_r = 0;
	if ((a = rv_lockout_check(txn, key, until_r, err)) < 0 ||
	    (streak != NULL && (b = rv_lockout_check(txn, streak, &until, err)) < 0))
		return -1;
	if (a == 0)
		*until_r = 0;
	if (b == 1 && until > *until_r)
		*until_r = until;
	return a || b;
}

int
rv_lockout_fail2(struct rv_txn *txn, const struct rv_conf *conf,
		 const char *key, const char *streak, long long *until_r,
		 bool *streak_started_r, struct rv_err *err)
{
	long long until = 0;
	int a, b = 0;

	*streak_started_r = false;
	if ((a = rv_lockout_fail(txn, conf, key, until_r, err)) < 0)
		return -1;
	if (a == 0)
		*until_r = 0;
	/* a failure the window refused as already blocked is no attempt */
	if (a == 1 || streak == NULL)
		return a;
	if ((b = rv_lockout_streak_fail(txn, conf, streak, &until, err)) < 0)
		return -1;
	if (b > 0 && until > *until_r)
		*until_r = until;
	*streak_started_r = b == 2;
	return a > b ? a : b;
}

int
rv_lockout_error(long long until, struct rv_err *err)
{
	long long left = until - rv_store_now();
	long minutes = (long)((left + 59999) / 60000);

	if (minutes < 1)
		minutes = 1;
	rv_err_set(err, "session.verification_blocked_too_many_attempts",
		   "identifier blocked for %ld more minutes", minutes);
	rv_err_var_minutes(err, "relativeTime", minutes);
	rv_err_header(err, "Retry-After", "%lld", left > 0 ? (left + 999) / 1000 : 1);
	return -1;
}
