#!/usr/bin/env bats
# `profiled run --once`: what lands in the kubelet's seccomp folder, and what
# never does.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	mkdir -p "$P"
}

teardown() {
	common_teardown
}

# assert_published NAME SOURCE: R/profiled/NAME.json is a regular file,
# byte-identical to SOURCE, mode 0644.
assert_published() {
	local f=$PUB/$1.json
	[ -f "$f" ] && [ ! -L "$f" ] || {
		echo "$f is not a regular file"
		return 1
	}
	cmp "$2" "$f"
	[ "$(stat -c %a "$f")" = 644 ] || {
		echo "$f has mode $(stat -c %a "$f")"
		return 1
	}
}

assert_no_temps() {
	local left
	left=$(find "$R" -name '*.tmp*' -o -name '.*tmp*' | head)
	[ -z "$left" ] || {
		echo "temporary files left: $left"
		return 1
	}
}

label_line() {
	echo "would set node label node=node-1 label=seccomp.profiled.io/$1 value=true"
}

@test "--once publishes the 3 fixtures byte-identical, 0644, with state and labels" {
	fixtures_into "$P"
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	for f in audit fine-grained violation; do
		assert_published "$f" "$FIXTURES/$f.json"
		[ "$(count_log "seccomp profile published profile=$f file=$P/$f.json path=$PUB/$f.json sha256=$(sha256sum <"$FIXTURES/$f.json" | cut -c1-64)" <(echo "$output"))" -eq 1 ]
		[[ "$output" == *"$(label_line "$f")"* ]]
	done
	[ "$(ls -A "$PUB" | wc -l)" -eq 3 ]
	[[ "$output" == *"would set node label node=node-1 label=profiled.io/seccomp value=enabled"* ]]
	[[ "$output" == *"done status=ok"* ]]
	[ -s "$S/state.json" ]
	for f in audit fine-grained violation; do
		grep -q "\"$f.json\"" "$S/state.json"
		grep -q "$(sha256sum <"$FIXTURES/$f.json" | cut -c1-64)" "$S/state.json"
	done
	assert_no_temps
}

@test "--once publishes mode 0644 whatever the umask" {
	fixtures_into "$P"
	umask 077
	run_once
	[ "$status" -eq 0 ]
	for f in audit fine-grained violation; do
		assert_published "$f" "$FIXTURES/$f.json"
	done
}

