/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/state.c: the locked state folder, saving and loading what the agent
 * owns, surviving a corrupt file, and the in-memory entry set.
 */
#include "unit.h"

#include "../../lib/state.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_C "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Opens dir/state (the state folder) without waiting; fails the test on error. */
static struct pd_state_dir *
open_state(const char *tmp)
{
	char *dir = unit_asprintf("%s/state", tmp);
	struct pd_state_dir *sd = NULL;
	pd_error_t err = NULL;

	if (pd_state_dir_open(dir, false, &sd, NULL, &err) < 0)
		fail_msg("pd_state_dir_open(%s): %s", dir, pd_error_msg(err));
	free(dir);
	return sd;
}

static char *
state_path(const char *tmp)
{
	return unit_asprintf("%s/state", tmp);
}

/* ---- the locked folder ---------------------------------------------------- */

static void
state_dir_open_creates_the_folder_and_records_the_pid(void **state)
{
	const char *tmp = *state;
	char *dir = state_path(tmp);
	struct pd_state_dir *sd = NULL;
	pd_error_t err = NULL;
	struct stat st;
	char want[32];
	char *lock;
	mode_t old = umask(022);
	int ret;

	ret = pd_state_dir_open(dir, false, &sd, NULL, &err);
	umask(old);
	assert_int_equal(ret, 0);
	assert_null(err);
	assert_non_null(sd);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	lock = unit_read_at(dir, "lock", NULL);
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	assert_string_equal(lock, want);
	free(lock);
	pd_state_dir_free(sd);
	pd_state_dir_free(NULL);
	free(dir);
}

static void
state_dir_second_open_fails_and_names_the_holder(void **state)
{
	const char *tmp = *state;
	char *dir = state_path(tmp);
	struct pd_state_dir *first = NULL, *second = (struct pd_state_dir *)0x1;
	pd_error_t err = NULL;
	int holder = -1;

	assert_int_equal(pd_state_dir_open(dir, false, &first, NULL, NULL), 0);
	/* flock() locks belong to the open file: a second open conflicts
	 * even within one process, as a second agent would. */
	assert_int_equal(pd_state_dir_open(dir, false, &second, &holder, &err), -EWOULDBLOCK);
	assert_non_null(err);
	assert_contains(pd_error_msg(err), "lock");
	assert_contains(pd_error_msg(err), dir);
	assert_int_equal(holder, getpid());
	assert_ptr_equal(second, (struct pd_state_dir *)0x1);
	pd_error_release(&err);
	/* Freeing the first handle releases the lock. */
	pd_state_dir_free(first);
	second = NULL;
	assert_int_equal(pd_state_dir_open(dir, false, &second, &holder, &err), 0);
	assert_non_null(second);
	pd_state_dir_free(second);
	free(dir);
}

static void
state_dir_open_reports_an_unusable_folder(void **state)
{
	const char *tmp = *state;
	char *file = unit_asprintf("%s/file", tmp);
	char *below = unit_asprintf("%s/missing/state", tmp);
	struct pd_state_dir *sd = NULL;
	pd_error_t err = NULL;

	unit_write_str(tmp, "file", "x");
	assert_int_equal(pd_state_dir_open(file, false, &sd, NULL, &err), -ENOTDIR);
	assert_contains(pd_error_msg(err), file);
	pd_error_release(&err);
	assert_int_equal(pd_state_dir_open(below, false, &sd, NULL, &err), -ENOENT);
	assert_contains(pd_error_msg(err), below);
	pd_error_release(&err);
	assert_null(sd);
	free(file);
	free(below);
}

/* ---- save and load -------------------------------------------------------- */

