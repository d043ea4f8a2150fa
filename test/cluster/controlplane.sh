#!/bin/bash
# The control plane of the test cluster: the certificates, etcd and
# kube-apiserver with the cluster's security settings (Node,RBAC
# authorization; NodeRestriction and ValidatingAdmissionPolicy admission;
# service-account token signing; an audit log).
#
# Sourced by up.sh for its functions (cp_*), or run on its own for a
# private control plane, no kubelet, no network set-up, no root:
#
#   controlplane.sh start DIR   etcd and kube-apiserver on 127.0.0.1, state
#                               in DIR; the ports are the caller's:
#                               CP_API_PORT, CP_ETCD_PORT, CP_ETCD_PEER_PORT.
#                               Waits for /readyz. Writes DIR/admin.kubeconfig
#                               (system:masters), DIR/pki (ca.crt, sa.key ...),
#                               DIR/logs (the daemons' and audit.log).
#                               CP_AUDIT_POLICY: an audit policy file (default:
#                               request bodies of nodes and events, metadata
#                               of the rest). CP_MAX_SECONDS (default 3600):
#                               the daemons end by themselves after that.
#   controlplane.sh stop DIR    stops both and waits for them to exit.
#
# The Kubernetes binaries come from build.sh (make k8s-build).
set -euo pipefail

# cp_ca PKI: the cluster CA, once.
cp_ca() {
	[ -s "$1/ca.crt" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1/ca.key" -subj "/CN=profiled-cluster-ca" -days 365 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-out "$1/ca.crt" 2>/dev/null
}

# cp_cert PKI NAME SUBJECT [SAN]: a key and a certificate signed by the CA.
cp_cert() {
	local pki=$1 name=$2 subj=$3 san=${4:-}
	[ -s "$pki/$name.crt" ] && return 0
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr" 2>/dev/null
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		if [ -n "$san" ]; then
			echo "extendedKeyUsage=serverAuth,clientAuth"
			echo "subjectAltName=$san"
		else
			echo "extendedKeyUsage=clientAuth"
		fi
	} >"$pki/$name.ext"
	openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
		-CAcreateserial -days 365 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
	rm -f "$pki/$name.csr" "$pki/$name.ext"
}

