/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/labels.c: label-name(x) of docs/operations.md ("Labels"), label name and DNS subdomain
 * checks, the agent's own label keys and the label set.
 *
 * Expected names are written out from that rule; their hash suffix is
 * computed here with OpenSSL's SHA256(), never by asking lib/ for it.
 * As the rule says, a multi-byte UTF-8 sequence is one character and
 * becomes one '-'.
 */
#include "unit.h"

#include <openssl/sha.h>

#include "../../lib/labels.h"

/* The first 10 hex digits of sha256(x), computed independently of lib/. */
static void
sha10(const char *x, char out[11])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)x, strlen(x), md);
	for (size_t i = 0; i < 5; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* prefix + "-" + sha10(x), or just sha10(x) when prefix is empty. */
static void
expect_hashed(const char *x, const char *prefix)
{
	char got[PD_LABEL_NAME_MAX + 1];
	char want[128];
	char h[11];

	sha10(x, h);
	if (prefix[0] == '\0')
		snprintf(want, sizeof(want), "%s", h);
	else
		snprintf(want, sizeof(want), "%s-%s", prefix, h);
	pd_label_name(x, got);
	assert_string_equal(got, want);
	assert_true(strlen(got) <= PD_LABEL_NAME_MAX);
	assert_true(pd_label_name_valid(got));
}

static void
expect_kept(const char *x)
{
	char got[PD_LABEL_NAME_MAX + 1];

	assert_true(pd_label_name_valid(x));
	pd_label_name(x, got);
	assert_string_equal(got, x);
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- label-name(x) ------------------------------------------------------ */

static void
label_name_keeps_valid_names(void **state)
{
	char *max = repeat('a', PD_LABEL_NAME_MAX);

	(void)state;
	expect_kept("audit");
	expect_kept("fine-grained");
	expect_kept("a.b_c");
	expect_kept("k8s-apparmor-example-deny-write");
	expect_kept("Audit");
	expect_kept("a");
	expect_kept("0");
	expect_kept("a..b");
	expect_kept("a--_.b");
	max[0] = 'Z';
	max[PD_LABEL_NAME_MAX - 1] = '9';
	max[30] = '-';
	expect_kept(max);
	free(max);
}

static void
label_name_maps_slash_and_invalid_chars_to_dash_with_hash(void **state)
{
	(void)state;
	expect_hashed("team/audit", "team-audit");
	expect_hashed("a b", "a-b");
	expect_hashed("ns:profile@v2", "ns-profile-v2");
	expect_hashed("a//b", "a--b");
	expect_hashed("x+y=z", "x-y-z");
	/* '_' and '.' are name characters and stay inside a name. */
	expect_hashed("a_b/c.d", "a_b-c.d");
}

static void
label_name_drops_leading_and_trailing_non_alphanumerics(void **state)
{
	(void)state;
	expect_hashed("/etc/apparmor.d/usr.bin.foo", "etc-apparmor.d-usr.bin.foo");
	expect_hashed("-abc-", "abc");
	expect_hashed("_abc_", "abc");
	expect_hashed(".hidden", "hidden");
	expect_hashed("abc/", "abc");
	expect_hashed("abc.", "abc");
	expect_hashed("  spaced  ", "spaced");
	expect_hashed("--a--b--", "a--b");
}

static void
label_name_cuts_long_names_to_52_chars_plus_hash(void **state)
{
	char *x64 = repeat('a', PD_LABEL_NAME_MAX + 1);
	char *a52 = repeat('a', 52);
	char *x200 = repeat('b', 200);
	char *b52 = repeat('b', 52);
	char got[PD_LABEL_NAME_MAX + 1];

	(void)state;
	/* 64 valid characters: too long to be kept, so cut and hashed. */
	expect_hashed(x64, a52);
	pd_label_name(x64, got);
	assert_int_equal(strlen(got), PD_LABEL_NAME_MAX);
	expect_hashed(x200, b52);
	free(x64);
	free(a52);
	free(x200);
	free(b52);
}

static void
label_name_trims_again_after_the_cut(void **state)
{
	char x[128], want[128];

	(void)state;
	/* 51 'a', '.', then more: the cut keeps "a...a." and drops the '.'. */
	memset(x, 'a', 51);
	snprintf(x + 51, sizeof(x) - 51, ".%s", "bbbbbbbbbbbbbbbbbbbb");
	memset(want, 'a', 51);
	want[51] = '\0';
	expect_hashed(x, want);

	/* 50 'a', "/-", more: the cut ends in "--", both dropped. */
	memset(x, 'a', 50);
	snprintf(x + 50, sizeof(x) - 50, "/-%s", "cccccccccccc");
	memset(want, 'a', 50);
	want[50] = '\0';
	expect_hashed(x, want);
}

static void
label_name_cut_counts_after_leading_chars_are_dropped(void **state)
{
	char x[128];
	char *a52 = repeat('a', 52);

	(void)state;
	/* Ten leading '/' are dropped first, then 52 of the 60 'a' are kept. */
	memset(x, '/', 10);
	memset(x + 10, 'a', 60);
	x[70] = '\0';
	expect_hashed(x, a52);
	free(a52);
}

static void
label_name_with_nothing_valid_is_just_the_hash(void **state)
{
	char got[PD_LABEL_NAME_MAX + 1];

	(void)state;
	expect_hashed("///", "");
	expect_hashed("", "");
	expect_hashed("日本", "");
	expect_hashed("-", "");
	expect_hashed("._-", "");
	expect_hashed("😀 / 😀", "");
	/* sha256("") is a known vector: e3b0c442 98fc... */
	pd_label_name("", got);
	assert_string_equal(got, "e3b0c44298");
}

static void
label_name_counts_a_utf8_character_as_one_dash(void **state)
{
	(void)state;
	expect_hashed("日本-profile", "profile");
	expect_hashed("prof日本ile", "prof--ile");
	expect_hashed("café", "caf");
	expect_hashed("naïve.json", "na-ve.json");
	expect_hashed("a😀b", "a-b");
}

static void
label_name_utf8_cut_counts_characters(void **state)
{
	char x[512], want[128];
	size_t n = 0;

	(void)state;
	/* "a" + 60 x "é": the kept part is "a" + 51 dashes, then trimmed to "a". */
	x[n++] = 'a';
	for (int i = 0; i < 60; i++) {
		x[n++] = (char)0xc3;
		x[n++] = (char)0xa9;
	}
	snprintf(x + n, sizeof(x) - n, "z");
	expect_hashed(x, "a");

	/* "a" + 30 x "é" + 30 "b": 52 characters are "a", 30 dashes, 21 "b". */
	n = 0;
	x[n++] = 'a';
	for (int i = 0; i < 30; i++) {
		x[n++] = (char)0xc3;
		x[n++] = (char)0xa9;
	}
	memset(x + n, 'b', 30);
	x[n + 30] = '\0';
	n = 0;
	want[n++] = 'a';
	memset(want + n, '-', 30);
	n += 30;
	memset(want + n, 'b', 21);
	want[n + 21] = '\0';
	expect_hashed(x, want);
}

static void
label_name_distinct_inputs_with_one_prefix_differ(void **state)
{
	char a[PD_LABEL_NAME_MAX + 1], b[PD_LABEL_NAME_MAX + 1], c[PD_LABEL_NAME_MAX + 1];
	char long1[100], long2[100];

	(void)state;
	pd_label_name("team/audit", a);
	pd_label_name("team:audit", b);
	pd_label_name("team audit", c);
	assert_int_equal(strncmp(a, "team-audit-", 11), 0);
	assert_int_equal(strncmp(b, "team-audit-", 11), 0);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(b, c);

	/* Long names that differ only after the 52nd character. */
	memset(long1, 'x', 80);
	long1[80] = '\0';
	memcpy(long2, long1, sizeof(long1));
	long2[70] = 'y';
	pd_label_name(long1, a);
	pd_label_name(long2, b);
	assert_int_equal(strncmp(a, b, 53), 0);
	assert_string_not_equal(a, b);

	/* A sanitized name never collides with the valid name it looks like. */
	pd_label_name("-audit", a);
	pd_label_name("audit", b);
	assert_string_not_equal(a, b);
}

/* The rule of docs/operations.md written again, step by step, to compare on many inputs. */
static bool
ref_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
ref_name_char(unsigned char c)
{
	return ref_alnum(c) || c == '-' || c == '_' || c == '.';
}

static bool
ref_valid(const char *x)
{
	size_t n = strlen(x);

	if (n < 1 || n > 63 || !ref_alnum((unsigned char)x[0]) ||
	    !ref_alnum((unsigned char)x[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ref_name_char((unsigned char)x[i]))
			return false;
	return true;
}

static void
ref_label_name(const char *x, char *out, size_t outsz)
{
	char mapped[2048], h[11];
	size_t n = 0, start = 0, end;

	if (ref_valid(x)) {
		assert_true(strlen(x) < outsz);
		memcpy(out, x, strlen(x) + 1);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)x; *p != '\0';) {
		size_t clen = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;

		mapped[n++] = ref_name_char(*p) ? (char)*p : '-';
		while (clen-- > 0 && *p != '\0')
			p++;
	}
	while (start < n && !ref_alnum((unsigned char)mapped[start]))
		start++;
	end = n;
	while (end > start && !ref_alnum((unsigned char)mapped[end - 1]))
		end--;
	if (end - start > 52)
		end = start + 52;
	while (end > start && !ref_alnum((unsigned char)mapped[end - 1]))
		end--;
	sha10(x, h);
	if (end == start)
		snprintf(out, outsz, "%s", h);
	else
		snprintf(out, outsz, "%.*s-%s", (int)(end - start), mapped + start, h);
}

static void
label_name_matches_the_spec_rule_on_generated_names(void **state)
{
	static const char *const pieces[] = { "a", "Z", "7",  "-", "_", ".",   "/",
					      " ", "é", "日", "😀", ":", "abc", "@" };
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		char x[1024], got[PD_LABEL_NAME_MAX + 1], got2[PD_LABEL_NAME_MAX + 1], want[128];
		size_t n = 0;
		int count;

		seed = seed * 1103515245u + 12345u;
		count = (int)((seed >> 16) % 90);
		x[0] = '\0';
		for (int i = 0; i < count; i++) {
			const char *piece;

			seed = seed * 1103515245u + 12345u;
			piece = pieces[(seed >> 16) % ARRAY_SIZE(pieces)];
			n += (size_t)snprintf(x + n, sizeof(x) - n, "%s", piece);
		}
		ref_label_name(x, want, sizeof(want));
		pd_label_name(x, got);
		if (strcmp(got, want) != 0)
			fail_msg("label-name(\"%s\") = \"%s\", docs/operations.md says \"%s\"", x,
				 got, want);
		if (!pd_label_name_valid(got))
			fail_msg("label-name(\"%s\") = \"%s\" is not a valid label name", x, got);
		pd_label_name(x, got2);
		assert_string_equal(got, got2);
	}
}

static void
label_name_result_is_valid_and_deterministic(void **state)
{
	static const char *const inputs[] = {
		"audit", "team/audit", "",	   "///",      "日本",	 "-",		"a-",
		"-a",	 "a.b/c_d",    "\x80\x80", "\xff\xfe", "x\x01y", "UPPER/lower",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		char a[PD_LABEL_NAME_MAX + 1], b[PD_LABEL_NAME_MAX + 1];

		pd_label_name(inputs[i], a);
		pd_label_name(inputs[i], b);
		assert_string_equal(a, b);
		if (!pd_label_name_valid(a))
			fail_msg("label-name(\"%s\") = \"%s\" is not valid", inputs[i], a);
	}
}

/* ---- pd_label_name_valid / pd_dns_subdomain_valid ---------------------- */

static void
label_name_valid_boundaries(void **state)
{
	char *s63 = repeat('a', 63);
	char *s64 = repeat('a', 64);

	(void)state;
	assert_true(pd_label_name_valid(s63));
	assert_false(pd_label_name_valid(s64));
	assert_true(pd_label_name_valid("a"));
	assert_true(pd_label_name_valid("A-b_C.d"));
	assert_true(pd_label_name_valid("9"));
	assert_false(pd_label_name_valid(""));
	assert_false(pd_label_name_valid("-a"));
	assert_false(pd_label_name_valid("a-"));
	assert_false(pd_label_name_valid(".a"));
	assert_false(pd_label_name_valid("a."));
	assert_false(pd_label_name_valid("_a"));
	assert_false(pd_label_name_valid("a_"));
	assert_false(pd_label_name_valid("a/b"));
	assert_false(pd_label_name_valid("a b"));
	assert_false(pd_label_name_valid("é"));
	free(s63);
	free(s64);
}

static void
dns_subdomain_valid_boundaries(void **state)
{
	char *label63 = repeat('a', 63);
	char *label64 = repeat('a', 64);
	char total[300];

	(void)state;
	assert_true(pd_dns_subdomain_valid("profiled.io"));
	assert_true(pd_dns_subdomain_valid("a"));
	assert_true(pd_dns_subdomain_valid("xn--bcher-kva.example"));
	assert_true(pd_dns_subdomain_valid("a-b.c-d.e0"));
	assert_true(pd_dns_subdomain_valid(label63));
	assert_false(pd_dns_subdomain_valid(label64));
	assert_false(pd_dns_subdomain_valid(""));
	assert_false(pd_dns_subdomain_valid("Profiled.io"));
	assert_false(pd_dns_subdomain_valid("profiled.IO"));
	assert_false(pd_dns_subdomain_valid("-profiled.io"));
	assert_false(pd_dns_subdomain_valid("profiled-.io"));
	assert_false(pd_dns_subdomain_valid("profiled.-io"));
	assert_false(pd_dns_subdomain_valid("profiled.io-"));
	assert_false(pd_dns_subdomain_valid(".profiled.io"));
	assert_false(pd_dns_subdomain_valid("profiled.io."));
	assert_false(pd_dns_subdomain_valid("profiled..io"));
	assert_false(pd_dns_subdomain_valid("profiled_x.io"));
	assert_false(pd_dns_subdomain_valid("profiled.io/x"));

	/* 253 characters in all is the limit: 3 x 63 + 3 dots + 61. */
	snprintf(total, sizeof(total), "%s.%s.%s.%.61s", label63, label63, label63, label63);
	assert_int_equal(strlen(total), 253);
	assert_true(pd_dns_subdomain_valid(total));
	snprintf(total, sizeof(total), "%s.%s.%s.%.62s", label63, label63, label63, label63);
	assert_int_equal(strlen(total), 254);
	assert_false(pd_dns_subdomain_valid(total));
	free(label63);
	free(label64);
}

/* ---- label domain and keys ---------------------------------------------- */

static void
label_domain_check_accepts_dns_subdomains(void **state)
{
	pd_error_t err = NULL;
	char *l63 = repeat('a', 63);
	char domain[300];

	(void)state;
	assert_int_equal(pd_label_domain_check("profiled.io", &err), 0);
	assert_null(err);
	assert_int_equal(pd_label_domain_check("example.com", &err), 0);
	assert_int_equal(pd_label_domain_check("sub.team.example.com", &err), 0);
	/* "apparmor." + 244 characters is exactly 253. */
	snprintf(domain, sizeof(domain), "%s.%s.%s.%.52s", l63, l63, l63, l63);
	assert_int_equal(strlen(domain), 244);
	assert_int_equal(pd_label_domain_check(domain, &err), 0);
	assert_null(err);
	free(l63);
}

static void
label_domain_check_rejects_bad_domains(void **state)
{
	static const char *const bad[] = { "",
					   "Profiled.io",
					   "profiled.io/",
					   "-profiled.io",
					   "profiled..io",
					   "profiled io",
					   "profiled_io" };
	char *l63 = repeat('a', 63);
	char domain[300];
	pd_error_t err = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char quoted[64];

		assert_int_equal(pd_label_domain_check(bad[i], &err), -EINVAL);
		assert_non_null(err);
		snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i]);
		assert_contains(pd_error_msg(err), quoted);
		assert_contains(pd_error_msg(err), "DNS subdomain");
		pd_error_release(&err);
		assert_null(err);
	}
	/* A valid subdomain of 245 characters makes "apparmor.<domain>" 254. */
	snprintf(domain, sizeof(domain), "%s.%s.%s.%.53s", l63, l63, l63, l63);
	assert_int_equal(strlen(domain), 245);
	assert_true(pd_dns_subdomain_valid(domain));
	assert_int_equal(pd_label_domain_check(domain, &err), -EINVAL);
	assert_contains(pd_error_msg(err), "too long");
	pd_error_release(&err);
	/* A NULL err only gets the code. */
	assert_int_equal(pd_label_domain_check("BAD", NULL), -EINVAL);
	free(l63);
}