static void
state_save_then_load_round_trips(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	struct pd_state st = { 0 }, back = { 0 };
	struct pd_strv warnings = { 0 };
	struct pd_state_entry *e;
	pd_error_t err = NULL;
	char *dir = state_path(tmp);
	struct stat sb;
	char *path;

	pd_state_put(&st, PD_KIND_SECCOMP, "audit.json", SHA_A);
	pd_state_put(&st, PD_KIND_SECCOMP, "fine-grained.json", SHA_B);
	pd_state_put(&st, PD_KIND_APPARMOR, "k8s-apparmor-example-deny-write", SHA_C);
	assert_int_equal(pd_state_save(sd, &st, &err), 0);
	assert_null(err);
	path = unit_asprintf("%s/state.json", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* Nothing but the lock and the state file: no temporary left. */
	assert_int_equal(unit_count_entries(dir), 2);

	assert_int_equal(pd_state_load(sd, &back, &warnings, &err), 0);
	assert_null(err);
	assert_int_equal(warnings.n, 0);
	assert_int_equal(back.n, 3);
	assert_true(pd_state_equal(&st, &back));
	e = pd_state_find(&back, PD_KIND_SECCOMP, "fine-grained.json");
	assert_non_null(e);
	assert_string_equal(e->sha256, SHA_B);
	e = pd_state_find(&back, PD_KIND_APPARMOR, "k8s-apparmor-example-deny-write");
	assert_non_null(e);
	assert_string_equal(e->sha256, SHA_C);
	assert_null(pd_state_find(&back, PD_KIND_APPARMOR, "audit.json"));

	/* A second save replaces the first. */
	pd_state_remove(&st, PD_KIND_SECCOMP, "audit.json");
	assert_int_equal(pd_state_save(sd, &st, &err), 0);
	pd_state_clear(&back);
	assert_int_equal(pd_state_load(sd, &back, &warnings, &err), 0);
	assert_int_equal(back.n, 2);
	assert_null(pd_state_find(&back, PD_KIND_SECCOMP, "audit.json"));
	assert_true(pd_state_equal(&st, &back));

	pd_state_clear(&st);
	pd_state_clear(&back);
	pd_strv_clear(&warnings);
	pd_state_dir_free(sd);
	free(path);
	free(dir);
}

static void
state_save_and_load_an_empty_state(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	struct pd_state st = { 0 }, back = { 0 };
	struct pd_strv warnings = { 0 };

	assert_int_equal(pd_state_save(sd, &st, NULL), 0);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(back.n, 0);
	assert_int_equal(warnings.n, 0);
	pd_state_dir_free(sd);
}

static void
state_load_missing_file_is_empty_without_warning(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	struct pd_state back = { 0 };
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;

	assert_int_equal(pd_state_load(sd, &back, &warnings, &err), 0);
	assert_null(err);
	assert_int_equal(back.n, 0);
	assert_int_equal(warnings.n, 0);
	pd_state_dir_free(sd);
}

/* Writes text as the state file, loads it and checks the outcome. */
static void
load_text(const char *tmp, const char *text, size_t want_entries, const char *want_warning)
{
	struct pd_state_dir *sd = open_state(tmp);
	char *dir = state_path(tmp);
	struct pd_state back = { 0 };
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;

	unit_write_str(dir, "state.json", text);
	assert_int_equal(pd_state_load(sd, &back, &warnings, &err), 0);
	assert_null(err);
	if (back.n != want_entries)
		fail_msg("%zu entries from <%s>, want %zu", back.n, text, want_entries);
	if (want_warning == NULL) {
		assert_int_equal(warnings.n, 0);
	} else {
		if (warnings.n == 0)
			fail_msg("no warning for <%s>", text);
		assert_contains(warnings.v[0], want_warning);
	}
	pd_state_clear(&back);
	pd_strv_clear(&warnings);
	pd_state_dir_free(sd);
	free(dir);
}

static void
state_load_corrupt_file_is_empty_with_a_warning(void **state)
{
	const char *tmp = *state;

	load_text(tmp, "", 0, "corrupt");
	load_text(tmp, "not json at all", 0, "corrupt");
	load_text(tmp, "{\"version\": 1, \"seccomp\": [{\"name\": \"a.json\", \"sha", 0, "corrupt");
	load_text(tmp, "[1, 2, 3]", 0, "corrupt");
	load_text(tmp, "{\"seccomp\": []}", 0, "corrupt");
	load_text(tmp, "{\"version\": \"1\"}", 0, "corrupt");
	load_text(tmp,
		  "{\"version\": 2, \"seccomp\": [{\"name\": \"a.json\", \"sha256\": \"" SHA_A
		  "\"}]}",
		  0, "corrupt");
	load_text(tmp,
		  "\xff\xfe"
		  "garbage",
		  0, "corrupt");
	/* A valid file, to show the helper does find entries. */
	load_text(tmp,
		  "{\"version\": 1, \"seccomp\": [{\"name\": \"a.json\", \"sha256\": \"" SHA_A
		  "\"}], \"apparmor\": []}",
		  1, NULL);
}

static void
state_load_drops_malformed_entries_and_keeps_the_rest(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	char *dir = state_path(tmp);
	struct pd_state back = { 0 };
	struct pd_strv warnings = { 0 };
	const char *text =
		"{\"version\": 1,\n"
		" \"seccomp\": [\n"
		"  {\"name\": \"good.json\", \"sha256\": \"" SHA_A "\"},\n"
		"  {\"name\": \"../escape.json\", \"sha256\": \"" SHA_A "\"},\n"
		"  {\"name\": \".hidden.json\", \"sha256\": \"" SHA_A "\"},\n"
		"  {\"name\": \"\", \"sha256\": \"" SHA_A "\"},\n"
		"  {\"name\": \"short.json\", \"sha256\": \"abc\"},\n"
		"  {\"name\": \"upper.json\", \"sha256\": \"" SHA_A "\"},\n"
		"  {\"name\": \"upper.json\", \"sha256\": \"" SHA_B "\"},\n"
		"  {\"name\": 7, \"sha256\": \"" SHA_A "\"},\n"
		"  {\"name\": \"nosha.json\"},\n"
		"  {\"name\": \"caps.json\", \"sha256\": "
		"\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},\n"
		"  \"not an object\"\n"
		" ],\n"
		" \"apparmor\": [{\"name\": \"usr.bin.foo\", \"sha256\": \"" SHA_C "\"}]\n"
		"}\n";
	struct pd_state_entry *e;

	unit_write_str(dir, "state.json", text);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(back.n, 3);
	assert_non_null(pd_state_find(&back, PD_KIND_SECCOMP, "good.json"));
	assert_non_null(pd_state_find(&back, PD_KIND_APPARMOR, "usr.bin.foo"));
	/* A name listed twice: the later entry wins. */
	e = pd_state_find(&back, PD_KIND_SECCOMP, "upper.json");
	assert_non_null(e);
	assert_string_equal(e->sha256, SHA_B);
	assert_null(pd_state_find(&back, PD_KIND_SECCOMP, "../escape.json"));
	assert_int_equal(warnings.n, 8);
	for (size_t i = 0; i < warnings.n; i++)
		assert_contains(warnings.v[i], "malformed seccomp entry");
	pd_state_clear(&back);
	pd_strv_clear(&warnings);
	pd_state_dir_free(sd);
	free(dir);
}

static void
state_load_unreadable_file_is_empty_with_a_warning(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	char *dir = state_path(tmp);
	char *path = unit_asprintf("%s/state.json", dir);
	struct pd_state back = { 0 };
	struct pd_strv warnings = { 0 };
	int fd;

	/* Over the size limit (a sparse file: nothing is read). */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PD_STATE_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(back.n, 0);
	assert_int_equal(warnings.n, 1);
	assert_contains(warnings.v[0], "unreadable");
	pd_strv_clear(&warnings);

	/* A folder where the file should be. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(back.n, 0);
	assert_int_equal(warnings.n, 1);
	assert_contains(warnings.v[0], "unreadable");
	pd_strv_clear(&warnings);
	/* NULL warnings are allowed. */
	assert_int_equal(pd_state_load(sd, &back, NULL, NULL), 0);
	pd_state_dir_free(sd);
	free(path);
	free(dir);
}

/* The compile context of the loaded policy: saved, loaded, compared and
 * copied; a malformed one is dropped (the policy is then loaded again). */
static void
state_policy_is_saved_loaded_and_compared(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	struct pd_state st = { 0 }, back = { 0 }, copy = { 0 };
	struct pd_strv warnings = { 0 };
	struct pd_state_entry *e;

	e = pd_state_put(&st, PD_KIND_APPARMOR, "pd-a", SHA_A);
	assert_string_equal(e->policy, "");
	pd_state_set_policy(e, SHA_B);
	assert_string_equal(e->policy, SHA_B);
	assert_int_equal(pd_state_save(sd, &st, NULL), 0);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(warnings.n, 0);
	assert_string_equal(pd_state_find(&back, PD_KIND_APPARMOR, "pd-a")->policy, SHA_B);
	assert_true(pd_state_equal(&st, &back));
	pd_state_copy(&copy, &st);
	assert_string_equal(pd_state_find(&copy, PD_KIND_APPARMOR, "pd-a")->policy, SHA_B);

	/* Another context is another state; a value that is not a sha256 clears it. */
	pd_state_set_policy(pd_state_find(&back, PD_KIND_APPARMOR, "pd-a"), SHA_A);
	assert_false(pd_state_equal(&st, &back));
	pd_state_set_policy(e, "../not-hex");
	assert_string_equal(e->policy, "");
	pd_state_set_policy(e, NULL);
	assert_string_equal(e->policy, "");

	pd_state_clear(&st);
	pd_state_clear(&back);
	pd_state_clear(&copy);
	pd_state_dir_free(sd);
}

static void
state_source_is_saved_loaded_and_compared(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	struct pd_state st = { 0 }, back = { 0 }, copy = { 0 };
	struct pd_strv warnings = { 0 };
	struct pd_state_entry *e;

	/* An AppArmor profile name may be a path; its source is the file. */
	e = pd_state_put(&st, PD_KIND_APPARMOR, "/usr/bin/foo", SHA_A);
	assert_non_null(e);
	assert_null(e->source);
	pd_state_set_source(e, "usr.bin.foo");
	pd_state_put(&st, PD_KIND_SECCOMP, "audit.json", SHA_B);
	assert_int_equal(pd_state_save(sd, &st, NULL), 0);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(warnings.n, 0);
	assert_int_equal(back.n, 2);
	e = pd_state_find(&back, PD_KIND_APPARMOR, "/usr/bin/foo");
	assert_non_null(e);
	assert_string_equal(e->source, "usr.bin.foo");
	assert_null(pd_state_find(&back, PD_KIND_SECCOMP, "audit.json")->source);
	assert_true(pd_state_equal(&st, &back));

	/* The source takes part in equality, and is copied. */
	pd_state_set_source(e, "other-file");
	assert_false(pd_state_equal(&st, &back));
	pd_state_set_source(e, NULL);
	assert_null(e->source);
	assert_false(pd_state_equal(&st, &back));
	assert_false(pd_state_equal(&back, &st));
	pd_state_copy(&copy, &st);
	assert_string_equal(pd_state_find(&copy, PD_KIND_APPARMOR, "/usr/bin/foo")->source,
			    "usr.bin.foo");
	assert_true(pd_state_equal(&copy, &st));

	pd_state_clear(&st);
	pd_state_clear(&back);
	pd_state_clear(&copy);
	pd_state_dir_free(sd);
}

static void
state_load_checks_names_by_kind(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	char *dir = state_path(tmp);
	struct pd_state back = { 0 };
	struct pd_strv warnings = { 0 };
	const char *text =
		"{\"version\": 1,\n"
		" \"seccomp\": [\n"
		"  {\"name\": \"ok.json\", \"sha256\": \"" SHA_A "\", \"source\": \"ok.json\"},\n"
		"  {\"name\": \"a/b.json\", \"sha256\": \"" SHA_A "\"}\n"
		" ],\n"
		" \"apparmor\": [\n"
		"  {\"name\": \"/usr/bin/foo\", \"sha256\": \"" SHA_A
		"\", \"source\": \"usr.bin.foo\"},\n"
		"  {\"name\": \".dotted\", \"sha256\": \"" SHA_B "\"},\n"
		"  {\"name\": \"bad\\u0001name\", \"sha256\": \"" SHA_A "\"},\n"
		"  {\"name\": \"bad\\nname\", \"sha256\": \"" SHA_A "\"},\n"
		"  {\"name\": \"p1\", \"sha256\": \"" SHA_A "\", \"source\": \"../x\"},\n"
		"  {\"name\": \"p2\", \"sha256\": \"" SHA_A "\", \"source\": 5},\n"
		"  {\"name\": \"p3\", \"sha256\": \"" SHA_A "\", \"source\": \".hidden\"}\n"
		" ]\n"
		"}\n";

	unit_write_str(dir, "state.json", text);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(back.n, 3);
	assert_string_equal(pd_state_find(&back, PD_KIND_SECCOMP, "ok.json")->source, "ok.json");
	assert_string_equal(pd_state_find(&back, PD_KIND_APPARMOR, "/usr/bin/foo")->source,
			    "usr.bin.foo");
	/* A leading dot is a fine AppArmor profile name, not a seccomp file name. */
	assert_non_null(pd_state_find(&back, PD_KIND_APPARMOR, ".dotted"));
	assert_null(pd_state_find(&back, PD_KIND_SECCOMP, "a/b.json"));
	assert_int_equal(warnings.n, 6);
	assert_contains(warnings.v[0], "malformed seccomp entry");
	for (size_t i = 1; i < warnings.n; i++)
		assert_contains(warnings.v[i], "malformed apparmor entry");
	pd_state_clear(&back);
	pd_strv_clear(&warnings);
	pd_state_dir_free(sd);
	free(dir);
}

/* ---- the entry set -------------------------------------------------------- */

static void
state_put_adds_and_updates(void **state)
{
	struct pd_state st = { 0 };
	struct pd_state_entry *e;
	char name[32];

	(void)state;
	assert_null(pd_state_find(&st, PD_KIND_SECCOMP, "a.json"));
	pd_state_put(&st, PD_KIND_SECCOMP, "a.json", SHA_A);
	pd_state_put(&st, PD_KIND_SECCOMP, "a.json", SHA_B);
	assert_int_equal(st.n, 1);
	e = pd_state_find(&st, PD_KIND_SECCOMP, "a.json");
	assert_non_null(e);
	assert_string_equal(e->sha256, SHA_B);
	assert_int_equal(e->kind, PD_KIND_SECCOMP);
	/* The same name under the other kind is another entry. */
	pd_state_put(&st, PD_KIND_APPARMOR, "a.json", SHA_C);
	assert_int_equal(st.n, 2);
	assert_string_equal(pd_state_find(&st, PD_KIND_APPARMOR, "a.json")->sha256, SHA_C);
	assert_string_equal(pd_state_find(&st, PD_KIND_SECCOMP, "a.json")->sha256, SHA_B);
	/* Grows past its first allocation. */
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "p%d.json", i);
		pd_state_put(&st, PD_KIND_SECCOMP, name, SHA_A);
	}
	assert_int_equal(st.n, 52);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "p%d.json", i);
		assert_non_null(pd_state_find(&st, PD_KIND_SECCOMP, name));
	}
	pd_state_clear(&st);
}

