/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/seccomp.c: parsing and compiling seccomp profiles in the runtimes'
 * JSON format, with errors that name the JSON path or the line and column.
 */
#include "unit.h"

#include <cjson/cJSON.h>
#include <seccomp.h>

#include "../../lib/seccomp.h"

static struct pd_seccomp_env native;

static int
group_setup(void **state)
{
	pd_error_t err = NULL;

	(void)state;
	if (pd_seccomp_env_native(&native, &err) < 0) {
		print_error("pd_seccomp_env_native: %s\n", pd_error_msg(err));
		pd_error_release(&err);
		return -1;
	}
	return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* A NUL-terminated copy of buf[0..len), as the scanner hands it over. */
static char *
copy_buf(const char *buf, size_t len)
{
	char *c = malloc(len + 1);

	assert_non_null(c);
	memcpy(c, buf, len);
	c[len] = '\0';
	return c;
}

static void
validate_ok_env(const char *json, const struct pd_seccomp_env *env, struct pd_strv *warnings)
{
	pd_error_t err = NULL;

	if (pd_seccomp_validate(json, strlen(json), env, warnings, &err) < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", pd_error_msg(err));
		pd_error_release(&err);
		pd_strv_clear(warnings);
		fail_msg("rejected: %s\nprofile: %s", msg, json);
	}
	assert_null(err);
}

static void
validate_ok(const char *json, struct pd_strv *warnings)
{
	validate_ok_env(json, &native, warnings);
}

/* Validates buf[0..len); wants -errno_ and exactly the message want. */
static void
validate_len_fails(const char *buf, size_t len, int errno_, const char *want)
{
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;
	char *copy = copy_buf(buf, len);
	char msg[512];
	int ret;

	ret = pd_seccomp_validate(copy, len, &native, &warnings, &err);
	free(copy);
	pd_strv_clear(&warnings);
	snprintf(msg, sizeof(msg), "%s", pd_error_msg(err));
	pd_error_release(&err);
	if (ret != -errno_ || strcmp(msg, want) != 0)
		fail_msg("got %d \"%s\"\nwant %d \"%s\"", ret, msg, -errno_, want);
}

static void
validate_fails(const char *json, int errno_, const char *want)
{
	validate_len_fails(json, strlen(json), errno_, want);
}

static bool
warned_about(const struct pd_strv *w, const char *needle)
{
	for (size_t i = 0; i < w->n; i++)
		if (strstr(w->v[i], needle) != NULL)
			return true;
	return false;
}

static struct pd_seccomp *
parse_ok(const char *json, struct pd_strv *warnings)
{
	struct pd_seccomp *p = NULL;
	pd_error_t err = NULL;

	if (pd_seccomp_parse(json, strlen(json), &p, warnings, &err) < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", pd_error_msg(err));
		pd_error_release(&err);
		fail_msg("rejected: %s\nprofile: %s", msg, json);
	}
	assert_non_null(p);
	return p;
}

static char *
read_profile(const char *path, size_t *len)
{
	return unit_read(path, len);
}

/* ---- real-world profiles -------------------------------------------------- */

static void
kubernetes_tutorial_profiles_are_accepted(void **state)
{
	static const struct {
		const char *file;
		const char *def;
		size_t rules;
	} fixtures[] = {
		{ "audit.json", "SCMP_ACT_LOG", 0 },
		{ "violation.json", "SCMP_ACT_ERRNO", 0 },
		{ "fine-grained.json", "SCMP_ACT_ERRNO", 1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		char *path = unit_fixture_path(fixtures[i].file);
		struct pd_strv warnings = { 0 };
		struct pd_seccomp *p;
		char *buf;
		size_t len;

		if (path == NULL) {
			const char *base = getenv("PROFILED_FIXTURES");

			print_message("fixture %s not found under %s (kubernetes-docs/seccomp/): "
				      "skipped\n",
				      fixtures[i].file,
				      base != NULL && base[0] != '\0' ? base
								      : "test/data/fixtures");
			skip();
		}
		buf = read_profile(path, &len);
		p = parse_ok(buf, &warnings);
		assert_string_equal(pd_seccomp_default_action(p), fixtures[i].def);
		assert_int_equal(pd_seccomp_rule_count(p), fixtures[i].rules);
		pd_seccomp_free(p);
		validate_ok(buf, &warnings);
		if (warnings.n != 0)
			fail_msg("%s: unexpected warning: %s", fixtures[i].file, warnings.v[0]);
		pd_strv_clear(&warnings);
		free(buf);
		free(path);
	}
}

static void
container_engine_profiles_are_accepted(void **state)
{
	char *dir = unit_data_path("seccomp/engines");
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t seen = 0;
	bool saw_old_format = false, saw_moby_default = false;

	(void)state;
	if (d == NULL)
		fail_msg("opendir(%s): %s (set PROFILED_TEST_DATA)", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), len;
		struct pd_strv warnings = { 0 };
		struct pd_seccomp *p;
		cJSON *root;
		char *path, *buf;

		if (n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		path = unit_asprintf("%s/%s", dir, de->d_name);
		buf = read_profile(path, &len);
		validate_ok(buf, &warnings);
		print_message("%s: accepted, %zu warning(s)\n", de->d_name, warnings.n);

		/* What the parser read matches what cJSON sees in the file. */
		root = cJSON_Parse(buf);
		assert_non_null(root);
		p = parse_ok(buf, NULL);
		assert_string_equal(pd_seccomp_default_action(p),
				    cJSON_GetObjectItem(root, "defaultAction")->valuestring);
		assert_int_equal(pd_seccomp_rule_count(p),
				 cJSON_GetArraySize(cJSON_GetObjectItem(root, "syscalls")));
		pd_seccomp_free(p);
		cJSON_Delete(root);

		if (strcmp(de->d_name, "moby-default.json") == 0) {
			/* See test/data/seccomp/engines/README.md. */
			saw_moby_default = true;
			assert_true(warned_about(&warnings, "\"mips3l64n32\""));
		}
		saw_old_format |= strcmp(de->d_name, "moby-default-old-format.json") == 0;
		pd_strv_clear(&warnings);
		free(buf);
		free(path);
		seen++;
	}
	closedir(d);
	free(dir);
	assert_true(seen >= 5);
	assert_true(saw_old_format);
	assert_true(saw_moby_default);
}

/* ---- what is accepted ----------------------------------------------------- */

static void
names_and_legacy_name_are_accepted(void **state)
{
	struct pd_strv w = { 0 };
	struct pd_seccomp *p;

	(void)state;
	p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		     "{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		     "{\"name\": \"close\", \"action\": \"SCMP_ACT_ALLOW\"},"
		     "{\"name\": \"\", \"names\": [\"exit\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
		     &w);
	assert_int_equal(pd_seccomp_rule_count(p), 3);
	assert_int_equal(w.n, 0);
	pd_seccomp_free(p);
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		    "{\"name\": \"close\", \"action\": \"SCMP_ACT_ALLOW\"}]}",
		    &w);
	assert_int_equal(w.n, 0);
}

static void
name_and_names_together_are_an_error(void **state)
{
	(void)state;
	validate_fails(
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		"{\"name\": \"read\", \"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
		EINVAL, "`syscalls[0]` has both \"name\" and \"names\"; use one of them");
}

static void
rule_without_names_is_a_warning(void **state)
{
	struct pd_strv w = { 0 };

	(void)state;
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		    "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		    "{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]}",
		    &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.v[0], "`syscalls[1]` names no syscall and has no effect");
	pd_strv_clear(&w);
}

