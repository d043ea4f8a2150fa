#!/bin/bash
# The arm64 build's tests under qemu-user (make test-arm64): the unit tests,
# then the black-box tests of `profiled check` and `profiled run --once`,
# every arm64 program run by qemu-aarch64-static with the arm64 sysroot's
# libraries (-L), no binfmt_misc needed. Ends with
# "N passed, N failed, N skipped".
#
#   BUILD=build-arm64-qemu SYSROOT=... test/tools/test-arm64.sh [BATS_FILE...]
#
# The build is a test build (-DPD_QEMU_USER_BUILD): qemu-user 7.2 implements
# neither openat2 nor seccomp(2), and the build stands in for both as the
# valgrind build does (lib/scan.c, lib/seccomp.c). The production arm64
# binary runs on a real arm64 kernel in make test-vm-arm64.
# Programs the daemon starts (apparmor_parser) are the host's.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
BUILD=${BUILD:-build-arm64-qemu}
SYSROOT=${SYSROOT:-$(sh test/tools/arm64-sysroot.sh)}
QEMU=${QEMU_AARCH64:-$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)}
[ -n "$QEMU" ] || { echo "test-arm64: qemu-aarch64-static missing: make deps-arm64" >&2; exit 77; }
[ -x "$BUILD/profiled" ] || { echo "test-arm64: $BUILD/profiled missing (make test-arm64 builds it)" >&2; exit 2; }
# The check and run --once tests; the daemon's long-running tests (watch,
# signals, metrics, ...) stay on the native build.
[ $# -gt 0 ] || set -- test/bats/cli.bats test/bats/publish.bats test/bats/startup.bats
export PROFILED_TEST_DATA=$REPO/test/data
passed=0 failed=0 skipped=0
count() { # stage passed failed skipped
	echo "-- $1: $2 passed, $3 failed, $4 skipped"
	passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + $4))
}
num() { sed -n "s/.*$1 *\([0-9][0-9]*\) test.*/\1/p" | head -n 1; }

file "$BUILD/profiled" | grep -q 'ARM aarch64' || {
	echo "test-arm64: $BUILD/profiled is not an aarch64 program" >&2
	exit 2
}
echo "== arm64: $("$QEMU" -L "$SYSROOT" "$BUILD/profiled" version) under $("$QEMU" --version | head -n1)"

echo "== arm64 unit tests (cmocka, qemu-user)"
for t in "$BUILD"/test/test_*; do
	[ -x "$t" ] || continue
	out=$(nice -n 10 "$QEMU" -L "$SYSROOT" "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | num '\[  PASSED  \]')
	f=$(printf '%s\n' "$out" | num '\[  FAILED  \]')
	s=$(printf '%s\n' "$out" | num '\[  SKIPPED \]')
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	count "arm64 $(basename "$t")" "$p" "$f" "$s"
done

echo "== arm64 black-box tests (bats, qemu-user): $*"
work=$(mktemp -d "${TMPDIR:-/tmp}/profiled-arm64.XXXXXX")
trap 'rm -rf "$work"' EXIT
# exec: the pid the tests signal and wait for is the emulated daemon's.
cat >"$work/profiled" <<W
#!/bin/sh
exec nice -n 10 "$QEMU" -L "$SYSROOT" "$REPO/$BUILD/profiled" "\$@"
W
chmod +x "$work/profiled"
# Waits (never assertions) stretch: the emulated daemon is slower.
PROFILED=$work/profiled PROFILED_WAIT_SCALE=${PROFILED_WAIT_SCALE:-5} bats --tap "$@" | tee "$work/tap"
s=$(grep -c '^ok .*# skip' "$work/tap")
p=$(($(grep -c '^ok ' "$work/tap") - s))
f=$(grep -c '^not ok ' "$work/tap")
count "arm64 bats" "$p" "$f" "$s"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
