/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/aacache: the context digest that names the compiled-policy cache
 * folder changes with each thing that changes the parser's output, and only
 * then; and lib/apparmor with a private include folder: a fixed abstraction
 * is compiled again (no cached refusal), and a parser message about a file
 * outside /etc/apparmor.d carries neither its path nor its content.
 */
#include "unit.h"

#include <time.h>

#include "../../lib/aacache.h"
#include "../../lib/apparmor.h"

struct fx {
	char *dir, *root, *parser, *features;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = unit_mkdtemp();
	f->root = unit_asprintf("%s/apparmor.d", f->dir);
	mkdir(f->root, 0700);
	f->parser = unit_asprintf("%s/parser", f->dir);
	f->features = unit_asprintf("%s/features", f->dir);
	unit_write_str(f->dir, "parser", "#!/bin/sh\nexec apparmor_parser \"$@\"\n");
	unit_write_str(f->dir, "features", "policy {mount {mask {mount umount}}}\n");
	{
		char *abs = unit_asprintf("%s/abstractions", f->root);

		mkdir(abs, 0700);
		free(abs);
	}
	unit_write_str(f->root, "abstractions/pd", "  /tmp/pd-a r,\n");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	unit_rmtree(f->dir);
	free(f->dir);
	free(f->root);
	free(f->parser);
	free(f->features);
	free(f);
	return 0;
}

static void
digest(const struct fx *f, const char *version, char out[PD_SHA256_HEX_LEN + 1])
{
	pd_error_t err = NULL;

	if (pd_aa_context_digest(f->parser, version, f->features, f->root, out, &err) < 0)
		fail_msg("digest: %s", pd_error_msg(err));
}

/* Rewrites dir/name with text, keeping its size and times. */
static void
rewrite_same_stat(const char *dir, const char *name, const char *text)
{
	char *p = unit_asprintf("%s/%s", dir, name);
	struct stat st;
	struct timespec ts[2];

	assert_int_equal(stat(p, &st), 0);
	assert_int_equal((size_t)st.st_size, strlen(text));
	unit_write_str(dir, name, text);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
}

static void
test_digest_follows_each_input(void **state)
{
	struct fx *f = *state;
	char d0[65], d[65];
	char *link = unit_asprintf("%s/abstractions/ln", f->root);

	digest(f, "AppArmor parser version 3.0.8\n", d0);
	digest(f, "AppArmor parser version 3.0.8\n", d);
	assert_string_equal(d0, d);

	/* the parser's --version */
	digest(f, "AppArmor parser version 4.0.1\n", d);
	assert_string_not_equal(d0, d);

	/* an abstraction's bytes, same size and times */
	rewrite_same_stat(f->root, "abstractions/pd", "  /tmp/pd-b r,\n");
	digest(f, "AppArmor parser version 3.0.8\n", d);
	assert_string_not_equal(d0, d);
	rewrite_same_stat(f->root, "abstractions/pd", "  /tmp/pd-a r,\n");
	digest(f, "AppArmor parser version 3.0.8\n", d);
	assert_string_equal(d0, d);

	/* a new file, then a link and where it points */
	unit_write_str(f->root, "abstractions/new", "");
	digest(f, "AppArmor parser version 3.0.8\n", d);
	assert_string_not_equal(d0, d);
	{
		char *p = unit_asprintf("%s/abstractions/new", f->root);

		unlink(p);
		free(p);
	}
	assert_int_equal(symlink("pd", link), 0);
	digest(f, "AppArmor parser version 3.0.8\n", d);
	assert_string_not_equal(d0, d);
	strcpy(d0, d);
	unlink(link);
	assert_int_equal(symlink("../abstractions/pd", link), 0);
	digest(f, "AppArmor parser version 3.0.8\n", d);
	assert_string_not_equal(d0, d);
	strcpy(d0, d);

	/* the parser program's bytes, same size and times */
	rewrite_same_stat(f->dir, "parser", "#!/bin/sh\nexec apparmor_parsex \"$@\"\n");
	digest(f, "AppArmor parser version 3.0.8\n", d);
	assert_string_not_equal(d0, d);
	strcpy(d0, d);

	/* the features file */
	rewrite_same_stat(f->dir, "features", "policy {mount {mask {mount umoun_}}}\n");
	digest(f, "AppArmor parser version 3.0.8\n", d);
	assert_string_not_equal(d0, d);
	free(link);
}

