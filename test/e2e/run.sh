#!/bin/bash
# make e2e: profiled on the single-node cluster of test/cluster/up.sh.
#
#   bash test/e2e/run.sh        (after make cluster-up; root)
#
# Deploys deploy/ through a kustomize overlay (build/cluster/deploy): the
# image set to the one up.sh pushed to the cluster's registry, the
# hostPaths moved under the cluster's state folder (the kubelet there runs
# with --root-dir $STATE/kubelet, as docs/operations.md allows), and one
# more seccomp profile, e2e-deny-mkdir.json, in the profiles ConfigMap.
# Prints "ok"/"not ok"/"skip" lines and closes with
# "N passed, N failed, N skipped"; exit 1 when a case failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../cluster/env.sh
. "$repo/test/cluster/env.sh"
out=$repo/build/cluster
passed=0 failed=0 skipped=0
ok() {
	echo "ok - $1"
	passed=$((passed + 1))
}
notok() {
	echo "not ok - $1"
	shift
	for l in "$@"; do echo "#   $l"; done
	failed=$((failed + 1))
}
skip() {
	echo "skip - $1 # $2"
	skipped=$((skipped + 1))
}
finish() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
	exit
}
k() { "$out/bin/kubectl" --kubeconfig "$out/kubeconfig" "$@"; }

for f in kubeconfig bin/kubectl image test-image; do
	if [ ! -e "$out/$f" ]; then
		notok "cluster is up" "build/cluster/$f missing: make cluster-up"
		finish
	fi
done
image=$(cat "$out/image")
test_image=$(cat "$out/test-image")
ns=profiled-e2e

# --- the cluster itself ---------------------------------------------------

if k wait --for=condition=Ready "node/$NODE" --timeout=60s >/dev/null 2>&1; then
	ok "node $NODE is Ready"
else
	notok "node $NODE is Ready" "$(k get nodes -o wide 2>&1)"
	finish
fi

k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
k -n "$ns" delete pod --all --wait=true --timeout=60s >/dev/null 2>&1

# run_pod NAME YAML-SECURITY-CONTEXT COMMAND: a pod of the test image that
# runs COMMAND once; waits until it has finished, prints its log.
run_pod() {
	local name=$1 sc=$2 cmd=$3 i phase
	k -n "$ns" apply -f - >/dev/null <<-EOF || return 1
	apiVersion: v1
	kind: Pod
	metadata:
	  name: $name
	spec:
	  restartPolicy: Never
	  terminationGracePeriodSeconds: 1
	  securityContext: $sc
	  containers:
	  - name: c
	    image: $test_image
	    command: ["/bin/sh", "-c", "$cmd"]
	    securityContext:
	      allowPrivilegeEscalation: false
	EOF
	for ((i = 0; i < 120; i++)); do
		phase=$(k -n "$ns" get pod "$name" -o jsonpath='{.status.phase}' 2>/dev/null)
		case $phase in Succeeded | Failed) break ;; esac
		sleep 1
	done
	k -n "$ns" logs "$name" 2>&1
}

log=$(run_pod busybox '{}' 'echo hello from $(hostname); mkdir /tmp/d && echo made')
if grep -q '^hello from busybox$' <<<"$log" && grep -q '^made$' <<<"$log"; then
	ok "a busybox pod runs (image $test_image)"
else
	notok "a busybox pod runs (image $test_image)" "log: $log" \
		"$(k -n "$ns" describe pod busybox 2>&1 | tail -15)"
fi

# --- profiled -----------------------------------------------------------------

overlay=$out/deploy
mkdir -p "$overlay"
# write_overlay [FILE...]: the overlay's kustomization, its profiles
# ConfigMap holding e2e-deny-mkdir.json and FILEs (copied into the overlay).
write_overlay() {
	local f
	rm -f "$overlay"/*.json "$overlay"/*.apparmor
	cp "$here/profiles/e2e-deny-mkdir.json" "$@" "$overlay/"
	{
		cat <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../../deploy
images:
- name: profiled
  newName: ${image%:*}
  newTag: ${image##*:}
configMapGenerator:
- name: profiles
  namespace: profiled-system
  behavior: merge
  files:
  - e2e-deny-mkdir.json
EOF
		for f in "$@"; do echo "  - ${f##*/}"; done
		cat <<EOF
  options:
    disableNameSuffixHash: true
patches:
- patch: |-
    apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: profiled
      namespace: profiled-system
    spec:
      template:
        spec:
          volumes:
          - name: seccomp
            hostPath:
              path: $STATE/kubelet/seccomp/profiled
          - name: state
            hostPath:
              path: $STATE/profiled-state
EOF
	} >"$overlay/kustomization.yaml"
}
write_overlay

