#!/usr/bin/env bash
# The kernel matrix: boots each of Debian's kernels under QEMU (run.sh
# --kernel) with the profiled image's own userspace (its profiled, parser,
# libraries, apparmor.d; host-lib.sh vm_userspace) and runs matrix-guest.sh
# in it: the kernel's AppArmor features (what it mediates), a 3.0-syntax and
# a 4.x-syntax profile loaded through profiled and enforced, io_uring
# enforced where the kernel mediates it and reported where not, a seccomp
# profile naming recent syscalls validated by profiled and enforced by runc,
# then the end-to-end test profiled-guest.sh.
#
#   test/vm/matrix.sh [PROFILED_BINARY]     (default build/profiled; only
#                                            used with PROFILED_VM_USERSPACE=host)
#
# Prints each kernel's `ok`/`not ok`/`skip` lines (prefixed with the suite),
# then one line per kernel: version, boot time (the guest's uptime when the
# script starts), VM wall time, checks passed/failed/skipped, the first
# reconcile's time (compile + load) and the reload from the cache after a
# "reboot" (load only), for the 3.0/4.x profiles and for profiled-guest.sh's,
# and the features list; ends with
# `N passed, N failed[, N skipped]`. Figures are printed, never asserted.
#
# Environment:
#   PROFILED_VM_KERNELS    the suites to boot (default "bookworm trixie sid")
#   PROFILED_VM_USERSPACE  image (the default: the image of PROFILED_VM_IMAGE
#                          or build/image/ref) or host (the host's parser and
#                          libraries with PROFILED_BINARY: the 4.x, io_uring
#                          and recent-syscall checks are skipped)
#   PROFILED_VM_IMAGE      the image (default: build/image/ref, `make image`
#                          when missing)
#   PROFILED_VM_E2E=0      leave out profiled-guest.sh (the matrix checks alone)
#   PROFILED_VM_REQUIRE=1  a kernel that cannot be fetched is a failure, not
#                          a skip
# Exit 0 all passed, 1 a check failed, 77 (`SKIP: reason`) when no kernel at
# all could be had.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/build/profiled}
fixture=${PROFILED_FIXTURES:-$repo/test/data/fixtures}/kubernetes-docs/apparmor/k8s-apparmor-example-deny-write
kernels=${PROFILED_VM_KERNELS:-bookworm trixie sid}

. "$here/host-lib.sh"
vm_userspace
userspace=$VM_USERSPACE
[ -n "$VM_ROOTFS" ] || [ -x "$bin" ] || {
	echo "matrix.sh: $bin is not an executable (run make first)" >&2
	exit 1
}
vm_bins "$bin" runc || exit 1

payload=$(mktemp -d "${TMPDIR:-/tmp}/profiled-vm-payload.XXXXXX")
trap 'rm -rf "$payload"' EXIT
cp "$here"/payload/* "$payload/"
cp "$fixture" "$payload/deny-write"
cp -r "$here/matrix" "$payload/matrix"
printf '%s\n' "${userspace%% *}" >"$payload/userspace"
echo "${PROFILED_VM_E2E:-1}" >"$payload/e2e"
if [ -n "$VM_ROOTFS" ]; then
	# the guest checks that it runs these very files of the image
	(cd "$VM_ROOTFS" && sha256sum usr/bin/profiled usr/sbin/apparmor_parser \
		usr/lib/x86_64-linux-gnu/libseccomp.so.2 usr/lib/x86_64-linux-gnu/libapparmor.so.1 \
		etc/apparmor.d/abstractions/base etc/apparmor/parser.conf) >"$payload/image.sha256"
fi
tooldir=/usr/local/bin
[ -z "$VM_ROOTFS" ] || tooldir=/test/bin
# pd-sys: calls syscalls by number (io_uring_setup, mseal, lsm_*...);
# static, so it runs in the guest and in a container's empty rootfs
"${CC:-cc}" -static -O2 -o "$payload/pd-sys" "$here/tools/pd-sys.c" || {
	echo "matrix.sh: cannot build tools/pd-sys.c statically (libc6-dev)" >&2
	exit 1
}

now() { echo "${EPOCHREALTIME/./}"; }
passed=0 failed=0 skipped=0 booted=0
summary=()
for k in $kernels; do
	echo "== kernel: $k (userspace: $userspace)"
	rc=0
	out=$(PROFILED_VM_SUITE=$k "$here/fetch.sh" "$k") || rc=$?
	if [ "$rc" = 77 ]; then
		printf '%s\n' "$out" | sed "s/^/[$k] /"
		if [ "${PROFILED_VM_REQUIRE:-0}" = 1 ]; then
			failed=$((failed + 1))
			summary+=("$k: not ok - the kernel could not be fetched ($(printf '%s\n' "$out" | tail -n1))")
		else
			skipped=$((skipped + 1))
			summary+=("$k: skipped ($(printf '%s\n' "$out" | tail -n1))")
		fi
		continue
	fi
	[ "$rc" = 0 ] || {
		echo "matrix.sh: fetch.sh $k failed (exit $rc)" >&2
		failed=$((failed + 1))
		summary+=("$k: not ok - fetch.sh failed (exit $rc)")
		continue
	}
	booted=$((booted + 1))
	start=$(now)
	rc=0
	out=$("$here/run.sh" --kernel "$k" --timeout "${PROFILED_VM_TIMEOUT:-240}" \
		"${VM_BINS[@]}" --bin "$payload/pd-sys:$tooldir/pd-sys" \
		--file "$payload:/payload" --file "$here/guest-lib.sh:/guest-lib.sh" \
		--file "$here/profiled-guest.sh:/profiled-guest.sh" "$here/matrix-guest.sh" 2>&1) || rc=$?
	end=$(now)
	printf '%s\n' "$out" | sed "s/^/[$k] /"
	p=$(printf '%s\n' "$out" | grep -c '^ok - ' || true)
	f=$(printf '%s\n' "$out" | grep -c '^not ok - ' || true)
	s=$(printf '%s\n' "$out" | grep -c '^skip - ' || true)
	# a VM that failed without a `not ok` line (timeout, panic) is a failure
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	field() { printf '%s\n' "$out" | sed -n "s/$1/\\1/p" | head -n1; }
	kver=$(field '^# kernel \([^ ,]*\)$')
	boot=$(field '^# uptime at script start: \([0-9.]*\) s$')
	compile=$(field '^# first --once: exit [0-9]* in \([0-9]*\) ms$')
	load=$(field '^# --once after the reboot: exit [0-9]* in \([0-9]*\) ms$')
	feats=$(field '^# features: \(.*\)$')
	abi=$(field '^# abi3+abi4+ring profiles: \(.*\)$')
	summary+=("$k: kernel ${kver:-?}, boot ${boot:-?} s, VM $(((end - start) / 1000)) ms, $p passed, $f failed, $s skipped (exit $rc); abi3+abi4+ring profiles: ${abi:-?}; e2e first reconcile (compile+load) ${compile:-?} ms, reload from cache ${load:-?} ms; features: ${feats:-?}")
done

echo "== kernel matrix (userspace: $userspace; figures under TCG on a shared host)"
printf '%s\n' "${summary[@]}"
if [ "$booted" -eq 0 ] && [ "$failed" -eq 0 ]; then
	echo "SKIP: no kernel of the matrix could be fetched"
	exit 77
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
