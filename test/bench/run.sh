#!/bin/bash
# make bench: runs every test/bench/bench-*.sh in name order and prints their
# figures (medians, spreads, ratios), with the machine and its load before
# and after each.  Benchmarks never fail on timing; this exits non-zero only
# when one of them failed to do what it times.  BENCH_ONLY=PATTERN runs the
# scripts whose name contains PATTERN.  Knobs: see docs/performance.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
echo "profiled benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	"kernel $(uname -r), $(apparmor_parser --version 2>/dev/null | head -1 || echo 'no AppArmor parser')"
echo "profiled: $(git -C "$here" describe --tags --always --dirty 2>/dev/null || echo unknown)"
failed=0 ran=0 skipped=0
for s in "$here"/bench-*.sh; do
	name=${s##*/}
	case $name in *"${BENCH_ONLY:-}"*) ;; *) continue ;; esac
	echo
	echo "=== $name   (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
	t0=${EPOCHREALTIME/./}
	bash "$s"
	rc=$?
	secs=$(((${EPOCHREALTIME/./} - t0) / 1000000))
	case $rc in
	0) ran=$((ran + 1)) ;;
	77) skipped=$((skipped + 1)); echo "--- $name skipped" ;;
	*) failed=$((failed + 1)); echo "--- $name FAILED (exit $rc)" ;;
	esac
	echo "--- $name: ${secs}s   (load after: $(cut -d' ' -f1-3 /proc/loadavg))"
done
echo
echo "benchmarks: $ran ran, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
