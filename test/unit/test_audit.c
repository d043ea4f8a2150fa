/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/audit.c and lib/advise.c over real record lines: the kernel's printk
 * form as the test VM's dmesg shows it (runc's own hex-encoded exe), the
 * syslog form of the security-profiles-operator and AppArmor bug reports,
 * auditd's audit.log form (plain and enriched), journald's `audit[PID]:`
 * form and `ausearch -i`.  The seccomp profile is checked by parsing and
 * compiling it with lib/seccomp (what `profiled check` does), and by
 * libseccomp's own name for each syscall number.
 */
#include "unit.h"

#include <seccomp.h>

#include "../../lib/advise.h"
#include "../../lib/audit.h"
#include "../../lib/seccomp.h"

/* From the test VM (Debian 6.1 kernel, runc 1.1 under SCMP_ACT_LOG). */
static const char vm_line[] =
	"[    7.971954] audit: type=1326 audit(1795939067.660:2): auid=4294967295 uid=0 gid=0 "
	"ses=4294967295 subj=unconfined pid=122 comm=\"runc:[2:INIT]\" "
	"exe=2F6D656D66643A72756E635F636C6F6E65643A2F70726F632F73656C662F657865202864656C6574656429 "
	"sig=0 arch=c000003e syscall=228 compat=0 ip=0x7ffe58b28a29 code=0x7ffc0000";
/* security-profiles-operator's test data: syslog and audit.log. */
static const char syslog_line[] =
	"Jul  8 10:31:23 ubuntu2004 kernel: [  270.853767] audit: type=1326 "
	"audit(1625740283.502:574): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=4709 comm=\"sh\" "
	"exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=13 compat=0 ip=0x7f3c012e467b "
	"code=0x7ffc0000";
static const char auditd_enriched[] =
	"type=SECCOMP msg=audit(1613596317.899:6461): auid=4294967295 uid=0 gid=0 ses=4294967295 "
	"subj=system_u:system_r:spc_t:s0:c284,c594 pid=2039886 comm=\"ls\" exe=\"/bin/ls\" sig=0 "
	"arch=c000003e syscall=3 compat=0 ip=0x7f62dce3d4c7 code=0x7ffc0000\x1d"
	"AUID=\"unset\" UID=\"root\" GID=\"root\" ARCH=x86_64 SYSCALL=close\n";
/* ChromeOS audit.log, aarch64. */
static const char aarch64_line[] =
	"type=SECCOMP msg=audit(1750922692.830:4911): auid=4294967295 uid=1000 gid=1001 "
	"ses=4294967295 subj=u:r:cros_disks:s0 pid=83658 comm=\"AsyncLocalStore\" "
	"exe=\"/opt/google/drive-file-stream/drivefs\" sig=31 arch=c00000b7 syscall=227 compat=0 "
	"ip=0x7d0767988c code=0x80000000";
/* `ausearch -i`: names instead of numbers. */
static const char ausearch_i[] =
	"type=SECCOMP msg=audit(08/05/2026 11:52:07.114:3319) : auid=unset uid=10001 gid=10001 "
	"ses=unset pid=52140 comm=sh exe=/bin/busybox sig=SIGSYS arch=x86_64 syscall=ptrace "
	"compat=0 ip=0x7f1a2b3c4d5e code=kill_process";
/* AppArmor bug 1399027 (openSUSE syslog). */
static const char aa_suse[] =
	"2014-06-09T20:37:28.975070+02:00 geeko kernel: [21028.143765] type=1400 "
	"audit(1402339048.973:1421): apparmor=\"ALLOWED\" operation=\"open\" "
	"profile=\"/home/cb/linuxtag/apparmor/scripts/hello\" name=\"/dev/tty\" pid=14335 "
	"comm=\"hello\" requested_mask=\"rw\" denied_mask=\"rw\" fsuid=1000 ouid=0";
