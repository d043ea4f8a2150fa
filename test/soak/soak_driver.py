#!/usr/bin/env python3
"""Soak driver for profiled (used by soak.sh; not meant to be run alone).

  soak_driver.py PID TARGET PUBLISHED STATE_JSON LOG SECONDS RATE SEED [APPARMORFS]

Performs kubelet atomic swaps of TARGET (test/tools/kubelet_writer.py) for
SECONDS seconds at RATE swaps per second with random seccomp profiles (about
one file in five invalid) and, with APPARMORFS, random AppArmor profiles
(some that the real parser rejects).  It samples the daemon's VmRSS and
open-fd count every half second, then makes one last swap whose every file
is valid, waits (30 s at most) for the daemon to settle and checks the end
state and the resource series.  Prints TAP-ish `ok`/`not ok` lines and
`# ...` figures; the exit status is the number of failed checks (capped).

APPARMORFS is the folder standing in for the kernel's apparmorfs (as in
test/bats/apparmor.bats); this driver plays the kernel: it reads what the
daemon writes to .replace and .remove and keeps `profiles` listing what is
loaded.
"""

import hashlib
import json
import os
import random
import re
import stat
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import kubelet_writer  # noqa: E402

NAMES = ["p%d" % i for i in range(10)]          # the pool: files come and go
DEFAULT_ACTIONS = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_LOG",
                   "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
                   "SCMP_ACT_KILL_THREAD"]
RULE_ACTIONS = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_LOG", "SCMP_ACT_TRAP",
                "SCMP_ACT_KILL_PROCESS"]
SYSCALLS = ["read", "write", "openat", "close", "mkdir", "rmdir", "unlink",
            "chmod", "chown", "mount", "umount2", "ptrace", "kexec_load",
            "reboot", "socket", "connect", "bind", "listen", "accept4",
            "clone", "execve", "futex", "nanosleep", "getpid", "setuid"]

RESULTS = []


def check(ok, desc, detail=None):
    RESULTS.append(bool(ok))
    print("%s %s" % ("ok" if ok else "not ok", desc), flush=True)
    if not ok and detail:
        for line in str(detail).splitlines():
            print("#   " + line, flush=True)


