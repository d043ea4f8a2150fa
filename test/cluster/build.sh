#!/bin/sh
# Builds the pinned Kubernetes (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kubectl) and etcd from the module in this folder
# into a cache outside the repository, keyed by the Kubernetes version:
#
#   $PROFILED_K8S_CACHE/<version>/bin      (default /var/tmp/profiled-k8s)
#
# A warm run (every binary present) builds nothing. Prints the bin folder.
# The build runs under nice: the machine's cores are shared.
#   GO        the go command (default: go on PATH, else /usr/local/go/bin/go)
#   GO_PARALLEL  go build -p (default: the online CPUs)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PROFILED_K8S_CACHE:-/var/tmp/profiled-k8s}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
par=${GO_PARALLEL:-$(nproc)}

version=$(sed -n 's#^[[:space:]]*k8s.io/kubernetes v\([^ ]*\).*#\1#p' "$here/go.mod" | head -n1)
etcd=$(sed -n 's#^[[:space:]]*go.etcd.io/etcd/server/v3 v\([^ ]*\).*#\1#p' "$here/go.mod" | head -n1)
[ -n "$version" ] && [ -n "$etcd" ] || { echo "build.sh: no version in go.mod" >&2; exit 1; }
bin="$cache/v$version/bin"

cmds="etcd kube-apiserver kubelet kubectl kube-controller-manager kube-scheduler"
missing=""
for c in $cmds; do
	[ -x "$bin/$c" ] || missing="$missing $c"
done
if [ -z "$missing" ]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$bin"
# One build at a time (a second caller waits, then finds the binaries).
exec 9>"$cache/.lock"
flock 9
missing=""
for c in $cmds; do
	[ -x "$bin/$c" ] || missing="$missing $c"
done
[ -n "$missing" ] || { echo "$bin"; exit 0; }
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
cd "$here"
# The module's go.sum is committed; -mod=mod is not needed and would let
# the build rewrite it.
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath"
ldk="-s -w -X k8s.io/component-base/version.gitVersion=v$version -X k8s.io/component-base/version.gitMajor=${version%%.*} -X k8s.io/component-base/version.gitMinor=$(echo "$version" | cut -d. -f2) -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=v$version"
# One binary at a time, the control plane's first: an interrupted build
# keeps what it finished, and the packages they share compile once (go's
# build cache).
for c in $missing; do
	case $c in
	etcd) pkg=go.etcd.io/etcd/server/v3 ;;
	*) pkg=k8s.io/kubernetes/cmd/$c ;;
	esac
	echo "build.sh: building $c (go build -p $par)" >&2
	nice -n 19 "$GO" build -p "$par" -ldflags "$ldk" -o "$tmp/$c" "$pkg"
	mv "$tmp/$c" "$bin/$c"
done
echo "build.sh: built$missing (k8s v$version, etcd v$etcd) in $(($(date +%s) - start)) s" >&2
echo "$bin"
