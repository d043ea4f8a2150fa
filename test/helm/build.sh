#!/bin/sh
# Builds the pinned helm and kustomize the chart's tests use from the module
# in this folder (go.mod, go.sum: helm.sh/helm/v4 and
# sigs.k8s.io/kustomize/kustomize/v5 as tools) into a cache outside the
# repository, keyed by each one's version:
#
#   $PROFILED_HELM_CACHE/<helm version>/helm          (default /var/tmp/profiled-helm)
#   $PROFILED_HELM_CACHE/kustomize-<version>/kustomize
#
# A separate module from test/cluster's so that helm's and kustomize's
# dependency versions do not move the pinned Kubernetes'. A warm run builds
# nothing. Prints the two binaries' paths, one a line (helm first).
# The build runs under nice: the machine's cores are shared.
#   GO           the go command (default: go on PATH, else /usr/local/go/bin/go)
#   GO_PARALLEL  go build -p (default: the online CPUs)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PROFILED_HELM_CACHE:-/var/tmp/profiled-helm}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
par=${GO_PARALLEL:-$(nproc)}

hv=$(sed -n 's#^[[:space:]]*helm.sh/helm/v4 \(v[^ ]*\).*#\1#p' "$here/go.mod" | head -n1)
kv=$(sed -n 's#^[[:space:]]*sigs.k8s.io/kustomize/kustomize/v5 \(v[^ ]*\).*#\1#p' "$here/go.mod" | head -n1)
[ -n "$hv" ] && [ -n "$kv" ] || { echo "build.sh: no helm or kustomize version in go.mod" >&2; exit 1; }
helm=$cache/$hv/helm
kustomize=$cache/kustomize-$kv/kustomize

if [ -x "$helm" ] && [ -x "$kustomize" ]; then
	printf '%s\n%s\n' "$helm" "$kustomize"
	exit 0
fi

mkdir -p "$cache"
# One build at a time (a second caller waits, then finds the binaries).
exec 9>"$cache/.lock"
flock 9
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
cd "$here"
# The module's go.sum is committed; -mod=mod is not needed and would let
# the build rewrite it.
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath"
if [ ! -x "$helm" ]; then
	echo "build.sh: building helm $hv (go build -p $par)" >&2
	# helm --version prints internal/version's values, empty unless set.
	nice -n 19 "$GO" build -p "$par" \
		-ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$hv -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
		-o "$tmp/helm" helm.sh/helm/v4/cmd/helm
	mkdir -p "${helm%/*}"
	mv "$tmp/helm" "$helm"
fi
if [ ! -x "$kustomize" ]; then
	echo "build.sh: building kustomize $kv (go build -p $par)" >&2
	nice -n 19 "$GO" build -p "$par" -ldflags "-s -w" -o "$tmp/kustomize" sigs.k8s.io/kustomize/kustomize/v5
	mkdir -p "${kustomize%/*}"
	mv "$tmp/kustomize" "$kustomize"
fi
echo "build.sh: built helm $hv and kustomize $kv in $(($(date +%s) - start)) s" >&2
printf '%s\n%s\n' "$helm" "$kustomize"