static void
every_args_operator_is_accepted(void **state)
{
	static const char *const ops[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
					   "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT" };
	struct pd_strv w = { 0 };
	struct pd_seccomp *p;
	char json[2048];
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		snprintf(
			json, sizeof(json),
			"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
			"[\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": "
			"0, \"value\": 8, \"op\": \"%s\"}]}]}",
			ops[i]);
		validate_ok(json, &w);
	}
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		    "[\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
		    "\"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
		    &w);
	/* All of them in one profile, two of them on one argument, and an
	 * argument value as large as can be read exactly (2^53 - 1). */
	n = (size_t)snprintf(json, sizeof(json),
			     "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [");
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		n += (size_t)snprintf(
			json + n, sizeof(json) - n,
			"{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\", "
			"\"args\": [{\"index\": %zu, \"value\": 1, \"op\": \"%s\"}]},",
			i, ops[i]);
	snprintf(json + n, sizeof(json) - n,
		 "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
		 "{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_GE\"},"
		 "{\"index\": 0, \"value\": 10, \"op\": \"SCMP_CMP_LE\"},"
		 "{\"index\": 1, \"value\": 9007199254740991, \"op\": \"SCMP_CMP_NE\"},"
		 "{\"index\": 5, \"value\": 255, \"valueTwo\": 1, \"op\": "
		 "\"SCMP_CMP_MASKED_EQ\"}]}]}");
	validate_ok(json, &w);
	p = parse_ok(json, NULL);
	assert_int_equal(pd_seccomp_rule_count(p), ARRAY_SIZE(ops) + 1);
	pd_seccomp_free(p);
	assert_int_equal(w.n, 0);
}

