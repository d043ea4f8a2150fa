#!/usr/bin/env bash
# Run a shell script as root inside a QEMU VM booted on Debian's stock kernel,
# which has AppArmor enabled, and exit with the script's exit status.
#
#   run.sh [--kernel SUITE] [--timeout SECONDS] [--rootfs DIR] [--file HOSTPATH[:GUESTPATH]]...
#          [--bin HOSTBIN[:GUESTPATH]]... [--] GUEST_SCRIPT|-
#
# GUEST_SCRIPT runs as /test.sh under busybox sh (`-` reads it from stdin).
# The guest's userspace is either the host's (the default): busybox (every
# applet), /sbin/apparmor_parser with its libraries,
# /etc/apparmor.d/{abi,abstractions,tunables,local},
# /etc/apparmor/parser.conf, /usr/share/apparmor-features/features; or,
# with --rootfs, an image's whole filesystem (its profiled, parser,
# libraries, apparmor.d) with busybox apart in /test/bin, last on PATH.
# Mounted: proc, sysfs, devtmpfs, devpts, securityfs and cgroup2
# (/sys/fs/cgroup); / is the initramfs itself, a writable tmpfs.
# PROFILED_VM=1 is set in its environment; the working directory is /.
#
#   --bin HOSTBIN[:GUESTPATH]    an executable, plus every library ldd lists
#                                for it (default GUESTPATH
#                                /usr/local/bin/<name>, which is on PATH);
#                                with --rootfs: default /test/bin/<name>, no
#                                library is copied (it runs on the image's,
#                                which must have them all) and GUESTPATH must
#                                not exist in the image
#   --file HOSTPATH[:GUESTPATH]  a file or directory (copied recursively);
#                                default GUESTPATH: the same absolute path
#                                (with --rootfs a file must not replace one
#                                of the image's)
#   --rootfs DIR                 the guest's userspace: an image's exported
#                                filesystem (test/image/rootfs.sh), minus
#                                docs, man pages, locales and apt's caches;
#                                or PROFILED_VM_ROOTFS
#   --kernel SUITE               Debian's kernel to boot: bookworm (6.1,
#                                the default), trixie (6.12) or sid (the
#                                newest); fetch.sh downloads it once
#   --timeout SECONDS            hard limit for the whole VM (default 120);
#                                the guest kills the script itself a bit
#                                earlier (SECONDS-10, or SECONDS/2 below 20)
#                                so that its output still comes back
#
# Output: the script's stdout+stderr lines, as seen on the serial console,
# without kernel messages. Exit status:
#   N     the guest script's own exit status (0 pass, 1 fail, 77 skip, ...)
#   77    also: `SKIP: <reason>` from fetch.sh (kernel or tools unavailable)
#   124   VM timed out (message and the last 40 console lines on stderr)
#   70    the VM did not report a status (crash, panic, qemu error); the
#         last 40 console lines on stderr
#   64    usage error
#
# Environment:
#   PROFILED_VM_CACHE    cache folder (default /var/tmp/profiled-vm)
#   PROFILED_VM_LOG      write the full console log here (else a temp file,
#                        kept and named on stderr when the run fails)
#   PROFILED_VM_KEEP=1   keep the work dir (initramfs, logs) and print it
#   PROFILED_VM_VERBOSE=1 stream the raw console to stderr while it runs,
#                        and print timings
#   PROFILED_VM_DMESG=1  append the guest's dmesg to the console log even on
#                        success (it always is on failure)
#   PROFILED_VM_SUITE    the default for --kernel (bookworm)
#   PROFILED_VM_KERNEL   boot this kernel instead of fetch.sh's vmlinux
#                        (a bzImage works too, just slower); a suite name
#                        (bookworm, trixie, sid) means --kernel SUITE
#   PROFILED_VM_APPEND   extra kernel command line
#   PROFILED_VM_MEM      guest memory (default 512M, 1G with --rootfs);
#                        PROFILED_VM_SMP (2)
#   PROFILED_VM_ARCH     amd64 (default) or arm64: Debian's arm64 kernel under
#                        qemu-system-aarch64 (-M virt, TCG), the guest's
#                        busybox, parser and --bin libraries from the arm64
#                        sysroot (test/tools/arm64-sysroot.sh), --bin programs
#                        arm64 ones (make test-vm-arm64); not with --rootfs
#   PROFILED_VM_ACCEL    QEMU accelerator (default tcg,thread=single: nested KVM is
#                        broken, and multi-threaded TCG let a 6.12 guest trip over
#                        a half-patched int3 of its own code: "Oops: int3")
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${PROFILED_VM_CACHE:-/var/tmp/profiled-vm}
export PROFILED_VM_CACHE=$CACHE
ARCH=${PROFILED_VM_ARCH:-amd64}
export PROFILED_VM_ARCH=$ARCH

