#!/usr/bin/env python3
"""Self-test of the API server stand-in, with urllib/http.client and with the real kubectl.

Starts apiserver.py on a free port (ready-file handshake), checks what a
client sees, stops it with SIGTERM. Prints "ok N - ..." / "not ok N - ..."
lines and closes with "N passed, N failed[, N skipped]". Exit 0 when
nothing failed, else 1. kubectl checks are skipped (not failed) when no
kubectl is installed.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "tok-one"
NODE = "node-a"


class Result:
    def __init__(self):
        self.n = self.passed = self.failed = self.skipped = 0

    def check(self, name, cond, detail=""):
        self.n += 1
        if cond:
            self.passed += 1
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            for line in str(detail).splitlines()[:15]:
                print("#   " + line)
        sys.stdout.flush()
        return cond

    def skip(self, name, why):
        self.n += 1
        self.skipped += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why))


R = Result()


class Server:
    def __init__(self, tmp, certs, extra=(), name="s"):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.ready_path = os.path.join(self.dir, "ready.json")
        self.log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.state = os.path.join(self.dir, "state.json")
        cmd = [sys.executable, os.path.join(HERE, "apiserver.py"), "--certs", certs, "--out", self.dir,
               "--port", "0", "--token", TOKEN, "--node", NODE + '={"team":"blue"}', "--node", "node-b",
               "--state", self.state, "--ready-file", self.ready_path, "--exit-with-parent"] + list(extra)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        deadline = time.time() + 15
        while not os.path.exists(self.ready_path):
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit("apiserver did not become ready; see %s" % self.log.name)
            time.sleep(0.02)
        with open(self.ready_path) as f:
            self.ready = json.load(f)
        self.ctx = ssl.create_default_context(cafile=self.ready["ca"])

    def conn(self, timeout=5, host="127.0.0.1", ctx=None):
        return http.client.HTTPSConnection(host, self.ready["port"], timeout=timeout, context=ctx or self.ctx)

    def api(self, method, path, body=None, ctype=None, token=TOKEN, headers=None, timeout=5, conn=None):
        """(status, headers, parsed body)."""
        c = conn or self.conn(timeout)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = ctype or "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        if conn is None:
            c.close()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return r.status, r.headers, parsed

    def ctl(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.ready["control_url"] + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode


def patch_node(s, body, ctype="application/merge-patch+json", query="", **kw):
    return s.api("PATCH", "/api/v1/nodes/%s%s" % (NODE, query), body, ctype, **kw)


def labels_of(s, name=NODE):
    return s.api("GET", "/api/v1/nodes/" + name)[2]["metadata"].get("labels", {})


def is_status(body, code, reason):
    return (isinstance(body, dict) and body.get("kind") == "Status" and body.get("apiVersion") == "v1"
            and body.get("status") == "Failure" and body.get("code") == code and body.get("reason") == reason)


QNAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
             "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
             "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
             "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
             "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def test_auth(s):
    st, _, b = s.api("GET", "/api/v1/nodes/" + NODE, token=None)
    R.check("no token: 401 Unauthorized Status", st == 401 and is_status(b, 401, "Unauthorized")
            and b["message"] == "Unauthorized", (st, b))
    st, _, b = s.api("GET", "/api/v1/nodes/" + NODE, token="wrong")
    R.check("wrong token: 401 Unauthorized Status", st == 401 and is_status(b, 401, "Unauthorized"), (st, b))
    st, _, b = s.api("GET", "/version", token="wrong")
    R.check("wrong token on /version: 401", st == 401, st)


def test_reads(s):
    st, _, b = s.api("GET", "/api/v1/nodes/" + NODE)
    R.check("GET node", st == 200 and b["kind"] == "Node" and b["apiVersion"] == "v1"
            and b["metadata"]["name"] == NODE and b["metadata"]["labels"]["team"] == "blue"
            and b["metadata"]["labels"]["kubernetes.io/hostname"] == NODE
            and isinstance(b["metadata"]["resourceVersion"], str) and b["metadata"]["uid"]
            and b["metadata"]["creationTimestamp"].endswith("Z"), b)
    st, _, b = s.api("GET", "/api/v1/nodes/nope")
    R.check("GET unknown node: 404 NotFound, nodes \"nope\" not found",
            st == 404 and is_status(b, 404, "NotFound") and b["message"] == 'nodes "nope" not found'
            and b["details"] == {"name": "nope", "kind": "nodes"}, (st, b))
    st, _, b = s.api("GET", "/api/v1/nodes")
    R.check("GET NodeList", st == 200 and b["kind"] == "NodeList"
            and sorted(i["metadata"]["name"] for i in b["items"]) == [NODE, "node-b"]
            and "kind" not in b["items"][0], b)
    st, _, b = s.api("GET", "/api/v1/nodes?labelSelector=team%3Dblue")
    R.check("labelSelector", st == 200 and [i["metadata"]["name"] for i in b["items"]] == [NODE], b)
    st, _, b = s.api("GET", "/api/v1/foos")
    R.check("unknown resource: 404 Status", st == 404 and is_status(b, 404, "NotFound"), (st, b))
    st, _, b = s.api("GET", "/api/v1")
    R.check("discovery /api/v1", st == 200 and {r["name"] for r in b["resources"]} >= {"nodes", "events"}, b)


def test_patch_types(s):
    rv0 = s.api("GET", "/api/v1/nodes/" + NODE)[2]["metadata"]["resourceVersion"]
    st, _, b = patch_node(s, {"metadata": {"labels": {"profiled.io/seccomp": "enabled"}}})
    R.check("merge-patch sets a label and bumps resourceVersion",
            st == 200 and b["metadata"]["labels"]["profiled.io/seccomp"] == "enabled"
            and int(b["metadata"]["resourceVersion"]) > int(rv0), (st, b))
    rv1 = b["metadata"]["resourceVersion"]
    st, _, b = patch_node(s, {"metadata": {"labels": {"profiled.io/seccomp": "enabled"}}})
    R.check("a no-op patch keeps the resourceVersion", st == 200 and b["metadata"]["resourceVersion"] == rv1,
            (st, b.get("metadata")))
    st, _, b = patch_node(s, {"metadata": {"labels": {"profiled.io/seccomp": None}}})
    R.check("merge-patch null removes a label", st == 200 and "profiled.io/seccomp" not in
            b["metadata"]["labels"] and b["metadata"]["labels"]["team"] == "blue", (st, b))
    st, _, b = patch_node(s, {"metadata": {"labels": {"seccomp.profiled.io/x": "true"},
                                           "annotations": {"profiled.io/profiles": "[]"}}},
                          "application/strategic-merge-patch+json")
    R.check("strategic-merge-patch on labels and annotations",
            st == 200 and b["metadata"]["labels"]["seccomp.profiled.io/x"] == "true"
            and b["metadata"]["annotations"]["profiled.io/profiles"] == "[]", (st, b))
    st, _, b = patch_node(s, [{"op": "add", "path": "/metadata/labels/apparmor.profiled.io~1p1", "value": "true"},
                              {"op": "test", "path": "/metadata/labels/team", "value": "blue"},
                              {"op": "remove", "path": "/metadata/labels/seccomp.profiled.io~1x"}],
                          "application/json-patch+json")
    R.check("json-patch add/test/remove with ~1",
            st == 200 and b["metadata"]["labels"].get("apparmor.profiled.io/p1") == "true"
            and "seccomp.profiled.io/x" not in b["metadata"]["labels"], (st, b))
    st, _, b = patch_node(s, [{"op": "test", "path": "/metadata/labels/team", "value": "red"}],
                          "application/json-patch+json")
    R.check("json-patch failed test: 422 generic Invalid",
            st == 422 and is_status(b, 422, "Invalid") and b["details"] == {}
            and b["message"] == "the server rejected our request due to an error in our request", (st, b))
    cfg = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE, "labels": {"profiled.io/apparmor":
                                                                                     "enabled"}}}
    st, _, b = patch_node(s, cfg, "application/apply-patch+yaml")
    R.check("apply-patch without fieldManager: 422 PatchOptions Invalid",
            st == 422 and is_status(b, 422, "Invalid") and b["details"]["kind"] == "PatchOptions"
            and b["details"]["causes"][0]["field"] == "fieldManager", (st, b))
    st, _, b = patch_node(s, cfg, "application/apply-patch+yaml", "?fieldManager=profiled")
    R.check("apply-patch with fieldManager sets the label",
            st == 200 and b["metadata"]["labels"]["profiled.io/apparmor"] == "enabled"
            and any(m["manager"] == "profiled" and m["operation"] == "Apply"
                    for m in b["metadata"]["managedFields"]), (st, b))
    cfg2 = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE, "labels": {"team": "red"}}}
    st, _, b = patch_node(s, cfg2, "application/apply-patch+yaml", "?fieldManager=profiled")
    R.check("apply over another manager's label: 409 conflict",
            st == 409 and is_status(b, 409, "Conflict") and ".metadata.labels.team" in b["message"], (st, b))
    st, _, b = patch_node(s, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}},
                          "application/apply-patch+yaml", "?fieldManager=profiled")
    R.check("apply without a previously applied label removes it",
            st == 200 and "profiled.io/apparmor" not in b["metadata"]["labels"], (st, b))
    st, _, b = patch_node(s, {"metadata": {}}, "text/plain")
    R.check("other content type: 415 UnsupportedMediaType",
            st == 415 and is_status(b, 415, "UnsupportedMediaType"), (st, b))


def test_validation(s):
    st, _, b = patch_node(s, {"metadata": {"labels": {"bad key": "x"}}})
    causes = b.get("details", {}).get("causes", []) if isinstance(b, dict) else []
    R.check("bad label key: 422 Invalid with causes",
            st == 422 and is_status(b, 422, "Invalid") and b["details"]["name"] == NODE
            and b["details"]["kind"] == "Node" and causes
            and all(c == {"reason": "FieldValueInvalid", "message": 'Invalid value: "bad key": ' + QNAME_MSG,
                          "field": "metadata.labels"} for c in causes)
            and b["message"] == 'Node "%s" is invalid: metadata.labels: Invalid value: "bad key": %s'
            % (NODE, QNAME_MSG), (st, b))
    st, _, b = patch_node(s, {"metadata": {"labels": {"profiled.io/x": "no spaces"}}})
    R.check("bad label value: 422 with the label-value message",
            st == 422 and b["details"]["causes"][0]["message"] == 'Invalid value: "no spaces": ' + VALUE_MSG, (st, b))
    st, _, b = patch_node(s, {"metadata": {"labels": {"x" * 64: "v", "y": "v" * 64}}})
    msgs = {c["message"] for c in b.get("details", {}).get("causes", [])} if isinstance(b, dict) else set()
    R.check("64-char label name and value: too long",
            st == 422 and 'Invalid value: "%s": name part must be no more than 63 bytes' % ("x" * 64) in msgs
            and 'Invalid value: "%s": must be no more than 63 bytes' % ("v" * 64) in msgs, (st, b))
    st, _, b = patch_node(s, {"metadata": {"labels": {"Bad_Prefix/x": "v"}}})
    R.check("bad label prefix: prefix part message",
            st == 422 and "prefix part a lowercase RFC 1123 subdomain" in b["message"], (st, b))
    big = "a" * (256 * 1024)
    st, _, b = patch_node(s, {"metadata": {"annotations": {"profiled.io/profiles": big}}})
    R.check("annotations over 256 KiB: 422 Too long",
            st == 422 and {"reason": "FieldValueTooLong", "message": "Too long: must have at most 262144 bytes",
                           "field": "metadata.annotations"} in b["details"]["causes"], (st, str(b)[:500]))
    st, _, b = patch_node(s, {"metadata": {"labels": {"profiled.io/x": True}}})
    R.check("non-string label value: 422 decoding error on field patch",
            st == 422 and b["details"]["causes"][0]["field"] == "patch"
            and "cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string"
            in b["message"], (st, str(b)[:300]))
    st, h, b = patch_node(s, {"metadata": {"lables": {"a": "b"}}})
    R.check("unknown field: 200 with a Warning header (fieldValidation=Warn)",
            st == 200 and h.get("Warning") == '299 - "unknown field \\"metadata.lables\\""', (st, h.get("Warning")))
    st, _, b = patch_node(s, {"metadata": {"lables": {"a": "b"}}}, query="?fieldValidation=Strict")
    R.check("unknown field with fieldValidation=Strict: 422",
            st == 422 and 'strict decoding error: unknown field \\"metadata.lables\\"' in json.dumps(b), (st, b))
    node = s.api("GET", "/api/v1/nodes/" + NODE)[2]
    st, _, b = patch_node(s, {"metadata": {"resourceVersion": str(int(node["metadata"]["resourceVersion"]) - 1),
                                           "labels": {"a": "b"}}})
    R.check("stale metadata.resourceVersion: 409 Conflict",
            st == 409 and is_status(b, 409, "Conflict") and b["details"] == {"name": NODE, "kind": "nodes"}
            and b["message"] == 'Operation cannot be fulfilled on nodes "%s": the object has been modified; please '
            'apply your changes to the latest version and try again' % NODE, (st, b))
    st, _, b = patch_node(s, {"metadata": {"resourceVersion": node["metadata"]["resourceVersion"],
                                           "labels": {"a": "b"}}})
    R.check("current metadata.resourceVersion: 200", st == 200 and labels_of(s)["a"] == "b", (st, b))
    st, _, b = s.api("PATCH", "/api/v1/nodes/nope", {"metadata": {}}, "application/merge-patch+json")
    R.check("PATCH unknown node: 404", st == 404 and b["message"] == 'nodes "nope" not found', (st, b))
    st, _, b = patch_node(s, {"metadata": {"name": "other"}})
    R.check("patch changing the name: 400", st == 400 and is_status(b, 400, "BadRequest"), (st, b))


def test_real_v137(s):
    """Answers checked against a real kube-apiserver v1.37.2 (see README, "Aligned with v1.37")."""
    # 1. one cause per distinct error, though ObjectMeta and the Node strategy both report it
    key = "seccomp.profiled.io/bad label"
    st, _, b = patch_node(s, {"metadata": {"labels": {key: "x"}}})
    want = {"reason": "FieldValueInvalid", "message": 'Invalid value: "%s": %s' % (key, QNAME_MSG),
            "field": "metadata.labels"}
    R.check("v1.37: invalid label key in a merge patch: exactly one cause",
            st == 422 and is_status(b, 422, "Invalid") and b["details"]["causes"] == [want]
            and b["message"] == 'Node "%s" is invalid: metadata.labels: Invalid value: "%s": %s'
            % (NODE, key, QNAME_MSG), (st, b))
    # the same through PUT and through events.k8s.io (validated twice there)
    node = s.api("GET", "/api/v1/nodes/" + NODE)[2]
    node["metadata"]["labels"]["bad key"] = "x"
    st, _, b = s.api("PUT", "/api/v1/nodes/" + NODE, node)
    R.check("v1.37: invalid label key in a PUT: exactly one cause",
            st == 422 and len(b["details"]["causes"]) == 1, (st, b))
    ev = {"apiVersion": "events.k8s.io/v1", "kind": "Event",
          "metadata": {"name": "dup-causes", "labels": {"bad key": "x"}},
          "regarding": {"apiVersion": "v1", "kind": "Node", "name": NODE}, "reason": "R", "type": "Normal",
          "action": "A", "reportingController": "profiled.io/agent", "reportingInstance": "i",
          "eventTime": "2025-01-01T00:00:00.000000Z"}
    st, _, b = s.api("POST", "/apis/events.k8s.io/v1/namespaces/default/events", ev)
    R.check("v1.37: invalid label key on an events.k8s.io event: exactly one cause",
            st == 422 and [c["field"] for c in b["details"]["causes"]] == ["metadata.labels"], (st, b))
    # 2. the content package's wording: bytes, "a valid label key"; names keep "characters"
    cases = [
        ({"y" * 64: "v"}, 'Invalid value: "%s": name part must be no more than 63 bytes' % ("y" * 64)),
        ({"k": "w" * 64}, 'Invalid value: "%s": must be no more than 63 bytes' % ("w" * 64)),
        ({"p" * 254 + "/k": "v"}, 'Invalid value: "%s/k": prefix part must be no more than 253 bytes' % ("p" * 254)),
        ({"a/b/c": "v"}, "Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, "
         "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
         "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional "
         "DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"),
    ]
    for labels, msg in cases:
        st, _, b = patch_node(s, {"metadata": {"labels": labels}})
        msgs = [c["message"] for c in b.get("details", {}).get("causes", [])] if isinstance(b, dict) else []
        R.check("v1.37 wording: %s" % msg[:90], st == 422 and msg in msgs, (st, b))
    taint = {"key": "a/b/c", "value": "v" * 64, "effect": "NoSchedule"}
    st, _, b = patch_node(s, {"spec": {"taints": [taint]}})
    fields = {c["field"]: c["message"] for c in b.get("details", {}).get("causes", [])} if isinstance(b, dict) else {}
    R.check("v1.37 wording: taint key and value",
            st == 422 and "a valid label key" in fields.get("metadata.taints[0].key", "")
            and fields.get("metadata.taints[0].value") == 'Invalid value: "%s": must be no more than 63 bytes' % ("v" * 64), (st, b))
    st, _, b = s.api("POST", "/api/v1/nodes", {"metadata": {"name": "n" * 254}})
    R.check("v1.37 wording: a Node name over 253 keeps util/validation's 'characters'",
            st == 422 and "metadata.name: Invalid value: \"%s\": must be no more than 253 characters" % ("n" * 254)
            in b["message"], (st, b))
    # 3. a Content-Type no PATCH route consumes: go-restful's 415 through the apiserver's Status
    st, h, b = patch_node(s, {"metadata": {}}, "text/plain")
    R.check("v1.37: PATCH text/plain: 415 '415: Unsupported Media Type'",
            st == 415 and b == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": "415: Unsupported Media Type", "reason": "UnsupportedMediaType",
                                "details": {}, "code": 415}
            and h.get("Content-Type") == "application/json", (st, h.get("Content-Type"), b))
    st, _, b = s.api("POST", "/api/v1/namespaces/default/events", "x", "text/plain")
    R.check("v1.37: POST text/plain: the same 415",
            st == 415 and is_status(b, 415, "UnsupportedMediaType") and b["message"] == "415: Unsupported Media Type",
            (st, b))
    # 4. a patch body that is not JSON: 400 "invalid JSON patch", whatever the patch type and
    # fieldValidation (the handler checks the body before decoding it)
    for ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                  "application/json-patch+json"):
        for body, query in (("not json", ""), ("<xml/>", ""), ('{"metadata": {"labels": {"a" "b"}}}', ""),
                            ("not json", "?fieldValidation=Ignore"), ("not json", "?fieldValidation=Strict")):
            st, _, b = patch_node(s, body, ctype, query=query)
            R.check("v1.37: %s %r%s: 400 'invalid JSON patch'" % (ctype, body, query),
                    st == 400 and b == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                        "message": "invalid JSON patch", "reason": "BadRequest", "code": 400},
                    (st, b))
    # 5. a read whose resourceVersion is not a number: the storage's ParseUint error, 500, no reason
    for path in ("/api/v1/nodes/" + NODE, "/api/v1/nodes"):
        st, _, b = s.api("GET", path + "?resourceVersion=abc")
        R.check("v1.37: GET %s?resourceVersion=abc: 500 without a reason" % path,
                st == 500 and b == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                    "message": 'resourceVersion: Invalid value: "abc": strconv.ParseUint: '
                                    'parsing "abc": invalid syntax', "code": 500}, (st, b))
    st, _, b = s.api("GET", "/api/v1/nodes/%s?resourceVersion=0" % NODE)
    R.check("v1.37: GET with resourceVersion=0 still 200", st == 200, (st, b))
    test_real_v137_more(s)
    # Events: involvedObject.namespace must match; an involved object without one (a Node) puts the
    # Event in "default" (or no namespace)
    core = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ns-mismatch", "namespace": "kube-system"},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "p", "namespace": "default"},
            "reason": "R", "message": "m", "type": "Normal"}
    st, _, b = s.api("POST", "/api/v1/namespaces/kube-system/events", core)
    R.check("v1.37: core event whose involvedObject.namespace differs: 422",
            st == 422 and b["details"]["causes"] == [{"reason": "FieldValueInvalid", "message":
                                                       'Invalid value: "default": does not match event.namespace',
                                                       "field": "involvedObject.namespace"}], (st, b))
    core["involvedObject"]["namespace"] = "kube-system"
    st, _, b = s.api("POST", "/api/v1/namespaces/kube-system/events", core)
    R.check("v1.37: core event whose involvedObject.namespace matches: 201", st == 201, (st, b))


def test_real_v137_more(s):
    """Found by running api.bats' and ready.bats' cases against a real v1.37.2 (test/bats/realapi.bats)
    and the same requests against both (see README, "Aligned with v1.37")."""
    st, _, b = s.api("DELETE", "/api/v1/nodes/v137-node")
    # 6. a Node created through the API: TaintNodesByCondition's not-ready taint, zero NodeStatus structs
    st, _, b = s.api("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "v137-node"}})
    R.check("v1.37: POST a Node: node.kubernetes.io/not-ready:NoSchedule added, daemonEndpoints and nodeInfo zero",
            st == 201 and b["spec"].get("taints") == [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
            and b["status"].get("daemonEndpoints") == {"kubeletEndpoint": {"Port": 0}}
            and b["status"].get("nodeInfo", {}).get("kubeletVersion") == "", (st, b))
    path = "/api/v1/nodes/v137-node"
    # 7. a strategic merge patch adding a condition: it goes before the live ones; a patched one keeps its place
    smp = "application/strategic-merge-patch+json"
    cond = {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z",
            "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "KubeletReady", "message": "m"}
    s.api("PATCH", path + "/status", {"status": {"conditions": [cond]}}, "application/merge-patch+json")
    st, _, b = s.api("PATCH", path + "/status", {"status": {"conditions": [dict(cond, type="ProfilesReady")]}}, smp)
    R.check("v1.37: SMP of a new condition: it comes first",
            st == 200 and [c["type"] for c in b["status"]["conditions"]] == ["ProfilesReady", "Ready"], (st, b))
    st, _, b = s.api("PATCH", path + "/status", {"status": {"conditions": [dict(cond, message="again")]}}, smp)
    R.check("v1.37: SMP of an existing condition: the order is kept",
            st == 200 and [c["type"] for c in b["status"]["conditions"]] == ["ProfilesReady", "Ready"], (st, b))
    # 8. a condition's times are metav1.Time: null when not sent, an SMP with a bad one is refused
    # quoting the patch as Go's %v of its map
    st, _, b = s.api("PATCH", path + "/status", {"status": {"conditions": [{"type": "NoTimes", "status": "True"}]}}, smp)
    got = [c for c in (b.get("status", {}).get("conditions") or []) if c["type"] == "NoTimes"] if st == 200 else b
    R.check("v1.37: a condition without times: both null",
            st == 200 and got[0].get("lastHeartbeatTime", 1) is None and got[0].get("lastTransitionTime", 1) is None,
            (st, got))
    for value, why in (("yesterday", 'cannot parse "yesterday" as "2006"'), ("2026-01-01", 'cannot parse "" as "T"')):
        patch = {"status": {"conditions": [{"type": "X", "status": "True", "lastTransitionTime": value}]}}
        st, _, b = s.api("PATCH", path + "/status", patch, smp)
        want = ('Invalid value: "map[status:map[conditions:[map[lastTransitionTime:%s status:True type:X]]]]": '
                'parsing time "%s" as "2006-01-02T15:04:05Z07:00": %s' % (value, value, why))
        R.check("v1.37: SMP with lastTransitionTime %r: 422 quoting the patch map" % value,
                st == 422 and is_status(b, 422, "Invalid")
                and b["details"]["causes"] == [{"reason": "FieldValueInvalid", "message": want, "field": "patch"}],
                (st, b))
    # 9. taints are validated under metadata.taints; a duplicate is shown as the internal core.Taint
    st, _, b = s.api("PATCH", path, {"spec": {"taints": [{"key": "x"}]}}, "application/merge-patch+json")
    R.check("v1.37: a taint without effect: metadata.taints[0].effect",
            st == 422 and b["message"] == 'Node "v137-node" is invalid: metadata.taints[0].effect: Required value',
            (st, b))
    dup = [{"key": "x", "effect": "NoSchedule"}, {"key": "x", "effect": "NoSchedule"}]
    st, _, b = s.api("PATCH", path, {"spec": {"taints": dup}}, "application/merge-patch+json")
    R.check("v1.37: a duplicate taint: metadata.taints[1], the value as core.Taint",
            st == 422 and b["message"] == 'Node "v137-node" is invalid: metadata.taints[1]: Duplicate value: '
            '{"Key":"x","Value":"","Effect":"NoSchedule","TimeAdded":null}: taints must be unique by key and effect '
            'pair', (st, b))
    # 10. JSON patch bodies of the wrong shape: the handler's own []jsonPatchOp
    jp = "application/json-patch+json"
    for body, want in (({"a": 1}, "array"), ('"x"', "string"), ([1], "element")):
        st, _, b = s.api("PATCH", path, body, jp)
        msg = ("error decoding patch: json: cannot unmarshal number into Go value of type handlers.jsonPatchOp"
               if want == "element" else "error decoding patch: json: cannot unmarshal %s into Go value of type "
               "[]handlers.jsonPatchOp" % ("object" if want == "array" else "string"))
        R.check("v1.37: JSON patch %r: 400 %r" % (body, msg), st == 400 and b.get("message") == msg, (st, b))
    # 11. a JSON patch replace of a missing map key adds it
    st, _, b = s.api("PATCH", path, [{"op": "replace", "path": "/metadata/labels", "value": {}},
                                     {"op": "replace", "path": "/metadata/labels/new", "value": "x"}], jp)
    R.check("v1.37: JSON patch replace of a missing key: 200, added",
            st == 200 and b["metadata"]["labels"] == {"new": "x"}, (st, b))
    st, _, b = s.api("PATCH", path, [{"op": "remove", "path": "/metadata/labels/nope"}], jp)
    R.check("v1.37: JSON patch remove of a missing key: still 422", st == 422, (st, b))
    # 12. a merge patch that is JSON but not an object: decoded into a map first
    st, _, b = s.api("PATCH", path, [1], "application/merge-patch+json")
    R.check("v1.37: merge patch [1]: 400 'cannot unmarshal array into ... map[string]interface {}'",
            st == 400 and b.get("message") == "error decoding patch: json: cannot unmarshal array into Go value of "
            "type map[string]interface {}", (st, b))
    # 13. a POST body that is not JSON: no kind could be read, the body summarized in hex
    st, _, b = s.api("POST", "/api/v1/namespaces/default/events", "not json", "application/json")
    R.check("v1.37: POST 'not json': 'the object provided is unrecognized ...' with the body in hex",
            st == 400 and b.get("message") == "the object provided is unrecognized (must be of type Event): couldn't "
            "get version/kind; json parse error: invalid character 'o' in literal null (expecting 'u') "
            "(6e6f74206a736f6e)", (st, b))
    s.api("DELETE", path)


def test_events(s):
    ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": NODE + ".load1", "namespace": "default"},
          "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": NODE, "uid": NODE},
          "reason": "ProfileLoaded", "message": "loaded audit", "type": "Normal",
          "source": {"component": "profiled", "host": NODE},
          "firstTimestamp": "2025-01-01T00:00:00Z", "lastTimestamp": "2025-01-01T00:00:00Z", "count": 1}
    st, _, b = s.api("POST", "/api/v1/namespaces/default/events", ev)
    R.check("POST core/v1 event: 201", st == 201 and b["metadata"]["uid"] and b["count"] == 1
            and b["reason"] == "ProfileLoaded", (st, b))
    st, _, b = s.api("POST", "/api/v1/namespaces/default/events", ev)
    R.check("POST same name: 409 AlreadyExists",
            st == 409 and is_status(b, 409, "AlreadyExists")
            and b["message"] == 'events "%s.load1" already exists' % NODE, (st, b))
    st, _, b = s.api("POST", "/api/v1/namespaces/nope/events", dict(ev, metadata={"generateName": "x."}))
    R.check("POST in an unknown namespace: 404 namespaces \"nope\" not found",
            st == 404 and b["message"] == 'namespaces "nope" not found', (st, b))
    gen = dict(ev, metadata={"generateName": NODE + "."})
    st, _, b = s.api("POST", "/api/v1/namespaces/default/events", gen)
    R.check("generateName", st == 201 and b["metadata"]["name"].startswith(NODE + ".")
            and len(b["metadata"]["name"]) == len(NODE) + 6, (st, b))
    st, _, b = s.api("PATCH", "/api/v1/namespaces/default/events/%s.load1" % NODE,
                     {"count": 2, "lastTimestamp": "2025-01-01T00:01:00Z"}, "application/strategic-merge-patch+json")
    R.check("PATCH core event count (aggregation)", st == 200 and b["count"] == 2
            and b["lastTimestamp"] == "2025-01-01T00:01:00Z", (st, b))
    v1 = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": NODE + ".rej1"},
          "regarding": {"apiVersion": "v1", "kind": "Node", "name": NODE}, "reason": "ProfileRejected",
          "note": "line 3: syntax error", "type": "Warning", "action": "Load",
          "reportingController": "profiled.io/agent", "reportingInstance": "profiled-" + NODE,
          "eventTime": "2025-01-01T00:00:00.000000Z"}
    st, _, b = s.api("POST", "/apis/events.k8s.io/v1/namespaces/default/events", v1)
    R.check("POST events.k8s.io/v1 event: 201", st == 201 and b["note"] == v1["note"]
            and b["apiVersion"] == "events.k8s.io/v1", (st, b))
    st, _, b = s.api("POST", "/apis/events.k8s.io/v1/namespaces/default/events",
                     dict(v1, metadata={"name": "x2"}, eventTime="2025-01-01T00:00:00Z"))
    R.check("events.k8s.io eventTime without microseconds: 400",
            st == 400 and 'cannot parse \\"Z\\" as \\".000000\\"' in json.dumps(b), (st, b))
    st, _, b = s.api("POST", "/apis/events.k8s.io/v1/namespaces/default/events",
                     dict(v1, metadata={"name": "x3"}, note="n" * 1025, type="Info", action=""))
    fields = {c["field"]: c["message"] for c in b.get("details", {}).get("causes", [])} if isinstance(b, dict) else {}
    R.check("events.k8s.io note > 1 KiB, bad type, no action: 422",
            st == 422 and fields.get("message") == 'Invalid value: "": can have at most 1024 characters'
            and fields.get("type") == 'Invalid value: "": has invalid value: Info'
            and fields.get("action") == "Required value", (st, b))
    st, _, b = s.api("PATCH", "/apis/events.k8s.io/v1/namespaces/default/events/%s.rej1" % NODE,
                     {"series": {"count": 2, "lastObservedTime": "2025-01-01T00:05:00.000000Z"}},
                     "application/merge-patch+json")
    R.check("PATCH events.k8s.io series", st == 200 and b["series"]["count"] == 2, (st, b))
    st, _, b = s.api("GET", "/api/v1/namespaces/default/events/%s.rej1" % NODE)
    R.check("an events.k8s.io event read through core/v1",
            st == 200 and b["message"] == v1["note"] and b["involvedObject"]["name"] == NODE
            and b["reportingComponent"] == "profiled.io/agent", (st, b))
    st, _, b = s.api("POST", "/api/v1/namespaces/default/events", dict(ev, metadata={}))
    R.check("POST event without name or generateName: 422",
            st == 422 and b["message"] == 'Event "" is invalid: metadata.name: Required value: name or '
            'generateName is required', (st, b))
    st, _, b = s.api("POST", "/api/v1/namespaces/kube-system/events", dict(ev, metadata={"name": "ks"}))
    R.check("core event about a Node outside namespace default: 422",
            st == 422 and b["details"]["causes"][0]["field"] == "involvedObject.namespace", (st, b))
    st, _, b = s.api("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DNode,"
                     "involvedObject.apiVersion%3Dv1,involvedObject.name%3D" + NODE)
    R.check("list events with the field selector kubectl events --for uses",
            st == 200 and len(b["items"]) == 3, (st, b))
    st, b = s.ctl("GET", "/control/events")
    R.check("control: GET /control/events", st == 200 and len(b) == 3, b)


def test_faults(s):
    s.ctl("POST", "/control/fault", {"status": 500, "count": 3, "path_prefix": "/api/v1/nodes"})
    codes = [s.api("GET", "/api/v1/nodes/" + NODE)[0] for _ in range(4)]
    R.check("fault 500 x3 then 200", codes == [500, 500, 500, 200], codes)
    s.ctl("POST", "/control/fault", {"status": 429, "retry_after": 2, "count": 1})
    st, h, b = s.api("GET", "/api/v1/nodes/" + NODE)
    R.check("fault 429 with Retry-After: 2", st == 429 and h.get("Retry-After") == "2"
            and b.strip() == "Too many requests, please try again later.", (st, dict(h), b))
    s.ctl("POST", "/control/fault", {"status": 503, "retry_after": 1, "method": "PATCH"})
    st1 = s.api("GET", "/api/v1/nodes/" + NODE)[0]
    st, h, b = patch_node(s, {"metadata": {}})
    st2 = patch_node(s, {"metadata": {}})[0]
    s.ctl("DELETE", "/control/faults")
    st3 = patch_node(s, {"metadata": {}})[0]
    R.check("fault 503 scoped to PATCH, until cleared", st1 == 200 and st == 503 and st2 == 503 and st3 == 200
            and h.get("Retry-After") == "1" and is_status(b, 503, "ServiceUnavailable")
            and b["details"]["retryAfterSeconds"] == 1, (st1, st, st2, st3, b))
    s.ctl("POST", "/control/fault", {"status": 403, "count": 1})
    st, _, b = patch_node(s, {"metadata": {}})
    R.check("fault 403: Forbidden as RBAC words it",
            st == 403 and is_status(b, 403, "Forbidden") and b["message"] ==
            'nodes "%s" is forbidden: User "system:serviceaccount:profiled:profiled" cannot patch resource '
            '"nodes" in API group "" at the cluster scope' % NODE, (st, b))
    s.ctl("POST", "/control/fault", {"delay_ms": 600, "count": 1})
    t0 = time.time()
    st = s.api("GET", "/api/v1/nodes/" + NODE)[0]
    R.check("fault delay_ms 600", st == 200 and time.time() - t0 >= 0.6, time.time() - t0)
    s.ctl("POST", "/control/fault", {"delay_ms": 1500, "count": 1})
    try:
        s.api("GET", "/api/v1/nodes/%s?slow=1" % NODE, timeout=0.5)
        timed_out = False
    except (socket.timeout, TimeoutError):
        timed_out = True
    # the server still answers (into the void) and logs it: wait, so later checks see a quiet log
    st, b = s.ctl("GET", "/control/wait?requests=1&path_prefix=/api/v1/nodes/%s%%3Fslow&timeout=5" % NODE)
    R.check("a client timeout shorter than the delay times out; the server logs the request later",
            timed_out and st == 200, (timed_out, st, b))
    s.ctl("POST", "/control/fault", {"delay_ms": 1000, "delay_phase": "after", "count": 1, "method": "PATCH"})
    try:
        patch_node(s, {"metadata": {"labels": {"late": "landed"}}}, query="?late=1", timeout=0.4)
        timed_out = False
    except (socket.timeout, TimeoutError):
        timed_out = True
    R.check("delay_phase after: the client times out but its patch took effect",
            timed_out and labels_of(s).get("late") == "landed", timed_out)
    s.ctl("GET", "/control/wait?requests=1&path_prefix=/api/v1/nodes/%s%%3Flate&timeout=5" % NODE)
    s.ctl("POST", "/control/fault", {"close": True, "count": 1})
    st, h, _ = s.api("GET", "/api/v1/nodes/" + NODE)
    s.ctl("POST", "/control/fault", {"status": 429, "format": "status", "retry_after": 3, "count": 1})
    st2, h2, b2 = s.api("GET", "/api/v1/nodes/" + NODE)
    R.check("close: Connection: close; 429 as a JSON Status on request",
            st == 200 and h.get("Connection") == "close" and st2 == 429 and h2.get("Retry-After") == "3"
            and is_status(b2, 429, "TooManyRequests") and b2["details"]["retryAfterSeconds"] == 3,
            (st, dict(h), st2, b2))
    s.ctl("POST", "/control/fault", {"reset": True, "count": 1})
    try:
        s.api("GET", "/api/v1/nodes/" + NODE)
        reset = False
    except (ConnectionError, http.client.RemoteDisconnected, ssl.SSLError, OSError):
        reset = True
    R.check("fault reset: the connection is reset", reset and s.api("GET", "/api/v1/nodes/" + NODE)[0] == 200)

    st, b = s.ctl("POST", "/control/fault", {"down": True})
    try:
        socket.create_connection(("127.0.0.1", s.ready["port"]), timeout=2).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    R.check("down (refuse): connection refused", st == 200 and refused, b)
    s.ctl("POST", "/control/fault", {"down": False})
    R.check("up again on the same port", s.api("GET", "/api/v1/nodes/" + NODE)[0] == 200)
    s.ctl("POST", "/control/fault", {"down": True, "mode": "hang"})
    try:
        s.api("GET", "/api/v1/nodes/" + NODE, timeout=0.5)
        hung = False
    except (socket.timeout, TimeoutError, ssl.SSLError):
        hung = True
    s.ctl("POST", "/control/up")
    R.check("down (hang): accepted but never answered; up works",
            hung and s.api("GET", "/api/v1/nodes/" + NODE)[0] == 200)
    c = s.conn()
    first = s.api("GET", "/api/v1/nodes/" + NODE, conn=c)[0]
    s.ctl("POST", "/control/down", {"mode": "reset"})
    try:
        s.api("GET", "/api/v1/nodes/" + NODE, conn=c)
        dropped = False
    except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError):
        dropped = True
    try:
        s.api("GET", "/api/v1/nodes/" + NODE, timeout=2)
        refused_new = False
    except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError):
        refused_new = True
    c.close()
    s.ctl("POST", "/control/up")
    R.check("down (reset) drops an open keep-alive connection and resets new ones",
            first == 200 and dropped and refused_new and s.api("GET", "/api/v1/nodes/" + NODE)[0] == 200,
            (first, dropped, refused_new))


def test_connections(s):
    s.ctl("POST", "/control/reset-requests")
    c = s.conn()
    a = s.api("GET", "/api/v1/nodes/" + NODE, conn=c)[0]
    b = patch_node(s, {"metadata": {}}, conn=c)[0]
    st0 = s.api("GET", "/api/v1/nodes/nope", conn=c)[0]
    st1 = s.api("GET", "/api/v1/nodes/" + NODE, token="bad", conn=c)[0]
    last = s.api("GET", "/api/v1/nodes/" + NODE, conn=c)[0]
    c.close()
    reqs = s.ctl("GET", "/control/requests")[1]
    conn_ids = [r["conn"] for r in reqs if r["path"] == "/api/v1/nodes/nope"]
    reqs = [r for r in reqs if r["conn"] in conn_ids]
    R.check("keep-alive: five requests (incl. 404, 401) on one connection",
            [a, b, st0, st1, last] == [200, 200, 404, 401, 200] and len({r["conn"] for r in reqs}) == 1
            and len(reqs) == 5, reqs)
    R.check("request log: method, path, content type, status, body, token",
            reqs[1]["method"] == "PATCH" and reqs[1]["content_type"] == "application/merge-patch+json"
            and reqs[1]["status"] == 200 and reqs[1]["body"] == {"metadata": {}} and reqs[0]["token"] == TOKEN
            and reqs[3]["auth"] == "invalid", reqs)
    st, b = s.ctl("GET", "/control/wait?requests=1&path_prefix=/api/v1/nodes/nope&timeout=1")
    st2, b2 = s.ctl("GET", "/control/wait?requests=2&path_prefix=/api/v1/nodes/nope&timeout=0.3")
    R.check("control wait: satisfied at once, 408 on timeout", st == 200 and st2 == 408, (st, b, st2, b2))
    # TLS: the server certificate is valid for localhost and 127.0.0.1, and only under our CA
    ok_localhost = s.api("GET", "/version", conn=s.conn(host="localhost"))[0] == 200
    other = ssl.create_default_context(cafile=os.path.join(os.path.dirname(s.ready["ca"]), "other-ca.crt"))
    try:
        s.api("GET", "/version", conn=s.conn(ctx=other))
        refused = False
    except ssl.SSLCertVerificationError:
        refused = True
    R.check("TLS: cert valid for localhost; a client trusting another CA refuses it", ok_localhost and refused)
    old11 = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old11.load_verify_locations(s.ready["ca"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old11.minimum_version = ssl.TLSVersion.TLSv1_1
        old11.maximum_version = ssl.TLSVersion.TLSv1_1
    old11.set_ciphers("DEFAULT:@SECLEVEL=0")
    try:
        s.api("GET", "/version", conn=s.conn(ctx=old11))
        tls11 = True
    except (ssl.SSLError, OSError):
        tls11 = False
    deadline = time.time() + 3  # the server thread records the failed handshake after the client gave up
    while True:
        stats = s.ctl("GET", "/control/stats")[1]
        seen = any("UNSUPPORTED_PROTOCOL" in e for e in stats["tls_errors"])
        if seen or time.time() > deadline:
            break
        time.sleep(0.02)
    R.check("TLS 1.1 is refused by the server", not tls11 and seen, (tls11, stats))
    cert = ssl.create_default_context(cafile=s.ready["ca"])
    d = os.path.dirname(s.ready["ca"])
    cert.load_cert_chain(os.path.join(d, "client.crt"), os.path.join(d, "client.key"))
    st, _, b = s.api("GET", "/api/v1/nodes/" + NODE, token=None, conn=s.conn(ctx=cert))
    R.check("client-certificate authentication", st == 200, (st, b))


def test_concurrency(s):
    results = []

    def worker(i):
        for j in range(10):
            st, _, b = patch_node(s, {"metadata": {"labels": {"w%d" % i: str(j)}}})
            results.append((st, b["metadata"]["resourceVersion"] if st == 200 else b))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rvs = [rv for st, rv in results if st == 200]
    lab = labels_of(s)
    R.check("80 concurrent patches: all 200, distinct resourceVersions, all applied",
            len(rvs) == 80 and len(set(rvs)) == 80 and all(lab["w%d" % i] == "9" for i in range(8)),
            [r for r in results if r[0] != 200][:3])
    patch_node(s, {"metadata": {"labels": {"w%d" % i: None for i in range(8)}}})
    body = json.dumps({"metadata": {"labels": {"chunked": "yes"}}}).encode()
    c = s.conn()
    c.putrequest("PATCH", "/api/v1/nodes/" + NODE)
    c.putheader("Authorization", "Bearer " + TOKEN)
    c.putheader("Content-Type", "application/merge-patch+json")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for part in (body[:10], body[10:]):
        c.send(b"%x\r\n%s\r\n" % (len(part), part))
    c.send(b"0\r\n\r\n")
    st = c.getresponse().status
    c.close()
    R.check("chunked request body", st == 200 and labels_of(s).get("chunked") == "yes", st)


def test_rotation(s):
    st, b = s.ctl("POST", "/control/rotate-token", {"token": "tok-two"})
    old = s.api("GET", "/api/v1/nodes/" + NODE)[0]
    new = s.api("GET", "/api/v1/nodes/" + NODE, token="tok-two")[0]
    with open(s.ready["token_file"]) as f:
        file_token = f.read()
    R.check("rotate-token: new token valid, old one 401, token file rewritten",
            st == 200 and old == 401 and new == 200 and file_token == "tok-two", (st, b, old, new, file_token))
    s.ctl("POST", "/control/rotate-token", {"token": TOKEN})


def test_control_nodes(s):
    st, b = s.ctl("PUT", "/control/nodes/" + NODE, {"labels": {"other.example.com/owner": "someone"},
                                                    "manager": "someone-else"})
    lab = labels_of(s)
    R.check("control PUT replaces the node's labels behind the client's back",
            st == 200 and lab == {"other.example.com/owner": "someone"}, (st, lab))
    st, b = s.ctl("PUT", "/control/nodes/" + NODE, {"labels": {"bad key": "x"}})
    R.check("control PUT validates like the API", st == 422, (st, b))
    st, b = s.ctl("PATCH", "/control/nodes/" + NODE, {"metadata": {"labels": {"team": "blue"}}})
    R.check("control PATCH merges", st == 200 and labels_of(s)["team"] == "blue", (st, b))


def kubectl_env(tmp):
    env = dict(os.environ, HOME=os.path.join(tmp, "home"))
    env.pop("KUBECONFIG", None)
    os.makedirs(env["HOME"], exist_ok=True)
    return env


def test_kubectl(s, tmp):
    kc = shutil.which("kubectl")
    names = ["kubectl get --raw", "kubectl get node -L", "kubectl label node", "kubectl annotate node",
             "kubectl label with a bad value is refused", "kubectl label --overwrite=false conflict",
             "kubectl patch --type=json", "kubectl get events", "kubectl with the token-file kubeconfig",
             "kubectl with the client-certificate kubeconfig",
             "kubectl patch --subresource=status (strategic) and get -o jsonpath of the condition"]
    if not kc:
        for n in names:
            R.skip(n, "kubectl not installed")
        return
    env = kubectl_env(tmp)
    cache = os.path.join(tmp, "kcache")

    def k(*args, kubeconfig=None):
        r = subprocess.run([kc, "--kubeconfig", kubeconfig or s.ready["kubeconfig"], "--cache-dir", cache,
                            "--request-timeout", "10s"] + list(args), capture_output=True, text=True, env=env,
                           timeout=30)
        return r.returncode, r.stdout, r.stderr

    rc, out, err = k("get", "--raw", "/api/v1/nodes/" + NODE)
    R.check(names[0], rc == 0 and json.loads(out)["metadata"]["name"] == NODE, (rc, out, err))
    rc, out, err = k("get", "node", NODE, "-L", "team", "-L", "kubernetes.io/os")
    lines = out.splitlines()
    R.check(names[1], rc == 0 and lines[0].split()[-2:] == ["TEAM", "OS"]
            and lines[1].split()[0] == NODE and lines[1].split()[-2:] == ["blue", "linux"]
            and lines[1].split()[1] == "Ready", (rc, out, err))
    s.ctl("POST", "/control/reset-requests")
    rc, out, err = k("label", "node", NODE, "seccomp.profiled.io/audit=true")
    reqs = [r for r in s.ctl("GET", "/control/requests?method=PATCH")[1]]
    R.check(names[2], rc == 0 and labels_of(s).get("seccomp.profiled.io/audit") == "true"
            and reqs and reqs[0]["content_type"] == "application/merge-patch+json"
            and "fieldManager=kubectl-label" in reqs[0]["path"], (rc, out, err, reqs))
    rc, out, err = k("annotate", "node", NODE, "--overwrite", 'profiled.io/profiles=[{"name":"audit"}]')
    ann = s.api("GET", "/api/v1/nodes/" + NODE)[2]["metadata"]["annotations"]
    R.check(names[3], rc == 0 and ann.get("profiled.io/profiles") == '[{"name":"audit"}]', (rc, out, err))
    rc, out, err = k("label", "node", NODE, "--overwrite", "profiled.io/x=-bad-")
    R.check(names[4], rc != 0 and "invalid label value" in err, (rc, out, err))
    rc, out, err = k("label", "node", NODE, "team=red")
    R.check(names[5], rc != 0 and "already has a value (blue)" in err, (rc, out, err))
    rc, out, err = k("patch", "node", NODE, "--type=json", "-p",
                     '[{"op":"remove","path":"/metadata/labels/seccomp.profiled.io~1audit"}]')
    R.check(names[6], rc == 0 and "seccomp.profiled.io/audit" not in labels_of(s), (rc, out, err))
    rc, out, err = k("get", "events", "-n", "default")
    R.check(names[7], rc == 0 and "ProfileLoaded" in out and "node/" + NODE in out, (rc, out, err))
    rc, out, err = k("get", "node", NODE, "-o", "name", kubeconfig=s.ready["kubeconfig_tokenfile"])
    R.check(names[8], rc == 0 and out.strip() == "node/" + NODE, (rc, out, err))
    if s.ready.get("kubeconfig_cert"):
        rc, out, err = k("get", "node", NODE, "-o", "name", kubeconfig=s.ready["kubeconfig_cert"])
        R.check(names[9], rc == 0 and out.strip() == "node/" + NODE, (rc, out, err))
    else:
        R.skip(names[9], "no client certificate")
    cond = '{"status":{"conditions":[{"type":"ProfilesReady","status":"True","reason":"ProfilesInPlace"}]}}'
    rc, out, err = k("patch", "node", NODE, "--subresource=status", "-p", cond)
    rc2, out2, err2 = k("get", "node", NODE, "-o",
                        'jsonpath={range .status.conditions[*]}{.type}={.status} {end}')
    R.check(names[10], rc == 0 and rc2 == 0 and out2.split() == ["ProfilesReady=True", "Ready=True"],
            (rc, out, err, rc2, out2, err2))


def test_shutdown_and_state(s, tmp, certs):
    patch_node(s, {"metadata": {"labels": {"profiled.io/persisted": "yes"}}})
    rc = s.stop()
    R.check("SIGTERM: clean exit 0, ready file removed", rc == 0 and not os.path.exists(s.ready_path), rc)
    s2 = Server(tmp, certs, ["--strict-core-events"], name="s")  # same --state file
    try:
        R.check("--state: a restarted server keeps the nodes",
                labels_of(s2).get("profiled.io/persisted") == "yes" and s2.ready["port"] != 0)
        st, _, b = s2.api("POST", "/api/v1/namespaces/default/events",
                          {"metadata": {"name": "lint"}, "involvedObject": {"kind": "Node", "name": NODE},
                           "type": "Info"})
        fields = [c["field"] for c in b.get("details", {}).get("causes", [])] if isinstance(b, dict) else []
        R.check("--strict-core-events: reason, message and type Normal|Warning required",
                st == 422 and fields == ["reason", "message", "type"], (st, b))
    finally:
        s2.stop()


def node_of(s, name=NODE):
    return s.api("GET", "/api/v1/nodes/" + name)[2]


def test_status_and_taints(s):
    """nodes/NAME/status, strategic merge of conditions, JSON patch test/remove, taint validation."""
    SMP, JP = "application/strategic-merge-patch+json", "application/json-patch+json"
    st, _, b = s.api("GET", "/api/v1/nodes/%s/status" % NODE)
    R.check("GET nodes/NAME/status: the Node", st == 200 and b.get("kind") == "Node"
            and b["metadata"]["name"] == NODE, (st, b))
    cond = {"type": "ProfilesReady", "status": "False", "reason": "Pending", "message": "m",
            "lastHeartbeatTime": "2025-01-01T00:00:00Z", "lastTransitionTime": "2025-01-01T00:00:00Z"}
    st, _, b = s.api("PATCH", "/api/v1/nodes/%s/status" % NODE, {"status": {"conditions": [cond]}}, SMP)
    types = [c["type"] for c in b.get("status", {}).get("conditions", [])] if st == 200 else []
    R.check("strategic merge patch on status: a new condition merged by type (first, as v1.37 places it), the kubelet's Ready kept",
            st == 200 and types == ["ProfilesReady", "Ready"], (st, b))
    st, _, b = s.api("PATCH", "/api/v1/nodes/%s/status" % NODE,
                     {"status": {"conditions": [dict(cond, status="True", reason="ProfilesInPlace")]}}, SMP)
    got = {c["type"]: c for c in b["status"]["conditions"]} if st == 200 else {}
    R.check("strategic merge patch replaces the condition of that type in place",
            st == 200 and len(got) == 2 and got["ProfilesReady"]["status"] == "True"
            and got["Ready"]["status"] == "True", (st, b))
    st, _, b = s.api("PATCH", "/api/v1/nodes/%s/status" % NODE, {"status": {"conditions": [cond]}},
                     "application/merge-patch+json")
    n = len(b["status"]["conditions"]) if st == 200 else -1
    R.check("a merge patch on status replaces the whole conditions list (why the agent uses SMP)",
            st == 200 and n == 1, (st, b))
    s.api("PATCH", "/api/v1/nodes/%s/status" % NODE, {"status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
         "lastHeartbeatTime": "2025-01-01T00:00:00Z", "lastTransitionTime": "2025-01-01T00:00:00Z"}]}},
        "application/merge-patch+json")
    # status ignores spec; the main resource ignores status
    st, _, b = s.api("PATCH", "/api/v1/nodes/%s/status" % NODE,
                     {"spec": {"unschedulable": True}, "status": {"phase": "Running"}}, SMP)
    R.check("PATCH nodes/NAME/status changes status only (spec ignored, nodeStatusStrategy)",
            st == 200 and not b.get("spec", {}).get("unschedulable") and b["status"].get("phase") == "Running",
            (st, b))
    rv = b["metadata"]["resourceVersion"]
    st, _, b = patch_node(s, {"status": {"phase": "Pending"}})
    R.check("PATCH nodes/NAME ignores status (nodeStrategy), a no-op keeps the resourceVersion",
            st == 200 and b["status"].get("phase") == "Running" and b["metadata"]["resourceVersion"] == rv,
            (st, b))
    st, _, b = s.api("DELETE", "/api/v1/nodes/%s/status" % NODE)
    R.check("DELETE nodes/NAME/status: 405", st == 405 and is_status(b, 405, "MethodNotAllowed"), (st, b))
    st, _, b = s.api("PATCH", "/api/v1/nodes/%s/status" % NODE,
                     {"metadata": {"resourceVersion": "1"}, "status": {"phase": "Running"}}, SMP)
    R.check("PATCH nodes/NAME/status with a stale resourceVersion: 409 Conflict",
            st == 409 and is_status(b, 409, "Conflict"), (st, b))
    # taints: validation
    for taint, field in (({"key": "bad key", "effect": "NoSchedule"}, "metadata.taints[0].key"),
                         ({"key": "a.io/t", "effect": "Sometimes"}, "metadata.taints[0].effect"),
                         ({"key": "a.io/t"}, "metadata.taints[0].effect"),
                         ({"key": "a.io/t", "value": "bad value", "effect": "NoSchedule"}, "metadata.taints[0].value")):
        st, _, b = patch_node(s, {"spec": {"taints": [taint]}})
        fields = [c.get("field") for c in b.get("details", {}).get("causes", [])] if st == 422 else []
        R.check("invalid taint %s: 422 Invalid on %s" % (json.dumps(taint), field),
                st == 422 and is_status(b, 422, "Invalid") and field in fields, (st, b))
    st, _, b = patch_node(s, {"spec": {"taints": [{"key": "a.io/t", "effect": "NoSchedule"},
                                                  {"key": "a.io/t", "effect": "NoSchedule"}]}})
    R.check("duplicate taint (key, effect): 422 on metadata.taints[1]",
            st == 422 and "taints must be unique by key and effect pair" in b.get("message", ""), (st, b))
    taints = [{"key": "other.io/x", "effect": "NoExecute"}, {"key": "profiled.io/not-ready", "effect": "NoSchedule"}]
    st, _, b = patch_node(s, {"spec": {"taints": taints}})
    R.check("valid taints are stored", st == 200 and b["spec"]["taints"] == taints, (st, b))
    rv = b["metadata"]["resourceVersion"]
    # JSON patch test/remove
    ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": "1"},
           {"op": "remove", "path": "/spec/taints/1"}]
    st, _, b = patch_node(s, ops, JP)
    R.check("JSON patch whose test fails: 422 Invalid, the generic message, details {}, nothing changed",
            st == 422 and is_status(b, 422, "Invalid") and b["details"] == {}
            and b["message"] == "the server rejected our request due to an error in our request"
            and len(node_of(s)["spec"]["taints"]) == 2, (st, b))
    ops[0]["value"] = rv
    ops.insert(1, {"op": "test", "path": "/spec/taints/1/key", "value": "profiled.io/not-ready"})
    st, _, b = patch_node(s, ops, JP)
    R.check("JSON patch test then remove: the one taint removed, the other kept",
            st == 200 and b["spec"]["taints"] == taints[:1], (st, b))
    st, _, b = patch_node(s, [{"op": "remove", "path": "/spec/taints/5"}], JP)
    R.check("JSON patch remove of a missing index: 422", st == 422 and is_status(b, 422, "Invalid"), (st, b))
    # a fault that mutates the node before the request is served
    st, b = s.ctl("POST", "/control/fault", {"method": "PATCH", "count": 1, "mutate": {
        "node": NODE, "patch": {"spec": {"taints": taints[:1] + [{"key": "late.io/y", "effect": "NoSchedule"}]}},
        "manager": "someone"}})
    rv = node_of(s)["metadata"]["resourceVersion"]
    st, _, b = patch_node(s, [{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                              {"op": "remove", "path": "/spec/taints/0"}], JP)
    t = node_of(s)["spec"]["taints"]
    R.check("fault mutate: the node changes between the client's read and its patch, whose test then fails",
            st == 422 and [x["key"] for x in t] == ["other.io/x", "late.io/y"], (st, b, t))
    patch_node(s, {"spec": {"taints": None}})


def main():
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="apiserver-selftest.")
    certs = os.path.join(tmp, "certs")
    r = subprocess.run(["bash", os.path.join(HERE, "mkcerts.sh"), certs], capture_output=True, text=True)
    if r.returncode != 0:
        print("not ok 1 - mkcerts.sh\n# " + r.stderr)
        print("0 passed, 1 failed")
        return 1
    s = Server(tmp, certs)
    try:
        R.check("ready file: port, url, ca, control, kubeconfig",
                isinstance(s.ready["port"], int) and s.ready["url"] == "https://127.0.0.1:%d" % s.ready["port"]
                and os.path.exists(s.ready["kubeconfig"]) and s.ready["control"] > 0, s.ready)
        for fn in (test_auth, test_reads, test_patch_types, test_validation, test_events, test_faults,
                   test_connections, test_concurrency, test_rotation):
            fn(s)
        test_kubectl(s, tmp)
        test_control_nodes(s)
        test_status_and_taints(s)
        test_real_v137(s)
        test_shutdown_and_state(s, tmp, certs)
    except Exception as e:  # a crash is a failure, not a silent pass
        import traceback
        R.check("self-test ran to the end", False, traceback.format_exc())
        del e
    finally:
        s.stop()
        if R.failed:
            print("# server log: %s" % s.log.name)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("# %.1f s" % (time.time() - t0))
    tail = ", %d skipped" % R.skipped if R.skipped else ""
    print("%d passed, %d failed%s" % (R.passed, R.failed, tail))
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
