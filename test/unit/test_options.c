/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/options.c, through libprofiled-agent.a: the flag tables of
 * `profiled run` and `profiled advise`, the --help text made from them, and
 * each flag's effect.
 */
#include "unit.h"

#include <sys/wait.h>

#include "../../agent/options.h"

/* The --help text as it was written out by hand before the tables (the
 * text made from them stays the same to the byte), but for check's line,
 * made from its table since, which named --apparmor-parser alone. */
static const char help_text[] =
	"usage: profiled [run] [flags]     run the agent (the default)\n"
	"       profiled check PATH...     validate profile files or folders\n"
	"                                  (flags: --apparmor-parser PATH,\n"
	"                                  --features PATH; see docs/operations.md)\n"
	"       profiled advise [flags] FILE|-|/dev/kmsg\n"
	"                                  suggest profiles from audit records\n"
	"                                  (flags: --pid PID, --comm NAME, --cgroup PATH,\n"
	"                                  --duration DUR, --seccomp-out FILE,\n"
	"                                  --apparmor-out FILE; see docs/advise.md)\n"
	"       profiled version\n"
	"\n"
	"run flags:\n"
	"  --profiles DIR           profiles folder, repeatable (default /etc/profiled/profiles)\n"
	"  --seccomp-root DIR       kubelet seccomp folder (default /var/lib/kubelet/seccomp)\n"
	"  --seccomp-subdir NAME    folder below it that the agent owns (default profiled)\n"
	"  --state-dir DIR          state and lock (default /var/lib/profiled)\n"
	"  --label-domain DOMAIN    label prefix domain (default profiled.io)\n"
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
	"            2 usage or configuration error\n";

/* A value for every flag that takes one (NULL: a switch).  A flag added to
 * a table without a value here fails the tests that parse every flag. */
static const struct {
	const char *name, *value;
} samples[] = {
	{ "profiles", "/test-options/p" },
	{ "seccomp-root", "/test-options/r" },
	{ "seccomp-subdir", "sub" },
	{ "state-dir", "/test-options/s" },
	{ "label-domain", "example.com" },
	{ "node-name", "node-1" },
	{ "resync-interval", "30s" },
	{ "once", NULL },
	{ "apparmorfs", "/test-options/aafs" },
	{ "apparmor-parser", "/test-options/apparmor_parser" },
	{ "apparmor-compile-timeout", "2m" },
	{ "adopt-existing", NULL },
	{ "unload-removed", NULL },
	{ "unload-retry-interval", "1m" },
	{ "apparmor-validate-only", NULL },
	{ "kubeconfig", "/test-options/kubeconfig" },
	{ "remove-taint", "example.com/wait:NoSchedule" },
	{ "metrics-addr", "127.0.0.1:9999" },
	{ "log-format", "json" },
	{ "log-level", "debug" },
	{ "proc-root", "/test-options/proc" },
	{ "pid", "42" },
	{ "comm", "nginx" },
	{ "cgroup", "/sys/fs/cgroup/x" },
	{ "duration", "5m" },
	{ "seccomp-out", "/test-options/sc.json" },
	{ "apparmor-out", "/test-options/aa" },
};

static const char *
sample(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
		if (strcmp(samples[i].name, name) == 0)
			return samples[i].value;
	fail_msg("no sample value for --%s: add one to samples[]", name);
	return NULL;
}

/* Everything a run's options hold, as text, to see what a flag changed. */
static char *
describe_run(const struct options *o)
{
	_cleanup_free_ char *profiles = pd_xstrdup("");

	for (size_t i = 0; i < o->profiles.n; i++) {
		char *p = pd_xasprintf("%s%s,", profiles, o->profiles.v[i]);

		free(profiles);
		profiles = p;
	}
#define S(x) ((x) != NULL ? (x) : "(null)")
	/* One line a flag, named as the flag that sets it. */
	return pd_xasprintf("profiles=%s\nseccomp-root=%s\nseccomp-subdir=%s\nstate-dir=%s\n"
			    "label-domain=%s\nnode-name=%s\nresync-interval=%lld\nonce=%d\n"
			    "apparmorfs=%s\napparmor-parser=%s\napparmor-compile-timeout=%lld\n"
			    "adopt-existing=%d\nunload-removed=%d\nunload-retry-interval=%lld\n"
			    "proc-root=%s\napparmor-validate-only=%d\nkubeconfig=%s\n"
			    "metrics-addr=%s\nremove-taint=%s:%s\nlog-format=%d\nlog-level=%d\n",
			    profiles, S(o->seccomp_root), S(o->seccomp_subdir), S(o->state_dir),
			    S(o->label_domain), S(o->node_name), o->resync_ms, o->once,
			    S(o->apparmorfs), S(o->apparmor_parser), o->apparmor_compile_timeout_ms,
			    o->adopt_existing, o->unload_removed, o->unload_retry_ms,
			    S(o->proc_root), o->apparmor_validate_only, S(o->kubeconfig),
			    S(o->metrics_addr), S(o->remove_taint_key), S(o->remove_taint_effect),
			    (int)o->log_format, (int)o->log_level);
}

