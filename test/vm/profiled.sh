#!/usr/bin/env bash
# The AppArmor path of profiled on a real kernel: boots Debian's kernel under
# QEMU (run.sh) with the image's userspace (or the host's and the built
# profiled: PROFILED_VM_USERSPACE=host, see host-lib.sh) and runs
# profiled-guest.sh in it.
#
#   test/vm/profiled.sh [PROFILED_BINARY]     (default build/profiled)
#
# Prints the guest's `ok`/`not ok` lines, `N passed, N failed` and the wall
# time.  Exit 0 all passed, 1 a test failed, 77 (`SKIP: reason`) when the
# kernel or QEMU cannot be had here, other codes from run.sh (124 timeout,
# 70 no status from the VM).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/build/profiled}
fixture=${PROFILED_FIXTURES:-$repo/test/data/fixtures}/kubernetes-docs/apparmor/k8s-apparmor-example-deny-write

. "$here/host-lib.sh"
vm_prepare "$bin"

payload=$(mktemp -d "${TMPDIR:-/tmp}/profiled-vm-payload.XXXXXX")
trap 'rm -rf "$payload"' EXIT
cp "$here"/payload/* "$payload/"
cp "$fixture" "$payload/deny-write"

# runc confines a container with the profile profiled loaded (the
# Kubernetes tutorial's pod, as a bare OCI bundle).
vm_bins "$bin" runc || exit 1

start=${EPOCHREALTIME/./}
rc=0
"$here/run.sh" --timeout "${PROFILED_VM_TIMEOUT:-240}" "${VM_BINS[@]}" --file "$payload:/payload" \
	--file "$here/guest-lib.sh:/guest-lib.sh" "$here/profiled-guest.sh" || rc=$?
end=${EPOCHREALTIME/./}
echo "# VM test wall time: $(((end - start) / 1000)) ms (userspace: $VM_USERSPACE)"
exit "$rc"
