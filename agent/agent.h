/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent: what it holds between reconciles.  Everything lives in one
 * struct owned by main(); nothing here is global.
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
#include "problems.h"
#include "view.h"

/* A removed AppArmor profile that processes still run under. */
struct aa_hold {
	char *name;
	long long reported_ms; /* when its holders were last said (monotonic) */
	char *holders;	       /* "pid 12 (sleep), pid 40 (sh) and 3 more" */
};

struct aa_holds {
	struct aa_hold *v;
	size_t n, cap;
};

void aa_holds_clear(struct aa_holds *h);

struct agent {
	const struct options *opt;
	struct pd_state_dir *state_dir;
	struct pd_state state; /* what is published, as last saved */
	bool state_unknown;    /* no state (lost, corrupt, first start): rebuild and save it */
	bool proof_window;     /* the state was unknown at start: a loaded profile may be
				* proven ours by the kernel's copy of its policy (apparmor.c
				* admit) until a reconcile leaves nothing compiling; with a
				* known state, what it does not list is never ours */
	struct pd_store *store;
	struct pd_seccomp_env env;
	bool seccomp_enabled;
	bool apparmor_enabled;	   /* the kernel (or --apparmorfs) takes policy */
	bool apparmor_load;	   /* enabled, and not --apparmor-validate-only */
	struct pd_aa *aa;	   /* NULL when the parser cannot be used */
	char *aa_error;		   /* why aa is NULL */
	struct pd_aa_job *aa_job;  /* the compile running in the background, or NULL */
	struct pd_strv aa_labeled; /* AppArmor profiles wanted and confirmed loaded */
	struct pd_aa_gaps aa_gaps; /* per profile: rule classes the kernel does not enforce */
	bool unload_ok;		   /* --unload-removed, and the node's processes are seen */
	struct aa_holds aa_held;   /* removed profiles still in use */
	struct pd_labels labels;   /* the labels the node should carry, as last computed */
	struct problems problems;  /* this round's and the last round's */
	struct event_sink events;  /* Events about this node: to node_event() */
	struct node_sync *node;	   /* the API connection; NULL in local mode */
	struct metrics metrics;	   /* read by the health/metrics thread */
	struct readiness ready;	   /* as of the last reconcile */
	struct pd_strv sc_missing; /* seccomp files the state names that are not in place */
	bool lock_lost;		   /* the state folder was replaced and another agent locked it */
	bool *mounted;		   /* per profiles folder: it was a mount when last read */
};

struct reconcile_result {
	unsigned published, unchanged, rejected, removed, failed;
	unsigned loaded, unloaded; /* AppArmor */
	bool retry;	  /* a write on this node failed (full, read-only...): try again soon */
	bool reread;	  /* a profiles folder was unmounted: read it again soon */
	unsigned pending; /* AppArmor files waiting for their compile */
	const char *pending_path; /* the first of them (valid during the reconcile) */
	bool cancelled;		  /* SIGTERM came during the seccomp part: the rest was skipped */
};

/* Makes the node hold what the profiles folders hold (docs/operations.md,
 * "What it writes" and "Labels"). */
void agent_reconcile(struct agent *a, struct reconcile_result *res);

/* Decides whether --unload-removed can be honoured: only when the agent
 * sees every process of the node (hostPID), else it retires.  Logs why. */
void agent_check_unload(struct agent *a);

/* AppArmor part of a reconcile: src holds every scanned entry; complete
 * says whether every folder could be listed (else nothing is removed). */
void agent_reconcile_apparmor(struct agent *a, const struct pd_sources *src, bool complete,
			      struct reconcile_result *res);

/* The fd that is readable when the background compile has news, or -1
 * when none runs. */
int agent_compile_fd(const struct agent *a);

/* Moves the background compile on; true when it ended (its verdicts are in
 * the cache): reconcile then, to load them. */
bool agent_compile_step(struct agent *a);

/* The labels for what is actually in place now (published files that hold
 * their bytes, AppArmor profiles the kernel lists): the reboot prune.
 * Kept for node.c until it reads an agent_view (view.h). */
void agent_present_labels(const struct agent *a, struct pd_labels *out);

/* Refreshes the profile gauges of a->metrics from the state. */
void agent_update_gauges(struct agent *a);

/* The label set for the current state (agent_view's desired). */
void agent_desired_labels(const struct agent *a, struct pd_labels *out);

#endif
