/* SPDX-License-Identifier: Apache-2.0 */
#include "node_private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/annotation.h"
#include "../lib/backoff.h"
#include "log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

/* ---- setup ---------------------------------------------------------------- */

/* The connection's settings: a kubeconfig, the pod's service account, or
 * none (local mode: 0 with *cfg untouched and *local set). */
static int
find_config(const struct node_options *o, struct pd_kube_config *cfg, bool *local, pd_error_t *err)
{
	const char *kc = o->kubeconfig;

	*local = false;
	if (kc == NULL || *kc == '\0')
		kc = getenv("KUBECONFIG");
	if (kc != NULL && *kc != '\0') {
		/* KUBECONFIG may be a list: the first file is used. */
		_cleanup_free_ char *first = pd_xstrndup(kc, strcspn(kc, ":"));

		return pd_kubeconfig_load(first, cfg, err);
	}
	if (pd_kube_incluster_detected())
		/* In a pod, whatever is missing is a configuration error: local
		 * mode there would leave the Node unlabeled and tainted. */
		return pd_kube_incluster(PD_SA_DIR, cfg, err);
	if (o->taint_key != NULL)
		return pd_make_plain_error(err, EINVAL,
					   "--remove-taint needs the API server: no --kubeconfig, "
					   "no $KUBECONFIG, and not in a pod "
					   "(KUBERNETES_SERVICE_HOST unset)");
	*local = true;
	return 0;
}

int
node_sync_open(const struct node_options *o, struct node_sync **out)
{
	struct pd_kube_config cfg = { 0 };
	struct node_sync *n;
	pd_error_t err = NULL;
	bool local;
	int ret;

	*out = NULL;
	if ((ret = find_config(o, &cfg, &local, &err)) < 0)
		goto fail;
	if (local)
		return 0;
	if (o->node_name == NULL) {
		ret = pd_make_plain_error(&err, EINVAL,
					  "the node name is needed to talk to the API server: "
					  "--node-name or $NODE_NAME (the downward API)");
		goto fail;
	}
	n = pd_xcalloc(1, sizeof(*n));
	if ((ret = pd_kube_new(&cfg, &n->kube, &err)) < 0) {
		free(n);
		ret = pd_error_wrap(&err, ret, "%s", cfg.source);
		goto fail;
	}
	n->node = o->node_name;
	n->opt = *o;
	/* The API server takes a core/v1 Event about a Node (cluster-scoped)
	 * only in "default": that is where `kubectl describe node` finds it. */
	n->ns = pd_xstrdup("default");
	events_init(&n->events, pd_now_ms());
	*out = n;
	log_info("API server", "server", cfg.server, "auth", cfg.source, "node", n->node,
		 "events_namespace", n->ns, NULL);
	pd_kube_config_clear(&cfg);
	return 0;
fail:
	log_error("cannot use the API server connection", "error", pd_error_msg(err), NULL);
	pd_error_release(&err);
	pd_kube_config_clear(&cfg);
	return ret;
}

void
node_sync_close(struct node_sync *n)
{
	if (n == NULL)
		return;
	events_clear(&n->events);
	pd_labels_clear(&n->applied);
	free(n->applied_profiles);
	free(n->applied_ready);
	free(n->node_uid);
	free(n->refused_owned);
	free(n->ns);
	pd_kube_free(n->kube);
	free(n);
}

/* ---- the API's answers ---------------------------------------------------- */

/* The backoff after failed requests: it grows while they fail, and is
 * reset by a sync that went through. */