usage() {
	sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	[ $# -gt 0 ] && echo "run.sh: $*" >&2
	exit 64
}
die() {
	echo "run.sh: $*" >&2
	exit 70
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

timeout_s=120
suite=${PROFILED_VM_SUITE:-bookworm}
case ${PROFILED_VM_KERNEL:-} in
bookworm | trixie | sid) suite=$PROFILED_VM_KERNEL && PROFILED_VM_KERNEL= ;;
esac
files=()
bins=()
script=
rootfs=${PROFILED_VM_ROOTFS:-}
while [ $# -gt 0 ]; do
	case $1 in
	--timeout)
		[ $# -ge 2 ] || usage "--timeout needs a value"
		timeout_s=$2
		shift 2
		;;
	--timeout=*) timeout_s=${1#*=} && shift ;;
	--kernel)
		[ $# -ge 2 ] || usage "--kernel needs a value"
		suite=$2
		shift 2
		;;
	--kernel=*) suite=${1#*=} && shift ;;
	--rootfs)
		[ $# -ge 2 ] || usage "--rootfs needs a value"
		rootfs=$2
		shift 2
		;;
	--rootfs=*) rootfs=${1#*=} && shift ;;
	--file)
		[ $# -ge 2 ] || usage "--file needs a value"
		files+=("$2")
		shift 2
		;;
	--file=*) files+=("${1#*=}") && shift ;;
	--bin)
		[ $# -ge 2 ] || usage "--bin needs a value"
		bins+=("$2")
		shift 2
		;;
	--bin=*) bins+=("${1#*=}") && shift ;;
	-h | --help) usage ;;
	--)
		shift
		break
		;;
	-?*) usage "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage "exactly one GUEST_SCRIPT expected"
script=$1
case $timeout_s in
'' | *[!0-9]* | 0) usage "--timeout must be a positive integer" ;;
esac
case $suite in
bookworm | trixie | sid) ;;
*) usage "--kernel must be bookworm, trixie or sid" ;;
esac
export PROFILED_VM_SUITE=$suite
if [ -n "$rootfs" ]; then
	[ -x "$rootfs/init" ] && usage "--rootfs $rootfs: the image has its own /init"
	[ -d "$rootfs/usr/bin" ] || usage "--rootfs $rootfs: not a filesystem (no /usr/bin)"
	rootfs=$(cd "$rootfs" && pwd)
fi
if [ "$timeout_s" -ge 20 ]; then guest_timeout=$((timeout_s - 10)); else guest_timeout=$(((timeout_s + 1) / 2)); fi

t_start=$(now)

# --- kernel and host tools -----------------------------------------------------
if [ -n "${PROFILED_VM_KERNEL:-}" ]; then
	kernel=$PROFILED_VM_KERNEL
	[ -r "$kernel" ] || die "PROFILED_VM_KERNEL=$kernel is not readable"
else
	rc=0
	kernel=$("$here/fetch.sh" "$suite") || rc=$?
	if [ "$rc" = 77 ]; then
		echo "$kernel"
		exit 77
	fi
	[ "$rc" = 0 ] || die "fetch.sh failed (exit $rc)"
	kernel=$(printf '%s\n' "$kernel" | tail -n1)
fi
case $ARCH in
amd64) tools="qemu-system-x86_64 cpio timeout" sysroot= ;;
arm64)
	tools="qemu-system-aarch64 qemu-aarch64-static readelf cpio timeout"
	sysroot=$(sh "$here/../tools/arm64-sysroot.sh") || die "no arm64 sysroot"
	;;
