/* SPDX-License-Identifier: Apache-2.0 */
#include "node.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/backoff.h"
#include "agent.h"
#include "log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

/* ---- setup ---------------------------------------------------------------- */

int
node_open(struct agent *a)
{
	const struct options *o = a->opt;
	const char *kc = o->kubeconfig;
	struct pd_kube_config cfg = { 0 };
	struct node_sync *n;
	pd_error_t err = NULL;
	int ret;

	if (kc == NULL || *kc == '\0')
		kc = getenv("KUBECONFIG");
	if (kc != NULL && *kc != '\0') {
		/* KUBECONFIG may be a list: the first file is used. */
		_cleanup_free_ char *first = pd_xstrndup(kc, strcspn(kc, ":"));

		ret = pd_kubeconfig_load(first, &cfg, &err);
	} else if (pd_kube_incluster_detected()) {
		/* In a pod, whatever is missing is a configuration error: local
		 * mode there would leave the Node unlabeled and tainted. */
		ret = pd_kube_incluster(PD_SA_DIR, &cfg, &err);
	} else if (o->remove_taint_key != NULL) {
		ret = pd_make_plain_error(
			&err, EINVAL,
			"--remove-taint needs the API server: no --kubeconfig, no "
			"$KUBECONFIG, and not in a pod (KUBERNETES_SERVICE_HOST "
			"unset)");
	} else {
		return 0; /* local mode */
	}
	if (ret < 0)
		goto fail;
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
	/* The API server takes a core/v1 Event about a Node (cluster-scoped)
	 * only in "default": that is where `kubectl describe node` finds it. */
	n->ns = pd_xstrdup("default");
	n->tokens = EVENTS_PER_MINUTE;
	n->tokens_ms = pd_now_ms();
	a->node = n;
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

static void
clear_events(struct node_sync *n)
{
	for (size_t i = 0; i < n->nqueue; i++) {
		free(n->queue[i].type);
		free(n->queue[i].reason);
		free(n->queue[i].message);
	}
	n->nqueue = 0;
}

void
node_close(struct agent *a)
{
	struct node_sync *n = a->node;

	if (n == NULL)
		return;
	clear_events(n);
	free(n->queue);
	for (size_t i = 0; i < n->nseen; i++) {
		free(n->seen[i].key);
		free(n->seen[i].name);
		free(n->seen[i].first_time);
	}
	free(n->seen);
	pd_labels_clear(&n->applied);
	free(n->applied_profiles);
	free(n->applied_ready);
	free(n->node_uid);
	free(n->refused_owned);
	free(n->ns);
	pd_kube_free(n->kube);
	free(n);
	a->node = NULL;
}

/* ---- the API's answers ---------------------------------------------------- */

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
	n->retry_ms = pd_backoff_next(n->retry_ms, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
	delay = pd_backoff_jittered(n->retry_ms);
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

static int
cmp_entries(const void *x, const void *y)
{
	const struct pd_state_entry *a = *(const struct pd_state_entry *const *)x;
	const struct pd_state_entry *b = *(const struct pd_state_entry *const *)y;

	if (a->kind != b->kind)
		return a->kind == PD_KIND_APPARMOR ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The API's limit on all annotations of an object, keys and values. */
#define ANNOTATIONS_MAX_BYTES 262144
/* Room kept for the closing marker {"truncated":N}. */
#define TRUNCATED_MARKER_BYTES 32

/* The rule classes the kernel does not enforce ("unenforced") or enforces
 * only as a coarser rule ("downgraded"), as arrays; absent when none. */
static void
add_gaps(cJSON *o, const struct pd_aa_gap *g)
{
	const struct {
		const char *key;
		unsigned mask;
	} lists[] = {
		{ "unenforced", g != NULL ? g->not_enforced : 0 },
		{ "downgraded", g != NULL ? g->downgraded : 0 },
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		cJSON *arr;

		if (lists[i].mask == 0)
			continue;
		if ((arr = cJSON_AddArrayToObject(o, lists[i].key)) == NULL)
			pd_oom();
		for (int c = 0; c < PD_AA_RULE_N_CLASSES; c++) {
			cJSON *v;

			if (!(lists[i].mask & (1u << c)))
				continue;
			if ((v = cJSON_CreateString(pd_aa_rule_class_name(c))) == NULL)
				pd_oom();
			cJSON_AddItemToArray(arr, v);
		}
	}
}

static cJSON *
profile_entry(const struct agent *a, const struct pd_state_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	const char *state;

	if (o == NULL)
		pd_oom();
	if (e->kind == PD_KIND_SECCOMP) {
		_cleanup_free_ char *name = pd_xstrndup(e->name, strlen(e->name) - 5);

		cJSON_AddStringToObject(o, "kind", "seccomp");
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "file", e->name);
		state = "published";
	} else {
		cJSON_AddStringToObject(o, "kind", "apparmor");
		cJSON_AddStringToObject(o, "name", e->name);
		if (e->source != NULL)
			cJSON_AddStringToObject(o, "file", e->source);
		else
			cJSON_AddNullToObject(o, "file");
		state = e->source == NULL				  ? "retired"
			: pd_strv_contains(&a->apparmor.labeled, e->name) ? "loaded"
									  : "unconfirmed";
		add_gaps(o, e->source != NULL ? pd_aa_gaps_find(&a->apparmor.gaps, e->name) : NULL);
	}
	cJSON_AddStringToObject(o, "sha256", e->sha256);
	cJSON_AddStringToObject(o, "state", state);
	return o;
}

/*
 * SPEC §2.4: each managed profile, its kind, source file, sha256 and state,
 * as a JSON array of at most max bytes: when the entries do not all fit, the
 * array ends with {"truncated": N}, N the entries left out (*omitted).
 */
static char *
profiles_annotation(const struct agent *a, size_t max, size_t *omitted)
{
	_cleanup_free_ const struct pd_state_entry **v = pd_xcalloc(a->state.n + 1, sizeof(*v));
	size_t len = 1, cap = 256, i;
	char *out = pd_xmalloc(cap);

	for (i = 0; i < a->state.n; i++)
		v[i] = &a->state.v[i];
	qsort(v, a->state.n, sizeof(*v), cmp_entries);
	out[0] = '[';
	for (i = 0; i < a->state.n; i++) {
		cJSON *o = profile_entry(a, v[i]);
		char *text = cJSON_PrintUnformatted(o);
		size_t n;

		cJSON_Delete(o);
		if (text == NULL)
			pd_oom();
		n = strlen(text);
		/* The last entry need not leave room for the marker. */
		if (len + 1 + n + 1 + (i + 1 < a->state.n ? TRUNCATED_MARKER_BYTES : 0) > max) {
			free(text);
			break;
		}
		if (len + n + 3 > cap) {
			cap = (len + n + 3) * 2;
			out = pd_xrealloc(out, cap, 1);
		}
		if (i > 0)
			out[len++] = ',';
		memcpy(out + len, text, n);
		len += n;
		free(text);
	}
	out[len] = '\0';
	*omitted = a->state.n - i;
	if (*omitted > 0) {
		char *cut =
			pd_xasprintf("%s%s{\"truncated\":%zu}]", out, i > 0 ? "," : "", *omitted);

		free(out);
		return cut;
	}
	out = pd_xrealloc(out, len + 2, 1);
	strcpy(out + len, "]");
	return out;
}

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
fit_annotations(const struct agent *a, const struct pd_node_meta *m, const char *profiles,
		const char *owned, struct pd_labels *ann)
{
	size_t others = others_annotations(m);
	size_t avail = others < ANNOTATIONS_MAX_BYTES ? ANNOTATIONS_MAX_BYTES - others : 0;
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
		_cleanup_free_ char *cut = profiles_annotation(a, avail, &omitted);

		snprintf(listed, sizeof(listed), "%zu", a->state.n - omitted);
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
	_cleanup_free_ char **keys = pd_xcalloc(want->n + 1, sizeof(char *));
	size_t total = 1;
	char *out;

	for (size_t i = 0; i < want->n; i++) {
		keys[i] = want->v[i].key;
		total += strlen(keys[i]) + 1;
	}
	qsort(keys, want->n, sizeof(char *), cmp_str);
	out = pd_xmalloc(total);
	out[0] = '\0';
	for (size_t i = 0; i < want->n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, keys[i]);
	}
	return out;
}

/* One request on this Node (sub: "" or "/status"); 0 with the 200 answer
 * in *r, or -EAGAIN with *retry set (and the failure logged). */
static int
node_request(struct agent *a, const char *method, const char *sub, const char *ctype,
	     const char *body, struct pd_kube_response *r, long long *retry)
{
	struct node_sync *n = a->node;
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

static void
forget_seen_events(struct node_sync *n)
{
	for (size_t i = 0; i < n->nseen; i++) {
		free(n->seen[i].key);
		free(n->seen[i].name);
		free(n->seen[i].first_time);
	}
	n->nseen = 0;
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
	forget_seen_events(n);
}

static int
get_node(struct agent *a, struct pd_node_meta *m, long long *retry)
{
	struct node_sync *n = a->node;
	struct pd_kube_response r = { 0 };
	pd_error_t err = NULL;
	int ret;

	memset(m, 0, sizeof(*m));
	if (node_request(a, "GET", "", NULL, NULL, &r, retry) < 0)
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
patch_node(struct agent *a, const char *sub, const char *ctype, const char *body,
	   struct pd_node_meta *m, long long *retry)
{
	struct pd_kube_response r = { 0 };
	struct pd_node_meta fresh;
	pd_error_t err = NULL;

	if (node_request(a, "PATCH", sub, ctype, body, &r, retry) < 0)
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
log_label_changes(const struct agent *a, const char *patch)
{
	cJSON *p = cJSON_Parse(patch);
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p, "metadata"), "labels");
	const cJSON *it;

	cJSON_ArrayForEach (it, labels) {
		if (cJSON_IsNull(it))
			log_info("node label removed", "node", a->node->node, "label", it->string,
				 NULL);
		else
			log_info("node label set", "node", a->node->node, "label", it->string,
				 "value", it->valuestring, NULL);
	}
	cJSON_Delete(p);
}

/*
 * The label domains other than the current one that the agent's local
 * state says it used: keys under them that the owned-labels annotation
 * lists are removed (a changed --label-domain).  Nothing else the
 * annotation names is ever removed.
 */
static void
past_domains(const struct agent *a, struct pd_strv *out)
{
	for (size_t i = 0; i < a->state.domains.n; i++)
		if (strcmp(a->state.domains.v[i], a->opt->label_domain) != 0)
			pd_strv_push(out, pd_xstrdup(a->state.domains.v[i]));
}

/* The owned-labels annotation names labels that are not the agent's: said
 * once for as long as the same keys are named. */
static void
warn_refused(struct agent *a, struct pd_strv *refused)
{
	struct node_sync *n = a->node;
	_cleanup_free_ char *keys = NULL;
	size_t total = 1;

	if (refused->n == 0) {
		free(n->refused_owned);
		n->refused_owned = NULL;
		return;
	}
	for (size_t i = 0; i < refused->n; i++)
		total += strlen(refused->v[i]) + 1;
	keys = pd_xmalloc(total);
	keys[0] = '\0';
	for (size_t i = 0; i < refused->n; i++) {
		if (i)
			strcat(keys, ",");
		strcat(keys, refused->v[i]);
	}
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
label_patch(struct agent *a, const struct pd_node_meta *m, const struct pd_labels *want,
	    const struct pd_labels *ann, bool only_remove)
{
	struct pd_strv past = { 0 }, refused = { 0 };
	char *patch;

	past_domains(a, &past);
	patch = pd_node_patch(a->opt->label_domain, &past, m, want, ann, NODE_ANNOTATION_OWNED,
			      only_remove, &refused);
	warn_refused(a, &refused);
	pd_strv_clear(&past);
	pd_strv_clear(&refused);
	return patch;
}

void
node_prune_before_start(struct agent *a)
{
	struct pd_labels present = { 0 };
	struct pd_node_meta m;
	_cleanup_free_ char *patch = NULL;
	long long retry = 0;

	if (a->node == NULL)
		return;
	if (get_node(a, &m, &retry) < 0) {
		log_warn("labels of profiles not in place could not be checked before loading; "
			 "they converge once the API server answers",
			 NULL);
		return;
	}
	/* Without a state nothing is taken back from the Node's annotations:
	 * whoever can patch the Node writes them.  AppArmor profiles are
	 * proven the agent's by the kernel's copy of their policy
	 * (agent_reconcile_apparmor), seccomp files by their source. */
	agent_present_labels(a, &present);
	patch = label_patch(a, &m, &present, NULL, true);
	if (patch != NULL) {
		log_info("before loading: removing labels of profiles not in place (reboot?)",
			 NULL);
		if (patch_node(a, "", "application/merge-patch+json", patch, NULL, &retry) == 0)
			log_label_changes(a, patch);
	}
	pd_node_meta_clear(&m);
	pd_labels_clear(&present);
}

/* ---- events --------------------------------------------------------------- */

void
node_event(struct agent *a, const char *type, const char *reason, const char *fmt, ...)
{
	struct node_sync *n = a->node;
	struct node_event *e;
	va_list ap;
	char *msg;

	if (n == NULL)
		return;
	if (n->nqueue >= 100) { /* the API is down for long: keep the first ones */
		n->dropped++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		pd_oom();
	va_end(ap);
	if (n->nqueue == n->capqueue) {
		n->capqueue = n->capqueue ? n->capqueue * 2 : 16;
		n->queue = pd_xrealloc(n->queue, n->capqueue, sizeof(*n->queue));
	}
	e = &n->queue[n->nqueue++];
	e->type = pd_xstrdup(type);
	e->reason = pd_xstrdup(reason);
	/* Event messages are at most 1 KiB in the API. */
	if (strlen(msg) > 1000)
		strcpy(msg + 997, "...");
	e->message = msg;
}

static void
now_rfc3339(char out[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool
take_token(struct node_sync *n)
{
	long long now = pd_now_ms();

	n->tokens += (double)(now - n->tokens_ms) * EVENTS_PER_MINUTE / 60000.0;
	if (n->tokens > EVENTS_PER_MINUTE)
		n->tokens = EVENTS_PER_MINUTE;
	n->tokens_ms = now;
	if (n->tokens < 1.0)
		return false;
	n->tokens -= 1.0;
	return true;
}

static struct event_seen *
seen_find(struct node_sync *n, const char *key)
{
	long long now = pd_now_ms();

	for (size_t i = 0; i < n->nseen; i++)
		if (strcmp(n->seen[i].key, key) == 0 &&
		    now - n->seen[i].last_ms < EVENT_AGGREGATE_MS)
			return &n->seen[i];
	return NULL;
}

static void
post_event(struct agent *a, const struct node_event *e)
{
	struct node_sync *n = a->node;
	_cleanup_free_ char *key = pd_xasprintf("%s\n%s\n%s", e->type, e->reason, e->message);
	struct event_seen *s = seen_find(n, key);
	struct pd_kube_response r = { 0 };
	pd_error_t err = NULL;
	char now[32];
	cJSON *o;
	char *body, *path;
	int ret;

	now_rfc3339(now);
	o = cJSON_CreateObject();
	if (o == NULL)
		pd_oom();
	if (s != NULL) {
		/* The same event again: count it on the existing object. */
		cJSON_AddNumberToObject(o, "count", s->count + 1);
		cJSON_AddStringToObject(o, "lastTimestamp", now);
		path = pd_xasprintf("/api/v1/namespaces/%s/events/%s", n->ns, s->name);
		body = cJSON_PrintUnformatted(o);
		ret = pd_kube_request(n->kube, "PATCH", path, "application/merge-patch+json", body,
				      &r, &err);
	} else {
		char name[256];
		cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
		cJSON *inv = cJSON_AddObjectToObject(o, "involvedObject");
		cJSON *src = cJSON_AddObjectToObject(o, "source");
		char hex[PD_SHA256_HEX_LEN + 1];

		pd_sha256_hex(key, strlen(key), hex);
		hex[16] = '\0';
		/* node.<time><hash>: unique, and a valid DNS subdomain */
		snprintf(name, sizeof(name), "%.200s.%lx%.8s", n->node, (unsigned long)time(NULL),
			 hex + 8);
		cJSON_AddStringToObject(meta, "name", name);
		cJSON_AddStringToObject(meta, "namespace", n->ns);
		cJSON_AddStringToObject(inv, "apiVersion", "v1");
		cJSON_AddStringToObject(inv, "kind", "Node");
		cJSON_AddStringToObject(inv, "name", n->node);
		if (n->node_uid != NULL)
			cJSON_AddStringToObject(inv, "uid", n->node_uid);
		cJSON_AddStringToObject(o, "reason", e->reason);
		cJSON_AddStringToObject(o, "message", e->message);
		cJSON_AddStringToObject(o, "type", e->type);
		cJSON_AddStringToObject(src, "component", "profiled");
		cJSON_AddStringToObject(src, "host", n->node);
		cJSON_AddStringToObject(o, "reportingComponent", "profiled");
		cJSON_AddStringToObject(o, "reportingInstance", n->node);
		cJSON_AddStringToObject(o, "firstTimestamp", now);
		cJSON_AddStringToObject(o, "lastTimestamp", now);
		cJSON_AddNumberToObject(o, "count", 1);
		path = pd_xasprintf("/api/v1/namespaces/%s/events", n->ns);
		body = cJSON_PrintUnformatted(o);
		ret = pd_kube_request(n->kube, "POST", path, "application/json", body, &r, &err);
		if (ret == 0 && (r.status == 201 || r.status == 200)) {
			if (n->nseen == n->capseen) {
				n->capseen = n->capseen ? n->capseen * 2 : 16;
				n->seen = pd_xrealloc(n->seen, n->capseen, sizeof(*n->seen));
			}
			s = &n->seen[n->nseen++];
			s->key = pd_xstrdup(key);
			s->name = pd_xstrdup(name);
			s->count = 0;
			s->first_time = pd_xstrdup(now);
		}
	}
	if (ret < 0 || (r.status != 200 && r.status != 201)) {
		_cleanup_free_ char *msg =
			ret < 0 ? pd_xstrdup(pd_error_msg(err)) : pd_kube_status_message(&r);

		log_warn("event not posted", "reason", e->reason, "error", msg, NULL);
	} else if (s != NULL) {
		s->count++;
		s->last_ms = pd_now_ms();
	}
	pd_error_release(&err);
	pd_kube_response_clear(&r);
	cJSON_Delete(o);
	free(body);
	free(path);
}

static void
post_events(struct agent *a)
{
	struct node_sync *n = a->node;
	unsigned long dropped = 0;

	for (size_t i = 0; i < n->nqueue; i++) {
		if (!take_token(n)) {
			dropped++;
			continue;
		}
		post_event(a, &n->queue[i]);
	}
	if (dropped > 0) {
		char d[24];

		n->dropped += dropped;
		snprintf(d, sizeof(d), "%lu", dropped);
		log_warn("events dropped: over the rate limit", "dropped", d, NULL);
	}
	clear_events(n);
	/* Forget aggregation keys that are too old to matter. */
	for (size_t i = 0; i < n->nseen;) {
		if (pd_now_ms() - n->seen[i].last_ms >= EVENT_AGGREGATE_MS) {
			free(n->seen[i].key);
			free(n->seen[i].name);
			free(n->seen[i].first_time);
			n->seen[i] = n->seen[--n->nseen];
		} else {
			i++;
		}
	}
}

/* ---- readiness: the condition and the start-up taint ----------------------- */

static char *
readiness_key(const struct agent *a)
{
	return pd_xasprintf("%d\n%s\n%s", a->ready.ready, a->ready.reason,
			    a->ready.message ? a->ready.message : "");
}

/* The ProfilesReady condition, patched on nodes/NAME/status when what the
 * Node shows differs from this reconcile's outcome. */
static int
sync_condition(struct agent *a, struct pd_node_meta *m, long long *retry)
{
	const struct readiness *r = &a->ready;
	const char *status = r->ready ? "True" : "False";
	_cleanup_free_ char *patch = NULL;
	char now[32];

	now_rfc3339(now);
	patch = pd_condition_patch(&m->ready, status, r->reason, r->message ? r->message : "", now);
	if (patch == NULL)
		return 0;
	if (patch_node(a, "/status", "application/strategic-merge-patch+json", patch, m, retry) < 0)
		return -EAGAIN;
	log_info("node condition set", "node", a->node->node, "condition",
		 PD_CONDITION_PROFILES_READY, "status", status, "reason", r->reason, "message",
		 r->message, NULL);
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
remove_taint(struct agent *a, struct pd_node_meta *m, long long *retry)
{
	struct node_sync *n = a->node;
	const char *key = a->opt->remove_taint_key, *effect = a->opt->remove_taint_effect;
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
			node_event(
				a, "Normal", "TaintRemoved",
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
			if (get_node(a, m, retry) < 0)
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

long long
node_sync(struct agent *a, bool force_get)
{
	struct node_sync *n = a->node;
	struct pd_labels want = { 0 }, ann = { 0 };
	_cleanup_free_ char *profiles = NULL;
	_cleanup_free_ char *owned = NULL;
	_cleanup_free_ char *patch = NULL;
	_cleanup_free_ char *ready = NULL;
	struct pd_node_meta m = { 0 };
	long long retry = 0;
	size_t omitted = 0;
	bool untaint;

	if (n == NULL)
		return 0;
	agent_desired_labels(a, &want);
	profiles = profiles_annotation(a, SIZE_MAX, &omitted);
	owned = owned_annotation(&want);
	ready = readiness_key(a);
	untaint = a->opt->remove_taint_key != NULL && a->ready.ready && !n->taint_done;
	if (!force_get && n->in_sync && !untaint && pd_labels_equal(&want, &n->applied) &&
	    n->applied_profiles != NULL && strcmp(n->applied_profiles, profiles) == 0 &&
	    n->applied_ready != NULL && strcmp(n->applied_ready, ready) == 0)
		goto events; /* nothing changed: no request */
	n->in_sync = false;
	if (get_node(a, &m, &retry) < 0)
		goto out;
	/* The GET may show a Node registered again, with the taint back. */
	untaint = a->opt->remove_taint_key != NULL && a->ready.ready && !n->taint_done;
	fit_annotations(a, &m, profiles, owned, &ann);
	patch = label_patch(a, &m, &want, &ann, false);
	if (patch != NULL) {
		if (patch_node(a, "", "application/merge-patch+json", patch, &m, &retry) < 0)
			goto out;
		log_label_changes(a, patch);
	}
	if (sync_condition(a, &m, &retry) < 0)
		goto out;
	if (untaint && remove_taint(a, &m, &retry) < 0)
		goto out;
	n->in_sync = true;
	free(n->applied_ready);
	n->applied_ready = pd_steal(&ready);
	n->retry_ms = 0;
	pd_labels_clear(&n->applied);
	n->applied = want;
	memset(&want, 0, sizeof(want));
	free(n->applied_profiles);
	n->applied_profiles = pd_steal(&profiles);
events:
	if (n->nqueue > 0)
		post_events(a);
out:
	pd_node_meta_clear(&m);
	pd_labels_clear(&ann);
	pd_labels_clear(&want);
	return retry;
}
