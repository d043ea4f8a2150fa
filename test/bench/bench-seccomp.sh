#!/bin/bash
# Validation cost of hostile seccomp profiles (all under 1 MiB) and how long
# SIGTERM takes to stop the daemon in the middle of validating them.
#
# Part 1: `profiled check` on each shape (test/tools/seccomp_gen.py), the
# median of BENCH_SECCOMP_RUNS runs (default 3): wall and CPU (user+sys)
# milliseconds, the size and the verdict.  The worst CPU figure is printed
# last: on a loaded node the wall time stretches, the CPU time does not.
#
# Part 2: a folder of 16 profiles of the costliest shape (distinct bytes, so
# each is validated); the daemon starts, SIGTERM comes DELAY after its
# "kernel support" line, for several delays; prints the time from the
# signal to the exit.  Then the same with 2,000 small profiles (the publish
# phase: an fsync per file).  The figures are printed, never judged.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_profiled
GEN=$REPO/test/tools/seccomp_gen.py
RUNS=${BENCH_SECCOMP_RUNS:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

shapes=(
	"conds 4067"
	"packed 4067"
	"conds 1365 --arches SCMP_ARCH_X86_64,SCMP_ARCH_X86,SCMP_ARCH_X32"
	"chains 73 --arches SCMP_ARCH_X86_64,SCMP_ARCH_X86,SCMP_ARCH_X32,SCMP_ARCH_AARCH64"
	"chains 292"
	"conds 4100"
	"dupnames 128000"
	"duprules 4096"
	"unknown 4096"
)

echo "profiled check, median of $RUNS runs (ms); CPU = user + sys"
printf '%-80s %9s %7s %7s  %s\n' shape bytes wall cpu verdict
worst_cpu=0 worst=
for s in "${shapes[@]}"; do
	# shellcheck disable=SC2086
	python3 "$GEN" $s >"$W/p.json" || exit 1
	walls=() cpus=()
	for _ in $(seq "$RUNS"); do
		t0=$(now_ms)
		/usr/bin/time -f '%U %S' -o "$W/time" "$PROFILED" check "$W/p.json" >"$W/out" 2>&1
		t1=$(now_ms)
		walls+=($((t1 - t0)))
		cpus+=("$(tail -n1 "$W/time" | awk '{ printf "%d", ($1 + $2) * 1000 }')")
	done
	wall=$(printf '%s\n' "${walls[@]}" | median)
	cpu=$(printf '%s\n' "${cpus[@]}" | median)
	verdict=$(sed -n '$p' "$W/out" | sed 's/^[^:]*: //' | cut -c1-110)
	printf '%-80s %9d %7s %7s  %s\n' "$s" "$(stat -c %s "$W/p.json")" "$wall" "$cpu" "$verdict"
	if awk -v a="$cpu" -v b="$worst_cpu" 'BEGIN { exit !(a > b) }'; then
		worst_cpu=$cpu worst=$s
	fi
done
echo "worst: $worst: ${worst_cpu} ms CPU"

# sigterm_latency DIR DELAY: prints the ms from SIGTERM to the exit.
sigterm_latency() {
	local dir=$1 delay=$2 pid t0 t1 rc=0
	rm -rf "$W/root" "$W/state"
	"$PROFILED" run --profiles "$dir" --seccomp-root "$W/root" --state-dir "$W/state" \
		--node-name bench --metrics-addr "" 2>"$W/log" &
	pid=$!
	until grep -q ' kernel support ' "$W/log" 2>/dev/null; do sleep 0.01; done
	sleep "$delay"
	t0=$(now_ms)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	t1=$(now_ms)
	local phase=finished
	grep -q 'reconcile stopped' "$W/log" && phase=stopped
	grep -qE ' info +ready' "$W/log" && phase="after the reconcile"
	echo "  delay ${delay}s: $((t1 - t0)) ms (exit $rc, $phase)"
}

echo
echo "SIGTERM while validating 16 profiles of shape 'conds 4067':"
mkdir -p "$W/slow"
python3 "$GEN" conds 4067 --tag 00 >"$W/slow.json"
for i in $(seq -w 1 16); do
	sed "s/\"comment\":\"00\"/\"comment\":\"$i\"/" "$W/slow.json" >"$W/slow/p$i.json"
done
for d in 0.05 0.3 0.8 1.5 3; do sigterm_latency "$W/slow" $d; done

echo
echo "SIGTERM while publishing 2,000 small profiles:"
mkdir -p "$W/many"
for i in $(seq -w 1 2000); do
	printf '{"defaultAction":"SCMP_ACT_ALLOW","comment":"%s"}\n' "$i" >"$W/many/p$i.json"
done
for d in 0.2 0.6 1.2; do sigterm_latency "$W/many" $d; done
