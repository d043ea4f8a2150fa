/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/apparmor: include confinement, the kernel's list, and compiling with
 * the real AppArmor parser into a cache, loading into a stand-in folder
 * (libapparmor writes .replace/.remove there as it would into apparmorfs).
 */
#include "unit.h"

#include "../../lib/apparmor.h"

static const char *const deny_write = "#include <tunables/global>\n"
				      "profile pd-unit-deny flags=(attach_disconnected) {\n"
				      "  #include <abstractions/base>\n"
				      "  file,\n"
				      "  deny /** w,\n"
				      "}\n";

/* The parser the tests run: apparmor_parser on PATH (make test puts the
 * image's first: test/image/with-parser.sh). */
static bool
have_parser(void)
{
	return system("command -v apparmor_parser >/dev/null 2>&1") == 0;
}

#define NEED_PARSER()                                                                              \
	do {                                                                                       \
		if (!have_parser()) {                                                              \
			print_message("[  SKIP    ] apparmor_parser not installed (make deps)\n"); \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static int
includes(const char *src, char **msg)
{
	pd_error_t err = NULL;
	int ret = pd_aa_check_includes(src, strlen(src), &err);

	*msg = ret < 0 ? unit_strdup(pd_error_msg(err)) : NULL;
	pd_error_release(&err);
	return ret;
}

static void
test_includes_standard_ones_pass(void **state)
{
	static const char *const ok[] = {
		"#include <tunables/global>\nprofile x { #include <abstractions/base>\n }\n",
		"include <tunables/global>\n",
		"include if exists <local/x>\n",
		"#include if exists <local/x>\n",
		"abi <abi/3.0>,\n",
		"include \"/etc/apparmor.d/abstractions/base\"\n",
		"include < abstractions/base >\n",
		"# this includes nothing\nprofile x { file, }\n",
		"# Include the base, see below\n",
		"profile includes { file, }\n",
		"profile x { /var/include/** r, }\n",
		"",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *msg = NULL;

		if (includes(ok[i], &msg) != 0)
			fail_msg("refused %s: %s", ok[i], msg);
	}
}

static void
test_includes_outside_refused_with_line(void **state)
{
	static const struct {
		const char *src, *want;
	} bad[] = {
		{ "#include \"/etc/shadow\"\n",
		  "line 1: `include /etc/shadow`: only the standard" },
		{ "profile x {\n  include </etc/passwd>\n}\n", "line 2: `include /etc/passwd`" },
		{ "\n\n#include <abstractions/../../../etc/shadow>\n", "line 3: " },
		{ "include \"/etc/apparmor.d/../shadow\"\n", "`..` is not allowed" },
		{ "include if exists \"/root/.ssh/id_rsa\"\n", "only the standard" },
		{ "abi </etc/shadow>,\n", "line 1: `abi /etc/shadow`" },
		{ "include /etc/shadow\n", "only the standard" },
		{ "profile x {#include </etc/shadow>\n}\n", "line 1:" },
		{ "include <abstractions/base\n", "unterminated" },
		{ "include \"/etc/apparmor.d\"\n", "only the standard" },
		{ "include ..\n", "`..` is not allowed" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *msg = NULL;

		if (includes(bad[i].src, &msg) == 0)
			fail_msg("accepted %s", bad[i].src);
		assert_contains(msg, bad[i].want);
		free(msg);
	}
}

static void
test_kernel_list_parsed(void **state)
{
	struct pd_aa_loaded l = { 0 };

	(void)state;
	pd_aa_parse_list("k8s-apparmor-example-deny-write (enforce)\n"
			 "/usr/bin/man (complain)\n"
			 "odd name (with) parens (kill)\n"
			 "garbage line\n"
			 "(enforce)\n"
			 "nomode ()\n"
			 "last (unconfined)",
			 &l);
	assert_int_equal(l.names.n, 5);
	assert_string_equal(pd_aa_loaded_mode(&l, "k8s-apparmor-example-deny-write"), "enforce");
	assert_string_equal(pd_aa_loaded_mode(&l, "/usr/bin/man"), "complain");
	assert_string_equal(pd_aa_loaded_mode(&l, "odd name (with) parens"), "kill");
	assert_string_equal(pd_aa_loaded_mode(&l, "nomode"), "");
	assert_string_equal(pd_aa_loaded_mode(&l, "last"), "unconfined");
	assert_null(pd_aa_loaded_mode(&l, "garbage line"));
	assert_null(pd_aa_loaded_mode(&l, "missing"));
	pd_aa_loaded_clear(&l);
}

struct fx {
	char *dir, *fs, *cache;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = unit_mkdtemp();
	f->fs = unit_asprintf("%s/fs", f->dir);
	f->cache = unit_asprintf("%s/cache", f->dir);
	mkdir(f->fs, 0700);
	unit_write_str(f->fs, ".load", "");
	unit_write_str(f->fs, ".replace", "");
	unit_write_str(f->fs, ".remove", "");
	unit_write_str(f->fs, "profiles", "");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	unit_rmtree(f->dir);
	free(f->dir);
	free(f->fs);
	free(f->cache);
	free(f);
	return 0;
}

static struct pd_aa *
open_aa(struct fx *f, bool load)
{
	struct pd_aa_options o = { .fs = load ? f->fs : NULL, .load = load, .cache_dir = f->cache };
	struct pd_aa *aa = NULL;
	pd_error_t err = NULL;

	if (pd_aa_open(&o, &aa, &err) < 0)
		fail_msg("pd_aa_open: %s", pd_error_msg(err));
	return aa;
}

static void
unit_for(struct pd_aa_unit *u, const char *label, const char *src)
{
	memset(u, 0, sizeof(*u));
	u->label = label;
	u->data = src;
	u->len = strlen(src);
	pd_sha256_hex(src, u->len, u->sha256);
}

static void
test_compile_batch_names_errors_cache(void **state)
{
	struct fx *f = *state;
	struct pd_aa_unit u[3];
	struct pd_aa_stats st;
	struct pd_aa *aa;
	pd_error_t err = NULL;

	NEED_PARSER();
	aa = open_aa(f, false);
	unit_for(&u[0], "cm/deny", deny_write);
	unit_for(&u[1], "cm/two",
		 "profile pd-a { file, }\nprofile pd-b flags=(complain) { file, }\n");
	unit_for(&u[2], "cm/bad", "profile pd-bad {\n  file,\n  nonsense here\n}\n");
	assert_int_equal(pd_aa_compile(aa, u, 3, &st, &err), 0);
	assert_int_equal(st.compiled, 2);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.cached, 0);
	assert_null(u[0].error);
	assert_int_equal(u[0].names.n, 1);
	assert_string_equal(u[0].names.v[0], "pd-unit-deny");
	assert_int_equal(u[1].names.n, 2);
	assert_string_equal(u[1].names.v[1], "pd-b");
	assert_non_null(u[0].binary);
	/* the parser's own message, with the label and the line */
	assert_non_null(u[2].error);
	assert_contains(u[2].error, "AppArmor parser error for cm/bad");
	assert_contains(u[2].error, "line 3");
	assert_not_contains(u[2].error, f->cache);

	/* again: everything valid comes from the cache, nothing compiled */
	for (int i = 0; i < 3; i++)
		pd_aa_unit_clear(&u[i]);
	assert_int_equal(pd_aa_compile(aa, u, 3, &st, &err), 0);
	assert_int_equal(st.compiled, 0);
	assert_int_equal(st.cached, 2);
	assert_true(u[0].cached);
	assert_string_equal(u[1].names.v[0], "pd-a");
	for (int i = 0; i < 3; i++)
		pd_aa_unit_clear(&u[i]);
	pd_aa_free(aa);
}

static void
test_semantic_error_goes_to_its_own_file(void **state)
{
	struct fx *f = *state;
	struct pd_aa_unit u[3];
	struct pd_aa_stats st;
	struct pd_aa *aa;
	pd_error_t err = NULL;

	NEED_PARSER();
	aa = open_aa(f, false);
	/* base without tunables: "variable never declared", no file named */
	unit_for(&u[0], "cm/ok", "profile pd-ok { file, }\n");
	unit_for(&u[1], "cm/notunables", "profile pd-nt {\n  #include <abstractions/base>\n}\n");
	unit_for(&u[2], "cm/ok2", "profile pd-ok2 { file, }\n");
	assert_int_equal(pd_aa_compile(aa, u, 3, &st, &err), 0);
	assert_null(u[0].error);
	assert_null(u[2].error);
	assert_non_null(u[1].error);
	assert_contains(u[1].error, "never declared");
	for (int i = 0; i < 3; i++)
		pd_aa_unit_clear(&u[i]);
	pd_aa_free(aa);
}

static void
test_include_refused_before_the_parser(void **state)
{
	struct fx *f = *state;
	struct pd_aa_unit u;
	struct pd_aa_stats st;
	struct pd_aa *aa;
	pd_error_t err = NULL;

	NEED_PARSER();
	aa = open_aa(f, false);
	unit_for(&u, "cm/evil", "#include \"/etc/shadow\"\nprofile pd-e { file, }\n");
	assert_int_equal(pd_aa_compile(aa, &u, 1, &st, &err), 0);
	assert_non_null(u.error);
	assert_contains(u.error, "only the standard AppArmor folders");
	assert_int_equal(st.rejected, 1);
	assert_int_equal(u.names.n, 0);
	pd_aa_unit_clear(&u);
	pd_aa_free(aa);
}

static void
test_load_and_unload_through_libapparmor(void **state)
{
	struct fx *f = *state;
	struct pd_aa_unit u;
	struct pd_aa_stats st;
	struct pd_aa_loaded l;
	struct pd_aa *aa;
	pd_error_t err = NULL;
	size_t len;
	char *blob, *removed;

	NEED_PARSER();
	aa = open_aa(f, true);
	assert_string_equal(pd_aa_fs(aa), f->fs);
	unit_for(&u, "cm/deny", deny_write);
	assert_int_equal(pd_aa_compile(aa, &u, 1, &st, &err), 0);
	assert_null(u.error);
	if (pd_aa_load(aa, u.binary, &err) < 0)
		fail_msg("load: %s", pd_error_msg(err));
	blob = unit_read_at(f->fs, ".replace", &len);
	assert_true(len > 100);
	assert_non_null(memmem(blob, len, "pd-unit-deny", strlen("pd-unit-deny")));
	free(blob);
	if (pd_aa_unload(aa, "pd-unit-deny", &err) < 0)
		fail_msg("unload: %s", pd_error_msg(err));
	removed = unit_read_at(f->fs, ".remove", &len);
	assert_int_equal(strnlen(removed, len), strlen("pd-unit-deny"));
	assert_memory_equal(removed, "pd-unit-deny", strlen("pd-unit-deny"));
	free(removed);
	unit_write_str(f->fs, "profiles", "pd-unit-deny (enforce)\n");
	assert_int_equal(pd_aa_list(aa, &l, &err), 0);
	assert_string_equal(pd_aa_loaded_mode(&l, "pd-unit-deny"), "enforce");
	pd_aa_loaded_clear(&l);
	pd_aa_unit_clear(&u);
	pd_aa_free(aa);
}

static void
test_missing_parser_is_an_error(void **state)
{
	struct fx *f = *state;
	struct pd_aa_options o = { .parser = "/nonexistent/apparmor_parser",
				   .cache_dir = f->cache };
	struct pd_aa *aa = NULL;
	pd_error_t err = NULL;

	assert_true(pd_aa_open(&o, &aa, &err) < 0);
	assert_null(aa);
	assert_contains(pd_error_msg(err), "/nonexistent/apparmor_parser");
	pd_error_release(&err);
}

static void
test_temporary_cache_is_removed(void **state)
{
	struct pd_aa_options o = { 0 };
	struct pd_aa *aa = NULL;
	pd_error_t err = NULL;
	char *tmp, *n;

	(void)state;
	NEED_PARSER();
	tmp = unit_mkdtemp();
	setenv("TMPDIR", tmp, 1);
	if (pd_aa_open(&o, &aa, &err) < 0)
		fail_msg("%s", pd_error_msg(err));
	assert_int_equal(unit_count_entries(tmp), 1);
	pd_aa_free(aa);
	assert_int_equal(unit_count_entries(tmp), 0);
	unsetenv("TMPDIR");
	n = tmp;
	unit_rmtree(n);
	free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_includes_standard_ones_pass),
		cmocka_unit_test(test_includes_outside_refused_with_line),
		cmocka_unit_test(test_kernel_list_parsed),
		cmocka_unit_test_setup_teardown(test_compile_batch_names_errors_cache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_semantic_error_goes_to_its_own_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_include_refused_before_the_parser, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_and_unload_through_libapparmor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_parser_is_an_error, setup, teardown),
		cmocka_unit_test(test_temporary_cache_is_removed),
	};

	return cmocka_run_group_tests_name("apparmor", tests, NULL, NULL);
}
