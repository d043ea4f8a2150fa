/* SPDX-License-Identifier: Apache-2.0 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "fileio.h"

extern char **environ;

struct sink {
	char *buf;
	size_t len, cap;
};

static int
sink_read(int fd, struct sink *s)
{
	char tmp[16384];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	/* Past the limit the output is read and dropped, so that the
	 * child never blocks on a full pipe. */
	if (s->len < PD_SPAWN_MAX_OUTPUT) {
		size_t keep = (size_t)n;

		if (keep > PD_SPAWN_MAX_OUTPUT - s->len)
			keep = PD_SPAWN_MAX_OUTPUT - s->len;
		pd_grow(&s->buf, &s->cap, s->len + keep + 1, 1);
		memcpy(s->buf + s->len, tmp, keep);
		s->len += keep;
	}
	return 1;
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

static int
start(char *const argv[], int in, int out, int errfd, pid_t *pid, pd_error_t *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* The caller may block signals for its signalfd: the child starts
	 * with none blocked and every signal at its default action. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	/* Its own process group: the parser forks workers (`--jobs`), and
	 * a kill must reach them too (kill_group). */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
	ret = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (ret != 0)
		return pd_make_error(err, ret, "run `%s`", argv[0]);
	return 0;
}

/*
 * Kills the child's whole process group and reaps the child.  The group
 * is signalled while the child is at most a zombie (not reaped), so its id
 * cannot have been reused.
 */
static void
kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Reaps a child that exited, after killing what it left in its group (a
 * worker it forked and did not wait for).  Fills *wstatus. */
static int
reap(pid_t pid, int *wstatus)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			return -errno;
	kill(-pid, SIGKILL);
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* The parent's side of one run: the pipes (an end is -1 once closed), the
 * input still to write and what came out. */
struct exchange {
	int inp[2], outp[2], errp[2];
	const char *in;
	size_t in_len, written;
	struct sink so, se;
};

/* Writes what the child's stdin takes now; closes it when all is written or
 * the child stopped reading. */
static void
feed(struct exchange *x)
{
	ssize_t w = send(x->inp[0], x->in + x->written, x->in_len - x->written, MSG_NOSIGNAL);

	if (w > 0)
		x->written += (size_t)w;
	if ((w < 0 && errno != EAGAIN && errno != EINTR) || x->written == x->in_len) {
		close(x->inp[0]);
		x->inp[0] = -1;
	}
}

/* Moves the data until the child closes its output, the deadline passes
 * (res->timedout, the group killed) or the cancel fd asks to stop. */
