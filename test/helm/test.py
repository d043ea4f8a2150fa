#!/usr/bin/env python3
"""Offline tests of the Helm chart deploy/chart/profiled (run by test.sh).

    test.py HELM KUSTOMIZE

helm lint; the chart's objects for the default values against the
kustomize base deploy/, object by object (compare.py), and that this
comparison fails when the two drift apart; each value rendered as it
should; bad values refused by values.schema.json with a message naming the
value. Prints ok/not ok lines and "N passed, N failed, N skipped".
"""
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402

helm, kustomize = sys.argv[1], sys.argv[2]
root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
chart = os.path.join(root, "deploy", "chart", "profiled")
work = tempfile.mkdtemp(prefix="profiled-helm-test.")
passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok - %s" % name)


def not_ok(name, *details):
    global failed
    failed += 1
    print("not ok - %s" % name)
    for d in details:
        for line in str(d).splitlines():
            print("#   %s" % line)


def check(name, problems):
    if problems:
        not_ok(name, *problems)
    else:
        ok(name)


def run(*args):
    p = subprocess.run(args, capture_output=True, text=True, cwd=root)
    return p.returncode, p.stdout, p.stderr


def template(*args, chart_dir=chart):
    """The chart's objects for these helm template arguments."""
    rc, out, err = run(helm, "template", "profiled", chart_dir, *args)
    if rc != 0:
        raise RuntimeError("helm template %s: exit %d: %s" % (" ".join(args), rc, err.strip()))
    return [o for o in yaml.safe_load_all(out) if o is not None]


def kust(path):
    rc, out, err = run(kustomize, "build", path)
    if rc != 0:
        raise RuntimeError("kustomize build %s: %s" % (path, err.strip()))
    return [o for o in yaml.safe_load_all(out) if o is not None]


def by_key(objs):
    return {compare.key(o): o for o in objs}


def one(objs, kind):
    found = [o for o in objs if o["kind"] == kind]
    if len(found) != 1:
        raise AssertionError("%d objects of kind %s" % (len(found), kind))
    return found[0]


def pod(objs):
    return one(objs, "DaemonSet")["spec"]["template"]["spec"]


def agent(objs):
    return pod(objs)["containers"][0]


def vap(objs):
    return one(objs, "ValidatingAdmissionPolicy")["spec"]


def variable(objs, name):
    for v in vap(objs)["variables"]:
        if v["name"] == name:
            return v["expression"]
    raise AssertionError("no variable %s" % name)


def case(name):
    """Decorator: runs fn at once as one test; fn returns a list of problems."""
    def wrap(fn):
        try:
            problems = fn() or []
        except Exception as e:  # an exception is a failure with its message
            problems = ["%s: %s" % (type(e).__name__, e)]
        check(name, problems)
        return fn
    return wrap


def same_but(default, objs, skip_keys=(), skip_kinds=()):
    """Problems: objects of objs that differ from default, but for skip_*."""
    d = {k: o for k, o in by_key(default).items() if k not in skip_keys and o["kind"] not in skip_kinds}
    o = {k: x for k, x in by_key(objs).items() if k not in skip_keys and x["kind"] not in skip_kinds}
    problems = []
    for k in sorted(set(d) ^ set(o)):
        problems.append("%s: only in %s" % (k, "the default" if k in d else "this rendering"))
    for k in sorted(set(d) & set(o)):
        compare.diff(d[k], o[k], k, problems)
    return problems


# --- helm lint ---------------------------------------------------------------

rc, out, err = run(helm, "lint", "--strict", chart)
if rc == 0 and "0 chart(s) failed" in out:
    ok("helm lint --strict deploy/chart/profiled")
else:
    not_ok("helm lint --strict deploy/chart/profiled", out, err)

rc, out, err = run(helm, "lint", "--strict", chart, "--set", "unloadRemoved=true",
                   "--set", "profiles.existingConfigMap=mine", "--set", "admissionPolicy.enabled=false",
                   "--set", "startupTaint=", "--set", "labelDomain=example.com")
if rc == 0:
    ok("helm lint --strict with every switch turned")
