# Sourced by run.sh after cases.sh: the same agent installed with the Helm
# chart deploy/chart/profiled instead of kustomize, upgraded with a changed
# profile, and uninstalled; each step asserts what the kustomize path
# asserts (k, ok/notok, run_pod, node_label, same_json, agent_pods, $ns,
# $seccomp, $image, $here, $repo, $out are set by run.sh and cases.sh).
#
# The kustomize install of run.sh is deleted first (its objects have the
# same names); the chart then takes over the same host folders and node.

helm_bin=$(sh "$repo/test/helm/build.sh" 2>"$out/e2e-helm-build.log" | sed -n 1p)
h() {
	HELM_CACHE_HOME=$out/helm/cache HELM_CONFIG_HOME=$out/helm/config HELM_DATA_HOME=$out/helm/data \
		"$helm_bin" --kubeconfig "$out/kubeconfig" "$@"
}
chart=$repo/deploy/chart/profiled
# The values of the overlay of run.sh: the image of the cluster's registry,
# the host folders under the cluster's state folder, e2e-deny-mkdir.json.
helm_values=(--set "image.repository=${image%:*}" --set "image.tag=${image##*:}"
	--set "hostPaths.seccomp=$STATE/kubelet/seccomp/profiled" --set "hostPaths.state=$STATE/profiled-state"
	--set-file "profiles.files.e2e-deny-mkdir\.json=$here/profiles/e2e-deny-mkdir.json")
# wait_labels WANT...: until every label KEY=true is on the node (30 s).
wait_labels() {
	local i l missing
	for ((i = 0; i < 300; i++)); do
		missing=""
		for l in "$@"; do
			[ "$(node_label "$NODE" "$l")" = true ] || missing="$missing $l"
		done
		[ -z "$missing" ] && return 0
		sleep 0.1
	done
	echo "$missing"
	return 1
}

if [ -z "$helm_bin" ] || [ ! -x "$helm_bin" ]; then
	notok "helm built (test/helm/build.sh)" "$(tail -5 "$out/e2e-helm-build.log")"
	return 0
fi

# --- kustomize out, helm in ------------------------------------------------------

k delete -k "$overlay" --wait=true --timeout=120s >/dev/null 2>&1
for ((i = 0; i < 600; i++)); do
	k get namespace profiled-system >/dev/null 2>&1 || break
	sleep 0.2