if applied=$(k apply -k "$overlay" 2>&1); then
	ok "kubectl apply -k deploy/ (overlay: image $image)"
else
	notok "kubectl apply -k deploy/ (overlay: image $image)" "$applied"
fi

if k -n profiled-system rollout status ds/profiled --timeout=180s >/dev/null 2>&1; then
	ok "the profiled DaemonSet rolls out Ready"
else
	notok "the profiled DaemonSet rolls out Ready" \
		"$(k -n profiled-system get pods -o wide 2>&1)" \
		"$(k -n profiled-system describe pods 2>&1 | tail -25)" \
		"$(k -n profiled-system logs ds/profiled --tail=20 2>&1)"
fi

# The node's pull of the agent's image from the local registry, as the
# kubelet reports it (a figure, never compared: docs/performance.md).
k -n profiled-system get events --field-selector reason=Pulled \
	-o jsonpath='{range .items[*]}{.message}{"\n"}{end}' 2>/dev/null | sed 's/^/#   image pull: /'

seccomp=$STATE/kubelet/seccomp/profiled
published() {
	local i
	for ((i = 0; i < 30; i++)); do
		[ -s "$seccomp/$1" ] && return 0
		sleep 1
	done
	return 1
}
if published e2e-deny-mkdir.json &&
	python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
		"$seccomp/e2e-deny-mkdir.json" "$here/profiles/e2e-deny-mkdir.json"; then
	ok "the seccomp profile lands in the kubelet's seccomp root ($seccomp)"
else
	notok "the seccomp profile lands in the kubelet's seccomp root ($seccomp)" \
		"$(ls -la "$seccomp" 2>&1)" "$(k -n profiled-system logs ds/profiled --tail=20 2>&1)"
fi

log=$(run_pod deny-mkdir \
	'{"seccompProfile": {"type": "Localhost", "localhostProfile": "profiled/e2e-deny-mkdir.json"}}' \
	'echo started; mkdir /tmp/d; echo rc=$?')
if grep -q '^started$' <<<"$log" && grep -q 'Operation not permitted' <<<"$log" && grep -q '^rc=1$' <<<"$log"; then
	ok "a pod under the Localhost profile gets Operation not permitted from mkdir"
else
	notok "a pod under the Localhost profile gets Operation not permitted from mkdir" "log: $log" \
		"$(k -n "$ns" describe pod deny-mkdir 2>&1 | tail -15)"
fi

want="seccomp.profiled.io/e2e-deny-mkdir seccomp.profiled.io/audit seccomp.profiled.io/fine-grained"
missing=""
for ((i = 0; i < 30; i++)); do
	labels=$(k get node "$NODE" -o go-template='{{range $k, $v := .metadata.labels}}{{$k}}={{$v}}{{"\n"}}{{end}}')
	missing=""
	for l in $want; do
		grep -qx "$l=true" <<<"$labels" || missing="$missing $l"
	done
	[ -z "$missing" ] && break
	sleep 1
done
if [ -z "$missing" ]; then
	ok "the agent labels its node (${want// /, })"
else
	notok "the agent labels its node" "missing:$missing" "labels: $(echo $labels)"
fi
# AppArmor labels need AppArmor in the kernel (this machine's has none).
if [ -e /sys/kernel/security/apparmor/profiles ]; then
	if grep -qx "apparmor.profiled.io/k8s-apparmor-example-deny-write=true" <<<"$labels"; then
		ok "the agent labels its node for the AppArmor profile it loaded"
	else
		notok "the agent labels its node for the AppArmor profile it loaded" "labels: $(echo $labels)"
	fi
else
	# No AppArmor in this kernel: the node says so, and the AppArmor
	# case of cases.sh shows a pod that selects an AppArmor label stays
	# Pending instead of failing on this node.
	if grep -qx "profiled.io/apparmor=disabled" <<<"$labels" &&
		! grep -q "^apparmor.profiled.io/" <<<"$labels"; then
		ok "no AppArmor in the kernel: profiled.io/apparmor=disabled, no AppArmor profile label"
	else
		notok "no AppArmor in the kernel: profiled.io/apparmor=disabled, no AppArmor profile label" \
			"labels: $(echo $labels)"
	fi
fi

# The cases of cases.sh: ConfigMap edits, a broken profile, the start-up
# taint, least privilege, a rolling update.
# shellcheck source=cases.sh
. "$here/cases.sh"
# The same agent through the Helm chart: install, upgrade, uninstall.
# shellcheck source=helm.sh
. "$here/helm.sh"

# docs/getting-started.md run as written, last: it uninstalls profiled (and
# installs this overlay again afterwards).
# shellcheck source=getting-started.sh
. "$here/getting-started.sh"

k -n "$ns" delete pod --all --wait=false >/dev/null 2>&1
finish
