#!/bin/sh
# Prints the folder holding the filesystem of a profiled image (its
# profiled, AppArmor parser, libraries and abstractions), exported once per
# image ID so that tests on the host and in the VM guests run the userspace
# the image ships, not the host's.
#
#   test/image/rootfs.sh [REF]     REF default: the one in build/image/ref
#
# Cache: $PROFILED_IMAGE_CACHE/rootfs/ID (default /var/tmp/profiled-image);
# the four most recently used are kept.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${PROFILED_IMAGE_CACHE:-/var/tmp/profiled-image}/rootfs
ref=${1:-}
if [ -z "$ref" ]; then
	[ -s "$repo/build/image/ref" ] || { echo "rootfs: no build/image/ref: make image" >&2; exit 1; }
	ref=$(cat "$repo/build/image/ref")
fi
id=$(podman image inspect --format '{{.Id}}' "$ref") || { echo "rootfs: no image $ref: make image" >&2; exit 1; }
dir="$cache/$id"
if [ ! -f "$dir/.complete" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.export.XXXXXX")
	ctr=$(podman create --pull=never "$ref" true)
	trap 'podman rm -f "$ctr" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
	podman export "$ctr" | tar -x -C "$tmp" --exclude='dev/*'
	echo "$ref" >"$tmp/.complete"
	rm -rf "$dir"
	mv "$tmp" "$dir"
fi
touch "$dir/.complete"
# Keep the newest four exports, and any a test still runs from (it holds a
# shared lock on .complete: test/image/with-parser.sh).
ls -1dt "$cache"/*/ 2>/dev/null | tail -n +5 | while read -r old; do
	flock -n -x "$old/.complete" rm -rf "$old" || true
done
echo "$dir"
