#!/usr/bin/env bash
# The kernel matrix: boots each of Debian's kernels under QEMU (run.sh
# --kernel) with the built profiled and runs matrix-guest.sh in it: the
# kernel's AppArmor features (what it mediates), an io_uring rule where the
# kernel mediates io_uring, and the end-to-end test profiled-guest.sh.
#
#   test/vm/matrix.sh [PROFILED_BINARY]     (default build/profiled)
#
# Prints each kernel's `ok`/`not ok`/`skip` lines (prefixed with the suite),
# then one line per kernel: version, boot time (the guest's uptime when the
# script starts), VM wall time, checks passed/failed/skipped, the first
# reconcile's time (compile + load) and the reload from the cache after a
# "reboot" (load only), and the features list; ends with
# `N passed, N failed[, N skipped]`. Figures are printed, never asserted.
#
# Environment:
#   PROFILED_VM_KERNELS    the suites to boot (default "bookworm trixie sid")
#   PROFILED_VM_USERSPACE  where the guest's parser and libraries come from;
#                          only "host" (the host's apparmor_parser, as run.sh
#                          builds the initramfs) exists today
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
userspace=${PROFILED_VM_USERSPACE:-host}

[ "$userspace" = host ] || {
	echo "matrix.sh: PROFILED_VM_USERSPACE=$userspace: only 'host' is supported so far" >&2
	exit 64
}
[ -x "$bin" ] || {
	echo "matrix.sh: $bin is not an executable (run make first)" >&2
	exit 1
}
runc=$(command -v runc || true)
[ -n "$runc" ] || {
	echo "matrix.sh: runc is not installed (make deps)" >&2
	exit 1
}

payload=$(mktemp -d "${TMPDIR:-/tmp}/profiled-vm-payload.XXXXXX")
trap 'rm -rf "$payload"' EXIT
cp "$here"/payload/* "$payload/"
cp "$fixture" "$payload/deny-write"

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
		--bin "$bin:/usr/local/bin/profiled" --bin "$runc:/usr/local/bin/runc" \
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
	summary+=("$k: kernel ${kver:-?}, boot ${boot:-?} s, VM $(((end - start) / 1000)) ms, $p passed, $f failed, $s skipped (exit $rc), first reconcile (compile+load) ${compile:-?} ms, reload from cache ${load:-?} ms; features: ${feats:-?}")
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
