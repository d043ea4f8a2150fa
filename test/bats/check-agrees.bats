#!/usr/bin/env bats
# `profiled check` promises to validate exactly as the daemon would: the
# entry-name rule and the profile-name clash rule are one code (lib/rules.c).
# Each test gives one set of folders to both, then compares, file by file,
# check's verdict (ok, or the error text) with the daemon's (`run --once`:
# the "... profile rejected" log lines, the same text; an entry the daemon
# takes as absent is "absent" for both: check's warning, the daemon's debug
# line).  The AppArmor kernel is the stand-in folder of apparmor.bats.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	apparmorfs_setup
	A=$T/a
	B=$T/b
	mkdir -p "$A" "$B"
}

teardown() {
	common_teardown
}

aa() { # FILE NAME...: an AppArmor file declaring these profiles
	local f=$1
	shift
	: >"$f"
	for n in "$@"; do
		printf 'profile %s { file, }\n' "$n" >>"$f"
	done
}

# verdicts FOLDER...: runs check and the daemon on the folders; writes
# $T/check.v and $T/daemon.v, one "PATH<TAB>ok|absent|error: MESSAGE" line
# per file.
verdicts() {
	local args=() d
	for d in "$@"; do
		args+=(--profiles "$d")
	done
	run --separate-stderr "$PROFILED" check --apparmor-parser "$WRAPPER" "$@"
	echo "check ($status):"
	echo "$output"
	CHECK_STATUS=$status
	printf '%s\n' "$output" >"$T/check.out"
	run "$PROFILED" run --once "${args[@]}" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --apparmorfs "$FS" \
		--apparmor-parser "$WRAPPER" --log-format json --log-level debug
	echo "daemon ($status):"
	echo "$output"
	printf '%s\n' "$output" >"$T/daemon.out"
	python3 - "$T" "$@" <<-'PY'
	import json, os, re, sys
	t, folders = sys.argv[1], sys.argv[2:]
	files = sorted(os.path.join(d, n) for d in folders for n in os.listdir(d))
	check = {}
	for line in open(t + "/check.out").read().splitlines():
	    m = re.match(r"^(.*?): (ok) \(|^(.*?): (error): (.*)$", line)
	    if line.endswith(": warning: the entry vanished or its link dangles; the daemon takes it as absent"):
	        check[line.split(": warning: ")[0]] = "absent"
	    elif m and m.group(1):
	        check[m.group(1)] = "ok"
	    elif m:
	        check[m.group(3)] = "error: " + m.group(5)
	daemon = {f: "ok" for f in files}
	for line in open(t + "/daemon.out").read().splitlines():
	    try:
	        rec = json.loads(line)
	    except ValueError:
	        continue
	    if rec.get("msg") in ("seccomp profile rejected", "apparmor profile rejected") and "error" in rec:
	        daemon[rec["file"]] = "error: " + rec["error"]
	    if rec.get("msg") == "entry vanished or its link dangles; taken as absent":
	        daemon[rec["file"]] = "absent"
	with open(t + "/check.v", "w") as c, open(t + "/daemon.v", "w") as d:
	    for f in files:
	        c.write("%s\t%s\n" % (f, check.get(f, "missing")))
	        d.write("%s\t%s\n" % (f, daemon[f]))
	PY
	echo "--- check vs daemon"
	diff "$T/check.v" "$T/daemon.v" || true
}

@test "two files declaring one profile: the later is rejected, naming the earlier, by both" {
	aa "$A/one" pd-dup
	aa "$A/two" pd-dup
	aa "$A/three" pd-other pd-dup
	verdicts "$A"
	diff "$T/check.v" "$T/daemon.v"
	[ "$CHECK_STATUS" -eq 1 ]
	grep -qx "$A/one	ok" "$T/check.v"
	grep -qx "$A/two	error: profile \`pd-dup\` is already declared by $A/one" "$T/check.v"
	grep -qx "$A/three	error: profile \`pd-dup\` is already declared by $A/one" "$T/check.v"
}

