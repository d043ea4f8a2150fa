#!/usr/bin/env bash
# mkcerts.sh DIR: a throwaway PKI for the API server stand-in.
#
#   DIR/ca.crt, ca.key           the cluster CA (what a pod finds in
#                                serviceaccount/ca.crt)
#   DIR/server.crt, server.key   the API server's certificate, signed by the CA,
#                                subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1
#   DIR/client.crt, client.key   a client certificate signed by the CA
#                                (CN=system:node:profiled-test, O=system:nodes)
#   DIR/other-ca.crt, other-ca.key
#                                an unrelated CA: a client told to trust it
#                                must refuse the server
#   DIR/other-server.crt, .key   a localhost certificate signed by other-ca:
#                                serve it to check that a client refuses it
#
# RSA 2048, SHA-256, valid for 2 days. Existing files are replaced.
set -euo pipefail
d=${1:?usage: mkcerts.sh DIR}
mkdir -p "$d"
cd "$d"
export OPENSSL_CONF=/dev/null # no site config can change what we make
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ca() { # name cn
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
		-keyout "$1.key" -out "$1.crt" -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}

leaf() { # name ca subject extensions
	openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$1.key" \
		-out "$tmp/$1.csr" -subj "$3" 2>/dev/null
	printf '%s\n' "$4" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA "$2.crt" -CAkey "$2.key" \
		-CAcreateserial -CAserial "$tmp/$2.srl" -sha256 -days 2 \
		-extfile "$tmp/$1.ext" -out "$1.crt" 2>/dev/null
}

server_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'

ca ca kubernetes-ca
leaf server ca /CN=kube-apiserver "$server_ext"
leaf client ca "/O=system:nodes/CN=system:node:profiled-test" 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'
ca other-ca other-ca
leaf other-server other-ca /CN=kube-apiserver "$server_ext"
chmod 600 ./*.key
openssl verify -CAfile ca.crt server.crt client.crt >/dev/null
