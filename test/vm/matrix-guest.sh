#!/bin/sh
# Runs inside the VM for matrix.sh, once per kernel: what this kernel's
# AppArmor mediates (its apparmorfs features), an io_uring rule where the
# kernel mediates io_uring, then the end-to-end test profiled-guest.sh
# (load, enforce, Permission denied, /proc/self/attr/current, ...).
# Prints `ok - `/`not ok - `/`skip - ` lines and `#` figures; exit 0 or 1.
set -u
AA=/sys/kernel/security/apparmor
F=$AA/features
PARSER=${AA_PARSER:-apparmor_parser}
. /guest-lib.sh

echo "# uptime at script start: $(cut -d' ' -f1 /proc/uptime) s"
echo "# kernel $(uname -r)"
echo "# parser $($PARSER --version 2>&1 | head -n1)"

# --- what the kernel mediates
expect "apparmorfs lists the kernel's features" [ -d "$F" ]
echo "# features: $(ls "$F" | tr '\n' ' ')"
# notable entries: each shown as path=contents (or its sub-entries)
for e in policy/versions namespaces io_uring ipc mqueue network_v9 dbus domain/version \
	file/mask signal/mask ptrace/mask policy/permstable32 policy/unconfined_restrictions; do
	p=$F/$e
	if [ -d "$p" ]; then
		echo "# features/$e/: $(ls "$p" | tr '\n' ' ')"
	elif [ -f "$p" ]; then
		echo "# features/$e: $(tr '\n' ' ' <"$p")"
	fi
done
found=$(find "$F" \( -name '*userns*' -o -name '*mqueue*' \) | sort)
[ -n "$found" ] || echo "# userns, mqueue: no entry in features/ (this kernel does not mediate them)"
for e in $found; do
	if [ -f "$e" ]; then
		echo "# ${e#"$AA"/}: $(tr '\n' ' ' <"$e")"
	else
		echo "# ${e#"$AA"/}/: $(ls "$e" | tr '\n' ' ')"
	fi
done
expect "the kernel lists its policy ABI versions (policy/versions)" \
	sh -c '[ -n "$(ls "$1"/policy/versions 2>/dev/null)" ]' _ "$F"

# --- io_uring: a profile with an io_uring rule loads where the kernel
# mediates it, if the parser can express the rule at all
if [ -d "$F/io_uring" ]; then
	cat >/tmp/io-uring <<'P'
profile pd-io-uring {
  file,
  io_uring,
}
P
	if err=$($PARSER -S /tmp/io-uring 2>&1 >/dev/null); then
		expect "io_uring: a profile with an io_uring rule loads" $PARSER -r /tmp/io-uring
		expect "io_uring: ... and is listed in enforce mode" listed pd-io-uring enforce
	else
		echo "# io_uring: the parser rejects the rule: $(echo "$err" | head -n1)"
		echo "skip - io_uring: the kernel mediates io_uring, but this parser ($($PARSER --version 2>&1 | head -n1 | sed 's/.*version //')) cannot express an io_uring rule; the load check is left for a 4.x parser"
	fi
else
	echo "# io_uring: not mediated by this kernel (no features/io_uring)"
fi
finish
rc=$?

# --- the end-to-end test, in its own shell (its own counters)
sh /profiled-guest.sh
e2e=$?
[ "$rc" -eq 0 ] && [ "$e2e" -eq 0 ]
