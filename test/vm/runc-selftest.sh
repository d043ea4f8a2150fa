#!/usr/bin/env bash
# Proves that runc can run a container under an AppArmor profile inside the
# test VM (run.sh): the profile is loaded with apparmor_parser, the bundle's
# config.json names it in process.apparmorProfile, and a write the profile
# denies fails with Permission denied inside the container, while the same
# container unconfined can write.
#
#   runc-selftest.sh   prints `ok ...`/`not ok ...` lines, then
#                      `N passed, N failed`; exit 0/1, or 77 (`SKIP: ...`)
#                      when fetch.sh or runc is not available
#
# runc runs with --no-pivot: the guest's root is the initramfs, which
# pivot_root cannot leave. One VM boot, about 6 s warm.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

rc=0
out=$("$here/fetch.sh") || rc=$?
if [ "$rc" = 77 ]; then
	printf '%s\n' "$out"
	exit 77
fi
[ "$rc" = 0 ] || {
	echo "runc-selftest.sh: fetch.sh failed (exit $rc)" >&2
	exit 1
}
if ! command -v runc >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get -q -o APT::Sandbox::User=root install -y --no-install-recommends runc >&2 || true
	fi
	command -v runc >/dev/null 2>&1 || {
		echo "SKIP: runc is not installed (apt-get install runc)"
		exit 77
	}
fi
runc=$(command -v runc)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/profiled-vm-runc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A container-style profile (like docker-default: everything but the deny
# rule, attach_disconnected for paths outside the container's root).
cat >"$tmp/profile" <<'EOF'
abi <abi/3.0>,
include <tunables/global>

profile vm-selftest flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  mount,
  umount,
  pivot_root,
  unix,
  deny /tmp/denied/** w,
}
EOF

# config.json for `runc run`; PROFILE and the command are filled in by the
# guest script (sed), so one template serves both containers.
cat >"$tmp/config.json" <<'EOF'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "/bin/sh", "-c", "echo \"current=$(cat /proc/self/attr/current)\"; echo x > /tmp/denied/x && echo write-ok" ],
    "env": [ "PATH=/bin" ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL" ],
      "effective": [ "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL" ],
      "permitted": [ "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL" ]
    },
    "noNewPrivileges": true,
    "apparmorProfile": "PROFILE"
  },
  "root": { "path": "rootfs", "readonly": false },
  "hostname": "vm-container",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "nodev", "mode=1777" ] }
  ],
  "linux": {
    "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" } ],
    "cgroupsPath": "/vm-selftest-CID"
  }
}
EOF
# /tmp is a fresh tmpfs in the container: create /tmp/denied first.
sed -i 's|"/bin/sh", "-c", "|"/bin/sh", "-c", "mkdir -p /tmp/denied; |' "$tmp/config.json"

cat >"$tmp/guest.sh" <<'EOF'
n_fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; n_fail=$((n_fail + 1)); }

st=0
out=$(apparmor_parser -r /etc/apparmor.d/vm-selftest 2>&1) || st=$?
if [ "$st" = 0 ]; then ok "apparmor_parser -r vm-selftest"; else notok "apparmor_parser -r vm-selftest: exit $st: $out"; fi

# The bundle: a static busybox as the container's whole root.
mkdir -p /bundle/rootfs/bin /bundle/rootfs/proc /bundle/rootfs/dev /bundle/rootfs/tmp
cp /usr/bin/busybox /bundle/rootfs/bin/busybox
for a in sh cat echo mkdir; do ln -s busybox "/bundle/rootfs/bin/$a"; done

# container NAME PROFILE: runs it, output in $out, exit status in $st
container() {
	sed -e "s|\"PROFILE\"|\"$2\"|" -e "s|CID|$1|" /etc/vm-runc/config.json >/bundle/config.json
	st=0
	out=$(cd /bundle && timeout 60 runc --root /run/runc run --no-pivot "$1" 2>&1) || st=$?
	echo "$out" | sed "s/^/#   $1: /"
}

container confined vm-selftest
if echo "$out" | grep -qx 'current=vm-selftest (enforce)'; then
	ok "container's /proc/self/attr/current is 'vm-selftest (enforce)'"
else
	notok "container's /proc/self/attr/current is not 'vm-selftest (enforce)' (runc exit $st)"
fi
if echo "$out" | grep -q '/tmp/denied/x: Permission denied' && ! echo "$out" | grep -qx write-ok; then
	ok "write to /tmp/denied/x in the container: Permission denied"
else
	notok "write to /tmp/denied/x in the container was not denied"
fi
if [ "$st" = 1 ]; then ok "runc run exits with the container's status (1)"; else notok "runc run exit $st, want 1"; fi

container unconfined unconfined
if echo "$out" | grep -qx 'current=unconfined' && echo "$out" | grep -qx write-ok && [ "$st" = 0 ]; then
	ok "the same container unconfined: write succeeds, exit 0"
else
	notok "the same container unconfined: runc exit $st"
fi
[ "$n_fail" = 0 ]
EOF

status=0
PROFILED_VM_LOG=$tmp/console.log "$here/run.sh" --timeout 120 --bin "$runc:/usr/sbin/runc" \
	--file "$tmp/profile:/etc/apparmor.d/vm-selftest" --file "$tmp/config.json:/etc/vm-runc/config.json" \
	"$tmp/guest.sh" >"$tmp/out" 2>"$tmp/err" || status=$?
if [ "$status" = 77 ]; then
	cat "$tmp/out"
	exit 77
fi
grep -E '^(ok|not ok|#) ' "$tmp/out" || true
passed=$(grep -c '^ok - ' "$tmp/out" || true)
failed=$(grep -c '^not ok - ' "$tmp/out" || true)
if [ "$status" = 0 ] && [ "$passed" = 5 ] && [ "$failed" = 0 ]; then
	echo "ok - guest script: exit 0, 5/5 checks"
	passed=$((passed + 1))
else
	echo "not ok - guest script: exit $status, $passed/5 checks passed"
	sed 's/^/#   /' "$tmp/out" "$tmp/err" | tail -n 60
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