static long long
retry_next(struct node_retry *r)
{
	r->ms = pd_backoff_next(r->ms, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
	return pd_backoff_jittered(r->ms);
}

static void
retry_reset(struct node_retry *r)
{
	r->ms = 0;
}

/*
 * Turns a failed request into a log line that says what to do, and the
 * delay before the next try: 0 when retrying cannot help until something
 * else changes (the resync or the next change will try again).
 */
static long long
failed(struct node_sync *n, const char *what, int ret, const struct pd_kube_response *r,
       pd_error_t err)
{
	_cleanup_free_ char *msg = NULL;
	long long delay;

	/* Aborted by the agent itself (a change is pending, or SIGTERM): not
	 * a failure of the server, so the backoff stays where it was; the
	 * loop sends the update again after the local work. */
	if (ret == -ECANCELED)
		return 0;
	delay = retry_next(&n->retry);
	if (ret < 0) {
		log_warn("API server unreachable; will retry", "request", what, "error",
			 pd_error_msg(err), NULL);
		return delay;
	}
	msg = pd_kube_status_message(r);
	switch (r->status) {
	case 401:
		log_error("API server: unauthorized: the credentials were refused; will retry",
			  "request", what, "auth", pd_kube_auth(n->kube), "error", msg, NULL);
		break;
	case 403:
		log_error("API server: forbidden; the service account needs RBAC get and patch on "
			  "nodes and nodes/status, create and patch on events",
			  "request", what, "error", msg, NULL);
		break;
	case 404:
		log_error("API server: not found; is --node-name the name of this Node?", "request",
			  what, "error", msg, NULL);
		break;
	case 422:
		log_error("API server refused the change as invalid", "request", what, "error", msg,
			  NULL);
		break;
	case 429:
	case 503:
		if (r->retry_after_s >= 0 && r->retry_after_s * 1000 > delay)
			delay = r->retry_after_s * 1000;
		log_warn("API server busy; will retry", "request", what, "error", msg, NULL);
		break;
	default:
		log_warn("API server error; will retry", "request", what, "error", msg, NULL);
		break;
	}
	if (r->status == 429 || r->status == 503) {
		long long cap = r->retry_after_s >= 0 ? r->retry_after_s * 1000 : BACKOFF_MAX_MS;

		if (delay > cap && cap > 0)
			delay = cap;
	}
	return delay;
}

/* ---- labels and the annotation ---------------------------------------------- */

/* Bytes of the Node's annotations other than the agent's own two. */
static size_t
others_annotations(const struct pd_node_meta *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->annotations.n; i++) {
		const char *k = m->annotations.v[i].key;

		if (strcmp(k, NODE_ANNOTATION_PROFILES) == 0 ||
		    strcmp(k, NODE_ANNOTATION_OWNED) == 0)
			continue;
		n += strlen(k) + strlen(m->annotations.v[i].value);
	}
	return n;
}

/*
 * The agent's two annotations, sized so that the Node's annotations stay
 * within the API's limit: a patch over it would be refused whole, labels
 * included.  The profiles list is cut first (and says so); the owned-labels
 * list is left empty only when even it does not fit.
 */
