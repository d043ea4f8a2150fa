/* SPDX-License-Identifier: Apache-2.0 */
#include "options.h"

#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/apparmor.h"
#include "../lib/labels.h"
#include "../lib/nodepatch.h"
#include "../lib/paths.h"
#include "../lib/store.h"
#include "metrics.h"

/*
 * Numbers from the command line: decimal digits only (no sign, space or
 * base prefix), checked against the range before any arithmetic, so no
 * value can overflow (UBSan) or wrap into an accepted one.
 */
int
parse_uint(const char *s, long long min, long long max, long long *out)
{
	long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > max / 10 || v * 10 > max - (*s - '0'))
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

long long
parse_duration_ms(const char *s)
{
	long long total = 0;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		char digits[24];
		size_t n = strspn(s, "0123456789");
		const char *end = s + n;
		long long v, mul;

		if (n == 0 || n >= sizeof(digits))
			return -1;
		memcpy(digits, s, n);
		digits[n] = '\0';
		switch (*end) {
		case '\0':
			mul = 1000;
			break;
		case 'h':
			mul = 3600000;
			end++;
			break;
		case 'm':
			if (end[1] == 's') {
				mul = 1;
				end += 2;
			} else {
				mul = 60000;
				end++;
			}
			break;
		case 's':
			mul = 1000;
			end++;
			break;
		default:
			return -1;
		}
		/* v * mul and the sum stay within DURATION_MAX_MS. */
		if (parse_uint(digits, 0, (DURATION_MAX_MS - total) / mul, &v) < 0)
			return -1;
		total += v * mul;
		s = end;
	}
	return total;
}

static int __attribute__((format(printf, 1, 2))) bad(const char *fmt, ...)
{
	va_list ap;

	fputs("profiled: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'profiled --help'.\n", stderr);
	return 2;
}

/* One folder the agent reads or writes, for the overlap check. */
struct place {
	const char *flag; /* how the user named it */
	char *path;
	unsigned group; /* places of one group may overlap each other */
};

/*
 * Refuses folders that overlap: the same profiles folder twice (every file
 * would be a duplicate), a profiles folder in or around the published
 * folder (the agent would read what it writes) or the state folder (the
 * lock and state.json would be profiles), the state folder in or around
 * the seccomp root (a profile named state.json would overwrite the state).
 * The AppArmor cache is inside the state folder.  Compared by inode where
 * the folders exist, so symlinks, `..` and bind mounts do not hide it.
 */
static int
check_overlaps(const struct options *o)
{
	size_t n = o->profiles.n + 3, k = 0;
	_cleanup_free_ struct place *v = pd_xcalloc(n, sizeof(*v));
	_cleanup_free_ char *published = pd_xasprintf("%s/%s", o->seccomp_root, o->seccomp_subdir);
	int ret = 0;

	for (size_t i = 0; i < o->profiles.n; i++)
		v[k++] = (struct place){ "--profiles", o->profiles.v[i], 0 };
	/* The seccomp root holds others' files: only the state may not touch it. */
	v[k++] = (struct place){ "--seccomp-root", (char *)o->seccomp_root, 1 };
	v[k++] = (struct place){ "--seccomp-root/--seccomp-subdir", published, 2 };
	v[k++] = (struct place){ "--state-dir", (char *)o->state_dir, 3 };
	for (size_t i = 0; i < k && ret == 0; i++) {
		for (size_t j = i + 1; j < k && ret == 0; j++) {
			_cleanup_free_ char *msg = NULL;

			if ((v[i].group == 1 && v[j].group != 3) ||
			    (v[j].group == 1 && v[i].group != 3) ||
			    (v[i].group == v[j].group && v[i].group != 0))
				continue;
			msg = pd_overlap_text(v[i].flag, v[i].path, v[j].flag, v[j].path);
			if (msg != NULL)
				ret = bad("%s", msg);
		}
	}
	return ret;
}

static int
validate(struct options *o)
{
	pd_error_t err = NULL;

	if (pd_label_domain_check(o->label_domain, &err) < 0 ||
	    pd_store_subdir_check(o->seccomp_subdir, &err) < 0) {
		fprintf(stderr, "profiled: %s\n", pd_error_msg(err));
		pd_error_release(&err);
		return 2;
	}
	if (o->node_name != NULL && (*o->node_name == '\0' || strlen(o->node_name) > 253))
		return bad("node name \"%s\" is not a valid node name", o->node_name);
	return check_overlaps(o);
}

