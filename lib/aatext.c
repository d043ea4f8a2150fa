/* SPDX-License-Identifier: Apache-2.0 */
#include "aatext.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/*
 * What the lexer of apparmor_parser (parser_lex.l) does, and what is
 * followed here:
 *
 *   `#include` then anything up to a newline  -> INCLUDE state.  No blank is
 *       needed after it (`#includeetc/x` includes `etc/x`), and it wins over
 *       a comment that starts at the same `#`.
 *   `include` then a blank (space or tab)      -> INCLUDE state, wherever the
 *       initial state starts a token: after a blank, a newline, `{`, `}`,
 *       `)`, `"`, a number, a comment's end...  `profile # include "x"` takes
 *       `#` as the profile name and then includes "x", so a `#` makes the
 *       rest of a line a comment for this scan only where the lexer's state
 *       is known well enough (comment_line()).
 *   `#include`/`include` + blanks + `if` + blanks + `exists` + a blank
 *                                               -> INCLUDE_EXISTS state.
 *   `abi` (a whole word)                       -> ABI_MODE, whose target is
 *       read the same way (3.0 opens it through the search path).
 *
 * In those states blanks AND newlines are skipped, then one target is taken:
 *   `<` ([^">\t\r\n]+ | "quoted") `>`    search path, trimmed by isspace()
 *   `"` ([^\0"] | \")* `"`               opened as given, escapes decoded
 *   ([^ \t\r\n"!,<>] | ,X | \X)+         opened as given, trimmed by isspace()
 *                                        (so a leading \v or \f vanishes)
 * Anything else there is a lexer error: nothing is opened.
 *
 * A word `include`/`abi` is skipped only when the previous character is a
 * letter, `_`, `/` or `<`: then it is inside a longer word, a path or an
 * include target in every lexer state (the identifier and path patterns are
 * greedy over them, and no state ends a token with `<`).
 */

static bool
is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Before `include`/`abi`: a character that makes it part of a longer token
 * in every lexer state.  Not digits: `priority=10include` ends a number and
 * starts a word. */
static bool
in_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '/' || c == '<';
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* isspace() in the C locale: what the lexer's lsntrim/rsntrim remove. */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* A character of the lexer's INC_ID class. */
static bool
inc_id(char c)
{
	return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '"' && c != '!' &&
	       c != ',' && c != '<' && c != '>';
}

static bool
has_at(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* After the keyword at p: `{WS}+if{WS}+exists` followed by a blank. */
static const char *
if_exists_end(const char *p, const char *end)
{
	const char *q = p;

	if (q >= end || !is_blank(*q))
		return NULL;
	while (q < end && is_blank(*q))
		q++;
	if (!has_at(q, end, "if"))
		return NULL;
	q += 2;
	if (q >= end || !is_blank(*q))
		return NULL;
	while (q < end && is_blank(*q))
		q++;
	if (!has_at(q, end, "exists"))
		return NULL;
	q += 6;
	if (q >= end || !is_blank(*q))
		return NULL;
	return q;
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s))
		(*s)++, (*n)--;
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

/* An unterminated `<` or `"`: the lexer fails there, but this scan is not
 * the lexer, so it is refused rather than trusted. */
static bool
unterminated(const char *p, const char *end, struct pd_aat_include *inc)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	inc->name = p;
	inc->name_len = (size_t)((nl != NULL ? nl : end) - p);
	inc->unterminated = true;
	return true;
}

/* Takes the target at p as the include state would.  Returns false when the
 * lexer would fail there instead, before any `<` or `"` (nothing is opened
 * then). */
static bool
take_target(const char *p, const char *end, struct pd_aat_include *inc)
{
	const char *t;

	while (p < end && (is_blank(*p) || *p == '\r' || *p == '\n'))
		p++;
	if (p >= end)
		return false;
	if (*p == '<') {
		inc->form = PD_AAT_SEARCH;
		t = p + 1;
		if (t < end && *t == '"') {
			const char *q = memchr(t + 1, '"', (size_t)(end - t - 1));

			/* `\"` may extend the quoted name: a backslash is
			 * refused later, so the first quote bounds it here. */
			if (q == NULL || q + 1 >= end || q[1] != '>')
				return unterminated(p, end, inc);
			inc->name = t + 1;
			inc->name_len = (size_t)(q - t - 1);
			inc->quoted = true;
			return true;
		}
		while (t < end && *t != '>' && *t != '"' && *t != '\t' && *t != '\r' && *t != '\n')
			t++;
		if (t >= end || *t != '>')
			return unterminated(p, end, inc);
		inc->name = p + 1;
		inc->name_len = (size_t)(t - p - 1);
		trim(&inc->name, &inc->name_len);
		return true;
	}
	inc->form = PD_AAT_PATH;
	if (*p == '"') {
		const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));

		if (q == NULL)
			return unterminated(p, end, inc);
		inc->name = p + 1;
		inc->name_len = (size_t)(q - p - 1);
		inc->quoted = true;
		return true;
	}
	t = p;
	for (;;) {
		if (t < end && *t == '\\' && t + 1 < end)
			t += 2;
		else if (t < end && inc_id(*t))
			t++;
		else if (t + 1 < end && *t == ',' && inc_id(t[1]))
			t += 2;
		else
			break;
	}
	if (t == p)
		return false;
	inc->name = p;
	inc->name_len = (size_t)(t - p);
	trim(&inc->name, &inc->name_len);
	return true;
}

/*
 * A line that is surely a comment: its first non-blank is `#` (not
 * `#include`), and the lexer cannot be anywhere but in the initial state at
 * its start, or in a state the line cannot leave.  After a `,` (or at the
 * start of the file) the lexer is in the initial state or inside a `(...)`
 * list, which only `)` or a quoted string can end.  After `{` or `}` it may
 * also be inside a rule (`mount /a{`), which a `,` ends, or a condition,
 * which a `{` ends.  Anything else
 * before it (`->` then `# include "x"` makes `#` a name, then includes)
 * keeps the line checked.  prev is the last significant character before
 * the line (0 at the start of the file).
 */
static bool
comment_line(const char *p, const char *end, char prev)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	const char *b = p;

	if (eol == NULL)
		eol = end;
	while (b < eol && is_blank(*b))
		b++;
	if (b == eol || *b != '#' || has_at(b, eol, "#include"))
		return false;
	if (memchr(b, '"', (size_t)(eol - b)) != NULL || memchr(b, ')', (size_t)(eol - b)) != NULL)
		return false;
	if (prev == 0 || prev == ',')
		return true;
	/* `{` too: it ends a 4.x condition (`if a{` ... `{`). */
	return (prev == '{' || prev == '}') && memchr(b, ',', (size_t)(eol - b)) == NULL &&
	       memchr(b, '{', (size_t)(eol - b)) == NULL;
}

