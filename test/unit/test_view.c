/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/view.c, through libprofiled-agent.a: the read-only view node sync
 * takes (labels, annotation entries, readiness) holds what the daemon
 * state says.
 */
#include "unit.h"

#include "../../agent/agent.h"
#include "../../agent/view.h"

static const char SHA_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char SHA_B[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static const struct pd_annotation_entry *
find(const struct node_view *v, const char *name)
{
	for (size_t i = 0; i < v->profiles.n; i++)
		if (strcmp(v->profiles.v[i].name, name) == 0)
			return &v->profiles.v[i];
	fail_msg("no profile `%s` in the view", name);
	abort();
}

static void
assert_label(const struct pd_labels *l, enum pd_label_kind k, const char *profile, bool set)
{
	_cleanup_free_ char *key = pd_label_profile_key("example.io", k, profile);

	if (set)
		assert_string_equal(pd_labels_get(l, key), "true");
	else
		assert_null(pd_labels_get(l, key));
}

static void
view_holds_labels_entries_and_readiness(void **state)
{
	struct options opt = { .label_domain = "example.io" };
	struct agent a = { .opt = &opt, .seccomp.enabled = true };
	struct node_view v;
	const struct pd_annotation_entry *p;
	_cleanup_free_ char *ak = pd_label_support_key("example.io", PD_LABEL_APPARMOR);

	(void)state;
	pd_state_put(&a.owned.state, PD_KIND_SECCOMP, "web.json", SHA_A);
	pd_state_put(&a.owned.state, PD_KIND_SECCOMP, "gone.json", SHA_A);
	pd_strv_push(&a.seccomp.missing, pd_xstrdup("gone.json"));
	pd_state_set_source(pd_state_put(&a.owned.state, PD_KIND_APPARMOR, "pd-web", SHA_B), "web");
	pd_state_set_source(pd_state_put(&a.owned.state, PD_KIND_APPARMOR, "pd-new", SHA_B), "new");
	pd_state_put(&a.owned.state, PD_KIND_APPARMOR, "pd-old", SHA_B);
	pd_strv_push(&a.apparmor.labeled, pd_xstrdup("pd-web"));
	pd_aa_gaps_add(&a.apparmor.gaps, "pd-web", PD_AA_RULE_DBUS, PD_AA_GAP_NOT_ENFORCED);
	a.ready.ready = false;
	snprintf(a.ready.reason, sizeof(a.ready.reason), "Pending");
	a.ready.message = pd_xstrdup("new: compiling");

	agent_view_fill(&a, VIEW_DESIRED, &v);
	assert_label(&v.labels, PD_LABEL_SECCOMP, "web", true);
	assert_label(&v.labels, PD_LABEL_SECCOMP, "gone", false); /* not in place */
	assert_label(&v.labels, PD_LABEL_APPARMOR, "pd-web", true);
	assert_label(&v.labels, PD_LABEL_APPARMOR, "pd-new", false);
	assert_string_equal(pd_labels_get(&v.labels, ak), "disabled");
	assert_int_equal(v.profiles.n, 5);
	/* the canonical order: AppArmor first */
	assert_int_equal(v.profiles.v[0].kind, PD_KIND_APPARMOR);
	assert_int_equal(v.profiles.v[4].kind, PD_KIND_SECCOMP);
	p = find(&v, "web");
	assert_int_equal(p->kind, PD_KIND_SECCOMP);
	assert_string_equal(p->file, "web.json");
	assert_int_equal(p->state, PD_ANN_PUBLISHED);
	assert_string_equal(p->sha256, SHA_A);
	p = find(&v, "pd-web");
	assert_int_equal(p->state, PD_ANN_LOADED);
	assert_string_equal(p->file, "web");
	assert_int_equal(p->unenforced, 1u << PD_AA_RULE_DBUS);
	assert_int_equal(find(&v, "pd-new")->state, PD_ANN_UNCONFIRMED);
	assert_int_equal(find(&v, "pd-new")->unenforced, 0);
	assert_int_equal(find(&v, "pd-old")->state, PD_ANN_RETIRED);
	assert_null(find(&v, "pd-old")->file);
	assert_false(v.ready);
	assert_string_equal(v.reason, "Pending");
	assert_string_equal(v.message, "new: compiling");
	assert_int_equal(v.past_domains.n, 0);

	node_view_clear(&v);
	pd_state_clear(&a.owned.state);
	pd_strv_clear(&a.seccomp.missing);
	pd_strv_clear(&a.apparmor.labeled);
	pd_aa_gaps_clear(&a.apparmor.gaps);
	free(a.ready.message);
}

/* After a --label-domain change: the old domain is listed for removal,
 * the current one is not. */
static void
view_lists_past_domains(void **state)
{
	struct options opt = { .label_domain = "example.io" };
	struct agent a = { .opt = &opt };
	struct node_view v;

	(void)state;
	pd_strv_push(&a.owned.state.domains, pd_xstrdup("old.example"));
	pd_strv_push(&a.owned.state.domains, pd_xstrdup("example.io"));
	agent_view_fill(&a, VIEW_DESIRED, &v);
	assert_int_equal(v.past_domains.n, 1);
	assert_string_equal(v.past_domains.v[0], "old.example");
	node_view_clear(&v);
	pd_state_clear(&a.owned.state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(view_holds_labels_entries_and_readiness),
		cmocka_unit_test(view_lists_past_domains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
