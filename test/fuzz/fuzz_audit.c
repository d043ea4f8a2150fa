/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: audit log text, line by line, through pd_audit_parse_line()
 * and the advice generators.  Whatever the input, the seccomp profile that
 * comes out must parse as a profile (lib/seccomp) with defaultAction
 * SCMP_ACT_ERRNO, and the AppArmor text must keep every rule on its own
 * line (no raw control character from the log leaks into it).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/advise.h"
#include "../../lib/audit.h"
#include "../../lib/seccomp.h"
#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct pd_advise *a = pd_advise_new();
	struct pd_strv warnings = { 0 };
	char *sc, *aa;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct pd_audit_record r;

		if (pd_audit_parse_line(p, len, &r) == 1) {
			if (r.kind != PD_AUDIT_SECCOMP && r.kind != PD_AUDIT_APPARMOR)
				__builtin_trap();
			pd_advise_add(a, &r);
		} else if (r.n != 0) {
			__builtin_trap();
		}
		pd_audit_record_clear(&r);
		p += len + 1;
	}
	sc = pd_advise_seccomp_json(a, &warnings);
	if (sc != NULL) {
		struct pd_seccomp *prof = NULL;

		if (pd_seccomp_parse(sc, strlen(sc), &prof, NULL, NULL) < 0)
			__builtin_trap();
		if (strcmp(pd_seccomp_default_action(prof), "SCMP_ACT_ERRNO") != 0)
			__builtin_trap();
		pd_seccomp_free(prof);
	}
	aa = pd_advise_apparmor_rules(a, &warnings);
	if (aa != NULL)
		for (const char *c = aa; *c; c++)
			if ((unsigned char)*c < 0x20 && *c != '\n')
				__builtin_trap();
	free(sc);
	free(aa);
	pd_strv_clear(&warnings);
	pd_advise_unref(a);
	return 0;
}
