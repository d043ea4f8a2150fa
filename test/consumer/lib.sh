# shellcheck shell=bash
# Shared by image.sh and run.sh (sourced, not run).
#
# Every podman call goes through pm(), which passes all the settings the
# consumer test depends on as command-line flags, so that a machine with only
# `apt-get install podman runc` (and gcc + libc6-dev for the probe) works and
# no global config file (/etc/containers/*) is read for these or written.
#
#   --root/--runroot/--tmpdir  a private store and state dir: the test neither
#                              sees nor touches the machine's own images and
#                              containers, and `rm -rf` of them is a full reset
#   --storage-driver           overlay unless PROFILED_CONSUMER_STORAGE_DRIVER
#                              says otherwise (e.g. vfs where overlay cannot
#                              mount, such as overlay-on-overlay)
#   --cgroup-manager cgroupfs  Debian's /etc/containers/libpod.conf says
#                              systemd, which needs systemd as PID 1 (absent in
#                              containers/sandboxes)
#   --events-backend file      journald is the built-in default and needs a
#                              running journal
#   --runtime runc             (global) so that the `container cleanup` process
#                              spawned by `run --rm` also uses runc

# shellcheck disable=SC2034 # used by the scripts that source this
CONSUMER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Persistent: the image store and the compiled rootfs tarballs.
CONSUMER_STATE=${PROFILED_CONSUMER_STATE:-/var/tmp/profiled-consumer}
# Volatile (tmpfs, gone at reboot): podman's runroot/tmpdir and the preflight stamp.
CONSUMER_RUN=${PROFILED_CONSUMER_RUN:-/run/profiled-consumer}
CONSUMER_DRIVER=${PROFILED_CONSUMER_STORAGE_DRIVER:-overlay}

pm() {
	podman \
		--root "$CONSUMER_STATE/storage-$CONSUMER_DRIVER" \
		--runroot "$CONSUMER_RUN/$CONSUMER_DRIVER/runroot" \
		--tmpdir "$CONSUMER_RUN/$CONSUMER_DRIVER/libpod" \
		--storage-driver "$CONSUMER_DRIVER" \
		--cgroup-manager cgroupfs \
		--events-backend file \
		--runtime runc \
		--log-level error \
		"$@"
}

# Podman cannot work here (or a tool is missing): exit 77 (the automake/bats
# convention for "skipped"), or 1 where PROFILED_CONSUMER_REQUIRE=1 says the
# consumer test must run (e.g. in CI, so that a missing install step fails).
skip() {
	if [ "${PROFILED_CONSUMER_REQUIRE:-0}" = 1 ]; then
		echo "FAIL (PROFILED_CONSUMER_REQUIRE=1): $*"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}
