/* SPDX-License-Identifier: Apache-2.0 */
/*
 * When a burst of folder events leads to its reconcile: after DEBOUNCE_MS of
 * quiet, but never more than DEBOUNCE_MAX_MS after the burst's first event;
 * the kubelet's `..data` swap after a quiet spell at once.  Pure decisions
 * on monotonic milliseconds, kept apart from the loop's timers so that they
 * can be tested on their own.
 */
#ifndef PROFILED_DEBOUNCE_H
#define PROFILED_DEBOUNCE_H

#include <stdbool.h>

/* Quiet time after the last folder event before reconciling, and the
 * longest a burst of events can hold a reconcile back. */
#define DEBOUNCE_MS	15
#define DEBOUNCE_MAX_MS 250

struct debounce {
	long long burst_start; /* monotonic ms of the first pending event, or 0 */
	long long last_event;  /* when the last relevant folder event came, or 0 */
};

/* A relevant event at now (committed: the kubelet's `..data` swap): the
 * delay in ms, at least 1, until the reconcile of the burst is due. */
long long debounce_event(struct debounce *d, long long now, bool committed);

/* The reconcile of the burst ran: the next event starts a new burst. */
void debounce_fired(struct debounce *d);

#endif
