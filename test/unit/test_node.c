/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/node.c: from the read-only node view to what is sent (docs/api.md,
 * "Labels and the annotation"): the merge patch for a given Node, the cut
 * of the profiles annotation at the API's limit, the labels of an earlier
 * label domain, and when no request is made at all.  No API server: the
 * decisions are asked directly.
 */
#include "unit.h"

#include <cjson/cJSON.h>

#include "../../agent/node_private.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static struct node_sync *
new_sync(void)
{
	struct node_sync *n = pd_xcalloc(1, sizeof(*n));

	n->node = "node-1";
	n->opt.label_domain = "profiled.io";
	events_init(&n->events, 0);
	return n;
}

/* Two seccomp profiles published, ready. */
static void
view_of(struct node_view *v, int nprofiles)
{
	memset(v, 0, sizeof(*v));
	pd_labels_set(&v->labels, "profiled.io/seccomp", "enabled");
	for (int i = 0; i < nprofiles; i++) {
		_cleanup_free_ char *name = pd_xasprintf("p%04d", i);
		_cleanup_free_ char *file = pd_xasprintf("p%04d.json", i);
		_cleanup_free_ char *key = pd_xasprintf("seccomp.profiled.io/%s", name);

		pd_labels_set(&v->labels, key, "true");
		pd_annotation_add(&v->profiles, PD_KIND_SECCOMP, name, file, SHA_A,
				  PD_ANN_PUBLISHED);
	}
	v->ready = true;
	v->reason = "ProfilesInPlace";
}

static void
parse_node(const char *json, struct pd_node_meta *m)
{
	assert_int_equal(pd_node_meta_parse(json, m, NULL), 0);
}

static void
teardown(struct node_sync *n, struct node_view *v, struct node_wanted *w, struct pd_node_meta *m)
{
	pd_node_meta_clear(m);
	node_wanted_clear(w);
	node_view_clear(v);
	node_sync_close(n);
}

static const cJSON *
field(const cJSON *patch, const char *part, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(patch, "metadata"), part),
		key);
}

static void
patch_sets_labels_and_both_annotations_then_nothing(void **state)
{
	struct node_sync *n = new_sync();
	struct node_wanted w = { 0 };
	struct node_view v;
	struct pd_node_meta m, after;
	char *patch, *again;
	cJSON *p;

	(void)state;
	view_of(&v, 2);
	node_wanted_of(&v, &w);
	parse_node("{\"metadata\":{\"uid\":\"u\",\"labels\":{\"team\":\"a\"}}}", &m);
	patch = node_sync_patch(n, &v, &w, &m);
	assert_non_null(patch);
	p = cJSON_Parse(patch);
	assert_string_equal(field(p, "labels", "seccomp.profiled.io/p0001")->valuestring, "true");
	assert_null(field(p, "labels", "team"));
	assert_string_equal(field(p, "annotations", "profiled.io/profiles")->valuestring,
			    w.profiles);
	assert_string_equal(
		field(p, "annotations", "profiled.io/owned-labels")->valuestring,
		"profiled.io/seccomp,seccomp.profiled.io/p0000,seccomp.profiled.io/p0001");
	cJSON_Delete(p);
	/* The Node as patched: nothing more to send. */
	{
		cJSON *js = cJSON_CreateString(w.profiles), *jo = cJSON_CreateString(w.owned);
		_cleanup_free_ char *ps = cJSON_PrintUnformatted(js);
		_cleanup_free_ char *os = cJSON_PrintUnformatted(jo);
		_cleanup_free_ char *node = pd_xasprintf(
			"{\"metadata\":{\"uid\":\"u\",\"labels\":{\"team\":\"a\",%s}, "
			"\"annotations\":{\"profiled.io/profiles\":%s,\"profiled.io/owned-labels\":%s}}}",
			"\"profiled.io/seccomp\":\"enabled\",\"seccomp.profiled.io/p0000\":\"true\","
			"\"seccomp.profiled.io/p0001\":\"true\"",
			ps, os);

		parse_node(node, &after);
		cJSON_Delete(js);
		cJSON_Delete(jo);
	}
	again = node_sync_patch(n, &v, &w, &after);
	assert_null(again);
	free(patch);
	pd_node_meta_clear(&m);
	pd_node_meta_clear(&after);
	node_wanted_clear(&w);
	node_view_clear(&v);
	node_sync_close(n);
}

