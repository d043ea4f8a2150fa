#!/usr/bin/env bats
# The health and metrics server under slow clients (slowloris): many
# connections from several addresses, each trickling one header line every
# 3 s, must not keep the kubelet's probes from being answered.

bats_require_minimum_version 1.5.0
load helpers

SLOW=$BATS_TEST_DIRNAME/slowclients.py

setup() {
	common_setup
	mkdir -p "$P"
	fixtures_into "$P"
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	METRICS_ADDR=127.0.0.1:$PORT
	URL=http://127.0.0.1:$PORT
}

teardown() {
	common_teardown
}

# slow_start N: N slow clients from 127.0.0.1 to 127.0.0.5 (the probes come
# from 127.0.0.1 too, as a node's own pods and its kubelet share its address).
slow_start() {
	python3 "$SLOW" 127.0.0.1 "$PORT" "$1" 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 \
		"$T/slow.ready" >"$T/slow.out" 2>&1 &
	SLOW_PID=$!
	EXTRA_PIDS="$EXTRA_PIDS $SLOW_PID"
	wait_until 10 test -f "$T/slow.ready"
}

slow_stop() {
	kill -TERM "$SLOW_PID"
	wait "$SLOW_PID" || true
	cat "$T/slow.out"
}

# probes N: N probes of /healthz, 0.5 s apart, each with the kubelet's 2 s
# timeout (the readiness probe's timeoutSeconds); "CODE SECONDS" lines in
# $T/probes.
probes() {
	: >"$T/probes"
	for _ in $(seq "$1"); do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 2 "$URL/healthz" \
			>>"$T/probes" || true
		pause 0.5
	done
}

# Figures, not assertions: the probe latency under the attack.
latency_figures() {
	sort -n -k2 "$T/probes" | awk '{ t[NR] = $2 } END {
		printf "# probe latency under %s slow clients: median %.1f ms, max %.1f ms (%d probes)\n",
			ENVIRON["N"], t[int((NR + 1) / 2)] * 1000, t[NR] * 1000, NR }' | tee -a /dev/fd/3
}

@test "40 slow clients from 5 addresses: every /healthz probe is answered (2 s timeout)" {
	start_daemon
	N=40 slow_start 40
	# the attack has filled the slots: wait one trickle period
	pause 3
	probes 20
	N=40 latency_figures
	slow_stop
	cat "$T/probes"
	[ "$(grep -c '^200 ' "$T/probes")" -eq 20 ]
	# the server closed the slow connections itself
	closed=$(curl -s --max-time 2 "$URL/metrics" | grep '^profiled_http_connections_closed_total')
	echo "$closed"
	[[ "$closed" =~ reason=\"limit\"\}\ [1-9] ]]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "200 slow clients (over libmicrohttpd's own limit of 128): every probe is answered" {
	start_daemon
	N=200 slow_start 200
	pause 3
	probes 10
	N=200 latency_figures
	slow_stop
	cat "$T/probes"
	[ "$(grep -c '^200 ' "$T/probes")" -eq 10 ]
	closed=$(curl -s --max-time 2 "$URL/metrics" | grep '^profiled_http_connections_closed_total')
	echo "$closed"
	[[ "$closed" =~ reason=\"limit\"\}\ [1-9] ]]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "a request that never ends is closed at the deadline (3 s from accept), even while it trickles" {
	start_daemon
	python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
t0 = time.monotonic()
s.settimeout(0.5)
while time.monotonic() - t0 < 15:
    try:
        if s.recv(4096) == b"":
            break
    except socket.timeout:
        try:
            s.sendall(b"X-Slow: 1\r\n")  # activity: an idle timeout would restart
        except OSError:
            break
    except OSError:
        break
else:
    sys.exit("still open after 15 s of trickling")
print(f"closed by the server after {time.monotonic() - t0:.1f} s")
PY
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "headers over the per-connection memory limit get an error, not a buffer" {
	start_daemon
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "X-Big: $(head -c 16384 /dev/zero | tr '\0' a)" "$URL/healthz" || true)
	echo "code $code"
	[[ "$code" == 4* ]] || [ "$code" = 000 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/healthz")" = 200 ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}
