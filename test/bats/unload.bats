#!/usr/bin/env bats
# --unload-removed unloads a removed AppArmor profile only when no process
# runs under it.  The kernel is played as in apparmor.bats (a stand-in
# apparmorfs folder: the real libapparmor writes names into $FS/.remove);
# the node's processes are a folder laid out like /proc (--proc-root, a flag
# for tests): PID/comm and PID/attr/apparmor/current, and self/ns/pid, the
# link whose "pid:[INODE]" says whose processes the agent sees.  The real
# kernel is tested in test/vm/unload.sh.

bats_require_minimum_version 1.5.0
load helpers

HOST_PIDNS='pid:[4026531836]'

setup() {
	common_setup
	apparmorfs_setup
	PROC=$T/proc
	mkdir -p "$PROC/self/ns"
	ln -s "$HOST_PIDNS" "$PROC/self/ns/pid"
}

teardown() {
	common_teardown
}

# fake_process PID COMM LABEL: a process of the stand-in proc folder.
fake_process() {
	mkdir -p "$PROC/$1/attr/apparmor"
	printf '%s\n' "$2" >"$PROC/$1/comm"
	printf '%s\n' "$3" >"$PROC/$1/attr/apparmor/current"
}

aa_once() {
	run_once --apparmorfs "$FS" --apparmor-parser "$WRAPPER" --proc-root "$PROC" "$@"
}

# Loads pd-c and pd-d and makes the stand-in kernel list them.
load_c_and_d() {
	printf 'profile pd-c { file, }\n' >"$P/c"
	printf 'profile pd-d { file, }\n' >"$P/d"
	aa_once
	[ "$status" -eq 1 ] # not confirmed: the stand-in kernel lists nothing yet
	kernel_has pd-c enforce pd-d enforce
	aa_once
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'label=apparmor.profiled.io/pd-c value=true' <<<"$output"
}

@test "--once --unload-removed: a profile a process runs under stays loaded and loses its label; the others are unloaded" {
	load_c_and_d
	fake_process 4242 sleep 'pd-c (enforce)'
	fake_process 4243 bash 'pd-other//&pd-c//some-hat (complain)'
	fake_process 1 init unconfined
	fake_process 77 other ':ns:pd-d (enforce)' # another namespace's pd-d: not a use
	rm "$P/c" "$P/d"
	aa_once --unload-removed
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'apparmor profile left the profiles folders but is in use; not unloaded, tried again profile=pd-c processes=2 holders="pid 4242 (sleep), pid 4243 (bash)"' <<<"$output"
	grep -q 'apparmor profile unloaded profile=pd-d' <<<"$output"
	not grep -q 'apparmor profile unloaded profile=pd-c' <<<"$output"
	[ "$(tr -d '\0\n' <"$FS/.remove")" = pd-d ]
	not grep -q 'label=apparmor.profiled.io/pd-c value=true' <<<"$output"
	# still owned, retired
	python3 -c '
import json, sys
aa = json.load(open(sys.argv[1]))["apparmor"]
assert [e["name"] for e in aa] == ["pd-c"], aa
assert aa[0].get("source") is None, aa' "$S/state.json"
	# the file comes back while held: wanted and labeled again, not unloaded
	printf 'profile pd-c { file, }\n' >"$P/c"
	: >"$FS/.remove"
	aa_once --unload-removed
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'label=apparmor.profiled.io/pd-c value=true' <<<"$output"
	not grep -q 'in use' <<<"$output"
	[ ! -s "$FS/.remove" ]
}

