#!/usr/bin/env bats
# Folders that do not exist yet are compared where they will be once made:
# a dangling symlink leads to its target, and `..` below the deepest
# existing folder climbs out of it, as the kernel will resolve them then.
# Overlapping ones are refused at start (exit 2), before anything is made.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	mkdir -p "$T/exists"
}

teardown() {
	common_teardown
}

# refused FLAGS...: `run` exits 2 naming the overlap, and creates nothing.
refused() {
	run "$PROFILED" run --once --node-name node-1 --metrics-addr "" "$@"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"same folder"* || "$output" == *"must not overlap"* ]]
	[ ! -e "$S" ] && [ ! -e "$R" ]
}

# accepted FLAGS...: `run` starts (no overlap refused); the missing
# profiles folders make the one reconcile fail, not the start.
accepted() {
	run "$PROFILED" run --once --node-name node-1 --metrics-addr "" "$@"
	echo "$output"
	[ "$status" -ne 2 ]
	[[ "$output" != *"same folder"* && "$output" != *"must not overlap"* ]]
}

@test "a dangling link to a folder not made yet: compared as its target" {
	ln -s profiles "$T/link"            # relative target, not made yet
	ln -s "$T/later/in" "$T/abs"         # absolute target, not made yet
	refused --profiles "$P" --profiles "$T/link" --seccomp-root "$R" --state-dir "$S"
	refused --profiles "$T/link/sub" --profiles "$P" --seccomp-root "$R" --state-dir "$S"
	refused --profiles "$T/later" --profiles "$T/abs" --seccomp-root "$R" --state-dir "$S"
	# the state folder through a dangling link into the published folder
	ln -s "$R/$SUBDIR/state" "$T/statelink"
	refused --profiles "$P" --seccomp-root "$R" --state-dir "$T/statelink"
	# and a profiles folder through one into the state folder
	ln -s state/in "$T/into-state"
	refused --profiles "$T/into-state" --seccomp-root "$R" --state-dir "$S"
}

@test "\`..\` past the deepest existing folder climbs out of it, as it will once made" {
	refused --profiles "$T/exists/new/../../profiles" --profiles "$P" \
		--seccomp-root "$R" --state-dir "$S"
	refused --profiles "$T/exists/a/b/../../../state" --seccomp-root "$R" --state-dir "$S"
	refused --profiles "$T/exists/new/../../root/$SUBDIR" --seccomp-root "$R" --state-dir "$S"
}

@test "folders not made yet that will not overlap are accepted" {
	ln -s one "$T/link"
	accepted --profiles "$T/link" --profiles "$T/two" --seccomp-root "$R" --state-dir "$S"
	accepted --profiles "$T/exists/new/../p1" --profiles "$T/exists/p1x" \
		--seccomp-root "$R" --state-dir "$S"
}
