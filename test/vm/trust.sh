#!/usr/bin/env bash
# Ownership on a real kernel: boots Debian's kernel under QEMU (run.sh)
# with the built profiled and runs trust-guest.sh in it: the policy data
# the kernel exports for a loaded profile is byte for byte what the agent
# compiled, it proves the agent's profiles its own after a lost state, and
# a host profile never is.
#
#   test/vm/trust.sh [PROFILED_BINARY]     (default build/profiled)
#
# Prints the guest's `ok`/`not ok` lines, `N passed, N failed` and the wall
# time.  Exit 0 all passed, 1 a test failed, 77 (`SKIP: reason`) when the
# kernel or QEMU cannot be had here, other codes from run.sh (124 timeout,
# 70 no status from the VM).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/build/profiled}

. "$here/host-lib.sh"
vm_prepare "$bin"

# The agent runs with the DaemonSet's capabilities in the guest.
rc=0
vm_run_agent_guest "$bin" "$here/trust-guest.sh" || rc=$?
exit "$rc"
