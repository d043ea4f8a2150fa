/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an AppArmor label as read from /proc/PID/attr/current.  The
 * names it gives are never empty, never "unconfined", hold no "//" and no
 * NUL, appear once each, and fit in the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/procscan.h"
#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pd_strv sv = { 0 };
	size_t added = pd_proc_label_profiles((const char *)data, size, &sv);

	if (added != sv.n)
		__builtin_trap();
	for (size_t i = 0; i < sv.n; i++) {
		const char *n = sv.v[i];
		size_t len = strlen(n);

		if (len == 0 || len > size || strcmp(n, "unconfined") == 0 ||
		    strstr(n, "//") != NULL)
			__builtin_trap();
		for (size_t j = 0; j < i; j++)
			if (strcmp(sv.v[j], n) == 0)
				__builtin_trap();
	}
	pd_strv_clear(&sv);
	return 0;
}
