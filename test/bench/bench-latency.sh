#!/bin/bash
# Reaction latency of the running daemon to a kubelet-style `..data` swap
# (test/bench/latency.py: the kubelet's AtomicWriter, inotify on the result):
#   seccomp   swap -> file published in the kubelet's seccomp folder
#   apparmor  swap -> compiled policy written to the apparmorfs stand-in's
#             .replace; the parser alone on the same file is timed after
#             each swap, so the agent's own overhead is the difference
# and, side by side, a loader polling every 30 s (computed, not measured).
#
# Knobs: BENCH_SWAPS_SECCOMP (default 300), BENCH_SWAPS_APPARMOR (default 200).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_profiled

work=$(mktemp -d "${TMPDIR:-/tmp}/profiled-bench-lat.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "seccomp: ${BENCH_SWAPS_SECCOMP:-300} swaps (load $(loadavg))"
mkdir -p "$work/s"
python3 "$BENCH_DIR/latency.py" seccomp "$PROFILED" "$work/s" "${BENCH_SWAPS_SECCOMP:-300}"

if command -v "$PARSER" >/dev/null && [ -e "$FEATURES" ]; then
	echo "apparmor: ${BENCH_SWAPS_APPARMOR:-200} swaps (load $(loadavg))"
	mkdir -p "$work/a"
	python3 "$BENCH_DIR/latency.py" apparmor "$PROFILED" "$work/a" \
		"${BENCH_SWAPS_APPARMOR:-200}" "$(command -v "$PARSER")" "$FEATURES"
else
	echo "apparmor: SKIPPED ($PARSER or $FEATURES missing)"
fi

# A loader polling every T seconds sees a change after a delay uniform on
# [0, T): mean and median T/2, p99 0.99 T, plus its own compile time.
awk 'BEGIN {
	T = 30
	printf "30 s polling loader (computed: delay uniform on [0, 30 s)): median %.1f s  mean %.1f s  p99 %.1f s\n", T / 2, T / 2, 0.99 * T
}'
