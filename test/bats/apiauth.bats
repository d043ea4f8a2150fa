#!/usr/bin/env bats
# Credentials that cannot work are refused at start (exit 2, a message
# naming what is missing), never turned into local mode or into requests
# sent without credentials: in a pod (KUBERNETES_SERVICE_HOST set) without
# a service account token, CA or node name; kubeconfig users profiled
# cannot authenticate as; unusable CA files and client keys. Against the
# strict API stand-in, which also shows that no request was sent.
#
# "In a pod" runs the daemon in a private mount namespace with a tmpfs on
# /run, where /var/run/secrets/kubernetes.io/serviceaccount is whatever
# the test puts there (nothing, for automountServiceAccountToken: false).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	export API_CERTS=$BATS_FILE_TMPDIR/certs
	api_certs "$API_CERTS"
}

setup() {
	common_setup
	mkdir -p "$P"
	api_start
	PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$A/ready")
	SA=$T/serviceaccount # what the pod's service account folder holds
}

teardown() {
	common_teardown
}

nreq() {
	ctl GET /control/requests | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

# in_pod [VAR=VALUE...] -- [profiled flags...]: one --once run "in a pod":
# the variables the kubelet sets (KUBERNETES_SERVICE_HOST/_PORT, NODE_NAME)
# unless overridden (VAR= unsets), and $SA, if it exists, as the service
# account folder. Sets status and output like `run`.
in_pod() {
	local envs=(KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT" NODE_NAME=node-1)
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	[ "${1:-}" != -- ] || shift
	local unset=() set=()
	for e in "${envs[@]}"; do
		if [ -n "${e#*=}" ]; then set+=("$e"); else unset+=(-u "${e%%=*}"); fi
	done
	# an unset one stays unset even when given earlier in the list
	for u in "${unset[@]}"; do
		[ "$u" = -u ] && continue
		local keep=()
		for e in "${set[@]}"; do [ "${e%%=*}" = "$u" ] || keep+=("$e"); done
		set=("${keep[@]}")
	done
	run unshare -m --propagation private sh -c '
		mount -t tmpfs tmpfs /run 2>/dev/null || exit 99
		mkdir -p /run/secrets/kubernetes.io
		[ ! -d "$0" ] || ln -s "$0" /run/secrets/kubernetes.io/serviceaccount
		exec "$@"' "$SA" env -u KUBECONFIG "${unset[@]}" "${set[@]}" \
		"$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" "$@"
	if [ "$status" -eq 99 ]; then
		echo "# SKIP: cannot mount a tmpfs in a private mount namespace" >&3
		skip "cannot mount a tmpfs in a private mount namespace"
	fi
	echo "$output"
}

good_sa() {
	mkdir -p "$SA"
	cp "$API_CERTS/ca.crt" "$SA/ca.crt"
	printf 'secret-1' >"$SA/token"
	printf 'profiled-system' >"$SA/namespace"
}

refused() { # MESSAGE-ERE: exit 2, the message said, nothing sent, nothing labeled
	[ "$status" -eq 2 ]
	grep -qE -- "$1" <<<"$output"
	not grep -q 'not in a cluster' <<<"$output"
	[ "$(nreq)" -eq 0 ]
	[ -z "$(labels | grep profiled.io)" ]
}

@test "in a pod: a complete service account works (labels set, start-up taint removed)" {
	fixtures_into "$P"
	good_sa
	ctl PUT /control/nodes/node-1 '{"spec": {"taints": [{"key": "profiled.io/not-ready", "effect": "NoSchedule"}]}, "manager": "kubelet"}' >/dev/null
	in_pod -- --remove-taint profiled.io/not-ready
	[ "$status" -eq 0 ]
	grep -q 'auth=in-cluster' <<<"$output"
	labels | grep -qx 'seccomp.profiled.io/audit=true'
	ctl GET /control/nodes/node-1 | not grep -q 'not-ready'
}

@test "in a pod without a service account token (automountServiceAccountToken: false): exit 2, not local mode" {
	fixtures_into "$P"
	ctl PUT /control/nodes/node-1 '{"spec": {"taints": [{"key": "profiled.io/not-ready", "effect": "NoSchedule"}]}, "manager": "kubelet"}' >/dev/null
	# no service account folder at all
	in_pod -- --remove-taint profiled.io/not-ready
	refused 'without a usable service account token \(automountServiceAccountToken: false\?\).*/token`: No such file or directory'
	ctl GET /control/nodes/node-1 | grep -q 'not-ready'
	# the same without --remove-taint
	in_pod
	refused 'automountServiceAccountToken'
}

@test "in a pod: an empty, blank or unreadable token, a missing CA, no node name, no port: each exit 2 naming it" {
	fixtures_into "$P"
	good_sa
	: >"$SA/token"
	in_pod
	refused 'serviceaccount/token` is empty'
	printf ' \n\t\n' >"$SA/token"
	in_pod
	refused 'serviceaccount/token` is empty'
	printf 'secret-1\nInjected: header' >"$SA/token"
	in_pod
	refused 'holds a space or control character inside'
	rm "$SA/token"
	mkdir "$SA/token"
	in_pod
	refused 'serviceaccount/token`: not a regular file'
	rmdir "$SA/token"
	printf 'secret-1' >"$SA/token"
	rm "$SA/ca.crt"
	in_pod
	refused 'without the service account CA `.*/ca.crt`: No such file or directory'
	: >"$SA/ca.crt"
	in_pod
	refused 'ca.crt` holds no PEM certificate'
	cp "$API_CERTS/ca.crt" "$SA/ca.crt"
	in_pod NODE_NAME=
	refused 'the node name is needed to talk to the API server'
	in_pod KUBERNETES_SERVICE_PORT=
	refused 'KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not'
	in_pod KUBERNETES_SERVICE_HOST=
	refused 'KUBERNETES_SERVICE_PORT is set but KUBERNETES_SERVICE_HOST is not'
	# the secret never appears in a log line
	not grep -q 'secret-1' <<<"$output"
}

@test "not in a pod and no kubeconfig: local mode, but --remove-taint is refused (it could never be done)" {
	fixtures_into "$P"
	run env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT -u KUBECONFIG \
		"$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" --node-name node-1
	echo "$output"
	[ "$status" -eq 0 ]
	run env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT -u KUBECONFIG \
		"$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --remove-taint profiled.io/not-ready
	echo "$output"
	[ "$status" -eq 2 ]
	grep -q -- '--remove-taint needs the API server' <<<"$output"
}

# kc_user FILE 'YAML of the user, indented 4': the stand-in's kubeconfig
# with another user.
kc_user() {
	python3 - "$KC" "$1" "$2" <<'PY'
import sys
src, out, user = sys.argv[1:]
lines = open(src).read().split("\n")
a = lines.index("  user:") + 1
b = lines.index("contexts:")
text = "\n".join(lines[:a] + ([user] if user else []) + lines[b:])
open(out, "w").write(text)
PY
}

kc_once() { # KUBECONFIG-FILE
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --state-dir "$S" \
		--node-name node-1 --kubeconfig "$1"
	echo "$output"
}

@test "kubeconfig users profiled cannot authenticate as are refused at start, nothing is sent" {
	fixtures_into "$P"
	kc_user "$T/exec" '    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token]}'
	kc_once "$T/exec"
	refused 'user \\"profiled\\" uses an `exec` credential plugin, which profiled does not support'
	kc_user "$T/ap" '    auth-provider: {name: oidc, config: {id-token: x}}'
	kc_once "$T/ap"
	refused 'uses an `auth-provider`'
	kc_user "$T/basic" "$(printf '    username: admin\n    password: secret')"
	kc_once "$T/basic"
	refused 'basic authentication'
	kc_user "$T/none" '    {}'
	kc_once "$T/none"
	refused 'user \\"profiled\\" has no credentials'
	kc_user "$T/blank" '    token: "  "'
	kc_once "$T/blank"
	refused '`token` is empty'
	kc_user "$T/tf" "    tokenFile: $T/no-such-token"
	kc_once "$T/tf"
	refused "token file \`$T/no-such-token\`: No such file or directory"
	printf '\n\n' >"$T/blank-token"
	kc_user "$T/tf2" "    tokenFile: $T/blank-token"
	kc_once "$T/tf2"
	refused 'blank-token` is empty'
	# a context without a user
	sed '/^    user: profiled$/d' "$KC" >"$T/nouser"
	kc_once "$T/nouser"
	refused 'context \\"stand-in\\" names no user'
	# a context naming a user or cluster that is not there
	sed 's/^    user: profiled$/    user: ghost/' "$KC" >"$T/ghost"
	kc_once "$T/ghost"
	refused 'user \\"ghost\\" is not in `users`'
	sed 's/^    cluster: stand-in$/    cluster: ghost/' "$KC" >"$T/ghostc"
	kc_once "$T/ghostc"
	refused 'cluster \\"ghost\\" is not in `clusters`'
	sed '/^current-context:/d' "$KC" >"$T/noctx"
	kc_once "$T/noctx"
	refused '`current-context` is not set'
	sed 's|server: "https://|server: "http://|' "$KC" >"$T/http"
	kc_once "$T/http"
	refused 'is not https: TLS is required'
}

@test "a missing or empty CA file, a CA that is not a certificate, a client key not the certificate's: exit 2" {
	fixtures_into "$P"
	sed "s|certificate-authority: .*|certificate-authority: \"$T/missing-ca.crt\"|" "$KC" >"$T/kc1"
	kc_once "$T/kc1"
	refused "CA file \`$T/missing-ca.crt\`: No such file or directory"
	: >"$T/empty-ca.crt"
	sed "s|certificate-authority: .*|certificate-authority: \"$T/empty-ca.crt\"|" "$KC" >"$T/kc2"
	kc_once "$T/kc2"
	refused 'empty-ca.crt` holds no PEM certificate'
	sed "s|certificate-authority: .*|certificate-authority: \"$API_CERTS/ca.key\"|" "$KC" >"$T/kc3"
	kc_once "$T/kc3"
	refused 'ca.key` holds no PEM certificate'
	# the client certificate with another key (the server's)
	kc_user "$T/kc4" "$(printf '    client-certificate: "%s"\n    client-key: "%s"' "$API_CERTS/client.crt" "$API_CERTS/server.key")"
	kc_once "$T/kc4"
	refused "client key \`$API_CERTS/server.key\` does not match client certificate \`$API_CERTS/client.crt\`"
	# and with its own key it works: the stand-in takes the certificate
	kc_user "$T/kc5" "$(printf '    client-certificate: "%s"\n    client-key: "%s"' "$API_CERTS/client.crt" "$API_CERTS/client.key")"
	kc_once "$T/kc5"
	[ "$status" -eq 0 ]
	labels | grep -qx 'seccomp.profiled.io/audit=true'
}
