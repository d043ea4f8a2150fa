/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/seccomp.c on the node's own architecture, whichever it is (make
 * test-arm64 runs this file as an arm64 program): the native architecture
 * is the one profiled was built for, archMap picks that entry, and the
 * filter length the kernel limit is checked against is what libseccomp
 * exports for the same rules.
 */
#include "unit.h"

#include <seccomp.h>
#include <sys/mman.h>

#include "../../lib/seccomp.h"

static struct pd_seccomp_env native;

static int
group_setup(void **state)
{
	(void)state;
	return pd_seccomp_env_native(&native, NULL) < 0 ? -1 : 0;
}

/* The build's architecture: libseccomp's token, its profile name, and the
 * names of the archMap entry this test gives it. */
#if defined(__aarch64__)
#define NATIVE_TOKEN SCMP_ARCH_AARCH64
#define NATIVE_NAME  "SCMP_ARCH_AARCH64"
#define NATIVE_SHORT "aarch64"
#define NATIVE_LIST  "(aarch64, arm)"
#elif defined(__x86_64__)
#define NATIVE_TOKEN SCMP_ARCH_X86_64
#define NATIVE_NAME  "SCMP_ARCH_X86_64"
#define NATIVE_SHORT "x86_64"
#define NATIVE_LIST  "(x86_64, x86, x32)"
#else
#error "test_seccomp_native: add this architecture"
#endif

static const char *const names[] = { "read",  "write", "openat", "close",    "fstat",
				     "lseek", "mmap",  "munmap", "mprotect", "brk" };

static unsigned long
cond_value(size_t i, size_t k)
{
	return ((unsigned long)(i * 6 + k + 1) << 33) + i * 6 + k;
}

/* n entries of six 64-bit conditions, action LOG, default ALLOW (no runc
 * stub), and the given architectures clause. */
static char *
long_profile(const char *arches, size_t n)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	assert_non_null(f);
	fprintf(f, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",%s\"syscalls\":[", arches);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[",
			i ? "," : "", names[i % ARRAY_SIZE(names)]);
		for (size_t k = 0; k < 6; k++)
			fprintf(f, "%s{\"index\":%zu,\"value\":%lu,\"op\":\"SCMP_CMP_EQ\"}",
				k ? "," : "", k, cond_value(i, k));
		fputs("]}", f);
	}
	fputs("]}", f);
	assert_int_equal(fclose(f), 0);
	return s;
}

/* The same rules built with libseccomp directly, for the native
 * architecture only: the exported filter's length in instructions. */
static size_t
libseccomp_length(size_t n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int fd = memfd_create("test-bpf", MFD_CLOEXEC);
	off_t size;

	assert_non_null(ctx);
	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++) {
		struct scmp_arg_cmp c[6];

		for (unsigned k = 0; k < 6; k++)
			c[k] = (struct scmp_arg_cmp){ k, SCMP_CMP_EQ, cond_value(i, k), 0 };
		assert_int_equal(seccomp_rule_add_array(
					 ctx, SCMP_ACT_LOG,
					 seccomp_syscall_resolve_name(names[i % ARRAY_SIZE(names)]),
					 6, c),
				 0);
	}
	assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
	size = lseek(fd, 0, SEEK_CUR);
	assert_true(size > 0);
	close(fd);
	seccomp_release(ctx);
	return (size_t)size / 8;
}

static int
validate(const char *json, char *msg, size_t size)
{
	pd_error_t err = NULL;
	int ret = pd_seccomp_validate(json, strlen(json), &native, NULL, &err);

	snprintf(msg, size, "%s", ret < 0 ? pd_error_msg(err) : "");
	pd_error_release(&err);
	return ret;
}

static void
native_architecture_is_the_one_built_for(void **state)
{
	(void)state;
	assert_int_equal(native.native_arch, NATIVE_TOKEN);
	assert_int_equal(seccomp_arch_native(), NATIVE_TOKEN);
}

/* A profile that names only the node's architecture compiles; its filter's
 * length, as the error over the kernel's limit states it, is libseccomp's
 * own export of the same rules. */
static void
filter_length_is_libseccomp_export_for_the_native_architecture(void **state)
{
	char *json = long_profile("\"architectures\":[\"" NATIVE_NAME "\"],", 200);
	char msg[512], want[128];
	size_t n;

	(void)state;
	/* profiled first: in the emulator test builds it sets libseccomp's API
	 * level (SCMP_ACT_LOG needs 3), which this process shares. */
	assert_int_equal(validate(json, msg, sizeof(msg)), -E2BIG);
	n = libseccomp_length(200);
	assert_true(n > PD_SECCOMP_MAX_INSNS);
	snprintf(
		want, sizeof(want),
		"without capabilities: the filter is %zu BPF instructions, the kernel's limit is 4096 (" NATIVE_SHORT
		")",
		n);
	assert_string_equal(msg, want);
	free(json);
}

/* archMap: the node's entry with its sub-architectures is the one used,
 * whatever the order of the entries. */
static void
archmap_uses_the_native_entry(void **state)
{
	static const char *const maps[] = {
		"\"archMap\":[{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},"
		"{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]}],",
		"\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]},"
		"{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]}],",
	};
	char msg[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		char *json = long_profile(maps[i], 130);

		assert_int_equal(validate(json, msg, sizeof(msg)), -E2BIG);
		assert_contains(msg, " BPF instructions, the kernel's limit is 4096 " NATIVE_LIST);
		free(json);
	}
}

/* A small profile listing aarch64 and arm, the kubelet's arm64 nodes'
 * usual clause, is valid on any node. */
static void
aarch64_listing_profile_is_valid(void **state)
{
	const char *json = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":"
			   "[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"],\"syscalls\":[{\"names\":"
			   "[\"read\",\"write\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
	char msg[512];

	(void)state;
	assert_int_equal(validate(json, msg, sizeof(msg)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(native_architecture_is_the_one_built_for),
		cmocka_unit_test(filter_length_is_libseccomp_export_for_the_native_architecture),
		cmocka_unit_test(archmap_uses_the_native_entry),
		cmocka_unit_test(aarch64_listing_profile_is_valid),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
