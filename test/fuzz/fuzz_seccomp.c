/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the seccomp profile parser and compiler. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pd_seccomp_env env;
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;
	char *buf;

	if (env.native_arch == 0 && pd_seccomp_env_native(&env, NULL) < 0)
		return 0;
	/* The scanner hands the parser a NUL-terminated buffer. */
	buf = pd_xmalloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (pd_seccomp_validate(buf, size, &env, &warnings, &err) < 0 && err == NULL)
		__builtin_trap(); /* a failure must always say why */
	pd_error_release(&err);
	pd_strv_clear(&warnings);
	free(buf);
	return 0;
}