static void
others_near_the_limit_cut_the_profiles_annotation(void **state)
{
	struct node_sync *n = new_sync();
	struct node_wanted w = { 0 };
	struct node_view v;
	struct pd_node_meta m;
	_cleanup_free_ char *big = pd_xmalloc(200001);
	_cleanup_free_ char *node = NULL;
	struct pd_annotation back = { 0 };
	const char *ann;
	size_t total;
	char *patch;
	cJSON *p;

	(void)state;
	view_of(&v, 600);
	node_wanted_of(&v, &w);
	memset(big, 'x', 200000);
	big[200000] = '\0';
	node = pd_xasprintf("{\"metadata\":{\"annotations\":{\"example.com/big\":\"%s\"}}}", big);
	parse_node(node, &m);
	patch = node_sync_patch(n, &v, &w, &m);
	p = cJSON_Parse(patch);
	ann = field(p, "annotations", "profiled.io/profiles")->valuestring;
	/* Every label still goes. */
	assert_string_equal(field(p, "labels", "seccomp.profiled.io/p0599")->valuestring, "true");
	total = strlen("example.com/big") + 200000 + strlen("profiled.io/profiles") + strlen(ann) +
		strlen("profiled.io/owned-labels") +
		strlen(field(p, "annotations", "profiled.io/owned-labels")->valuestring);
	assert_true(total <= PD_ANNOTATIONS_MAX_BYTES);
	assert_int_equal(pd_annotation_decode(ann, strlen(ann), &back, NULL), 0);
	assert_true(back.truncated > 0);
	assert_int_equal(back.n + back.truncated, 600);
	pd_annotation_clear(&back);
	cJSON_Delete(p);
	free(patch);
	teardown(n, &v, &w, &m);
}

static void
keys_of_a_past_domain_go_foreign_keys_stay(void **state)
{
	struct node_sync *n = new_sync();
	struct node_wanted w = { 0 };
	struct node_view v;
	struct pd_node_meta m;
	char *patch;
	cJSON *p;

	(void)state;
	view_of(&v, 0);
	pd_strv_push(&v.past_domains, pd_xstrdup("old.example.com"));
	node_wanted_of(&v, &w);
	parse_node(
		"{\"metadata\":{\"labels\":{\"old.example.com/seccomp\":\"enabled\","
		"\"kubernetes.io/hostname\":\"n\"},\"annotations\":{\"profiled.io/owned-labels\":"
		"\"old.example.com/seccomp,kubernetes.io/hostname\"}}}",
		&m);
	patch = node_sync_patch(n, &v, &w, &m);
	p = cJSON_Parse(patch);
	assert_true(cJSON_IsNull(field(p, "labels", "old.example.com/seccomp")));
	assert_null(field(p, "labels", "kubernetes.io/hostname"));
	/* The foreign key is said once. */
	assert_string_equal(n->refused_owned, "kubernetes.io/hostname");
	cJSON_Delete(p);
	free(patch);
	teardown(n, &v, &w, &m);
}

/* What was applied last, as node_sync_run() records it. */
static void
mark_applied(struct node_sync *n, const struct node_view *v, const struct node_wanted *w)
{
	n->in_sync = true;
	for (size_t i = 0; i < v->labels.n; i++)
		pd_labels_set(&n->applied, v->labels.v[i].key, v->labels.v[i].value);
	n->applied_profiles = pd_xstrdup(w->profiles);
	n->applied_ready = pd_xstrdup(w->ready);
}

static void
no_request_only_while_the_view_is_what_was_applied(void **state)
{
	struct node_sync *n = new_sync();
	struct node_wanted w = { 0 }, w2 = { 0 };
	struct node_view v;

	(void)state;
	view_of(&v, 3);
	node_wanted_of(&v, &w);
	assert_false(node_sync_unchanged(n, &v, &w)); /* never synced */
	mark_applied(n, &v, &w);
	assert_true(node_sync_unchanged(n, &v, &w));
	/* Another annotation entry state. */
	v.profiles.v[0].state = PD_ANN_LOADED;
	node_wanted_of(&v, &w2);
	assert_false(node_sync_unchanged(n, &v, &w2));
	node_wanted_clear(&w2);
	v.profiles.v[0].state = PD_ANN_PUBLISHED;
	/* Another readiness. */
	v.ready = false;
	v.reason = "ProfileInvalid";
	node_wanted_of(&v, &w2);
	assert_false(node_sync_unchanged(n, &v, &w2));
	node_wanted_clear(&w2);
	v.ready = true;
	v.reason = "ProfilesInPlace";
	/* Another label. */
	pd_labels_set(&v.labels, "seccomp.profiled.io/new", "true");
	node_wanted_of(&v, &w2);
	assert_false(node_sync_unchanged(n, &v, &w2));
	node_wanted_clear(&w2);
	/* The start-up taint to remove once ready. */
	node_view_clear(&v);
	view_of(&v, 3);
	n->opt.taint_key = "profiled.io/not-ready";
	assert_false(node_sync_unchanged(n, &v, &w));
	n->taint_done = true;
	assert_true(node_sync_unchanged(n, &v, &w));
	/* A failed sync: not in sync any more. */
	n->in_sync = false;
	assert_false(node_sync_unchanged(n, &v, &w));
	node_wanted_clear(&w);
	node_view_clear(&v);
	node_sync_close(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(patch_sets_labels_and_both_annotations_then_nothing),
		cmocka_unit_test(others_near_the_limit_cut_the_profiles_annotation),
		cmocka_unit_test(keys_of_a_past_domain_go_foreign_keys_stay),
		cmocka_unit_test(no_request_only_while_the_view_is_what_was_applied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
