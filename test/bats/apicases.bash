# The API cases that need no fault injection, shared by api.bats and
# ready.bats (against the stand-in test/apiserver) and realapi.bats (against
# a real etcd + kube-apiserver started by test/cluster/controlplane.sh).
#
# A case talks to its server only through the functions below, which read
# API_BACKEND: "standin" (default; the stand-in's control API) or "real"
# (kubectl as a cluster admin, and the API server's audit log for the
# requests the agent made).
#
#   node_json              node-1 as stored
#   node_patch JSON        someone else's merge patch of node-1 (a "status"
#                          part goes through nodes/node-1/status)
#   set_taints JSON        node-1's spec.taints, set by someone else
#   requests_json          the agent's API requests since reset_requests:
#                          [{method, path, status, body, content_type}]
#                          (content_type is null on the real server: its
#                          audit log does not record it)
#   reset_requests
#   events_json            the core/v1 Events in "default"
#   api_forbid, api_permit the agent's RBAC taken away, given back
#   api_allow_label_domain D   the admission policy lets the agent write
#                          labels under D as well (the stand-in has none)

TAINT=profiled.io/not-ready
JP=application/json-patch+json

is_real() { [ "${API_BACKEND:-standin}" = real ]; }

# --- the real server -------------------------------------------------------------

AGENT_USER=system:serviceaccount:profiled-system:profiled

kc() { "$K8S_BIN/kubectl" --kubeconfig "$CP/admin.kubeconfig" "$@"; }

# kapi METHOD PATH [CONTENT-TYPE BODY]: one request as the admin, with curl
# (a kubectl start costs more than the request on a busy machine).
kapi() {
	curl -fsS --cacert "$CP/pki/ca.crt" --cert "$CP/pki/admin.crt" --key "$CP/pki/admin.key" \
		-X "$1" ${3:+-H "Content-Type: $3" --data-binary "$4"} "https://127.0.0.1:$CP_API_PORT$2"
}

# realapi_bin: the cached Kubernetes binaries (test/cluster/build.sh), or
# nothing when they were not built.
realapi_bin() {
	local v
	v=$(sed -n 's#^[[:space:]]*k8s.io/kubernetes v\([^ ]*\).*#\1#p' "$REPO/test/cluster/go.mod" | head -n1)
	local bin=${PROFILED_K8S_CACHE:-/var/tmp/profiled-k8s}/v$v/bin
	[ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] && [ -x "$bin/kubectl" ] && echo "$bin"
}

