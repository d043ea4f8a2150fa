#!/usr/bin/env python3
"""count_writes.py FILE READY QUIET_S TIMEOUT_S: counts the writes (closes
after writing) of FILE, e.g. the `.replace` of an apparmorfs stand-in, where
each write is one policy load.  Creates READY once it watches; after the
first write, stops at QUIET_S seconds without another (or at TIMEOUT_S) and
prints "COUNT FIRST_EPOCH_MS" (0 0 when nothing was written)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def main(path, ready, quiet, timeout):
    ino = benchlib.Inotify()
    ino.watch(os.path.dirname(path) or ".", benchlib.IN_CLOSE_WRITE)
    open(ready, "w").close()
    name = os.path.basename(path)
    n, first = 0, 0.0
    end = time.monotonic() + float(timeout)
    while time.monotonic() < end:
        evs = ino.read(float(quiet) if n else end - time.monotonic())
        if not evs and n:
            break
        for _path, _mask, ev_name in evs:
            if ev_name == name:
                if n == 0:
                    first = time.time()
                n += 1
    print("%d %d" % (n, int(first * 1000)))


if __name__ == "__main__":
    main(*sys.argv[1:5])
