/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AppArmor policy text read the way the parser's lexer reads it, for the one
 * thing that must be decided before the parser runs: which files it would
 * open (`#include`, `include`, `include if exists`, `abi`).
 *
 * The scan is a superset of the lexer's: it does not know the lexer's state,
 * so it reports every place where some state could take the keyword, inside
 * comments and rules too, and takes the target exactly as the include state
 * would (blanks and newlines skipped, `<…>`, `<"…">`, `"…"` or a bare word,
 * trimmed as the lexer trims it).  A false alarm is a refused file that
 * says which line; a missed include would let the parser read a host file.
 */
#ifndef PROFILED_AATEXT_H
#define PROFILED_AATEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum pd_aat_form {
	PD_AAT_SEARCH, /* <name>: looked up in the parser's search path */
	PD_AAT_PATH,   /* "name" or name: opened as given (relative: from the
			* parser's working folder) */
};

struct pd_aat_include {
	const char *kw; /* "#include", "include" or "abi" */
	bool if_exists; /* `include if exists` */
	enum pd_aat_form form;
	const char *name; /* the target, quotes removed, trimmed; not NUL-terminated */
	size_t name_len;
	bool quoted;	   /* written in double quotes (escapes apply) */
	bool unterminated; /* `<` or `"` without its end: name is the rest
			    * of the line */
	size_t line;	   /* line of the keyword, from 1 */
};

/* Called for each place the parser could open a file; a negative return
 * stops the scan and is returned. */
typedef int (*pd_aat_include_fn)(const struct pd_aat_include *inc, void *arg, pd_error_t *err);

/* Reports every include-like directive of src[0..len) to fn, in order.
 * Directives the lexer would fail on before opening anything (no target, an
 * unterminated `<`) are not reported. */
int pd_aat_scan_includes(const char *src, size_t len, pd_aat_include_fn fn, void *arg,
			 pd_error_t *err);

/*
 * Refuses src unless every directive names a file under root (an absolute
 * folder without a trailing slash, e.g. "/etc/apparmor.d"):
 *   - `<rel>` with rel made of plain components (no `.`, `..`, empty ones),
 *   - `"root/rel"` or `root/rel` (absolute): a relative quoted or bare path
 *     is opened from the parser's working folder, so it is refused,
 *   - no backslash (the parser decodes escapes such as `\057`), no blanks or
 *     control characters, no NUL byte anywhere in src,
 *   - root/rel, when it exists, is a regular file (a folder include reads
 *     every file in it).
 * Errors start with "line N: ".
 */
int pd_aat_check_includes(const char *src, size_t len, const char *root, pd_error_t *err);

#endif
