/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the AppArmor text parsed without the parser: the include
 * confinement check (on policy files from the ConfigMap) and the kernel's
 * `profiles` list.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/apparmor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = pd_xstrndup((const char *)data, size);
	struct pd_aa_loaded l = { 0 };
	pd_error_t err = NULL;

	/* Errors always carry the line number. */
	if (pd_aa_check_includes((const char *)data, size, &err) < 0 &&
	    strncmp(pd_error_msg(err), "line ", 5) != 0)
		__builtin_trap();
	pd_error_release(&err);

	pd_aa_parse_list(text, &l);
	if (l.names.n != l.modes.n)
		__builtin_trap();
	for (size_t i = 0; i < l.names.n; i++) {
		if (l.names.v[i][0] == '\0' || strchr(l.names.v[i], '\n') != NULL ||
		    strchr(l.modes.v[i], '(') != NULL || strchr(l.modes.v[i], '\n') != NULL)
			__builtin_trap();
		if (strcmp(pd_aa_loaded_mode(&l, l.names.v[i]) ? "" : "x", "x") == 0)
			__builtin_trap();
	}
	pd_aa_loaded_clear(&l);
	free(text);
	return 0;
}