static int
pump(struct exchange *x, pid_t pid, const char *what, long long deadline,
     const struct pd_spawn_cancel *cancel, struct pd_spawn_result *res, pd_error_t *err)
{
	while (x->outp[0] >= 0 || x->errp[0] >= 0) {
		struct pollfd pfd[4] = {
			{ .fd = x->outp[0], .events = POLLIN },
			{ .fd = x->errp[0], .events = POLLIN },
			{ .fd = x->inp[0], .events = POLLOUT },
			{ .fd = cancel != NULL ? cancel->fd : -1, .events = POLLIN },
		};
		long long left = deadline - pd_now_ms();
		int n;

		if (left <= 0) {
			kill(-pid, SIGKILL);
			res->timedout = 1;
			return 0;
		}
		n = poll(pfd, 4, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR) {
			kill_group(pid);
			return pd_make_error(err, errno, "poll");
		}
		if (n <= 0)
			continue;
		if ((pfd[3].revents & POLLIN) && cancel->fn(cancel->arg)) {
			kill_group(pid);
			return pd_make_plain_error(err, ECANCELED, "`%s` stopped: shutting down",
						   what);
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i == 0 ? &x->outp[0] : &x->errp[0];

			if (*fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (sink_read(*fd, i == 0 ? &x->so : &x->se) <= 0) {
				close(*fd);
				*fd = -1;
			}
		}
		if (x->inp[0] >= 0 && (pfd[2].revents & (POLLOUT | POLLHUP | POLLERR)))
			feed(x);
	}
	return 0;
}

/* Starts argv[0] on the child ends of x's pipes, then keeps the parent's
 * ends, non-blocking. */
static int
launch(char *const argv[], struct exchange *x, pid_t *pid, pd_error_t *err)
{
	int ret;

	/* stdin is a socket so that writing to a child that exited early
	 * fails with EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x->inp) < 0 ||
	    pipe2(x->outp, O_CLOEXEC) < 0 || pipe2(x->errp, O_CLOEXEC) < 0)
		return pd_make_error(err, errno, "create pipes");
	if ((ret = start(argv, x->inp[1], x->outp[1], x->errp[1], pid, err)) < 0)
		return ret;
	close(x->inp[1]);
	close(x->outp[1]);
	close(x->errp[1]);
	x->inp[1] = x->outp[1] = x->errp[1] = -1;
	if (x->in == NULL || x->in_len == 0) {
		shutdown(x->inp[0], SHUT_WR);
		close(x->inp[0]);
		x->inp[0] = -1;
	}
	fcntl(x->outp[0], F_SETFL, O_NONBLOCK);
	fcntl(x->errp[0], F_SETFL, O_NONBLOCK);
	if (x->inp[0] >= 0)
		fcntl(x->inp[0], F_SETFL, O_NONBLOCK);
	return 0;
}

int
pd_spawn(char *const argv[], const char *in, size_t in_len, int timeout_ms,
	 const struct pd_spawn_cancel *cancel, struct pd_spawn_result *res, pd_error_t *err)
{
	struct exchange x = { .inp = { -1, -1 },
			      .outp = { -1, -1 },
			      .errp = { -1, -1 },
			      .in = in,
			      .in_len = in_len };
	long long deadline = pd_now_ms() + timeout_ms;
	pid_t pid;
	int ret, wstatus;

	memset(res, 0, sizeof(*res));
	if ((ret = launch(argv, &x, &pid, err)) < 0 ||
	    (ret = pump(&x, pid, argv[0], deadline, cancel, res, err)) < 0)
		goto out;
	if ((ret = reap(pid, &wstatus)) < 0) {
		ret = pd_make_error(err, -ret, "wait for `%s`", argv[0]);
		goto out;
	}
	res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	res->out = x.so.buf != NULL ? x.so.buf : pd_xstrdup("");
	res->out[x.so.len] = '\0';
	res->out_len = x.so.len;
	res->err = x.se.buf != NULL ? x.se.buf : pd_xstrdup("");
	res->err[x.se.len] = '\0';
	res->err_len = x.se.len;
	x.so.buf = x.se.buf = NULL;
	ret = 0;
out:
	close_pair(x.inp);
	close_pair(x.outp);
	close_pair(x.errp);
	free(x.so.buf);
	free(x.se.buf);
	return ret;
}

void
pd_spawn_result_clear(struct pd_spawn_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

/* ------------------------------------------------------------------------ */
/* in the background */

struct pd_child {
	pid_t pid;
	int pidfd;
	int outfd, errfd; /* memory files holding what it wrote */
	bool reaped;
	char *name;
};

/* What the program wrote into a memory file, at most PD_SPAWN_MAX_OUTPUT. */
static void
read_mem(int fd, char **out, size_t *len)
{
	/* The child wrote through the same file offset: read from the start.
	 * A memory file does not fail to read; if it did, no output. */
	if (lseek(fd, 0, SEEK_SET) < 0 ||
	    pd_read_upto(fd, PD_SPAWN_MAX_OUTPUT, 16384, out, len, NULL) < 0) {
		*out = pd_xstrdup("");
		*len = 0;
	}
}

int
pd_child_start(char *const argv[], struct pd_child **out, pd_error_t *err)
{
	_cleanup_close_ int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int o = memfd_create("stdout", MFD_CLOEXEC);
	_cleanup_close_ int e = memfd_create("stderr", MFD_CLOEXEC);
	struct pd_child *c;
	pid_t pid;
	int ret, pidfd;

	if (in < 0 || o < 0 || e < 0)
		return pd_make_error(err, errno, "create the output files of `%s`", argv[0]);
	if ((ret = start(argv, in, o, e, &pid, err)) < 0)
		return ret;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		ret = pd_make_error(err, errno, "pidfd_open");
		kill_group(pid);
		return ret;
	}
	c = pd_xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->pidfd = pidfd; /* pidfd_open sets close-on-exec */
	c->outfd = o;
	c->errfd = e;
	o = e = -1;
	c->name = pd_xstrdup(argv[0]);
	*out = c;
	return 0;
}

int
pd_child_fd(const struct pd_child *c)
{
	return c->pidfd;
}

void
pd_child_kill(struct pd_child *c)
{
	if (!c->reaped)
		kill(-c->pid, SIGKILL);
}

int
pd_child_wait(struct pd_child *c, struct pd_spawn_result *res, pd_error_t *err)
{
	int ret, wstatus;

	if (c->reaped)
		return pd_make_plain_error(err, ECHILD, "`%s` was already waited for", c->name);
	if ((ret = reap(c->pid, &wstatus)) < 0)
		return pd_make_error(err, -ret, "wait for `%s`", c->name);
	c->reaped = true;
	memset(res, 0, sizeof(*res));
	res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	read_mem(c->outfd, &res->out, &res->out_len);
	read_mem(c->errfd, &res->err, &res->err_len);
	return 0;
}

void
pd_child_free(struct pd_child *c)
{
	if (c == NULL)
		return;
	if (!c->reaped)
		kill_group(c->pid);
	close(c->pidfd);
	close(c->outfd);
	close(c->errfd);
	free(c->name);
	free(c);
}

bool
pd_cancel_requested(const struct pd_spawn_cancel *cancel)
{
	struct pollfd p;

	if (cancel == NULL)
		return false;
	p.fd = cancel->fd;
	p.events = POLLIN;
	return poll(&p, 1, 0) == 1 && cancel->fn(cancel->arg);
}
