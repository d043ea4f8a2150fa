/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules on names that `profiled check` and the daemon share, written
 * once so that check validates exactly as the daemon decides:
 *
 *  - entry names: over all the profiles folders, in scan order, the first
 *    entry of a name is taken and a later entry of the same name is rejected
 *    (the name is the published seccomp file and the source recorded for
 *    owned AppArmor profiles, so two cannot share it);
 *  - an entry that vanished (ENOENT: removed between listing and reading, or
 *    a dangling link) is absent, not an error;
 *  - AppArmor profile names: a file is rejected when one of its profiles is
 *    already declared by an earlier admitted file.
 *
 * Pure functions over the records given: no I/O, no state of their own.
 */
#ifndef PROFILED_RULES_H
#define PROFILED_RULES_H

#include <stdbool.h>

#include "apparmor.h"
#include "scan.h"
#include "util.h"

/* Whether the entry vanished and is to be taken as absent. */
bool pd_source_absent(const struct pd_source *s);

/* NULL when s is the first entry of its name (the name is then recorded in
 * seen, which the caller owns and clears), else why s is rejected (a
 * constant string; seen unchanged). */
const char *pd_source_taken(struct pd_strv *seen, const struct pd_source *s);

/* What the entry rules make of one entry. */
enum pd_entry {
	PD_ENTRY_USE,	   /* read, first of its name: validate it */
	PD_ENTRY_ABSENT,   /* vanished or its link dangles: as if not listed */
	PD_ENTRY_REJECTED, /* an error for this entry alone */
};

/*
 * The entry rules in the daemon's order, for every entry of the scan in
 * turn: absent (nothing recorded), else taken by an earlier entry of its
 * name, else unreadable (s->error).  On PD_ENTRY_REJECTED *why is the
 * message (owned by s or constant); else *why is untouched.
 */
enum pd_entry pd_source_rule(struct pd_strv *seen, const struct pd_source *s, const char **why);

/*
 * The name-clash rule: NULL when none of u's names is declared by an
 * admitted unit of units[0..n), else the message for the first of u's names
 * (in file order) that is, naming the earliest such unit (caller frees).
 * Only units whose `admitted` the caller set count.
 */
char *pd_aa_clash(const struct pd_aa_unit *units, size_t n, const struct pd_aa_unit *u);

#endif
