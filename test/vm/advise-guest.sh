# Runs inside the test VM (run.sh): `profiled advise` on the kernel's own
# seccomp records.  A container (runc, static busybox) runs under a
# defaultAction SCMP_ACT_LOG profile four times while `profiled advise` follows
# /dev/kmsg; the profile it writes (defaultAction SCMP_ACT_ERRNO) then runs
# the same container, which must succeed, while the same container making
# one more syscall (mkdir, with EXTRA=1) must get EPERM for it.
# Needs: profiled and runc on PATH (the image's profiled or the host's
# build, runc from the host), /adv/{config-head.json,
# config-tail.json,log.json}.
n_fail=0
n_ok=0
ok() { echo "ok - $*"; n_ok=$((n_ok + 1)); }
notok() { echo "not ok - $*"; n_fail=$((n_fail + 1)); }
# busybox sh runs its applets as /proc/self/exe: their comm is "exe".
COMMS="--comm runc:[2:INIT] --comm sh --comm exe --comm cat --comm mkdir"

# Without auditd the kernel prints audit records through printk, which
# drops them past printk_ratelimit: no limit for this test.
echo 0 >/proc/sys/kernel/printk_ratelimit
if grep -qw log /proc/sys/kernel/seccomp/actions_logged; then
	ok "kernel.seccomp.actions_logged includes log"
else
	notok "kernel.seccomp.actions_logged lacks log: $(cat /proc/sys/kernel/seccomp/actions_logged)"
fi

mkdir -p /bundle/rootfs/bin /bundle/rootfs/proc /bundle/rootfs/dev /bundle/rootfs/tmp
bb=/test/bin/busybox # the image userspace keeps busybox apart
[ -x "$bb" ] || bb=/usr/bin/busybox
cp "$bb" /bundle/rootfs/bin/busybox
for a in sh cat echo mkdir; do ln -s busybox "/bundle/rootfs/bin/$a"; done

# container NAME SECCOMP_JSON EXTRA: output in $out, exit status in $st
container() {
	{
		sed -e "s/@EXTRA@/$3/" -e "s/@CID@/$1/" /adv/config-head.json
		cat "$2"
		cat /adv/config-tail.json
	} >/bundle/config.json
	st=0
	out=$(cd /bundle && timeout 60 runc --root /run/runc run --no-pivot "$1" 2>&1) || st=$?
	echo "$out" | sed "s/^/#   $1: /"
}

profiled advise $COMMS --seccomp-out /tmp/live.json /dev/kmsg 2>/tmp/live.err &
follower=$!
sleep 1
# Four learning runs, not two: runc's init is a Go program, and whether its
# runtime makes a futex call after it installs the filter depends on thread
# timing; two runs once learned no futex, and a third container under the
# profile died in runc's init (docs/advise.md: learn over several runs).
for i in 1 2 3 4; do
	container "learn$i" /adv/log.json 0
	if [ "$st" = 0 ] && echo "$out" | grep -qx done && echo "$out" | grep -qx read-ok; then
		ok "learning run $i under SCMP_ACT_LOG: exit 0"
	else
		notok "learning run $i under SCMP_ACT_LOG: exit $st"
	fi
done
sleep 1
kill -INT "$follower"
st=0
wait "$follower" || st=$?
sed 's/^/#   advise: /' /tmp/live.err
if [ "$st" = 0 ] && grep -q '"defaultAction": "SCMP_ACT_ERRNO"' /tmp/live.json; then
	ok "profiled advise following /dev/kmsg stops at SIGINT, exit 0, writes an SCMP_ACT_ERRNO profile"
else
	notok "profiled advise following /dev/kmsg: exit $st"
fi
n=$(grep -c '^        "' /tmp/live.json)
echo "# the profile allows $n syscalls"
sed 's/^/#   /' /tmp/live.json | tr '\n' ' ' | sed 's/  */ /g'
echo
if grep -q '"execve"' /tmp/live.json && grep -q '"SCMP_ARCH_X86_64"' /tmp/live.json &&
	! grep -q '"mkdir' /tmp/live.json; then
	ok "the profile names execve and SCMP_ARCH_X86_64, and no mkdir (not made)"
else
	notok "the profile lacks execve or SCMP_ARCH_X86_64, or names mkdir"
fi
out=$(profiled check /tmp/live.json 2>&1)
if echo "$out" | grep -q ': ok (seccomp: live)'; then
	ok "profiled check accepts the profile"
else
	notok "profiled check: $out"
fi

dmesg | grep 'type=1326' | sed -n 's/.* comm=\("[^"]*"\|[^ ]*\) .*/\1/p' | sort | uniq -c |
	sed 's/^ */# seccomp records by comm: /'

# The same records from a dmesg dump give the same profile; --pid keeps
# exactly the records of that pid.
dmesg >/tmp/dmesg.txt
profiled advise $COMMS /tmp/dmesg.txt >/tmp/file.json 2>/tmp/file.err
if cmp -s /tmp/live.json /tmp/file.json; then
	ok "advise on a dmesg dump gives the same profile as following /dev/kmsg"
