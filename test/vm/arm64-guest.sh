#!/bin/sh
# Runs inside the arm64 VM (Debian's arm64 kernel under qemu-system-aarch64,
# busybox sh): the arm64 profiled, as built for the image, loads the
# Kubernetes tutorial's AppArmor profile and the kernel enforces it; a
# seccomp profile for aarch64 is published. Prints `ok`/`not ok` lines and
# `N passed, N failed`; exit 0 or 1.
#
# /payload: deny-write (the tutorial's profile), arm64.json (a seccomp
# profile whose archMap names SCMP_ARCH_AARCH64), x86.json (one for x86_64
# only).
set -u
AA=/sys/kernel/security/apparmor
CM=/cm
. /guest-lib.sh

confined() { # PROFILE COMMAND: as aa-exec does
	(echo "exec $1" >/proc/self/attr/exec && exec sh -c "$2") 2>&1
}

echo "# $(uname -m) kernel $(uname -r), apparmor enabled: $(cat /sys/module/apparmor/parameters/enabled)"
expect "the kernel is arm64's" [ "$(uname -m)" = aarch64 ]
expect "the kernel has AppArmor on" [ -r "$AA/profiles" ]
expect "profiled is an arm64 program (it runs here)" sh -c 'profiled version | grep -q "^profiled "'

mkdir -p "$CM" /tmp/v1 /tmp/seccomp /var/lib
cp /payload/deny-write /tmp/v1/k8s-apparmor-example-deny-write
cp /payload/arm64.json /payload/x86.json /tmp/v1/
swap_to /tmp/v1

(exec profiled run --once --profiles "$CM" --seccomp-root /tmp/seccomp --state-dir /var/lib/profiled \
	--node-name vm-node) >/tmp/once.log 2>&1
rc=$?
sed 's/^/#   /' /tmp/once.log
expect "--once exits 0" [ "$rc" -eq 0 ]
expect "the kernel's seccomp and AppArmor are found" \
	grep -q 'kernel support seccomp=enabled apparmor=enabled' /tmp/once.log
expect "deny-write is loaded in enforce mode" listed k8s-apparmor-example-deny-write enforce
expect "the node is labeled apparmor=enabled" grep -q 'label=profiled.io/apparmor value=enabled' /tmp/once.log
expect "the aarch64 seccomp profile is published byte-identical" cmp -s /payload/arm64.json /tmp/seccomp/profiled/arm64.json
expect "... and so is the x86_64-only one (valid, though no arm64 node runs it)" \
	cmp -s /payload/x86.json /tmp/seccomp/profiled/x86.json

out=$(confined k8s-apparmor-example-deny-write 'cat /proc/self/attr/current; echo x >/tmp/w1 && echo wrote')
echo "$out" | sed 's/^/#   confined: /'
expect "a confined process runs under the profile" \
	sh -c 'echo "$1" | grep -qx "k8s-apparmor-example-deny-write (enforce)"' _ "$out"
expect "a confined write is denied (Permission denied)" \
	sh -c 'echo "$1" | grep -q "/tmp/w1: Permission denied"' _ "$out"
expect "... and wrote nothing" [ ! -e /tmp/w1 ]
expect "an unconfined process may write" sh -c 'echo x >/tmp/w2 && [ -s /tmp/w2 ]'

# The filter's length on the node's architecture: the archMap entry for
# aarch64 (with arm) is the one compiled, so its error names them.
out=$(profiled check /payload/long.json 2>&1)
echo "$out" | sed 's/^/#   /'
expect "check compiles the native archMap entry: (aarch64, arm)" \
	sh -c 'echo "$1" | grep -q "BPF instructions, the kernel.s limit is 4096 (aarch64, arm)"' _ "$out"
finish
