/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/aagap: the AppArmor parser's warnings about rules a features set does
 * not enforce, read into (profile, class, kind).  The lines below are the
 * parser's exact output, captured from apparmor_parser 4.1.0 (Debian 13's)
 * and 3.0.8 (Debian 12's) compiling against the features of Debian's 6.1,
 * 6.12 and 7.2 kernels (test/data/apparmor-features); the last tests run the
 * parser on PATH against those features through pd_aa_compile().
 */
#include "unit.h"

#include "../../lib/aagap.h"
#include "../../lib/apparmor.h"

#define F "/var/cache/profiled/ctx-1/src/0a1b"

static const struct {
	const char *line, *profile;
	enum pd_aa_rule_class cls;
	enum pd_aa_gap_kind kind;
} known[] = {
	{ "Warning from profile pd-all (" F "): userns rules not enforced", "pd-all",
	  PD_AA_RULE_USERNS, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): io_uring rules not enforced", "pd-all",
	  PD_AA_RULE_IO_URING, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): mqueue rules not enforced", "pd-all",
	  PD_AA_RULE_MQUEUE, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): mqueue type=posix rules not enforced", "pd-all",
	  PD_AA_RULE_MQUEUE, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): dbus rules not enforced", "pd-all", PD_AA_RULE_DBUS,
	  PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): signal rules not enforced", "pd-all",
	  PD_AA_RULE_SIGNAL, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): ptrace rules not enforced", "pd-all",
	  PD_AA_RULE_PTRACE, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): mount rules not enforce", "pd-all",
	  PD_AA_RULE_MOUNT, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): network rules not enforced", "pd-all",
	  PD_AA_RULE_NETWORK, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F "): extended network unix socket rules not enforced",
	  "pd-all", PD_AA_RULE_UNIX, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from profile pd-all (" F
	  "): downgrading extended network unix socket rule to generic network rule",
	  "pd-all", PD_AA_RULE_UNIX, PD_AA_GAP_DOWNGRADED },
	{ "Warning from profile pd-all (" F "): deny unix socket rule not enforced, can't be "
	  "downgraded to generic network rule",
	  "pd-all", PD_AA_RULE_UNIX, PD_AA_GAP_NOT_ENFORCED },
	/* the parser's pwarn form: file and line, the profile in the text */
	{ "Warning from " F " (" F " line 15): profile pd-all network rules not enforced", "pd-all",
	  PD_AA_RULE_NETWORK, PD_AA_GAP_NOT_ENFORCED },
	{ "Warning from " F " (/etc/apparmor.d/abstractions/x line 3): downgrading change_profile "
	  "safe rule to unsafe due to lack of necessary kernel support",
	  "", PD_AA_RULE_CHANGE_PROFILE, PD_AA_GAP_DOWNGRADED },
	/* a name holding the marker: the last one is the parser's */
	{ "Warning from profile a (" F "): dbus rules not enforced (" F
	  "): userns rules not enforced",
	  "a (" F "): dbus rules not enforced", PD_AA_RULE_USERNS, PD_AA_GAP_NOT_ENFORCED },
};

static void
test_known_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char *profile = NULL;
		enum pd_aa_rule_class cls;
		enum pd_aa_gap_kind kind;

		if (!pd_aa_parse_gap(known[i].line, F, &profile, &cls, &kind))
			fail_msg("not parsed: %s", known[i].line);
		assert_string_equal(profile, known[i].profile);
		assert_int_equal(cls, known[i].cls);
		assert_int_equal(kind, known[i].kind);
		free(profile);
	}
}

static void
test_other_lines(void **state)
{
	static const char *const lines[] = {
		/* other warnings stay warnings */
		"Warning from " F " (" F " line 3): apparmor_parser: File 'x' not found",
		"Warning from profile pd-x (" F "): xattr attachment conditional ignored",
		"Cache read/write disabled: interface file missing.",
		/* another file's warning */
		"Warning from profile pd-x (/tmp/other): userns rules not enforced",
		/* text around a known message */
		"Warning from profile pd-x (" F "): userns rules not enforced, really",
		"Warning from profile pd-x (" F "): not userns rules not enforced",
		"Warning converted to Error from profile pd-x (" F "): userns rules not enforced",
		"Warning from profile (" F "): userns rules not enforced",
		"Warning from " F " (" F " line 1): profile  network rules not enforced",
		"AppArmor parser error for " F " in profile " F " at line 4: syntax error",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char *profile = NULL;
		enum pd_aa_rule_class cls;
		enum pd_aa_gap_kind kind;

		if (pd_aa_parse_gap(lines[i], F, &profile, &cls, &kind))
			fail_msg("parsed as a gap: %s", lines[i]);
		assert_null(profile);
	}
}

