#!/usr/bin/env bats
# /healthz, /readyz and /metrics on --metrics-addr, with real HTTP requests.

bats_require_minimum_version 1.5.0
load helpers

WRAPPER=$BATS_TEST_DIRNAME/bin/parser-wrapper

setup() {
	common_setup
	mkdir -p "$P"
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	METRICS_ADDR=127.0.0.1:$PORT
	URL=http://127.0.0.1:$PORT
	export PARSER_LOG=$T/parser.log
}

teardown() {
	if [ -f "$PARSER_LOG.slow-pid" ]; then
		kill -KILL "$(cat "$PARSER_LOG.slow-pid")" 2>/dev/null || true
	fi
	common_teardown
}

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# metric NAME{LABELS}: its value
metric() {
	curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

@test "/healthz and /readyz answer 200 once the first reconcile is done; others 404/405" {
	fixtures_into "$P"
	start_daemon
	[ "$(code "$URL/healthz")" = 200 ]
	[ "$(curl -s "$URL/healthz")" = ok ]
	[ "$(code "$URL/readyz")" = 200 ]
	[ "$(code "$URL/nope")" = 404 ]
	[ "$(code -X POST "$URL/metrics")" = 405 ]
	grep -q "serving /healthz, /readyz and /metrics addr=$METRICS_ADDR" "$LOG"
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	# and the port is closed with it
	[ "$(code "$URL/healthz")" = 000 ]
}

@test "a slow compile does not hold the first reconcile: /readyz and /healthz answer 200 while it runs" {
	printf 'profile pd-slow { file, }\n' >"$P/slow"
	PARSER_SLOW=1 NO_WAIT=1 start_daemon --apparmorfs "$T" --apparmor-parser "$WRAPPER"
	wait_until 10 test -s "$PARSER_LOG.slow-pid"
	wait_until 5 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $URL/readyz)\" = 200 ]"
	[ "$(code "$URL/healthz")" = 200 ]
	[ "$(metric profiled_ready)" = 1 ]
	kill -0 "$(cat "$PARSER_LOG.slow-pid")" # the compile still runs
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "/metrics: Prometheus text with profiles by kind and state, failures, durations, build info" {
	fixtures_into "$P"
	printf '{"defaultAction": "SCMP_ACT_BOGUS"}' >"$P/bad.json"
	start_daemon
	curl -s -D "$T/headers" "$URL/metrics" >"$T/metrics"
	cat "$T/metrics"
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/headers"
	[ "$(metric 'profiled_profiles{kind="seccomp",state="published"}')" = 3 ]
	[ "$(metric 'profiled_profiles{kind="seccomp",state="rejected"}')" = 1 ]
	[ "$(metric 'profiled_validation_failures_total{kind="seccomp"}')" = 1 ]
	[ "$(metric profiled_ready)" = 1 ]
	[ "$(metric profiled_reconcile_duration_seconds_count)" -ge 1 ]
	grep -q '^profiled_build_info{version="[^"]*"} 1$' "$T/metrics"
	grep -q '^profiled_reconcile_duration_seconds_bucket{le="+Inf"} ' "$T/metrics"
	ts=$(metric profiled_last_successful_reconcile_timestamp_seconds)
	python3 -c 'import sys, time; assert abs(time.time() - float(sys.argv[1])) < 60' "$ts"
	# every sample line is NAME{...} VALUE or NAME VALUE; HELP/TYPE before each family
	not grep -vE '^(# (HELP|TYPE) profiled_[a-z_]+ .*|profiled_[a-z_]+(\{[^}]*\})? [0-9.e+-]+)$' "$T/metrics"
	# fixed: the gauge follows, the counter keeps its count
	seccomp_json SCMP_ACT_ALLOW >"$P/bad.json"
	wait_for_log 'seccomp profile published profile=bad' 5
	[ "$(metric 'profiled_profiles{kind="seccomp",state="published"}')" = 4 ]
	[ "$(metric 'profiled_profiles{kind="seccomp",state="rejected"}')" = 0 ]
	[ "$(metric 'profiled_validation_failures_total{kind="seccomp"}')" = 1 ]
	stop_daemon
}

@test "--metrics-addr: \"\" turns it off; a bad or busy address is a configuration error (exit 2)" {
	fixtures_into "$P"
	METRICS_ADDR= start_daemon
	not grep -q 'serving /healthz' "$LOG"
	stop_daemon
	run "$PROFILED" run --profiles "$P" --seccomp-root "$R" --state-dir "$S" --node-name n \
		--metrics-addr nonsense
	[ "$status" -eq 2 ]
	grep -q 'want HOST:PORT' <<<"$output"
	# The holder says when it listens; `timeout` turns a daemon that got the
	# port anyway into a failure instead of a hang.
	python3 -c 'import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); open(sys.argv[2],"w").close(); time.sleep(30)' "$PORT" "$BATS_TEST_TMPDIR/holding" &
	EXTRA_PIDS=$!
	wait_until 10 test -e "$BATS_TEST_TMPDIR/holding"
	run timeout 20 "$PROFILED" run --profiles "$P" --seccomp-root "$R" --state-dir "$S" --node-name n \
		--metrics-addr "$METRICS_ADDR"
	[ "$status" -eq 2 ]
	grep -q 'cannot serve health and metrics' <<<"$output"
}