# cp_pki PKI SAN: the CA, the API server's serving certificate for SAN, its
# kubelet client certificate, an admin (system:masters) and the
# service-account signing key.
cp_pki() {
	local pki=$1 san=$2
	cp_ca "$pki"
	cp_cert "$pki" apiserver "/CN=kube-apiserver" "$san"
	cp_cert "$pki" apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
	cp_cert "$pki" admin "/O=system:masters/CN=profiled-cluster-admin"
	if [ ! -s "$pki/sa.key" ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key" 2>/dev/null
		openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
	fi
}

# cp_kubeconfig FILE SERVER PKI CERT-NAME
cp_kubeconfig() {
	cat >"$1" <<-EOF
	apiVersion: v1
	kind: Config
	clusters:
	- name: profiled
	  cluster:
	    server: $2
	    certificate-authority: $3/ca.crt
	users:
	- name: $4
	  user:
	    client-certificate: $3/$4.crt
	    client-key: $3/$4.key
	contexts:
	- name: profiled
	  context:
	    cluster: profiled
	    user: $4
	current-context: profiled
	EOF
}

# cp_etcd_cmd BIN NAME DATA CLIENT-PORT PEER-PORT: etcd's command line in CP_CMD.
cp_etcd_cmd() {
	CP_CMD=("$1/etcd" --name "$2" --data-dir "$3"
		--listen-client-urls "http://127.0.0.1:$4" --advertise-client-urls "http://127.0.0.1:$4"
		--listen-peer-urls "http://127.0.0.1:$5"
		--initial-advertise-peer-urls "http://127.0.0.1:$5"
		--initial-cluster "$2=http://127.0.0.1:$5")
}

# cp_apiserver_cmd BIN PKI ADDRESS PORT ETCD-PORT SERVICE-RANGE AUDIT-POLICY
# AUDIT-LOG: kube-apiserver's command line in CP_CMD.
cp_apiserver_cmd() {
	local bin=$1 pki=$2
	CP_CMD=("$bin/kube-apiserver"
		--bind-address="$3" --advertise-address="$3" --secure-port="$4"
		--etcd-servers="http://127.0.0.1:$5"
		--tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key"
		--client-ca-file="$pki/ca.crt"
		--kubelet-client-certificate="$pki/apiserver-kubelet-client.crt"
		--kubelet-client-key="$pki/apiserver-kubelet-client.key"
		--kubelet-certificate-authority="$pki/ca.crt"
		--kubelet-preferred-address-types=InternalIP
		--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key"
		--service-account-issuer=https://kubernetes.default.svc.cluster.local
		--service-cluster-ip-range="$6"
		--authorization-mode=Node,RBAC
		--enable-admission-plugins=NodeRestriction,ValidatingAdmissionPolicy
		--allow-privileged=true
		--audit-policy-file="$7" --audit-log-path="$8"
		--audit-log-maxsize=100 --audit-log-maxbackup=1)
}

# --- run on its own ------------------------------------------------------------

# cp_audit_policy FILE: the audit policy of both control planes: no
# leases or health probes; request bodies for nodes and events (what the
# agent sends is read there), metadata for the rest.
cp_audit_policy() {
	cat >"$1" <<-EOF
	apiVersion: audit.k8s.io/v1
	kind: Policy
	omitStages: [RequestReceived]
	rules:
	- level: None
	  resources: [{group: coordination.k8s.io, resources: [leases]}]
	- level: None
	  nonResourceURLs: ["/readyz*", "/healthz*", "/livez*"]
	- level: Request
	  resources: [{group: "", resources: [nodes, nodes/status, events]}, {group: events.k8s.io, resources: [events]}]
	- level: Metadata
	EOF
}

cp_log() { echo "controlplane: $*" >&2; }

# cp_start_one DIR NAME COMMAND...: in the background, in its own session,
# ended by timeout(1) after CP_MAX_SECONDS if nobody stops it.
cp_start_one() {
	local dir=$1 name=$2
	shift 2
	setsid timeout "${CP_MAX_SECONDS:-3600}" "$@" </dev/null >>"$dir/logs/$name.log" 2>&1 3>&- &
	echo $! >"$dir/run/$name.pid"
}

# cp_wait SECONDS DIR NAME COMMAND...: until COMMAND succeeds; fails early
# when NAME exited.
cp_wait() {
	local n=$1 dir=$2 name=$3 i
	shift 3
	for ((i = 0; i < n * 4; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$dir/run/$name.pid")" 2>/dev/null || {
			cp_log "$name exited:"
			tail -n 20 "$dir/logs/$name.log" >&2
			return 1
		}
		sleep 0.25
	done
	cp_log "$name not up after $n s (log: $dir/logs/$name.log)"
	return 1
}

cp_main_start() {
	local dir=$1 here bin pki api
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	: "${CP_API_PORT:?CP_API_PORT: the API server port}" "${CP_ETCD_PORT:?}" "${CP_ETCD_PEER_PORT:?}"
	bin=$("$here/build.sh")
	mkdir -p "$dir"/{pki,logs,run,etcd}
	pki=$dir/pki
	cp_pki "$pki" "IP:127.0.0.1,DNS:localhost"
	chmod 600 "$pki"/*.key
	api=https://127.0.0.1:$CP_API_PORT
	cp_kubeconfig "$dir/admin.kubeconfig" "$api" "$pki" admin
	local policy=${CP_AUDIT_POLICY:-$dir/audit-policy.yaml}
	[ -n "${CP_AUDIT_POLICY:-}" ] || cp_audit_policy "$policy"
	# A test control plane: etcd without fsync (the data is thrown away).
	cp_etcd_cmd "$bin" controlplane "$dir/etcd" "$CP_ETCD_PORT" "$CP_ETCD_PEER_PORT"
	cp_start_one "$dir" etcd "${CP_CMD[@]}" --unsafe-no-fsync
	cp_wait 60 "$dir" etcd curl -fsS "http://127.0.0.1:$CP_ETCD_PORT/health"
	cp_apiserver_cmd "$bin" "$pki" 127.0.0.1 "$CP_API_PORT" "$CP_ETCD_PORT" 10.0.0.0/24 \
		"$policy" "$dir/logs/audit.log"
	# No Endpoints for a loopback address (kube refuses to advertise one).
	cp_start_one "$dir" kube-apiserver "${CP_CMD[@]}" --endpoint-reconciler-type=none
	cp_wait 120 "$dir" kube-apiserver curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
		--key "$pki/admin.key" "$api/readyz"
	echo "$bin" >"$dir/bin"
}

cp_main_stop() {
	local dir=$1 name pid i
	for name in kube-apiserver etcd; do
		pid=$(cat "$dir/run/$name.pid" 2>/dev/null) || continue
		kill "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
		rm -f "$dir/run/$name.pid"
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	start) cp_main_start "${2:?usage: controlplane.sh start DIR}" ;;
	stop) cp_main_stop "${2:?usage: controlplane.sh stop DIR}" ;;
	*)
		echo "usage: controlplane.sh start|stop DIR" >&2
		exit 2
		;;
	esac
fi
