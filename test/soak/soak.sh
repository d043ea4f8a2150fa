#!/usr/bin/env bash
# Soak test of the profiled daemon: continuous kubelet ConfigMap swaps with
# random (sometimes invalid) seccomp and AppArmor profiles, then the end
# state and the daemon's RSS and fd count are checked (docs/reliability.md).
#
#   test/soak/soak.sh [--seconds N] [--swaps-per-second R] [--seed S] [--keep]
#
# AppArmor runs against a folder standing in for apparmorfs (as in
# test/bats/apparmor.bats) with the real apparmor_parser; without the parser
# that half is skipped, loudly.  make soak: 360 s; make test: 30 s.
#
# Everything is written below one mktemp folder (removed at exit unless
# --keep or a check failed, when its path is printed).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROFILED=${PROFILED:-$REPO/build/profiled}
SECONDS_RUN=30
RATE=5
SEED=${SOAK_SEED:-$RANDOM$RANDOM}
KEEP=0

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_RUN=${2:?}; shift 2 ;;
	--seconds=*) SECONDS_RUN=${1#*=}; shift ;;
	--swaps-per-second) RATE=${2:?}; shift 2 ;;
	--swaps-per-second=*) RATE=${1#*=}; shift ;;
	--seed) SEED=${2:?}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) usage ;;
	esac
done

[ -x "$PROFILED" ] || { echo "PROFILED=$PROFILED is not executable (run make first)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/profiled-soak.XXXXXX")
P=$T/profiles R=$T/root S=$T/state LOG=$T/daemon.log PUB=$T/root/profiled
PASS=0 FAIL=0 SKIP=0 DAEMON_PID=

ok() { PASS=$((PASS + 1)); echo "ok $*"; }
notok() { FAIL=$((FAIL + 1)); echo "not ok $*"; }

cleanup() {
	if [ -n "$DAEMON_PID" ]; then
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	if [ "$KEEP" = 1 ] || [ "$FAIL" -gt 0 ]; then
		echo "# kept $T (daemon log: $LOG)"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
# An initial kubelet-style folder with one profile, so the daemon starts on a
# real ConfigMap volume layout.
mkdir -p "$T/src"
printf '{"defaultAction":"SCMP_ACT_LOG"}\n' >"$T/src/p0.json"
python3 "$REPO/test/tools/kubelet_writer.py" "$P" "$T/src" || { notok "initial kubelet write"; exit 1; }

FS='' AA_FLAGS=()
if command -v apparmor_parser >/dev/null; then
	FS=$T/apparmorfs
	mkdir -p "$FS"
	: >"$FS/.load"
	: >"$FS/.replace"
	: >"$FS/.remove"
	: >"$FS/profiles"
	# The stand-in kernel lists a load a moment after it, not at once as the
	# real one does: a load the daemon could not confirm would then show up as
	# a foreign profile, which --adopt-existing takes over again.
	AA_FLAGS=(--apparmorfs "$FS" --unload-removed --adopt-existing)
else
	echo "skip AppArmor half: apparmor_parser not installed (make deps)"
	SKIP=$((SKIP + 1))
fi

"$PROFILED" run --profiles "$P" --seccomp-root "$R" --state-dir "$S" --node-name soak \
	--metrics-addr "" --resync-interval 2s "${AA_FLAGS[@]}" </dev/null >"$T/daemon.out" 2>"$LOG" &
DAEMON_PID=$!

ready=0
for _ in $(seq 100); do
	if grep -q ' ready$' "$LOG"; then ready=1; break; fi
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.05
done
if [ "$ready" = 1 ]; then ok "daemon ready (pid $DAEMON_PID)"; else
	notok "daemon ready within 5 s"; sed 's/^/#   /' "$LOG"; exit 1
fi

# Under AddressSanitizer RSS grows by design (its quarantine keeps freed
# memory, 256 MB by default): the figures are printed, the RSS check is
# skipped (loudly); ASan and LeakSanitizer check memory in that build.
if ldd "$PROFILED" 2>/dev/null | grep -q libasan; then
	export SOAK_RSS_CHECK=0 SOAK_RSS_WHY="AddressSanitizer build (its quarantine holds freed memory)"
fi

python3 "$HERE/soak_driver.py" "$DAEMON_PID" "$P" "$PUB" "$S/state.json" "$LOG" \
	"$SECONDS_RUN" "$RATE" "$SEED" "$FS" >"$T/driver.out" 2>&1
cat "$T/driver.out"
PASS=$((PASS + $(grep -c '^ok ' "$T/driver.out")))
FAIL=$((FAIL + $(grep -c '^not ok ' "$T/driver.out")))
SKIP=$((SKIP + $(grep -c '^skip ' "$T/driver.out")))
if ! grep -q '^ok \|^not ok ' "$T/driver.out"; then notok "soak driver ran"; fi

if kill -0 "$DAEMON_PID" 2>/dev/null; then
	t0=$(date +%s%N)
	kill -TERM "$DAEMON_PID"
	rc=0
	wait "$DAEMON_PID" || rc=$?
	t1=$(date +%s%N)
	DAEMON_PID=
	if [ "$rc" -eq 0 ]; then ok "SIGTERM: exit 0 after $(((t1 - t0) / 1000000)) ms"; else
		notok "SIGTERM: exit 0 (got $rc)"; fi
else
	rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	notok "daemon alive for SIGTERM (it exited with $rc)"
	tail -n 20 "$LOG" | sed 's/^/#   /'
fi

# Nothing but state.json, lock and apparmor-cache in the state folder; no
# temp files anywhere under the seccomp root.
extra=$(find "$R" -mindepth 1 ! -path "$PUB" ! -path "$PUB/*.json" -printf '%P\n')
if [ -z "$extra" ]; then ok "no stray files under the seccomp root"; else
	notok "no stray files under the seccomp root: $extra"; fi

echo "# errors in the daemon log (first 5 distinct, without time stamps):"
grep ' error ' "$LOG" | cut -d' ' -f2- | sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -5 | sed 's/^/#   /'
echo "# wall time: $(($(date +%s) - T0)) s"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