static void
test_gaps_per_profile(void **state)
{
	struct pd_aa_gaps g = { 0 };
	char *text;

	(void)state;
	pd_aa_gaps_add(&g, "b", PD_AA_RULE_USERNS, PD_AA_GAP_NOT_ENFORCED);
	pd_aa_gaps_add(&g, "a", PD_AA_RULE_UNIX, PD_AA_GAP_DOWNGRADED);
	pd_aa_gaps_add(&g, "b", PD_AA_RULE_IO_URING, PD_AA_GAP_NOT_ENFORCED);
	pd_aa_gaps_add(&g, "b", PD_AA_RULE_UNIX, PD_AA_GAP_DOWNGRADED);
	pd_aa_gaps_add(&g, "a", PD_AA_RULE_UNIX, PD_AA_GAP_NOT_ENFORCED);
	assert_int_equal(g.n, 2);
	assert_null(pd_aa_gaps_find(&g, "c"));
	/* not enforced at all wins over downgraded */
	assert_int_equal(pd_aa_gaps_find(&g, "a")->downgraded, 0);
	text = pd_aa_gap_text(pd_aa_gaps_find(&g, "a"));
	assert_string_equal(text, "profile `a`: rules not enforced: unix");
	free(text);
	text = pd_aa_gap_text(pd_aa_gaps_find(&g, "b"));
	assert_string_equal(text, "profile `b`: rules not enforced: io_uring userns; "
				  "downgraded: unix");
	free(text);
	text = pd_aa_classes_text(pd_aa_gaps_find(&g, "b")->not_enforced, ",");
	assert_string_equal(text, "io_uring,userns");
	free(text);
	pd_aa_gaps_clear(&g);
	assert_int_equal(g.n, 0);
	/* a cleared record set is reusable: many profiles after a clear */
	for (int i = 0; i < 100; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		pd_aa_gaps_add(&g, name, PD_AA_RULE_UNIX, PD_AA_GAP_DOWNGRADED);
	}
	assert_int_equal(g.n, 100);
	assert_int_equal(pd_aa_gaps_find(&g, "p99")->downgraded, 1u << PD_AA_RULE_UNIX);
	pd_aa_gaps_clear(&g);
}

/* ---- the parser on PATH against real kernels' features ------------------ */

static const char gap_profile[] = "profile pd-gap {\n"
				  "  file,\n"
				  "  dbus,\n"
				  "  unix,\n"
				  "  signal,\n"
				  "}\n";

static char *
features_dir(const char *kernel)
{
	const char *data = getenv("PROFILED_TEST_DATA");

	return unit_asprintf("%s/apparmor-features/%s",
			     data != NULL && data[0] != '\0' ? data : "test/data", kernel);
}

/* Compiles gap_profile for kernel's features; the gap of pd-gap. */
static void
compile_for(const char *kernel, unsigned *not_enforced, unsigned *downgraded)
{
	char *feat = features_dir(kernel);
	struct pd_aa_options o = { .features = feat };
	struct pd_aa_unit u = { .label = "gap", .data = gap_profile, .len = strlen(gap_profile) };
	struct pd_aa_stats stats;
	struct pd_aa *aa = NULL;
	pd_error_t err = NULL;
	const struct pd_aa_gap *g;

	if (access("/sbin/apparmor_parser", X_OK) != 0 &&
	    access("/usr/sbin/apparmor_parser", X_OK) != 0) {
		print_message("[  SKIP    ] apparmor_parser not installed (make deps)\n");
		skip();
	}
	if (access(feat, R_OK) != 0)
		fail_msg("%s: %s (set PROFILED_TEST_DATA)", feat, strerror(errno));
	memset(u.sha256, 'a', PD_SHA256_HEX_LEN);
	if (pd_aa_open(&o, &aa, &err) < 0)
		fail_msg("pd_aa_open: %s", pd_error_msg(err));
	if (pd_aa_compile(aa, &u, 1, &stats, &err) < 0)
		fail_msg("pd_aa_compile: %s", pd_error_msg(err));
	assert_null(u.error);
	g = pd_aa_gaps_find(&u.gaps, "pd-gap");
	*not_enforced = g != NULL ? g->not_enforced : 0;
	*downgraded = g != NULL ? g->downgraded : 0;
	/* what was read as a gap is not also a plain warning */
	for (size_t i = 0; i < u.warnings.n; i++)
		assert_not_contains(u.warnings.v[i], "not enforced");
	pd_aa_unit_clear(&u);
	pd_aa_free(aa);
	free(feat);
}

static void
test_parser_linux_6_1(void **state)
{
	unsigned ne, dg;

	(void)state;
	compile_for("linux-6.1", &ne, &dg);
	/* 6.1 mediates neither D-Bus nor fine-grained unix sockets */
	assert_int_equal(ne, 1u << PD_AA_RULE_DBUS);
	assert_int_equal(dg, 1u << PD_AA_RULE_UNIX);
}

static void
test_parser_linux_7_2(void **state)
{
	unsigned ne, dg;

	(void)state;
	compile_for("linux-7.2", &ne, &dg);
	/* 7.2 mediates D-Bus; the parser still has no unix rules for it */
	assert_int_equal(ne, 0);
	assert_int_equal(dg, 1u << PD_AA_RULE_UNIX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_lines),	 cmocka_unit_test(test_other_lines),
		cmocka_unit_test(test_gaps_per_profile), cmocka_unit_test(test_parser_linux_6_1),
		cmocka_unit_test(test_parser_linux_7_2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
