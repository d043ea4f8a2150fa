/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/options.c, through libprofiled-agent.a: `profiled check`'s flag
 * table, the usage line made from it, and its parsing.
 */
#include "unit.h"

#include "../../agent/options.h"
#include "../../lib/apparmor.h"

/* The usage line as it was written out by hand before the table: the line
 * made from it must stay the same to the byte. */
static void
usage_line_is_made_from_the_table(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	options_check_usage(f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(
		text, "usage: profiled check [--apparmor-parser PATH] [--features PATH] PATH...\n");
	free(text);
}

static void
flags_set_the_options_and_stop_at_the_first_path(void **state)
{
	char *argv[] = { (char *)"check", (char *)"--features",
			 (char *)"/f",	  (char *)"--apparmor-parser=/p",
			 (char *)"a",	  (char *)"--features",
			 (char *)"b",	  NULL };
	struct pd_aa_options o = { 0 };

	(void)state;
	assert_int_equal(options_parse_check((int)ARRAY_SIZE(argv) - 1, argv, &o), 0);
	assert_string_equal(o.features, "/f");
	assert_string_equal(o.parser, "/p");
	/* after the first path every argument is a path, flags included */
	assert_int_equal(optind, 4);
}

/* An earlier parse of another command (whose flags may follow its
 * arguments) does not change how check's are read. */
static void
an_earlier_parse_does_not_leak_into_check(void **state)
{
	char *advise[] = { (char *)"advise", (char *)"log", (char *)"--pid", (char *)"1", NULL };
	char *check[] = { (char *)"check", (char *)"x", (char *)"--features", (char *)"f", NULL };
	struct advise_options a;
	struct pd_aa_options o = { 0 };

	(void)state;
	assert_int_equal(options_parse_advise((int)ARRAY_SIZE(advise) - 1, advise, &a), 0);
	assert_int_equal(a.n_pids, 1);
	advise_options_clear(&a);
	assert_int_equal(options_parse_check((int)ARRAY_SIZE(check) - 1, check, &o), 0);
	assert_null(o.features);
	assert_int_equal(optind, 1);
}

/* Usage errors: 2 (the message and the usage line go to stderr). */
static void
bad_flags_and_no_path_are_usage_errors(void **state)
{
	static const char *const bad[][3] = {
		{ "--bogus", "x" },	 { "-x", "x" }, { "--features" },
		{ "--apparmor-parser" }, { "" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *argv[4] = { (char *)"check" };
		struct pd_aa_options o = { 0 };
		int argc = 1;

		for (size_t k = 0; k < 2 && bad[i][k] != NULL && bad[i][k][0] != '\0'; k++)
			argv[argc++] = (char *)bad[i][k];
		assert_int_equal(options_parse_check(argc, argv, &o), 2);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(usage_line_is_made_from_the_table),
		cmocka_unit_test(flags_set_the_options_and_stop_at_the_first_path),
		cmocka_unit_test(an_earlier_parse_does_not_leak_into_check),
		cmocka_unit_test(bad_flags_and_no_path_are_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
