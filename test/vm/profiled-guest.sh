#!/bin/sh
# Runs inside the VM (busybox sh, Debian's kernel with AppArmor on): the
# built profiled against the real kernel.  Prints `ok - ...`/`not ok - ...`
# and `N passed, N failed`; exit 0 or 1.
#
# /payload holds deny-write (the Kubernetes tutorial's profile), two (a file
# declaring two profiles), broken, deny-write-v2 and parser-log (a parser
# wrapper recording its calls).
set -u
AA=/sys/kernel/security/apparmor
CM=/cm
STATE=/var/lib/profiled
. /guest-lib.sh

# confined PROFILE COMMAND: runs COMMAND (sh -c) under PROFILE, as
# aa-exec does, printing its output.
confined() {
	(echo "exec $1" >/proc/self/attr/exec && exec sh -c "$2") 2>&1
}

echo "# kernel $(uname -r), apparmor enabled: $(cat /sys/module/apparmor/parameters/enabled)"
expect "the kernel has AppArmor on" [ -r "$AA/profiles" ]

mkdir -p "$CM" /tmp/v1 /tmp/v2 /tmp/denied /tmp/seccomp /var/lib
cp /payload/deny-write /tmp/v1/k8s-apparmor-example-deny-write
cp /payload/two /payload/broken /tmp/v1/
cp /payload/deny-write-v2 /tmp/v2/k8s-apparmor-example-deny-write
cp /payload/two /tmp/v2/
swap_to /tmp/v1

# exec: the daemon itself must be the process $! names, not a subshell.
# Always the same parser (the recording wrapper): the compiled-policy cache
# is keyed by the parser program, so another one would compile again.
run() {
	exec profiled run --profiles "$CM" --seccomp-root /tmp/seccomp --state-dir "$STATE" \
		--node-name vm-node --apparmor-parser /payload/parser-log "$@"
}

# --- 1. one reconcile: load, confirm, label; the broken file is rejected
t0=$(ms)
(run --once) >/tmp/once.log 2>&1
rc=$?
t1=$(ms)
echo "# first --once: exit $rc in $(((t1 - t0) * 10)) ms"
sed 's/^/#   /' /tmp/once.log
expect "--once exits 1 (one file rejected)" [ "$rc" -eq 1 ]
expect "deny-write is loaded in enforce mode" listed k8s-apparmor-example-deny-write enforce
expect "both profiles of a two-profile file are loaded" listed pd-two-a enforce
expect "... with their own mode" listed pd-two-b complain
expect "the broken file is reported with the parser's line number" \
	grep -q 'apparmor profile rejected file=/cm/broken error="AppArmor parser error for /cm/broken .*line 5' /tmp/once.log
expect "nothing of the broken file is loaded" not_listed pd-broken
expect "the load is confirmed with the kernel's mode" \
	grep -q 'apparmor profile loaded profile=pd-two-b mode=complain file=/cm/two' /tmp/once.log
expect "the confirmed profiles get labels" \
	grep -q 'would set node label node=vm-node label=apparmor.profiled.io/k8s-apparmor-example-deny-write value=true' /tmp/once.log
expect "the node is labeled apparmor=enabled" \
	grep -q 'label=profiled.io/apparmor value=enabled' /tmp/once.log

# --- 2. the kernel enforces it
out=$(confined k8s-apparmor-example-deny-write 'cat /proc/self/attr/current; echo x >/tmp/w1 && echo wrote')
echo "$out" | sed 's/^/#   confined: /'
expect "a confined process runs under the profile (/proc/self/attr/current)" \
	sh -c 'echo "$1" | grep -qx "k8s-apparmor-example-deny-write (enforce)"' _ "$out"
expect "a confined write is denied (Permission denied)" \
	sh -c 'echo "$1" | grep -q "/tmp/w1: Permission denied"' _ "$out"
expect "... and wrote nothing" [ ! -e /tmp/w1 ]
expect "an unconfined process may write" sh -c 'echo x >/tmp/w2 && [ -s /tmp/w2 ]'

# --- 2b. a container runtime confines a container with it: the tutorial's
# pod (`touch /tmp/test` under k8s-apparmor-example-deny-write) as an OCI
# bundle for runc, which sets the profile for the container's process
mkdir -p /bundle/rootfs/bin /bundle/rootfs/proc /bundle/rootfs/dev /bundle/rootfs/tmp
cp "$(tool busybox)" /bundle/rootfs/bin/busybox
for a in sh cat touch; do ln -s busybox "/bundle/rootfs/bin/$a"; done
container() { # NAME PROFILE
	sed -e "s|@PROFILE@|$2|" -e "s|@CID@|$1|" /payload/config.json >/bundle/config.json
	st=0
	out=$(cd /bundle && timeout 60 runc --root /run/runc run --no-pivot "$1" 2>&1) || st=$?
	echo "$out" | sed "s/^/#   runc $1: /"
}
container tutorial k8s-apparmor-example-deny-write
expect "runc: the container runs under the profile profiled loaded" \
	sh -c 'echo "$1" | grep -qx "current=k8s-apparmor-example-deny-write (enforce)"' _ "$out"