static char *
describe_advise(const struct advise_options *o)
{
	return pd_xasprintf("source=%s\npid=%zu:%lld\ncomm=%zu:%s\ncgroup=%s\nduration=%lld\n"
			    "seccomp-out=%s\napparmor-out=%s\n",
			    S(o->source), o->n_pids, o->n_pids > 0 ? o->pids[0] : 0, o->comms.n,
			    o->comms.n > 0 ? o->comms.v[0] : "", S(o->cgroup), o->duration_ms,
			    S(o->seccomp_out), S(o->apparmor_out));
#undef S
}

/* Fails unless the only lines of two descriptions that differ are the
 * one of flag `name`. */
static void
assert_only_changed(const char *before, const char *after, const char *name)
{
	size_t nlen = strlen(name);
	bool seen = false;

	while (*before != '\0' && *after != '\0') {
		size_t bl = strcspn(before, "\n"), al = strcspn(after, "\n");
		bool mine = strncmp(after, name, nlen) == 0 && after[nlen] == '=';

		if (bl != al || memcmp(before, after, bl) != 0) {
			if (!mine)
				fail_msg("--%s changed \"%.*s\"", name, (int)al, after);
			seen = true;
		}
		before += bl + (before[bl] != '\0');
		after += al + (after[al] != '\0');
	}
	if (!seen)
		fail_msg("--%s changed nothing", name);
}

static int
setup(void **state)
{
	(void)state;
	unsetenv("NODE_NAME");
	return 0;
}

/* Runs `parse(argv)` in a child: its stdout, and its exit status. */
static char *
child_output(const char *cmd, int *status)
{
	char *argv[] = { (char *)cmd, (char *)"--help", NULL };
	int p[2];
	pid_t pid;
	FILE *in;
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct options o;
		struct advise_options a;

		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		if (strcmp(cmd, "advise") == 0)
			_exit(10 + options_parse_advise(2, argv, &a));
		_exit(10 + options_parse_run(2, argv, &o));
	}
	close(p[1]);
	in = fdopen(p[0], "r");
	assert_non_null(in);
	out = pd_xmalloc(1);
	for (int c; (c = fgetc(in)) != EOF;) {
		out = pd_xrealloc(out, len + 2, 1);
		out[len++] = (char)c;
	}
	out[len] = '\0';
	fclose(in);
	assert_int_equal(waitpid(pid, status, 0), pid);
	return out;
}

static void
help_prints_the_text_and_exits_0(void **state)
{
	const char *cmds[] = { "run", "advise" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		int status;
		_cleanup_free_ char *out = child_output(cmds[i], &status);

		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_string_equal(out, help_text);
	}
}

static void
help_lists_every_flag_of_the_tables(void **state)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0, n;
	FILE *f = open_memstream(&text, &len);
	const struct opt_spec *run = options_run_spec(&n);
	unsigned hidden = 0;

	(void)state;
	assert_non_null(f);
	usage(f);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *line =
			pd_xasprintf("\n  --%s%s%s", run[i].name, run[i].arg != NULL ? " " : "",
				     run[i].arg != NULL ? run[i].arg : "");

		if (run[i].help == NULL) {
			/* Only these two stay out of --help. */
			assert_true(strcmp(run[i].name, "help") == 0 ||
				    strcmp(run[i].name, "proc-root") == 0);
			hidden++;
			continue;
		}
		assert_contains(text, line);
	}
	assert_int_equal(hidden, 2);
	run = options_advise_spec(&n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *word =
			pd_xasprintf("--%s %s", run[i].name, run[i].arg != NULL ? run[i].arg : "");

		if (run[i].help != NULL)
			assert_contains(strstr(text, "(flags:"), word);
	}
}

/* The options after `CMD [FLAG [VALUE]]` (advise: then the source "-"), as
 * text; NULL when they are refused. */
static char *
parse_described(const char *cmd, const char *flag, const char *v)
{
	char *argv[5] = { (char *)cmd, NULL, NULL, NULL, NULL };
	int argc = 1;
	char *d = NULL;

	if (flag != NULL)
		argv[argc++] = (char *)flag;
	if (v != NULL)
		argv[argc++] = (char *)v;
	if (strcmp(cmd, "advise") == 0) {
		struct advise_options a;

		argv[argc++] = (char *)"-";
		if (options_parse_advise(argc, argv, &a) == 0)
			d = describe_advise(&a);
		advise_options_clear(&a);
	} else {
		struct options o;

		if (options_parse_run(argc, argv, &o) == 0)
			d = describe_run(&o);
		options_clear(&o);
	}
	return d;
}

/* Each flag of the table, with its sample value, is accepted and changes
 * the options (a value kept as it is shows in them). */
