#!/usr/bin/env bash
# `profiled advise` on a real kernel's audit records: boots Debian's kernel
# under QEMU (run.sh) with the image's userspace (or the host's and the
# built profiled: PROFILED_VM_USERSPACE=host, see host-lib.sh) and runc, and
# runs advise-guest.sh in it (one boot).
#
#   test/vm/advise.sh [PROFILED_BINARY]     (default build/profiled)
#
# Prints the guest's `ok`/`not ok` lines and `N passed, N failed`.  Exit 0
# all passed, 1 a check failed, 77 (`SKIP: reason`) when the kernel, QEMU or
# runc cannot be had here, other codes from run.sh (124 timeout, 70 no
# status from the VM).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/build/profiled}
want=18

. "$here/host-lib.sh"
vm_prepare "$bin"
command -v runc >/dev/null || {
	echo "SKIP: runc is not installed (make deps)"
	exit 77
}
vm_bins "$bin" runc:/usr/sbin/runc || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/profiled-vm-advise.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=${EPOCHREALTIME/./}
status=0
PROFILED_VM_LOG=$tmp/console.log "$here/run.sh" --timeout "${PROFILED_VM_TIMEOUT:-180}" \
	"${VM_BINS[@]}" --file "$here/advise:/adv" \
	"$here/advise-guest.sh" >"$tmp/out" 2>"$tmp/err" || status=$?
end=${EPOCHREALTIME/./}
if [ "$status" = 77 ]; then
	cat "$tmp/out"
	exit 77
fi
grep -E '^(ok|not ok|#) ' "$tmp/out" || true
passed=$(grep -c '^ok - ' "$tmp/out" || true)
failed=$(grep -c '^not ok - ' "$tmp/out" || true)
if [ "$status" = 0 ] && [ "$passed" = "$want" ] && [ "$failed" = 0 ]; then
	echo "ok - guest script: exit 0, $want/$want checks"
	passed=$((passed + 1))
else
	echo "not ok - guest script: exit $status, $passed/$want checks passed"
	sed 's/^/#   /' "$tmp/out" "$tmp/err" | tail -n 60
	failed=$((failed + 1))
fi
echo "# VM test wall time: $(((end - start) / 1000)) ms (userspace: $VM_USERSPACE)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
