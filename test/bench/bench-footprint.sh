#!/bin/bash
# Benchmark: the daemon's footprint at idle with many managed profiles.
#
# Starts build/profiled on SECCOMP seccomp files and APPARMOR AppArmor files
# (each its own profile; the real apparmor_parser compiles them, the real
# libapparmor writes them into a folder standing in for apparmorfs, as
# test/bats/apparmor.bats does), against the API server stand-in
# (test/apiserver, TLS + token) with /metrics served, as in a cluster.  Once
# everything is published, loaded, confirmed and labeled, and /metrics,
# /healthz and /readyz have been asked once (Prometheus and the kubelet's
# probes do), it measures the idle daemon:
#
#   memory   VmRSS and its split (RssAnon/RssFile/RssShmem), Pss and
#            Private from smaps_rollup, VmHWM (the daemon's own peak), the
#            parser's peak (max RSS of each parser run through /usr/bin/time),
#            and, when a memory cgroup can be made here, the cgroup's charge
#            (what a pod's memory request and limit are compared with)
#   CPU      utime+stime and context switches (every thread) over WINDOW
#            seconds of idle, scaled to a minute
#   fds, threads, binary size (as built and stripped), and the runtime
#            image's size when it was built (by package: test/image/size.sh)
#
# Figures only: it fails when the setup fails, never on a figure.
#
#   test/bench/bench-footprint.sh
#   env: PROFILED (default build/profiled), SECCOMP=250, APPARMOR=250,
#        WINDOW=15 (idle seconds measured), API=1, METRICS=1,
#        PORT=20400 (metrics port), BASELINE_MIB=64 (the comparison),
#        SMAPS=1 (also print the largest mappings by RSS)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PROFILED=${PROFILED:-$REPO/build/profiled}
N_SEC=${SECCOMP:-250}
N_AA=${APPARMOR:-250}
WINDOW=${WINDOW:-15}
API=${API:-1}
METRICS=${METRICS:-1}
PORT=${PORT:-20400}
BASELINE_MIB=${BASELINE_MIB:-64}
SMAPS=${SMAPS:-1}
PARSER=${APPARMOR_PARSER:-apparmor_parser}

[ -x "$PROFILED" ] || { echo "bench-footprint: $PROFILED is not built (run make)" >&2; exit 2; }
if [ "$N_AA" -gt 0 ] && ! command -v "$PARSER" >/dev/null; then
	echo "SKIP: $PARSER not installed (make deps)"
	exit 77
fi
if [ "$N_AA" -gt 0 ] && [ ! -d /etc/apparmor.d/abstractions ]; then
	echo "SKIP: /etc/apparmor.d/abstractions missing (apt-get install apparmor)"
	exit 77
