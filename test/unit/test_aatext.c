/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/aatext: includes found the way the AppArmor parser's lexer finds them,
 * and the confinement rule, against a temporary folder standing in for
 * /etc/apparmor.d.  Each bypass class has several members; every member was
 * seen to make apparmor_parser 3.0 and 4.1 open the file (test/bats/aa-include.bats
 * proves it again with the real parser).
 */
#include "unit.h"

#include "../../lib/aatext.h"

static char *root;

static void
mkdir_in(const char *name)
{
	char *p = unit_asprintf("%s/%s", root, name);

	if (mkdir(p, 0700) < 0)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	free(p);
}

static int
setup_root(void **state)
{
	(void)state;
	root = unit_mkdtemp();
	mkdir_in("tunables");
	unit_write_str(root, "tunables/global", "@{HOME}=/home/*/\n");
	mkdir_in("abstractions");
	unit_write_str(root, "abstractions/base", "/etc/ld.so.cache r,\n");
	mkdir_in("abstractions/base.d");
	mkdir_in("abi");
	unit_write_str(root, "abi/3.0", "");
	return 0;
}

static int
teardown_root(void **state)
{
	(void)state;
	unit_rmtree(root);
	free(root);
	return 0;
}

static int
check(const char *src, size_t len, char **msg)
{
	pd_error_t err = NULL;
	int ret = pd_aat_check_includes(src, len, root, &err);

	*msg = ret < 0 ? unit_strdup(pd_error_msg(err)) : NULL;
	pd_error_release(&err);
	return ret;
}

/* The root's path in place of @R in a template. */
static char *
with_root(const char *tmpl)
{
	const char *at = strstr(tmpl, "@R");

	if (at == NULL)
		return unit_strdup(tmpl);
	return unit_asprintf("%.*s%s%s", (int)(at - tmpl), tmpl, root, at + 2);
}

static void
test_allowed(void **state)
{
	static const char *const ok[] = {
		"#include <tunables/global>\nprofile x {\n  #include <abstractions/base>\n}\n",
		"include <tunables/global>\n",
		"include if exists <local/missing>\n",
		"#include if exists <local/missing>\n",
		"include if exists <abstractions/base>\n",
		"abi <abi/3.0>,\n",
		"abi<abi/3.0>,\n",
		"include \"@R/abstractions/base\"\n",
		"include @R/abstractions/base\n",
		"include < abstractions/base >\n",
		"include <\"abstractions/base\">\n",
		"profile x { /usr/include/** r, }\n",
		"profile x { /usr/include r, }\n",
		"profile x { owner @{HOME}/include/ r, }\n",
		"profile includes { file, }\n",
		"profile x { file, } # Include site rules here\n",
		"profile x { /usr/lib/abi r, }\n",
		"profile x { my_include y, }\n",
		"# this includes nothing\nprofile x { file, }\n",
		"profile include_me { file, }\n",
		"",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		char *src = with_root(ok[i]);
		char *msg = NULL;

		if (check(src, strlen(src), &msg) != 0)
			fail_msg("refused %s: %s", src, msg);
		free(src);
	}
}

struct bad {
	const char *src, *want;
};

static void
expect_refused(const struct bad *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *src = with_root(bad[i].src);
		char *msg = NULL;

		if (check(src, strlen(src), &msg) == 0)
			fail_msg("accepted %s", src);
		assert_true(strncmp(msg, "line ", 5) == 0);
		assert_contains(msg, bad[i].want);
		free(msg);
		free(src);
	}
}

/* Extra blanks in `include if exists`. */
static void
test_if_exists_blanks(void **state)
{
	static const struct bad bad[] = {
		{ "#include   if    exists   \"/etc/hostname\"\n", "line 1: `include if exists " },
		{ "include\tif\texists\t\"/etc/shadow\"\n", "only the standard" },
		{ "profile x {\n  include if  exists \"/root/.ssh/id_rsa\"\n}\n", "line 2:" },
		{ "#include if exists\t</etc/shadow>\n", "relative to the standard" },
		/* not the if-exists rule: `if` itself is the (relative) target */
		{ "include if exists_x <tunables/global>\n", "`include if`" },
		{ "include if\nexists \"/etc/shadow\"\n", "`include if`" },
	};
	(void)state;
	expect_refused(bad, ARRAY_SIZE(bad));
}

/* Newlines between the keyword and its target. */
static void
test_newline_before_target(void **state)
{
	static const struct bad bad[] = {
		{ "profile x {\n#include\n\n \"/etc/hostname\"\n}\n",
		  "line 2: `include /etc/hostname`" },
		{ "include \n\"/etc/shadow\"\n", "line 1:" },
		{ "include\t\r\n\t</etc/shadow>\n", "line 1:" },
		{ "#include if exists \n\n\"/etc/shadow\"\n", "`include if exists /etc/shadow`" },
		{ "abi\n\"/etc/hostname\",\n", "`abi /etc/hostname`" },
		{ "include\n\"/etc/shadow\"\n", "only the standard" },
	};
	(void)state;
	expect_refused(bad, ARRAY_SIZE(bad));
}

