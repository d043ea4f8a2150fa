/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which processes an AppArmor profile confines: a walk over a proc folder
 * reading each task's AppArmor label (`attr/apparmor/current`, falling back
 * to `attr/current` on kernels without the per-LSM folder).
 *
 * The proc root is a parameter (the agent passes /proc; tests pass a folder
 * laid out like it).  Processes come and go during the walk: a pid whose
 * files vanish (ENOENT, ESRCH) is skipped; one whose label exists but
 * cannot be read is counted as `unreadable`, so a caller can refuse to
 * conclude "nobody uses it" from a walk it could not finish.
 */
#ifndef PROFILED_PROCSCAN_H
#define PROFILED_PROCSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "util.h"

#define PD_PROC_HOLDERS_MAX 8		  /* pids kept per profile */
#define PD_PROC_LABEL_MAX   4096	  /* bytes of a label read */
#define PD_PROC_INIT_PIDNS  0xEFFFFFFCULL /* the kernel's PROC_PID_INIT_INO */

/*
 * Appends to out the names of the profiles of the root namespace that the
 * label text confines by, each once:
 *   "unconfined"               nothing
 *   "P (enforce)"              P
 *   "P//hat (complain)"        P (a child profile or hat is a use of its parent)
 *   "A//&B (enforce)"          A and B (a stack: each part counts)
 *   "A (enforce)//&B (kill)"   A and B (a stack whose parts differ in mode)
 *   ":ns:P", ":ns://P"         nothing: a profile of another policy namespace
 *                              is another profile, even under the same name;
 *                              only ":root:P" (the root namespace by its
 *                              name) counts as P
 * The text may end with a newline or NULs (as read from procfs).  Returns
 * the number of names appended.
 */
size_t pd_proc_label_profiles(const char *text, size_t len, struct pd_strv *out);

struct pd_proc_holder {
	int pid;
	char comm[17]; /* the kernel's TASK_COMM_LEN, NUL-terminated; "?" unknown */
};

/* The processes one profile confines. */
struct pd_proc_hold {
	size_t count; /* processes confined by it (all of them) */
	size_t n;     /* of which the first n are in v, lowest pid first */
	struct pd_proc_holder v[PD_PROC_HOLDERS_MAX];
};

struct pd_proc_scan {
	size_t pids;	   /* processes looked at */
	size_t unreadable; /* whose label exists but could not be read */
};

/*
 * Walks proc_root: for each names->v[i], fills holds[i] (names->n entries,
 * zeroed here).  Every task (proc_root/PID/task/TID) counts for its
 * process; a pid without a task folder is read as a single task.  Fails only
 * when proc_root itself cannot be listed.
 */
int pd_proc_scan_holders(const char *proc_root, const struct pd_strv *names,
			 struct pd_proc_hold *holds, struct pd_proc_scan *stats, pd_error_t *err);

/*
 * Whether a process reading proc_root sees every process of the node: its
 * PID namespace (the link proc_root/self/ns/pid, "pid:[INODE]") is the
 * initial one, whose inode the kernel fixes at PD_PROC_INIT_PIDNS.  A pod
 * without hostPID has a PID namespace of its own and sees only its own
 * processes.  Returns 1 yes, 0 no (*why says why), negative errno when the
 * link cannot be read.
 */
int pd_proc_sees_host(const char *proc_root, char **why, pd_error_t *err);

#endif
