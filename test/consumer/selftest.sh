#!/usr/bin/env bash
# Prove the consumer harness against the hand-written profiles in profiles/:
# a real podman + runc container must accept each profile and enforce it.
# Prints one line per case and closes with "N passed, N failed".
# Exit: 0 all passed, 1 any failed, 77 podman cannot run here (SKIP line).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
P=$here/profiles
pass=0
fail=0

# check NAME EXPECTED_RC EXPECTED_OUTPUT run.sh-args...
check() {
	local name=$1 want_rc=$2 want_out=$3
	shift 3
	local out rc
	out=$("$here/run.sh" "$@" 2>&1)
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "$out"
		exit 77
	fi
	if [ $rc -eq "$want_rc" ] && [ "$out" = "$want_out" ]; then
		echo "ok   $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name: want exit $want_rc and '$want_out', got exit $rc and:"
		printf '%s\n' "$out" | sed 's/^/     /'
		fail=$((fail + 1))
	fi
}

check "unconfined: mkdir works" \
	0 "ok" unconfined -- mkdir /tmp/d
check "deny-mkdir: mkdir gets EPERM" \
	1 "mkdir: Operation not permitted" "$P/deny-mkdir.json" -- mkdir /tmp/d
check "deny-mkdir: everything else allowed" \
	0 "hello" "$P/deny-mkdir.json" -- hello
check "fine-grained + no-new-privileges: hello runs" \
	0 "hello" --no-new-privileges "$P/fine-grained.json" -- hello
check "fine-grained + no-new-privileges: mkdir blocked" \
	1 "mkdir: Operation not permitted" --no-new-privileges "$P/fine-grained.json" -- mkdir /tmp/d
check "fine-grained-runc: hello runs" \
	0 "hello" "$P/fine-grained-runc.json" -- hello
check "fine-grained-runc: mkdir blocked" \
	1 "mkdir: Operation not permitted" "$P/fine-grained-runc.json" -- mkdir /tmp/d

# The pure Kubernetes list without no_new_privs: runc's own calls after the
# filter (capset, setuid, ...) are refused, so the container never starts.
out=$("$here/run.sh" "$P/fine-grained.json" -- hello 2>&1)
rc=$?
if [ $rc -eq 126 ] && [[ $out == *"operation not permitted"* ]]; then
	echo "ok   fine-grained without no-new-privileges: runc cannot start (126)"
	pass=$((pass + 1))
else
	echo "FAIL fine-grained without no-new-privileges: want exit 126, got $rc:"
	printf '%s\n' "$out" | sed 's/^/     /'
	fail=$((fail + 1))
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