/* `include` right after punctuation, a quote, a number or a `#` that is not
 * a comment (`profile # include "x"` names the profile `#`). */
static void
test_after_punctuation(void **state)
{
	static const struct bad bad[] = {
		{ "profile a flags=(complain)include \"/etc/hostname\" {\n}\n", "line 1:" },
		{ "profile \"a\"include \"/etc/hostname\" {}\n", "only the standard" },
		{ "profile a {}include \"/etc/shadow\"\n", "only the standard" },
		{ "profile a {include \"/etc/shadow\"\n}\n", "only the standard" },
		{ "profile # include \"/etc/hostname\"\n{}\n", "only the standard" },
		{ "profile a { file,include \"/etc/shadow\"\n}\n", "only the standard" },
		{ "priority=10include \"/etc/shadow\"\n", "only the standard" },
		{ "include <tunables/global>include \"/etc/shadow\"\n", "only the standard" },
		{ "x#include \"/etc/shadow\"\n", "only the standard" },
		{ "/path#include \"/etc/shadow\"\n", "only the standard" },
	};
	(void)state;
	expect_refused(bad, ARRAY_SIZE(bad));
}

/* A line starting with `#` is skipped only where the lexer surely reads it
 * as a comment (at the start, after `,`, or after `{`/`}` without `,` or
 * `{` in it) and it holds no `"` or `)`; anything else is checked. */
