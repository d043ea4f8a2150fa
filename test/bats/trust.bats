#!/usr/bin/env bats
# What the agent takes as its own.  Whoever can patch the Node (a
# compromised kubelet can, on its own Node) writes the agent's two
# annotations, profiled.io/profiles and profiled.io/owned-labels.  Neither
# may make the agent unload, replace or delete what it cannot prove is its
# own, nor remove labels outside its label domains.  Proof is local: the
# state folder, or for a loaded AppArmor profile the kernel's copy of its
# policy (the stand-in apparmorfs exports it as Linux does: kernel_holds in
# helpers.bash; the real kernel in test/vm/trust.sh).

bats_require_minimum_version 1.5.0
load helpers

HOST_PIDNS='pid:[4026531836]'
FAKE_SHA=1111111111111111111111111111111111111111111111111111111111111111

setup_file() {
	export API_CERTS=$BATS_FILE_TMPDIR/certs
	api_certs "$API_CERTS"
}

setup() {
	common_setup
	apparmorfs_setup
	# the agent sees the node's processes, so --unload-removed is honoured
	PROC=$T/proc
	mkdir -p "$PROC/self/ns" "$PUB"
	ln -s "$HOST_PIDNS" "$PROC/self/ns/pid"
	# two host profiles the kernel holds, loaded from the host's own policy
	printf 'the host policy of docker-default' >"$T/host-blob"
	kernel_holds docker-default enforce "$T/host-blob"
	kernel_holds /usr/sbin/host-daemon enforce "$T/host-blob"
}

teardown() {
	common_teardown
}

aa_once() { # [API] extra flags: one reconcile with the stand-in kernel
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --apparmorfs "$FS" \
		--apparmor-parser "$WRAPPER" --proc-root "$PROC" "$@"
	echo "$output"
}

# node_annotate KEY VALUE: someone else writes an annotation on the Node.
node_annotate() {
	ctl PATCH /control/nodes/node-1 "$(python3 -c '
import json, sys
print(json.dumps({"metadata": {"annotations": {sys.argv[1]: sys.argv[2]}}}))' "$1" "$2")" >/dev/null
}

# forged_profiles FILE_OF_DOCKER_DEFAULT: the attacker's profiles annotation,
# naming two host profiles and someone else's seccomp file as the agent's.
forged_profiles() {
	python3 - "$1" "$FAKE_SHA" "$(sha256sum <"$PUB/host.json" | cut -d' ' -f1)" <<-'PY'
	import json, sys
	dd, fake, host = sys.argv[1:]
	print(json.dumps([
	    {"kind": "apparmor", "name": "docker-default", "file": dd, "sha256": fake, "state": "loaded"},
	    {"kind": "apparmor", "name": "/usr/sbin/host-daemon", "file": None, "sha256": fake, "state": "retired"},
	    {"kind": "seccomp", "name": "host", "file": "host.json", "sha256": host, "state": "published"},
	]))
	PY
}

@test "a forged profiles annotation: with no state, host profiles are not unloaded and a foreign seccomp file is not deleted" {
	api_start
	# someone else's file in the seccomp folder
	seccomp_json SCMP_ACT_LOG >"$PUB/host.json"
	id0=$(file_id "$PUB/host.json")
	node_annotate profiled.io/profiles "$(forged_profiles gone)"
	mkdir -p "$P"
	seccomp_json SCMP_ACT_ALLOW >"$P/mine.json"
	aa_once --kubeconfig "$KC" --unload-removed
	[ "$status" -eq 0 ]
	# nothing unloaded, nothing loaded, the foreign file kept as it was
	[ ! -s "$FS/.remove" ]
	[ ! -s "$FS/.replace" ]
	[ "$(file_id "$PUB/host.json")" = "$id0" ]
	not grep -q 'apparmor profile unloaded\|seccomp profile removed' <<<"$output"
	# the state holds what the agent put in place, and only that
	python3 - "$S/state.json" <<-'PY'
	import json, sys
	st = json.load(open(sys.argv[1]))
	assert [e["name"] for e in st["seccomp"]] == ["mine.json"], st
	assert st["apparmor"] == [], st
	PY
	# a second run, now with a state, still leaves them alone
	aa_once --kubeconfig "$KC" --unload-removed
	[ "$status" -eq 0 ]
	[ ! -s "$FS/.remove" ]
	[ "$(file_id "$PUB/host.json")" = "$id0" ]
}

