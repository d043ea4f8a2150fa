/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/scan.c: reading a profiles folder, plain or laid out by the kubelet
 * (files in a timestamped folder, `..data` pointing at it, one symlink per
 * key), and what happens to hostile entries.
 */
#include "unit.h"

#include <openssl/sha.h>

#include "../../lib/scan.h"

#define KUBELET_TS "..2026_11_29_00_00_00.000000001"

static void
sha_hex(const char *data, size_t len, char out[PD_SHA256_HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)data, len, md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
mkdir_at(const char *dir, const char *name)
{
	char *path = unit_asprintf("%s/%s", dir, name);

	if (mkdir(path, 0755) < 0)
		fail_msg("mkdir(%s): %s", path, strerror(errno));
	free(path);
}

static void
symlink_at(const char *target, const char *dir, const char *name)
{
	char *path = unit_asprintf("%s/%s", dir, name);

	if (symlink(target, path) < 0)
		fail_msg("symlink(%s): %s", path, strerror(errno));
	free(path);
}

static const struct pd_source *
find_source(const struct pd_sources *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	fail_msg("no entry \"%s\" among %zu", name, s->n);
	return NULL;
}

static void
assert_source_ok(const struct pd_source *s, const char *dir, const char *data, enum pd_kind kind)
{
	char want_sha[PD_SHA256_HEX_LEN + 1];
	char *want_path = unit_asprintf("%s/%s", dir, s->name);

	if (s->error != 0)
		fail_msg("%s: error %d (%s)", s->name, s->error, s->errmsg ? s->errmsg : "");
	assert_null(s->errmsg);
	assert_non_null(s->data);
	assert_int_equal(s->len, strlen(data));
	assert_string_equal(s->data, data);
	assert_int_equal(s->kind, kind);
	assert_string_equal(s->dir, dir);
	assert_string_equal(s->path, want_path);
	sha_hex(data, strlen(data), want_sha);
	assert_string_equal(s->sha256, want_sha);
	free(want_path);
}

static void
assert_source_error(const struct pd_source *s, int error, const char *msg)
{
	if (s->error != error)
		fail_msg("%s: error %d (%s), want %d", s->name, s->error,
			 s->errmsg ? s->errmsg : "no message", error);
	assert_null(s->data);
	assert_non_null(s->errmsg);
	assert_contains(s->errmsg, msg);
}

/* The layout the kubelet gives a ConfigMap volume with the given keys. */
static void
make_kubelet_folder(const char *dir, const char *const *names, const char *const *contents,
		    size_t n)
{
	char *ts = unit_asprintf("%s/%s", dir, KUBELET_TS);

	mkdir_at(dir, KUBELET_TS);
	for (size_t i = 0; i < n; i++) {
		char *target = unit_asprintf("..data/%s", names[i]);

		unit_write_str(ts, names[i], contents[i]);
		symlink_at(target, dir, names[i]);
		free(target);
	}
	symlink_at(KUBELET_TS, dir, "..data");
	free(ts);
}

/* ---- pd_kind_of ---------------------------------------------------------- */

static void
kind_of_json_is_seccomp_anything_else_apparmor(void **state)
{
	(void)state;
	assert_int_equal(pd_kind_of("audit.json"), PD_KIND_SECCOMP);
	assert_int_equal(pd_kind_of("a.json"), PD_KIND_SECCOMP);
	assert_int_equal(pd_kind_of("fine-grained.json"), PD_KIND_SECCOMP);
	assert_int_equal(pd_kind_of("x.y.json"), PD_KIND_SECCOMP);
	assert_int_equal(pd_kind_of("k8s-apparmor-example-deny-write"), PD_KIND_APPARMOR);
	assert_int_equal(pd_kind_of("usr.bin.foo"), PD_KIND_APPARMOR);
	assert_int_equal(pd_kind_of("audit.JSON"), PD_KIND_APPARMOR);
	assert_int_equal(pd_kind_of("audit.json.bak"), PD_KIND_APPARMOR);
	assert_int_equal(pd_kind_of("auditjson"), PD_KIND_APPARMOR);
	assert_int_equal(pd_kind_of("json"), PD_KIND_APPARMOR);
	/* ".json" alone names no profile: it is not taken as seccomp. */
	assert_int_equal(pd_kind_of(".json"), PD_KIND_APPARMOR);
	assert_int_equal(pd_kind_of(""), PD_KIND_APPARMOR);
}

/* ---- pd_scan_dir --------------------------------------------------------- */

static void
scan_plain_folder_reads_every_file_sorted(void **state)
{
	const char *dir = *state;
	struct pd_sources s = { 0 };
	pd_error_t err = NULL;

	unit_write_str(dir, "b-profile", "profile b {}\n");
	unit_write_str(dir, "audit.json", "{\"defaultAction\": \"SCMP_ACT_LOG\"}\n");
	unit_write_str(dir, "C", "upper");
	unit_write_str(dir, "empty.json", "");
	assert_int_equal(pd_scan_dir(dir, &s, &err), 0);
	assert_null(err);
	assert_int_equal(s.n, 4);
	/* Sorted by byte value: upper case first. */
	assert_string_equal(s.v[0].name, "C");
	assert_string_equal(s.v[1].name, "audit.json");
	assert_string_equal(s.v[2].name, "b-profile");
	assert_string_equal(s.v[3].name, "empty.json");
	assert_source_ok(&s.v[0], dir, "upper", PD_KIND_APPARMOR);
	assert_source_ok(&s.v[1], dir, "{\"defaultAction\": \"SCMP_ACT_LOG\"}\n", PD_KIND_SECCOMP);
	assert_source_ok(&s.v[2], dir, "profile b {}\n", PD_KIND_APPARMOR);
	assert_source_ok(&s.v[3], dir, "", PD_KIND_SECCOMP);
	pd_sources_clear(&s);
	assert_int_equal(s.n, 0);
	assert_null(s.v);
}

static void
scan_ignores_dot_entries(void **state)
{
	const char *dir = *state;
	struct pd_sources s = { 0 };

	unit_write_str(dir, ".hidden", "x");
	unit_write_str(dir, ".audit.json.tmp-123", "partial");
	mkdir_at(dir, ".git");
	unit_write_str(dir, "real.json", "{}");
	assert_int_equal(pd_scan_dir(dir, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_source_ok(&s.v[0], dir, "{}", PD_KIND_SECCOMP);
	pd_sources_clear(&s);
}

static void
scan_empty_folder_finds_nothing(void **state)
{
	struct pd_sources s = { 0 };

	assert_int_equal(pd_scan_dir(*state, &s, NULL), 0);
	assert_int_equal(s.n, 0);
	pd_sources_clear(&s);
}

static void
scan_kubelet_folder_follows_links_into_data(void **state)
{
	static const char *const names[] = { "audit.json", "k8s-apparmor-example-deny-write",
					     "violation.json" };
	static const char *const contents[] = { "{\"defaultAction\": \"SCMP_ACT_LOG\"}\n",
						"profile k8s-apparmor-example-deny-write {}\n",
						"{\"defaultAction\": \"SCMP_ACT_ERRNO\"}\n" };
	const char *dir = *state;
	struct pd_sources s = { 0 };
	pd_error_t err = NULL;

	make_kubelet_folder(dir, names, contents, ARRAY_SIZE(names));
	assert_int_equal(pd_scan_dir(dir, &s, &err), 0);
	assert_null(err);
	/* Neither ..data nor the timestamped folder is an entry. */
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		assert_string_equal(s.v[i].name, names[i]);
		assert_source_ok(&s.v[i], dir, contents[i],
				 i == 1 ? PD_KIND_APPARMOR : PD_KIND_SECCOMP);
	}
	pd_sources_clear(&s);
}

static void
scan_kubelet_folder_sees_the_swapped_data(void **state)
{
	static const char *const names[] = { "audit.json" };
	static const char *const contents[] = { "{\"v\": 1}" };
	const char *dir = *state;
	struct pd_sources s = { 0 };
	char *next = unit_asprintf("%s/..2026_11_29_00_01_00.000000002", dir);
	char *tmp_link = unit_asprintf("%s/..data_tmp", dir);
	char *data_link = unit_asprintf("%s/..data", dir);

	make_kubelet_folder(dir, names, contents, 1);
	/* The kubelet's update: a new folder, then ..data renamed over. */
	assert_int_equal(mkdir(next, 0755), 0);
	unit_write_str(next, "audit.json", "{\"v\": 2}");
	assert_int_equal(symlink("..2026_11_29_00_01_00.000000002", tmp_link), 0);
	assert_int_equal(rename(tmp_link, data_link), 0);
	assert_int_equal(pd_scan_dir(dir, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_source_ok(&s.v[0], dir, "{\"v\": 2}", PD_KIND_SECCOMP);
	pd_sources_clear(&s);
	free(next);
	free(tmp_link);
	free(data_link);
}

static void
scan_rejects_symlinks_leaving_the_folder(void **state)
{
	const char *dir = *state;
	char *profiles = unit_asprintf("%s/profiles", dir);
	char *outside = unit_asprintf("%s/secret.json", dir);
	struct pd_sources s = { 0 };
	pd_error_t err = NULL;

	/* The profiles folder is dir/profiles; a readable file sits next to it. */
	mkdir_at(dir, "profiles");
	unit_write_str(dir, "secret.json", "{\"secret\": true}");
	unit_write_str(profiles, "good.json", "{}");
	symlink_at("../secret.json", profiles, "relative.json");
	symlink_at(outside, profiles, "absolute.json");
	symlink_at("/etc/passwd", profiles, "passwd");
	mkdir_at(profiles, "..data");
	symlink_at("..data/../../secret.json", profiles, "sneaky.json");
	assert_int_equal(pd_scan_dir(profiles, &s, &err), 0);
	assert_null(err);
	assert_int_equal(s.n, 5);
	assert_source_error(find_source(&s, "relative.json"), -EXDEV, "outside the folder");
	assert_source_error(find_source(&s, "absolute.json"), -EXDEV, "outside the folder");
	assert_source_error(find_source(&s, "passwd"), -EXDEV, "outside the folder");
	assert_source_error(find_source(&s, "sneaky.json"), -EXDEV, "outside the folder");
	/* One bad entry does not spoil the others. */
	assert_source_ok(find_source(&s, "good.json"), profiles, "{}", PD_KIND_SECCOMP);
	pd_sources_clear(&s);
	free(outside);
	free(profiles);
}

static void
scan_reports_subfolders_fifos_and_dangling_links_as_entry_errors(void **state)
{
	const char *dir = *state;
	char *fifo = unit_asprintf("%s/fifo", dir);
	struct pd_sources s = { 0 };
	long long start;

	mkdir_at(dir, "sub");
	unit_write_str(dir, "ok", "fine");
	symlink_at("sub", dir, "link-to-sub");
	symlink_at("missing", dir, "dangling.json");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	/* A FIFO is never opened for reading: that would block, and the
	 * alarm would end the whole run rather than let it hang. */
	start = pd_now_ms();
	alarm(10);
	assert_int_equal(pd_scan_dir(dir, &s, NULL), 0);
	alarm(0);
	assert_true(pd_now_ms() - start < 5000);
	assert_int_equal(s.n, 5);
	assert_source_error(find_source(&s, "sub"), -EINVAL, "not a regular file");
	assert_source_error(find_source(&s, "link-to-sub"), -EINVAL, "not a regular file");
	assert_source_error(find_source(&s, "fifo"), -EINVAL, "not a regular file");
	assert_source_error(find_source(&s, "dangling.json"), -ENOENT, "No such file");
	assert_source_ok(find_source(&s, "ok"), dir, "fine", PD_KIND_APPARMOR);
	pd_sources_clear(&s);
	free(fifo);
}

static void
scan_enforces_the_file_size_limit(void **state)
{
	const char *dir = *state;
	char *big = malloc(PD_SCAN_MAX_FILE_BYTES + 1);
	struct pd_sources s = { 0 };
	const struct pd_source *e;

	assert_non_null(big);
	memset(big, ' ', PD_SCAN_MAX_FILE_BYTES + 1);
	unit_write(dir, "at-limit.json", big, PD_SCAN_MAX_FILE_BYTES);
	unit_write(dir, "over-limit.json", big, PD_SCAN_MAX_FILE_BYTES + 1);
	assert_int_equal(pd_scan_dir(dir, &s, NULL), 0);
	assert_int_equal(s.n, 2);
	e = find_source(&s, "at-limit.json");
	assert_int_equal(e->error, 0);
	assert_int_equal(e->len, PD_SCAN_MAX_FILE_BYTES);
	assert_memory_equal(e->data, big, PD_SCAN_MAX_FILE_BYTES);
	assert_source_error(find_source(&s, "over-limit.json"), -EFBIG, "over the limit");
	pd_sources_clear(&s);
	free(big);
}

static void
scan_enforces_the_total_size_limit(void **state)
{
	const char *dir = *state;
	const size_t files = PD_SCAN_MAX_TOTAL_BYTES / PD_SCAN_MAX_FILE_BYTES + 1;
	struct pd_sources s = { 0 };

	/* Sparse files: 17 x 1 MiB, of which only 16 MiB fit. */
	for (size_t i = 0; i < files; i++) {
		char *path = unit_asprintf("%s/f%02zu", dir, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, PD_SCAN_MAX_FILE_BYTES), 0);
		close(fd);
		free(path);
	}
	assert_int_equal(pd_scan_dir(dir, &s, NULL), 0);
	assert_int_equal(s.n, files);
	for (size_t i = 0; i + 1 < files; i++) {
		assert_int_equal(s.v[i].error, 0);
		assert_int_equal(s.v[i].len, PD_SCAN_MAX_FILE_BYTES);
	}
	assert_source_error(&s.v[files - 1], -EFBIG, "more than");
	pd_sources_clear(&s);
}

static void
scan_appends_to_what_is_there(void **state)
{
	const char *dir = *state;
	char *a = unit_asprintf("%s/a", dir);
	char *b = unit_asprintf("%s/b", dir);
	struct pd_sources s = { 0 };

	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	unit_write_str(a, "x.json", "1");
	unit_write_str(b, "x.json", "2");
	unit_write_str(b, "y", "3");
	assert_int_equal(pd_scan_dir(a, &s, NULL), 0);
	assert_int_equal(pd_scan_dir(b, &s, NULL), 0);
	assert_int_equal(s.n, 3);
	assert_source_ok(&s.v[0], a, "1", PD_KIND_SECCOMP);
	assert_source_ok(&s.v[1], b, "2", PD_KIND_SECCOMP);
	assert_source_ok(&s.v[2], b, "3", PD_KIND_APPARMOR);
	pd_sources_clear(&s);
	free(a);
	free(b);
}

static void
scan_missing_folder_is_an_error(void **state)
{
	const char *dir = *state;
	char *missing = unit_asprintf("%s/nope", dir);
	struct pd_sources s = { 0 };
	pd_error_t err = NULL;

	assert_int_equal(pd_scan_dir(missing, &s, &err), -ENOENT);
	assert_non_null(err);
	assert_contains(pd_error_msg(err), missing);
	assert_contains(pd_error_msg(err), "No such file or directory");
	assert_int_equal(s.n, 0);
	pd_error_release(&err);

	/* A file is not a folder. */
	unit_write_str(dir, "file", "x");
	free(missing);
	missing = unit_asprintf("%s/file", dir);
	assert_int_equal(pd_scan_dir(missing, &s, &err), -ENOTDIR);
	assert_int_equal(s.n, 0);
	pd_error_release(&err);
	free(missing);
}

/* ---- pd_scan_file -------------------------------------------------------- */

static void
scan_file_reads_one_file(void **state)
{
	const char *dir = *state;
	char *path = unit_asprintf("%s/one.json", dir);
	struct pd_sources s = { 0 };
	pd_error_t err = NULL;

	unit_write_str(dir, "one.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
	unit_write_str(dir, "other.json", "not read");
	assert_int_equal(pd_scan_file(path, &s, &err), 0);
	assert_null(err);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].name, "one.json");
	assert_source_ok(&s.v[0], dir, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", PD_KIND_SECCOMP);
	pd_sources_clear(&s);
	free(path);
}

static void
scan_file_keeps_the_given_path(void **state)
{
	const char *dir = *state;
	char *path = unit_asprintf("%s/./prof", dir);
	char *cwd = getcwd(NULL, 0);
	struct pd_sources s = { 0 };

	unit_write_str(dir, "prof", "profile p {}");
	assert_int_equal(pd_scan_file(path, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].path, path);
	assert_string_equal(s.v[0].name, "prof");
	assert_int_equal(s.v[0].kind, PD_KIND_APPARMOR);
	assert_string_equal(s.v[0].data, "profile p {}");
	pd_sources_clear(&s);

	/* A bare name is read from the working folder. */
	assert_non_null(cwd);
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(pd_scan_file("prof", &s, NULL), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].path, "prof");
	assert_string_equal(s.v[0].data, "profile p {}");
	pd_sources_clear(&s);
	free(cwd);
	free(path);
}

static void
scan_file_errors_are_reported(void **state)
{
	const char *dir = *state;
	char *missing = unit_asprintf("%s/missing.json", dir);
	char *nodir = unit_asprintf("%s/nodir/x.json", dir);
	char *slash = unit_asprintf("%s/", dir);
	char *sub = unit_asprintf("%s/sub", dir);
	struct pd_sources s = { 0 };
	pd_error_t err = NULL;

	/* A missing file is an entry error, as in a folder scan. */
	assert_int_equal(pd_scan_file(missing, &s, &err), 0);
	assert_null(err);
	assert_int_equal(s.n, 1);
	assert_source_error(&s.v[0], -ENOENT, "No such file");
	pd_sources_clear(&s);
	/* A folder is not a profile file. */
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(pd_scan_file(sub, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_source_error(&s.v[0], -EINVAL, "not a regular file");
	pd_sources_clear(&s);
	/* A missing folder or no file name fails as a whole. */
	assert_int_equal(pd_scan_file(nodir, &s, &err), -ENOENT);
	assert_contains(pd_error_msg(err), nodir);
	pd_error_release(&err);
	assert_int_equal(pd_scan_file(slash, &s, &err), -EINVAL);
	assert_contains(pd_error_msg(err), "names no file");
	pd_error_release(&err);
	assert_int_equal(s.n, 0);
	free(missing);
	free(nodir);
	free(slash);
	free(sub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kind_of_json_is_seccomp_anything_else_apparmor),
		unit_test_tmp(scan_plain_folder_reads_every_file_sorted),
		unit_test_tmp(scan_ignores_dot_entries),
		unit_test_tmp(scan_empty_folder_finds_nothing),
		unit_test_tmp(scan_kubelet_folder_follows_links_into_data),
		unit_test_tmp(scan_kubelet_folder_sees_the_swapped_data),
		unit_test_tmp(scan_rejects_symlinks_leaving_the_folder),
		unit_test_tmp(scan_reports_subfolders_fifos_and_dangling_links_as_entry_errors),
		unit_test_tmp(scan_enforces_the_file_size_limit),
		unit_test_tmp(scan_enforces_the_total_size_limit),
		unit_test_tmp(scan_appends_to_what_is_there),
		unit_test_tmp(scan_missing_folder_is_an_error),
		unit_test_tmp(scan_file_reads_one_file),
		unit_test_tmp(scan_file_keeps_the_given_path),
		unit_test_tmp(scan_file_errors_are_reported),
	};

	return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
