#!/bin/sh
# Builds the runtime image's root filesystem in DEST from the build stage:
# profiled, the AppArmor parser with its configuration, abi, abstractions
# and tunables, the CA certificates, and the Debian packages that ship the
# shared libraries the two programs load (their ldd closure), with no
# documentation, manual pages or translations.  Nothing else: no shell, no
# package manager.  /var/lib/dpkg/status lists exactly the packages that
# contributed files, and info/PKG.list the files kept of each, so that
# scanners and `dpkg-query --admindir=ROOT/var/lib/dpkg` see what is there.
#
#   deploy/image/runtime-root.sh PROFILED DEST
#
# For another architecture than the build container's (a cross build):
#   RUNTIME_TRIPLET        the target's multiarch triplet (aarch64-linux-gnu):
#                          the libraries are the target's packages installed
#                          in the build container (dpkg --add-architecture),
#                          found by readelf's NEEDED in /usr/lib/TRIPLET
#                          instead of ldd, which cannot run them
#   RUNTIME_APPARMOR_ROOT  the target's apparmor .deb unpacked (dpkg-deb -x,
#                          its control in DEBIAN/): the parser is taken
#                          from there. Nothing of the target's is run.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 PROFILED DEST" >&2; exit 2; }
bin=$1 dest=$2
triplet=${RUNTIME_TRIPLET:-}
aaroot=${RUNTIME_APPARMOR_ROOT:-}
[ -z "$triplet" ] || [ -d "$aaroot/DEBIAN" ] ||
	{ echo "runtime-root: RUNTIME_TRIPLET needs RUNTIME_APPARMOR_ROOT (an unpacked apparmor .deb)" >&2; exit 2; }
parser=$aaroot/usr/sbin/apparmor_parser
list=$(mktemp -d)

# The package owning PATH, trying its /usr spelling (merged /usr).
owner() {
	for p in "$1" "$(readlink -f "$1")" "/usr$1"; do
		o=$(dpkg-query -S "$p" 2>/dev/null | grep -v '^diversion' | head -n1 | cut -d: -f1) || true
		[ -n "$o" ] && { echo "$o"; return 0; }
	done
	echo "runtime-root: no package ships $1" >&2
	return 1
}

# Cross: the package with its architecture (libc6:arm64), as the build
# container has both.
owner_cross() {
	for p in "$1" "$(readlink -f "$1")" "/usr$1"; do
		o=$(dpkg-query -S "$p" 2>/dev/null | grep -v '^diversion' | head -n1 | sed 's/: .*//') || true
		[ -n "$o" ] && { echo "$o"; return 0; }
	done
	echo "runtime-root: no package ships $1" >&2
	return 1
}

# Cross: the interpreter and the libraries FILE... load (readelf's NEEDED,
# recursively), found under ROOT/usr/lib/TRIPLET.
closure() { # ROOT FILE...
	r=$1
	shift
	todo="$*" seen=
	while [ -n "$todo" ]; do
		set -- $todo
		f=$1
		shift
		todo="$*"
		[ -f "$f" ] || { echo "runtime-root: $f is missing" >&2; return 1; }
		"$triplet-readelf" -lW "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p'
		for n in $("$triplet-readelf" -dW "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			case " $seen " in *" $n "*) continue ;; esac
			seen="$seen $n"
			l=$r/usr/lib/$triplet/$n
			[ -e "$l" ] || { echo "runtime-root: $f needs $n, not in $r/usr/lib/$triplet" >&2; return 1; }
			echo "/usr/lib/$triplet/$n"
			todo="$todo $l"
		done
	done
}

if [ -z "$triplet" ]; then
	pkgs="apparmor ca-certificates base-files"
	for lib in $(ldd "$bin" "$parser" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u); do
		pkgs="$pkgs $(owner "$lib")"
	done
else
	pkgs="ca-certificates base-files"
	libs=$(closure / "$bin" "$parser")
	for lib in $(printf '%s\n' $libs | sort -u); do
		pkgs="$pkgs $(owner_cross "$lib")"
	done
fi
pkgs=$(printf '%s\n' $pkgs | sort -u)

# The files of each package worth shipping.
keep() { # PACKAGE: reads paths on stdin, prints those kept
	case $1 in
	apparmor)
		grep -E '^(/usr/sbin/apparmor_parser|/etc/apparmor/parser\.conf|/etc/apparmor\.d/(abi|abstractions|tunables|local)/.*|/usr/share/apparmor-features/.*)$'
		;;
	*)
		grep -vE '^/usr/share/(doc|doc-base|man|info|locale|lintian|bug|bash-completion|bug|common-licenses)(/|$)|/gconv(/|$)|^/usr/lib/systemd(/|$)|^/etc/(init\.d|cron\.[a-z]+|logrotate\.d)(/|$)'
		;;
	esac
}
for p in $pkgs; do
	dpkg-query -L "$p" | keep "$p" | while read -r f; do
		[ -d "$f" ] && [ ! -L "$f" ] && continue
		[ -e "$f" ] || [ -L "$f" ] || continue
		# one spelling: the folder resolved, the last component kept
		echo "$(readlink -f "$(dirname "$f")")/$(basename "$f")"
	done | sort -u >"$list/$p"
