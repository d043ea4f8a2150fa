/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's side of node sync, and the only one: what the Node should
 * show (struct node_view, node.h), filled from the daemon state.  Node sync
 * takes that view, read-only, and never sees the daemon state.
 */
#ifndef PROFILED_VIEW_H
#define PROFILED_VIEW_H

#include <stdbool.h>

#include "../lib/labels.h"
#include "node.h"

struct agent;

/* Which labels the view holds. */
enum view_labels {
	VIEW_DESIRED, /* those of the current state: what the Node should carry */
	VIEW_PRESENT, /* those of what is in place now (published files that hold
		       * their bytes, profiles the kernel lists): the reboot prune */
};

/*
 * Fills *out: the labels, one profiles annotation entry per managed profile
 * (lib/annotation.h, canonical order), the label domains used before, and
 * readiness.  reason and message point into a->ready: the view is read
 * before the state changes again.  node_view_clear() frees it.
 */
void agent_view_fill(const struct agent *a, enum view_labels labels, struct node_view *out);

/* The label set for the current state (a view's VIEW_DESIRED labels). */
void agent_desired_labels(const struct agent *a, struct pd_labels *out);

/* Makes the Node show the view of a's state (node_sync_run); 0 in local
 * mode, else its retry delay. */
long long agent_node_sync(struct agent *a, bool force_get);

/* The reboot order (node_sync_prune) with the view of what is in place. */
void agent_node_prune(struct agent *a);

#endif
