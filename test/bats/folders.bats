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