done
# Cross: the parser's package from its unpacked .deb (not installed).
if [ -n "$triplet" ]; then
	(cd "$aaroot" && find . ! -type d ! -path './DEBIAN/*' | sed 's/^\.//') | keep apparmor | sort -u >"$list/.apparmor"
fi

mkdir -p "$dest/usr/bin" "$dest/usr/sbin" "$dest/usr/lib" "$dest/usr/lib64" "$dest/etc" \
	"$dest/var/lib/dpkg/info" "$dest/tmp" "$dest/run" "$dest/var/lib/profiled"
chmod 1777 "$dest/tmp"
for l in bin sbin lib lib64; do ln -s "usr/$l" "$dest/$l"; done
cat "$list"/* | tar -C / --no-recursion -cf - -T - | tar -C "$dest" --keep-directory-symlink -xf -
# (relative names: tar reads an absolute one from / whatever -C says)
[ -z "$triplet" ] || sed 's|^/||' "$list/.apparmor" | tar -C "$aaroot" --no-recursion -cf - -T - | tar -C "$dest" --keep-directory-symlink -xf -
install -m 0755 "$bin" "$dest/usr/bin/profiled"
# Made by maintainer scripts, so in no package's list: the CA bundle and its
# hash links, the accounts (root only is used), name service order.
tar -C / -cf - etc/ssl/certs etc/passwd etc/group etc/nsswitch.conf | tar -C "$dest" -xf -

# The package database of what is there (info/format: the multiarch
# layout, pkg:arch.list).
cp /var/lib/dpkg/info/format "$dest/var/lib/dpkg/info/format"
if [ -z "$triplet" ]; then
	cp /var/lib/dpkg/arch-native "$dest/var/lib/dpkg/arch-native" 2>/dev/null || true
else
	sed -n 's/^Architecture: //p' "$aaroot/DEBIAN/control" >"$dest/var/lib/dpkg/arch-native"
	cp "$list/.apparmor" "$dest/var/lib/dpkg/info/apparmor.list"
	sed '/^Package:/a Status: install ok installed' "$aaroot/DEBIAN/control" >>"$dest/var/lib/dpkg/status"
	echo >>"$dest/var/lib/dpkg/status"
fi
for p in $pkgs; do
	a=$(dpkg-query -W -f '${Architecture}' "$p")
	n=$p
	[ -e "/var/lib/dpkg/info/$p:$a.list" ] && n="$p:$a"
	case $p in *:*) n=$p ;; esac
	cp "$list/$p" "$dest/var/lib/dpkg/info/$n.list"
	dpkg-query -s "$p" >>"$dest/var/lib/dpkg/status"
	echo >>"$dest/var/lib/dpkg/status"
done
rm -rf "$list"
# Every library either program loads is there: the loader finds each one
# in the new root alone.
# Cross: the same checked without running them, by their NEEDED and
# interpreter in the new root alone.
if [ -z "$triplet" ]; then
	for p in /usr/bin/profiled "$parser"; do
		chroot "$dest" "$p" --version >/dev/null || { echo "runtime-root: $p does not start in $dest" >&2; exit 1; }
	done
else
	need=$(closure "$dest" "$dest/usr/bin/profiled" "$dest/usr/sbin/apparmor_parser")
	for i in $need; do
		[ -e "$dest$i" ] || { echo "runtime-root: $i is not in $dest" >&2; exit 1; }
	done
fi
[ -z "$triplet" ] || pkgs="apparmor $pkgs"
echo "runtime-root: $(echo $pkgs | wc -w) packages, $(du -sh "$dest" | cut -f1): $(echo $pkgs)" >&2
