#!/bin/bash
# Offline tests of the Helm chart deploy/chart/profiled: no cluster needed.
#
#   test/helm/test.sh
#
# Builds (once; cached) the pinned helm and kustomize of go.mod here with
# build.sh, then runs test.py: helm lint, the chart's objects for the
# default values against `kustomize build deploy/` object by object, each
# value rendered, and bad values refused by values.schema.json.
# Prints ok/not ok lines and "N passed, N failed, N skipped"; exits 0, 1
# when a check failed, or 77 (with "SKIP: reason") when helm cannot be built
# because Go or the Go module proxy cannot be reached.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/test/helm
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

skip77() {
	echo "SKIP: $1"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
}

[ -x "$GO" ] || skip77 "no go command (GO=$GO): helm and kustomize are built from test/helm/go.mod"
log=$(mktemp "${TMPDIR:-/tmp}/profiled-helm-build.XXXXXX")
trap 'rm -f "$log"' EXIT
if ! tools=$(GO=$GO sh "$here/build.sh" 2>"$log"); then
	cat "$log"
	# Was it the module download? Then the proxy is out of reach: skip.
	if ! (cd "$here" && timeout 300 "$GO" mod download helm.sh/helm/v4 sigs.k8s.io/kustomize/kustomize/v5) >/dev/null 2>&1; then
		skip77 "the Go module proxy ($("$GO" env GOPROXY)) cannot be reached and helm is not built yet"
	fi
	echo "not ok - build helm and kustomize (test/helm/build.sh)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
cat "$log"
helm=$(echo "$tools" | sed -n 1p)
kustomize=$(echo "$tools" | sed -n 2p)
echo "# $("$helm" version --short 2>&1), kustomize $("$kustomize" version 2>&1)"
# helm keeps its own caches and config out of the home folder during tests.
export HELM_CACHE_HOME HELM_CONFIG_HOME HELM_DATA_HOME
tmp=$(mktemp -d "${TMPDIR:-/tmp}/profiled-helm-home.XXXXXX")
trap 'rm -f "$log"; rm -rf "$tmp"' EXIT
HELM_CACHE_HOME=$tmp/cache HELM_CONFIG_HOME=$tmp/config HELM_DATA_HOME=$tmp/data
python3 "$here/test.py" "$helm" "$kustomize"