static void
bad_args_are_errors_naming_the_path(void **state)
{
	char json[4096];
	size_t n;

	(void)state;
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
		       "\"value\": 1, \"op\": \"SCMP_CMP_XX\"}]}]}",
		       EINVAL, "unknown operator \"SCMP_CMP_XX\" at `syscalls[0].args[0].op`");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"write\"], "
		       "\"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, "
		       "\"op\": \"SCMP_CMP_EQ\"}, {\"index\": 1, \"value\": 1, \"op\": "
		       "\"scmp_cmp_eq\"}]}]}",
		       EINVAL, "unknown operator \"scmp_cmp_eq\" at `syscalls[1].args[1].op`");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, "
		       "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		       ERANGE, "`syscalls[0].args[0].index` is larger than 5");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
		       "\"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		       EINVAL, "`syscalls[0].args[0].value` must be a non-negative integer");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
		       "\"value\": 1.5, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		       EINVAL, "`syscalls[0].args[0].value` must be a non-negative integer");
	validate_fails(
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		"[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
		"\"value\": 9007199254740992, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		ERANGE,
		"`syscalls[0].args[0].value` is larger than 2^53 and cannot be read exactly");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
		       "\"value\": 1, \"valueTwo\": \"2\", \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
		       EINVAL, "`syscalls[0].args[0].valueTwo` must be a number");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"value\": 1, "
		       "\"op\": \"SCMP_CMP_EQ\"}]}]}",
		       EINVAL, "`syscalls[0].args[0].index` must be a number");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, "
		       "\"value\": 1}]}]}",
		       EINVAL, "`syscalls[0].args[0].op` is missing");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [7]}]}",
		       EINVAL, "`syscalls[0].args[0]` must be an object");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": {}}]}",
		       EINVAL, "`syscalls[0].args` must be an array");
	/* More conditions than six arguments with four comparisons each. */
	n = (size_t)snprintf(json, sizeof(json),
			     "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
			     "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [");
	for (int i = 0; i < 25; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
				      "%s{\"index\": 0, \"value\": %d, \"op\": \"SCMP_CMP_NE\"}",
				      i ? "," : "", i);
	snprintf(json + n, sizeof(json) - n, "]}]}");
	validate_fails(json, E2BIG, "`syscalls[0].args` has more than 24 conditions");
}

static void
errno_ret_and_default_errno_ret(void **state)
{
	struct pd_strv w = { 0 };

	(void)state;
	validate_ok(
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, "
		"\"syscalls\": [{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\", "
		"\"errnoRet\": 1}, {\"names\": [\"umount2\"], \"action\": \"SCMP_ACT_ERRNO\", "
		"\"errnoRet\": 4094}, {\"names\": [\"read\"], \"action\": \"SCMP_ACT_TRACE\", "
		"\"errnoRet\": 65535}, {\"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\", "
		"\"errnoRet\": null}, {\"names\": [\"close\"], \"action\": \"SCMP_ACT_TRACE\", "
		"\"errnoRet\": 0}]}",
		&w);
	assert_int_equal(w.n, 0);
	/*
	 * SECCOMP_RET_DATA is 16 bits, but an errno must stay below 4095
	 * (MAX_ERRNO): libseccomp refuses more, and so would the runtime.
	 * TRACE data may use all 16 bits.  Refused while parsing, naming
	 * the field.
	 */
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"mount\"], "
		       "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 4095}]}",
		       ERANGE, "`syscalls[1].errnoRet` is larger than 4094");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 4095}", ERANGE,
		       "`defaultErrnoRet` is larger than 4094");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		       "[\"mount\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 65536}]}",
		       ERANGE, "`syscalls[0].errnoRet` is larger than 65535");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		       "[\"mount\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": -1}]}",
		       EINVAL, "`syscalls[0].errnoRet` must be a non-negative integer");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		       "[\"mount\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": \"EPERM\"}]}",
		       EINVAL, "`syscalls[0].errnoRet` must be a number");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 70000}",
		       ERANGE, "`defaultErrnoRet` is larger than 4094");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1.25}", EINVAL,
		       "`defaultErrnoRet` must be a non-negative integer");
}

static void
errno_ret_on_an_action_without_errno_is_a_warning(void **state)
{
	struct pd_strv w = { 0 };

	(void)state;
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		    "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}",
		    &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.v[0], "`syscalls[0].errnoRet` is ignored with action SCMP_ACT_ALLOW");
	pd_strv_clear(&w);
	validate_ok("{\"defaultAction\": \"SCMP_ACT_LOG\", \"defaultErrnoRet\": 1}", &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.v[0], "`defaultErrnoRet` is ignored with action SCMP_ACT_LOG");
	pd_strv_clear(&w);
}

static void
includes_and_excludes_are_accepted(void **state)
{
	struct pd_strv w = { 0 };

	(void)state;
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		    "{\"names\": [\"bpf\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": "
		    "{\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_BPF\"], \"arches\": [\"amd64\", "
		    "\"x86_64\", \"arm64\", \"aarch64\", \"386\", \"x32\", \"ppc64le\", \"s390x\", "
		    "\"riscv64\", \"mips64le\", \"mipsel64n32\"], \"minKernel\": \"4.8\"}},"
		    "{\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": "
		    "{\"caps\": [\"CAP_SYS_PTRACE\"], \"arches\": [\"s390\"], \"minKernel\": "
		    "\"99.0\"}},"
		    "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {}, "
		    "\"excludes\": null}]}",
		    &w);
	assert_int_equal(w.n, 0);
}