/* ---- the flags: one table a subcommand ------------------------------------ */

static int
set_profiles(void *arg, const char *v)
{
	struct options *o = arg;

	pd_strv_push(&o->profiles, pd_xstrdup(v));
	return 0;
}

static int
set_log_format(void *arg, const char *v)
{
	struct options *o = arg;

	if (strcmp(v, "text") == 0)
		o->log_format = LOG_FMT_TEXT;
	else if (strcmp(v, "json") == 0)
		o->log_format = LOG_FMT_JSON;
	else
		return bad("--log-format \"%s\": want text or json", v);
	return 0;
}

static int
set_log_level(void *arg, const char *v)
{
	static const char *const names[] = {
		[LOG_LVL_DEBUG] = "debug",
		[LOG_LVL_INFO] = "info",
		[LOG_LVL_WARN] = "warn",
		[LOG_LVL_ERROR] = "error",
	};
	struct options *o = arg;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (names[i] != NULL && strcmp(v, names[i]) == 0) {
			o->log_level = (enum log_level)i;
			return 0;
		}
	}
	return bad("--log-level \"%s\": want debug, info, warn or error", v);
}

static int
set_remove_taint(void *arg, const char *v)
{
	struct options *o = arg;
	pd_error_t err = NULL;
	int ret = 0;

	free(o->remove_taint_key);
	free(o->remove_taint_effect);
	if (pd_taint_spec_parse(v, &o->remove_taint_key, &o->remove_taint_effect, &err) < 0) {
		ret = bad("--remove-taint \"%s\": %s", v, pd_error_msg(err));
		pd_error_release(&err);
	}
	return ret;
}

static int
set_pid(void *arg, const char *v)
{
	struct advise_options *o = arg;
	long long pid;

	if (parse_uint(v, 1, INT_MAX, &pid) < 0)
		return bad("--pid \"%s\": want a process id", v);
	pd_grow(&o->pids, &o->cap_pids, o->n_pids + 1, sizeof(*o->pids));
	o->pids[o->n_pids++] = pid;
	return 0;
}

static int
set_comm(void *arg, const char *v)
{
	struct advise_options *o = arg;

	if (v[0] == '\0' || strlen(v) > 15)
		return bad("--comm \"%s\": want a command name of 1 to 15 bytes", v);
	pd_strv_push(&o->comms, pd_xstrdup(v));
	return 0;
}

static int
show_help(void *arg, const char *v)
{
	(void)arg;
	(void)v;
	usage(stdout);
	exit(0);
}

static int
show_check_help(void *arg, const char *v)
{
	(void)arg;
	(void)v;
	options_check_usage(stdout);
	exit(0);
}

/* Entries' second half: what the flag sets in OPT_TYPE. */
#define STR(f)	  .set = OPT_SET_STR, .field = offsetof(OPT_TYPE, f)
#define SWITCH(f) .set = OPT_SET_TRUE, .field = offsetof(OPT_TYPE, f)
#define FN(f)	  .set = OPT_SET_FN, .fn = f
#define DUR(f, least, w)                                                                           \
	.set = OPT_SET_DURATION, .field = offsetof(OPT_TYPE, f), .min_ms = least, .want = w

