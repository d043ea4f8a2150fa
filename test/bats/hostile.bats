#!/usr/bin/env bats
# Hostile input in the profiles folder.  Each test first puts a good set in
# place (two seccomp profiles and one AppArmor profile, published, loaded
# into the stand-in apparmorfs, confirmed and labeled on the strict API
# stand-in), then adds one hostile entry and runs again: the entry gets an
# error that names it, and nothing else changes: the good files are not
# rewritten (same inode and mtime), nothing is loaded or unloaded again, no
# label is patched, the labels and the state stay as they were.

bats_require_minimum_version 1.5.0
load helpers


setup_file() {
	export API_CERTS=$BATS_FILE_TMPDIR/certs
	api_certs "$API_CERTS"
}

setup() {
	common_setup
	apparmorfs_setup
	api_start
}

teardown() {
	common_teardown
}

api_once() {
	run "$PROFILED" run --once --profiles "$P" --seccomp-root "$R" --seccomp-subdir "$SUBDIR" \
		--state-dir "$S" --node-name node-1 --kubeconfig "$KC" \
		--apparmorfs "$FS" --apparmor-parser "$WRAPPER" "$@"
	echo "$output"
}

# failed_requests: API requests answered >= 400.
failed_requests() {
	ctl GET /control/requests | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["status"] == "reset" or r["status"] >= 400:
        print(r["method"], r["path"], r["status"], json.dumps(r.get("response"))[:300])'
}

