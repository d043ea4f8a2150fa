/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AppArmor part of the daemon state and the AppArmor pass of a
 * reconcile (apparmor.c).  The pass takes this part, the owned state, the
 * problems and the Events sink: never the whole daemon state.
 */
#ifndef PROFILED_AGENT_APPARMOR_H
#define PROFILED_AGENT_APPARMOR_H

#include <stdbool.h>

#include "../lib/aagap.h"
#include "../lib/apparmor.h"
#include "../lib/scan.h"
#include "../lib/state.h"
#include "options.h"
#include "problems.h"

struct reconcile_result;

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

struct apparmor_part {
	bool enabled;		/* the kernel (or --apparmorfs) takes policy */
	bool load;		/* enabled, and not --apparmor-validate-only */
	struct pd_aa *parser;	/* NULL when the parser cannot be used */
	char *error;		/* why parser is NULL */
	struct pd_aa_job *job;	/* the compile running in the background, or NULL */
	struct pd_strv labeled; /* profiles wanted and confirmed loaded */
	struct pd_aa_gaps gaps; /* per profile: rule classes the kernel does not enforce */
	bool unload_ok;		/* --unload-removed, and the node's processes are seen */
	struct aa_holds held;	/* removed profiles still in use */
};

/* What the AppArmor pass may touch. */
struct apparmor_pass {
	const struct options *opt;
	struct apparmor_part *aa;
	struct pd_state *state;	  /* owned profiles */
	bool proof_window;	  /* a loaded profile may be proven ours (state unknown at start) */
	long long hold_report_ms; /* who holds a profile is said again at most this often
				   * (the Events' aggregation window) */
	struct problems *problems;
	const struct event_sink *events;
};

/* Decides whether --unload-removed can be honoured: only when the agent
 * sees every process of the node (hostPID), else it retires.  Logs why. */
void apparmor_check_unload(struct apparmor_part *aa, const struct options *opt);

/* AppArmor part of a reconcile: src holds every scanned entry; complete
 * says whether every folder could be listed (else nothing is removed). */
void apparmor_reconcile(struct apparmor_pass *p, const struct pd_sources *src, bool complete,
			struct reconcile_result *res);

/* The fd that is readable when the background compile has news, or -1
 * when none runs. */
int apparmor_compile_fd(const struct apparmor_part *aa);

/* Moves the background compile on; true when it ended (its verdicts are in
 * the cache): reconcile then, to load them. */
bool apparmor_compile_step(struct apparmor_part *aa);

void apparmor_part_clear(struct apparmor_part *aa);

#endif
