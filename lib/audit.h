/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel audit records as they reach a log: the kernel's printk form
 * (`audit: type=1326 audit(1700000000.123:45): ...`, as in dmesg, /dev/kmsg,
 * `journalctl -k` and syslog) and auditd's form (`type=SECCOMP
 * msg=audit(1700000000.123:45): ...`).  One line is one record; lines that
 * are not seccomp (1326, SECCOMP) or AppArmor (`apparmor="..."`) records
 * are not records here.
 *
 * Values are unquoted; values that audit hex-encodes (untrusted strings
 * holding a space, a quote or a control character) are decoded.  Pure: no
 * I/O, no logging.
 */
#ifndef PROFILED_AUDIT_H
#define PROFILED_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pd_audit_kind {
	PD_AUDIT_SECCOMP = 1,
	PD_AUDIT_APPARMOR,
};

/* At most this many fields are kept from one record (the rest are ignored). */
#define PD_AUDIT_MAX_FIELDS 64
/* Lines longer than this are not parsed (the kernel's own limit is 8 KiB). */
#define PD_AUDIT_MAX_LINE 65536

struct pd_audit_field {
	char *key;
	char *value; /* decoded */
};

struct pd_audit_record {
	enum pd_audit_kind kind;
	char *serial; /* "1700000000.123:45" */
	struct pd_audit_field fields[PD_AUDIT_MAX_FIELDS];
	size_t n;
};

/*
 * Parses one log line (len bytes, need not be NUL-terminated).  Returns 1
 * and fills *r (release it with pd_audit_record_clear()) when the line holds
 * a seccomp or AppArmor record, 0 when it holds none (r is left empty).
 */
int pd_audit_parse_line(const char *line, size_t len, struct pd_audit_record *r);
void pd_audit_record_clear(struct pd_audit_record *r);

/* The value of key in r, or NULL. */
const char *pd_audit_get(const struct pd_audit_record *r, const char *key);
/* Integer value of key, parsed in base (10 or 16); false when absent or
 * malformed. */
bool pd_audit_get_u64(const struct pd_audit_record *r, const char *key, int base, uint64_t *out);

/* Decodes an audit hex string ("2F746D70" -> "/tmp"); NULL when s is not
 * an even-length hex string.  The caller frees the result. */
char *pd_audit_unhex(const char *s, size_t len);

#endif
