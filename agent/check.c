/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `profiled check PATH...`: validates files or folders exactly as the daemon
 * would, touching nothing.  One line per finding on stdout:
 *   PATH: ok (seccomp: NAME)
 *   PATH: warning: MESSAGE
 *   PATH: error: MESSAGE
 */
#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/scan.h"
#include "../lib/seccomp.h"

static int
check_source(const struct pd_source *s, const struct pd_seccomp_env *env)
{
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;
	int ret = 0;

	if (s->error < 0) {
		printf("%s: error: %s\n", s->path, s->errmsg);
		return 1;
	}
	if (s->kind == PD_KIND_APPARMOR) {
		printf("%s: warning: AppArmor files are not validated by this build\n", s->path);
		return 0;
	}
	if (pd_seccomp_validate(s->data, s->len, env, &warnings, &err) < 0) {
		printf("%s: error: %s\n", s->path, pd_error_msg(err));
		pd_error_release(&err);
		ret = 1;
	}
	for (size_t i = 0; i < warnings.n; i++)
		printf("%s: warning: %s\n", s->path, warnings.v[i]);
	if (ret == 0)
		printf("%s: ok (seccomp: %.*s)\n", s->path, (int)(strlen(s->name) - 5), s->name);
	pd_strv_clear(&warnings);
	return ret;
}

int
check_main(int argc, char **argv)
{
	struct pd_seccomp_env env;
	pd_error_t err = NULL;
	int status = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs("usage: profiled check PATH...\n", argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (pd_seccomp_env_native(&env, &err) < 0) {
		fprintf(stderr, "profiled: %s\n", pd_error_msg(err));
		pd_error_release(&err);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct pd_sources src = { 0 };
		struct stat st;
		int ret;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			ret = pd_scan_dir(argv[i], &src, &err);
		else
			ret = pd_scan_file(argv[i], &src, &err);
		if (ret < 0) {
			printf("%s: error: %s\n", argv[i], pd_error_msg(err));
			pd_error_release(&err);
			status = 1;
		}
		for (size_t k = 0; k < src.n; k++)
			if (check_source(&src.v[k], &env) != 0)
				status = 1;
		pd_sources_clear(&src);
	}
	fflush(stdout);
	return status;
}
