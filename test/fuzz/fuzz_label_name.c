/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: label-name(x) must always give a valid label name. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/labels.h"
#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PD_LABEL_NAME_MAX + 1];
	char *x = pd_xstrndup((const char *)data, size);

	pd_label_name(x, out);
	if (!pd_label_name_valid(out))
		__builtin_trap();
	/* Valid names map to themselves; others never do. */
	if (pd_label_name_valid(x) != (strcmp(out, x) == 0))
		__builtin_trap();
	free(x);
	return 0;
}
