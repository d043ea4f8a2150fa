#!/usr/bin/env bats
# `profiled advise`: audit records in, a seccomp profile and AppArmor rules
# out.  The records are real lines (test/fuzz/corpus/fuzz_audit: the test
# VM's dmesg, syslog, audit.log, journald, ausearch -i); every profile made
# here is checked with `profiled check` (libseccomp, apparmor_parser).
# The kernel's own records are in test/vm/advise.sh.

bats_require_minimum_version 1.5.0
load helpers

SEEDS=$REPO/test/fuzz/corpus/fuzz_audit

setup() {
	common_setup
	cat "$SEEDS"/*.log >"$T/all.log"
}

teardown() {
	common_teardown
}

@test "advise: usage errors exit 2 with a message" {
	for args in "" "--pid 0 $T/all.log" "--pid x $T/all.log" "--comm 0123456789abcdef $T/all.log" \
		"--duration 0 $T/all.log" "--bogus $T/all.log" "$T/all.log $T/all.log"; do
		run --separate-stderr "$PROFILED" advise $args
		echo "args: $args stderr: $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[[ "$stderr" == profiled:* ]]
	done
}

@test "advise: a mixed log gives a seccomp profile and AppArmor rules that profiled check accepts" {
	run --separate-stderr "$PROFILED" advise --seccomp-out "$T/s.json" --apparmor-out "$T/aa" "$T/all.log"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"seccomp and"*"AppArmor records used"* ]]
	grep -q '"defaultAction": "SCMP_ACT_ERRNO"' "$T/s.json"
	grep -q '"SCMP_ARCH_AARCH64"' "$T/s.json"
	grep -q '"msync"' "$T/s.json"
	grep -q '^profile /usr/sbin/smbd {$' "$T/aa"
	grep -qx '  /run/samba/msg.lock/8892 w,' "$T/aa"
	run "$PROFILED" check "$T/s.json" "$T/aa"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"s.json: ok (seccomp: s)"* ]]
	[[ "$output" == *"aa: ok (apparmor: "*"/usr/sbin/smbd"* ]]
}

@test "advise: stdin (-) gives the same as the file; both kinds on stdout" {
	run --separate-stderr "$PROFILED" advise "$T/all.log"
	[ "$status" -eq 0 ]
	file_out=$output
	run --separate-stderr "$PROFILED" advise - <"$T/all.log"
	[ "$status" -eq 0 ]
	[ "$output" = "$file_out" ]
	[[ "$output" == "{"*'"syscalls"'*"abi <abi/3.0>,"*"profile "* ]]
}

@test "advise: --pid and --comm keep only the matching records" {
	run --separate-stderr "$PROFILED" advise --pid 122 "$T/all.log"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"clock_gettime"'* ]]
	[[ "$output" != *'"msync"'* ]]
	[[ "$output" != *"profile "* ]]
	run --separate-stderr "$PROFILED" advise --comm smbd --comm hello "$T/all.log"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "abi <abi/3.0>,"* ]]
	[[ "$output" == *"profile /usr/sbin/smbd {"* ]]
	[[ "$output" == *"profile /home/cb/linuxtag/apparmor/scripts/hello {"* ]]
	[[ "$output" != *"libreoffice"* ]]
	run --separate-stderr "$PROFILED" advise --pid 123456789 "$T/all.log"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"no seccomp or AppArmor record matched"* ]]
}

@test "advise: --cgroup keeps the records of the processes in that cgroup" {
	cg=$(sed -n 's/^0::\///p' /proc/self/cgroup)
	if [ -z "$cg" ] || [ ! -e "/sys/fs/cgroup/$cg/cgroup.procs" ]; then
		cg=$(sed -n 's/^[0-9]*:memory:\//memory\//p' /proc/self/cgroup)
	fi
	[ -n "$cg" ] && grep -qx "$$" "/sys/fs/cgroup/$cg/cgroup.procs" 2>/dev/null ||
		skip "no cgroup folder under /sys/fs/cgroup lists this shell's pid ($(tr '\n' ' ' </proc/self/cgroup))"
	{
		echo "audit: type=1326 audit(1.0:1): pid=$$ comm=\"bats\" arch=c000003e syscall=0 code=0x7ffc0000"
		echo "audit: type=1326 audit(1.0:2): pid=2147483 comm=\"other\" arch=c000003e syscall=1 code=0x7ffc0000"
	} >"$T/cg.log"
	run --separate-stderr "$PROFILED" advise --cgroup "$cg" "$T/cg.log"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"read"'* ]]
	[[ "$output" != *'"write"'* ]]
	run --separate-stderr "$PROFILED" advise --cgroup "no/such/cgroup-$$" "$T/cg.log"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--cgroup /sys/fs/cgroup/no/such/cgroup-$$"* ]]
}

@test "advise: following /dev/kmsg ends at --duration and at SIGTERM" {
	[ -r /dev/kmsg ] && timeout 1 dd if=/dev/kmsg of=/dev/null bs=8192 count=1 2>/dev/null ||
		skip "/dev/kmsg cannot be read here"
	run --separate-stderr timeout 10 "$PROFILED" advise --duration 1s --comm no-such-comm /dev/kmsg
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no seccomp or AppArmor record matched"* ]]
	"$PROFILED" advise --comm no-such-comm /dev/kmsg 2>"$T/err" &
	pid=$!
	sleep 0.5
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	cat "$T/err"
	[ "$rc" -eq 1 ]
}

@test "advise: an unwritable output is an error (exit 2)" {
	run --separate-stderr "$PROFILED" advise --seccomp-out "$T/no/such/dir/s.json" "$T/all.log"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"writing $T/no/such/dir/s.json"* ]]
}
