#!/usr/bin/env python3
"""Writes seccomp profiles of a chosen shape and size to stdout, for the
tests and benchmarks of validation cost and of the kernel's filter limit.

  seccomp_gen.py conds N [--default ACTION] [--arches A,B] [--tag T]
      N entries, each `personality` with one condition arg0 == 1000000+i:
      about one BPF instruction each (the filter-length boundary).
  seccomp_gen.py packed N [--arches A,B]
      the same N conditions, 24 to an entry on the same argument (one
      libseccomp rule each: the most rules for the fewest bytes).
  seccomp_gen.py dupnames N     one entry naming `read` N times
  seccomp_gen.py duprules N     N identical entries naming `read`
  seccomp_gen.py unknown N      one entry with N unknown syscall names
  seccomp_gen.py conflict       two entries: same syscall and arguments,
                                different actions
  seccomp_gen.py chains N       N entries, each 14 syscalls with six
                                conditions ANDed (long chains)
  seccomp_gen.py wide K M       K entries, one of 14 syscalls each with six
                                64-bit conditions ANDed, then M entries of
                                the `conds` shape: K for many instructions
                                per rule, M to reach one exact length
--tag T adds a comment field, so that files of the same shape differ.
--base FILE starts from that profile (its default action, architectures
and entries) and appends the shape's entries with --action (default: the
opposite of the default action).
"""
import json
import sys

NAMES14 = ["read", "write", "openat", "close", "fstat", "lseek", "mmap",
           "mprotect", "munmap", "brk", "pread64", "pwrite64", "readv", "writev"]


def main(argv):
    args = list(argv[1:])
    opts = {"--default": None, "--arches": None, "--tag": None, "--base": None,
            "--action": None}
    for k in list(opts):
        if k in args:
            i = args.index(k)
            opts[k] = args[i + 1]
            del args[i:i + 2]
    shape = args[0]
    n = int(args[1]) if len(args) > 1 else 0
    base = {"defaultAction": opts["--default"] or "SCMP_ACT_ALLOW", "syscalls": []}
    if opts["--base"]:
        with open(opts["--base"]) as f:
            base = json.load(f)
    default = base["defaultAction"]
    act = opts["--action"] or ("SCMP_ACT_ERRNO" if default != "SCMP_ACT_ERRNO"
                               else "SCMP_ACT_ALLOW")
    p = dict(base)
    before = list(base.get("syscalls") or [])
    if opts["--arches"]:
        p["architectures"] = opts["--arches"].split(",")
    if opts["--tag"]:
        p["comment"] = opts["--tag"]
    cond = lambda i, idx=0: {"index": idx, "value": 1000000 + i, "op": "SCMP_CMP_EQ"}
    if shape == "conds":
        p["syscalls"] = [{"names": ["personality"], "action": act, "args": [cond(i)]}
                         for i in range(n)]
    elif shape == "packed":
        p["syscalls"] = [{"names": ["personality"], "action": act,
                          "args": [cond(i) for i in range(b, min(n, b + 24))]}
                         for b in range(0, n, 24)]
    elif shape == "dupnames":
        p["syscalls"] = [{"names": ["read"] * n, "action": act}]
    elif shape == "duprules":
        p["syscalls"] = [{"names": ["read"], "action": act} for _ in range(n)]
    elif shape == "unknown":
        p["syscalls"] = [{"names": ["nosuchcall%d" % i for i in range(n)], "action": act}]
    elif shape == "conflict":
        p["syscalls"] = [{"names": ["personality"], "action": a, "args": [cond(7)]}
                         for a in (act, "SCMP_ACT_LOG")]
    elif shape == "chains":
        p["syscalls"] = [{"names": NAMES14, "action": act,
                          "args": [cond(i * 6 + k, k) for k in range(6)]} for i in range(n)]
    elif shape == "wide":
        m = int(args[2])
        big = lambda i: ((i + 1) << 33) + i
        p["syscalls"] = [{"names": [NAMES14[i % 14]], "action": act,
                          "args": [{"index": k, "value": big(i * 6 + k), "op": "SCMP_CMP_EQ"}
                                   for k in range(6)]} for i in range(n)]
        p["syscalls"] += [{"names": ["personality"], "action": act, "args": [cond(i)]}
                          for i in range(m)]
    else:
        sys.exit("unknown shape %r" % shape)
    p["syscalls"] = before + p.get("syscalls", [])
    json.dump(p, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
