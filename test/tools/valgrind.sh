#!/bin/bash
# Runs the black-box tests (bats) with every daemon run under valgrind
# memcheck, then fails on any memcheck error or definite/indirect leak.
#
#   PROFILED=build/profiled test/tools/valgrind.sh [BATS_FILE_OR_DIR...]
#
# Every launch of "$PROFILED" in the tests goes through a wrapper that execs
# valgrind (the pid the tests signal is the daemon's own).  Logs, one per
# process, go to $VALGRIND_LOGS (default build/valgrind).  Valgrind slows the
# daemon 20-50x: the tests' waits are scaled by PROFILED_WAIT_SCALE (20).
# Ends with "N passed, N failed, N skipped" (bats tests plus one line per
# valgrind log check).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
REAL=${PROFILED:-$REPO/build/profiled}
LOGS=${VALGRIND_LOGS:-$REPO/build/valgrind}
command -v valgrind >/dev/null || { echo "valgrind is not installed (make deps)" >&2; exit 77; }
[ -x "$REAL" ] || { echo "PROFILED=$REAL is not executable (run make first)" >&2; exit 2; }
[ $# -gt 0 ] || set -- "$REPO/test/bats"

rm -rf "$LOGS"
mkdir -p "$LOGS"
cat >"$LOGS/profiled" <<W
#!/bin/sh
exec valgrind --quiet --error-exitcode=97 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--trace-children=no --num-callers=30 --log-file="$LOGS/vg.%p.log" "$REAL" "\$@"
W
chmod +x "$LOGS/profiled"

export PROFILED=$LOGS/profiled PROFILED_WAIT_SCALE=${PROFILED_WAIT_SCALE:-20}
tap=$LOGS/bats.tap
bats --tap "$@" | tee "$tap"
s=$(grep -c '^ok .*# skip' "$tap")
p=$(($(grep -c '^ok ' "$tap") - s))
f=$(grep -c '^not ok ' "$tap")

n=0 bad=0
for l in "$LOGS"/vg.*.log; do
	[ -e "$l" ] || continue
	n=$((n + 1))
	# --quiet: a clean run leaves no ==PID== line (the --PID-- lines are
	# valgrind's own notes, e.g. on syscalls it does not know)
	if grep -q '^==[0-9]*==' "$l"; then
		bad=$((bad + 1))
		echo "--- valgrind: $l"
		grep '^==[0-9]*==' "$l" | head -n 60
	fi
done
echo "# valgrind: $n daemon runs, $bad with errors or leaks (logs in $LOGS)"
if [ "$n" -eq 0 ]; then
	echo "not ok valgrind ran no daemon"
	f=$((f + 1))
elif [ "$bad" -gt 0 ]; then
	echo "not ok valgrind: $bad of $n runs with errors or leaks"
	f=$((f + 1))
else
	echo "ok valgrind: $n daemon runs, no errors, no leaks"
	p=$((p + 1))
fi
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