#define OPT_TYPE struct options
/* In the order of --help.  A text of several lines goes on at column 27. */
static const struct opt_spec run_spec[] = {
	{ "profiles", "DIR", "profiles folder, repeatable (default " DEFAULT_PROFILES_DIR ")",
	  FN(set_profiles) },
	{ "seccomp-root", "DIR", "kubelet seccomp folder (default " DEFAULT_SECCOMP_ROOT ")",
	  STR(seccomp_root) },
	{ "seccomp-subdir", "NAME",
	  "folder below it that the agent owns (default " DEFAULT_SECCOMP_SUBDIR ")",
	  STR(seccomp_subdir) },
	{ "state-dir", "DIR", "state and lock (default " DEFAULT_STATE_DIR ")", STR(state_dir) },
	{ "label-domain", "DOMAIN", "label prefix domain (default " DEFAULT_LABEL_DOMAIN ")",
	  STR(label_domain) },
	{ "node-name", "NAME", "this node (default $NODE_NAME)", STR(node_name) },
	{ "resync-interval", "DUR", "re-verify everything this often (default 10m)",
	  DUR(resync_ms, 1000, "a duration from 1s to 168h such as 30s, 10m or 1h") },
	{ "once", NULL, "one full reconcile, then exit", SWITCH(once) },
	{ "apparmorfs", "DIR", "AppArmor securityfs folder (default: the kernel's)",
	  STR(apparmorfs) },
	{ "apparmor-parser", "PATH", "AppArmor parser (default apparmor_parser on PATH)",
	  STR(apparmor_parser) },
	{ "apparmor-compile-timeout", "DUR",
	  "longest compile of one AppArmor file; a\nslower file is rejected (default 30s)",
	  DUR(apparmor_compile_timeout_ms, 1000, "a duration of at least 1s such as 30s or 2m") },
	{ "adopt-existing", NULL, "take over loaded AppArmor profiles it did not load",
	  SWITCH(adopt_existing) },
	{ "unload-removed", NULL,
	  "unload its AppArmor profiles that leave the folders\nonce no process runs under them "
	  "(needs hostPID)",
	  SWITCH(unload_removed) },
	{ "unload-retry-interval", "DUR",
	  "how often a profile still in use is tried\nagain (default 10s)",
	  DUR(unload_retry_ms, 1000, "a duration from 1s to 168h such as 10s or 1m") },
	{ "apparmor-validate-only", NULL, "compile AppArmor files, never load them",
	  SWITCH(apparmor_validate_only) },
	{ "kubeconfig", "FILE",
	  "API server access (default $KUBECONFIG, else the\nin-cluster service account, else "
	  "local mode)",
	  STR(kubeconfig) },
	{ "remove-taint", "KEY[:EFFECT]",
	  "remove this taint from the Node once every\nprofile is in place (API mode)",
	  FN(set_remove_taint) },
	{ "metrics-addr", "ADDR", "/healthz, /readyz, /metrics (default :9860; \"\": off)",
	  STR(metrics_addr) },
	{ "log-format", "text|json", "(default text)", FN(set_log_format) },
	/* Too long for the column: its default follows after one space. */
	{ "log-level", "debug|info|warn|error (default info)", "", FN(set_log_level) },
	{ "proc-root", "DIR", NULL, STR(proc_root) }, /* tests only */
	{ "help", NULL, NULL, FN(show_help) },
};
#undef OPT_TYPE

#define OPT_TYPE struct advise_options
/* Listed by name only, in the usage line of `profiled advise`. */
static const struct opt_spec advise_spec[] = {
	{ "pid", "PID", "", FN(set_pid) },
	{ "comm", "NAME", "", FN(set_comm) },
	{ "cgroup", "PATH", "", STR(cgroup) },
	{ "duration", "DUR", "", DUR(duration_ms, 1, "a duration up to 168h such as 30s or 5m") },
	{ "seccomp-out", "FILE", "", STR(seccomp_out) },
	{ "apparmor-out", "FILE", "", STR(apparmor_out) },
	{ "help", NULL, NULL, FN(show_help) },
};
#undef OPT_TYPE

#define OPT_TYPE struct pd_aa_options
/* Listed by name only, in the usage line of `profiled check`. */
static const struct opt_spec check_spec[] = {
	{ "apparmor-parser", "PATH", "", STR(parser) },
	{ "features", "PATH", "", STR(features) },
	{ "help", NULL, NULL, FN(show_check_help) },
};
#undef OPT_TYPE
#undef STR
#undef SWITCH
#undef FN
#undef DUR

/* getopt_long's values: past every short option and its ':' and '?'. */
#define OPT_VAL0 256
#define OPTS_MAX 32
_Static_assert(ARRAY_SIZE(run_spec) < OPTS_MAX && ARRAY_SIZE(advise_spec) < OPTS_MAX &&
		       ARRAY_SIZE(check_spec) < OPTS_MAX,
	       "OPTS_MAX is too small");

const struct opt_spec *
options_run_spec(size_t *n)
{
	*n = ARRAY_SIZE(run_spec);
	return run_spec;
}

const struct opt_spec *
options_advise_spec(size_t *n)
{
	*n = ARRAY_SIZE(advise_spec);
	return advise_spec;
}

