# Sourced by run.sh, last: docs/getting-started.md run as written.
#
# Every fenced block of the doc opened with "```sh e2e:ID" is extracted
# (awk: from that line to the next line that is only "```") and run with
# bash -e, in a scratch folder, build/cluster/getting-started, where
# `profiled` is a link to this checkout and the doc's overlay my-cluster/
# is made. The environment is the one a user has: kubectl on PATH
# (build/cluster/bin), KUBECONFIG the cluster's admin, and
# CONTAINERS_REGISTRIES_CONF a registries.conf marking the cluster's
# registry as http (podman push refuses plain http otherwise). Before a
# block runs, only these placeholders are replaced (GS_SUBST below):
#
#   registry.example.com                  -> $REGISTRY (127.0.0.1:15000)
#   NODE (the word)                       -> $NODE (the cluster's node)
#   KUBELET_ROOT=/var/lib/k0s/kubelet     -> the cluster kubelet's --root-dir
#   PROFILED_STATE=/var/lib/profiled      -> $STATE/profiled-state
#   image: busybox (a whole line)         -> the cluster's busybox image
#
# A block's output goes to build/cluster/getting-started/out/ID.log; after
# it the outcome the doc promises is checked on the cluster. The set of
# e2e blocks must be exactly GS_BLOCKS, in that order: a block added to or
# removed from the doc fails the first case until this file follows.
#
# It starts by removing run.sh's installation (so the doc's install is a
# fresh one), ends with the doc's uninstall, checks what the doc says
# stays and goes, then installs run.sh's overlay again for whatever runs
# after. Figures ("#   ...") are printed, never compared.

GS_BLOCKS="image overlay root-dir install see add pod upgrade uninstall"
gs=$out/getting-started
gs_doc=$repo/docs/getting-started.md
gs_agent=system:serviceaccount:profiled-system:profiled
GS_SUBST=(
	-e "s#registry\\.example\\.com#$REGISTRY#g"
	-e "s#\\<NODE\\>#$NODE#g"
	-e "s#^KUBELET_ROOT=/var/lib/k0s/kubelet#KUBELET_ROOT=$STATE/kubelet#"
	-e "s#^PROFILED_STATE=/var/lib/profiled#PROFILED_STATE=$STATE/profiled-state#"
	-e "s#^\\( *\\)image: busybox\$#\\1image: $test_image#"
)

