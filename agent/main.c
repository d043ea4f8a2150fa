/* SPDX-License-Identifier: Apache-2.0 */
/*
 * profiled: puts AppArmor and seccomp profiles from ConfigMaps on a
 * Kubernetes node and labels the node with what it holds.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "advise.h"
#include "agent.h"
#include "view.h"
#include "startup.h"
#include "check.h"
#include "log.h"
#include "loop.h"
#include "options.h"
#include "stopsig.h"

#ifndef PROFILED_VERSION
#define PROFILED_VERSION "0.0.0-dev"
#endif

/*
 * --once: waits for the AppArmor compile in the background, reconciling
 * when it ends.  SIGTERM/SIGINT meanwhile stop it (the parser's whole
 * process group, when the agent is closed): false then.
 */
static bool
once_wait_compile(struct agent *a, struct reconcile_result *r, struct stopsig *stop)
{
	while (apparmor_compile_fd(&a->apparmor) >= 0) {
		struct pollfd p[2] = { { .fd = apparmor_compile_fd(&a->apparmor),
					 .events = POLLIN },
				       { .fd = stop->fd, .events = POLLIN } };

		if (poll(p, stop->fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if ((p[1].revents & POLLIN) && stopsig_pending(stop))
			return false;
		if ((p[0].revents & POLLIN) && apparmor_compile_step(&a->apparmor))
			agent_reconcile(a, r);
	}
	return !stop->stop;
}

static int
run_main(int argc, char **argv)
{
	struct options opt;
	struct agent a;
	int status;

	status = options_parse_run(argc, argv, &opt);
	if (status != 0) {
		options_clear(&opt);
		return status;
	}
	log_setup(opt.log_format, opt.log_level);
	log_info("starting", "version", PROFILED_VERSION, "node", opt.node_name, "seccomp_dir",
		 opt.seccomp_root, "state_dir", opt.state_dir, NULL);
	status = agent_open(&a, &opt);
	if (status < 0) { /* agent_open closed what it had opened */
		options_clear(&opt);
		return status == -EINTR ? 0 : 2; /* -EINTR: stopped while waiting for the lock */
	}
	if (opt.once) {
		struct reconcile_result r;
		struct stopsig stop = { .fd = -1 };
		struct pd_spawn_cancel cancel = { .fn = stopsig_pending, .arg = &stop };
		bool synced;

		/* SIGTERM/SIGINT stop a running compile or API request. */
		if (stopsig_open(&stop) == 0) {
			cancel.fd = stop.fd;
			if (a.apparmor.parser != NULL)
				pd_aa_set_cancel(a.apparmor.parser, &cancel);
			if (a.node != NULL)
				pd_kube_set_cancel(node_sync_kube(a.node), &cancel);
		}
		agent_node_prune(&a);
		agent_reconcile(&a, &r);
		if (r.cancelled || !once_wait_compile(&a, &r, &stop)) {
			/* Stopped before every profile was in place: not a success.
			 * agent_close() kills a parser still running. */
			log_info("stopped before the reconcile ended", NULL);
			stopsig_close(&stop);
			agent_close(&a);
			options_clear(&opt);
			return 1;
		}
		synced = agent_node_sync(&a, true) == 0;
		status = r.rejected || r.failed || !synced ? 1 : 0;
		log_info("done", "status", status ? "some profiles were rejected or failed" : "ok",
			 NULL);
		if (a.apparmor.parser != NULL)
			pd_aa_set_cancel(a.apparmor.parser, NULL);
		if (a.node != NULL)
			pd_kube_set_cancel(node_sync_kube(a.node), NULL);
		stopsig_close(&stop);
	} else if (loop_run(&a) < 0) {
		status = 2;
	}
	agent_close(&a);
	options_clear(&opt);
	return status;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	/* Before anything else, for every command: a SIGTERM or SIGHUP in the
	 * first milliseconds must not kill the process with the default action.
	 * Each command reads them later (signalfd). */
	if (stopsig_block() < 0) {
		fprintf(stderr, "profiled: cannot block signals: %s\n", strerror(errno));
		return 2;
	}
	cmd = argc > 1 ? argv[1] : "run";
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("profiled %s\n", PROFILED_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "check") == 0)
		return check_main(argc - 1, argv + 1);
	if (strcmp(cmd, "advise") == 0)
		return advise_main(argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return run_main(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return run_main(argc, argv); /* flags without a command: run */
	fprintf(stderr, "profiled: unknown command \"%s\"\nTry 'profiled --help'.\n", cmd);
	return 2;
}
