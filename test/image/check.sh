#!/bin/bash
# The Dockerfile's runtime stage installs every library the built profiled
# links directly (readelf NEEDED -> the Debian package that ships it), the
# AppArmor parser, and no compiler.  No container engine builds the image
# in CI, so this is what can be checked here.
#
#   test/image/check.sh [BINARY]    prints ok/not ok lines and
#                                   "N passed, N failed"; exit 0/1
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${1:-$repo/build/profiled}
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

# The packages the runtime stage (after the last FROM) installs.
runtime=$(awk '/^FROM /{stage++} {print stage" "$0}' "$repo/Dockerfile" |
	awk -v last="$(grep -c '^FROM ' "$repo/Dockerfile")" '$1 == last' | cut -d' ' -f2- |
	sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' |
	grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|DEBIAN_FRONTEND|y|no|recommends)$' | sort -u)
echo "# runtime packages: $(echo $runtime)"

for lib in $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
	case $lib in
	libasan.so* | libubsan.so*)
		echo "# $lib: a sanitizer build's runtime, not part of the image"
		continue
		;;
	esac
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')
	# merged /usr: dpkg knows the file under one of the two names
	pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null)
	pkg=$(head -n1 <<<"$pkg" | cut -d: -f1)
	if [ -z "$pkg" ]; then
		notok "$lib: no Debian package found for $path"
	elif [ "$pkg" = libc6 ] || grep -qx "$pkg" <<<"$runtime"; then
		ok "$lib ($pkg) is in the runtime image"
	else
		notok "$lib: package $pkg is not installed by the Dockerfile's runtime stage"
	fi
done
if grep -qx apparmor <<<"$runtime"; then ok "the AppArmor parser (apparmor) is installed"; else notok "apparmor is not installed"; fi
if grep -qxE 'gcc|make|clang|libc6-dev|.*-dev' <<<"$runtime"; then
	notok "the runtime stage installs build tools: $(grep -xE 'gcc|make|clang|libc6-dev|.*-dev' <<<"$runtime" | tr '\n' ' ')"
else
	ok "no compiler or -dev package in the runtime stage"
fi
if grep -q '^!lib/' "$repo/.dockerignore" && grep -q '^\*$' "$repo/.dockerignore"; then
	ok ".dockerignore admits only what the build needs"
else
	notok ".dockerignore does not start from '*'"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
