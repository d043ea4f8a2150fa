#!/usr/bin/env bats
# Start-up: every numeric flag is range-checked before any arithmetic, and
# every start-up error path ends with exit 2, a message, and nothing leaked.
# Under `make asan` this file runs against the ASan+UBSan build with
# LeakSanitizer on: a leak or an overflow changes the exit status (and prints
# a report), so these tests fail on it.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	mkdir -p "$P"
}

teardown() {
	common_teardown
}

# start_error ARGS...: exit 2, a message naming the problem on stderr, no
# sanitizer report.
start_error() {
	run --separate-stderr timeout 20 "$PROFILED" "$@"
	echo "args: ${*:1:14}"
	echo "status: $status"
	echo "stderr: ${stderr:0:2000}"
	[ "$status" -eq 2 ]
	[[ "$stderr" != *Sanitizer* ]]
	[[ "$stderr" != *"runtime error"* ]]
}

run_flags() {
	echo --profiles "$P" --seccomp-root "$R" --state-dir "$S" --node-name node-1
}

@test "durations: overflowing, out of range and malformed values are exit 2 (all duration flags)" {
	huge=$(printf '2147483647h%.0s' $(seq 1300))
	for v in "$huge" 169h 168h1ms 167h59m61s 2147483647h 9223372036854775807ms \
		99999999999999999999s 000000000000000000000000001s -1s +1s " 1s" "1s " 0x10 1e3; do
		start_error run --once $(run_flags) --resync-interval "$v"
		[[ "$stderr" == *"--resync-interval"*"from 1s to 168h"* ]]
		start_error run --once $(run_flags) --unload-retry-interval "$v"
		[[ "$stderr" == *"--unload-retry-interval"* ]]
		start_error advise --duration "$v" /dev/null
		[[ "$stderr" == *"--duration"* ]]
	done
}

@test "durations: the bounds are accepted (1s and 168h, 167h59m60s)" {
	for v in 1s 168h 167h59m60s 1h1h1h; do
		run --separate-stderr "$PROFILED" run --once $(run_flags) --resync-interval "$v" \
			--unload-retry-interval "$v"
		echo "$v: $status $stderr"
		[ "$status" -eq 0 ]
	done
}

@test "--pid: only 1 to 2147483647, digits only" {
	for v in 0 2147483648 4294967297 99999999999999999999 -1 +5 " 5" 5x 0x10; do
		start_error advise --pid "$v" /dev/null
		[[ "$stderr" == *'--pid "'* ]]
	done
	run --separate-stderr "$PROFILED" advise --pid 2147483647 /dev/null
	# a valid filter on an empty log: nothing matched
	[ "$status" -eq 1 ]
}

@test "--metrics-addr: a port over 65535, signed or spaced is exit 2, not served" {
	free=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	for v in 127.0.0.1:65536 127.0.0.1:99999999999999999999 "127.0.0.1:+$free" \
		"127.0.0.1: $free" "127.0.0.1:-1" 127.0.0.1: :0x10; do
		start_error run $(run_flags) --metrics-addr "$v"
		[[ "$stderr" == *"want HOST:PORT"* ]]
	done
}

@test "start-up errors exit 2 without leaks: kubeconfig, state folder, seccomp root, metrics port, flags" {
	printf 'garbage: [\n' >"$T/broken.kubeconfig"
	printf 'apiVersion: v1\nkind: Config\nclusters: []\n' >"$T/no-context.kubeconfig"
	for kc in "$T/missing.kubeconfig" "$T/broken.kubeconfig" "$T/no-context.kubeconfig"; do
		start_error run --once $(run_flags) --kubeconfig "$kc"
		[[ "$stderr" == *kubeconfig* ]]
	done
	: >"$T/file"
	start_error run --once $(run_flags) --state-dir "$T/file/state"
	[[ "$stderr" == *"state folder"* ]]
	start_error run --once $(run_flags) --seccomp-root "$T/file/root"
	# the metrics port already taken
	exec {busy}< <(exec python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)')
	EXTRA_PIDS=$!
	read -r port <&$busy
	start_error run $(run_flags) --metrics-addr "127.0.0.1:$port"
	[[ "$stderr" == *"cannot serve health and metrics"* ]]
	exec {busy}<&-
	# flag errors after flags that allocate
	start_error run --profiles a --profiles b --remove-taint k:NoSchedule --bogus
	start_error run --remove-taint a:NoSchedule --remove-taint "b:Nope"
	start_error advise --pid 1 --comm a --comm b --bogus /dev/null
	start_error advise --pid 1 --comm a "$T/missing.log"
	start_error advise --cgroup "$T/missing-cgroup" /dev/null
	start_error check --bogus x
}
