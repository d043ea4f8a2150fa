#!/usr/bin/env bats
# The command line: version, help, usage errors, and `profiled check`.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	mkdir -p "$T/cwd"
	cd "$T/cwd"
}

teardown() {
	common_teardown
}

# Usage errors must not create anything either.
assert_nothing_created() {
	[ ! -e "$T/r" ]
	[ ! -e "$T/s" ]
	[ -z "$(ls -A "$T/cwd")" ]
}

# usage_error ARGS...: exit 2 with a message on stderr, nothing on stdout,
# nothing created.
usage_error() {
	run --separate-stderr "$PROFILED" "$@"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == profiled:* ]]
	assert_nothing_created
}

run_flags() {
	echo --once --profiles "$T/p" --seccomp-root "$T/r" --state-dir "$T/s"
}

@test "version prints the version, exit 0" {
	run --separate-stderr "$PROFILED" version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^profiled\ [^[:space:]]+$ ]]
	[ -z "$stderr" ]
	v=$output
	run "$PROFILED" --version
	[ "$status" -eq 0 ]
	[ "$output" = "$v" ]
}

@test "--help lists the commands and every run flag, exit 0" {
	run --separate-stderr "$PROFILED" --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	for word in "profiled check PATH" "profiled version" --profiles --seccomp-root \
		--seccomp-subdir --state-dir --label-domain --node-name --resync-interval \
		--once --log-format --log-level "exit codes"; do
		[[ "$output" == *"$word"* ]] || {
			echo "missing in --help: $word"
			false
		}
	done
	run "$PROFILED" help
	[ "$status" -eq 0 ]
	[[ "$output" == *"profiled check PATH"* ]]
	run "$PROFILED" run --help
	[ "$status" -eq 0 ]
	[[ "$output" == *--resync-interval* ]]
}

@test "unknown command: exit 2 with a message" {
	usage_error frobnicate
	[[ "$stderr" == *'unknown command "frobnicate"'* ]]
}

@test "unknown flag: exit 2 with a message (with and without 'run')" {
	usage_error run --frobnicate $(run_flags)
	[[ "$stderr" == *"--frobnicate"* ]]
	usage_error --frobnicate $(run_flags)
	[[ "$stderr" == *"--frobnicate"* ]]
	usage_error run $(run_flags) stray-argument
	[[ "$stderr" == *"stray-argument"* ]]
}

@test "flag missing its value: exit 2" {
	usage_error run --once --seccomp-root
	[[ "$stderr" == *"--seccomp-root"* ]]
}

@test "bad --resync-interval values: exit 2 with a message" {
	for v in 5x "" 500ms 0s -1s 1.5s abc 10mm; do
		usage_error run $(run_flags) --resync-interval "$v"
		[[ "$stderr" == *"--resync-interval \"$v\""* ]]
	done
	# and good ones are accepted
	mkdir -p "$T/p"
	for v in 1s 30s 10m 1h 1m30s 1500ms; do
		run "$PROFILED" run $(run_flags) --resync-interval "$v"
		[ "$status" -eq 0 ]
	done
}

@test "bad --log-format and --log-level: exit 2 with a message" {
	usage_error run $(run_flags) --log-format xml
	[[ "$stderr" == *'--log-format "xml"'* ]]
	usage_error run $(run_flags) --log-format ""
	usage_error run $(run_flags) --log-level loud
	[[ "$stderr" == *'--log-level "loud"'* ]]
}

@test "bad --label-domain values: exit 2 with a message" {
	for v in Bad_Domain "" "-lead.example" "a..b" "UPPER.io" "has space.io" "x/y"; do
		usage_error run $(run_flags) --label-domain "$v"
		[[ "$stderr" == *"label domain"* ]]
		[[ "$stderr" == *"\"$v\""* ]]
	done
	mkdir -p "$T/p"
	run "$PROFILED" run $(run_flags) --label-domain example.com --node-name n
	[ "$status" -eq 0 ]
	[[ "$output" == *"label=example.com/seccomp value=enabled"* ]]
}

