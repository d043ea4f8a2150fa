/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/aaproof.c: finding a loaded profile's policy data in an apparmorfs
 * laid out as Linux 6.1 lays it out (checked on the real kernel by
 * test/vm/trust-guest.sh): policy/profiles/<mangled>.<n>/{name,raw_data},
 * raw_data a link to ../../raw_data/<k>/raw_data shared by the profiles of
 * one load, children under <dir>/profiles/.
 */
#include "unit.h"

#include "../../lib/aaproof.h"

static const char blob1[] = "\x04\x08\x00version\x00\x02\x04\x00\x00\x00one load";
static const char blob2[] = "another load, other bytes";

static void
mkdirs(const char *tmp, const char *rel)
{
	char *path = unit_asprintf("%s/%s", tmp, rel);
	char *cmd = unit_asprintf("mkdir -p '%s'", path);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

/* profile folder `dir` named `name`, its raw_data a link to raw_data/<k> */
static void
profile(const char *tmp, const char *dir, const char *name, const char *k)
{
	char *d = unit_asprintf("%s/policy/profiles/%s", tmp, dir);
	char *nl = unit_asprintf("%s\n", name);

	mkdirs(tmp, "policy/profiles");
	mkdirs(d, "");
	unit_write_str(d, "name", nl);
	if (k != NULL) {
		char *link = unit_asprintf("%s/raw_data", d);
		char *target = unit_asprintf("%s/policy/raw_data/%s/raw_data", tmp, k);

		assert_int_equal(symlink(target, link), 0);
		free(link);
		free(target);
	}
	free(d);
	free(nl);
}

static void
layout(const char *tmp)
{
	char *r0 = unit_asprintf("%s/policy/raw_data/0", tmp);
	char *r1 = unit_asprintf("%s/policy/raw_data/1", tmp);

	mkdirs(tmp, "policy/raw_data/0");
	mkdirs(tmp, "policy/raw_data/1");
	unit_write(r0, "raw_data", blob1, sizeof(blob1) - 1);
	unit_write(r1, "raw_data", blob2, sizeof(blob2) - 1);
	profile(tmp, "pd-x.1", "pd-x", "0");
	profile(tmp, "pd-y.2", "pd-y", "0"); /* same load as pd-x */
	profile(tmp, "usr.sbin.daemon.3", "/usr/sbin/daemon", "1");
	profile(tmp, "pd-x.1/profiles/hat.4", "pd-x//hat", "0");
	profile(tmp, "noraw.5", "noraw", NULL);
	free(r0);
	free(r1);
}

static void
raw_sha256_is_the_hash_of_the_loaded_blob(void **state)
{
	const char *tmp = *state;
	char got[PD_SHA256_HEX_LEN + 1], want1[PD_SHA256_HEX_LEN + 1], want2[PD_SHA256_HEX_LEN + 1];

	layout(tmp);
	pd_sha256_hex(blob1, sizeof(blob1) - 1, want1);
	pd_sha256_hex(blob2, sizeof(blob2) - 1, want2);
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "pd-x", got, NULL), 0);
	assert_string_equal(got, want1);
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "pd-y", got, NULL), 0);
	assert_string_equal(got, want1);
	/* found by the kernel's name file, not the mangled folder name */
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "/usr/sbin/daemon", got, NULL), 0);
	assert_string_equal(got, want2);
	/* a child profile */
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "pd-x//hat", got, NULL), 0);
	assert_string_equal(got, want1);
}

static void
missing_profile_or_data_is_an_error_and_out_untouched(void **state)
{
	const char *tmp = *state;
	char got[PD_SHA256_HEX_LEN + 1] = "untouched";
	pd_error_t err = NULL;

	/* no policy folder at all (an old kernel, or the plain stand-in) */
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "pd-x", got, &err), -ENODATA);
	assert_contains(pd_error_msg(err), "no policy folder");
	pd_error_release(&err);
	layout(tmp);
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "pd-z", got, &err), -ENOENT);
	assert_contains(pd_error_msg(err), "`pd-z`");
	pd_error_release(&err);
	/* names are whole: a prefix or the folder name does not match */
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "pd-", got, NULL), -ENOENT);
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "usr.sbin.daemon", got, NULL), -ENOENT);
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "pd-x//other", got, NULL), -ENOENT);
	/* export_binary off: the profile is there, its data is not */
	assert_int_equal(pd_aa_loaded_raw_sha256(tmp, "noraw", got, &err), -ENODATA);
	assert_contains(pd_error_msg(err), "export_binary");
	pd_error_release(&err);
	assert_string_equal(got, "untouched");
}

static void
binary_sha256_hashes_the_file(void **state)
{
	const char *tmp = *state;
	char *path = unit_asprintf("%s/bin", tmp);
	char got[PD_SHA256_HEX_LEN + 1], want[PD_SHA256_HEX_LEN + 1];
	pd_error_t err = NULL;

	unit_write(tmp, "bin", blob1, sizeof(blob1) - 1);
	pd_sha256_hex(blob1, sizeof(blob1) - 1, want);
	assert_int_equal(pd_aa_binary_sha256(path, got, NULL), 0);
	assert_string_equal(got, want);
	free(path);
	path = unit_asprintf("%s/none", tmp);
	assert_int_equal(pd_aa_binary_sha256(path, got, &err), -ENOENT);
	assert_contains(pd_error_msg(err), "none");
	pd_error_release(&err);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_test_tmp(raw_sha256_is_the_hash_of_the_loaded_blob),
		unit_test_tmp(missing_profile_or_data_is_an_error_and_out_untouched),
		unit_test_tmp(binary_sha256_hashes_the_file),
	};

	return cmocka_run_group_tests_name("aaproof", tests, NULL, NULL);
}
