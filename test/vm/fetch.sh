#!/usr/bin/env bash
# Fetch Debian's stock kernel (AppArmor built in) for the QEMU test harness.
#
#   fetch.sh [SUITE]    prints the path of the uncompressed kernel (vmlinux)
#
# SUITE (or PROFILED_VM_SUITE; the argument wins) picks Debian's kernel:
#   bookworm  Debian 12, 6.1 (the default): the host's own apt sources, as
#             the harness always did; kernel/current names it
#   trixie    Debian 13, 6.12 } downloaded with a private apt list in
#   sid       unstable, newest } $CACHE/apt/<suite>/ (the host's sources are
#             not touched); kernel/<suite> names it
# The 7.x packages keep vmlinuz and config in /usr/lib/modules/<kver>/ of
# linux-binary-<kver> and linux-base-<kver> (not linux-image-<kver>): the
# fetch takes them from wherever the package set has them.
#
# Cache: ${PROFILED_VM_CACHE:-/var/tmp/profiled-vm}. Layout:
#   kernel/<kver>/vmlinux   uncompressed ELF, booted by QEMU through PVH
#   kernel/<kver>/vmlinuz   the bzImage as shipped (fallback, not used by default)
#   kernel/<kver>/config    the kernel's build config
#   kernel/current          symlink to the bookworm <kver> dir
#   kernel/trixie, kernel/sid  the same for the other suites
#   apt/<suite>/            private sources.list, lists and apt cache
#
# PROFILED_VM_ARCH=arm64: Debian's arm64 kernel (linux-image-arm64, from a
# private apt list for arm64 in $CACHE/apt/arm64-<suite>/) for
# qemu-system-aarch64 (make test-vm-arm64): kernel/arm64-<suite>/Image is the
# uncompressed arm64 Image (booted directly, no firmware); the config checks
# name the PL011 console instead of PVH and the 8250.
#
# Idempotent: once kernel/current/vmlinux (or kernel/<suite>/vmlinux) exists, it only checks the host
# tools and prints the path (no network). PROFILED_VM_REFETCH=1 forces a new
# download (e.g. to pick up a newer linux-image-amd64).
#
# Host packages it installs when missing (needs root + apt-get):
#   qemu-system-x86 busybox-static apparmor cpio xz-utils zstd
# Exit: 0 ok; 77 with a line `SKIP: <reason>` when a tool or the kernel cannot
# be obtained (not root, no apt-get, no network to Debian's archive); 1 when
# what was fetched is unusable (a harness bug, not a skip).
set -euo pipefail

CACHE=${PROFILED_VM_CACHE:-/var/tmp/profiled-vm}
SUITE=${1:-${PROFILED_VM_SUITE:-bookworm}}
ARCH=${PROFILED_VM_ARCH:-amd64}

skip() {
	echo "SKIP: $*"
	exit 77
}
die() {
	echo "fetch.sh: $*" >&2
	exit 1
}
log() { echo "fetch.sh: $*" >&2; }
case $SUITE in
bookworm) link=current ;;
trixie | sid) link=$SUITE ;;
*)
	echo "fetch.sh: unknown kernel suite '$SUITE' (bookworm, trixie or sid)" >&2
	exit 64
	;;
esac
case $ARCH in
amd64) ;;
arm64) link=arm64-$SUITE ;;
*)
	echo "fetch.sh: unknown PROFILED_VM_ARCH '$ARCH' (amd64 or arm64)" >&2
	exit 64
	;;
esac
# what the harness boots: the uncompressed kernel
image=vmlinux
[ "$ARCH" = amd64 ] || image=Image

# --- host tools ---------------------------------------------------------------
# command or file -> Debian package. busybox must be the static one: it is
# copied into the guest without any library.
need_pkgs=()
if [ "$ARCH" = arm64 ]; then
	command -v qemu-system-aarch64 >/dev/null 2>&1 || need_pkgs+=(qemu-system-arm)
else
	command -v qemu-system-x86_64 >/dev/null 2>&1 || need_pkgs+=(qemu-system-x86)
fi
command -v cpio >/dev/null 2>&1 || need_pkgs+=(cpio)
command -v xz >/dev/null 2>&1 || need_pkgs+=(xz-utils)
command -v zstd >/dev/null 2>&1 || need_pkgs+=(zstd) # the 7.x vmlinuz
[ -x /usr/sbin/apparmor_parser ] && [ -r /usr/share/apparmor-features/features ] ||
	need_pkgs+=(apparmor)
bb_ldd=$(LC_ALL=C ldd /bin/busybox 2>&1 || true)
case $bb_ldd in
*'not a dynamic executable'*) ;;
*) need_pkgs+=(busybox-static) ;;
esac

apt_quiet() {
	# apt-get as root without the "_apt sandbox" warning, bounded in time
	# (no network must mean a SKIP soon, not a hang); output to stderr.
	DEBIAN_FRONTEND=noninteractive timeout -k 10 600 apt-get -q -o APT::Sandbox::User=root \
		-o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=1 "$@" >&2
}

