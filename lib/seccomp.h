/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seccomp profiles in the JSON format that container runtimes accept for
 * `Localhost` profiles (moby / containers-common).
 *
 * pd_seccomp_parse() is the only place that reads the untrusted JSON: it
 * produces a typed struct in which every action, operator and architecture
 * is already resolved.  pd_seccomp_compile() then builds the filter with
 * libseccomp the way runtimes do, to prove that a runtime will accept it.
 */
#ifndef PROFILED_SECCOMP_H
#define PROFILED_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spawn.h"
#include "util.h"

/* A ConfigMap holds at most 1 MiB; a profile file cannot be larger. */
#define PD_SECCOMP_MAX_BYTES (1024 * 1024)

/*
 * Bounds on what a profile may ask for, so that the work of validating one
 * stays small whatever the file holds (libseccomp's cost grows with the
 * square of the rules it is given).  They are several times what real
 * profiles need: Docker's default has 28 entries naming 415 syscalls (346
 * in one entry), containers-common's 35 entries and 473 names, the old
 * moby format 311 entries; none has more than 2 argument conditions in an
 * entry.
 */
#define PD_SECCOMP_MAX_RULES	   4096 /* entries of `syscalls` */
#define PD_SECCOMP_MAX_NAMES	   4096 /* names of one entry */
#define PD_SECCOMP_MAX_TOTAL_NAMES 8192 /* names in all entries together */
/* Entries of `architectures`, `archMap`, `subArchitectures`, and of
 * includes/excludes `caps` and `arches`. */
#define PD_SECCOMP_MAX_LIST 64
/* Distinct rules handed to libseccomp for one filter, duplicates merged,
 * times the architectures of the filter: a bound on libseccomp's work
 * (about 0.25 s of CPU at the bound for one variant), not on the filter,
 * whose length is checked after the export.  containers-common's profile
 * needs 1,419 (473 rules for x86_64, x86, x32); a filter this bound
 * refuses is close to the kernel's limit or over it for one architecture,
 * but libseccomp shares identical code between architectures, so 959
 * conditions for four (1,247 instructions) are refused too. */
#define PD_SECCOMP_MAX_FILTER_RULES 4096
/* Findings reported for one profile; past it one line says how many more. */
#define PD_SECCOMP_MAX_WARNINGS 32
/* The kernel refuses a filter program longer than this (BPF_MAXINSNS). */
#define PD_SECCOMP_MAX_INSNS 4096

struct pd_seccomp; /* opaque */

struct pd_seccomp_env {
	uint32_t native_arch; /* SCMP_ARCH_* of the node */
	int kernel_major;     /* for includes/excludes.minKernel */
	int kernel_minor;
	/* When not NULL, checked between steps of a compile: when it says so,
	 * the compile stops with -ECANCELED.  The caller keeps it alive. */
	const struct pd_spawn_cancel *cancel;
};

/* Fills env for the running machine (no cancel). */
int pd_seccomp_env_native(struct pd_seccomp_env *env, pd_error_t *err);

/* Parses buf into *out.  Errors name the position: "line L, column C" for
 * JSON syntax, the JSON path (e.g. `syscalls[3].action`) for content.
 * Non-fatal findings go to warnings (may be NULL). */
int pd_seccomp_parse(const char *buf, size_t len, struct pd_seccomp **out, struct pd_strv *warnings,
		     pd_error_t *err);

/* Builds the filter with libseccomp for env's architecture plus the
 * profile's `architectures` (or the `archMap` entry of the native
 * architecture), with includes/excludes decided for env, both without and
 * with every capability, and exports it as BPF.  Unknown syscall names are
 * skipped with a warning, as runtimes do.  Duplicate rules (same syscall,
 * action and arguments) are merged first; two rules with the same syscall
 * and arguments but different actions are an error, as in runc; so is a
 * filter over PD_SECCOMP_MAX_INSNS instructions or, before libseccomp
 * sees it, over PD_SECCOMP_MAX_FILTER_RULES rules.  -ECANCELED when
 * env->cancel said so. */
int pd_seccomp_compile(const struct pd_seccomp *p, const struct pd_seccomp_env *env,
		       struct pd_strv *warnings, pd_error_t *err);

/* Parse and compile in one go. */
int pd_seccomp_validate(const char *buf, size_t len, const struct pd_seccomp_env *env,
			struct pd_strv *warnings, pd_error_t *err);

void pd_seccomp_free(struct pd_seccomp *p);

/* True when the running kernel supports seccomp filters. */
bool pd_seccomp_kernel_supported(void);

/* Name of the action of the default, e.g. "SCMP_ACT_ERRNO". */
const char *pd_seccomp_default_action(const struct pd_seccomp *p);
size_t pd_seccomp_rule_count(const struct pd_seccomp *p);
/* Whether rule i (of pd_seccomp_rule_count) goes into the filter built for
 * env, for a container without (all_caps false) or with every capability;
 * moby's includes/excludes selection. */
bool pd_seccomp_rule_applies(const struct pd_seccomp *p, size_t i, const struct pd_seccomp_env *env,
			     bool all_caps);

#endif
