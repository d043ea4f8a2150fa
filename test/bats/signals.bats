#!/usr/bin/env bats
# Signals from the first instruction on: main() blocks SIGTERM, SIGINT and
# SIGHUP before anything else, for every command, so a signal that comes
# while the process is still starting cannot kill it with the default
# action (exit 143 or 129).

bats_require_minimum_version 1.5.0
load helpers

WRAPPER=$BATS_TEST_DIRNAME/bin/parser-wrapper

setup() {
	common_setup
	mkdir -p "$P"
	fixtures_into "$P"
}

teardown() {
	if [ -f "$T/parser.log.slow-pid" ]; then
		kill -KILL "$(cat "$T/parser.log.slow-pid")" 2>/dev/null || true
	fi
	common_teardown
}

# early SIGS...: starts the daemon and sends each signal as soon as it has
# written its first log line (it is then in main, before the state folder,
# the AppArmor set-up and the event loop); prints its exit status.
early() {
	: >"$LOG"
	"$PROFILED" run --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --metrics-addr "" \
		</dev/null >/dev/null 2>"$LOG" 3>&- {PAUSE_FD}>&- &
	DAEMON_PID=$!
	until [ -s "$LOG" ]; do :; done
	t0=${EPOCHREALTIME/./}
	for sig in "$@"; do
		kill -"$sig" "$DAEMON_PID"
	done
	rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	echo "$rc $(((${EPOCHREALTIME/./} - t0) / 1000))"
}

@test "run: SIGTERM while starting, 20 times: exit 0 every time" {
	worst=0
	for i in $(seq 20); do
		read -r rc ms <<<"$(early TERM)"
		[ "$rc" -eq 0 ] || {
			echo "run $i: exit $rc"
			cat "$LOG"
			false
		}
		[ "$ms" -le "$worst" ] || worst=$ms
	done
	grep -q 'stopping' "$LOG"
	echo "# SIGTERM while starting: worst time from the signal to exit 0: $worst ms (20 runs)" >&3
}

@test "run: SIGHUP while starting is a resync, not a kill; SIGINT then stops it (exit 0)" {
	for i in $(seq 10); do
		read -r rc _ <<<"$(early HUP HUP INT)"
		[ "$rc" -eq 0 ] || {
			echo "run $i: exit $rc"
			cat "$LOG"
			false
		}
	done
}

@test "run: SIGHUP alone while starting: the daemon keeps running and serves" {
	: >"$LOG"
	NO_WAIT=1 start_daemon
	until [ -s "$LOG" ]; do :; done
	kill -HUP "$DAEMON_PID"
	wait_for_log ' ready' 5
	kill -0 "$DAEMON_PID"
	[ -n "$(ls -A "$PUB")" ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "run: SIGTERM while waiting for another agent's lock: exit 0, nothing changed" {
	start_daemon
	first=$DAEMON_PID
	: >"$T/second.log"
	"$PROFILED" run --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --metrics-addr "" \
		</dev/null >/dev/null 2>"$T/second.log" 3>&- {PAUSE_FD}>&- &
	second=$!
	EXTRA_PIDS=$second
	wait_for_log 'waiting for the state lock' 5 1 "$T/second.log"
	kill -TERM "$second"
	rc=0
	wait "$second" || rc=$?
	EXTRA_PIDS=
	cat "$T/second.log"
	[ "$rc" -eq 0 ]
	grep -q 'stopping while waiting for the state lock' "$T/second.log"
	kill -0 "$first"
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "run --once: SIGTERM during a long compile stops it: exit 1, not 143" {
	printf 'profile pd-slow { file, }\n' >"$P/slow"
	export PARSER_LOG=$T/parser.log PARSER_SLOW=1
	"$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --apparmorfs "$T" --apparmor-parser "$WRAPPER" \
		</dev/null >/dev/null 2>"$LOG" 3>&- {PAUSE_FD}>&- &
	DAEMON_PID=$!
	wait_until 10 test -s "$PARSER_LOG.slow-pid"
	stop_daemon TERM
	cat "$LOG"
	echo "exit $DAEMON_RC after ${STOP_MS} ms"
	[ "$DAEMON_RC" -eq 1 ]
	! kill -0 "$(cat "$PARSER_LOG.slow-pid")" 2>/dev/null
}

@test "check: SIGTERM during a long compile: exit 2, its temporary folder removed" {
	printf 'profile pd-slow { file, }\n' >"$T/slow"
	mkdir -p "$T/tmp"
	export PARSER_LOG=$T/parser.log PARSER_SLOW=1
	TMPDIR=$T/tmp "$PROFILED" check --apparmor-parser "$WRAPPER" "$T/slow" \
		>"$T/check.out" 2>"$T/check.err" 3>&- {PAUSE_FD}>&- &
	pid=$!
	EXTRA_PIDS=$pid
	wait_until 10 test -s "$PARSER_LOG.slow-pid"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	EXTRA_PIDS=
	cat "$T/check.err"
	echo "exit $rc"
	[ "$rc" -eq 2 ]
	grep -q 'stopped' "$T/check.err"
	[ -z "$(ls -A "$T/tmp")" ]
	! kill -0 "$(cat "$PARSER_LOG.slow-pid")" 2>/dev/null
}
