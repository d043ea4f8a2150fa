#!/usr/bin/env bats
# The daemon against the strict API server stand-in (test/apiserver): TLS
# with a throwaway CA, bearer tokens, apimachinery's validation, Status
# errors, fault injection.  Request counts are printed as information.
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

@test "labels appear, change and disappear with the profiles; other labels are untouched" {
	case_labels_follow_profiles
}

@test "requests: none at steady state, one GET and one PATCH per change (counts printed)" {
	case_requests_counted
}

@test "the API server down at start: profiles are published anyway, labels converge once it is up" {
	fixtures_into "$P"
	ctl POST /control/down '{}' >/dev/null
	start_daemon --kubeconfig "$KC"
	cmp "$P/audit.json" "$PUB/audit.json"
	wait_for_log 'API server unreachable; will retry' 10
	ctl POST /control/up '{}' >/dev/null
	wait_until 15 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/audit"
	wait_for_log 'node label set node=node-1 label=seccomp.profiled.io/audit value=true' 5
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "500s and a 429 with Retry-After: retried with backoff, never a spin, then converged" {
	fixtures_into "$P"
	ctl POST /control/fault '{"status": 500, "count": 2}' >/dev/null
	start_daemon --kubeconfig "$KC"
	wait_until 15 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/audit"
	n500=$(requests | grep -c ' 500 ' || true)
	[ "$n500" -eq 2 ]
	# 429 with Retry-After: 2 — the next try waits at least 2 s
	ctl POST /control/reset-requests >/dev/null
	ctl POST /control/fault '{"status": 429, "retry_after": 2, "count": 1}' >/dev/null
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	wait_until 15 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/new"
	ctl GET /control/requests | python3 -c '
import datetime, json, sys
rs = json.load(sys.stdin)
for r in rs:
    r["t"] = datetime.datetime.fromisoformat(r["time"]).timestamp()
t429 = [r["t"] for r in rs if r["status"] == 429]
after = [r["t"] for r in rs if r["status"] != 429 and r["t"] > t429[0]]
assert len(t429) == 1, rs
print("# retried %.2f s after the 429" % (after[0] - t429[0]))
assert after[0] - t429[0] >= 1.9, (t429, after)
assert len(rs) <= 6, rs' >&3
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "a rotated token is re-read from its file after a 401" {
	case_token_rotated
}

@test "after a reboot, labels of profiles not in place are removed before anything is loaded" {
	case_reboot_removes_first
}

@test "events: posted on the node, the same one aggregated into a count" {
	case_events_aggregated
}

@test "403 and 404 are logged with what to do; profiles are still published" {
	case_forbidden_and_not_found
}

@test "a changed --label-domain removes the keys of the old one" {
	case_label_domain_change
}

@test "a profile name the API would refuse as a label is mapped, never sent as is" {
	case_label_names_mapped
}

@test "a wrong CA is refused: TLS is always verified" {
	case_wrong_ca
}

@test "422: the server's message is logged, and it is not retried in a spin" {
	fixtures_into "$P"
	ctl POST /control/fault '{"status": 422, "method": "PATCH", "message": "Node \"node-1\" is invalid: metadata.labels: Invalid value: \"x\""}' >/dev/null
	api_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'API server refused the change as invalid .*Node \\"node-1\\" is invalid: metadata.labels' <<<"$output"
	[ "$(nreq '^PATCH /api/v1/nodes')" -eq 1 ]
}

@test "events are rate-bounded: 40 distinct problems at once give at most 30 event requests" {
	case_events_rate_bounded
}

@test "/metrics counts the API requests by code" {
	fixtures_into "$P"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	ctl POST /control/fault '{"status": 500, "count": 1}' >/dev/null
	METRICS_ADDR=127.0.0.1:$port start_daemon --kubeconfig "$KC"
	wait_until 15 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/audit"
	curl -s "http://127.0.0.1:$port/metrics" | tee "$T/m" | grep api_requests
	[ "$(awk '$1 == "profiled_api_requests_total{code=\"500\"}" {print $2}' "$T/m")" = 1 ]
	[ "$(awk '$1 == "profiled_api_requests_total{code=\"200\"}" {print $2}' "$T/m")" -ge 2 ]
	stop_daemon
}
