# Common helpers for the profiled black-box tests (bats 1.8).
#
# Every test gets its own folder $T under $BATS_TEST_TMPDIR with:
#   $P  a profiles folder (not created: tests choose plain or kubelet-style)
#   $R  the seccomp root (the kubelet's /var/lib/kubelet/seccomp stand-in)
#   $S  the state folder
#   $LOG the daemon's stderr
# The daemon runs in the background of the test's own shell, so `wait` can
# reap it and give its exit status (a zombie would keep `kill -0` true).

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PROFILED=${PROFILED:-$REPO/build/profiled}
# The Kubernetes tutorial's profiles, kept in the repository (override with
# PROFILED_FIXTURES=DIR holding kubernetes-docs/).
FIXTURES_ROOT=${PROFILED_FIXTURES:-$REPO/test/data/fixtures}
FIXTURES=$FIXTURES_ROOT/kubernetes-docs/seccomp
ENGINES=$REPO/test/data/seccomp/engines
KUBELET_WRITER=$REPO/test/tools/kubelet_writer.py
PYHELP=$BATS_TEST_DIRNAME/helpers.py
SUBDIR=profiled
# Waits (never assertions) stretch by this factor when the daemon runs slowly
# on purpose, e.g. under valgrind (test/tools/valgrind.sh sets 20).
WAIT_SCALE=${PROFILED_WAIT_SCALE:-1}

common_setup() {
	[ -x "$PROFILED" ] || {
		echo "PROFILED=$PROFILED is not an executable (run make first)" >&2
		return 1
	}
	T=$BATS_TEST_TMPDIR/t
	rm -rf "$T"
	mkdir -p "$T"
	P=$T/profiles
	R=$T/root
	S=$T/state
	PUB=$R/$SUBDIR
	LOG=$T/daemon.log
	DAEMON_PID=
	DAEMON_RC=
	STOP_MS=
	EXTRA_PIDS=
	# A pipe nobody writes to: `read -t` on it is a sleep without a fork.
	exec {PAUSE_FD}<> <(:)
}

common_teardown() {
	if [ -n "${DAEMON_PID:-}" ]; then
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
		DAEMON_PID=
	fi
	for pid in ${EXTRA_PIDS:-}; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	EXTRA_PIDS=
	api_stop
	[ -z "${PAUSE_FD:-}" ] || exec {PAUSE_FD}>&-
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${T:-}" ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "--- $f"
			cat "$f"
		done
	fi
}

# --- the strict API server stand-in (test/apiserver) ------------------------

APISERVER=$REPO/test/apiserver/apiserver.py

# api_certs DIR: a throwaway PKI for the stand-in. RSA key generation is the
# slow part: a file whose tests allow it makes one in setup_file and exports
# API_CERTS.
api_certs() {
	bash "$REPO/test/apiserver/mkcerts.sh" "$1" >/dev/null 2>&1
}

# api_start [apiserver flags]: the stand-in with node-1 and token secret-1
# on ports of its choosing, with the PKI in $API_CERTS (else one of its own
# in $A/certs). Sets A (its folder), API_PID, CTL (the control URL) and KC
# (a kubeconfig for it); common_teardown stops it.
api_start() {
	A=$T/api
	mkdir -p "$A/out"
	local certs=${API_CERTS:-$A/certs}
	[ -f "$certs/ca.crt" ] || api_certs "$certs"
	rm -f "$A/ready"
	python3 "$APISERVER" --certs "$certs" --token secret-1 --node node-1 \
		--ready-file "$A/ready" --out "$A/out" --quiet --exit-with-parent "$@" \
		2>>"$T/apiserver.log" &
	API_PID=$!
	# (a wait, not an assertion: the stand-in starts in 4 to 5 s on a loaded machine)
	wait_until 30 test -s "$A/ready"
	CTL=http://127.0.0.1:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "$A/ready")
	KC=$A/out/kubeconfig
}

api_stop() {
	if [ -n "${API_PID:-}" ]; then
		kill "$API_PID" 2>/dev/null || true
		wait "$API_PID" 2>/dev/null || true
	fi
	API_PID=
}

ctl() { # METHOD PATH [JSON]: the stand-in's control API
	curl -sS -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$CTL$2"
}

# labels: the node's labels, one KEY=VALUE a line, sorted.
labels() {
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
for k, v in sorted(json.load(sys.stdin)["metadata"].get("labels", {}).items()):
    print("%s=%s" % (k, v))'
}

