/* SPDX-License-Identifier: Apache-2.0 */
#include "debounce.h"

long long
debounce_event(struct debounce *d, long long now, bool committed)
{
	/* The kubelet's `..data` swap after a quiet spell puts a whole
	 * payload in place at once: nothing to wait for (the links of keys
	 * it adds or removes come after it, and start a burst of their own);
	 * swaps in quick succession coalesce like any other burst. */
	bool quiet = d->last_event == 0 || now - d->last_event >= DEBOUNCE_MS;
	long long due;

	d->last_event = now;
	if (d->burst_start == 0)
		d->burst_start = now;
	due = now + DEBOUNCE_MS;
	if (due > d->burst_start + DEBOUNCE_MAX_MS)
		due = d->burst_start + DEBOUNCE_MAX_MS;
	if (committed && quiet)
		due = now;
	/* At least 1 ms: a zero timer would disarm it, and lose the
	 * reconcile of a burst older than DEBOUNCE_MAX_MS. */
	return due > now ? due - now : 1;
}

void
debounce_fired(struct debounce *d)
{
	d->burst_start = 0;
}