if [ ${#need_pkgs[@]} -gt 0 ]; then
	command -v apt-get >/dev/null 2>&1 || skip "missing ${need_pkgs[*]} and no apt-get to install them"
	[ "$(id -u)" = 0 ] || skip "missing host packages ${need_pkgs[*]} (run as root, or apt-get install them)"
	log "installing ${need_pkgs[*]}"
	if ! apt_quiet install -y --no-install-recommends "${need_pkgs[@]}"; then
		apt_quiet update || true
		apt_quiet install -y --no-install-recommends "${need_pkgs[@]}" ||
			skip "cannot apt-get install ${need_pkgs[*]}"
	fi
fi

# --- kernel -------------------------------------------------------------------
current=$CACHE/kernel/$link
if [ "${PROFILED_VM_REFETCH:-0}" != 1 ] && [ -s "$current/$image" ]; then
	echo "$current/$image"
	exit 0
fi

command -v apt-get >/dev/null 2>&1 || skip "no apt-get: cannot download Debian's kernel"
mkdir -p "$CACHE/kernel" 2>/dev/null || skip "cannot create cache $CACHE (set PROFILED_VM_CACHE)"

# One fetch at a time per cache; a second caller waits, then finds it done.
exec 9>"$CACHE/.fetch.lock"
flock -w 600 9 || die "timed out waiting for $CACHE/.fetch.lock"
if [ "${PROFILED_VM_REFETCH:-0}" != 1 ] && [ -s "$current/$image" ]; then
	echo "$current/$image"
	exit 0
fi

tmp=$(mktemp -d "$CACHE/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# bookworm: the host's apt sources (as always). Other suites: a private
# sources.list naming the host's Debian mirror, with its own lists and cache
# under $CACHE/apt/<suite>; the host's apt state is left alone.
apt_opts=()
updated=0
if [ "$SUITE" != bookworm ] || [ "$ARCH" != amd64 ]; then
	aptdir=$CACHE/apt/$SUITE
	[ "$ARCH" = amd64 ] || aptdir=$CACHE/apt/$ARCH-$SUITE
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
	# the first Debian (not -security) mirror of the host's sources, else deb.debian.org
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v '^ *#' | grep -oE '(https?|ftp)://[^ ]*/debian/?( |$)' | tr -d ' ' | sed 's|/$||' | head -n1 || true)
	mirror=${mirror:-http://deb.debian.org/debian}
	echo "deb [arch=$ARCH] $mirror $SUITE main" >"$aptdir/sources.list"
	apt_opts=(-o "APT::Architecture=$ARCH" -o "APT::Architectures::=$ARCH" -o "Dir::Etc::sourcelist=$aptdir/sources.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache" -o Acquire::Languages=none)
	if ! ls "$aptdir"/lists/*_Packages* >/dev/null 2>&1 || [ "${PROFILED_VM_REFETCH:-0}" = 1 ]; then
		updated=1
		log "apt-get update of the private $SUITE list ($mirror)"
		apt_quiet "${apt_opts[@]}" update || skip "cannot apt-get update $SUITE from $mirror (network?)"
	fi
fi

# `apt-get download`, with one `apt-get update` on failure (stale lists name
# versions the archive no longer has).
download() {
	if (cd "$tmp" && apt_quiet "${apt_opts[@]+"${apt_opts[@]}"}" download "$1"); then return 0; fi
	if [ "$updated" = 0 ]; then
		updated=1
		log "apt-get download $1 failed; running apt-get update"
		apt_quiet "${apt_opts[@]+"${apt_opts[@]}"}" update || true
		(cd "$tmp" && apt_quiet "${apt_opts[@]+"${apt_opts[@]}"}" download "$1") && return 0
	fi
	skip "cannot download $1 from Debian's archive (network? apt sources?)"
}
# The versioned packages a .deb depends on: linux-{image,binary,base}-<digit>...
kernel_deps() {
	dpkg-deb -f "$1" Depends | tr ',|' '\n\n' |
		sed -n 's/^ *\(linux-\(image\|binary\|base\)-[0-9][^ ]*\).*/\1/p'
}

download "linux-image-$ARCH"
meta=$(ls "$tmp/linux-image-${ARCH}"_*.deb)
# Depends: linux-image-6.1.0-NN-amd64 (= 6.1.xxx-y)
real_pkg=$(kernel_deps "$meta" | grep '^linux-image-' | head -n1)
[ -n "$real_pkg" ] || die "cannot read the versioned kernel package from $meta"
download "$real_pkg"
deb=$(ls "$tmp/${real_pkg}"_*.deb)
# 7.x: linux-image-<kver> is empty and depends on linux-binary-<kver> (vmlinuz)
# and linux-base-<kver> (config); older ones have both in ./boot.
debs=("$deb")
for dep in $(kernel_deps "$deb"); do
	download "$dep"
	debs+=("$(ls "$tmp/${dep}"_*.deb)")
done

# Only vmlinuz and config: the modules are not needed, every feature the
# harness uses is built in (checked below).
mkdir "$tmp/x"
for d in "${debs[@]}"; do
	members=$(dpkg-deb -c "$d" | awk '{print $NF}' |
		grep -E '^\./(boot/(vmlinuz|config)-[^/]+|usr/lib/modules/[^/]+/(vmlinuz|config))$' || true)
	[ -z "$members" ] && continue
	# shellcheck disable=SC2086 # one member a word
	dpkg-deb --fsys-tarfile "$d" | tar -x -C "$tmp/x" $members
done
vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* "$tmp"/x/usr/lib/modules/*/vmlinuz 2>/dev/null | head -n1 || true)
config=$(ls "$tmp"/x/boot/config-* "$tmp"/x/usr/lib/modules/*/config 2>/dev/null | head -n1 || true)
[ -n "$vmlinuz" ] || die "no vmlinuz in ${debs[*]##*/}"
[ -n "$config" ] || die "no kernel config in ${debs[*]##*/}"
case $vmlinuz in
*/boot/vmlinuz-*) kver=${vmlinuz##*/vmlinuz-} ;;
*) kver=$(basename "$(dirname "$vmlinuz")") ;;
esac