static void
fit_annotations(const struct pd_annotation *entries, const struct pd_node_meta *m,
		const char *profiles, const char *owned, struct pd_labels *ann)
{
	size_t others = others_annotations(m);
	size_t avail = others < PD_ANNOTATIONS_MAX_BYTES ? PD_ANNOTATIONS_MAX_BYTES - others : 0;
	size_t keys = strlen(NODE_ANNOTATION_PROFILES) + strlen(NODE_ANNOTATION_OWNED);
	size_t omitted = 0;
	char listed[24], left[24];

	avail = avail > keys ? avail - keys : 0;
	if (strlen(owned) > avail) {
		log_warn("owned-labels annotation left empty: the Node's annotations are at the "
			 "API's limit",
			 NULL);
		owned = "";
	}
	avail -= strlen(owned);
	pd_labels_set(ann, NODE_ANNOTATION_OWNED, owned);
	if (strlen(profiles) <= avail) {
		pd_labels_set(ann, NODE_ANNOTATION_PROFILES, profiles);
		return;
	}
	{
		_cleanup_free_ char *cut = pd_annotation_encode(entries, avail, &omitted);

		snprintf(listed, sizeof(listed), "%zu", entries->n - omitted);
		snprintf(left, sizeof(left), "%zu", omitted);
		log_warn("profiles annotation cut to fit the API's limit on annotations", "listed",
			 listed, "left_out", left, NULL);
		pd_labels_set(ann, NODE_ANNOTATION_PROFILES, strlen(cut) <= avail ? cut : "[]");
	}
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The label keys the agent set, comma-separated and sorted: remembered on
 * the Node so that keys of an earlier --label-domain are cleaned up. */
static char *
owned_annotation(const struct pd_labels *want)
{
	_cleanup_free_ const char **keys = pd_xcalloc(want->n + 1, sizeof(char *));

	for (size_t i = 0; i < want->n; i++)
		keys[i] = want->v[i].key;
	qsort(keys, want->n, sizeof(char *), cmp_str);
	return pd_join(keys, want->n, ",");
}

/* One request on this Node (sub: "" or "/status"); 0 with the 200 answer
 * in *r, or -EAGAIN with *retry set (and the failure logged). */
static int
node_request(struct node_sync *n, const char *method, const char *sub, const char *ctype,
	     const char *body, struct pd_kube_response *r, long long *retry)
{
	_cleanup_free_ char *path = pd_xasprintf("/api/v1/nodes/%s%s", n->node, sub);
	_cleanup_free_ char *what = pd_xasprintf("%s node%s", method, sub);
	pd_error_t err = NULL;
	int ret;

	ret = pd_kube_request(n->kube, method, path, ctype, body, r, &err);
	if (ret < 0 || r->status != 200) {
		*retry = failed(n, what, ret, r, err);
		pd_error_release(&err);
		pd_kube_response_clear(r);
		return -EAGAIN;
	}
	return 0;
}

/*
 * The Node was deleted and registered again (a new metadata.uid): it is
 * another object, which carries none of what was done to the old one (it
 * may carry the start-up taint again).  Everything remembered about the
 * old one goes, so that the whole work is done again.
 */
static void
forget_node(struct node_sync *n, const char *uid)
{
	log_info("the Node was registered again (new uid): labels, condition and start-up "
		 "taint are done again",
		 "node", n->node, "old_uid", n->node_uid, "uid", uid, NULL);
	n->taint_done = false;
	n->in_sync = false;
	pd_labels_clear(&n->applied);
	free(n->applied_profiles);
	n->applied_profiles = NULL;
	free(n->applied_ready);
	n->applied_ready = NULL;
	/* Aggregated events belong to the old object. */
	events_forget_seen(&n->events);
}

static int
get_node(struct node_sync *n, struct pd_node_meta *m, long long *retry)
{
	struct pd_kube_response r = { 0 };
	pd_error_t err = NULL;
	int ret;

	memset(m, 0, sizeof(*m));
	if (node_request(n, "GET", "", NULL, NULL, &r, retry) < 0)
		return -EAGAIN;
	ret = pd_node_meta_parse(r.body, m, &err);
	pd_kube_response_clear(&r);
	if (ret < 0) {
		log_error("API server: unexpected Node", "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
		*retry = failed(n, "GET node", -EPROTO, NULL, NULL);
		return -EAGAIN;
	}
	if (m->uid != NULL && (n->node_uid == NULL || strcmp(n->node_uid, m->uid) != 0)) {
		if (n->node_uid != NULL)
			forget_node(n, m->uid);
		free(n->node_uid);
		n->node_uid = pd_xstrdup(m->uid);
	}
	return 0;
}

/* Sends a patch of the Node (sub: "" or "/status"); when m is not NULL,
 * it becomes the Node the server answered with (its new resourceVersion). */
static int
patch_node(struct node_sync *n, const char *sub, const char *ctype, const char *body,
	   struct pd_node_meta *m, long long *retry)
{
	struct pd_kube_response r = { 0 };
	struct pd_node_meta fresh;
	pd_error_t err = NULL;

	if (node_request(n, "PATCH", sub, ctype, body, &r, retry) < 0)
		return -EAGAIN;
	if (m != NULL && pd_node_meta_parse(r.body, &fresh, &err) == 0) {
		pd_node_meta_clear(m);
		*m = fresh;
	}
	pd_error_release(&err);
	pd_kube_response_clear(&r);
	log_debug("node patched", "subresource", *sub ? sub + 1 : NULL, "patch", body, NULL);
	return 0;
}

static void
log_label_changes(const struct node_sync *n, const char *patch)
{
	cJSON *p = cJSON_Parse(patch);
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p, "metadata"), "labels");
	const cJSON *it;

	cJSON_ArrayForEach (it, labels) {
		if (cJSON_IsNull(it))
			log_info("node label removed", "node", n->node, "label", it->string, NULL);
		else
			log_info("node label set", "node", n->node, "label", it->string, "value",
				 it->valuestring, NULL);
	}
	cJSON_Delete(p);
}

