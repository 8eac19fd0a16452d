/* rv-limit.h: rolling windows and budgets of sends (logto-spec 5.2) */
#ifndef RV_LIMIT_H
#define RV_LIMIT_H

#include <stdbool.h>

#include "rv-store.h"

/*
 * Pure functions over a struct rv_window read from the store; the caller
 * gets and puts it in one transaction with DB_RMW (rv_store_window_get,
 * rv_store_window_put). Times are epoch ms; *retry_r is in whole seconds,
 * at least 1.
 */

/*
 * A rolling window of single events: drops those at or before now -
 * window, then takes one slot: 1 with *slot_r (a time that no other event
 * in the window has) appended, or 0 with *retry_r when max events are in
 * the window (max is capped at RV_WINDOW_MAX), or when gap > 0 and the
 * last one is less than gap ago.
 */
int rv_limit_take(struct rv_window *w, long long max, long long window,
		  long long gap, long long now, long long *slot_r,
		  long long *retry_r);
/* Gives back the event at slot; false when it is not in the window. */
bool rv_limit_give_back(struct rv_window *w, long long slot);

/*
 * A budget of events per rolling hour that may exceed RV_WINDOW_MAX: the
 * window holds (minute start, count) pairs in events[], oldest first. A
 * minute counts until an hour after its start, so the budget errs by less
 * than a minute on the safe side. 1 with *slot_r (the minute counted) taken,
 * or 0 with *retry_r when max are spent.
 */
int rv_limit_budget_take(struct rv_window *w, long long max, long long now,
			 long long *slot_r, long long *retry_r);
/* Gives back one event of the minute slot; false when it has none. */
bool rv_limit_budget_give_back(struct rv_window *w, long long slot);

#endif
