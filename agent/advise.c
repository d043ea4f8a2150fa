/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `profiled advise [--pid PID]... [--comm NAME]... [--cgroup PATH]
 * [--duration DUR] [--seccomp-out FILE] [--apparmor-out FILE] SOURCE`:
 * reads kernel audit records from a log file, stdin (`-`) or /dev/kmsg
 * (followed until SIGINT/SIGTERM or --duration) and prints the seccomp
 * profile and the AppArmor rules they call for (docs/advise.md).
 *
 * Exit: 0 advice written; 1 no matching record; 2 usage or I/O error.
 */
#include "advise.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../lib/advise.h"
#include "../lib/audit.h"
#include "../lib/util.h"
#include "options.h"
#include "stopsig.h"

#define CGROUP_ROOT	 "/sys/fs/cgroup"
#define CGROUP_MAX_DEPTH 16
#define READ_CHUNK	 65536

struct filter {
	const struct advise_options *o;
	long long *pids; /* --pid, plus every pid seen in --cgroup */
	size_t n_pids, cap_pids;
	char *cgroup; /* absolute path, or NULL */
};

static void
filter_add_pid(struct filter *fl, long long pid)
{
	for (size_t i = 0; i < fl->n_pids; i++)
		if (fl->pids[i] == pid)
			return;
	pd_grow(&fl->pids, &fl->cap_pids, fl->n_pids + 1, sizeof(*fl->pids));
	fl->pids[fl->n_pids++] = pid;
}

/* Adds the pids of dir/cgroup.procs and of every cgroup below it. */
static void
cgroup_scan(struct filter *fl, const char *dir, int depth)
{
	_cleanup_free_ char *procs = pd_xasprintf("%s/cgroup.procs", dir);
	_cleanup_fclose_ FILE *f = fopen(procs, "re");
	DIR *d;
	struct dirent *de;
	long long pid;

	if (f != NULL)
		while (fscanf(f, "%lld", &pid) == 1)
			filter_add_pid(fl, pid);
	if (depth >= CGROUP_MAX_DEPTH || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = pd_xasprintf("%s/%s", dir, de->d_name);
		cgroup_scan(fl, sub, depth + 1);
	}
	closedir(d);
}

static bool
filter_match(const struct filter *fl, const struct pd_audit_record *r)
{
	const struct advise_options *o = fl->o;
	bool by_pid = o->n_pids > 0 || fl->cgroup != NULL;
	uint64_t pid;

	if (by_pid) {
		bool hit = false;

		if (pd_audit_get_u64(r, "pid", 10, &pid))
			for (size_t i = 0; i < fl->n_pids && !hit; i++)
				hit = fl->pids[i] == (long long)pid;
		if (!hit)
			return false;
	}
	if (o->comms.n > 0) {
		const char *comm = pd_audit_get(r, "comm");

		if (comm == NULL || !pd_strv_contains(&o->comms, comm))
			return false;
	}
	return true;
}

struct counts {
	size_t records, matched, taken;
	size_t too_long; /* lines over PD_AUDIT_MAX_LINE, skipped */
};

static void
take_line(struct pd_advise *a, struct filter *fl, const char *line, size_t len, struct counts *c)
{
	struct pd_audit_record r;

	if (pd_audit_parse_line(line, len, &r) != 1)
		return;
	c->records++;
	if (filter_match(fl, &r)) {
		c->matched++;
		c->taken += (size_t)pd_advise_add(a, &r);
	}
	pd_audit_record_clear(&r);
}

/*
 * One line at a time, at most PD_AUDIT_MAX_LINE bytes held: the cap applies
 * while reading, so a line of any length costs no more memory than that; the
 * rest of a longer line is read and dropped, and the line is counted.
 */
struct line_reader {
	char *line; /* PD_AUDIT_MAX_LINE bytes */
	size_t len;
	bool skipping; /* the current line is over the cap */
};

