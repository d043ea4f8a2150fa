/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/rules.c (the name rules `check` and the daemon share) and the small
 * helpers of lib/util.c they and the rest of lib/ use: pd_grow, pd_join,
 * pd_strv_join, pd_json_stem_len (and seccomp_profile_name, built on it).
 */
#include "unit.h"

#include "../../agent/seccomp_pass.h"
#include "../../lib/rules.h"

/* ---- pd_grow ------------------------------------------------------------- */

static void
grow_keeps_elements_and_capacity_covers_need(void **state)
{
	int *v = NULL;
	size_t cap = 0, n = 0, reallocs = 0, last = 0;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		pd_grow(&v, &cap, n + 1, sizeof(*v));
		assert_true(cap >= n + 1);
		if (cap != last)
			reallocs++;
		last = cap;
		v[n++] = i;
	}
	for (int i = 0; i < 10000; i++)
		assert_int_equal(v[i], i);
	/* doubling: a handful of reallocations, not one per append */
	assert_true(reallocs <= 12);
	free(v);
}

static void
grow_is_a_no_op_when_the_capacity_suffices(void **state)
{
	char *buf = NULL;
	size_t cap = 0;
	char *before;

	(void)state;
	pd_grow(&buf, &cap, 100, 1);
	assert_true(cap >= 100);
	before = buf;
	memset(buf, 'x', 100);
	pd_grow(&buf, &cap, 100, 1);
	pd_grow(&buf, &cap, 0, 1);
	assert_ptr_equal(buf, before);
	/* a need far past the capacity is met at once */
	pd_grow(&buf, &cap, 5000, 1);
	assert_true(cap >= 5000);
	assert_int_equal(buf[99], 'x');
	free(buf);
}

/* ---- pd_join ------------------------------------------------------------- */

static void
join_puts_the_separator_between_only(void **state)
{
	const char *three[] = { "a", "", "ccc" };
	char *s;

	(void)state;
	s = pd_join(three, 3, ", ");
	assert_string_equal(s, "a, , ccc");
	free(s);
	s = pd_join(three, 1, ",");
	assert_string_equal(s, "a");
	free(s);
	s = pd_join(three, 0, ",");
	assert_string_equal(s, "");
	free(s);
	s = pd_join(three, 3, "");
	assert_string_equal(s, "accc");
	free(s);
}

static void
strv_join_joins_the_vector(void **state)
{
	struct pd_strv sv = { 0 };
	char *s;

	(void)state;
	/* an empty vector (v is NULL) joins to "" */
	s = pd_strv_join(&sv, "; ");
	assert_string_equal(s, "");
	free(s);
	pd_strv_push(&sv, pd_xstrdup("x"));
	s = pd_strv_join(&sv, "; ");
	assert_string_equal(s, "x");
	free(s);
	pd_strv_pushf(&sv, "%s", "y");
	pd_strv_pushf(&sv, "%s", "zz");
	s = pd_strv_join(&sv, "; ");
	assert_string_equal(s, "x; y; zz");
	free(s);
	pd_strv_clear(&sv);
}

/* ---- pd_json_stem_len ---------------------------------------------------- */

static void
json_stem_is_the_name_without_the_suffix(void **state)
{
	(void)state;
	assert_int_equal(pd_json_stem_len("audit.json"), 5);
	assert_int_equal(pd_json_stem_len("a.json"), 1);
	/* nothing but the suffix, another case, or no suffix: the whole name */
	assert_int_equal(pd_json_stem_len(".json"), 5);
	assert_int_equal(pd_json_stem_len("a.JSON"), 6);
	assert_int_equal(pd_json_stem_len("a.json.bak"), 10);
	assert_int_equal(pd_json_stem_len(""), 0);
	assert_int_equal(pd_kind_of("x.json"), PD_KIND_SECCOMP);
	assert_int_equal(pd_kind_of("X.JSON"), PD_KIND_APPARMOR);
	assert_int_equal(pd_kind_of(".json"), PD_KIND_APPARMOR);
}

