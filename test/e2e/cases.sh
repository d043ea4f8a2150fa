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
