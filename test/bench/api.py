#!/usr/bin/env python3
"""API cost against the stand-in API server (test/apiserver).

    api.py PROFILED WORKDIR AGENTS RESYNC_S WINDOW_S JITTER_S CHANGES

1. One agent, one profile change at a time (CHANGES of them: new profiles,
   so new labels, and an edit of an existing one, so only the annotation
   changes): the requests each change costs, by method.
2. One agent at steady state with --resync-interval RESYNC_S, over WINDOW_S:
   requests between resyncs (expected none) and per resync; scaled to an
   hour at the default resync (10 min).
3. AGENTS agent processes on this machine, each its own node, state folder
   and seccomp folder, all watching one kubelet-style ConfigMap folder:
   (a) all started at once, (b) one ConfigMap change (every agent sees it
   at the same instant: the worst case; kubelets spread it in a cluster),
   (c) AGENTS more started at random times over JITTER_S.  For each: total
   requests, by method, peak per second and per 100 ms, first-to-last spread,
   errors, the stand-in's service time and its own CPU use (it is one Python
   process: if it used a whole CPU, the peak is its limit, not the agents').
"""

import collections
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SECCOMP = os.path.join(REPO, "test", "data", "fixtures", "kubernetes-docs", "seccomp")


class Api:
    def __init__(self, work, nodes):
        self.work = work
        certs = os.path.join(work, "certs")
        subprocess.run(["bash", os.path.join(REPO, "test", "apiserver", "mkcerts.sh"), certs],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ready = os.path.join(work, "api.ready")
        args = [sys.executable, os.path.join(REPO, "test", "apiserver", "apiserver.py"),
                "--certs", certs, "--out", os.path.join(work, "api-out"), "--port", "0",
                "--token", "bench-token", "--ready-file", ready, "--quiet",
                "--exit-with-parent", "--max-lifetime", "3600"]
        for n in nodes:
            args += ["--node", n]
        self.log = open(os.path.join(work, "apiserver.log"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        end = time.monotonic() + 30
        while not (os.path.exists(ready) and os.path.getsize(ready) > 0):
            if time.monotonic() > end or self.proc.poll() is not None:
                raise SystemExit("the stand-in API server did not start; see apiserver.log")
            time.sleep(0.05)
        with open(ready) as f:
            self.info = json.load(f)
        self.kubeconfig = self.info["kubeconfig"]

    def control(self, path, method="GET", body=None, timeout=120):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.info["control_url"] + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def reset(self):
        self.control("/control/reset-requests", "POST", {})

    def requests(self):
        return self.control("/control/requests")

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(20)


def when(r):
    return datetime.datetime.fromisoformat(r["time"]).timestamp()


def by_method(reqs):
    c = collections.Counter("%s %s" % (r["method"], r["path"].split("?")[0].split("/")[-2] if
                                       "/nodes/" in r["path"] else r["path"].split("?")[0])
                            for r in reqs)
    return ", ".join("%d %s" % (n, k) for k, n in sorted(c.items()))


FAILED = []


def summary(label, reqs, cpu, wall):
    if not reqs:
        print("  %s: no requests" % label)
        return
    t = sorted(when(r) for r in reqs)
    per_s = collections.Counter(int(x) for x in t)
    per_100 = collections.Counter(int(x * 10) for x in t)
    methods = collections.Counter(r["method"] for r in reqs)
    errors = [r for r in reqs if r.get("status") == "reset" or int(r.get("status") or 0) >= 400]
    ms = [float(r.get("ms") or 0) for r in reqs]
    print("  %s: %d requests (%s); spread first->last %.2f s; peak %d/s, %d per 100 ms; "
          "errors %d" % (label, len(reqs), ", ".join("%s %d" % kv for kv in sorted(methods.items())),
                         t[-1] - t[0], max(per_s.values()), max(per_100.values()), len(errors)))
    spread = max(t[-1] - t[0], 0.1)
    print("    stand-in service time: %s; stand-in CPU %.1f s (%.0f%% of one core over the "
          "first->last spread)" % (benchlib.fmt(ms), cpu, min(100, 100 * cpu / spread)))


def agent_cmd(profiled, kubeconfig, profiles, root, state, node, resync, level="info"):
    return [profiled, "run", "--profiles", profiles, "--seccomp-root", root,
            "--state-dir", state, "--node-name", node, "--kubeconfig", kubeconfig,
            "--metrics-addr", "", "--resync-interval", resync, "--log-format", "json",
            "--log-level", level, "--apparmor-validate-only"]


def payload(names, edit=0):
    out = {}
    for n in names:
        with open(os.path.join(SECCOMP, "fine-grained.json")) as f:
            doc = json.load(f)
        if edit and n == "base.json":
            doc["defaultErrnoRet"] = edit
        out[n] = (json.dumps(doc).encode(), 0o644)
    return out


def wait_quiet(api, quiet_s, timeout):
    """Until no new request arrived for quiet_s seconds."""
    end = time.monotonic() + timeout
    last_n, last_t = -1, time.monotonic()
    while time.monotonic() < end:
        n = len(api.requests())
        if n != last_n:
            last_n, last_t = n, time.monotonic()
        elif time.monotonic() - last_t >= quiet_s:
            return
        time.sleep(0.25)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv):
    profiled, work = argv[0], argv[1]
    agents, resync, window, jitter, changes = (int(argv[2]), int(argv[3]), int(argv[4]),
                                               float(argv[5]), int(argv[6]))
    kw = benchlib.kubelet_writer()
    nodes = ["bench-single", "bench-steady"]
    nodes += ["bench-a-%04d" % i for i in range(agents)]
    nodes += ["bench-b-%04d" % i for i in range(agents)]
    api = Api(work, nodes)
    procs = []
    try:
        # ---- 1. one agent, one change at a time
        P = os.path.join(work, "p1")
        names = ["base.json"]
        os.makedirs(P)
        w = kw.AtomicWriter(P)
        w.write(payload(names))
        log = open(os.path.join(work, "single.log"), "w")
        d = subprocess.Popen(agent_cmd(profiled, api.kubeconfig, P, work + "/r1", work + "/s1",
                                       "bench-single", "1h"),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        procs.append(d)
        api.control("/control/wait?requests=1&method=PATCH&timeout=30")
        wait_quiet(api, 1.0, 30)
        print("one agent, one profile change at a time (resync 1h, so none interferes):")
        per = []
        for k in range(1, changes + 1):
            api.reset()
            if k < changes:
                names.append("extra-%d.json" % k)  # a new profile: new label
                what = "new profile"
                w.write(payload(names))
            else:
                what = "edit of a profile (annotation only)"
                w.write(payload(names, edit=7))
            api.control("/control/wait?requests=1&method=PATCH&timeout=20")
            wait_quiet(api, 1.0, 20)
            reqs = api.requests()
            per.append(reqs)
            patches = sum(1 for r in reqs if r["method"] == "PATCH")
            print("  change %d (%s): %d requests: %s%s" % (
                k, what, len(reqs), by_method(reqs),
                "" if patches == 1 else "   <-- expected exactly one PATCH"))
        # a no-op: the same payload written again (the kubelet skips it;
        # a SIGHUP-free rescan is forced by touching nothing else)
        api.reset()
        w.write(payload(names, edit=7))
        time.sleep(2)
        print("  the same ConfigMap written again (no effective change): %d requests"
              % len(api.requests()))
        d.terminate()
        d.wait(10)

        # ---- 2. steady state
        P2 = os.path.join(work, "p2")
        os.makedirs(P2)
        kw.AtomicWriter(P2).write(payload(["base.json", "other.json"]))
        log2 = os.path.join(work, "steady.log")
        d = subprocess.Popen(agent_cmd(profiled, api.kubeconfig, P2, work + "/r2", work + "/s2",
                                       "bench-steady", "%ds" % resync, "debug"),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(log2, "w"))
        procs.append(d)
        api.control("/control/wait?requests=1&method=PATCH&path_prefix=/api/v1/nodes/bench-steady"
                    "&timeout=30")
        wait_quiet(api, 1.0, 30)
        api.reset()
        t0 = time.time()
        time.sleep(window)
        t1 = time.time()
        reqs = [r for r in api.requests() if "bench-steady" in r["path"] or r["method"] != "GET"]
        d.terminate()
        d.wait(10)
        resyncs = []
        with open(log2) as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("msg") == "reconciled" and ev.get("trigger") == "resync":
                    ts = datetime.datetime.fromisoformat(ev["time"].replace("Z", "+00:00"))
                    if t0 <= ts.timestamp() <= t1:
                        resyncs.append(ts.timestamp())
        between = [r for r in reqs if not any(-1.0 <= when(r) - s <= 2.0 for s in resyncs)]
        per_resync = len(reqs) / len(resyncs) if resyncs else float("nan")
        print("steady state, one agent, --resync-interval %ds, window %ds:" % (resync, window))
        if not resyncs:
            print("  FAIL: no resync logged in the window (agent log: %s)" % log2)
            return 1
        print("  %d resyncs, %d requests (%s): %.1f per resync; %d between resyncs"
              % (len(resyncs), len(reqs), by_method(reqs) or "none", per_resync, len(between)))
        print("  per hour at the default resync (10m): %.0f requests per node (6 resyncs x %.1f)"
              % (6 * per_resync, per_resync))

        # ---- 3. many agents
        PS = os.path.join(work, "shared")
        os.makedirs(PS)
        ws = kw.AtomicWriter(PS)
        ws.write(payload(["base.json", "other.json"]))
        print("%d agents on this machine, one shared ConfigMap folder (load %s):"
              % (agents, benchlib.loadavg()))

        # inotify instances are limited per user (fs.inotify.max_user_instances,
        # 128 by default, shared with everything else root runs): the agents
        # run as unprivileged users, at most 100 per user, as separate nodes
        # would be separate machines.
        for d in (work, os.path.dirname(api.kubeconfig), os.path.join(work, "certs")):
            os.chmod(d, 0o755)
        for f in (api.kubeconfig, api.info["ca"]):
            os.chmod(f, 0o644)

        def spawn(node, i, base_uid):
            uid = base_uid + i // 100
            r, st = "%s/r-%s" % (work, node), "%s/s-%s" % (work, node)
            for d in (r, st):
                os.makedirs(d)
                os.chown(d, uid, uid)
            cmd = ["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups"]
            cmd += agent_cmd(profiled, api.kubeconfig, PS, r, st, node, "1h", "warn")
            logpath = "%s/%s.log" % (work, node)
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=open(logpath, "w"))
            p.logpath = logpath
            return p

        def start(prefix, offsets):
            api.reset()
            c0, w0 = api.cpu_s(), time.time()
            started = time.monotonic()
            ps = []
            for i, off in enumerate(offsets):
                delay = started + off - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                node = "bench-%s-%04d" % (prefix, i)
                ps.append(spawn(node, i, 20000 if prefix == "a" else 20100))
            procs.extend(ps)
            api.control("/control/wait?requests=%d&method=PATCH&timeout=60" % len(offsets))
            wait_quiet(api, 2.0, 60)
            reqs = api.requests()
            alive = sum(1 for p in ps if p.poll() is None)
            if alive != len(ps):
                print("  FAIL: %d of %d agents exited" % (len(ps) - alive, len(ps)))
                dead = [p for p in ps if p.poll() is not None]
                with open(dead[0].logpath) as f:
                    print("  the first one's log:\n" + f.read()[-2000:])
                FAILED.append(prefix)
            summary("start, %s" % ("all at once" if max(offsets) == 0 else
                                   "spread over %.0f s" % jitter),
                    reqs, api.cpu_s() - c0, time.time() - w0)
            return ps

        group_a = start("a", [0.0] * agents)
        rss = sorted(rss_kb(p.pid) for p in group_a)
        print("    agent RSS: median %d KiB, max %d KiB, total %.0f MiB" % (
            rss[len(rss) // 2], rss[-1], sum(rss) / 1024))
        api.reset()
        c0, w0 = api.cpu_s(), time.time()
        ws.write(payload(["base.json", "other.json", "new.json"]))
        api.control("/control/wait?requests=%d&method=PATCH&timeout=60" % agents)
        wait_quiet(api, 2.0, 60)
        reqs = api.requests()
        summary("one ConfigMap change seen by all at once", reqs, api.cpu_s() - c0,
                time.time() - w0)
        patches = sum(1 for r in reqs if r["method"] == "PATCH")
        print("    PATCH per agent: %.2f" % (patches / agents))
        if patches != agents:
            FAILED.append("change")
        for p in group_a:
            p.terminate()
        for p in group_a:
            p.wait(20)
        offsets = sorted(random.uniform(0, jitter) for _ in range(agents))
        offsets[0] = 0.0
        group_b = start("b", offsets)
        for p in group_b:
            p.terminate()
        for p in group_b:
            p.wait(20)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        api.stop()
    return 1 if FAILED else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    finally:
        shutil.rmtree(os.path.join(sys.argv[2], "certs"), ignore_errors=True)