*) usage "PROFILED_VM_ARCH must be amd64 or arm64" ;;
esac
[ "$ARCH" = amd64 ] || [ -z "$rootfs" ] || usage "--rootfs: amd64 only (arm64 runs the sysroot's userspace)"
for tool in $tools; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run $here/fetch.sh as root; arm64: make deps-arm64)"
done

# --- work dir -----------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/profiled-vm.XXXXXX")
qemu_pid=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	local rc=$?
	# qemu_pid is coreutils timeout's: on TERM it passes TERM to qemu and
	# sends KILL 5 s later if qemu is still there.
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
		if [ -n "${PROFILED_VM_LOG:-}" ] && [ -f "$work/console.log" ]; then
			cp "$work/console.log" "$PROFILED_VM_LOG" 2>/dev/null || true
		fi
	fi
	if [ "${PROFILED_VM_KEEP:-0}" = 1 ]; then
		echo "run.sh: work dir kept: $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Guest layout is /usr-merged whatever the host is: bin, sbin, lib, lib64 are
# symlinks into usr/, so a file copied to <root>/lib/... lands in usr/lib/.
skeleton() {
	local root=$1 d
	mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root/usr/local/bin"
	for d in bin sbin lib lib64; do ln -sfn "usr/$d" "$root/$d"; done
}

# Copy one host file (symlinks followed) to the same path under root.
put() { # root hostpath [guestpath]
	local root=$1 src=$2 dst=${3:-$2}
	mkdir -p "$root$(dirname "$dst")"
	cp -L --preserve=mode "$src" "$root$dst"
}

# arm64: the same from the sysroot (readelf's NEEDED, recursively, and the
# program interpreter), as sysroot paths.
libs_of_sysroot() {
	local todo=("$1") seen=" " f n p interp
	interp=$(readelf -lW "$1" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	[ -z "$interp" ] || printf '%s\n' "$sysroot$interp"
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for n in $(readelf -dW "$f" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]$/\1/p'); do
			case $seen in *" $n "*) continue ;; esac
			seen="$seen$n "
			p=$sysroot/usr/lib/aarch64-linux-gnu/$n
			[ -e "$p" ] || die "$1: $n is not in the arm64 sysroot $sysroot"
			printf '%s\n' "$p"
			todo+=("$p")
		done
	done
}

# Every shared library an executable needs, one path a line (the dynamic
# loader included); nothing for a static binary or a script.
libs_of() {
	[ -z "$sysroot" ] || {
		libs_of_sysroot "$1"
		return
	}
	local out
	out=$(LC_ALL=C ldd "$1" 2>&1) || return 0 # static, or not an ELF file
	if printf '%s\n' "$out" | grep -q 'not found'; then
		printf '%s\n' "$out" | grep 'not found' >&2
		die "$1: missing shared libraries on the host"
	fi
	printf '%s\n' "$out" | sed -n 's/^[^/]*\(\/[^ ]*\) (0x[0-9a-f]*)$/\1/p'
}

make_cpio() { # dir out
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) >"$2"
}

# --- the guest's /init ------------------------------------------------------------
read -r -d '' INIT <<'EOF' || true
#!@SH@
# PID 1 of the profiled test VM (written by test/vm/run.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin@TESTPATH@
export HOME=/root TERM=dumb PROFILED_VM=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t securityfs securityfs /sys/kernel/security
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# / is the initramfs (a tmpfs): /tmp and /run need no mount of their own,
# and what --file put there stays visible.
# Kernel messages stay in dmesg, off the console: the script's output is
# then all there is between the markers (panics, level 0, still show).
dmesg -n 1
hostname profiled-vm
ip link set lo up 2>/dev/null
VM_TIMEOUT=60 VM_DMESG=0
[ -r /etc/profiled-vm/run.conf ] && . /etc/profiled-vm/run.conf
cd /
echo VM-TEST-BEGIN
@SH@ /test.sh </dev/null &
pid=$!
(sleep "$VM_TIMEOUT"; : >/run/vm-timed-out; echo "VM-GUEST-TIMEOUT=$VM_TIMEOUT"; kill -KILL "$pid") </dev/null >/dev/console 2>&1 &
watchdog=$!
wait "$pid"
rc=$?
kill "$watchdog" 2>/dev/null
[ -e /run/vm-timed-out ] && rc=124
echo
echo "VM-EXIT-STATUS=$rc"
if [ "$rc" != 0 ] || [ "$VM_DMESG" = 1 ]; then
	echo VM-DMESG-BEGIN
	dmesg
	echo VM-DMESG-END
