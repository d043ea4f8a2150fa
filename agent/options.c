/* SPDX-License-Identifier: Apache-2.0 */
#include "options.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/labels.h"
#include "../lib/nodepatch.h"
#include "../lib/paths.h"
#include "../lib/store.h"
#include "metrics.h"

enum {
	OPT_PROFILES = 256,
	OPT_SECCOMP_ROOT,
	OPT_SECCOMP_SUBDIR,
	OPT_STATE_DIR,
	OPT_LABEL_DOMAIN,
	OPT_NODE_NAME,
	OPT_RESYNC,
	OPT_ONCE,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
	OPT_APPARMORFS,
	OPT_APPARMOR_PARSER,
	OPT_AA_COMPILE_TIMEOUT,
	OPT_ADOPT,
	OPT_UNLOAD,
	OPT_UNLOAD_RETRY,
	OPT_PROC_ROOT,
	OPT_AA_VALIDATE,
	OPT_KUBECONFIG,
	OPT_METRICS_ADDR,
	OPT_REMOVE_TAINT,
	OPT_HELP,
};

static const struct option run_options[] = {
	{ "profiles", required_argument, NULL, OPT_PROFILES },
	{ "seccomp-root", required_argument, NULL, OPT_SECCOMP_ROOT },
	{ "seccomp-subdir", required_argument, NULL, OPT_SECCOMP_SUBDIR },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "label-domain", required_argument, NULL, OPT_LABEL_DOMAIN },
	{ "node-name", required_argument, NULL, OPT_NODE_NAME },
	{ "resync-interval", required_argument, NULL, OPT_RESYNC },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "apparmorfs", required_argument, NULL, OPT_APPARMORFS },
	{ "apparmor-parser", required_argument, NULL, OPT_APPARMOR_PARSER },
	{ "apparmor-compile-timeout", required_argument, NULL, OPT_AA_COMPILE_TIMEOUT },
	{ "adopt-existing", no_argument, NULL, OPT_ADOPT },
	{ "unload-removed", no_argument, NULL, OPT_UNLOAD },
	{ "unload-retry-interval", required_argument, NULL, OPT_UNLOAD_RETRY },
	{ "proc-root", required_argument, NULL, OPT_PROC_ROOT }, /* tests only: not in usage */
	{ "apparmor-validate-only", no_argument, NULL, OPT_AA_VALIDATE },
	{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
	{ "metrics-addr", required_argument, NULL, OPT_METRICS_ADDR },
	{ "remove-taint", required_argument, NULL, OPT_REMOVE_TAINT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void
usage(FILE *f)
{
	fputs("usage: profiled [run] [flags]     run the agent (the default)\n"
	      "       profiled check PATH...     validate profile files or folders\n"
	      "                                  (flag: --apparmor-parser PATH)\n"
	      "       profiled advise [flags] FILE|-|/dev/kmsg\n"
	      "                                  suggest profiles from audit records\n"
	      "                                  (flags: --pid PID, --comm NAME, --cgroup PATH,\n"
	      "                                  --duration DUR, --seccomp-out FILE,\n"
	      "                                  --apparmor-out FILE; see docs/advise.md)\n"
	      "       profiled version\n"
	      "\n"
	      "run flags:\n"
	      "  --profiles DIR           profiles folder, repeatable (default " DEFAULT_PROFILES_DIR
	      ")\n"
	      "  --seccomp-root DIR       kubelet seccomp folder (default " DEFAULT_SECCOMP_ROOT
	      ")\n"
	      "  --seccomp-subdir NAME    folder below it that the agent owns (default " DEFAULT_SECCOMP_SUBDIR
	      ")\n"
	      "  --state-dir DIR          state and lock (default " DEFAULT_STATE_DIR ")\n"
	      "  --label-domain DOMAIN    label prefix domain (default " DEFAULT_LABEL_DOMAIN ")\n"
	      "  --node-name NAME         this node (default $NODE_NAME)\n"
	      "  --resync-interval DUR    re-verify everything this often (default 10m)\n"
	      "  --once                   one full reconcile, then exit\n"
	      "  --apparmorfs DIR         AppArmor securityfs folder (default: the kernel's)\n"
	      "  --apparmor-parser PATH   AppArmor parser (default apparmor_parser on PATH)\n"
	      "  --apparmor-compile-timeout DUR  longest compile of one AppArmor file; a\n"
	      "                           slower file is rejected (default 30s)\n"
	      "  --adopt-existing         take over loaded AppArmor profiles it did not load\n"
	      "  --unload-removed         unload its AppArmor profiles that leave the folders\n"
	      "                           once no process runs under them (needs hostPID)\n"
	      "  --unload-retry-interval DUR  how often a profile still in use is tried\n"
	      "                           again (default 10s)\n"
	      "  --apparmor-validate-only compile AppArmor files, never load them\n"
	      "  --kubeconfig FILE        API server access (default $KUBECONFIG, else the\n"
	      "                           in-cluster service account, else local mode)\n"
	      "  --remove-taint KEY[:EFFECT]  remove this taint from the Node once every\n"
	      "                           profile is in place (API mode)\n"
	      "  --metrics-addr ADDR      /healthz, /readyz, /metrics (default :9860; \"\": off)\n"
	      "  --log-format text|json   (default text)\n"
	      "  --log-level debug|info|warn|error (default info)\n"
	      "\n"
	      "exit codes: 0 all good; 1 a profile was rejected or failed (check, --once);\n"
	      "            2 usage or configuration error\n",
	      f);
}

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
			enum pd_overlap ov = PD_DISJOINT;
			pd_error_t err = NULL;

			if ((v[i].group == 1 && v[j].group != 3) ||
			    (v[j].group == 1 && v[i].group != 3) ||
			    (v[i].group == v[j].group && v[i].group != 0))
				continue;
			/* A path that cannot be looked at is reported when used. */
			if (pd_path_overlap(v[i].path, v[j].path, &ov, &err) < 0) {
				pd_error_release(&err);
				continue;
			}
			if (ov == PD_SAME)
				ret = bad("%s \"%s\" and %s \"%s\" are the same folder", v[i].flag,
					  v[i].path, v[j].flag, v[j].path);
			else if (ov == PD_A_IN_B)
				ret = bad("%s \"%s\" is inside %s \"%s\"; they must not overlap",
					  v[i].flag, v[i].path, v[j].flag, v[j].path);
			else if (ov == PD_B_IN_A)
				ret = bad("%s \"%s\" is inside %s \"%s\"; they must not overlap",
					  v[j].flag, v[j].path, v[i].flag, v[i].path);
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

int
options_parse_run(int argc, char **argv, struct options *o)
{
	int c;

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

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", run_options, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILES:
			pd_strv_push(&o->profiles, pd_xstrdup(optarg));
			break;
		case OPT_SECCOMP_ROOT:
			o->seccomp_root = optarg;
			break;
		case OPT_SECCOMP_SUBDIR:
			o->seccomp_subdir = optarg;
			break;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_LABEL_DOMAIN:
			o->label_domain = optarg;
			break;
		case OPT_NODE_NAME:
			o->node_name = optarg;
			break;
		case OPT_RESYNC:
			o->resync_ms = parse_duration_ms(optarg);
			if (o->resync_ms < 1000)
				return bad(
					"--resync-interval \"%s\": want a duration from 1s to 168h such as 30s, 10m or 1h",
					optarg);
			break;
		case OPT_ONCE:
			o->once = true;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o->log_format = LOG_FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->log_format = LOG_FMT_JSON;
			else
				return bad("--log-format \"%s\": want text or json", optarg);
			break;
		case OPT_LOG_LEVEL:
			if (strcmp(optarg, "debug") == 0)
				o->log_level = LOG_LVL_DEBUG;
			else if (strcmp(optarg, "info") == 0)
				o->log_level = LOG_LVL_INFO;
			else if (strcmp(optarg, "warn") == 0)
				o->log_level = LOG_LVL_WARN;
			else if (strcmp(optarg, "error") == 0)
				o->log_level = LOG_LVL_ERROR;
			else
				return bad("--log-level \"%s\": want debug, info, warn or error",
					   optarg);
			break;
		case OPT_APPARMORFS:
			o->apparmorfs = optarg;
			break;
		case OPT_APPARMOR_PARSER:
			o->apparmor_parser = optarg;
			break;
		case OPT_AA_COMPILE_TIMEOUT:
			o->apparmor_compile_timeout_ms = parse_duration_ms(optarg);
			if (o->apparmor_compile_timeout_ms < 1000)
				return bad(
					"--apparmor-compile-timeout \"%s\": want a duration of at "
					"least 1s such as 30s or 2m",
					optarg);
			break;
		case OPT_ADOPT:
			o->adopt_existing = true;
			break;
		case OPT_UNLOAD:
			o->unload_removed = true;
			break;
		case OPT_UNLOAD_RETRY:
			o->unload_retry_ms = parse_duration_ms(optarg);
			if (o->unload_retry_ms < 1000)
				return bad(
					"--unload-retry-interval \"%s\": want a duration from 1s to 168h such as 10s or 1m",
					optarg);
			break;
		case OPT_PROC_ROOT:
			o->proc_root = optarg;
			break;
		case OPT_AA_VALIDATE:
			o->apparmor_validate_only = true;
			break;
		case OPT_KUBECONFIG:
			o->kubeconfig = optarg;
			break;
		case OPT_METRICS_ADDR:
			o->metrics_addr = optarg;
			break;
		case OPT_REMOVE_TAINT: {
			pd_error_t err = NULL;

			free(o->remove_taint_key);
			free(o->remove_taint_effect);
			if (pd_taint_spec_parse(optarg, &o->remove_taint_key,
						&o->remove_taint_effect, &err) < 0) {
				int r = bad("--remove-taint \"%s\": %s", optarg, pd_error_msg(err));

				pd_error_release(&err);
				return r;
			}
			break;
		}
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case ':':
			return bad("option %s needs a value", argv[optind - 1]);
		default:
			return bad("unknown option \"%s\"", argv[optind - 1]);
		}
	}
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

enum {
	OPT_PID = 512,
	OPT_COMM,
	OPT_CGROUP,
	OPT_DURATION,
	OPT_SECCOMP_OUT,
	OPT_APPARMOR_OUT,
	OPT_ADVISE_HELP,
};

static const struct option advise_opts[] = {
	{ "pid", required_argument, NULL, OPT_PID },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "seccomp-out", required_argument, NULL, OPT_SECCOMP_OUT },
	{ "apparmor-out", required_argument, NULL, OPT_APPARMOR_OUT },
	{ "help", no_argument, NULL, OPT_ADVISE_HELP },
	{ NULL, 0, NULL, 0 },
};

