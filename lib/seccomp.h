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
#include "util.h"

/* A ConfigMap holds at most 1 MiB; a profile file cannot be larger. */
#define PD_SECCOMP_MAX_BYTES (1024 * 1024)

struct pd_seccomp; /* opaque */

struct pd_seccomp_env {
	uint32_t native_arch; /* SCMP_ARCH_* of the node */
	int kernel_major;     /* for includes/excludes.minKernel */
	int kernel_minor;
};

/* Fills env for the running machine. */
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
 * skipped with a warning, as runtimes do. */
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
