#!/usr/bin/env python3
"""A strict stand-in for the Kubernetes API server, for black-box tests.

Serves Nodes, Namespaces and Events (core/v1 and events.k8s.io/v1) over
HTTPS with bearer-token (and client-certificate) authentication, validates
and patches the way kube-apiserver v1.37 does, and answers errors with the
same metav1.Status bodies and HTTP codes. A plain-HTTP control port on
127.0.0.1 injects faults, rotates tokens, edits nodes behind the client's
back and returns every request received. See README.md.

Usage:
  apiserver.py --certs DIR [--port 0] [--token TOKEN]... [--token-file FILE]
               [--node NAME[=LABELS_JSON]]... [--state FILE] [--ready-file PATH]
               [--out DIR] [--control-port 0] [--quiet]

Python 3.11 standard library only.
"""

import argparse
import copy
import datetime
import http.server
import json
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import apimodel as M  # noqa: E402
import patches as P  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "stand-in",
                  "gitTreeState": "clean", "buildDate": "2025-04-22T00:00:00Z", "goVersion": "go1.23.8",
                  "compiler": "gc", "platform": "linux/amd64"}
DEFAULT_USER = "system:serviceaccount:profiled:profiled"
MAX_BODY = 3 * 1024 * 1024  # apiserver's MaxRequestBodyBytes
PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml"]
DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"]
NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apiserver names.SimpleNameGenerator


def log(msg):
    sys.stderr.write("apiserver: %s\n" % msg)
    sys.stderr.flush()


def now_time():
    return M.format_time(datetime.datetime.now(datetime.timezone.utc))


def atomic_write(path, data, mode=0o644):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)
        f.flush()
        os.fchmod(f.fileno(), mode)
    os.replace(tmp, path)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------
# JSON body parsing with Go's quirks


def _sanitize(v):
    """Go's decoder replaces invalid surrogates with U+FFFD."""
    if isinstance(v, str):
        return re.sub("[\ud800-\udfff]", "\ufffd", v)
    if isinstance(v, list):
        return [_sanitize(x) for x in v]
    if isinstance(v, dict):
        return {_sanitize(k): _sanitize(x) for k, x in v.items()}
    return v


# encoding/json's scanner texts for the errors Python's decoder reports
_GO_JSON_CONTEXT = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Extra data": "after top-level value",
}


def go_syntax_error(text, e):
    """Go's json.SyntaxError text for a Python JSONDecodeError: `invalid character 'x' looking for
    beginning of value`."""
    ch = text[e.pos]
    quoted = {"'": "'\\''", '"': "'\"'"}.get(ch) or "'" + M.go_quote(ch)[1:-1] + "'"  # Go's quoteChar
    lit = {"t": "true", "f": "false", "n": "null"}.get(ch) if e.msg == "Expecting value" else None
    if lit:
        for i, want in enumerate(lit[1:], 1):
            if e.pos + i >= len(text):
                return "unexpected end of JSON input"
            if text[e.pos + i] != want:
                bad = text[e.pos + i]
                q = {"'": "'\\''", '"': "'\"'"}.get(bad) or "'" + M.go_quote(bad)[1:-1] + "'"
                return "invalid character %s in literal %s (expecting '%s')" % (q, lit, want)
    ctx = _GO_JSON_CONTEXT.get(e.msg)
    if ctx is None and e.msg == "Expecting ',' delimiter":
        # inside an array or an object? the innermost unclosed bracket decides
        depth, kind = [], None
        in_str = esc = False
        for c in text[:e.pos]:
            if in_str:
                esc, in_str = (False, True) if esc else (c == "\\", c != '"')
            elif c == '"':
                in_str = True
            elif c in "[{":
                depth.append(c)
            elif c in "]}" and depth:
                depth.pop()
        kind = depth[-1] if depth else "{"
        ctx = "after array element" if kind == "[" else "after object key:value pair"
    if ctx is None:
        ctx = "in string literal" if "control character" in e.msg else "looking for beginning of value"
    return "invalid character %s %s" % (quoted, ctx)


def parse_json(body):
    """Returns (value, duplicate-field errors). Raises ValueError with a Go-like message."""
    dups = []

    def hook(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                dups.append('duplicate field "%s"' % k)
            seen[k] = v
        return seen
    text = body.decode("utf-8", "replace")
    try:
        value = json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()):
            raise ValueError("unexpected end of JSON input") from None
        raise ValueError(go_syntax_error(text, e)) from None
    return _sanitize(value), dups


# --------------------------------------------------------------------------
# Resources


class Resource:
    def __init__(self, name, group, version, kind, store, namespaced, schema, list_kind, columns, cells):
        self.name = name
        self.group = group
        self.version = version
        self.kind = kind
        self.store = store  # storage bucket: events of both groups share one
        self.namespaced = namespaced
        self.schema = schema
        self.list_kind = list_kind
        self.columns = columns
        self.cells = cells

    @property
    def api_version(self):
        return self.group + "/" + self.version if self.group else self.version

    def to_external(self, obj):
        if self.group == "events.k8s.io":
            return M.core_to_events_v1(obj)
        return obj

    def to_internal(self, obj):
        if self.group == "events.k8s.io":
            return M.events_v1_to_core(obj)
        return obj


NODES = Resource("nodes", "", "v1", "Node", "nodes", False, M.NODE, "NodeList", M.NODE_COLUMNS, M.node_cells)
NAMESPACES = Resource("namespaces", "", "v1", "Namespace", "namespaces", False, M.NAMESPACE, "NamespaceList",
                      M.NAMESPACE_COLUMNS, M.namespace_cells)
EVENTS = Resource("events", "", "v1", "Event", "events", True, M.CORE_EVENT, "EventList", M.EVENT_COLUMNS,
                  M.event_cells)
EVENTS_V1 = Resource("events", "events.k8s.io", "v1", "Event", "events", True, M.EVENTS_V1_EVENT, "EventList",
                     M.EVENT_COLUMNS, M.event_cells)

VERBS = ["create", "delete", "get", "list", "patch", "update"]
CORE_RESOURCE_LIST = {
    "kind": "APIResourceList", "groupVersion": "v1", "resources": [
        {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event", "verbs": VERBS,
         "shortNames": ["ev"]},
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "verbs": VERBS, "shortNames": ["ns"]},
        {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node", "verbs": VERBS,
         "shortNames": ["no"]},
        {"name": "nodes/status", "singularName": "", "namespaced": False, "kind": "Node",
         "verbs": ["get", "patch", "update"]},
    ]}
EVENTS_RESOURCE_LIST = {
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "events.k8s.io/v1", "resources": [
        {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event", "verbs": VERBS,
         "shortNames": ["ev"]},
    ]}
API_GROUP_LIST = {
    "kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "events.k8s.io", "versions": [{"groupVersion": "events.k8s.io/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "events.k8s.io/v1", "version": "v1"}},
    ]}


# --------------------------------------------------------------------------
# Selectors


