#!/usr/bin/env bats
# Faults: the agent killed at random points, its output folder full or
# read-only, its state lost or corrupt, two agents on one node, an API
# server that misbehaves.  Each test asserts what is on disk, in the
# stand-in apparmorfs and on the stand-in API server afterwards.  Counts
# are printed as information (# lines).  `make faults-long` runs the kill
# loop 1000 times (FAULTS_KILL_ITERATIONS).

bats_require_minimum_version 1.5.0
load helpers

APISERVER=$REPO/test/apiserver/apiserver.py

setup() {
	common_setup
	API_PID=
	MNT=
}

teardown() {
	common_teardown
	[ -z "${API_PID:-}" ] || { kill "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null || true; }
	if [ -n "${MNT:-}" ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	fi
}

# state_names: the seccomp names state.json records, sorted, one a line,
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
	n=${FAULTS_KILL_ITERATIONS:-200}
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