/* The owned-labels annotation names labels that are not the agent's: said
 * once for as long as the same keys are named. */
static void
warn_refused(struct node_sync *n, struct pd_strv *refused)
{
	_cleanup_free_ char *keys = NULL;

	if (refused->n == 0) {
		free(n->refused_owned);
		n->refused_owned = NULL;
		return;
	}
	keys = pd_strv_join(refused, ",");
	if (n->refused_owned != NULL && strcmp(n->refused_owned, keys) == 0)
		return;
	log_warn("the owned-labels annotation names labels outside profiled's label domains; "
		 "they are not the agent's and are left alone",
		 "annotation", NODE_ANNOTATION_OWNED, "labels", keys, NULL);
	free(n->refused_owned);
	n->refused_owned = pd_steal(&keys);
}

/* The merge patch for the agent's labels (see pd_node_patch). */
static char *
label_patch(struct node_sync *n, const struct node_view *v, const struct pd_node_meta *m,
	    const struct pd_labels *ann, bool only_remove)
{
	struct pd_strv refused = { 0 };
	char *patch;

	patch = pd_node_patch(n->opt.label_domain, &v->past_domains, m, &v->labels, ann,
			      NODE_ANNOTATION_OWNED, only_remove, &refused);
	warn_refused(n, &refused);
	pd_strv_clear(&refused);
	return patch;
}

void
node_sync_prune(struct node_sync *n, const struct node_view *present)
{
	struct pd_node_meta m;
	_cleanup_free_ char *patch = NULL;
	long long retry = 0;

	if (n == NULL)
		return;
	if (get_node(n, &m, &retry) < 0) {
		log_warn("labels of profiles not in place could not be checked before loading; "
			 "they converge once the API server answers",
			 NULL);
		return;
	}
	/* Without a state nothing is taken back from the Node's annotations:
	 * whoever can patch the Node writes them.  AppArmor profiles are
	 * proven the agent's by the kernel's copy of their policy
	 * (agent_reconcile_apparmor), seccomp files by their source. */
	patch = label_patch(n, present, &m, NULL, true);
	if (patch != NULL) {
		log_info("before loading: removing labels of profiles not in place (reboot?)",
			 NULL);
		if (patch_node(n, "", "application/merge-patch+json", patch, NULL, &retry) == 0)
			log_label_changes(n, patch);
	}
	pd_node_meta_clear(&m);
}

/* ---- events --------------------------------------------------------------- */

void
node_sync_eventv(struct node_sync *n, const char *type, const char *reason, const char *fmt,
		 va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (n == NULL)
		return;
	msg = pd_xvasprintf(fmt, ap);
	events_push(&n->events, type, reason, msg);
	n->dropped = n->events.dropped;
}

void
node_sync_event(struct node_sync *n, const char *type, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	node_sync_eventv(n, type, reason, fmt, ap);
	va_end(ap);
}

/* ---- readiness: the condition and the start-up taint ----------------------- */

static char *
readiness_key(const struct node_view *v)
{
	return pd_xasprintf("%d\n%s\n%s", v->ready, v->reason, v->message ? v->message : "");
}