@test "a file clashing on several names: both name the file's first clashing profile" {
	# c declares pd-p then pd-q; a (earlier) declares pd-q, b declares pd-p:
	# the rule reports c's first name that clashes, pd-p, declared by b
	aa "$A/a" pd-q
	aa "$A/b" pd-p
	aa "$A/c" pd-p pd-q
	verdicts "$A"
	diff "$T/check.v" "$T/daemon.v"
	grep -qx "$A/c	error: profile \`pd-p\` is already declared by $A/b" "$T/check.v"
}

@test "a rejected file does not hold its names: the next file declaring them is accepted by both" {
	printf 'profile pd-held { file, nonsense here }\n' >"$A/a"
	aa "$A/b" pd-held
	aa "$A/c" pd-held
	verdicts "$A"
	diff "$T/check.v" "$T/daemon.v"
	grep -q "^$A/a	error: " "$T/check.v"
	grep -qx "$A/b	ok" "$T/check.v"
	grep -qx "$A/c	error: profile \`pd-held\` is already declared by $A/b" "$T/check.v"
}

@test "one file name in two folders: the second is rejected by both" {
	aa "$A/same" pd-in-a
	aa "$B/same" pd-in-b
	seccomp_json SCMP_ACT_ALLOW >"$A/s.json"
	seccomp_json SCMP_ACT_LOG >"$B/s.json"
	aa "$B/other" pd-in-a
	verdicts "$A" "$B"
	diff "$T/check.v" "$T/daemon.v"
	grep -qx "$A/same	ok" "$T/check.v"
	grep -qx "$B/same	error: another profiles folder already provides this file name" "$T/check.v"
	grep -qx "$A/s.json	ok" "$T/check.v"
	grep -qx "$B/s.json	error: another profiles folder already provides this file name" "$T/check.v"
	# the rejected entry declares nothing: b/other clashes with a/same only
	grep -qx "$B/other	error: profile \`pd-in-a\` is already declared by $A/same" "$T/check.v"
}

@test "seccomp names equal but for case or the .json suffix do not clash, for either" {
	seccomp_json SCMP_ACT_ALLOW >"$A/x.json"
	seccomp_json SCMP_ACT_LOG >"$A/X.json"
	seccomp_json SCMP_ACT_ALLOW >"$A/x.JSON" # not seccomp: an AppArmor file
	aa "$A/x" x
	verdicts "$A"
	diff "$T/check.v" "$T/daemon.v"
	grep -qx "$A/x.json	ok" "$T/check.v"
	grep -qx "$A/X.json	ok" "$T/check.v"
	grep -qx "$A/x	ok" "$T/check.v"
	grep -q "^$A/x.JSON	error: " "$T/check.v"
	[ -f "$PUB/x.json" ] && [ -f "$PUB/X.json" ]
}

@test "a profile another party loaded: only the daemon sees the kernel; every other verdict agrees" {
	# check reads no kernel and no node state (it runs anywhere); the
	# daemon also rejects a file whose name someone else loaded, and that
	# file then declares nothing for the files after it.
	printf "pd-host (enforce)\n" >"$FS/profiles" # the stand-in kernel lists it
	aa "$A/a" pd-host
	aa "$A/b" pd-host
	aa "$A/c" pd-mine
	aa "$A/d" pd-mine
	verdicts "$A"
	foreign="error: profile \`pd-host\` is already loaded and was not loaded by profiled (a host or runtime profile?); it is left alone unless --adopt-existing is given"
	grep -qx "$A/a	ok" "$T/check.v"
	grep -qx "$A/a	$foreign" "$T/daemon.v"
	grep -qx "$A/b	error: profile \`pd-host\` is already declared by $A/a" "$T/check.v"
	grep -qx "$A/b	$foreign" "$T/daemon.v"
	# the files whose names the kernel does not hold: the same verdicts
	diff <(grep -v "^$A/[ab]	" "$T/check.v") <(grep -v "^$A/[ab]	" "$T/daemon.v")
	grep -qx "$A/d	error: profile \`pd-mine\` is already declared by $A/c" "$T/daemon.v"
}

