#!/bin/sh
# Installs what building and testing profiled needs, from Debian's archive.
# Idempotent: when everything is present it does nothing (and needs no root).
#   deps.sh           build and test dependencies (make deps)
#   deps.sh cluster   those plus what make image / cluster-up / e2e need
#   deps.sh arm64     those plus the arm64 cross compiler and QEMU (make
#                     ARCH=arm64, test-arm64, test-vm-arm64); the arm64
#                     libraries come from test/tools/arm64-sysroot.sh
set -eu

# Build: compiler, pkg-config and the libraries profiled links.
BUILD_PKGS="gcc make pkg-config libc6-dev libseccomp-dev libcjson-dev libapparmor-dev
libcurl4-openssl-dev libinotifytools0-dev libssl-dev libyaml-dev libmicrohttpd-dev"
# Tests: unit framework, black-box runner, the AppArmor parser, the
# container runtime that consumes published profiles, fuzzing and format.
TEST_PKGS="libcmocka-dev bats apparmor podman runc clang libclang-rt-14-dev clang-format
python3 procps valgrind qemu-system-x86 busybox-static cpio xz-utils
catatonit slirp4netns fuse-overlayfs uidmap curl openssl yamllint"

# The image and the test cluster (test/cluster/): the base image made with
# debootstrap, containerd and the CNI plugins of the node, the registry the
# images are pushed to. Kept apart: make test uses none of them. Go (1.26 or
# newer, for the pinned Kubernetes) is not Debian 12's: see test/cluster/build.sh.
CLUSTER_PKGS="debootstrap containerd containernetworking-plugins docker-registry iptables iproute2"
[ "${1:-}" = cluster ] || CLUSTER_PKGS=""
# arm64: Debian's cross compiler (not crossbuild-essential-arm64: its
# dpkg-cross would upgrade the host's perl), qemu-user for the unit and
# black-box tests, qemu-system-arm for the arm64 kernel, binfmt-support for
# the arm64 stages of make image.
ARM64_PKGS="gcc-aarch64-linux-gnu qemu-user-static qemu-system-arm binfmt-support file"
[ "${1:-}" = arm64 ] || [ "${1:-}" = cluster ] || ARM64_PKGS=""

missing=""
for p in $BUILD_PKGS $TEST_PKGS $CLUSTER_PKGS $ARM64_PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: run 'make deps' as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