/* The ProfilesReady condition, patched on nodes/NAME/status when what the
 * Node shows differs from this reconcile's outcome. */
static int
sync_condition(struct node_sync *n, const struct node_view *r, struct pd_node_meta *m,
	       long long *retry)
{
	const char *status = r->ready ? "True" : "False";
	_cleanup_free_ char *patch = NULL;
	char now[32];

	events_now(now);
	patch = pd_condition_patch(&m->ready, status, r->reason, r->message ? r->message : "", now);
	if (patch == NULL)
		return 0;
	if (patch_node(n, "/status", "application/strategic-merge-patch+json", patch, m, retry) < 0)
		return -EAGAIN;
	log_info("node condition set", "node", n->node, "condition", PD_CONDITION_PROFILES_READY,
		 "status", status, "reason", r->reason, "message", r->message, NULL);
	return 0;
}

#define TAINT_ATTEMPTS 5

/*
 * Removes the --remove-taint taint with a JSON patch that tests the
 * resourceVersion and the taint at its index: a Node changed since it was
 * read is refused (409, or 422 for a failed test), then read again and the
 * patch rebuilt, so a concurrent change to other taints is never undone.
 */
static int
remove_taint(struct node_sync *n, struct pd_node_meta *m, long long *retry)
{
	const char *key = n->opt.taint_key, *effect = n->opt.taint_effect;
	_cleanup_free_ char *path = pd_xasprintf("/api/v1/nodes/%s", n->node);
	_cleanup_free_ char *spec = effect ? pd_xasprintf("%s:%s", key, effect) : pd_xstrdup(key);

	for (int attempt = 1;; attempt++) {
		_cleanup_free_ char *patch = pd_taint_remove_patch(m, key, effect);
		struct pd_kube_response r = { 0 };
		pd_error_t err = NULL;
		int ret;

		if (patch == NULL) {
			log_info("start-up taint not on the node; nothing to remove", "node",
				 n->node, "taint", spec, NULL);
			n->taint_done = true;
			return 0;
		}
		ret = pd_kube_request(n->kube, "PATCH", path, "application/json-patch+json", patch,
				      &r, &err);
		if (ret == 0 && r.status == 200) {
			pd_kube_response_clear(&r);
			log_info("start-up taint removed: every profile is in place", "node",
				 n->node, "taint", spec, NULL);
			node_sync_event(
				n, "Normal", "TaintRemoved",
				"taint %s removed: every profile of the profiles folders is in place",
				spec);
			n->taint_done = true;
			return 0;
		}
		if (ret == 0 && (r.status == 409 || r.status == 422) && attempt < TAINT_ATTEMPTS) {
			char at[16];

			snprintf(at, sizeof(at), "%d", attempt);
			log_info("the node changed since it was read; reading it again before "
				 "removing the taint",
				 "node", n->node, "status", r.status == 409 ? "409" : "422",
				 "attempt", at, NULL);
			pd_kube_response_clear(&r);
			pd_node_meta_clear(m);
			if (get_node(n, m, retry) < 0)
				return -EAGAIN;
			continue;
		}
		*retry = failed(n, "PATCH node (remove taint)", ret, &r, err);
		pd_error_release(&err);
		pd_kube_response_clear(&r);
		return -EAGAIN;
	}
}

/* ---- the sync --------------------------------------------------------------- */

void
node_wanted_of(const struct node_view *v, struct node_wanted *w)
{
	size_t omitted;

	w->profiles = pd_annotation_encode(&v->profiles, SIZE_MAX, &omitted);
	w->owned = owned_annotation(&v->labels);
	w->ready = readiness_key(v);
}

void
node_wanted_clear(struct node_wanted *w)
{
	free(w->profiles);
	free(w->owned);
	free(w->ready);
	memset(w, 0, sizeof(*w));
}

