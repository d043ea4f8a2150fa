#!/usr/bin/env bats
# "Pods never land before their profiles exist": the ProfilesReady Node
# condition (nodes/NAME/status, strategic merge patch) and --remove-taint
# (a JSON patch guarded by test ops), against the strict API stand-in.
# Request counts are printed as information and asserted where the design
# promises them: no request between resyncs, one status PATCH per change.

bats_require_minimum_version 1.5.0
load helpers

TAINT=profiled.io/not-ready
JP=application/json-patch+json

# One throwaway PKI for the file (RSA key generation is the slow part).
setup_file() {
	export API_CERTS=$BATS_FILE_TMPDIR/certs
	api_certs "$API_CERTS"
}

setup() {
	common_setup
	mkdir -p "$P"
	api_start
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

# condtypes: the types of the node's conditions, space-separated.
condtypes() {
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
print(" ".join(c["type"] for c in json.load(sys.stdin).get("status", {}).get("conditions", [])))'
}

# taints: KEY:EFFECT of each taint, space-separated, in the node's order.
taints() {
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
print(" ".join("%s:%s" % (t["key"], t["effect"]) for t in json.load(sys.stdin).get("spec", {}).get("taints") or []))'
}

# requests: the API requests, one line each "METHOD PATH STATUS CONTENT-TYPE".
requests() {
	ctl GET /control/requests | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["method"], r["path"], r["status"], r["content_type"] or "-")'
}

nreq() { requests | grep -c -- "${1:-.}" || true; }

set_taints() { # JSON list
	ctl PUT /control/nodes/node-1 "{\"spec\": {\"taints\": $1}, \"manager\": \"kubelet\"}" >/dev/null
}

