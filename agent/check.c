/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `profiled check [--apparmor-parser PATH] [--features PATH] PATH...`:
 * validates files or folders exactly as the daemon would, touching nothing
 * (AppArmor files are compiled into a private temporary folder, removed at
 * exit) against the features given (a kernel's `features` folder or a
 * features file; default: the parser's policy-features pin).  One line per
 * finding on stdout, in the order of the files:
 *   PATH: ok (seccomp: NAME)
 *   PATH: ok (apparmor: NAME NAME...)
 *   PATH: warning: MESSAGE
 *   PATH: warning: profile `NAME`: rules not enforced: CLASS...[; downgraded: CLASS...]
 *   PATH: error: MESSAGE
 */
#include "check.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/apparmor.h"
#include "../lib/scan.h"
#include "../lib/seccomp.h"
#include "stopsig.h"

static int
check_seccomp(const struct pd_source *s, const struct pd_seccomp_env *env)
{
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;
	int ret = 0;

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

/* The first earlier unit declaring one of u's names, or NULL. */
static const char *
clash(const struct pd_aa_unit *units, size_t upto, const struct pd_aa_unit *u, const char **name)
{
	for (size_t i = 0; i < upto; i++) {
		if (units[i].error != NULL)
			continue;
		for (size_t k = 0; k < u->names.n; k++)
			if (pd_strv_contains(&units[i].names, u->names.v[k])) {
				*name = u->names.v[k];
				return units[i].label;
			}
	}
	return NULL;
}

static int
print_apparmor(struct pd_aa_unit *units, size_t idx)
{
	struct pd_aa_unit *u = &units[idx];
	const char *name = NULL, *other;

	for (size_t i = 0; i < u->warnings.n; i++)
		printf("%s: warning: %s\n", u->label, u->warnings.v[i]);
	for (size_t i = 0; i < u->gaps.n; i++) {
		_cleanup_free_ char *text = pd_aa_gap_text(&u->gaps.v[i]);

		printf("%s: warning: %s\n", u->label, text);
	}
	if (u->error == NULL && (other = clash(units, idx, u, &name)) != NULL)
		u->error = pd_xasprintf("profile `%s` is already declared by %s", name, other);
	if (u->error != NULL) {
		printf("%s: error: %s\n", u->label, u->error);
		return 1;
	}
	printf("%s: ok (apparmor:", u->label);
	for (size_t i = 0; i < u->names.n; i++)
		printf(" %s", u->names.v[i]);
	printf(")\n");
	return 0;
}

static void
check_usage(FILE *f)
{
	fputs("usage: profiled check [--apparmor-parser PATH] [--features PATH] PATH...\n", f);
}

int
check_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "apparmor-parser", required_argument, NULL, 'p' },
		{ "features", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pd_aa_options aao = { 0 };
	struct pd_seccomp_env env;
	struct pd_sources src = { 0 };
	struct pd_aa_unit *units = NULL;
	struct pd_aa *aa = NULL;
	struct pd_aa_stats stats;
	size_t *unit_of = NULL, nunits = 0;
	pd_error_t err = NULL;
	struct pd_strv failed = { 0 };
	int status = 0, c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			aao.parser = optarg;
			break;
		case 'f':
			aao.features = optarg;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "profiled: check: `%s` needs a value\n", argv[optind - 1]);
			check_usage(stderr);
			return 2;
		default:
			fprintf(stderr, "profiled: check: unknown flag `%s`\n", argv[optind - 1]);
			check_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		check_usage(stderr);
		return 2;
	}
	if (pd_seccomp_env_native(&env, &err) < 0) {
		fprintf(stderr, "profiled: %s\n", pd_error_msg(err));
		pd_error_release(&err);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		size_t before = src.n;
		struct stat st;
		int ret;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			ret = pd_scan_dir(argv[i], &src, &err);
		else
			ret = pd_scan_file(argv[i], &src, &err);
		if (ret < 0) {
			/* Reported in argument order with the files. */
			pd_strv_pushf(&failed, "%zu\n%s: error: %s", before, argv[i],
				      pd_error_msg(err));
			pd_error_release(&err);
			status = 1;
		}
	}

	/* Every AppArmor file in one batched compile. */
	unit_of = pd_xcalloc(src.n ? src.n : 1, sizeof(*unit_of));
	units = pd_xcalloc(src.n ? src.n : 1, sizeof(*units));
	for (size_t k = 0; k < src.n; k++) {
		const struct pd_source *s = &src.v[k];

		if (s->kind != PD_KIND_APPARMOR || s->error < 0)
			continue;
		units[nunits].label = s->path;
		units[nunits].data = s->data;
		units[nunits].len = s->len;
		memcpy(units[nunits].sha256, s->sha256, sizeof(s->sha256));
		unit_of[k] = ++nunits;
	}
	if (nunits > 0) {
		struct stopsig stop = { .fd = -1 };
		struct pd_spawn_cancel cancel = { .fn = stopsig_pending, .arg = &stop };
		int ret;

		/* SIGTERM/SIGINT stop the compile; its temporary folder goes with
		 * pd_aa_free(). */
		aao.load = false;
		ret = pd_aa_open(&aao, &aa, &err);
		if (ret == 0 && stopsig_open(&stop) == 0) {
			cancel.fd = stop.fd;
			pd_aa_set_cancel(aa, &cancel);
		}
		if (ret == 0)
			ret = pd_aa_compile(aa, units, nunits, &stats, &err);
		if (aa != NULL)
			pd_aa_set_cancel(aa, NULL);
		stopsig_close(&stop);
		if (ret < 0) {
			fprintf(stderr, "profiled: AppArmor: %s\n", pd_error_msg(err));
			pd_error_release(&err);
			status = 2;
			goto out;
		}
	}

	for (size_t k = 0, f = 0; k <= src.n; k++) {
		for (; f < failed.n && strtoul(failed.v[f], NULL, 10) == k; f++)
			printf("%s\n", strchr(failed.v[f], '\n') + 1);
		if (k == src.n)
			break;
		if (src.v[k].error < 0) {
			printf("%s: error: %s\n", src.v[k].path, src.v[k].errmsg);
			status = status ? status : 1;
		} else if (src.v[k].kind == PD_KIND_SECCOMP) {
			if (check_seccomp(&src.v[k], &env) != 0)
				status = status ? status : 1;
		} else if (print_apparmor(units, unit_of[k] - 1) != 0) {
			status = status ? status : 1;
		}
	}
out:
	for (size_t i = 0; i < nunits; i++)
		pd_aa_unit_clear(&units[i]);
	free(units);
	free(unit_of);
	pd_aa_free(aa);
	pd_strv_clear(&failed);
	pd_sources_clear(&src);
	fflush(stdout);
	return status;
}
