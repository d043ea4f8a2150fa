#!/usr/bin/env bats
# The daemon against the strict API server stand-in (test/apiserver): TLS
# with a throwaway CA, bearer tokens, apimachinery's validation, Status
# errors, fault injection.  Request counts are printed as information.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	mkdir -p "$P"
	api_start
}

teardown() {
	common_teardown
}

annotation() { # KEY
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
print(json.load(sys.stdin)["metadata"].get("annotations", {}).get(sys.argv[1], ""))' "$1"
}

# requests [python condition on r]: the API requests received, one line each
# "METHOD PATH STATUS".
requests() {
	ctl GET /control/requests | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["method"], r["path"], r["status"])'
}

nreq() { requests | grep -c -- "${1:-.}" || true; }

api_once() {
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$KC" "$@"
}

@test "labels appear, change and disappear with the profiles; other labels are untouched" {
	fixtures_into "$P"
	ctl PATCH /control/nodes/node-1 '{"metadata":{"labels":{"team":"a","seccomp.example.com/x":"true"}}}' >/dev/null
	api_once
	echo "$output"
	[ "$status" -eq 0 ]
	labels | tee "$T/l1"
	grep -qx 'seccomp.profiled.io/audit=true' "$T/l1"
	grep -qx 'seccomp.profiled.io/fine-grained=true' "$T/l1"
	grep -qx 'profiled.io/seccomp=enabled' "$T/l1"
	grep -qx 'team=a' "$T/l1"
	grep -qx 'seccomp.example.com/x=true' "$T/l1"
	# the annotation says which version the node holds
	annotation profiled.io/profiles | python3 -c '
import json, sys, hashlib
got = {p["name"]: p for p in json.load(sys.stdin)}
want = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
assert got["audit"]["sha256"] == want and got["audit"]["state"] == "published", got' "$P/audit.json"
	# a profile removed: its label goes, nothing else
	rm "$P/audit.json"
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	api_once
	[ "$status" -eq 0 ]
	labels | tee "$T/l2"
	not grep -q 'seccomp.profiled.io/audit' "$T/l2"
	grep -qx 'seccomp.profiled.io/new=true' "$T/l2"
	grep -qx 'team=a' "$T/l2"
	grep -qx 'seccomp.example.com/x=true' "$T/l2"
	# every PATCH was a merge patch that named only the agent's keys
	ctl GET /control/requests | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["method"] == "PATCH" and r["path"] == "/api/v1/nodes/node-1":
        assert r["content_type"] == "application/merge-patch+json", r
        for k in r["body"]["metadata"].get("labels", {}):
            assert "profiled.io" in k, k'
}

@test "requests: none at steady state, one GET and one PATCH per change (counts printed)" {
	fixtures_into "$P"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q PATCH"
	ctl POST /control/reset-requests >/dev/null
	pause 3
	steady=$(nreq)
	echo "# steady state: $steady API requests in 3 s" >&3
	[ "$steady" -eq 0 ]
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	wait_until 10 sh -c "curl -s $CTL/control/requests | grep -q '\"PATCH\"'"
	pause 0.5
	requests | tee "$T/req"
	echo "# one profile added: $(grep -c 'nodes/node-1' "$T/req") node requests ($(grep -c '^GET' "$T/req") GET, $(grep -c '^PATCH /api/v1/nodes' "$T/req") PATCH), $(grep -c events "$T/req") event request(s)" >&3
	[ "$(grep -c '^GET /api/v1/nodes/node-1' "$T/req")" -eq 1 ]
	[ "$(grep -c '^PATCH /api/v1/nodes/node-1' "$T/req")" -eq 1 ]
	# SIGHUP (a resync): one GET, no PATCH when nothing differs
	assert_quiet_resync
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
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
	n500=$(requests | grep -c ' 500$' || true)
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
	fixtures_into "$P"
	start_daemon --kubeconfig "$A/out/kubeconfig-tokenfile" --resync-interval 2s
	wait_until 10 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/audit"
	# rotate: the old token is refused from now on; the file has the new one
	ctl POST /control/rotate-token '{"token": "secret-2"}' >/dev/null
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	wait_until 15 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/new"
	not grep -q 'unauthorized' "$LOG"
	not grep -q 'secret-' "$LOG"
	stop_daemon
}