static void
bad_includes_and_excludes_are_errors_naming_the_path(void **state)
{
	static const char *const bad_kernels[] = { "4", "4.8.1", "four.eight", "-1.0", "4.8 " };
	struct pd_strv w = { 0 };
	char json[512], want[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_kernels); i++) {
		snprintf(
			json, sizeof(json),
			"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
			"[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"minKernel\": "
			"\"%s\"}}]}",
			bad_kernels[i]);
		snprintf(want, sizeof(want),
			 "`syscalls[0].excludes.minKernel` must be a kernel version "
			 "\"MAJOR.MINOR\", not \"%s\"",
			 bad_kernels[i]);
		validate_fails(json, EINVAL, want);
	}
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": "
		       "\"CAP_SYS_ADMIN\"}}]}",
		       EINVAL, "`syscalls[0].includes.caps` must be an array");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"arches\": "
		       "[\"amd64\", 64]}}]}",
		       EINVAL, "`syscalls[0].includes.arches[1]` must be a string");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": [\"amd64\"]}]}",
		       EINVAL, "`syscalls[0].includes` must be an object");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": "
		       "4.8}}]}",
		       EINVAL, "`syscalls[0].includes.minKernel` must be a string");
	/* An architecture name nobody uses is only a warning (moby's own
	 * default profile has one). */
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		    "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"arches\": "
		    "[\"sparc\"]}}]}",
		    &w);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.v[0],
			    "unknown architecture \"sparc\" in `syscalls[0].includes.arches`");
	pd_strv_clear(&w);
}

/* The Go name of the node's architecture, as includes/excludes use it. */
static const char *
native_go_arch(void)
{
	switch (native.native_arch) {
	case SCMP_ARCH_X86_64:
		return "amd64";
	case SCMP_ARCH_AARCH64:
		return "arm64";
	case SCMP_ARCH_PPC64LE:
		return "ppc64le";
	case SCMP_ARCH_S390X:
		return "s390x";
	case SCMP_ARCH_RISCV64:
		return "riscv64";
	default:
		return NULL;
	}
}

/*
 * Whether a rule with `filter` is built into the filter for env, seen
 * through the warning an unknown syscall in it gives when (and only when)
 * the rule is built.
 */
/* Whether the one rule of a profile with this filter is built for env (in
 * the variant without capabilities); the profile must also compile. */
static bool
rule_selected(const char *filter, const struct pd_seccomp_env *env)
{
	struct pd_strv w = { 0 };
	struct pd_seccomp *p;
	char json[512];
	bool ret;

	snprintf(json, sizeof(json),
		 "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], "
		 "\"action\": \"SCMP_ACT_ALLOW\", %s}]}",
		 filter);
	validate_ok_env(json, env, &w);
	p = parse_ok(json, &w);
	assert_int_equal(pd_seccomp_rule_count(p), 1);
	ret = pd_seccomp_rule_applies(p, 0, env, false);
	pd_seccomp_free(p);
	pd_strv_clear(&w);
	return ret;
}

static void
includes_and_excludes_select_rules_for_the_node(void **state)
{
	struct pd_seccomp_env k54 = native;
	const char *mine = native_go_arch();
	const char *other = mine != NULL && strcmp(mine, "amd64") == 0 ? "s390x" : "amd64";
	char filter[128];

	(void)state;
	k54.kernel_major = 5;
	k54.kernel_minor = 4;
	assert_true(rule_selected("\"includes\": {}", &k54));
	/* includes.minKernel: at least that kernel. */
	assert_true(rule_selected("\"includes\": {\"minKernel\": \"5.4\"}", &k54));
	assert_true(rule_selected("\"includes\": {\"minKernel\": \"4.19\"}", &k54));
	assert_false(rule_selected("\"includes\": {\"minKernel\": \"5.5\"}", &k54));
	assert_false(rule_selected("\"includes\": {\"minKernel\": \"6.0\"}", &k54));
	/* excludes.minKernel: only kernels before it. */
	assert_false(rule_selected("\"excludes\": {\"minKernel\": \"5.4\"}", &k54));
	assert_true(rule_selected("\"excludes\": {\"minKernel\": \"5.10\"}", &k54));
	/* excludes.caps: the rule holds for a pod without the capability. */
	assert_true(rule_selected("\"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}", &k54));

	if (mine == NULL) {
		print_message("no Go name known for this architecture: arches not checked\n");
		return;
	}
	snprintf(filter, sizeof(filter), "\"includes\": {\"arches\": [\"%s\"]}", mine);
	assert_true(rule_selected(filter, &k54));
	snprintf(filter, sizeof(filter), "\"includes\": {\"arches\": [\"%s\"]}", other);
	assert_false(rule_selected(filter, &k54));
	snprintf(filter, sizeof(filter), "\"excludes\": {\"arches\": [\"%s\"]}", mine);
	assert_false(rule_selected(filter, &k54));
	snprintf(filter, sizeof(filter), "\"excludes\": {\"arches\": [\"%s\"]}", other);
	assert_true(rule_selected(filter, &k54));
}

