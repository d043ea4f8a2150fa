# Helpers for test/bench/bench-*.sh (sourced).  Benchmarks print figures and
# never fail on timing; they fail only when what they time fails.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
PROFILED=${PROFILED:-$REPO/build/profiled}
PARSER=${APPARMOR_PARSER:-apparmor_parser}
FEATURES=${BENCH_FEATURES:-/usr/share/apparmor-features/features}

# now_ms: wall clock in milliseconds (no fork).
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# stats: numbers on stdin -> "median M  p10 A  p90 B  min X  max Y  (n=N)"
# (nearest-rank percentiles; with few runs p10/p90 are min/max).
stats() {
	sort -n | awk '{ a[NR] = $1 }
	END {
		if (NR == 0) { print "no samples"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		p10 = a[int((NR * 10 + 99) / 100)]; p90 = a[int((NR * 90 + 99) / 100)]
		printf "median %g ms  p10 %g  p90 %g  min %g  max %g  (n=%d)\n", m, p10, p90, a[1], a[NR], NR
	}'
}

# median: numbers on stdin -> the median alone.
median() {
	sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ratio A B: "A/B" with one decimal.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }'; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

need_parser() {
	command -v "$PARSER" >/dev/null || { echo "SKIP: $PARSER not installed (make deps)"; exit 77; }
	[ -e "$FEATURES" ] || { echo "SKIP: $FEATURES missing (apt-get install apparmor)"; exit 77; }
}

need_profiled() {
	[ -x "$PROFILED" ] || { echo "FAIL: $PROFILED missing (make)"; exit 1; }
}

# new_fs DIR: an empty apparmorfs stand-in (see test/bats/apparmor.bats).
new_fs() {
	rm -rf "$1"
	mkdir -p "$1"
	: >"$1/.load"
	: >"$1/.replace"
	: >"$1/.remove"
	: >"$1/profiles"
}
