#!/usr/bin/env bash
# AppArmor through the arm64 profiled on Debian's arm64 kernel, under
# qemu-system-aarch64 (TCG): run.sh with PROFILED_VM_ARCH=arm64 (the guest's
# busybox and parser from the arm64 sysroot) runs arm64-guest.sh.
#
#   test/vm/arm64.sh [ARM64_PROFILED]     (default build-arm64/profiled)
#
# Prints the guest's `ok`/`not ok` lines, `N passed, N failed` and the wall
# time. Exit 0/1, 77 (`SKIP: reason`) when the kernel or QEMU cannot be had.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/build-arm64/profiled}
export PROFILED_VM_ARCH=arm64
# The guest's userspace is the arm64 sysroot's (busybox, parser, libraries):
# the image's filesystem is amd64's.
export PROFILED_VM_USERSPACE=host

. "$here/host-lib.sh"
vm_prepare "$bin"
file "$bin" | grep -q 'ARM aarch64' || {
	echo "arm64.sh: $bin is not an aarch64 program (make ARCH=arm64)" >&2
	exit 1
}

payload=$(mktemp -d "${TMPDIR:-/tmp}/profiled-vm-arm64.XXXXXX")
trap 'rm -rf "$payload"' EXIT
cp "$repo/test/data/fixtures/kubernetes-docs/apparmor/k8s-apparmor-example-deny-write" "$payload/deny-write"
cat >"$payload/arm64.json" <<'J'
{"defaultAction": "SCMP_ACT_ERRNO",
 "archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
             {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
 "syscalls": [{"names": ["read", "write", "exit_group", "openat", "close"], "action": "SCMP_ACT_ALLOW"}]}
J
cat >"$payload/x86.json" <<'J'
{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}
J
# Over the kernel's 4096 instructions for aarch64 + arm: 130 entries of six
# 64-bit conditions.
python3 - "$payload/long.json" <<'P'
import json, sys
names = ["read", "write", "openat", "close", "fstat", "lseek", "mmap", "munmap", "mprotect", "brk"]
rules = [{"names": [names[i % len(names)]], "action": "SCMP_ACT_LOG",
          "args": [{"index": k, "value": ((i * 6 + k + 1) << 33) + i * 6 + k, "op": "SCMP_CMP_EQ"}
                   for k in range(6)]} for i in range(130)]
prof = {"defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": rules}
json.dump(prof, open(sys.argv[1], "w"))
P

start=${EPOCHREALTIME/./}
rc=0
"$here/run.sh" --timeout "${PROFILED_VM_TIMEOUT:-300}" --bin "$bin:/usr/local/bin/profiled" \
	--file "$payload:/payload" --file "$here/guest-lib.sh:/guest-lib.sh" "$here/arm64-guest.sh" || rc=$?
end=${EPOCHREALTIME/./}
echo "# VM test wall time: $(((end - start) / 1000)) ms"
exit "$rc"
