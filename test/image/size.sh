#!/bin/bash
# Prints the size of profiled images and what the runtime image holds, by
# package (docs/performance.md, "The image").
#
#   test/image/size.sh [REF...]    default: the image in build/image/ref
#
# For each REF: unpacked (podman's size of the image), compressed (the
# docker-archive through gzip -6, about what a registry stores and a node
# pulls) and the number of layers.  Then, for the first REF, the bytes
# each Debian package of its package database contributes, from its
# exported filesystem (test/image/rootfs.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -gt 0 ] || set -- "$(cat "$repo/build/image/ref")"

printf '%-34s %12s %12s %7s\n' image unpacked compressed layers
for ref in "$@"; do
	size=$(podman image inspect --format '{{.Size}}' "$ref")
	gz=$(podman save --format docker-archive "$ref" 2>/dev/null | gzip -6 -c | wc -c)
	layers=$(podman image inspect --format '{{len .RootFS.Layers}}' "$ref")
	printf '%-34s %9.1f MB %9.1f MB %7s\n' "$ref" "$(echo "$size / 1000000" | bc -l)" \
		"$(echo "$gz / 1000000" | bc -l)" "$layers"
done

root=$(sh "$here/rootfs.sh" "$1")
db=$root/var/lib/dpkg
[ -s "$db/status" ] || exit 0
echo
echo "contents of $1 by package (bytes of the files kept; version):"
total=0
for list in "$db"/info/*.list; do
	p=$(basename "$list" .list)
	b=0
	while read -r f; do
		[ -f "$root$f" ] && [ ! -L "$root$f" ] && b=$((b + $(stat -c %s "$root$f")))
	done <"$list"
	total=$((total + b))
	printf '%10d  %s %s\n' "$b" "${p%%:*}" "$(dpkg-query --admindir="$db" -W -f '${Version}' "${p%%:*}")"
done | sort -rn
other=$(cd "$root" && find . -type f ! -path './.host-bin/*' -print0 | xargs -0 stat -c %s | paste -sd+ | bc)
echo "(all files: $other bytes; the rest is profiled, the CA bundle, the example profiles and the package database)"
