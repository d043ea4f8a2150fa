#!/usr/bin/env bats
# The API cases of api.bats and ready.bats that need no fault injection,
# against a real etcd + kube-apiserver (the cluster's security settings:
# Node,RBAC, NodeRestriction, ValidatingAdmissionPolicy; the project's
# RBAC and admission policy from deploy/), one per file, on free ports
# (test/cluster/controlplane.sh). The agent holds a token of its service
# account bound to node-1, as in a pod. The requests it made are read from
# the API server's audit log. Same case bodies: test/bats/apicases.bash.
#
# Needs the cached Kubernetes binaries (make k8s-build); skips loudly
# without them, unless PROFILED_REALAPI_REQUIRE=1 (make test-realapi, CI).

bats_require_minimum_version 1.5.0
load helpers
load apicases

setup_file() {
	realapi_setup_file
}

teardown_file() {
	realapi_teardown_file
}

setup() {
	common_setup
	mkdir -p "$P"
	realapi_setup
}

teardown() {
	common_teardown
}

@test "real API server: labels appear, change and disappear with the profiles; other labels are untouched" {
	case_labels_follow_profiles
}

@test "real API server: requests: none at steady state, one GET and one PATCH per change (counts printed)" {
	case_requests_counted
}

@test "real API server: a rotated token (the old one's Secret deleted) is re-read from its file after a 401" {
	case_token_rotated
}

@test "real API server: after a reboot, labels of profiles not in place are removed before anything is loaded" {
	case_reboot_removes_first
}

@test "real API server: events: posted on the node, the same one aggregated into a count" {
	case_events_aggregated
}

@test "real API server: 403 (RBAC binding removed) and 404 are logged with what to do; profiles are still published" {
	case_forbidden_and_not_found
}

@test "real API server: a changed --label-domain removes the keys of the old one (policy allowing both)" {
	case_label_domain_change
}

@test "real API server: a profile name the API would refuse as a label is mapped, never sent as is" {
	case_label_names_mapped
}

@test "real API server: a wrong CA is refused: TLS is always verified" {
	case_wrong_ca
}

@test "real API server: events are rate-bounded: 40 distinct problems at once give at most 30 event requests" {
	case_events_rate_bounded
}

@test "real API server: ProfilesReady: True with the kubelet's Ready kept; no request at steady state, no status PATCH when unchanged" {
	case_ready_true_quiet
}

@test "real API server: ProfilesReady: False names the file and why; lastTransitionTime moves only when the status does; one status PATCH per change" {
	case_ready_false_transitions
}

@test "real API server: ProfilesReady: a condition someone else removed is put back at the resync; the kubelet's Ready is never touched" {
	case_ready_put_back
}

@test "real API server: --remove-taint: kept while a profile fails, removed after the first good reconcile, other taints kept, never re-added" {
	case_taint_removed_once
}

@test "real API server: AppArmor: False (Pending) until the kernel lists the loaded profile, then True and the taint goes" {
	case_apparmor_pending
}
