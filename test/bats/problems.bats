#!/usr/bin/env bats
# Typed problems (agent/problems.c): what a problem does (log line, Event
# reason, ProfilesReady reason, metric) is the row of its class, never a
# comparison of message text.  The AppArmor parts use the stand-in
# apparmorfs and the real parser, as aa-features.bats does.

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

# cond FIELD: a field of the node's ProfilesReady condition ("" when absent).
cond() {
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
for c in json.load(sys.stdin).get("status", {}).get("conditions", []):
    if c["type"] == "ProfilesReady":
        print(c.get(sys.argv[1], ""))' "$1"
}

# A profile with rules this kernel does not enforce is loaded and in place
# (docs/apparmor.md): the report is a warning, an Event and the
# annotation, and ProfilesReady stays True.
@test "rules not enforced: a warning and an Event, and ProfilesReady stays True" {
	api_start
	rm -rf "$FS/features"
	cp -r "$FEATURES/linux-6.1" "$FS/features"
	printf 'profile pd-gap {\n  file,\n  dbus,\n  unix,\n  signal,\n}\n' >"$P/gap"
	start_daemon --apparmorfs "$FS" --apparmor-parser "$WRAPPER" --kubeconfig "$KC"
	wait_for_log 'apparmor rules not enforced' 10
	wait_until 10 sh -c "curl -s $CTL/control/events | grep -q RulesNotEnforced"
	# the stand-in kernel lists it now; the resync confirms it
	echo 'pd-gap (enforce)' >"$FS/profiles"
	kill -HUP "$DAEMON_PID"
	wait_until 10 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q ProfilesInPlace" || true
	cat "$LOG"
	[ "$(cond status)" = True ]
	[ "$(cond reason)" = ProfilesInPlace ]
	stop_daemon
}

# Each class gives its own Event reason, ProfilesReady reason and metric
# label.
@test "a rejected file: its Event and ProfilesReady reasons and its metric come from its class" {
	api_start
	echo '{"defaultAction": "SCMP_ACT_NOPE"}' >"$P/bad.json"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	METRICS_ADDR=127.0.0.1:$port start_daemon --kubeconfig "$KC"
	wait_for_log 'seccomp profile rejected' 10
	wait_until 10 sh -c "curl -s $CTL/control/events | grep -q ProfileRejected"
	wait_until 10 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q ProfilesReady"
	[ "$(cond status)" = False ]
	[ "$(cond reason)" = ProfileInvalid ]
	cond message | grep -q "^$P/bad.json: "
	curl -s "http://127.0.0.1:$port/metrics" >"$T/metrics"
	grep -qx 'profiled_problems{class="seccomp_rejected"} 1' "$T/metrics"
	grep -qx 'profiled_problems{class="seccomp_warning"} 0' "$T/metrics"
	grep -qx 'profiled_validation_failures_total{kind="seccomp"} 1' "$T/metrics"
	stop_daemon
}
