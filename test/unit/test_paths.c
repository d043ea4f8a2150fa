/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/paths.c: two folders overlap when they are one folder or one is
 * inside the other, however they are spelled (symlinks, `..`, `.`, a
 * trailing slash, relative paths) and whether or not they exist yet.
 */
#include "unit.h"

#include "../../lib/paths.h"

static enum pd_overlap
overlap(const char *a, const char *b)
{
	enum pd_overlap o = PD_DISJOINT;
	pd_error_t err = NULL;

	if (pd_path_overlap(a, b, &o, &err) < 0)
		fail_msg("pd_path_overlap(%s, %s): %s", a, b, pd_error_msg(err));
	return o;
}

static void
check(const char *tmp, const char *a, const char *b, enum pd_overlap want)
{
	char *pa = a[0] == '/' ? strdup(a) : unit_asprintf("%s/%s", tmp, a);
	char *pb = b[0] == '/' ? strdup(b) : unit_asprintf("%s/%s", tmp, b);
	enum pd_overlap got = overlap(pa, pb);

	if (got != want)
		fail_msg("%s vs %s: got %d, want %d", a, b, got, want);
	free(pa);
	free(pb);
}

static void
spellings_of_one_folder(void **state)
{
	char *tmp = unit_mkdtemp();
	char *d = unit_asprintf("%s/d", tmp), *link = unit_asprintf("%s/link", tmp);

	(void)state;
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(symlink("d", link), 0);
	check(tmp, "d", "d", PD_SAME);
	check(tmp, "d", "d/", PD_SAME);
	check(tmp, "d", "./d/.", PD_SAME);
	check(tmp, "d", "link", PD_SAME);
	check(tmp, "d/x/../y", "link/y", PD_SAME); /* not existing: by name below d */
	check(tmp, "d/new", "link/new/", PD_SAME);
	unit_rmtree(tmp);
	free(d);
	free(link);
	free(tmp);
}

static void
nesting_either_way(void **state)
{
	char *tmp = unit_mkdtemp();
	char *d = unit_asprintf("%s/d", tmp), *e = unit_asprintf("%s/e", tmp);
	char *link = unit_asprintf("%s/e/up", tmp);

	(void)state;
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(mkdir(e, 0700), 0);
	assert_int_equal(symlink("../d", link), 0);
	check(tmp, "d/sub", "d", PD_A_IN_B);
	check(tmp, "d", "d/sub/deeper", PD_B_IN_A);
	check(tmp, "e/up/state", "d", PD_A_IN_B); /* through a symlink */
	check(tmp, "d", "e", PD_DISJOINT);
	check(tmp, "d/a", "d/ab", PD_DISJOINT); /* a name prefix is not nesting */
	check(tmp, "d", "/", PD_A_IN_B);
	unit_rmtree(tmp);
	free(d);
	free(e);
	free(link);
	free(tmp);
}

static void
a_file_on_the_way_is_an_error(void **state)
{
	char *tmp = unit_mkdtemp();
	char *f = unit_asprintf("%s/f", tmp), *below = unit_asprintf("%s/f/x", tmp);
	enum pd_overlap o = PD_SAME;
	pd_error_t err = NULL;
	FILE *fp;

	(void)state;
	fp = fopen(f, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_true(pd_path_overlap(below, tmp, &o, &err) < 0);
	assert_non_null(err);
	assert_int_equal(o, PD_SAME); /* out-parameter untouched on failure */
	pd_error_release(&err);
	unit_rmtree(tmp);
	free(f);
	free(below);
	free(tmp);
}

/* Folders not made yet: compared where they will be once made. */
static void
not_made_yet_compared_where_they_will_be(void **state)
{
	char *tmp = unit_mkdtemp();
	char *d = unit_asprintf("%s/d", tmp), *dl = unit_asprintf("%s/dl", tmp);
	char *al = unit_asprintf("%s/al", tmp), *abs = unit_asprintf("%s/target", tmp);
	char *l1 = unit_asprintf("%s/l1", tmp), *l2 = unit_asprintf("%s/l2", tmp);
	char *loop = unit_asprintf("%s/l1/x", tmp);
	enum pd_overlap o = PD_SAME;
	pd_error_t err = NULL;

	(void)state;
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(symlink("target", dl), 0); /* dangling, relative */
	assert_int_equal(symlink(abs, al), 0);	    /* dangling, absolute */
	check(tmp, "dl", "target", PD_SAME);
	check(tmp, "al/x", "target/x", PD_SAME);
	check(tmp, "dl/sub", "target", PD_A_IN_B);
	check(tmp, "target", "al/state", PD_B_IN_A);
	check(tmp, "dl/x", "al/y", PD_DISJOINT);
	/* ".." past the deepest existing folder climbs out of it */
	check(tmp, "d/new/../../q", "q", PD_SAME);
	check(tmp, "d/new/../../q/in", "q", PD_A_IN_B);
	check(tmp, "d/new/../x", "d/x", PD_SAME);
	check(tmp, "new/a/../../d/sub", "d", PD_A_IN_B);
	check(tmp, "d/new/../../q", "d", PD_DISJOINT);
	/* a loop of links cannot be made a folder: an error, as for the kernel */
	assert_int_equal(symlink("l2", l1), 0);
	assert_int_equal(symlink("l1", l2), 0);
	assert_int_equal(pd_path_overlap(loop, d, &o, &err), -ELOOP);
	assert_int_equal(o, PD_SAME);
	pd_error_release(&err);
	unit_rmtree(tmp);
	free(d);
	free(dl);
	free(al);
	free(abs);
	free(l1);
	free(l2);
	free(loop);
	free(tmp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spellings_of_one_folder),
		cmocka_unit_test(nesting_either_way),
		cmocka_unit_test(a_file_on_the_way_is_an_error),
		cmocka_unit_test(not_made_yet_compared_where_they_will_be),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
