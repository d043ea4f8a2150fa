#!/bin/sh
# Runs inside the VM for matrix.sh, once per kernel: what this kernel's
# AppArmor mediates (its apparmorfs features); with the image's userspace
# (/payload/userspace says which) a 3.0-syntax and a 4.x-syntax profile
# loaded through profiled and enforced, io_uring mediation where the kernel
# has it and the report of rules it cannot enforce where it has not, a
# seccomp profile naming recent syscalls validated by profiled and enforced
# by runc; then the end-to-end test profiled-guest.sh (load, enforce,
# Permission denied, /proc/self/attr/current, ...).
# Prints `ok - `/`not ok - `/`skip - ` lines and `#` figures; exit 0 or 1.
set -u
AA=/sys/kernel/security/apparmor
F=$AA/features
PARSER=${AA_PARSER:-apparmor_parser}
. /guest-lib.sh
userspace=$(cat /payload/userspace 2>/dev/null || echo host)

echo "# uptime at script start: $(cut -d' ' -f1 /proc/uptime) s"
echo "# kernel $(uname -r)"
echo "# userspace: $userspace"
echo "# parser $($PARSER --version 2>&1 | head -n1)"
echo "# $(profiled --version 2>&1 | head -n1), $(command -v profiled)"

# --- what the kernel mediates
expect "apparmorfs lists the kernel's features" [ -d "$F" ]
echo "# features: $(ls "$F" | tr '\n' ' ')"
# notable entries: each shown as path=contents (or its sub-entries)
for e in policy/versions namespaces io_uring/mask ipc mqueue network_v9 dbus domain/version \
	file/mask signal/mask ptrace/mask policy/permstable32 policy/unconfined_restrictions; do
	p=$F/$e
	if [ -d "$p" ]; then
		echo "# features/$e/: $(ls "$p" | tr '\n' ' ')"
	elif [ -f "$p" ]; then
		echo "# features/$e: $(tr '\n' ' ' <"$p")"
	fi
done
if [ -f "$F/namespaces/mask" ] && grep -qw userns_create "$F/namespaces/mask"; then
	echo "# userns: mediated (features/namespaces/mask: $(cat "$F/namespaces/mask"))"
else
	echo "# userns: not mediated (no userns_create in features/namespaces/mask)"
fi
found=$(find "$F" -name '*mqueue*' | sort)
[ -n "$found" ] || echo "# mqueue: no entry in features/ (not mediated: Ubuntu's patch)"
for e in $found; do
	if [ -f "$e" ]; then
		echo "# ${e#"$AA"/}: $(tr '\n' ' ' <"$e")"
	else
		echo "# ${e#"$AA"/}/: $(ls "$e" | tr '\n' ' ')"
	fi
done
expect "the kernel lists its policy ABI versions (policy/versions)" \
	sh -c '[ -n "$(ls "$1"/policy/versions 2>/dev/null)" ]' _ "$F"

# confined PROFILE COMMAND: runs COMMAND (sh -c) under PROFILE, as aa-exec
# does, printing its output.
confined() {
	(echo "exec $1" >/proc/self/attr/exec && exec sh -c "$2") 2>&1
}

# The agent's report of rules this kernel cannot enforce: the pattern of its
# log line (docs/apparmor.md, "Rules a kernel does not enforce") for one rule
# class, %s standing for the class (io_uring, userns, mqueue). Empty: the
# agent's half of assert_unenforceable is a `skip -` line. (No `[^...]` in
# it: busybox ash mangles a `^` in a ${VAR:-default}.)
UNENFORCEABLE_RE=${UNENFORCEABLE_RE:-"apparmor rules not enforced .*not_enforced=[a-z_,]*%s[, ]"}

# assert_unenforceable CLASS FILE LOG: the one check of the report that
# this kernel does not enforce the CLASS rules of the ConfigMap file FILE,
# which the agent loaded writing LOG. First the ground truth: the image's
# parser, asked for the warning the agent does not request by default
# (--warn=rule-not-enforced), names the class for this kernel; then the
# agent's own report in LOG (UNENFORCEABLE_RE).
assert_unenforceable() {
	w=$($PARSER -QT --warn=rule-not-enforced -r "$2" 2>&1 >/dev/null)
	echo "$w" | grep "rules not enforced" | sed 's/^/#   parser: /'
	expect "unenforceable: the parser reports the $1 rule of $(basename "$2") as not enforced here" \
		sh -c 'echo "$1" | grep -q "): $2 rules not enforced$"' _ "$w" "$1"
	if [ -z "$UNENFORCEABLE_RE" ]; then
		echo "skip - unenforceable: the agent's own report of the $1 rule (no format plugged in: UNENFORCEABLE_RE in matrix-guest.sh)"
		return 0
	fi
	# shellcheck disable=SC2059 # the pattern is the format
	expect "unenforceable: the agent reports that this kernel does not enforce the $1 rule" \
		grep -q "$(printf "$UNENFORCEABLE_RE" "$1")" "$3"
}

