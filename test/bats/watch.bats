#!/usr/bin/env bats
# Daemon mode: inotify on kubelet-style and plain folders, resync, signals,
# restart, and the state lock.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	SRC=$T/src
	mkdir -p "$SRC"
}

teardown() {
	common_teardown
}

# profile TAG: a small valid profile whose bytes depend on TAG.
profile() {
	printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","comment":"%s"}]}\n' "$1"
}

# swap: the kubelet's atomic update of $P to the files now in $SRC.
swap() {
	kw "$P" "$SRC"
}

@test "kubelet folder: a profile added, changed, made invalid, removed" {
	need_fixtures
	cp "$FIXTURES/audit.json" "$SRC/"
	swap
	start_daemon
	assert_pub() { cmp "$1" "$PUB/$2.json"; }
	assert_pub "$FIXTURES/audit.json" audit

	# added
	profile v1 >"$SRC/extra.json"
	swap
	wait_for_content "$PUB/extra.json" "$SRC/extra.json" 5
	[ "$(stat -c %a "$PUB/extra.json")" = 644 ]
	wait_for_log 'would set node label node=node-1 label=seccomp.profiled.io/extra value=true' 2

	# changed
	profile v2 >"$SRC/extra.json"
	swap
	wait_for_content "$PUB/extra.json" "$SRC/extra.json" 5
	good=$T/good.json
	cp "$SRC/extra.json" "$good"
	id=$(file_id "$PUB/extra.json")

	# made invalid: the last good version stays, and so does its label
	echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [' >"$SRC/extra.json"
	swap
	wait_for_log "error +seccomp profile rejected file=$P/extra.json error=\"line [0-9]+, column [0-9]+" 5
	pause 0.1
	cmp "$good" "$PUB/extra.json"
	[ "$(file_id "$PUB/extra.json")" = "$id" ]
	[ "$(count_log 'would remove node label')" -eq 0 ]
	kill -0 "$DAEMON_PID"

	# valid again
	profile v3 >"$SRC/extra.json"
	swap
	wait_for_content "$PUB/extra.json" "$SRC/extra.json" 5

	# removed
	rm "$SRC/extra.json"
	swap
	wait_for_gone "$PUB/extra.json" 5
	wait_for_log "seccomp profile removed profile=extra path=$PUB/extra.json" 2
	wait_for_log 'would remove node label node=node-1 label=seccomp.profiled.io/extra' 2
	assert_pub "$FIXTURES/audit.json" audit
	[ ! -e "$P/extra.json" ]

	# everything removed at once (an empty ConfigMap)
	kw "$P" --empty
	wait_for_gone "$PUB/audit.json" 5
	[ -z "$(ls -A "$PUB")" ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	[ "$(count_log '^.{24} (warn|error)')" -eq 1 ] # the one rejection
}

@test "plain folder: in-place write, rename into place, in-place edit, rm" {
	mkdir -p "$P"
	start_daemon
	# echo > file
	profile one >"$P/a.json"
	profile one >"$T/a.expected"
	wait_for_content "$PUB/a.json" "$T/a.expected" 5
	# written elsewhere, then mv into place
	profile two >"$T/tmp-b"
	cp "$T/tmp-b" "$T/b.expected"
	mv "$T/tmp-b" "$P/b.json"
	wait_for_content "$PUB/b.json" "$T/b.expected" 5
	# editor-style: dot temp file in the folder, renamed over the old one
	profile three >"$P/.a.json.swp"
	mv "$P/.a.json.swp" "$P/a.json"
	profile three >"$T/a.expected"
	wait_for_content "$PUB/a.json" "$T/a.expected" 5
	# in-place edit (truncate and write) of an existing file
	profile four >"$P/b.json"
	profile four >"$T/b.expected"
	wait_for_content "$PUB/b.json" "$T/b.expected" 5
	# rm
	rm "$P/a.json"
	wait_for_gone "$PUB/a.json" 5
	cmp "$T/b.expected" "$PUB/b.json"
	[ "$(ls -A "$PUB")" = b.json ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "a burst of 50 kubelet swaps coalesces and ends exactly at the last one" {
	profile start >"$SRC/burst.json"
	swap
	start_daemon
	wait_until 5 test -f "$PUB/burst.json"
	before=$(count_log 'info  reconciled')
	run python3 "$PYHELP" burst "$P" 50 "$T/last.json"
	echo "# burst: $output" >&3
	[ "$status" -eq 0 ]
	wait_for_content "$PUB/burst.json" "$T/last.json" 5
	pause 0.5 # let any straggling reconcile show up in the log
	cmp "$T/last.json" "$PUB/burst.json"
	after=$(count_log 'info  reconciled')
	n=$((after - before))
	echo "# 50 swaps -> $n reconciles that changed something" >&3
	[ "$n" -ge 1 ]
	[ "$n" -le 10 ]
	# atomic swaps never expose a half-written profile
	[ "$(count_log 'rejected=[1-9]|profile rejected')" -eq 0 ]
	[ "$(ls -A "$PUB")" = burst.json ]
	# and it is still listening
	profile after-burst >"$SRC/burst.json"
	swap
	wait_for_content "$PUB/burst.json" "$SRC/burst.json" 5
}

@test "the profiles folder deleted and recreated is picked up by the resync" {
	profile one >"$SRC/a.json"
	swap
	start_daemon --resync-interval 2s
	cmp "$SRC/a.json" "$PUB/a.json"
	id=$(file_id "$PUB/a.json")
	rm -rf "$P"
	wait_for_log 'cannot read profiles folder' 5
	# a missing folder removes nothing
	[ "$(file_id "$PUB/a.json")" = "$id" ]
	profile two >"$SRC/a.json"
	swap
	wait_for_content "$PUB/a.json" "$SRC/a.json" 5
	# and it is watched again: a change is seen well before the next resync
	profile three >"$SRC/a.json"
	swap
	wait_for_content "$PUB/a.json" "$SRC/a.json" 5
	kill -0 "$DAEMON_PID"
}

# Regression: after a profiles folder had been deleted and recreated twice,
# the daemon no longer watched it (libinotifytools hands back the stale
# watch descriptor), so changes waited for the periodic resync.
@test "the profiles folder deleted and recreated is watched again after SIGHUP, every time" {
	mkdir -p "$P"
	profile zero >"$P/a.json"
	start_daemon # default resync (10m): only inotify can see the changes
	for round in 1 2 3; do
		rm -rf "$P"
		wait_for_log 'cannot read profiles folder' 5 "$round"
		mkdir "$P"
		kill -HUP "$DAEMON_PID"
		wait_for_log 'SIGHUP: resync' 5 "$round"
		profile "round $round" >"$P/a.json"
		profile "round $round" >"$T/expected"
		wait_for_content "$PUB/a.json" "$T/expected" 3 || {
			echo "round $round: the recreated folder is not watched"
			false
		}
	done
}

@test "SIGHUP forces a resync that repairs a tampered published file" {
	need_fixtures
	cp "$FIXTURES/fine-grained.json" "$SRC/"
	swap
	start_daemon
	echo '{"defaultAction":"SCMP_ACT_ALLOW"}' >"$PUB/fine-grained.json"
	chmod 0666 "$PUB/fine-grained.json"
	pause 0.3
	# the kubelet folder is not watched for that: still tampered
	not cmp -s "$FIXTURES/fine-grained.json" "$PUB/fine-grained.json"
	kill -HUP "$DAEMON_PID"
	wait_for_content "$PUB/fine-grained.json" "$FIXTURES/fine-grained.json" 2
	[ "$(stat -c %a "$PUB/fine-grained.json")" = 644 ]
	wait_for_log "seccomp profile restored profile=fine-grained" 2
	# a deleted one too
	rm "$PUB/fine-grained.json"
	kill -HUP "$DAEMON_PID"
	wait_for_content "$PUB/fine-grained.json" "$FIXTURES/fine-grained.json" 2
	kill -0 "$DAEMON_PID"
}

@test "the periodic resync repairs a tampered published file on its own" {
	need_fixtures
	cp "$FIXTURES/audit.json" "$SRC/"
	swap
	start_daemon --resync-interval 1s
	echo 'garbage' >"$PUB/audit.json"
	wait_for_content "$PUB/audit.json" "$FIXTURES/audit.json" 4
	wait_for_log 'reconciled trigger=resync' 1
}

@test "a rejected profile is reported once, not at every resync" {
	echo '{"defaultAction":' >"$SRC/bad.json"
	swap
	start_daemon --resync-interval 1s
	wait_for_log 'profile rejected file=.*/bad.json' 2
	pause 2.5
	[ "$(count_log 'profile rejected')" -eq 1 ]
	kill -0 "$DAEMON_PID"
}

@test "a profiles folder missing at start is picked up once it appears" {
	NO_WAIT=1 start_daemon --resync-interval 1s
	wait_for_log ' ready' 5
	profile late >"$SRC/late.json"
	swap
	wait_for_content "$PUB/late.json" "$SRC/late.json" 4
}

@test "SIGTERM: exit 0 within 2 s" {
	need_fixtures
	cp "$FIXTURES"/*.json "$SRC/"
	swap
	start_daemon
	stop_daemon TERM
	echo "# SIGTERM: stop took $STOP_MS ms" >&3
	[ "$DAEMON_RC" -eq 0 ]
	[ "$STOP_MS" -lt 2000 ]
	grep -q 'stopping signal=Terminated' "$LOG"
	# it leaves the published profiles in place
	cmp "$FIXTURES/audit.json" "$PUB/audit.json"
	[ -z "$(find "$R" -name '.*')" ]
}

@test "SIGINT: exit 0 within 2 s" {
	profile x >"$SRC/x.json"
	swap
	start_daemon
	stop_daemon INT
	echo "# SIGINT: stop took $STOP_MS ms" >&3
	[ "$DAEMON_RC" -eq 0 ]
	[ "$STOP_MS" -lt 2000 ]
	grep -q 'stopping signal=Interrupt' "$LOG"
	cmp "$SRC/x.json" "$PUB/x.json"
}

@test "SIGTERM in the middle of a burst of changes: exit 0 within 2 s" {
	profile start >"$SRC/burst.json"
	swap
	start_daemon
	python3 "$PYHELP" burst "$P" 200 "$T/last.json" >/dev/null 3>&- &
	EXTRA_PIDS=$!
	wait_for_log 'reconciled trigger=change' 15
	stop_daemon TERM
	echo "# SIGTERM during a burst: stop took $STOP_MS ms" >&3
	[ "$DAEMON_RC" -eq 0 ]
	[ "$STOP_MS" -lt 2000 ]
	wait "$EXTRA_PIDS"
	EXTRA_PIDS=
}

@test "restart is idempotent: no 'published', files unchanged" {
	need_fixtures
	cp "$FIXTURES"/*.json "$SRC/"
	swap
	start_daemon
	[ "$(count_log 'profile published')" -eq 3 ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	before=$(for f in "$PUB"/* "$S/state.json"; do file_id "$f"; done)
	pause 0.05
	start_daemon
	[ "$(count_log 'published|restored')" -eq 0 ]
	[ "$(count_log 'removed')" -eq 0 ]
	# the labels are announced again (a fresh process)
	[ "$(count_log 'would set node label node=node-1 label=seccomp.profiled.io/')" -eq 3 ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	after=$(for f in "$PUB"/* "$S/state.json"; do file_id "$f"; done)
	[ "$before" = "$after" ]
}

@test "two daemons on one state folder: the second waits for the lock" {
	profile one >"$SRC/a.json"
	swap
	start_daemon
	first=$DAEMON_PID
	LOG2=$T/second.log
	"$PROFILED" run --profiles "$P" --seccomp-root "$R" --state-dir "$S" --node-name node-1 --metrics-addr "" \
		</dev/null >/dev/null 2>"$LOG2" 3>&- {PAUSE_FD}>&- &
	second=$!
	EXTRA_PIDS=$second
	wait_for_log 'waiting for the state lock' 5 1 "$LOG2"
	grep -q "holder_pid=$first" "$LOG2"
	# the first one is still in charge
	profile two >"$SRC/a.json"
	swap
	wait_for_content "$PUB/a.json" "$SRC/a.json" 5
	pause 0.3
	[ "$(count_log ' ready|published|reconciled|kernel support' "$LOG2")" -eq 0 ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	# now the second one takes over, with nothing to redo
	wait_for_log ' ready' 5 1 "$LOG2"
	[ "$(count_log 'published|restored|removed' "$LOG2")" -eq 0 ]
	[ "$(cat "$S/lock")" = "$second" ]
	profile three >"$SRC/a.json"
	swap
	wait_for_content "$PUB/a.json" "$SRC/a.json" 5
	kill -TERM "$second"
	rc=0
	wait "$second" || rc=$?
	EXTRA_PIDS=
	[ "$rc" -eq 0 ]
}

@test "swap-to-publish latency over 20 kubelet swaps (informational)" {
	profile init >"$SRC/lat.json"
	swap
	start_daemon
	run python3 "$PYHELP" latency "$P" "$PUB/lat.json" 20
	echo "# swap-to-publish latency: $output" >&3
	[ "$status" -eq 0 ] # every swap was published (the timing is not asserted)
}