expect "runc: touch /tmp/test in the container: Permission denied (the tutorial's result)" \
	sh -c 'echo "$1" | grep -q "/tmp/test: Permission denied" && [ "$2" -ne 0 ]' _ "$out" "$st"
container plain unconfined
expect "runc: the same container unconfined may write" \
	sh -c 'echo "$1" | grep -qx "current=unconfined" && echo "$1" | grep -qx touched && [ "$2" -eq 0 ]' _ "$out" "$st"

# --- 3. the daemon: a ConfigMap change replaces the loaded profile
(run --resync-interval 2s) >/tmp/daemon.log 2>&1 &
pid=$!
expect "the daemon starts and is ready" wait_for 30 grep -q ' ready' /tmp/daemon.log
expect "a restart loads nothing again (all owned and listed)" \
	sh -c '! grep -q "apparmor profile loaded" /tmp/daemon.log'
t0=$(ms)
swap_to /tmp/v2
expect "the changed profile is loaded after the ..data swap" \
	wait_for 30 grep -q 'apparmor profile loaded profile=k8s-apparmor-example-deny-write' /tmp/daemon.log
t1=$(ms)
echo "# swap to load confirmed in the log: $(((t1 - t0) * 10)) ms (TCG)"
out=$(confined k8s-apparmor-example-deny-write 'echo x >/tmp/w3 && echo wrote; echo y >/tmp/denied/y && echo wrote-denied')
echo "$out" | sed 's/^/#   confined: /'
expect "the change takes effect: a write outside /tmp/denied is allowed now" \
	sh -c 'echo "$1" | grep -qx wrote' _ "$out"
expect "... and one below /tmp/denied is denied" \
	sh -c 'echo "$1" | grep -q "/tmp/denied/y: Permission denied"' _ "$out"
expect "the broken file, gone from the ConfigMap, was reported once, never as a dangling link" \
	sh -c '[ "$(grep -c "rejected file=/cm/broken" /tmp/daemon.log)" -eq 1 ]'

# --- 4. drift: a profile removed by hand comes back at the resync
printf 'pd-two-a' >"$AA/.remove"
expect "pd-two-a removed by hand" not_listed pd-two-a
expect "the resync loads it again" wait_for 20 listed pd-two-a enforce
expect "... and says so" \
	wait_for 5 grep -q 'apparmor profile restored profile=pd-two-a mode=enforce' /tmp/daemon.log

# --- 5. SIGTERM
t0=$(ms)
kill -TERM "$pid"
wait "$pid"
rc=$?
t1=$(ms)
echo "# SIGTERM to exit: $(((t1 - t0) * 10)) ms (TCG)"
expect "SIGTERM: exit 0" [ "$rc" -eq 0 ]
expect "SIGTERM: within 2 s" [ $((t1 - t0)) -lt 200 ]

# --- 6. after a "reboot" (the kernel holds none of them) everything is
# loaded again from the cache, without compiling
for n in k8s-apparmor-example-deny-write pd-two-a pd-two-b; do
	printf '%s' "$n" >"$AA/.remove"
done
expect "the kernel holds none of them" not_listed pd-two-b
: >/tmp/parser.log
t0=$(ms)
(run --once) >/tmp/reboot.log 2>&1
rc=$?
t1=$(ms)
echo "# --once after the reboot: exit $rc in $(((t1 - t0) * 10)) ms"
sed 's/^/#   /' /tmp/reboot.log
sed 's/^/#   parser: /' /tmp/parser.log
expect "--once after the reboot exits 0" [ "$rc" -eq 0 ]
expect "all three profiles are loaded again" \
	sh -c 'grep -qx "k8s-apparmor-example-deny-write (enforce)" '"$AA"'/profiles &&
	       grep -qx "pd-two-a (enforce)" '"$AA"'/profiles &&
	       grep -qx "pd-two-b (complain)" '"$AA"'/profiles'
expect "the parser did not compile anything" sh -c '! grep -q -- "--write-cache\|--names" /tmp/parser.log'
expect "the reloads are reported as restored" \
	grep -q 'apparmor profile restored profile=k8s-apparmor-example-deny-write mode=enforce' /tmp/reboot.log

# --- 7. a loaded profile profiled does not own is refused
cat >/tmp/host-profile <<'P'
profile pd-host-owned { file, }
P
apparmor_parser -r /tmp/host-profile
mkdir -p /tmp/v3
cp /tmp/v2/* /tmp/v3/
cp /tmp/host-profile /tmp/v3/hijack
swap_to /tmp/v3
(run --once) >/tmp/hijack.log 2>&1
rc=$?
sed 's/^/#   /' /tmp/hijack.log
expect "a host's profile is refused (exit 1)" [ "$rc" -eq 1 ]
expect "... with a clear error" grep -q 'apparmor profile rejected file=/cm/hijack error=.*already loaded and was not loaded by profiled' /tmp/hijack.log
expect "... and is not labeled" sh -c '! grep -q "apparmor.profiled.io/pd-host-owned" /tmp/hijack.log'

finish
