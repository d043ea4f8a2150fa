#!/usr/bin/env bats
# Faults: the agent killed at random points, its output folder full or
# read-only, its state lost or corrupt, two agents on one node, an API
# server that misbehaves.  Each test asserts what is on disk, in the
# stand-in apparmorfs and on the stand-in API server afterwards.  Counts
# are printed as information (# lines).  `make faults-long` runs the kill
# loop 1000 times (FAULTS_KILL_ITERATIONS).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	API_PID=
	MNT=
}

teardown() {
	common_teardown
	if [ -n "${MNT:-}" ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	fi
}

# state_seccomp: the seccomp entries state.json records, sorted, one a line,
# each "NAME SHA256".
state_seccomp() {
	python3 -c '
import json, sys
for e in sorted(json.load(open(sys.argv[1]))["seccomp"], key=lambda e: e["name"]):
    print(e["name"], e["sha256"])' "$S/state.json"
}

# expect_seccomp DIR: the published folder holds exactly DIR's *.json, byte
# for byte, nothing else (no temporaries), and state.json records exactly
# them with their sha256.
expect_seccomp() {
	local want=$1
	diff <(cd "$want" && ls -A | sort) <(cd "$PUB" && ls -A | sort)
	for f in "$want"/*.json; do
		cmp "$f" "$PUB/$(basename "$f")"
	done
	diff <(cd "$want" && for f in *.json; do echo "$f $(sha256sum <"$f" | cut -d' ' -f1)"; done) \
		<(state_seccomp)
}

@test "kill -9 at random points while publishing: a reader never sees a partial file, the next start converges" {
	n=${FAULTS_KILL_ITERATIONS:-150}
	mkdir -p "$R/$SUBDIR" "$P"
	python3 "$PYHELP" reader "$PUB" "$S/state.json" "$T/stop" >"$T/reader.out" 2>&1 &
	READER=$!
	EXTRA_PIDS=$READER
	python3 "$PYHELP" killloop "$n" 60 "$P" "$T" -- "$PROFILED" run --profiles "$P" \
		--seccomp-root "$R" --seccomp-subdir "$SUBDIR" --state-dir "$S" \
		--node-name node-1 --metrics-addr "" >"$T/loop.out"
	touch "$T/stop"
	rc=0
	wait "$READER" || rc=$?
	EXTRA_PIDS=
	echo "# kill -9 loop: $(cat "$T/loop.out")" >&3
	echo "# reader: $(head -1 "$T/reader.out")" >&3
	cat "$T/reader.out"
	[ "$rc" -eq 0 ]
	# the loop really killed runs in the middle of their writes
	grep -Eq 'killed_mid_reconcile=[1-9]' "$T/loop.out"
	# the next start converges to exactly the last version
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	python3 "$PYHELP" killset "$(cat "$T/last")" "$T/want"
	expect_seccomp "$T/want"
}

# mount_tiny DIR SIZE: a tmpfs of SIZE on DIR (skips loudly when this
# machine does not let the test mount).
mount_tiny() {
	mkdir -p "$1"
	if ! mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" 2>"$T/mount.err"; then
		echo "# SKIP: cannot mount a tmpfs ($(cat "$T/mount.err")); needs root or CAP_SYS_ADMIN" >&3
		skip "cannot mount a tmpfs: $(cat "$T/mount.err")"
	fi
	MNT=$1
}

metric() { # NAME{LABELS}: its value from /metrics
	curl -s "http://$METRICS_ADDR/metrics" | awk -v k="$1" '$1 == k {print $2}'
}

@test "seccomp folder full, then read-only: the old file stays, the file is named, it recovers by itself" {
	mount_tiny "$R" 64k
	mkdir -p "$P"
	seccomp_json SCMP_ACT_ALLOW >"$P/a.json"
	cp "$P/a.json" "$T/a.v1"
	METRICS_ADDR=127.0.0.1:20111
	start_daemon --resync-interval 1h
	pid=$DAEMON_PID
	cmp "$T/a.v1" "$PUB/a.json"
	# fill the file system, then change the profile
	dd if=/dev/zero of="$R/filler" bs=4k 2>/dev/null || true
	seccomp_json SCMP_ACT_ALLOW mkdir rmdir chmod chown >"$P/a.json"
	cp "$P/a.json" "$T/a.v2"
	wait_for_log "error seccomp profile not published file=$P/a.json error=.*No space left on device" 5
	cmp "$T/a.v1" "$PUB/a.json"
	[ -z "$(ls -A "$PUB" | grep -v '^a.json$')" ] # no temporary left
	[ "$(metric 'profiled_load_failures_total{kind="seccomp"}')" -ge 1 ]
	curl -sf "http://$METRICS_ADDR/readyz" >/dev/null
	wait_for_log 'a write on the node failed; reconciling again retry_in_ms=1000' 5
	# the error is logged once, not at every retry
	wait_for_log 'reconciling again retry_in_ms=2000' 5
	[ "$(count_log 'seccomp profile not published')" -eq 1 ]
	# space comes back: the retry publishes, no restart
	rm "$R/filler"
	wait_for_content "$PUB/a.json" "$T/a.v2" 10
	kill -0 "$pid"
	echo "# full: recovered after $(count_log 'reconciling again') retries" >&3
	# read-only: the same
	mount -o remount,ro "$R"
	seccomp_json SCMP_ACT_ERRNO >"$P/a.json"
	cp "$P/a.json" "$T/a.v3"
	wait_for_log "error seccomp profile not published file=$P/a.json error=.*Read-only file system" 5
	cmp "$T/a.v2" "$PUB/a.json"
	mount -o remount,rw "$R"
	wait_for_content "$PUB/a.json" "$T/a.v3" 10
	[ "$DAEMON_PID" = "$pid" ]
	state_seccomp | grep -q "^a.json $(sha256sum <"$T/a.v3" | cut -d' ' -f1)$"
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "two agents on one node: the second waits for the lock, touches nothing, then takes over" {
	mkdir -p "$P"
	seccomp_json SCMP_ACT_ALLOW >"$P/a.json"
	start_daemon
	first=$DAEMON_PID
	# the second, on the same state folder
	"$PROFILED" run --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --metrics-addr "" 2>"$T/second.log" &
	second=$!
	EXTRA_PIDS=$second
	wait_for_log "waiting for the state lock held by another agent .*holder_pid=$first" 5 1 "$T/second.log"
	# a change while both run: only the first acts on it
	seccomp_json SCMP_ACT_ALLOW mkdir >"$P/b.json"
	wait_for_log 'seccomp profile published profile=b' 5
	pause 0.3
	not grep -q 'published\|removed\|ready\|would set' "$T/second.log"
	[ "$(cat "$S/lock")" = "$first" ]
	# the first exits: the second takes over and converges
	DAEMON_PID=$first
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	wait_for_log ' ready' 5 1 "$T/second.log"
	[ "$(cat "$S/lock")" = "$second" ]
	seccomp_json SCMP_ACT_ERRNO >"$P/c.json"
	wait_for_log 'seccomp profile published profile=c' 5 1 "$T/second.log"
	ls "$PUB" >"$T/pub"
	[ "$(cat "$T/pub" | tr '\n' ' ')" = "a.json b.json c.json " ]
	state_seccomp | cut -d' ' -f1 | tr '\n' ' ' | grep -qx 'a.json b.json c.json '
	# the files the first published were adopted, not rewritten
	not grep -q 'profile=a \|profile=b ' "$T/second.log"
	DAEMON_PID=$second
	EXTRA_PIDS=
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "a second agent waiting on the lock: SIGTERM ends it (exit 0), having written nothing" {
	mkdir -p "$P"
	seccomp_json SCMP_ACT_ALLOW >"$P/a.json"
	start_daemon
	"$PROFILED" run --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --metrics-addr "" 2>"$T/second.log" &
	second=$!
	EXTRA_PIDS=$second
	wait_for_log "waiting for the state lock" 5 1 "$T/second.log"
	before=$(file_id "$S/state.json")
	kill -TERM "$second"
	rc=0
	wait "$second" || rc=$?
	EXTRA_PIDS=
	echo "second agent exit status: $rc"
	[ "$rc" -eq 0 ]
	[ "$(file_id "$S/state.json")" = "$before" ]
	[ "$(cat "$S/lock")" = "$DAEMON_PID" ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

node_has_label() { ctl GET /control/nodes/node-1 | grep -q "\"$1\""; }

# stop_bounded SECONDS: SIGTERM, then the daemon must be gone within the bound
# (a safety net so a hang fails instead of blocking); DAEMON_RC its status.
stop_bounded() {
	kill -TERM "$DAEMON_PID"
	wait_until "$1" not kill -0 "$DAEMON_PID" 2>/dev/null || {
		kill -KILL "$DAEMON_PID"
		wait "$DAEMON_PID" || true
		DAEMON_PID=
		return 1
	}
	DAEMON_RC=0
	wait "$DAEMON_PID" || DAEMON_RC=$?
	DAEMON_PID=
}

@test "an API server that accepts and never answers: publishing goes on, SIGTERM exits 0, it times out, backs off and converges once back" {
	api_start
	mkdir -p "$P"
	seccomp_json SCMP_ACT_ALLOW >"$P/a.json"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 node_has_label seccomp.profiled.io/a
	# the server hangs: TCP accepted, not even a TLS handshake
	ctl POST /control/down '{"mode": "hang"}' >/dev/null
	# a change while a request hangs (SIGHUP starts one now; unanswered,
	# it would last until the 5 s connect timeout) is published anyway
	kill -HUP "$DAEMON_PID"
	wait_for_log 'SIGHUP: resync' 5
	pause 0.3
	seccomp_json SCMP_ACT_ALLOW mkdir >"$P/b.json"
	t0=$(now_ms)
	wait_for_log 'seccomp profile published profile=b' 20
	echo "# a change while a request hangs: published after $(($(now_ms) - t0)) ms" >&3
	not grep -q 'API server unreachable' "$LOG" # the hung request was not waited out
	# the update after that change times out and is postponed (backoff)
	wait_for_log 'API server unreachable; will retry request="GET node" error=".*Timeout was reached' 20
	wait_for_log 'node update postponed retry_in_ms=' 5
	# SIGTERM in the middle of a hung request: a clean exit
	n0=$(count_log 'API server unreachable')
	kill -HUP "$DAEMON_PID"
	wait_for_log 'SIGHUP: resync' 5 2
	pause 0.5
	[ "$(count_log 'API server unreachable')" -eq "$n0" ] # still in flight
	stop_bounded 5
	[ "$DAEMON_RC" -eq 0 ]
	not node_has_label seccomp.profiled.io/b
	# a start while it hangs: the check before loading gives up after the
	# connect timeout, the profiles are published anyway
	rm "$PUB/b.json"
	seccomp_json SCMP_ACT_ALLOW chmod >"$P/c.json"
	NO_WAIT=1 start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_for_log 'labels of profiles not in place could not be checked' 20
	# back up: it converges
	ctl POST /control/up '{}' >/dev/null
	wait_for_log ' ready' 10
	cmp "$P/b.json" "$PUB/b.json"
	cmp "$P/c.json" "$PUB/c.json"
	wait_until 20 node_has_label seccomp.profiled.io/c
	node_has_label seccomp.profiled.io/b
	stop_bounded 5
	[ "$DAEMON_RC" -eq 0 ]
}

api_aa_once() {
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --kubeconfig "$KC" \
		--apparmorfs "$FS" --apparmor-parser "$WRAPPER" "$@"
}

@test "state lost or corrupt: the agent starts, rebuilds it, and unloads, rewrites or relabels nothing" {
	apparmorfs_setup
	api_start
	mkdir -p "$P"
	seccomp_json SCMP_ACT_ALLOW >"$P/a.json"
	seccomp_json SCMP_ACT_ALLOW mkdir >"$P/b.json"
	printf 'profile pd-c { file, }\n' >"$P/c"
	api_aa_once
	[ "$status" -eq 1 ] # loaded, not yet confirmed by the stand-in kernel
	kernel_holds pd-c enforce
	api_aa_once
	echo "$output"
	[ "$status" -eq 0 ]
	labels >"$T/labels.good"
	grep -qx 'apparmor.profiled.io/pd-c=true' "$T/labels.good"
	grep -qx 'seccomp.profiled.io/b=true' "$T/labels.good"
	cp "$S/state.json" "$T/state.good"
	ids() { for f in "$PUB"/*; do echo "$f $(file_id "$f")"; done; }
	ids >"$T/ids.good"
	for fault in deleted garbage truncated wrong-types; do
		case $fault in
		deleted) rm -rf "$S" ;;
		garbage) head -c 3000 /dev/urandom >"$S/state.json" ;;
		truncated) head -c 60 "$T/state.good" >"$S/state.json" ;;
		wrong-types) echo '{"version":1,"seccomp":{"a.json":1},"apparmor":[{"name":7,"sha256":[]},"x",null]}' >"$S/state.json" ;;
		esac
		: >"$FS/.replace"
		: >"$FS/.remove"
		ctl POST /control/reset-requests >/dev/null
		api_aa_once --unload-removed
		echo "--- $fault"
		echo "$output"
		[ "$status" -eq 0 ]
		# nothing unloaded, nothing loaded again, no file rewritten
		[ ! -s "$FS/.remove" ]
		[ ! -s "$FS/.replace" ]
		diff "$T/ids.good" <(ids)
		# no label was removed or set, not even for a moment
		[ -z "$(label_patches)" ]
		diff "$T/labels.good" <(labels)
		# and the state is whole again
		python3 - "$S/state.json" "$T/state.good" <<-'PY'
		import json, sys
		key = lambda e: (e["name"], e["sha256"], e.get("source"))
		got, want = (json.load(open(p)) for p in sys.argv[1:])
		for k in ("seccomp", "apparmor"):
		    assert sorted(map(key, got[k])) == sorted(map(key, want[k])), (k, got, want)
		PY
		echo "# state $fault: recovered, no unload, no reload, no file rewritten, no label patch" >&3
	done
}
