#!/usr/bin/env bats
# The folders the agent works in: overlapping folders refused at start;
# the published folder, the state folder and the profiles folders removed,
# replaced, retargeted or unmounted while it runs; the inotify limits.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	MOUNTS=
}

teardown() {
	for m in $MOUNTS; do
		umount -l "$m" 2>/dev/null || true
	done
	common_teardown
}

# profile TAG: a small valid profile whose bytes depend on TAG.
profile() {
	printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","comment":"%s"}]}\n' "$1"
}

# exchange A B: swaps two paths atomically (renameat2 RENAME_EXCHANGE).
exchange() {
	python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2) != 0:
    sys.exit(os.strerror(ctypes.get_errno()))' "$1" "$2"
}

# refused FLAGS...: `run` exits 2 naming the overlap, and creates nothing.
refused() {
	run "$PROFILED" run --once --node-name node-1 --metrics-addr "" "$@"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"same folder"* || "$output" == *"must not overlap"* ]]
}

@test "overlapping folders are refused at start with exit 2, however they are spelled" {
	mkdir -p "$P" "$R" "$T/other"
	profile a >"$P/a.json"
	# the state folder in the published folder, or anywhere in the seccomp root
	refused --profiles "$P" --seccomp-root "$R" --state-dir "$R/$SUBDIR"
	refused --profiles "$P" --seccomp-root "$R" --state-dir "$R/state"
	refused --profiles "$P" --seccomp-root "$R" --state-dir "$R/x/../state"
	[ ! -e "$R/$SUBDIR" ] && [ ! -e "$R/state" ] # nothing was created
	# the seccomp root in the state folder
	refused --profiles "$P" --seccomp-root "$S/seccomp" --state-dir "$S"
	# the same profiles folder twice: plain, trailing slash, `.`, symlink, bind mount
	refused --profiles "$P" --profiles "$P" --seccomp-root "$R" --state-dir "$S"
	refused --profiles "$P" --profiles "$P/" --seccomp-root "$R" --state-dir "$S"
	refused --profiles "$P" --profiles "$T/./profiles" --seccomp-root "$R" --state-dir "$S"
	ln -s profiles "$T/link"
	refused --profiles "$P" --profiles "$T/link" --seccomp-root "$R" --state-dir "$S"
	mkdir "$T/bind"
	mount --bind "$P" "$T/bind" && MOUNTS="$T/bind"
	refused --profiles "$T/bind" --profiles "$P" --seccomp-root "$R" --state-dir "$S"
	# nested profiles folders
	mkdir "$P/sub"
	refused --profiles "$P" --profiles "$P/sub" --seccomp-root "$R" --state-dir "$S"
	# a profiles folder in or around the published folder or the state folder
	refused --profiles "$R" --seccomp-root "$R" --state-dir "$S"
	refused --profiles "$R/$SUBDIR/in" --seccomp-root "$R" --state-dir "$S"
	refused --profiles "$P" --seccomp-root "$R" --state-dir "$P/state"
	refused --profiles "$T/bind/sub" --seccomp-root "$R" --state-dir "$P"
	refused --profiles "$S/apparmor-cache" --seccomp-root "$R" --state-dir "$S"
	[ ! -e "$S" ]
	# disjoint folders start, and a profiles folder elsewhere in the seccomp root is fine
	rmdir "$P/sub"
	mkdir "$R/mine"
	run_once --profiles "$T/other" --profiles "$R/mine"
	[ "$status" -eq 0 ]
	cmp "$P/a.json" "$PUB/a.json"
}

@test "the published folder removed while running: everything is published again, labels kept" {
	mkdir -p "$P"
	profile a >"$P/a.json"
	profile b >"$P/b.json"
	start_daemon --resync-interval 1h
	cmp "$P/a.json" "$PUB/a.json"
	rm -rf "$PUB"
	wait_for_log 'the seccomp folder was removed or replaced; publishing everything again' 5
	wait_for_content "$PUB/a.json" "$P/a.json" 5
	wait_for_content "$PUB/b.json" "$P/b.json" 5
	[ "$(stat -c %a "$PUB")" = 755 ]
	# the seccomp root replaced by another folder holding another owner's
	# file (no event reaches the published folder: the resync finds it)
	mkdir "$T/root.new"
	echo '{}' >"$T/root.new/other.json"
	python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[1] + ".old"); os.rename(sys.argv[2], sys.argv[1])' \
		"$R" "$T/root.new"
	kill -HUP "$DAEMON_PID"
	wait_for_log 'publishing everything again' 5 2
	wait_for_content "$PUB/a.json" "$P/a.json" 5
	[ "$(cat "$R/other.json")" = '{}' ]
	# moved away: the old folder is not where the kubelet reads
	mv "$PUB" "$R/moved"
	profile a2 >"$P/a.json"
	wait_for_content "$PUB/a.json" "$P/a.json" 5
	cmp "$P/b.json" "$PUB/b.json"
	[ "$(count_log 'would remove node label')" -eq 0 ]
	[ "$(count_log 'error ')" -eq 0 ]
	kill -0 "$DAEMON_PID"
}