done
# The uninstall of deploy/README.md: the agent's labels and annotations off
# the node, so that what follows is the chart's agent's doing.
keys=$(k get node "$NODE" -o json | python3 -c 'import json,sys
m=json.load(sys.stdin)["metadata"]
print(" ".join(k + "-" for k in m.get("labels", {}) if k.split("/")[0].endswith("profiled.io")))')
# shellcheck disable=SC2086
k label node "$NODE" $keys >/dev/null 2>&1
k annotate node "$NODE" profiled.io/profiles- profiled.io/owned-labels- >/dev/null 2>&1
left=$(k get node "$NODE" -o json | python3 -c 'import json,sys
m=json.load(sys.stdin)["metadata"]
print(" ".join(k for k in list(m.get("labels", {})) + list(m.get("annotations", {}))
               if k.split("/")[0].endswith("profiled.io")))')
if [ -n "$keys" ] && [ -z "$left" ] && ! k get namespace profiled-system >/dev/null 2>&1; then
	ok "kustomize install deleted, the agent's labels and annotations taken off the node"
else
	notok "kustomize install deleted, the agent's labels and annotations taken off the node" 		"removed: $keys" "left: $left" "$(k get namespace profiled-system 2>&1)"
fi

# A bad value: refused by the chart's schema before anything is created.
bad=$(h install profiled "$chart" "${helm_values[@]}" --set image.pullPolicy=Sometimes 2>&1)
if [[ $bad == *"values don't meet the specifications of the schema"* ]] && [[ $bad == *"/image/pullPolicy"* ]] &&
	! h status profiled >/dev/null 2>&1 && ! k get namespace profiled-system >/dev/null 2>&1; then
	ok "helm install with image.pullPolicy=Sometimes: refused by values.schema.json, nothing created"
	fig "${bad//$'\n'/ }"
else
	notok "helm install with image.pullPolicy=Sometimes: refused by values.schema.json, nothing created" "$bad" \
		"$(h status profiled 2>&1 | head -3)"
fi

t0=$(now_ms)
installed=$(h install profiled "$chart" "${helm_values[@]}" --wait --timeout 180s 2>&1)
if [ $? -eq 0 ] && k -n profiled-system rollout status ds/profiled --timeout=60s >/dev/null 2>&1 &&
	[ "$(k -n profiled-system get ds profiled -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}')" = profiled ]; then
	ok "helm install (deploy/chart/profiled): the DaemonSet rolls out Ready, owned by the release"
	fig "helm install --wait: $(ms "$t0" "$(now_ms)")"
else
	notok "helm install (deploy/chart/profiled): the DaemonSet rolls out Ready, owned by the release" "$installed" \
		"$(k -n profiled-system get pods -o wide 2>&1)" "$(k -n profiled-system logs ds/profiled --tail=20 2>&1)"
fi
helm_pod=$(agent_pods -o jsonpath='{.items[0].metadata.name}')

missing=$(wait_labels seccomp.profiled.io/e2e-deny-mkdir seccomp.profiled.io/audit seccomp.profiled.io/fine-grained)
if [ -z "$missing" ] && same_json "$seccomp/e2e-deny-mkdir.json" "$here/profiles/e2e-deny-mkdir.json"; then
	ok "helm: the agent publishes the chart's profiles and labels its node"
else
	notok "helm: the agent publishes the chart's profiles and labels its node" "missing:$missing" \
		"$(ls -la "$seccomp" 2>&1)" "$(k -n profiled-system logs ds/profiled --tail=20 2>&1)"
fi

k -n "$ns" delete pod deny-mkdir --wait=true --timeout=30s >/dev/null 2>&1
log=$(run_pod deny-mkdir \
	'{"seccompProfile": {"type": "Localhost", "localhostProfile": "profiled/e2e-deny-mkdir.json"}}' \
	'echo started; mkdir /tmp/d; echo rc=$?')
if grep -q '^started$' <<<"$log" && grep -q 'Operation not permitted' <<<"$log" && grep -q '^rc=1$' <<<"$log"; then
	ok "helm: a pod under the Localhost profile gets Operation not permitted from mkdir"
else
	notok "helm: a pod under the Localhost profile gets Operation not permitted from mkdir" "log: $log"
fi

# The admission policy the chart installed: the agent's identity may set its
# own labels, not others (kubectl --as: the same username the policy names).
sa=system:serviceaccount:profiled-system:profiled
own=$(k --as="$sa" label node "$NODE" seccomp.profiled.io/e2e-helm=true --overwrite 2>&1)
foreign=$(k --as="$sa" label node "$NODE" example.com/e2e-helm=x 2>&1)
k label node "$NODE" seccomp.profiled.io/e2e-helm- example.com/e2e-helm- >/dev/null 2>&1
if [[ $own == *labeled* ]] &&
	[[ $foreign == *"profiled may change only labels under profiled.io/ and *.profiled.io/, not: example.com/e2e-helm"* ]]; then
	ok "helm: the chart's admission policy lets the agent set its own label and refuses a foreign one"
else
	notok "helm: the chart's admission policy lets the agent set its own label and refuses a foreign one" \
		"own: $own" "foreign: $foreign"
fi

# --- helm upgrade: a profile added, then changed back ------------------------------

t0=$(now_ms)
upgraded=$(h upgrade profiled "$chart" "${helm_values[@]}" \
	--set-file "profiles.files.e2e-new\.json=$here/profiles/e2e-new.json" --wait --timeout 120s 2>&1)
rc=$?
t_pub=""
for ((i = 0; i < 1200; i++)); do
	[ -s "$seccomp/e2e-new.json" ] && [ "$(node_label "$NODE" seccomp.profiled.io/e2e-new)" = true ] &&
		t_pub=$(now_ms) && break
	sleep 0.1
done
if [ "$rc" -eq 0 ] && [ -n "$t_pub" ] && same_json "$seccomp/e2e-new.json" "$here/profiles/e2e-new.json" &&
	[ "$(agent_pods -o jsonpath='{.items[0].metadata.name}')" = "$helm_pod" ] &&
	[ "$(h history profiled -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ]; then
	ok "helm upgrade with a new profile: published and labeled by the same agent pod (no restart), revision 2"
	fig "helm upgrade -> published and labeled: $(ms "$t0" "$t_pub")"
else
	notok "helm upgrade with a new profile: published and labeled by the same agent pod (no restart), revision 2" \
		"$upgraded" "published/labeled: ${t_pub:-never}" "pod: $(agent_pods -o name 2>&1) (was $helm_pod)"
fi

upgraded=$(h upgrade profiled "$chart" "${helm_values[@]}" --wait --timeout 120s 2>&1)
rc=$?
for ((i = 0; i < 1200; i++)); do
	[ -z "$(node_label "$NODE" seccomp.profiled.io/e2e-new)" ] && [ ! -e "$seccomp/e2e-new.json" ] && break
	sleep 0.1
done
if [ "$rc" -eq 0 ] && [ -z "$(node_label "$NODE" seccomp.profiled.io/e2e-new)" ] && [ ! -e "$seccomp/e2e-new.json" ] &&
	[ "$(node_label "$NODE" seccomp.profiled.io/e2e-deny-mkdir)" = true ]; then
	ok "helm upgrade without it: its label and file go, the others stay"
else
	notok "helm upgrade without it: its label and file go, the others stay" "$upgraded" \
		"labels: $(k get node "$NODE" --show-labels 2>&1)" "$(ls -la "$seccomp" 2>&1)"
fi

# --- helm uninstall -----------------------------------------------------------------

uninstalled=$(h uninstall profiled --wait --timeout 120s 2>&1)
rc=$?
for ((i = 0; i < 600; i++)); do
	k get namespace profiled-system >/dev/null 2>&1 || break
	sleep 0.2
done
left=""
for o in namespace/profiled-system clusterrole/profiled clusterrolebinding/profiled \
	validatingadmissionpolicy/profiled-node-writes validatingadmissionpolicybinding/profiled-node-writes \
	role/profiled-events rolebinding/profiled-events; do
	case $o in role/* | rolebinding/*) nsarg=(-n default) ;; *) nsarg=() ;; esac
	k "${nsarg[@]}" get "$o" >/dev/null 2>&1 && left="$left $o"
done
# As documented (docs/helm.md, deploy/README.md): what the agents put on
# the nodes stays, for the pods still running under it.
if [ "$rc" -eq 0 ] && [ -z "$left" ] && ! h status profiled >/dev/null 2>&1 &&
	[ -s "$seccomp/e2e-deny-mkdir.json" ]; then
	ok "helm uninstall: every object of the chart is gone; the published profiles stay on the node"
else
	notok "helm uninstall: every object of the chart is gone; the published profiles stay on the node" \
		"$uninstalled" "left:$left" "$(ls -la "$seccomp" 2>&1)"
fi
