#!/bin/sh
# Runs inside the VM (busybox sh, Debian's kernel with AppArmor on): what
# the kernel exports for a loaded profile (policy/profiles/<name>.<n>/
# {name,raw_data}), compared with what the agent compiled, and the agent
# taking back its own profiles after its state is lost while a host
# profile stays foreign.  The agent runs as the DaemonSet runs it (uid 0,
# CAP_MAC_ADMIN only, no_new_privs).  Prints `ok - ...`/`not ok - ...` and
# `N passed, N failed`; exit 0 or 1.
set -u
AA=/sys/kernel/security/apparmor
CM=/cm
STATE=/var/lib/profiled
. /guest-lib.sh
SETPRIV=$(tool setpriv)

echo "# kernel $(uname -r), apparmor.export_binary=$(cat /sys/module/apparmor/parameters/export_binary)" \
	"hash_policy=$(cat /sys/module/apparmor/parameters/hash_policy)"
expect "the kernel has AppArmor on" [ -r "$AA/profiles" ]

agent() { # LOG [flags]: one reconcile, as the DaemonSet runs the agent
	log=$1
	shift
	"$SETPRIV" --bounding-set=-all,+mac_admin --inh-caps=-all --no-new-privs -- \
		profiled run --once --profiles "$CM" --seccomp-root /tmp/seccomp --state-dir "$STATE" \
		--node-name vm-node --metrics-addr "" "$@" >"$log" 2>&1
}
not_in() { ! grep -q "$2" "$1"; } # FILE PATTERN
# pdir NAME: the kernel's folder of a loaded profile, found by its name file
pdir() {
	for d in "$AA"/policy/profiles/*; do
		[ "$(cat "$d/name")" = "$1" ] && echo "$d" && return 0
	done
	return 1
}
# bin FILE: the agent's compiled policy for a profiles-folder file
bin() {
	sha=$(sha256sum <"$CM/..data/$1" | cut -d' ' -f1)
	find "$STATE/apparmor-cache" -type f -name "$sha" ! -path '*/names/*' ! -path '*/src/*'
}

mkdir -p "$CM" /tmp/v1 /tmp/v2 /tmp/v3 /tmp/seccomp /var/lib
# a host profile, loaded by the host's own parser
printf 'profile pd-host { file, }\n' >/tmp/host
apparmor_parser -r /tmp/host
expect "the host profile is loaded" listed pd-host enforce
printf 'profile pd-own { file, }\n' >/tmp/v1/own
printf 'profile pd-two { signal, }\nprofile pd-three { file, }\n' >/tmp/v1/two
printf 'profile pd-host { signal, }\n' >/tmp/v1/hijack
swap_to /tmp/v1

agent /tmp/a1.log --unload-removed
expect "first run: the agent's three profiles are loaded" \
	sh -c 'grep -qx "pd-own (enforce)" $0 && grep -qx "pd-two (enforce)" $0 && grep -qx "pd-three (enforce)" $0' "$AA/profiles"
expect "... the host's name is refused" grep -q 'apparmor profile rejected file=/cm/hijack error=.*already loaded and was not loaded by profiled' /tmp/a1.log

# What the kernel exports is exactly what the agent compiled.
for p in pd-own:own pd-two:two pd-three:two; do
	name=${p%%:*}
	file=${p#*:}
	pd=$(pdir "$name") # (expect uses $d)
	b=$(bin "$file")
	echo "# $name: $pd, raw_data $(sha256sum <"$pd/raw_data" | cut -c1-16) compiled $(sha256sum <"$b" | cut -c1-16) ($(wc -c <"$b") bytes)"
	expect "$name: the kernel's raw_data is byte for byte the agent's compiled file" cmp -s "$pd/raw_data" "$b"
	# the kernel's own hash of the load (sha1 before Linux 6.4, sha256
	# after), when apparmor.hash_policy is on: over the same bytes
	for h in sha1 sha256; do
		k=$(cat "$pd/raw_$h" 2>/dev/null)
		[ -n "$k" ] || continue
		expect "$name: the kernel's raw_$h is the $h of those bytes" \
			[ "$k" = "$(${h}sum <"$b" | cut -d' ' -f1)" ]
	done
done
dh=$(pdir pd-host)
expect "pd-host: the kernel's raw_data is not the agent's compile of hijack" \
	sh -c '! cmp -s "$0/raw_data" "$(find '"$STATE"'/apparmor-cache -type f -name "$(sha256sum </cm/..data/hijack | cut -d" " -f1)" ! -path "*/names/*")"' "$dh"
expect "... the agent can read raw_data with CAP_MAC_ADMIN only (no_new_privs, uid 0)" \
	"$SETPRIV" --bounding-set=-all,+mac_admin --inh-caps=-all --no-new-privs -- \
	sh -c 'cat "$0/raw_data" >/dev/null' "$(pdir pd-own)"

# The state is lost: the agent proves its profiles from the kernel alone.
rm -rf "$STATE"
nraw=$(ls "$AA/policy/raw_data" | wc -l)
agent /tmp/a2.log --unload-removed
expect "lost state: the three profiles are taken back" \
	[ "$(grep -c 'apparmor profile taken back' /tmp/a2.log)" -eq 3 ]
expect "... without loading them again" not_in /tmp/a2.log 'apparmor profile loaded\|apparmor profile restored'
expect "... the kernel holds no new policy data" [ "$(ls "$AA/policy/raw_data" | wc -l)" -eq "$nraw" ]
expect "... the host profile is still refused" grep -q 'file=/cm/hijack error=.*already loaded and was not loaded by profiled' /tmp/a2.log
grep -E 'taken back|rejected' /tmp/a2.log | sed 's/^/#   /'

# Taken back means owned: a removed file's profile is unloaded; the
# host's never is, even once its file is gone.
cp /tmp/v1/two /tmp/v2/
swap_to /tmp/v2
agent /tmp/a3.log --unload-removed
expect "own removed: pd-own is unloaded" not_listed pd-own
expect "hijack removed: pd-host is left loaded" listed pd-host enforce
expect "... pd-two and pd-three stay" sh -c 'grep -qx "pd-two (enforce)" $0 && grep -qx "pd-three (enforce)" $0' "$AA/profiles"

# Other policy under the agent's name while its state is lost: foreign.
printf 'profile pd-two { file, }\nprofile pd-three { file, }\n' >/tmp/other
apparmor_parser -r /tmp/other
rm -rf "$STATE"
agent /tmp/a4.log --unload-removed
expect "policy the agent did not compile is foreign after a lost state" \
	grep -q 'file=/cm/two error=.*pd-t[a-z]*. is already loaded and was not loaded by profiled' /tmp/a4.log
printf 'profile pd-keep { file, }\n' >/tmp/v3/keep
swap_to /tmp/v3
agent /tmp/a5.log --unload-removed
expect "... and is never unloaded" listed pd-two enforce
expect "... nor is the host's" listed pd-host enforce

finish