fi
[ -x /usr/bin/time ] || { echo "SKIP: /usr/bin/time missing (apt-get install time)"; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/profiled-footprint.XXXXXX")
DPID= APID= CG=
cleanup() {
	[ -z "$DPID" ] || { kill -KILL "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; }
	[ -z "$APID" ] || { kill -TERM "$APID" 2>/dev/null || true; wait "$APID" 2>/dev/null || true; }
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		rmdir "$CG" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# wait_until SECONDS COMMAND...
wait_until() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		if [ -n "$DPID" ] && ! kill -0 "$DPID" 2>/dev/null; then
			echo "bench-footprint: the daemon exited; its log:" >&2
			cat "$W/daemon.log" >&2
			exit 1
		fi
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "bench-footprint: timed out waiting for: $*" >&2
			echo "--- daemon log (tail)" >&2
			tail -n 20 "$W/daemon.log" >&2 || true
			exit 1
		fi
		sleep 0.1
	done
}

# --- the profiles ---------------------------------------------------------------

P=$W/profiles FS=$W/apparmorfs
mkdir -p "$P" "$FS" "$W/root" "$W/state"
: >"$FS/.load"; : >"$FS/.replace"; : >"$FS/.remove"; : >"$FS/profiles"

# Seccomp: the container engines' own profiles and the Kubernetes tutorial's,
# in turn (Docker's default and containers-common are 14-16 KiB each).
sec_src=("$REPO"/test/data/seccomp/engines/moby-default.json
	"$REPO"/test/data/seccomp/engines/containers-common.json
	"$REPO"/deploy/profiles/fine-grained.json
	"$REPO"/deploy/profiles/audit.json
	"$REPO"/deploy/profiles/violation.json
	"$REPO"/test/data/seccomp/engines/moby-example.json)
for i in $(seq 1 "$N_SEC"); do
	cp "${sec_src[$((i % ${#sec_src[@]}))]}" "$P/fp-seccomp-$i.json"
done

# AppArmor: one profile a file, a realistic mix (the tutorial's deny-write
# profile; ones pulling in the name service, OpenSSL, the user's temporary
# files), each with some rules of its own.
for i in $(seq 1 "$N_AA"); do
	case $((i % 4)) in
	0) extra='#include <abstractions/nameservice>
  #include <abstractions/openssl>
  network inet stream,
  network inet6 stream,' ;;
	1) extra='#include <abstractions/user-tmp>
  /usr/bin/** rix,' ;;
	2) extra='capability net_bind_service,
  /srv/app-'"$i"'/** r,
  /var/log/app-'"$i"'/* w,' ;;
	*) extra='' ;;
	esac
	cat >"$P/fp-apparmor-$i" <<AA
#include <tunables/global>
profile fp-apparmor-$i flags=(attach_disconnected) {
  #include <abstractions/base>
  $extra
  file,
  deny /** w,
  deny /proc/sys/** rw,
  deny @{PROC}/sysrq-trigger rwklx,
}
AA
done

# The parser, with its peak RSS (KiB) and wall time recorded per run.
cat >"$W/parser" <<WRAP
#!/bin/sh
exec /usr/bin/time -a -o "$W/parser.rss" -f '%M %e' "$(command -v "$PARSER")" "\$@"
WRAP
chmod +x "$W/parser"
: >"$W/parser.rss"

# --- the API server stand-in ------------------------------------------------------

args=(run --profiles "$P" --seccomp-root "$W/root" --seccomp-subdir profiled
	--state-dir "$W/state" --node-name node-1 --apparmorfs "$FS"
	--apparmor-parser "$W/parser" --resync-interval 10m)
if [ "$API" = 1 ]; then
	command -v openssl >/dev/null || { echo "SKIP: openssl missing (API=0 runs without)"; exit 77; }
	mkdir -p "$W/api/certs" "$W/api/out"
	bash "$REPO/test/apiserver/mkcerts.sh" "$W/api/certs" >/dev/null 2>&1
	python3 "$REPO/test/apiserver/apiserver.py" --certs "$W/api/certs" --token secret-1 \
		--node node-1 --ready-file "$W/api/ready" --out "$W/api/out" --quiet \
		--exit-with-parent 2>"$W/apiserver.log" &
	APID=$!
	wait_until 20 test -s "$W/api/ready"
	args+=(--kubeconfig "$W/api/out/kubeconfig")
fi
if [ "$METRICS" = 1 ]; then
	args+=(--metrics-addr "127.0.0.1:$PORT")
else
	args+=(--metrics-addr "")
fi

# --- a memory cgroup for the daemon (and the parser it spawns) ---------------------
# cgroup v2: memory.current / memory.peak / memory.stat; v1: memory.usage_in_bytes
# / memory.max_usage_in_bytes / memory.stat.  Made below our own cgroup.
cg_kind=
self_v2=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
self_v1=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
for root in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	if [ -f "$root/cgroup.controllers" ] && grep -qw memory "$root$self_v2/cgroup.subtree_control" 2>/dev/null; then
		CG=$root$self_v2/profiled-bench-$$
		mkdir "$CG" 2>/dev/null && { cg_kind=v2; break; }
		CG=
	fi
done
if [ -z "$cg_kind" ] && [ -n "$self_v1" ] && [ -d "/sys/fs/cgroup/memory$self_v1" ]; then
	CG=/sys/fs/cgroup/memory$self_v1/profiled-bench-$$
	if mkdir "$CG" 2>/dev/null; then cg_kind=v1; else CG=; fi
fi

# --- start, load, confirm ----------------------------------------------------------

t0=$(now_ms)
(
	[ -z "$CG" ] || echo "$BASHPID" >"$CG/cgroup.procs"
	exec "$PROFILED" "${args[@]}" </dev/null >"$W/daemon.out" 2>"$W/daemon.log"
) &
DPID=$!
wait_until 600 grep -qs ' ready' "$W/daemon.log"
t_ready=$(($(now_ms) - t0))
# Play the kernel: list every profile as loaded, then SIGHUP so the agent
# confirms and labels them.
for i in $(seq 1 "$N_AA"); do echo "fp-apparmor-$i (enforce)"; done >"$FS/profiles"
kill -HUP "$DPID"
wait_until 60 grep -q 'SIGHUP: resync' "$W/daemon.log"
if [ "$METRICS" = 1 ]; then
	metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
	confirmed() { [ "$(metric 'profiled_profiles{kind="apparmor",state="loaded"}')" = "$N_AA" ]; }
	wait_until 120 confirmed
	published=$(metric 'profiled_profiles{kind="seccomp",state="published"}')
	[ "$published" = "$N_SEC" ] || { echo "bench-footprint: $published of $N_SEC seccomp published" >&2; exit 1; }
	curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null
	curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null
fi
# Settle: let the Node update (labels) and any logging finish.
sleep 2
if [ "$API" = 1 ]; then
	CTL=http://127.0.0.1:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "$W/api/ready")
	n_labels=$(curl -sf "$CTL/control/nodes/node-1" | python3 -c '
import json, sys
print(sum(1 for k in json.load(sys.stdin)["metadata"].get("labels", {}) if "profiled.io/" in k))')
	echo "node-1 carries $n_labels profiled.io labels" >"$W/labels"
fi
kill -0 "$DPID"

# --- measure ---------------------------------------------------------------------

st() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$DPID/status"; }
roll() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$DPID/smaps_rollup"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }
ctxt() {
	local v=0 n=0 f
	for f in /proc/"$DPID"/task/*/status; do
		v=$((v + $(awk '$1 == "voluntary_ctxt_switches:" {print $2}' "$f")))
		n=$((n + $(awk '$1 == "nonvoluntary_ctxt_switches:" {print $2}' "$f")))
	done
	echo "$v $n"
}
per_thread() {
	local f
	for f in /proc/"$DPID"/task/*; do
		printf '%s:%s ' "$(cat "$f/comm")" "$(awk '$1 == "voluntary_ctxt_switches:" {print $2}' "$f/status")"
	done
}
hz=$(getconf CLK_TCK)
c0=$(cpu_ticks); read -r v0 n0 < <(ctxt); th0=$(per_thread); w0=$(now_ms)
sleep "$WINDOW"
c1=$(cpu_ticks); read -r v1 n1 < <(ctxt); th1=$(per_thread); w1=$(now_ms)
win_ms=$((w1 - w0))

rss=$(st VmRSS) anon=$(st RssAnon) file=$(st RssFile) shm=$(st RssShmem) hwm=$(st VmHWM)
pss=$(roll Pss) priv=$(($(roll Private_Clean) + $(roll Private_Dirty)))
threads=$(st Threads)
fds=$(find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 | wc -l)
parser_runs=$(wc -l <"$W/parser.rss")
parser_max=$(awk 'BEGIN {m = 0} $1 > m {m = $1} END {print m}' "$W/parser.rss")

cg_line=
if [ -n "$cg_kind" ]; then
	if [ "$cg_kind" = v2 ]; then
		cur=$(cat "$CG/memory.current")
		peak=$(cat "$CG/memory.peak" 2>/dev/null || echo 0)
		anon_cg=$(awk '$1 == "anon" {print $2}' "$CG/memory.stat")
		file_cg=$(awk '$1 == "file" {print $2}' "$CG/memory.stat")
		inact=$(awk '$1 == "inactive_file" {print $2}' "$CG/memory.stat")
	else
		cur=$(cat "$CG/memory.usage_in_bytes")
		peak=$(cat "$CG/memory.max_usage_in_bytes")
		anon_cg=$(awk '$1 == "rss" {print $2}' "$CG/memory.stat")
		file_cg=$(awk '$1 == "cache" {print $2}' "$CG/memory.stat")
		inact=$(awk '$1 == "total_inactive_file" {print $2}' "$CG/memory.stat")
	fi
	cg_line=$(printf '%s %s %s %s %s' "$cur" "$peak" "$anon_cg" "$file_cg" "$inact")
fi

if [ "$SMAPS" = 1 ]; then
	# RSS by mapping: file name, or [heap]/[stack]/anonymous.
	awk '
	/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "") ? "[anon]" : $6; sub(".*/", "", name); next }
	$1 == "Rss:" { rss[name] += $2 }
	$1 == "Anonymous:" { an[name] += $2 }
	END { for (n in rss) if (rss[n] > 0) printf "%8d %8d  %s\n", rss[n], an[n], n }
	' "/proc/$DPID/smaps" | sort -rn >"$W/smaps.txt"
fi

kill -TERM "$DPID"
wait "$DPID" || { echo "bench-footprint: the daemon exited $?" >&2; exit 1; }
DPID=

# --- static figures --------------------------------------------------------------

bin_size=$(stat -c %s "$PROFILED")
strip -o "$W/profiled.stripped" "$PROFILED"
bin_stripped=$(stat -c %s "$W/profiled.stripped")

# The runtime image (build/image/ref, when it was built): its size
# unpacked and the files it holds (test/image/size.sh prints them by package).
image_bytes= image_layers=
if ref=$(cat "$REPO/build/image/ref" 2>/dev/null) && command -v podman >/dev/null &&
	image_bytes=$(podman image inspect --format '{{.Size}}' "$ref" 2>/dev/null); then
	image_layers=$(podman image inspect --format '{{len .RootFS.Layers}}' "$ref" 2>/dev/null)
fi

# --- report -------------------------------------------------------------------------

mib() { awk -v k="$1" 'BEGIN {printf "%.2f", k / 1024}'; }
per_min() { awk -v d="$1" -v ms="$win_ms" 'BEGIN {printf "%.1f", d * 60000 / ms}'; }
echo "footprint: $N_SEC seccomp + $N_AA AppArmor profiles, API=$API METRICS=$METRICS," \
	"idle window ${win_ms} ms, $(nproc) CPUs"
echo "  first reconcile (start to ready): ${t_ready} ms; parser runs: $parser_runs"
[ ! -f "$W/labels" ] || echo "  $(cat "$W/labels")"
printf '  %-44s %12s\n' "figure" "value"
printf '  %-44s %9s MiB\n' "VmRSS (idle)" "$(mib "$rss")"
printf '  %-44s %9s MiB\n' "  RssAnon" "$(mib "$anon")"
printf '  %-44s %9s MiB\n' "  RssFile" "$(mib "$file")"
printf '  %-44s %9s MiB\n' "  RssShmem" "$(mib "$shm")"
printf '  %-44s %9s MiB\n' "Pss (smaps_rollup)" "$(mib "$pss")"
printf '  %-44s %9s MiB\n' "Private clean+dirty (smaps_rollup)" "$(mib "$priv")"
printf '  %-44s %9s MiB\n' "VmHWM (daemon's own peak)" "$(mib "$hwm")"
printf '  %-44s %9s MiB\n' "parser peak RSS (largest of $parser_runs runs)" "$(mib "$parser_max")"
if [ -n "$cg_line" ]; then
	read -r cur peak anon_cg file_cg inact <<<"$cg_line"
	printf '  %-44s %9s MiB\n' "cgroup $cg_kind charge now (daemon)" "$(mib $((cur / 1024)))"
	printf '  %-44s %9s MiB\n' "  anon" "$(mib $((anon_cg / 1024)))"
	printf '  %-44s %9s MiB\n' "  page cache (first toucher pays)" "$(mib $((file_cg / 1024)))"
	printf '  %-44s %9s MiB\n' "  working set (charge - inactive_file)" "$(mib $(((cur - inact) / 1024)))"
	printf '  %-44s %9s MiB\n' "cgroup peak (daemon + parser)" "$(mib $((peak / 1024)))"
else
	printf '  %-44s %12s\n' "cgroup charge" "n/a (no memory cgroup could be made here)"
fi
printf '  %-44s %9s s\n' "CPU at idle (utime+stime), per minute" \
	"$(awk -v d=$((c1 - c0)) -v hz="$hz" -v ms="$win_ms" 'BEGIN {printf "%.3f", d / hz * 60000 / ms}')"
printf '  %-44s %9s\n' "wakeups (voluntary switches) per minute" "$(per_min $((v1 - v0)))"
printf '  %-44s %9s\n' "involuntary switches per minute" "$(per_min $((n1 - n0)))"
printf '  %-44s %12s\n' "threads" "$threads"
printf '  %-44s %12s\n' "open fds" "$fds"
printf '  %-44s %9s KiB\n' "binary (as built, with debug info)" $((bin_size / 1024))
printf '  %-44s %9s KiB\n' "binary (stripped)" $((bin_stripped / 1024))
[ -z "$image_bytes" ] || printf '  %-44s %9s MiB\n' \
	"runtime image, unpacked ($image_layers layers)" "$(mib $((image_bytes / 1024)))"
awk -v r="$rss" -v b="$BASELINE_MIB" 'BEGIN {
	printf "  ratio VmRSS / %d MiB (comparable agents'"'"' request): %.3f (%.1fx smaller)\n",
		b, r / 1024 / b, b * 1024 / r }'
echo "  per-thread voluntary switches, start: $th0"
echo "                                   end: $th1"
[ -n "$image_bytes" ] || echo "  runtime image: not built (make image; test/image/size.sh)"
if [ "$SMAPS" = 1 ]; then
	echo "  largest mappings by RSS (KiB rss, KiB anonymous, mapping):"
	head -n 15 "$W/smaps.txt" | sed 's/^/    /'
fi
