#!/usr/bin/env bats
# The AppArmor userspace of the tests is the one the image ships
# (test/image/with-parser.sh, which make test uses for every stage that runs
# the parser), and `profiled check` runs from the image as
# docs/operations.md tells CI pipelines to run it.
# Without the image (no podman, not root) these skip loudly;
# PROFILED_IMAGE_REQUIRE=1 (CI) turns that into a failure.

load helpers

setup() {
	common_setup
	mkdir -p "$P"
	# abi 4.0 and the `userns` and `all` rules exist from AppArmor 4.0 on:
	# Debian 12's parser (3.0.8) refuses this file.
	cat >"$P/modern" <<-'PROF'
	abi <abi/4.0>,
	include <tunables/global>
	profile image-parser-modern {
	  include <abstractions/base>
	  userns,
	  all,
	}
	PROF
	# A missing abstraction: refused by any parser.
	cat >"$P/broken" <<-'PROF'
	profile image-parser-broken {
	  include <abstractions/no-such-abstraction>
	}
	PROF
	cp "$FIXTURES/audit.json" "$P/audit.json"
}

teardown() {
	common_teardown
}

need_image_parser() {
	if [ -z "${PROFILED_PARSER_ROOT:-}" ]; then
		[ "${PROFILED_IMAGE_REQUIRE:-0}" != 1 ] || {
			echo "not run under test/image/with-parser.sh (PROFILED_IMAGE_REQUIRE=1)" >&2
			return 1
		}
		echo "# SKIP: not run with the image's parser (test/image/with-parser.sh)" >&3
		skip "not run with the image's parser"
	fi
}

image_ref() {
	local ref
	ref=$(cat "$REPO/build/image/ref" 2>/dev/null) && command -v podman >/dev/null &&
		podman image exists "$ref" && { echo "$ref"; return 0; }
	[ "${PROFILED_IMAGE_REQUIRE:-0}" != 1 ] || {
		echo "no image in build/image/ref (PROFILED_IMAGE_REQUIRE=1)" >&2
		return 1
	}
	return 77
}

@test "the parser on PATH is the image's 4.1 or later, with the image's abstractions" {
	need_image_parser
	run apparmor_parser --version
	[ "$status" -eq 0 ]
	v=$(sed -n 's/^AppArmor parser version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' <<<"$output")
	read -r major minor <<<"$v"
	[ "$major" -gt 4 ] || { [ "$major" -eq 4 ] && [ "$minor" -ge 1 ]; }
	# the same bytes as the image's parser: the wrapper names their digest
	sum=$(sha256sum "$PROFILED_PARSER_ROOT/usr/sbin/apparmor_parser" | cut -d' ' -f1)
	grep -q "$sum" "$(command -v apparmor_parser)"
	# the image's abstractions and parser.conf are what the parser reads
	cmp "$PROFILED_PARSER_ROOT/etc/apparmor.d/abstractions/base" /etc/apparmor.d/abstractions/base
	cmp "$PROFILED_PARSER_ROOT/etc/apparmor/parser.conf" /etc/apparmor/parser.conf
	[ -f /etc/apparmor.d/abi/4.0 ]
}

@test "the daemon's check compiles with the image's parser: a 4.x-only profile is valid" {
	need_image_parser
	run "$PROFILED" check "$P/modern"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$P/modern: ok (apparmor: image-parser-modern)"* ]]
	run "$PROFILED" check "$P/broken"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$P/broken: error:"*"no-such-abstraction"* ]]
}

@test "check runs from the image, as docs/operations.md shows for CI pipelines" {
	ref=$(image_ref) || {
		[ $? -eq 77 ] || return 1
		echo "# SKIP: no image (make image) or no podman" >&3
		skip "no image"
	}
	# The documented command, with this machine's podman settings.
	pod() { podman --runtime runc "$1" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "${@:2}"; }
	mkdir -p "$T/ok"
	cp "$P/modern" "$P/audit.json" "$T/ok/"
	run pod run --rm -v "$T/ok:/profiles:ro" "$ref" check /profiles
	[ "$status" -eq 0 ]
	[[ "$output" == *"/profiles/modern: ok (apparmor: image-parser-modern)"* ]]
	[[ "$output" == *"/profiles/audit.json: ok (seccomp:"* ]]
	run pod run --rm -v "$P:/profiles:ro" "$ref" check /profiles
	[ "$status" -eq 1 ]
	[[ "$output" == *"/profiles/broken: error:"*"no-such-abstraction"* ]]
	[[ "$output" == *"/profiles/modern: ok (apparmor: image-parser-modern)"* ]]
}
