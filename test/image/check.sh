#!/bin/bash
# The runtime image holds what profiled and the AppArmor parser load and
# nothing to build, install or log in with.  Checked on the image's own
# filesystem (test/image/rootfs.sh: the image in build/image/ref) and its own
# package database, never the host's.
#
#   test/image/check.sh [BINARY]    prints ok/not ok lines and
#                                   "N passed, N failed"; exit 0/1, 77 when
#                                   there is no image (podman missing or
#                                   make image not run; an error with
#                                   PROFILED_IMAGE_REQUIRE=1)
# BINARY (default build/profiled): each library it links directly must be
# in the image too, so that a library added to the Makefile is not missed.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/build/profiled}
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

if ! root=$(sh "$here/rootfs.sh" 2>&1); then
	if [ "${PROFILED_IMAGE_REQUIRE:-0}" = 1 ]; then
		echo "not ok - no image to check: $root"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "SKIP: no image to check ($root)"
	exit 77
fi
echo "# image $(cat "$root/.complete") in $root"
db=$root/var/lib/dpkg
pkgs=$(sed -n 's/^Package: //p' "$db/status" | sort)
echo "# packages: $(echo $pkgs)"
lib_dirs="usr/lib/x86_64-linux-gnu usr/lib usr/lib64"

# find NAME: the library NAME in the image, as a path inside it
find_lib() {
	local d
	for d in $lib_dirs; do
		[ -e "$root/$d/$1" ] && { echo "/$d/$1"; return 0; }
	done
	return 1
}
# owner PATH: the image's package shipping PATH (PATH inside the image)
owner() {
	local real
	real=$(cd "$root" && readlink -f "$root$1")
	real=/${real#"$root"/}
	dpkg-query --admindir="$db" -S "$1" 2>/dev/null | head -n1 | cut -d: -f1 | grep . ||
		dpkg-query --admindir="$db" -S "$real" 2>/dev/null | head -n1 | cut -d: -f1 | grep .
}

# The shared-library closure of a program, resolved inside the image only.
declare -A seen=()
check_closure() { # FILE-INSIDE WHO
	local lib path pkg
	for lib in $(readelf -d "$root$1" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		[ -z "${seen[$lib]:-}" ] || continue
		seen[$lib]=1
		if ! path=$(find_lib "$lib"); then
			notok "$lib ($2 needs it) is not in the image"
			continue
		fi
		if pkg=$(owner "$path"); then
			ok "$lib ($pkg) is in the image"
		else
			notok "$lib is in the image at $path, but no package of the image's database ships it"
		fi
		check_closure "$path" "$lib"
	done
}
check_closure /usr/bin/profiled profiled
check_closure /usr/sbin/apparmor_parser apparmor_parser
for lib in $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
	case $lib in
	libasan.so* | libubsan.so*) continue ;; # a sanitizer build's runtime
	esac
	find_lib "$lib" >/dev/null || notok "$lib, which $bin links, is not in the image"
done

# Both programs start with the image's loader and libraries alone.
run_in() { # PROGRAM ARGS...: inside the image root
	if [ "$(id -u)" = 0 ]; then
		chroot "$root" "$@"
	else
		"$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --inhibit-cache \
			--library-path "$root/usr/lib/x86_64-linux-gnu" "$root$1" "${@:2}"
	fi
}
if v=$(run_in /usr/bin/profiled version 2>&1); then ok "profiled starts in the image: $v"; else notok "profiled does not start in the image: $v"; fi
pv=$(run_in /usr/sbin/apparmor_parser --version 2>&1 | head -n1)
pv=${pv##* }
if dpkg --compare-versions "${pv:-0}" ge 4.1; then
	ok "the image's AppArmor parser is $pv (>= 4.1)"
else
	notok "the image's AppArmor parser is '${pv:-none}', not >= 4.1"
fi
sv=$(dpkg-query --admindir="$db" -W -f '${Version}' libseccomp2 2>/dev/null)
if dpkg --compare-versions "${sv:-0}" ge 2.6; then
	ok "the image's libseccomp is $sv (>= 2.6)"
else
	notok "the image's libseccomp is '${sv:-none}', not >= 2.6"
fi

for f in etc/apparmor/parser.conf etc/apparmor.d/abi/4.0 etc/apparmor.d/tunables/global \
	etc/apparmor.d/abstractions/base etc/ssl/certs/ca-certificates.crt; do
	if [ -s "$root/$f" ]; then ok "/$f is in the image"; else notok "/$f is missing"; fi
done

bad=$(grep -xE '.*-dev|gcc.*|cpp.*|make|clang.*|binutils.*|apt|dpkg|bash|dash|coreutils|perl-base|debconf|login|passwd' <<<"$pkgs")
if [ -z "$bad" ]; then ok "no compiler, shell or package manager package"; else notok "the image has $(echo $bad)"; fi
bad=
for f in bin/sh bin/bash usr/bin/dpkg usr/bin/apt usr/bin/gcc usr/bin/cc usr/bin/make; do
	[ -e "$root/$f" ] && bad="$bad /$f"
done
if [ -z "$bad" ]; then ok "no shell, package manager or compiler program"; else notok "the image has$bad"; fi
bad=$(cd "$root" && find usr/share/doc usr/share/man usr/share/info usr/share/locale -type f 2>/dev/null | head -n3)
if [ -z "$bad" ]; then ok "no documentation, manual pages or translations"; else notok "the image has docs: $(echo $bad) ..."; fi

# Every file is a package's, or one of the few the build writes.
listed=$(cat "$db"/info/*.list | sort -u)
stray=$(cd "$root" && find . \( -type f -o -type l \) ! -path './.host-bin/*' ! -name .complete \
	! -path './var/lib/dpkg/*' ! -path './usr/share/profiled/examples/*' ! -path './etc/ssl/certs/*' \
	! -path ./usr/bin/profiled ! -path ./etc/passwd ! -path ./etc/group ! -path ./etc/nsswitch.conf \
	! -path ./bin ! -path ./sbin ! -path ./lib ! -path ./lib64 | sed 's|^\.||' | sort | comm -23 - <(echo "$listed"))
if [ -z "$stray" ]; then
	ok "every file in the image is a package's or one the build writes"
else
	notok "files of no package: $(echo "$stray" | head -n5 | tr '\n' ' ')"
fi

if grep -q '^!lib/' "$repo/.dockerignore" && grep -q '^\*$' "$repo/.dockerignore"; then
	ok ".dockerignore admits only what the build needs"
else
	notok ".dockerignore does not start from '*'"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
