#!/usr/bin/env bash
# Proves the QEMU harness (run.sh) on Debian's real kernel: AppArmor is on in
# the guest, a profile loaded with apparmor_parser is enforced, and every
# failure path of run.sh (script failure, skip, guest timeout, hard timeout,
# crash without status, usage error) comes back as it should.
#
#   selftest.sh        prints `ok ...`/`not ok ...` lines, then
#                      `N passed, N failed`; exit 0 all passed, 1 any failed,
#                      77 (`SKIP: <reason>`) when fetch.sh cannot get the
#                      kernel or tools
#
# Boots the VM 6 times (two of them in the background); about 20 s warm. PROFILED_VM_* variables are passed to
# run.sh (see run.sh); PROFILED_VM_LOG is set per case here.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
run=$here/run.sh

rc=0
out=$("$here/fetch.sh") || rc=$?
if [ "$rc" = 77 ]; then
	printf '%s\n' "$out"
	exit 77
fi
[ "$rc" = 0 ] || {
	echo "selftest.sh: fetch.sh failed (exit $rc)" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/profiled-vm-selftest.XXXXXX")
sleep_pid=
hang_pid=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	local p
	# Background run.sh still going (interrupted): TERM makes it kill its qemu.
	for p in $sleep_pid $hang_pid; do
		kill -TERM "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
unset PROFILED_VM_LOG PROFILED_VM_APPEND

passed=0
failed=0
ok() {
	echo "ok - $*"
	passed=$((passed + 1))
}
notok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}
# Show a failed case's output, indented, for the reader.
show() { sed 's/^/#   /' "$@" | tail -n 40; }

# vmrun NAME [run.sh args...]: runs run.sh, stdout in $tmp/NAME.out, stderr
# in $tmp/NAME.err, console log in $tmp/NAME.log; sets $status and $secs.
vmrun() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	status=0
	PROFILED_VM_LOG=$tmp/$name.log "$run" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null || status=$?
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	echo "$status $secs" >"$tmp/$name.status"
}
# The two timeout cases spend their time waiting, not computing: they run in
# the background while the others run; bgwait NAME collects one.
bgwait() {
	wait "$1" || true
	read -r status secs <"$tmp/$2.status" || { status=none secs='?'; }
}

# --- 0. the slow timeout cases, in the background ---------------------------
printf 'echo "sleeping past the timeout"\nsleep 300\necho "not reached"\n' >"$tmp/sleep.sh"
printf 'echo "SKIP: guest says so"\nexit 77\n' >"$tmp/skip.sh"
vmrun sleep --timeout 20 "$tmp/sleep.sh" &
sleep_pid=$!
# The guest never reports (init replaced by sleep): qemu itself is killed.
PROFILED_VM_APPEND="rdinit=/bin/sleep -- 1000" vmrun hang --timeout 6 "$tmp/skip.sh" &
hang_pid=$!

# --- 1. AppArmor in the guest ------------------------------------------------
cat >"$tmp/vm-selftest.profile" <<'EOF'
# Loaded by test/vm/selftest.sh inside the VM.
abi <abi/3.0>,
include <tunables/global>

