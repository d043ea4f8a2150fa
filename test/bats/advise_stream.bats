#!/usr/bin/env bats
# `profiled advise` reading a stream: memory stays bounded whatever the line
# length, and SIGTERM/SIGINT end the input instead of killing the command.

bats_require_minimum_version 1.5.0
load helpers

SEEDS=$REPO/test/fuzz/corpus/fuzz_audit
RECORD='audit: type=1326 audit(1700000000.123:42): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=4242 comm="sh" exe="/bin/sh" sig=0 arch=c000003e syscall=83 compat=0 ip=0x7f0 code=0x7ffc0000'

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# stream_advise MIB: runs `profiled advise -` on a MIB MiB line of "a" with
# a real record before and after it; prints "rc maxrss_kib" on the last
# line (ru_maxrss of the child: its peak resident size).
stream_advise() {
	python3 - "$PROFILED" "$1" "$RECORD" "$T" <<'PY'
import os, resource, subprocess, sys
prof, mib, record, t = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
p = subprocess.Popen([prof, "advise", "-"], stdin=subprocess.PIPE,
                     stdout=open(t + "/out", "wb"), stderr=open(t + "/err", "wb"))
chunk = b"a" * (1 << 20)
try:
    p.stdin.write(record.encode() + b"\n")
    for _ in range(mib):
        p.stdin.write(chunk)
    p.stdin.write(b"\n" + record.replace("syscall=83", "syscall=84").encode() + b"\n")
    p.stdin.close()
except BrokenPipeError:
    pass
rc = p.wait()
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

@test "advise -: a 200 MiB line is skipped while it is read; peak memory stays under 64 MiB" {
	run stream_advise 200
	echo "$output"
	cat "$T/err"
	read -r rc kib <<<"${lines[-1]}"
	echo "# advise - with a 200 MiB line: peak RSS ${kib} KiB" >&3
	[ "$rc" -eq 0 ]
	[ "$kib" -lt $((64 * 1024)) ]
	# The records on both sides of it are used; the long line is reported.
	grep -q '"mkdir"' "$T/out"
	grep -q '"rmdir"' "$T/out"
	grep -q '1 lines longer than 65536 bytes were skipped' "$T/err"
}

@test "advise -: a line of exactly 64 KiB is still read; one byte more is skipped" {
	pad() { head -c "$1" /dev/zero | tr '\0' ' '; }
	{ printf '%s' "$RECORD"; pad $((65536 - ${#RECORD})); echo; } >"$T/max.log"
	run --separate-stderr "$PROFILED" advise - <"$T/max.log"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"mkdir"'* ]]
	{ printf '%s' "$RECORD"; pad $((65537 - ${#RECORD})); echo; } >"$T/over.log"
	run --separate-stderr "$PROFILED" advise - <"$T/over.log"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"1 lines longer than 65536 bytes were skipped"* ]]
}

# signal_advise SIG: `profiled advise -` on a pipe that stays open; once it
# has read one record, SIG; prints its exit status.
signal_advise() {
	python3 - "$PROFILED" "$1" "$RECORD" "$T" <<'PY'
import array, fcntl, signal, subprocess, sys, termios, time
prof, sig, record, t = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
p = subprocess.Popen([prof, "advise", "-"], stdin=subprocess.PIPE,
                     stdout=open(t + "/out." + sig, "wb"), stderr=open(t + "/err." + sig, "wb"))
p.stdin.write(record.encode() + b"\n")
p.stdin.flush()
buf = array.array("i", [1])
deadline = time.monotonic() + 10
while buf[0] > 0 and time.monotonic() < deadline:  # until advise has read it
    fcntl.ioctl(p.stdin.fileno(), termios.FIONREAD, buf)
    time.sleep(0.01)
p.send_signal(getattr(signal, "SIG" + sig))
print(p.wait())
PY
}

@test "advise -: SIGTERM and SIGINT end the input; the advice is made from what was read" {
	for sig in TERM INT; do
		run signal_advise "$sig"
		cat "$T/err.$sig"
		echo "SIG$sig: exit $output"
		[ "$output" = 0 ]
		grep -q '"mkdir"' "$T/out.$sig"
	done
}