static void
test_digest_missing_parser_is_an_error(void **state)
{
	struct fx *f = *state;
	char d[65];
	pd_error_t err = NULL;

	assert_true(pd_aa_context_digest("pd-no-such-parser", "x", NULL, f->root, d, &err) < 0);
	assert_contains(pd_error_msg(err), "pd-no-such-parser");
	pd_error_release(&err);
}

/* The parser the tests run: apparmor_parser on PATH (make test puts the
 * image's first: test/image/with-parser.sh). */
static bool
have_parser(void)
{
	return system("command -v apparmor_parser >/dev/null 2>&1") == 0;
}

static void
compile_one(const struct fx *f, const char *src, struct pd_aa_unit *u, struct pd_aa_stats *st)
{
	char *cache = unit_asprintf("%s/cache", f->dir);
	struct pd_aa_options o = { .cache_dir = cache,
				   .include_root = f->root,
				   .features = "/usr/share/apparmor-features/features" };
	struct pd_aa *aa = NULL;
	pd_error_t err = NULL;

	memset(u, 0, sizeof(*u));
	u->label = "/profiles/pd";
	u->data = src;
	u->len = strlen(src);
	pd_sha256_hex(src, u->len, u->sha256);
	if (pd_aa_open(&o, &aa, &err) < 0 || pd_aa_compile(aa, u, 1, st, &err) < 0)
		fail_msg("compile: %s", pd_error_msg(err));
	pd_aa_free(aa);
	free(cache);
}

static void
test_fixed_abstraction_is_compiled_again(void **state)
{
	struct fx *f = *state;
	static const char src[] = "profile pd {\n  include <abstractions/pd>\n}\n";
	struct pd_aa_unit u;
	struct pd_aa_stats st;

	if (!have_parser())
		skip();
	rewrite_same_stat(f->root, "abstractions/pd", "  s3cr3t-word,\n");
	compile_one(f, src, &u, &st);
	assert_int_equal(st.rejected, 1);
	/* the abstraction is outside /etc/apparmor.d here: its path and
	 * content stay out of the message */
	assert_contains(u.error, "in a file outside /etc/apparmor.d (not shown)");
	assert_not_contains(u.error, f->root);
	assert_not_contains(u.error, "s3cr3t");
	pd_aa_unit_clear(&u);
	/* a second start: the refusal comes from the cache */
	compile_one(f, src, &u, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.compiled, 0);
	pd_aa_unit_clear(&u);

	rewrite_same_stat(f->root, "abstractions/pd", "  /tmp/pd-z r,\n");
	compile_one(f, src, &u, &st);
	assert_null(u.error);
	assert_int_equal(st.compiled, 1);
	assert_false(u.cached);
	pd_aa_unit_clear(&u);
	compile_one(f, src, &u, &st);
	assert_true(u.cached);
	pd_aa_unit_clear(&u);
}

/* A figure, not an assertion: the digest of the real /etc/apparmor.d and
 * parser, as done at start and before each compile. */
static void
test_digest_cost(void **state)
{
	char d[65];
	struct timespec t0, t1;
	const int rounds = 20;

	(void)state;
	if (!have_parser() || access("/etc/apparmor.d", R_OK) != 0)
		skip();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < rounds; i++)
		if (pd_aa_context_digest("apparmor_parser", "v", NULL, "/etc/apparmor.d", d, NULL) <
		    0)
			fail_msg("digest failed");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message(
		"[  FIGURE  ] context digest of /etc/apparmor.d + parser: %.2f ms\n",
		((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) /
			rounds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_digest_follows_each_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_missing_parser_is_an_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fixed_abstraction_is_compiled_again, setup,
						teardown),
		cmocka_unit_test(test_digest_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