def _split_top(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def parse_label_selector(s):
    reqs = []
    if not s.strip():
        return reqs
    for part in _split_top(s):
        p = part.strip()
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", p)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
        elif p.startswith("!"):
            key, op, vals = p[1:].strip(), "!", set()
        elif "!=" in p:
            key, v = p.split("!=", 1)
            key, op, vals = key.strip(), "!=", {v.strip()}
        elif "==" in p:
            key, v = p.split("==", 1)
            key, op, vals = key.strip(), "=", {v.strip()}
        elif "=" in p:
            key, v = p.split("=", 1)
            key, op, vals = key.strip(), "=", {v.strip()}
        else:
            key, op, vals = p, "exists", set()
        errs = M.is_qualified_name(key) + [e for v in vals for e in M.is_valid_label_value(v)]
        if not key or errs:
            raise M.bad_request("unable to parse requirement: %s" % (errs[0] if errs else "found '', expected: "
                                                                    "identifier"))
        reqs.append((key, op, vals))
    return reqs


def match_labels(reqs, labels):
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
        if op in ("=", "in") and (not has or v not in vals):
            return False
        if op in ("!=", "notin") and has and v in vals:
            return False
    return True


def _field_getters(res):
    meta = {"metadata.name": lambda o: o["metadata"]["name"],
            "metadata.namespace": lambda o: o["metadata"].get("namespace", "")}
    if res.store == "nodes":
        meta["spec.unschedulable"] = lambda o: "true" if o.get("spec", {}).get("unschedulable") else "false"
    if res.store == "events":
        for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
            meta["involvedObject." + f] = (lambda f: lambda o: o.get("involvedObject", {}).get(f, ""))(f)
            meta["regarding." + f] = meta["involvedObject." + f]
        meta["reason"] = lambda o: o.get("reason", "")
        meta["type"] = lambda o: o.get("type", "")
        meta["source"] = lambda o: o.get("source", {}).get("component", "") or o.get("reportingComponent", "")
        meta["reportingComponent"] = lambda o: o.get("reportingComponent", "")
    if res.store == "namespaces":
        meta["status.phase"] = lambda o: o.get("status", {}).get("phase", "")
    return meta


def parse_field_selector(s, res):
    getters = _field_getters(res)
    reqs = []
    if not s.strip():
        return reqs
    for part in s.split(","):
        m = re.fullmatch(r"\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*", part)
        if not m:
            raise M.bad_request("invalid selector: '%s'; can't understand '%s'" % (s, part))
        key, op, val = m.groups()
        if key not in getters:
            raise M.bad_request('field label not supported: %s' % key)
        reqs.append((getters[key], op != "!=", val))
    return reqs


# --------------------------------------------------------------------------
# Authentication


class Auth:
    def __init__(self, tokens):
        self.lock = threading.Lock()
        self.tokens = dict(tokens)  # token -> user

    def rotate(self, token, user=None, keep_old=False):
        with self.lock:
            if user is None:
                user = next(iter(self.tokens.values()), DEFAULT_USER)
            self.tokens = dict(self.tokens) if keep_old else {}
            self.tokens[token] = user

    def check(self, header):
        """(state, user, token): state is ok, none or invalid (k8s bearer authenticator rules)."""
        if not header:
            return "none", None, None
        parts = header.split(" ", 2)
        if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
            return "none", None, None
        token = parts[1]
        with self.lock:
            user = self.tokens.get(token)
        return ("ok", user, token) if user else ("invalid", None, token)

    def current(self):
        with self.lock:
            return list(self.tokens)


def read_token_file(path):
    """kube's static token CSV (token,user,uid,"groups") or plain one-token-a-line."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(",")
            out[fields[0].strip()] = fields[1].strip().strip('"') if len(fields) > 1 else DEFAULT_USER
    return out


# --------------------------------------------------------------------------
# Fault injection


class Faults:
    KEYS = {"status", "count", "retry_after", "delay_ms", "delay_phase", "method", "path_prefix", "message",
            "body", "content_type", "format", "user", "reset", "close", "id", "mutate",
            "request_content_type"}

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1

    def add(self, rule):
        unknown = set(rule) - self.KEYS
        if unknown:
            raise ValueError("unknown fault keys: %s" % ", ".join(sorted(unknown)))
        if not any(k in rule for k in ("status", "delay_ms", "reset", "close", "mutate")):
            raise ValueError("a fault needs status, delay_ms, reset, close or mutate")
        if "mutate" in rule:
            m = rule["mutate"]
            if not (isinstance(m, dict) and isinstance(m.get("node"), str) and isinstance(m.get("patch"), dict)
                    and set(m) <= {"node", "patch", "manager"}):
                raise ValueError('mutate is {"node": NAME, "patch": {merge patch}, "manager": NAME}')
        if "status" in rule and not (isinstance(rule["status"], int) and 100 <= rule["status"] <= 599):
            raise ValueError("status must be an HTTP code")
        if "count" in rule and not (isinstance(rule["count"], int) and rule["count"] >= 1):
            raise ValueError("count must be a positive integer")
        if "delay_ms" in rule and not (isinstance(rule["delay_ms"], (int, float)) and rule["delay_ms"] >= 0):
            raise ValueError("delay_ms must be a number of milliseconds")
        if rule.get("delay_phase", "before") not in ("before", "after"):
            raise ValueError("delay_phase is before or after")
        with self.lock:
            rule = dict(rule, id=self.next_id)
            self.next_id += 1
            self.rules.append(rule)
            return rule

    def clear(self):
        with self.lock:
            self.rules = []

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def take(self, method, path, ctype=""):
        """The first rule that matches, its count used up by one."""
        with self.lock:
            for r in self.rules:
                if r.get("method") and r["method"].upper() != method:
                    continue
                if r.get("request_content_type") and r["request_content_type"] != ctype:
                    continue
                if r.get("path_prefix") and not path.startswith(r["path_prefix"]):
                    continue
                if "count" in r:
                    r["count"] -= 1
                    if r["count"] <= 0:
                        self.rules.remove(r)
                return dict(r)
        return None


# --------------------------------------------------------------------------
# Storage


class Store:
    def __init__(self, state_file=None):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1
        self.objects = {"nodes": {}, "namespaces": {}, "events": {}}  # bucket -> {(ns, name): obj}
        self.managers = {}  # (bucket, ns, name) -> patches.Managers
        self.state_file = state_file
        self.requests = []
        self.seq = 0
        self.stats = {"connections": 0, "tls_failures": 0, "tls_errors": []}
        if state_file and os.path.exists(state_file):
            self.load()

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def load(self):
        with open(self.state_file) as f:
            data = json.load(f)
        self.rv = data["rv"]
        for bucket, items in data["objects"].items():
            for o in items:
                self.objects[bucket][(o["metadata"].get("namespace", ""), o["metadata"]["name"])] = o
        for key, entries in data.get("managers", {}).items():
            bucket, ns, name = json.loads(key)
            self.managers[(bucket, ns, name)] = P.Managers.from_json(entries)

    def save(self):
        if not self.state_file:
            return
        with self.lock:
            data = {"rv": self.rv,
                    "objects": {b: list(objs.values()) for b, objs in self.objects.items()},
                    "managers": {json.dumps(list(k)): m.to_json() for k, m in self.managers.items()}}
            atomic_write(self.state_file, json.dumps(data, indent=1))

    def get(self, bucket, ns, name):
        return self.objects[bucket].get((ns, name))

    def mgr(self, bucket, ns, name):
        return self.managers.setdefault((bucket, ns, name), P.Managers())

    def put(self, bucket, obj):
        m = obj["metadata"]
        self.objects[bucket][(m.get("namespace", ""), m["name"])] = obj
        self.cond.notify_all()

    def delete(self, bucket, ns, name):
        self.objects[bucket].pop((ns, name), None)
        self.managers.pop((bucket, ns, name), None)
        self.cond.notify_all()

    def render(self, bucket, obj):
        """The stored object with its managedFields, metadata in Go field order."""
        out = copy.deepcopy(obj)
        m = out["metadata"]
        mf = self.managers.get((bucket, m.get("namespace", ""), m["name"]))
        if mf and mf.entries:
            m["managedFields"] = mf.render()
        out["metadata"] = {k: m[k] for k in M.OBJECT_META.fields if k in m}
        return out

    def record(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.requests.append(rec)
            self.cond.notify_all()


def new_node(name, labels, default_labels=True):
    t = now_time()
    lab = {}
    if default_labels:
        lab = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
               "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    lab = P.merge_patch(lab, labels or {})
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "uid": str(uuid.uuid4()), "resourceVersion": "", "creationTimestamp": t,
                         "labels": lab,
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
            "status": {
                "capacity": {"cpu": "2", "ephemeral-storage": "61202244Ki", "memory": "24576Mi", "pods": "110"},
                "allocatable": {"cpu": "2", "ephemeral-storage": "56403987978", "memory": "24474Mi",
                                "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": t,
                                "lastTransitionTime": t, "reason": "KubeletReady",
                                "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                              {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"machineID": uuid.uuid4().hex, "systemUUID": str(uuid.uuid4()),
                             "bootID": str(uuid.uuid4()), "kernelVersion": os.uname().release,
                             "osImage": "Debian GNU/Linux 13 (trixie)",
                             "containerRuntimeVersion": "containerd://1.7.24", "kubeletVersion": "v1.32.4",
                             "kubeProxyVersion": "v1.32.4", "operatingSystem": "linux", "architecture": "amd64"}}}


NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}


def node_create_defaults(obj):
    """A Node created through the API: the TaintNodesByCondition admission
    plugin adds node.kubernetes.io/not-ready:NoSchedule (the node lifecycle
    controller removes it once the kubelet posts Ready), and NodeStatus's
    struct fields daemonEndpoints and nodeInfo come back zero-valued."""
    spec = obj.setdefault("spec", {})
    taints = spec.get("taints") or []
    if not any(t.get("key") == NOT_READY_TAINT["key"] and t.get("effect") == NOT_READY_TAINT["effect"]
               for t in taints):
        spec["taints"] = taints + [dict(NOT_READY_TAINT)]
    status = obj.setdefault("status", {})
    status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 0}})
    status.setdefault("nodeInfo", {k: "" for k in (
        "machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion",
        "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture")})


def new_namespace(name):
    return {"kind": "Namespace", "apiVersion": "v1",
            "metadata": {"name": name, "uid": str(uuid.uuid4()), "resourceVersion": "",
                         "creationTimestamp": now_time(), "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


# --------------------------------------------------------------------------
# The API


class Request:
    def __init__(self, method, target, headers, body, conn_id, cert_user=None):
        self.method = method
        self.target = target
        parts = urllib.parse.urlsplit(target)
        self.path = parts.path
        self.query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.conn_id = conn_id
        self.cert_user = cert_user
        self.user = None
        self.token = None
        self.warnings = []
        self.subresource = ""

    def q(self, name, default=""):
        v = self.query.get(name)
        return v[0] if v else default

    @property
    def content_type(self):
        return self.headers.get("Content-Type", "")


class Response:
    def __init__(self, status, body=b"", content_type="application/json", headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.reset = False
        self.close = False


class ResetConnection(Exception):
    pass


class App:
    def __init__(self, args):
        self.args = args
        self.store = Store(args.state)
        self.faults = Faults()
        tokens = {}
        for t in args.token or []:
            tokens[t] = DEFAULT_USER
        if args.token_file:
            tokens.update(read_token_file(args.token_file))
        self.auth = Auth(tokens)
        self.https = None  # set by main
        self.url = None
        self.files = {}
        with self.store.lock:
            for ns in DEFAULT_NAMESPACES:
                if not self.store.get("namespaces", "", ns):
                    obj = new_namespace(ns)
                    obj["metadata"]["resourceVersion"] = self.store.next_rv()
                    self.store.put("namespaces", obj)
            for spec in args.node or []:
                name, _, labels = spec.partition("=")
                if self.store.get("nodes", "", name):
                    continue  # kept from --state
                try:
                    labels = json.loads(labels) if labels else {}
                except ValueError as e:
                    raise SystemExit("apiserver: --node %s: labels are not JSON: %s" % (name, e))
                obj = new_node(name, labels, not args.no_default_labels)
                errs = M.validate_object_meta(obj["metadata"], False, M.dns_subdomain_name_errors)
                if errs:
                    raise SystemExit("apiserver: --node %s: %s" % (name, M.aggregate([str(e) for e in errs])))
                obj["metadata"]["resourceVersion"] = self.store.next_rv()
                self.store.put("nodes", obj)
                self.store.mgr("nodes", "", name).update(None, obj, "kubelet", "v1", obj["metadata"]
                                                         ["creationTimestamp"])
            self.store.save()

    # ---------------------------------------------------------------- entry

    def handle(self, req):
        """Faults, authentication, routing. Always returns a Response (or raises ResetConnection)."""
        started = time.time()
        rec = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
               "conn": req.conn_id, "method": req.method, "path": req.target,
               "content_type": req.content_type, "user_agent": req.headers.get("User-Agent", ""),
               "accept": req.headers.get("Accept", ""), "body": _body_for_log(req.body)}
        fault = self.faults.take(req.method, req.path, req.content_type.split(";")[0].strip().lower())
        resp = None
        try:
            if fault:
                rec["fault"] = fault["id"]
                if fault.get("delay_ms") and fault.get("delay_phase", "before") == "before":
                    time.sleep(fault["delay_ms"] / 1000.0)
                if fault.get("reset"):
                    rec["status"] = "reset"
                    raise ResetConnection()
                if fault.get("mutate"):
                    rec["mutated"] = self.mutate_node(fault["mutate"])
            state, user, token = self.auth.check(req.headers.get("Authorization", ""))
            rec["token"] = token
            if state == "none" and req.cert_user:
                state, user = "ok", req.cert_user
                rec["auth"] = "cert"
            else:
                rec["auth"] = "token" if state == "ok" else state
            req.user = user
            if fault and "status" in fault:
                resp = self.fault_response(fault, req)
            elif state != "ok":
                resp = self.error(M.unauthorized())
            else:
                try:
                    resp = self.route(req)
                except Exception as e:  # a bug here must show as a 500, not as a dropped connection
                    log("internal error on %s %s:\n%s" % (req.method, req.target, traceback.format_exc()))
                    resp = self.error(M.internal_error("stand-in bug: %r" % e))
            if fault and fault.get("close"):
                resp.close = True
            if fault and fault.get("delay_ms") and fault.get("delay_phase") == "after":
                time.sleep(fault["delay_ms"] / 1000.0)
            return resp
        finally:
            if resp is not None:
                rec["status"] = resp.status
                if req.warnings:
                    rec["warnings"] = list(req.warnings)
                if resp.status >= 400:
                    rec["response"] = _body_for_log(resp.body)
            rec["ms"] = round((time.time() - started) * 1000, 1)
            self.store.record(rec)
            if not self.args.quiet:
                log("%s %s -> %s" % (req.method, req.target, rec.get("status")))

    def mutate_node(self, m):
        """A fault's `mutate`: someone else changes the node just before this request is served
        (a merge patch on the stored node, validated like the API). Returns the new resourceVersion,
        or an error text."""
        with self.store.lock:
            old = self.store.get("nodes", "", m["node"])
            if old is None:
                return "no node %s" % m["node"]
            obj = P.merge_patch(copy.deepcopy(old), m["patch"])
            try:
                obj, _ = M.decode_object(M.NODE, obj, "Strict")
            except (M.DecodeError, M.StrictError) as e:
                return str(e)
            errs = M.validate_object_meta(obj["metadata"], False, M.dns_subdomain_name_errors)
            errs += M.validate_node_taints(obj)
            if errs:
                return M.aggregate([str(e) for e in errs])
            return self.commit(NODES, obj, old, m.get("manager", "control"), False)["metadata"]["resourceVersion"]

    def error(self, err):
        headers = dict(err.headers)
        if err.text is not None:
            return Response(err.code, err.text.encode(), "text/plain; charset=utf-8", headers)
        return Response(err.code, dumps(err.status()).encode(), "application/json", headers)

    def fault_response(self, fault, req):
        code = fault["status"]
        if "body" in fault:
            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
            return Response(code, fault["body"].encode(), fault.get("content_type", "text/plain; charset=utf-8"),
                            headers)
        if fault.get("format") == "status" and code in (429, 502):
            ra = fault.get("retry_after")
            return self.error(M.ApiError(code, "TooManyRequests" if code == 429 else "",
                                         fault.get("message") or ("Too many requests, please try again later."
                                                                  if code == 429 else "Bad Gateway"),
                                         {"retryAfterSeconds": ra} if ra is not None else {},
                                         {"Retry-After": str(ra)} if ra is not None else {}))
        if code == 401:
            return self.error(M.unauthorized())
        if code == 403:
            return self.error(self.forbidden_for(req, fault.get("user") or req.user or "system:anonymous"))
        return self.error(M.injected_status(code, fault.get("message"), fault.get("retry_after")))

    def forbidden_for(self, req, user):
        path, sub = split_subresource(req.path)
        r = self.parse_path(path)
        if r is None:
            return M.forbidden(user, req.method.lower(), None, None, None, None, req.path)
        res, ns, name = r
        if sub:
            res = copy.copy(res)
            res.name = res.name + "/" + sub
        verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if name else "deletecollection"}.get(req.method, req.method.lower())
        if req.method == "GET" and req.q("watch") in ("1", "true"):
            verb = "watch"
        return M.forbidden(user, verb, res.name, res.group, ns, name)

    # -------------------------------------------------------------- routing

    @staticmethod
    def parse_path(path):
        """(Resource, namespace, name) for a resource path, else None."""
        segs = [urllib.parse.unquote(s) for s in path.strip("/").split("/")]
        if segs[:2] == ["api", "v1"]:
            rest, core = segs[2:], True
        elif segs[:3] == ["apis", "events.k8s.io", "v1"]:
            rest, core = segs[3:], False
        else:
            return None
        ns = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] in ("events",):
            ns, rest = rest[1], rest[2:]
        if not rest or len(rest) > 2:
            return None
        name = rest[1] if len(rest) == 2 else ""
        if core:
            res = {"nodes": NODES, "namespaces": NAMESPACES, "events": EVENTS}.get(rest[0])
        else:
            res = EVENTS_V1 if rest[0] == "events" else None
        if res is None or (res.name == "events" and name and not ns) or (not res.namespaced and ns):
            return None
        return res, ns, name

    def route(self, req):
        path = req.path
        try:
            if req.method == "GET" and path in ("/healthz", "/livez", "/readyz"):
                return Response(200, b"ok", "text/plain; charset=utf-8")
            if req.method == "GET" and path == "/version":
                return self.json(200, SERVER_VERSION)
            if req.method == "GET" and path == "/api":
                host = req.headers.get("Host", "127.0.0.1")
                return self.json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs":
                                       [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})
            if req.method == "GET" and path == "/api/v1":
                return self.json(200, CORE_RESOURCE_LIST)
            if req.method == "GET" and path == "/apis":
                return self.json(200, API_GROUP_LIST)
            if req.method == "GET" and path == "/apis/events.k8s.io":
                return self.json(200, API_GROUP_LIST["groups"][0] | {"kind": "APIGroup", "apiVersion": "v1"})
            if req.method == "GET" and path == "/apis/events.k8s.io/v1":
                return self.json(200, EVENTS_RESOURCE_LIST)
            path, req.subresource = split_subresource(path)
            r = self.parse_path(path)
            if r is None:
                if path.startswith("/api/") or path.startswith("/apis/") or path in ("/api", "/apis"):
                    raise M.path_not_found()
                return Response(404, b"404 page not found\n", "text/plain; charset=utf-8")
            res, ns, name = r
            if req.subresource and req.method not in ("GET", "PUT", "PATCH"):
                raise M.method_not_allowed()
            if (req.method == "GET" and req.q("watch") in ("1", "true")) or (name and req.method == "POST") or \
                    (not name and req.method in ("PUT", "PATCH")):
                raise M.method_not_allowed()
            if not name and req.method == "DELETE":
                raise M.method_not_allowed()
            handler = {"GET": self.get if name else self.list, "POST": self.create, "PUT": self.update,
                       "PATCH": self.patch, "DELETE": self.delete}.get(req.method)
            if handler is None:
                raise M.method_not_allowed()
            return handler(req, res, ns, name)
        except M.ApiError as e:
            return self.error(e)
        except P.PatchError as e:
            return self.error(e.api_error)

    def json(self, status, obj, req=None):
        headers = {}
        if req is not None and req.warnings:
            headers["Warning"] = [('299 - %s' % M.go_quote(w)) for w in req.warnings]
        return Response(status, dumps(obj).encode(), "application/json", headers)

    # ------------------------------------------------------------- helpers

    @staticmethod
    def negotiate(req):
        """('json'|'table', table_version). Raises 406."""
        accept = req.headers.get("Accept", "")
        if not accept.strip():
            return "json", None
        for part in accept.split(","):
            fields = [f.strip() for f in part.split(";")]
            mt = fields[0].lower()
            params = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
            params.pop("q", None)
            if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and mt == "application/json":
                if params.get("v") in ("v1", "v1beta1"):
                    return "table", params["v"]
                continue
            if params.get("as") or params.get("g") or params.get("v"):
                continue  # PartialObjectMetadata & co are not served; fall through
            if mt in ("application/json", "application/*", "*/*"):
                return "json", None
        raise M.not_acceptable()

    def output(self, req, res, status, obj, as_list=False, list_rv=None):
        kind, tv = self.negotiate(req)
        if kind == "table":
            objs = obj if as_list else [obj]
            internal = [res.to_internal(o) if res.group else o for o in objs]
            rows_src = internal if res.store == "events" else objs
            t = M.table(res.columns, res.cells, rows_src, list_rv, req.q("includeObject", "Metadata"),
                        "meta.k8s.io/" + tv)
            if req.q("includeObject", "Metadata") == "Object":
                for row, o in zip(t["rows"], objs):
                    row["object"] = o
            return self.json(status, t, req)
        if as_list:
            items = []
            for o in obj:
                o = dict(o)
                o.pop("kind", None)
                o.pop("apiVersion", None)
                items.append(o)
            return self.json(status, {"kind": res.list_kind, "apiVersion": res.api_version,
                                      "metadata": {"resourceVersion": list_rv}, "items": items}, req)
        return self.json(status, obj, req)

    def external(self, res, obj):
        return res.to_external(self.store.render(res.store, obj))

    def field_validation(self, req):
        fv = req.q("fieldValidation", "")
        if fv not in ("", "Ignore", "Warn", "Strict"):
            raise M.bad_request('fieldValidation must be one of "Ignore", "Warn", or "Strict"')
        return fv or "Warn"

    def dry_run(self, req):
        vals = req.query.get("dryRun", [])
        for v in vals:
            if v != "All":
                raise M.invalid("CreateOptions", "meta.k8s.io", "",
                                [M.f_not_supported("dryRun", v, ["All"])])
        return bool(vals)

    def manager_name(self, req):
        fm = req.q("fieldManager", "")
        if fm:
            return fm
        ua = req.headers.get("User-Agent", "")
        return ua.split("/", 1)[0][:128]

    def read_body(self, req, kind_for_errors, version):
        if req.content_type.split(";")[0].strip().lower() not in ("application/json", "application/yaml"):
            raise M.unsupported_media_type_route()
        try:
            obj, dups = parse_json(req.body)
        except ValueError as e:
            # no apiVersion/kind could be read: transformDecodeError's form,
            # with summarizeData of the body (30 bytes, hex unless it starts with "{")
            body = req.body
            if not body:
                summary = "<empty>"
            elif body[:1] == b"{":
                summary = body[:30].decode("utf-8", "replace") + (" ..." if len(body) > 30 else "")
            else:
                summary = body[:30].hex() + (" ..." if len(body) > 30 else "")
            raise M.bad_request("the object provided is unrecognized (must be of type %s): couldn't get "
                                "version/kind; json parse error: %s (%s)" % (kind_for_errors, e, summary)) from None
        if not isinstance(obj, dict):
            raise M.bad_request("Object 'Kind' is missing in '%s'" % req.body.decode("utf-8", "replace"))
        return obj, dups

    def check_type(self, res, obj):
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if av and av != res.api_version:
            raise M.bad_request("the API version in the data (%s) does not match the expected API version (%s)"
                                % (av, res.api_version))
        if kind and kind != res.kind:
            raise M.bad_request("the kind in the data (%s) does not match the expected kind (%s)" % (kind, res.kind))

    def decode_body(self, req, res, obj, dups, directive):
        try:
            norm, warns = M.decode_object(res.schema, obj, directive)
        except M.DecodeError as e:
            raise M.bad_request('%s in version "%s" cannot be handled as a %s: %s'
                                % (res.kind, res.version, res.kind, e)) from None
        except M.StrictError as e:
            raise M.bad_request('%s in version "%s" cannot be handled as a %s: %s'
                                % (res.kind, res.version, res.kind,
                                   "strict decoding error: " + ", ".join(dups + e.errs))) from None
        if dups and directive == "Strict":
            raise M.bad_request('%s in version "%s" cannot be handled as a %s: strict decoding error: %s'
                                % (res.kind, res.version, res.kind, ", ".join(dups)))
        if directive == "Warn":
            req.warnings.extend(dups + warns)
        return with_type(res, norm)

    def validate_create(self, res, obj):
        meta = obj["metadata"]
        if res.store == "nodes":
            errs = M.validate_object_meta(meta, False, M.dns_subdomain_name_errors)
            errs += M.validate_node_taints(obj)
        elif res.store == "namespaces":
            errs = M.validate_object_meta(meta, False, lambda n, p: M.is_dns1123_label(n))
        else:
            errs = M.validate_event_create(obj, res.group == "events.k8s.io")
            if self.args.strict_core_events and not res.group:
                errs += M.lint_core_event(obj)
        if errs:
            raise M.invalid(res.kind, res.group, meta.get("name", ""), errs)
        # then the generic ObjectMeta checks every resource gets
        errs = M.validate_object_meta(meta, res.namespaced, M.path_segment_name_errors)
        if errs:
            raise M.invalid(res.kind, res.group, meta.get("name", ""), errs)

    def validate_update(self, res, new, old):
        # rest.BeforeUpdate: validateCommonFields, then the strategy's ValidateUpdate
        errs = M.validate_object_meta(new["metadata"], res.namespaced, M.path_segment_name_errors)
        errs += M.validate_object_meta_update(new["metadata"], old["metadata"])
        if res.store in ("nodes", "namespaces"):
            errs += M.validate_object_meta_update(new["metadata"], old["metadata"])
        if res.store == "nodes":
            errs += M.validate_node_taints(new)
        else:
            errs += M.validate_event_update(new, old, res.group == "events.k8s.io")
            if self.args.strict_core_events and not res.group:
                errs += M.lint_core_event(new)
        if errs:
            raise M.invalid(res.kind, res.group, new["metadata"].get("name", ""), errs)

    def ensure_namespace(self, res, ns):
        if res.namespaced and not self.store.get("namespaces", "", ns):
            raise M.not_found("namespaces", "", ns)

    def lookup(self, res, ns, name):
        obj = self.store.get(res.store, ns, name)
        if obj is None:
            raise M.not_found(res.name, res.group, name)
        return obj

    def commit(self, res, obj, old, manager, dry_run, apply_managers=None):
        """Store obj (internal form) unless it is a no-op; returns the stored object."""
        meta = obj["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        if old is not None:
            same = {k: v for k, v in obj.items()}
            if _strip_rv(same) == _strip_rv(old) and apply_managers is None:
                return old  # kube skips the write: no new resourceVersion
        if dry_run:
            obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"] if old else ""
            return obj
        t = now_time()
        mgr = self.store.mgr(res.store, ns, name)
        if apply_managers is not None:
            self.store.managers[(res.store, ns, name)] = apply_managers
            if old is not None and _strip_rv(obj) == _strip_rv(old) and \
                    _mgr_key(apply_managers) == _mgr_key(mgr):
                return old
        else:  # ownership is recorded in the request's version of the object
            mgr.update(res.to_external(old) if old else None, res.to_external(obj), manager, res.api_version, t)
        meta["resourceVersion"] = self.store.next_rv()
        self.store.put(res.store, obj)
        self.store.save()
        return obj

    # ------------------------------------------------------------ handlers

    def check_read_rv(self, req):
        """The storage parses a read's resourceVersion with strconv.ParseUint (APIObjectVersioner):
        a value that is not a uint64 is a storage.InvalidError, which the handler does not map to an
        API status: 500 with no reason and the error text, as kube answers."""
        rv = req.q("resourceVersion", "")
        if rv and not (re.fullmatch(r"[0-9]+", rv) and int(rv) < 1 << 64):
            why = "invalid syntax" if not re.fullmatch(r"[0-9]+", rv) else "value out of range"
            raise M.ApiError(500, None, 'resourceVersion: Invalid value: %s: strconv.ParseUint: parsing %s: %s'
                             % (M.go_quote(rv), M.go_quote(rv), why))

    def get(self, req, res, ns, name):
        self.check_read_rv(req)
        with self.store.lock:
            obj = self.lookup(res, ns, name)
            return self.output(req, res, 200, self.external(res, obj))

    def list(self, req, res, ns, name):
        self.check_read_rv(req)
        lsel = parse_label_selector(req.q("labelSelector"))
        fsel = parse_field_selector(req.q("fieldSelector"), res)
        with self.store.lock:
            items = []
            for (ons, _), obj in sorted(self.store.objects[res.store].items()):
                if ns and ons != ns:
                    continue
                if not match_labels(lsel, obj["metadata"].get("labels", {})):
                    continue
                if not all((get(obj) == val) == eq for get, eq, val in fsel):
                    continue
                items.append(self.external(res, obj))
            return self.output(req, res, 200, items, as_list=True, list_rv=str(self.store.rv))

    def create(self, req, res, ns, name):
        directive = self.field_validation(req)
        dry = self.dry_run(req)
        body, dups = self.read_body(req, res.kind, res.version)
        self.check_type(res, body)
        obj = res.to_internal(self.decode_body(req, res, body, dups, directive))
        meta = obj["metadata"]
        if res.namespaced:
            if not meta.get("namespace"):
                meta["namespace"] = ns
            elif meta["namespace"] != ns:
                raise M.bad_request("the namespace of the provided object does not match the namespace sent "
                                    "on the request")
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            raise M.bad_request("resourceVersion should not be set on objects to be created")
        with self.store.lock:
            self.ensure_namespace(res, ns)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + "".join(random.choice(NAME_CHARS) for _ in range(5))
            meta.pop("managedFields", None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_time()
            meta.pop("generation", None)
            meta = obj["metadata"] = {k: meta[k] for k in M.OBJECT_META.fields if k in meta}
            if res.kind == "Node":
                node_create_defaults(obj)
            self.validate_create(res, obj)
            if self.store.get(res.store, ns, meta["name"]) is not None:
                raise M.already_exists(res.name, res.group, meta["name"])
            stored = self.commit(res, obj, None, self.manager_name(req), dry)
            return self.output(req, res, 201, self.external(res, stored))

    def update(self, req, res, ns, name):
        directive = self.field_validation(req)
        dry = self.dry_run(req)
        body, dups = self.read_body(req, res.kind, res.version)
        self.check_type(res, body)
        obj = res.to_internal(self.decode_body(req, res, body, dups, directive))
        meta = obj["metadata"]
        if meta.get("name", "") != name:
            raise M.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                % (meta.get("name", ""), name))
        if res.namespaced:
            if not meta.get("namespace"):
                meta["namespace"] = ns
            elif meta["namespace"] != ns:
                raise M.bad_request("the namespace of the provided object does not match the namespace sent "
                                    "on the request")
        with self.store.lock:
            old = self.store.get(res.store, ns, name)
            if old is None:
                if res.store != "events":  # only events allow create-on-update
                    raise M.not_found(res.name, res.group, name)
                meta.pop("resourceVersion", None)
                self.ensure_namespace(res, ns)
                meta["uid"] = str(uuid.uuid4())
                meta["creationTimestamp"] = now_time()
                self.validate_create(res, obj)
                stored = self.commit(res, obj, None, self.manager_name(req), dry)
                return self.output(req, res, 201, self.external(res, stored))
            self.prepare_update(res, obj, old, req.subresource)
            self.validate_update(res, obj, old)
            stored = self.commit(res, obj, old, self.manager_name(req), dry)
            return self.output(req, res, 200, self.external(res, stored))

    def prepare_update(self, res, obj, old, sub=""):
        """rest.BeforeUpdate's fix-ups and the storage's resourceVersion precondition. Nodes:
        nodeStrategy.PrepareForUpdate keeps the old status (a write of the main resource cannot
        change it); nodeStatusStrategy.PrepareForUpdate (nodes/NAME/status) keeps the old spec and
        nothing else: metadata written through status is kept, as kube does."""
        if res.store == "nodes":
            keep = "spec" if sub == "status" else "status"
            if keep in old:
                obj[keep] = copy.deepcopy(old[keep])
            else:
                obj.pop(keep, None)
        meta, ometa = obj["metadata"], old["metadata"]
        if meta.get("uid") and meta["uid"] != ometa["uid"]:
            raise M.conflict(res.name, res.group, ometa["name"],
                             "Precondition failed: UID in precondition: %s, UID in object meta: %s"
                             % (meta["uid"], ometa["uid"]))
        rv = meta.get("resourceVersion", "")
        if rv and rv != ometa["resourceVersion"]:
            raise M.conflict(res.name, res.group, ometa["name"])
        meta["resourceVersion"] = ometa["resourceVersion"]
        meta["uid"] = ometa["uid"]
        meta["creationTimestamp"] = ometa["creationTimestamp"]
        if "generation" in ometa:
            meta["generation"] = ometa["generation"]
        else:
            meta.pop("generation", None)
        meta.pop("managedFields", None)
        obj["metadata"] = {k: meta[k] for k in M.OBJECT_META.fields if k in meta}

    def patch(self, req, res, ns, name):
        ctype = req.content_type.split(";")[0].strip().lower()
        if ctype not in PATCH_TYPES:
            raise M.unsupported_media_type_route()
        self.validate_patch_options(req, ctype)
        directive = self.field_validation(req)
        dry = self.dry_run(req)
        if len(req.body) > MAX_BODY:
            raise M.too_large(MAX_BODY)
        try:
            patch, dups = parse_json(req.body)
        except ValueError as e:
            if ctype == "application/apply-patch+yaml":
                raise M.bad_request("error decoding YAML: %s (this stand-in reads the JSON form of YAML only)"
                                    % e) from None
            # v1.37 checks that a JSON patch body is valid JSON before anything
            # else, whatever the patch type and fieldValidation (checked
            # against the real server)
            raise M.bad_request("invalid JSON patch") from None
        if ctype == "application/merge-patch+json" and not isinstance(patch, dict) and patch is not None:
            # decoded into a map first: kjson's error for anything else
            raise M.bad_request("error decoding patch: json: cannot unmarshal %s into Go value of type "
                                "map[string]interface {}" % M.json_type(patch))
        with self.store.lock:
            old = self.store.get(res.store, ns, name)
            if old is None and ctype != "application/apply-patch+yaml":
                raise M.not_found(res.name, res.group, name)
            if old is not None:
                current = self.external(res, old)
                current["metadata"].pop("managedFields", None)
            else:
                current = None
            apply_mgrs = None
            if ctype == "application/apply-patch+yaml":
                patched, apply_mgrs = self.apply(req, res, ns, name, current, patch)
            elif ctype == "application/merge-patch+json":
                patched = P.merge_patch(current, patch)
            elif ctype == "application/strategic-merge-patch+json":
                patched = P.strategic_merge_patch(current, patch)
            else:
                patched = P.json_patch(current, P.decode_json_patch(patch))
            try:
                norm, warns = M.decode_object(res.schema, patched, directive)
            except M.DecodeError as e:
                # a strategic merge patch is quoted as the patch map, %v
                value = M.go_value(patch) if ctype == "application/strategic-merge-patch+json" else dumps(patched)
                raise M.invalid("", "", "", [M.f_invalid("patch", value, str(e))]) from None
            except M.StrictError as e:
                raise M.invalid("", "", "", [M.f_invalid("patch", dumps(patched), "strict decoding error: "
                                                         + ", ".join(dups + e.errs))]) from None
            if dups and directive == "Strict":
                raise M.invalid("", "", "", [M.f_invalid("patch", dumps(patched), "strict decoding error: "
                                                         + ", ".join(dups))])
            if directive == "Warn":
                req.warnings.extend(dups + warns)
            obj = res.to_internal(with_type(res, norm))
            meta = obj["metadata"]
            if res.namespaced:
                if not meta.get("namespace"):
                    meta["namespace"] = ns
                elif meta["namespace"] != ns:
                    raise M.bad_request("the namespace of the provided object does not match the namespace "
                                        "sent on the request")
            if meta.get("name", "") != name:
                raise M.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                    % (meta.get("name", ""), name))
            if old is None:  # server-side apply creating the object
                self.ensure_namespace(res, ns)
                meta.pop("resourceVersion", None)
                meta["uid"] = str(uuid.uuid4())
                meta["creationTimestamp"] = now_time()
                self.validate_create(res, obj)
                stored = self.commit(res, obj, None, req.q("fieldManager"), dry, apply_mgrs)
                return self.output(req, res, 201, self.external(res, stored))
            self.prepare_update(res, obj, old, req.subresource)
            self.validate_update(res, obj, old)
            stored = self.commit(res, obj, old, self.manager_name(req), dry, apply_mgrs)
            return self.output(req, res, 200, self.external(res, stored))

    def validate_patch_options(self, req, ctype):
        errs = []
        fm = req.q("fieldManager", "")
        if ctype != "application/apply-patch+yaml":
            if "force" in req.query:
                errs.append(M.f_forbidden("force", "may not be specified for non-apply patch"))
        elif not fm:
            errs.append(M.f_required("fieldManager", "is required for apply patch"))
        if M.blen(fm) > 128:
            errs.append(M.FieldError(M.TOO_LONG, "fieldManager", "", "may not be longer than 128"))
        if any(not ch.isprintable() for ch in fm):
            errs.append(M.f_invalid("fieldManager", fm, "must only contain printable characters"))
        if errs:
            raise M.invalid("PatchOptions", "meta.k8s.io", "", errs)

    def apply(self, req, res, ns, name, current, config):
        if not isinstance(config, dict):
            raise M.bad_request("error decoding YAML: the apply configuration is not an object")
        if config.get("apiVersion") != res.api_version:
            raise M.bad_request("Incorrect version specified in apply patch. Specified patch version: %s, "
                                "expected: %s" % (config.get("apiVersion", ""), res.api_version))
        if config.get("kind") != res.kind:
            raise M.bad_request("invalid object type: %s, Kind=%s" % (res.api_version, config.get("kind", "")))
        cmeta = config.get("metadata") or {}
        if "managedFields" in cmeta:
            raise M.bad_request("metadata.managedFields must be nil")
        rv = cmeta.get("resourceVersion")
        if rv and current is not None and rv != current["metadata"]["resourceVersion"]:
            raise M.conflict(res.name, res.group, name)
        try:
            M.decode(res.schema, config, [])
        except M.DecodeError as e:
            raise M.invalid("", "", "", [M.f_invalid("patch", dumps(config), str(e))]) from None
        mgrs = P.Managers.from_json(self.store.mgr(res.store, ns, name).to_json())
        force = req.q("force", "false") in ("true", "1")
        base = current if current is not None else {"kind": res.kind, "apiVersion": res.api_version,
                                                    "metadata": {"name": name}}
        cfg = copy.deepcopy(config)
        cfg["metadata"] = {k: v for k, v in cmeta.items() if k not in ("resourceVersion", "uid", "name",
                                                                     "namespace")}
        result = mgrs.apply(base, cfg, req.q("fieldManager"), res.api_version, now_time(), force)
        result["metadata"].setdefault("name", cmeta.get("name", name))
        return result, mgrs

    def delete(self, req, res, ns, name):
        with self.store.lock:
            obj = self.lookup(res, ns, name)
            if not self.dry_run(req):
                self.store.delete(res.store, ns, name)
                self.store.save()
            return self.json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "details": M._details(name=name, group=res.group, kind=res.name) |
                                   {"uid": obj["metadata"]["uid"]}})


def split_subresource(path):
    """("/api/v1/nodes/N", "status") for "/api/v1/nodes/N/status"; (path, "") otherwise. Only
    nodes/status is served."""
    segs = path.strip("/").split("/")
    if len(segs) == 5 and segs[:3] == ["api", "v1", "nodes"] and segs[4] == "status":
        return "/" + "/".join(segs[:4]), "status"
    return path, ""


def with_type(res, obj):
    """obj with kind and apiVersion first, as Go's TypeMeta is written."""
    out = {"kind": res.kind, "apiVersion": res.api_version}
    out.update((k, v) for k, v in obj.items() if k not in ("kind", "apiVersion"))
    return out


def _strip_rv(obj):
    o = copy.deepcopy(obj)
    o["metadata"].pop("resourceVersion", None)
    o["metadata"].pop("managedFields", None)
    return o


def _mgr_key(m):
    return sorted((e["manager"], e["operation"], sorted(e["paths"])) for e in m.entries)


def _body_for_log(body):
    if not body:
        return None
    if len(body) > 65536:
        return {"truncated": True, "bytes": len(body), "head": body[:1024].decode("utf-8", "replace")}
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


# --------------------------------------------------------------------------
# HTTPS front end


def read_request_body(handler):
    """The whole body (Content-Length or chunked). Raises ApiError 413 when too large."""
    te = handler.headers.get("Transfer-Encoding", "")
    if te.lower() == "chunked":
        out = bytearray()
        while True:
            line = handler.rfile.readline(65537)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            if len(out) + size > MAX_BODY:
                handler.close_connection = True
                raise M.too_large(MAX_BODY)
            out += handler.rfile.read(size)
            handler.rfile.readline(3)
    n = int(handler.headers.get("Content-Length", "0") or "0")
    if n > MAX_BODY:
        handler.close_connection = True
        raise M.too_large(MAX_BODY)
    return handler.rfile.read(n) if n > 0 else b""


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-stand-in/1.32"
    sys_version = ""
    timeout = 300  # idle keep-alive connections

    def _dispatch(self):
        app = self.server.app
        try:
            body = read_request_body(self)
        except M.ApiError as e:
            self._send(app.error(e))
            return
        except (ValueError, OSError):
            self.close_connection = True
            return
        req = Request(self.command, self.path, _CaseHeaders(self.headers), body, self.conn_id, self.cert_user)
        resp = app.handle(req)
        self._send(resp)

    def _send(self, resp):
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in resp.headers.items():
            for one in (v if isinstance(v, list) else [v]):
                self.send_header(k, one)
        if resp.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, fmt, *args):
        pass  # App.handle logs one line per request