@test "the daemon holds a profile in use, says who holds it once (event and log), and unloads it at the retry after the process ends" {
	load_c_and_d
	api_start
	fake_process 4242 sleep 'pd-c (enforce)'
	start_daemon --apparmorfs "$FS" --apparmor-parser "$WRAPPER" --proc-root "$PROC" \
		--unload-removed --unload-retry-interval 1s --kubeconfig "$KC" --log-level debug
	grep -q 'unloaded once no process runs under it' "$LOG"
	rm "$P/c"
	wait_for_log 'in use; not unloaded.*profile=pd-c processes=1 holders="pid 4242 \(sleep\)"' 5
	# the label goes; nothing is written to .remove
	wait_until 10 sh -c "! curl -s $CTL/control/nodes/node-1 | grep -q 'apparmor.profiled.io/pd-c'"
	[ ! -s "$FS/.remove" ]
	wait_until 10 sh -c "curl -s $CTL/control/events | grep -q ProfileInUse"
	curl -s "$CTL/control/events" | python3 -c '
import json, sys
es = [e for e in json.load(sys.stdin) if e["reason"] == "ProfileInUse"]
assert len(es) == 1, es
e = es[0]
assert e["type"] == "Warning" and e["involvedObject"]["kind"] == "Node", e
assert "pd-c" in e["message"] and "pid 4242 (sleep)" in e["message"], e'
	# two retries later: still held, still one warning, still one event,
	# and no API request at all for the retries
	n0=$(curl -s "$CTL/control/requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	k=$(count_log 'still in use; not unloaded profile=pd-c')
	wait_for_log 'still in use; not unloaded profile=pd-c' 5 $((k + 2))
	n1=$(curl -s "$CTL/control/requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	echo "# API requests during two retries: $((n1 - n0)) (before: $n0)" >&3
	[ "$n0" -gt 0 ]
	[ "$n1" -eq "$n0" ]
	[ ! -s "$FS/.remove" ]
	[ "$(count_log 'in use; not unloaded, tried again')" -eq 1 ]
	# another process under it: logged at debug, no new warning or event
	# (holders that come and go do not make an event per retry)
	fake_process 4300 cron 'pd-c//child (enforce)'
	wait_for_log 'still in use; not unloaded profile=pd-c processes=2 holders="pid 4242 \(sleep\), pid 4300 \(cron\)"' 5
	[ "$(count_log 'in use; not unloaded, tried again')" -eq 1 ]
	rm -rf "${PROC:?}/4300"
	# the process ends: unloaded at the next retry
	rm -rf "${PROC:?}/4242"
	wait_for_log 'apparmor profile unloaded profile=pd-c' 5
	[ "$(tr -d '\0\n' <"$FS/.remove")" = pd-c ]
	grep -q 'reconciled trigger=unload-retry' "$LOG"
	wait_until 10 sh -c "curl -s $CTL/control/events | grep -q ProfileUnloaded"
	[ "$(curl -s "$CTL/control/events" | grep -o ProfileInUse | wc -l)" -eq 1 ]
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
	python3 -c 'import json,sys; assert [e["name"] for e in json.load(open(sys.argv[1]))["apparmor"]] == ["pd-d"]' "$S/state.json"
}

@test "--unload-removed without the node's processes in view (no hostPID): refused once in the log, the profile is retired" {
	load_c_and_d
	rm "$PROC/self/ns/pid"
	ln -s 'pid:[4026532777]' "$PROC/self/ns/pid"
	rm "$P/c"
	aa_once --unload-removed
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c -- '--unload-removed is not honoured' <<<"$output")" -eq 1 ]
	grep -q 'reason="the agent.s PID namespace is pid:\[4026532777\], not the node.s (pid:\[4026531836\]): the pod needs hostPID: true"' <<<"$output"
	grep -q 'apparmor profile left the profiles folders; still loaded .* profile=pd-c' <<<"$output"
	[ ! -s "$FS/.remove" ]
	not grep -q 'label=apparmor.profiled.io/pd-c value=true' <<<"$output"
}

@test "a label that cannot be read keeps the profile loaded" {
	if [ "$(id -u)" -eq 0 ]; then
		# root reads a file whatever its mode: a folder stands in for
		# the unreadable label (read() fails with EISDIR)
		load_c_and_d
		mkdir -p "$PROC/500/attr/apparmor/current"
	else
		load_c_and_d
		fake_process 500 sh 'pd-c (enforce)'
		chmod 000 "$PROC/500/attr/apparmor/current"
	fi
	rm "$P/c"
	aa_once --unload-removed
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'in use; not unloaded.*profile=pd-c processes=0 holders="1 whose AppArmor label could not be read"' <<<"$output"
	[ ! -s "$FS/.remove" ]
}