static void
state_put_copies_the_name(void **state)
{
	struct pd_state st = { 0 };
	char name[] = "a.json";

	(void)state;
	pd_state_put(&st, PD_KIND_SECCOMP, name, SHA_A);
	name[0] = 'b';
	assert_non_null(pd_state_find(&st, PD_KIND_SECCOMP, "a.json"));
	assert_null(pd_state_find(&st, PD_KIND_SECCOMP, "b.json"));
	pd_state_clear(&st);
}

static void
state_remove_drops_only_that_entry(void **state)
{
	struct pd_state st = { 0 };

	(void)state;
	pd_state_put(&st, PD_KIND_SECCOMP, "a.json", SHA_A);
	pd_state_put(&st, PD_KIND_SECCOMP, "b.json", SHA_B);
	pd_state_put(&st, PD_KIND_SECCOMP, "c.json", SHA_C);
	pd_state_put(&st, PD_KIND_APPARMOR, "b.json", SHA_A);
	pd_state_remove(&st, PD_KIND_SECCOMP, "b.json");
	assert_int_equal(st.n, 3);
	assert_null(pd_state_find(&st, PD_KIND_SECCOMP, "b.json"));
	assert_string_equal(pd_state_find(&st, PD_KIND_SECCOMP, "a.json")->sha256, SHA_A);
	assert_string_equal(pd_state_find(&st, PD_KIND_SECCOMP, "c.json")->sha256, SHA_C);
	assert_string_equal(pd_state_find(&st, PD_KIND_APPARMOR, "b.json")->sha256, SHA_A);
	/* Missing entries and the last entry. */
	pd_state_remove(&st, PD_KIND_SECCOMP, "b.json");
	pd_state_remove(&st, PD_KIND_APPARMOR, "zzz");
	assert_int_equal(st.n, 3);
	pd_state_remove(&st, PD_KIND_APPARMOR, "b.json");
	pd_state_remove(&st, PD_KIND_SECCOMP, "a.json");
	pd_state_remove(&st, PD_KIND_SECCOMP, "c.json");
	assert_int_equal(st.n, 0);
	pd_state_clear(&st);
}

