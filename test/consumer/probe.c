/*
 * probe: a tiny static program run inside a container by the consumer test
 * (test/consumer/run.sh) to observe what a seccomp profile allows.
 *
 *   probe mkdir PATH   mkdir(PATH, 0755); prints "ok" (exit 0) or
 *                      "mkdir: <strerror(errno)>" (exit 1)
 *   probe hello        prints "hello" (exit 0)
 *
 * Anything else prints a usage line and exits 2. All output goes to stdout
 * with write(2): no stdio, so no fstat/newfstatat (stdio's buffering probe),
 * which the Kubernetes fine-grained allow-list does not allow.
 *
 * Build: gcc -static -O2 -o probe probe.c
 *
 * Syscalls of `probe hello` (static glibc 2.36, Debian 12, x86_64), as seen by
 * strace: execve, brk, arch_prctl, set_tid_address, set_robust_list, rseq,
 * prlimit64, readlink, getrandom, mprotect, write, exit_group.
 * Of these set_robust_list, rseq, prlimit64, readlink and getrandom are not in
 * the fine-grained allow-list; under it they fail with EPERM and glibc's
 * start-up code carries on (no robust futex list / no rseq / default thread
 * stack size / unknown $ORIGIN / tcache key from the clock), so `hello` still
 * prints and exits 0. See README.md.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void out(const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(1, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* out() of a, b and c as one write(2), so a line is never split. */
static void out3(const char *a, const char *b, const char *c)
{
	char buf[512];
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	if (la + lb + lc >= sizeof buf) {
		out(a);
		out(b);
		out(c);
		return;
	}
	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	memcpy(buf + la + lb, c, lc + 1);
	out(buf);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "hello") == 0) {
		out("hello\n");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "mkdir") == 0) {
		if (mkdir(argv[2], 0755) == 0) {
			out("ok\n");
			return 0;
		}
		out3("mkdir: ", strerror(errno), "\n");
		return 1;
	}
	out("usage: probe hello | probe mkdir PATH\n");
	return 2;
}