/*
 * A line that is one search-path include and nothing else (`#include <x>`,
 * `include if exists <x>`, blanks around).  The lexer pops back to the state
 * it was in before the keyword once it has taken the target, so such a line
 * leaves the state, and what prev says of it, as they were: a comment line
 * after `#include <tunables/global>` is a comment.
 */
static bool
include_line(const char *bol, const char *eol)
{
	struct pd_aat_include inc = { 0 };
	const char *p = bol, *q, *x, *gt;

	while (p < eol && is_blank(*p))
		p++;
	if (has_at(p, eol, "#include"))
		q = p + 8;
	else if (has_at(p, eol, "include") && p + 7 < eol && is_blank(p[7]))
		q = p + 7;
	else
		return false;
	if ((x = if_exists_end(q, eol)) != NULL)
		q = x;
	while (q < eol && is_blank(*q))
		q++;
	if (q >= eol || *q != '<' || !take_target(q, eol, &inc) || inc.unterminated)
		return false;
	gt = memchr(inc.name + inc.name_len, '>', (size_t)(eol - (inc.name + inc.name_len)));
	if (gt == NULL)
		return false;
	for (gt++; gt < eol; gt++)
		if (!is_blank(*gt) && *gt != '\r')
			return false;
	return true;
}

/* The last character of the line ending before eol that is not blank. */
static char
last_significant(const char *start, const char *eol, char prev)
{
	while (eol > start && (is_blank(eol[-1]) || eol[-1] == '\r'))
		eol--;
	return eol > start ? eol[-1] : prev;
}