class _CaseHeaders:
    """Case-insensitive read access to an http.client.HTTPMessage."""

    def __init__(self, msg):
        self.msg = msg

    def get(self, name, default=""):
        v = self.msg.get(name)
        return default if v is None else v


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, app, ctx, front):
        self.app = app
        self.ctx = ctx
        self.front = front
        super().__init__(addr, ApiHandler)

    def server_bind(self):
        # HTTPServer.server_bind would call getfqdn(): a DNS lookup, slow where DNS is broken.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        front = self.front
        conn_id = front.new_conn()
        sock = request
        front.track(sock)
        try:
            mode = front.down_mode
            if mode == "reset":
                _reset(sock)
                return
            if mode == "hang":
                front.up_event.wait(60)
                return
            sock.settimeout(10)  # TLS handshake
            try:
                sock = self.ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                front.tls_failure(str(e))
                return
            front.untrack(request)
            front.track(sock)
            sock.settimeout(None)
            cert_user = None
            try:
                peer = sock.getpeercert()
                if peer:
                    subj = dict(x[0] for x in peer.get("subject", ()))
                    cert_user = subj.get("commonName")
            except (ValueError, OSError):
                pass
            handler_cls = type("H", (ApiHandler,), {"conn_id": conn_id, "cert_user": cert_user})
            try:
                handler_cls(sock, client_address, self)
            except ResetConnection:
                _reset(sock)
            except (OSError, ssl.SSLError):
                pass
        finally:
            front.untrack(sock)
            front.untrack(request)
            try:
                sock.close()
            except OSError:
                pass

    def shutdown_request(self, request):
        try:
            request.close()
        except OSError:
            pass

    def handle_error(self, request, client_address):
        pass  # connection-level noise (client went away) is not interesting


