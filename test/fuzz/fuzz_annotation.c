/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the profiles annotation (lib/annotation.c), which anyone who
 * can patch the Node can write.  Whatever decodes must encode to a text
 * that decodes again and encodes to the same bytes; a cut must stay within
 * its limit whenever an entry fits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/annotation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pd_annotation a = { 0 }, b = { 0 };
	size_t omitted, max;
	char *t1, *t2, *cut;

	if (pd_annotation_decode((const char *)data, size, &a, NULL) < 0)
		return 0;
	t1 = pd_annotation_encode(&a, SIZE_MAX, &omitted);
	if (omitted != a.truncated)
		__builtin_trap();
	if (pd_annotation_decode(t1, strlen(t1), &b, NULL) < 0)
		__builtin_trap();
	t2 = pd_annotation_encode(&b, SIZE_MAX, &omitted);
	if (strcmp(t1, t2) != 0 || b.n != a.n || b.truncated != a.truncated)
		__builtin_trap();
	/* A cut somewhere inside: under the limit once an entry is kept. */
	max = size > 0 ? data[0] * strlen(t1) / 256 : 0;
	cut = pd_annotation_encode(&a, max, &omitted);
	if (omitted < a.truncated ||
	    (omitted - a.truncated < a.n && strncmp(cut, "[{\"tr", 5) != 0 && strlen(cut) > max))
		__builtin_trap();
	free(cut);
	free(t1);
	free(t2);
	pd_annotation_clear(&a);
	pd_annotation_clear(&b);
	return 0;
}
