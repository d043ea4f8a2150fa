#!/usr/bin/env bats
# A slow AppArmor compile: the real parser on a profile whose automaton
# explodes (a few `/**a???…` rules: the DFA doubles with each `?`; on the
# test machine 16 of them take about 20 s, 17 about 100 s).  The agent
# compiles in the background, kills the parser and its workers when the
# budget is spent, compiles a timed-out batch again file by file, and
# remembers the timeout.  AppArmor loads go to the apparmorfs stand-in
# (see apparmor.bats).

bats_require_minimum_version 1.5.0
load helpers

BUDGET=3s

setup() {
	common_setup
	apparmorfs_setup
}

teardown() {
	# Whatever parser this test started and left (an old binary does).
	for pid in $(parser_pids); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	common_teardown
}

# slow_profile FILE: a 3-rule profile the parser takes minutes over.
slow_profile() {
	local q
	q=$(printf '?%.0s' $(seq 18))
	cat >"$1" <<-P
	profile pd-slow {
	  /**a$q r,
	  /**b$q w,
	  /**c$q rw,
	}
	P
}

ok_profile() { # FILE NAME
	printf 'profile %s {\n  file,\n  deny /etc/** w,\n}\n' "$2" >"$1"
}

# parser_pids: live processes whose command line names this test's cache
# ($T/tmp for `check` and its temporary cache): the parser and every worker
# it forked (a zombie's command line is empty).  One grep over /proc; the
# `[e]` and `[p]` keep grep from finding itself.
parser_pids() {
	grep -las -e "$S/apparmor-cach[e]" -e "$T/tm[p]/" /proc/[0-9]*/cmdline 2>/dev/null |
		sed 's|^/proc/\([0-9]*\)/cmdline$|\1|' || true
}

parser_running() { [ -n "$(parser_pids)" ]; }
no_parser_left() { [ -z "$(parser_pids)" ]; }

compiles() { grep -c -- '--write-cache' "$PARSER_LOG" || true; }
runs() { grep -c -- '--write-cache\|--names' "$PARSER_LOG" || true; }

aa_daemon() {
	start_daemon --apparmorfs "$FS" --apparmor-parser "$WRAPPER" "$@"
}

@test "a batch that outlives its budget: the parser and all its workers are killed, then each file alone; only the slow one is rejected" {
	slow_profile "$P/slow"
	ok_profile "$P/ok-a" pd-ok-a
	ok_profile "$P/ok-b" pd-ok-b
	# the stand-in kernel lists what the agent loads (taken over, as the
	# names are listed before the agent owns them)
	printf 'pd-ok-a (enforce)\npd-ok-b (enforce)\n' >"$FS/profiles"
	aa_daemon --apparmor-compile-timeout "$BUDGET" --adopt-existing
	# the batch runs: the parser and (with --jobs) its workers
	wait_until 10 parser_running
	echo "# parser processes during the batch: $(parser_pids | wc -l)" >&3
	wait_for_log "apparmor profile rejected file=$P/slow" 60
	cat "$LOG"
	grep -q "apparmor profile rejected file=$P/slow error=\"the AppArmor parser did not compile this file within 3 s" "$LOG"
	wait_for_log "apparmor profile loaded profile=pd-ok-a" 5
	wait_for_log "apparmor profile loaded profile=pd-ok-b" 5
	[ "$(count_log 'apparmor profile rejected')" -eq 1 ]
	# the batch, then the slow file alone
	cat "$PARSER_LOG"
	[ "$(compiles)" -ge 2 ]
	[ "$(grep -- '--write-cache' "$PARSER_LOG" | tail -1 | grep -oE "$S/apparmor-cache/ctx-[0-9a-f]+/src/" | wc -l)" -eq 1 ]
	# nothing of the parser is left (zombies reaped by init aside)
	wait_until 5 no_parser_left
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "a timeout is remembered: a resync, a copy of the file and a restart do not run the parser on it again" {
	slow_profile "$P/slow"
	aa_daemon --apparmor-compile-timeout "$BUDGET" --log-level debug
	wait_for_log "apparmor profile rejected file=$P/slow" 30
	wait_until 5 no_parser_left
	before=$(runs)
	kill -HUP "$DAEMON_PID"
	wait_for_log 'reconciled trigger=sighup' 10
	cp "$P/slow" "$P/slow-copy"
	wait_for_log "apparmor profile rejected file=$P/slow-copy error=\"the AppArmor parser did not compile this file within" 10
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	aa_daemon --apparmor-compile-timeout "$BUDGET"
	wait_for_log "apparmor profile rejected file=$P/slow-copy" 10
	stop_daemon
	cat "$PARSER_LOG"
	# no parser run at all since the verdict: neither a compile nor --names
	[ "$(runs)" -eq "$before" ]
	[ "$(compiles)" -eq 1 ]
	# a new version of the file is compiled again
	: >"$PARSER_LOG"
	ok_profile "$P/slow" pd-slow
	run_once --apparmorfs "$FS" --apparmor-parser "$WRAPPER" --apparmor-compile-timeout "$BUDGET"
	echo "$output"
	[ "$(compiles)" -eq 1 ]
	not grep -q "rejected file=$P/slow " <<<"$output"
}

@test "while the parser is busy on a slow file, a seccomp change is published at once; /healthz stays ok; readiness says Pending" {
	api_start
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	slow_profile "$P/slow"
	# the default budget (30 s) outlasts the test
	METRICS_ADDR=127.0.0.1:$PORT NO_WAIT=1 aa_daemon --kubeconfig "$KC"
	wait_until 10 parser_running
	t0=$(now_ms)
	cp "$FIXTURES_ROOT/kubernetes-docs/seccomp/audit.json" "$P/audit.json"
	wait_for_log 'seccomp profile published profile=audit' 10
	t1=$(now_ms)
	echo "# seccomp publish while the parser compiles: $((t1 - t0)) ms after the copy" >&3
	cmp "$P/audit.json" "$PUB/audit.json"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" = 200 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ]
	# the Node: the seccomp label, and the condition Pending on the slow file
	wait_until 10 sh -c "curl -s $CTL/control/nodes/node-1 | grep -q 'seccomp.profiled.io/audit'"
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin)["status"]["conditions"] if c["type"] == "ProfilesReady"][0]
print(c)
assert c["status"] == "False" and c["reason"] == "Pending", c
assert sys.argv[1] in c["message"] and "compiling" in c["message"], c' "$P/slow"
	# the compile still runs
	parser_running
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	wait_until 5 no_parser_left
}