def _reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class HttpsFront:
    """The HTTPS listener, which can go down (refuse/reset/hang) and come back on the same port."""

    def __init__(self, app, ctx, host, port):
        self.app = app
        self.ctx = ctx
        self.host = host
        self.port = port
        self.lock = threading.Lock()
        self.live = set()
        self.server = None
        self.thread = None
        self.down_mode = None
        self.up_event = threading.Event()
        self.up_event.set()
        self.conns = 0

    def new_conn(self):
        with self.lock:
            self.conns += 1
            n = self.conns
        with self.app.store.lock:  # never hold both locks: go_down takes them in the other order
            self.app.store.stats["connections"] = max(n, self.app.store.stats["connections"])
        return n

    def tls_failure(self, why):
        with self.app.store.lock:
            st = self.app.store.stats
            st["tls_failures"] += 1
            st["tls_errors"] = (st["tls_errors"] + [why])[-20:]

    def track(self, s):
        with self.lock:
            self.live.add(s)

    def untrack(self, s):
        with self.lock:
            self.live.discard(s)

    def start(self):
        self.server = TLSServer((self.host, self.port), self.app, self.ctx, self)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True, name="https")
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        self.kill_connections()

    def kill_connections(self):
        with self.lock:
            live = list(self.live)
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def go_down(self, mode):
        if mode not in ("refuse", "reset", "hang"):
            raise ValueError("mode is refuse, reset or hang")
        with self.app.store.lock:
            if self.down_mode:
                self.go_up()
            self.down_mode = mode
            if mode == "hang":
                self.up_event.clear()
            if mode == "refuse":
                self.stop()
            else:
                self.kill_connections()

    def go_up(self):
        with self.app.store.lock:
            mode, self.down_mode = self.down_mode, None
            self.up_event.set()
            if mode == "refuse":
                for _ in range(50):
                    try:
                        self.start()
                        break
                    except OSError:
                        time.sleep(0.05)
                else:
                    raise RuntimeError("cannot bind port %d again" % self.port)
            elif mode == "hang":
                self.kill_connections()