else
	notok "advise on a dmesg dump differs from /dev/kmsg: $(diff /tmp/live.json /tmp/file.json | tr '\n' ' ')"
fi
pid=$(grep -m1 'type=1326.*comm="runc:\[2:INIT\]"' /tmp/dmesg.txt | sed 's/.* pid=\([0-9]*\) .*/\1/')
grep "type=1326.* pid=$pid " /tmp/dmesg.txt >/tmp/onepid.txt
profiled advise /tmp/onepid.txt >/tmp/want.json 2>/dev/null
profiled advise --pid "$pid" /tmp/dmesg.txt >/tmp/pid.json 2>/dev/null
if [ -n "$pid" ] && [ -s /tmp/pid.json ] && cmp -s /tmp/want.json /tmp/pid.json &&
	! cmp -s /tmp/pid.json /tmp/file.json; then
	ok "--pid $pid keeps exactly that process's records"
else
	notok "--pid '$pid' does not select that process's records"
fi

container enforce /tmp/live.json 0
if [ "$st" = 0 ] && echo "$out" | grep -qx hello && echo "$out" | grep -qx read-ok && echo "$out" | grep -qx done; then
	ok "the same container under the generated profile (SCMP_ACT_ERRNO default): exit 0, all output"
else
	notok "the same container under the generated profile: exit $st"
fi
container extra /tmp/live.json 1
if echo "$out" | grep -q "can't create directory '/tmp/x': Operation not permitted" && ! echo "$out" | grep -qx mkdir-ok &&
	echo "$out" | grep -qx done; then
	ok "one more syscall (mkdir) under the generated profile: EPERM"
else
	notok "one more syscall (mkdir) under the generated profile was not denied (exit $st)"
fi
container control /adv/log.json 1
if echo "$out" | grep -qx mkdir-ok; then
	ok "control: the same mkdir under SCMP_ACT_LOG succeeds"
else
	notok "control: mkdir under SCMP_ACT_LOG failed (exit $st)"
fi

# AppArmor: a complain-mode profile learns what a program does; the rules
# advise suggests, loaded in enforce mode, let the same program run, and a
# write it did not make while learning is denied.
cat >/etc/apparmor.d/advise-demo <<'AA'
abi <abi/3.0>,
profile advise-demo flags=(complain) {
}
AA
mkdir -p /srv/demo
echo data >/srv/demo/in
# demo EXTRA: runs the program confined by advise-demo
demo() {
	st=0
	out=$( (echo "exec advise-demo" >/proc/self/attr/exec &&
		exec /bin/sh -c 'cat /srv/demo/in >/srv/demo/out && echo copied; if [ "$1" = 1 ]; then echo x >/srv/demo/extra && echo extra-ok; fi; echo done' demo "$1") 2>&1) || st=$?
	echo "$out" | sed "s/^/#   demo: /"
}
st=0
out=$(apparmor_parser -r /etc/apparmor.d/advise-demo 2>&1) || st=$?
if [ "$st" = 0 ] && grep -qx 'advise-demo (complain)' /sys/kernel/security/apparmor/profiles; then
	ok "advise-demo loaded in complain mode"
else
	notok "apparmor_parser -r advise-demo (complain): exit $st: $out"
fi
demo 0
demo 0
dmesg | grep 'apparmor="ALLOWED"' >/tmp/aa.log
echo "# $(wc -l </tmp/aa.log) ALLOWED records:"
sed "s/^/#   record: /" /tmp/aa.log
st=0
profiled advise --apparmor-out /tmp/advise-demo /tmp/aa.log 2>/tmp/aa.err || st=$?
sed 's/^/#   advise: /' /tmp/aa.err
sed 's/^/#   rules: /' /tmp/advise-demo
if [ "$st" = 0 ] && grep -q '^profile advise-demo {$' /tmp/advise-demo && grep -q '^  /srv/demo/out w' /tmp/advise-demo &&
	! grep -q extra /tmp/advise-demo; then
	ok "advise suggests a profile advise-demo with the file rules seen"
else
	notok "advise on the ALLOWED records: exit $st"
fi
st=0
out=$(apparmor_parser -r /tmp/advise-demo 2>&1) || st=$?
if [ "$st" = 0 ] && grep -qx 'advise-demo (enforce)' /sys/kernel/security/apparmor/profiles; then
	ok "the suggested profile loads in enforce mode"
else
	notok "apparmor_parser -r the suggested profile: exit $st: $out"
fi
rm -f /srv/demo/out
demo 0
if [ "$st" = 0 ] && echo "$out" | grep -qx copied && echo "$out" | grep -qx done && [ -s /srv/demo/out ]; then
	ok "the program runs under the suggested profile in enforce mode"
else
	notok "the program under the suggested profile (enforce): exit $st"
fi
demo 1
if echo "$out" | grep -q '/srv/demo/extra: Permission denied' && ! echo "$out" | grep -qx extra-ok; then
	ok "a write it did not make while learning is denied in enforce mode"
else
	notok "the extra write was not denied (exit $st)"
fi
echo "# guest: $n_ok ok, $n_fail not ok"
[ "$n_fail" = 0 ]
