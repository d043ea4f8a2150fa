#!/usr/bin/env bash
# Run the probe in a real container (podman + runc) under a seccomp profile.
#
#   run.sh [--no-new-privileges] PROFILE -- ARGS...
#
# PROFILE is a seccomp JSON file (moby/containers-common format) or the word
# `unconfined`. ARGS go to /probe (see probe.c): `hello`, `mkdir PATH`.
# The probe's output is passed through, and run.sh exits with the container's
# exit code:
#   0, 1, 2   the probe's own (0 ok, 1 mkdir failed, 2 usage)
#   125       podman itself failed (e.g. profile file is not valid JSON)
#   126       the OCI runtime could not start the container: runc rejected
#             the profile (e.g. unknown action) or the profile blocks a
#             syscall runc needs after installing the filter
#   127       /probe not found in the image
#   77        SKIP: podman cannot run containers here (reason on stdout)
#   64        usage error; 70 the probe image could not be built
#
# --no-new-privileges sets the no_new_privs bit (what Kubernetes does for
# allowPrivilegeEscalation: false). runc then installs the filter as late as
# possible, right before execve; without it the filter goes in before runc
# drops capabilities and switches user, so the profile must also allow those
# calls (see profiles/fine-grained-runc.json and README.md).
#
# Before the real run, a preflight checks that podman works at all here:
# `podman info` (before the image is built, as that needs podman too), then
# `/probe hello` with seccomp=unconfined. Its success is remembered for that
# image until reboot (the stamp is on /run, see lib.sh);
# PROFILED_CONSUMER_RECHECK=1 forces it. Any preflight failure is a SKIP
# (exit 77), unless PROFILED_CONSUMER_REQUIRE=1, which makes it exit 1.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: $0 [--no-new-privileges] PROFILE_JSON|unconfined -- ARGS..." >&2
	exit 64
}

nnp=()
if [ "${1:-}" = --no-new-privileges ]; then
	nnp=(--security-opt no-new-privileges)
	shift
fi
if [ $# -lt 2 ] || [ "$2" != -- ]; then usage; fi
profile=$1
shift 2
[ $# -ge 1 ] || usage
if [ "$profile" != unconfined ]; then
	[ -r "$profile" ] || { echo "run.sh: cannot read profile $profile" >&2; exit 64; }
	profile=$(cd "$(dirname "$profile")" && pwd)/$(basename "$profile")
fi

# --- preflight ---------------------------------------------------------------
command -v podman >/dev/null || skip "podman not installed (apt-get install podman runc)"
command -v runc >/dev/null || skip "runc not installed (apt-get install runc)"
mkdir -p "$CONSUMER_RUN/$CONSUMER_DRIVER" || skip "cannot create $CONSUMER_RUN"

stamp=$CONSUMER_RUN/$CONSUMER_DRIVER/preflight-ok
recheck=${PROFILED_CONSUMER_RECHECK:-0}
[ -s "$stamp" ] || recheck=1
if [ "$recheck" = 1 ]; then
	if ! err=$(pm info 2>&1 >/dev/null); then
		skip "podman info failed: $(printf '%s' "$err" | tr '\n' ' ' | cut -c1-400)"
	fi
fi

image=$("$CONSUMER_DIR/image.sh")
rc=$?
case $rc in
0) ;;
*)
	# image.sh's own SKIP (77) or FAIL (1, PROFILED_CONSUMER_REQUIRE=1)
	case $image in "SKIP: "* | "FAIL ("*) echo "$image"; exit "$rc" ;; esac
	echo "run.sh: image.sh failed (exit $rc)" >&2
	exit 70
	;;
esac

run_args=(run --rm --pull never --runtime runc
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024
	--network none)

if [ "$recheck" = 1 ] || [ "$(cat "$stamp")" != "$image" ]; then
	out=$(pm "${run_args[@]}" --security-opt seccomp=unconfined "$image" /probe hello 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ "$out" != hello ]; then
		rm -f "$stamp"
		skip "podman cannot run a container here (seccomp=unconfined /probe hello: exit $rc): $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-400)"
	fi
	echo "$image" >"$stamp"
fi

# --- the run -------------------------------------------------------------------
pm "${run_args[@]}" "${nnp[@]}" --security-opt "seccomp=$profile" "$image" /probe "$@"