# --------------------------------------------------------------------------
# Control API (plain HTTP, 127.0.0.1)


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apiserver-control"
    sys_version = ""

    def _dispatch(self):
        app = self.server.app
        n = int(self.headers.get("Content-Length", "0") or "0")
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as e:
            return self._send(400, {"error": "body is not JSON: %s" % e})
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        try:
            status, out = Control(app).handle(self.command, u.path, q, body)
        except (ValueError, KeyError, TypeError) as e:
            status, out = 400, {"error": str(e)}
        except M.ApiError as e:
            status, out = e.code, e.status()
        self._send(status, out)

    def _send(self, status, obj):
        data = (json.dumps(obj, indent=1) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, fmt, *args):
        pass


class ControlServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, app):
        self.app = app
        super().__init__(addr, ControlHandler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class Control:
    def __init__(self, app):
        self.app = app
        self.store = app.store

    def handle(self, method, path, q, body):
        segs = path.strip("/").split("/")
        if segs[0] != "control" or len(segs) < 2:
            return 404, {"error": "unknown control path %s" % path}
        what = segs[1]
        arg = "/".join(segs[2:])
        fn = getattr(self, "c_%s_%s" % (method.lower(), what.replace("-", "_")), None)
        if fn is None:
            return 404, {"error": "no %s %s" % (method, path)}
        return fn(arg, q, body)

    # health and stats
    def c_get_health(self, arg, q, body):
        return 200, {"ok": True, "down": self.app.https.down_mode}

    def c_get_stats(self, arg, q, body):
        with self.store.lock:
            return 200, dict(self.store.stats, requests=len(self.store.requests),
                             down=self.app.https.down_mode, resourceVersion=str(self.store.rv))

    # faults
    def c_post_fault(self, arg, q, body):
        if not isinstance(body, dict):
            raise ValueError("a fault is a JSON object")
        if "down" in body:
            if body["down"]:
                self.app.https.go_down(body.get("mode", "refuse"))
            else:
                self.app.https.go_up()
            return 200, {"down": self.app.https.down_mode}
        return 200, self.app.faults.add(body)

    def c_get_faults(self, arg, q, body):
        return 200, self.app.faults.list()

    def c_delete_faults(self, arg, q, body):
        self.app.faults.clear()
        return 200, []

    c_post_clear_faults = c_delete_faults

    def c_post_down(self, arg, q, body):
        self.app.https.go_down(body.get("mode", "refuse"))
        return 200, {"down": self.app.https.down_mode}

    def c_post_up(self, arg, q, body):
        self.app.https.go_up()
        return 200, {"down": None}

    # tokens
    def c_post_rotate_token(self, arg, q, body):
        token = body["token"]
        if not isinstance(token, str) or not token or any(c.isspace() for c in token):
            raise ValueError("token must be a non-empty string without spaces")
        self.app.auth.rotate(token, body.get("user"), bool(body.get("keep_old")))
        if body.get("write_files", True):
            write_client_files(self.app, token)
        return 200, {"tokens": self.app.auth.current()}

    def c_get_tokens(self, arg, q, body):
        return 200, {"tokens": self.app.auth.current()}

    # requests
    def _filtered(self, q):
        with self.store.lock:
            out = []
            for r in self.store.requests:
                if q.get("method") and r["method"] != q["method"].upper():
                    continue
                if q.get("path_prefix") and not r["path"].startswith(q["path_prefix"]):
                    continue
                if q.get("since") and r["seq"] <= int(q["since"]):
                    continue
                out.append(r)
            return out

    def c_get_requests(self, arg, q, body):
        return 200, self._filtered(q)

    def c_post_reset_requests(self, arg, q, body):
        with self.store.lock:
            self.store.requests = []
        return 200, []

    c_delete_requests = c_post_reset_requests

    def c_get_wait(self, arg, q, body):
        """Block until ?requests=N matching requests (method, path_prefix, since) or ?events=N events exist."""
        deadline = time.time() + float(q.get("timeout", "10"))
        with self.store.cond:
            while True:
                if "requests" in q:
                    n = len(self._filtered(q))
                    if n >= int(q["requests"]):
                        return 200, {"ok": True, "requests": n}
                elif "events" in q:
                    n = len(self.store.objects["events"])
                    if n >= int(q["events"]):
                        return 200, {"ok": True, "events": n}
                else:
                    raise ValueError("wait needs requests=N or events=N")
                left = deadline - time.time()
                if left <= 0:
                    return 408, {"ok": False, "requests" if "requests" in q else "events": n}
                self.store.cond.wait(left)

    # nodes
    def c_get_nodes(self, arg, q, body):
        with self.store.lock:
            if not arg:
                return 200, [self.store.render("nodes", o) for o in self.store.objects["nodes"].values()]
            obj = self.store.get("nodes", "", arg)
            if obj is None:
                raise M.not_found("nodes", "", arg)
            return 200, self.store.render("nodes", obj)

    def c_put_nodes(self, arg, q, body):
        """Set labels/annotations/spec/status of node `arg` (created when missing), as another manager."""
        if not arg:
            raise ValueError("PUT /control/nodes/NAME")
        with self.store.lock:
            old = self.store.get("nodes", "", arg)
            obj = copy.deepcopy(old) if old else new_node(arg, {}, not self.app.args.no_default_labels)
            if "metadata" in body:
                obj["metadata"].update({k: v for k, v in body["metadata"].items()
                                        if k in ("labels", "annotations")})
            for k in ("labels", "annotations"):
                if k in body:
                    obj["metadata"][k] = body[k]
            for k in ("spec", "status"):
                if k in body:
                    obj[k] = body[k]
            return self._store_node(obj, old, body.get("manager", "control"))

    def c_patch_nodes(self, arg, q, body):
        """An RFC 7386 merge patch applied to node `arg` as another manager (no API request is logged)."""
        with self.store.lock:
            old = self.store.get("nodes", "", arg)
            if old is None:
                raise M.not_found("nodes", "", arg)
            manager = body.pop("manager", "control") if isinstance(body, dict) else "control"
            obj = P.merge_patch(copy.deepcopy(old), body)
            return self._store_node(obj, old, manager)

    def _store_node(self, obj, old, manager):
        try:
            obj, _ = M.decode_object(M.NODE, obj, "Strict")
        except (M.DecodeError, M.StrictError) as e:
            raise ValueError(str(e)) from None
        obj["metadata"]["name"] = obj["metadata"].get("name") or old["metadata"]["name"]
        errs = M.validate_object_meta(obj["metadata"], False, M.dns_subdomain_name_errors)
        errs += M.validate_node_taints(obj)
        if errs:
            raise M.invalid("Node", "", obj["metadata"]["name"], errs)
        if old is None:
            stored = self.app.commit(NODES, obj, None, manager, False)
        else:
            stored = self.app.commit(NODES, obj, old, manager, False)
        return 200, self.store.render("nodes", stored)

    def c_delete_nodes(self, arg, q, body):
        with self.store.lock:
            if self.store.get("nodes", "", arg) is None:
                raise M.not_found("nodes", "", arg)
            self.store.delete("nodes", "", arg)
            self.store.save()
        return 200, {"deleted": arg}

    # events
    def c_get_events(self, arg, q, body):
        with self.store.lock:
            out = [self.store.render("events", o) for _, o in sorted(self.store.objects["events"].items())]
        if q.get("api") == "events.k8s.io/v1":
            out = [M.core_to_events_v1(e) for e in out]
        return 200, out

    def c_delete_events(self, arg, q, body):
        with self.store.lock:
            self.store.objects["events"] = {}
            self.store.managers = {k: v for k, v in self.store.managers.items() if k[0] != "events"}
            self.store.save()
        return 200, []


# --------------------------------------------------------------------------
# Files for clients


def _yq(s):
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def kubeconfig_text(url, ca, token=None, token_file=None, cert=None, key=None):
    user = []
    if token is not None:
        user.append("    token: %s" % _yq(token))
    if token_file is not None:
        user.append("    tokenFile: %s" % _yq(token_file))
    if cert is not None:
        user.append("    client-certificate: %s" % _yq(cert))
        user.append("    client-key: %s" % _yq(key))
    return "\n".join([
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: stand-in",
        "  cluster:",
        "    server: %s" % _yq(url),
        "    certificate-authority: %s" % _yq(ca),
        "users:",
        "- name: profiled",
        "  user:",
    ] + user + [
        "contexts:",
        "- name: stand-in",
        "  context:",
        "    cluster: stand-in",
        "    user: profiled",
        "    namespace: default",
        "current-context: stand-in",
        "",
    ])


def write_client_files(app, token=None):
    f = app.files
    if token is None:
        tokens = app.auth.current()
        token = tokens[0] if tokens else ""
    atomic_write(f["token_file"], token, 0o600)
    atomic_write(f["kubeconfig"], kubeconfig_text(app.url, f["ca"], token=token), 0o600)
    atomic_write(f["kubeconfig_tokenfile"], kubeconfig_text(app.url, f["ca"], token_file=f["token_file"]), 0o600)
    if f.get("kubeconfig_cert"):
        atomic_write(f["kubeconfig_cert"], kubeconfig_text(app.url, f["ca"], cert=f["client_cert"],
                                                           key=f["client_key"]), 0o600)


def ensure_certs(d):
    need = ["ca.crt", "server.crt", "server.key"]
    if all(os.path.exists(os.path.join(d, n)) for n in need):
        return
    r = subprocess.run(["bash", os.path.join(HERE, "mkcerts.sh"), d], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("apiserver: mkcerts.sh failed:\n" + r.stdout + r.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--certs", required=True, help="folder with ca.crt, server.crt, server.key "
                                                   "(made by mkcerts.sh when missing)")
    ap.add_argument("--port", type=int, default=0, help="HTTPS port on 127.0.0.1 (0: pick a free one)")
    ap.add_argument("--control-port", type=int, default=0, help="plain-HTTP control port (0: free one)")
    ap.add_argument("--token", action="append", help="a valid bearer token (repeatable)")
    ap.add_argument("--token-file", help="valid tokens, one a line, or kube's token,user,uid CSV")
    ap.add_argument("--node", action="append", metavar="NAME[=LABELS_JSON]",
                    help="a Node to serve; labels merge over kubelet-like defaults (null removes one)")
    ap.add_argument("--no-default-labels", action="store_true", help="nodes start with only the given labels")
    ap.add_argument("--state", help="JSON file: loaded at start when present, rewritten after every change")
    ap.add_argument("--ready-file", help="written (atomically) with port, url, ca, control... once serving")
    ap.add_argument("--out", help="where kubeconfig, kubeconfig-tokenfile, kubeconfig-cert and token are "
                                  "written (default: --certs)")
    ap.add_argument("--strict-core-events", action="store_true",
                    help="stricter than kube: core/v1 Events must have involvedObject kind and name, reason, "
                         "message and type Normal or Warning")
    ap.add_argument("--no-client-certs", action="store_true", help="do not ask for client certificates")
    ap.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process goes away")
    ap.add_argument("--max-lifetime", type=float, default=0, help="exit after this many seconds (0: never)")
    ap.add_argument("--quiet", action="store_true", help="no line per request on stderr")
    args = ap.parse_args(argv)
    if not args.token and not args.token_file:
        ap.error("give --token or --token-file")

    certs = os.path.abspath(args.certs)
    os.makedirs(certs, exist_ok=True)
    ensure_certs(certs)
    out = os.path.abspath(args.out or certs)
    os.makedirs(out, exist_ok=True)
    if args.ready_file and os.path.exists(args.ready_file):
        os.unlink(args.ready_file)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(certs, "server.crt"), os.path.join(certs, "server.key"))
    ctx.set_alpn_protocols(["http/1.1"])
    if not args.no_client_certs:
        ctx.load_verify_locations(os.path.join(certs, "ca.crt"))
        ctx.verify_mode = ssl.CERT_OPTIONAL

    app = App(args)
    front = HttpsFront(app, ctx, "127.0.0.1", args.port)
    front.start()
    app.https = front
    app.url = "https://127.0.0.1:%d" % front.port
    control = ControlServer(("127.0.0.1", args.control_port), app)
    cthread = threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                               name="control")
    cthread.start()
    cport = control.server_address[1]

    app.files = {"ca": os.path.join(certs, "ca.crt"), "token_file": os.path.join(out, "token"),
                 "kubeconfig": os.path.join(out, "kubeconfig"),
                 "kubeconfig_tokenfile": os.path.join(out, "kubeconfig-tokenfile")}
    if os.path.exists(os.path.join(certs, "client.crt")) and not args.no_client_certs:
        app.files.update(kubeconfig_cert=os.path.join(out, "kubeconfig-cert"),
                         client_cert=os.path.join(certs, "client.crt"),
                         client_key=os.path.join(certs, "client.key"))
    write_client_files(app)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    ready = {"port": front.port, "url": app.url, "ca": app.files["ca"], "control": cport,
             "control_url": "http://127.0.0.1:%d" % cport, "kubeconfig": app.files["kubeconfig"],
             "kubeconfig_tokenfile": app.files["kubeconfig_tokenfile"],
             "kubeconfig_cert": app.files.get("kubeconfig_cert"), "token_file": app.files["token_file"],
             "pid": os.getpid()}
    if args.ready_file:
        atomic_write(args.ready_file, json.dumps(ready, indent=1) + "\n")
    log("serving %s (control http://127.0.0.1:%d)" % (app.url, cport))

    parent = os.getppid()
    started = time.time()
    while not stop.wait(0.2):
        if args.exit_with_parent and os.getppid() != parent:
            log("parent went away")
            break
        if args.max_lifetime and time.time() - started > args.max_lifetime:
            log("max lifetime reached")
            break

    log("shutting down")
    control.shutdown()
    control.server_close()
    front.up_event.set()
    front.stop()
    app.store.save()
    if args.ready_file:
        try:
            os.unlink(args.ready_file)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