/* A rule with includes.caps is built only for a container holding the
 * capability; an unknown name in it is still a warning. */
static void
unknown_syscall_in_a_caps_rule_is_still_a_warning(void **state)
{
	static const char json[] =
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", "
		"\"no_such_syscall_sel\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": "
		"[\"CAP_SYS_ADMIN\"]}}]}";
	struct pd_strv w = { 0 };
	struct pd_seccomp *p;

	(void)state;
	validate_ok(json, &w);
	assert_true(warned_about(&w, "unknown syscall \"no_such_syscall_sel\" at `syscalls[0]`"));
	pd_strv_clear(&w);
	p = parse_ok(json, &w);
	assert_false(pd_seccomp_rule_applies(p, 0, &native, false));
	assert_true(pd_seccomp_rule_applies(p, 0, &native, true));
	pd_seccomp_free(p);
	pd_strv_clear(&w);
}

static void
flags_are_accepted_and_unknown_flags_rejected(void **state)
{
	struct pd_strv w = { 0 };

	(void)state;
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": "
		    "[\"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_LOG\", "
		    "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", "
		    "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"], \"syscalls\": [{\"names\": "
		    "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
		    &w);
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": []}", &w);
	assert_int_equal(w.n, 0);
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": "
		       "[\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_BOGUS\"]}",
		       EINVAL, "unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\" at `flags[1]`");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [4]}", EINVAL,
		       "`flags[0]` must be a string");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": "
		       "\"SECCOMP_FILTER_FLAG_LOG\"}",
		       EINVAL, "`flags` must be an array");
}

static void
notify_needs_an_absolute_listener_path(void **state)
{
	struct pd_strv w = { 0 };

	(void)state;
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": "
		    "\"/run/seccomp-agent.sock\", \"listenerMetadata\": \"pod=x\", \"syscalls\": "
		    "[{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		    &w);
	assert_int_equal(w.n, 0);
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		       "[\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		       EINVAL, "SCMP_ACT_NOTIFY is used but `listenerPath` is not set");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"\", "
		       "\"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		       EINVAL, "SCMP_ACT_NOTIFY is used but `listenerPath` is not set");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"run/x.sock\", "
		       "\"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		       EINVAL, "`listenerPath` must be an absolute path");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"/x.sock\"}",
		       EINVAL, "`defaultAction` cannot be SCMP_ACT_NOTIFY (the kernel refuses it)");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": 5}", EINVAL,
		       "`listenerPath` must be a string");
}

static void
unknown_top_level_keys_are_ignored(void **state)
{
	struct pd_strv w = { 0 };
	struct pd_seccomp *p;

	(void)state;
	p = parse_ok("{\"comment\": \"made by hand\", \"defaultAction\": \"SCMP_ACT_ERRNO\", "
		     "\"defaultErrno\": \"EPERM\", \"future\": {\"nested\": [1, {\"a\": null}]}, "
		     "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
		     "\"comment\": \"x\", \"errno\": \"EPERM\"}], \"x-vendor\": true}",
		     &w);
	assert_string_equal(pd_seccomp_default_action(p), "SCMP_ACT_ERRNO");
	assert_int_equal(pd_seccomp_rule_count(p), 1);
	pd_seccomp_free(p);
	assert_int_equal(w.n, 0);
}

static void
null_members_count_as_absent(void **state)
{
	struct pd_strv w = { 0 };
	struct pd_seccomp *p;

	(void)state;
	p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": null, "
		     "\"flags\": null, \"listenerPath\": null, \"syscalls\": null}",
		     &w);
	assert_int_equal(pd_seccomp_rule_count(p), 0);
	pd_seccomp_free(p);
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": []}", &w);
	assert_int_equal(w.n, 0);
}

/* ---- unknown names --------------------------------------------------------- */

static void
unknown_action_is_an_error_naming_the_path(void **state)
{
	(void)state;
	validate_fails("{\"defaultAction\": \"SCMP_ACT_NOPE\"}", EINVAL,
		       "`defaultAction`: unknown action \"SCMP_ACT_NOPE\"");
	validate_fails("{\"defaultAction\": \"scmp_act_allow\"}", EINVAL,
		       "`defaultAction`: unknown action \"scmp_act_allow\"");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		       "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		       "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		       "{\"names\": [\"close\"], \"action\": \"SCMP_ACT_NOPE\"}]}",
		       EINVAL, "`syscalls[2].action`: unknown action \"SCMP_ACT_NOPE\"");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		       "{\"names\": [\"read\"]}]}",
		       EINVAL, "`syscalls[0].action` is missing");
}

