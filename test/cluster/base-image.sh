#!/bin/sh
# Makes a Debian base image with debootstrap and imports it into podman
# under NAME, for machines that cannot pull images.
#
#   test/cluster/base-image.sh SUITE NAME      e.g. bookworm debian:bookworm-slim
#
# The root filesystem tarball is cached in $PROFILED_IMAGE_CACHE
# (default /var/tmp/profiled-image) as debian-SUITE-minbase.tar.gz: a
# later run imports it again without debootstrap. Does nothing when NAME
# is already in podman's store.
#   DEBIAN_MIRROR   default http://deb.debian.org/debian
set -eu

[ $# -eq 2 ] || { echo "usage: $0 SUITE NAME" >&2; exit 2; }
suite=$1 name=$2
cache=${PROFILED_IMAGE_CACHE:-/var/tmp/profiled-image}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$name"; then
	exit 0
fi

tarball="$cache/debian-$suite-minbase.tar.gz"
if [ ! -s "$tarball" ]; then
	command -v debootstrap >/dev/null || { echo "base-image: debootstrap missing: make cluster-deps" >&2; exit 1; }
	mkdir -p "$cache"
	root=$(mktemp -d "$cache/.root.XXXXXX")
	trap 'rm -rf "$root" "$tarball.tmp"' EXIT
	echo "base-image: debootstrap $suite from $mirror" >&2
	nice -n 19 debootstrap --variant=minbase "$suite" "$root" "$mirror" >&2
	# As in Debian's images: no package lists, no caches; the archive's
	# security suite alongside the main one.
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
	rm -f "$root"/etc/apt/sources.list
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<-EOF
	Types: deb
	URIs: $mirror
	Suites: $suite $suite-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb
	URIs: ${mirror%/debian}/debian-security
	Suites: $suite-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	# Nothing of the host: the resolver is the container engine's.
	: >"$root/etc/resolv.conf"
	: >"$root/etc/hostname"
	tar --numeric-owner --xattrs -C "$root" -cf - . | nice -n 19 gzip -1 >"$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	rm -rf "$root"
	trap - EXIT
fi
echo "base-image: importing $tarball as $name" >&2
podman import --change 'CMD ["/bin/bash"]' "$tarball" "$name" >/dev/null
