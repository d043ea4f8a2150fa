#!/usr/bin/env bats
# The Events of an AppArmor profile on the Node (docs/api.md, "Events"):
# ProfileLoaded when the kernel lists a version the agent loaded, and
# ProfileRetired when its file leaves the folders and it stays loaded.  The
# kernel is the stand-in apparmorfs of apparmor.bats (the real libapparmor
# writes into it; the test says what the kernel lists), the API server the
# stand-in of test/apiserver.

bats_require_minimum_version 1.5.0
load helpers
load apicases

setup() {
	common_setup
	apparmorfs_setup
}

teardown() {
	common_teardown
}

# events REASON: the Events of that reason, one JSON object a line
events() {
	ctl GET /control/events | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e["reason"] == sys.argv[1]:
        print(json.dumps(e))' "$1"
}

@test "an AppArmor profile loaded posts ProfileLoaded once the kernel lists it; its file removed, ProfileRetired" {
	printf 'profile pd-ev { file, }\n' >"$P/ev"
	api_start
	# loaded, not listed yet: not confirmed, so no ProfileLoaded
	aa_once --kubeconfig "$KC"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q 'apparmor profile not confirmed' <<<"$output"
	[ -z "$(events ProfileLoaded)" ]
	# a new version, which the kernel lists
	kernel_has pd-ev complain
	printf 'profile pd-ev flags=(complain) {\n  file,\n  deny /tmp/** w,\n}\n' >"$P/ev"
	sha=$(sha256sum "$P/ev" | cut -d' ' -f1)
	aa_once --kubeconfig "$KC"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'apparmor profile loaded profile=pd-ev mode=complain' <<<"$output"
	events ProfileLoaded | python3 -c '
import json, sys
es = [json.loads(l) for l in sys.stdin]
assert len(es) == 1, es
e = es[0]
assert e["type"] == "Normal" and e["involvedObject"]["kind"] == "Node", e
assert e["source"]["component"] == "profiled", e
want = "AppArmor profile pd-ev loaded in complain mode from %s (sha256 %s)" % (sys.argv[1], sys.argv[2][:12])
assert e["message"] == want, (e["message"], want)' "$P/ev" "$sha"
	# nothing changed: no Event again
	aa_once --kubeconfig "$KC"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(events ProfileLoaded | wc -l)" -eq 1 ]
	[ -z "$(events ProfileRetired)" ]
	# the file leaves: retired (still loaded, label gone), one Event
	rm "$P/ev"
	aa_once --kubeconfig "$KC"
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -s "$FS/.remove" ]
	events ProfileRetired | python3 -c '
import json, sys
es = [json.loads(l) for l in sys.stdin]
assert len(es) == 1 and es[0]["type"] == "Normal", es
want = "AppArmor profile pd-ev: its file %s left the profiles folders; it stays loaded, without its label" % sys.argv[1]
assert es[0]["message"] == want, es' ev
	! labels | grep -q 'apparmor.profiled.io/pd-ev'
}