# label_patches: the label part of every node PATCH received.
label_patches() {
	ctl GET '/control/requests?method=PATCH&path_prefix=/api/v1/nodes' | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    lab = (r.get("body") or {}).get("metadata", {}).get("labels")
    if lab:
        print(json.dumps(lab, sort_keys=True))'
}

# assert_quiet_resync: a SIGHUP (a resync) with nothing changed costs one
# GET of the Node and no PATCH. Prints the requests seen.
assert_quiet_resync() {
	ctl POST /control/reset-requests >/dev/null
	kill -HUP "$DAEMON_PID"
	wait_until 5 sh -c "curl -s $CTL/control/requests | grep -q GET"
	pause 0.5
	ctl GET /control/requests | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["method"], r["path"], r["status"])' | tee "$T/resync-requests"
	[ "$(grep -c '^GET' "$T/resync-requests")" -eq 1 ]
	[ "$(grep -c '^PATCH' "$T/resync-requests")" -eq 0 ]
}

# --- a folder standing in for apparmorfs -------------------------------------

# apparmorfs_setup: $FS with the files libapparmor writes (.load, .replace,
# .remove) and the kernel's list, which the test writes ($FS/profiles);
# $WRAPPER, the parser wrapper that records each call in $PARSER_LOG. Skips
# loudly without apparmor_parser.
apparmorfs_setup() {
	command -v apparmor_parser >/dev/null || {
		echo "# SKIP: apparmor_parser not installed (make deps)" >&3
		skip "apparmor_parser not installed (make deps)"
	}
	FS=$T/apparmorfs
	mkdir -p "$FS" "$P"
	: >"$FS/.load"
	: >"$FS/.replace"
	: >"$FS/.remove"
	: >"$FS/profiles"
	WRAPPER=$BATS_TEST_DIRNAME/bin/parser-wrapper
	export PARSER_LOG=$T/parser.log
	: >"$PARSER_LOG"
}

