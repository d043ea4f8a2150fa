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


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "jsonlines" and len(argv) == 3:
        return jsonlines(argv[2])
    if cmd == "burst" and len(argv) == 5:
        return burst(argv[2], int(argv[3]), argv[4])
    if cmd == "latency" and len(argv) == 5:
        return latency(argv[2], argv[3], int(argv[4]))
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