static void
seccomp_profile_name_drops_the_suffix_only(void **state)
{
	static const char *const cases[][2] = {
		{ "audit.json", "audit" }, { "a.json", "a" },	   { ".json", ".json" },
		{ "json", "json" },	   { "abcdef", "abcdef" }, { "x.json.json", "x.json" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *name = seccomp_profile_name(cases[i][0]);

		assert_string_equal(name, cases[i][1]);
		free(name);
	}
}

/* ---- pd_source_taken / pd_source_absent ---------------------------------- */

static void
source_taken_rejects_a_later_entry_of_the_same_name(void **state)
{
	struct pd_source a = { .name = (char *)"x.json" }, b = { .name = (char *)"x.json" },
			 c = { .name = (char *)"X.json" }, gone = { .error = -ENOENT };
	struct pd_strv seen = { 0 };

	(void)state;
	assert_null(pd_source_taken(&seen, &a));
	assert_string_equal(pd_source_taken(&seen, &b),
			    "another profiles folder already provides this file name");
	assert_null(pd_source_taken(&seen, &c)); /* names are case-sensitive */
	assert_int_equal(seen.n, 2);
	assert_true(pd_source_absent(&gone));
	assert_false(pd_source_absent(&a));
	pd_strv_clear(&seen);
}

/* The daemon's order: absent first (its name is not taken), then taken,
 * then unreadable; an unreadable entry still takes its name. */
static void
source_rule_decides_absent_taken_unreadable_in_order(void **state)
{
	struct pd_source gone = { .name = (char *)"g.json",
				  .error = -ENOENT,
				  .errmsg = (char *)"open: No such file or directory" },
			 bad = { .name = (char *)"b",
				 .error = -EINVAL,
				 .errmsg = (char *)"not a regular file" },
			 g2 = { .name = (char *)"g.json" }, b2 = { .name = (char *)"b" };
	struct pd_strv seen = { 0 };
	const char *why = "untouched";

	(void)state;
	assert_int_equal(pd_source_rule(&seen, &gone, &why), PD_ENTRY_ABSENT);
	assert_string_equal(why, "untouched");
	assert_int_equal(pd_source_rule(&seen, &bad, &why), PD_ENTRY_REJECTED);
	assert_string_equal(why, "not a regular file");
	assert_int_equal(pd_source_rule(&seen, &g2, &why), PD_ENTRY_USE);
	assert_int_equal(pd_source_rule(&seen, &b2, &why), PD_ENTRY_REJECTED);
	assert_string_equal(why, "another profiles folder already provides this file name");
	assert_int_equal(seen.n, 2);
	pd_strv_clear(&seen);
}

/* ---- pd_aa_clash ---------------------------------------------------------- */

static void
unit_declaring(struct pd_aa_unit *u, const char *label, const char *names, bool admitted)
{
	_cleanup_free_ char *copy = pd_xstrdup(names);

	memset(u, 0, sizeof(*u));
	u->label = label;
	u->admitted = admitted;
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t != NULL;
	     t = strtok_r(NULL, " ", &save))
		pd_strv_push(&u->names, pd_xstrdup(t));
}

static void
clash_names_the_files_first_clashing_profile_and_its_earliest_declarer(void **state)
{
	struct pd_aa_unit u[5];
	char *msg;

	(void)state;
	unit_declaring(&u[0], "f/a", "q", true);
	unit_declaring(&u[1], "f/b", "p", true);
	unit_declaring(&u[2], "f/b2", "p", true);
	unit_declaring(&u[3], "f/c", "p q", false);
	unit_declaring(&u[4], "f/d", "r", false);
	/* c's first name that clashes is p, declared first by b (not q by a) */
	msg = pd_aa_clash(u, 3, &u[3]);
	assert_string_equal(msg, "profile `p` is already declared by f/b");
	free(msg);
	assert_null(pd_aa_clash(u, 3, &u[4]));
	/* only what is before u counts */
	assert_null(pd_aa_clash(u, 1, &u[1]));
	for (size_t i = 0; i < 5; i++)
		pd_strv_clear(&u[i].names);
}

static void
clash_ignores_units_not_admitted(void **state)
{
	struct pd_aa_unit u[3];
	char *msg;

	(void)state;
	unit_declaring(&u[0], "f/rejected", "p", false);
	unit_declaring(&u[1], "f/ok", "p", true);
	unit_declaring(&u[2], "f/late", "p", false);
	msg = pd_aa_clash(u, 2, &u[2]);
	assert_string_equal(msg, "profile `p` is already declared by f/ok");
	free(msg);
	assert_null(pd_aa_clash(u, 1, &u[1]));
	for (size_t i = 0; i < 3; i++)
		pd_strv_clear(&u[i].names);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grow_keeps_elements_and_capacity_covers_need),
		cmocka_unit_test(grow_is_a_no_op_when_the_capacity_suffices),
		cmocka_unit_test(join_puts_the_separator_between_only),
		cmocka_unit_test(strv_join_joins_the_vector),
		cmocka_unit_test(json_stem_is_the_name_without_the_suffix),
		cmocka_unit_test(seccomp_profile_name_drops_the_suffix_only),
		cmocka_unit_test(source_taken_rejects_a_later_entry_of_the_same_name),
		cmocka_unit_test(source_rule_decides_absent_taken_unreadable_in_order),
		cmocka_unit_test(
			clash_names_the_files_first_clashing_profile_and_its_earliest_declarer),
		cmocka_unit_test(clash_ignores_units_not_admitted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