static void
state_equal_ignores_order_but_not_content(void **state)
{
	struct pd_state a = { 0 }, b = { 0 };

	(void)state;
	assert_true(pd_state_equal(&a, &b));
	pd_state_put(&a, PD_KIND_SECCOMP, "x.json", SHA_A);
	pd_state_put(&a, PD_KIND_APPARMOR, "y", SHA_B);
	assert_false(pd_state_equal(&a, &b));
	assert_false(pd_state_equal(&b, &a));
	pd_state_put(&b, PD_KIND_APPARMOR, "y", SHA_B);
	pd_state_put(&b, PD_KIND_SECCOMP, "x.json", SHA_A);
	assert_true(pd_state_equal(&a, &b));
	assert_true(pd_state_equal(&b, &a));
	pd_state_put(&b, PD_KIND_SECCOMP, "x.json", SHA_C);
	assert_false(pd_state_equal(&a, &b));
	pd_state_put(&b, PD_KIND_SECCOMP, "x.json", SHA_A);
	assert_true(pd_state_equal(&a, &b));
	/* Same name and hash under another kind is a different state. */
	pd_state_remove(&b, PD_KIND_APPARMOR, "y");
	pd_state_put(&b, PD_KIND_SECCOMP, "y", SHA_B);
	assert_false(pd_state_equal(&a, &b));
	assert_false(pd_state_equal(&b, &a));
	pd_state_clear(&a);
	pd_state_clear(&b);
}

