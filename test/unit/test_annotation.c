/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/annotation.c: the profiles annotation of docs/api.md ("Labels and the
 * annotation"), written and read back.  Expected texts are written out
 * here from the documented format, key by key.
 */
#include "unit.h"

#include "../../lib/aagap.h"
#include "../../lib/annotation.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Two seccomp profiles, three AppArmor ones (loaded with gaps, retired,
 * unconfirmed), added out of order. */
static void
sample(struct pd_annotation *a)
{
	struct pd_annotation_entry *e;

	pd_annotation_add(a, PD_KIND_SECCOMP, "audit", "audit.json", SHA_A, PD_ANN_PUBLISHED);
	pd_annotation_add(a, PD_KIND_SECCOMP, "a-b", "a-b.json", SHA_B, PD_ANN_PUBLISHED);
	e = pd_annotation_add(a, PD_KIND_APPARMOR, "pd-gap", "gap", SHA_B, PD_ANN_LOADED);
	e->unenforced = 1u << PD_AA_RULE_DBUS;
	e->downgraded = 1u << PD_AA_RULE_UNIX | 1u << PD_AA_RULE_MOUNT;
	pd_annotation_add(a, PD_KIND_APPARMOR, "old", NULL, SHA_A, PD_ANN_RETIRED);
	pd_annotation_add(a, PD_KIND_APPARMOR, "new \"q\"\n", "new", SHA_A, PD_ANN_UNCONFIRMED);
	pd_annotation_sort(a);
}

#define E_NEW                                                                                       \
	"{\"kind\":\"apparmor\",\"name\":\"new \\\"q\\\"\\n\",\"file\":\"new\",\"sha256\":\"" SHA_A \
	"\",\"state\":\"unconfirmed\"}"
#define E_OLD                                                                                      \
	"{\"kind\":\"apparmor\",\"name\":\"old\",\"file\":null,\"sha256\":\"" SHA_A                \
	"\",\"state\":\"retired\"}"
#define E_GAP                                                                                      \
	"{\"kind\":\"apparmor\",\"name\":\"pd-gap\",\"file\":\"gap\",\"unenforced\":[\"dbus\"],"   \
	"\"downgraded\":[\"mount\",\"unix\"],\"sha256\":\"" SHA_B "\",\"state\":\"loaded\"}"
#define E_AB                                                                                       \
	"{\"kind\":\"seccomp\",\"name\":\"a-b\",\"file\":\"a-b.json\",\"sha256\":\"" SHA_B         \
	"\",\"state\":\"published\"}"
#define E_AUDIT                                                                                    \
	"{\"kind\":\"seccomp\",\"name\":\"audit\",\"file\":\"audit.json\",\"sha256\":\"" SHA_A     \
	"\",\"state\":\"published\"}"
#define SAMPLE_TEXT "[" E_NEW "," E_OLD "," E_GAP "," E_AB "," E_AUDIT "]"

static void
encode_writes_the_documented_format_in_the_canonical_order(void **state)
{
	struct pd_annotation a = { 0 };
	size_t omitted = 99;
	char *t;

	(void)state;
	sample(&a);
	t = pd_annotation_encode(&a, SIZE_MAX, &omitted);
	assert_string_equal(t, SAMPLE_TEXT);
	assert_int_equal(omitted, 0);
	free(t);
	pd_annotation_clear(&a);
}

static void
round_trip_gives_back_the_same_text(void **state)
{
	struct pd_annotation a = { 0 }, b = { 0 };
	pd_error_t err = NULL;
	size_t omitted;
	char *t1, *t2;

	(void)state;
	sample(&a);
	t1 = pd_annotation_encode(&a, SIZE_MAX, &omitted);
	assert_int_equal(pd_annotation_decode(t1, strlen(t1), &b, &err), 0);
	assert_null(err);
	assert_int_equal(b.n, 5);
	assert_int_equal(b.v[1].file, NULL);
	assert_int_equal(b.v[2].unenforced, 1u << PD_AA_RULE_DBUS);
	assert_int_equal(b.v[2].downgraded, 1u << PD_AA_RULE_UNIX | 1u << PD_AA_RULE_MOUNT);
	assert_string_equal(b.v[0].name, "new \"q\"\n");
	assert_int_equal(b.v[4].state, PD_ANN_PUBLISHED);
	t2 = pd_annotation_encode(&b, SIZE_MAX, &omitted);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	pd_annotation_clear(&a);
	pd_annotation_clear(&b);
}

static void
empty_is_an_empty_array(void **state)
{
	struct pd_annotation a = { 0 }, b = { 0 };
	size_t omitted;
	char *t;

	(void)state;
	t = pd_annotation_encode(&a, SIZE_MAX, &omitted);
	assert_string_equal(t, "[]");
	assert_int_equal(pd_annotation_decode(t, 2, &b, NULL), 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.truncated, 0);
	free(t);
}

/* The cut of docs/api.md: whole entries while they and the marker's room
 * fit, then {"truncated":N}; the last entry needs no room for a marker. */
