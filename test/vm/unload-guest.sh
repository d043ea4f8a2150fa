#!/bin/sh
# Runs inside the VM (busybox sh, Debian's kernel with AppArmor on): the
# built profiled with --unload-removed against the real kernel.  A profile
# whose file leaves the ConfigMap folder while a process runs under it
# stays loaded (and the agent says which process holds it); once the
# process ends it is unloaded at the next retry.  Prints `ok - ...`/
# `not ok - ...` and `N passed, N failed`; exit 0 or 1.
set -u
AA=/sys/kernel/security/apparmor
CM=/cm
. /guest-lib.sh
SETPRIV=$(tool setpriv)

echo "# kernel $(uname -r), apparmor enabled: $(cat /sys/module/apparmor/parameters/enabled)"
expect "the kernel has AppArmor on" [ -r "$AA/profiles" ]

mkdir -p "$CM" /tmp/v1 /tmp/v2 /tmp/seccomp /var/lib
printf 'profile pd-held { file, signal, }\n' >/tmp/v1/held
printf 'profile pd-free { file, }\n' >/tmp/v1/free
printf 'profile pd-stays { file, }\n' >/tmp/v1/stays
cp /tmp/v1/stays /tmp/v2/
swap_to /tmp/v1

# The agent as the DaemonSet runs it: uid 0 with no capability but
# CAP_MAC_ADMIN, no_new_privs (util-linux's setpriv, the image's or the
# host's: busybox has an
# applet of that name, without --bounding-set and --reuid).
(exec "$SETPRIV" --bounding-set=-all,+mac_admin --inh-caps=-all --no-new-privs -- \
	profiled run --profiles "$CM" --seccomp-root /tmp/seccomp --state-dir /var/lib/profiled \
	--node-name vm-node --metrics-addr "" --unload-removed --unload-retry-interval 1s \
	--log-level debug) >/tmp/daemon.log 2>&1 &
daemon=$!
expect "the daemon starts and is ready" wait_for 30 grep -q ' ready' /tmp/daemon.log
expect "it sees the node's processes (the initial PID namespace): unloading is on" \
	grep -q 'unloaded once no process runs under it' /tmp/daemon.log
# The compile runs in the background: "ready" can come before the load.
expect "pd-held is loaded" wait_for 30 listed pd-held enforce
expect "pd-free is loaded" listed pd-free enforce

echo "# agent: $(grep -E '^(Uid|CapEff|NoNewPrivs)' /proc/$daemon/status | tr -s '\t\n' '  ')"
expect "the agent runs with CAP_MAC_ADMIN (bit 33) only" \
	sh -c '[ "$(sed -n "s/^CapEff:[[:space:]]*//p" /proc/$1/status)" = 0000000200000000 ]' _ "$daemon"

# A process of another user under pd-held, as aa-exec does it.
"$SETPRIV" --reuid=1000 --regid=1000 --clear-groups -- \
	sh -c 'echo "exec pd-held" >/proc/self/attr/exec && exec sleep 600' &
holder=$!
expect "the holder runs under pd-held (/proc/PID/attr/current)" \
	wait_for 5 grep -qx 'pd-held (enforce)' "/proc/$holder/attr/current"
echo "# holder pid $holder: $(cat /proc/$holder/attr/current)"
expect "the holder is another user's (uid 1000)" \
	sh -c 'grep -qE "^Uid:[[:space:]]+1000[[:space:]]" /proc/$1/status' _ "$holder"

swap_to /tmp/v2
expect "pd-free, which nobody uses, is unloaded" wait_for 20 not_listed pd-free
expect "... and says so" grep -q 'apparmor profile unloaded profile=pd-free' /tmp/daemon.log
expect "pd-held is held: the agent names the holding process" \
	wait_for 10 grep -q "in use; not unloaded.*profile=pd-held processes=1 holders=\"pid $holder (sleep)\"" /tmp/daemon.log
expect "two retries later pd-held is still held" \
	wait_for 10 sh -c '[ "$(grep -c "still in use; not unloaded profile=pd-held" /tmp/daemon.log)" -ge 2 ]'
expect "... and still loaded in the kernel" listed pd-held enforce
expect "... still confining its process" grep -qx 'pd-held (enforce)' "/proc/$holder/attr/current"
expect "the warning was logged once, not at every retry" \
	sh -c '[ "$(grep -c "in use; not unloaded, tried again" /tmp/daemon.log)" -eq 1 ]'
expect "no node label for pd-held any more" \
	sh -c 'grep "label=apparmor.profiled.io/pd-held" /tmp/daemon.log | tail -n 1 | grep -q "would remove"'
expect "pd-stays is untouched" listed pd-stays enforce

kill -KILL "$holder"
wait "$holder" 2>/dev/null
expect "the process ended: pd-held is unloaded at the next retry" wait_for 10 not_listed pd-held
expect "... and says so" grep -q 'apparmor profile unloaded profile=pd-held' /tmp/daemon.log
expect "... by the retry timer" grep -q 'reconciled trigger=unload-retry' /tmp/daemon.log

kill -TERM "$daemon"
wait "$daemon"
rc=$?
expect "SIGTERM: exit 0" [ "$rc" -eq 0 ]
grep -E 'apparmor profile|in use|unload' /tmp/daemon.log | sed 's/^/#   /'

finish