void
node_view_clear(struct node_view *v)
{
	pd_labels_clear(&v->labels);
	pd_annotation_clear(&v->profiles);
	pd_strv_clear(&v->past_domains);
	memset(v, 0, sizeof(*v));
}

/* --remove-taint is still to do: every profile is in place. */
static bool
untaint_due(const struct node_sync *n, const struct node_view *v)
{
	return n->opt.taint_key != NULL && v->ready && !n->taint_done;
}

bool
node_sync_unchanged(const struct node_sync *n, const struct node_view *v,
		    const struct node_wanted *w)
{
	return n->in_sync && !untaint_due(n, v) && pd_labels_equal(&v->labels, &n->applied) &&
	       n->applied_profiles != NULL && strcmp(n->applied_profiles, w->profiles) == 0 &&
	       n->applied_ready != NULL && strcmp(n->applied_ready, w->ready) == 0;
}

char *
node_sync_patch(struct node_sync *n, const struct node_view *v, const struct node_wanted *w,
		const struct pd_node_meta *m)
{
	struct pd_labels ann = { 0 };
	char *patch;

	fit_annotations(&v->profiles, m, w->profiles, w->owned, &ann);
	patch = label_patch(n, v, m, &ann, false);
	pd_labels_clear(&ann);
	return patch;
}

/* What the Node was made to show: no request until the view changes. */
static void
applied(struct node_sync *n, const struct node_view *v, struct node_wanted *w)
{
	n->in_sync = true;
	retry_reset(&n->retry);
	pd_labels_clear(&n->applied);
	for (size_t i = 0; i < v->labels.n; i++)
		pd_labels_set(&n->applied, v->labels.v[i].key, v->labels.v[i].value);
	free(n->applied_ready);
	n->applied_ready = pd_steal(&w->ready);
	free(n->applied_profiles);
	n->applied_profiles = pd_steal(&w->profiles);
}

/* One GET, then the patches that make the Node show the view: 0, or
 * -EAGAIN with *retry the delay before the next try (0: at the next
 * change or resync). */
static int
update_node(struct node_sync *n, const struct node_view *v, struct node_wanted *w, long long *retry)
{
	_cleanup_free_ char *patch = NULL;
	struct pd_node_meta m = { 0 };
	int ret = -EAGAIN;

	n->in_sync = false;
	if (get_node(n, &m, retry) < 0)
		goto out;
	/* The GET may show a Node registered again, with the taint back:
	 * untaint_due() is asked after it. */
	patch = node_sync_patch(n, v, w, &m);
	if (patch != NULL) {
		if (patch_node(n, "", "application/merge-patch+json", patch, &m, retry) < 0)
			goto out;
		log_label_changes(n, patch);
	}
	if (sync_condition(n, v, &m, retry) < 0)
		goto out;
	if (untaint_due(n, v) && remove_taint(n, &m, retry) < 0)
		goto out;
	applied(n, v, w);
	ret = 0;
out:
	pd_node_meta_clear(&m);
	return ret;
}

long long
node_sync_run(struct node_sync *n, const struct node_view *v, bool force_get)
{
	struct node_wanted w = { 0 };
	long long retry = 0;

	if (n == NULL)
		return 0;
	node_wanted_of(v, &w);
	/* Nothing changed: no request. */
	if ((force_get || !node_sync_unchanged(n, v, &w)) && update_node(n, v, &w, &retry) < 0) {
		node_wanted_clear(&w);
		return retry;
	}
	if (n->events.nqueue > 0) {
		struct event_target t = { n->kube, n->ns, n->node, n->node_uid };

		events_post_all(&n->events, &t);
		n->dropped = n->events.dropped;
	}
	node_wanted_clear(&w);
	return retry;
}

struct pd_kube *
node_sync_kube(const struct node_sync *n)
{
	return n->kube;
}

bool
node_sync_settled(const struct node_sync *n)
{
	return n->in_sync;
}

unsigned long
node_sync_dropped(const struct node_sync *n)
{
	return n->dropped;
}
