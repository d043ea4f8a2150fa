/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AppArmor: checking, compiling and loading policy files.
 *
 * Profile names come from the AppArmor parser (`-N`), never from file names.
 * Compiling is one batched parser run for every file not already in the
 * cache, using the node's cores (`-j`), in the background (a job an event
 * loop polls) or waited for (pd_aa_compile).  A run that outlives its
 * budget is killed with its workers; a batch that timed out is compiled
 * again file by file, so only the slow file is rejected.  The cache is keyed
 * by the sha256 of the source, inside a folder named by the context (the
 * parser's version and bytes, the features, every file under the include
 * folder: aacache.h) and, through the parser's own cache layout, by the
 * feature set compiled for, so a restart or a reboot loads without
 * compiling, and an upgraded parser or a changed abstraction never reuses an
 * old binary or refusal.  Loading
 * goes through libapparmor's kernel interface (replace semantics); what the
 * kernel holds is read back from its `profiles` list.
 *
 * Policy is compiled for the features of the kernel it loads into (a copy
 * of `<fs>/features` taken at open, given to the parser as its features
 * file), never for a distribution's `policy-features` pin: each profile's
 * own `abi` line still applies, the kernel's features cap it.  The parser
 * reports the rules those features do not enforce (aagap.h).  With no
 * AppArmor in the kernel the same code compiles against the parser's
 * configured features file (or the one given), so that `check` and a node
 * without AppArmor still validate files in the modern format.
 */
#ifndef PROFILED_APPARMOR_H
#define PROFILED_APPARMOR_H

#include <stdbool.h>
#include <stddef.h>

#include "aagap.h"
#include "error.h"
#include "spawn.h"
#include "util.h"

#define PD_AA_DEFAULT_PARSER   "apparmor_parser"
#define PD_AA_DEFAULT_FEATURES "/usr/share/apparmor-features/features"
#define PD_AA_PARSER_CONF      "/etc/apparmor/parser.conf"
#define PD_AA_INCLUDE_ROOT     "/etc/apparmor.d"
#define PD_AA_NAMES_TIMEOUT_MS (60 * 1000)
/* Budgets of a compile run (docs/apparmor.md has the measurements): one
 * file alone gets PD_AA_COMPILE_TIMEOUT_MS (the heaviest normal profile
 * takes about 1 s on a busy node); a batch that much plus
 * PD_AA_BATCH_MS_PER_FILE for each file (about 70 ms a file measured). */
#define PD_AA_COMPILE_TIMEOUT_MS (30 * 1000)
#define PD_AA_BATCH_MS_PER_FILE	 250

struct pd_aa_options {
	const char *parser;	      /* NULL: apparmor_parser on PATH */
	const char *fs;		      /* AppArmor securityfs folder; NULL: the kernel's */
	bool load;		      /* false: compile only, never touch fs */
	const char *features;	      /* compile against this features file/folder; NULL:
				       * the kernel's (`<fs>/features`) when loading into a
				       * kernel, else the parser's configured
				       * policy-features pin or PD_AA_DEFAULT_FEATURES */
	const char *cache_dir;	      /* NULL: a private temporary folder, removed on free */
	int jobs;		      /* parser threads; 0: the online CPUs */
	long long compile_timeout_ms; /* budget of one file; 0: PD_AA_COMPILE_TIMEOUT_MS */
	const char *include_root;     /* the only folder includes may name, and the
				       * parser's --base; NULL: PD_AA_INCLUDE_ROOT */
};

struct pd_aa; /* opaque */

/* Whether the running kernel has AppArmor enabled (libapparmor's view). */
bool pd_aa_kernel_enabled(void);

int pd_aa_open(const struct pd_aa_options *o, struct pd_aa **out, pd_error_t *err);
void pd_aa_free(struct pd_aa *aa);

/* Reads the context again (the include folder, the parser's bytes) and
 * moves to its cache folder when it changed.  Call before compiling. */
int pd_aa_refresh(struct pd_aa *aa, pd_error_t *err);

/* Parser runs stop early when cancel says so (the caller keeps it alive). */
void pd_aa_set_cancel(struct pd_aa *aa, const struct pd_spawn_cancel *cancel);

/* The folder libapparmor loads into, and the features used to compile. */
const char *pd_aa_fs(const struct pd_aa *aa);
const char *pd_aa_features_desc(const struct pd_aa *aa);
/* The compile context in force (sha256 hex of the parser, features and
 * include folder: aacache.h); policy compiled in another one is stale. */