static void
state_copy_replaces_the_destination(void **state)
{
	struct pd_state src = { 0 }, dst = { 0 };

	(void)state;
	pd_state_put(&src, PD_KIND_SECCOMP, "a.json", SHA_A);
	pd_state_put(&src, PD_KIND_APPARMOR, "p", SHA_B);
	pd_state_put(&dst, PD_KIND_SECCOMP, "old.json", SHA_C);
	pd_state_copy(&dst, &src);
	assert_int_equal(dst.n, 2);
	assert_true(pd_state_equal(&src, &dst));
	assert_null(pd_state_find(&dst, PD_KIND_SECCOMP, "old.json"));
	/* A deep copy: changing the source leaves the copy alone. */
	pd_state_put(&src, PD_KIND_SECCOMP, "a.json", SHA_C);
	assert_string_equal(pd_state_find(&dst, PD_KIND_SECCOMP, "a.json")->sha256, SHA_A);
	pd_state_clear(&src);
	assert_string_equal(pd_state_find(&dst, PD_KIND_APPARMOR, "p")->sha256, SHA_B);
	pd_state_copy(&dst, &src);
	assert_int_equal(dst.n, 0);
	pd_state_clear(&dst);
}

static void
state_clear_empties_and_allows_reuse(void **state)
{
	struct pd_state st = { 0 };

	(void)state;
	pd_state_put(&st, PD_KIND_SECCOMP, "a.json", SHA_A);
	pd_state_clear(&st);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.cap, 0);
	assert_null(st.v);
	assert_null(pd_state_find(&st, PD_KIND_SECCOMP, "a.json"));
	pd_state_clear(&st);
	pd_state_put(&st, PD_KIND_SECCOMP, "b.json", SHA_B);
	assert_int_equal(st.n, 1);
	pd_state_clear(&st);
}

