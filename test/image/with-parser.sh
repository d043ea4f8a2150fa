#!/bin/bash
# Runs CMD with the AppArmor userspace the image ships instead of the
# host's: no test proves behaviour of a parser we do not ship.
#
#   test/image/with-parser.sh CMD [ARG...]
#
# In a private mount namespace (the host's files are never touched) the
# image's /etc/apparmor.d, /etc/apparmor (parser.conf) and
# /usr/share/apparmor-features are bound read-only over the host's, and
# an `apparmor_parser` first on PATH runs the image's parser with the
# image's own loader and C library (it needs a newer glibc than the
# host's).  That wrapper names the image ID and the real parser's sha256,
# so the compiled-policy cache digest (lib/aacache.c hashes the parser
# program) changes whenever the image's parser does.
#
# The image is build/image/ref (make image); its filesystem comes from
# test/image/rootfs.sh.  Without it, or without the privilege to make a
# mount namespace, CMD runs with the host's parser after a loud
# "# SKIP" notice on stderr; PROFILED_IMAGE_REQUIRE=1 (CI) makes that an
# error instead.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" = --inside ]; then
	root=$2 bin=$3
	shift 3
	for d in etc/apparmor.d etc/apparmor usr/share/apparmor-features; do
		[ -d "/$d" ] || { echo "with-parser: /$d missing on this host: nothing to bind over" >&2; exit 1; }
		mount --bind "$root/$d" "/$d"
		mount -o remount,bind,ro "/$d"
	done
	export PATH="$bin:$PATH" PROFILED_PARSER_ROOT=$root
	exec "$@"
fi

fallback() {
	local why=$1 msg
	if [ "${PROFILED_IMAGE_REQUIRE:-0}" = 1 ]; then
		echo "with-parser: $why (PROFILED_IMAGE_REQUIRE=1)" >&2
		exit 1
	fi
	msg="# SKIP: the AppArmor tests run the HOST's parser ($(apparmor_parser --version 2>/dev/null | head -n1 || echo none)), NOT the one the image ships: $why"
	printf '%s\n%s\n%s\n' "##########" "$msg" "##########" >&2
	exec "${cmd[@]}"
}

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }
cmd=("$@")
# Already inside (a stage started by another stage): nothing to do.
[ -z "${PROFILED_PARSER_ROOT:-}" ] || exec "$@"
command -v podman >/dev/null || fallback "no podman to build or read the image (make image)"
[ "$(id -u)" = 0 ] && command -v unshare >/dev/null || fallback "not root: no private mount namespace"
root=$(sh "$here/rootfs.sh") || fallback "no image (make image)"

id=$(basename "$root")
sum=$(sha256sum "$root/usr/sbin/apparmor_parser" | cut -d' ' -f1)
bin=$root/.host-bin
if ! grep -qs "$sum" "$bin/apparmor_parser"; then
	mkdir -p "$bin"
	cat >"$bin/.apparmor_parser.$$" <<-WRAP
	#!/bin/sh
	# The apparmor_parser of image $id
	# (sha256 $sum), run by the image's own loader and libraries.
	exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --inhibit-cache \\
		--library-path "$root/usr/lib/x86_64-linux-gnu" --argv0 "\$0" \\
		"$root/usr/sbin/apparmor_parser" "\$@"
	WRAP
	chmod 0755 "$bin/.apparmor_parser.$$"
	mv "$bin/.apparmor_parser.$$" "$bin/apparmor_parser"
fi
# A shared lock on the export for as long as CMD runs: rootfs.sh does not
# evict an export in use.
exec 9<"$root/.complete"
flock -s 9
exec unshare -m --propagation private bash "${BASH_SOURCE[0]}" --inside "$root" "$bin" "$@"