@test "after a reboot, labels of profiles not in place are removed before anything is loaded" {
	fixtures_into "$P"
	api_once
	[ "$status" -eq 0 ]
	# the node keeps its labels; the published files are gone (as after a
	# node rebuild), and a label of a profile that no longer exists
	rm -rf "$R"
	ctl PATCH /control/nodes/node-1 '{"metadata":{"labels":{"apparmor.profiled.io/lost":"true"}}}' >/dev/null
	ctl POST /control/reset-requests >/dev/null
	api_once
	echo "$output"
	[ "$status" -eq 0 ]
	ctl GET /control/requests | python3 -c '
import json, sys
rs = [r for r in json.load(sys.stdin) if r["method"] == "PATCH" and "nodes" in r["path"]]
assert len(rs) == 2, rs
first = rs[0]["body"]["metadata"]["labels"]
assert all(v is None for v in first.values()), first
assert first.get("seccomp.profiled.io/audit", 1) is None and first.get("apparmor.profiled.io/lost", 1) is None, first
second = rs[1]["body"]["metadata"]["labels"]
assert second["seccomp.profiled.io/audit"] == "true", second'
	labels | grep -qx 'seccomp.profiled.io/audit=true'
	[ -z "$(labels | grep 'apparmor.profiled.io/lost')" ]
}

@test "events: posted on the node, the same one aggregated into a count" {
	printf '{"defaultAction": "SCMP_ACT_BOGUS"}' | put "$P/bad.json"
	start_daemon --kubeconfig "$KC"
	wait_until 10 sh -c "curl -s $CTL/control/events | grep -q ProfileRejected"
	# fixed, then broken the same way again: the same event, count 2
	seccomp_json SCMP_ACT_ALLOW | put "$P/bad.json"
	wait_for_log 'seccomp profile published profile=bad' 5
	printf '{"defaultAction": "SCMP_ACT_BOGUS"}' | put "$P/bad.json"
	wait_until 10 sh -c "curl -s $CTL/control/events | python3 -c '
import json, sys
e = [x for x in json.load(sys.stdin) if x[\"reason\"] == \"ProfileRejected\"]
sys.exit(0 if len(e) == 1 and e[0][\"count\"] == 2 else 1)'"
	ctl GET /control/events | python3 -c '
import json, sys
es = json.load(sys.stdin)
rej = [e for e in es if e["reason"] == "ProfileRejected"][0]
assert rej["type"] == "Warning" and rej["involvedObject"]["kind"] == "Node", rej
assert "unknown action" in rej["message"] and "bad.json" in rej["message"], rej
assert rej["source"]["component"] == "profiled", rej
pub = [e for e in es if e["reason"] == "ProfilePublished"]
assert pub and pub[0]["type"] == "Normal", es'
	stop_daemon
}

@test "403 and 404 are logged with what to do; profiles are still published" {
	fixtures_into "$P"
	ctl POST /control/fault '{"status": 403}' >/dev/null
	api_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'forbidden; the service account needs RBAC get and patch on nodes' <<<"$output"
	cmp "$P/audit.json" "$PUB/audit.json"
	ctl DELETE /control/faults >/dev/null
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-9 --kubeconfig "$KC"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'not found; is --node-name the name of this Node' <<<"$output"
}

@test "a changed --label-domain removes the keys of the old one" {
	fixtures_into "$P"
	api_once
	[ "$status" -eq 0 ]
	labels | grep -qx 'seccomp.profiled.io/audit=true'
	api_once --label-domain nodes.example.com
	echo "$output"
	[ "$status" -eq 0 ]
	labels | tee "$T/l"
	grep -qx 'seccomp.nodes.example.com/audit=true' "$T/l"
	not grep -q 'profiled.io' "$T/l"
}

@test "a profile name the API would refuse as a label is mapped, never sent as is" {
	seccomp_json SCMP_ACT_ALLOW >"$P/My Profile!.json"
	x=$(printf '%070d' 0)
	seccomp_json SCMP_ACT_ALLOW >"$P/$x.json"
	api_once
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(requests | grep ' 422$')" ]
	labels | grep -q '^seccomp.profiled.io/My-Profile-[0-9a-f]\{10\}=true$'
	[ "$(labels | grep -c '^seccomp.profiled.io/0000')" -eq 1 ]
}

@test "a wrong CA is refused: TLS is always verified" {
	fixtures_into "$P"
	sed "s|certificate-authority: .*|certificate-authority: \"$A/certs/other-ca.crt\"|" "$KC" >"$T/bad-kc"
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$T/bad-kc"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'API server unreachable' <<<"$output"
	grep -qi 'certificate' <<<"$output"
	[ "$(nreq)" -eq 0 ] # no request ever reached the server
	cmp "$P/audit.json" "$PUB/audit.json"
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
	for i in $(seq 1 40); do printf '{"defaultAction": "SCMP_ACT_BOGUS%d"}' "$i" >"$P/bad$i.json"; done
	api_once
	echo "$output" | tail -5
	[ "$status" -eq 1 ]
	n=$(nreq '/events')
	echo "# 40 problems -> $n event requests" >&3
	[ "$n" -eq 30 ]
	grep -q 'events dropped: over the rate limit dropped=10' <<<"$output"
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
