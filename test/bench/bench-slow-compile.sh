#!/bin/bash
# A slow AppArmor compile (a profile whose automaton explodes, next to a
# normal one), with the real parser and the apparmorfs stand-in:
#  - the parser alone on normal profiles and on the slow one, growing;
#  - SIGTERM at points spread over the batch and the file-by-file runs:
#    how long the agent takes to exit, and whether any parser process is
#    left (there must be none);
#  - seccomp files added while the parser is busy: from the rename into
#    the folder to the file in the seccomp folder.
# Knobs: BENCH_SLOW_STOPS (SIGTERM rounds, 10), BENCH_SLOW_PUBLISHES (20).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_parser

W=$(mktemp -d "${TMPDIR:-/tmp}/bench-slow.XXXXXX")
trap 'for p in $(left); do kill -KILL "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
q=$(printf '?%.0s' $(seq 18))

# left: pids of live processes naming this run's cache (parser, workers).
left() { grep -las -- "$W/s/apparmor-cach[e]" /proc/[0-9]*/cmdline 2>/dev/null | sed 's|/proc/\([0-9]*\)/.*|\1|'; }

setup() {
	rm -rf "$W/p" "$W/fs" "$W/r" "$W/s"
	mkdir -p "$W/p" "$W/fs" "$W/r"
	: >"$W/fs/.load"
	: >"$W/fs/.replace"
	: >"$W/fs/.remove"
	: >"$W/fs/profiles"
	printf 'profile pd-slow {\n  /**a%s r,\n  /**b%s w,\n  /**c%s rw,\n}\n' "$q" "$q" "$q" >"$W/p/slow"
	printf 'profile pd-ok {\n  file,\n}\n' >"$W/p/ok"
}

start() { # [flags]
	: >"$W/log"
	"$PROFILED" run --profiles "$W/p" --seccomp-root "$W/r" --state-dir "$W/s" --node-name n \
		--metrics-addr "" --apparmorfs "$W/fs" "$@" 2>"$W/log" &
	pid=$!
	until grep -q 'apparmor compile started' "$W/log"; do
		kill -0 "$pid" || { cat "$W/log"; exit 1; }
		read -r -t 0.01 <> <(:) || true
	done
}

echo "parser alone, one file, --jobs 1:"
mkdir -p "$W/pfs" "$W/pc"
: >"$W/pfs/.load"
: >"$W/pfs/.replace"
: >"$W/pfs/.remove"
for n in 12 14 15 16; do
	qq=$(printf '?%.0s' $(seq "$n"))
	printf 'profile pd-x {\n  /**a%s r,\n}\n' "$qq" >"$W/x$n"
	t0=$(now_ms)
	"$PARSER" --subdomainfs "$W/pfs" --features-file "$FEATURES" --skip-kernel-load \
		--skip-read-cache --write-cache --cache-loc "$W/pc" --jobs 1 "$W/x$n" >/dev/null 2>&1
	echo "  /**a + $n x ?: $(($(now_ms) - t0)) ms"
done
printf 'profile pd-ok {\n  file,\n}\n' >"$W/ok"
t0=$(now_ms)
"$PARSER" --subdomainfs "$W/pfs" --features-file "$FEATURES" --skip-kernel-load \
	--skip-read-cache --write-cache --cache-loc "$W/pc" --jobs 1 "$W/ok" >/dev/null 2>&1
echo "  a normal profile: $(($(now_ms) - t0)) ms"

echo "SIGTERM during the compile (budget 3s: batch 3.5 s, then the slow file alone):"
: >"$W/stops"
bad=0
for i in $(seq 1 "${BENCH_SLOW_STOPS:-10}"); do
	setup
	start --apparmor-compile-timeout 3s
	# spread over the batch and the run of the slow file alone
	d=$(awk -v i="$i" -v n="${BENCH_SLOW_STOPS:-10}" 'BEGIN { printf "%.2f", 6.0 * (i - 1) / n }')
	read -r -t "$d" <> <(:) || true
	t0=$(now_ms)
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	ms=$(($(now_ms) - t0))
	echo "$ms" >>"$W/stops"
	n=$(left | wc -l)
	echo "  after ${d}s: exit $rc in $ms ms, parser processes left: $n"
	[ "$rc" -eq 0 ] && [ "$n" -eq 0 ] || bad=1
done
echo "  stop: $(stats <"$W/stops")"

# publishes N: adds N seccomp files one after another, prints the stats of
# rename -> published.
publishes() {
	: >"$W/pubs"
	for i in $(seq 1 "$1"); do
		read -r -t 0.2 <> <(:) || true
		printf '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}],"n":%d}' \
			"$i" >"$W/p/.s$i.json"
		t0=$(now_ms)
		mv "$W/p/.s$i.json" "$W/p/s$i.json"
		until [ -f "$W/r/profiled/s$i.json" ]; do :; done
		echo $(($(now_ms) - t0)) >>"$W/pubs"
	done
	echo "  publish: $(stats <"$W/pubs")"
}

echo "seccomp publish, no compile running (baseline at this load):"
setup
rm "$W/p/slow"
start
until grep -q 'apparmor compiled' "$W/log"; do read -r -t 0.01 <> <(:) || true; done
publishes "${BENCH_SLOW_PUBLISHES:-20}"
kill -TERM "$pid"
wait "$pid" || bad=1

echo "seccomp publish while the parser is busy on the slow file:"
setup
start
publishes "${BENCH_SLOW_PUBLISHES:-20}"
echo "  parser processes still compiling: $(left | wc -l)"
[ "$(left | wc -l)" -gt 0 ] || bad=1
kill -TERM "$pid"
wait "$pid" || bad=1
exit "$bad"
