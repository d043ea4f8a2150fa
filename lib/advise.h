/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From audit records to profiles: collects the syscalls of seccomp records
 * and the accesses of AppArmor records, then writes
 *   - a seccomp profile in the Kubernetes/OCI JSON format that allows
 *     exactly the syscalls seen (defaultAction SCMP_ACT_ERRNO, the
 *     architectures of the records, names resolved by libseccomp for the
 *     record's architecture, sorted), and
 *   - the AppArmor rules each profile named in the records would need
 *     (file rules with merged permissions, capability, network, signal,
 *     ptrace, mount, umount), paths verbatim.
 * Pure: no I/O, no logging.  The handle owns everything it collects.
 */
#ifndef PROFILED_ADVISE_H
#define PROFILED_ADVISE_H

#include <stddef.h>

#include "audit.h"
#include "util.h"

struct pd_advise;

struct pd_advise *pd_advise_new(void);
/* Accepts NULL. */
void pd_advise_unref(struct pd_advise *a);

/* Takes what r says (r stays the caller's).  Returns 1 when the record
 * added to the advice, 0 when it was ignored (an AppArmor STATUS record,
 * a seccomp record without arch or syscall, ...). */
int pd_advise_add(struct pd_advise *a, const struct pd_audit_record *r);

/* How many seccomp and AppArmor records were taken. */
size_t pd_advise_seccomp_records(const struct pd_advise *a);
size_t pd_advise_apparmor_records(const struct pd_advise *a);

/*
 * The seccomp profile, NUL-terminated JSON ending in a newline (the caller
 * frees it), or NULL when no seccomp record was taken.  Syscall numbers
 * libseccomp cannot name and architectures it does not know are left out,
 * each with a line in *warnings.
 */
char *pd_advise_seccomp_json(const struct pd_advise *a, struct pd_strv *warnings);

/*
 * The AppArmor rules, one `profile NAME { ... }` block per profile in the
 * order first seen, after `abi <abi/3.0>,` and `include <tunables/global>`;
 * NULL when no AppArmor record was taken.  Records whose operation has no
 * rule here are listed as comments in the block and in *warnings.
 */
char *pd_advise_apparmor_rules(const struct pd_advise *a, struct pd_strv *warnings);

#endif