static void
every_action_is_accepted(void **state)
{
	static const char *const actions[] = { "SCMP_ACT_KILL",		"SCMP_ACT_KILL_THREAD",
					       "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
					       "SCMP_ACT_ERRNO",	"SCMP_ACT_TRACE",
					       "SCMP_ACT_ALLOW",	"SCMP_ACT_LOG" };
	struct pd_strv w = { 0 };
	char json[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		struct pd_seccomp *p;

		snprintf(json, sizeof(json),
			 "{\"defaultAction\": \"%s\", \"syscalls\": [{\"names\": [\"read\"], "
			 "\"action\": \"%s\"}]}",
			 actions[i], actions[(i + 1) % ARRAY_SIZE(actions)]);
		validate_ok(json, &w);
		p = parse_ok(json, NULL);
		assert_string_equal(pd_seccomp_default_action(p), actions[i]);
		pd_seccomp_free(p);
	}
	assert_int_equal(w.n, 0);
}

static void
unknown_architecture_is_an_error_naming_the_path(void **state)
{
	(void)state;
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": "
		       "[\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_PDP11\"]}",
		       EINVAL, "unknown architecture \"SCMP_ARCH_PDP11\" at `architectures[1]`");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"x86_64\"]}",
		       EINVAL, "unknown architecture \"x86_64\" at `architectures[0]`");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [7]}", EINVAL,
		       "`architectures[0]` must be a string");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [{\"architecture\": "
		       "\"SCMP_ARCH_VAX\", \"subArchitectures\": []}]}",
		       EINVAL,
		       "unknown architecture \"SCMP_ARCH_VAX\" at `archMap[0].architecture`");
	validate_fails(
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [{\"architecture\": "
		"\"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\", "
		"\"SCMP_ARCH_X87\"]}]}",
		EINVAL,
		"unknown architecture \"SCMP_ARCH_X87\" at `archMap[0].subArchitectures[1]`");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": "
		       "[{\"subArchitectures\": []}]}",
		       EINVAL, "`archMap[0].architecture` is missing");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": "
		       "[\"SCMP_ARCH_X86_64\"], \"archMap\": [{\"architecture\": "
		       "\"SCMP_ARCH_X86_64\"}]}",
		       EINVAL, "both `architectures` and `archMap` are given; use one of them");
}

static void
known_architectures_and_arch_map_are_accepted(void **state)
{
	struct pd_strv w = { 0 };

	(void)state;
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": "
		    "[\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\", "
		    "\"SCMP_ARCH_AARCH64\", \"SCMP_ARCH_ARM\"], \"syscalls\": [{\"names\": "
		    "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
		    &w);
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": ["
		    "{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": "
		    "[\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]},"
		    "{\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": "
		    "[\"SCMP_ARCH_ARM\"]}], \"syscalls\": [{\"names\": [\"read\"], "
		    "\"action\": \"SCMP_ACT_ALLOW\"}]}",
		    &w);
	assert_int_equal(w.n, 0);
}

static void
unknown_syscall_is_a_warning_naming_it(void **state)
{
	struct pd_strv w = { 0 };

	(void)state;
	validate_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		    "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		    "{\"names\": [\"write\", \"frobnicate_v9\", \"close\"], \"action\": "
		    "\"SCMP_ACT_ALLOW\"}]}",
		    &w);
	/* Reported once, although the profile is compiled twice. */
	assert_int_equal(w.n, 1);
	assert_contains(w.v[0], "unknown syscall \"frobnicate_v9\"");
	assert_contains(w.v[0], "`syscalls[1]`");
	pd_strv_clear(&w);
}

/* ---- JSON syntax, size and encoding ----------------------------------------- */

