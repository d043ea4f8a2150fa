#!/bin/sh
# make image: builds the Dockerfile with podman and writes
#   build/image/ref           the local podman reference (localhost/profiled:TAG)
#   build/image/profiled.tar  the image as a docker-archive
# No registry is reachable from here: when the Dockerfile's base image is
# not in podman's store, base-image.sh makes it with debootstrap, for the
# Debian suite the FROM line names, and imports it under that name.
#   TAG     default: git describe (as the Makefile's VERSION)
#   DEBIAN  the base image (default: the Dockerfile's); a short name such as
#           debian:trixie-slim is passed to the build fully qualified
#           (docker.io/library/debian:trixie-slim), the name it has in
#           podman's store: podman resolves short names through its
#           registries configuration, which may not list docker.io.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/build/image"
tag=${TAG:-$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)}
ref="localhost/profiled:$tag"

# The base: the first FROM, with ${ARG} resolved from its ARG default.
from=$(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$repo/Dockerfile" | head -n1)
case $from in
'${'*'}' | '$'*)
	var=$(echo "$from" | sed 's/^\${\{0,1\}\([A-Za-z_][A-Za-z0-9_]*\)}\{0,1\}$/\1/')
	from=$(sed -n "s/^ARG[[:space:]]\{1,\}$var=\([^[:space:]]*\).*/\1/p" "$repo/Dockerfile" | head -n1)
	;;
esac
# DEBIAN (environment) overrides it, as --build-arg DEBIAN would.
from=${DEBIAN:-$from}
[ -n "$from" ] || { echo "image: no base image in the Dockerfile" >&2; exit 1; }
# The name docker resolves it to, and the one it is imported under.
case $from in
*/*/* | *.*/* | localhost/*) full=$from ;;
*/*) full=docker.io/$from ;;
*) full=docker.io/library/$from ;;
esac
case ${full%%:*} in
*/debian) ;;
*) echo "image: base $from is not Debian: cannot make it here" >&2; exit 1 ;;
esac
# The suite: the tag without its variant (bookworm-slim -> bookworm).
t=${full##*:}
[ "$t" != "$full" ] || t=latest
suite=${t%%-*}
case $suite in
12) suite=bookworm ;;
13) suite=trixie ;;
14) suite=forky ;;
latest | stable) suite=stable ;;
esac
sh "$here/base-image.sh" "$suite" "$full"

mkdir -p "$out"
echo "image: building $ref on $full" >&2
# --network host: the build's apt-get reaches the Debian archive as the host
# does, with no bridge or namespace setup. --pull never: only local images.
nice -n 19 podman --runtime runc build --pull=never --network host \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	--build-arg DEBIAN="$full" --build-arg VERSION="$tag" -t "$ref" -f "$repo/Dockerfile" "$repo" >&2
rm -f "$out/profiled.tar"
podman save --format docker-archive -o "$out/profiled.tar" "$ref"
echo "$ref" >"$out/ref.tmp"
mv "$out/ref.tmp" "$out/ref"
echo "image: $ref, $(du -h "$out/profiled.tar" | cut -f1) in build/image/profiled.tar" >&2

[ "${PROFILED_IMAGE_ARM64:-0}" = 1 ] || exit 0

# make image-multiarch (PROFILED_IMAGE_ARM64=1): also a linux/arm64 image of
# deploy/image/Dockerfile.multiarch (Debian 12 based, its runtime stage's
# apt-get run under qemu-user: ~45 min here; not in CI) and the manifest
# list of both in build/image/manifest (localhost/profiled-multiarch:TAG;
# the arm64 image is localhost/profiled:TAG-arm64), which
# test/image/multiarch.sh pushes to a registry of its own and reads back.
# The two platforms' images differ in form until the arm64 one is made from
# scratch as the Dockerfile's is.
mfile=$repo/deploy/image/Dockerfile.multiarch
# Its base (bookworm-slim), as above for the Dockerfile's.
afull=docker.io/library/$(sed -n 's/^ARG[[:space:]]\{1,\}DEBIAN=debian:\([^[:space:]]*\).*/\1/p' "$mfile")
t=${afull##*:}
suite=${t%%-*}
sh "$here/base-image.sh" "$suite" "$afull"
full=$afull

# --- linux/arm64 and the manifest list ------------------------------------------
# qemu-user runs the arm64 stage's programs: binfmt_misc with qemu-aarch64
# registered with the F flag (the interpreter opened now, so it works inside
# the build's mount namespace). binfmt-support (make cluster-deps) registers
# it when binfmt_misc is mounted.
fs=/proc/sys/fs/binfmt_misc
[ -e "$fs/register" ] || mount -t binfmt_misc binfmt_misc "$fs" ||
	{ echo "image: cannot mount binfmt_misc (root?)" >&2; exit 1; }
[ -e "$fs/qemu-aarch64" ] || update-binfmts --enable qemu-aarch64 >&2 ||
	{ echo "image: no qemu-aarch64 binfmt entry: make cluster-deps (qemu-user-static)" >&2; exit 1; }
grep -q '^enabled' "$fs/qemu-aarch64" && grep -q '^flags:.*F' "$fs/qemu-aarch64" ||
	{ echo "image: $fs/qemu-aarch64 is not enabled with the F flag" >&2; exit 1; }

# The arm64 base under a name of its own: a store holds one image a name.
arm_base=localhost/profiled-base-arm64:$t
sh "$here/base-image.sh" "$suite" "$arm_base" arm64
arm_ref=$ref-arm64
echo "image: building $arm_ref (linux/arm64) on $arm_base" >&2
# Podman 4.3 (Debian 12) honours FROM --platform but sets neither
# BUILDPLATFORM nor TARGETARCH itself: both are given (newer engines set the
# same values).
nice -n 19 podman --runtime runc build --pull=never --network host --platform linux/arm64 \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	--build-arg BUILDPLATFORM="linux/$(dpkg --print-architecture)" --build-arg TARGETARCH=arm64 \
	--build-arg DEBIAN="$arm_base" --build-arg BUILD_BASE="$full" \
	--build-arg VERSION="$tag" -t "$arm_ref" -f "$mfile" "$repo" >&2
for r in "$ref" "$arm_ref"; do
	podman image inspect --format '{{.Os}}/{{.Architecture}}' "$r" |
		grep -qx "linux/$([ "$r" = "$ref" ] && dpkg --print-architecture || echo arm64)" ||
		{ echo "image: $r is not of its platform" >&2; exit 1; }
done
list=localhost/profiled-multiarch:$tag
podman manifest rm "$list" >/dev/null 2>&1 || true
podman manifest create "$list" >/dev/null
podman manifest add "$list" "containers-storage:$ref" >/dev/null
podman manifest add "$list" "containers-storage:$arm_ref" >/dev/null
echo "$list" >"$out/manifest.tmp"
mv "$out/manifest.tmp" "$out/manifest"
echo "image: manifest list $list: $ref (linux/$(dpkg --print-architecture)), $arm_ref (linux/arm64)" >&2
