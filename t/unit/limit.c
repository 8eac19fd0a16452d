/* unit/limit: rv-limit.c: rolling send windows and the per-minute budget
 * (logto-spec 5.2; issue 14) */
#include "config.h"

#include <string.h>

#include "rv-limit.h"
#include "tap.h"

#define S 1000LL		/* ms */
#define T0 (28333333LL * 60000)	/* a minute start */

int
main(void)
{
	struct rv_window w;
	long long slot, retry, slots[4];
	int i, got;

	/* a rolling window: 3 per 600 s */
	memset(&w, 0, sizeof(w));
	for (i = 0, got = 1; i < 3; i++)
		got &= rv_limit_take(&w, 3, 600 * S, 0, T0 + i * S, &slots[i], &retry);
	ok(got && w.n == 3, "three sends fit a window of 3");
	is_int(rv_limit_take(&w, 3, 600 * S, 0, T0 + 10 * S, &slot, &retry), 0,
	       "the fourth is refused");
	is_int(retry, 590, "retry when the oldest leaves: 590 s");
	ok(rv_limit_give_back(&w, slots[1]) && w.n == 2, "a failed delivery gives its slot back");
	ok(!rv_limit_give_back(&w, slots[1]), "only once");
	is_int(rv_limit_take(&w, 3, 600 * S, 0, T0 + 10 * S, &slot, &retry), 1,
	       "then one more fits");
	is_int(rv_limit_take(&w, 3, 600 * S, 0, T0 + 600 * S, &slot, &retry), 1,
	       "600 s after the first, it has left the window");
	is_int(w.n, 3, "and was dropped");
	ok(w.expires_at == T0 + 1200 * S, "the window expires a window after its last send");

	/* same-millisecond sends get distinct slots */
	memset(&w, 0, sizeof(w));
	rv_limit_take(&w, 10, 600 * S, 0, T0, &slots[0], &retry);
	rv_limit_take(&w, 10, 600 * S, 0, T0, &slots[1], &retry);
	ok(slots[0] != slots[1], "two sends in one millisecond have distinct slots");
	ok(rv_limit_give_back(&w, slots[1]) && w.n == 1 && w.events[0] == slots[0],
	   "and giving one back leaves the other");

	/* the gap */
	memset(&w, 0, sizeof(w));
	rv_limit_take(&w, 10, 600 * S, 30 * S, T0, &slot, &retry);
	is_int(rv_limit_take(&w, 10, 600 * S, 30 * S, T0 + 10 * S, &slot, &retry), 0,
	       "a send within the gap is refused");
	is_int(retry, 20, "retry when the gap is over");

	/* never more than a window holds */
	memset(&w, 0, sizeof(w));
	for (i = 0, got = 1; i < RV_WINDOW_MAX; i++)
		got &= rv_limit_take(&w, 100000, 600 * S, 0, T0 + i, &slot, &retry);
	ok(got, "RV_WINDOW_MAX sends fit");
	is_int(rv_limit_take(&w, 100000, 600 * S, 0, T0 + 1000, &slot, &retry), 0,
	       "one more does not, whatever max says");

	/* the per-minute budget: 1000 an hour, more than a window holds */
	memset(&w, 0, sizeof(w));
	for (i = 0, got = 1; i < 1000; i++)
		got &= rv_limit_budget_take(&w, 1000, T0 + i * 3599, &slot, &retry);
	ok(got, "1000 sends spread over an hour fit a budget of 1000");
	ok(w.n == 120, "kept as 60 (minute, count) pairs");
	is_int(rv_limit_budget_take(&w, 1000, T0 + 3599 * S, &slot, &retry), 0,
	       "the 1001st in that hour is refused");
	is_int(retry, 1, "retry when the first minute has left the hour");
	is_int(rv_limit_budget_take(&w, 1000, T0 + 3600 * S, &slot, &retry), 1,
	       "an hour after the first minute began, its sends have left");
	is_int(slot, T0 + 3600 * S, "the slot is the minute");
	ok(rv_limit_budget_give_back(&w, slot), "a failed delivery gives it back");
	ok(w.n == 118, "an emptied minute is dropped");
	ok(!rv_limit_budget_give_back(&w, slot), "only once");
	is_int(rv_limit_budget_take(&w, 1000, T0 + 3600 * S - 2 * 60 * S, &slot, &retry), 1,
	       "a clock behind the last minute (another process) is taken");
	ok(slot == T0 + 3600 * S - 60 * S && w.n == 118,
	   "and counted in the last minute, keeping the pairs in order");

	memset(&w, 0, sizeof(w));
	rv_limit_budget_take(&w, 2, T0 + 5 * S, &slot, &retry);
	rv_limit_budget_take(&w, 2, T0 + 50 * S, &slot, &retry);
	ok(w.n == 2 && w.events[1] == 2, "two sends in one minute share a pair");
	is_int(rv_limit_budget_take(&w, 2, T0 + 61 * S, &slot, &retry), 0,
	       "a budget of 2 is spent");
	is_int(retry, 3600 - 61, "retry when that minute leaves the hour");
	ok(rv_limit_budget_give_back(&w, T0) && w.events[1] == 1,
	   "giving one back lowers the count");
	is_int(rv_limit_budget_take(&w, 2, T0 + 61 * S, &slot, &retry), 1,
	       "then one more fits");
	return done_testing();
}
