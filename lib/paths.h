/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whether two folders overlap: the same folder, or one inside the other,
 * however they are spelled.  A path is walked as the kernel will walk it
 * once its missing folders are made: symlinks followed (a dangling one to
 * the folder it names), `..` applied after them.  The part that exists is
 * compared by inode, so a folder reached through a bind mount or a second
 * symlink is still recognised; the part that does not exist yet (a folder
 * the agent will create) is compared by name below its deepest existing
 * folder, `..` there climbing by name.
 */
#ifndef PROFILED_PATHS_H
#define PROFILED_PATHS_H

#include "error.h"

enum pd_overlap {
	PD_DISJOINT,
	PD_SAME,   /* one folder */
	PD_A_IN_B, /* a is inside b */
	PD_B_IN_A, /* b is inside a */
};

/* Sets *out to how a and b overlap.  Fails only when a path cannot be
 * looked at (a folder on the way is unreadable, a component is not a
 * folder, or more than 40 symlinks: ELOOP). */
int pd_path_overlap(const char *a, const char *b, enum pd_overlap *out, pd_error_t *err);

/*
 * The rule the daemon applies to its folders at start, for `run` and
 * `check` alike: NULL when a and b are apart, or when one cannot be looked
 * at (that is reported where it is used); else the message naming both,
 * each as `FLAG "PATH"` (just `"PATH"` when its flag is NULL), which the
 * caller frees.
 */
char *pd_overlap_text(const char *flag_a, const char *a, const char *flag_b, const char *b);

#endif