static void
cut_ends_with_the_count_left_out(void **state)
{
	struct pd_annotation a = { 0 }, b = { 0 };
	size_t full = strlen(SAMPLE_TEXT), omitted;
	size_t two = strlen("[" E_NEW "," E_OLD) + 1 + 32;
	char *t;

	(void)state;
	sample(&a);
	/* Exactly the whole text: nothing cut. */
	t = pd_annotation_encode(&a, full, &omitted);
	assert_string_equal(t, SAMPLE_TEXT);
	assert_int_equal(omitted, 0);
	free(t);
	/* One byte short: the last entry goes. */
	t = pd_annotation_encode(&a, full - 1, &omitted);
	assert_string_equal(t, "[" E_NEW "," E_OLD "," E_GAP "," E_AB ",{\"truncated\":1}]");
	assert_int_equal(omitted, 1);
	assert_true(strlen(t) <= full - 1);
	free(t);
	/* Room for two entries and the marker. */
	t = pd_annotation_encode(&a, two, &omitted);
	assert_string_equal(t, "[" E_NEW "," E_OLD ",{\"truncated\":3}]");
	assert_int_equal(omitted, 3);
	/* The marker reads back, and writes again as it was. */
	assert_int_equal(pd_annotation_decode(t, strlen(t), &b, NULL), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.truncated, 3);
	free(t);
	t = pd_annotation_encode(&b, SIZE_MAX, &omitted);
	assert_string_equal(t, "[" E_NEW "," E_OLD ",{\"truncated\":3}]");
	free(t);
	/* Not even one entry. */
	t = pd_annotation_encode(&a, 10, &omitted);
	assert_string_equal(t, "[{\"truncated\":5}]");
	assert_int_equal(omitted, 5);
	free(t);
	pd_annotation_clear(&a);
	pd_annotation_clear(&b);
}

static void
decode_refuses_what_the_encoder_never_writes(void **state)
{
	static const char *const bad[] = {
		"",
		"{}",
		"[1]",
		"[] x",
		"[{\"kind\":\"seccomp\"}]",
		"[{\"kind\":\"other\",\"name\":\"a\",\"file\":\"a\",\"sha256\":\"" SHA_A
		"\",\"state\":\"published\"}]",
		"[{\"kind\":\"seccomp\",\"name\":\"a\",\"file\":\"a\",\"sha256\":\"" SHA_A
		"\",\"state\":\"gone\"}]",
		"[{\"kind\":\"seccomp\",\"name\":\"a\",\"file\":\"a\",\"sha256\":\"ABC\","
		"\"state\":\"published\"}]",
		"[{\"kind\":\"seccomp\",\"name\":\"a\",\"file\":1,\"sha256\":\"" SHA_A
		"\",\"state\":\"published\"}]",
		"[{\"kind\":\"seccomp\",\"name\":\"a\",\"file\":\"a\",\"sha256\":\"" SHA_A
		"\",\"state\":\"published\",\"extra\":1}]",
		"[{\"kind\":\"seccomp\",\"kind\":\"seccomp\",\"name\":\"a\",\"file\":\"a\","
		"\"sha256\":\"" SHA_A "\",\"state\":\"published\"}]",
		"[{\"kind\":\"apparmor\",\"name\":\"a\",\"file\":\"a\",\"sha256\":\"" SHA_A
		"\",\"state\":\"loaded\",\"unenforced\":[\"dbus\",\"dbus\"]}]",
		"[{\"kind\":\"apparmor\",\"name\":\"a\",\"file\":\"a\",\"sha256\":\"" SHA_A
		"\",\"state\":\"loaded\",\"downgraded\":[\"x\"]}]",
		"[{\"truncated\":0}]",
		"[{\"truncated\":1.5}]",
		"[{\"truncated\":2},{\"truncated\":1}]",
		"[{\"truncated\":2,\"kind\":\"seccomp\"}]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pd_annotation out = { .n = 77 };
		pd_error_t err = NULL;

		if (pd_annotation_decode(bad[i], strlen(bad[i]), &out, &err) != -EINVAL)
			fail_msg("decoded: %s", bad[i]);
		assert_non_null(err);
		assert_contains(pd_error_msg(err), "profiled.io/profiles");
		assert_int_equal(out.n, 77); /* untouched on failure */
		pd_error_release(&err);
	}
}

static void
decode_refuses_more_than_the_api_limit(void **state)
{
	size_t len = PD_ANNOTATIONS_MAX_BYTES + 1;
	char *big = pd_xmalloc(len + 1);
	struct pd_annotation out = { 0 };
	pd_error_t err = NULL;

	(void)state;
	memset(big, ' ', len);
	big[0] = '[';
	big[len - 1] = ']';
	big[len] = '\0';
	assert_int_equal(pd_annotation_decode(big, len, &out, &err), -E2BIG);
	pd_error_release(&err);
	/* One byte less is read. */
	big[len - 2] = ']';
	assert_int_equal(pd_annotation_decode(big, len - 1, &out, NULL), 0);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_writes_the_documented_format_in_the_canonical_order),
		cmocka_unit_test(round_trip_gives_back_the_same_text),
		cmocka_unit_test(empty_is_an_empty_array),
		cmocka_unit_test(cut_ends_with_the_count_left_out),
		cmocka_unit_test(decode_refuses_what_the_encoder_never_writes),
		cmocka_unit_test(decode_refuses_more_than_the_api_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
