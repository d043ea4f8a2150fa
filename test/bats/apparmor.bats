#!/usr/bin/env bats
# AppArmor against a folder standing in for the kernel's apparmorfs: the real
# parser compiles, the real libapparmor writes compiled policy into
# $FS/.replace (and names into $FS/.remove), and the tests play the kernel by
# writing $FS/profiles, the list the agent reads back to confirm.  Each load
# rewrites .replace from its start, so it holds the last file loaded.  The
# real kernel is tested in test/vm.

bats_require_minimum_version 1.5.0
load helpers

AA_FIXTURE=$FIXTURES_ROOT/kubernetes-docs/apparmor/k8s-apparmor-example-deny-write

setup() {
	common_setup
	apparmorfs_setup
}

teardown() {
	if [ -f "$PARSER_LOG.slow-pid" ]; then
		kill -KILL "$(cat "$PARSER_LOG.slow-pid")" 2>/dev/null || true
	fi
	common_teardown
}

deny_write() {
	if [ -f "$AA_FIXTURE" ]; then
		cp "$AA_FIXTURE" "$1"
	else
		cp "$REPO/deploy/profiles/k8s-apparmor-example-deny-write" "$1"
	fi
}

two_profiles() {
	cat >"$1" <<-'P'
	#include <tunables/global>
	profile pd-two-a flags=(attach_disconnected) {
	  #include <abstractions/base>
	  file,
	}
	profile pd-two-b flags=(complain) {
	  file,
	  deny /etc/** w,
	}
	P
}

compiles() { grep -c -- '--write-cache' "$PARSER_LOG" || true; }

# without_gaps: $output without check's lines about rules the features do
# not enforce (PATH: warning: profile `NAME`: rules ...).
without_gaps() { grep -v '^[^ ]*: warning: profile `[^`]*`: rules ' <<<"$output" || true; }

@test "check: the Kubernetes deny-write profile (with abstractions and tunables) is ok" {
	deny_write "$P/deny-write"
	run "$PROFILED" check "$P/deny-write"
	echo "$output"
	[ "$status" -eq 0 ]
	# abstractions/base's unix rules: downgraded on every features set
	# tested (aa-features.bats)
	[ "$(without_gaps)" = "$P/deny-write: ok (apparmor: k8s-apparmor-example-deny-write)" ]
}

@test "check: a file with two profiles reports both names" {
	two_profiles "$P/two"
	run "$PROFILED" check "$P/two"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(without_gaps)" = "$P/two: ok (apparmor: pd-two-a pd-two-b)" ]
}

@test "check: a syntax error is the parser's own message with the line number" {
	printf 'profile pd-bad {\n  file,\n  /tmp/** rwx\n}\n' >"$P/bad"
	run "$PROFILED" check "$P/bad"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "$P/bad: error: AppArmor parser error for $P/bad in profile $P/bad at line 4: "* ]]
}

@test "check: includes outside the AppArmor folders are refused before the parser reads them" {
	printf '#include "/etc/shadow"\nprofile pd-x { file, }\n' >"$P/abs"
	printf 'profile pd-y {\n  include <abstractions/../../../etc/passwd>\n}\n' >"$P/dotdot"
	printf 'profile pd-z {\n  #include "/etc/apparmor.d/abstractions/../../shadow"\n}\n' >"$P/sneaky"
	run "$PROFILED" check --apparmor-parser "$WRAPPER" "$P/abs" "$P/dotdot" "$P/sneaky"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qx "$P/abs: error: line 1: \`include /etc/shadow\`: only the standard AppArmor folders (/etc/apparmor.d/) may be included" <<<"$output"
	grep -q "^$P/dotdot: error: line 2: .*\`..\` is not allowed" <<<"$output"
	grep -q "^$P/sneaky: error: line 2: .*\`..\` is not allowed" <<<"$output"
	# the parser never read them
	not grep -q -- "--names\|--write-cache" "$PARSER_LOG"
}

@test "check: a profile name declared by two files is an error for the second" {
	deny_write "$P/a"
	deny_write "$P/b"
	run "$PROFILED" check "$P/a" "$P/b"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qx "$P/a: ok (apparmor: k8s-apparmor-example-deny-write)" <<<"$output"
	grep -qx "$P/b: error: profile \`k8s-apparmor-example-deny-write\` is already declared by $P/a" <<<"$output"
}

@test "check compiles every file in one batched parser run" {
	deny_write "$P/a"
	two_profiles "$P/b"
	printf 'profile pd-c { file, }\n' >"$P/c"
	run "$PROFILED" check --apparmor-parser "$WRAPPER" "$P"
	echo "$output"
	cat "$PARSER_LOG"
	[ "$status" -eq 0 ]
	[ "$(compiles)" -eq 1 ]
	grep -- '--write-cache' "$PARSER_LOG" | grep -q -- "--jobs $(nproc)"
	# and against the features file, so the output is the modern format
	grep -- '--write-cache' "$PARSER_LOG" | grep -q -- '--features-file /'
}

# load_then_confirm NAME MODE...: a first --once loads into the stand-in
# (which lists nothing yet, so nothing is confirmed); the test then plays
# the kernel listing the names; a second --once confirms them.
load_then_confirm() {
	aa_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'apparmor profile not confirmed' <<<"$output"
	kernel_has "$@"
	aa_once
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "--once loads every profile through libapparmor, owns it, labels it once the kernel lists it" {
	deny_write "$P/deny-write"
	two_profiles "$P/two"
	aa_once
	echo "$output"
	[ "$status" -eq 1 ]
	# compiled policy went through the interface (the last file loaded
	# is "two", the files are loaded in name order)
	grep -aq version "$FS/.replace"
	grep -aq pd-two-a "$FS/.replace"
	grep -aq pd-two-b "$FS/.replace"
	[ "$(compiles)" -eq 1 ]
	# the stand-in kernel lists nothing: loaded, owned, not labeled
	for n in k8s-apparmor-example-deny-write pd-two-a pd-two-b; do
		grep -q "apparmor profile not confirmed .*profile .$n. was loaded but the kernel does not list it" <<<"$output"
	done
	not grep -q 'label=apparmor.profiled.io/' <<<"$output"
	grep -q 'label=profiled.io/apparmor value=enabled' <<<"$output"
	python3 - "$S/state.json" <<-'PY'
	import json, sys
	st = json.load(open(sys.argv[1]))
	got = sorted((e["name"], e["source"]) for e in st["apparmor"])
	assert got == [("k8s-apparmor-example-deny-write", "deny-write"),
	               ("pd-two-a", "two"), ("pd-two-b", "two")], got
	PY
	size=$(stat -c %s "$FS/.replace")
	kernel_has k8s-apparmor-example-deny-write enforce pd-two-a enforce pd-two-b complain
	aa_once
	echo "$output"
	[ "$status" -eq 0 ]
	for n in k8s-apparmor-example-deny-write pd-two-a pd-two-b; do
		grep -q "would set node label node=node-1 label=apparmor.profiled.io/$n value=true" <<<"$output"
	done
	# listed and unchanged: not loaded again
	[ "$(stat -c %s "$FS/.replace")" -eq "$size" ]
	[ "$(compiles)" -eq 1 ]
}

@test "a profile the kernel does not list is loaded again at each reconcile, never labeled" {
	deny_write "$P/deny-write"
	aa_once
	[ "$status" -eq 1 ]
	: >"$FS/.replace"
	aa_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -aq k8s-apparmor-example-deny-write "$FS/.replace"
	grep -q 'apparmor profile not confirmed' <<<"$output"
	not grep -q 'label=apparmor.profiled.io/' <<<"$output"
	[ "$(compiles)" -eq 1 ]
}

@test "a loaded profile profiled does not own is refused, unless --adopt-existing" {
	deny_write "$P/deny-write"
	kernel_has k8s-apparmor-example-deny-write enforce
	aa_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'apparmor profile rejected .*already loaded and was not loaded by profiled' <<<"$output"
	[ ! -s "$FS/.replace" ]
	not grep -q 'label=apparmor.profiled.io/' <<<"$output"
	aa_once --adopt-existing
	echo "$output"
	[ "$status" -eq 0 ]
	grep -aq k8s-apparmor-example-deny-write "$FS/.replace"
	grep -q 'apparmor profile loaded profile=k8s-apparmor-example-deny-write mode=enforce' <<<"$output"
	grep -q 'label=apparmor.profiled.io/k8s-apparmor-example-deny-write value=true' <<<"$output"
}

@test "restart: nothing is compiled or loaded again" {
	deny_write "$P/deny-write"
	two_profiles "$P/two"
	load_then_confirm k8s-apparmor-example-deny-write enforce pd-two-a enforce pd-two-b complain
	size=$(stat -c %s "$FS/.replace")
	: >"$PARSER_LOG"
	aa_once
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(compiles)" -eq 0 ]
	not grep -q -- '--names' "$PARSER_LOG"
	[ "$(stat -c %s "$FS/.replace")" -eq "$size" ]
	not grep -q 'apparmor profile loaded' <<<"$output"
	grep -q 'label=apparmor.profiled.io/pd-two-a value=true' <<<"$output"
}

@test "after a reboot (the kernel lists nothing) profiles load from the cache without compiling" {
	deny_write "$P/deny-write"
	two_profiles "$P/two"
	load_then_confirm k8s-apparmor-example-deny-write enforce pd-two-a enforce pd-two-b complain
	: >"$FS/.replace"
	: >"$PARSER_LOG"
	kernel_has
	aa_once
	echo "$output"
	[ "$(compiles)" -eq 0 ]
	not grep -q -- '--names' "$PARSER_LOG"
	grep -aq pd-two-b "$FS/.replace"
	for n in k8s-apparmor-example-deny-write pd-two-a pd-two-b; do
		grep -q "apparmor profile not confirmed .*$n. was loaded" <<<"$output"
	done
	not grep -q 'label=apparmor.profiled.io/' <<<"$output"
}

@test "a profile something else unloaded is restored at the next reconcile, from the cache" {
	deny_write "$P/deny-write"
	two_profiles "$P/two"
	load_then_confirm k8s-apparmor-example-deny-write enforce pd-two-a enforce pd-two-b complain
	: >"$FS/.replace"
	: >"$PARSER_LOG"
	kernel_has k8s-apparmor-example-deny-write enforce pd-two-a enforce
	start_daemon --apparmorfs "$FS" --apparmor-parser "$WRAPPER"
	# pd-two-b is missing: its file goes to the interface again, from
	# the cache; the other file is left alone
	wait_until 5 test -s "$FS/.replace"
	grep -aq pd-two-b "$FS/.replace"
	not grep -aq k8s-apparmor-example-deny-write "$FS/.replace"
	[ "$(compiles)" -eq 0 ]
	wait_for_log 'apparmor profile not confirmed.*pd-two-b' 5
	grep -q 'would set node label .*apparmor.profiled.io/pd-two-a value=true' "$LOG"
	not grep -q 'apparmor.profiled.io/pd-two-b' "$LOG"
	# the kernel lists it again: the SIGHUP resync labels it
	kernel_has k8s-apparmor-example-deny-write enforce pd-two-a enforce pd-two-b complain
	kill -HUP "$DAEMON_PID"
	wait_for_log 'would set node label .*apparmor.profiled.io/pd-two-b value=true' 5
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

@test "a changed file is compiled and replaces the loaded version" {
	printf 'profile pd-c { file, }\n' >"$P/c"
	load_then_confirm pd-c enforce
	old=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apparmor"][0]["sha256"])' "$S/state.json")
	: >"$FS/.replace"
	printf 'profile pd-c {\n  file,\n  deny /tmp/** w,\n}\n' >"$P/c"
	aa_once
	echo "$output"
	[ "$status" -eq 0 ]
	grep -aq pd-c "$FS/.replace"
	grep -q "apparmor profile loaded profile=pd-c mode=enforce file=$P/c sha256=$(sha256sum "$P/c" | cut -d' ' -f1)" <<<"$output"
	new=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apparmor"][0]["sha256"])' "$S/state.json")
	[ "$old" != "$new" ]
	[ "$(compiles)" -eq 2 ]
}

@test "a broken new version never replaces the last good one, which stays owned and labeled" {
	printf 'profile pd-c { file, }\n' >"$P/c"
	load_then_confirm pd-c enforce
	cp "$S/state.json" "$T/state.before"
	: >"$FS/.replace"
	printf 'profile pd-c {\n  file,\n  broken rule here\n}\n' >"$P/c"
	aa_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "apparmor profile rejected file=$P/c error=\"AppArmor parser error for $P/c .*line 3" <<<"$output"
	[ ! -s "$FS/.replace" ]
	[ ! -s "$FS/.remove" ]
	cmp "$S/state.json" "$T/state.before"
	grep -q 'label=apparmor.profiled.io/pd-c value=true' <<<"$output"
}

@test "a removed file: retired (still loaded, no label) by default; unloaded with --unload-removed" {
	printf 'profile pd-c { file, }\n' >"$P/c"
	printf 'profile pd-d { file, }\n' >"$P/d"
	load_then_confirm pd-c enforce pd-d enforce
	rm "$P/c"
	aa_once
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'apparmor profile left the profiles folders; still loaded .* profile=pd-c' <<<"$output"
	[ ! -s "$FS/.remove" ]
	not grep -q 'label=apparmor.profiled.io/pd-c' <<<"$output"
	# still owned: putting it back is not refused as someone else's
	printf 'profile pd-c { file, }\n' >"$P/c"
	aa_once
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'label=apparmor.profiled.io/pd-c value=true' <<<"$output"
	rm "$P/d"
	# a stand-in proc folder: the node's processes in view, none under pd-d
	# (test/bats/unload.bats tests a profile in use)
	mkdir -p "$T/proc/self/ns"
	ln -s 'pid:[4026531836]' "$T/proc/self/ns/pid"
	aa_once --unload-removed --proc-root "$T/proc"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'apparmor profile unloaded profile=pd-d' <<<"$output"
	[ "$(tr -d '\0\n' <"$FS/.remove")" = pd-d ]
	python3 -c 'import json,sys; assert [e["name"] for e in json.load(open(sys.argv[1]))["apparmor"]] == ["pd-c"]' "$S/state.json"
	# a removed file whose profile the kernel no longer lists (removed by
	# hand): nothing to unload; forgotten, not reported as unloaded
	: >"$FS/.remove"
	grep -v '^pd-c ' "$FS/profiles" >"$FS/profiles.new" || true
	mv "$FS/profiles.new" "$FS/profiles"
	rm "$P/c"
	aa_once --unload-removed --proc-root "$T/proc"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'apparmor profile left the profiles folders and is not loaded; forgotten profile=pd-c' <<<"$output"
	not grep -q 'apparmor profile unloaded profile=pd-c' <<<"$output"
	[ ! -s "$FS/.remove" ]
	python3 -c 'import json,sys; assert json.load(open(sys.argv[1])).get("apparmor", []) == []' "$S/state.json"
}

@test "an include outside the AppArmor folders is rejected by the daemon too" {
	printf '#include "/etc/shadow"\nprofile pd-x { file, }\n' >"$P/x"
	aa_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "apparmor profile rejected file=$P/x error=\"line 1: .include /etc/shadow.: only the standard AppArmor folders" <<<"$output"
	# the parser never read it
	not grep -q -- "--names\|--write-cache" "$PARSER_LOG"
}

@test "no AppArmor in the kernel: disabled label, one info line, files validated, seccomp unaffected" {
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
		skip "this kernel has AppArmor enabled"
	fi
	deny_write "$P/deny-write"
	printf 'profile pd-bad {\n  nonsense\n}\n' >"$P/bad"
	seccomp_json SCMP_ACT_ALLOW mkdir >"$P/s.json"
	run_once --apparmor-parser "$WRAPPER"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(grep -c 'AppArmor is not enabled in this kernel' <<<"$output")" -eq 1 ]
	grep -q 'label=profiled.io/apparmor value=disabled' <<<"$output"
	grep -q "apparmor profile rejected file=$P/bad" <<<"$output"
	not grep -q 'label=apparmor.profiled.io/' <<<"$output"
	not grep -q 'apparmor profile loaded' <<<"$output"
	[ "$(compiles)" -eq 1 ]
	cmp "$P/s.json" "$PUB/s.json"
	grep -q 'label=seccomp.profiled.io/s value=true' <<<"$output"
}

@test "SIGTERM during a long compile: exit 0 within 2 s, the parser is killed" {
	deny_write "$P/deny-write"
	PARSER_SLOW=1 NO_WAIT=1 start_daemon --apparmorfs "$FS" --apparmor-parser "$WRAPPER"
	wait_until 10 test -s "$PARSER_LOG.slow-pid"
	pid=$(cat "$PARSER_LOG.slow-pid")
	kill -0 "$pid"
	stop_daemon TERM
	echo "# SIGTERM during a compile: stop took $STOP_MS ms" >&3
	[ "$DAEMON_RC" -eq 0 ]
	[ "$STOP_MS" -lt 2000 ]
	wait_until 2 not kill -0 "$pid" 2>/dev/null
}

@test "a file the parser refused is not given to the parser again while its bytes stay the same" {
	printf 'profile pd-bad {\n  file,\n  nonsense here\n}\n' >"$P/bad"
	aa_once
	[ "$status" -eq 1 ]
	first=$(grep 'apparmor profile rejected' <<<"$output" | sed 's/^[^ ]* //')
	: >"$PARSER_LOG"
	cp "$P/bad" "$P/bad-copy"
	aa_once
	echo "$output"
	cat "$PARSER_LOG"
	[ "$status" -eq 1 ]
	not grep -q -- "--names\|--write-cache" "$PARSER_LOG"
	# the same message, naming each file
	grep -q "$first" <<<"$output"
	grep -q "apparmor profile rejected file=$P/bad-copy error=\"AppArmor parser error for $P/bad-copy in profile $P/bad-copy at line 3" <<<"$output"
}

@test "--apparmor-validate-only compiles but never loads, and sets no AppArmor profile label" {
	printf 'profile pd-c { file, }\n' >"$P/c"
	printf 'profile pd-bad {\n nonsense\n}\n' >"$P/bad"
	aa_once --apparmor-validate-only
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'apparmor-validate-only: AppArmor files are validated but never loaded' <<<"$output"
	grep -q "apparmor profile rejected file=$P/bad" <<<"$output"
	[ "$(compiles)" -eq 1 ]
	[ ! -s "$FS/.replace" ]
	not grep -q 'label=apparmor.profiled.io/' <<<"$output"
	[ ! -f "$S/state.json" ] || python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["apparmor"] == []' "$S/state.json"
}
