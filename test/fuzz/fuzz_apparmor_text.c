/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the AppArmor text parsed without the parser: the include
 * tokenizer and confinement check (on policy files from the ConfigMap) and
 * the kernel's `profiles` list.  Seeds hold one file per include bypass
 * class (bypass-*).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/aatext.h"
#include "../../lib/apparmor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const char *src;
	size_t len, lines, n;
};

static bool
trimmed_away(char c)
{
	return c != '\0' && strchr(" \t\n\v\f\r", c) != NULL;
}

/* Every target lies inside the input, after its keyword's line began, and is
 * trimmed as the lexer trims it. */
static int
inspect(const struct pd_aat_include *inc, void *arg, pd_error_t *err)
{
	struct span *s = arg;
	const char *e = inc->name + inc->name_len;

	(void)err;
	if (inc->name < s->src || e > s->src + s->len || inc->line < 1 || inc->line > s->lines)
		__builtin_trap();
	if (!inc->unterminated && !inc->quoted && inc->name_len > 0 &&
	    (trimmed_away(inc->name[0]) || trimmed_away(e[-1])))
		__builtin_trap();
	s->n++;
	return 0;
}

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

	{
		struct span s = { .src = (const char *)data, .len = size, .lines = 1 };

		for (size_t i = 0; i < size; i++)
			s.lines += data[i] == '\n';
		if (pd_aat_scan_includes((const char *)data, size, inspect, &s, NULL) != 0)
			__builtin_trap();
		/* Every "#include" is a directive for the scan, wherever it is:
		 * one followed by a target was reported. */
		if (s.n == 0 && memmem(data, size, "#include\"/", 10) != NULL)
			__builtin_trap();
	}

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