@test "SIGTERM during a real slow compile: exit 0 at once, neither the parser nor a worker is left" {
	slow_profile "$P/slow"
	ok_profile "$P/ok" pd-ok
	NO_WAIT=1 aa_daemon
	wait_until 10 parser_running
	pause 0.3 # let the parser fork its workers
	echo "# parser processes before SIGTERM: $(parser_pids | wc -l)" >&3
	stop_daemon TERM
	echo "# SIGTERM during a compile: stop took $STOP_MS ms" >&3
	[ "$DAEMON_RC" -eq 0 ]
	wait_until 5 no_parser_left
}

@test "check: SIGTERM during a slow compile stops the parser and its workers" {
	slow_profile "$P/slow"
	ok_profile "$P/ok" pd-ok
	mkdir -p "$T/tmp"
	TMPDIR=$T/tmp "$PROFILED" check --apparmor-parser "$WRAPPER" "$P/ok" "$P/slow" \
		>"$T/check.out" 2>&1 &
	cpid=$!
	EXTRA_PIDS=$cpid
	wait_until 10 parser_running
	pause 0.3 # let the parser fork its workers
	echo "# parser processes before SIGTERM: $(parser_pids | wc -l)" >&3
	kill -TERM "$cpid"
	rc=0
	wait "$cpid" || rc=$?
	EXTRA_PIDS=
	cat "$T/check.out"
	echo "check exit status: $rc"
	wait_until 5 no_parser_left
	# it said why, and removed its temporary cache
	grep -q 'stopped: shutting down' "$T/check.out"
	[ -z "$(ls -A "$T/tmp")" ]
}

@test "--once: SIGTERM during a slow compile exits 1 (not everything is in place), no parser left" {
	slow_profile "$P/slow"
	"$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --apparmorfs "$FS" --apparmor-parser "$WRAPPER" \
		2>"$LOG" &
	DAEMON_PID=$!
	wait_until 10 parser_running
	pause 0.3
	stop_daemon TERM
	cat "$LOG"
	[ "$DAEMON_RC" -eq 1 ]
	wait_until 5 no_parser_left
	grep -q 'stopped before the reconcile ended' "$LOG"
}
