/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent: what it holds between reconciles.  Everything lives in one
 * struct owned by main(); nothing here is global.
 */
#ifndef PROFILED_AGENT_H
#define PROFILED_AGENT_H

#include <stdbool.h>

#include "../lib/labels.h"
#include "../lib/seccomp.h"
#include "../lib/state.h"
#include "../lib/store.h"
#include "options.h"

struct agent {
	const struct options *opt;
	struct pd_state_dir *state_dir;
	struct pd_state state; /* what is published, as last saved */
	struct pd_store *store;
	struct pd_seccomp_env env;
	bool seccomp_enabled;
	bool apparmor_enabled;
	struct pd_labels labels; /* the labels the node should carry, as last computed */
	struct pd_strv reported; /* "path\nsha\nmessage" of problems already logged */
	bool apparmor_noted;	 /* the "AppArmor not handled" note was logged */
};

struct reconcile_result {
	unsigned published, unchanged, rejected, removed, failed;
};

/* Opens the state folder (waiting for another agent's lock) and the
 * seccomp store.  Returns 0 or a negative errno after logging why. */
int agent_open(struct agent *a, const struct options *opt);
void agent_close(struct agent *a);

/* Makes the node hold what the profiles folders hold (SPEC §1-§2). */
void agent_reconcile(struct agent *a, struct reconcile_result *res);

/* The label set for the current state. */
void agent_desired_labels(const struct agent *a, struct pd_labels *out);

#endif