/* The label domains the agent used: saved, loaded, compared, copied; only
 * valid domains are read back, and the oldest goes past the limit. */
static void
state_records_label_domains(void **state)
{
	const char *tmp = *state;
	struct pd_state_dir *sd = open_state(tmp);
	struct pd_state st = { 0 }, back = { 0 }, copy = { 0 };
	struct pd_strv warnings = { 0 };
	char *path = unit_asprintf("%s/state/state.json", tmp);
	char name[32];
	FILE *f;

	assert_true(pd_state_add_domain(&st, "profiled.io"));
	assert_false(pd_state_add_domain(&st, "profiled.io"));
	assert_true(pd_state_add_domain(&st, "nodes.example.com"));
	assert_int_equal(pd_state_save(sd, &st, NULL), 0);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(warnings.n, 0);
	assert_int_equal(back.domains.n, 2);
	assert_string_equal(back.domains.v[0], "profiled.io");
	assert_string_equal(back.domains.v[1], "nodes.example.com");
	assert_true(pd_state_equal(&st, &back));
	pd_state_copy(&copy, &st);
	assert_true(pd_state_equal(&copy, &st));
	pd_state_add_domain(&copy, "third.example");
	assert_false(pd_state_equal(&copy, &st));
	pd_state_clear(&back);

	/* hand-written domains that are not DNS subdomains are dropped */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"version\":1,\"seccomp\":[],\"apparmor\":[],\"label_domains\":"
	      "[\"profiled.io\",\"kubernetes.io/\",7,\"\",\"Upper.Case\"]}",
	      f);
	fclose(f);
	assert_int_equal(pd_state_load(sd, &back, &warnings, NULL), 0);
	assert_int_equal(back.domains.n, 1);
	assert_string_equal(back.domains.v[0], "profiled.io");
	assert_int_equal(warnings.n, 4);
	pd_strv_clear(&warnings);

	/* bounded: the oldest is forgotten */
	for (int i = 0; i < PD_STATE_MAX_DOMAINS + 3; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		pd_state_add_domain(&back, name);
	}
	assert_int_equal(back.domains.n, PD_STATE_MAX_DOMAINS);
	assert_null(back.domains.v[PD_STATE_MAX_DOMAINS]);
	assert_false(pd_strv_contains(&back.domains, "profiled.io"));
	assert_true(pd_strv_contains(&back.domains, "d10.example"));

	free(path);
	pd_state_clear(&st);
	pd_state_clear(&back);
	pd_state_clear(&copy);
	pd_state_dir_free(sd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_test_tmp(state_dir_open_creates_the_folder_and_records_the_pid),
		unit_test_tmp(state_dir_second_open_fails_and_names_the_holder),
		unit_test_tmp(state_dir_open_reports_an_unusable_folder),
		unit_test_tmp(state_save_then_load_round_trips),
		unit_test_tmp(state_save_and_load_an_empty_state),
		unit_test_tmp(state_load_missing_file_is_empty_without_warning),
		unit_test_tmp(state_load_corrupt_file_is_empty_with_a_warning),
		unit_test_tmp(state_load_drops_malformed_entries_and_keeps_the_rest),
		unit_test_tmp(state_load_unreadable_file_is_empty_with_a_warning),
		unit_test_tmp(state_source_is_saved_loaded_and_compared),
		unit_test_tmp(state_policy_is_saved_loaded_and_compared),
		unit_test_tmp(state_load_checks_names_by_kind),
		cmocka_unit_test(state_put_adds_and_updates),
		cmocka_unit_test(state_put_copies_the_name),
		cmocka_unit_test(state_remove_drops_only_that_entry),
		cmocka_unit_test(state_equal_ignores_order_but_not_content),
		cmocka_unit_test(state_copy_replaces_the_destination),
		cmocka_unit_test(state_clear_empties_and_allows_reuse),
		unit_test_tmp(state_records_label_domains),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