@test "the published folder removed: published again at once, without a resync or SIGHUP" {
	mkdir -p "$P"
	profile a >"$P/a.json"
	start_daemon --resync-interval 1h
	for round in 1 2; do
		t0=$(now_ms)
		rm -rf "$PUB"
		wait_for_content "$PUB/a.json" "$P/a.json" 5
		echo "# round $round: removed folder published again after $(($(now_ms) - t0)) ms" >&3
	done
	# the whole seccomp root
	rm -rf "$R"
	wait_for_content "$PUB/a.json" "$P/a.json" 5
	[ "$(count_log 'SIGHUP|trigger=resync|error ')" -eq 0 ]
}

@test "the published folder replaced by a symlink: labels go, nothing is written through it, it recovers by itself" {
	mkdir -p "$P" "$T/elsewhere"
	profile a >"$P/a.json"
	start_daemon --resync-interval 1h
	wait_for_log 'would set node label node=node-1 label=seccomp.profiled.io/a value=true' 5
	# swapped in one step (renameat2 RENAME_EXCHANGE): the agent repairs a
	# removal at once, so a remove-then-link would race with it
	ln -s "$T/elsewhere" "$T/link"
	exchange "$PUB" "$T/link"
	rm -rf "$T/link"
	kill -HUP "$DAEMON_PID"
	wait_for_log 'cannot open the seccomp folder again' 5
	wait_for_log 'would remove node label node=node-1 label=seccomp.profiled.io/a' 5
	wait_for_log 'a write on the node failed; reconciling again retry_in_ms=1000' 5
	[ -z "$(ls -A "$T/elsewhere")" ]
	# the symlink goes: the retry (no resync, no signal) publishes and labels again
	rm "$PUB"
	wait_for_content "$PUB/a.json" "$P/a.json" 10
	wait_for_log 'would set node label node=node-1 label=seccomp.profiled.io/a value=true' 5 2
	kill -0 "$DAEMON_PID"
}

@test "the state folder removed or replaced while running: the state is written again, locked" {
	mkdir -p "$P"
	profile a >"$P/a.json"
	start_daemon --resync-interval 1h
	grep -q '"a.json"' "$S/state.json"
	rm -rf "$S"
	kill -HUP "$DAEMON_PID"
	wait_for_log 'the state folder was removed or replaced; writing the state again' 5
	wait_until 5 test -s "$S/state.json"
	grep -q '"a.json"' "$S/state.json"
	[ "$(cat "$S/lock")" = "$DAEMON_PID" ]
	# a new profile is recorded in the new folder
	profile b >"$P/b.json"
	wait_for_content "$PUB/b.json" "$P/b.json" 5
	wait_until 5 grep -q '"b.json"' "$S/state.json"
	# replaced by a copy (a restore): the same
	cp -a "$S" "$T/state.bak"
	rm -rf "$S"
	mv "$T/state.bak" "$S"
	kill -HUP "$DAEMON_PID"
	wait_for_log 'writing the state again' 5 2
	[ "$(cat "$S/lock")" = "$DAEMON_PID" ]
	kill -0 "$DAEMON_PID"
}

@test "the state folder replaced and locked by a second agent: the first stops with exit 2, the second owns the node" {
	mkdir -p "$P"
	profile a >"$P/a.json"
	start_daemon --resync-interval 1h
	first=$DAEMON_PID
	rm -rf "$S"
	"$PROFILED" run --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --metrics-addr "" 2>"$T/second.log" &
	second=$!
	EXTRA_PIDS=$second
	wait_for_log ' ready' 5 1 "$T/second.log"
	kill -HUP "$first"
	wait_for_log 'the state folder was replaced and another agent holds its lock; stopping' 5
	rc=0
	wait "$first" || rc=$?
	DAEMON_PID=
	[ "$rc" -eq 2 ]
	[ "$(cat "$S/lock")" = "$second" ]
	cmp "$P/a.json" "$PUB/a.json"
	kill -0 "$second"
}

