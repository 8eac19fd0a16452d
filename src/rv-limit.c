/* rv-limit.c: rolling windows and budgets of sends (logto-spec 5.2) */
#include "config.h"
#include "rv-limit.h"

#include <string.h>

#define MINUTE_MS 60000LL
#define HOUR_MS 3600000LL

static long long
retry_seconds(long long at, long long now)
{
	return at > now ? (at - now + 999) / 1000 : 1;
}

int
rv_limit_take(struct rv_window *w, long long max, long long window,
	      long long gap, long long now, long long *slot_r, long long *retry_r)
{
	int i = 0;

	while (i < w->n && w->events[i] <= now - window)
		i++;
	memmove(w->events, w->events + i, (size_t)(w->n - i) * sizeof(w->events[0]));
	w->n -= i;
	if (w->n >= max || w->n >= RV_WINDOW_MAX) {
		*retry_r = retry_seconds(w->events[0] + window, now);
		return 0;
	}
	if (gap > 0 && w->n > 0 && now - w->events[w->n - 1] < gap) {
		*retry_r = retry_seconds(w->events[w->n - 1] + gap, now);
		return 0;
	}
	/* slots are unique, so that a give-back removes this one only */
	*slot_r = w->n > 0 && w->events[w->n - 1] >= now ? w->events[w->n - 1] + 1 : now;
	w->events[w->n++] = *slot_r;
	w->expires_at = *slot_r + window;
	return 1;
}

bool
rv_limit_give_back(struct rv_window *w, long long slot)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (w->events[i] == slot) {
			memmove(w->events + i, w->events + i + 1,
				(size_t)(w->n - i - 1) * sizeof(w->events[0]));
			w->n--;
			return true;
		}
	return false;
}

int
rv_limit_budget_take(struct rv_window *w, long long max, long long now,
		     long long *slot_r, long long *retry_r)
{
	long long minute = now - now % MINUTE_MS, total = 0;
	int i, o = 0;

	for (i = 0; i + 1 < w->n; i += 2)
		if (w->events[i] > now - HOUR_MS) {
			w->events[o++] = w->events[i];
			w->events[o++] = w->events[i + 1];
			total += w->events[i + 1];
		}
	w->n = o;
	if (total >= max) {
		*retry_r = retry_seconds(w->n > 0 ? w->events[0] + HOUR_MS : now, now);
		return 0;
	}
	/* A clock behind the last minute (another process's) counts in the
	 * last minute, which leaves the hour later: the pairs stay in order,
	 * and at most 61 minutes are kept, 122 of the RV_WINDOW_MAX events. */
	if (w->n >= 2 && (minute <= w->events[w->n - 2] || w->n + 2 > RV_WINDOW_MAX)) {
		w->events[w->n - 1]++;
		*slot_r = w->events[w->n - 2];
	} else {
		w->events[w->n++] = minute;
		w->events[w->n++] = 1;
		*slot_r = minute;
	}
	w->expires_at = w->events[w->n - 2] + HOUR_MS;
	return 1;
}

bool
rv_limit_budget_give_back(struct rv_window *w, long long slot)
{
	int i;

	for (i = 0; i + 1 < w->n; i += 2)
		if (w->events[i] == slot) {
			if (--w->events[i + 1] <= 0) {
				memmove(w->events + i, w->events + i + 2,
					(size_t)(w->n - i - 2) * sizeof(w->events[0]));
				w->n -= 2;
			}
			return true;
		}
	return false;
}
