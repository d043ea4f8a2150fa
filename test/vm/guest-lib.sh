# Sourced by the guest scripts (busybox sh, inside the VM; run.sh copies it
# to /guest-lib.sh): the test's counters and checks, and the kubelet's
# ConfigMap layout in $CM.

passed=0
failed=0

ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
expect() { # DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}
# finish: the summary line and the script's status.
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# listed NAME MODE / not_listed NAME: the kernel's list of loaded profiles.
listed() { grep -qx "$1 ($2)" "$AA/profiles"; }
not_listed() { ! grep -q "^$1 (" "$AA/profiles"; }

# wait_for SECONDS COMMAND...: polls every 0.2 s.
wait_for() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	"$@"
}
ms() { cut -d' ' -f1 /proc/uptime | tr -d .; } # centiseconds

# The kubelet's layout: ..TIMESTAMP/ with the files, ..data -> it, and a
# top-level link per key (busybox has no python for
# test/tools/kubelet_writer.py).  swap_to DIR installs a new payload
# atomically enough for the test (busybox has no rename of a symlink over
# another: ln -sfn replaces ..data).
ts=0
swap_to() {
	ts=$((ts + 1))
	new="..2026_11_29_00_00_0$ts.000000001"
	mkdir "$CM/$new"
	cp "$1"/* "$CM/$new/"
	old=$(readlink "$CM/..data" 2>/dev/null || true)
	ln -sfn "$new" "$CM/..data"
	for f in "$CM/$new"/*; do
		k=$(basename "$f")
		[ -L "$CM/$k" ] || ln -s "..data/$k" "$CM/$k"
	done
	for l in "$CM"/*; do
		k=$(basename "$l")
		[ -e "$CM/..data/$k" ] || rm -f "$l"
	done
	[ -z "$old" ] || rm -rf "${CM:?}/$old"
}

# tool NAME: the first real program NAME (a regular file, not one of
# busybox's applet links) in /usr/local/bin, /usr/bin, /usr/sbin, /test/bin:
# util-linux's setpriv (busybox's has no --bounding-set) from the image or
# the host (--bin), busybox itself for a container's rootfs.  busybox sh
# runs its own applets before PATH, so `setpriv` alone would be busybox's.
tool() {
	for d in /usr/local/bin /usr/bin /usr/sbin /test/bin; do
		if [ -f "$d/$1" ] && [ ! -L "$d/$1" ] && [ -x "$d/$1" ]; then
			echo "$d/$1"
			return 0
		fi
	done
	echo "tool: no $1 in the guest" >&2
	echo "/nonexistent/$1"
	return 1
}