# ids: file_id of every published file, one stat for all.
ids() {
	stat -c '%n %i %.9Y %a %s' "$PUB"/*
}

# good_set: two seccomp profiles and one AppArmor profile, in place and
# labeled; remembers what must not change.
good_set() {
	seccomp_json SCMP_ACT_ALLOW >"$P/good1.json"
	seccomp_json SCMP_ACT_ALLOW mkdir >"$P/good2.json"
	printf 'profile pd-good { file, }\n' >"$P/good-aa"
	api_once
	[ "$status" -eq 1 ] # loaded; the stand-in kernel does not list it yet
	printf 'pd-good (enforce)\n' >"$FS/profiles"
	api_once
	[ "$status" -eq 0 ]
	labels >"$T/labels.good"
	grep -qx 'seccomp.profiled.io/good1=true' "$T/labels.good"
	grep -qx 'seccomp.profiled.io/good2=true' "$T/labels.good"
	grep -qx 'apparmor.profiled.io/pd-good=true' "$T/labels.good"
	ids >"$T/ids.good"
	cp "$S/state.json" "$T/state.good"
	: >"$FS/.replace"
	ctl POST /control/reset-requests >/dev/null
}

# unchanged: nothing of the good set moved; no request failed.
unchanged() {
	diff "$T/ids.good" <(ids)
	[ ! -s "$FS/.replace" ]
	[ ! -s "$FS/.remove" ]
	diff "$T/labels.good" <(labels)
	[ -z "$(label_patches)" ]
	[ -z "$(failed_requests)" ]
	python3 - "$S/state.json" "$T/state.good" <<-'PY'
	import json, sys
	key = lambda e: (e["name"], e["sha256"], e.get("source"))
	got, want = (json.load(open(p)) for p in sys.argv[1:])
	for k in ("seccomp", "apparmor"):
	    assert sorted(map(key, got[k])) == sorted(map(key, want[k])), (k, got, want)
	PY
}

@test "symlinks out of the folder (absolute, ../, kubelet-style key): refused, named, nothing else changes" {
	good_set
	ln -s /etc/passwd "$P/abs.json"
	mkdir -p "$T/outside"
	seccomp_json SCMP_ACT_ALLOW >"$T/outside/x.json"
	ln -s ../outside/x.json "$P/up.json"
	ln -s ../../../../../../../../etc/shadow "$P/shadow-aa"
	# a kubelet-style data folder that is a link out, and a key through it
	ln -s /etc "$P/..data-evil"
	ln -s ..data-evil/passwd "$P/passwd-aa"
	api_once
	[ "$status" -eq 1 ]
	grep -q "seccomp profile rejected file=$P/abs.json error=\"symlink leads outside the folder\"" <<<"$output"
	grep -q "seccomp profile rejected file=$P/up.json error=\"symlink leads outside the folder\"" <<<"$output"
	grep -q "apparmor profile rejected file=$P/shadow-aa error=\"symlink leads outside the folder\"" <<<"$output"
	grep -q "apparmor profile rejected file=$P/passwd-aa error=\"symlink leads outside the folder\"" <<<"$output"
	[ ! -e "$PUB/abs.json" ] && [ ! -e "$PUB/up.json" ]
	unchanged
}

@test "a FIFO and a device node in the folder: refused without being opened, nothing else changes" {
	good_set
	mkfifo "$P/fifo.json"
	mknod "$P/dev-aa" c 1 3 2>/dev/null || skip "mknod not permitted"
	api_once
	[ "$status" -eq 1 ]
	grep -q "seccomp profile rejected file=$P/fifo.json error=\"not a regular file\"" <<<"$output"
	grep -q "apparmor profile rejected file=$P/dev-aa error=\"not a regular file\"" <<<"$output"
	unchanged
}

@test "a 100 MiB file: refused by its size, never read, nothing else changes" {
	good_set
	truncate -s 100M "$P/huge.json"
	truncate -s 100M "$P/huge-aa"
	api_once
	[ "$status" -eq 1 ]
	grep -q "seccomp profile rejected file=$P/huge.json error=\"file is 104857600 bytes, over the limit of 1048576\"" <<<"$output"
	grep -q "apparmor profile rejected file=$P/huge-aa error=\"file is 104857600 bytes, over the limit" <<<"$output"
	unchanged
}

@test "JSON nested 100,000 levels deep: a clear error, no crash, nothing else changes" {
	good_set
	python3 -c 'import sys; sys.stdout.write("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"x\":" + "[" * 100000 + "]" * 100000 + "}")' >"$P/deep.json"
	python3 -c 'import sys; sys.stdout.write("[" * 100000)' >"$P/deep2.json"
	api_once
	[ "$status" -eq 1 ]
	grep -q "seccomp profile rejected file=$P/deep.json error=" <<<"$output"
	grep -q "seccomp profile rejected file=$P/deep2.json error=" <<<"$output"
	unchanged
}

@test "invalid UTF-8 in a file's content and name: the content is refused, the name is published and labeled safely" {
	good_set
	printf '{"defaultAction":"SCMP_ACT_ALLOW","comment":"\xff\xfe"}' >"$P/badutf8.json"
	name=$(printf 'n\xff\xfeme.json')
	seccomp_json SCMP_ACT_ALLOW >"$P/$name"
	api_once
	[ "$status" -eq 1 ]
	grep -q "seccomp profile rejected file=$P/badutf8.json error=\".*UTF-8" <<<"$output"
	cmp "$P/$name" "$PUB/$name"
	# the new profile's label (mapped) is the only change
	[ -z "$(failed_requests)" ]
	labels | tee "$T/labels.now"
	diff "$T/labels.good" <(grep -v '^seccomp.profiled.io/n--me-' "$T/labels.now")
	grep -q '^seccomp.profiled.io/n--me-[0-9a-f]\{10\}=true$' "$T/labels.now"
	diff "$T/ids.good" <(ids | grep -v "$name")
}

@test "names the API would refuse as label names (long, paths, 250 bytes): mapped, one valid patch" {
	good_set
	long=/opt/$(printf 'very-long-directory-name/%.0s' 1 2 3 4)bin/daemon
	printf 'profile %s { file, }\n' "$long" >"$P/long-aa"
	name=$(printf 'x%.0s' $(seq 1 245))
	seccomp_json SCMP_ACT_ALLOW >"$P/$name.json"
	api_once
	[ "$status" -eq 1 ] # the new AppArmor profile is not confirmed yet
	printf 'pd-good (enforce)\n%s (enforce)\n' "$long" >"$FS/profiles"
	api_once
	[ "$status" -eq 0 ]
	[ -z "$(failed_requests)" ]
	labels | tee "$T/labels.now"
	grep -q '^apparmor.profiled.io/opt-very-long-directory-name-very-long-directory-nam-[0-9a-f]\{10\}=true$' "$T/labels.now"
	grep -q '^seccomp.profiled.io/x\{52\}-[0-9a-f]\{10\}=true$' "$T/labels.now"
	awk -F'[/=]' '{ if (length($2) > 63) exit 1 }' "$T/labels.now"
	cmp "$P/$name.json" "$PUB/$name.json"
}

@test "an AppArmor profile name that a host profile holds: refused, the host profile untouched, nothing else changes" {
	good_set
	printf 'pd-good (enforce)\n/usr/sbin/host-daemon (enforce)\n' >"$FS/profiles"
	printf 'profile /usr/sbin/host-daemon { file, }\n' >"$P/takeover"
	api_once
	[ "$status" -eq 1 ]
	grep -q "apparmor profile rejected file=$P/takeover error=\"profile \`/usr/sbin/host-daemon\` is already loaded and was not loaded by profiled" <<<"$output"
	unchanged
}

@test "AppArmor includes of host paths (/etc/shadow, ../): refused before the parser reads them, nothing else changes" {
	good_set
	printf '#include "/etc/shadow"\nprofile pd-x { file, }\n' >"$P/abs-include"
	printf 'profile pd-y {\n  include <abstractions/../../../etc/shadow>\n}\n' >"$P/dotdot-include"
	printf 'profile pd-z {\n  #include if exists "/root/.ssh/id_rsa"\n}\n' >"$P/ifexists-include"
	: >"$PARSER_LOG"
	api_once
	[ "$status" -eq 1 ]
	grep -q "apparmor profile rejected file=$P/abs-include error=\"line 1: .include /etc/shadow.: only the standard AppArmor folders" <<<"$output"
	grep -q "apparmor profile rejected file=$P/dotdot-include error=\"line 2: .*\`..\` is not allowed" <<<"$output"
	grep -q "apparmor profile rejected file=$P/ifexists-include error=\"line 2: " <<<"$output"
	not grep -q -- "--names\|--write-cache" "$PARSER_LOG"
	unchanged
}

@test "3000 profiles: all published and labeled in one patch the API accepts; the annotation stays within its limit" {
	good_set
	python3 - "$P" <<-'PY'
	import sys
	for i in range(3000):
	    open("%s/p%04d.json" % (sys.argv[1], i), "w").write(
	        '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":%d}]}\n' % (i % 100 + 1))
	PY
	t0=$(now_ms)
	api_once
	echo "# 3000 profiles: one --once took $(($(now_ms) - t0)) ms" >&3
	[ "$status" -eq 0 ]
	[ "$(ls "$PUB" | wc -l)" -eq 3002 ]
	cmp "$P/p2999.json" "$PUB/p2999.json"
	[ -z "$(failed_requests)" ]
	[ "$(labels | grep -c '^seccomp.profiled.io/p[0-9]\{4\}=true$')" -eq 3000 ]
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
a = json.load(sys.stdin)["metadata"]["annotations"]
total = sum(len(k) + len(v) for k, v in a.items())
print("# annotations: %d bytes in all (limit 262144)" % total)
assert total <= 262144, total
p = json.loads(a["profiled.io/profiles"])
print("# profiles annotation: %d entries listed, truncated=%s" % (len(p) - 1, p[-1].get("truncated")))' >&3
	diff "$T/ids.good" <(ids | grep -v '/p[0-9]\{4\}\.json ')
}

@test "someone else's annotations near the 256 KiB limit: labels still apply, the profiles annotation is cut and says so" {
	good_set
	python3 -c 'import json; print(json.dumps({"metadata": {"annotations": {"example.com/big": "x" * 200000}}}))' >"$T/big.json"
	curl -sSf -X PATCH -H 'Content-Type: application/json' --data @"$T/big.json" "$CTL/control/nodes/node-1" >/dev/null
	for i in $(seq 1 400); do seccomp_json SCMP_ACT_ALLOW >"$P/q$i.json"; done
	api_once
	[ "$status" -eq 0 ]
	[ -z "$(failed_requests)" ]
	[ "$(labels | grep -c '^seccomp.profiled.io/q[0-9]*=true$')" -eq 400 ]
	grep -q 'profiles annotation cut to fit the API.s limit' <<<"$output"
	ctl GET /control/nodes/node-1 | python3 -c '
import json, sys
a = json.load(sys.stdin)["metadata"]["annotations"]
assert len(a["example.com/big"]) == 200000
assert sum(len(k) + len(v) for k, v in a.items()) <= 262144
p = json.loads(a["profiled.io/profiles"])
assert p[-1].get("truncated", 0) > 0, p[-1]'
}