boot_opts="CONFIG_PVH=y CONFIG_SERIAL_8250_CONSOLE=y"
[ "$ARCH" = amd64 ] || boot_opts="CONFIG_SERIAL_AMBA_PL011_CONSOLE=y"
for opt in CONFIG_SECURITY_APPARMOR=y CONFIG_SECURITYFS=y CONFIG_DEVTMPFS=y $boot_opts \
	CONFIG_BLK_DEV_INITRD=y CONFIG_CGROUPS=y CONFIG_TMPFS=y; do
	grep -qx "$opt" "$config" || die "$kver: $opt missing from its config"
done
grep -qx 'CONFIG_DEFAULT_SECURITY_APPARMOR=y' "$config" ||
	log "$kver: AppArmor is not the default LSM; relying on security=apparmor on the command line"

dest=$CACHE/kernel/$kver
if [ "$ARCH" = arm64 ]; then
	# arm64's vmlinuz is the gzip-compressed Image; "ARMd" at 0x38 marks it.
	gzip -dc "$vmlinuz" >"$tmp/Image" 2>/dev/null || cp "$vmlinuz" "$tmp/Image"
	[ "$(dd if="$tmp/Image" bs=1 skip=56 count=4 2>/dev/null)" = "ARMd" ] ||
		die "$kver: $vmlinuz is not an arm64 Image"
	rm -rf "$dest.new"
	mkdir "$dest.new"
	mv "$tmp/Image" "$dest.new/Image"
	mv "$config" "$dest.new/config"
	printf '%s\n' "$real_pkg $(dpkg-deb -f "$deb" Version)" >"$dest.new/package"
	rm -rf "$dest"
	mv "$dest.new" "$dest"
	ln -sfn "$kver" "$current.new"
	mv -T "$current.new" "$current"
	log "kernel $kver ($real_pkg, $SUITE, arm64) unpacked in $dest"
	echo "$current/Image"
	exit 0
fi

# extract-vmlinux, reimplemented: find each compression magic in the bzImage,
# decompress from there, keep the first result that is an ELF file.
is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
try_decompress() { # magic(grep -P) tool...
	local magic=$1 off
	shift
	command -v "$1" >/dev/null 2>&1 || return 1
	# Only the offsets reach `read`: a match ending in a UTF-8 lead byte
	# (zstd's \xfd) would swallow the newline and the line with it.
	while read -r off; do
		# Trailing bytes after the stream make the tool fail: ignore its status.
		tail -c "+$((off + 1))" "$vmlinuz" | "$@" >"$tmp/vmlinux" 2>/dev/null || true
		if [ -s "$tmp/vmlinux" ] && is_elf "$tmp/vmlinux"; then return 0; fi
	done < <(LC_ALL=C grep -aboP "$magic" "$vmlinuz" | cut -d: -f1 || true)
	return 1
}
try_decompress '\xfd7zXZ\x00' xz -dc ||
	try_decompress '\x28\xb5\x2f\xfd' zstd -dcq ||
	try_decompress '\x1f\x8b\x08' gzip -dc ||
	die "no ELF kernel found inside $vmlinuz (need xz/zstd/gzip)"

dest=$CACHE/kernel/$kver
rm -rf "$dest.new"
mkdir "$dest.new"
mv "$tmp/vmlinux" "$dest.new/vmlinux"
mv "$vmlinuz" "$dest.new/vmlinuz"
mv "$config" "$dest.new/config"
printf '%s\n' "$real_pkg $(dpkg-deb -f "$deb" Version)" >"$dest.new/package"
rm -rf "$dest"
mv "$dest.new" "$dest"
ln -sfn "$kver" "$current.new"
mv -T "$current.new" "$current"
log "kernel $kver ($real_pkg, $SUITE) unpacked in $dest"
echo "$current/vmlinux"
