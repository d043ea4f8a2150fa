#!/usr/bin/env bats
# The compiled-policy cache is keyed by more than the source: another parser
# (an image upgrade) or a changed abstraction must not reuse a binary or a
# refusal made before.  The abstraction tests give the agent a private copy of
# /etc/apparmor.d, bind-mounted over it in a mount namespace of its own
# (the host's folder is never touched).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	apparmorfs_setup
}

teardown() {
	common_teardown
}

# ns_once: aa_once with $AAD mounted on /etc/apparmor.d for this run only.
ns_once() {
	run unshare --mount sh -c 'mount --make-rprivate / && mount --bind "$0" /etc/apparmor.d &&
		exec "$@"' "$AAD" "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" \
		--seccomp-subdir "$SUBDIR" --state-dir "$S" --node-name node-1 \
		--apparmorfs "$FS" --apparmor-parser "$WRAPPER"
}

private_apparmor_d() {
	unshare --mount true 2>/dev/null || {
		echo "# SKIP: no mount namespaces here (unshare --mount)" >&3
		skip "no mount namespaces (unshare --mount)"
	}
	AAD=$T/apparmor.d
	cp -a /etc/apparmor.d "$AAD"
	cat >"$P/pd-cache" <<-'P'
	profile pd-cache {
	  include <abstractions/pd-cache>
	}
	P
}

# abstraction TEXT: rewrites the abstraction keeping its size and times, so
# that only its bytes tell the change.
abstraction() {
	local f=$AAD/abstractions/pd-cache
	[ ! -f "$f" ] || touch -r "$f" "$T/stamp"
	printf '%s\n' "$1" >"$f"
	[ ! -f "$T/stamp" ] || touch -r "$T/stamp" "$f"
}

compiles() {
	grep -c -- "--write-cache" "$PARSER_LOG" || true
}

@test "a changed abstraction (same size and time) is compiled again, not loaded from the cache" {
	private_apparmor_d
	abstraction '  /tmp/pd-cache-a r,'
	ns_once
	echo "$output"
	not grep -q "rejected file" <<<"$output"
	cp "$FS/.replace" "$T/first"
	[ -s "$T/first" ]
	[ "$(compiles)" -eq 1 ]
	# The same again: the cache serves it.
	kernel_has pd-cache enforce
	ns_once
	[ "$status" -eq 0 ]
	[ "$(compiles)" -eq 1 ]
	abstraction '  /tmp/pd-cache-b r,'
	ns_once
	echo "$output"
	not grep -q "rejected file" <<<"$output"
	[ "$(compiles)" -eq 2 ]
	# Another rule, another binary loaded.
	not cmp -s "$FS/.replace" "$T/first"
}

@test "a refusal caused by an abstraction is forgotten once the abstraction is fixed" {
	private_apparmor_d
	abstraction '  this is not a rule'
	ns_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "apparmor profile rejected file=$P/pd-cache" <<<"$output"
	[ "$(compiles)" -eq 0 ]
	# The error names the abstraction's line, never its content.
	not grep -q "this is not" <<<"$output"
	abstraction '  /tmp/pd-cache-c r,'
	ns_once
	echo "$output"
	not grep -q "rejected file" <<<"$output"
	[ "$(compiles)" -eq 1 ]
	[ -s "$FS/.replace" ]
}

@test "another parser (another --version, other bytes) compiles again: no binary or refusal of the old one is reused" {
	cat >"$P/pd-parser" <<-'P'
	include <tunables/global>
	profile pd-parser {
	  include <abstractions/base>
	  file,
	}
	P
	# The "old" parser: the real one with a search path where the
	# abstractions are missing, reporting an older version.
	mkdir -p "$T/empty"
	cat >"$T/old-parser" <<-EOF
	#!/bin/sh
	case " \$* " in *" --version "*) echo "AppArmor parser version 2.13.3"; exit 0 ;; esac
	exec "$WRAPPER" "\$@" --base "$T/empty"
	EOF
	chmod +x "$T/old-parser"
	run_once --apparmorfs "$FS" --apparmor-parser "$T/old-parser"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "apparmor profile rejected file=$P/pd-parser" <<<"$output"
	# The upgraded parser: the refusal is not served from the cache.
	aa_once
	echo "$output"
	not grep -q "rejected file" <<<"$output"
	[ "$(compiles)" -eq 1 ]
	kernel_has pd-parser enforce
	# Back to a parser with yet another version: the binary is not reused.
	cat >"$T/new-parser" <<-EOF
	#!/bin/sh
	case " \$* " in *" --version "*) echo "AppArmor parser version 9.9.9"; exit 0 ;; esac
	exec "$WRAPPER" "\$@"
	EOF
	chmod +x "$T/new-parser"
	run_once --apparmorfs "$FS" --apparmor-parser "$T/new-parser"
	[ "$status" -eq 0 ]
	[ "$(compiles)" -eq 2 ]
	# The same parser again: served from the cache, and the old contexts'
	# folders are gone.
	run_once --apparmorfs "$FS" --apparmor-parser "$T/new-parser"
	[ "$status" -eq 0 ]
	[ "$(compiles)" -eq 2 ]
	[ "$(find "$S/apparmor-cache" -maxdepth 1 -name 'ctx-*' | wc -l)" -eq 1 ]
}
