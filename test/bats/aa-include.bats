#!/usr/bin/env bats
# AppArmor include confinement against the real parser: every bypass file
# below is first shown to make apparmor_parser open a file outside
# /etc/apparmor.d (its preprocessor output names it), then the agent and
# `profiled check` must refuse it by line number, before any parser run that
# reads the file, and without the host file's content or a parser message
# about it in what they say.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	apparmorfs_setup
	# A "host secret" the bypasses try to read, and its path relative to /
	# (the working folder of the parser runs below).
	SECRET=$T/host-secret
	printf 'k8s-token: s3cr3t-value\n' >"$SECRET"
	REL=${SECRET#/}
	FEATURES=/usr/share/apparmor-features/features
}

teardown() {
	common_teardown
}

# bypasses DIR: one file per bypass class member, each reaching $SECRET.
bypasses() {
	local d=$1
	mkdir -p "$d"
	printf 'profile pd-b1 {\n  #include   if    exists   "%s"\n}\n' "$SECRET" >"$d/if-exists-blanks"
	printf 'profile pd-b2 {\n  include\tif\texists\t"%s"\n}\n' "$SECRET" >"$d/if-exists-tabs"
	printf 'profile pd-b3 {\n  #include\n\n  "%s"\n}\n' "$SECRET" >"$d/newline-hash"
	printf 'profile pd-b4 {\n  include \n  "%s"\n}\n' "$SECRET" >"$d/newline-word"
	printf 'profile pd-b5 flags=(complain)include "%s" {\n}\n' "$SECRET" >"$d/after-paren"
	printf 'profile # include "%s"\n{}\n' "$SECRET" >"$d/hash-name"
	printf 'profile pd-b7 {\n  #include "%s"\n}\n' "$REL" >"$d/relative-quoted"
	printf 'profile pd-b8 {\n  include %s\n}\n' "$REL" >"$d/relative-bare"
	printf 'profile pd-b9 {\n  #include%s\n}\n' "$REL" >"$d/hash-glued"
	printf 'profile pd-b10 {\n  #include "."\n}\n' >"$d/dot"
	printf 'profile pd-b11 {\n  include "\\%03o%s"\n}\n' 47 "$REL" >"$d/octal-escape"
	printf 'profile pd-b12 {\n  include \v%s\n}\n' "$SECRET" >"$d/vtab"
}

# The real parser, run from /, opens each bypass's target.
@test "each bypass makes the real parser open a file outside /etc/apparmor.d" {
	bypasses "$T/b"
	for f in "$T"/b/*; do
		out=$(cd / && apparmor_parser -Q -K --features-file "$FEATURES" -p "$f" 2>&1 || true)
		inc=$(grep '^##included' <<<"$out" | head -1)
		echo "# $(basename "$f"): $inc" >&3
		[ -n "$inc" ]
		case "$inc" in
		*"<"*) false ;; # a search-path include would stay in /etc/apparmor.d
		esac
		[[ "$inc" != *'"/etc/apparmor.d/'* ]]
	done
}

@test "the agent refuses every bypass by line number before the parser reads it; no host content leaks" {
	bypasses "$P"
	: >"$PARSER_LOG"
	cd /
	aa_once
	[ "$status" -eq 1 ]
	for f in "$P"/*; do
		grep -q "apparmor profile rejected file=$f error=\"line [0-9]*: " <<<"$output" || {
			echo "not refused: $f" >&2
			false
		}
	done
	[ "$(grep -c 'apparmor profile rejected' <<<"$output")" -eq 12 ]
	# The parser never saw these files: no --names, no compile.
	not grep -q -- "--names\|--write-cache" "$PARSER_LOG"
	# The messages quote what the file wrote, never what the parser read.
	not grep -q "s3cr3t\|k8s-token\|parser error\|Lexer\|in profile" <<<"$output"
}

@test "check refuses the bypasses too, and accepts the standard includes" {
	bypasses "$T/b"
	cd /
	for f in "$T"/b/*; do
		run --separate-stderr "$PROFILED" check --apparmor-parser "$WRAPPER" "$f"
		[ "$status" -eq 1 ]
		[[ "$output$stderr" == *"line "* ]]
		[[ "$output$stderr" != *s3cr3t* ]]
		[[ "$output$stderr" != *"parser error"* ]]
	done
	not grep -q -- "--names\|--write-cache" "$PARSER_LOG"
	cat >"$T/good" <<-'P'
	abi <abi/3.0>,
	include <tunables/global>
	profile pd-good {
	  include <abstractions/base>
	  include if exists <local/pd-good>
	  #include "/etc/apparmor.d/abstractions/nameservice"
	  /usr/include/** r,
	}
	P
	run "$PROFILED" check --apparmor-parser "$WRAPPER" "$T/good"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok (apparmor: pd-good)"* ]]
}

@test "comments after an include line are comments: as in the profiles people write" {
	# The parser takes these lines as comments (an include line leaves
	# the lexer in the state it was in before it); the agent did not.
	cat >"$T/commented" <<-'P'
	#include <tunables/global>
	# include the base abstraction below; the abi line is optional
	include <tunables/global>

	# Note: include comes first, then abi /4.0 rules
	profile pd-commented {
	  #include <abstractions/base>
	  # include nothing else from the host
	  file,
	}
	P
	out=$(cd / && apparmor_parser -Q -K --features-file "$FEATURES" -p "$T/commented" 2>&1)
	[ "$(grep -c '^##included' <<<"$out")" -ge 1 ]
	not grep -q 'nothing\|the base\|comes first' <<<"$(grep '^##included' <<<"$out")"
	cd /
	run "$PROFILED" check --apparmor-parser "$WRAPPER" "$T/commented"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok (apparmor: pd-commented)"* ]]
}
