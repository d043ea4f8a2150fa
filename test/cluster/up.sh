#!/bin/bash
# make cluster-up: a single-node Kubernetes on this machine, for the
# end-to-end tests. Idempotent: what runs already is left alone.
#
#   etcd, kube-apiserver (Node,RBAC; NodeRestriction and
#   ValidatingAdmissionPolicy; an audit log), kube-controller-manager,
#   kube-scheduler, containerd + runc, the kubelet (cgroupfs, a client
#   certificate for system:node:$NODE), a registry on $REGISTRY holding
#   the images the tests run (pushed with podman, as a user pushes).
#
# Writes build/cluster/kubeconfig (admin), build/cluster/bin/kubectl,
# build/cluster/image (the pushed profiled image) and build/cluster/test-image
# (a busybox image). State: $STATE (test/cluster/env.sh). Network: loopback,
# and a bridge with no uplink for the pods (see env.sh). Needs root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=env.sh
. "$here/env.sh"
# shellcheck source=controlplane.sh
. "$here/controlplane.sh"
out="$repo/build/cluster"

log() { echo "cluster-up: $*" >&2; }
die() {
	log "$*"
	exit 1
}
[ "$(id -u)" = 0 ] || die "needs root"
for t in containerd containerd-shim-runc-v2 runc docker-registry podman openssl iptables ip curl gcc busybox; do
	command -v "$t" >/dev/null || die "$t missing: make cluster-deps"
done
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || die "CNI plugins missing: make cluster-deps"
[ -s "$repo/build/image/ref" ] || die "no build/image/ref: make image"

bin=$("$here/build.sh")
mkdir -p "$STATE"/{pki,logs,run,etcd,containerd/certs.d,kubelet,cni/net.d,cni/ipam,registry,images} "$out/bin"

# --- processes -----------------------------------------------------------------

# Every daemon runs in the pids cgroup $CGROUP_ROOT/daemons (with what it
# forks: containerd's shims), so down.sh finds exactly what this started.
cgroup_setup() {
	local h d
	for h in "$CGROUP_V1"/*/; do
		h=${h%/}
		[ -e "$h/cgroup.procs" ] || continue
		d="$h$CGROUP_ROOT"
		mkdir -p "$d"
		# A cpuset cgroup takes no task until it has CPUs and memory nodes.
		if [ -e "$d/cpuset.cpus" ] && [ -z "$(cat "$d/cpuset.cpus")" ]; then
			cat "$h/cpuset.cpus" >"$d/cpuset.cpus"
			cat "$h/cpuset.mems" >"$d/cpuset.mems"
		fi
	done
	mkdir -p "$CGROUP_V1/pids$CGROUP_ROOT/daemons"
}

running() {
	local pid
	pid=$(cat "$STATE/run/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	# (no grep -q on a pipe: with pipefail an early exit fails the pipe)
	[[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == "$2 "* ]]
}

# start NAME COMMAND...: in the background, in the daemons cgroup, with
# its own session, a log in $STATE/logs and a pid file in $STATE/run.
start() {
	local name=$1
	shift
	if running "$name" "$1"; then
		return 0
	fi
	log "starting $name"
	setsid sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' \
		"$CGROUP_V1/pids$CGROUP_ROOT/daemons" "$@" \
		</dev/null >>"$STATE/logs/$name.log" 2>&1 &
	echo $! >"$STATE/run/$name.pid"
}

# wait_for WHAT SECONDS COMMAND...
wait_for() {
	local what=$1 n=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	die "$what not up after $n s (logs: $STATE/logs)"
}

# --- certificates -------------------------------------------------------------

pki=$STATE/pki
# cert NAME SUBJECT [SAN]: a key and a certificate signed by the cluster CA.
cert() { cp_cert "$pki" "$@"; }

[ -s "$pki/ca.crt" ] || log "making certificates"
# The CA, the API server's (for the bridge, loopback and the Service),
# its kubelet client, the admin, the service-account signing key.
cp_pki "$pki" \
	"IP:$GW,IP:127.0.0.1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert controller-manager "/CN=system:kube-controller-manager"
cert scheduler "/CN=system:kube-scheduler"
# The kubelet's identity: the Node authorizer and NodeRestriction apply.
cert kubelet-client "/O=system:nodes/CN=system:node:$NODE"
cert kubelet-serving "/CN=$NODE" "IP:$GW,IP:127.0.0.1,DNS:$NODE"
chmod 600 "$pki"/*.key

for c in admin controller-manager scheduler kubelet-client; do
	cp_kubeconfig "$STATE/$c.kubeconfig" "https://$GW:$API_PORT" "$pki" "$c"
done

# --- network -------------------------------------------------------------------

if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
	log "bridge $BRIDGE $GW"
	ip link add "$BRIDGE" type bridge
fi
[[ "$(ip -4 -o addr show dev "$BRIDGE")" == *" inet $GW/"* ]] || ip addr add "$GW/${POD_SUBNET#*/}" dev "$BRIDGE"
ip link set "$BRIDGE" up
# The one Service the pods use, the API server's ClusterIP, without a
# kube-proxy: pods' connections to $SERVICE_IP:443 go to the API server.
dnat=(-i "$BRIDGE" -d "$SERVICE_IP/32" -p tcp --dport 443 -m comment --comment "$TAG"
	-j DNAT --to-destination "$GW:$API_PORT")
iptables -t nat -C PREROUTING "${dnat[@]}" 2>/dev/null || iptables -t nat -A PREROUTING "${dnat[@]}"

cat >"$STATE/cni/net.d/10-profiled.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "profiled",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$POD_SUBNET", "gateway": "$GW"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF

cgroup_setup

# --- control plane ---------------------------------------------------------------

