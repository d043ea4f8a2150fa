#!/bin/bash
# make cluster-down: removes everything up.sh made: its processes (the
# daemons, containerd's shims, the pods' processes), the mounts under
# $STATE, the pods' network namespaces and veths, the bridge, the nat rule,
# the cgroups and $STATE itself, and build/cluster. Safe to run twice.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=env.sh
. "$here/env.sh"
log() { echo "cluster-down: $*" >&2; }
[ "$(id -u)" = 0 ] || {
	log "needs root"
	exit 1
}

# pids_in CGROUP-DIR: every task of the cgroup and of its descendants.
pids_in() {
	[ -d "$1" ] || return 0
	find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null
}

# The kubelet first (it would restart pods), then the rest by pid file.
for name in kubelet kube-scheduler kube-controller-manager kube-apiserver registry etcd; do
	pid=$(cat "$STATE/run/$name.pid" 2>/dev/null) || continue
	kill "$pid" 2>/dev/null && log "stopped $name ($pid)"
done
# The pods' processes: every task in the kubelet's cgroups.
for h in "$CGROUP_V1"/pids "$CGROUP_V1"/memory; do
	for pid in $(pids_in "$h$CGROUP_ROOT/kubepods"); do
		kill -9 "$pid" 2>/dev/null
	done
done
# containerd and its shims: every task in the daemons cgroup (SIGTERM first).
pid=$(cat "$STATE/run/containerd.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -z "$(pids_in "$CGROUP_V1/pids$CGROUP_ROOT")" ] && break
	[ "$i" -gt 3 ] && for p in $(pids_in "$CGROUP_V1/pids$CGROUP_ROOT"); do kill -9 "$p" 2>/dev/null; done
	sleep 1
done
left=$(pids_in "$CGROUP_V1/pids$CGROUP_ROOT" | tr '\n' ' ')
[ -z "$left" ] || log "still running in $CGROUP_ROOT: $left"

# Mounts under $STATE (container root filesystems, volumes, the pods'
# network namespaces), deepest first.
if [ -d "$STATE" ]; then
	awk -v s="$STATE/" 'index($2, s) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
fi

# The bridge (the pods' veths went with their namespaces) and the rule.
for veth in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
	ip link del "$veth"
done
ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE" && log "removed bridge $BRIDGE"
iptables -t nat -S PREROUTING 2>/dev/null | grep -- "--comment $TAG" | sed 's/^-A /-D /' |
	while read -r rule; do
		eval "iptables -t nat $rule"
	done

# The cgroups, leaves first.
for h in "$CGROUP_V1"/*/; do
	d="${h%/}$CGROUP_ROOT"
	[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -d "$d" ] && log "cgroup $d left"
done

# The images up.sh made in podman's store (the profiled image stays: make image's).
podman rmi -f "$REGISTRY/profiled-pause:1" "$REGISTRY/busybox:e2e" >/dev/null 2>&1

rm -rf "$STATE" "$repo/build/cluster"
log "done"
exit 0