/* Ubuntu kern.log, samba in complain mode. */
static const char aa_smbd_open[] =
	"Feb 14 09:24:26 phred kernel: [  923.700986] audit: type=1400 audit(1487093066.981:173): "
	"apparmor=\"ALLOWED\" operation=\"open\" profile=\"/usr/sbin/smbd\" "
	"name=\"/run/samba/msg.lock/8892\" pid=8892 comm=\"smbd\" requested_mask=\"wc\" "
	"denied_mask=\"wc\" fsuid=0 ouid=0";
static const char aa_smbd_trunc[] =
	"Feb 14 09:24:26 phred kernel: [  923.701022] audit: type=1400 audit(1487093066.981:174): "
	"apparmor=\"ALLOWED\" operation=\"truncate\" profile=\"/usr/sbin/smbd\" "
	"name=\"/run/samba/msg.lock/8892\" pid=8892 comm=\"smbd\" requested_mask=\"w\" "
	"denied_mask=\"w\" fsuid=0 ouid=0";
/* journald (syslog of systemd hosts). */
static const char aa_journal[] =
	"Sep 18 08:39:05 sodongo audit[29396]: AVC apparmor=\"ALLOWED\" operation=\"open\" "
	"profile=\"libreoffice-soffice\" name=\"/usr/share/zoneinfo-icu/44/le/zoneinfo64.res\" "
	"pid=29396 comm=\"soffice.bin\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=0";

static struct pd_audit_record
parse_ok(const char *line)
{
	struct pd_audit_record r;

	assert_int_equal(pd_audit_parse_line(line, strlen(line), &r), 1);
	return r;
}

static void
test_kmsg_hex_exe(void **state)
{
	struct pd_audit_record r = parse_ok(vm_line);
	uint64_t v;

	(void)state;
	assert_int_equal(r.kind, PD_AUDIT_SECCOMP);
	assert_string_equal(r.serial, "1795939067.660:2");
	assert_string_equal(pd_audit_get(&r, "comm"), "runc:[2:INIT]");
	assert_string_equal(pd_audit_get(&r, "exe"), "/memfd:runc_cloned:/proc/self/exe (deleted)");
	assert_true(pd_audit_get_u64(&r, "arch", 16, &v));
	assert_int_equal(v, 0xc000003e);
	assert_true(pd_audit_get_u64(&r, "syscall", 10, &v));
	assert_int_equal(v, 228);
	assert_true(pd_audit_get_u64(&r, "pid", 10, &v));
	assert_int_equal(v, 122);
	/* a hex-looking value of a key audit never encodes stays as it is */
	assert_string_equal(pd_audit_get(&r, "code"), "0x7ffc0000");
	pd_audit_record_clear(&r);
}

static void
test_formats(void **state)
{
	struct pd_audit_record r;

	(void)state;
	r = parse_ok(syslog_line);
	assert_int_equal(r.kind, PD_AUDIT_SECCOMP);
	assert_string_equal(pd_audit_get(&r, "exe"), "/bin/busybox");
	pd_audit_record_clear(&r);
	r = parse_ok(auditd_enriched);
	assert_int_equal(r.kind, PD_AUDIT_SECCOMP);
	assert_string_equal(pd_audit_get(&r, "code"), "0x7ffc0000");
	assert_null(pd_audit_get(&r, "SYSCALL")); /* the enriched part is not read */
	pd_audit_record_clear(&r);
	r = parse_ok(aa_journal);
	assert_int_equal(r.kind, PD_AUDIT_APPARMOR);
	assert_string_equal(r.serial, "");
	assert_string_equal(pd_audit_get(&r, "comm"), "soffice.bin");
	pd_audit_record_clear(&r);
	r = parse_ok(ausearch_i);
	assert_string_equal(pd_audit_get(&r, "syscall"), "ptrace");
	pd_audit_record_clear(&r);
	/* a D-Bus mediation record: the AppArmor fields inside msg='...' */
	r = parse_ok(
		"type=USER_AVC msg=audit(1592228203.331:116): pid=1043 uid=103 "
		"auid=4294967295 ses=4294967295 subj=unconfined msg='apparmor=\"DENIED\" "
		"operation=\"dbus_method_call\"  bus=\"system\" path=\"/org/freedesktop/DBus\" "
		"member=\"Hello\" mask=\"send\" label=\"snap.foo\" peer_label=\"unconfined\"  "
		"exe=\"/usr/bin/dbus-daemon\" sauid=103 hostname=? addr=? terminal=?'");
	assert_int_equal(r.kind, PD_AUDIT_APPARMOR);
	assert_string_equal(pd_audit_get(&r, "operation"), "dbus_method_call");
	assert_string_equal(pd_audit_get(&r, "label"), "snap.foo");
	pd_audit_record_clear(&r);
	/* /dev/kmsg's own prefix */
	r = parse_ok("6,1234,7971954,-;audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" "
		     "operation=\"open\" profile=\"p\" name=\"/x\" requested_mask=\"r\"");
	assert_int_equal(r.kind, PD_AUDIT_APPARMOR);
	pd_audit_record_clear(&r);
}

