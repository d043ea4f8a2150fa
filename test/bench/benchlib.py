"""Helpers shared by the Python parts of the benchmarks (standard library only).

- Inotify: a minimal inotify reader (ctypes), so a benchmark waits for a file
  to appear or be written without polling.
- stats(): median, p10/p90, p99, min, max of a list of numbers.
- kubelet_writer(): the AtomicWriter of test/tools/kubelet_writer.py, which
  performs exactly the kubelet's `..data` swap.
"""

import ctypes
import ctypes.util
import errno
import importlib.util
import os
import select
import struct
import time

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_EVENT = struct.Struct("iIII")


class Inotify:
    def __init__(self):
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.wds = {}

    def watch(self, path, mask):
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch %s" % path)
        self.wds[wd] = path
        return wd

    def read(self, timeout):
        """Events as (path, mask, name) within timeout seconds ([] on timeout)."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return []
        try:
            buf = os.read(self.fd, 65536)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return []
            raise
        out, off = [], 0
        while off < len(buf):
            wd, mask, _cookie, ln = _EVENT.unpack_from(buf, off)
            name = buf[off + _EVENT.size:off + _EVENT.size + ln].rstrip(b"\0").decode()
            out.append((self.wds.get(wd), mask, name))
            off += _EVENT.size + ln
        return out

    def wait_for(self, pred, timeout):
        """Reads events until pred(path, mask, name) holds; the monotonic
        time (seconds) it held at, or None after timeout."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            for ev in self.read(left):
                if pred(*ev):
                    return time.monotonic()

    def close(self):
        os.close(self.fd)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(1, int(-(-p * len(sorted_values) // 100)))
    return sorted_values[min(k, len(sorted_values)) - 1]


def stats(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return {"n": 0}
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"n": n, "median": med, "p10": percentile(v, 10), "p90": percentile(v, 90),
            "p99": percentile(v, 99), "min": v[0], "max": v[-1]}


def fmt(values, unit="ms"):
    s = stats(values)
    if s["n"] == 0:
        return "no samples"
    return ("median %.1f %s  p10 %.1f  p90 %.1f  p99 %.1f  min %.1f  max %.1f  (n=%d)"
            % (s["median"], unit, s["p10"], s["p90"], s["p99"], s["min"], s["max"], s["n"]))


def kubelet_writer():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "tools", "kubelet_writer.py")
    spec = importlib.util.spec_from_file_location("kubelet_writer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
