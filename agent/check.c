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
 * The entries of a folder go through the daemon's entry rules (lib/rules.c):
 * one the daemon takes as absent (its link dangles) is a warning only.
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
#include "../lib/paths.h"
#include "../lib/rules.h"
#include "../lib/scan.h"
#include "../lib/seccomp.h"
#include "options.h"
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
		printf("%s: ok (seccomp: %.*s)\n", s->path, (int)pd_json_stem_len(s->name),
		       s->name);
	pd_strv_clear(&warnings);
	return ret;
}

static int
print_apparmor(struct pd_aa_unit *units, size_t idx)
{
	struct pd_aa_unit *u = &units[idx];

	for (size_t i = 0; i < u->warnings.n; i++)
		printf("%s: warning: %s\n", u->label, u->warnings.v[i]);
	for (size_t i = 0; i < u->gaps.n; i++) {
		_cleanup_free_ char *text = pd_aa_gap_text(&u->gaps.v[i]);

		printf("%s: warning: %s\n", u->label, text);
	}
	if (u->error == NULL)
		u->error = pd_aa_clash(units, idx, u); /* the daemon's rule */
	if (u->error != NULL) {
		printf("%s: error: %s\n", u->label, u->error);
		return 1;
	}
	u->admitted = true;
	printf("%s: ok (apparmor:", u->label);
	for (size_t i = 0; i < u->names.n; i++)
		printf(" %s", u->names.v[i]);
	printf(")\n");
	return 0;
}

/* One `check` run: the files read, then what each became. */
struct check_run {
	struct pd_aa_options aao;
	struct pd_seccomp_env env;
	struct pd_sources src;
	struct pd_strv failed; /* "INDEX\nline": arguments that could not be read */
	enum pd_entry *rule;   /* per source: what the daemon's entry rules make of it */
	const char **why;      /* per source: why it is rejected (PD_ENTRY_REJECTED) */
	struct pd_aa_unit *units;
	size_t *unit_of; /* per source: 1 + its unit, 0 if none */
	size_t nunits;
	struct pd_aa *aa;
};

/* Parses the flags into r; -1 to go on, else the exit status. */
static int
check_args(int argc, char **argv, struct check_run *r)
{
	return options_parse_check(argc, argv, &r->aao) == 0 ? -1 : 2;
}

/* The daemon's start-up rule on its profiles folders: none twice, none
 * inside another (lib/paths.c); 2 if two folders named overlap, else 0. */