# gs_run ID: runs the doc's block ID; its output in $gs/out/ID.log.
gs_run() {
	sed "${GS_SUBST[@]}" "$gs/blocks/$1.sh" >"$gs/run/$1.sh"
	(cd "$gs" && PATH=$out/bin:$PATH KUBECONFIG=$out/kubeconfig \
		CONTAINERS_REGISTRIES_CONF=$gs/registries.conf bash -e "$gs/run/$1.sh") >"$gs/out/$1.log" 2>&1
}
gs_log() { tail -n "${2:-15}" "$gs/out/$1.log" 2>/dev/null; }
# gs_watch FILE KUBECTL-ARGS...: every line of a kubectl watch, prefixed
# with the time it arrived (ms); the pid in $gs_watch_pid.
gs_watch() {
	local f=$1
	shift
	(k "$@" 2>/dev/null | while IFS= read -r l; do echo "$(now_ms) $l"; done) >"$f" &
	gs_watch_pid=$!
}
# gs_first FILE AWK-CONDITION: the time of the first line matching.
gs_first() { awk "$2 { print \$1; exit }" "$1"; }
gs_labels() {
	k get node "$NODE" -o go-template='{{range $k, $v := .metadata.labels}}{{$k}}={{$v}}{{"\n"}}{{end}}' 2>/dev/null
}
gs_annotations() {
	k get node "$NODE" -o go-template='{{range $k, $v := .metadata.annotations}}{{$k}}{{"\n"}}{{end}}' 2>/dev/null
}
gs_conditions() { k get node "$NODE" -o jsonpath='{range .status.conditions[*]}{.type}{"\n"}{end}' 2>/dev/null; }
# gs_memory WHAT SINCE-MS: the agent container's memory as the kubelet's
# /stats/summary reports it, from a sample taken after SINCE-MS.
gs_memory() {
	local i r=""
	for ((i = 0; i < 60; i++)); do
		r=$(k get --raw "/api/v1/nodes/$NODE/proxy/stats/summary" 2>/dev/null | python3 -c '
import json, sys, datetime
s = json.load(sys.stdin)
for p in s.get("pods", []):
    if p["podRef"]["namespace"] != "profiled-system":
        continue
    for c in p.get("containers", []):
        m = c.get("memory") or {}
        if c["name"] != "profiled" or "workingSetBytes" not in m:
            continue
        t = datetime.datetime.fromisoformat(m["time"].replace("Z", "+00:00")).timestamp() * 1000
        if t < int(sys.argv[1]):
            continue
        mib = lambda k: "%.2f MiB" % (m.get(k, 0) / 1048576)
        print("workingSetBytes %s (%d), rssBytes %s, usageBytes %s, sample %s" % (
            mib("workingSetBytes"), m["workingSetBytes"], mib("rssBytes"), mib("usageBytes"), m["time"]))
' "$2" 2>&1)
		[[ $r == workingSetBytes* ]] && break
		sleep 2
	done
	fig "agent container memory ($1): ${r:-no sample from /stats/summary}"
}
# gs_audit WHAT T0-MS T1-MS: the API server's audit log between two times:
# the agent's requests by verb and resource, and the others' by user.
gs_audit() {
	python3 - "$STATE/logs/audit.log" "$2" "$3" "$gs_agent" <<'PY' | while IFS= read -r l; do fig "$1: $l"; done
import json, sys, datetime, collections
path, t0, t1, agent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
mine, others = collections.Counter(), collections.Counter()
for line in open(path, errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("stage") != "ResponseComplete":
        continue
    t = datetime.datetime.fromisoformat(e["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp() * 1000
    if not t0 <= t <= t1:
        continue
    o = e.get("objectRef") or {}
    what = "%s %s%s" % (e["verb"], o.get("resource", e.get("requestURI", "?")),
                        "/" + o["subresource"] if o.get("subresource") else "")
    user = e["user"]["username"]
    if user == agent:
        mine[what + " -> %s" % e.get("responseStatus", {}).get("code", "?")] += 1
    else:
        others[user] += 1
print("agent: %d requests: %s" % (sum(mine.values()), ", ".join("%d %s" % (n, w) for w, n in sorted(mine.items())) or "none"))
print("others in the same %.1f s: %s" % ((t1 - t0) / 1000, ", ".join("%s %d" % (u, n) for u, n in others.most_common())))
PY
}

# gs_edit_time SINCE-MS: when the API server received the first write of
# the profiles ConfigMap after SINCE-MS (its audit log, microseconds).
gs_edit_time() {
	python3 - "$STATE/logs/audit.log" "$1" <<'PY'
import json, sys, datetime
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    o = e.get("objectRef") or {}
    if e.get("stage") != "ResponseComplete" or e.get("verb") not in ("patch", "update", "create") \
            or o.get("resource") != "configmaps" or o.get("name") != "profiles":
        continue
    t = datetime.datetime.fromisoformat(e["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp() * 1000
    if t >= int(sys.argv[2]):
        print(int(t))
        break
PY
}

# --- the doc's blocks ---------------------------------------------------------

rm -rf "$gs"
mkdir -p "$gs/blocks" "$gs/run" "$gs/out"
ln -s "$repo" "$gs/profiled"
cat >"$gs/registries.conf" <<EOF
[[registry]]
location = "$REGISTRY"
insecure = true
EOF
awk -v dir="$gs/blocks" '
	/^```sh e2e:/ { id = substr($0, 11); f = dir "/" id ".sh"; order = order " " id; next }
	/^```$/ && f { close(f); f = ""; next }
	f { print > f }
	END { print substr(order, 2) > (dir "/order") }' "$gs_doc"
found=$(cat "$gs/blocks/order")
if [ "$found" = "$GS_BLOCKS" ]; then
	ok "docs/getting-started.md: its e2e blocks are the ones this test runs ($GS_BLOCKS)"
else
	notok "docs/getting-started.md: its e2e blocks are the ones this test runs" "doc: $found" "test: $GS_BLOCKS"
fi

# A fresh cluster for the doc: run.sh's installation removed, with what
# its agent left on the Node and on the host (the published files and the
# state; the doc's own uninstall is checked at the end).
k -n "$ns" delete pod --all --wait=true --timeout=60s >/dev/null 2>&1
k delete -k "$overlay" --wait=true --timeout=180s >/dev/null 2>&1
rm -rf "${seccomp:?}" "$STATE/profiled-state"
for l in $(gs_labels | grep -E '^([a-z]+\.)?profiled\.io/' | cut -d= -f1); do
	k label node "$NODE" "$l-" >/dev/null 2>&1
done
k annotate node "$NODE" profiled.io/profiles- profiled.io/owned-labels- >/dev/null 2>&1
i=$(gs_conditions | grep -nx ProfilesReady | cut -d: -f1)
[ -z "$i" ] || k patch node "$NODE" --subresource=status --type=json \
	-p "[{\"op\":\"remove\",\"path\":\"/status/conditions/$((i - 1))\"}]" >/dev/null 2>&1

# 1. the image, pushed to the registry
t0=$(now_ms)
if gs_run image && curl -fsS "http://$REGISTRY/v2/profiled/tags/list" | grep -q '"v1"'; then
	ok "getting-started 1: make image, podman tag and push: $REGISTRY/profiled:v1 is in the registry"
	fig "make image, podman tag and push: $(ms "$t0" "$(now_ms)")"
else
	notok "getting-started 1: make image, podman tag and push" "$(gs_log image)"
fi

# 2. the overlay, then the install
rendered=""
if gs_run overlay && gs_run root-dir && rendered=$(k kustomize "$gs/my-cluster" 2>&1) &&
	grep -q "image: $REGISTRY/profiled:v1\$" <<<"$rendered" &&
	grep -q "path: $STATE/kubelet/seccomp/profiled\$" <<<"$rendered"; then
	ok "getting-started 2: the overlay renders deploy/ with image $REGISTRY/profiled:v1 and the kubelet's root"
else
	notok "getting-started 2: the overlay renders deploy/ with image $REGISTRY/profiled:v1" \
		"$(gs_log overlay)" "$(gs_log root-dir)" "$(grep -n 'image:\|path:' <<<"$rendered")"
fi

gs_watch "$gs/pods.watch" -n profiled-system get pods -w \
	-o jsonpath='{.metadata.name} p={.status.phase} r={.status.conditions[?(@.type=="Ready")].status}{"\n"}'
pods_watch=$gs_watch_pid
gs_watch "$gs/node.watch" get node "$NODE" -w \
	-o jsonpath='c={.status.conditions[?(@.type=="ProfilesReady")].status} l={.metadata.labels.seccomp\.profiled\.io/fine-grained}{"\n"}'
node_watch=$gs_watch_pid
sleep 1
t0=$(now_ms)
gs_run install
rc=$?
t_rolled=$(now_ms)
for ((i = 0; i < 300; i++)); do
	[[ "$(condition)" == True* ]] && [ "$(node_label "$NODE" seccomp.profiled.io/fine-grained)" = true ] && break
	sleep 0.1
done
sleep 1
kill "$pods_watch" "$node_watch" 2>/dev/null
wait "$pods_watch" "$node_watch" 2>/dev/null
pod_image=$(agent_pods -o jsonpath='{.items[0].spec.containers[0].image}')
if [ "$rc" = 0 ] && grep -q 'successfully rolled out' "$gs/out/install.log" &&
	[ "$pod_image" = "$REGISTRY/profiled:v1" ] && [[ "$(condition)" == "True ProfilesInPlace"* ]]; then
	ok "getting-started 2: kubectl apply -k my-cluster/, rollout status: the agent runs $pod_image, ProfilesReady True"
	t_created=$(gs_first "$gs/pods.watch" '/ p=/')
	t_running=$(gs_first "$gs/pods.watch" '/ p=Running /')
	t_ready=$(gs_first "$gs/pods.watch" '/ r=True$/')
	t_cond=$(gs_first "$gs/node.watch" '/ c=True /')
	t_label=$(gs_first "$gs/node.watch" '/ l=true$/')
	fig "apply -> agent pod created $(ms "$t0" "$t_created"), Running $(ms "$t0" "$t_running"), Ready $(ms "$t0" "$t_ready"), rollout status returned $(ms "$t0" "$t_rolled")"
	fig "apply -> node ProfilesReady True $(ms "$t0" "$t_cond"), label seccomp.profiled.io/fine-grained $(ms "$t0" "$t_label")"
	fig "agent pod created -> Ready $(ms "$t_created" "$t_ready"), -> ProfilesReady True $(ms "$t_created" "$t_cond")"
else
	notok "getting-started 2: kubectl apply -k my-cluster/, rollout status" "$(gs_log install)" \
		"image: $pod_image" "condition: $(condition)" "$(k -n profiled-system get pods -o wide 2>&1)"
fi

# 3. what the node holds
gs_run see
log=$gs/out/see.log
if grep -Eq "^$NODE +Ready .*disabled.* true( |\$)" "$log" &&
	grep -q 'ProfilesReady *True' "$log" && grep -q 'ProfilePublished' "$log" &&
	grep -q '"fine-grained"' "$log" && grep -q 'seccomp profile published' "$log"; then
	ok "getting-started 3: get nodes -L (apparmor disabled, fine-grained true), describe node (ProfilesReady, ProfilePublished), the annotation through jq, the logs"
else
	notok "getting-started 3: get nodes -L, describe node, the annotation, the logs" "$(head -5 "$log")" \
		"$(grep -n 'ProfilesReady\|Profile[A-Z]\|fine-grained\|published' "$log" | head -10)"
fi
sleep 15
gs_memory "idle, the 4 example profiles" "$(($(now_ms) - 2000))"

# 4. a profile of one's own
uid=$(agent_pods -o jsonpath='{.items[0].metadata.uid}')
vol=$STATE/kubelet/pods/$uid/volumes/kubernetes.io~configmap/profiles
gs_watch "$gs/node-add.watch" get node "$NODE" -w -o jsonpath='l={.metadata.labels.seccomp\.profiled\.io/my-profile}{"\n"}'
node_watch=$gs_watch_pid
(for ((i = 0; i < 3000; i++)); do
	[ -e "$vol/my-profile.json" ] && echo "vol $(now_ms)" && break
	sleep 0.05
done) >"$gs/vol.times" &
vol_poll=$!
(for ((i = 0; i < 3000; i++)); do
	[ -s "$seccomp/my-profile.json" ] && echo "pub $(now_ms)" && break
	sleep 0.05
done) >"$gs/pub.times" &
pub_poll=$!
# Not the doc's: a pod that waits for the label (label -> Running).
pod_apply gs-waiting '{"seccomp.profiled.io/my-profile": "true"}' \
	'{"seccompProfile": {"type": "Localhost", "localhostProfile": "profiled/my-profile.json"}}'
gs_watch "$gs/waiting.watch" -n "$ns" get pod gs-waiting -w -o jsonpath='p={.status.phase} n={.spec.nodeName}{"\n"}'
waiting_watch=$gs_watch_pid
sleep 1
t0=$(now_ms)
gs_run add
rc=$?
t_done=$(now_ms)
wait "$vol_poll" "$pub_poll"
sleep 3
t_audit=$(now_ms)
wait_running gs-waiting 60
kill "$node_watch" "$waiting_watch" 2>/dev/null
wait "$node_watch" "$waiting_watch" 2>/dev/null
if [ "$rc" = 0 ] && grep -q '^my-cluster/my-profile.json: ok (seccomp: my-profile)$' "$gs/out/add.log" &&
	same_json "$seccomp/my-profile.json" "$gs/my-cluster/my-profile.json" &&
	[ "$(node_label "$NODE" seccomp.profiled.io/my-profile)" = true ]; then
	ok "getting-started 4: profiled check says ok; kubectl apply -k: my-profile.json published, node labeled, kubectl wait returns"
	t_vol=$(cut -d' ' -f2 "$gs/vol.times")
	t_pub=$(cut -d' ' -f2 "$gs/pub.times")
	t_label=$(gs_first "$gs/node-add.watch" '/ l=true$/')
	t_edit=$(gs_edit_time "$t0")
	fig "ConfigMap written (audit log) -> kubelet's volume updated $(ms "$t_edit" "$t_vol") (the kubelet; syncFrequency 10 s here), -> published $(ms "$t_edit" "$t_pub") (the agent: $(ms "$t_vol" "$t_pub") after the volume), -> label $(ms "$t_edit" "$t_label") (the agent: $(ms "$t_vol" "$t_label")); the whole block (make, check, apply, wait) $(ms "$t0" "$t_done")"
	t_bound=$(gs_first "$gs/waiting.watch" "/ n=$NODE\$/")
	t_run=$(gs_first "$gs/waiting.watch" '/ p=Running /')
	fig "a pod waiting for that label: label -> scheduled $(ms "$t_label" "$t_bound"), -> Running $(ms "$t_label" "$t_run") (ConfigMap written -> Running $(ms "$t_edit" "$t_run"))"
	gs_audit "one ConfigMap change (a profile added)" "$t0" "$t_audit"
else
	notok "getting-started 4: profiled check, kubectl apply -k, published and labeled" "$(gs_log add)" \
		"$(ls -la "$seccomp" 2>&1)" "$(k -n profiled-system logs ds/profiled --tail=10 2>&1)"
fi

# 5. a pod under that profile
t0=$(now_ms)
if gs_run pod && grep -q "can't create directory '/tmp/x': Operation not permitted" "$gs/out/pod.log" &&
	grep -q '^refused$' "$gs/out/pod.log" && [ "$(k get pod my-profile-demo -o jsonpath='{.spec.nodeName}')" = "$NODE" ]; then
	ok "getting-started 5: the demo pod runs under profiled/my-profile.json: mkdir gets Operation not permitted"
	fig "kubectl apply of the pod -> Succeeded, logs read: $(ms "$t0" "$(now_ms)")"
else
	notok "getting-started 5: the demo pod runs under profiled/my-profile.json" "$(gs_log pod)" \
		"$(k describe pod my-profile-demo 2>&1 | tail -10)"
fi
k delete pod my-profile-demo --wait=false >/dev/null 2>&1
k -n "$ns" delete pod gs-waiting --wait=false >/dev/null 2>&1

# Figures only: 500 small seccomp profiles in the ConfigMap (an overlay
# over the doc's; about 60 KiB, far from the ConfigMap's 1 MiB), the
# agent's memory with them, the API requests of that change, and back.
many=$gs/many
mkdir -p "$many"
{
	printf 'resources:\n- ../my-cluster\nconfigMapGenerator:\n- name: profiles\n  namespace: profiled-system\n'
	printf '  behavior: merge\n  options:\n    disableNameSuffixHash: true\n  files:\n'
} >"$many/kustomization.yaml"
calls=(mkdir mkdirat rmdir unlink unlinkat rename renameat chmod fchmod chown)
for ((n = 0; n < 500; n++)); do
	f=$(printf 'gen-%03d.json' "$n")
	printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["%s"],"action":"SCMP_ACT_ERRNO"}]}\n' \
		"${calls[n % 10]}" >"$many/$f"
	echo "  - $f" >>"$many/kustomization.yaml"
done
gen_labels() { gs_labels | grep -c '^seccomp\.profiled\.io/gen-'; }
t0=$(now_ms)
applied=$(k apply -k "$many" 2>&1)
t_pub="" t_label=""
for ((i = 0; i < 1200; i++)); do
	[ -z "$t_pub" ] && [ -s "$seccomp/gen-499.json" ] && [ "$(ls "$seccomp" | grep -c '^gen-')" = 500 ] && t_pub=$(now_ms)
	[ -z "$t_label" ] && [ "$(gen_labels)" = 500 ] && t_label=$(now_ms)
	[ -n "$t_pub" ] && [ -n "$t_label" ] && break
	sleep 0.1
done
sleep 3
t_audit=$(now_ms)
if [ -n "$t_pub" ] && [ -n "$t_label" ]; then
	t_edit=$(gs_edit_time "$t0")
	fig "500 seccomp profiles added ($(cat "$many"/gen-*.json | wc -c) bytes of files; the ConfigMap $(k -n profiled-system get cm profiles -o json | wc -c) bytes as JSON, with kubectl's last-applied copy): ConfigMap written -> all published $(ms "$t_edit" "$t_pub"), -> 500 labels $(ms "$t_edit" "$t_label")"
	gs_audit "500 profiles added" "$t0" "$t_audit"
	sleep 15
	gs_memory "idle, 505 profiles" "$(($(now_ms) - 2000))"
else
	fig "500 seccomp profiles: not all published/labeled in 120 s ($applied; $(gen_labels) labels)"
fi
t0=$(now_ms)
k apply -k "$gs/my-cluster" >/dev/null 2>&1
for ((i = 0; i < 1200; i++)); do
	[ "$(gen_labels)" = 0 ] && [ ! -e "$seccomp/gen-000.json" ] && break
	sleep 0.1
done
fig "the 500 removed again: apply -> files and labels gone $(ms "$t0" "$(now_ms)")"

# 6. upgrade: a new tag, nothing published or loaded again
files0=$(cd "$seccomp" && ls | sort)
labels0=$(gs_labels | grep 'profiled\.io/' | sort)
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
old_pod=$(agent_pods -o jsonpath='{.items[0].metadata.name}')
t0=$(now_ms)
gs_run upgrade
rc=$?
t_up=$(now_ms)
sleep 3
new_pod=$(agent_pods -o jsonpath='{.items[0].metadata.name}')
again=$(k -n default get events --field-selector "involvedObject.kind=Node,involvedObject.name=$NODE" \
	-o jsonpath='{range .items[*]}{.lastTimestamp} {.reason} {.message}{"\n"}{end}' 2>&1 |
	awk -v since="$since" '$1 >= since && $2 ~ /^Profile(Published|Loaded|Restored)$/')
if [ "$rc" = 0 ] && [ "$(agent_pods -o jsonpath='{.items[0].spec.containers[0].image}')" = "$REGISTRY/profiled:v2" ] &&
	[ "$new_pod" != "$old_pod" ] && [ "$(cd "$seccomp" && ls | sort)" = "$files0" ] &&
	[ "$(gs_labels | grep 'profiled\.io/' | sort)" = "$labels0" ] && [ -z "$again" ] &&
	[[ "$(condition)" == True* ]]; then
	ok "getting-started 6: upgrade to v2: a new agent pod, the same files and labels, nothing published again"
	fig "upgrade block (tag, push, apply, rollout status): $(ms "$t0" "$t_up")"
else
	notok "getting-started 6: upgrade to v2" "$(gs_log upgrade)" "pods: $old_pod -> $new_pod" \
		"events since $since: $again" "files: $(cd "$seccomp" && ls | tr '\n' ' ')"
fi

# 7. uninstall: what goes and what stays
t0=$(now_ms)
gs_run uninstall
rc=$?
gone=""
k get namespace profiled-system >/dev/null 2>&1 && gone="$gone namespace"
k get clusterrole profiled >/dev/null 2>&1 && gone="$gone clusterrole"
k get clusterrolebinding profiled >/dev/null 2>&1 && gone="$gone clusterrolebinding"
k -n default get role profiled-events >/dev/null 2>&1 && gone="$gone role"
k get validatingadmissionpolicy profiled-node-writes >/dev/null 2>&1 && gone="$gone admission-policy"
left_labels=$(gs_labels | grep -E '^([a-z]+\.)?profiled\.io/')
left_ann=$(gs_annotations | grep -E '^([a-z]+\.)?profiled\.io/')
left_cond=$(gs_conditions | grep -x ProfilesReady)
if [ "$rc" = 0 ] && [ -z "$gone" ] && [ -z "$left_labels" ] && [ -z "$left_ann" ] && [ -z "$left_cond" ] &&
	[ -z "$(agent_pods -o name 2>/dev/null)" ]; then
	ok "getting-started 7: uninstall: namespace, agent, RBAC and policy gone; no profiled label, annotation or condition left on the Node"
	fig "uninstall block: $(ms "$t0" "$(now_ms)")"
else
	notok "getting-started 7: uninstall removes the objects and what the agent set on the Node" "$(gs_log uninstall)" \
		"still there:$gone" "labels: $(echo $left_labels)" "annotations: $(echo $left_ann)" "condition: $left_cond"
fi
if same_json "$seccomp/my-profile.json" "$gs/my-cluster/my-profile.json" && [ -s "$seccomp/fine-grained.json" ] &&
	[ -s "$STATE/profiled-state/state.json" ]; then
	ok "getting-started 7: as the doc says, the seccomp files and the agent's state stay on the node"
else
	notok "getting-started 7: the seccomp files and the agent's state stay on the node" \
		"$(ls -la "$seccomp" "$STATE/profiled-state" 2>&1)"
fi

# run.sh's installation back, for whatever runs next.
write_overlay
k apply -k "$overlay" >/dev/null 2>&1
k -n profiled-system rollout status ds/profiled --timeout=180s >/dev/null 2>&1
