#!/usr/bin/env bats
# Seccomp profiles that are costly to validate or that a runtime would
# refuse: bounds naming the JSON path, the kernel's filter length, rules
# runc refuses, and SIGTERM during a long validation.  The real runc
# consumer of the length boundary is test/bats/consumer-limits.bats.

bats_require_minimum_version 1.5.0
load helpers

GEN=$REPO/test/tools/seccomp_gen.py

setup() {
	common_setup
	mkdir -p "$P"
}

teardown() {
	common_teardown
}

@test "check: a filter over the kernel's 4096 instructions is refused with its length" {
	# 200 entries of 14 syscalls with six conditions each: 2,800 rules,
	# within the bounds, about 4,400 BPF instructions.
	python3 "$GEN" chains 200 >"$T/long.json"
	python3 "$GEN" chains 40 >"$T/short.json"
	run "$PROFILED" check "$T/long.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" =~ "long.json: error: without capabilities: the filter is "[0-9]+" BPF instructions, the kernel's limit is 4096 (" ]]
	run "$PROFILED" check "$T/short.json"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "check: 32,000 copies of a name and 5,000 entries are refused at once, naming the path" {
	python3 "$GEN" dupnames 32000 >"$T/names.json"
	python3 "$GEN" duprules 5000 >"$T/rules.json"
	run "$PROFILED" check "$T/names.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'names.json: error: `syscalls[0].names` has 32000 entries, over the limit of 4096'* ]]
	run "$PROFILED" check "$T/rules.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'rules.json: error: `syscalls` has 5000 entries, over the limit of 4096'* ]]
	# 4,096 copies are within the bound, and merged into one rule.
	python3 "$GEN" dupnames 4096 >"$T/ok.json"
	run "$PROFILED" check "$T/ok.json"
	[ "$status" -eq 0 ]
}

@test "check: one syscall and its arguments with two actions is refused, as runc refuses it" {
	python3 "$GEN" conflict >"$T/conflict.json"
	run "$PROFILED" check "$T/conflict.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'`syscalls[1]`: syscall "personality" has the same arguments as in `syscalls[0]` but another action; libseccomp refuses that, and so does runc'* ]]
}

@test "check: 4,000 unknown names give 32 findings and a count, not 4,000 lines" {
	python3 "$GEN" unknown 4000 >"$T/unknown.json"
	run "$PROFILED" check "$T/unknown.json"
	echo "${lines[@]:0:3}"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'warning: unknown syscall' <<<"$output")" -eq 32 ]
	[[ "$output" == *"warning: 3968 more findings not listed"* ]]
}

@test "run --once: a filter the kernel would refuse is neither published nor labeled" {
	python3 "$GEN" chains 200 >"$P/long.json"
	cp "$FIXTURES/fine-grained.json" "$P/good.json"
	run_once
	echo "$output"
	[ "$status" -eq 1 ] # 1: a profile was rejected
	[ -f "$PUB/good.json" ]
	[ ! -e "$PUB/long.json" ]
	[[ "$output" == *'seccomp profile rejected'*'long.json'*"BPF instructions, the kernel's limit is 4096"* ]]
	[[ "$output" == *'seccomp.profiled.io/good'* ]]
	[[ "$output" != *'seccomp.profiled.io/long'* ]]
	grep -q '"good.json"' "$S/state.json"
	! grep -q '"long.json"' "$S/state.json"
}

@test "SIGTERM during a long validation stops the reconcile at once: nothing removed, nothing misreported" {
	# A published profile whose name sorts after the slow ones: a reconcile
	# stopped part-way must not take it for removed.
	cp "$FIXTURES/fine-grained.json" "$P/zz-keep.json"
	run_once
	[ "$status" -eq 0 ]
	[ -f "$PUB/zz-keep.json" ]
	# 16 profiles at the bounds (4,067 conditions, 4,096 instructions):
	# seconds of validation in all.
	python3 "$GEN" conds 4067 --tag 00 >"$T/slow.json"
	for i in $(seq -w 1 16); do
		sed "s/\"comment\":\"00\"/\"comment\":\"$i\"/" "$T/slow.json" >"$P/slow-$i.json"
	done
	NO_WAIT=1 start_daemon
	wait_for_log ' kernel support ' 10
	pause 0.4
	stop_daemon TERM
	echo "# SIGTERM to exit during validation: ${STOP_MS} ms" >&3
	cat "$LOG"
	[ "$DAEMON_RC" -eq 0 ]
	grep -q 'reconcile stopped: shutting down' "$LOG"
	! grep -q 'seccomp profile rejected' "$LOG"
	! grep -q 'profile removed' "$LOG"
	! grep -qE ' info +ready' "$LOG"
	[ -f "$PUB/zz-keep.json" ]
	grep -q '"zz-keep.json"' "$S/state.json"
}
