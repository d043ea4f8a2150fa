/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/seccomp.c: the bounds on what a profile may ask for, the merging of
 * duplicate rules, rules runc would refuse, the kernel's filter length,
 * the cap on findings, and stopping a compile through the cancel hook.
 */
#include "unit.h"

#include <poll.h>
#include <seccomp.h>

#include "../../lib/seccomp.h"

static struct pd_seccomp_env native;

static int
group_setup(void **state)
{
	(void)state;
	return pd_seccomp_env_native(&native, NULL) < 0 ? -1 : 0;
}

/* A growing JSON text. */
struct buf {
	char *s;
	size_t len;
	FILE *f;
};

static void
buf_open(struct buf *b)
{
	b->s = NULL;
	b->len = 0;
	b->f = open_memstream(&b->s, &b->len);
	assert_non_null(b->f);
}

static char *
buf_close(struct buf *b)
{
	assert_int_equal(fclose(b->f), 0);
	return b->s;
}

/* `{"names": [NAME x n], "action": ACTION}` */
static void
put_rule(FILE *f, const char *name, size_t n, const char *action)
{
	fputs("{\"names\":[", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", name);
	fprintf(f, "],\"action\":\"%s\"}", action);
}

/* The personality rule `arg0 == value` with action. */
static void
put_cond_rule(FILE *f, unsigned long value, const char *action)
{
	fprintf(f,
		"{\"names\":[\"personality\"],\"action\":\"%s\","
		"\"args\":[{\"index\":0,\"value\":%lu,\"op\":\"SCMP_CMP_EQ\"}]}",
		action, value);
}

/* A profile of n personality conditions (one entry each), default ALLOW. */
static char *
conds_profile(size_t n, const char *arches)
{
	struct buf b;

	buf_open(&b);
	fprintf(b.f, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",%s\"syscalls\":[", arches);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', b.f);
		put_cond_rule(b.f, 1000000 + i, "SCMP_ACT_ERRNO");
	}
	fputs("]}", b.f);
	return buf_close(&b);
}

/* Validates json; returns the result and copies the message (or ""). */
static int
validate(const char *json, const struct pd_seccomp_env *env, struct pd_strv *warnings, char *msg,
	 size_t size)
{
	pd_error_t err = NULL;
	int ret = pd_seccomp_validate(json, strlen(json), env, warnings, &err);

	snprintf(msg, size, "%s", ret < 0 ? pd_error_msg(err) : "");
	pd_error_release(&err);
	return ret;
}

static void
expect_error(const char *json, int errno_, const char *want)
{
	char msg[512];
	int ret = validate(json, &native, NULL, msg, sizeof(msg));

	if (ret != -errno_ || strcmp(msg, want) != 0)
		fail_msg("want -%d \"%s\", got %d \"%s\"", errno_, want, ret, msg);
}

static void
expect_ok(const char *json)
{
	char msg[512];

	if (validate(json, &native, NULL, msg, sizeof(msg)) < 0)
		fail_msg("rejected: %s", msg);
}

/* ---- bounds, each naming the JSON path ------------------------------------ */

static void
names_of_one_entry_are_bounded(void **state)
{
	struct buf b;
	char *ok, *over;

	(void)state;
	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[", b.f);
	put_rule(b.f, "read", PD_SECCOMP_MAX_NAMES, "SCMP_ACT_ALLOW");
	fputs("]}", b.f);
	ok = buf_close(&b);
	expect_ok(ok); /* 4096 copies of one name: merged into one rule */

	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":\"SCMP_ACT_LOG\"},",
	      b.f);
	put_rule(b.f, "read", PD_SECCOMP_MAX_NAMES + 1, "SCMP_ACT_ALLOW");
	fputs("]}", b.f);
	over = buf_close(&b);
	expect_error(over, E2BIG, "`syscalls[1].names` has 4097 entries, over the limit of 4096");
	free(ok);
	free(over);
}

