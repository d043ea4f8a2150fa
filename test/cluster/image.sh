#!/bin/sh
# make image: builds the Dockerfile with podman for the host's platform and
# linux/arm64 and writes
#   build/image/ref           the local podman reference of the host's
#                             platform (localhost/profiled:TAG)
#   build/image/profiled.tar  that image as a docker-archive
#   build/image/manifest      the manifest list of both platforms
#                             (localhost/profiled-multiarch:TAG; its arm64
#                             image is localhost/profiled:TAG-arm64), pushed
#                             with `podman manifest push --all`
#                             (test/image/multiarch.sh does, to a registry)
#   PROFILED_IMAGE_ARM64=0    the host's platform only
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

# The base: the first FROM (past its --platform=... flag), with ${ARG}
# resolved from its ARG default.
from=$(sed -n 's/^FROM[[:space:]]\{1,\}\(--[^[:space:]]*[[:space:]]\{1,\}\)*\([^[:space:]]*\).*/\2/p' "$repo/Dockerfile" | head -n1)
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

[ "${PROFILED_IMAGE_ARM64:-1}" != 0 ] || exit 0

# --- linux/arm64 and the manifest list ------------------------------------------
# The same Dockerfile for linux/arm64: its build stage runs on this machine's
# platform and cross-compiles; the arm64 libraries are the build container's
# :arm64 packages and the parser the arm64 apparmor .deb unpacked
# (runtime-root.sh with RUNTIME_TRIPLET). Nothing arm64 runs: no qemu-user.
# Podman 4.3 (Debian 12) honours FROM --platform but sets neither
# BUILDPLATFORM nor TARGETARCH itself: both are given (newer engines set the
# same values).
arm_ref=$ref-arm64
echo "image: building $arm_ref (linux/arm64) on $full" >&2
nice -n 19 podman --runtime runc build --pull=never --network host --platform linux/arm64 \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
	--build-arg BUILDPLATFORM="linux/$(dpkg --print-architecture)" --build-arg TARGETARCH=arm64 \
	--build-arg DEBIAN="$full" --build-arg VERSION="$tag" -t "$arm_ref" -f "$repo/Dockerfile" "$repo" >&2
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