/* Takes the bytes of one read: complete lines go to take_line. */
static void
feed(struct line_reader *lr, const char *p, size_t n, struct pd_advise *a, struct filter *fl,
     struct counts *c)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t part = nl ? (size_t)(nl - p) : n;

		if (!lr->skipping && part > PD_AUDIT_MAX_LINE - lr->len) {
			lr->skipping = true;
			c->too_long++;
		}
		if (!lr->skipping) {
			memcpy(lr->line + lr->len, p, part);
			lr->len += part;
		}
		if (nl == NULL)
			return;
		if (!lr->skipping)
			take_line(a, fl, lr->line, lr->len, c);
		lr->len = 0;
		lr->skipping = false;
		p = nl + 1;
		n -= part + 1;
	}
}

/* Reads fd to its end, or until SIGTERM/SIGINT (then the advice is made
 * from what was read). */
static int
read_stream(int fd, const char *name, struct pd_advise *a, struct filter *fl, struct counts *c)
{
	_cleanup_free_ char *chunk = pd_xmalloc(READ_CHUNK);
	struct line_reader lr = { .line = pd_xmalloc(PD_AUDIT_MAX_LINE) };
	struct stopsig stop;
	int ret = 0;

	if (stopsig_open(&stop) < 0)
		fprintf(stderr, "profiled advise: signalfd: %s (SIGTERM will not stop reading)\n",
			strerror(errno));
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = stop.fd, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			fprintf(stderr, "profiled advise: poll: %s\n", strerror(errno));
			ret = -1;
			break;
		}
		if ((p[1].revents & POLLIN) && stopsig_pending(&stop))
			break;
		if (p[0].revents == 0)
			continue;
		n = read(fd, chunk, READ_CHUNK);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			fprintf(stderr, "profiled advise: reading %s: %s\n", name, strerror(errno));
			ret = -1;
			break;
		}
		if (n == 0) { /* a last line without a newline */
			if (!lr.skipping && lr.len > 0)
				take_line(a, fl, lr.line, lr.len, c);
			break;
		}
		feed(&lr, chunk, (size_t)n, a, fl, c);
	}
	stopsig_close(&stop);
	free(lr.line);
	return ret;
}

/* Follows /dev/kmsg (one record per read) until a signal or the deadline. */
static int
follow_kmsg(const char *path, struct pd_advise *a, struct filter *fl, struct counts *c)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_close_ int sfd = -1;
	long long deadline = fl->o->duration_ms > 0 ? pd_now_ms() + fl->o->duration_ms : 0;
	char buf[8192 + 1];
	sigset_t mask;

	if (fd < 0) {
		fprintf(stderr, "profiled advise: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fprintf(stderr, "profiled advise: signalfd: %s\n", strerror(errno));
		return -1;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		int timeout = 250;
		long long now = pd_now_ms();

		if (deadline > 0 && now >= deadline)
			return 0;
		if (deadline > 0 && deadline - now < timeout)
			timeout = (int)(deadline - now);
		/* Pids that joined the cgroup since the last look. */
		if (fl->cgroup != NULL)
			cgroup_scan(fl, fl->cgroup, 0);
		if (poll(p, 2, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "profiled advise: poll: %s\n", strerror(errno));
			return -1;
		}
		if (p[1].revents & POLLIN)
			return 0;
		for (;;) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);

			if (n < 0 && errno == EPIPE) {
				/* Records were overwritten before we read them. */
				fprintf(stderr,
					"profiled advise: %s: some records were lost (ring buffer overrun)\n",
					path);
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0) {
				if (n < 0)
					fprintf(stderr, "profiled advise: reading %s: %s\n", path,
						strerror(errno));
				return n < 0 ? -1 : 0;
			}
			/* "PRIO,SEQ,USEC,FLAGS;MESSAGE\n" then " KEY=VALUE" lines: the message
			 * only. */
			buf[n] = '\0';
			take_line(a, fl, buf, strcspn(buf, "\n"), c);
		}
	}
}

