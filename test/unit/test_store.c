/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store.c: <seccomp-root>/<subdir>/NAME.json, published atomically,
 * mode 0644, byte-identical, left alone when already identical, and never
 * touching anything outside the subdir.
 */
#include "unit.h"

#include <openssl/sha.h>

#include "../../lib/store.h"

#define SUBDIR "profiled"

struct fixture {
	char *tmp;  /* the mkdtemp folder */
	char *root; /* tmp/seccomp: the seccomp root */
	char *sub;  /* root/profiled */
	struct pd_store *store;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	pd_error_t err = NULL;

	if (f == NULL)
		return -1;
	f->tmp = unit_mkdtemp();
	f->root = unit_asprintf("%s/seccomp", f->tmp);
	f->sub = unit_asprintf("%s/%s", f->root, SUBDIR);
	if (pd_store_open(f->root, SUBDIR, &f->store, &err) < 0) {
		print_error("pd_store_open: %s\n", pd_error_msg(err));
		pd_error_release(&err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	pd_store_free(f->store);
	unit_rmtree(f->tmp);
	free(f->tmp);
	free(f->root);
	free(f->sub);
	free(f);
	return 0;
}

#define store_test(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static void
stat_at(const char *dir, const char *name, struct stat *st)
{
	char *path = unit_asprintf("%s/%s", dir, name);

	if (lstat(path, st) < 0)
		fail_msg("lstat(%s): %s", path, strerror(errno));
	free(path);
}

static void
assert_file(const char *dir, const char *name, const char *want)
{
	size_t len;
	char *got = unit_read_at(dir, name, &len);

	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
	free(got);
}

/* ---- pd_store_subdir_check ----------------------------------------------- */

static void
subdir_check_accepts_one_plain_component(void **state)
{
	char name[256];
	pd_error_t err = NULL;

	(void)state;
	assert_int_equal(pd_store_subdir_check("profiled", &err), 0);
	assert_int_equal(pd_store_subdir_check("a", &err), 0);
	assert_int_equal(pd_store_subdir_check("my-profiles_v2.d", &err), 0);
	memset(name, 'a', 255);
	name[255] = '\0';
	assert_int_equal(pd_store_subdir_check(name, &err), 0);
	assert_null(err);
}

static void
subdir_check_refuses_paths_and_dot_names(void **state)
{
	static const char *const bad[] = { "", ".", "..", ".hidden", "a/b", "/abs", "a/", "../x" };
	char name[257];
	pd_error_t err = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char quoted[32];

		if (pd_store_subdir_check(bad[i], &err) != -EINVAL)
			fail_msg("subdir \"%s\" accepted", bad[i]);
		snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i]);
		assert_contains(pd_error_msg(err), quoted);
		pd_error_release(&err);
	}
	memset(name, 'a', 256);
	name[256] = '\0';
	assert_int_equal(pd_store_subdir_check(name, &err), -EINVAL);
	pd_error_release(&err);
}

/* ---- pd_store_open ------------------------------------------------------- */