@test "ProfilesReady: True with the kubelet's Ready kept; no request at steady state, no status PATCH when unchanged" {
	fixtures_into "$P"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '/status'"
	[ "$(cond status)" = True ]
	[ "$(cond reason)" = ProfilesInPlace ]
	[ "$(condtypes)" = "Ready ProfilesReady" ]
	# the patch was a strategic merge patch on the status subresource
	requests | tee "$T/req0"
	[ "$(grep -c '^PATCH /api/v1/nodes/node-1/status 200 application/strategic-merge-patch+json' "$T/req0")" -eq 1 ]
	ctl POST /control/reset-requests >/dev/null
	pause 2
	[ "$(nreq)" -eq 0 ]
	# a new good profile: labels change, the condition does not
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '\"PATCH\"'"
	pause 0.5
	requests | tee "$T/req1"
	echo "# one good profile added: $(grep -c '^GET' "$T/req1") GET, $(grep -c '^PATCH /api/v1/nodes/node-1 ' "$T/req1") node PATCH, $(grep -c '/status' "$T/req1") status PATCH" >&3
	[ "$(grep -c '^PATCH /api/v1/nodes/node-1 ' "$T/req1")" -eq 1 ]
	[ "$(grep -c '/status' "$T/req1")" -eq 0 ]
	# a resync: one GET, nothing patched
	assert_quiet_resync
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "ProfilesReady: False names the file and why; lastTransitionTime moves only when the status does; one status PATCH per change" {
	fixtures_into "$P"
	echo '{"defaultAction": "SCMP_ACT_BOGUS"}' | put "$P/bad.json"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '/status'"
	[ "$(cond status)" = False ]
	[ "$(cond reason)" = ProfileInvalid ]
	cond message | tee "$T/msg"
	grep -q "bad.json: .*SCMP_ACT_BOGUS" "$T/msg"
	t1=$(cond lastTransitionTime)
	h1=$(cond lastHeartbeatTime)
	pause 1.1
	# a second problem: still False, another message, same transition time
	ctl POST /control/reset-requests >/dev/null
	echo 'not json' | put "$P/worse.json"
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '/status'"
	pause 0.5
	[ "$(cond status)" = False ]
	cond message | grep -q 'and 1 more problem'
	[ "$(cond lastTransitionTime)" = "$t1" ]
	[ "$(cond lastHeartbeatTime)" != "$h1" ]
	[ "$(nreq '/status')" -eq 1 ]
	# fixed: True, a new transition time
	ctl POST /control/reset-requests >/dev/null
	rm "$P/bad.json" "$P/worse.json"
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '/status'"
	pause 0.5
	[ "$(cond status)" = True ]
	[ "$(cond lastTransitionTime)" != "$t1" ]
	requests | tee "$T/req"
	echo "# False -> True: $(grep -c '^GET' "$T/req") GET, $(grep -c '/status' "$T/req") status PATCH" >&3
	[ "$(grep -c '/status' "$T/req")" -eq 1 ]
	[ "$(condtypes)" = "Ready ProfilesReady" ]
	stop_daemon
}

@test "ProfilesReady: a condition someone else removed is put back at the resync; the kubelet's Ready is never touched" {
	fixtures_into "$P"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '/status'"
	# the kubelet rewrites its own conditions (a merge patch replaces the list)
	ctl PATCH /control/nodes/node-1 '{"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "posted by the kubelet", "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}, "manager": "kubelet"}' >/dev/null
	[ "$(condtypes)" = "Ready" ]
	kill -HUP "$DAEMON_PID"
	wait_until 10 sh -c "[ \"\$(curl -s $CTL/control/nodes/node-1 | grep -c ProfilesReady)\" -ge 1 ]"
	[ "$(condtypes)" = "Ready ProfilesReady" ]
	ctl GET /control/nodes/node-1 | grep -q 'posted by the kubelet'
	stop_daemon
}

@test "--remove-taint: kept while a profile fails, removed after the first good reconcile, other taints kept, never re-added" {
	fixtures_into "$P"
	echo '{"defaultAction": "SCMP_ACT_BOGUS"}' | put "$P/bad.json"
	set_taints "[{\"key\": \"other.io/x\", \"effect\": \"NoExecute\"}, {\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]"
	start_daemon --kubeconfig "$KC" --resync-interval 1h --remove-taint "$TAINT:NoSchedule"
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '/status'"
	pause 0.5
	[ "$(cond status)" = False ]
	[ "$(taints)" = "other.io/x:NoExecute $TAINT:NoSchedule" ]
	[ "$(nreq "$JP")" -eq 0 ]
	rm "$P/bad.json"
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '$JP'"
	pause 0.3
	[ "$(taints)" = "other.io/x:NoExecute" ]
	[ "$(cond status)" = True ]
	requests | grep "$JP" | tee "$T/jp"
	[ "$(grep -c "^PATCH /api/v1/nodes/node-1 200 $JP" "$T/jp")" -eq 1 ]
	# the patch: test resourceVersion, test the taint at its index, remove it
	ctl GET /control/requests | python3 -c '
import json, sys
b = [r for r in json.load(sys.stdin) if r["content_type"] == "application/json-patch+json"][0]["body"]
assert [o["op"] for o in b] == ["test", "test", "test", "remove"], b
assert b[0]["path"] == "/metadata/resourceVersion", b
assert b[3] == {"op": "remove", "path": "/spec/taints/1"}, b'
	grep -q 'start-up taint removed' "$LOG"
	# someone puts it back: the agent leaves it (it removes once, never re-adds)
	set_taints "[{\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]"
	ctl POST /control/reset-requests >/dev/null
	kill -HUP "$DAEMON_PID"
	wait_until 5 sh -c "curl -s $CTL/control/requests | grep -q GET"
	pause 0.5
	[ "$(nreq "$JP")" -eq 0 ]
	[ "$(taints)" = "$TAINT:NoSchedule" ]
	stop_daemon
}

@test "--remove-taint: a concurrent change to another taint between GET and PATCH is kept (failed test -> 422 -> read again)" {
	fixtures_into "$P"
	set_taints "[{\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]"
	# just before the first JSON patch is served, someone adds a taint in front
	ctl POST /control/fault "{\"method\": \"PATCH\", \"request_content_type\": \"$JP\", \"count\": 1, \"mutate\": {\"node\": \"node-1\", \"manager\": \"someone\", \"patch\": {\"spec\": {\"taints\": [{\"key\": \"late.io/y\", \"effect\": \"NoSchedule\"}, {\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]}}}}" >/dev/null
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$KC" --remove-taint "$TAINT"
	echo "$output"
	[ "$status" -eq 0 ]
	requests | tee "$T/req"
	[ "$(grep -c "^PATCH /api/v1/nodes/node-1 422 $JP" "$T/req")" -eq 1 ]
	[ "$(grep -c "^PATCH /api/v1/nodes/node-1 200 $JP" "$T/req")" -eq 1 ]
	[ "$(taints)" = "late.io/y:NoSchedule" ]
	grep -q 'the node changed since it was read' <<<"$output"
	echo "# concurrent taint change: $(grep -c '^GET' "$T/req") GET, $(grep -c "$JP" "$T/req") JSON patches (one refused)" >&3
}

@test "--remove-taint: a 409 is retried after a fresh GET; an absent taint needs no request" {
	fixtures_into "$P"
	set_taints "[{\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]"
	ctl POST /control/fault "{\"method\": \"PATCH\", \"request_content_type\": \"$JP\", \"count\": 1, \"status\": 409}" >/dev/null
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$KC" --remove-taint "$TAINT:NoSchedule"
	[ "$status" -eq 0 ]
	requests | tee "$T/req"
	[ "$(grep -c "^PATCH /api/v1/nodes/node-1 409 $JP" "$T/req")" -eq 1 ]
	[ "$(grep -c "^PATCH /api/v1/nodes/node-1 200 $JP" "$T/req")" -eq 1 ]
	[ -z "$(taints)" ]
	# again: the taint is gone, nothing to send
	ctl POST /control/reset-requests >/dev/null
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$KC" --remove-taint "$TAINT:NoSchedule"
	[ "$status" -eq 0 ]
	grep -q 'start-up taint not on the node' <<<"$output"
	[ "$(nreq "$JP")" -eq 0 ]
	# a taint with the same key but another effect is not the one named
	set_taints "[{\"key\": \"$TAINT\", \"effect\": \"NoExecute\"}]"
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$KC" --remove-taint "$TAINT:NoSchedule"
	[ "$status" -eq 0 ]
	[ "$(taints)" = "$TAINT:NoExecute" ]
}

@test "--remove-taint: the key and effect are validated like apimachinery's" {
	for bad in "bad key" "-x" "UPPER.io/x" "a/b/c" "$TAINT:Never" "$TAINT:" ":NoSchedule" \
		"$(printf 'x%.0s' $(seq 1 64))"; do
		run "$PROFILED" run --once --profiles "$P" --remove-taint "$bad"
		echo "$bad -> $status: $output"
		[ "$status" -eq 2 ]
		grep -q -- '--remove-taint' <<<"$output"
	done
}

@test "AppArmor: False (Pending) until the kernel lists the loaded profile, then True and the taint goes" {
	command -v apparmor_parser >/dev/null || {
		echo "# SKIP: apparmor_parser not installed (make deps)" >&3
		skip "apparmor_parser not installed (make deps)"
	}
	FS=$T/apparmorfs
	mkdir -p "$FS"
	: >"$FS/.load"
	: >"$FS/.replace"
	: >"$FS/.remove"
	: >"$FS/profiles" # the stand-in kernel lists nothing yet
	export PARSER_LOG=$T/parser.log
	cp "$REPO/deploy/profiles/k8s-apparmor-example-deny-write" "$P/deny-write"
	set_taints "[{\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]"
	aa() {
		run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
			--node-name node-1 --kubeconfig "$KC" --remove-taint "$TAINT" \
			--apparmorfs "$FS" --apparmor-parser "$BATS_TEST_DIRNAME/bin/parser-wrapper"
	}
	aa
	echo "$output"
	[ "$status" -eq 1 ]
	grep -aq k8s-apparmor-example-deny-write "$FS/.replace" # it was loaded
	[ "$(cond status)" = False ]
	[ "$(cond reason)" = Pending ]
	cond message | grep -q 'deny-write: .*k8s-apparmor-example-deny-write'
	[ "$(taints)" = "$TAINT:NoSchedule" ]
	echo 'k8s-apparmor-example-deny-write (enforce)' >"$FS/profiles"
	aa
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cond status)" = True ]
	[ -z "$(taints)" ]
}