static void
entries_and_names_in_all_are_bounded(void **state)
{
	struct buf b;
	char *entries, *total;

	(void)state;
	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[", b.f);
	for (size_t i = 0; i <= PD_SECCOMP_MAX_RULES; i++) {
		fputs(i ? "," : "", b.f);
		put_rule(b.f, "read", 1, "SCMP_ACT_ALLOW");
	}
	fputs("]}", b.f);
	entries = buf_close(&b);
	expect_error(entries, E2BIG, "`syscalls` has 4097 entries, over the limit of 4096");

	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[", b.f);
	for (size_t i = 0; i < 3; i++) {
		fputs(i ? "," : "", b.f);
		put_rule(b.f, "write", 3000, "SCMP_ACT_ALLOW");
	}
	fputs("]}", b.f);
	total = buf_close(&b);
	expect_error(total, E2BIG,
		     "`syscalls[2].names`: the profile names more than 8192 syscalls in all");
	free(entries);
	free(total);
}

static void
lists_are_bounded(void **state)
{
	struct buf b;
	char *arches, *caps, *subs;

	(void)state;
	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[", b.f);
	for (size_t i = 0; i <= PD_SECCOMP_MAX_LIST; i++)
		fprintf(b.f, "%s\"SCMP_ARCH_X86\"", i ? "," : "");
	fputs("]}", b.f);
	arches = buf_close(&b);
	expect_error(arches, E2BIG, "`architectures` has 65 entries, over the limit of 64");

	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
	      "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[",
	      b.f);
	for (size_t i = 0; i <= PD_SECCOMP_MAX_LIST; i++)
		fprintf(b.f, "%s\"CAP_SYS_ADMIN\"", i ? "," : "");
	fputs("]}}]}", b.f);
	caps = buf_close(&b);
	expect_error(caps, E2BIG,
		     "`syscalls[0].includes.caps` has 65 entries, over the limit of 64");

	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"architecture\":"
	      "\"SCMP_ARCH_X86_64\",\"subArchitectures\":[",
	      b.f);
	for (size_t i = 0; i <= PD_SECCOMP_MAX_LIST; i++)
		fprintf(b.f, "%s\"SCMP_ARCH_X86\"", i ? "," : "");
	fputs("]}]}", b.f);
	subs = buf_close(&b);
	expect_error(subs, E2BIG,
		     "`archMap[0].subArchitectures` has 65 entries, over the limit of 64");
	free(arches);
	free(caps);
	free(subs);
}

/* 1,366 rules for each of x86_64, x86 and x32 make 4,098: over the bound
 * before libseccomp does any work; 1,365 (4,095) compile. */
static void
rules_per_filter_are_bounded_per_architecture(void **state)
{
	const char *three = "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\","
			    "\"SCMP_ARCH_X32\",\"SCMP_ARCH_X86\"],";
	char *over, *ok;

	(void)state;
	if (native.native_arch != SCMP_ARCH_X86_64)
		skip();
	over = conds_profile(1366, three);
	ok = conds_profile(1365, three);
	expect_error(
		over, E2BIG,
		"without capabilities: `syscalls`: the filter needs 1366 rules for each of 3 architectures (duplicates merged), over the limit of 4096 in all");
	expect_ok(ok);
	free(over);
	free(ok);
}

/* ---- merging, and what libseccomp and runc refuse ------------------------- */

static void
duplicate_rules_are_merged(void **state)
{
	struct buf b;
	char *json;

	(void)state;
	/* 2,000 conditions, each given three times (a name twice, then with
	 * a valueTwo that EQ ignores): 6,000 rules before merging, over the
	 * bound of 4,096; 2,000 after.  (Arguments given in another order are
	 * the same match too: see the next test.) */
	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[", b.f);
	for (size_t i = 0; i < 2000; i++)
		fprintf(b.f,
			"%s{\"names\":[\"setns\",\"setns\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":["
			"{\"index\":0,\"value\":%zu,\"op\":\"SCMP_CMP_EQ\"}]},"
			"{\"names\":[\"setns\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":["
			"{\"index\":0,\"value\":%zu,\"op\":\"SCMP_CMP_EQ\",\"valueTwo\":9}]}",
			i ? "," : "", i, i);
	fputs("]}", b.f);
	json = buf_close(&b);
	expect_ok(json);
	free(json);
}

static void
same_match_with_another_action_is_refused_as_runc_does(void **state)
{
	const char *conflict =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},{\"index\":2,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]},"
		"{\"names\":[\"read\"],\"action\":\"SCMP_ACT_LOG\"},"
		"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[{\"index\":2,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]}";
	/* Without arguments libseccomp keeps the first action and so does
	 * runc (containers-common's profile has such a pair). */
	const char *plain = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
			    "{\"names\":[\"setns\"],\"action\":\"SCMP_ACT_ALLOW\"},"
			    "{\"names\":[\"setns\"],\"action\":\"SCMP_ACT_LOG\"}]}";

	(void)state;
	expect_error(
		conflict, EEXIST,
		"without capabilities: `syscalls[2]`: syscall \"personality\" has the same arguments as in `syscalls[0]` but another action; libseccomp refuses that, and so does runc");
	expect_ok(plain);
}

/* ---- the kernel's limit on one filter ------------------------------------- */

static void
filter_over_the_kernel_limit_is_refused_with_its_length(void **state)
{
	struct buf b;
	char *json;
	char msg[512];
	static const char *const names[] = { "read",  "write", "openat",   "close",  "fstat",
					     "lseek", "mmap",  "mprotect", "munmap", "brk" };

	(void)state;
	/* 300 entries of 10 syscalls, six conditions ANDed: 3,000 rules,
	 * within the bound, but far more than 4,096 instructions. */
	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[", b.f);
	for (size_t i = 0; i < 300; i++) {
		fprintf(b.f, "%s{\"names\":[", i ? "," : "");
		for (size_t k = 0; k < ARRAY_SIZE(names); k++)
			fprintf(b.f, "%s\"%s\"", k ? "," : "", names[k]);
		fputs("],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[", b.f);
		for (size_t k = 0; k < 6; k++)
			fprintf(b.f, "%s{\"index\":%zu,\"value\":%zu,\"op\":\"SCMP_CMP_EQ\"}",
				k ? "," : "", k, i * 6 + k);
		fputs("]}", b.f);
	}
	fputs("]}", b.f);
	json = buf_close(&b);
	assert_int_equal(validate(json, &native, NULL, msg, sizeof(msg)), -E2BIG);
	assert_contains(msg, "without capabilities: the filter is ");
	assert_contains(msg, " BPF instructions, the kernel's limit is 4096 (");
	if (native.native_arch == SCMP_ARCH_X86_64)
		assert_contains(msg, "limit is 4096 (x86_64)");
	free(json);
}

/* 130 entries of six 64-bit conditions, default def, archMap for x86_64. */
static char *
archmap_profile(const char *def)
{
	static const char *const names[] = { "read",  "write", "openat",   "close",  "fstat",
					     "lseek", "mmap",  "mprotect", "munmap", "brk" };
	struct buf b;

	buf_open(&b);
	fprintf(b.f,
		"{\"defaultAction\":\"%s\",\"archMap\":["
		"{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},"
		"{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":"
		"[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]}],\"syscalls\":[",
		def);
	for (unsigned long i = 0; i < 130; i++) {
		fprintf(b.f, "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_LOG\",\"args\":[",
			i ? "," : "", names[i % ARRAY_SIZE(names)]);
		for (unsigned long k = 0; k < 6; k++)
			fprintf(b.f, "%s{\"index\":%lu,\"value\":%lu,\"op\":\"SCMP_CMP_EQ\"}",
				k ? "," : "", k, ((i * 6 + k + 1) << 33) + i * 6 + k);
		fputs("]}", b.f);
	}
	fputs("]}", b.f);
	return buf_close(&b);
}

/* runc's -ENOSYS stub with default ERRNO: 4, plus 6 for x86_64 with x32,
 * plus 4 for x86 (the node's archMap entry); none with default ALLOW.  The
 * consumer test proves the count against runc. */
static void
runc_stub_is_counted_for_the_architectures_runc_gets(void **state)
{
	char *errno_def = archmap_profile("SCMP_ACT_ERRNO");
	char *allow_def = archmap_profile("SCMP_ACT_ALLOW");
	char msg[512];

	(void)state;
	if (native.native_arch != SCMP_ARCH_X86_64)
		skip();
	assert_int_equal(validate(errno_def, &native, NULL, msg, sizeof(msg)), -E2BIG);
	assert_contains(msg, " BPF instructions with the 14 runc adds, the kernel's limit is 4096 "
			     "(x86_64, x86, x32)");
	assert_int_equal(validate(allow_def, &native, NULL, msg, sizeof(msg)), -E2BIG);
	assert_contains(msg, " BPF instructions, the kernel's limit is 4096 (x86_64, x86, x32)");
	free(errno_def);
	free(allow_def);
}

/* ---- findings and cancellation -------------------------------------------- */

static void
findings_are_capped(void **state)
{
	struct buf b;
	struct pd_strv warnings = { 0 };
	char *json, msg[512];

	(void)state;
	buf_open(&b);
	fputs("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[", b.f);
	for (size_t i = 0; i < 100; i++)
		fprintf(b.f, "%s\"nosuchcall%zu\"", i ? "," : "", i);
	fputs("],\"action\":\"SCMP_ACT_ALLOW\"}]}", b.f);
	json = buf_close(&b);
	assert_int_equal(validate(json, &native, &warnings, msg, sizeof(msg)), 0);
	assert_int_equal(warnings.n, PD_SECCOMP_MAX_WARNINGS + 1);
	assert_contains(warnings.v[0], "unknown syscall \"nosuchcall0\"");
	assert_string_equal(warnings.v[PD_SECCOMP_MAX_WARNINGS], "68 more findings not listed");
	pd_strv_clear(&warnings);
	free(json);
}

struct stopper {
	bool stop;
	unsigned calls;
};

static bool
ask(void *arg)
{
	struct stopper *s = arg;

	s->calls++;
	return s->stop;
}

static void
cancel_stops_a_compile(void **state)
{
	struct stopper st = { .stop = true };
	struct pd_spawn_cancel cancel = { .fn = ask, .arg = &st };
	struct pd_seccomp_env env = native;
	char *json = conds_profile(500, "");
	char msg[512];
	int fds[2];

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	cancel.fd = fds[0];
	env.cancel = &cancel;
	/* Nothing pending: fn is not even asked. */
	assert_int_equal(validate(json, &env, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(st.calls, 0);
	/* Pending, and fn says stop: -ECANCELED, not a rejection. */
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(validate(json, &env, NULL, msg, sizeof(msg)), -ECANCELED);
	assert_string_equal(msg, "stopped: shutting down");
	assert_int_equal(st.calls, 1);
	/* Pending, but fn says go on (a SIGHUP): the compile completes. */
	st.stop = false;
	assert_int_equal(validate(json, &env, NULL, msg, sizeof(msg)), 0);
	assert_true(st.calls > 1);
	close(fds[0]);
	close(fds[1]);
	free(json);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_of_one_entry_are_bounded),
		cmocka_unit_test(entries_and_names_in_all_are_bounded),
		cmocka_unit_test(lists_are_bounded),
		cmocka_unit_test(rules_per_filter_are_bounded_per_architecture),
		cmocka_unit_test(duplicate_rules_are_merged),
		cmocka_unit_test(same_match_with_another_action_is_refused_as_runc_does),
		cmocka_unit_test(filter_over_the_kernel_limit_is_refused_with_its_length),
		cmocka_unit_test(runc_stub_is_counted_for_the_architectures_runc_gets),
		cmocka_unit_test(findings_are_capped),
		cmocka_unit_test(cancel_stops_a_compile),
	};

	return cmocka_run_group_tests_name("seccomp limits", tests, group_setup, NULL);
}
