/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/util.c and lib/utf8.c: SHA-256, atomic publishing, file comparison,
 * bounded reads, the string vector and the UTF-8 check.
 */
#include "unit.h"

#include <openssl/sha.h>

#include "../../lib/utf8.h"
#include "../../lib/fileio.h"

/* ---- pd_sha256_hex ------------------------------------------------------- */

static void
sha256_hex_known_vectors(void **state)
{
	static const char abc56[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char out[PD_SHA256_HEX_LEN + 1];

	(void)state;
	pd_sha256_hex("", 0, out);
	assert_string_equal(out,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	pd_sha256_hex("abc", 3, out);
	assert_string_equal(out,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	pd_sha256_hex(abc56, strlen(abc56), out);
	assert_string_equal(out,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	assert_int_equal(strlen(out), PD_SHA256_HEX_LEN);
}

static void
sha256_hex_hashes_exactly_len_bytes(void **state)
{
	static const char data[] = { 'a', '\0', 'b', '\xff' };
	unsigned char md[SHA256_DIGEST_LENGTH];
	char out[PD_SHA256_HEX_LEN + 1], want[PD_SHA256_HEX_LEN + 1];

	(void)state;
	SHA256((const unsigned char *)data, sizeof(data), md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	pd_sha256_hex(data, sizeof(data), out);
	assert_string_equal(out, want);
	/* Only the first byte: the hash of "a". */
	pd_sha256_hex(data, 1, out);
	assert_string_equal(out,
			    "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
}

/* ---- pd_publish_atomic --------------------------------------------------- */

static int
open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open(%s): %s", dir, strerror(errno));
	return fd;
}

static void
publish_atomic_writes_content_with_mode_whatever_the_umask(void **state)
{
	const char *dir = *state;
	int dfd = open_dir(dir);
	pd_error_t err = NULL;
	mode_t old = umask(0077);
	struct stat st;
	char *path = unit_asprintf("%s/p.json", dir);
	char *got;
	size_t len;
	int ret;

	ret = pd_publish_atomic(dfd, "p.json", "{}\n", 3, 0644, &err);
	umask(old);
	assert_int_equal(ret, 0);
	assert_null(err);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	got = unit_read(path, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(got, "{}\n", 3);
	free(got);
	/* Another mode is honoured as given. */
	assert_int_equal(pd_publish_atomic(dfd, "q", "x", 1, 0600, &err), 0);
	free(path);
	path = unit_asprintf("%s/q", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(path);
	close(dfd);
}

static void
publish_atomic_replaces_leaving_old_readers_intact(void **state)
{
	const char *dir = *state;
	int dfd = open_dir(dir);
	char *path = unit_asprintf("%s/p.json", dir);
	struct stat before, after;
	char buf[16] = { 0 };
	char *got;
	int oldfd;

	unit_write_str(dir, "p.json", "old contents");
	assert_int_equal(stat(path, &before), 0);
	oldfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(oldfd >= 0);
	assert_int_equal(pd_publish_atomic(dfd, "p.json", "new", 3, 0644, NULL), 0);
	/* A new inode took the name; a reader of the old one sees it whole. */
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(read(oldfd, buf, sizeof(buf) - 1), 12);
	assert_string_equal(buf, "old contents");
	got = unit_read(path, NULL);
	assert_string_equal(got, "new");
	free(got);
	close(oldfd);
	free(path);
	close(dfd);
}

static void
publish_atomic_leaves_no_temporary_file(void **state)
{
	const char *dir = *state;
	int dfd = open_dir(dir);
	char *stale = unit_asprintf(".p.json.tmp-%d", (int)getpid());

	/* A temporary a killed earlier run of this pid left behind. */
	unit_write_str(dir, stale, "partial");
	assert_int_equal(pd_publish_atomic(dfd, "p.json", "a", 1, 0644, NULL), 0);
	assert_int_equal(pd_publish_atomic(dfd, "p.json", "bb", 2, 0644, NULL), 0);
	assert_int_equal(pd_publish_atomic(dfd, "empty", "", 0, 0644, NULL), 0);
	assert_int_equal(unit_count_entries(dir), 2);
	assert_true(unit_exists(dir, "p.json"));
	assert_true(unit_exists(dir, "empty"));
	assert_false(unit_exists(dir, stale));
	free(stale);
	close(dfd);
}

static void
publish_atomic_failure_keeps_old_target_and_cleans_up(void **state)
{
	const char *dir = *state;
	int dfd = open_dir(dir);
	char *sub = unit_asprintf("%s/target", dir);
	pd_error_t err = NULL;
	int ret;

	/* A non-empty folder cannot be renamed over. */
	assert_int_equal(mkdir(sub, 0755), 0);
	unit_write_str(sub, "keep", "kept");
	ret = pd_publish_atomic(dfd, "target", "data", 4, 0644, &err);
	assert_true(ret < 0);
	assert_non_null(err);
	assert_int_equal(err->status, -ret);
	assert_contains(pd_error_msg(err), "rename");
	assert_contains(pd_error_msg(err), "`target`");
	pd_error_release(&err);
	assert_true(unit_exists(sub, "keep"));
	assert_int_equal(unit_count_entries(dir), 1);
	free(sub);
	close(dfd);
}

/* ---- pd_file_equals ------------------------------------------------------ */

static void
file_equals_compares_bytes(void **state)
{
	const char *dir = *state;
	int dfd = open_dir(dir);
	pd_error_t err = NULL;

	unit_write_str(dir, "f", "hello");
	unit_write_str(dir, "empty", "");
	assert_int_equal(pd_file_equals(dfd, "f", "hello", 5, &err), 1);
	assert_int_equal(pd_file_equals(dfd, "f", "hellO", 5, &err), 0);
	assert_int_equal(pd_file_equals(dfd, "f", "hell", 4, &err), 0);
	assert_int_equal(pd_file_equals(dfd, "f", "hello!", 6, &err), 0);
	assert_int_equal(pd_file_equals(dfd, "empty", "", 0, &err), 1);
	assert_int_equal(pd_file_equals(dfd, "empty", "x", 1, &err), 0);
	assert_null(err);
	close(dfd);
}

static void
file_equals_missing_symlink_or_folder_is_different(void **state)
{
	const char *dir = *state;
	int dfd = open_dir(dir);
	char *link = unit_asprintf("%s/link", dir);
	char *sub = unit_asprintf("%s/sub", dir);
	pd_error_t err = NULL;

	unit_write_str(dir, "f", "hello");
	assert_int_equal(symlink("f", link), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(pd_file_equals(dfd, "missing", "hello", 5, &err), 0);
	/* Never follows a symlink, even to an equal file. */
	assert_int_equal(pd_file_equals(dfd, "link", "hello", 5, &err), 0);
	assert_int_equal(pd_file_equals(dfd, "sub", "", 0, &err), 0);
	assert_null(err);
	free(link);
	free(sub);
	close(dfd);
}

/* ---- pd_read_fd ---------------------------------------------------------- */

static int
open_file(const char *dir, const char *name)
{
	char *path = unit_asprintf("%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open(%s): %s", path, strerror(errno));
	free(path);
	return fd;
}

static void
read_fd_exactly_at_limit_is_read(void **state)
{
	const char *dir = *state;
	char data[100];
	char *out = NULL;
	size_t len = 0;
	int fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	unit_write(dir, "f", data, sizeof(data));
	fd = open_file(dir, "f");
	assert_int_equal(pd_read_fd(fd, sizeof(data), &out, &len, NULL), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(out, data, sizeof(data));
	assert_int_equal(out[len], '\0');
	free(out);
	close(fd);
}

static void
read_fd_one_byte_over_limit_fails_with_efbig(void **state)
{
	const char *dir = *state;
	char data[101];
	char *out = (char *)"untouched";
	size_t len = 42;
	pd_error_t err = NULL;
	int fd;

	memset(data, 'x', sizeof(data));
	unit_write(dir, "f", data, sizeof(data));
	fd = open_file(dir, "f");
	assert_int_equal(pd_read_fd(fd, 100, &out, &len, &err), -EFBIG);
	assert_non_null(err);
	assert_int_equal(err->status, EFBIG);
	assert_contains(pd_error_msg(err), "101 bytes");
	assert_contains(pd_error_msg(err), "limit of 100");
	pd_error_release(&err);
	/* Out-parameters are written only on success. */
	assert_string_equal(out, "untouched");
	assert_int_equal(len, 42);
	close(fd);
}

static void
read_fd_empty_file_and_zero_limit(void **state)
{
	const char *dir = *state;
	char *out = NULL;
	size_t len = 7;
	int fd;

	unit_write_str(dir, "e", "");
	fd = open_file(dir, "e");
	assert_int_equal(pd_read_fd(fd, 0, &out, &len, NULL), 0);
	assert_int_equal(len, 0);
	assert_non_null(out);
	assert_int_equal(out[0], '\0');
	free(out);
	close(fd);
}

static void
read_fd_refuses_non_regular_files(void **state)
{
	int p[2];
	char *out = NULL;
	size_t len = 0;
	pd_error_t err = NULL;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(pd_read_fd(p[0], 100, &out, &len, &err), -EINVAL);
	assert_contains(pd_error_msg(err), "not a regular file");
	assert_null(out);
	pd_error_release(&err);
	close(p[0]);
	close(p[1]);
}

/* ---- pd_strv ------------------------------------------------------------- */

static void
strv_push_keeps_order_and_null_terminates(void **state)
{
	struct pd_strv sv = { 0 };
	char want[32];

	(void)state;
	assert_false(pd_strv_contains(&sv, "a"));
	for (int i = 0; i < 40; i++) {
		pd_strv_pushf(&sv, "item-%d", i);
		assert_int_equal(sv.n, (size_t)i + 1);
		assert_null(sv.v[sv.n]);
	}
	pd_strv_push(&sv, unit_strdup("owned"));
	assert_int_equal(sv.n, 41);
	for (int i = 0; i < 40; i++) {
		snprintf(want, sizeof(want), "item-%d", i);
		assert_string_equal(sv.v[i], want);
	}
	assert_string_equal(sv.v[40], "owned");
	assert_null(sv.v[41]);
	pd_strv_clear(&sv);
}

static void
strv_contains_matches_whole_strings(void **state)
{
	struct pd_strv sv = { 0 };

	(void)state;
	pd_strv_push(&sv, unit_strdup("audit.json"));
	pd_strv_pushf(&sv, "%s/%d", "x", 7);
	assert_true(pd_strv_contains(&sv, "audit.json"));
	assert_true(pd_strv_contains(&sv, "x/7"));
	assert_false(pd_strv_contains(&sv, "audit"));
	assert_false(pd_strv_contains(&sv, "audit.json2"));
	assert_false(pd_strv_contains(&sv, ""));
	pd_strv_clear(&sv);
}

static void
strv_clear_empties_and_allows_reuse(void **state)
{
	struct pd_strv sv = { 0 };

	(void)state;
	pd_strv_pushf(&sv, "a");
	pd_strv_clear(&sv);
	assert_int_equal(sv.n, 0);
	assert_int_equal(sv.cap, 0);
	assert_null(sv.v);
	assert_false(pd_strv_contains(&sv, "a"));
	pd_strv_clear(&sv);
	pd_strv_pushf(&sv, "b");
	assert_int_equal(sv.n, 1);
	assert_string_equal(sv.v[0], "b");
	pd_strv_clear(&sv);
}

/* ---- error objects -------------------------------------------------------- */

static void
error_make_wrap_and_release(void **state)
{
	pd_error_t err = NULL;

	(void)state;
	assert_int_equal(pd_make_error(&err, ENOENT, "open `%s`", "x"), -ENOENT);
	assert_string_equal(pd_error_msg(err), "open `x`: No such file or directory");
	assert_int_equal(err->status, ENOENT);
	assert_int_equal(pd_error_wrap(&err, -ENOENT, "folder `%s`", "d"), -ENOENT);
	assert_string_equal(pd_error_msg(err), "folder `d`: open `x`: No such file or directory");
	pd_error_release(&err);
	assert_null(err);
	pd_error_release(&err);
	pd_error_release(NULL);
	assert_int_equal(pd_make_plain_error(&err, EINVAL, "bad \"%s\"", "v"), -EINVAL);
	assert_string_equal(pd_error_msg(err), "bad \"v\"");
	pd_error_release(&err);
	assert_int_equal(pd_make_plain_error(&err, 0, "no errno"), -EINVAL);
	assert_int_equal(err->status, 0);
	pd_error_release(&err);
	assert_string_equal(pd_error_msg(NULL), "unknown error");
	assert_int_equal(pd_make_error(NULL, EIO, "x"), -EIO);
}

/* ---- pd_utf8_valid ------------------------------------------------------- */

static void
utf8_valid_accepts_well_formed_text(void **state)
{
	static const char *const good[] = {
		"",
		"plain ascii",
		"\xc2\x80",		    /* U+0080, smallest two-byte */
		"caf\xc3\xa9",		    /* é */
		"\xdf\xbf",		    /* U+07FF */
		"\xe0\xa0\x80",		    /* U+0800, smallest three-byte */
		"\xe2\x82\xac",		    /* € */
		"\xed\x9f\xbf",		    /* U+D7FF, just below the surrogates */
		"\xee\x80\x80",		    /* U+E000, just above them */
		"\xef\xbf\xbf",		    /* U+FFFF */
		"\xf0\x90\x80\x80",	    /* U+10000, smallest four-byte */
		"\xf0\x9f\x98\x80",	    /* 😀 */
		"\xf4\x8f\xbf\xbf",	    /* U+10FFFF, the last code point */
		"\xe6\x97\xa5\xe6\x9c\xac", /* 日本 */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		size_t bad = 999;

		if (!pd_utf8_valid(good[i], strlen(good[i]), &bad))
			fail_msg("case %zu rejected at %zu", i, bad);
		assert_int_equal(bad, 999); /* untouched on success */
	}
	/* A NUL byte is a valid code point; only len bounds the check. */
	assert_true(pd_utf8_valid("a\0b", 3, NULL));
}

static void
utf8_valid_rejects_bad_sequences_at_their_offset(void **state)
{
	static const struct {
		const char *s;
		size_t bad;
		const char *why;
	} cases[] = {
		{ "ab\xc0\x80", 2, "overlong NUL (C0)" },
		{ "\xc1\xbf", 0, "overlong two-byte (C1)" },
		{ "a\xe0\x80\x80", 1, "overlong three-byte" },
		{ "a\xe0\x9f\xbf", 1, "overlong U+07FF in three bytes" },
		{ "\xf0\x8f\xbf\xbf", 0, "overlong four-byte" },
		{ "xy\xed\xa0\x80", 2, "high surrogate U+D800" },
		{ "\xed\xbf\xbf", 0, "low surrogate U+DFFF" },
		{ "\xf4\x90\x80\x80", 0, "U+110000, above U+10FFFF" },
		{ "\xf5\x80\x80\x80", 0, "F5 lead byte" },
		{ "\xf8\x88\x80\x80\x80", 0, "five-byte form" },
		{ "\xff", 0, "FF byte" },
		{ "\xfe", 0, "FE byte" },
		{ "a\x80", 1, "lone continuation byte" },
		{ "abc\xe2\x82", 3, "truncated at the end" },
		{ "\xe2\x82"
		  "a",
		  0, "truncated before ASCII" },
		{ "\xc3\xa9\xc3", 2, "truncated after a good character" },
		{ "\xf0\x9f\x98", 0, "truncated four-byte" },
		{ "ok\xc3\xa9\xe2\x28\xa1", 4, "bad second byte" },
		{ "\xe2\x82\xac\xe2\x82\xac\xf0\x9f\x98\x80\xc3", 10,
		  "after good multi-byte text" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t bad = 999;

		if (pd_utf8_valid(cases[i].s, strlen(cases[i].s), &bad))
			fail_msg("%s: accepted", cases[i].why);
		if (bad != cases[i].bad)
			fail_msg("%s: bad offset %zu, want %zu", cases[i].why, bad, cases[i].bad);
	}
	/* len bounds the check: half of "é" is truncated. */
	assert_false(pd_utf8_valid("\xc3\xa9", 1, NULL));
	assert_true(pd_utf8_valid("a\xff", 1, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_hex_known_vectors),
		cmocka_unit_test(sha256_hex_hashes_exactly_len_bytes),
		unit_test_tmp(publish_atomic_writes_content_with_mode_whatever_the_umask),
		unit_test_tmp(publish_atomic_replaces_leaving_old_readers_intact),
		unit_test_tmp(publish_atomic_leaves_no_temporary_file),
		unit_test_tmp(publish_atomic_failure_keeps_old_target_and_cleans_up),
		unit_test_tmp(file_equals_compares_bytes),
		unit_test_tmp(file_equals_missing_symlink_or_folder_is_different),
		unit_test_tmp(read_fd_exactly_at_limit_is_read),
		unit_test_tmp(read_fd_one_byte_over_limit_fails_with_efbig),
		unit_test_tmp(read_fd_empty_file_and_zero_limit),
		cmocka_unit_test(read_fd_refuses_non_regular_files),
		cmocka_unit_test(strv_push_keeps_order_and_null_terminates),
		cmocka_unit_test(strv_contains_matches_whole_strings),
		cmocka_unit_test(strv_clear_empties_and_allows_reuse),
		cmocka_unit_test(error_make_wrap_and_release),
		cmocka_unit_test(utf8_valid_accepts_well_formed_text),
		cmocka_unit_test(utf8_valid_rejects_bad_sequences_at_their_offset),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