static int
apply(const struct opt_spec *s, const char *v, void *o)
{
	char *at = (char *)o + s->field;
	long long ms;

	switch (s->set) {
	case OPT_SET_STR:
		*(const char **)(void *)at = v;
		return 0;
	case OPT_SET_TRUE:
		*(bool *)(void *)at = true;
		return 0;
	case OPT_SET_DURATION:
		ms = parse_duration_ms(v);
		if (ms < s->min_ms)
			return bad("--%s \"%s\": want %s", s->name, v, s->want);
		*(long long *)(void *)at = ms;
		return 0;
	case OPT_SET_FN:
		break;
	}
	return s->fn(o, v);
}

/* How a command words a flag that is unknown or lacks its value: prints
 * it, returns 2. */
typedef int (*flag_error_fn)(const char *flag, bool no_value);

static int
flag_error(const char *flag, bool no_value)
{
	return no_value ? bad("option %s needs a value", flag) : bad("unknown option \"%s\"", flag);
}

/* The index of --help in the table, n if none. */
static size_t
help_index(const struct opt_spec *spec, size_t n)
{
	size_t i = 0;

	while (i < n && strcmp(spec[i].name, "help") != 0)
		i++;
	return i;
}

/* Runs getopt_long over argv with the table's flags, applying each to o;
 * -h, where shortopts has it, is --help.  Returns 0, or 2 after printing
 * a usage error through fail. */
static int
parse_flags(const struct opt_spec *spec, size_t n, const char *shortopts, int argc, char **argv,
	    void *o, flag_error_fn fail)
{
	struct option lo[OPTS_MAX + 1] = { { 0 } };
	int c, ret;

	for (size_t i = 0; i < n; i++)
		lo[i] = (struct option){ spec[i].name,
					 spec[i].arg != NULL ? required_argument : no_argument,
					 NULL, OPT_VAL0 + (int)i };
	optind = 0; /* getopt starts afresh, shortopts' ordering included */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (c == 'h')
			c = OPT_VAL0 + (int)help_index(spec, n);
		if (c == ':')
			return fail(argv[optind - 1], true);
		if (c < OPT_VAL0 || c >= OPT_VAL0 + (int)n)
			return fail(argv[optind - 1], false);
		if ((ret = apply(&spec[c - OPT_VAL0], optarg, o)) != 0)
			return ret;
	}
	return 0;
}

/* The text starts at column 27 (two spaces after a longer flag); its
 * further lines too. */
#define HELP_COLUMN 27

static void
print_flags(FILE *f, const struct opt_spec *spec, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *h = spec[i].help;
		int w;

		if (h == NULL)
			continue;
		w = fprintf(f, "  --%s%s%s", spec[i].name, spec[i].arg != NULL ? " " : "",
			    spec[i].arg != NULL ? spec[i].arg : "");
		if (*h != '\0')
			fprintf(f, "%*s", w < HELP_COLUMN ? HELP_COLUMN - w : 2, "");
		for (const char *nl; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COLUMN, "");
		fprintf(f, "%s\n", h);
	}
}

/* "--pid PID" */
static char *
flag_text(const struct opt_spec *s)
{
	return pd_xasprintf("--%s%s%s", s->name, s->arg != NULL ? " " : "",
			    s->arg != NULL ? s->arg : "");
}

/* "(flags: --pid PID, ...; see docs/advise.md)" from column 35, wrapped
 * before column 81. */
#define SUMMARY_INDENT 34
#define SUMMARY_WIDTH  80

static void
print_summary(FILE *f, const struct opt_spec *spec, size_t n, const char *doc)
{
	int col = fprintf(f, "%*s(flags:", SUMMARY_INDENT, "");
	size_t last = 0;

	for (size_t i = 0; i < n; i++)
		if (spec[i].help != NULL)
			last = i;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *flag = NULL, *item = NULL;
		int len;

		if (spec[i].help == NULL)
			continue;
		flag = flag_text(&spec[i]);
		item = i == last ? pd_xasprintf("%s; see %s)", flag, doc)
				 : pd_xasprintf("%s,", flag);
		len = (int)strlen(item);
		if (col + 1 + len > SUMMARY_WIDTH)
			col = fprintf(f, "\n%*s%s", SUMMARY_INDENT, "", item) - 1;
		else
			col += fprintf(f, " %s", item);
	}
	fputc('\n', f);
}