@test "a forged profiles annotation: a ConfigMap file is not loaded over a host profile it names" {
	api_start
	mkdir -p "$P"
	printf 'profile docker-default { file, }\n' >"$P/takeover"
	# the attacker claims the host's docker-default came from that file,
	# with its sha256 or with another: neither makes it the agent's
	for sha in "$(sha256sum <"$P/takeover" | cut -d' ' -f1)" "$FAKE_SHA"; do
		rm -rf "$S"
		: >"$FS/.replace"
		node_annotate profiled.io/profiles \
			"[{\"kind\":\"apparmor\",\"name\":\"docker-default\",\"file\":\"takeover\",\"sha256\":\"$sha\",\"state\":\"loaded\"}]"
		aa_once --kubeconfig "$KC"
		[ "$status" -eq 1 ]
		[ ! -s "$FS/.replace" ]
		grep -q "apparmor profile rejected file=$P/takeover error=\"profile \`docker-default\` is already loaded and was not loaded by profiled" <<<"$output"
		not grep -q 'taken back' <<<"$output"
		[ -z "$(labels | grep 'apparmor.profiled.io/docker-default')" ]
	done
}

@test "the agent's own profile is proven by the kernel's copy of its policy: taken back after a lost state, in local mode too" {
	mkdir -p "$P"
	printf 'profile pd-own { file, }\n' >"$P/own"
	printf 'profile pd-two { signal, }\nprofile pd-three { file, }\n' >"$P/two"
	aa_once
	[ "$status" -eq 1 ] # loaded, not yet listed by the stand-in kernel
	cp "$FS/.replace" "$T/loaded-both"
	# libapparmor wrote own, then two, at offset 0 of the plain file: the
	# blobs are the parser's cache files, one load each
	for f in own two; do
		sha=$(sha256sum <"$P/$f" | cut -d' ' -f1)
		cp "$(find "$S/apparmor-cache" -type f -name "$sha" -not -path '*/names/*')" "$T/blob-$f"
	done
	kernel_holds pd-own enforce "$T/blob-own"
	kernel_holds pd-two enforce "$T/blob-two"
	kernel_holds pd-three enforce "$T/blob-two"
	aa_once
	[ "$status" -eq 0 ]
	rm -rf "$S"
	: >"$FS/.replace"
	aa_once --unload-removed
	[ "$status" -eq 0 ]
	[ "$(grep -c 'apparmor profile taken back' <<<"$output")" -eq 3 ]
	[ ! -s "$FS/.replace" ] # not loaded again
	[ ! -s "$FS/.remove" ]
	grep -q 'label=apparmor.profiled.io/pd-own value=true' <<<"$output"
	# it is the agent's again: a removed file is unloaded, the host's are not
	rm "$P/own"
	aa_once --unload-removed
	[ "$status" -eq 0 ]
	grep -q 'apparmor profile unloaded profile=pd-own' <<<"$output"
	[ "$(tr -d '\0' <"$FS/.remove")" = pd-own ]
}