static void
test_not_records(void **state)
{
	static const char *const lines[] = {
		"",
		"hello world",
		"[    1.019948] audit: type=2000 audit(1795939059.056:1): state=initialized audit_enabled=0 res=1",
		"type=SYSCALL msg=audit(1.0:2): arch=c000003e syscall=2 success=no",
		"audit: type=1326 audit(1.0:2",
		"audit(1.2:3): apparmor=\"DENIED\"", /* no type */
		"type=1400 audit(1.2:3)",
	};
	struct pd_audit_record r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		assert_int_equal(pd_audit_parse_line(lines[i], strlen(lines[i]), &r), 0);
		assert_int_equal(r.n, 0);
	}
}

static void
test_unhex(void **state)
{
	char *s;

	(void)state;
	s = pd_audit_unhex("2F746D702F6120622F63", 20);
	assert_string_equal(s, "/tmp/a b/c");
	free(s);
	assert_null(pd_audit_unhex("2F7", 3));
	assert_null(pd_audit_unhex("zz", 2));
	assert_null(pd_audit_unhex("2F00", 4)); /* NUL inside */
	assert_null(pd_audit_unhex("", 0));
}

static char *
advise_lines(const char *const *lines, size_t n, bool seccomp, struct pd_strv *warnings)
{
	struct pd_advise *a = pd_advise_new();
	char *out;

	for (size_t i = 0; i < n; i++) {
		struct pd_audit_record r;

		if (pd_audit_parse_line(lines[i], strlen(lines[i]), &r) == 1)
			pd_advise_add(a, &r);
		pd_audit_record_clear(&r);
	}
	out = seccomp ? pd_advise_seccomp_json(a, warnings) : pd_advise_apparmor_rules(a, warnings);
	pd_advise_unref(a);
	return out;
}

static void
expect_seccomp_valid(const char *json)
{
	struct pd_seccomp_env env;
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;

	assert_int_equal(pd_seccomp_env_native(&env, &err), 0);
	if (pd_seccomp_validate(json, strlen(json), &env, &warnings, &err) < 0)
		fail_msg("%s\n%s", pd_error_msg(err), json);
	pd_strv_clear(&warnings);
}

static void
test_seccomp_profile(void **state)
{
	const char *const lines[] = { vm_line,	   syslog_line, auditd_enriched,
				      syslog_line, ausearch_i,	aa_suse };
	struct pd_strv warnings = { 0 };
	char *json = advise_lines(lines, ARRAY_SIZE(lines), true, &warnings);
	char *n228 = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, 228);
	char *want;

	(void)state;
	assert_non_null(json);
	assert_int_equal(warnings.n, 0);
	/* 228, 13, 3 and ptrace: names from libseccomp, sorted, once each */
	assert_string_equal(n228, "clock_gettime");
	want = unit_asprintf("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
			     "  \"architectures\": [\"SCMP_ARCH_X86_64\"],\n"
			     "  \"syscalls\": [\n    {\n      \"names\": [\n"
			     "        \"%s\",\n        \"close\",\n        \"ptrace\",\n"
			     "        \"rt_sigaction\"\n      ],\n"
			     "      \"action\": \"SCMP_ACT_ALLOW\"\n    }\n  ]\n}\n",
			     n228);
	assert_string_equal(json, want);
	expect_seccomp_valid(json);
	free(want);
	free(n228);
	free(json);
}