profile vm-selftest {
  file,
  deny /tmp/denied/** w,
  audit deny /tmp/audited/** w,
}
EOF

cat >"$tmp/guest.sh" <<'EOF'
# Runs as root in the VM (busybox sh). One `ok`/`not ok` line per check.
n_fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; n_fail=$((n_fail + 1)); }
expect() { # description, then a command that must succeed
	d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}

enabled=$(cat /sys/module/apparmor/parameters/enabled 2>&1)
expect "apparmor enabled: /sys/module/apparmor/parameters/enabled is Y (got $enabled)" [ "$enabled" = Y ]
expect "securityfs: /sys/kernel/security/apparmor/profiles exists" [ -e /sys/kernel/security/apparmor/profiles ]
lsm=$(cat /sys/kernel/security/lsm)
expect "apparmor is in /sys/kernel/security/lsm ($lsm)" sh -c "echo '$lsm' | grep -qw apparmor"
expect "init runs unconfined" [ "$(cat /proc/self/attr/current)" = unconfined ]

st=0
out=$(apparmor_parser -r /etc/apparmor.d/vm-selftest 2>&1) || st=$?
expect "apparmor_parser -r loads the profile (exit $st${out:+: $out})" [ "$st" = 0 ]
expect "profiles lists 'vm-selftest (enforce)'" grep -qx 'vm-selftest (enforce)' /sys/kernel/security/apparmor/profiles

mkdir -p /tmp/denied /tmp/audited
# Confine a shell: write the next exec's profile to /proc/self/attr/exec,
# then exec (what aa-exec does, without libapparmor).
out=$( (echo "exec vm-selftest" >/proc/self/attr/exec && exec sh -c '
	echo "current=$(cat /proc/self/attr/current)"
	echo x >/tmp/denied/x && echo "denied-write=succeeded"
	echo x >/tmp/audited/x && echo "audited-write=succeeded"
	echo y >/tmp/allowed && echo "allowed-write=ok"') 2>&1)
echo "$out" | sed 's/^/#   confined: /'
expect "confined shell's /proc/self/attr/current is 'vm-selftest (enforce)'" sh -c 'echo "$1" | grep -qx "current=vm-selftest (enforce)"' _ "$out"
expect "confined write to /tmp/denied/x fails with Permission denied" sh -c 'echo "$1" | grep -q "/tmp/denied/x: Permission denied"' _ "$out"
expect "confined write to /tmp/denied/x left no file" [ ! -e /tmp/denied/x ]
expect "confined write outside the deny rule succeeds" sh -c 'echo "$1" | grep -qx allowed-write=ok' _ "$out"
expect "confined write to /tmp/audited/x fails with Permission denied" sh -c 'echo "$1" | grep -q "/tmp/audited/x: Permission denied"' _ "$out"
# A plain `deny` rule is silent; `audit deny` logs (kauditd prints it to dmesg).
logged=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	dmesg | grep 'apparmor="DENIED"' | grep -q 'name="/tmp/audited/x"' && logged=1 && break
	sleep 0.2
done
expect "the kernel logged the audit deny (apparmor=\"DENIED\" name=\"/tmp/audited/x\")" [ -n "$logged" ]
expect "unconfined write to /tmp/denied/y succeeds" sh -c 'echo y >/tmp/denied/y'

if command -v aa-exec >/dev/null; then
	cur=$(aa-exec -p vm-selftest -- cat /proc/self/attr/current 2>&1)
	expect "--bin aa-exec (libapparmor copied): aa-exec -p vm-selftest shows '$cur'" [ "$cur" = "vm-selftest (enforce)" ]
fi
if [ -x /usr/local/bin/profiled ]; then
	v=$(profiled --version 2>&1)
	expect "--bin profiled runs in the guest: '$v'" sh -c 'case "$1" in "profiled "*) exit 0 ;; *) exit 1 ;; esac' _ "$v"
fi

apparmor_parser -R /etc/apparmor.d/vm-selftest
expect "apparmor_parser -R removes the profile" sh -c '! grep -q "^vm-selftest " /sys/kernel/security/apparmor/profiles'
[ "$n_fail" = 0 ]
EOF

args=(--file "$tmp/vm-selftest.profile:/etc/apparmor.d/vm-selftest")
want=14
if [ -x /usr/bin/aa-exec ]; then
	args+=(--bin /usr/bin/aa-exec)
	want=$((want + 1))
fi
if [ -x "$repo/build/profiled" ]; then
	args+=(--bin "$repo/build/profiled")
	want=$((want + 1))
else
	echo "# build/profiled not built: its --bin check is left out"
fi
vmrun apparmor "${args[@]}" "$tmp/guest.sh"
grep -E '^(ok|not ok|#) ' "$tmp/apparmor.out" | sed 's/^\(not ok\|ok\) - /\1 - guest: /' || true
g_ok=$(grep -c '^ok - ' "$tmp/apparmor.out" || true)
g_fail=$(grep -c '^not ok - ' "$tmp/apparmor.out" || true)
passed=$((passed + g_ok))
failed=$((failed + g_fail))
if [ "$status" = 0 ] && [ "$g_ok" = "$want" ] && [ "$g_fail" = 0 ]; then
	ok "guest AppArmor script: exit 0, $g_ok/$want checks, ${secs} s"
else
	notok "guest AppArmor script: exit $status, $g_ok/$want checks passed, $g_fail failed (${secs} s)"
	show "$tmp/apparmor.err"
fi

# --- 2. failure paths ---------------------------------------------------------
# A failing guest script (given on stdin): exit 1 and its output come back.
status=0
PROFILED_VM_LOG=$tmp/fail.log "$run" - >"$tmp/fail.out" 2>"$tmp/fail.err" <<'EOF' || status=$?
echo "about to fail"
echo "to stderr" >&2
exit 1
EOF
if [ "$status" = 1 ] && grep -qx 'about to fail' "$tmp/fail.out" && grep -qx 'to stderr' "$tmp/fail.out"; then
	ok "guest script exiting 1 (read from stdin): run.sh exits 1 and passes its output"
else
	notok "guest script exiting 1: run.sh exited $status"
	show "$tmp/fail.out" "$tmp/fail.err"
fi

vmrun skip "$tmp/skip.sh"
if [ "$status" = 77 ] && grep -qx 'SKIP: guest says so' "$tmp/skip.out"; then
	ok "guest script exiting 77: run.sh exits 77 (${secs} s)"
else
	notok "guest script exiting 77: run.sh exited $status"
	show "$tmp/skip.out" "$tmp/skip.err"
fi

vmrun usage --timeout x "$tmp/skip.sh"
if [ "$status" = 64 ]; then
	ok "usage error: exit 64"
else
	notok "usage error: exit $status"
	show "$tmp/usage.err"
fi

# The guest dies without a status (init exits: kernel panic, reboot).
PROFILED_VM_APPEND="rdinit=/bin/false" vmrun crash --timeout 60 "$tmp/skip.sh"
if [ "$status" = 70 ] && grep -q 'no VM-EXIT-STATUS marker' "$tmp/crash.err" &&
	grep -qE 'Kernel panic|[[:space:]]panic\+0x' "$tmp/crash.err"; then
	# (the last console lines hold the panic line or, when the stack trace
	# is long, the panic() frame of the trace)
	ok "VM that dies without a status: exit 70, panic shown (${secs} s)"
else
	notok "VM that dies without a status: exit $status (${secs} s)"
	show "$tmp/crash.out" "$tmp/crash.err"
fi

bgwait "$sleep_pid" sleep
if [ "$status" = 124 ] && grep -q 'VM timed out after 20 s' "$tmp/sleep.err" &&
	grep -qx 'sleeping past the timeout' "$tmp/sleep.err" && ! grep -q 'not reached' "$tmp/sleep.out"; then
	ok "guest script sleeping past --timeout 20: killed, 'VM timed out after 20 s', exit 124 (${secs} s)"
else
	notok "guest script sleeping past --timeout 20: exit $status (${secs} s)"
	show "$tmp/sleep.out" "$tmp/sleep.err"
fi

bgwait "$hang_pid" hang
if [ "$status" = 124 ] && grep -q 'VM timed out after 6 s (qemu killed' "$tmp/hang.err"; then
	ok "VM that never reports: qemu killed at --timeout 6, exit 124 (${secs} s)"
else
	notok "VM that never reports: exit $status (${secs} s)"
	show "$tmp/hang.out" "$tmp/hang.err"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
