/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/view.c, through libprofiled-agent.a: the read-only view node sync
 * takes (labels, annotation entries, readiness) holds what the daemon
 * state says, as its own copy.
 */
#include "unit.h"

#include "../../agent/agent.h"

static const char SHA_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char SHA_B[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static const struct view_profile *
find(const struct agent_view *v, const char *name)
{
	for (size_t i = 0; i < v->nprofiles; i++)
		if (strcmp(v->profiles[i].name, name) == 0)
			return &v->profiles[i];
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
	struct agent_view v;
	const struct view_profile *p;
	_cleanup_free_ char *ak = pd_label_support_key("example.io", PD_LABEL_APPARMOR);

	(void)state;
	pd_state_put(&a.state, PD_KIND_SECCOMP, "web.json", SHA_A);
	pd_state_put(&a.state, PD_KIND_SECCOMP, "gone.json", SHA_A);
	pd_strv_push(&a.seccomp.missing, pd_xstrdup("gone.json"));
	pd_state_set_source(pd_state_put(&a.state, PD_KIND_APPARMOR, "pd-web", SHA_B), "web");
	pd_state_set_source(pd_state_put(&a.state, PD_KIND_APPARMOR, "pd-new", SHA_B), "new");
	pd_state_put(&a.state, PD_KIND_APPARMOR, "pd-old", SHA_B);
	pd_strv_push(&a.apparmor.labeled, pd_xstrdup("pd-web"));
	pd_aa_gaps_add(&a.apparmor.gaps, "pd-web", PD_AA_RULE_DBUS, PD_AA_GAP_NOT_ENFORCED);
	a.ready.ready = false;
	snprintf(a.ready.reason, sizeof(a.ready.reason), "Pending");
	a.ready.message = pd_xstrdup("new: compiling");

	agent_view_fill(&a, 0, &v);
	assert_label(&v.desired, PD_LABEL_SECCOMP, "web", true);
	assert_label(&v.desired, PD_LABEL_SECCOMP, "gone", false); /* not in place */
	assert_label(&v.desired, PD_LABEL_APPARMOR, "pd-web", true);
	assert_label(&v.desired, PD_LABEL_APPARMOR, "pd-new", false);
	assert_string_equal(pd_labels_get(&v.desired, ak), "disabled");
	assert_int_equal(v.present.n, 0); /* not asked for */
	assert_int_equal(v.nprofiles, 5);
	p = find(&v, "web");
	assert_int_equal(p->kind, PD_KIND_SECCOMP);
	assert_string_equal(p->file, "web.json");
	assert_string_equal(p->state, "published");
	assert_string_equal(p->sha256, SHA_A);
	p = find(&v, "pd-web");
	assert_string_equal(p->state, "loaded");
	assert_string_equal(p->file, "web");
	assert_int_equal(p->gaps.not_enforced, 1u << PD_AA_RULE_DBUS);
	assert_string_equal(find(&v, "pd-new")->state, "unconfirmed");
	assert_int_equal(find(&v, "pd-new")->gaps.not_enforced, 0);
	assert_string_equal(find(&v, "pd-old")->state, "retired");
	assert_null(find(&v, "pd-old")->file);
	assert_false(v.ready.ready);
	assert_string_equal(v.ready.reason, "Pending");
	/* its own copy: the daemon state may change under it */
	free(a.ready.message);
	a.ready.message = NULL;
	assert_string_equal(v.ready.message, "new: compiling");

	agent_view_clear(&v);
	pd_state_clear(&a.state);
	pd_strv_clear(&a.seccomp.missing);
	pd_strv_clear(&a.apparmor.labeled);
	pd_aa_gaps_clear(&a.apparmor.gaps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(view_holds_labels_entries_and_readiness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