static void
test_seccomp_arches(void **state)
{
	const char *const lines[] = {
		aarch64_line,
		vm_line,
		"audit: type=1326 audit(1.0:9): pid=1 comm=\"x\" arch=40000003 syscall=4 code=0x7ffc0000",
		"audit: type=1326 audit(1.0:9): pid=1 comm=\"x\" arch=c000003e syscall=99999 code=0x7ffc0000",
		"audit: type=1326 audit(1.0:9): pid=1 comm=\"x\" arch=12345678 syscall=1 code=0x7ffc0000",
	};
	struct pd_strv warnings = { 0 };
	char *json = advise_lines(lines, ARRAY_SIZE(lines), true, &warnings);

	(void)state;
	assert_contains(json, "\"architectures\": [\"SCMP_ARCH_AARCH64\", \"SCMP_ARCH_X86\", "
			      "\"SCMP_ARCH_X86_64\"]");
	assert_contains(json, "\"msync\""); /* 227 on aarch64 */
	assert_contains(json, "\"write\""); /* 4 on i386 */
	assert_contains(json, "\"clock_gettime\"");
	assert_int_equal(warnings.n, 2);
	assert_contains(warnings.v[0], "syscall 99999 has no name on SCMP_ARCH_X86_64");
	assert_contains(warnings.v[1], "audit arch 12345678 is unknown");
	pd_strv_clear(&warnings);
	free(json);
}