@test "a second --once rewrites nothing and logs no 'published'" {
	fixtures_into "$P"
	run_once
	[ "$status" -eq 0 ]
	before=$(for f in "$PUB"/* "$S/state.json"; do file_id "$f"; done)
	pause 0.05 # a rewrite would then show in the mtime
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	after=$(for f in "$PUB"/* "$S/state.json"; do file_id "$f"; done)
	[ "$before" = "$after" ]
	[[ "$output" != *published* ]]
	[[ "$output" != *restored* ]]
	# the labels are still what this node holds
	for f in audit fine-grained violation; do
		[[ "$output" == *"$(label_line "$f")"* ]]
	done
}

@test "a published file tampered with on disk is restored by the next --once" {
	fixtures_into "$P"
	run_once
	[ "$status" -eq 0 ]
	echo '{"defaultAction":"SCMP_ACT_ALLOW"}' >"$PUB/audit.json"
	chmod 0600 "$PUB/violation.json"
	rm "$PUB/fine-grained.json"
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	for f in audit fine-grained violation; do
		assert_published "$f" "$FIXTURES/$f.json"
	done
}

@test "files of other owners in the seccomp root are never touched" {
	fixtures_into "$P"
	mkdir -p "$R/other"
	echo '{"defaultAction":"SCMP_ACT_LOG"}' >"$R/audit.json"      # same name, root
	echo '{"defaultAction":"SCMP_ACT_LOG"}' >"$R/other/audit.json" # same name, other subdir
	echo 'not even json' >"$R/other/foreign.json"
	chmod 0600 "$R/other/foreign.json"
	ids() { for f in "$R/audit.json" "$R/other/audit.json" "$R/other/foreign.json"; do
		file_id "$f"
		sha256sum "$f"
	done; }
	before=$(ids)
	run_once
	[ "$status" -eq 0 ]
	rm "$P/audit.json" "$P/violation.json"
	run_once
	[ "$status" -eq 0 ]
	[ ! -e "$PUB/audit.json" ]
	echo '{"defaultAction":"SCMP_ACT_KILL"}' >"$P/audit.json"
	run_once
	[ "$status" -eq 0 ]
	[ "$(ids)" = "$before" ]
	[ "$(ls -A "$R" | sort | tr '\n' ' ')" = "audit.json other profiled " ]
	[ "$(ls -A "$R/other" | sort | tr '\n' ' ')" = "audit.json foreign.json " ]
}

@test "an invalid profile: exit 1, the error names the file, the others are published" {
	fixtures_into "$P"
	echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_BOGUS"}]}' >"$P/bad-action.json"
	printf '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n' >"$P/truncated.json"
	run_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE "error +seccomp profile rejected file=$P/bad-action.json error=.*SCMP_ACT_BOGUS" <<<"$output"
	grep -qE "error +seccomp profile rejected file=$P/truncated.json error=\"line [0-9]+, column [0-9]+" <<<"$output"
	[ ! -e "$PUB/bad-action.json" ]
	[ ! -e "$PUB/truncated.json" ]
	[[ "$output" != *seccomp.profiled.io/bad-action* ]]
	[[ "$output" != *seccomp.profiled.io/truncated* ]]
	for f in audit fine-grained violation; do
		assert_published "$f" "$FIXTURES/$f.json"
	done
	not grep -q '"bad-action.json"' "$S/state.json"
	[[ "$output" == *'done status="some profiles were rejected or failed"'* ]]
}

@test "an invalid new version keeps the last good file byte-identical and its label" {
	fixtures_into "$P"
	run_once
	[ "$status" -eq 0 ]
	before=$(file_id "$PUB/audit.json")
	state_before=$(cat "$S/state.json")
	echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [' >"$P/audit.json"
	run_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE "error +seccomp profile rejected file=$P/audit.json error=\"line [0-9]+, column [0-9]+" <<<"$output"
	assert_published audit "$FIXTURES/audit.json"
	[ "$(file_id "$PUB/audit.json")" = "$before" ]
	[[ "$output" == *"$(label_line audit)"* ]]
	[ "$(cat "$S/state.json")" = "$state_before" ]
	# still so on the run after, and a valid version then replaces it
	run_once
	[ "$status" -eq 1 ]
	assert_published audit "$FIXTURES/audit.json"
	echo '{"defaultAction":"SCMP_ACT_LOG"}' >"$P/audit.json"
	run_once
	[ "$status" -eq 0 ]
	assert_published audit "$P/audit.json"
}

@test "a profile removed from the folder: only the file the agent published is deleted" {
	fixtures_into "$P"
	run_once
	[ "$status" -eq 0 ]
	echo '{"defaultAction":"SCMP_ACT_LOG"}' >"$PUB/handmade.json"
	hand=$(file_id "$PUB/handmade.json")
	rm "$P/violation.json"
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$PUB/violation.json" ]
	[[ "$output" == *"seccomp profile removed profile=violation path=$PUB/violation.json"* ]]
	[[ "$output" != *seccomp.profiled.io/violation* ]]
	[[ "$output" != *handmade* ]]
	[ "$(file_id "$PUB/handmade.json")" = "$hand" ]
	assert_published audit "$FIXTURES/audit.json"
	assert_published fine-grained "$FIXTURES/fine-grained.json"
	not grep -q '"violation.json"' "$S/state.json"
	# the hand-made file survives an empty folder too
	rm "$P"/*.json
	run_once
	[ "$status" -eq 0 ]
	[ "$(ls -A "$PUB")" = handmade.json ]
	[ "$(file_id "$PUB/handmade.json")" = "$hand" ]
}

@test "a missing profiles folder removes nothing" {
	fixtures_into "$P"
	run_once
	[ "$status" -eq 0 ]
	before=$(for f in "$PUB"/*; do file_id "$f"; done)
	mv "$P" "$T/away"
	run_once
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot read profiles folder"*"$P"* ]]
	[ "$before" = "$(for f in "$PUB"/*; do file_id "$f"; done)" ]
}

@test "two --profiles folders are both published" {
	need_fixtures
	mkdir -p "$T/p2"
	cp "$FIXTURES/audit.json" "$FIXTURES/violation.json" "$P"/
	cp "$FIXTURES/fine-grained.json" "$T/p2"/
	echo '{"defaultAction":"SCMP_ACT_LOG"}' >"$T/p2/log-all.json"
	run_once --profiles "$T/p2"
	echo "$output"
	[ "$status" -eq 0 ]
	for f in audit violation; do assert_published "$f" "$P/$f.json"; done
	for f in fine-grained log-all; do assert_published "$f" "$T/p2/$f.json"; done
	[[ "$output" == *"published profile=log-all file=$T/p2/log-all.json"* ]]
	# removing from the second folder removes just that one
	rm "$T/p2/log-all.json"
	run_once --profiles "$T/p2"
	[ "$status" -eq 0 ]
	[ ! -e "$PUB/log-all.json" ]
	[ "$(ls "$PUB" | wc -l)" -eq 3 ]
}

@test "the same file name in two folders: the first folder wins, the other is rejected" {
	need_fixtures
	mkdir -p "$T/p2"
	cp "$FIXTURES/audit.json" "$P/"
	echo '{"defaultAction":"SCMP_ACT_LOG"}' >"$T/p2/audit.json"
	run_once --profiles "$T/p2"
	echo "$output"
	[ "$status" -eq 1 ]
	assert_published audit "$FIXTURES/audit.json"
	grep -qE "error +seccomp profile rejected file=$T/p2/audit.json error=" <<<"$output"
	[ "$(count_log "profile rejected" <(echo "$output"))" -eq 1 ]
	[ "$(count_log "published profile=audit" <(echo "$output"))" -eq 1 ]
	# the rejected duplicate does not make the first one go away either
	run_once --profiles "$T/p2"
	[ "$status" -eq 1 ]
	assert_published audit "$FIXTURES/audit.json"
}

@test "--seccomp-subdir picks the owned folder" {
	fixtures_into "$P"
	SUBDIR=mine run_once
	[ "$status" -eq 0 ]
	cmp "$FIXTURES/audit.json" "$R/mine/audit.json"
	[ ! -e "$R/profiled" ]
}

@test "label names: valid names kept, others sanitized with a hash suffix" {
	printf '{"defaultAction":"SCMP_ACT_LOG"}\n' >"$P/My Profile!.json"
	long=$(printf 'a%.0s' {1..70})
	printf '{"defaultAction":"SCMP_ACT_LOG"}\n' >"$P/$long.json"
	printf '{"defaultAction":"SCMP_ACT_LOG"}\n' >"$P/ok_Name-1.2.json"
	printf '{"defaultAction":"SCMP_ACT_LOG"}\n' >"$P/___.json"
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	h() { printf '%s' "$1" | sha256sum | cut -c1-10; }
	[[ "$output" == *"$(label_line "My-Profile-$(h 'My Profile!')")"* ]]
	[[ "$output" == *"$(label_line "${long:0:52}-$(h "$long")")"* ]]
	[[ "$output" == *"$(label_line ok_Name-1.2)"* ]]
	[[ "$output" == *"$(label_line "$(h ___)")"* ]]
	cmp "$P/My Profile!.json" "$PUB/My Profile!.json"
}

@test "--log-format json: one JSON object per line, never a token" {
	fixtures_into "$P"
	echo '{' >"$P/broken.json"
	printf '{"defaultAction":"SCMP_ACT_LOG"}\n' >"$P/$(printf 'q"uo\\te\tctl\001.json')"
	run --separate-stderr "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" \
		--state-dir "$S" --node-name node-1 --log-format json --log-level debug
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	printf '%s\n' "$stderr" >"$T/json.log"
	run python3 "$PYHELP" jsonlines "$T/json.log"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" -ge 10 ]
	not grep -qi token "$T/json.log"
	grep -q '"msg":"seccomp profile published","profile":"audit"' "$T/json.log"
	grep -q '"level":"error","msg":"seccomp profile rejected","file":"'"$P"'/broken.json"' "$T/json.log"
	# and a second run (nothing to do) is still JSON
	run --separate-stderr "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" \
		--state-dir "$S" --log-format json
	printf '%s\n' "$stderr" >"$T/json2.log"
	run python3 "$PYHELP" jsonlines "$T/json2.log"
	[ "$status" -eq 0 ]
	not grep -qi token "$T/json2.log"
}

@test "text logs never contain a token either" {
	fixtures_into "$P"
	run_once --log-level debug
	[ "$status" -eq 0 ]
	not grep -qi token <<<"$output"
}

@test "a corrupt state file: the next --once recovers without rewriting correct files" {
	fixtures_into "$P"
	run_once
	[ "$status" -eq 0 ]
	before=$(for f in "$PUB"/*; do file_id "$f"; done)
	head -c 4096 /dev/urandom >"$S/state.json"
	pause 0.05
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"state"* ]]
	[[ "$output" != *"profile published"* ]]
	[ "$before" = "$(for f in "$PUB"/*; do file_id "$f"; done)" ]
	for f in audit fine-grained violation; do
		assert_published "$f" "$FIXTURES/$f.json"
		[[ "$output" == *"$(label_line "$f")"* ]]
		grep -q "\"$f.json\"" "$S/state.json"
	done
	# ownership is known again: a removal now deletes the file
	rm "$P/audit.json"
	run_once
	[ "$status" -eq 0 ]
	[ ! -e "$PUB/audit.json" ]
}

@test "a lost state file: the next --once recovers without rewriting correct files" {
	fixtures_into "$P"
	run_once
	[ "$status" -eq 0 ]
	before=$(for f in "$PUB"/*; do file_id "$f"; done)
	rm "$S/state.json"
	pause 0.05
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"profile published"* ]]
	[ "$before" = "$(for f in "$PUB"/*; do file_id "$f"; done)" ]
	[ -s "$S/state.json" ]
}

@test "a state file with hostile entries is not trusted" {
	fixtures_into "$P"
	mkdir -p "$T/victim"
	echo keep >"$T/victim/x.json"
	printf '{"version":1,"seccomp":[{"name":"../../victim/x.json","sha256":"%s"},{"name":"/etc/passwd","sha256":"%s"}],"apparmor":[]}\n' \
		"$(printf '0%.0s' {1..64})" "$(printf '0%.0s' {1..64})" >"$T/state.json"
	mkdir -p "$S"
	chmod 700 "$S"
	cp "$T/state.json" "$S/state.json"
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/victim/x.json")" = keep ]
	[ -s /etc/passwd ]
	for f in audit fine-grained violation; do assert_published "$f" "$FIXTURES/$f.json"; done
}

@test "hostile entries each get an error naming them and do not stop the others" {
	fixtures_into "$P"
	echo '{"defaultAction":"SCMP_ACT_ALLOW"}' >"$T/outside.json"
	ln -s /etc/passwd "$P/passwd.json"
	ln -s ../outside.json "$P/outside.json"
	ln -s "$T/outside.json" "$P/absolute.json"
	mkfifo "$P/fifo.json"
	head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$P/big.json"
	mkdir "$P/dir.json"
	ln -s nowhere.json "$P/dangling.json"
	run timeout 20 "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" \
		--state-dir "$S" --node-name node-1
	echo "$output"
	[ "$status" -eq 1 ]
	for f in passwd outside absolute fifo big dir; do
		[ "$(count_log "error +seccomp profile rejected file=$P/$f.json error=" <(echo "$output"))" -eq 1 ] || {
			echo "no single error line for $f.json"
			false
		}
		[ ! -e "$PUB/$f.json" ]
		[[ "$output" != *"seccomp.profiled.io/$f "* ]]
	done
	for f in audit fine-grained violation; do assert_published "$f" "$FIXTURES/$f.json"; done
	[ "$(ls -A "$PUB" | wc -l)" -eq 3 ]
	not grep -rq root: "$R"
	# a dangling link is an absent entry, not an error (see below)
	[ ! -e "$PUB/dangling.json" ]
	not grep -q "dangling" <<<"$output"
}

# During the kubelet's swap a removed key's link dangles between the rename
# of ..data and the removal of the link: that key is absent, not broken.
@test "a key whose link dangles is absent, not an error: its profile is removed" {
	fixtures_into "$P"
	run_once
	[ "$status" -eq 0 ]
	assert_published audit "$FIXTURES/audit.json"
	mv "$P/audit.json" "$T/audit.json"
	ln -s ..data/audit.json "$P/audit.json"
	run_once --log-level debug
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$PUB/audit.json" ]
	grep -q "seccomp profile removed profile=audit" <<<"$output"
	grep -q "debug entry vanished or its link dangles; taken as absent file=$P/audit.json" <<<"$output"
	not grep -q "rejected" <<<"$output"
}

@test "a symlink inside the folder to another file in it is followed" {
	need_fixtures
	cp "$FIXTURES/audit.json" "$P/real.json"
	ln -s real.json "$P/alias.json"
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	assert_published alias "$FIXTURES/audit.json"
	[ ! -L "$PUB/alias.json" ]
}

@test "a kubelet ConfigMap folder is published through its ..data links" {
	need_fixtures
	kw "$P" "$FIXTURES"
	run_once
	echo "$output"
	[ "$status" -eq 0 ]
	for f in audit fine-grained violation; do assert_published "$f" "$FIXTURES/$f.json"; done
	[ "$(ls -A "$PUB" | wc -l)" -eq 3 ]
	[[ "$output" != *"..data"* ]]
}
