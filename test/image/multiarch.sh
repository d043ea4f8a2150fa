#!/bin/bash
# The multi-arch image of `make image`: its manifest list (build/image/manifest)
# pushed with `podman manifest push --all` to a registry of its own (Debian's
# docker-registry on a free 127.0.0.1 port, storage in a temp folder, stopped
# at the end), then read back through the registry API as a node's runtime
# does: one list, an image for linux/amd64 and one for linux/arm64, each
# config of its platform; the arm64 image pulled by platform and run (qemu-user
# through binfmt_misc): its profiled and parser are aarch64 programs and run. Prints each platform's size (compressed in the registry,
# unpacked in podman's store), ok/not ok lines and "N passed, N failed".
#
#   test/image/multiarch.sh       (root; after make image)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
expect() { # DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}

[ -s "$repo/build/image/manifest" ] || { echo "multiarch: no build/image/manifest: make image" >&2; exit 1; }
list=$(cat "$repo/build/image/manifest")
tag=${list##*:}
for t in docker-registry podman curl python3; do
	command -v "$t" >/dev/null || { echo "multiarch: $t missing: make cluster-deps" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/profiled-multiarch.XXXXXX")
reg_pid=
pulled=
cleanup() {
	[ -z "$reg_pid" ] || { kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; }
	[ -z "$pulled" ] || node rmi -af >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $reg
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -fsS "http://$reg/v2/" >/dev/null 2>&1 && break; sleep 0.2; done

remote=$reg/profiled:$tag
expect "podman manifest push --all $list to $remote" \
	podman manifest push --all --tls-verify=false "$list" "docker://$remote"

# The registry's view: the list, then each image's manifest and config.
accept='application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'
get() { curl -fsS -H "Accept: $accept" "http://$reg/v2/profiled/$1"; }
get "manifests/$tag" >"$work/list.json" || echo '{}' >"$work/list.json"
platforms=$(python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
for m in l.get("manifests", []):
    p = m.get("platform", {})
    print(p.get("os"), p.get("architecture"), m["digest"])' "$work/list.json" | sort)
echo "$platforms" | sed 's/^/# list: /'
expect "the tag is a manifest list" grep -q '"manifests"' "$work/list.json"
expect "... of exactly linux/amd64 and linux/arm64" \
	[ "$(echo "$platforms" | cut -d' ' -f1,2 | tr '\n' ' ')" = "linux amd64 linux arm64 " ]
while read -r os arch digest; do
	[ -n "$digest" ] || continue
	get "manifests/$digest" >"$work/m.json" || { notok "$arch: manifest $digest missing"; continue; }
	cfg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$work/m.json")
	got=$(get "blobs/$cfg" | python3 -c 'import json,sys; c = json.load(sys.stdin); print(c["os"] + "/" + c["architecture"])')
	expect "$arch: the image's config says $os/$arch" [ "$got" = "$os/$arch" ]
	bytes=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(sum(l["size"] for l in m["layers"]) + m["config"]["size"])' "$work/m.json")
	echo "# size $os/$arch: $((bytes / 1024)) KiB compressed (layers + config in the registry)"
done <<<"$platforms"

# unpacked: podman's store, per platform image
ref=$(cat "$repo/build/image/ref")
for r in "$ref" "$ref-arm64"; do
	echo "# size $(podman image inspect --format '{{.Os}}/{{.Architecture}}' "$r"): $(($(podman image inspect --format '{{.Size}}' "$r") / 1024)) KiB unpacked ($r)"
done

# A node of each platform pulls its own image from the list: into a store
# of its own (a pull into podman's would rewrite the stored manifest of the
# local arm64 image, which has the same ID, under the list).
node() { podman --root "$work/store" --runroot "$work/run" --storage-driver vfs "$@"; }
pulled=$reg/profiled:$tag
expect "the arm64 image pulls by platform" \
	node pull -q --tls-verify=false --platform linux/arm64 "$pulled"
arch=$(node image inspect --format '{{.Architecture}}' "$pulled" 2>/dev/null)
expect "... and is the arm64 one ($arch)" [ "$arch" = arm64 ]
# The image has no shell: each program is its own entrypoint, run under
# qemu-user (binfmt_misc with the F flag).
run() { node --runtime runc run --rm --pull=never --platform linux/arm64 --network none \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --entrypoint "$1" "$pulled" "${@:2}"; }
out=$(run /usr/bin/profiled version 2>&1)
echo "$out" | sed 's/^/#   arm64 image: /'
expect "its profiled runs: $tag" grep -qx "profiled $tag" <<<"$out"
out=$(run /usr/sbin/apparmor_parser --version 2>&1 | head -n1)
echo "$out" | sed 's/^/#   arm64 image: /'
expect "its apparmor_parser runs" grep -q '^AppArmor parser version' <<<"$out"
# An x86_64 profiled would run here too (natively): the ELF machine of
# each program, copied out of a container of the image, is read.
ctr=$(node create --platform linux/arm64 "$pulled" 2>/dev/null)
for f in /usr/bin/profiled /usr/sbin/apparmor_parser; do
	node cp "$ctr:$f" "$work/elf" >/dev/null 2>&1 || rm -f "$work/elf"
	machine=$(od -An -tx1 -j18 -N2 "$work/elf" 2>/dev/null | tr -d ' \n')
	expect "its $f is an aarch64 ELF program (e_machine $machine)" [ "$machine" = b700 ]
done
node rm "$ctr" >/dev/null 2>&1 || true
# Reading profiles needs openat2, which qemu-user 7.2 lacks: the production
# arm64 binary does its work on a real arm64 kernel in make test-vm-arm64.

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
