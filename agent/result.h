/* SPDX-License-Identifier: Apache-2.0 */
/* What one reconcile did: filled by the passes, read by the loop. */
#ifndef PROFILED_RESULT_H
#define PROFILED_RESULT_H

#include <stdbool.h>

struct reconcile_result {
	unsigned published, unchanged, rejected, removed, failed;
	unsigned loaded, unloaded; /* AppArmor */
	bool retry;	  /* a write on this node failed (full, read-only...): try again soon */
	bool reread;	  /* a profiles folder was unmounted: read it again soon */
	unsigned pending; /* AppArmor files waiting for their compile */
	const char *pending_path; /* the first of them (valid during the reconcile) */
	bool cancelled;		  /* SIGTERM came during the seccomp part: the rest was skipped */
};

#endif