@test "the profiles folder deleted and recreated is watched at once, without a resync or SIGHUP" {
	mkdir -p "$P"
	profile one >"$P/a.json"
	start_daemon --resync-interval 1h
	for round in 1 2 3; do
		rm -rf "$P"
		wait_for_log 'cannot read profiles folder' 5 "$round"
		[ -f "$PUB/a.json" ] # a missing folder removes nothing
		mkdir "$P.new"
		profile "round $round" >"$P.new/a.json"
		t0=$(now_ms)
		mv "$P.new" "$P"
		wait_for_content "$PUB/a.json" "$P/a.json" 5
		echo "# round $round: recreated folder published after $(($(now_ms) - t0)) ms" >&3
		# and the new folder itself is watched
		profile "round $round, edited" >"$P/a.json"
		wait_for_content "$PUB/a.json" "$P/a.json" 5
	done
	[ "$(count_log 'SIGHUP|trigger=resync')" -eq 0 ]
}

@test "the profiles folder is a symlink retargeted: the new target is read and watched at once" {
	mkdir -p "$T/v1" "$T/v2"
	profile one >"$T/v1/a.json"
	profile two >"$T/v2/a.json"
	profile b >"$T/v2/b.json"
	ln -s "$T/v1" "$P"
	start_daemon --resync-interval 1h
	cmp "$T/v1/a.json" "$PUB/a.json"
	t0=$(now_ms)
	ln -sfn "$T/v2" "$P"
	wait_for_content "$PUB/a.json" "$T/v2/a.json" 5
	echo "# retargeted symlink: new target published after $(($(now_ms) - t0)) ms" >&3
	wait_for_content "$PUB/b.json" "$T/v2/b.json" 5
	# the new target is watched, the old one no longer counts
	profile three >"$T/v2/a.json"
	wait_for_content "$PUB/a.json" "$T/v2/a.json" 5
	rm "$T/v1/a.json"
	profile four >"$T/v2/b.json"
	wait_for_content "$PUB/b.json" "$T/v2/b.json" 5
	cmp "$T/v2/a.json" "$PUB/a.json"
	[ "$(count_log 'SIGHUP|trigger=resync')" -eq 0 ]
}

@test "a folder bind-mounted over the profiles folder is watched from the next resync" {
	mkdir -p "$P" "$T/vol"
	profile one >"$P/a.json"
	profile two >"$T/vol/a.json"
	start_daemon --resync-interval 1h
	mount --bind "$T/vol" "$P" && MOUNTS="$P"
	kill -HUP "$DAEMON_PID"
	wait_for_content "$PUB/a.json" "$T/vol/a.json" 5
	profile three >"$T/vol/a.json"
	wait_for_content "$PUB/a.json" "$T/vol/a.json" 5
	[ "$(count_log 'SIGHUP')" -eq 1 ]
}

# cond FIELD: a field of the node's ProfilesReady condition ("" when absent).
cond() {
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
for c in json.load(sys.stdin).get("status", {}).get("conditions", []):
    if c["type"] == "ProfilesReady":
        print(c.get(sys.argv[1], ""))' "$1"
}

cond_is() { [ "$(cond reason)" = "$1" ]; }

@test "the profiles volume lazily unmounted: everything stays published and labeled, FolderUnreadable, it recovers once mounted again" {
	mkdir -p "$P"
	mount -t tmpfs -o size=1m tmpfs "$P" && MOUNTS="$P"
	profile a >"$P/a.json"
	profile b >"$P/b.json"
	api_start
	start_daemon --resync-interval 1h --kubeconfig "$KC"
	cmp "$P/a.json" "$PUB/a.json"
	cp "$P/a.json" "$T/a.v1"
	cp "$P/b.json" "$T/b.v1"
	wait_until 5 cond_is ProfilesInPlace
	labels | grep -qx 'seccomp.profiled.io/b=true'
	umount -l "$P"
	MOUNTS=
	wait_for_log 'profiles folder unmounted; keeping everything in place' 5
	wait_until 5 cond_is FolderUnreadable
	cond message | grep -q 'unmounted'
	cmp "$T/a.v1" "$PUB/a.json"
	cmp "$T/b.v1" "$PUB/b.json"
	labels | grep -qx 'seccomp.profiled.io/a=true'
	labels | grep -qx 'seccomp.profiled.io/b=true'
	[ "$(count_log 'seccomp profile removed')" -eq 0 ]
	# a file in the folder under the mount is not a profile
	profile under >"$P/c.json"
	wait_for_log 'a profiles folder was unmounted; reading it again retry_in_ms=2000' 5
	[ ! -e "$PUB/c.json" ]
	# mounted again with a changed payload: no event tells; the retry
	# (backoff from 1 s doubling to 60 s) picks it up, no signal
	mkdir "$T/vol"
	mount -t tmpfs -o size=1m tmpfs "$T/vol" && MOUNTS="$T/vol"
	profile a2 >"$T/vol/a.json"
	t0=$(now_ms)
	mount --move "$T/vol" "$P" && MOUNTS="$P"
	wait_for_content "$PUB/a.json" "$P/a.json" 40
	echo "# mounted again: picked up by the retry after $(($(now_ms) - t0)) ms" \
		"($(count_log 'reading it again') retries)" >&3
	wait_for_gone "$PUB/b.json" 5
	wait_until 5 cond_is ProfilesInPlace
	wait_until 5 not sh -c "labels | grep -q seccomp.profiled.io/b"
	# and the new mount is watched
	profile a3 >"$P/a.json"
	wait_for_content "$PUB/a.json" "$P/a.json" 5
	[ "$(count_log 'SIGHUP|trigger=resync')" -eq 0 ]
}