@test "bad --seccomp-subdir values: exit 2 with a message" {
	for v in a/b .hidden "" .. . "../escape"; do
		usage_error run $(run_flags) --seccomp-subdir "$v"
		[[ "$stderr" == *"seccomp subdir \"$v\""* ]]
	done
}

@test "bad --node-name: exit 2" {
	usage_error run $(run_flags) --node-name ""
	usage_error run $(run_flags) --node-name "$(printf 'n%.0s' {1..254})"
}

@test "check: each Kubernetes fixture is ok, exit 0" {
	need_fixtures
	for f in audit fine-grained violation; do
		run --separate-stderr "$PROFILED" check "$FIXTURES/$f.json"
		[ "$status" -eq 0 ]
		[ "$output" = "$FIXTURES/$f.json: ok (seccomp: $f)" ]
		[ -z "$stderr" ]
	done
	run "$PROFILED" check "$FIXTURES/audit.json" "$FIXTURES/fine-grained.json" "$FIXTURES/violation.json"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "check: the container engines' profiles are ok" {
	for f in containers-common moby-default moby-default-old-format \
		moby-conditional_include moby-example; do
		run "$PROFILED" check "$ENGINES/$f.json"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "${lines[${#lines[@]} - 1]}" = "$ENGINES/$f.json: ok (seccomp: $f)" ]
		not grep -q ': error:' <<<"$output"
	done
	# moby-default names an architecture nobody knows: a warning, still ok
	run "$PROFILED" check "$ENGINES/moby-default.json"
	[[ "$output" == *"moby-default.json: warning: "*mips3l64n32* ]]
}

@test "check: broken JSON names the file and the line and column, exit 1" {
	printf '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [\n    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",}\n  ]\n}\n' >bad-comma.json
	printf '{"defaultAction": "SCMP_ACT_ALLOW"\n' >truncated.json
	: >empty.json
	run "$PROFILED" check bad-comma.json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" =~ ^bad-comma\.json:\ error:\ .*line\ 4,\ column\ [0-9]+ ]]
	run "$PROFILED" check truncated.json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" =~ ^truncated\.json:\ error:\ .*line\ [12],\ column\ [0-9]+ ]]
	run "$PROFILED" check "$T/cwd/empty.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "$T/cwd/empty.json: error: "*"line 1, column 1"* ]]
}

@test "check: valid JSON that is not a valid profile: error, exit 1" {
	echo '{"defaultAction":"SCMP_ACT_BOGUS"}' >bad-action.json
	echo '[1,2]' >array.json
	echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOPE"}]}' >bad-rule.json
	echo '{"syscalls":[]}' >no-default.json
	for f in bad-action array bad-rule no-default; do
		run "$PROFILED" check "$f.json"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == "$f.json: error: "* ]]
		not grep -q ': ok ' <<<"$output"
	done
	run "$PROFILED" check bad-action.json
	[[ "$output" == *SCMP_ACT_BOGUS* ]]
}

@test "check: one bad file among good ones: every file reported, exit 1" {
	need_fixtures
	echo '{' >broken.json
	run "$PROFILED" check "$FIXTURES/audit.json" broken.json "$FIXTURES/violation.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "$FIXTURES/audit.json: ok (seccomp: audit)" ]
	[[ "${lines[1]}" == "broken.json: error: "*"line "*", column "* ]]
	[ "${lines[2]}" = "$FIXTURES/violation.json: ok (seccomp: violation)" ]
}

@test "check: a folder reports each file, exit 1 if one is bad" {
	fixtures_into "$T/dir"
	run "$PROFILED" check "$T/dir"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "$T/dir/audit.json: ok (seccomp: audit)" ]
	[ "${lines[1]}" = "$T/dir/fine-grained.json: ok (seccomp: fine-grained)" ]
	[ "${lines[2]}" = "$T/dir/violation.json: ok (seccomp: violation)" ]
	echo '{"defaultAction":' >"$T/dir/zz-broken.json"
	echo '{}' >"$T/dir/.hidden.json" # dot files are not profiles
	run "$PROFILED" check "$T/dir"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[3]}" == "$T/dir/zz-broken.json: error: "*"line "*", column "* ]]
	not grep -q hidden <<<"$output"
}

