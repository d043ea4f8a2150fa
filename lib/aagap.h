/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rules a kernel does not enforce.  The AppArmor parser, run with
 * `--warn=rule-not-enforced --warn=rule-downgraded`, prints one warning per
 * profile and rule class it drops (the features compiled for do not
 * mediate the class) or downgrades (to a coarser rule that is enforced).
 * That output is the interface the parser offers: this module turns its
 * lines into (profile, rule class, kind) records, matching the exact texts
 * of parsers 3.0 and 4.1, so that nothing else reads the parser's words.
 * A line it does not know is not a gap (it stays a plain warning).
 */
#ifndef PROFILED_AAGAP_H
#define PROFILED_AAGAP_H

#include <stdbool.h>
#include <stddef.h>

enum pd_aa_rule_class {
	PD_AA_RULE_CHANGE_PROFILE,
	PD_AA_RULE_DBUS,
	PD_AA_RULE_IO_URING,
	PD_AA_RULE_MOUNT,
	PD_AA_RULE_MQUEUE,
	PD_AA_RULE_NETWORK,
	PD_AA_RULE_PTRACE,
	PD_AA_RULE_SIGNAL,
	PD_AA_RULE_UNIX,
	PD_AA_RULE_USERNS,
	PD_AA_RULE_N_CLASSES
};

enum pd_aa_gap_kind {
	PD_AA_GAP_NOT_ENFORCED, /* the rules are left out of the policy */
	PD_AA_GAP_DOWNGRADED,	/* enforced as a coarser rule */
};

/* The class as written in profiles and reports: "userns", "io_uring"... */
const char *pd_aa_rule_class_name(enum pd_aa_rule_class c);

/*
 * One parser warning line about the file the parser was shown as file (its
 * path on the command line, or what replaced it).  True when the line says
 * a rule class is not enforced or is downgraded: *profile (the caller
 * frees; "" when the parser names no profile), *cls and *kind are set.
 */
bool pd_aa_parse_gap(const char *line, const char *file, char **profile, enum pd_aa_rule_class *cls,
		     enum pd_aa_gap_kind *kind);

/* What one profile loses: bit (1u << class) set per class. */
struct pd_aa_gap {
	char *profile;
	unsigned not_enforced;
	unsigned downgraded;
};

struct pd_aa_gaps {
	struct pd_aa_gap *v;
	size_t n, cap;
};

/* Adds the class to the profile's record (one record per profile). */
void pd_aa_gaps_add(struct pd_aa_gaps *g, const char *profile, enum pd_aa_rule_class cls,
		    enum pd_aa_gap_kind kind);
/* Adds every class of src to the record of src->profile. */
void pd_aa_gaps_merge(struct pd_aa_gaps *g, const struct pd_aa_gap *src);
/* The record of profile, or NULL. */
const struct pd_aa_gap *pd_aa_gaps_find(const struct pd_aa_gaps *g, const char *profile);
void pd_aa_gaps_clear(struct pd_aa_gaps *g);

/* The classes of mask in class order, joined by sep ("" for none); the
 * caller frees. */
char *pd_aa_classes_text(unsigned mask, const char *sep);

/* One line for people, the same in `check`, logs and Events:
 * "profile `NAME`: rules not enforced: io_uring userns; downgraded: unix"
 * ("the file" when the parser named no profile).  The caller frees. */
char *pd_aa_gap_text(const struct pd_aa_gap *g);

#endif