static int
write_out(const char *path, const char *text)
{
	_cleanup_fclose_ FILE *f = NULL;

	if (path == NULL || strcmp(path, "-") == 0) {
		fputs(text, stdout);
		return fflush(stdout) == 0 ? 0 : -1;
	}
	f = fopen(path, "we");
	if (f == NULL || fputs(text, f) < 0 || fflush(f) != 0) {
		fprintf(stderr, "profiled advise: writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
advise_run(const struct advise_options *o, struct pd_advise *a, struct filter *fl, struct counts *c)
{
	if (o->cgroup != NULL) {
		fl->cgroup = o->cgroup[0] == '/' && strncmp(o->cgroup, CGROUP_ROOT "/", 15) == 0
				     ? pd_xstrdup(o->cgroup)
				     : pd_xasprintf(CGROUP_ROOT "/%s",
						    o->cgroup + (o->cgroup[0] == '/'));
		if (access(fl->cgroup, F_OK) < 0) {
			fprintf(stderr, "profiled advise: --cgroup %s: %s\n", fl->cgroup,
				strerror(errno));
			return -1;
		}
		cgroup_scan(fl, fl->cgroup, 0);
	}
	for (size_t i = 0; i < o->n_pids; i++)
		filter_add_pid(fl, o->pids[i]);
	if (strcmp(o->source, "-") == 0)
		return read_stream(STDIN_FILENO, "stdin", a, fl, c);
	if (strcmp(o->source, "/dev/kmsg") == 0)
		return follow_kmsg(o->source, a, fl, c);
	{
		_cleanup_close_ int fd = open(o->source, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "profiled advise: open %s: %s\n", o->source,
				strerror(errno));
			return -1;
		}
		return read_stream(fd, o->source, a, fl, c);
	}
}

int
advise_main(int argc, char **argv)
{
	struct advise_options o;
	struct filter fl = { 0 };
	struct counts c = { 0 };
	struct pd_strv warnings = { 0 };
	struct pd_advise *a;
	_cleanup_free_ char *sc = NULL;
	_cleanup_free_ char *aa = NULL;
	int status;

	status = options_parse_advise(argc, argv, &o);
	if (status != 0) {
		advise_options_clear(&o);
		return status;
	}
	fl.o = &o;
	a = pd_advise_new();
	status = advise_run(&o, a, &fl, &c) < 0 ? 2 : 0;
	sc = pd_advise_seccomp_json(a, &warnings);
	aa = pd_advise_apparmor_rules(a, &warnings);
	for (size_t i = 0; i < warnings.n; i++)
		fprintf(stderr, "profiled advise: warning: %s\n", warnings.v[i]);
	if (c.too_long > 0)
		fprintf(stderr,
			"profiled advise: warning: %zu lines longer than %d bytes were skipped\n",
			c.too_long, PD_AUDIT_MAX_LINE);
	fprintf(stderr,
		"profiled advise: %zu audit records, %zu matched the filters, %zu seccomp and %zu AppArmor records used\n",
		c.records, c.matched, pd_advise_seccomp_records(a), pd_advise_apparmor_records(a));
	if (sc != NULL && write_out(o.seccomp_out, sc) < 0)
		status = 2;
	if (sc != NULL && aa != NULL && o.seccomp_out == NULL && o.apparmor_out == NULL)
		fputc('\n', stdout);
	if (aa != NULL && write_out(o.apparmor_out, aa) < 0)
		status = 2;
	if (status == 0 && sc == NULL && aa == NULL) {
		fprintf(stderr, "profiled advise: no seccomp or AppArmor record matched\n");
		status = 1;
	}
	pd_strv_clear(&warnings);
	pd_advise_unref(a);
	free(fl.pids);
	free(fl.cgroup);
	advise_options_clear(&o);
	return status;
}
