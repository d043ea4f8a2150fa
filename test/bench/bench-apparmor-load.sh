#!/bin/bash
# AppArmor: initial load, warm start and reboot path, against the way the
# Kubernetes example loader works (one `apparmor_parser --replace` process
# per file, no cache).  Same parser, same features file (-M), same generated
# profiles (test/bench/gen-apparmor.sh), same apparmorfs stand-in folder.
#
# For each count in BENCH_AA_COUNTS, RUNS rounds, each round running, side by
# side, in an order that alternates between rounds:
#   cold      `profiled run --once` with an empty state dir: everything is
#             compiled (one batched parser run) and loaded into the stand-in
#   per-file  one `apparmor_parser --replace` per file into the stand-in
#   batch     (first count only) the parser alone, one batched run, no agent
# and, right after `cold`, on the state it left:
#   restart   `--once` again: the kernel still lists everything
#   reboot    `--once` after a reboot: everything is loaded again, from the
#             compiled-policy cache, nothing is compiled
#
# The stand-in is a folder: it cannot list a profile only once it is loaded,
# so its `profiles` lists every generated profile from the start and the
# agent runs with --adopt-existing.  The reboot path (kernel empty, state and
# cache kept) is played by removing state.json and keeping the cache: the
# agent then loads every profile from the cache, as after a reboot, and the
# confirm read finds them.  Every run checks its counts of profiles loaded
# and compiled (its log), so a run that did less than claimed fails.
#
# Knobs: BENCH_AA_COUNTS (default "100 500"), BENCH_AA_RUNS (rounds for the
# first count, default 3), BENCH_AA_RUNS_LARGE (rounds for the others,
# default 1).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_parser
need_profiled

COUNTS=${BENCH_AA_COUNTS:-100 500}
RUNS=${BENCH_AA_RUNS:-3}
RUNS_LARGE=${BENCH_AA_RUNS_LARGE:-1}

work=$(mktemp -d "${TMPDIR:-/tmp}/profiled-bench-aa.XXXXXX")
trap 'rm -rf "$work"' EXIT