static void
test_apparmor_rules(void **state)
{
	const char *const lines[] = {
		aa_suse,
		aa_smbd_open,
		aa_smbd_trunc,
		aa_journal,
		"audit: type=1400 audit(1565011355.736:60): apparmor=\"ALLOWED\" operation=\"capable\" "
		"profile=\"/usr/sbin/smbd\" pid=1173 comm=\"smbd\" capability=12  capname=\"net_admin\"",
		"audit: type=1400 audit(1.0:61): apparmor=\"ALLOWED\" operation=\"create\" "
		"profile=\"/usr/sbin/smbd\" pid=1 comm=\"smbd\" family=\"inet6\" sock_type=\"dgram\" "
		"protocol=17 requested_mask=\"create\" denied_mask=\"create\"",
		"audit: type=1400 audit(1.0:62): apparmor=\"ALLOWED\" operation=\"signal\" "
		"profile=\"/usr/sbin/smbd\" pid=1 comm=\"smbd\" requested_mask=\"send\" "
		"denied_mask=\"send\" signal=term peer=\"unconfined\"",
		"audit: type=1400 audit(1.0:63): apparmor=\"ALLOWED\" operation=\"ptrace\" "
		"profile=\"/usr/sbin/smbd\" pid=1 comm=\"ps\" requested_mask=\"read\" "
		"denied_mask=\"read\" peer=\"unconfined\"",
		"audit: type=1400 audit(1.0:64): apparmor=\"ALLOWED\" operation=\"mount\" "
		"info=\"failed flags match\" error=-13 profile=\"/usr/sbin/smbd\" name=\"/run/\" pid=1 "
		"comm=\"mount\" fstype=\"tmpfs\" srcname=\"tmpfs\" flags=\"rw, nosuid, noexec\"",
		"audit: type=1400 audit(1.0:65): apparmor=\"ALLOWED\" operation=\"exec\" "
		"profile=\"/usr/sbin/smbd\" name=\"/usr/bin/id\" pid=1 comm=\"smbd\" "
		"requested_mask=\"x\" denied_mask=\"x\" fsuid=0 ouid=0 target=\"/usr/sbin/smbd//null-/usr/bin/id\"",
		"audit: type=1400 audit(1.0:66): apparmor=\"ALLOWED\" operation=\"file_mmap\" "
		"profile=\"/usr/sbin/smbd\" name=\"/usr/bin/id\" pid=1 comm=\"smbd\" "
		"requested_mask=\"mr\" denied_mask=\"mr\" fsuid=0 ouid=0",
		/* audit hex-encodes a name with a space, and a profile too */
		"audit: type=1400 audit(1.0:67): apparmor=\"DENIED\" operation=\"mknod\" "
		"profile=6B3873206170702A name=2F746D702F6120622F63 pid=1 comm=\"sh\" "
		"requested_mask=\"c\" denied_mask=\"c\" fsuid=0 ouid=0",
		"audit: type=1400 audit(1.0:68): apparmor=\"STATUS\" operation=\"profile_load\" "
		"profile=\"unconfined\" name=\"/usr/sbin/smbd\" pid=98 comm=\"apparmor_parser\"",
		"audit: type=1400 audit(1.0:69): apparmor=\"ALLOWED\" operation=\"change_hat\" "
		"profile=\"/usr/sbin/smbd\" pid=1 comm=\"smbd\" info=\"unconfined\"",
		/* from the test VM: what a program exec'd in complain mode did
		 * (the learning child //null-) goes to the parent */
		"[   20.914629] audit: type=1400 audit(1795939541.580:300): apparmor=\"ALLOWED\" "
		"operation=\"open\" profile=\"advise-demo//null-/usr/bin/busybox\" name=\"/srv/demo/in\" "
		"pid=294 comm=\"cat\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0",
	};
	struct pd_strv warnings = { 0 };
	char *rules = advise_lines(lines, ARRAY_SIZE(lines), false, &warnings);

	(void)state;
	assert_non_null(rules);
	assert_string_equal(
		rules,
		"abi <abi/3.0>,\ninclude <tunables/global>\n"
		"\nprofile /home/cb/linuxtag/apparmor/scripts/hello {\n  /dev/tty rw,\n}\n"
		"\nprofile /usr/sbin/smbd {\n"
		"  capability net_admin,\n"
		"  mount options=(rw,nosuid,noexec) fstype=tmpfs tmpfs -> /run/,\n"
		"  network inet6 dgram,\n"
		"  ptrace (read) peer=unconfined,\n"
		"  signal (send) set=(term) peer=unconfined,\n"
		"  /run/samba/msg.lock/8892 w,\n"
		"  /usr/bin/id mrix,\n"
		"  # no rule for operation=change_hat\n"
		"}\n"
		"\nprofile libreoffice-soffice {\n  /usr/share/zoneinfo-icu/44/le/zoneinfo64.res r,\n}\n"
		"\nprofile \"k8s app*\" {\n  \"/tmp/a b/c\" w,\n}\n"
		"\nprofile advise-demo {\n  /srv/demo/in r,\n}\n");
	assert_int_equal(warnings.n, 1);
	assert_contains(warnings.v[0], "no rule for operation=change_hat");
	pd_strv_clear(&warnings);
	free(rules);
}

static void
test_nothing(void **state)
{
	struct pd_advise *a = pd_advise_new();
	struct pd_strv warnings = { 0 };

	(void)state;
	assert_null(pd_advise_seccomp_json(a, &warnings));
	assert_null(pd_advise_apparmor_rules(a, &warnings));
	assert_int_equal(pd_advise_seccomp_records(a), 0);
	pd_advise_unref(a);
	pd_advise_unref(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmsg_hex_exe),	cmocka_unit_test(test_formats),
		cmocka_unit_test(test_not_records),	cmocka_unit_test(test_unhex),
		cmocka_unit_test(test_seccomp_profile), cmocka_unit_test(test_seccomp_arches),
		cmocka_unit_test(test_apparmor_rules),	cmocka_unit_test(test_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