void
usage(FILE *f)
{
	fputs("usage: profiled [run] [flags]     run the agent (the default)\n"
	      "       profiled check PATH...     validate profile files or folders\n",
	      f);
	print_summary(f, check_spec, ARRAY_SIZE(check_spec), "docs/operations.md");
	fputs("       profiled advise [flags] FILE|-|/dev/kmsg\n"
	      "                                  suggest profiles from audit records\n",
	      f);
	print_summary(f, advise_spec, ARRAY_SIZE(advise_spec), "docs/advise.md");
	fputs("       profiled version\n"
	      "\n"
	      "run flags:\n",
	      f);
	print_flags(f, run_spec, ARRAY_SIZE(run_spec));
	fputs("\n"
	      "exit codes: 0 all good; 1 a profile was rejected or failed (check, --once);\n"
	      "            2 usage or configuration error\n",
	      f);
}

int
options_parse_run(int argc, char **argv, struct options *o)
{
	int ret;

	memset(o, 0, sizeof(*o));
	o->seccomp_root = DEFAULT_SECCOMP_ROOT;
	o->seccomp_subdir = DEFAULT_SECCOMP_SUBDIR;
	o->state_dir = DEFAULT_STATE_DIR;
	o->label_domain = DEFAULT_LABEL_DOMAIN;
	o->resync_ms = DEFAULT_RESYNC_SECONDS * 1000LL;
	o->unload_retry_ms = DEFAULT_UNLOAD_RETRY_MS;
	o->proc_root = DEFAULT_PROC_ROOT;
	o->log_format = LOG_FMT_TEXT;
	o->metrics_addr = METRICS_DEFAULT_ADDR;
	o->log_level = LOG_LVL_INFO;
	o->node_name = getenv("NODE_NAME");
	if (o->node_name != NULL && *o->node_name == '\0')
		o->node_name = NULL;
	/* "+": the flags end at the first argument that is not one. */
	if ((ret = parse_flags(run_spec, ARRAY_SIZE(run_spec), "+:", argc, argv, o, flag_error)) !=
	    0)
		return ret;
	if (optind < argc)
		return bad("unexpected argument \"%s\"", argv[optind]);
	if (o->profiles.n == 0)
		pd_strv_push(&o->profiles, pd_xstrdup(DEFAULT_PROFILES_DIR));
	return validate(o);
}

void
options_clear(struct options *o)
{
	pd_strv_clear(&o->profiles);
	free(o->remove_taint_key);
	free(o->remove_taint_effect);
}

int
options_parse_advise(int argc, char **argv, struct advise_options *o)
{
	int ret;

	memset(o, 0, sizeof(*o));
	if ((ret = parse_flags(advise_spec, ARRAY_SIZE(advise_spec), ":", argc, argv, o,
			       flag_error)) != 0)
		return ret;
	if (optind != argc - 1)
		return bad("advise wants one source: a log file, - for stdin, or /dev/kmsg");
	o->source = argv[optind];
	return 0;
}

void
advise_options_clear(struct advise_options *o)
{
	free(o->pids);
	pd_strv_clear(&o->comms);
}

void
options_check_usage(FILE *f)
{
	fputs("usage: profiled check", f);
	for (size_t i = 0; i < ARRAY_SIZE(check_spec); i++) {
		_cleanup_free_ char *flag = NULL;

		if (check_spec[i].help == NULL)
			continue;
		flag = flag_text(&check_spec[i]);
		fprintf(f, " [%s]", flag);
	}
	fputs(" PATH...\n", f);
}

/* check's own wording, then its usage line. */
static int
check_flag_error(const char *flag, bool no_value)
{
	if (no_value)
		fprintf(stderr, "profiled: check: `%s` needs a value\n", flag);
	else
		fprintf(stderr, "profiled: check: unknown flag `%s`\n", flag);
	options_check_usage(stderr);
	return 2;
}

int
options_parse_check(int argc, char **argv, struct pd_aa_options *o)
{
	int ret;

	/* "+": the flags end at the first path. */
	ret = parse_flags(check_spec, ARRAY_SIZE(check_spec), "+:h", argc, argv, o,
			  check_flag_error);
	if (ret != 0)
		return ret;
	if (optind >= argc) {
		options_check_usage(stderr);
		return 2;
	}
	return 0;
}
