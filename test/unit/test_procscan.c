/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/procscan.c: the AppArmor label parser, the walk over a proc folder
 * (a fake one made here, and the real /proc for its shape), and the PID
 * namespace check.
 */
#include "unit.h"

#include "../../lib/procscan.h"

/* ---- pd_proc_label_profiles ------------------------------------------- */

/* Parses text and returns the names joined by ",". */
static char *
names_of(const char *text, size_t len)
{
	struct pd_strv sv = { 0 };
	size_t added = pd_proc_label_profiles(text, len, &sv);
	char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	assert_int_equal(added, sv.n);
	for (size_t i = 0; i < sv.n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "",
					sv.v[i]);
	pd_strv_clear(&sv);
	return unit_strdup(buf);
}

#define assert_names(text, want)                                                                   \
	do {                                                                                       \
		char *got_ = names_of((text), strlen(text));                                       \
		assert_string_equal(got_, (want));                                                 \
		free(got_);                                                                        \
	} while (0)

static void
label_plain_and_unconfined(void **state)
{
	(void)state;
	assert_names("unconfined", "");
	assert_names("unconfined\n", "");
	assert_names("", "");
	assert_names("\n", "");
	assert_names("pd-c (enforce)\n", "pd-c");
	assert_names("pd-c (complain)", "pd-c");
	assert_names("pd-c (kill)", "pd-c");
	assert_names("pd-c", "pd-c");
	assert_names("/usr/bin/foo (enforce)\n", "/usr/bin/foo");
	/* a name with a space and parentheses of its own */
	assert_names("my prof (x) (enforce)", "my prof (x)");
	assert_names("odd (Mode)", "odd (Mode)"); /* not a mode: kept whole */
}

static void
label_children_are_uses_of_the_parent(void **state)
{
	(void)state;
	assert_names("pd-c//hat (enforce)", "pd-c");
	assert_names("pd-c//null-/usr/bin/ls (complain)\n", "pd-c");
	assert_names("pd-c//a//b (enforce)", "pd-c");
}

static void
label_stacks_count_every_part(void **state)
{
	(void)state;
	assert_names("a//&b (enforce)", "a,b");
	assert_names("a (enforce)//&b (complain)\n", "a,b");
	assert_names("a//hat//&b//&a (enforce)", "a,b");
	assert_names("unconfined//&pd-c (enforce)", "pd-c");
	assert_names("a//&//&b", "a,b");
	assert_names("//&", "");
}

static void
label_namespaces(void **state)
{
	(void)state;
	assert_names(":ns:pd-c (enforce)", "");
	assert_names(":ns://pd-c (enforce)", "");
	assert_names(":root:pd-c (enforce)", "pd-c");
	assert_names(":root://pd-c//hat (enforce)", "pd-c");
	assert_names("pd-a//&:ns:pd-c (enforce)", "pd-a");
	assert_names(":ns:pd-a//&:root:pd-b (enforce)", "pd-b");
	assert_names(":rootx:pd-c", "");
	assert_names(":broken", "");
	assert_names(":", "");
}

static void
label_stops_at_nul_and_honours_len(void **state)
{
	char *got;

	(void)state;
	got = names_of("pd-c (enforce)\n\0\0\0", 18);
	assert_string_equal(got, "pd-c");
	free(got);
	got = names_of("pd-c (enforce)//&pd-d (enforce)", 14);
	assert_string_equal(got, "pd-c");
	free(got);
	got = names_of("a\0b", 3);
	assert_string_equal(got, "a");
	free(got);
}

/* ---- pd_proc_scan_holders ------------------------------------------------ */

static void
mkdirs(const char *root, const char *rel)
{
	char *path = unit_asprintf("%s/%s", root, rel);

	for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir(%s): %s", path, strerror(errno));
	free(path);
}

/* A process of the fake proc folder; attr "" leaves the label out, legacy
 * puts it in attr/current only, task > 0 puts it in task/TID/ instead. */
static void
fake(const char *root, int pid, const char *comm, const char *label, bool legacy, int task)
{
	char *dir = task > 0 ? unit_asprintf("%s/%d/task/%d", root, pid, task)
			     : unit_asprintf("%s/%d", root, pid);
	char *piddir = unit_asprintf("%s/%d", root, pid);
	char *c = unit_asprintf("%s\n", comm);

	mkdirs(root, dir + strlen(root) + 1);
	mkdirs(dir, "attr/apparmor");
	unit_write_str(piddir, "comm", c);
	free(piddir);
	if (label[0] != '\0')
		unit_write_str(dir, legacy ? "attr/current" : "attr/apparmor/current", label);
	free(c);
	free(dir);
}