static void
label_profile_key_follows_spec(void **state)
{
	char h[11], want[128];
	char *k;

	(void)state;
	k = pd_label_profile_key("profiled.io", PD_LABEL_APPARMOR,
				 "k8s-apparmor-example-deny-write");
	assert_string_equal(k, "apparmor.profiled.io/k8s-apparmor-example-deny-write");
	free(k);
	k = pd_label_profile_key("profiled.io", PD_LABEL_SECCOMP, "fine-grained");
	assert_string_equal(k, "seccomp.profiled.io/fine-grained");
	free(k);
	k = pd_label_profile_key("example.com", PD_LABEL_SECCOMP, "audit");
	assert_string_equal(k, "seccomp.example.com/audit");
	free(k);
	/* The name part is label-name(profile). */
	sha10("/usr/bin/foo", h);
	snprintf(want, sizeof(want), "apparmor.profiled.io/usr-bin-foo-%s", h);
	k = pd_label_profile_key("profiled.io", PD_LABEL_APPARMOR, "/usr/bin/foo");
	assert_string_equal(k, want);
	free(k);
}

static void
label_support_key_follows_spec(void **state)
{
	char *k;

	(void)state;
	k = pd_label_support_key("profiled.io", PD_LABEL_APPARMOR);
	assert_string_equal(k, "profiled.io/apparmor");
	free(k);
	k = pd_label_support_key("profiled.io", PD_LABEL_SECCOMP);
	assert_string_equal(k, "profiled.io/seccomp");
	free(k);
	k = pd_label_support_key("example.com", PD_LABEL_SECCOMP);
	assert_string_equal(k, "example.com/seccomp");
	free(k);
}