# child_cpu_ms: CPU time (user + system) of this shell's waited-for
# children so far, in ms: around a command, the CPU it cost whatever the
# load of the machine.
child_cpu_ms() {
	local f
	read -ra f </proc/$$/stat
	# fields 16 and 17 (cutime, cstime), counted after the ") " of comm
	local i=0 n=${#f[@]}
	while [ "$i" -lt "$n" ] && [[ ${f[$i]} != *")" ]]; do i=$((i + 1)); done
	echo $(((f[i + 14] + f[i + 15]) * 1000 / $(getconf CLK_TCK)))
}

# once STATE FS LOG: one `profiled run --once` reconcile; prints its ms.
once() {
	local t0 rc=0
	t0=$(now_ms)
	"$PROFILED" run --once --profiles "$P" --seccomp-root "$work/root" \
		--state-dir "$1" --node-name bench-node --metrics-addr "" \
		--apparmorfs "$2" --apparmor-parser "$PARSER" --adopt-existing >/dev/null 2>"$3" || rc=$?
	echo $(($(now_ms) - t0))
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: profiled --once exited $rc; log:" >&2
		tail -20 "$3" >&2
		return 1
	fi
}

# check LOG LOADED COMPILED: the run loaded and compiled that many files
# (its "apparmor compiled" and "done" lines).
check() {
	local l c
	l=$(grep -c 'apparmor profile loaded' "$1" || true)
	c=$(sed -n 's/.*apparmor compiled compiled=\([0-9]*\).*/\1/p' "$1" | tail -1)
	if [ "$l" != "$2" ] || [ "${c:-0}" != "$3" ]; then
		echo "FAIL: $1: loaded $l (expected $2), compiled ${c:-0} (expected $3)"
		tail -5 "$1"
		exit 1
	fi
}

first=1
for n in $COUNTS; do
	P=$work/profiles-$n
	bash "$BENCH_DIR/gen-apparmor.sh" "$P" "$n"
	for f in "$P"/*; do printf 'bench-%s (enforce)\n' "${f##*/p}"; done >"$work/list-$n"
	runs=$RUNS
	[ "$first" = 1 ] || runs=$RUNS_LARGE
	: >"$work/cold" >"$work/perfile" >"$work/batch" >"$work/restart" >"$work/reboot" \
		>"$work/cold.cpu" >"$work/perfile.cpu"
	for r in $(seq 1 "$runs"); do
		order="cold perfile batch"
		[ $((r % 2)) = 0 ] && order="perfile batch cold"
		for what in $order; do
			case $what in
			cold)
				S=$work/state-$n
				rm -rf "$S"
				new_fs "$work/fs"
				cp "$work/list-$n" "$work/fs/profiles"
				c0=$(child_cpu_ms)
				once "$S" "$work/fs" "$work/cold.log" >>"$work/cold"
				echo $(($(child_cpu_ms) - c0)) >>"$work/cold.cpu"
				check "$work/cold.log" "$n" "$n"
				# restart: the kernel still lists everything
				once "$S" "$work/fs" "$work/restart.log" >>"$work/restart"
				check "$work/restart.log" 0 0
				# reboot: nothing is known to be loaded, the cache is kept
				rm -f "$S/state.json"
				new_fs "$work/fs"
				cp "$work/list-$n" "$work/fs/profiles"
				once "$S" "$work/fs" "$work/reboot.log" >>"$work/reboot"
				check "$work/reboot.log" "$n" 0
				;;
			perfile)
				new_fs "$work/fs-base"
				c0=$(child_cpu_ms)
				t0=$(now_ms)
				for f in "$P"/*; do
					"$PARSER" --replace --subdomainfs "$work/fs-base" -M "$FEATURES" \
						--skip-cache "$f" >/dev/null
				done
				echo $(($(now_ms) - t0)) >>"$work/perfile"
				echo $(($(child_cpu_ms) - c0)) >>"$work/perfile.cpu"
				;;
			batch)
				[ "$first" = 1 ] || continue
				rm -rf "$work/bcache"
				new_fs "$work/fs-batch"
				t0=$(now_ms)
				"$PARSER" --subdomainfs "$work/fs-batch" -M "$FEATURES" --skip-kernel-load \
					--skip-read-cache --write-cache --cache-loc "$work/bcache" \
					--jobs "$(nproc)" "$P"/* 2>/dev/null
				echo $(($(now_ms) - t0)) >>"$work/batch"
				;;
			esac
		done
	done
	c=$(median <"$work/cold") b=$(median <"$work/perfile")
	w=$(median <"$work/restart") rb=$(median <"$work/reboot")
	echo "initial load of $n AppArmor profiles ($runs rounds, interleaved; load $(loadavg)):"
	echo "  profiled, cold (batched compile + load): $(stats <"$work/cold")"
	echo "  per-file loader (parser --replace each): $(stats <"$work/perfile")"
	if [ "$first" = 1 ]; then
		echo "  parser alone, one batched run:           $(stats <"$work/batch")"
	fi
	echo "  RATIO per-file / profiled cold: $(ratio "$b" "$c")x   (target >= 2x for 100)"
	cc=$(median <"$work/cold.cpu") bc=$(median <"$work/perfile.cpu")
	echo "  CPU time (user+sys, any load): profiled cold median $cc ms, per-file median $bc ms;" \
		"ratio $(ratio "$bc" "$cc")x (so at most $(awk -v a="$bc" -v b="$cc" -v n="$(nproc)" 'BEGIN { printf "%.1f", n * a / b }')x on $(nproc) idle CPUs)"
	echo "  profiled, restart (kernel still loaded): $(stats <"$work/restart")"
	echo "  profiled, reboot (kernel empty, cache):  $(stats <"$work/reboot")"
	echo "  RATIO cold / restart: $(ratio "$c" "$w")x   cold / reboot: $(ratio "$c" "$rb")x   (target >= 20x)"
	echo "  RATIO per-file / reboot: $(ratio "$b" "$rb")x"
	first=0
done

# Incremental change: the daemon holds the last count's profiles (a
# kubelet-style ConfigMap folder); one file is changed by a `..data` swap.
# Counted: parser invocations (test/bats/bin/parser-wrapper logs each) and
# files compiled, and policy writes to the stand-in's .replace (each write is
# one load).  Expected: one file compiled, one load.
P=$work/profiles-$n
K=$work/configmap
python3 "$REPO/test/tools/kubelet_writer.py" "$K" "$P"
new_fs "$work/fs-d"
cp "$work/list-$n" "$work/fs-d/profiles"
export PARSER_LOG=$work/parser.log REAL_PARSER=$PARSER
: >"$PARSER_LOG"
t0=$(now_ms)
"$PROFILED" run --profiles "$K" --seccomp-root "$work/root-d" --state-dir "$work/state-d" \
	--node-name bench-node --metrics-addr "" --resync-interval 1h --adopt-existing \
	--apparmorfs "$work/fs-d" --apparmor-parser "$REPO/test/bats/bin/parser-wrapper" \
	</dev/null >/dev/null 2>"$work/daemon.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; rm -rf "$work"' EXIT
# Ready comes after the first reconcile, which starts the compile in the
# background (docs/operations.md, /readyz); the profiles are in place once
# the reconcile that follows the compile has loaded them.  A change made
# before that would be timed together with the initial load.
for _ in $(seq 1 6000); do
	grep -q ' ready' "$work/daemon.log" && { ! grep -q 'apparmor compile started' "$work/daemon.log" ||
		grep -q 'reconciled trigger=compiled' "$work/daemon.log"; } && break
	kill -0 "$daemon" 2>/dev/null || { echo "FAIL: the daemon exited"; tail "$work/daemon.log"; exit 1; }
	sleep 0.1
done
full=$(($(now_ms) - t0))
echo "incremental change, daemon holding $n profiles (load $(loadavg)):"
echo "  daemon start to every profile loaded (cold): $full ms; parser runs: $(wc -l <"$PARSER_LOG")"
: >"$work/incr"
for i in $(seq 1 "${BENCH_AA_INCR_SWAPS:-3}"); do
	f=$(printf 'p%04d' $((i * 37 % n + 1)))
	cp -r "$P" "$work/src2"
	sed -i "s|^}|  /srv/changed-$i/** r,\n}|" "$work/src2/$f"
	: >"$PARSER_LOG"
	rm -f "$work/cw.ready"
	python3 "$BENCH_DIR/count_writes.py" "$work/fs-d/.replace" "$work/cw.ready" 2 60 >"$work/cw.out" &
	cw=$!
	while [ ! -e "$work/cw.ready" ]; do sleep 0.01; done
	t0=$(now_ms)
	python3 "$REPO/test/tools/kubelet_writer.py" "$K" "$work/src2"
	wait "$cw"
	read -r writes first <"$work/cw.out"
	runs=$(wc -l <"$PARSER_LOG")
	files=$(grep -- '--write-cache' "$PARSER_LOG" | grep -o '/src/[0-9a-f]\{64\}' | wc -l)
	echo "  change $f: swap -> loaded $((first - t0)) ms; parser runs $runs" \
		"($(grep -c -- '--names' "$PARSER_LOG") --names, $(grep -c -- '--write-cache' "$PARSER_LOG") compile of $files file(s)); .replace writes $writes"
	[ "$writes" = 1 ] && [ "$files" = 1 ] || { echo "FAIL: expected exactly one file compiled and one load"; exit 1; }
	echo $((first - t0)) >>"$work/incr"
	rm -rf "$P"
	mv "$work/src2" "$P"
done
echo "  swap -> loaded: $(stats <"$work/incr")"
echo "  RATIO full cold load / one change: $(ratio "$full" "$(median <"$work/incr")")x"
