#!/usr/bin/env bats
# The agent's memory of its Node and of its failures, against the strict
# API stand-in: a Node deleted and registered again (a new metadata.uid,
# the start-up taint back) is worked on again from scratch; requests the
# agent aborts itself (a profiles change pending) do not grow the backoff,
# so the first retry after a real failure is still about 1 s.

bats_require_minimum_version 1.5.0
load helpers

TAINT=profiled.io/not-ready

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

# put_profile NAME: a new valid seccomp profile NAME.json, in place at once
# (a shell redirection would show an empty file first, a change of its own).
put_profile() {
	seccomp_json SCMP_ACT_ERRNO mkdir >"$P/.$1.tmp"
	mv "$P/.$1.tmp" "$P/$1.json"
}

node_field() { # python expression on the node n
	ctl GET /control/nodes/node-1 | python3 -c "import json, sys; n = json.load(sys.stdin); print($1)"
}

uid() { node_field 'n["metadata"]["uid"]'; }
taints() { node_field '" ".join(t["key"] for t in n.get("spec", {}).get("taints") or [])'; }
cond() { node_field '"".join(c["status"] for c in n.get("status", {}).get("conditions", []) if c["type"] == "ProfilesReady")'; }

# reregister: the Node is deleted and the kubelet registers it again, with
# the start-up taint (as a node's kubelet does with --register-with-taints).
reregister() {
	ctl DELETE /control/nodes/node-1 >/dev/null
	ctl PUT /control/nodes/node-1 "{\"spec\": {\"taints\": [{\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]}, \"manager\": \"kubelet\"}" >/dev/null
}

converged() { # the agent's labels, its condition, and no taint
	labels | grep -qx 'seccomp.profiled.io/audit=true' && [ "$(cond)" = True ] && [ -z "$(taints)" ]
}

@test "a Node deleted and registered again with the start-up taint: labels, condition and taint are done again" {
	fixtures_into "$P"
	ctl PUT /control/nodes/node-1 "{\"spec\": {\"taints\": [{\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]}, \"manager\": \"kubelet\"}" >/dev/null
	start_daemon --kubeconfig "$KC" --resync-interval 1h --remove-taint "$TAINT"
	wait_until 10 converged
	uid0=$(uid)
	# 1. registered again while the agent is idle: the next GET (here a
	# resync, SIGHUP) sees the new uid
	reregister
	uid1=$(uid)
	[ "$uid1" != "$uid0" ]
	[ "$(taints)" = "$TAINT" ]
	[ -z "$(labels | grep profiled.io)" ]
	kill -HUP "$DAEMON_PID"
	wait_until 10 converged
	wait_for_log "the Node was registered again \(new uid\).*old_uid=$uid0 uid=$uid1" 5
	# 2. deleted while the agent works on it (404), then registered again:
	# the retry finds the new Node
	ctl DELETE /control/nodes/node-1 >/dev/null
	put_profile new
	wait_for_log 'not found; is --node-name the name of this Node' 10
	reregister
	uid2=$(uid)
	wait_until 15 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/new"
	wait_until 10 converged
	wait_for_log "the Node was registered again \(new uid\).*old_uid=$uid1 uid=$uid2" 5
	[ "$(count_log 'start-up taint removed')" -eq 3 ]
	# the events about the new Node name its uid, not the old one's
	ctl GET /control/events | python3 -c '
import json, sys
es = [e for e in json.load(sys.stdin) if e["reason"] == "TaintRemoved"]
uids = [e["involvedObject"].get("uid") for e in es]
print("# TaintRemoved events for uids", uids)
assert sys.argv[1] in uids and sys.argv[2] in uids and sys.argv[3] in uids, (uids, sys.argv)' "$uid0" "$uid1" "$uid2" >&3
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

# delay_after_500: the retry delay chosen after the 500, from the first
# "node update postponed" line after it.
delay_after_500() {
	awk '/API server error; will retry/ {f = 1} f && /node update postponed/ {sub(/.*retry_in_ms=/, ""); print $1; exit}' "$LOG"
}

have_delay() { [ -n "$(delay_after_500)" ]; }

@test "aborted requests do not grow the backoff: after many aborts, a 500 is retried after at most 1 s" {
	fixtures_into "$P"
	start_daemon --kubeconfig "$KC" --resync-interval 1h --log-level debug
	wait_until 10 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/audit"
	# a slow server: every GET of the Node takes 20 s, so each is still in
	# flight when the next profiles change aborts it
	ctl POST /control/fault '{"method": "GET", "path_prefix": "/api/v1/nodes/node-1", "delay_ms": 20000}' >/dev/null
	aborts=6
	put_profile c0
	for i in $(seq 1 $aborts); do
		wait_for_log "seccomp profile published profile=c$((i - 1))" 10
		pause 0.2 # the Node update (its GET) is in flight
		put_profile c$i
		wait_for_log 'API request aborted: a profiles change is pending' 10 "$i"
	done
	wait_for_log "seccomp profile published profile=c$aborts" 10
	# now a fast server with one real failure
	ctl DELETE /control/faults >/dev/null
	ctl POST /control/fault '{"method": "GET", "status": 500, "count": 1}' >/dev/null
	put_profile last
	wait_for_log 'API server error; will retry' 15
	wait_until 5 have_delay
	aborted=$(count_log 'API request aborted')
	delay=$(delay_after_500)
	echo "# $aborted aborted requests, then one 500: retried after ${delay} ms (backoff 1 s with jitter: 500-1000)" >&3
	[ "$aborted" -ge "$aborts" ]
	[ -n "$delay" ]
	[ "$delay" -ge 500 ]
	[ "$delay" -le 1000 ]
	wait_until 15 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q seccomp.profiled.io/last"
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}
