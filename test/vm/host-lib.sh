# Sourced by the VM tests' host scripts (profiled.sh, unload.sh, advise.sh).

# vm_prepare BIN: BIN must be an executable (exit 1 otherwise); then the
# kernel and QEMU (fetch.sh): its SKIP line and status 77 end the caller
# when they cannot be had here.
vm_prepare() {
	[ -x "$1" ] || {
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

# vm_run_agent_guest BIN GUEST_SCRIPT: runs a guest script that starts the
# agent as the DaemonSet does (setpriv gives it only its capabilities), with
# guest-lib.sh; prints the wall time and returns run.sh's status.
vm_run_agent_guest() {
	local setpriv start end rc=0
	setpriv=$(command -v setpriv || true)
	[ -n "$setpriv" ] || {
		echo "$(basename "$2"): setpriv is not installed (util-linux)" >&2
		return 1
	}
	start=${EPOCHREALTIME/./}
	"$here/run.sh" --timeout "${PROFILED_VM_TIMEOUT:-120}" --bin "$1:/usr/local/bin/profiled" \
		--bin "$setpriv:/usr/local/bin/setpriv" \
		--file "$here/guest-lib.sh:/guest-lib.sh" "$2" || rc=$?
	end=${EPOCHREALTIME/./}
	echo "# VM test wall time: $(((end - start) / 1000)) ms"
	return "$rc"
}