int
pd_aat_scan_includes(const char *src, size_t len, pd_aat_include_fn fn, void *arg, pd_error_t *err)
{
	const char *end = src + len;
	const char *bol = src; /* start of the current line */
	size_t line = 1;
	char prev = 0;
	bool comment = comment_line(src, end, prev);

	for (const char *p = src; p < end; p++) {
		struct pd_aat_include inc = { 0 };
		const char *q, *x;
		bool word_start = p == src || !in_word(p[-1]);
		int ret;

		if (*p == '\n') {
			if (!comment && !include_line(bol, p))
				prev = last_significant(bol, p, prev);
			line++;
			bol = p + 1;
			comment = comment_line(bol, end, prev);
			continue;
		}
		if (has_at(p, end, "#include")) {
			inc.kw = "#include";
			q = p + 8;
		} else if (!comment && word_start && has_at(p, end, "include") && p + 7 < end &&
			   is_space(p[7]) && (p == src || p[-1] != '#')) {
			inc.kw = "include";
			q = p + 7;
		} else if (!comment && word_start && has_at(p, end, "abi") &&
			   (p + 3 == end || !is_word((unsigned char)p[3]))) {
			inc.kw = "abi";
			q = p + 3;
		} else {
			continue;
		}
		if (inc.kw[0] != 'a' && (x = if_exists_end(q, end)) != NULL) {
			inc.if_exists = true;
			q = x;
		}
		inc.line = line;
		if (!take_target(q, end, &inc))
			continue;
		if ((ret = fn(&inc, arg, err)) < 0)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* the confinement rule */

struct check_ctx {
	const char *root;
	size_t root_len;
};

/* The target as shown in a message: printable, at most 120 bytes. */
static char *
shown(const struct pd_aat_include *inc)
{
	size_t n = inc->name_len < 120 ? inc->name_len : 120;
	char *s = pd_xmalloc(n + 4);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)inc->name[i];

		s[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	strcpy(s + n, n < inc->name_len ? "..." : "");
	return s;
}

static int
refuse(const struct pd_aat_include *inc, pd_error_t *err, const char *why)
{
	_cleanup_free_ char *name = shown(inc);

	/* `#include` is shown as `include`, its current spelling. */
	return pd_make_plain_error(err, EPERM, "line %zu: `%s%s %s`: %s", inc->line,
				   inc->kw[0] == '#' ? inc->kw + 1 : inc->kw,
				   inc->if_exists ? " if exists" : "", name, why);
}

static bool
name_char(char c)
{
	return is_word((unsigned char)c) || c == '.' || c == '-' || c == '+' || c == '@' ||
	       c == ':' || c == '~' || c == '=' || c == '/';
}

/* rel: plain components only. */
static const char *
bad_relative(const char *rel, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return "an empty path";
	while (i <= n) {
		size_t j = i;

		while (j < n && rel[j] != '/')
			j++;
		if (j == i)
			return "empty path components (`//`, a leading or trailing `/`) are not "
			       "allowed";
		if (j - i == 2 && rel[i] == '.' && rel[i + 1] == '.')
			return "`..` is not allowed in include paths";
		if (j - i == 1 && rel[i] == '.')
			return "`.` is not allowed in include paths";
		i = j + 1;
	}
	return NULL;
}

static int
check_one(const struct pd_aat_include *inc, void *arg, pd_error_t *err)
{
	const struct check_ctx *c = arg;
	const char *rel = inc->name;
	size_t n = inc->name_len;
	const char *why;
	_cleanup_free_ char *path = NULL;
	struct stat st;

	if (inc->unterminated)
		return refuse(inc, err, "unterminated include path");
	if (n == 0)
		return refuse(inc, err, "an empty path");
	if (memchr(rel, '\\', n) != NULL)
		return refuse(inc, err, "escapes are not allowed in include paths");
	for (size_t i = 0; i < n; i++)
		if (!name_char(rel[i]))
			return refuse(inc, err,
				      "only letters, digits and `._-+@:~=/` are allowed in include "
				      "paths");
	for (size_t i = 0; i + 1 < n; i++)
		if (rel[i] == '.' && rel[i + 1] == '.' && (i == 0 || rel[i - 1] == '/') &&
		    (i + 2 == n || rel[i + 2] == '/'))
			return refuse(inc, err, "`..` is not allowed in include paths");
	if (inc->form == PD_AAT_PATH) {
		if (n <= c->root_len || memcmp(rel, c->root, c->root_len) != 0 ||
		    rel[c->root_len] != '/') {
			if (n > 0 && rel[0] == '/') {
				_cleanup_free_ char *msg = pd_xasprintf(
					"only the standard AppArmor folders (%s/) may be included",
					c->root);

				return refuse(inc, err, msg);
			}
			return refuse(
				inc, err,
				"a relative path in quotes or without brackets is opened from "
				"the parser's working folder: write `<name>`");
		}
		rel += c->root_len + 1;
		n -= c->root_len + 1;
	} else if (n > 0 && rel[0] == '/') {
		return refuse(inc, err, "`<...>` takes a path relative to the standard folders");
	}
	if ((why = bad_relative(rel, n)) != NULL)
		return refuse(inc, err, why);
	path = pd_xasprintf("%s/%.*s", c->root, (int)n, rel);
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return refuse(inc, err, "not a regular file (a folder include is refused)");
	} else if (errno != ENOENT && errno != ENOTDIR) {
		return refuse(inc, err, "cannot be checked");
	}
	return 0;
}

int
pd_aat_check_includes(const char *src, size_t len, const char *root, pd_error_t *err)
{
	struct check_ctx c = { .root = root, .root_len = strlen(root) };
	const char *nul = memchr(src, '\0', len);

	if (nul != NULL) {
		size_t line = 1;

		for (const char *p = src; p < nul; p++)
			line += *p == '\n';
		return pd_make_plain_error(err, EINVAL, "line %zu: a NUL byte", line);
	}
	return pd_aat_scan_includes(src, len, check_one, &c, err);
}