static void
store_open_creates_root_and_subdir(void **state)
{
	char *tmp = *state;
	char *root = unit_asprintf("%s/var/seccomp", tmp);
	char *parent = unit_asprintf("%s/var", tmp);
	struct pd_store *s = NULL;
	pd_error_t err = NULL;
	struct stat st;
	mode_t old;
	char *path, *want;
	int ret;

	assert_int_equal(mkdir(parent, 0755), 0);
	old = umask(022);
	ret = pd_store_open(root, "profiled", &s, &err);
	umask(old);
	assert_int_equal(ret, 0);
	assert_null(err);
	assert_non_null(s);
	assert_int_equal(stat(root, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	stat_at(root, "profiled", &st);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	path = pd_store_path(s, "audit.json");
	want = unit_asprintf("%s/profiled/audit.json", root);
	assert_string_equal(path, want);
	free(path);
	free(want);
	pd_store_free(s);
	pd_store_free(NULL);

	/* Opening again finds both in place. */
	assert_int_equal(pd_store_open(root, "profiled", &s, &err), 0);
	pd_store_free(s);
	free(root);
	free(parent);
}

static void
store_open_refuses_a_bad_subdir_or_a_symlinked_one(void **state)
{
	char *tmp = *state;
	char *root = unit_asprintf("%s/root", tmp);
	char *elsewhere = unit_asprintf("%s/elsewhere", tmp);
	char *link = unit_asprintf("%s/root/profiled", tmp);
	struct pd_store *s = (struct pd_store *)0x1;
	pd_error_t err = NULL;

	assert_int_equal(pd_store_open(root, "../escape", &s, &err), -EINVAL);
	pd_error_release(&err);
	assert_false(unit_exists(tmp, "escape"));
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(elsewhere, 0755), 0);
	assert_int_equal(symlink(elsewhere, link), 0);
	assert_true(pd_store_open(root, "profiled", &s, &err) < 0);
	assert_non_null(err);
	assert_contains(pd_error_msg(err), "profiled");
	pd_error_release(&err);
	/* Out-parameters are written only on success. */
	assert_ptr_equal(s, (struct pd_store *)0x1);
	free(root);
	free(elsewhere);
	free(link);
}

static void
store_open_sweeps_stale_temporaries_only(void **state)
{
	struct fixture *f = *state;
	struct pd_store *s = NULL;

	unit_write_str(f->sub, ".audit.json.tmp-12345", "partial");
	unit_write_str(f->sub, ".keep", "not ours");
	unit_write_str(f->sub, "audit.json.tmp-1", "no leading dot");
	unit_write_str(f->sub, "audit.json", "{}");
	assert_int_equal(pd_store_open(f->root, SUBDIR, &s, NULL), 0);
	assert_false(unit_exists(f->sub, ".audit.json.tmp-12345"));
	assert_true(unit_exists(f->sub, ".keep"));
	assert_true(unit_exists(f->sub, "audit.json.tmp-1"));
	assert_file(f->sub, "audit.json", "{}");
	pd_store_free(s);
}

/* ---- pd_store_put -------------------------------------------------------- */

static void
store_put_writes_mode_0644_whatever_the_umask(void **state)
{
	struct fixture *f = *state;
	const char data[] = "{\"defaultAction\": \"SCMP_ACT_LOG\"}\n";
	bool changed = false;
	pd_error_t err = NULL;
	struct stat st;
	mode_t old = umask(0077);
	int ret;

	ret = pd_store_put(f->store, "audit.json", data, strlen(data), &changed, &err);
	umask(old);
	assert_int_equal(ret, 0);
	assert_null(err);
	assert_true(changed);
	stat_at(f->sub, "audit.json", &st);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_file(f->sub, "audit.json", data);
}

static void
store_put_same_bytes_leaves_the_file_alone(void **state)
{
	struct fixture *f = *state;
	const char data[] = "{\"defaultAction\": \"SCMP_ACT_ERRNO\"}";
	struct stat first, second;
	bool changed = false;

	assert_int_equal(pd_store_put(f->store, "v.json", data, strlen(data), &changed, NULL), 0);
	assert_true(changed);
	stat_at(f->sub, "v.json", &first);
	changed = true;
	assert_int_equal(pd_store_put(f->store, "v.json", data, strlen(data), &changed, NULL), 0);
	assert_false(changed);
	stat_at(f->sub, "v.json", &second);
	assert_int_equal(first.st_ino, second.st_ino);
	assert_int_equal(first.st_mtim.tv_sec, second.st_mtim.tv_sec);
	assert_int_equal(first.st_mtim.tv_nsec, second.st_mtim.tv_nsec);
	assert_int_equal(first.st_ctim.tv_nsec, second.st_ctim.tv_nsec);
}

/* A name of 250 bytes is a valid file name; its temporary must fit too. */
static void
store_put_a_name_near_name_max(void **state)
{
	struct fixture *f = *state;
	char name[251];
	struct stat st;
	bool changed = false;

	memset(name, 'x', 245);
	strcpy(name + 245, ".json");
	assert_int_equal(pd_store_put(f->store, name, "{}", 2, &changed, NULL), 0);
	assert_true(changed);
	stat_at(f->sub, name, &st);
	assert_int_equal(st.st_size, 2);
}

static void
store_put_different_bytes_replace_the_file(void **state)
{
	struct fixture *f = *state;
	struct stat first, second;
	bool changed = false;

	assert_int_equal(pd_store_put(f->store, "v.json", "{\"a\":1}", 7, &changed, NULL), 0);
	assert_true(changed);
	stat_at(f->sub, "v.json", &first);
	changed = false;
	/* Same length, one byte differs. */
	assert_int_equal(pd_store_put(f->store, "v.json", "{\"a\":2}", 7, &changed, NULL), 0);
	assert_true(changed);
	stat_at(f->sub, "v.json", &second);
	assert_true(first.st_ino != second.st_ino);
	assert_file(f->sub, "v.json", "{\"a\":2}");
	/* Shorter, then empty. */
	assert_int_equal(pd_store_put(f->store, "v.json", "{}", 2, &changed, NULL), 0);
	assert_true(changed);
	assert_file(f->sub, "v.json", "{}");
	assert_int_equal(pd_store_put(f->store, "v.json", "", 0, &changed, NULL), 0);
	assert_true(changed);
	assert_file(f->sub, "v.json", "");
	assert_int_equal(pd_store_put(f->store, "v.json", "", 0, &changed, NULL), 0);
	assert_false(changed);
}

static void
store_put_same_bytes_with_wrong_mode_is_republished(void **state)
{
	struct fixture *f = *state;
	char *path = unit_asprintf("%s/m.json", f->sub);
	bool changed = false;
	struct stat st;

	assert_int_equal(pd_store_put(f->store, "m.json", "{}", 2, &changed, NULL), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(pd_store_put(f->store, "m.json", "{}", 2, &changed, NULL), 0);
	assert_true(changed);
	stat_at(f->sub, "m.json", &st);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(path);
}

static void
store_put_replaces_a_symlink_without_following_it(void **state)
{
	struct fixture *f = *state;
	char *link = unit_asprintf("%s/l.json", f->sub);
	char *target = unit_asprintf("%s/target", f->tmp);
	bool changed = false;
	struct stat st;

	unit_write_str(f->tmp, "target", "{}");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(pd_store_put(f->store, "l.json", "{}", 2, &changed, NULL), 0);
	assert_true(changed);
	stat_at(f->sub, "l.json", &st);
	assert_true(S_ISREG(st.st_mode));
	assert_file(f->tmp, "target", "{}");
	free(link);
	free(target);
}

static void
store_put_leaves_no_temporary_files(void **state)
{
	struct fixture *f = *state;
	bool changed;

	for (int i = 0; i < 5; i++) {
		char data[32];

		snprintf(data, sizeof(data), "{\"round\": %d}", i);
		assert_int_equal(
			pd_store_put(f->store, "a.json", data, strlen(data), &changed, NULL), 0);
		assert_int_equal(
			pd_store_put(f->store, "b.json", data, strlen(data), &changed, NULL), 0);
	}
	assert_int_equal(unit_count_entries(f->sub), 2);
	assert_file(f->sub, "a.json", "{\"round\": 4}");
	assert_file(f->sub, "b.json", "{\"round\": 4}");
}

/* ---- pd_store_remove ----------------------------------------------------- */

static void
store_remove_removes_only_that_file(void **state)
{
	struct fixture *f = *state;
	bool changed;
	pd_error_t err = NULL;

	assert_int_equal(pd_store_put(f->store, "a.json", "1", 1, &changed, NULL), 0);
	assert_int_equal(pd_store_put(f->store, "b.json", "2", 1, &changed, NULL), 0);
	unit_write_str(f->root, "a.json", "root file, not ours");
	unit_write_str(f->root, "other.json", "root file");
	assert_int_equal(pd_store_remove(f->store, "a.json", &err), 0);
	assert_null(err);
	assert_false(unit_exists(f->sub, "a.json"));
	assert_file(f->sub, "b.json", "2");
	assert_file(f->root, "a.json", "root file, not ours");
	assert_file(f->root, "other.json", "root file");
	/* A missing file is not an error. */
	assert_int_equal(pd_store_remove(f->store, "a.json", &err), 0);
	assert_int_equal(pd_store_remove(f->store, "never.json", &err), 0);
	assert_null(err);
	assert_int_equal(unit_count_entries(f->sub), 1);
	assert_int_equal(unit_count_entries(f->root), 3);
}

/* ---- pd_store_holds / pd_store_holds_hash -------------------------------- */

static void
sha_hex(const char *data, size_t len, char out[PD_SHA256_HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)data, len, md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
store_holds_compares_bytes(void **state)
{
	struct fixture *f = *state;
	const char data[] = "{\"defaultAction\": \"SCMP_ACT_LOG\"}";
	pd_error_t err = NULL;
	bool changed;

	assert_int_equal(pd_store_holds(f->store, "a.json", data, strlen(data), &err), 0);
	assert_int_equal(pd_store_put(f->store, "a.json", data, strlen(data), &changed, NULL), 0);
	assert_int_equal(pd_store_holds(f->store, "a.json", data, strlen(data), &err), 1);
	assert_int_equal(pd_store_holds(f->store, "a.json", data, strlen(data) - 1, &err), 0);
	assert_int_equal(pd_store_holds(f->store, "a.json", "{\"defaultAction\": \"SCMP_ACT_LOX\"}",
					strlen(data), &err),
			 0);
	assert_int_equal(pd_store_holds(f->store, "b.json", data, strlen(data), &err), 0);
	assert_null(err);
}

static void
store_holds_hash_compares_sha256(void **state)
{
	struct fixture *f = *state;
	const char data[] = "{\"defaultAction\": \"SCMP_ACT_ERRNO\"}";
	char sha[PD_SHA256_HEX_LEN + 1], other[PD_SHA256_HEX_LEN + 1];
	pd_error_t err = NULL;
	bool changed;

	sha_hex(data, strlen(data), sha);
	sha_hex("x", 1, other);
	assert_int_equal(pd_store_holds_hash(f->store, "a.json", sha, &err), 0);
	assert_int_equal(pd_store_put(f->store, "a.json", data, strlen(data), &changed, NULL), 0);
	assert_int_equal(pd_store_holds_hash(f->store, "a.json", sha, &err), 1);
	assert_int_equal(pd_store_holds_hash(f->store, "a.json", other, &err), 0);
	assert_int_equal(pd_store_holds_hash(f->store, "a.json", "", &err), 0);
	assert_null(err);
}

/* ---- names that are not one plain file name ------------------------------ */

static void
store_put_refuses_names_with_slash_or_dotdot(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "../escape.json", "a/b.json", "..", "" };
	bool changed = true;
	pd_error_t err = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (pd_store_put(f->store, bad[i], "{}", 2, &changed, &err) >= 0)
			fail_msg("pd_store_put(\"%s\") succeeded", bad[i]);
		assert_non_null(err);
		pd_error_release(&err);
		assert_false(changed);
	}
	/* Nothing was written anywhere. */
	assert_false(unit_exists(f->root, "escape.json"));
	assert_int_equal(unit_count_entries(f->sub), 0);
	assert_int_equal(unit_count_entries(f->root), 1);
}

/* Regression: pd_store_remove() passed the name to unlinkat() unchecked, so
 * "../x.json" deleted <seccomp-root>/x.json, outside the store's subdir. */
static void
store_remove_refuses_names_leaving_the_subdir(void **state)
{
	struct fixture *f = *state;
	pd_error_t err = NULL;
	bool survived;
	int ret;

	unit_write_str(f->root, "outside.json", "another owner's file");
	ret = pd_store_remove(f->store, "../outside.json", &err);
	survived = unit_exists(f->root, "outside.json");
	pd_error_release(&err);
	if (!survived)
		fail_msg(
			"pd_store_remove(\"../outside.json\") returned %d and deleted %s/outside.json",
			ret, f->root);
	assert_true(ret < 0);
}

/* Regression: pd_store_holds() and pd_store_holds_hash() read any path the
 * name led to, so "../x.json" compared a file outside the subdir. */
static void
store_holds_refuses_names_leaving_the_subdir(void **state)
{
	struct fixture *f = *state;
	char sha[PD_SHA256_HEX_LEN + 1];
	pd_error_t err = NULL;
	int holds, holds_hash;

	unit_write_str(f->root, "outside.json", "{}");
	sha_hex("{}", 2, sha);
	holds = pd_store_holds(f->store, "../outside.json", "{}", 2, &err);
	pd_error_release(&err);
	holds_hash = pd_store_holds_hash(f->store, "../outside.json", sha, &err);
	pd_error_release(&err);
	if (holds == 1 || holds_hash == 1)
		fail_msg("the store claims to hold ../outside.json (holds %d, holds_hash %d)",
			 holds, holds_hash);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subdir_check_accepts_one_plain_component),
		cmocka_unit_test(subdir_check_refuses_paths_and_dot_names),
		unit_test_tmp(store_open_creates_root_and_subdir),
		unit_test_tmp(store_open_refuses_a_bad_subdir_or_a_symlinked_one),
		store_test(store_open_sweeps_stale_temporaries_only),
		store_test(store_put_writes_mode_0644_whatever_the_umask),
		store_test(store_put_same_bytes_leaves_the_file_alone),
		store_test(store_put_a_name_near_name_max),
		store_test(store_put_different_bytes_replace_the_file),
		store_test(store_put_same_bytes_with_wrong_mode_is_republished),
		store_test(store_put_replaces_a_symlink_without_following_it),
		store_test(store_put_leaves_no_temporary_files),
		store_test(store_remove_removes_only_that_file),
		store_test(store_holds_compares_bytes),
		store_test(store_holds_hash_compares_sha256),
		store_test(store_put_refuses_names_with_slash_or_dotdot),
		store_test(store_remove_refuses_names_leaving_the_subdir),
		store_test(store_holds_refuses_names_leaving_the_subdir),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