const char *pd_aa_context(const struct pd_aa *aa);

/*
 * Refuses any `include`/`#include`/`abi` the parser could read (as its lexer
 * reads them, comments included) unless it names a regular file under
 * PD_AA_INCLUDE_ROOT: `<rel>` or the absolute "PD_AA_INCLUDE_ROOT/rel", no
 * `.`/`..`, no escapes, no folder.  A profile must not make the parser read
 * host files.  Errors carry the line number.  See aatext.h.
 */
int pd_aa_check_includes(const char *src, size_t len, pd_error_t *err);

/* One AppArmor policy file to compile. */
struct pd_aa_unit {
	/* in */
	const char *label; /* shown in messages instead of the cache path */
	const char *data;
	size_t len;
	char sha256[PD_SHA256_HEX_LEN + 1];
	bool admitted; /* set by the caller once accepted: counts for pd_aa_clash() (rules.h) */
	/* out */
	struct pd_strv names;	 /* declared profile names, in file order */
	char *binary;		 /* compiled policy in the cache */
	bool cached;		 /* found in the cache: nothing compiled */
	bool pending;		 /* needs a compile (pd_aa_resolve) */
	char *error;		 /* why it was rejected; NULL when compiled */
	struct pd_strv warnings; /* the parser's other warnings */
	struct pd_aa_gaps gaps;	 /* rules the features compiled for do not enforce */
};

struct pd_aa_stats {
	unsigned cached, compiled, rejected, pending;
	long long compile_ms; /* wall time of the parser runs */
};

/* Compiles every unit not in the cache and waits for the result.  Fails as
 * a whole only when the parser cannot run at all; a bad file sets its
 * unit's error. */
int pd_aa_compile(struct pd_aa *aa, struct pd_aa_unit *units, size_t n, struct pd_aa_stats *stats,
		  pd_error_t *err);

struct pd_aa_job; /* opaque: parser runs in the background */

/*
 * Fills each unit from the cache without compiling: compiled (names,
 * binary, warnings), rejected (error, remembered ones included), or
 * pending: it needs a compile (its names are checked with `-N` first,
 * unless running already compiles it).
 */
int pd_aa_resolve(struct pd_aa *aa, struct pd_aa_unit *units, size_t n,
		  const struct pd_aa_job *running, struct pd_aa_stats *stats, pd_error_t *err);

/*
 * Starts compiling the pending units in the background (their data is
 * copied).  pd_aa_job_fd() is readable when pd_aa_job_step() has work: a
 * parser run ended or outlived its budget.  Each verdict goes to the cache
 * (a timeout too), so a pd_aa_resolve() after *done finds them all.  The
 * job must be freed before aa; freeing it kills a run in progress.
 */
int pd_aa_job_start(struct pd_aa *aa, const struct pd_aa_unit *units, size_t n,
		    struct pd_aa_job **out, pd_error_t *err);
int pd_aa_job_fd(const struct pd_aa_job *j);
bool pd_aa_job_has(const struct pd_aa_job *j, const char *sha256);
int pd_aa_job_step(struct pd_aa_job *j, bool *done, pd_error_t *err);
void pd_aa_job_stats(const struct pd_aa_job *j, struct pd_aa_stats *stats);
void pd_aa_job_free(struct pd_aa_job *j);

void pd_aa_unit_clear(struct pd_aa_unit *u);

/* Loads (replaces) compiled policy into the kernel. */
int pd_aa_load(struct pd_aa *aa, const char *binary, pd_error_t *err);

/* Unloads one profile by name. */
int pd_aa_unload(struct pd_aa *aa, const char *name, pd_error_t *err);

/* What the kernel holds: names and modes from `<fs>/profiles`. */
struct pd_aa_loaded {
	struct pd_strv names;
	struct pd_strv modes; /* "enforce", "complain", "kill", "unconfined"... */
};

int pd_aa_list(struct pd_aa *aa, struct pd_aa_loaded *out, pd_error_t *err);
/* Parses the text of `<fs>/profiles` ("NAME (MODE)" per line), appending. */
void pd_aa_parse_list(const char *text, struct pd_aa_loaded *out);
/* The mode of name, or NULL when not loaded. */
const char *pd_aa_loaded_mode(const struct pd_aa_loaded *l, const char *name);
void pd_aa_loaded_clear(struct pd_aa_loaded *l);

#endif