# start_limited SYSCTL VALUE [flags...]: the daemon in a user namespace of
# its own whose inotify limit SYSCTL (/proc/sys/user/SYSCTL) is VALUE: a
# real limit, which touches no other process of the machine.
start_limited() {
	local sysctl=$1 value=$2
	shift 2
	: >"$LOG"
	unshare --user --map-root-user sh -c 'echo "$1" >/proc/sys/user/"$2" && shift 2 && exec "$@"' \
		sh "$value" "$sysctl" "$PROFILED" run --profiles "$P" --seccomp-root "$R" \
		--seccomp-subdir "$SUBDIR" --state-dir "$S" --node-name node-1 --metrics-addr "" "$@" \
		</dev/null 2>"$LOG" 3>&- {PAUSE_FD}>&- &
	DAEMON_PID=$!
	wait_for_log ' ready' 5
}

# set_limit SYSCTL VALUE: changes the limit in the daemon's user namespace.
set_limit() {
	nsenter --user --target "$DAEMON_PID" sh -c "echo $2 >/proc/sys/user/$1"
}

@test "inotify watch limit reached: named with its sysctl, the agent works, the watch is retried with backoff" {
	unshare --user --map-root-user true || skip "no user namespaces"
	mkdir -p "$P"
	profile one >"$P/a.json"
	start_limited max_inotify_watches 0 --resync-interval 1h
	cmp "$P/a.json" "$PUB/a.json" # published without a watch
	wait_for_log 'inotify watch limit \(sysctl fs.inotify.max_user_watches\) is reached' 5
	wait_for_log 'a profiles folder is not watched; trying again retry_in_ms=1000' 5
	wait_for_log 'a profiles folder is not watched; trying again retry_in_ms=2000' 5
	# a change is still seen, by the retries
	profile two >"$P/a.json"
	wait_for_content "$PUB/a.json" "$P/a.json" 10
	[ "$(count_log 'inotify watch limit')" -eq 1 ] # said once
	# the limit raised: the next retry watches, and a change is seen by inotify
	t0=$(now_ms)
	set_limit max_inotify_watches 100
	wait_for_log 'every profiles folder is watched again' 20
	echo "# watch limit raised: watching again after $(($(now_ms) - t0)) ms" >&3
	profile three >"$P/a.json"
	wait_for_content "$PUB/a.json" "$P/a.json" 5
	wait_for_log 'reconciled trigger=change' 5
	[ "$(count_log 'SIGHUP|trigger=resync')" -eq 0 ]
	kill -0 "$DAEMON_PID"
}

@test "inotify instance limit reached at start: named with its sysctl, the agent starts and works, then watches" {
	unshare --user --map-root-user true || skip "no user namespaces"
	mkdir -p "$P"
	profile one >"$P/a.json"
	start_limited max_inotify_instances 0 --resync-interval 1h
	cmp "$P/a.json" "$PUB/a.json"
	wait_for_log 'inotify instance limit \(sysctl fs.inotify.max_user_instances\)' 5
	wait_for_log 'a profiles folder is not watched; trying again retry_in_ms=2000' 5
	set_limit max_inotify_instances 10
	wait_for_log 'every profiles folder is watched again' 20
	profile two >"$P/a.json"
	wait_for_content "$PUB/a.json" "$P/a.json" 5
	wait_for_log 'reconciled trigger=change' 5
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}
