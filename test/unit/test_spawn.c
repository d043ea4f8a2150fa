/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/spawn.c: a child and everything it forked die together, on a timeout,
 * on a kill and when the child exits leaving a worker behind; the background
 * child's exit status and output.
 */
#include "unit.h"

#include <poll.h>
#include <signal.h>
#include <time.h>

#include "../../lib/spawn.h"

static char sh[] = "sh", dash_c[] = "-c";

/* Whether pid is gone or a zombie (its parent, init, reaps it), waiting up
 * to 5 s for the kill to land. */
static bool
gone(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		char path[64], buf[512];
		FILE *f;
		char *st;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "re");
		if (f == NULL)
			return true;
		st = fgets(buf, sizeof(buf), f);
		fclose(f);
		st = st != NULL ? strrchr(buf, ')') : NULL;
		if (st != NULL && st[1] == ' ' && st[2] == 'Z')
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return false;
}

/* The pid a script wrote into path (its background worker). */
static pid_t
pid_in(const char *path)
{
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "re");
		int pid = 0;

		if (f != NULL) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid > 0)
			return pid;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	fail_msg("no pid in %s", path);
	return -1;
}

static void
timeout_kills_the_workers_too(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *file = pd_xasprintf("%s/worker", dir);
	_cleanup_free_ char *script = pd_xasprintf("sleep 60 & echo $! >%s; wait", file);
	char *argv[] = { sh, dash_c, script, NULL };
	struct pd_spawn_result r;
	pd_error_t err = NULL;

	assert_int_equal(pd_spawn(argv, NULL, 0, 300, NULL, &r, &err), 0);
	assert_true(r.timedout);
	assert_true(gone(pid_in(file)));
	pd_spawn_result_clear(&r);
}

static void
child_exit_status_and_output(void **state)
{
	char script[] = "echo out; echo err >&2; exit 3";
	char *argv[] = { sh, dash_c, script, NULL };
	struct pd_spawn_result r;
	struct pd_child *c = NULL;
	struct pollfd p;
	pd_error_t err = NULL;

	(void)state;
	assert_int_equal(pd_child_start(argv, &c, &err), 0);
	p = (struct pollfd){ .fd = pd_child_fd(c), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_int_equal(pd_child_wait(c, &r, &err), 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err\n");
	assert_int_equal(pd_child_wait(c, &r, NULL), -ECHILD);
	pd_spawn_result_clear(&r);
	pd_child_free(c);
}

static void
child_free_kills_the_group(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *file = pd_xasprintf("%s/worker", dir);
	_cleanup_free_ char *script = pd_xasprintf("sleep 60 & echo $! >%s; wait", file);
	char *argv[] = { sh, dash_c, script, NULL };
	struct pd_child *c = NULL;
	pd_error_t err = NULL;
	pid_t worker;

	assert_int_equal(pd_child_start(argv, &c, &err), 0);
	worker = pid_in(file);
	pd_child_free(c);
	assert_true(gone(worker));
}

static void
child_exit_leaves_no_worker(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *file = pd_xasprintf("%s/worker", dir);
	_cleanup_free_ char *script = pd_xasprintf("sleep 60 & echo $! >%s; exit 0", file);
	char *argv[] = { sh, dash_c, script, NULL };
	struct pd_spawn_result r;
	struct pd_child *c = NULL;
	struct pollfd p;
	pd_error_t err = NULL;

	assert_int_equal(pd_child_start(argv, &c, &err), 0);
	p = (struct pollfd){ .fd = pd_child_fd(c), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_int_equal(pd_child_wait(c, &r, &err), 0);
	assert_int_equal(r.status, 0);
	assert_true(gone(pid_in(file)));
	pd_spawn_result_clear(&r);
	pd_child_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_test_tmp(timeout_kills_the_workers_too),
		cmocka_unit_test(child_exit_status_and_output),
		unit_test_tmp(child_free_kills_the_group),
		unit_test_tmp(child_exit_leaves_no_worker),
	};

	return cmocka_run_group_tests_name("spawn", tests, NULL, NULL);
}
