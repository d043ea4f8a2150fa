/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the Node should show, read-only: the labels wanted (and those whose
 * profile is actually in place, for the reboot prune), one entry per
 * managed profile for the profiles annotation, and the ProfilesReady
 * condition.  Filled from the daemon state after a reconcile; node sync
 * reads this and never the daemon state.  Everything in it is its own
 * copy: agent_view_clear() frees it.
 */
#ifndef PROFILED_VIEW_H
#define PROFILED_VIEW_H

#include <stdbool.h>

#include "../lib/aagap.h"
#include "../lib/labels.h"
#include "../lib/state.h"

struct agent;

/* The ProfilesReady condition after the last reconcile. */
struct readiness {
	bool ready;	 /* every profile of the folders is in place */
	char reason[40]; /* CamelCase: ProfilesInPlace, ProfileInvalid, ... */
	char *message;	 /* what failed: the file and why */
};

struct view_profile {
	enum pd_kind kind;
	char *name; /* the profile (seccomp: the file name without .json) */
	char *file; /* the entry that declares it; NULL: retired */
	char sha256[PD_SHA256_HEX_LEN + 1];
	const char *state;     /* published, loaded, unconfirmed, retired */
	struct pd_aa_gap gaps; /* rule classes not enforced (profile NULL) */
};

struct agent_view {
	struct pd_labels desired;      /* the labels the Node should carry */
	struct pd_labels present;      /* with VIEW_PRESENT: those of what is in place now */
	struct view_profile *profiles; /* in state order */
	size_t nprofiles;
	struct readiness ready; /* message is the view's copy */
};

#define VIEW_PRESENT 1u /* also list what is in place (reads the kernel and the folder) */

void agent_view_fill(const struct agent *a, unsigned what, struct agent_view *out);
void agent_view_clear(struct agent_view *v);

/* The label set for the current state (agent_view's desired). */
void agent_desired_labels(const struct agent *a, struct pd_labels *out);

/* The labels for what is actually in place now (published files that hold
 * their bytes, AppArmor profiles the kernel lists): the reboot prune.
 * Kept for node.c until it reads an agent_view. */
void agent_present_labels(const struct agent *a, struct pd_labels *out);

#endif
