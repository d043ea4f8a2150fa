#!/usr/bin/env python3
"""Small helpers for the bats tests that need sub-millisecond work.

  helpers.py jsonlines FILE
      every line of FILE is one JSON object; prints the line count.
  helpers.py burst TARGET N LAST
      N kubelet atomic swaps of TARGET (key burst.json), as fast as one
      process can do them; the last payload's bytes are also written to LAST.
  helpers.py latency TARGET PUBLISHED N
      N kubelet swaps of TARGET (key lat.json), each followed by polling
      PUBLISHED every 1 ms until it holds the new bytes; prints
      "n=N median_ms=X max_ms=Y timeouts=K" (the swap-to-publish latency,
      measured from the writer's return).
  helpers.py killloop N MAX_DELAY_MS TARGET LOGDIR -- PROFILED ARGS...
      N rounds of: a kubelet swap of TARGET to round i of the kill set
      (killset_payload), start PROFILED ARGS, SIGKILL it after a random
      0..1.2 x the time one start takes to be ready here (the slowest of
      three measured first;
      MAX_DELAY_MS when that fails); prints one line of counts (how far each run got,
      from its log).  The last round's number is written to LOGDIR/last.
  helpers.py reader PUB STATEJSON STOPFILE
      until STOPFILE exists: lists PUB (about every millisecond) and reads
      every file in it; a name that is not hidden must hold exactly one
      version of the kill set's file of that name (killset_allowed), a
      hidden name must be a publish temporary (.NAME.tmp-PID); STATEJSON,
      when present, must parse.
      Prints the counts and every violation; exit 1 on any violation.
  helpers.py killset ROUND DIR
      writes the kill set's payload of ROUND into DIR.
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import kubelet_writer  # noqa: E402


def profile(i, tag):
    # A distinct, valid profile per i: the errno differs.
    return ('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],'
            '"action":"SCMP_ACT_ERRNO","errnoRet":%d,"comment":"%s %d"}]}\n'
            % (i % 100 + 1, tag, i)).encode()


def jsonlines(path):
    n = 0
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                obj = json.loads(raw.decode("utf-8"))
            except Exception as e:  # noqa: BLE001
                print("line %d is not JSON (%s): %r" % (lineno, e, raw))
                return 1
            if not isinstance(obj, dict):
                print("line %d is not a JSON object: %r" % (lineno, raw))
                return 1
            for key in ("time", "level", "msg"):
                if key not in obj:
                    print("line %d lacks %r: %r" % (lineno, key, raw))
                    return 1
            n += 1
    print(n)
    return 0


def burst(target, n, last):
    w = kubelet_writer.AtomicWriter(target)
    data = b""
    t0 = time.monotonic()
    for i in range(n):
        data = profile(i, "burst")
        w.write({"burst.json": (data, 0o644)})
    took = (time.monotonic() - t0) * 1000
    with open(last, "wb") as f:
        f.write(data)
    print("%d swaps in %.1f ms" % (n, took))
    return 0


def latency(target, published, n):
    w = kubelet_writer.AtomicWriter(target)
    lat = []
    timeouts = 0
    for i in range(n):
        data = profile(i, "latency")
        w.write({"lat.json": (data, 0o644)})
        t0 = time.monotonic()
        deadline = t0 + 5
        while True:
            try:
                with open(published, "rb") as f:
                    if f.read() == data:
                        lat.append((time.monotonic() - t0) * 1000)
                        break
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline:
                timeouts += 1
                break
            time.sleep(0.001)
        time.sleep(0.05)
    if lat:
        print("n=%d median_ms=%.1f max_ms=%.1f min_ms=%.1f timeouts=%d"
              % (len(lat), statistics.median(lat), max(lat), min(lat), timeouts))
    else:
        print("n=0 timeouts=%d" % timeouts)
    return 0 if timeouts == 0 else 1


# The kill set of round i: a.json and b.json in every version (v = i % 3),
# c.json in versions 0 and 1 (so a version-2 swap removes it), d.json only
# in version 2, and u<i>.json only in round i: a file the next round
# removes, so one published by a killed run must still be cleaned up.
def killset_payload(i):
    v = i % 3
    names = ["a.json", "b.json"] + (["c.json"] if v != 2 else ["d.json"])
    out = {n: profile(v * 10 + k, "kill %s v%d" % (n, v)) for k, n in enumerate(names)}
    out["u%d.json" % i] = profile(i, "unique")
    return out


def killset_allowed(name):
    import re
    m = re.match(r"^u([0-9]+)\.json$", name)
    if m:
        return {profile(int(m.group(1)), "unique")}
    out = set()
    for v in range(3):
        out.add(killset_payload(v).get(name))
    out.discard(None)
    return out


def killset(v, d):
    os.makedirs(d, exist_ok=True)
    for n, data in killset_payload(v).items():
        with open(os.path.join(d, n), "wb") as f:
            f.write(data)
    return 0


def time_to_ready(cmd, logf):
    """Milliseconds from the start of cmd to its " ready" log line (the
    folder is already populated), or None after 10 s; the run is then
    killed."""
    import signal
    import subprocess
    with open(logf, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=err)
        took = None
        while time.monotonic() - t0 < 10:
            with open(logf, "rb") as f:
                if b" ready" in f.read():
                    took = (time.monotonic() - t0) * 1000
                    break
            time.sleep(0.001)
        p.send_signal(signal.SIGKILL)
        p.wait()
    return took


def killloop(n, max_delay_ms, target, logdir, cmd):
    import random
    import signal
    import subprocess
    w = kubelet_writer.AtomicWriter(target)
    rng = random.Random(os.environ.get("KILL_SEED", "profiled"))
    outcome = {"before_publish": 0, "mid_publish": 0, "after_ready": 0}
    pubs = 0
    # Calibrate: the kills must land across the whole start, however slow
    # this machine (or a sanitizer build) is right now.
    w.write({k: (d, 0o644) for k, d in killset_payload(n - 1).items()})
    samples = [time_to_ready(cmd, os.path.join(logdir, "kill.log")) for _ in range(3)]
    ready_ms = None if None in samples else max(samples)
    if ready_ms is not None:
        max_delay_ms = 1.2 * ready_ms
    t0 = time.monotonic()
    for i in range(n):
        w.write({k: (d, 0o644) for k, d in killset_payload(i).items()})
        logf = os.path.join(logdir, "kill.log")
        with open(logf, "wb") as err:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=err)
            time.sleep(rng.uniform(0, max_delay_ms) / 1000.0)
            p.send_signal(signal.SIGKILL)
            p.wait()
        with open(logf, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        np = log.count("seccomp profile published") + log.count("seccomp profile removed")
        pubs += np
        if " ready" in log:
            outcome["after_ready"] += 1
        elif np > 0:
            outcome["mid_publish"] += 1
        else:
            outcome["before_publish"] += 1
        with open(os.path.join(logdir, "last"), "w") as f:
            f.write("%d\n" % i)
    print("ready_ms=%s max_delay_ms=%.0f " % (ready_ms and "%.0f" % ready_ms, max_delay_ms),
          end="")
    print("runs=%d killed_before_first_write=%d killed_mid_reconcile=%d killed_after_ready=%d "
          "writes_seen=%d seconds=%.1f" % (n, outcome["before_publish"], outcome["mid_publish"],
                                           outcome["after_ready"], pubs, time.monotonic() - t0))
    return 0


def reader(pub, statejson, stopfile):
    import re
    tmp = re.compile(r"^\.([^/]+)\.tmp-[0-9]+$")
    scans = reads = temps = 0
    bad = []
    while not os.path.exists(stopfile):
        try:
            names = os.listdir(pub)
        except FileNotFoundError:
            names = []
        scans += 1
        for name in names:
            m = tmp.match(name)
            if name.startswith("."):
                if m is None or not killset_allowed(m.group(1)):
                    bad.append("unexpected hidden name %r" % name)
                temps += 1
                continue
            try:
                with open(os.path.join(pub, name), "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue  # removed between the listing and the open
            reads += 1
            if data not in killset_allowed(name):
                bad.append("%s holds %d bytes that are no version of it: %r"
                           % (name, len(data), data[:80]))
        try:
            with open(statejson, "rb") as f:
                json.loads(f.read().decode("utf-8"))
        except FileNotFoundError:
            pass
        except ValueError as e:
            bad.append("state.json does not parse: %s" % e)
        time.sleep(0.001)
    print("scans=%d files_read=%d temporaries_seen=%d violations=%d"
          % (scans, reads, temps, len(bad)))
    for b in bad[:20]:
        print("VIOLATION: " + b)
    return 1 if bad else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "jsonlines" and len(argv) == 3:
        return jsonlines(argv[2])
    if cmd == "burst" and len(argv) == 5:
        return burst(argv[2], int(argv[3]), argv[4])
    if cmd == "latency" and len(argv) == 5:
        return latency(argv[2], argv[3], int(argv[4]))
    if cmd == "killloop" and len(argv) > 7 and argv[6] == "--":
        return killloop(int(argv[2]), float(argv[3]), argv[4], argv[5], argv[7:])
    if cmd == "reader" and len(argv) == 5:
        return reader(argv[2], argv[3], argv[4])
    if cmd == "killset" and len(argv) == 4:
        return killset(int(argv[2]), argv[3])
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