# realapi_setup_file: a private control plane for the file (setup_file):
# free ports, state in $BATS_FILE_TMPDIR/cp, the project's namespace,
# service account, RBAC and admission policy from deploy/, and a kubeconfig
# $KC with a token of the agent's service account bound to node-1, as a
# pod's projected token is bound to its pod and node. When the binaries are
# missing: says so once and every case skips (realapi_setup), unless
# PROFILED_REALAPI_REQUIRE=1 (CI), which fails.
realapi_setup_file() {
	K8S_BIN=$(realapi_bin) || true
	if [ -z "$K8S_BIN" ]; then
		if [ "${PROFILED_REALAPI_REQUIRE:-0}" = 1 ]; then
			echo "no Kubernetes binaries (make k8s-build) and PROFILED_REALAPI_REQUIRE=1" >&2
			return 1
		fi
		echo "# SKIP: no Kubernetes binaries in ${PROFILED_K8S_CACHE:-/var/tmp/profiled-k8s}: make k8s-build" >&3
		# (bats 1.8 cannot skip from setup_file: each case's setup skips)
		export REALAPI_SKIP="no Kubernetes binaries: make k8s-build"
		return 0
	fi
	export K8S_BIN API_BACKEND=real CP=$BATS_FILE_TMPDIR/cp
	local ports t0=$SECONDS
	ports=$(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
	read -r CP_API_PORT CP_ETCD_PORT CP_ETCD_PEER_PORT <<<"$ports"
	export CP_API_PORT CP_ETCD_PORT CP_ETCD_PEER_PORT
	CP_MAX_SECONDS=1800 bash "$REPO/test/cluster/controlplane.sh" start "$CP" 3>&-
	kc apply -f "$REPO/deploy/namespace.yaml" -f "$REPO/deploy/serviceaccount.yaml" \
		-f "$REPO/deploy/rbac.yaml" -f "$REPO/deploy/admission-policy.yaml" >/dev/null
	realapi_node_create
	local token
	token=$(kc create token profiled -n profiled-system --duration 1h \
		--bound-object-kind Node --bound-object-name node-1)
	export KC=$CP/agent.kubeconfig
	cat >"$KC" <<-EOF
	apiVersion: v1
	kind: Config
	clusters:
	- name: real
	  cluster:
	    server: https://127.0.0.1:$CP_API_PORT
	    certificate-authority: $CP/pki/ca.crt
	users:
	- name: profiled
	  user:
	    token: $token
	contexts:
	- name: real
	  context: {cluster: real, user: profiled}
	current-context: real
	EOF
	# A CA that did not sign the server's certificate.
	export OTHER_CA=$CP/other-ca.crt
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$CP/other-ca.key" \
		-subj /CN=other-ca -days 1 -out "$OTHER_CA" 2>/dev/null
	echo "# real control plane (etcd, kube-apiserver $("$K8S_BIN/kube-apiserver" --version | cut -d' ' -f2)) up and set up in $((SECONDS - t0)) s" >&3
}

realapi_teardown_file() {
	if [ -n "${CP:-}" ]; then
		bash "$REPO/test/cluster/controlplane.sh" stop "$CP"
	fi
}

# realapi_node_create: node-1 as a kubelet registers it and as the node
# controller leaves it once Ready: the stand-in's default Node.
realapi_node_create() {
	local t
	t=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	kc create -f - >/dev/null <<-EOF
	{"apiVersion": "v1", "kind": "Node",
	 "metadata": {"name": "node-1", "labels": {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
	   "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "node-1", "kubernetes.io/os": "linux"},
	   "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
	 "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]}}
	EOF
	kc patch node node-1 --subresource=status --type=merge --field-manager=kubelet -p "{\"status\": {
	  \"capacity\": {\"cpu\": \"2\", \"memory\": \"24576Mi\", \"pods\": \"110\"},
	  \"allocatable\": {\"cpu\": \"2\", \"memory\": \"24474Mi\", \"pods\": \"110\"},
	  \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"lastHeartbeatTime\": \"$t\",
	    \"lastTransitionTime\": \"$t\", \"reason\": \"KubeletReady\", \"message\": \"kubelet is posting ready status\"}],
	  \"addresses\": [{\"type\": \"InternalIP\", \"address\": \"127.0.0.1\"}, {\"type\": \"Hostname\", \"address\": \"node-1\"}]}}" >/dev/null
	# The TaintNodesByCondition admission plugin put node.kubernetes.io/not-ready
	# on the new Node; the node controller removes it once Ready.
	kc patch node node-1 --type=json -p '[{"op": "remove", "path": "/spec/taints"}]' >/dev/null
	kc get node node-1 -o json >"$CP/node-1.json"
}

# realapi_setup: each case starts from node-1 as created (the same object:
# a token bound to it dies with it), no events, the deployed RBAC and policy.
realapi_setup() {
	[ -z "${REALAPI_SKIP:-}" ] || skip "$REALAPI_SKIP"
	kapi DELETE /api/v1/namespaces/default/events >/dev/null
	kapi DELETE /api/v1/namespaces/profiled-system/secrets >/dev/null # token_kubeconfig's
	if [ -e "$CP/changed-rbac" ]; then
		kc apply -f "$REPO/deploy/rbac.yaml" -f "$REPO/deploy/admission-policy.yaml" >/dev/null
		rm -f "$CP/changed-rbac"
		wait_until 10 agent_can get nodes
	fi
	kapi GET /api/v1/nodes/node-1 | python3 -c '
import json, sys
n = json.load(sys.stdin)
first = json.load(open(sys.argv[1]))
for k in ("resourceVersion", "managedFields"):
    n["metadata"].pop(k, None)
n["metadata"]["labels"] = first["metadata"]["labels"]
n["metadata"]["annotations"] = first["metadata"]["annotations"]
n["spec"] = first["spec"]
n["status"] = first["status"]
json.dump(n, sys.stdout)' "$CP/node-1.json" >"$T/node.json"
	kapi PUT /api/v1/nodes/node-1 application/json "@$T/node.json" >/dev/null
	kapi PUT /api/v1/nodes/node-1/status application/json "@$T/node.json" >/dev/null
	reset_requests
}

agent_can() { # VERB RESOURCE
	[ "$(kc auth can-i "$1" "$2" --as="$AGENT_USER" 2>/dev/null)" = yes ]
}

# --- the backend functions ----------------------------------------------------

node_json() {
	if is_real; then
		kapi GET /api/v1/nodes/node-1
	else
		ctl GET /control/nodes/node-1
	fi
}

node_patch() { # JSON
	if ! is_real; then
		ctl PATCH /control/nodes/node-1 "$1" >/dev/null
	elif [[ "$1" == '{"status"'* ]]; then
		kapi PATCH '/api/v1/nodes/node-1/status?fieldManager=kubelet' application/merge-patch+json "$1" >/dev/null
	else
		kapi PATCH '/api/v1/nodes/node-1?fieldManager=someone' application/merge-patch+json "$1" >/dev/null
	fi
}

set_taints() { # JSON list
	if is_real; then
		kapi PATCH '/api/v1/nodes/node-1?fieldManager=kubelet' application/merge-patch+json \
			"{\"spec\": {\"taints\": $1}}" >/dev/null
	else
		ctl PUT /control/nodes/node-1 "{\"spec\": {\"taints\": $1}, \"manager\": \"kubelet\"}" >/dev/null
	fi
}

reset_requests() {
	if is_real; then
		stat -c %s "$CP/logs/audit.log" >"$CP/audit.mark"
	else
		ctl POST /control/reset-requests >/dev/null
	fi
}

requests_json() {
	if ! is_real; then
		ctl GET /control/requests
		return
	fi
	python3 -c '
import json, sys
log, mark, user = sys.argv[1:]
f = open(log, "rb")
f.seek(int(open(mark).read()))
verbs = {"get": "GET", "list": "GET", "patch": "PATCH", "create": "POST", "update": "PUT", "delete": "DELETE"}
out = []
for line in f:
    e = json.loads(line)
    if e.get("stage") != "ResponseComplete" or e["user"].get("username") != user:
        continue
    out.append({"method": verbs.get(e["verb"], e["verb"]), "path": e["requestURI"],
                "status": e.get("responseStatus", {}).get("code"), "body": e.get("requestObject"),
                "content_type": None})
json.dump(out, sys.stdout)' "$CP/logs/audit.log" "$CP/audit.mark" "$AGENT_USER"
}

events_json() {
	if is_real; then
		kapi GET /api/v1/namespaces/default/events | python3 -c 'import json, sys; json.dump(json.load(sys.stdin)["items"], sys.stdout)'
	else
		ctl GET /control/events
	fi
}

api_forbid() {
	if is_real; then
		touch "$CP/changed-rbac"
		kc delete clusterrolebinding profiled >/dev/null
		wait_until 10 not agent_can get nodes
	else
		ctl POST /control/fault '{"status": 403}' >/dev/null
	fi
}

api_permit() {
	if is_real; then
		kc apply -f "$REPO/deploy/rbac.yaml" >/dev/null
		wait_until 10 agent_can get nodes
	else
		ctl DELETE /control/faults >/dev/null
	fi
}

# api_allow_label_domain DOMAIN: the policy's two patterns allow DOMAIN too,
# as admission-policy.yaml says to do during a switch of --label-domain.
api_allow_label_domain() {
	is_real || return 0
	touch "$CP/changed-rbac"
	python3 -c '
import sys
src, dom = sys.argv[1:]
text = open(src).read()
old = r"profiled\\.io/"
assert text.count(old) == 2, "the two patterns of admission-policy.yaml"
print(text.replace(old, "(profiled\\\\.io|%s)/" % dom.replace(".", "\\\\.")), end="")' \
		"$REPO/deploy/admission-policy.yaml" "$1" >"$CP/policy.yaml"
	kc apply -f "$CP/policy.yaml" >/dev/null
	# in effect once a dry run of such a patch, as the agent, passes
	wait_until 10 kc patch node node-1 --dry-run=server --as="$AGENT_USER" --type=merge \
		-p "{\"metadata\": {\"labels\": {\"seccomp.$1/probe\": \"true\"}}}"
}

# token_kubeconfig: TKC, a kubeconfig naming its token by tokenFile, and
# TOKEN_FILE. On the real server a token of the agent's service account
# bound to a Secret, so that deleting the Secret refuses it at once.
token_kubeconfig() {
	if ! is_real; then
		TKC=$A/out/kubeconfig-tokenfile
		TOKEN_FILE=$A/out/token
		return
	fi
	TOKEN_FILE=$T/token
	TKC=$T/kubeconfig-tokenfile
	realapi_new_token tok-1 >"$TOKEN_FILE"
	sed "s|^    token: .*|    tokenFile: $TOKEN_FILE|" "$KC" >"$TKC"
	grep -q tokenFile "$TKC"
}

realapi_new_token() { # SECRET: a token of the agent bound to a new Secret
	kc create secret generic "$1" -n profiled-system >/dev/null
	kc create token profiled -n profiled-system --duration 1h --bound-object-kind Secret --bound-object-name "$1"
}

# api_rotate_token: a new token in TOKEN_FILE (written whole, by a rename),
# then the old one refused.
api_rotate_token() {
	if is_real; then
		realapi_new_token tok-2 >"$TOKEN_FILE.new"
		mv -f "$TOKEN_FILE.new" "$TOKEN_FILE"
		kapi DELETE /api/v1/namespaces/profiled-system/secrets/tok-1 >/dev/null
	else
		ctl POST /control/rotate-token '{"token": "secret-2"}' >/dev/null
	fi
}

# token_refused TOKEN: the server answers 401 to it.
token_refused() {
	local url ca
	if is_real; then
		url=https://127.0.0.1:$CP_API_PORT ca=$CP/pki/ca.crt
	else
		url=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$A/ready") ca=${API_CERTS:-$A/certs}/ca.crt
	fi
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $1" \
		"$url/api/v1/nodes/node-1")" = 401 ]
}

# --- reading the node and the requests ------------------------------------------

# labels: the node's labels, one KEY=VALUE a line, sorted (helpers.bash's,
# through node_json).
labels() {
	node_json | python3 -c '
import json, sys
for k, v in sorted(json.load(sys.stdin)["metadata"].get("labels", {}).items()):
    print("%s=%s" % (k, v))'
}

annotation() { # KEY
	node_json | python3 -c '
import json, sys
print(json.load(sys.stdin)["metadata"].get("annotations", {}).get(sys.argv[1], ""))' "$1"
}

# cond FIELD: a field of the node's ProfilesReady condition ("" when absent).
cond() {
	node_json | python3 -c '
import json, sys
for c in json.load(sys.stdin).get("status", {}).get("conditions", []):
    if c["type"] == "ProfilesReady":
        print(c.get(sys.argv[1], ""))' "$1"
}

# condtypes: the types of the node's conditions, sorted, space-separated
# (where a strategic merge patch puts a new condition is the server's
# business: the real one puts it first).
condtypes() {
	node_json | python3 -c '
import json, sys
print(" ".join(sorted(c["type"] for c in json.load(sys.stdin).get("status", {}).get("conditions", []))))'
}

# taints: KEY:EFFECT of each taint, space-separated, in the node's order.
taints() {
	node_json | python3 -c '
import json, sys
print(" ".join("%s:%s" % (t["key"], t["effect"]) for t in json.load(sys.stdin).get("spec", {}).get("taints") or []))'
}

# requests: the agent's requests, one line each "METHOD PATH STATUS KIND",
# KIND "json-patch" for a body that is a JSON array (only a JSON patch is
# one), else "-".
requests() {
	requests_json | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["method"], r["path"], r["status"], "json-patch" if isinstance(r.get("body"), list) else "-")'
}

nreq() { requests | grep -c -- "${1:-.}" || true; }

seen() { requests | grep -q -- "$1"; } # ERE

node_has() { node_json | grep -q -- "$1"; }

api_once() {
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$KC" "$@"
}

# assert_quiet_resync: a SIGHUP (a resync) with nothing changed costs one
# GET of the Node and no PATCH (helpers.bash's, through requests_json).
assert_quiet_resync() {
	reset_requests
	kill -HUP "$DAEMON_PID"
	wait_until 5 seen '^GET'
	pause 0.5
	requests | tee "$T/resync-requests"
	[ "$(grep -c '^GET' "$T/resync-requests")" -eq 1 ]
	[ "$(grep -c '^PATCH' "$T/resync-requests")" -eq 0 ]
}

# --- the cases: api.bats --------------------------------------------------------

case_labels_follow_profiles() {
	fixtures_into "$P"
	node_patch '{"metadata":{"labels":{"team":"a","seccomp.example.com/x":"true"}}}'
	api_once
	echo "$output"
	[ "$status" -eq 0 ]
	labels | tee "$T/l1"
	grep -qx 'seccomp.profiled.io/audit=true' "$T/l1"
	grep -qx 'seccomp.profiled.io/fine-grained=true' "$T/l1"
	grep -qx 'profiled.io/seccomp=enabled' "$T/l1"
	grep -qx 'team=a' "$T/l1"
	grep -qx 'seccomp.example.com/x=true' "$T/l1"
	# the annotation says which version the node holds
	annotation profiled.io/profiles | python3 -c '
import json, sys, hashlib
got = {p["name"]: p for p in json.load(sys.stdin)}
want = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
assert got["audit"]["sha256"] == want and got["audit"]["state"] == "published", got' "$P/audit.json"
	# a profile removed: its label goes, nothing else
	rm "$P/audit.json"
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	api_once
	[ "$status" -eq 0 ]
	labels | tee "$T/l2"
	not grep -q 'seccomp.profiled.io/audit' "$T/l2"
	grep -qx 'seccomp.profiled.io/new=true' "$T/l2"
	grep -qx 'team=a' "$T/l2"
	grep -qx 'seccomp.example.com/x=true' "$T/l2"
	# every PATCH of the node named only the agent's keys, and was a merge
	# patch (the stand-in records the Content-Type, the audit log does not)
	requests_json | python3 -c '
import json, sys
n = 0
for r in json.load(sys.stdin):
    if r["method"] == "PATCH" and r["path"] == "/api/v1/nodes/node-1":
        n += 1
        assert r["content_type"] in ("application/merge-patch+json", None), r
        for k in r["body"]["metadata"].get("labels", {}):
            assert "profiled.io" in k, k
assert n >= 2, n'
}

case_requests_counted() {
	fixtures_into "$P"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 seen '^PATCH'
	reset_requests
	pause 3
	steady=$(nreq)
	echo "# steady state: $steady API requests in 3 s" >&3
	[ "$steady" -eq 0 ]
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	wait_until 10 seen '^PATCH'
	pause 0.5
	requests | tee "$T/req"
	echo "# one profile added: $(grep -c 'nodes/node-1' "$T/req") node requests ($(grep -c '^GET' "$T/req") GET, $(grep -c '^PATCH /api/v1/nodes' "$T/req") PATCH), $(grep -c events "$T/req") event request(s)" >&3
	[ "$(grep -c '^GET /api/v1/nodes/node-1' "$T/req")" -eq 1 ]
	[ "$(grep -c '^PATCH /api/v1/nodes/node-1' "$T/req")" -eq 1 ]
	# SIGHUP (a resync): one GET, no PATCH when nothing differs
	assert_quiet_resync
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

case_token_rotated() {
	fixtures_into "$P"
	token_kubeconfig
	local old
	old=$(cat "$TOKEN_FILE")
	start_daemon --kubeconfig "$TKC" --resync-interval 2s
	wait_until 10 node_has seccomp.profiled.io/audit
	# rotate: the file has the new token, the old one is refused from now on
	api_rotate_token
	wait_until 10 token_refused "$old"
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	wait_until 15 node_has seccomp.profiled.io/new
	not grep -q 'unauthorized' "$LOG"
	not grep -qF "${old:0:16}" "$LOG"
	not grep -qF "$(head -c 16 "$TOKEN_FILE")" "$LOG"
	stop_daemon
}

case_reboot_removes_first() {
	fixtures_into "$P"
	api_once
	[ "$status" -eq 0 ]
	# the node keeps its labels; the published files are gone (as after a
	# node rebuild), and a label of a profile that no longer exists
	rm -rf "$R"
	node_patch '{"metadata":{"labels":{"apparmor.profiled.io/lost":"true"}}}'
	reset_requests
	api_once
	echo "$output"
	[ "$status" -eq 0 ]
	requests_json | python3 -c '
import json, sys
rs = [r for r in json.load(sys.stdin) if r["method"] == "PATCH" and "nodes" in r["path"]]
assert len(rs) == 2, rs
first = rs[0]["body"]["metadata"]["labels"]
assert all(v is None for v in first.values()), first
assert first.get("seccomp.profiled.io/audit", 1) is None and first.get("apparmor.profiled.io/lost", 1) is None, first
second = rs[1]["body"]["metadata"]["labels"]
assert second["seccomp.profiled.io/audit"] == "true", second'
	labels | grep -qx 'seccomp.profiled.io/audit=true'
	[ -z "$(labels | grep 'apparmor.profiled.io/lost')" ]
}

has_event() { events_json | grep -q -- "$1"; }

# one_rejected_twice: exactly one ProfileRejected event, with count 2
one_rejected_twice() {
	events_json | python3 -c '
import json, sys
e = [x for x in json.load(sys.stdin) if x["reason"] == "ProfileRejected"]
sys.exit(0 if len(e) == 1 and e[0]["count"] == 2 else 1)'
}

case_events_aggregated() {
	printf '{"defaultAction": "SCMP_ACT_BOGUS"}' | put "$P/bad.json"
	start_daemon --kubeconfig "$KC"
	wait_until 10 has_event ProfileRejected
	# fixed, then broken the same way again: the same event, count 2
	seccomp_json SCMP_ACT_ALLOW | put "$P/bad.json"
	wait_for_log 'seccomp profile published profile=bad' 5
	printf '{"defaultAction": "SCMP_ACT_BOGUS"}' | put "$P/bad.json"
	wait_until 10 one_rejected_twice
	events_json | python3 -c '
import json, sys
es = json.load(sys.stdin)
rej = [e for e in es if e["reason"] == "ProfileRejected"][0]
assert rej["type"] == "Warning" and rej["involvedObject"]["kind"] == "Node", rej
assert "unknown action" in rej["message"] and "bad.json" in rej["message"], rej
assert rej["source"]["component"] == "profiled", rej
pub = [e for e in es if e["reason"] == "ProfilePublished"]
assert pub and pub[0]["type"] == "Normal", es'
	stop_daemon
}

case_forbidden_and_not_found() {
	fixtures_into "$P"
	api_forbid
	api_once
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'forbidden; the service account needs RBAC get and patch on nodes' <<<"$output"
	cmp "$P/audit.json" "$PUB/audit.json"
	api_permit
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-9 --kubeconfig "$KC"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'not found; is --node-name the name of this Node' <<<"$output"
}

case_label_domain_change() {
	fixtures_into "$P"
	api_once
	[ "$status" -eq 0 ]
	labels | grep -qx 'seccomp.profiled.io/audit=true'
	api_allow_label_domain nodes.example.com
	api_once --label-domain nodes.example.com
	echo "$output"
	[ "$status" -eq 0 ]
	labels | tee "$T/l"
	grep -qx 'seccomp.nodes.example.com/audit=true' "$T/l"
	not grep -q 'profiled.io' "$T/l"
}

case_label_names_mapped() {
	seccomp_json SCMP_ACT_ALLOW >"$P/My Profile!.json"
	x=$(printf '%070d' 0)
	seccomp_json SCMP_ACT_ALLOW >"$P/$x.json"
	api_once
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(requests | grep ' 422 ')" ]
	labels | grep -q '^seccomp.profiled.io/My-Profile-[0-9a-f]\{10\}=true$'
	[ "$(labels | grep -c '^seccomp.profiled.io/0000')" -eq 1 ]
}

case_wrong_ca() {
	fixtures_into "$P"
	local ca=${OTHER_CA:-${API_CERTS:-$A/certs}/other-ca.crt}
	sed "s|certificate-authority: .*|certificate-authority: \"$ca\"|" "$KC" >"$T/bad-kc"
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$T/bad-kc"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'API server unreachable' <<<"$output"
	grep -qi 'certificate' <<<"$output"
	[ "$(nreq)" -eq 0 ] # no request ever reached the server
	cmp "$P/audit.json" "$PUB/audit.json"
}

case_events_rate_bounded() {
	for i in $(seq 1 40); do printf '{"defaultAction": "SCMP_ACT_BOGUS%d"}' "$i" >"$P/bad$i.json"; done
	api_once
	echo "$output" | tail -5
	[ "$status" -eq 1 ]
	n=$(nreq '/events')
	echo "# 40 problems -> $n event requests" >&3
	[ "$n" -eq 30 ]
	grep -q 'events dropped: over the rate limit dropped=10' <<<"$output"
}

# --- the cases: ready.bats --------------------------------------------------------

case_ready_true_quiet() {
	fixtures_into "$P"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 seen '/status'
	[ "$(cond status)" = True ]
	[ "$(cond reason)" = ProfilesInPlace ]
	[ "$(condtypes)" = "ProfilesReady Ready" ]
	# one PATCH of the status subresource, a strategic merge patch (the
	# stand-in records the Content-Type, the audit log does not)
	requests | tee "$T/req0"
	[ "$(grep -c '^PATCH /api/v1/nodes/node-1/status 200 ' "$T/req0")" -eq 1 ]
	requests_json | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["path"].endswith("/status"):
        assert r["content_type"] in ("application/strategic-merge-patch+json", None), r'
	reset_requests
	pause 2
	[ "$(nreq)" -eq 0 ]
	# a new good profile: labels change, the condition does not
	seccomp_json SCMP_ACT_ERRNO mkdir | put "$P/new.json"
	wait_until 10 seen '^PATCH'
	pause 0.5
	requests | tee "$T/req1"
	echo "# one good profile added: $(grep -c '^GET' "$T/req1") GET, $(grep -c '^PATCH /api/v1/nodes/node-1 ' "$T/req1") node PATCH, $(grep -c '/status' "$T/req1") status PATCH" >&3
	[ "$(grep -c '^PATCH /api/v1/nodes/node-1 ' "$T/req1")" -eq 1 ]
	[ "$(grep -c '/status' "$T/req1")" -eq 0 ]
	# a resync: one GET, nothing patched
	assert_quiet_resync
	stop_daemon
	[ "$DAEMON_RC" -eq 0 ]
}

case_ready_false_transitions() {
	fixtures_into "$P"
	echo '{"defaultAction": "SCMP_ACT_BOGUS"}' | put "$P/bad.json"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 seen '/status'
	[ "$(cond status)" = False ]
	[ "$(cond reason)" = ProfileInvalid ]
	cond message | tee "$T/msg"
	grep -q "bad.json: .*SCMP_ACT_BOGUS" "$T/msg"
	t1=$(cond lastTransitionTime)
	h1=$(cond lastHeartbeatTime)
	pause 1.1
	# a second problem: still False, another message, same transition time
	reset_requests
	echo 'not json' | put "$P/worse.json"
	wait_until 10 seen '/status'
	pause 0.5
	[ "$(cond status)" = False ]
	cond message | grep -q 'and 1 more problem'
	[ "$(cond lastTransitionTime)" = "$t1" ]
	[ "$(cond lastHeartbeatTime)" != "$h1" ]
	[ "$(nreq '/status')" -eq 1 ]
	# fixed: True, a new transition time
	reset_requests
	rm "$P/bad.json" "$P/worse.json"
	wait_until 10 seen '/status'
	pause 0.5
	[ "$(cond status)" = True ]
	[ "$(cond lastTransitionTime)" != "$t1" ]
	requests | tee "$T/req"
	echo "# False -> True: $(grep -c '^GET' "$T/req") GET, $(grep -c '/status' "$T/req") status PATCH" >&3
	[ "$(grep -c '/status' "$T/req")" -eq 1 ]
	[ "$(condtypes)" = "ProfilesReady Ready" ]
	stop_daemon
}

case_ready_put_back() {
	fixtures_into "$P"
	start_daemon --kubeconfig "$KC" --resync-interval 1h
	wait_until 10 seen '/status'
	# the kubelet rewrites its own conditions (a merge patch replaces the list)
	node_patch '{"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "posted by the kubelet", "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}'
	[ "$(condtypes)" = "Ready" ]
	kill -HUP "$DAEMON_PID"
	wait_until 10 node_has ProfilesReady
	[ "$(condtypes)" = "ProfilesReady Ready" ]
	node_json | grep -q 'posted by the kubelet'
	stop_daemon
}

case_taint_removed_once() {
	fixtures_into "$P"
	echo '{"defaultAction": "SCMP_ACT_BOGUS"}' | put "$P/bad.json"
	set_taints "[{\"key\": \"other.io/x\", \"effect\": \"NoExecute\"}, {\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]"
	start_daemon --kubeconfig "$KC" --resync-interval 1h --remove-taint "$TAINT:NoSchedule"
	wait_until 10 seen '/status'
	pause 0.5
	[ "$(cond status)" = False ]
	[ "$(taints)" = "other.io/x:NoExecute $TAINT:NoSchedule" ]
	[ "$(nreq json-patch)" -eq 0 ]
	rm "$P/bad.json"
	wait_until 10 seen json-patch
	pause 0.3
	[ "$(taints)" = "other.io/x:NoExecute" ]
	[ "$(cond status)" = True ]
	requests | grep json-patch | tee "$T/jp"
	[ "$(grep -c "^PATCH /api/v1/nodes/node-1 200 json-patch" "$T/jp")" -eq 1 ]
	# the patch: test resourceVersion, test the taint at its index, remove it
	requests_json | python3 -c '
import json, sys
b = [r for r in json.load(sys.stdin) if isinstance(r["body"], list)][0]["body"]
assert [o["op"] for o in b] == ["test", "test", "test", "remove"], b
assert b[0]["path"] == "/metadata/resourceVersion", b
assert b[3] == {"op": "remove", "path": "/spec/taints/1"}, b'
	grep -q 'start-up taint removed' "$LOG"
	# someone puts it back: the agent leaves it (it removes once, never re-adds)
	set_taints "[{\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]"
	reset_requests
	kill -HUP "$DAEMON_PID"
	wait_until 5 seen '^GET'
	pause 0.5
	[ "$(nreq json-patch)" -eq 0 ]
	[ "$(taints)" = "$TAINT:NoSchedule" ]
	stop_daemon
}

case_apparmor_pending() {
	command -v apparmor_parser >/dev/null || {
		echo "# SKIP: apparmor_parser not installed (make deps)" >&3
		skip "apparmor_parser not installed (make deps)"
	}
	FS=$T/apparmorfs
	mkdir -p "$FS"
	: >"$FS/.load"
	: >"$FS/.replace"
	: >"$FS/.remove"
	: >"$FS/profiles" # the stand-in kernel lists nothing yet
	export PARSER_LOG=$T/parser.log
	cp "$REPO/deploy/profiles/k8s-apparmor-example-deny-write" "$P/deny-write"
	set_taints "[{\"key\": \"$TAINT\", \"effect\": \"NoSchedule\"}]"
	aa() {
		run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
			--node-name node-1 --kubeconfig "$KC" --remove-taint "$TAINT" \
			--apparmorfs "$FS" --apparmor-parser "$BATS_TEST_DIRNAME/bin/parser-wrapper"
	}
	aa
	echo "$output"
	[ "$status" -eq 1 ]
	grep -aq k8s-apparmor-example-deny-write "$FS/.replace" # it was loaded
	[ "$(cond status)" = False ]
	[ "$(cond reason)" = Pending ]
	cond message | grep -q 'deny-write: .*k8s-apparmor-example-deny-write'
	[ "$(taints)" = "$TAINT:NoSchedule" ]
	echo 'k8s-apparmor-example-deny-write (enforce)' >"$FS/profiles"
	aa
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cond status)" = True ]
	[ -z "$(taints)" ]
}