int
options_parse_advise(int argc, char **argv, struct advise_options *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", advise_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PID: {
			long long v;

			if (parse_uint(optarg, 1, INT_MAX, &v) < 0)
				return bad("--pid \"%s\": want a process id", optarg);
			o->pids = pd_xrealloc(o->pids, o->n_pids + 1, sizeof(*o->pids));
			o->pids[o->n_pids++] = v;
			break;
		}
		case OPT_COMM:
			if (optarg[0] == '\0' || strlen(optarg) > 15)
				return bad("--comm \"%s\": want a command name of 1 to 15 bytes",
					   optarg);
			pd_strv_push(&o->comms, pd_xstrdup(optarg));
			break;
		case OPT_CGROUP:
			o->cgroup = optarg;
			break;
		case OPT_DURATION:
			o->duration_ms = parse_duration_ms(optarg);
			if (o->duration_ms <= 0)
				return bad(
					"--duration \"%s\": want a duration up to 168h such as 30s or 5m",
					optarg);
			break;
		case OPT_SECCOMP_OUT:
			o->seccomp_out = optarg;
			break;
		case OPT_APPARMOR_OUT:
			o->apparmor_out = optarg;
			break;
		case OPT_ADVISE_HELP:
			usage(stdout);
			exit(0);
		case ':':
			return bad("option %s needs a value", argv[optind - 1]);
		default:
			return bad("unknown option \"%s\"", argv[optind - 1]);
		}
	}
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