# kernel_has NAME MODE...: the stand-in kernel lists these profiles.
kernel_has() {
	: >"$FS/profiles"
	while [ $# -gt 0 ]; do
		printf '%s (%s)\n' "$1" "$2" >>"$FS/profiles"
		shift 2
	done
}

# aa_once [FLAGS]: one `run --once` reconcile with the stand-in kernel (a
# file may define its own, with more flags).
aa_once() {
	run_once --apparmorfs "$FS" --apparmor-parser "$WRAPPER" "$@"
}

# Skips loudly when the shared Kubernetes fixtures are not there.
need_fixtures() {
	if [ ! -d "$FIXTURES" ] || [ ! -f "$FIXTURES/audit.json" ] ||
		[ ! -f "$FIXTURES/fine-grained.json" ] || [ ! -f "$FIXTURES/violation.json" ]; then
		echo "# SKIP: Kubernetes fixtures missing at $FIXTURES" >&3
		skip "Kubernetes fixtures missing at $FIXTURES"
	fi
}

# fixtures_into DIR: copies the three Kubernetes example profiles.
fixtures_into() {
	need_fixtures
	mkdir -p "$1"
	cp "$FIXTURES"/audit.json "$FIXTURES"/fine-grained.json "$FIXTURES"/violation.json "$1"/
}

# run_once [flags...]: one --once reconcile of $P into $R/$S; sets status,
# output (stderr+stdout) like bats' `run`.
run_once() {
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" \
		--seccomp-subdir "$SUBDIR" --state-dir "$S" --node-name node-1 "$@"
}

# start_daemon [flags...]: starts the daemon on $P/$R/$S in the background,
# stderr to $LOG; DAEMON_PID is its pid.  Extra flags are appended (use them
# for extra --profiles etc.).  Waits for "ready" unless NO_WAIT=1.
start_daemon() {
	: >"$LOG"
	# No health/metrics server unless the test asks (METRICS_ADDR): tests
	# must not fight over the default port.
	"$PROFILED" run --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --metrics-addr "${METRICS_ADDR-}" "$@" \
		</dev/null >"$T/daemon.out" 2>"$LOG" 3>&- {PAUSE_FD}>&- &
	DAEMON_PID=$!
	if [ "${NO_WAIT:-0}" != 1 ]; then
		wait_for_log ' ready' 5
	fi
}

# stop_daemon [SIGNAL]: signals the daemon (TERM by default) and reaps it
# with `wait`; DAEMON_RC is its exit status, STOP_MS how long it took.
stop_daemon() {
	local sig=${1:-TERM} t0 t1 rc=0
	[ -n "$DAEMON_PID" ] || return 0
	t0=${EPOCHREALTIME/./}
	kill -"$sig" "$DAEMON_PID"
	wait "$DAEMON_PID" || rc=$?
	t1=${EPOCHREALTIME/./}
	DAEMON_RC=$rc
	STOP_MS=$(((t1 - t0) / 1000))
	DAEMON_PID=
}

# now_ms: monotonic enough wall clock in milliseconds.
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# pause SECONDS: a short sleep of the test harness (bash builtin, no fork).
pause() {
	read -r -t "$1" -u "$PAUSE_FD" || true
}

# count_log PATTERN [FILE]: number of lines matching the ERE.
count_log() {
	grep -cE -- "$1" "${2:-$LOG}" || true
}

# wait_for_log PATTERN [TIMEOUT_S] [COUNT] [FILE]: waits until at least COUNT
# lines (default 1) of the log match the ERE.
wait_for_log() {
	local pat=$1 timeout=${2:-5} want=${3:-1} file=${4:-$LOG}
	local deadline=$(($(now_ms) + timeout * 1000 * WAIT_SCALE))
	while :; do
		if [ "$(count_log "$pat" "$file")" -ge "$want" ]; then
			return 0
		fi
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "timed out after ${timeout}s waiting for $want line(s) matching /$pat/ in $file" >&2
			return 1
		fi
		pause 0.02
	done
}

# wait_until TIMEOUT_S COMMAND...: polls COMMAND every 20 ms.
wait_until() {
	local timeout=$1
	shift
	local deadline=$(($(now_ms) + timeout * 1000 * WAIT_SCALE))
	until "$@"; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "timed out after ${timeout}s waiting for: $*" >&2
			return 1
		fi
		pause 0.02
	done
}

# wait_for_content PUBLISHED EXPECTED [TIMEOUT_S]: published file equals
# EXPECTED byte for byte.
wait_for_content() {
	wait_until "${3:-5}" cmp -s "$1" "$2"
}

# put FILE: stdin into FILE through a dot-named temporary and a rename, as
# the kubelet's writer makes a key appear whole.  A test that counts the
# agent's reconciles or requests must not let it see a half-written file.
put() {
	local tmp
	tmp="$(dirname "$1")/.$(basename "$1").put-$$"
	cat >"$tmp" && mv -f "$tmp" "$1"
}

gone() { [ ! -e "$1" ] && [ ! -L "$1" ]; }

# wait_for_gone FILE [TIMEOUT_S]
wait_for_gone() {
	wait_until "${2:-5}" gone "$1"
}

# file_id FILE: inode, mtime (ns) and mode, to prove a file was not rewritten.
file_id() {
	stat -c '%i %.9Y %a %s' "$1"
}

# kw TARGET SRC_DIR|--empty [...]: the kubelet's atomic writer.
kw() {
	python3 "$KUBELET_WRITER" "$@"
}

# seccomp_json ACTION [ERRNO_SYSCALL...]: a small valid profile.
seccomp_json() {
	local action=$1
	shift
	if [ $# -eq 0 ]; then
		printf '{"defaultAction":"%s"}\n' "$action"
	else
		local names
		names=$(printf '"%s",' "$@")
		printf '{"defaultAction":"%s","syscalls":[{"names":[%s],"action":"SCMP_ACT_ERRNO"}]}\n' \
			"$action" "${names%,}"
	fi
}

# not COMMAND...: fails when COMMAND succeeds (a bare `! cmd` does not fail
# a bats test under set -e).
not() {
	if "$@"; then
		echo "unexpectedly succeeded: $*" >&2
		return 1
	fi
	return 0
}

# kernel_holds NAME [MODE] [BLOB]: the stand-in kernel lists NAME (MODE,
# default enforce) and exports the policy it was loaded from as Linux does
# (policy/profiles/<NAME>.<n>/{name,raw_data}, checked against the real
# kernel by test/vm/trust.sh): BLOB, by default what was written to
# .replace.  The agent proves a loaded profile its own by that data alone.
kernel_holds() {
	local name=$1 mode=${2:-enforce} blob=${3:-$FS/.replace} n d
	mkdir -p "$FS/policy/profiles"
	n=$(find "$FS/policy/profiles" -mindepth 1 -maxdepth 1 | wc -l)
	d="$FS/policy/profiles/$(printf '%s' "${name#/}" | tr '/ ' '._').$n"
	mkdir -p "$d"
	printf '%s\n' "$name" >"$d/name"
	cp "$blob" "$d/raw_data"
	printf '%s (%s)\n' "$name" "$mode" >>"$FS/profiles"
}