static void
test_comments(void **state)
{
	static const char *const ok[] = {
		"# include the base, see below\n",
		"# a comment: include /etc/shadow\nprofile x { file, }\n",
		"profile x {\n  # include the programs that parse input\n  file,\n"
		"  # include more, later; abi too\n}\n",
		"profile x {\n  file,\n}\n# include nothing here\n",
		"abi <abi/3.0>,\n\n# include files in home.d\n",
		/* an include line leaves the lexer's state as it was before it */
		"#include <tunables/global>\n# include the rest\n",
		"include <tunables/global>\n\n# Note: include comes first, abi /4.0 too\n",
		"profile x {\n  #include <abstractions/base>\n  # include nothing else\n}\n",
		"include if exists <tunables/global>\n# include more\n",
	};
	static const struct bad bad[] = {
		/* a `,` can end the rule the line may be in (`mount /a{`) */
		{ "profile x {\n  # include the base, see below\n}\n", "`include the`" },
		/* `->` then `#`: a name, then the include */
		{ "profile x -> \n# include etc/shadow\n", "working folder" },
		/* `)` ends a list the line may be in */
		{ "mount options=(ro,\n# x) include etc/shadow\n", "working folder" },
		/* a quote may end a string the line is in */
		{ "profile \"a,\n# x\" include /etc/shadow\n", "only the standard" },
		/* `{` ends a condition (`if a{`) */
		{ "if a{\n# x { include /etc/shadow\n", "only the standard" },
		/* after an assignment: not known */
		{ "@{X}=/home/\n# include files in home.d\n", "`include files`" },
		/* an include line keeps what was before it: here `->` */
		{ "profile x -> \n include <tunables/global>\n# include etc/shadow\n",
		  "working folder" },
		/* not an include line alone: an assignment after it */
		{ "#include <tunables/global> @{X}=/home/\n# include the rest\n", "`include the`" },
		/* `#include` is checked on any line */
		{ "# see #include </etc/shadow>\n", "relative to the standard" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		char *msg = NULL;

		if (check(ok[i], strlen(ok[i]), &msg) != 0)
			fail_msg("refused %s: %s", ok[i], msg);
	}
	expect_refused(bad, ARRAY_SIZE(bad));
}

/* Relative quoted and bare paths: opened from the parser's working folder. */
static void
test_relative_paths(void **state)
{
	static const struct bad bad[] = {
		{ "#include \"etc/hostname\"\n", "working folder" },
		{ "include \"abstractions/base\"\n", "working folder" },
		{ "include etc/shadow\n", "working folder" },
		{ "#includeetc/shadow\n", "`include etc/shadow`" },
		{ "#include\"root/.ssh/id_rsa\"\n", "working folder" },
		{ "include \"../etc/shadow\"\n", "`..` is not allowed" },
		{ "include if exists proc/self/environ\n", "working folder" },
	};
	(void)state;
	expect_refused(bad, ARRAY_SIZE(bad));
}

/* `.`, `..`, folders and empty components. */
static void
test_dots_and_folders(void **state)
{
	static const struct bad bad[] = {
		{ "#include \".\"\n", "line 1:" },
		{ "include <.>\n", "`.` is not allowed" },
		{ "include <abstractions/.>\n", "`.` is not allowed" },
		{ "include <abstractions>\n", "not a regular file" },
		{ "include <abstractions/base.d>\n", "not a regular file" },
		{ "include if exists <abstractions/base.d>\n", "not a regular file" },
		{ "include <abstractions/>\n", "empty path components" },
		{ "include <abstractions//base>\n", "empty path components" },
		{ "include \"@R\"\n", "only the standard" },
		{ "include \"@R/\"\n", "empty path" },
		{ "include \"@R/abstractions\"\n", "not a regular file" },
		{ "include <abstractions/../../../etc/shadow>\n", "`..` is not allowed" },
		{ "include \"@R/../shadow\"\n", "`..` is not allowed" },
		{ "include ..\n", "`..` is not allowed" },
		{ "include <>\n", "empty path" },
		{ "include \"\"\n", "an empty path" },
	};
	(void)state;
	expect_refused(bad, ARRAY_SIZE(bad));
}

/* Escapes the parser decodes, blanks it trims, odd bytes. */
static void
test_escapes_and_odd_bytes(void **state)
{
	static const struct bad bad[] = {
		{ "include \"\\057etc/shadow\"\n", "escapes" },
		{ "include \\/etc/shadow\n", "escapes" },
		{ "include \"@R/abstractions/\\x2e\\x2e/x\"\n", "escapes" },
		{ "include \v/etc/hostname\n", "only the standard" },
		{ "include \f\"/etc/hostname\"\n", "line 1:" },
		{ "include <\"/etc/shadow\">\n", "relative to the standard" },
		{ "include < /etc/shadow >\n", "relative to the standard" },
		{ "include \"@R/abstractions/base\n/x\"\n", "only letters" },
		{ "include <abstractions/ba se>\n", "only letters" },
		{ "include <abstractions/base\n", "unterminated" },
		{ "include \"/etc/shadow\n", "unterminated" },
		{ "include <\"abstractions/base\"\n", "unterminated" },
	};
	(void)state;
	expect_refused(bad, ARRAY_SIZE(bad));
}

/* `abi` opens its file through the search path too. */
static void
test_abi(void **state)
{
	static const struct bad bad[] = {
		{ "abi </etc/shadow>,\n", "line 1: `abi /etc/shadow`" },
		{ "abi \"/etc/hostname\",\n", "only the standard" },
		{ "abi<../x>,\n", "`..` is not allowed" },
		{ "profile x {}abi <abi>,\n", "not a regular file" },
	};
	(void)state;
	expect_refused(bad, ARRAY_SIZE(bad));
}

static void
test_nul_byte_refused(void **state)
{
	static const char src[] = "profile x {\n  file,\0include \"/etc/shadow\"\n}\n";
	char *msg = NULL;

	(void)state;
	assert_true(check(src, sizeof(src) - 1, &msg) < 0);
	assert_string_equal(msg, "line 2: a NUL byte");
	free(msg);
}

struct seen {
	size_t n;
	char names[8][64];
	bool exists[8];
};

static int
record(const struct pd_aat_include *inc, void *arg, pd_error_t *err)
{
	struct seen *s = arg;

	(void)err;
	if (s->n < 8) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s:%.*s", inc->kw,
			 (int)inc->name_len, inc->name);
		s->exists[s->n] = inc->if_exists;
	}
	s->n++;
	return 0;
}

/* The scan reports each target once, in order, as the lexer reads it. */
static void
test_scan_reports_targets(void **state)
{
	static const char src[] = "#include <tunables/global>\n"
				  "profile x {\n"
				  "  include if exists <local/x>include \"/a b\"\n"
				  "  abi\n  <abi/3.0>,\n"
				  "  include \vbare\f\n"
				  "}\n";
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(pd_aat_scan_includes(src, sizeof(src) - 1, record, &s, NULL), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.names[0], "#include:tunables/global");
	assert_string_equal(s.names[1], "include:local/x");
	assert_true(s.exists[1]);
	assert_string_equal(s.names[2], "include:/a b");
	assert_false(s.exists[2]);
	assert_string_equal(s.names[3], "abi:abi/3.0");
	assert_string_equal(s.names[4], "include:bare");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_if_exists_blanks),
		cmocka_unit_test(test_newline_before_target),
		cmocka_unit_test(test_after_punctuation),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_dots_and_folders),
		cmocka_unit_test(test_escapes_and_odd_bytes),
		cmocka_unit_test(test_abi),
		cmocka_unit_test(test_nul_byte_refused),
		cmocka_unit_test(test_scan_reports_targets),
	};

	return cmocka_run_group_tests(tests, setup_root, teardown_root);
}