else:
    not_ok("helm lint --strict with every switch turned", out, err)

# --- the default values against the kustomize base ---------------------------

default = []


@case("helm template (default values) = kustomize build deploy/, object by object")
def _():
    global default
    default = template()
    base = kust(os.path.join(root, "deploy"))
    problems, n = compare.compare(copy.deepcopy(base), copy.deepcopy(default))
    if n < 10:
        problems.append("only %d objects compared" % n)
    if not problems:
        print("#   %d objects compared (%s); normalised: metadata.labels %s" % (
            n, ", ".join(sorted({o["kind"] for o in base})), ", ".join(compare.HELM_ONLY_LABELS)))
    return problems


@case("the comparison fails when deploy/ drifts from the chart (a field, a profile)")
def _():
    tree = os.path.join(work, "drift")
    shutil.copytree(os.path.join(root, "deploy"), tree, ignore=shutil.ignore_patterns("chart"))
    ds = os.path.join(tree, "daemonset.yaml")
    s = open(ds).read()
    open(ds, "w").write(s.replace("terminationGracePeriodSeconds: 10", "terminationGracePeriodSeconds: 11"))
    with open(os.path.join(tree, "profiles", "audit.json"), "a") as f:
        f.write(" ")
    problems, _n = compare.compare(kust(tree), template())
    want = ["DaemonSet/profiled-system/profiled.spec.template.spec.terminationGracePeriodSeconds",
            "ConfigMap/profiled-system/profiles.data.audit.json"]
    missing = [w for w in want if not any(p.startswith(w + ":") for p in problems)]
    extra = [p for p in problems if not any(p.startswith(w + ":") for w in want)]
    return ["not reported: %s" % w for w in missing] + ["reported besides: %s" % p for p in extra]


@case("unloadRemoved=true = kustomize build of deploy/ with components/unload-removed")
def _():
    tree = os.path.join(work, "opt-in")
    shutil.copytree(os.path.join(root, "deploy"), os.path.join(tree, "deploy"), ignore=shutil.ignore_patterns("chart"))
    os.mkdir(os.path.join(tree, "overlay"))
    with open(os.path.join(tree, "overlay", "kustomization.yaml"), "w") as f:
        f.write("resources:\n- ../deploy\ncomponents:\n- ../deploy/components/unload-removed\n")
    objs = template("--set", "unloadRemoved=true")
    problems, _n = compare.compare(kust(os.path.join(tree, "overlay")), copy.deepcopy(objs))
    if pod(objs)["hostPID"] is not True or agent(objs)["args"][-1] != "--unload-removed":
        problems.append("hostPID %r, args %r" % (pod(objs)["hostPID"], agent(objs)["args"]))
    if pod(default)["hostPID"] is not False or "--unload-removed" in agent(default)["args"]:
        problems.append("the default has hostPID or --unload-removed")
    return problems


# --- each value ----------------------------------------------------------------

@case("image: repository and tag; digest wins over the tag; pullPolicy")
def _():
    p = []
    a = agent(template("--set", "image.repository=registry.example.com:5000/team/profiled",
                       "--set", "image.tag=v1.2.3", "--set", "image.pullPolicy=Always"))
    if a["image"] != "registry.example.com:5000/team/profiled:v1.2.3" or a["imagePullPolicy"] != "Always":
        p.append("image %r pull %r" % (a["image"], a["imagePullPolicy"]))
    d = "sha256:" + "ab" * 32
    a = agent(template("--set", "image.tag=v9", "--set", "image.digest=" + d))
    if a["image"] != "profiled@" + d:
        p.append("with a digest: %r" % a["image"])
    return p


@case("profiles.existingConfigMap: no ConfigMap of the chart, the volume names it, nothing else changes")
def _():
    objs = template("--set", "profiles.existingConfigMap=my-profiles")
    p = []
    if any(o["kind"] == "ConfigMap" for o in objs):
        p.append("the chart still makes a ConfigMap")
    vol = [v for v in pod(objs)["volumes"] if v["name"] == "profiles"][0]
    if vol != {"name": "profiles", "configMap": {"name": "my-profiles"}}:
        p.append("volume %r" % vol)
    p += same_but(default, objs, skip_kinds=("ConfigMap", "DaemonSet"))
    ds = copy.deepcopy(one(objs, "DaemonSet"))
    [v for v in ds["spec"]["template"]["spec"]["volumes"] if v["name"] == "profiles"][0]["configMap"]["name"] = "profiles"
    compare.diff(one(default, "DaemonSet"), ds, "DaemonSet", p)
    return p