if [ "$userspace" = host ]; then
	echo "skip - 4.x syntax, io_uring, recent syscalls: the host's parser ($($PARSER --version 2>&1 | head -n1 | sed 's/.*version //')) and libseccomp cannot express them; run with the image's userspace"
	finish
	rc=$?
	sh /profiled-guest.sh
	e2e=$?
	[ "$rc" -eq 0 ] && [ "$e2e" -eq 0 ]
	exit
fi

# --- the userspace is the image's: its profiled and parser on PATH, the
# same bytes as in the image (profiled, parser, libseccomp, libapparmor,
# an abstraction, parser.conf)
expect "userspace: profiled and apparmor_parser are the image's (/usr/bin, /usr/sbin)" \
	sh -c '[ "$(command -v profiled)" = /usr/bin/profiled ] && [ "$(command -v apparmor_parser)" = /usr/sbin/apparmor_parser ]'
sums=$(cd / && sha256sum -c /payload/image.sha256 2>&1)
st=$?
echo "$sums" | sed 's/^/#   /'
expect "userspace: the guest's profiled, parser, libraries and abstractions are the image's bytes" \
	sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 6 ]' _ "$st" "$(echo "$sums" | grep -c ': OK$')"

# --- a 3.0-syntax and a 4.x-syntax profile, and a seccomp profile naming
# recent syscalls, through profiled (one reconcile, as the DaemonSet does)
M=/cm-matrix
mkdir -p "$M" /tmp/denied3 /tmp/denied4 /tmp/seccomp-m
cp /payload/matrix/abi3 /payload/matrix/abi4 /payload/matrix/ring /payload/matrix/recent.json "$M/"
mrun() {
	profiled run --once --profiles "$M" --seccomp-root /tmp/seccomp-m \
		--state-dir /var/lib/profiled-matrix --node-name vm-node
}
t0=$(ms)
mrun >/tmp/m1.log 2>&1
rc=$?
t1=$(ms)
compile_ms=$(((t1 - t0) * 10))
sed 's/^/#   /' /tmp/m1.log
expect "profiled --once loads the 3.0 and 4.x profiles and the seccomp profile (exit 0)" [ "$rc" -eq 0 ]
expect "3.0 syntax: pd-abi3 is loaded in enforce mode" listed pd-abi3 enforce
expect "4.x syntax: pd-abi4 is loaded in enforce mode" listed pd-abi4 enforce
expect "4.x syntax: pd-abi4-nouserns is loaded in enforce mode" listed pd-abi4-nouserns enforce
expect "io_uring rules: pd-ring and pd-noring are loaded in enforce mode" \
	sh -c 'grep -qx "pd-ring (enforce)" "$1" && grep -qx "pd-noring (enforce)" "$1"' _ "$AA/profiles"
for v in 3 4; do
	out=$(confined pd-abi$v "cat /proc/self/attr/current; echo x >/tmp/denied$v/x && echo wrote; echo y >/tmp/ok$v && echo wrote-ok")
	echo "$out" | sed "s/^/#   pd-abi$v: /"
	expect "abi $v.x: a confined process runs under pd-abi$v (/proc/self/attr/current)" \
		sh -c 'echo "$1" | grep -qx "pd-abi$2 (enforce)"' _ "$out" "$v"
	expect "abi $v.x: a write under the deny rule gets Permission denied" \
		sh -c 'echo "$1" | grep -q "/tmp/denied$2/x: Permission denied" && [ ! -e /tmp/denied$2/x ]' _ "$out" "$v"
	expect "abi $v.x: ... and another write is allowed" sh -c 'echo "$1" | grep -qx wrote-ok' _ "$out"
done

# userns: enforced where the kernel mediates it (namespaces/mask)
yes=$(confined pd-abi4 "unshare -U true && echo userns-ok")
no=$(confined pd-abi4-nouserns "unshare -U true && echo userns-ok")
echo "# unshare -U under pd-abi4 (userns,): $yes; under pd-abi4-nouserns: $no"
if [ -f "$F/namespaces/mask" ] && grep -qw userns_create "$F/namespaces/mask"; then
	expect "userns: mediated: unshare -U is allowed under the profile with a userns rule" \
		sh -c 'echo "$1" | grep -qx userns-ok' _ "$yes"
	expect "userns: mediated: unshare -U gets Permission denied under the profile without one" \
		sh -c 'echo "$1" | grep -q "Permission denied" && ! echo "$1" | grep -qx userns-ok' _ "$no"
else
	expect "userns: not mediated by this kernel: unshare -U works even without a userns rule" \
		sh -c 'echo "$1" | grep -qx userns-ok' _ "$no"
	assert_unenforceable userns "$M/abi4" /tmp/m1.log
fi

