/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `profiled.io/profiles` annotation of the Node (docs/api.md, "Labels
 * and the annotation"): a JSON array, one object per managed profile, in
 * one place both ways.  Pure functions, no I/O, no logging.
 *
 * Encoding is canonical: pd_annotation_encode(pd_annotation_decode(x))
 * gives back x for every x the encoder wrote.  Decoding is strict, since
 * anyone who can patch the Node can write the annotation: unknown keys,
 * kinds, states or rule classes are errors.
 */
#ifndef PROFILED_ANNOTATION_H
#define PROFILED_ANNOTATION_H

#include <stddef.h>

#include "error.h"
#include "scan.h"
#include "util.h"

#define PD_ANNOTATION_PROFILES "profiled.io/profiles"
/* The API's limit on all annotations of an object, keys and values; also
 * the most the decoder reads. */
#define PD_ANNOTATIONS_MAX_BYTES 262144

enum pd_annotation_state {
	PD_ANN_PUBLISHED,   /* seccomp: the file is in the kubelet's folder */
	PD_ANN_LOADED,	    /* AppArmor: the kernel lists it */
	PD_ANN_UNCONFIRMED, /* AppArmor: loaded, not listed (yet) */
	PD_ANN_RETIRED,	    /* AppArmor: its source is gone, the profile stays */
	PD_ANN_N_STATES
};

struct pd_annotation_entry {
	enum pd_kind kind;
	char *name;			    /* seccomp: without ".json" */
	char *file;			    /* the source entry; NULL is written as null */
	char sha256[PD_SHA256_HEX_LEN + 1]; /* of the source */
	enum pd_annotation_state state;
	unsigned unenforced; /* masks of enum pd_aa_rule_class (lib/aagap.h) */
	unsigned downgraded;
};

struct pd_annotation {
	struct pd_annotation_entry *v;
	size_t n, cap;
	size_t truncated; /* entries a cut left out: the closing {"truncated":N} */
};

/* Appends an entry (copies name and file); returns it, to set the rest. */
struct pd_annotation_entry *pd_annotation_add(struct pd_annotation *a, enum pd_kind kind,
					      const char *name, const char *file,
					      const char *sha256, enum pd_annotation_state state);

/* The canonical order: AppArmor entries first, then each kind by its key
 * (the AppArmor name, the seccomp file). */
void pd_annotation_sort(struct pd_annotation *a);

/*
 * The annotation's text, entries in the order of a->v, of at most max bytes
 * (SIZE_MAX: no cap).  When the entries do not all fit, the array ends with
 * {"truncated":N}, N the entries left out (*omitted, plus a->truncated),
 * and only the text of that cut is guaranteed under max when at least one
 * entry fits.  Never fails; the caller frees the text.
 */
char *pd_annotation_encode(const struct pd_annotation *a, size_t max, size_t *omitted);

/* Parses the annotation's text (len bytes) into *out (set only on success).
 * -EINVAL (or -E2BIG over PD_ANNOTATIONS_MAX_BYTES) with err on failure. */
int pd_annotation_decode(const char *text, size_t len, struct pd_annotation *out, pd_error_t *err);

const char *pd_annotation_state_name(enum pd_annotation_state s);
void pd_annotation_clear(struct pd_annotation *a);

#endif