@case("profiles.existingConfigMap with profiles.files is refused, saying why")
def _():
    rc, _out, err = run(helm, "template", "profiled", chart, "--set", "profiles.existingConfigMap=mine",
                        "--set-string", "profiles.files.a\\.json=x")
    if rc == 0 or "profiles.existingConfigMap is set: profiles.files must be empty" not in err:
        return ["exit %d: %s" % (rc, err.strip())]


@case("profiles.files: inline files beside the examples; examples=false leaves only them")
def _():
    src = os.path.join(work, "extra.json")
    text = '{\n  "defaultAction": "SCMP_ACT_LOG"\n}\n'
    open(src, "w").write(text)
    p = []
    data = one(template("--set-file", "profiles.files.extra\\.json=" + src,
                        "--set", "profiles.files.audit\\.json=replaced"), "ConfigMap")["data"]
    want = {f: open(os.path.join(root, "deploy", "profiles", f)).read()
            for f in os.listdir(os.path.join(root, "deploy", "profiles"))}
    want["extra.json"] = text
    want["audit.json"] = "replaced"
    if data != want:
        p.append("data keys %s, want %s (or a content differs)" % (sorted(data), sorted(want)))
    data = one(template("--set", "profiles.examples=false", "--set-file", "profiles.files.extra\\.json=" + src),
               "ConfigMap")["data"]
    if data != {"extra.json": text}:
        p.append("examples=false: %r" % sorted(data))
    return p


@case("admissionPolicy.enabled=false drops the policy and its binding, nothing else")
def _():
    objs = template("--set", "admissionPolicy.enabled=false")
    kinds = {o["kind"] for o in objs}
    p = ["%s still rendered" % k for k in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
         if k in kinds]
    p += same_but(default, objs, skip_kinds=("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"))
    if len(objs) != len(default) - 2:
        p.append("%d objects, the default has %d" % (len(objs), len(default)))
    return p


def cel_pattern(expr):
    """The RE2 pattern of the k.matches('...') in a CEL expression."""
    m = re.search(r"k\.matches\('((?:[^'\\]|\\.)*)'\)", expr)
    return m.group(1).replace("\\\\", "\\")


@case("labelDomain: --label-domain, and the policy's key pattern and messages follow it")
def _():
    objs = template("--set", "labelDomain=sec.example.com")
    p = []
    args = agent(objs)["args"]
    i = args.index("--label-domain") if "--label-domain" in args else -1
    if i < 0 or args[i + 1:i + 2] != ["sec.example.com"]:
        p.append("args %r" % args)
    if "--label-domain" in agent(default)["args"]:
        p.append("the default passes --label-domain")
    for var in ("foreignLabelChanges", "foreignAnnotationChanges"):
        pat = re.compile(cel_pattern(variable(objs, var)))
        for k in ("sec.example.com/apparmor", "seccomp.sec.example.com/x"):
            if not pat.search(k):
                p.append("%s: %r does not match %s" % (var, pat.pattern, k))
        for k in ("profiled.io/apparmor", "secXexample.com/x", "evilsec.example.com/x", "sec.example.com.evil/x"):
            if pat.search(k):
                p.append("%s: %r matches %s" % (var, pat.pattern, k))
    msgs = " ".join(v.get("messageExpression", "") for v in vap(objs)["validations"])
    if "under sec.example.com/ and *.sec.example.com/" not in msgs or "profiled.io" in msgs:
        p.append("messages: %s" % msgs)
    # the default's pattern is the kustomize base's (also checked above)
    pat = re.compile(cel_pattern(variable(default, "foreignLabelChanges")))
    if not pat.search("seccomp.profiled.io/x") or pat.search("profiledXio/x"):
        p.append("default pattern %r" % pat.pattern)
    return p


