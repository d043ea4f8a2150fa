# Sourced by the VM tests' host scripts (matrix.sh, profiled.sh, unload.sh,
# trust.sh, advise.sh). Expects $here (test/vm).

# vm_userspace: the guest's userspace, from PROFILED_VM_USERSPACE:
#   image (the default)  the profiled image's own filesystem: its profiled,
#                        apparmor_parser, libraries and /etc/apparmor.d
#                        (test/image/rootfs.sh), for the image named by
#                        PROFILED_VM_IMAGE, else build/image/ref (built with
#                        `make image` when missing); run.sh gets it through
#                        PROFILED_VM_ROOTFS
#   host                 the host's parser and libraries, and the BIN given
# Sets VM_USERSPACE ("image REF" or "host") and VM_ROOTFS (empty for host).
# No podman: `SKIP:` and exit 77.
vm_userspace() {
	local repo ref
	repo=$(cd "$here/../.." && pwd)
	case ${PROFILED_VM_USERSPACE:-image} in
	host)
		VM_USERSPACE=host VM_ROOTFS=
		export PROFILED_VM_ROOTFS=
		return 0
		;;
	image) ;;
	*)
		echo "$(basename "$0"): PROFILED_VM_USERSPACE must be image or host" >&2
		exit 64
		;;
	esac
	command -v podman >/dev/null 2>&1 || {
		echo "SKIP: podman is not installed: no image to take the guest's userspace from (PROFILED_VM_USERSPACE=host uses the host's)"
		exit 77
	}
	ref=${PROFILED_VM_IMAGE:-}
	if [ -z "$ref" ]; then
		if ! [ -s "$repo/build/image/ref" ]; then
			echo "# $(basename "$0"): no build/image/ref: make image" >&2
			make -C "$repo" image >&2 || exit 1
		fi
		ref=$(cat "$repo/build/image/ref")
	fi
	VM_ROOTFS=$(sh "$repo/test/image/rootfs.sh" "$ref") || exit 1
	VM_USERSPACE="image $ref"
	export PROFILED_VM_ROOTFS=$VM_ROOTFS
}

# vm_prepare BIN: the guest's userspace (vm_userspace); with the host's,
# BIN must be an executable (exit 1 otherwise). Then the kernel and QEMU
# (fetch.sh): its SKIP line and status 77 end the caller when they cannot
# be had here.
vm_prepare() {
	vm_userspace
	[ -n "$VM_ROOTFS" ] || [ -x "$1" ] || {
		echo "$(basename "$0"): $1 is not an executable (run make first)" >&2
		exit 1
	}
	local rc=0 out
	out=$("$here/fetch.sh") || rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '%s\n' "$out"
		exit "$rc"
	fi
}

# vm_bins BIN [TOOL[:HOSTGUESTPATH]]...: sets VM_BINS, the run.sh options
# that bring the agent and the host tools a guest needs. With the image's
# userspace the image's own profiled runs (BIN is not copied) and a tool
# goes to /test/bin only if the image lacks it (it then runs on the
# image's libraries); with the host's, BIN becomes /usr/local/bin/profiled
# and each tool /usr/local/bin/TOOL (or the path after the colon).
vm_bins() {
	local bin=$1 spec tool path
	shift
	VM_BINS=()
	[ -n "$VM_ROOTFS" ] || VM_BINS+=(--bin "$bin:/usr/local/bin/profiled")
	for spec in "$@"; do
		tool=${spec%%:*}
		path=$(command -v "$tool" || true)
		[ -n "$path" ] || {
			echo "$(basename "$0"): $tool is not installed (make deps)" >&2
			return 1
		}
		if [ -n "$VM_ROOTFS" ]; then
			if [ -e "$VM_ROOTFS/usr/bin/$tool" ] || [ -e "$VM_ROOTFS/usr/sbin/$tool" ]; then
				continue # the image's own
			fi
			VM_BINS+=(--bin "$path:/test/bin/$tool")
		elif [ "$tool" != "$spec" ]; then
			VM_BINS+=(--bin "$path:${spec#*:}")
		else
			VM_BINS+=(--bin "$path:/usr/local/bin/$tool")
		fi
	done
}

# vm_run_agent_guest BIN GUEST_SCRIPT: runs a guest script that starts the
# agent as the DaemonSet does (setpriv gives it only its capabilities), with
# guest-lib.sh; prints the wall time and returns run.sh's status.
vm_run_agent_guest() {
	local start end rc=0
	vm_bins "$1" setpriv || return 1
	start=${EPOCHREALTIME/./}
	"$here/run.sh" --timeout "${PROFILED_VM_TIMEOUT:-120}" "${VM_BINS[@]}" \
		--file "$here/guest-lib.sh:/guest-lib.sh" "$2" || rc=$?
	end=${EPOCHREALTIME/./}
	echo "# VM test wall time: $(((end - start) / 1000)) ms (userspace: $VM_USERSPACE)"
	return "$rc"
}