static void
broken_json_gives_line_and_column(void **state)
{
	static const struct {
		const char *json;
		const char *want;
	} cases[] = {
		{ "{\"a\":1,}", "line 1, column 8: invalid JSON" },
		{ "{\"\xc3\xa9\":1,}", "line 1, column 8: invalid JSON" }, /* é is one column */
		{ "{\"a\" 1}", "line 1, column 6: invalid JSON" },
		{ "{\"a\":1", "line 1, column 7: invalid JSON" },
		{ "{\"a\":1} x", "line 1, column 9: invalid JSON" },
		{ "{\"a\":1, b:2}", "line 1, column 9: invalid JSON" },
		{ "{b:1}", "line 1, column 2: invalid JSON" },
		{ "{\"defaultAction\": tru}", "line 1, column 19: invalid JSON" },
		{ "", "line 1, column 1: invalid JSON" },
		{ "{\n\"a\": 1,\n\"b\": [1, 2,, 3]\n}", "line 3, column 12: invalid JSON" },
		{ "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [\n    "
		  "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},\n  ]\n}",
		  "line 5, column 3: invalid JSON" },
		{ "{\r\n\t\"a\": [\r\n\t\t1\r\n\t}\r\n}", "line 4, column 2: invalid JSON" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		validate_fails(cases[i].json, EINVAL, cases[i].want);
}

static void
profile_over_one_mib_is_rejected(void **state)
{
	static const char head[] = "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}";
	char *buf = malloc(PD_SECCOMP_MAX_BYTES + 2);
	struct pd_strv w = { 0 };
	pd_error_t err = NULL;
	char want[128];

	(void)state;
	assert_non_null(buf);
	/* Exactly 1 MiB (a document padded with blanks) is fine. */
	memset(buf, ' ', PD_SECCOMP_MAX_BYTES + 1);
	memcpy(buf, head, strlen(head));
	buf[PD_SECCOMP_MAX_BYTES] = '\0';
	assert_int_equal(pd_seccomp_validate(buf, PD_SECCOMP_MAX_BYTES, &native, &w, &err), 0);
	assert_null(err);
	/* One byte more is not. */
	buf[PD_SECCOMP_MAX_BYTES] = ' ';
	buf[PD_SECCOMP_MAX_BYTES + 1] = '\0';
	assert_int_equal(pd_seccomp_validate(buf, PD_SECCOMP_MAX_BYTES + 1, &native, &w, &err),
			 -EFBIG);
	snprintf(want, sizeof(want), "profile is %d bytes, over the limit of %d",
		 PD_SECCOMP_MAX_BYTES + 1, PD_SECCOMP_MAX_BYTES);
	assert_string_equal(pd_error_msg(err), want);
	pd_error_release(&err);
	free(buf);
}

static void
nul_byte_is_rejected_with_its_position(void **state)
{
	static const char one[] = "{\"a\"\0: 1}";
	static const char two[] = "{\n  \"\xc3\xa9\0\"}";

	(void)state;
	validate_len_fails(one, sizeof(one) - 1, EINVAL, "line 1, column 5: NUL byte in JSON");
	validate_len_fails(two, sizeof(two) - 1, EINVAL, "line 2, column 5: NUL byte in JSON");
}

static void
invalid_utf8_is_rejected_with_its_position(void **state)
{
	(void)state;
	validate_fails("{\"\xff\": 1}", EILSEQ, "line 1, column 3: invalid UTF-8");
	validate_fails("{\"\xc3\xa9\xc3\": 1}", EILSEQ, "line 1, column 4: invalid UTF-8");
	validate_fails("{\n\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"c\": \"\xed\xa0\x80\"}",
		       EILSEQ, "line 3, column 7: invalid UTF-8");
	validate_fails("{\"a\": \"\xc0\xaf\"}", EILSEQ, "line 1, column 8: invalid UTF-8");
}

/* ---- types ------------------------------------------------------------------- */

static void
wrong_types_are_rejected_naming_the_path(void **state)
{
	(void)state;
	validate_fails("[]", EINVAL, "the profile must be a JSON object");
	validate_fails("\"SCMP_ACT_ALLOW\"", EINVAL, "the profile must be a JSON object");
	validate_fails("{}", EINVAL, "`defaultAction` is missing");
	validate_fails("{\"defaultAction\": 1}", EINVAL, "`defaultAction` must be a string");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": {}}", EINVAL,
		       "`syscalls` must be an array");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\"read\"]}", EINVAL,
		       "`syscalls[0]` must be an object");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\", 3], \"action\": \"SCMP_ACT_ALLOW\"}]}",
		       EINVAL, "`syscalls[0].names[1]` must be a string");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "\"read\", \"action\": \"SCMP_ACT_ALLOW\"}]}",
		       EINVAL, "`syscalls[0].names` must be an array");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"name\": "
		       "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
		       EINVAL, "`syscalls[0].name` must be a string");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		       "[\"read\"], \"action\": 0}]}",
		       EINVAL, "`syscalls[0].action` must be a string");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": "
		       "\"SCMP_ARCH_X86_64\"}",
		       EINVAL, "`architectures` must be an array");
	validate_fails("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": [\"x\"]}", EINVAL,
		       "`archMap[0]` must be an object");
}

static void
parse_failure_leaves_the_out_parameter_alone(void **state)
{
	struct pd_seccomp *p = (struct pd_seccomp *)0x1;
	pd_error_t err = NULL;
	const char *bad = "{\"defaultAction\": \"SCMP_ACT_NOPE\"}";

	(void)state;
	assert_int_equal(pd_seccomp_parse(bad, strlen(bad), &p, NULL, &err), -EINVAL);
	assert_ptr_equal(p, (struct pd_seccomp *)0x1);
	assert_non_null(err);
	pd_error_release(&err);
	/* Without err, only the code. */
	assert_int_equal(pd_seccomp_parse(bad, strlen(bad), &p, NULL, NULL), -EINVAL);
	pd_seccomp_free(NULL);
}

/* ---- accessors and compiling ------------------------------------------------- */

