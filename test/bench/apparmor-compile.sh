#!/bin/bash
# Benchmark: compiling N AppArmor files in one batched parser run (what
# profiled does: --jobs = online CPUs) against one parser process per file
# (the baseline).  Prints medians of RUNS runs and the ratio.  Never fails on
# timing; it fails only when a compile fails.
#
#   test/bench/apparmor-compile.sh [N_FILES] [RUNS]
set -euo pipefail
N=${1:-12}
RUNS=${2:-5}
PARSER=${APPARMOR_PARSER:-apparmor_parser}
FEATURES=/usr/share/apparmor-features/features
command -v "$PARSER" >/dev/null || { echo "SKIP: $PARSER not installed (make deps)"; exit 77; }
[ -e "$FEATURES" ] || { echo "SKIP: $FEATURES missing (apt-get install apparmor)"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/profiled-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/fs"
: >"$work/fs/.load"; : >"$work/fs/.replace"; : >"$work/fs/.remove"

# A realistic mix: the Kubernetes tutorial's profile (tunables + base
# abstraction) and heavier ones pulling in more abstractions.
for i in $(seq 1 "$N"); do
	case $((i % 3)) in
	0) extra='#include <abstractions/nameservice>
  #include <abstractions/openssl>' ;;
	1) extra='#include <abstractions/user-tmp>' ;;
	*) extra='' ;;
	esac
	cat >"$work/src/p$i" <<P
#include <tunables/global>
profile bench-$i flags=(attach_disconnected) {
  #include <abstractions/base>
  $extra
  file,
  network inet stream,
  deny /** w,
  deny /proc/sys/** rw,
}
P
done

args=(--subdomainfs "$work/fs" --features-file "$FEATURES" --skip-kernel-load
	--skip-read-cache --write-cache --cache-loc "$work/cache")
ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

batched=() single=()
for r in $(seq 1 "$RUNS"); do
	rm -rf "$work/cache"
	t0=$(ms)
	"$PARSER" "${args[@]}" --jobs "$(nproc)" "$work"/src/p* 2>/dev/null
	batched+=($(($(ms) - t0)))
	rm -rf "$work/cache"
	t0=$(ms)
	for f in "$work"/src/p*; do
		"$PARSER" "${args[@]}" "$f" 2>/dev/null
	done
	single+=($(($(ms) - t0)))
done
b=$(printf '%s\n' "${batched[@]}" | median)
s=$(printf '%s\n' "${single[@]}" | median)
echo "apparmor compile, $N files, $(nproc) CPUs, median of $RUNS runs:"
echo "  one batched parser run (profiled):   ${b} ms   runs: ${batched[*]}"
echo "  one parser process per file (base):  ${s} ms   runs: ${single[*]}"
awk -v b="$b" -v s="$s" 'BEGIN { printf "  ratio batched/per-file: %.2f (%.1fx faster)\n", b / s, s / b }'
