#!/usr/bin/env bats
# The kernel's limit on one filter (4096 BPF instructions), proved against
# the real consumer: podman + runc (test/consumer).  The boundary is found by
# bisection with `profiled check` on profiles of N argument conditions (about
# one instruction each); runc must run a container under the longest
# accepted profile and fail with the next one, which the agent rejects.
# Three cases: default SCMP_ACT_ALLOW (runc loads libseccomp's filter as it
# is), default SCMP_ACT_ERRNO (runc puts its -ENOSYS stub in front: 9
# instructions for x86_64 alone), and the same with the four architectures
# of the Kubernetes list (x86_64, x86, x32, aarch64: an 18-instruction stub),
# where K long entries (six 64-bit conditions each) come first and the
# bisection on N conditions fine-tunes the length.
# run.sh exits 77 with "SKIP: reason" when podman cannot run here; then the
# tests skip loudly, or fail when PROFILED_CONSUMER_REQUIRE=1.

bats_require_minimum_version 1.5.0
load helpers

RUN_SH=$REPO/test/consumer/run.sh
GEN=$REPO/test/tools/seccomp_gen.py
RUNC_LIST=$REPO/test/consumer/profiles/fine-grained-runc.json

# gen_case NAME N: writes $D/NAME-N.json (multi: K long entries from $D/K).
gen_case() {
	case $1 in
	allow) python3 "$GEN" conds "$2" ;;
	errno) python3 "$GEN" conds "$2" --base "$RUNC_LIST" --action SCMP_ACT_LOG \
		--arches SCMP_ARCH_X86_64 ;;
	multi) python3 "$GEN" wide "$(cat "$D/K")" "$2" --base "$RUNC_LIST" \
		--action SCMP_ACT_LOG ;;
	esac >"$D/$1-$2.json"
}

# bisect LO HI CMD...: the largest N in [LO, HI) for which `CMD N` succeeds
# (CMD LO must).
bisect() {
	local lo=$1 hi=$2 m
	shift 2
	"$@" "$lo" || return 1
	while [ $((hi - lo)) -gt 1 ]; do
		m=$(((lo + hi) / 2))
		if "$@" "$m"; then lo=$m; else hi=$m; fi
	done
	echo "$lo"
}

# accepts NAME N: profiled check accepts NAME-N.
accepts() {
	gen_case "$1" "$2"
	"$PROFILED" check "$D/$1-$2.json" >/dev/null 2>&1
}

# accepts_k K: profiled check accepts K long entries alone.
accepts_k() {
	echo "$1" >"$D/K"
	accepts multi 0
}

boundary() {
	case $1 in
	multi)
		bisect 100 600 accepts_k >"$D/K.ok" || return 1
		cp "$D/K.ok" "$D/K"
		bisect 0 300 accepts multi
		;;
	*) bisect 3000 4100 accepts "$1" ;;
	esac
}

setup_file() {
	local d=$BATS_FILE_TMPDIR name n rc
	export D=$d
	[ "$(uname -m)" = x86_64 ] || return 0
	for name in allow errno multi; do
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
	if [ "$name" = multi ]; then
		echo "# $name: accepted up to $(cat "$D/K.ok") long entries and $n conditions" >&3
	else
		echo "# $name: accepted up to $n conditions" >&3
	fi
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

@test "default ERRNO, four architectures: the same boundary with runc's 18-instruction stub" {
	check_case multi "the filter is 4097 BPF instructions with the 18 runc adds, the kernel's limit is 4096 (x86_64, x86, x32, aarch64)"
}