static void
scan_finds_holders_in_pid_order(void **state)
{
	const char *root = *state;
	struct pd_strv names = { 0 };
	struct pd_proc_hold holds[3];
	struct pd_proc_scan st;
	pd_error_t err = NULL;

	pd_strv_push(&names, unit_strdup("pd-c"));
	pd_strv_push(&names, unit_strdup("pd-d"));
	pd_strv_push(&names, unit_strdup("pd-none"));
	fake(root, 1, "init", "unconfined\n", false, 0);
	fake(root, 300, "sleep", "pd-c (enforce)\n", false, 0);
	fake(root, 20, "sh", "pd-d//&pd-c//hat (complain)\n", false, 0);
	fake(root, 4000, "old", "pd-d (enforce)\n", true, 0);	 /* attr/current only */
	fake(root, 55, "nolabel", "", false, 0);		 /* no label file: skipped */
	fake(root, 66, "ns", ":other:pd-c (enforce)", false, 0); /* another namespace */
	mkdirs(root, "self/ns");
	mkdirs(root, "sys");
	unit_write_str(root, "uptime", "1.0 1.0\n");
	assert_int_equal(pd_proc_scan_holders(root, &names, holds, &st, &err), 0);
	assert_int_equal(st.pids, 6);
	assert_int_equal(st.unreadable, 0);
	assert_int_equal(holds[0].count, 2);
	assert_int_equal(holds[0].n, 2);
	assert_int_equal(holds[0].v[0].pid, 20);
	assert_string_equal(holds[0].v[0].comm, "sh");
	assert_int_equal(holds[0].v[1].pid, 300);
	assert_string_equal(holds[0].v[1].comm, "sleep");
	assert_int_equal(holds[1].count, 2);
	assert_int_equal(holds[1].v[0].pid, 20);
	assert_int_equal(holds[1].v[1].pid, 4000);
	assert_string_equal(holds[1].v[1].comm, "old");
	assert_int_equal(holds[2].count, 0);
	assert_int_equal(holds[2].n, 0);
	pd_strv_clear(&names);
}

static void
scan_reads_every_task_and_counts_a_process_once(void **state)
{
	const char *root = *state;
	struct pd_strv names = { 0 };
	struct pd_proc_hold holds[1];
	struct pd_proc_scan st;
	pd_error_t err = NULL;

	pd_strv_push(&names, unit_strdup("pd-c"));
	/* the leader unconfined, a thread that changed hat into pd-c//x,
	 * another under pd-c too: one process */
	fake(root, 10, "srv", "unconfined", false, 10);
	fake(root, 10, "srv", "pd-c//x (enforce)", false, 11);
	fake(root, 10, "srv", "pd-c (enforce)", false, 12);
	assert_int_equal(pd_proc_scan_holders(root, &names, holds, &st, &err), 0);
	assert_int_equal(holds[0].count, 1);
	assert_int_equal(holds[0].v[0].pid, 10);
	assert_string_equal(holds[0].v[0].comm, "srv");
	pd_strv_clear(&names);
}

static void
scan_keeps_a_bounded_list(void **state)
{
	const char *root = *state;
	struct pd_strv names = { 0 };
	struct pd_proc_hold holds[1];
	struct pd_proc_scan st;
	pd_error_t err = NULL;

	pd_strv_push(&names, unit_strdup("pd-c"));
	for (int pid = 100; pid < 100 + PD_PROC_HOLDERS_MAX + 5; pid++)
		fake(root, pid, "w", "pd-c (enforce)", false, 0);
	assert_int_equal(pd_proc_scan_holders(root, &names, holds, &st, &err), 0);
	assert_int_equal(holds[0].count, PD_PROC_HOLDERS_MAX + 5);
	assert_int_equal(holds[0].n, PD_PROC_HOLDERS_MAX);
	assert_int_equal(holds[0].v[PD_PROC_HOLDERS_MAX - 1].pid, 100 + PD_PROC_HOLDERS_MAX - 1);
	pd_strv_clear(&names);
}