@test "a dangling link: absent for both, check warns and exits 0, the others go on" {
	# the kubelet's swap leaves a removed key's link dangling for a moment
	seccomp_json SCMP_ACT_ALLOW >"$A/fine.json"
	aa "$A/real" pd-real
	ln -s ..data/gone.json "$A/gone.json"
	ln -s ..data/gone "$A/gone"
	ln -s nowhere "$B/also-gone"
	aa "$B/more" pd-more
	# an absent entry takes no name: a later folder's file of that name is used
	ln -s ..data/dup.json "$A/dup.json"
	seccomp_json SCMP_ACT_LOG >"$B/dup.json"
	verdicts "$A" "$B"
	diff "$T/check.v" "$T/daemon.v"
	grep -qx "$A/dup.json	absent" "$T/check.v"
	grep -qx "$B/dup.json	ok" "$T/check.v"
	cmp "$B/dup.json" "$PUB/dup.json"
	grep -qx "$A/gone.json	absent" "$T/check.v"
	grep -qx "$A/gone	absent" "$T/check.v"
	grep -qx "$B/also-gone	absent" "$T/check.v"
	grep -qx "$A/fine.json	ok" "$T/check.v"
	grep -qx "$A/real	ok" "$T/check.v"
	grep -qx "$B/more	ok" "$T/check.v"
	# check's exit status says what the daemon does: nothing is rejected
	[ "$CHECK_STATUS" -eq 0 ]
	grep -qx "$A/gone.json: warning: the entry vanished or its link dangles; the daemon takes it as absent" "$T/check.out"
	# the daemon: the others published and loaded, the absent ones not
	# (its only errors: the stand-in kernel does not list what was loaded)
	[ -f "$PUB/fine.json" ] && [ ! -e "$PUB/gone.json" ]
	grep -q "\"msg\":\"apparmor file loaded\",\"file\":\"$A/real\"" "$T/daemon.out"
	grep -q "\"msg\":\"apparmor file loaded\",\"file\":\"$B/more\"" "$T/daemon.out"
	[ "$(grep -c '"level":"error"' "$T/daemon.out")" -eq "$(grep -c 'not confirmed' "$T/daemon.out")" ]
	not grep -q "profile rejected" "$T/daemon.out"
	not grep -q 'apparmor profile compiling","file":"[^"]*gone' "$T/daemon.out"
}

@test "a file named on check's command line that does not exist is an error, not absent" {
	ln -s nowhere.json "$A/gone.json"
	run "$PROFILED" check "$A/gone.json" "$A/typo.json"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "^$A/gone.json: error: " <<<"$output"
	grep -q "^$A/typo.json: error: " <<<"$output"
}

@test "a folder given twice or inside another: both refuse at once with exit 2, naming both" {
	aa "$A/x" pd-x
	mkdir "$A/sub"
	ln -s a "$T/alink"
	for pair in "$A|$A/" "$A|$T/alink" "$A/sub|$A" "$T/alink/sub|$A"; do
		one=${pair%%|*} two=${pair#*|}
		run --separate-stderr "$PROFILED" check --apparmor-parser "$WRAPPER" "$one" "$two"
		echo "check $one $two ($status): $output $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ] # nothing validated
		[[ "$stderr" == *"\"$one\" and \"$two\" are the same folder"* ||
			"$stderr" == *"is inside \""*"\"; they must not overlap"* ]]
		run "$PROFILED" run --once --profiles "$one" --profiles "$two" --seccomp-root "$R" \
			--state-dir "$S" --node-name node-1 --apparmorfs "$FS" --apparmor-parser "$WRAPPER"
		echo "daemon ($status): $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"same folder"* || "$output" == *"must not overlap"* ]]
	done
	# folders apart: check goes on
	run "$PROFILED" check --apparmor-parser "$WRAPPER" "$A" "$B"
	[ "$status" -eq 1 ] # a/sub is not a regular file, for the daemon too
	grep -q "^$A/x: ok (apparmor: pd-x)" <<<"$output"
}

@test "a duplicate that is also unreadable: both name the duplicate, the daemon's order" {
	seccomp_json SCMP_ACT_ALLOW >"$A/x.json"
	mkfifo "$B/x.json"
	aa "$A/y" pd-y
	mkdir "$B/y"
	mkfifo "$B/z.json" # unreadable, the first of its name
	verdicts "$A" "$B"
	diff "$T/check.v" "$T/daemon.v"
	grep -qx "$B/x.json	error: another profiles folder already provides this file name" "$T/check.v"
	grep -qx "$B/y	error: another profiles folder already provides this file name" "$T/check.v"
	grep -qx "$B/z.json	error: not a regular file" "$T/check.v"
}
