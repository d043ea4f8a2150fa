#!/usr/bin/env bats
# The real consumer: podman + runc enforce the files profiled published.
# run.sh exits 77 with "SKIP: reason" when podman cannot run here; then these
# tests skip loudly, or fail when PROFILED_CONSUMER_REQUIRE=1.

bats_require_minimum_version 1.5.0
load helpers

RUN_SH=$REPO/test/consumer/run.sh
CONSUMER_PROFILES=$REPO/test/consumer/profiles

setup_file() {
	local d=$BATS_FILE_TMPDIR rc=0 fg
	mkdir -p "$d/profiles"
	cp "$CONSUMER_PROFILES/deny-mkdir.json" "$d/profiles/"
	# The Kubernetes tutorial's allow-list, unchanged (the shared fixture if
	# present; test/consumer/profiles holds the same bytes).
	fg=$FIXTURES/fine-grained.json
	[ -f "$fg" ] || fg=$CONSUMER_PROFILES/fine-grained.json
	cp "$fg" "$d/profiles/fine-grained.json"
	"$PROFILED" run --once --profiles "$d/profiles" --seccomp-root "$d/root" \
		--state-dir "$d/state" --node-name node-1 2>"$d/once.log" || rc=$?
	echo "$rc" >"$d/once.rc"
}

setup() {
	D=$BATS_FILE_TMPDIR
	PUBD=$D/root/profiled
}

# consumer ARGS...: run.sh under bats' `run`; a SKIP (77) skips the test, or
# fails it when PROFILED_CONSUMER_REQUIRE=1.
consumer() {
	run "$RUN_SH" "$@"
	echo "run.sh $* -> exit $status: $output"
	if [ "$status" -eq 77 ]; then
		local reason
		reason=$(grep -m1 '^SKIP: ' <<<"$output" || printf '%s' "$output")
		if [ "${PROFILED_CONSUMER_REQUIRE:-0}" = 1 ]; then
			echo "PROFILED_CONSUMER_REQUIRE=1 but the consumer cannot run: $reason"
			return 1
		fi
		echo "# consumer test skipped: $reason" >&3
		skip "$reason"
	fi
	if [ "${PROFILED_CONSUMER_REQUIRE:-0}" = 1 ] && [[ "$output" == *"FAIL (PROFILED_CONSUMER_REQUIRE=1)"* ]]; then
		return 1
	fi
}

@test "profiled --once published the consumer's profiles byte-identical" {
	cat "$D/once.log"
	[ "$(cat "$D/once.rc")" -eq 0 ]
	cmp "$D/profiles/deny-mkdir.json" "$PUBD/deny-mkdir.json"
	cmp "$D/profiles/fine-grained.json" "$PUBD/fine-grained.json"
	[ "$(stat -c %a "$PUBD/deny-mkdir.json")" = 644 ]
	[ "$(stat -c %a "$PUBD/fine-grained.json")" = 644 ]
}

@test "published deny-mkdir: mkdir is denied with EPERM, hello works" {
	[ -f "$PUBD/deny-mkdir.json" ]
	consumer "$PUBD/deny-mkdir.json" -- mkdir /tmp/x
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "mkdir: Operation not permitted" ]
	consumer "$PUBD/deny-mkdir.json" -- hello
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = hello ]
}

@test "unconfined: mkdir works (the probe itself is fine)" {
	consumer unconfined -- mkdir /tmp/x
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = ok ]
}

@test "published fine-grained with no-new-privileges: hello works, mkdir denied" {
	[ -f "$PUBD/fine-grained.json" ]
	consumer --no-new-privileges "$PUBD/fine-grained.json" -- hello
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = hello ]
	consumer --no-new-privileges "$PUBD/fine-grained.json" -- mkdir /tmp/x
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "mkdir: Operation not permitted" ]
}
