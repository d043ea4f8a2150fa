#!/usr/bin/env bats
# Policy compiled for the node's kernel, and what that kernel does not
# enforce.  The features are real ones, copied from Debian's 6.1, 6.12 and
# 7.2 kernels (test/data/apparmor-features); the parser is the real one on
# PATH (or REAL_PARSER behind the wrapper).  A stand-in apparmorfs holds a
# kernel's `features` as the real one does (see apparmor.bats).

bats_require_minimum_version 1.5.0
load helpers

FEATURES=${PROFILED_TEST_DATA:-$REPO/test/data}/apparmor-features

setup() {
	common_setup
	apparmorfs_setup
	mkdir -p "$P"
}

teardown() {
	common_teardown
}

# gap_profile FILE: rules every parser since 3.0 expresses: D-Bus (6.1 and
# 6.12 do not mediate it, 7.2 does) and unix sockets (downgraded to
# generic network rules by these parsers on all three).
gap_profile() {
	printf 'profile pd-gap {\n  file,\n  dbus,\n  unix,\n  signal,\n}\n' >"$1"
}

# kernel_features VERSION: the stand-in kernel has these features.
kernel_features() {
	rm -rf "$FS/features"
	cp -r "$FEATURES/linux-$1" "$FS/features"
}

parser_major() {
	"${REAL_PARSER:-apparmor_parser}" --version 2>/dev/null | sed -n 's/^AppArmor parser version \([0-9]*\)\..*/\1/p'
}

compiles() { grep -c -- '--write-cache' "$PARSER_LOG" || true; }

@test "check --features: each kernel's features, the rules it does not enforce, one line per profile" {
	gap_profile "$P/gap"
	for k in 6.1 6.12; do
		run "$PROFILED" check --features "$FEATURES/linux-$k" "$P/gap"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "$P/gap: warning: profile \`pd-gap\`: rules not enforced: dbus; downgraded: unix" ]
		[ "${lines[1]}" = "$P/gap: ok (apparmor: pd-gap)" ]
		[ "${#lines[@]}" -eq 2 ]
	done
	run "$PROFILED" check --features "$FEATURES/linux-7.2" "$P/gap"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$P/gap: warning: profile \`pd-gap\`: rules downgraded: unix" ]
	[ "${lines[1]}" = "$P/gap: ok (apparmor: pd-gap)" ]
	# a profile whose rules every kernel here mediates: nothing to say
	printf 'profile pd-full {\n  file,\n  signal,\n  ptrace,\n}\n' >"$P/full"
	run "$PROFILED" check --features "$FEATURES/linux-6.1" "$P/full"
	echo "$output"
	[ "$output" = "$P/full: ok (apparmor: pd-full)" ]
}

@test "check --features with a 4.x parser: userns and io_uring follow the kernel, and a profile's abi line still narrows them" {
	[ "$(parser_major)" -ge 4 ] || skip "needs an AppArmor 4 parser for userns/io_uring rules (have: $("${REAL_PARSER:-apparmor_parser}" --version | head -n1))"
	printf 'profile pd-ns {\n  file,\n  userns,\n  io_uring,\n}\n' >"$P/ns"
	printf 'abi <abi/3.0>,\nprofile pd-ns30 {\n  file,\n  userns,\n  io_uring,\n}\n' >"$P/ns30"
	run "$PROFILED" check --apparmor-parser "$WRAPPER" --features "$FEATURES/linux-6.1" "$P/ns"
	echo "$output"
	[ "${lines[0]}" = "$P/ns: warning: profile \`pd-ns\`: rules not enforced: io_uring userns" ]
	# 6.12 mediates both (features/io_uring, namespaces/mask userns_create)
	run "$PROFILED" check --apparmor-parser "$WRAPPER" --features "$FEATURES/linux-6.12" "$P/ns" "$P/ns30"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx "$P/ns: ok (apparmor: pd-ns)" <<<"$output"
	not grep -q "^$P/ns: warning" <<<"$output"
	# ... but a profile written for ABI 3.0 asked for neither
	grep -qx "$P/ns30: warning: profile \`pd-ns30\`: rules not enforced: io_uring userns" <<<"$output"
}

@test "the daemon compiles for the kernel's features, logs what it does not enforce once, posts one Event and lists it in the annotation" {
	api_start
	kernel_features 6.1
	gap_profile "$P/gap"
	start_daemon --apparmorfs "$FS" --apparmor-parser "$WRAPPER" --kubeconfig "$KC"
	wait_for_log 'apparmor rules not enforced' 10
	cat "$LOG"
	# the parser was given a copy of the kernel's features, not the pin
	grep -- '--write-cache' "$PARSER_LOG" | grep -q -- "--features-file $S/apparmor-cache/kernel-features "
	not grep -q '^dbus {' "$S/apparmor-cache/kernel-features"
	grep -q '^network_v8 {' "$S/apparmor-cache/kernel-features"
	# the stable line (docs/apparmor.md)
	grep -q " warn  apparmor rules not enforced file=$P/gap profile=pd-gap not_enforced=dbus downgraded=unix features=\"kernel ($FS/features)\"\$" "$LOG"
	# not also a free-text warning
	not grep -q 'apparmor profile warning' "$LOG"
	wait_until 10 sh -c "curl -s $CTL/control/events | grep -q RulesNotEnforced"
	# a resync finds the same: no second line, no second Event
	ctl POST /control/reset-requests >/dev/null
	kill -HUP "$DAEMON_PID"
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q GET"
	pause 0.5
	[ "$(count_log 'apparmor rules not enforced')" -eq 1 ]
	ctl GET /control/events | python3 -c '
import json, sys
es = [e for e in json.load(sys.stdin) if e["reason"] == "RulesNotEnforced"]
assert len(es) == 1 and es[0]["count"] == 1 and es[0]["type"] == "Warning", es
m = es[0]["message"]
assert m == sys.argv[1] + ": profile `pd-gap`: rules not enforced: dbus; downgraded: unix", m' "$P/gap"
	wait_until 10 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q unenforced"
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
a = json.loads(json.load(sys.stdin)["metadata"]["annotations"]["profiled.io/profiles"])
p = [x for x in a if x["name"] == "pd-gap"][0]
assert p["unenforced"] == ["dbus"] and p["downgraded"] == ["unix"], p'
	stop_daemon
}

@test "a kernel with other features: compiled again once, the report follows the new kernel" {
	kernel_features 6.1
	gap_profile "$P/gap"
	run_once --apparmorfs "$FS" --apparmor-parser "$WRAPPER"
	echo "$output"
	grep -q 'apparmor rules not enforced file=.* not_enforced=dbus downgraded=unix' <<<"$output"
	[ "$(compiles)" -eq 1 ]
	# the node boots a 7.2 kernel: D-Bus is mediated now
	kernel_features 7.2
	run_once --apparmorfs "$FS" --apparmor-parser "$WRAPPER"
	echo "$output"
	[ "$(compiles)" -eq 2 ]
	grep -q 'apparmor rules not enforced file=.* profile=pd-gap downgraded=unix' <<<"$output"
	not grep -q 'not_enforced=' <<<"$output"
	# and the next start uses the cache of that kernel's features
	run_once --apparmorfs "$FS" --apparmor-parser "$WRAPPER"
	[ "$(compiles)" -eq 2 ]
}