static void
default_action_and_rule_count_of_a_small_profile(void **state)
{
	struct pd_seccomp *p;

	(void)state;
	p = parse_ok("{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", \"syscalls\": ["
		     "{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		     "{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\"},"
		     "{\"name\": \"exit\", \"action\": \"SCMP_ACT_ALLOW\"}]}",
		     NULL);
	assert_string_equal(pd_seccomp_default_action(p), "SCMP_ACT_KILL_PROCESS");
	assert_int_equal(pd_seccomp_rule_count(p), 3);
	pd_seccomp_free(p);
	p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38}", NULL);
	assert_string_equal(pd_seccomp_default_action(p), "SCMP_ACT_ERRNO");
	assert_int_equal(pd_seccomp_rule_count(p), 0);
	pd_seccomp_free(p);
}

static void
compile_of_a_parsed_profile_succeeds(void **state)
{
	struct pd_strv w = { 0 };
	pd_error_t err = NULL;
	struct pd_seccomp *p;

	(void)state;
	p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
		     "[\"read\", \"not_a_syscall\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		     "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
		     &w);
	assert_int_equal(w.n, 0); /* unknown names are found while compiling */
	assert_int_equal(pd_seccomp_compile(p, &native, &w, &err), 0);
	assert_null(err);
	assert_int_equal(w.n, 1);
	assert_contains(w.v[0], "\"not_a_syscall\"");
	pd_strv_clear(&w);
	/* Warnings may be NULL. */
	assert_int_equal(pd_seccomp_compile(p, &native, NULL, NULL), 0);
	pd_seccomp_free(p);
}

/* Regression: pd_seccomp_parse() handed cJSON len + 1 bytes and required
 * buf[len] == '\0': a valid document followed by other bytes beyond len was
 * refused (and a buffer without a byte at buf[len] was read out of bounds). */
static void
parse_reads_only_len_bytes(void **state)
{
	static const char text[] = "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}, and more";
	size_t len = strlen("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
	struct pd_seccomp *p = NULL;
	pd_error_t err = NULL;
	char msg[256];
	int ret;

	(void)state;
	ret = pd_seccomp_parse(text, len, &p, NULL, &err);
	snprintf(msg, sizeof(msg), "%s", err != NULL ? pd_error_msg(err) : "");
	pd_error_release(&err);
	pd_seccomp_free(p);
	if (ret != 0)
		fail_msg("the first %zu bytes are a valid profile, but parse returned %d: %s", len,
			 ret, msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kubernetes_tutorial_profiles_are_accepted),
		cmocka_unit_test(container_engine_profiles_are_accepted),
		cmocka_unit_test(names_and_legacy_name_are_accepted),
		cmocka_unit_test(name_and_names_together_are_an_error),
		cmocka_unit_test(rule_without_names_is_a_warning),
		cmocka_unit_test(every_args_operator_is_accepted),
		cmocka_unit_test(bad_args_are_errors_naming_the_path),
		cmocka_unit_test(errno_ret_and_default_errno_ret),
		cmocka_unit_test(errno_ret_on_an_action_without_errno_is_a_warning),
		cmocka_unit_test(includes_and_excludes_are_accepted),
		cmocka_unit_test(bad_includes_and_excludes_are_errors_naming_the_path),
		cmocka_unit_test(includes_and_excludes_select_rules_for_the_node),
		cmocka_unit_test(unknown_syscall_in_a_caps_rule_is_still_a_warning),
		cmocka_unit_test(flags_are_accepted_and_unknown_flags_rejected),
		cmocka_unit_test(notify_needs_an_absolute_listener_path),
		cmocka_unit_test(unknown_top_level_keys_are_ignored),
		cmocka_unit_test(null_members_count_as_absent),
		cmocka_unit_test(unknown_action_is_an_error_naming_the_path),
		cmocka_unit_test(every_action_is_accepted),
		cmocka_unit_test(unknown_architecture_is_an_error_naming_the_path),
		cmocka_unit_test(known_architectures_and_arch_map_are_accepted),
		cmocka_unit_test(unknown_syscall_is_a_warning_naming_it),
		cmocka_unit_test(broken_json_gives_line_and_column),
		cmocka_unit_test(profile_over_one_mib_is_rejected),
		cmocka_unit_test(nul_byte_is_rejected_with_its_position),
		cmocka_unit_test(invalid_utf8_is_rejected_with_its_position),
		cmocka_unit_test(wrong_types_are_rejected_naming_the_path),
		cmocka_unit_test(parse_failure_leaves_the_out_parameter_alone),
		cmocka_unit_test(default_action_and_rule_count_of_a_small_profile),
		cmocka_unit_test(compile_of_a_parsed_profile_succeeds),
		cmocka_unit_test(parse_reads_only_len_bytes),
	};

	return cmocka_run_group_tests_name("seccomp", tests, group_setup, NULL);
}