fi
poweroff -f
# If poweroff fails, PID 1 exits: panic=-1 reboots and qemu -no-reboot exits.
EOF
INIT+=$'\n'
if [ -n "$rootfs" ]; then
	# The image's programs come first on PATH; busybox (in /test/bin) only
	# adds what the image lacks (ip, poweroff, ps...). The test script runs
	# under busybox sh, as with the host's userspace.
	INIT=${INIT//@SH@//test/bin/sh}
	INIT=${INIT//@TESTPATH@/:/test/bin}
else
	INIT=${INIT//@SH@//bin/sh}
	INIT=${INIT//@TESTPATH@/}
fi

# --- base initramfs (cached) ---------------------------------------------------------
# (arm64: busybox, the parser and its files from the sysroot; $sysroot is
# empty for the host's)
busybox=$sysroot/bin/busybox
run_busybox=("$busybox")
[ -z "$sysroot" ] || run_busybox=(qemu-aarch64-static "$busybox")
[ -r "$busybox" ] || die "$busybox missing (run $here/fetch.sh as root)"
base_dir=$CACHE/initramfs
if ! mkdir -p "$base_dir" 2>/dev/null || ! [ -w "$base_dir" ]; then
	echo "run.sh: cannot write $base_dir: building the base initramfs without caching it" >&2
	base_dir=$work
fi
# busybox and its applet links under ROOT/PREFIX (usr/bin: the host
# userspace; test/bin: apart from an image's own programs).
busybox_into() { # root prefix
	local root=$1 prefix=$2 applet
	put "$root" "$busybox" "/$prefix/busybox"
	while read -r applet; do
		if [ "$prefix" = usr/bin ]; then
			applet=${applet#/}
			case $applet in
			bin/* | sbin/*) applet=usr/$applet ;;
			esac
		else
			applet=$prefix/$(basename "$applet")
		fi
		[ -e "$root/$applet" ] || ln -s "/$prefix/busybox" "$root/$applet"
	done < <("${run_busybox[@]}" --list-full)
}
t_build=$(now)
if [ -n "$rootfs" ]; then
	# An image's filesystem: keyed by its folder (test/image/rootfs.sh names
	# it by the image ID), busybox and this script. Two archives in one
	# file: the image's files as they are, then /test and /init.
	key=$({
		echo "$rootfs"
		stat -L -c '%n %s %Y' "$busybox"
		sha256sum "${BASH_SOURCE[0]}"
	} | sha256sum | cut -c1-16)
	base=$base_dir/image-$key.cpio
	if [ ! -s "$base" ]; then
		(cd "$rootfs" && find . -mindepth 1 \( -path ./usr/share/doc -o -path ./usr/share/man \
			-o -path ./usr/share/info -o -path ./usr/share/locale -o -path ./var/cache/apt \
			-o -path ./var/lib/apt/lists -o -path ./var/log -o -path ./.complete \
			-o -path ./.host-bin \) -prune -o -print |
			LC_ALL=C sort | cpio -o -H newc --reproducible --quiet) >"$work/base.cpio"
		root=$work/base
		mkdir -p "$root/test/bin" "$root/etc/profiled-vm"
		busybox_into "$root" test/bin
		# An image without a shell (profiled's has none): /bin/sh for the
		# test scripts and runc's hooks is busybox, added where the image
		# has nothing, never over one of its files.
		if ! [ -e "$rootfs/usr/bin/sh" ]; then
			mkdir -p "$root/usr/bin"
			ln -s /test/bin/busybox "$root/usr/bin/sh"
		fi
		# The mount points and scratch folders an image built from scratch
		# may not have (a container engine makes them at run time).
		for d in proc sys dev run tmp root mnt var/tmp; do
			[ -e "$rootfs/$d" ] || mkdir -p "$root/$d"
		done
		chmod 1777 "$root/tmp" "$root/var/tmp" 2>/dev/null || true
		printf '%s' "$INIT" >"$root/init"
		chmod 755 "$root/init"
		make_cpio "$root" "$work/extra.cpio"
		cat "$work/extra.cpio" >>"$work/base.cpio"
		mv "$work/base.cpio" "$base"
		rm -rf "$root" "$work/extra.cpio"
		find "$base_dir" -name 'image-*' ! -name "image-$key.*" -mtime +0 -delete 2>/dev/null || true
	fi
else
	# Everything that does not change between runs: busybox, the parser and its
	# libraries, apparmor.d, /init. Keyed by those inputs (path, size, mtime).
	parser=$sysroot/usr/sbin/apparmor_parser
	aa_dirs=()
	for d in abi abstractions tunables local; do
		[ -d "$sysroot/etc/apparmor.d/$d" ] && aa_dirs+=("$sysroot/etc/apparmor.d/$d")
	done
	for f in "$parser" "$sysroot/etc/apparmor/parser.conf" "$sysroot/usr/share/apparmor-features/features"; do
		[ -r "$f" ] || die "$f missing (run $here/fetch.sh as root)"
	done
	parser_libs=$(libs_of "$parser") || exit 70
	base_inputs() {
		local f
		for f in "$busybox" "$parser" $parser_libs "$sysroot/etc/apparmor/parser.conf" \
			"$sysroot/usr/share/apparmor-features/features"; do
			stat -L -c '%n %s %Y' "$f"
		done
		find "${aa_dirs[@]}" -type f -printf '%p %s %T@\n' | LC_ALL=C sort
		sha256sum "${BASH_SOURCE[0]}" # any change to this script rebuilds the base
	}
	key=$(base_inputs | sha256sum | cut -c1-16)
	base=$base_dir/base-$key.cpio
	if [ ! -s "$base" ]; then
		root=$work/base
		skeleton "$root"
		mkdir -p "$root"/{proc,sys,dev,tmp,run,root,mnt,var/tmp,var/cache/apparmor,etc/profiled-vm}
		chmod 1777 "$root/tmp" "$root/var/tmp"
		busybox_into "$root" usr/bin
		put "$root" "$parser" /usr/sbin/apparmor_parser
		for lib in $parser_libs; do put "$root" "$lib" "${lib#"$sysroot"}"; done
		put "$root" "$sysroot/etc/apparmor/parser.conf" /etc/apparmor/parser.conf
		put "$root" "$sysroot/usr/share/apparmor-features/features" /usr/share/apparmor-features/features
		mkdir -p "$root/etc/apparmor.d"
		cp -rL "${aa_dirs[@]}" "$root/etc/apparmor.d/"
		printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
		printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
		printf '127.0.0.1 localhost profiled-vm\n::1 localhost\n' >"$root/etc/hosts"
		printf '%s' "$INIT" >"$root/init"
		chmod 755 "$root/init"
		make_cpio "$root" "$work/base.cpio"
		(cd "$root" && find . -mindepth 1 | sed 's/^\.//') >"$work/base.manifest"
		mv "$work/base.manifest" "${base%.cpio}.manifest"
		mv "$work/base.cpio" "$base" # atomic: concurrent runs never see half a file
		rm -rf "$root"
		# Drop the bases of other keys (older harness or host files) over a day old.
		find "$base_dir" -name 'base-*' ! -name "base-$key.*" -mtime +0 -delete 2>/dev/null || true
	fi
fi

# --- per-run initramfs -------------------------------------------------------------
root=$work/run
if [ -n "$rootfs" ]; then
	mkdir -p "$root/etc/profiled-vm"
else
	skeleton "$root"
	mkdir -p "$root/etc/profiled-vm"
fi
# Is this host path already in the base? (compared /usr-merged, as the base
# manifest lists real paths: /lib/x/libc.so.6 is there as /usr/lib/x/libc.so.6)
in_base() {
	local p=$1
	case $p in
	/bin/* | /sbin/* | /lib/* | /lib64/*) p=/usr$p ;;
	esac
	grep -qxF "$p" "${base%.cpio}.manifest" 2>/dev/null
}
abs() { # absolute host path
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "$1" ;;
	esac
}
check_guest() {
	case $1 in
	/*) ;;
	*) usage "guest path must be absolute: $1" ;;
	esac
}
# With --rootfs: does the image have this path? (its own symlinks, such
# as lib64 -> usr/lib64, are relative, so they resolve inside it)
in_image() { [ -e "$rootfs$1" ] || [ -L "$rootfs$1" ]; }
for spec in "${bins[@]+"${bins[@]}"}"; do
	host=${spec%%:*}
	guest=/usr/local/bin/$(basename "$host")
	[ -n "$rootfs" ] && guest=/test/bin/$(basename "$host")
	[ "$host" != "$spec" ] && guest=${spec#*:}
	check_guest "$guest"
	if ! [ -f "$host" ] || ! [ -x "$host" ]; then usage "--bin $host: not an executable file"; fi
	bin_libs=$(libs_of "$host") || exit 70
	if [ -n "$rootfs" ]; then
		# A test tool the image lacks: it must not shadow the image's
		# programs, and it runs on the image's libraries; a library the
		# image lacks comes from the host (it adds a file, replaces none).
		in_image "$guest" && usage "--bin $host: $guest is the image's own; pick a path under /test"
		for lib in $bin_libs; do
			in_image "$lib" || put "$root" "$lib"
		done
		put "$root" "$(abs "$host")" "$guest"
		continue
	fi
	put "$root" "$(abs "$host")" "$guest"
	for lib in $bin_libs; do
		in_base "${lib#"$sysroot"}" || put "$root" "$lib" "${lib#"$sysroot"}"
	done
done
for spec in "${files[@]+"${files[@]}"}"; do
	host=${spec%%:*}
	guest=$(abs "$host")
	[ "$host" != "$spec" ] && guest=${spec#*:}
	check_guest "$guest"
	[ -e "$host" ] || usage "--file $host: no such file or directory"
	if [ -n "$rootfs" ] && ! [ -d "$host" ] && in_image "$guest"; then
		usage "--file $host: $guest is the image's own"
	fi
	if [ -d "$host" ]; then
		mkdir -p "$root$guest"
		cp -rL --preserve=mode "$host/." "$root$guest/"
	else
		put "$root" "$host" "$guest"
	fi
done
if [ "$script" = - ]; then
	cat >"$root/test.sh"
else
	[ -r "$script" ] || usage "cannot read guest script $script"
	cp "$script" "$root/test.sh"
fi
chmod 755 "$root/test.sh"
printf 'VM_TIMEOUT=%s\nVM_DMESG=%s\n' "$guest_timeout" "${PROFILED_VM_DMESG:-0}" >"$root/etc/profiled-vm/run.conf"
make_cpio "$root" "$work/run.cpio"
cat "$base" "$work/run.cpio" >"$work/initrd.cpio"
rm -rf "$root"
t_boot=$(now)

# --- boot ---------------------------------------------------------------------------
# qemu writes the console to the work dir (a comma in a path would break its
# option syntax); it is copied to PROFILED_VM_LOG afterwards.
log=$work/console.log
if [ -n "${PROFILED_VM_LOG:-}" ]; then
	: >"$PROFILED_VM_LOG" || die "cannot write PROFILED_VM_LOG=$PROFILED_VM_LOG"
fi
console=ttyS0 qemu=(qemu-system-x86_64)
# arm64: the virt board, its PL011 serial port; -cpu max with the cheaper
# pointer-authentication algorithm (QARMA is slow under TCG).
[ "$ARCH" = amd64 ] || console=ttyAMA0 qemu=(qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on)
append="console=$console quiet panic=-1 apparmor=1 security=apparmor ${PROFILED_VM_APPEND:-}"
mem=512M
[ -n "$rootfs" ] && mem=1G # the image's files (~100 MB) live in the guest's RAM, twice while unpacked
qemu+=(-accel "${PROFILED_VM_ACCEL:-tcg,thread=single}" -m "${PROFILED_VM_MEM:-$mem}"
	-smp "${PROFILED_VM_SMP:-2}" -nodefaults -no-user-config -display none -no-reboot
	-kernel "$kernel" -initrd "$work/initrd.cpio" -append "$append"
	-serial "file:$log")
# `timeout` is the hard limit: TERM at timeout_s, KILL 5 s later.
timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null >"$work/qemu.out" 2>&1 &
qemu_pid=$!
tail_pid=
if [ "${PROFILED_VM_VERBOSE:-0}" = 1 ]; then
	tail -n +1 -s 0.2 -F --pid="$qemu_pid" "$log" 2>/dev/null | tr -d '\r' >&2 &
	tail_pid=$!
fi
qrc=0
wait "$qemu_pid" || qrc=$?
t_end=$(now)
qemu_pid=
if [ -n "$tail_pid" ]; then wait "$tail_pid" 2>/dev/null || true; fi
if [ -n "${PROFILED_VM_LOG:-}" ]; then cp "$log" "$PROFILED_VM_LOG"; fi

# --- results ----------------------------------------------------------------------
clean_log() { tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g'; }
status=$(clean_log | sed -n 's/.*VM-EXIT-STATUS=\([0-9][0-9]*\)$/\1/p' | tail -n1)
guest_to=$(clean_log | grep -c '^VM-GUEST-TIMEOUT=' || true)

# The script's lines: between the markers (the kernel logs to the console
# only before the first one: the init sets the console log level to 1).
clean_log | awk '
	/^VM-TEST-BEGIN$/ { on = 1; next }
	/VM-EXIT-STATUS=[0-9]+$/ { if (on) { sub(/VM-EXIT-STATUS=[0-9]+$/, ""); if ($0 != "") print } on = 0; next }
	/^VM-GUEST-TIMEOUT=/ { next }
	on { print }' | awk '
	# the init prints an empty line before the marker: drop the last one
	{ if (n) print prev; prev = $0; n = 1 }
	END { if (n && prev != "") print prev }'

keep_log() {
	local kept=${PROFILED_VM_LOG:-}
	if [ -z "$kept" ]; then
		kept=$(mktemp "${TMPDIR:-/tmp}/profiled-vm-console.XXXXXX")
		cp "$log" "$kept"
	fi
	echo "run.sh: full console log: $kept" >&2
}
tail_console() {
	echo "--- last 40 console lines ---" >&2
	if [ -s "$log" ]; then
		# without the guest's dmesg dump (it is in the full log)
		clean_log | awk '/^VM-DMESG-BEGIN$/ { skip = 1 } !skip { print } /^VM-DMESG-END$/ { skip = 0 }' |
			tail -n 40 >&2 || true
	else
		echo "(the console is empty: the kernel printed nothing; try PROFILED_VM_APPEND=loglevel=7)" >&2
	fi
	echo "---" >&2
	if [ -s "$work/qemu.out" ]; then
		echo "--- qemu output ---" >&2
		tail -n 20 "$work/qemu.out" >&2
		echo "---" >&2
	fi
}

[ "${PROFILED_VM_VERBOSE:-0}" = 1 ] &&
	echo "run.sh: prepare $(elapsed "$t_start" "$t_boot") s (initramfs $(elapsed "$t_build" "$t_boot") s), VM $(elapsed "$t_boot" "$t_end") s, qemu exit $qrc, status ${status:-none}" >&2

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ] || { [ "$guest_to" -gt 0 ] && [ "$status" = 124 ]; }; then
	if [ "$guest_to" -gt 0 ]; then
		echo "run.sh: VM timed out after $timeout_s s: the guest script was still running after $guest_timeout s and was killed" >&2
	else
		echo "run.sh: VM timed out after $timeout_s s (qemu killed; no status from the guest)" >&2
	fi
	tail_console
	keep_log
	exit 124
fi
if [ -z "$status" ]; then
	echo "run.sh: VM failed: no VM-EXIT-STATUS marker on the console (qemu exit $qrc)" >&2
	tail_console
	keep_log
	exit 70
fi
if [ "$status" != 0 ] && [ "$status" != 77 ]; then keep_log; fi
exit "$status"
