/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start-up and shutdown of the daemon state: the state folder (waiting for
 * another agent's lock), the seccomp store, the AppArmor parser and kernel
 * interface, the node connection.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "startup.h"

static void
log_startup_warnings(struct pd_strv *w)
{
	for (size_t i = 0; i < w->n; i++)
		log_warn("state", "detail", w->v[i], NULL);
	pd_strv_clear(w);
}

/* Set when SIGTERM/SIGINT interrupt the wait for the lock. */
static volatile sig_atomic_t stop_while_waiting;

static void
on_stop_while_waiting(int sig)
{
	(void)sig;
	stop_while_waiting = 1;
}

/*
 * Waits for another agent's lock.  SIGTERM/SIGINT (the pod deleted while it
 * waits) interrupt the wait, and the agent exits cleanly (-EINTR): it has
 * touched nothing yet.  main() keeps them blocked; they are unblocked for
 * the wait only, so one that came earlier is delivered here and ends the
 * wait before it starts.  SIGHUP stays blocked: the loop reads it later.
 */
static int
wait_for_lock(struct agent *a, pd_error_t *err)
{
	struct sigaction stop = { .sa_handler = on_stop_while_waiting }; /* no SA_RESTART */
	struct sigaction old[2];
	sigset_t mask;
	int ret = -EINTR;

	sigemptyset(&stop.sa_mask);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	stop_while_waiting = 0;
	sigaction(SIGTERM, &stop, &old[0]);
	sigaction(SIGINT, &stop, &old[1]);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	if (!stop_while_waiting)
		ret = pd_state_dir_open(a->opt->state_dir, true, &a->owned.dir, NULL, err);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigaction(SIGTERM, &old[0], NULL);
	sigaction(SIGINT, &old[1], NULL);
	return ret;
}

static int
open_state(struct agent *a)
{
	pd_error_t err = NULL;
	int holder = 0, ret;

	ret = pd_state_dir_open(a->opt->state_dir, false, &a->owned.dir, &holder, &err);
	if (ret == -EWOULDBLOCK) {
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", holder);
		log_info("waiting for the state lock held by another agent", "state_dir",
			 a->opt->state_dir, "holder_pid", holder > 0 ? pid : NULL, NULL);
		pd_error_release(&err);
		ret = wait_for_lock(a, &err);
		if (ret == -EINTR) {
			log_info("stopping while waiting for the state lock; nothing was changed",
				 NULL);
			pd_error_release(&err);
			return ret;
		}
	}
	if (ret < 0) {
		log_error("cannot use the state folder", "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
	}
	return ret;
}

/* The parser and the kernel interface.  Failing here is not fatal: seccomp
 * goes on, and every AppArmor file is reported with the reason. */
static void
open_apparmor(struct agent *a)
{
	_cleanup_free_ char *cache = pd_xasprintf("%s/apparmor-cache", a->opt->state_dir);
	struct pd_aa_options o = {
		.parser = a->opt->apparmor_parser,
		.fs = a->opt->apparmorfs,
		.cache_dir = cache,
		.compile_timeout_ms = a->opt->apparmor_compile_timeout_ms,
	};
	pd_error_t err = NULL;

	a->apparmor.enabled = a->opt->apparmorfs != NULL || pd_aa_kernel_enabled();
	a->apparmor.load = a->apparmor.enabled && !a->opt->apparmor_validate_only;
	o.load = a->apparmor.load;
	if (pd_aa_open(&o, &a->apparmor.parser, &err) < 0) {
		a->apparmor.error = pd_xstrdup(pd_error_msg(err));
		log_error("AppArmor cannot be used; AppArmor files will be rejected", "error",
			  a->apparmor.error, NULL);
		pd_error_release(&err);
		return;
	}
	log_info("apparmor", "fs", a->apparmor.load ? pd_aa_fs(a->apparmor.parser) : NULL,
		 "features", pd_aa_features_desc(a->apparmor.parser), "cache", cache, NULL);
}

/*
 * The label domain is recorded in the local state: after a change of
 * --label-domain, only keys under a domain recorded there are ever removed
 * (the owned-labels annotation on the Node alone proves nothing).
 */
static void
record_domain(struct agent *a)
{
	pd_error_t err = NULL;

	if (!pd_state_add_domain(&a->owned.state, a->opt->label_domain) || a->owned.unknown)
		return; /* an unknown state is saved by the first reconcile */
	if (pd_state_save(a->owned.dir, &a->owned.state, &err) < 0) {
		log_warn("state not saved: the label domain is not recorded yet", "error",
			 pd_error_msg(err), NULL);
		pd_error_release(&err);
	}
}

/* The agent's Events go to the node's queue (nowhere in local mode). */
static void
emit_node_event(void *ctx, const char *type, const char *reason, const char *message)
{
	const struct agent *a = ctx;

	node_sync_event(a->node, type, reason, "%s", message);
}

static int
open_node(struct agent *a)
{
	const struct node_options o = {
		.kubeconfig = a->opt->kubeconfig,
		.node_name = a->opt->node_name,
		.label_domain = a->opt->label_domain,
		.taint_key = a->opt->remove_taint_key,
		.taint_effect = a->opt->remove_taint_effect,
	};

	return node_sync_open(&o, &a->node);
}

static int
open_parts(struct agent *a, const struct options *opt)
{
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;
	int ret;

	memset(a, 0, sizeof(*a));
	a->opt = opt;
	metrics_init(&a->metrics);
	a->events = (struct event_sink){ .emit = emit_node_event, .ctx = a };
	a->problems.metrics = &a->metrics;
	a->problems.events = &a->events;
	if ((ret = open_state(a)) < 0)
		return ret;
	ret = pd_state_load(a->owned.dir, &a->owned.state, &warnings, &err);
	log_startup_warnings(&warnings);
	if (ret < 0)
		goto fail;
	/* Lost, corrupt or never written: what is in place is adopted where it
	 * can be proven ours (seccomp files through their sources, AppArmor
	 * profiles by the kernel's copy of their policy: admit() in
	 * apparmor.c), never on the word of the Node, and saved. */
	a->owned.unknown = a->owned.state.n == 0;
	a->owned.proof_window = a->owned.unknown;
	record_domain(a);
	if ((ret = pd_seccomp_env_native(&a->seccomp.env, &err)) < 0)
		goto fail;
	a->seccomp.enabled = pd_seccomp_kernel_supported();
	open_apparmor(a);
	apparmor_check_unload(&a->apparmor, a->opt);
	ret = pd_store_open(opt->seccomp_root, opt->seccomp_subdir, &a->seccomp.store, &err);
	if (ret < 0)
		goto fail;
	log_info("kernel support", "seccomp", a->seccomp.enabled ? "enabled" : "disabled",
		 "apparmor", a->apparmor.enabled ? "enabled" : "disabled", NULL);
	if (a->apparmor.enabled && !a->apparmor.load)
		log_info("--apparmor-validate-only: AppArmor files are validated but never loaded, "
			 "and no AppArmor profile labels are set",
			 NULL);
	if (!a->apparmor.enabled)
		log_info("AppArmor is not enabled in this kernel: AppArmor files are validated "
			 "but not loaded, and no AppArmor profile labels are set",
			 NULL);
	if ((ret = open_node(a)) < 0)
		return ret; /* it said why */
	if (a->node == NULL)
		log_info("local mode: no kubeconfig and not in a cluster; node labels are logged, "
			 "not set",
			 NULL);
	return 0;
fail:
	log_error("cannot start", "error", pd_error_msg(err), NULL);
	pd_error_release(&err);
	return ret;
}

/* On failure everything opened so far is closed again: every start-up error
 * path (exit 2) frees what it took. */
int
agent_open(struct agent *a, const struct options *opt)
{
	int ret = open_parts(a, opt);

	if (ret < 0)
		agent_close(a);
	return ret;
}

void
agent_close(struct agent *a)
{
	pd_store_free(a->seccomp.store);
	pd_state_dir_free(a->owned.dir);
	pd_state_clear(&a->owned.state);
	pd_labels_clear(&a->labels);
	problem_list_clear(&a->problems.reported);
	problem_list_clear(&a->problems.now);
	pd_strv_clear(&a->seccomp.missing);
	free(a->mounted);
	free(a->ready.message);
	apparmor_part_clear(&a->apparmor); /* kills a parser still running */
	node_sync_close(a->node);
	a->node = NULL;
	metrics_destroy(&a->metrics);
}
