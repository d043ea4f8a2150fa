#!/usr/bin/env bats
# The kernel's limit on one filter (4096 BPF instructions), proved against
# the real consumer: podman + runc (test/consumer).  The boundary is found by
# bisection with `profiled check` on profiles of N argument conditions (about
# one instruction each); runc must run a container under the longest
# accepted profile and fail with the next one, which the agent rejects.
# Two cases: default SCMP_ACT_ALLOW (runc loads libseccomp's filter as it
# is) and default SCMP_ACT_ERRNO (runc puts its -ENOSYS stub in front).
# run.sh exits 77 with "SKIP: reason" when podman cannot run here; then the
# tests skip loudly, or fail when PROFILED_CONSUMER_REQUIRE=1.

bats_require_minimum_version 1.5.0
load helpers

RUN_SH=$REPO/test/consumer/run.sh
GEN=$REPO/test/tools/seccomp_gen.py
RUNC_LIST=$REPO/test/consumer/profiles/fine-grained-runc.json

# gen_case NAME N: writes $D/NAME-N.json.
gen_case() {
	case $1 in
	allow) python3 "$GEN" conds "$2" ;;
	errno) python3 "$GEN" conds "$2" --base "$RUNC_LIST" --action SCMP_ACT_LOG \
		--arches SCMP_ARCH_X86_64 ;;
	esac >"$D/$1-$2.json"
}

# boundary NAME: the largest N `profiled check` accepts, by bisection.
boundary() {
	local lo=3000 hi=4100 m
	gen_case "$1" $lo
	"$PROFILED" check "$D/$1-$lo.json" >/dev/null || return 1
	while [ $((hi - lo)) -gt 1 ]; do
		m=$(((lo + hi) / 2))
		gen_case "$1" $m
		if "$PROFILED" check "$D/$1-$m.json" >/dev/null 2>&1; then lo=$m; else hi=$m; fi
	done
	echo $lo
}

setup_file() {
	local d=$BATS_FILE_TMPDIR name n rc
	export D=$d
	[ "$(uname -m)" = x86_64 ] || return 0
	for name in allow errno; do
		n=$(boundary $name) || return 1
		echo "$n" >"$d/$name.n"
		gen_case $name "$n"
		gen_case $name $((n + 1))
		mkdir -p "$d/$name/profiles"
		cp "$d/$name-$n.json" "$d/$name/profiles/under.json"
		cp "$d/$name-$((n + 1)).json" "$d/$name/profiles/over.json"
		rc=0
		"$PROFILED" run --once --profiles "$d/$name/profiles" --seccomp-root "$d/$name/root" \
			--state-dir "$d/$name/state" --node-name node-1 >"$d/$name/once.log" 2>&1 || rc=$?
		echo $rc >"$d/$name/once.rc"
	done
}

setup() {
	[ "$(uname -m)" = x86_64 ] || skip "the cases are written for x86_64"
}

# consumer ARGS...: run.sh under bats' `run`; a SKIP (77) skips the test, or
# fails it when PROFILED_CONSUMER_REQUIRE=1.
consumer() {
	run "$RUN_SH" "$@"
	echo "run.sh $* -> exit $status: $output"
	if [ "$status" -eq 77 ]; then
		if [ "${PROFILED_CONSUMER_REQUIRE:-0}" = 1 ]; then
			return 1
		fi
		skip "$(grep -m1 '^SKIP: ' <<<"$output" || printf '%s' "$output")"
	fi
}

# check_case NAME WANT_MSG: the agent published the profile at the boundary
# and rejected the next one; runc runs the first and refuses the second.
check_case() {
	local name=$1 want=$2 n pub
	n=$(cat "$D/$name.n")
	pub=$D/$name/root/profiled
	cat "$D/$name/once.log"
	echo "# $name: accepted up to $n conditions" >&3
	[ "$(cat "$D/$name/once.rc")" -eq 1 ] # one profile rejected
	cmp "$D/$name/profiles/under.json" "$pub/under.json"
	[ ! -e "$pub/over.json" ]
	grep -F "$want" "$D/$name/once.log"
	grep -F 'over.json' "$D/$name/once.log" | grep -q 'seccomp profile rejected'

	consumer "$pub/under.json" -- hello
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = hello ]
	consumer "$D/$name/profiles/over.json" -- hello
	[ "$status" -eq 126 ]
	[[ "$output" == *"error loading seccomp filter: invalid argument"* ]]
}

@test "default ALLOW: runc runs the longest filter profiled accepts and fails one instruction over" {
	check_case allow "the filter is 4097 BPF instructions, the kernel's limit is 4096 (x86_64)"
}

@test "default ERRNO: the same boundary with the 9 instructions runc adds in front" {
	check_case errno "the filter is 4097 BPF instructions with the 9 runc adds, the kernel's limit is 4096 (x86_64)"
}