@test "check: a kubelet-style folder is checked through its links" {
	need_fixtures
	kw "$T/cm" "$FIXTURES"
	run "$PROFILED" check "$T/cm"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "$T/cm/audit.json: ok (seccomp: audit)" ]
}

@test "check: a missing path is an error naming it, exit 1" {
	run "$PROFILED" check nothere.json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "nothere.json: error: "* ]]
	run "$PROFILED" check "$T/no/such/dir/x.json"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "$T/no/such/dir/x.json: error: "* ]]
}

@test "check: no argument is a usage error (exit 2)" {
	run --separate-stderr "$PROFILED" check
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"usage: profiled check"* ]]
}

@test "check: an unknown syscall is a warning, the profile is still ok" {
	echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["no_such_syscall","mkdir"],"action":"SCMP_ACT_ERRNO"}]}' >unknown.json
	run "$PROFILED" check unknown.json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "unknown.json: warning: "*no_such_syscall* ]]
	[ "${lines[1]}" = "unknown.json: ok (seccomp: unknown)" ]
}

@test "check: hostile entries are errors, never followed or opened" {
	mkdir -p "$T/h"
	echo '{"defaultAction":"SCMP_ACT_ALLOW"}' >"$T/outside.json"
	ln -s /etc/passwd "$T/h/passwd.json"
	ln -s ../outside.json "$T/h/escape.json"
	mkfifo "$T/h/fifo.json"
	mkdir "$T/h/dir.json"
	run timeout 10 "$PROFILED" check "$T/h"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 4 ]
	for f in dir escape fifo passwd; do
		grep -q "^$T/h/$f.json: error: " <<<"$output"
	done
}

@test "check touches nothing: no file created or changed anywhere" {
	fixtures_into "$T/cwd/in"
	echo '{' >"$T/cwd/in/broken.json"
	before=$(cd "$T" && find . -printf '%p %i %s %T@ %m\n' | sort)
	defaults_before=$(ls -d /var/lib/profiled /var/lib/kubelet/seccomp/profiled 2>/dev/null || true)
	run "$PROFILED" check in "$T/cwd/in/audit.json" in/fine-grained.json
	[ "$status" -eq 1 ]
	after=$(cd "$T" && find . -printf '%p %i %s %T@ %m\n' | sort)
	defaults_after=$(ls -d /var/lib/profiled /var/lib/kubelet/seccomp/profiled 2>/dev/null || true)
	diff <(echo "$before") <(echo "$after")
	[ "$defaults_before" = "$defaults_after" ]
}

# Known bug (see the report): where an object member name is expected (after
# `{` or `,`) but something else is found, the column is one past the
# offending character -- cJSON's parse_string sets its error offset one byte
# late.  The most common hand-editing mistake, a trailing comma in an object,
# is then reported past the end of its line.  Expected positions are the
# ones Python's json module gives.
@test "check: the JSON position points at the offending character" {
	t() {
		printf '%s' "$1" >pos.json
		run "$PROFILED" check pos.json
		echo "$(printf '%q' "$1") -> $output (want line $2, column $3)"
		[ "$status" -eq 1 ]
		[[ "$output" == "pos.json: error: line $2, column $3: "* ]]
	}
	# these are right today
	t '{"a":}' 1 6
	t '{"a" 1}' 1 6
	t '{"a":[1,2,]}' 1 11
	t '{"a":1 "b":2}' 1 8
	t $'{\n"a":\n@}' 3 1
	# these are one column late
	t '{"a":1,}' 1 8
	t '{1:2}' 1 2
	t $'{\n  "defaultAction": "SCMP_ACT_ALLOW",\n}\n' 3 1
}
