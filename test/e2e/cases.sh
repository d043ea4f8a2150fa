# Sourced by run.sh once profiled runs on the cluster (overlay, write_overlay,
# k, ok/notok/skip, run_pod, $ns, $seccomp, $image, $test_image are set).
# Each case asserts what real components did; the figures it prints
# ("# took ...") are measurements, never compared with anything.

now_ms() { date +%s%3N; }
agent_pods() { k -n profiled-system get pods -l app.kubernetes.io/name=profiled "$@"; }
node_label() { k get node "$1" -o "jsonpath={.metadata.labels.${2//./\\.}}" 2>/dev/null; }
same_json() {
	python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$1" "$2" 2>/dev/null
}
# pod_apply NAME NODE-SELECTOR-YAML SECURITY-CONTEXT-YAML: a long-running pod.
pod_apply() {
	k -n "$ns" apply -f - >/dev/null <<-EOF
	apiVersion: v1
	kind: Pod
	metadata:
	  name: $1
	spec:
	  terminationGracePeriodSeconds: 1
	  nodeSelector: $2
	  securityContext: $3
	  containers:
	  - name: c
	    image: $test_image
	    command: ["/bin/sh", "-c", "sleep 3600"]
	    securityContext:
	      allowPrivilegeEscalation: false
	EOF
}
pod_field() { k -n "$ns" get pod "$1" -o "jsonpath=$2" 2>/dev/null; }
# wait_running POD SECONDS
wait_running() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(pod_field "$1" '{.status.phase}')" = Running ] && return 0
		sleep 0.1
	done
	return 1
}
condition() {
	k get node "$NODE" -o jsonpath='{range .status.conditions[?(@.type=="ProfilesReady")]}{.status} {.reason}: {.message}{end}'
}
fig() { echo "#   $*"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", (b - a) / 1000 }'; }

# --- 1. a ConfigMap edit reaches the agent through the kubelet ---------------

# The ConfigMap run.sh applied has no e2e-new.json: after an earlier run,
# wait until the agent has seen that (the kubelet's sync) and dropped it.
for ((i = 0; i < 600; i++)); do
	[ -z "$(node_label "$NODE" seccomp.profiled.io/e2e-new)" ] && [ ! -e "$seccomp/e2e-new.json" ] && break
	sleep 0.1
done
# A pod that needs a profile no node has yet: it selects its label.
pod_apply wants-new '{"seccomp.profiled.io/e2e-new": "true"}' \
	'{"seccompProfile": {"type": "Localhost", "localhostProfile": "profiled/e2e-new.json"}}'
sleep 5
reason=$(pod_field wants-new '{.status.conditions[?(@.type=="PodScheduled")].reason}')
if [ "$(pod_field wants-new '{.status.phase}')" = Pending ] && [ -z "$(pod_field wants-new '{.spec.nodeName}')" ] &&
	[ "$reason" = Unschedulable ]; then
	ok "a pod selecting seccomp.profiled.io/e2e-new (no node has it) stays Pending, Unschedulable"
else
	notok "a pod selecting seccomp.profiled.io/e2e-new (no node has it) stays Pending, Unschedulable" \
		"phase $(pod_field wants-new '{.status.phase}'), node '$(pod_field wants-new '{.spec.nodeName}')', reason '$reason'"
fi

uid=$(agent_pods -o jsonpath='{.items[0].metadata.uid}')
vol=$STATE/kubelet/pods/$uid/volumes/kubernetes.io~configmap/profiles
write_overlay "$here/profiles/e2e-new.json"
t0=$(now_ms)
applied=$(k apply -k "$overlay" 2>&1)
t_vol="" t_pub="" t_label=""
for ((i = 0; i < 1200; i++)); do
	[ -z "$t_vol" ] && [ -e "$vol/e2e-new.json" ] && t_vol=$(now_ms)
	[ -z "$t_pub" ] && [ -s "$seccomp/e2e-new.json" ] && t_pub=$(now_ms)
	[ -z "$t_label" ] && [ "$(node_label "$NODE" seccomp.profiled.io/e2e-new)" = true ] && t_label=$(now_ms)
	[ -n "$t_vol" ] && [ -n "$t_pub" ] && [ -n "$t_label" ] && break
	sleep 0.1
done
# The kubelet's AtomicWriter: every key is a link into ..data, itself a
# link to a timestamped folder that is swapped in one rename.
data=$(readlink "$vol/..data" 2>/dev/null)
if [ -n "$t_vol" ] && [ -n "$t_pub" ] && [ -n "$t_label" ] &&
	[ "$(readlink "$vol/e2e-new.json")" = "..data/e2e-new.json" ] && [[ $data == ..20* ]] &&
	same_json "$seccomp/e2e-new.json" "$here/profiles/e2e-new.json"; then
	ok "kubectl apply of the ConfigMap with a new profile: the kubelet swaps ..data, the agent publishes and labels"
	fig "edit -> kubelet's volume updated ($data): $(ms "$t0" "$t_vol") (kubelet syncFrequency 10 s, Watch strategy)"
	fig "edit -> published in $seccomp: $(ms "$t0" "$t_pub") (volume -> published: $(ms "$t_vol" "$t_pub"))"
	fig "edit -> node label seccomp.profiled.io/e2e-new=true: $(ms "$t0" "$t_label")"
else
	notok "kubectl apply of the ConfigMap with a new profile: the kubelet swaps ..data, the agent publishes and labels" \
		"apply: $applied" "volume: t=${t_vol:-never} ..data -> '$data' $(ls -la "$vol" 2>&1 | tr '\n' ' ')" \
		"published: ${t_pub:-never}; label: ${t_label:-never}" \
		"$(k -n profiled-system logs ds/profiled --tail=20 2>&1)"
fi
if wait_running wants-new 60; then
	ok "the Pending pod is scheduled and Running once the profile's label is on the node"
	fig "edit -> pod Running: $(ms "$t0" "$(now_ms)")"
else
	notok "the Pending pod is scheduled and Running once the profile's label is on the node" \
		"$(k -n "$ns" describe pod wants-new 2>&1 | tail -15)"
fi

# --- 2. a broken profile, and a good profile edited into a broken one --------

# e2e-broken.json is new and invalid; e2e-new.json is replaced by a cut-off
# copy (profiles/edited/): its last good version must stay.
write_overlay "$here/profiles/edited/e2e-new.json" "$here/profiles/e2e-broken.json"
t0=$(now_ms)
applied=$(k apply -k "$overlay" 2>&1)
cond=""
for ((i = 0; i < 600; i++)); do
	cond=$(condition)
	[[ $cond == False* ]] && break
	sleep 0.1
done
t_cond=$(now_ms)
since=$(date -u -d "@$((t0 / 1000 - 1))" +%Y-%m-%dT%H:%M:%SZ)
described=$(k describe node "$NODE" 2>&1 | grep ProfilesReady)
if [[ $cond == "False ProfileInvalid: "*e2e-* ]] && [[ $described == *False*ProfileInvalid*/etc/profiled/profiles/e2e-* ]]; then
	ok "kubectl describe node: ProfilesReady False, ProfileInvalid, naming the file"
	fig "edit -> condition False: $(ms "$t0" "$t_cond")"
	fig "condition: $cond"
else
	notok "kubectl describe node: ProfilesReady False, ProfileInvalid, naming the file" \
		"apply: $applied" "condition: $cond" "describe: $described"
fi
events=""
for ((i = 0; i < 100; i++)); do
	# (only the events of this edit: an earlier run left its own)
	events=$(k -n default get events --field-selector "involvedObject.kind=Node,involvedObject.name=$NODE,reason=ProfileRejected" \
		-o jsonpath='{range .items[*]}{.lastTimestamp} {.type} {.reason} {.source.component} {.message}{"\n"}{end}' 2>&1 |
		awk -v since="$since" '$1 >= since { $1 = ""; sub(/^ /, ""); print }')
	grep -q '^Warning ProfileRejected .*e2e-broken.json' <<<"$events" &&
		grep -q '^Warning ProfileRejected .*e2e-new.json' <<<"$events" && break
	sleep 0.1
done
if grep -q '^Warning ProfileRejected .*/etc/profiled/profiles/e2e-broken.json: ' <<<"$events" &&
	grep -q '^Warning ProfileRejected .*/etc/profiled/profiles/e2e-new.json: ' <<<"$events"; then
	ok "kubectl get events: a Warning ProfileRejected on the Node for each broken file"
	while read -r l; do fig "$l"; done <<<"$events"
else
	notok "kubectl get events: a Warning ProfileRejected on the Node for each broken file" "events: $events" \
		"$(k -n default get events 2>&1 | tail -10)"
fi
if same_json "$seccomp/e2e-new.json" "$here/profiles/e2e-new.json" &&
	[ "$(node_label "$NODE" seccomp.profiled.io/e2e-new)" = true ] &&
	[ ! -e "$seccomp/e2e-broken.json" ] && [ -z "$(node_label "$NODE" seccomp.profiled.io/e2e-broken)" ]; then
	ok "the last good e2e-new.json stays published and labeled; e2e-broken.json is neither"
else
	notok "the last good e2e-new.json stays published and labeled; e2e-broken.json is neither" \
		"published: $(cat "$seccomp/e2e-new.json" 2>&1 | tr '\n' ' ')" "$(ls -la "$seccomp")" \
		"labels: $(k get node "$NODE" --show-labels 2>&1)"
fi
# Back to the good version: the condition turns True again.
write_overlay "$here/profiles/e2e-new.json"
k apply -k "$overlay" >/dev/null 2>&1
for ((i = 0; i < 600; i++)); do
	cond=$(condition)
	[[ $cond == True* ]] && break
	sleep 0.1
done
if [[ $cond == "True ProfilesInPlace: "* ]]; then
	ok "the broken files removed from the ConfigMap: ProfilesReady True again"
else
	notok "the broken files removed from the ConfigMap: ProfilesReady True again" "condition: $cond"
fi

# --- 3. the start-up taint ------------------------------------------------------

# The node as it registers with --register-with-taints: the taint is there
# before any agent runs. The DaemonSet is deleted, the node tainted, then
# deploy/ applied again (its DaemonSet passes --remove-taint
# profiled.io/not-ready:NoSchedule).
k -n profiled-system delete ds profiled --wait=true --timeout=60s >/dev/null 2>&1
for ((i = 0; i < 600; i++)); do
	[ -z "$(agent_pods -o name 2>/dev/null)" ] && break
	sleep 0.1
done
k taint node "$NODE" profiled.io/not-ready:NoSchedule --overwrite >/dev/null
pod_apply plain '{}' '{}'
sleep 5
msg=$(pod_field plain '{.status.conditions[?(@.type=="PodScheduled")].message}')
if [ "$(pod_field plain '{.status.phase}')" = Pending ] && [ -z "$(pod_field plain '{.spec.nodeName}')" ] &&
	[[ $msg == *"untolerated taint"* ]] &&
	[[ "$(k get node "$NODE" -o jsonpath='{.spec.taints}')" == *profiled.io/not-ready* ]]; then
	ok "an ordinary pod stays Pending while the node carries profiled.io/not-ready:NoSchedule (no agent)"
	fig "scheduler: $msg"
else
	notok "an ordinary pod stays Pending while the node carries profiled.io/not-ready:NoSchedule (no agent)" \
		"phase $(pod_field plain '{.status.phase}'), node '$(pod_field plain '{.spec.nodeName}')', message '$msg'"
fi
t0=$(now_ms)
since=$(date -u -d "@$((t0 / 1000 - 1))" +%Y-%m-%dT%H:%M:%SZ)
applied=$(k apply -k "$overlay" 2>&1)
taints=x
for ((i = 0; i < 1200; i++)); do
	taints=$(k get node "$NODE" -o jsonpath='{.spec.taints}')
	[[ $taints != *profiled.io/not-ready* ]] && break
	sleep 0.1
done
t_taint=$(now_ms)
if [[ $taints != *profiled.io/not-ready* ]] && wait_running plain 60; then
	ok "the agent removes the taint; the pod is then scheduled and Running"
	fig "apply -> taint removed: $(ms "$t0" "$t_taint"); -> pod Running: $(ms "$t0" "$(now_ms)")"
else
	notok "the agent removes the taint; the pod is then scheduled and Running" "apply: $applied" \
		"taints: $taints" "pod: $(pod_field plain '{.status.phase}')" \
		"$(k -n profiled-system logs ds/profiled --tail=20 2>&1)"
fi
events=$(k -n default get events --field-selector "involvedObject.kind=Node,involvedObject.name=$NODE,reason=TaintRemoved" \
	-o jsonpath='{range .items[*]}{.lastTimestamp} {.type} {.message}{"\n"}{end}' 2>&1 |
	awk -v since="$since" '$1 >= since')
if grep -q ' Normal ' <<<"$events"; then
	ok "a Normal TaintRemoved event on the Node"
	fig "$events"
else
	notok "a Normal TaintRemoved event on the Node" "events: $events"
fi
k -n profiled-system rollout status ds/profiled --timeout=120s >/dev/null 2>&1

# --- 4. least privilege on the real API server -----------------------------------

sa=system:serviceaccount:profiled-system:profiled
# can VERB RESOURCE [ARGS...]: kubectl auth can-i as the agent; prints yes/no.
can() { k auth can-i --as="$sa" "$@" 2>/dev/null; }
wrong=""
# What docs/api.md and docs/security.md grant (rbac.yaml).
for args in "get nodes" "patch nodes" "get nodes --subresource=status" "patch nodes --subresource=status" \
	"get nodes/$NODE" "patch nodes/$NODE" "create events -n default" "patch events -n default"; do
	# shellcheck disable=SC2086
	[ "$(can $args)" = yes ] || wrong="$wrong; not allowed: $args"
done
# What it must not have.
for args in "list nodes" "watch nodes" "update nodes" "delete nodes" "create nodes" "update nodes --subresource=status" \
	"list secrets -A" "get secrets -n profiled-system" "list configmaps -n profiled-system" \
	"get configmaps/profiles -n profiled-system" "list pods -A" "create pods -n profiled-system" \
	"create pods/eviction -n default" "create events -n profiled-system" "create events -n kube-system" \
	"get events -n default" "list events -n default" "delete events -n default" "create serviceaccounts/token -n profiled-system" \
	"patch daemonsets.apps -n profiled-system" "patch validatingadmissionpolicies.admissionregistration.k8s.io" \
	"delete validatingadmissionpolicybindings.admissionregistration.k8s.io" "escalate clusterroles" "impersonate users"; do
	# shellcheck disable=SC2086
	[ "$(can $args)" = no ] || wrong="$wrong; allowed: $args"
done
if [ -z "$wrong" ]; then
	ok "kubectl auth can-i as $sa: exactly the verbs of the docs (8 allowed, 24 refused)"
else
	notok "kubectl auth can-i as $sa: exactly the verbs of the docs" "${wrong#; }"
fi

# The agent pod's own kind of token: bound to its pod (and so to its node).
pod=$(agent_pods -o jsonpath='{.items[0].metadata.name}')
token=$(k -n profiled-system create token profiled --bound-object-kind Pod --bound-object-name "$pod" --duration 10m 2>&1)
claims=$(cut -d. -f2 <<<"$token" | tr '_-' '/+' | base64 -d 2>/dev/null)
[[ $claims == *'"node"'* ]] || claims="$claims}"
api=https://$GW:$API_PORT
# call METHOD PATH CONTENT-TYPE BODY: prints the HTTP status, then the body
# as compact JSON on one line.
call() {
	local code
	code=$(curl -sS --cacert "$STATE/pki/ca.crt" -H "Authorization: Bearer $token" -X "$1" -H "Content-Type: $3" \
		--data-binary "$4" -o "$out/e2e-call.json" -w '%{http_code}' "$api$2" 2>&1)
	echo "$code $(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' \
		"$out/e2e-call.json" 2>&1)"
}
other=$NODE-other
k apply -f - >/dev/null <<-EOF
apiVersion: v1
kind: Node
metadata:
  name: $other
EOF
k taint node "$NODE" e2e.example/other=x:PreferNoSchedule --overwrite >/dev/null
# taint_index KEY: the index of the first taint with KEY on $NODE.
taint_index() {
	k get node "$NODE" -o json | python3 -c 'import json,sys
t=json.load(sys.stdin)["spec"].get("taints", [])
print(next(i for i, x in enumerate(t) if x["key"] == sys.argv[1]))' "$1"
}
merge=application/merge-patch+json
jsonp=application/json-patch+json
smp=application/strategic-merge-patch+json
vap=""
expect() { # expect CODE TEXT-IN-BODY WHAT METHOD PATH TYPE BODY
	local code=$1 text=$2 what=$3 r
	shift 3
	r=$(call "$@")
	if [[ $r == "$code "* ]] && [[ $r == *"$text"* ]]; then
		fig "$code: $what"
	else
		vap="$vap; $what: want $code '$text', got: ${r:0:300}"
	fi
}
expect 200 '"seccomp.profiled.io/e2e-token":"true"' "own Node, own label set" \
	PATCH "/api/v1/nodes/$NODE" $merge '{"metadata":{"labels":{"seccomp.profiled.io/e2e-token":"true"}}}'
expect 200 '"kind":"Node"' "own Node, own label removed" \
	PATCH "/api/v1/nodes/$NODE" $merge '{"metadata":{"labels":{"seccomp.profiled.io/e2e-token":null}}}'
expect 403 'profiled may change only labels under profiled.io/ and *.profiled.io/, not: example.com/e2e' \
	"own Node, foreign label refused" \
	PATCH "/api/v1/nodes/$NODE" $merge '{"metadata":{"labels":{"example.com/e2e":"x"}}}'
expect 403 'profiled may change only labels' "own Node, a look-alike domain refused (evilprofiled.io)" \
	PATCH "/api/v1/nodes/$NODE" $merge '{"metadata":{"labels":{"evilprofiled.io/x":"true"}}}'
expect 403 "profiled on node $NODE may not write Node $other" "another Node, own label refused" \
	PATCH "/api/v1/nodes/$other" $merge '{"metadata":{"labels":{"seccomp.profiled.io/e2e-token":"true"}}}'
expect 403 "profiled on node $NODE may not write Node $other" "another Node's status refused" \
	PATCH "/api/v1/nodes/$other/status" $smp \
	'{"status":{"conditions":[{"type":"ProfilesReady","status":"True","reason":"ProfilesInPlace","message":"x"}]}}'
expect 403 "may not change a Node's spec" "own Node cordoned: refused" \
	PATCH "/api/v1/nodes/$NODE" $merge '{"spec":{"unschedulable":true}}'
i=$(taint_index e2e.example/other)
expect 403 "may not change a Node's spec" "own Node, another taint's removal refused" \
	PATCH "/api/v1/nodes/$NODE" $jsonp \
	"[{\"op\":\"test\",\"path\":\"/spec/taints/$i/key\",\"value\":\"e2e.example/other\"},{\"op\":\"remove\",\"path\":\"/spec/taints/$i\"}]"
expect 403 "may not change a Node's status" "own Node, the kubelet's Ready condition refused" \
	PATCH "/api/v1/nodes/$NODE/status" $smp \
	'{"status":{"conditions":[{"type":"Ready","status":"False","reason":"Fake","message":"x"}]}}'
expect 403 'forbidden' "an Event in kube-system refused (RBAC)" \
	POST "/api/v1/namespaces/kube-system/events" application/json '{"metadata":{"name":"x"}}'
expect 403 'cannot list resource \"secrets\"' "list secrets refused (RBAC)" GET "/api/v1/secrets" application/json ''
# The configured taint's removal passes (the agent's own request).
k taint node "$NODE" profiled.io/not-ready:NoSchedule --overwrite >/dev/null
i=$(taint_index profiled.io/not-ready)
expect 200 '"kind":"Node"' "own Node, the configured taint profiled.io/not-ready:NoSchedule removed" \
	PATCH "/api/v1/nodes/$NODE" $jsonp \
	"[{\"op\":\"test\",\"path\":\"/spec/taints/$i/key\",\"value\":\"profiled.io/not-ready\"},{\"op\":\"remove\",\"path\":\"/spec/taints/$i\"}]"
taints=$(k get node "$NODE" -o jsonpath='{.spec.taints}')
k taint node "$NODE" profiled.io/not-ready:NoSchedule- >/dev/null 2>&1
k taint node "$NODE" e2e.example/other- >/dev/null 2>&1
k delete node "$other" --wait=false >/dev/null 2>&1
labels=$(k get node "$NODE" --show-labels 2>&1)
if [ -z "$vap" ] && [[ $taints != *profiled.io/not-ready* ]] && [[ $taints == *e2e.example/other* ]] &&
	[[ $labels != *example.com/e2e* ]] && [[ $labels != *e2e-token* ]]; then
	ok "the pod-bound agent token through curl: the admission policy allows its own labels and taint, refuses the rest"
else
	notok "the pod-bound agent token through curl: the admission policy allows its own labels and taint, refuses the rest" \
		"${vap#; }" "taints after: $taints" "token claims: ${claims:0:400}"
fi

# --- 5. a rolling update and a deleted agent pod: nothing disappears --------------

# The same image under a new tag, pushed as a user pushes a release.
new_image=${image%:*}:e2e-rollout
podman push -q --tls-verify=false "$(cat "$repo/build/image/ref")" "docker://$new_image" >/dev/null 2>&1
labels0=$(k get node "$NODE" -o go-template='{{range $k, $v := .metadata.labels}}{{$k}}={{$v}}{{"\n"}}{{end}}' |
	grep 'profiled\.io/' | sort)
files0=$(cd "$seccomp" && ls)
old_pod=$(agent_pods -o jsonpath='{.items[0].metadata.name}')
# Every version of the Node, as the API server's watch delivers it.
k get node "$NODE" -w -o json >"$out/e2e-node-watch.json" 2>/dev/null &
watch_pid=$!
# The published files, every 100 ms.
(
	while :; do
		for f in $files0; do [ -s "$seccomp/$f" ] || echo "$(date +%T.%N) $f missing"; done
		sleep 0.1
	done
) >"$out/e2e-files-missing.log" 2>&1 &
poll_pid=$!
sleep 1
t0=$(now_ms)
set_out=$(k -n profiled-system set image ds/profiled "profiled=$new_image" 2>&1)
k -n profiled-system rollout status ds/profiled --timeout=120s >/dev/null 2>&1
t_roll=$(now_ms)
mid_pod=$(agent_pods -o jsonpath='{.items[0].metadata.name}')
mid_image=$(agent_pods -o jsonpath='{.items[0].spec.containers[0].image}')
k -n profiled-system delete pod "$mid_pod" --wait=true --timeout=60s >/dev/null 2>&1
t1=$(now_ms)
new_pod="" ready=""
for ((i = 0; i < 600; i++)); do
	new_pod=$(agent_pods -o jsonpath='{.items[0].metadata.name}' 2>/dev/null)
	ready=$(agent_pods -o jsonpath='{.items[0].status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
	[ -n "$new_pod" ] && [ "$new_pod" != "$mid_pod" ] && [ "$ready" = True ] && break
	sleep 0.1
done
t_ready=$(now_ms)
# The new pod works: the label of a profile removed from the ConfigMap
# goes, and so does the file (e2e-new.json; the ConfigMap run.sh applied).
write_overlay
k apply -k "$overlay" >/dev/null 2>&1
for ((i = 0; i < 600; i++)); do
	[ -z "$(node_label "$NODE" seccomp.profiled.io/e2e-new)" ] && [ ! -e "$seccomp/e2e-new.json" ] && break
	sleep 0.1
done
removed=$([ -z "$(node_label "$NODE" seccomp.profiled.io/e2e-new)" ] && [ ! -e "$seccomp/e2e-new.json" ] && echo yes)
kill "$watch_pid" "$poll_pid" 2>/dev/null
wait "$watch_pid" "$poll_pid" 2>/dev/null
# Each Node version seen before the removal above: which profiled label of
# the start is missing from it.
# Every Node version up to the one where the agent removed e2e-new's label
# (which proves the watch saw the agent's writes): which profiled label of
# the start is missing from it.
gaps=$(python3 - "$out/e2e-node-watch.json" "$labels0" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
want = dict(l.split("=", 1) for l in sys.argv[2].split())
dec, i, n, gaps, seen_removal = json.JSONDecoder(), 0, 0, [], False
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    labels = obj["metadata"].get("labels", {})
    if "seccomp.profiled.io/e2e-new" not in labels:
        seen_removal = True
        break
    n += 1
    for k, v in want.items():
        if labels.get(k) != v:
            gaps.append("resourceVersion %s: %s=%s" % (obj["metadata"]["resourceVersion"], k, labels.get(k)))
print("versions=%d removal=%s" % (n, seen_removal))
for g in gaps:
    print(g)
PY
)
versions=$(head -1 <<<"$gaps")
gaps=$(tail -n +2 <<<"$gaps")
missing=$(grep -v 'e2e-new.json missing' "$out/e2e-files-missing.log")
if [ "$mid_pod" != "$old_pod" ] && [ "$mid_image" = "$new_image" ] && [ "$new_pod" != "$mid_pod" ] &&
	[ "$ready" = True ] && [ "$removed" = yes ] && [[ $versions == *" removal=True" ]] && [ -z "$gaps" ] && [ -z "$missing" ] &&
	[ "$(wc -l <<<"$labels0")" -ge 4 ]; then
	ok "rolling update to $new_image, then the agent pod deleted: no profiled label or published file is ever missing; the new pod takes over"
	fig "pods: $old_pod -> $mid_pod (rollout) -> $new_pod (deleted, replaced)"
	fig "set image -> rollout done: $(ms "$t0" "$t_roll"); pod deleted -> new pod Ready: $(ms "$t1" "$t_ready")"
	fig "Node versions watched before the removal: ${versions%% *}; labels held: $(echo $labels0)"
else
	notok "rolling update to $new_image, then the agent pod deleted: no profiled label or published file is ever missing; the new pod takes over" \
		"set image: $set_out" "pods: $old_pod -> $mid_pod ($mid_image) -> $new_pod (ready $ready)" \
		"e2e-new removed after: ${removed:-no}; $versions" "label gaps: $gaps" "file gaps: $(head -5 <<<"$missing")"
fi
rm -f "$out/e2e-call.json"

# --- 6. AppArmor on a node whose kernel has none -----------------------------

# The tutorial's AppArmor pod, selecting the label of its profile: on a node
# without AppArmor no such label exists, so it stays Pending (Unschedulable)
# rather than being placed here and refused by the kubelet.
if [ ! -e /sys/kernel/security/apparmor/profiles ]; then
	pod_apply wants-apparmor '{"apparmor.profiled.io/k8s-apparmor-example-deny-write": "true"}' \
		'{"appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-apparmor-example-deny-write"}}'
	sleep 5
	reason=$(pod_field wants-apparmor '{.status.conditions[?(@.type=="PodScheduled")].reason}')
	if [ "$(pod_field wants-apparmor '{.status.phase}')" = Pending ] &&
		[ -z "$(pod_field wants-apparmor '{.spec.nodeName}')" ] && [ "$reason" = Unschedulable ]; then
		ok "the AppArmor example pod (selecting its profile's label) stays Pending, Unschedulable, on a node without AppArmor"
	else
		notok "the AppArmor example pod stays Pending on a node without AppArmor" \
			"phase $(pod_field wants-apparmor '{.status.phase}'), node '$(pod_field wants-apparmor '{.spec.nodeName}')', reason '$reason'"
	fi
	k -n "$ns" delete pod wants-apparmor --wait=false >/dev/null 2>&1
fi