static int
check_folders(char **paths, int n)
{
	struct stat st;

	for (int i = 0; i < n; i++) {
		if (stat(paths[i], &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		for (int j = i + 1; j < n; j++) {
			_cleanup_free_ char *msg = NULL;

			if (stat(paths[j], &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			msg = pd_overlap_text(NULL, paths[i], NULL, paths[j]);
			if (msg != NULL) {
				fprintf(stderr,
					"profiled: check: %s (the daemon refuses such --profiles "
					"folders)\n",
					msg);
				return 2;
			}
		}
	}
	return 0;
}

/* Reads every file and folder named, in argument order; 1 if one could not
 * be read, else 0.  Then the daemon's entry rules over them all; a file
 * named on the command line that is missing is an error, not absent. */
static int
check_read(char **paths, int n, struct check_run *r)
{
	_cleanup_free_ size_t *named = pd_xcalloc((size_t)n + 1, sizeof(*named));
	struct pd_strv seen = { 0 };
	size_t nnamed = 0;
	pd_error_t err = NULL;
	int status = 0;

	for (int i = 0; i < n; i++) {
		size_t before = r->src.n;
		struct stat st;
		int ret;

		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			ret = pd_scan_dir(paths[i], &r->src, &err);
		else if ((ret = pd_scan_file(paths[i], &r->src, &err)) == 0)
			named[nnamed++] = before;
		if (ret < 0) {
			/* Reported in argument order with the files. */
			pd_strv_pushf(&r->failed, "%zu\n%s: error: %s", before, paths[i],
				      pd_error_msg(err));
			pd_error_release(&err);
			status = 1;
		}
	}
	r->rule = pd_xcalloc(r->src.n + 1, sizeof(*r->rule));
	r->why = pd_xcalloc(r->src.n + 1, sizeof(*r->why));
	for (size_t k = 0; k < r->src.n; k++)
		r->rule[k] = pd_source_rule(&seen, &r->src.v[k], &r->why[k]); /* rules.h */
	for (size_t i = 0; i < nnamed; i++) {
		if (r->rule[named[i]] == PD_ENTRY_ABSENT) {
			r->rule[named[i]] = PD_ENTRY_REJECTED;
			r->why[named[i]] = r->src.v[named[i]].errmsg;
		}
	}
	pd_strv_clear(&seen);
	return status;
}

/* Every AppArmor file in one batched compile; 0, or 2 when the parser
 * cannot run. */
static int
check_compile(struct check_run *r)
{
	struct stopsig stop = { .fd = -1 };
	struct pd_spawn_cancel cancel = { .fn = stopsig_pending, .arg = &stop };
	struct pd_aa_stats stats;
	pd_error_t err = NULL;
	int ret;

	r->unit_of = pd_xcalloc(r->src.n + 1, sizeof(*r->unit_of));
	r->units = pd_xcalloc(r->src.n + 1, sizeof(*r->units));
	for (size_t k = 0; k < r->src.n; k++) {
		const struct pd_source *s = &r->src.v[k];
		struct pd_aa_unit *u = &r->units[r->nunits];

		if (s->kind != PD_KIND_APPARMOR || r->rule[k] != PD_ENTRY_USE)
			continue;
		u->label = s->path;
		u->data = s->data;
		u->len = s->len;
		memcpy(u->sha256, s->sha256, sizeof(s->sha256));
		r->unit_of[k] = ++r->nunits;
	}
	if (r->nunits == 0)
		return 0;
	/* SIGTERM/SIGINT stop the compile; its temporary folder goes with
	 * pd_aa_free(). */
	r->aao.load = false;
	ret = pd_aa_open(&r->aao, &r->aa, &err);
	if (ret == 0 && stopsig_open(&stop) == 0) {
		cancel.fd = stop.fd;
		pd_aa_set_cancel(r->aa, &cancel);
	}
	if (ret == 0)
		ret = pd_aa_compile(r->aa, r->units, r->nunits, &stats, &err);
	if (r->aa != NULL)
		pd_aa_set_cancel(r->aa, NULL);
	stopsig_close(&stop);
	if (ret < 0) {
		fprintf(stderr, "profiled: AppArmor: %s\n", pd_error_msg(err));
		pd_error_release(&err);
		return 2;
	}
	return 0;
}

/* One line per finding, in the order of the files; 1 if any is an error. */
static int
check_print(struct check_run *r)
{
	int status = 0;

	for (size_t k = 0, f = 0; k <= r->src.n; k++) {
		const struct pd_source *s = &r->src.v[k];

		for (; f < r->failed.n && strtoul(r->failed.v[f], NULL, 10) == k; f++)
			printf("%s\n", strchr(r->failed.v[f], '\n') + 1);
		if (k == r->src.n)
			break;
		if (r->rule[k] == PD_ENTRY_ABSENT) {
			/* Not an error: the kubelet's swap leaves such links. */
			printf("%s: warning: the entry vanished or its link dangles; the daemon "
			       "takes it as absent\n",
			       s->path);
		} else if (r->rule[k] == PD_ENTRY_REJECTED) {
			printf("%s: error: %s\n", s->path, r->why[k]);
			status = 1;
		} else if (s->kind == PD_KIND_SECCOMP) {
			status |= check_seccomp(s, &r->env);
		} else {
			status |= print_apparmor(r->units, r->unit_of[k] - 1);
		}
	}
	return status;
}

static void
check_run_clear(struct check_run *r)
{
	for (size_t i = 0; i < r->nunits; i++)
		pd_aa_unit_clear(&r->units[i]);
	free(r->units);
	free(r->unit_of);
	free(r->rule);
	free(r->why);
	pd_aa_free(r->aa);
	pd_strv_clear(&r->failed);
	pd_sources_clear(&r->src);
}

int
check_main(int argc, char **argv)
{
	struct check_run r = { 0 };
	pd_error_t err = NULL;
	int status;

	status = check_args(argc, argv, &r);
	if (status >= 0)
		return status;
	if (pd_seccomp_env_native(&r.env, &err) < 0) {
		fprintf(stderr, "profiled: %s\n", pd_error_msg(err));
		pd_error_release(&err);
		return 2;
	}
	if (check_folders(argv + optind, argc - optind) != 0)
		return 2;
	status = check_read(argv + optind, argc - optind, &r);
	if (check_compile(&r) != 0)
		status = 2;
	else
		status |= check_print(&r);
	check_run_clear(&r);
	fflush(stdout);
	return status;
}