def valid_profile(rng, serial):
    da = rng.choice(DEFAULT_ACTIONS)
    prof = {"defaultAction": da}
    if rng.random() < 0.85:
        rules = []
        for _ in range(rng.randint(1, 4)):
            act = rng.choice([a for a in RULE_ACTIONS if a != da])
            rule = {"names": rng.sample(SYSCALLS, rng.randint(1, 6)), "action": act}
            if act == "SCMP_ACT_ERRNO" and rng.random() < 0.5:
                rule["errnoRet"] = rng.randint(1, 100)
            rules.append(rule)
        prof["syscalls"] = rules
    if rng.random() < 0.3:
        prof["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    # a serial number makes nearly every version distinct
    prof["comment"] = "soak %d" % serial
    indent = rng.choice([None, 2, "\t"])
    return (json.dumps(prof, indent=indent) + "\n").encode()


def invalid_profile(rng, serial):
    if rng.random() < 0.5:
        return ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ /* %d' % serial).encode()
    return ('{"defaultAction":"SCMP_ACT_BOGUS%d","syscalls":[]}\n' % serial).encode()


AA_NAMES = ["pd-soak-%s" % c for c in "abcd"]     # one profile per file
AA_RULES = ["file,", "deny /etc/** w,", "deny /tmp/** w,", "capability net_bind_service,",
            "network inet stream,", "deny /proc/** w,", "/usr/bin/** rix,"]


def aa_file_name(name):
    return "aa-" + name[len("pd-soak-"):]


def valid_apparmor(rng, name):
    # few distinct versions, so the daemon's cache is used as well as the parser
    rules = rng.sample(AA_RULES, rng.randint(1, 3))
    return ("# soak\nprofile %s {\n  %s\n}\n" % (name, "\n  ".join(rules))).encode()


def invalid_apparmor(rng, name):
    if rng.random() < 0.5:
        return ("profile %s {\n  file,\n  broken rule here\n}\n" % name).encode()
    return ("profile %s {\n  file,\n" % name).encode()   # unterminated


class Kernel(threading.Thread):
    """Plays the kernel behind the stand-in apparmorfs: consumes .replace
    (compiled policy: the pool names it holds are loaded) and .remove (names
    unloaded), and rewrites `profiles` atomically."""

    def __init__(self, fs):
        super().__init__(daemon=True)
        self.fs = fs
        self.loaded = set()
        self.stop = threading.Event()
        self.seen = {}
        self.loads = self.removes = 0

    def changed(self, f):
        try:
            st = os.stat(os.path.join(self.fs, f))
        except FileNotFoundError:
            return False
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if st.st_size == 0 or self.seen.get(f) == key:
            return False
        self.seen[f] = key
        return True

    def consume(self, f):
        p = os.path.join(self.fs, f)
        with open(p, "r+b") as fh:
            data = fh.read()
            fh.truncate(0)
        self.seen[f] = None
        return data

    def publish(self):
        tmp = os.path.join(self.fs, ".profiles.tmp")
        with open(tmp, "w") as fh:
            for n in sorted(self.loaded):
                fh.write("%s (enforce)\n" % n)
        os.rename(tmp, os.path.join(self.fs, "profiles"))

    def poll(self):
        dirty = False
        if self.changed(".replace"):
            data = self.consume(".replace")
            for n in AA_NAMES:
                if n.encode() + b"\0" in data:
                    self.loaded.add(n)
                    self.loads += 1
                    dirty = True
        if self.changed(".remove"):
            data = self.consume(".remove")
            for n in re.split(rb"[\0\n]", data):
                if n.decode(errors="replace") in self.loaded:
                    self.loaded.discard(n.decode())
                    self.removes += 1
                    dirty = True
        if dirty:
            self.publish()

    def run(self):
        while not self.stop.is_set():
            self.poll()
            self.stop.wait(0.002)


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.rss = []   # (t, kB)
        self.fds = []   # (t, n)
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def sample(self):
        t = time.monotonic() - self.t0
        rss = None
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        n = len(os.listdir("/proc/%d/fd" % self.pid))
        return t, rss, n

    def run(self):
        while not self.stop.is_set():
            try:
                t, rss, n = self.sample()
                self.rss.append((t, rss))
                self.fds.append((t, n))
            except OSError:
                pass
            self.stop.wait(0.5)


def published_state(pub):
    """{name: (bytes, mode)} of every entry in PUB, and the names of oddities."""
    out, odd = {}, []
    try:
        entries = os.listdir(pub)
    except FileNotFoundError:
        return {}, []
    for e in entries:
        p = os.path.join(pub, e)
        try:
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode):
                odd.append(e)
                continue
            with open(p, "rb") as f:
                out[e] = (f.read(), stat.S_IMODE(st.st_mode))
        except FileNotFoundError:
            continue
    return out, odd


def state_json(path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode())
    except (OSError, ValueError):
        return None


def stats(series):
    v = [x for _, x in series if x is not None]
    if not v:
        return "n=0"
    return "n=%d min=%d median=%d max=%d" % (len(v), min(v), statistics.median(v), max(v))


def flat(name, series, warm_s, slack, unit, at_rest=False):
    """Flat after warm-up: the samples after WARM_S seconds are cut in two
    halves by time; the max of the second half must not exceed the max of
    the first half plus SLACK.  A leak of any steady rate shows as a higher
    second half; one-off growth in the first half (caches, arenas) does not
    count against the daemon."""
    v = [(t, x) for t, x in series if x is not None and t > warm_s]
    if len(v) < 6:
        check(False, "%s: enough samples after the %g s warm-up (%d)" % (name, warm_s, len(v)))
        return
    mid = v[0][0] + (v[-1][0] - v[0][0]) / 2
    a = [x for t, x in v if t <= mid]
    b = [x for t, x in v if t > mid]
    print("# %s after warm-up: first half n=%d min=%d median=%d max=%d; "
          "second half n=%d min=%d median=%d max=%d%s"
          % (name, len(a), min(a), statistics.median(a), max(a),
             len(b), min(b), statistics.median(b), max(b), unit), flush=True)
    if at_rest:
        # A sample can catch a background AppArmor compile (its epoll,
        # pidfd, timerfd and output files) or a reconcile's open files: the
        # peaks come and go.  A leak raises the count at rest: the minimum
        # and the median of the second half.
        check(min(b) <= min(a) + slack and statistics.median(b) <= statistics.median(a) + slack,
              "%s flat at rest: second-half min %d, median %g <= first-half min %d, "
              "median %g + %d%s" % (name, min(b), statistics.median(b), min(a),
                                    statistics.median(a), slack, unit))
        return
    check(max(b) <= max(a) + slack,
          "%s flat: second-half max %d <= first-half max %d + %d%s"
          % (name, max(b), max(a), slack, unit))


def main(argv):
    pid, target, pub, state_path, log = int(argv[1]), argv[2], argv[3], argv[4], argv[5]
    seconds, rate, seed = float(argv[6]), float(argv[7]), int(argv[8])
    fs = argv[9] if len(argv) > 9 and argv[9] else None
    rng = random.Random(seed)
    warm_s = min(10.0, seconds / 6)
    print("# seed=%d seconds=%g rate=%g/s apparmor=%s warm-up=%gs"
          % (seed, seconds, rate, "yes" if fs else "no", warm_s), flush=True)

    writer = kubelet_writer.AtomicWriter(target)
    sampler = Sampler(pid)
    sampler.start()
    kernel = None
    if fs:
        kernel = Kernel(fs)
        kernel.start()

    swaps = invalid = removed = aa_invalid = aa_changes = 0
    serial = 0
    prev = set()
    aa_cur = {}   # file name -> bytes, carried between swaps (changed now and then)

    def next_payload(all_valid):
        nonlocal serial, invalid, aa_invalid, aa_changes
        names = rng.sample(NAMES, rng.randint(1, 8))
        payload, expect_aa = {}, {}
        for n in names:
            serial += 1
            payload[n + ".json"] = valid_profile(rng, serial)
        if not all_valid and rng.random() < 0.2:
            bad = rng.choice(names) + ".json"
            payload[bad] = invalid_profile(rng, serial)
            invalid += 1
        if kernel:
            for n in AA_NAMES:
                f = aa_file_name(n)
                r = rng.random()
                if all_valid:
                    if f not in aa_cur or b"broken" in aa_cur[f] or not aa_cur[f].endswith(b"}\n"):
                        aa_cur[f] = valid_apparmor(rng, n)
                        aa_changes += 1
                elif r < 0.1:
                    aa_cur.pop(f, None)
                elif r < 0.2:
                    aa_cur[f] = invalid_apparmor(rng, n)
                    aa_invalid += 1
                    aa_changes += 1
                elif r < 0.4 or f not in aa_cur:
                    aa_cur[f] = valid_apparmor(rng, n)
                    aa_changes += 1
            if all_valid and rng.random() < 0.5:
                aa_cur.pop(aa_file_name(rng.choice(AA_NAMES)))
            payload.update(aa_cur)
            expect_aa = {n: aa_cur[aa_file_name(n)] for n in AA_NAMES if aa_file_name(n) in aa_cur}
        return payload, expect_aa

    start = time.monotonic()
    period = 1.0 / rate
    next_at = start
    while time.monotonic() - start < seconds:
        payload, _ = next_payload(False)
        removed += len(prev - set(payload))
        prev = set(payload)
        writer.write({k: (v, 0o644) for k, v in payload.items()})
        swaps += 1
        next_at += period
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()

    # the last swap: all valid, so the expected end state is exactly it
    payload, expect_aa = next_payload(True)
    expected = {k: v for k, v in payload.items() if k.endswith(".json")}
    removed += len(prev - set(payload))
    writer.write({k: (v, 0o644) for k, v in payload.items()})
    swaps += 1
    swapped_at = time.monotonic()

    want_sha = {k: hashlib.sha256(v).hexdigest() for k, v in expected.items()}
    want_aa = {n: (hashlib.sha256(v).hexdigest(), aa_file_name(n)) for n, v in expect_aa.items()}

    def aa_state(st):
        return {e.get("name"): (e.get("sha256"), e.get("source"))
                for e in (st or {}).get("apparmor", [])}

    def settled():
        got, odd = published_state(pub)
        if odd or set(got) != set(expected):
            return False
        if any(got[k][0] != expected[k] for k in expected):
            return False
        st = state_json(state_path)
        if not st:
            return False
        if {e.get("name"): e.get("sha256") for e in st.get("seccomp", [])} != want_sha:
            return False
        if kernel and (aa_state(st) != want_aa or kernel.loaded != set(want_aa)):
            return False
        return True

    ok_settle = False
    while time.monotonic() - swapped_at < 30:
        if settled():
            ok_settle = True
            break
        time.sleep(0.02)
    settle_ms = (time.monotonic() - swapped_at) * 1000
    time.sleep(0.3)   # let a reconcile in progress finish before the last samples
    sampler.stop.set()
    sampler.join()
    if kernel:
        kernel.stop.set()
        kernel.join()
    alive = os.path.exists("/proc/%d/status" % pid)

    print("# swaps=%d (%.1f/s) invalid_seccomp_files_sent=%d seccomp_files_removed=%d "
          "seccomp_versions=%d apparmor_changes=%d apparmor_invalid_sent=%d"
          % (swaps, swaps / max(seconds, 1), invalid, removed, serial, aa_changes, aa_invalid),
          flush=True)
    with open(log, "rb") as f:
        text = f.read().decode(errors="replace")
    print("# log: reconciles=%d seccomp published=%d rejected=%d removed=%d; "
          "apparmor loaded=%d rejected=%d unloaded=%d not-confirmed=%d; error lines=%d"
          % (text.count(" reconciled trigger="), text.count("seccomp profile published"),
             text.count("seccomp profile rejected"), text.count("seccomp profile removed"),
             text.count("apparmor profile loaded"), text.count("apparmor profile rejected"),
             text.count("apparmor profile unloaded"), text.count("apparmor profile not confirmed"),
             sum(1 for line in text.splitlines() if " error " in line)), flush=True)
    if kernel:
        print("# stand-in kernel: loads=%d unloads=%d" % (kernel.loads, kernel.removes),
              flush=True)
    print("# settle: %s after %.0f ms" % ("settled" if ok_settle else "NOT settled", settle_ms),
          flush=True)

    check(alive, "daemon still running after %d swaps" % swaps)
    check(ok_settle, "published folder, state.json (and AppArmor set) match the last swap "
          "within 30 s")

    got, odd = published_state(pub)
    check(set(got) == set(expected) and not odd,
          "published folder holds exactly the last swap's %d seccomp files, nothing else"
          % len(expected),
          "expected: %s\ngot: %s\nother entries: %s"
          % (sorted(expected), sorted(got), sorted(odd)))
    diff = [k for k in expected if k in got and got[k][0] != expected[k]]
    check(not diff and set(got) >= set(expected), "published files are byte-identical",
          "differ: %s" % diff)
    badmode = ["%s:%o" % (k, got[k][1]) for k in got if got[k][1] != 0o644]
    check(not badmode, "published files are mode 0644", "modes: %s" % badmode)
    st = state_json(state_path)
    st_map = {e.get("name"): e.get("sha256") for e in (st or {}).get("seccomp", [])}
    check(st_map == want_sha, "state.json lists exactly the last swap's seccomp files "
          "with their sha256", "state: %s\nwant: %s" % (st_map, want_sha))
    if kernel:
        check(aa_state(st) == want_aa,
              "state.json lists exactly the last swap's %d AppArmor profiles with their "
              "sha256 and source" % len(want_aa),
              "state: %s\nwant: %s" % (aa_state(st), want_aa))
        check(kernel.loaded == set(want_aa),
              "the loaded AppArmor set is exactly the last swap's profiles",
              "loaded: %s\nwant: %s" % (sorted(kernel.loaded), sorted(want_aa)))

    print("# rss_kB %s" % stats(sampler.rss), flush=True)
    print("# fds    %s" % stats(sampler.fds), flush=True)
    if len(sampler.rss) <= 400:
        print("# rss_kB series: %s" % " ".join(str(v) for _, v in sampler.rss), flush=True)
        print("# fds series: %s" % " ".join(str(v) for _, v in sampler.fds), flush=True)
    # slack: RSS may move by a page or two of malloc state; fds by the one or
    # two files a sample can catch open in the middle of a reconcile
    if os.environ.get("SOAK_RSS_CHECK", "1") == "1":
        flat("RSS", sampler.rss, warm_s, 512, " kB")
    else:
        print("skip RSS flat: %s" % os.environ.get("SOAK_RSS_WHY", "disabled"), flush=True)
    flat("open fds", sampler.fds, warm_s, 1, "", at_rest=True)
    return min(sum(1 for r in RESULTS if not r), 100)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
