/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pd_store_refresh() and pd_state_dir_refresh(): a held folder removed,
 * moved or replaced is found again by path; a symlink in its place is
 * refused; a new state folder locked by someone else is not taken.
 */
#include "unit.h"

#include <sys/file.h>

#include "../../lib/state.h"
#include "../../lib/store.h"

static void
store_found_again_by_path(void **state)
{
	char *tmp = unit_mkdtemp();
	char *root = unit_asprintf("%s/root", tmp), *sub = unit_asprintf("%s/root/p", tmp);
	char *moved = unit_asprintf("%s/moved", tmp),
	     *file = unit_asprintf("%s/root/p/a.json", tmp);
	struct pd_store *s = NULL;
	pd_error_t err = NULL;
	bool changed = false;
	struct stat st;

	(void)state;
	assert_int_equal(pd_store_open(root, "p", &s, &err), 0);
	assert_int_equal(pd_store_refresh(s, &err), 0); /* in place */
	/* removed: writes through the old handle fail; refreshed, they land */
	unit_rmtree(sub);
	assert_true(pd_store_put(s, "a.json", "{}", 2, &changed, &err) < 0);
	pd_error_release(&err);
	assert_int_equal(pd_store_refresh(s, &err), 1);
	assert_int_equal(pd_store_put(s, "a.json", "{}", 2, &changed, &err), 0);
	assert_int_equal(stat(file, &st), 0);
	/* moved away: the old folder still exists, but is not the path */
	assert_int_equal(rename(sub, moved), 0);
	assert_int_equal(pd_store_refresh(s, &err), 1);
	assert_int_equal(pd_store_holds(s, "a.json", "{}", 2, &err), 0);
	/* a symlink in its place: refused, and nothing is reachable */
	unit_rmtree(sub);
	assert_int_equal(symlink(moved, sub), 0);
	assert_true(pd_store_refresh(s, &err) < 0);
	assert_non_null(err);
	pd_error_release(&err);
	assert_true(pd_store_put(s, "b.json", "{}", 2, &changed, &err) < 0);
	pd_error_release(&err);
	/* the target holds a.json: it must not be seen through the link */
	assert_true(pd_store_holds(s, "a.json", "{}", 2, NULL) != 1);
	/* the symlink gone: back */
	assert_int_equal(unlink(sub), 0);
	assert_int_equal(pd_store_refresh(s, &err), 1);
	assert_int_equal(pd_store_put(s, "b.json", "{}", 2, &changed, &err), 0);
	pd_store_free(s);
	unit_rmtree(tmp);
	free(tmp);
	free(root);
	free(sub);
	free(moved);
	free(file);
}

static void
state_dir_found_again_and_locked(void **state)
{
	char *tmp = unit_mkdtemp();
	char *dir = unit_asprintf("%s/state", tmp), *lock = unit_asprintf("%s/state/lock", tmp);
	struct pd_state_dir *sd = NULL;
	struct pd_state st = { 0 };
	pd_error_t err = NULL;
	int holder = 0, fd;

	(void)state;
	assert_int_equal(pd_state_dir_open(dir, false, &sd, NULL, &err), 0);
	assert_int_equal(pd_state_dir_refresh(sd, NULL, &err), 0);
	unit_rmtree(dir);
	assert_int_equal(pd_state_dir_refresh(sd, NULL, &err), 1);
	pd_state_put(&st, PD_KIND_SECCOMP, "a.json",
		     "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(pd_state_save(sd, &st, &err), 0);
	/* the new lock is held: another open of it cannot take it */
	fd = open(lock, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	close(fd);
	/* replaced, and another process locks the new folder first */
	unit_rmtree(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "4242\n", 5), 5);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(pd_state_dir_refresh(sd, &holder, &err), -EWOULDBLOCK);
	assert_int_equal(holder, 4242);
	pd_error_release(&err);
	close(fd);
	pd_state_clear(&st);
	pd_state_dir_free(sd);
	unit_rmtree(tmp);
	free(tmp);
	free(dir);
	free(lock);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(store_found_again_by_path),
		cmocka_unit_test(state_dir_found_again_and_locked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
