/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/util.c pd_read_upto, the one bounded read loop, and its two users:
 * pd_read_fd (a file over the limit is an error) and the output of a
 * program started with pd_child_start (cut at PD_SPAWN_MAX_OUTPUT).
 */
#include "unit.h"

#include <poll.h>
#include <sys/mman.h>

#include "../../lib/spawn.h"
#include "../../lib/fileio.h"

/* A memory file holding n bytes 'a'..'z' in turn, its offset at 0. */
static int
memfile(size_t n)
{
	int fd = memfd_create("test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++) {
		char c = (char)('a' + i % 26);

		assert_int_equal(write(fd, &c, 1), 1);
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
reads_to_eof_from_any_hint(void **state)
{
	static const size_t hints[] = { 0, 1, 7, 100, 1000 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hints); i++) {
		int fd = memfile(100);
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;

		assert_int_equal(pd_read_upto(fd, 1000, hints[i], &buf, &len, NULL), 0);
		assert_int_equal(len, 100);
		assert_int_equal(strlen(buf), 100);
		assert_int_equal(buf[26], 'a');
		close(fd);
	}
}

/* The limit stops the read and leaves the rest where it is. */
static void
stops_at_the_limit_leaving_the_rest(void **state)
{
	int fd = memfile(100);
	_cleanup_free_ char *buf = NULL;
	char next;
	size_t len = 0;

	(void)state;
	assert_int_equal(pd_read_upto(fd, 30, 4, &buf, &len, NULL), 0);
	assert_int_equal(len, 30);
	assert_int_equal(buf[30], '\0');
	assert_int_equal(read(fd, &next, 1), 1);
	assert_int_equal(next, 'e'); /* byte 30 */
	close(fd);
}

/* From a pipe too (not a regular file), a read error is an error. */
static void
reads_a_pipe_and_reports_errors(void **state)
{
	int p[2];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	pd_error_t err = NULL;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello", 5), 5);
	close(p[1]);
	assert_int_equal(pd_read_upto(p[0], 100, 1, &buf, &len, NULL), 0);
	assert_string_equal(buf, "hello");
	close(p[0]);
	p[1] = open("/dev/null", O_WRONLY | O_CLOEXEC); /* not open for reading */
	assert_int_equal(pd_read_upto(p[1], 100, 1, &buf, &len, &err), -EBADF);
	assert_contains(pd_error_msg(err), "read");
	pd_error_release(&err);
	close(p[1]);
}

/* A program writing more than the limit: the first PD_SPAWN_MAX_OUTPUT
 * bytes are kept, the rest dropped. */
static void
child_output_is_cut_at_the_limit(void **state)
{
	_cleanup_free_ char *script = pd_xasprintf(
		"head -c %d /dev/zero | tr '\\0' x; echo -n short >&2", PD_SPAWN_MAX_OUTPUT + 1000);
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", script, NULL };
	struct pd_spawn_result r;
	struct pd_child *c = NULL;
	struct pollfd p;
	pd_error_t err = NULL;

	(void)state;
	assert_int_equal(pd_child_start(argv, &c, &err), 0);
	p = (struct pollfd){ .fd = pd_child_fd(c), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 60000), 1);
	assert_int_equal(pd_child_wait(c, &r, &err), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, PD_SPAWN_MAX_OUTPUT);
	assert_int_equal(strlen(r.out), PD_SPAWN_MAX_OUTPUT);
	assert_int_equal(r.out[PD_SPAWN_MAX_OUTPUT - 1], 'x');
	assert_string_equal(r.err, "short");
	assert_int_equal(r.err_len, 5);
	pd_spawn_result_clear(&r);
	pd_child_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_to_eof_from_any_hint),
		cmocka_unit_test(stops_at_the_limit_leaving_the_rest),
		cmocka_unit_test(reads_a_pipe_and_reports_errors),
		cmocka_unit_test(child_output_is_cut_at_the_limit),
	};

	return cmocka_run_group_tests_name("readupto", tests, NULL, NULL);
}