cp_etcd_cmd "$bin" "$NODE" "$STATE/etcd" "$ETCD_PORT" "$ETCD_PEER_PORT"
start etcd "${CP_CMD[@]}"
wait_for etcd 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

cp_audit_policy "$STATE/audit-policy.yaml"
cp_apiserver_cmd "$bin" "$pki" "$GW" "$API_PORT" "$ETCD_PORT" "$SERVICE_RANGE" \
	"$STATE/audit-policy.yaml" "$STATE/logs/audit.log"
start kube-apiserver "${CP_CMD[@]}"
kubectl_admin() { "$bin/kubectl" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }
wait_for kube-apiserver 120 curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
	"https://$GW:$API_PORT/readyz"

start kube-controller-manager "$bin/kube-controller-manager" \
	--kubeconfig="$STATE/controller-manager.kubeconfig" \
	--authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
	--authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
	--bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
	--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
	--use-service-account-credentials=true \
	--cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
	--service-cluster-ip-range="$SERVICE_RANGE" --allocate-node-cidrs=false
start kube-scheduler "$bin/kube-scheduler" \
	--kubeconfig="$STATE/scheduler.kubeconfig" \
	--authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
	--authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
	--bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false

# --- registry and images ---------------------------------------------------------

cat >"$STATE/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
start registry docker-registry serve "$STATE/registry.yml"
wait_for registry 30 curl -fsS "http://$REGISTRY/v2/"

# push_rootfs DIR REF: a single-layer image of DIR, into the registry.
push_rootfs() {
	local dir=$1 ref=$2
	shift 2
	tar --numeric-owner -C "$dir" -cf - . | podman import -q "$@" - "$ref" >/dev/null
	podman push -q --tls-verify=false "$ref" >/dev/null
}
img=$STATE/images
if [ ! -e "$img/pause.done" ]; then
	log "pause image"
	rm -rf "$img/pause" && mkdir -p "$img/pause"
	gcc -static -O2 -o "$img/pause/pause" "$here/pause.c"
	push_rootfs "$img/pause" "$REGISTRY/profiled-pause:1" --change 'ENTRYPOINT ["/pause"]'
	touch "$img/pause.done"
fi
if [ ! -e "$img/busybox.done" ]; then
	log "test image (busybox)"
	rm -rf "$img/busybox" && mkdir -p "$img/busybox/bin" "$img/busybox/tmp" "$img/busybox/etc"
	cp /usr/bin/busybox "$img/busybox/bin/busybox"
	for a in $("$img/busybox/bin/busybox" --list); do
		[ -e "$img/busybox/bin/$a" ] || ln -s busybox "$img/busybox/bin/$a"
	done
	chmod 1777 "$img/busybox/tmp"
	push_rootfs "$img/busybox" "$REGISTRY/busybox:e2e" --change 'CMD ["/bin/sh"]'
	touch "$img/busybox.done"
fi
echo "$REGISTRY/busybox:e2e" >"$out/test-image"
# The profiled image, pushed as a user pushes it to their registry.
local_ref=$(cat "$repo/build/image/ref")
remote_ref="$REGISTRY/profiled:${local_ref##*:}"
log "pushing $local_ref as $remote_ref"
podman push -q --tls-verify=false "$local_ref" "docker://$remote_ref" >/dev/null
echo "$remote_ref" >"$out/image"

# --- node --------------------------------------------------------------------------

mkdir -p "$STATE/containerd/certs.d/$REGISTRY"
cat >"$STATE/containerd/certs.d/$REGISTRY/hosts.toml" <<EOF
server = "http://$REGISTRY"
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
cat >"$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$STATE/containerd/containerd.sock"
[ttrpc]
  address = "$STATE/containerd/containerd.sock.ttrpc"
[debug]
  address = "$STATE/containerd/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$REGISTRY/profiled-pause:1"
  netns_mounts_under_state_dir = true
  enable_selinux = false
  # Lowering oom_score_adj is not allowed on this machine (the kubelet
  # asks -998 for every pod sandbox, and runc's init then dies with "can't
  # get final child's PID from pipe"): clamp to containerd's own value.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/containerd/certs.d"
[plugins."io.containerd.runtime.v2.task"]
  platforms = ["linux/amd64"]
EOF
start containerd containerd --config "$STATE/containerd/config.toml"
wait_for containerd 60 ctr --address "$STATE/containerd/containerd.sock" version

cat >"$STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $GW
port: $KUBELET_PORT
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization:
  mode: Webhook
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$STATE/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
registerNode: true
serializeImagePulls: false
# A shared test machine: evict nothing for lack of disk or memory.
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
imageGCHighThresholdPercent: 100
# ConfigMap volumes are refreshed when the kubelet syncs the pod: every
# syncFrequency (default 1m, plus jitter) with the default Watch strategy.
# 10 s keeps the e2e ConfigMap-edit cases short; the agent does not care.
syncFrequency: 10s
configMapAndSecretChangeDetectionStrategy: Watch
imageGCLowThresholdPercent: 99
EOF
start kubelet "$bin/kubelet" --config="$STATE/kubelet/config.yaml" \
	--kubeconfig="$STATE/kubelet-client.kubeconfig" --root-dir="$STATE/kubelet" \
	--cert-dir="$STATE/kubelet/pki" --hostname-override="$NODE" --node-ip="$GW" --v=2

ln -sf "$bin/kubectl" "$out/bin/kubectl"
cp "$STATE/admin.kubeconfig" "$out/kubeconfig.tmp" && mv "$out/kubeconfig.tmp" "$out/kubeconfig"
wait_for "node $NODE" 180 kubectl_admin wait --for=condition=Ready "node/$NODE" --timeout=2s
log "ready: KUBECONFIG=$out/kubeconfig $out/bin/kubectl get nodes"