# io_uring: enforced where the kernel mediates it (an SQPOLL ring is what
# features/io_uring/mask names), under the file compiled for the pinned
# features; abi/4.0 does not list io_uring, so pd-abi4's rule is dropped
# on every kernel and must be reported
yes=$(confined pd-ring "pd-sys io_uring_sqpoll")
no=$(confined pd-noring "pd-sys io_uring_sqpoll")
echo "# io_uring SQPOLL under pd-ring (io_uring,): $yes; under pd-noring: $no"
if [ -d "$F/io_uring" ]; then
	expect "io_uring: mediated: an SQPOLL ring is allowed under the profile with an io_uring rule" \
		sh -c 'echo "$1" | grep -qx "io_uring_sqpoll: ok"' _ "$yes"
	expect "io_uring: mediated: an SQPOLL ring gets EACCES under the profile without one" \
		sh -c 'echo "$1" | grep -q "io_uring_sqpoll: EACCES"' _ "$no"
else
	expect "io_uring: not mediated by this kernel: an SQPOLL ring works even without an io_uring rule" \
		sh -c 'echo "$1" | grep -qx "io_uring_sqpoll: ok"' _ "$no"
	assert_unenforceable io_uring "$M/ring" /tmp/m1.log
fi
assert_unenforceable io_uring "$M/abi4" /tmp/m1.log
# mqueue: no Debian kernel mediates it (Ubuntu's patches)
if [ -d "$F/ipc" ] && [ -n "$(find "$F/ipc" -name '*mqueue*')" ]; then
	echo "# mqueue: mediated by this kernel (features/ipc); not checked further"
else
	assert_unenforceable mqueue "$M/abi4" /tmp/m1.log
fi

# load only: the kernel drops the profiles (a "reboot"), the agent loads
# them again from its parser cache without compiling
for n in pd-abi3 pd-abi4 pd-abi4-nouserns pd-ring pd-noring; do printf '%s' "$n" >"$AA/.remove"; done
t0=$(ms)
mrun >/tmp/m2.log 2>&1
rc=$?
t1=$(ms)
load_ms=$(((t1 - t0) * 10))
expect "after a reboot the profiles are loaded again from the cache (exit 0)" \
	sh -c '[ "$1" -eq 0 ] && grep -qx "pd-abi4 (enforce)" '"$AA"'/profiles' _ "$rc"
echo "# abi3+abi4+ring profiles: compile+load ${compile_ms} ms, load from the cache ${load_ms} ms"

# seccomp: the recent syscalls are known to the image's libseccomp (no
# unknown-syscall warning), the profile is published, runc enforces it
expect "seccomp: no unknown-syscall warning for the recent syscalls" \
	sh -c '! grep -qi "unknown syscall" /tmp/m1.log'
pub=$(find /tmp/seccomp-m -name recent.json | head -n1)
expect "seccomp: the profile naming mseal, listmount, statmount, lsm_* is published" \
	sh -c '[ -n "$1" ] && cmp -s "$1" /payload/matrix/recent.json' _ "$pub"
echo "# outside any container: $(pd-sys mseal lsm_get_self_attr listmount statmount lsm_list_modules | tr '\n' ' ')"
mkdir -p /mbundle/rootfs/bin /mbundle/rootfs/proc /mbundle/rootfs/dev /mbundle/rootfs/tmp
cp "$(tool busybox)" /mbundle/rootfs/bin/busybox
cp "$(tool pd-sys)" /mbundle/rootfs/bin/pd-sys
for a in sh mkdir echo; do ln -sf busybox "/mbundle/rootfs/bin/$a"; done
mcontainer() { # NAME SECCOMP-JSON
	sed -e "s|@SECCOMP@|$2|" -e "s|@CID@|$1|" /payload/matrix/config.json >/mbundle/config.json
	st=0
	out=$(cd /mbundle && timeout 60 runc --root /run/runc run --no-pivot "$1" 2>&1) || st=$?
	echo "$out" | sed "s/^/#   runc $1: /"
}
if [ -n "$pub" ]; then
	mcontainer recent "$(tr -d '\n' <"$pub")"
	expect "seccomp: runc: mseal is denied in the container (EPERM)" \
		sh -c 'echo "$1" | grep -q "^mseal: EPERM"' _ "$out"
	expect "seccomp: runc: lsm_get_self_attr, listmount, statmount, lsm_list_modules are denied (EPERM)" \
		sh -c 'for c in lsm_get_self_attr listmount statmount lsm_list_modules; do
			echo "$1" | grep -q "^$c: EPERM" || exit 1; done' _ "$out"
	expect "seccomp: runc: mkdir in the container: Operation not permitted" \
		sh -c 'echo "$1" | grep -q "Operation not permitted" && ! echo "$1" | grep -qx mkdir-ok' _ "$out"
fi
mcontainer plain null
expect "seccomp: the same container without the profile: mkdir works, mseal is not EPERM" \
	sh -c 'echo "$1" | grep -qx mkdir-ok && ! echo "$1" | grep -q "^mseal: EPERM"' _ "$out"
finish
rc=$?

# --- the end-to-end test, in its own shell (its own counters)
e2e=0
if [ "$(cat /payload/e2e 2>/dev/null)" != 0 ]; then
	sh /profiled-guest.sh
	e2e=$?
fi
[ "$rc" -eq 0 ] && [ "$e2e" -eq 0 ]
