/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent: what it holds between reconciles, in one struct of parts
 * owned by main(); nothing here is global.  A pass takes the parts it
 * needs (seccomp_pass.h, apparmor.h); node sync reads a view (view.h).
 */
#ifndef PROFILED_AGENT_H
#define PROFILED_AGENT_H

#include <stdbool.h>

#include "../lib/apparmor.h"
#include "../lib/labels.h"
#include "../lib/seccomp.h"
#include "../lib/state.h"
#include "../lib/store.h"
#include "../lib/scan.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "options.h"
#include "apparmor.h"
#include "problems.h"
#include "result.h"
#include "seccomp_pass.h"

/*
 * The daemon state, owned by main(), made of parts: each pass takes the
 * parts it needs (apparmor.h: struct apparmor_pass), node sync takes a view
 * (view.h).
 */
/* The ProfilesReady condition after the last reconcile. */
struct readiness {
	bool ready;	 /* every profile of the folders is in place */
	char reason[40]; /* CamelCase: ProfilesInPlace, ProfileInvalid, ... */
	char *message;	 /* what failed: the file and why */
};

/* What the agent owns: what it published and loaded, as saved in the
 * state folder (lib/state.h; docs/operations.md, "What it writes"). */
struct owned_part {
	struct pd_state_dir *dir; /* locked while the agent runs */
	struct pd_state state;
	bool unknown;	   /* no state (lost, corrupt, first start): rebuild and save it */
	bool proof_window; /* the state was unknown at start: a loaded profile may be
			    * proven ours by the kernel's copy of its policy (apparmor.c
			    * admit) until a reconcile leaves nothing compiling; with a
			    * known state, what it does not list is never ours */
	bool lock_lost;	   /* the state folder was replaced and another agent locked it */
};

struct agent {
	const struct options *opt;
	struct owned_part owned;
	bool *mounted; /* per profiles folder: it was a mount when last read */
	struct seccomp_part seccomp;
	struct apparmor_part apparmor;
	struct problems problems; /* this round's and the last round's */
	struct event_sink events; /* Events about this node: to node_sync_event() */
	/* node */
	struct node_sync *node;	 /* the API connection; NULL in local mode */
	struct pd_labels labels; /* local mode: the labels as last logged */
	struct metrics metrics;	 /* read by the health/metrics thread */
	struct readiness ready;	 /* as of the last reconcile */
};

/* Makes the node hold what the profiles folders hold (docs/operations.md,
 * "What it writes" and "Labels"). */
void agent_reconcile(struct agent *a, struct reconcile_result *res);

/* Refreshes the profile gauges of a->metrics from the state. */
void agent_update_gauges(struct agent *a);

#endif