static void
scan_counts_an_unreadable_label_and_fails_without_a_folder(void **state)
{
	const char *root = *state;
	struct pd_strv names = { 0 };
	struct pd_proc_hold holds[1];
	struct pd_proc_scan st;
	pd_error_t err = NULL;
	char *missing = unit_asprintf("%s/nope", root);

	pd_strv_push(&names, unit_strdup("pd-c"));
	/* a folder where the label should be: read() fails (EISDIR), the
	 * process is still there: unreadable, not "unused" */
	mkdirs(root, "7/attr/apparmor/current");
	assert_int_equal(pd_proc_scan_holders(root, &names, holds, &st, &err), 0);
	assert_int_equal(st.unreadable, 1);
	assert_int_equal(holds[0].count, 0);
	assert_true(pd_proc_scan_holders(missing, &names, holds, &st, &err) == -ENOENT);
	assert_contains(pd_error_msg(err), "cannot list");
	pd_error_release(&err);
	free(missing);
	pd_strv_clear(&names);
}

static void
scan_of_a_folder_without_processes(void **state)
{
	const char *root = *state;
	struct pd_strv names = { 0 };
	struct pd_proc_hold holds[1];
	struct pd_proc_scan st;
	pd_error_t err = NULL;

	pd_strv_push(&names, unit_strdup("pd-c"));
	mkdirs(root, "self/ns");
	assert_int_equal(pd_proc_scan_holders(root, &names, holds, &st, &err), 0);
	assert_int_equal(st.pids, 0);
	assert_int_equal(holds[0].count, 0);
	pd_strv_clear(&names);
}

static void
scan_of_the_real_proc_finds_no_holder_of_an_unknown_profile(void **state)
{
	struct pd_strv names = { 0 };
	struct pd_proc_hold holds[1];
	struct pd_proc_scan st;
	pd_error_t err = NULL;

	(void)state;
	pd_strv_push(&names, unit_strdup("pd-unit-no-such-profile"));
	assert_int_equal(pd_proc_scan_holders("/proc", &names, holds, &st, &err), 0);
	assert_true(st.pids >= 1); /* this process at least */
	assert_int_equal(holds[0].count, 0);
	pd_strv_clear(&names);
}

/* ---- pd_proc_sees_host ---------------------------------------------------- */

static void
sees_host_reads_the_pid_namespace_link(void **state)
{
	const char *root = *state;
	pd_error_t err = NULL;
	char *why = NULL;
	char *link = unit_asprintf("%s/self/ns/pid", root);

	assert_true(pd_proc_sees_host(root, &why, &err) == -ENOENT);
	pd_error_release(&err);
	mkdirs(root, "self/ns");
	assert_int_equal(symlink("pid:[4026531836]", link), 0);
	assert_int_equal(pd_proc_sees_host(root, &why, &err), 1);
	assert_null(why);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("pid:[4026532199]", link), 0);
	assert_int_equal(pd_proc_sees_host(root, &why, &err), 0);
	assert_contains(why, "pid:[4026532199]");
	assert_contains(why, "hostPID: true");
	free(why);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("pid:[4026531836", link), 0);
	assert_int_equal(pd_proc_sees_host(root, &why, &err), 0);
	assert_contains(why, "not a PID namespace");
	free(why);
	free(link);
}

static void
sees_host_on_the_real_proc_agrees_with_the_link(void **state)
{
	char buf[64];
	ssize_t r = readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
	pd_error_t err = NULL;
	char *why = NULL;
	int got;

	(void)state;
	if (r < 0)
		skip();
	buf[r] = '\0';
	got = pd_proc_sees_host("/proc", &why, &err);
	assert_int_equal(got, strcmp(buf, "pid:[4026531836]") == 0 ? 1 : 0);
	free(why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(label_plain_and_unconfined),
		cmocka_unit_test(label_children_are_uses_of_the_parent),
		cmocka_unit_test(label_stacks_count_every_part),
		cmocka_unit_test(label_namespaces),
		cmocka_unit_test(label_stops_at_nul_and_honours_len),
		unit_test_tmp(scan_finds_holders_in_pid_order),
		unit_test_tmp(scan_reads_every_task_and_counts_a_process_once),
		unit_test_tmp(scan_keeps_a_bounded_list),
		unit_test_tmp(scan_counts_an_unreadable_label_and_fails_without_a_folder),
		unit_test_tmp(scan_of_a_folder_without_processes),
		cmocka_unit_test(scan_of_the_real_proc_finds_no_holder_of_an_unknown_profile),
		unit_test_tmp(sees_host_reads_the_pid_namespace_link),
		cmocka_unit_test(sees_host_on_the_real_proc_agrees_with_the_link),
	};

	return cmocka_run_group_tests_name("procscan", tests, NULL, NULL);
}
