#!/bin/sh
# Makes the arm64 sysroot the cross build and the qemu-user tests use:
# Debian's arm64 -dev packages (and every library they depend on) unpacked
# into one folder, with a private apt configuration.
#
#   test/tools/arm64-sysroot.sh        prints the sysroot's path
#
# Why not `dpkg --add-architecture arm64` + `apt-get install libfoo-dev:arm64`:
# a Multi-Arch: same library must have the same version on both
# architectures, so installing libssl-dev:arm64 upgrades the host's
# libssl3:amd64 whenever the host is behind the archive; the host's
# packages are shared and are not ours to upgrade. The sysroot leaves the
# host's dpkg state alone and needs no root once it exists.
#
# Cache: ${PROFILED_ARM64_CACHE:-/var/tmp/profiled-arm64}:
#   apt/       private sources.list, lists, an empty dpkg status, the .debs
#   sysroot/   the unpacked packages (usr-merged: lib -> usr/lib)
# Idempotent: when sysroot/.packages holds the same package list, it only
# prints the path. PROFILED_ARM64_REFETCH=1 downloads again.
#   ARM64_SUITE   Debian suite (default bookworm: the host's, so the arm64
#                 binary is built against the same library versions)
set -eu

CACHE=${PROFILED_ARM64_CACHE:-/var/tmp/profiled-arm64}
SUITE=${ARM64_SUITE:-bookworm}
# The build's and unit tests' -dev packages (as deps.sh's BUILD_PKGS and
# libcmocka-dev), then what the arm64 VM test runs in the guest: the
# parser, a static busybox, runc.
PKGS="libc6-dev libseccomp-dev libcjson-dev libapparmor-dev libcurl4-openssl-dev
libinotifytools0-dev libssl-dev libyaml-dev libmicrohttpd-dev libcmocka-dev
apparmor busybox-static"

root=$CACHE/sysroot
want=$(echo "$SUITE" $PKGS | tr -s ' \n' ' ')
if [ "${PROFILED_ARM64_REFETCH:-0}" != 1 ] && [ -f "$root/.packages" ] &&
	[ "$(cat "$root/.packages")" = "$want" ]; then
	echo "$root"
	exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 900 9 || { echo "arm64-sysroot: timed out waiting for $CACHE/.lock" >&2; exit 1; }
if [ "${PROFILED_ARM64_REFETCH:-0}" != 1 ] && [ -f "$root/.packages" ] &&
	[ "$(cat "$root/.packages")" = "$want" ]; then
	echo "$root"
	exit 0
fi

apt=$CACHE/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/empty"
: >"$apt/status"
mirror=http://deb.debian.org/debian
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt/sources.list" <<EOF
deb [arch=arm64 signed-by=$key] $mirror $SUITE main
deb [arch=arm64 signed-by=$key] $mirror $SUITE-updates main
deb [arch=arm64 signed-by=$key] ${mirror%/debian}/debian-security $SUITE-security main
EOF
aptget() {
	nice -n 19 timeout -k 10 900 apt-get -q -o APT::Sandbox::User=root \
		-o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
		-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::Etc::preferences=/dev/null -o "Dir::Etc::preferencesparts=$apt/empty" \
		-o "Dir::State=$apt" -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status" \
		-o "Dir::Cache=$apt/cache" -o Acquire::Languages=none \
		-o APT::Install-Recommends=false "$@" >&2
}
echo "arm64-sysroot: downloading the $SUITE arm64 packages" >&2
aptget update
# shellcheck disable=SC2086 # one package a word
aptget install -y --download-only $PKGS

new=$root.new
rm -rf "$new"
mkdir -p "$new/usr/lib" "$new/usr/bin" "$new/usr/sbin"
for d in lib bin sbin; do ln -s "usr/$d" "$new/$d"; done
for deb in "$apt"/cache/archives/*_arm64.deb "$apt"/cache/archives/*_all.deb; do
	[ -e "$deb" ] || continue
	dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$new"
done
# Absolute symlinks (libfoo.so -> /lib/...) would point into the host.
find "$new" -type l | while read -r l; do
	t=$(readlink "$l")
	case $t in
	/*) ln -sfn "$new$t" "$l" ;;
	esac
done
echo "$want" >"$new/.packages"
rm -rf "$root"
mv "$new" "$root"
# The links were made for $new: point them at $root.
find "$root" -type l | while read -r l; do
	t=$(readlink "$l")
	case $t in
	"$new"/*) ln -sfn "$root${t#"$new"}" "$l" ;;
	esac
done
echo "arm64-sysroot: $(du -sh "$root" | cut -f1) in $root" >&2
echo "$root"