static void
check_every_flag(const char *cmd, const struct opt_spec *spec, size_t n)
{
	_cleanup_free_ char *before = parse_described(cmd, NULL, NULL);

	assert_non_null(before);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *flag = pd_xasprintf("--%s", spec[i].name);
		_cleanup_free_ char *after = NULL;
		const char *v;

		if (strcmp(spec[i].name, "help") == 0)
			continue; /* help_prints_the_text_and_exits_0 */
		v = sample(spec[i].name);
		assert_true((v != NULL) == (spec[i].arg != NULL));
		after = parse_described(cmd, flag, v);
		if (after == NULL)
			fail_msg("%s %s %s was refused", cmd, flag, v != NULL ? v : "");
		assert_only_changed(before, after, spec[i].name);
		if (spec[i].set == OPT_SET_STR)
			assert_contains(after, v);
	}
}

static void
every_run_flag_parses(void **state)
{
	size_t n;
	const struct opt_spec *spec = options_run_spec(&n);

	(void)state;
	check_every_flag("run", spec, n);
}

static void
every_advise_flag_parses(void **state)
{
	size_t n;
	const struct opt_spec *spec = options_advise_spec(&n);
	_cleanup_free_ char *d = parse_described("advise", "--duration", "1h30m");

	(void)state;
	check_every_flag("advise", spec, n);
	assert_contains(d, "\nduration=5400000\n");
}

/* Each flag's effect where the sample value does not show in the text. */
static void
run_flags_set_what_they_say(void **state)
{
	char *argv[] = { (char *)"run",
			 (char *)"--resync-interval",
			 (char *)"1h30m",
			 (char *)"--apparmor-compile-timeout",
			 (char *)"2m",
			 (char *)"--unload-retry-interval",
			 (char *)"10s",
			 (char *)"--log-format",
			 (char *)"json",
			 (char *)"--log-level",
			 (char *)"warn",
			 (char *)"--profiles",
			 (char *)"/test-options/a",
			 (char *)"--profiles",
			 (char *)"/test-options/b",
			 (char *)"--once",
			 (char *)"--remove-taint",
			 (char *)"example.com/wait",
			 NULL };
	struct options o;

	(void)state;
	assert_int_equal(options_parse_run((int)ARRAY_SIZE(argv) - 1, argv, &o), 0);
	assert_int_equal(o.resync_ms, 5400000);
	assert_int_equal(o.apparmor_compile_timeout_ms, 120000);
	assert_int_equal(o.unload_retry_ms, 10000);
	assert_int_equal(o.log_format, LOG_FMT_JSON);
	assert_int_equal(o.log_level, LOG_LVL_WARN);
	assert_int_equal(o.profiles.n, 2);
	assert_string_equal(o.profiles.v[1], "/test-options/b");
	assert_true(o.once);
	assert_false(o.adopt_existing);
	assert_string_equal(o.remove_taint_key, "example.com/wait");
	assert_null(o.remove_taint_effect);
	options_clear(&o);
}

/* Usage errors: 2 (the message goes to stderr). */
static void
bad_values_and_flags_are_usage_errors(void **state)
{
	static const char *const bad_run[][3] = {
		{ "--resync-interval", "999ms" },
		{ "--resync-interval", "169h" },
		{ "--apparmor-compile-timeout", "0" },
		{ "--unload-retry-interval", "1x" },
		{ "--log-format", "xml" },
		{ "--log-level", "loud" },
		{ "--remove-taint", "a:Sometimes" },
		{ "--frobnicate" },
		{ "--once=yes" },
		{ "--seccomp-root" },
		{ "stray" },
	};
	static const char *const bad_advise[][3] = {
		{ "--pid", "0" },      { "--pid", "-1" },
		{ "--comm", "" },      { "--comm", "0123456789abcdef" },
		{ "--duration", "0" }, { "--frobnicate" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_run); i++) {
		char *argv[] = { (char *)"run", (char *)bad_run[i][0], (char *)bad_run[i][1],
				 NULL };
		struct options o;

		if (options_parse_run(bad_run[i][1] != NULL ? 3 : 2, argv, &o) != 2)
			fail_msg("run %s %s was not a usage error", argv[1],
				 argv[2] != NULL ? argv[2] : "");
		options_clear(&o);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_advise); i++) {
		char *argv[] = { (char *)"advise", (char *)bad_advise[i][0],
				 (char *)bad_advise[i][1], (char *)"-", NULL };
		struct advise_options o;

		if (options_parse_advise(bad_advise[i][1] != NULL ? 4 : 3, argv, &o) != 2)
			fail_msg("advise %s %s was not a usage error", argv[1],
				 bad_advise[i][1] != NULL ? argv[2] : "");
		advise_options_clear(&o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_prints_the_text_and_exits_0),
		cmocka_unit_test(help_lists_every_flag_of_the_tables),
		cmocka_unit_test(every_run_flag_parses),
		cmocka_unit_test(run_flags_set_what_they_say),
		cmocka_unit_test(every_advise_flag_parses),
		cmocka_unit_test(bad_values_and_flags_are_usage_errors),
	};

	return cmocka_run_group_tests_name("options", tests, setup, NULL);
}
