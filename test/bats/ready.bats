#!/usr/bin/env bats
# "Pods never land before their profiles exist": the ProfilesReady Node
# condition (nodes/NAME/status, strategic merge patch) and --remove-taint
# (a JSON patch guarded by test ops), against the strict API stand-in.
# Request counts are printed as information and asserted where the design
# promises them: no request between resyncs, one status PATCH per change.
# The cases without fault injection are in apicases.bash: realapi.bats runs
# them against a real API server too.

bats_require_minimum_version 1.5.0
load helpers
load apicases

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

# requests_ct: the API requests, one line each "METHOD PATH STATUS CONTENT-TYPE"
# (the stand-in records the Content-Type).
requests_ct() {
	ctl GET /control/requests | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["method"], r["path"], r["status"], r["content_type"] or "-")'
}

nreq_ct() { requests_ct | grep -c -- "${1:-.}" || true; }

@test "ProfilesReady: True with the kubelet's Ready kept; no request at steady state, no status PATCH when unchanged" {
	case_ready_true_quiet
}

@test "ProfilesReady: False names the file and why; lastTransitionTime moves only when the status does; one status PATCH per change" {
	case_ready_false_transitions
}

@test "ProfilesReady: a condition someone else removed is put back at the resync; the kubelet's Ready is never touched" {
	case_ready_put_back
}

@test "--remove-taint: kept while a profile fails, removed after the first good reconcile, other taints kept, never re-added" {
	case_taint_removed_once
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
	requests_ct | tee "$T/req"
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
	requests_ct | tee "$T/req"
	[ "$(grep -c "^PATCH /api/v1/nodes/node-1 409 $JP" "$T/req")" -eq 1 ]
	[ "$(grep -c "^PATCH /api/v1/nodes/node-1 200 $JP" "$T/req")" -eq 1 ]
	[ -z "$(taints)" ]
	# again: the taint is gone, nothing to send
	ctl POST /control/reset-requests >/dev/null
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$KC" --remove-taint "$TAINT:NoSchedule"
	[ "$status" -eq 0 ]
	grep -q 'start-up taint not on the node' <<<"$output"
	[ "$(nreq_ct "$JP")" -eq 0 ]
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
	case_apparmor_pending
}
