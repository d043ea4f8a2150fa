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