@case("startupTaint: --remove-taint and the policy's taint key; empty: neither")
def _():
    objs = template("--set", "startupTaint=example.com/wait:NoExecute")
    p = []
    args = agent(objs)["args"]
    if args[args.index("--remove-taint"):][:2] != ["--remove-taint", "example.com/wait:NoExecute"]:
        p.append("args %r" % args)
    t = variable(objs, "taintsOk")
    if "t.key == 'example.com/wait'" not in t or "profiled.io" in t:
        p.append("taintsOk: %s" % t)
    msg = [v["message"] for v in vap(objs)["validations"] if "spec" in v.get("message", "")][0]
    if not msg.endswith("but to remove the taint example.com/wait"):
        p.append("message: %r" % msg)
    objs = template("--set", "startupTaint=")
    if "--remove-taint" in agent(objs)["args"]:
        p.append("empty: args %r" % agent(objs)["args"])
    t = variable(objs, "taintsOk")
    if "t.key" in t or "variables.oldTaints.all(t, t in variables.newTaints)" not in t:
        p.append("empty: taintsOk %s" % t)
    msg = [v["message"] for v in vap(objs)["validations"] if "spec" in v.get("message", "")][0]
    if msg != "profiled may not change a Node's spec (cordon, taints, ...)":
        p.append("empty: message %r" % msg)
    return p


@case("namespace.name moves every object but the Events Role; the policy names the new user")
def _():
    objs = template("--set", "namespace.name=node-security")
    p = []
    for o in objs:
        ns = o["metadata"].get("namespace")
        want = "default" if o["kind"] in ("Role", "RoleBinding") else (
            None if o["kind"] in ("Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy",
                                  "ValidatingAdmissionPolicyBinding") else "node-security")
        if ns != want:
            p.append("%s: namespace %r, want %r" % (compare.key(o), ns, want))
        for s in o.get("subjects", []):
            if s["namespace"] != "node-security":
                p.append("%s: subject %r" % (compare.key(o), s))
    if one(objs, "Namespace")["metadata"]["name"] != "node-security":
        p.append("Namespace %r" % one(objs, "Namespace")["metadata"]["name"])
    cond = vap(objs)["matchConditions"][0]["expression"]
    if cond != 'request.userInfo.username == "system:serviceaccount:node-security:profiled"':
        p.append("matchCondition %r" % cond)
    if any(o["kind"] == "Namespace" for o in template("--set", "namespace.create=false")):
        p.append("namespace.create=false still makes the Namespace")
    return p


@case("resources, nodeSelector, tolerations, priorityClassName, hostPaths and extraArgs as given")
def _():
    vals = os.path.join(work, "v.yaml")
    with open(vals, "w") as f:
        f.write("""resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {memory: 1Gi}
nodeSelector: {node-role.example.com/secure: "yes"}
tolerations:
- {key: dedicated, operator: Equal, value: security, effect: NoSchedule}
priorityClassName: ""
hostPaths: {seccomp: /data/kubelet/seccomp/profiled, state: /data/profiled}
extraArgs: [--log-format, json, --resync-interval, 5m]
""")
    objs = template("-f", vals)
    s, a = pod(objs), agent(objs)
    p = []
    if a["resources"] != {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "1Gi"}}:
        p.append("resources %r" % a["resources"])
    # Helm merges maps of a values file into the defaults.
    if s["nodeSelector"] != {"kubernetes.io/os": "linux", "node-role.example.com/secure": "yes"}:
        p.append("nodeSelector %r" % s["nodeSelector"])
    if s["tolerations"] != [{"key": "dedicated", "operator": "Equal", "value": "security", "effect": "NoSchedule"}]:
        p.append("tolerations %r" % s["tolerations"])
    if "priorityClassName" in s:
        p.append("priorityClassName %r" % s["priorityClassName"])
    vols = {v["name"]: v.get("hostPath", {}).get("path") for v in s["volumes"]}
    if vols["seccomp"] != "/data/kubelet/seccomp/profiled" or vols["state"] != "/data/profiled":
        p.append("hostPaths %r" % vols)
    if a["args"] != agent(default)["args"] + ["--log-format", "json", "--resync-interval", "5m"]:
        p.append("args %r" % a["args"])
    return p


