#!/usr/bin/env python3
"""Reaction latency of the running daemon to a kubelet `..data` swap.

    latency.py seccomp  PROFILED WORKDIR SWAPS
    latency.py apparmor PROFILED WORKDIR SWAPS PARSER FEATURES

One long-lived process performs the kubelet's AtomicWriter sequence
(test/tools/kubelet_writer.py, imported) on a ConfigMap-style folder the
daemon watches, and waits with inotify for the result:

- seccomp: the published file is renamed into the kubelet's seccomp folder
  (IN_MOVED_TO of the file's name);
- apparmor: libapparmor writes the compiled policy into the `.replace` of
  the apparmorfs stand-in (IN_CLOSE_WRITE).

The clock starts before the writer's first step (so the writer's own work is
counted against the daemon) and stops at the event.  Every swap has content
never seen before (the compiled-policy cache can never answer).  For
AppArmor, each swap is followed by the parser alone compiling the same file
with the daemon's flags, one process, as a cold parser run: the agent's
overhead is the end-to-end latency minus that (interleaved, so load on the
machine affects both alike); the daemon's own `took_ms` of its compile run
is reported too.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SECCOMP_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                           "fixtures", "kubernetes-docs", "seccomp", "fine-grained.json")

APPARMOR_TEMPLATE = """#include <tunables/global>
# swap %(i)d
profile bench-latency flags=(attach_disconnected) {
  #include <abstractions/base>

  file,
  network inet stream,
  deny /** w,
  deny /proc/sys/** rw,
  /var/lib/bench-%(i)d/** rw,
}
"""


def seccomp_payload(i, base):
    doc = dict(base)
    doc["defaultErrnoRet"] = 1 + i % 4000
    return {"bench.json": (json.dumps(doc, indent=2).encode(), 0o644)}


def apparmor_payload(i):
    return {"bench-latency": ((APPARMOR_TEMPLATE % {"i": i}).encode(), 0o644)}


def wait_path(path, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.01)
    return False


def new_log_lines(f):
    out = []
    for line in f.readlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def main(argv):
    mode, profiled, work, swaps = argv[0], argv[1], argv[2], int(argv[3])
    kw = benchlib.kubelet_writer()
    P, R, S = (os.path.join(work, d) for d in ("profiles", "root", "state"))
    FS = os.path.join(work, "apparmorfs")
    for d in (P, R, S, FS):
        os.makedirs(d, exist_ok=True)
    for n in (".load", ".replace", ".remove", "profiles"):
        open(os.path.join(FS, n), "w").close()
    writer = kw.AtomicWriter(P)
    cmd = [profiled, "run", "--profiles", P, "--seccomp-root", R, "--seccomp-subdir", "profiled",
           "--state-dir", S, "--node-name", "bench-node", "--metrics-addr", "",
           "--log-format", "json", "--resync-interval", "1h"]
    if mode == "seccomp":
        with open(SECCOMP_SRC) as f:
            base = json.load(f)
        payload = lambda i: seccomp_payload(i, base)  # noqa: E731
        # no AppArmor for this run: the stand-in has no kernel to load into
        cmd += ["--apparmor-validate-only"]
        out_dir = os.path.join(R, "profiled")
        first = os.path.join(out_dir, "bench.json")
        pred = lambda path, mask, name: name == "bench.json" and mask & benchlib.IN_MOVED_TO  # noqa
    else:
        parser, features = argv[4], argv[5]
        payload = apparmor_payload
        cmd += ["--apparmorfs", FS, "--apparmor-parser", parser]
        out_dir = FS
        first = None
        pred = lambda path, mask, name: name == ".replace" and mask & benchlib.IN_CLOSE_WRITE  # noqa

    logpath = os.path.join(work, "daemon.log")
    log_w = open(logpath, "w")
    log_r = open(logpath)
    writer.write(payload(0))
    ino = benchlib.Inotify()
    ino.watch(FS, benchlib.IN_CLOSE_WRITE)
    daemon = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=log_w)
    try:
        if first is not None:
            if not wait_path(first, 20):
                raise SystemExit("the daemon published nothing in 20 s; see %s" % logpath)
        else:
            if ino.wait_for(pred, 60) is None:
                raise SystemExit("the daemon loaded nothing in 60 s; see %s" % logpath)
            # the stand-in kernel now lists it, as the kernel would
            with open(os.path.join(FS, "profiles"), "w") as f:
                f.write("bench-latency (enforce)\n")
        os.makedirs(out_dir, exist_ok=True)
        ino.watch(out_dir, benchlib.IN_MOVED_TO | benchlib.IN_CLOSE_WRITE)
        time.sleep(0.3)
        new_log_lines(log_r)
        lat, took, alone, missed = [], [], [], 0
        cache = os.path.join(work, "parser-cache")
        srcfile = os.path.join(work, "alone-src")
        for i in range(1, swaps + 1):
            ino.read(0)  # drop anything stale
            t0 = time.monotonic()
            writer.write(payload(i))
            t1 = ino.wait_for(pred, 30)
            if t1 is None:
                missed += 1
                continue
            lat.append((t1 - t0) * 1000)
            if mode == "apparmor":
                # let the reconcile finish, then read its compile time
                time.sleep(0.05)
                for ev in new_log_lines(log_r):
                    if ev.get("msg") == "apparmor compiled" and "took_ms" in ev:
                        took.append(float(ev["took_ms"]))
                with open(srcfile, "wb") as f:
                    f.write(payload(i)["bench-latency"][0])
                shutil.rmtree(cache, ignore_errors=True)
                a0 = time.monotonic()
                subprocess.run([argv[4], "--subdomainfs", FS, "--features-file", argv[5],
                                "--skip-kernel-load", "--skip-read-cache", "--write-cache",
                                "--cache-loc", cache, srcfile],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                alone.append((time.monotonic() - a0) * 1000)
            # a pause between swaps, jittered, so no two coalesce
            time.sleep(0.03 + random.random() * 0.02)
    finally:
        daemon.terminate()
        daemon.wait(10)
    print("  swaps %d, missed %d (load now %s)" % (swaps, missed, benchlib.loadavg()))
    if mode == "seccomp":
        print("  seccomp  swap -> published:        " + benchlib.fmt(lat))
    else:
        over = [a - b for a, b in zip(lat, alone)]
        print("  apparmor swap -> loaded (.replace): " + benchlib.fmt(lat))
        print("  parser alone, same file, one run:   " + benchlib.fmt(alone))
        print("  agent overhead (e2e - parser alone): " + benchlib.fmt(over))
        if took:
            over2 = [a - b for a, b in zip(lat, took)]
            print("  daemon's own compile run (took_ms): " + benchlib.fmt(took))
            print("  e2e - daemon's compile run:        " + benchlib.fmt(over2))
    s = benchlib.stats(lat)
    if s["n"]:
        print("  RATIO vs a 30 s polling loader (median 15 s, p99 29.7 s): median %.0fx, p99 %.0fx"
              % (15000 / s["median"], 29700 / s["p99"]))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