@test "a loaded profile whose policy is not what the agent compiled stays foreign after a lost state, and is never unloaded" {
	mkdir -p "$P"
	printf 'profile pd-own { file, }\n' >"$P/own"
	aa_once
	[ "$status" -eq 1 ]
	# while the state is lost, someone loads other policy under the name
	printf 'profile pd-own { signal, }' >"$T/other-blob"
	kernel_holds pd-own enforce "$T/other-blob"
	rm -rf "$S"
	: >"$FS/.replace"
	aa_once --unload-removed
	[ "$status" -eq 1 ]
	grep -q 'profile `pd-own` is already loaded and was not loaded by profiled' <<<"$output"
	[ ! -s "$FS/.replace" ]
	rm "$P/own"
	aa_once --unload-removed
	[ "$status" -eq 0 ]
	[ ! -s "$FS/.remove" ]
	# a kernel that does not export policy data proves nothing either
	printf 'profile pd-own { file, }\n' >"$P/own"
	rm -rf "$S" "$FS/policy"
	aa_once --unload-removed
	[ "$status" -eq 1 ]
	grep -q 'profile `pd-own` is already loaded and was not loaded by profiled' <<<"$output"
}

@test "a forged owned-labels annotation: the kubelet's and the cloud's labels are never removed" {
	api_start
	ctl PATCH /control/nodes/node-1 '{"metadata":{"labels":{"topology.kubernetes.io/zone":"z1","node-role.kubernetes.io/worker":"","seccomp.kubernetes.io/x":"true","kubernetes.io/seccomp":"enabled","team":"a"}}}' >/dev/null
	labels >"$T/before"
	grep -q '^kubernetes.io/hostname=' "$T/before"
	mkdir -p "$P"
	seccomp_json SCMP_ACT_ALLOW >"$P/mine.json"
	# with no state, then with one (the agent rewrites the annotation with
	# its own keys after each run: the attacker writes it again)
	for start in fresh again; do
		node_annotate profiled.io/owned-labels \
			"kubernetes.io/hostname,topology.kubernetes.io/zone,node-role.kubernetes.io/worker,seccomp.kubernetes.io/x,kubernetes.io/seccomp,team,kubernetes.io/os"
		ctl POST /control/reset-requests >/dev/null
		aa_once --kubeconfig "$KC"
		[ "$status" -eq 0 ]
		labels >"$T/after"
		# every label that was there is still there, with its value
		diff <(grep -v 'profiled.io' "$T/before") <(grep -v 'profiled.io' "$T/after")
		grep -qx 'seccomp.profiled.io/mine=true' "$T/after"
		# no patch named a foreign key
		[ -z "$(label_patches | grep 'kubernetes.io\|"team"')" ]
		[ -z "$(ctl GET /control/requests | python3 -c '
import json, sys
print("".join("%s %s\n" % (r["method"], r["status"]) for r in json.load(sys.stdin) if r["status"] >= 400))')" ]
		# said once per run, naming the keys it left alone
		grep -q 'owned-labels annotation names labels outside profiled.s label domains.*labels=[^ ]*kubernetes.io/hostname' <<<"$output"
		[ "$(grep -c 'owned-labels annotation names labels outside' <<<"$output")" -eq 1 ]
	done
}

@test "owned-labels still cleans up the agent's own earlier --label-domain, which its state records" {
	api_start
	mkdir -p "$P"
	seccomp_json SCMP_ACT_ALLOW >"$P/mine.json"
	aa_once --kubeconfig "$KC" --label-domain old.example
	[ "$status" -eq 0 ]
	labels | grep -qx 'seccomp.old.example/mine=true'
	grep -q '"old.example"' "$S/state.json"
	aa_once --kubeconfig "$KC"
	[ "$status" -eq 0 ]
	labels >"$T/l"
	grep -qx 'seccomp.profiled.io/mine=true' "$T/l"
	not grep -q 'old.example' "$T/l"
	# with the state lost, an earlier domain is not the agent's any more:
	# a hand-written owned-labels value naming its keys removes nothing
	ctl PATCH /control/nodes/node-1 '{"metadata":{"labels":{"seccomp.other.example/x":"true"}}}' >/dev/null
	node_annotate profiled.io/owned-labels "seccomp.other.example/x,seccomp.profiled.io/mine"
	rm -rf "$S"
	aa_once --kubeconfig "$KC"
	[ "$status" -eq 0 ]
	labels | grep -qx 'seccomp.other.example/x=true'
}