@case("networkPolicy: from [] admits no peer (not every peer); enabled=false drops it")
def _():
    p = []
    np = one(template("--set-json", "networkPolicy.from=[]"), "NetworkPolicy")
    if np["spec"].get("ingress", "absent") != []:
        p.append("from []: ingress %r" % np["spec"].get("ingress", "absent"))
    if any(o["kind"] == "NetworkPolicy" for o in template("--set", "networkPolicy.enabled=false")):
        p.append("enabled=false still renders it")
    return p


# --- bad values are refused by values.schema.json ------------------------------

BAD = [
    # (helm arguments, words the error must contain)
    (["--set", "image.pullPolicy=Sometimes"], ["/image/pullPolicy", "Always", "IfNotPresent", "Never"]),
    (["--set", "image.tag=not a tag"], ["/image/tag"]),
    (["--set", "image.digest=sha256:1234"], ["/image/digest"]),
    (["--set", "image.repository=Registry/Profiled"], ["/image/repository"]),
    (["--set", "imag.tag=v1"], ["imag"]),
    (["--set", "namespace.name=Profiled_System"], ["/namespace/name"]),
    (["--set", "labelDomain=Profiled_IO"], ["/labelDomain"]),
    (["--set", "labelDomain=" + "a" * 245], ["/labelDomain"]),
    (["--set", "startupTaint=profiled.io/not-ready:Sometimes"], ["/startupTaint"]),
    (["--set-string", "unloadRemoved=yes"], ["/unloadRemoved", "boolean"]),
    # (helm v4.3.2 names a wrong path for a bad key, but the key itself)
    (["--set", "profiles.files.\\.\\./x=y"], ["invalid propertyName '../x'"]),
    (["--set", "profiles.files.a\\.json=1"], ["/profiles/files/a.json", "string"]),
    (["--set", "profiles.existingConfigMap=My_ConfigMap"], ["/profiles/existingConfigMap"]),
    (["--set", "hostPaths.state=var/lib/profiled"], ["/hostPaths/state"]),
    (["--set", "hostPaths.seccomp=/var/lib/kubelet/../../etc"], ["/hostPaths/seccomp"]),
    (["--set", "resources.limits.memory=lots"], ["/resources/limits/memory"]),
    (["--set", "resources.limit.memory=1Gi"], ["limit"]),
    (["--set", "tolerations[0].operator=Maybe"], ["/tolerations/0/operator"]),
    (["--set", "priorityClassName=Node_Critical"], ["/priorityClassName"]),
    (["--set", "extraArgs=--log-format json"], ["/extraArgs", "array"]),
    (["--set-string", "admissionPolicy.enabled=false"], ["/admissionPolicy/enabled", "boolean"]),
    (["--set", "networkPolicy.from=everyone"], ["/networkPolicy/from"]),
]


@case("every bad value is refused by values.schema.json, the message naming the value (%d cases)" % len(BAD))
def _():
    p = []
    for args, words in BAD:
        rc, out, err = run(helm, "template", "profiled", chart, *args)
        if rc == 0:
            p.append("%s: accepted" % " ".join(args))
            continue
        if "values don't meet the specifications of the schema" not in err:
            p.append("%s: not refused by the schema: %s" % (" ".join(args), err.strip()))
        for w in words:
            if w not in err:
                p.append("%s: the error does not say %r: %s" % (" ".join(args), w, err.strip()))
    return p


@case("the refusal message is readable (one bad value, shown as helm prints it)")
def _():
    rc, _out, err = run(helm, "template", "profiled", chart, "--set", "image.pullPolicy=Sometimes")
    print("#   " + "\n#   ".join(err.strip().splitlines()))
    return [] if rc != 0 else ["accepted"]


shutil.rmtree(work, ignore_errors=True)
print("%d passed, %d failed, 0 skipped" % (passed, failed))
sys.exit(1 if failed else 0)
