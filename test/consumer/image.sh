#!/usr/bin/env bash
# Build (once) the podman image the consumer test runs, and print its name:
#   localhost/profiled-probe:<first 16 hex of the rootfs tarball's sha256>
#
# The rootfs holds only /probe (probe.c, built static) and the empty dirs
# podman/runc mount over: /etc /proc /sys /dev /tmp. The tarball is
# reproducible (sorted, mtime 0, uid/gid 0), so the tag is a content hash:
# the same probe gives the same tag, and `podman import` runs only when no
# image has that tag yet.
#
# Exit: 0 and the name on stdout; 77 and "SKIP: reason" when a tool is
# missing (podman, gcc, static libc); 1 on any other failure.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v podman >/dev/null || skip "podman not installed (apt-get install podman runc)"
command -v gcc >/dev/null || skip "gcc not installed (apt-get install gcc libc6-dev)"
[ -r "$(gcc -print-file-name=libc.a)" ] ||
	skip "no static libc for gcc: $(gcc -print-file-name=libc.a) missing (apt-get install libc6-dev)"

mkdir -p "$CONSUMER_STATE/build" "$CONSUMER_RUN"
exec 9>"$CONSUMER_STATE/lock"
flock 9 # one builder at a time; the others then find the cache

# Build cache key: everything the tarball is made from.
key=$( {
	cat "$CONSUMER_DIR/probe.c" "$CONSUMER_DIR/image.sh"
	gcc --version
	sha256sum "$(gcc -print-file-name=libc.a)"
} | sha256sum | cut -c1-32)
tarball=$CONSUMER_STATE/build/$key.tar

if [ ! -s "$tarball" ]; then
	work=$(mktemp -d "$CONSUMER_STATE/build/tmp.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work/rootfs"/{etc,proc,sys,dev,tmp}
	chmod 0755 "$work/rootfs" "$work/rootfs"/{etc,proc,sys,dev}
	chmod 1777 "$work/rootfs/tmp"
	gcc -static -O2 -Wall -Wextra -Werror -o "$work/rootfs/probe" "$CONSUMER_DIR/probe.c" >&2
	strip "$work/rootfs/probe" 2>/dev/null || true
	chmod 0755 "$work/rootfs/probe"
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--format=gnu -C "$work/rootfs" -cf "$work/rootfs.tar" .
	mv "$work/rootfs.tar" "$tarball"
fi

hash=$(sha256sum "$tarball" | cut -c1-16)
image=localhost/profiled-probe:$hash

if ! pm image exists "$image" 2>/dev/null; then
	pm import --quiet --change 'CMD ["/probe", "hello"]' \
		--message "profiled consumer probe $hash" "$tarball" "$image" >/dev/null ||
		{ echo "image.sh: podman import of $tarball failed" >&2; exit 1; }
fi
echo "$image"
