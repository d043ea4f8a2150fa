/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PROFILED_OPTIONS_H
#define PROFILED_OPTIONS_H

#include <stdbool.h>

#include "../lib/util.h"
#include "log.h"

#define DEFAULT_PROFILES_DIR	"/etc/profiled/profiles"
#define DEFAULT_SECCOMP_ROOT	"/var/lib/kubelet/seccomp"
#define DEFAULT_SECCOMP_SUBDIR	"profiled"
#define DEFAULT_STATE_DIR	"/var/lib/profiled"
#define DEFAULT_LABEL_DOMAIN	"profiled.io"
#define DEFAULT_RESYNC_SECONDS	600
#define DEFAULT_UNLOAD_RETRY_MS 10000
#define DEFAULT_PROC_ROOT	"/proc"

struct options {
	struct pd_strv profiles;
	const char *seccomp_root;
	const char *seccomp_subdir;
	const char *state_dir;
	const char *label_domain;
	const char *node_name;
	long long resync_ms;
	bool once;
	const char *apparmorfs;		       /* NULL: the kernel's */
	const char *apparmor_parser;	       /* NULL: apparmor_parser on PATH */
	long long apparmor_compile_timeout_ms; /* one file's compile; 0: the default */
	bool adopt_existing;
	bool unload_removed;
	long long unload_retry_ms;   /* a held profile is tried again this often */
	const char *proc_root;	     /* /proc; another folder only in tests */
	bool apparmor_validate_only; /* local runs: never touch the kernel */
	const char *kubeconfig;	     /* NULL: $KUBECONFIG, in-cluster, or local */
	const char *metrics_addr;    /* "" turns the health/metrics server off */
	char *remove_taint_key;	     /* --remove-taint KEY[:EFFECT]; NULL: none */
	char *remove_taint_effect;   /* NULL: any effect */
	enum log_format log_format;
	enum log_level log_level;
};

/* Parses `profiled run` flags (argv[0] is the command).  Returns 0, or 2
 * after printing a usage error. */
int options_parse_run(int argc, char **argv, struct options *o);
void options_clear(struct options *o);

/* The longest duration any flag takes: 168h (a week). */
#define DURATION_MAX_MS (168LL * 3600 * 1000)

/* "90", "30s", "10m", "1h", "1h30m" -> milliseconds; -1 when malformed or
 * over DURATION_MAX_MS. */
long long parse_duration_ms(const char *s);

/* Decimal digits only, min <= value <= max -> *out and 0; else -1
 * and *out untouched. */
int parse_uint(const char *s, long long min, long long max, long long *out);

void usage(FILE *f);

struct pd_aa_options;

/* `profiled check`'s flags into o (lib/apparmor.h): 0 with the paths at
 * argv[optind...], or 2 after a usage error; --help prints the usage line
 * (options_check_usage) and exits. */
int options_parse_check(int argc, char **argv, struct pd_aa_options *o);
void options_check_usage(FILE *f);

/*
 * One flag of a subcommand, the one place that names it, documents it and
 * says what it sets: getopt_long's array and the --help text are made from
 * each subcommand's table (options.c).  A flag is one more entry there.
 */
enum opt_set {
	OPT_SET_STR,	  /* the value itself (argv outlives the options) */
	OPT_SET_TRUE,	  /* a switch: the bool becomes true */
	OPT_SET_DURATION, /* parse_duration_ms, at least min_ms */
	OPT_SET_FN,	  /* fn decides */
};

struct opt_spec {
	const char *name; /* without the leading "--" */
	const char *arg;  /* the value's name in --help; NULL: takes none */
	const char *help; /* lines after the first are indented; NULL: not listed */
	enum opt_set set;
	size_t field;			     /* offsetof the member set (STR, TRUE, DURATION) */
	long long min_ms;		     /* DURATION: the least accepted */
	const char *want;		     /* DURATION: the error's "want ..." */
	int (*fn)(void *o, const char *arg); /* FN: 0, or 2 after a usage error */
};

/* The tables of `profiled run` and `profiled advise`, *n entries each. */
const struct opt_spec *options_run_spec(size_t *n);
const struct opt_spec *options_advise_spec(size_t *n);

/* `profiled advise` (see docs/advise.md). */
struct advise_options {
	const char *source; /* a file, "-" for stdin, or /dev/kmsg (followed) */
	long long *pids;
	size_t n_pids, cap_pids;
	struct pd_strv comms;
	const char *cgroup;	  /* NULL: none */
	long long duration_ms;	  /* /dev/kmsg: stop after this long; 0: at SIGINT/SIGTERM */
	const char *seccomp_out;  /* NULL: stdout */
	const char *apparmor_out; /* NULL: stdout */
};

/* argv[0] is "advise".  Returns 0, or 2 after printing a usage error. */
int options_parse_advise(int argc, char **argv, struct advise_options *o);
void advise_options_clear(struct advise_options *o);

#endif
