/* SPDX-License-Identifier: Apache-2.0 */
#include "stopsig.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

int
stopsig_block(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	/* SIGPIPE would kill us on a closed socket or pipe: handle EPIPE. */
	sigemptyset(&ign.sa_mask);
	return sigaction(SIGPIPE, &ign, NULL) < 0 ? -errno : 0;
}

int
stopsig_open(struct stopsig *s)
{
	sigset_t mask;

	s->stop = false;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	s->fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->fd < 0 ? -errno : 0;
}

void
stopsig_close(struct stopsig *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

bool
stopsig_pending(void *arg)
{
	struct stopsig *s = arg;
	struct signalfd_siginfo si;

	while (s->fd >= 0 && read(s->fd, &si, sizeof(si)) == sizeof(si))
		s->stop = true;
	return s->stop;
}