static void
label_key_owned_true_for_own_keys(void **state)
{
	char *k;

	(void)state;
	assert_true(pd_label_key_owned("profiled.io", "apparmor.profiled.io/some-profile"));
	assert_true(pd_label_key_owned("profiled.io", "seccomp.profiled.io/audit"));
	assert_true(pd_label_key_owned("profiled.io", "profiled.io/apparmor"));
	assert_true(pd_label_key_owned("profiled.io", "profiled.io/seccomp"));
	assert_true(pd_label_key_owned("example.com", "seccomp.example.com/audit"));
	/* Whatever the key builders make is owned. */
	k = pd_label_profile_key("profiled.io", PD_LABEL_SECCOMP, "team/audit");
	assert_true(pd_label_key_owned("profiled.io", k));
	free(k);
	k = pd_label_support_key("profiled.io", PD_LABEL_APPARMOR);
	assert_true(pd_label_key_owned("profiled.io", k));
	free(k);
}

static void
label_key_owned_false_for_other_keys(void **state)
{
	static const char *const others[] = {
		"xprofiled.io/apparmor",
		"xprofiled.io/seccomp",
		"apparmor.xprofiled.io/audit",
		"seccomp.xprofiled.io/audit",
		"apparmor.profiled.iox/audit",
		"apparmor.profiled.io.evil.com/audit",
		"seccomp.sub.profiled.io/audit",
		"foo.apparmor.profiled.io/audit",
		"profiled.io/apparmorx",
		"profiled.io/seccomp/x",
		"profiled.io/profiles",
		"profiled.io/other",
		"kubernetes.io/hostname",
		"node-role.kubernetes.io/worker",
		"apparmor/profiled.io",
		"apparmor.profiled.io",
		"selinux.profiled.io/x",
		"seccomp.example.com/audit",
		"",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if (pd_label_key_owned("profiled.io", others[i]))
			fail_msg("\"%s\" is taken as owned under profiled.io", others[i]);
	assert_false(pd_label_key_owned("example.com", "apparmor.profiled.io/audit"));
	assert_false(pd_label_key_owned("example.com", "profiled.io/seccomp"));
}

/* ---- the label set ------------------------------------------------------ */

static void
labels_set_get_replace_and_sort(void **state)
{
	struct pd_labels l = { 0 };
	char key[32];

	(void)state;
	assert_null(pd_labels_get(&l, "a"));
	pd_labels_set(&l, "seccomp.profiled.io/b", "true");
	pd_labels_set(&l, "apparmor.profiled.io/a", "true");
	pd_labels_set(&l, "profiled.io/seccomp", "enabled");
	assert_int_equal(l.n, 3);
	assert_string_equal(pd_labels_get(&l, "profiled.io/seccomp"), "enabled");
	assert_null(pd_labels_get(&l, "profiled.io/apparmor"));
	pd_labels_set(&l, "profiled.io/seccomp", "disabled");
	assert_int_equal(l.n, 3);
	assert_string_equal(pd_labels_get(&l, "profiled.io/seccomp"), "disabled");

	/* More than the first allocation, in reverse order: kept sorted. */
	for (int i = 40; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%02d", i);
		pd_labels_set(&l, key, key);
	}
	assert_int_equal(l.n, 44);
	for (size_t i = 1; i < l.n; i++)
		assert_true(strcmp(l.v[i - 1].key, l.v[i].key) < 0);
	for (int i = 0; i <= 40; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		assert_string_equal(pd_labels_get(&l, key), key);
	}
	pd_labels_clear(&l);
}

static void
labels_set_copies_its_arguments(void **state)
{
	struct pd_labels l = { 0 };
	char key[] = "apparmor.profiled.io/x";
	char value[] = "true";

	(void)state;
	pd_labels_set(&l, key, value);
	key[0] = 'X';
	value[0] = 'X';
	assert_string_equal(pd_labels_get(&l, "apparmor.profiled.io/x"), "true");
	assert_null(pd_labels_get(&l, key));
	pd_labels_clear(&l);
}

static void
labels_equal_compares_keys_and_values(void **state)
{
	struct pd_labels a = { 0 }, b = { 0 };

	(void)state;
	assert_true(pd_labels_equal(&a, &b));
	pd_labels_set(&a, "x", "1");
	pd_labels_set(&a, "y", "2");
	assert_false(pd_labels_equal(&a, &b));
	/* Another insertion order gives an equal set. */
	pd_labels_set(&b, "y", "2");
	pd_labels_set(&b, "x", "1");
	assert_true(pd_labels_equal(&a, &b));
	assert_true(pd_labels_equal(&b, &a));
	pd_labels_set(&b, "y", "3");
	assert_false(pd_labels_equal(&a, &b));
	pd_labels_set(&b, "y", "2");
	pd_labels_set(&b, "z", "2");
	assert_false(pd_labels_equal(&a, &b));
	assert_false(pd_labels_equal(&b, &a));
	pd_labels_clear(&a);
	pd_labels_clear(&b);
}

static void
labels_clear_empties_and_allows_reuse(void **state)
{
	struct pd_labels l = { 0 };

	(void)state;
	pd_labels_set(&l, "a", "1");
	pd_labels_set(&l, "b", "2");
	pd_labels_clear(&l);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.cap, 0);
	assert_null(l.v);
	assert_null(pd_labels_get(&l, "a"));
	pd_labels_clear(&l); /* twice is harmless */
	pd_labels_set(&l, "c", "3");
	assert_int_equal(l.n, 1);
	assert_string_equal(pd_labels_get(&l, "c"), "3");
	pd_labels_clear(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(label_name_keeps_valid_names),
		cmocka_unit_test(label_name_maps_slash_and_invalid_chars_to_dash_with_hash),
		cmocka_unit_test(label_name_drops_leading_and_trailing_non_alphanumerics),
		cmocka_unit_test(label_name_cuts_long_names_to_52_chars_plus_hash),
		cmocka_unit_test(label_name_trims_again_after_the_cut),
		cmocka_unit_test(label_name_cut_counts_after_leading_chars_are_dropped),
		cmocka_unit_test(label_name_with_nothing_valid_is_just_the_hash),
		cmocka_unit_test(label_name_counts_a_utf8_character_as_one_dash),
		cmocka_unit_test(label_name_utf8_cut_counts_characters),
		cmocka_unit_test(label_name_distinct_inputs_with_one_prefix_differ),
		cmocka_unit_test(label_name_matches_the_spec_rule_on_generated_names),
		cmocka_unit_test(label_name_result_is_valid_and_deterministic),
		cmocka_unit_test(label_name_valid_boundaries),
		cmocka_unit_test(dns_subdomain_valid_boundaries),
		cmocka_unit_test(label_domain_check_accepts_dns_subdomains),
		cmocka_unit_test(label_domain_check_rejects_bad_domains),
		cmocka_unit_test(label_profile_key_follows_spec),
		cmocka_unit_test(label_support_key_follows_spec),
		cmocka_unit_test(label_key_owned_true_for_own_keys),
		cmocka_unit_test(label_key_owned_false_for_other_keys),
		cmocka_unit_test(labels_set_get_replace_and_sort),
		cmocka_unit_test(labels_set_copies_its_arguments),
		cmocka_unit_test(labels_equal_compares_keys_and_values),
		cmocka_unit_test(labels_clear_empties_and_allows_reuse),
	};

	return cmocka_run_group_tests_name("labels", tests, NULL, NULL);
}
