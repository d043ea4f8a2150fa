#!/bin/bash
# Runs every test stage of `make test` against $BUILD and ends with one line:
# "N passed, N failed, N skipped".  Exits non-zero when anything failed.
set -u
BUILD=${BUILD:-build}
PROFILED=${PROFILED:-$PWD/$BUILD/profiled}
export PROFILED PROFILED_TEST_DATA=$PWD/test/data
passed=0 failed=0 skipped=0

count() { # stage passed failed skipped
	echo "-- $1: $2 passed, $3 failed, $4 skipped"
	passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + $4))
}

num() { sed -n "s/.*$1 *\([0-9][0-9]*\) test.*/\1/p" | head -n 1; }

# The stages that run apparmor_parser run the image's (its parser, libc,
# parser.conf and abstractions): test/image/with-parser.sh.
with_parser="bash $PWD/test/image/with-parser.sh"
echo "== the AppArmor userspace the tests run"
if ver=$($with_parser sh -c '[ -n "${PROFILED_PARSER_ROOT:-}" ] || exit 77; apparmor_parser --version | head -n 1'); then
	echo "the image's ($(cat build/image/ref)): $ver"
	count image-parser 1 0 0
else
	rc=$?
	if [ "$rc" -eq 77 ]; then count image-parser 0 0 1; else count image-parser 0 1 0; fi
fi

echo "== unit tests (cmocka)"
for t in "$BUILD"/test/test_*; do
	[ -x "$t" ] || continue
	out=$($with_parser "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | num '\[  PASSED  \]')
	f=$(printf '%s\n' "$out" | num '\[  FAILED  \]')
	s=$(printf '%s\n' "$out" | num '\[  SKIPPED \]')
	p=${p:-0} f=${f:-0} s=${s:-0}
	# A crash prints no summary: count it as a failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	count "$(basename "$t")" "$p" "$f" "$s"
done

echo "== fuzz regression inputs"
for t in "$BUILD"/fuzz-replay/*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	if "$t" "test/fuzz/corpus/$n" "test/fuzz/regressions/$n"; then
		count "$n" 1 0 0
	else
		count "$n" 0 1 0
	fi
done

# The test tools are tested too: a wrong kubelet simulation or a consumer
# that enforces nothing would make the black-box tests prove nothing.
echo "== test tools"
selftest() { # name script [args...]; a skip (77) fails when $REQUIRE=1
	local name=$1 out rc p f s last
	shift
	out=$(bash "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" -eq 77 ]; then
		if [ "${REQUIRE:-0}" = 1 ]; then
			count "$1" 0 1 0
		else
			count "$1" 0 0 1
		fi
		return
	fi
	last=$(printf '%s\n' "$out" | grep -oE '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' | tail -n 1)
	p=$(echo "$last" | awk '{print $1}')
	f=$(echo "$last" | awk '{print $3}')
	s=$(echo "$last" | awk '{print $5}')
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	count "$name" "$p" "$f" "$s"
}
if [ "${PROFILED_TOOLS_TESTED:-0}" = 1 ]; then
	echo "note: the test tools' self-tests ran in 'make test' and are not repeated here"
else
	selftest kubelet_writer test/tools/test_kubelet_writer.sh
	REQUIRE=${PROFILED_CONSUMER_REQUIRE:-0} selftest consumer test/consumer/selftest.sh
	REQUIRE=${PROFILED_VM_REQUIRE:-0} selftest vm-harness test/vm/selftest.sh
	selftest apiserver-stand-in test/apiserver/selftest.sh
	echo "== code shape: no call cycle, functions fit a screen (docs/architecture.md)"
	BUILD=$BUILD selftest code-shape test/tools/code-shape.sh
	selftest doc-refs test/tools/doc-refs.sh
fi

# A second pass of the suite on another build (make asan sets
# PROFILED_TOOLS_TESTED=1) repeats only what runs the binary under test: the
# manifests, the chart and the image do not, and the VM guests run the
# image's own profiled (test/vm: the image's userspace), not this build.
if [ "${PROFILED_TOOLS_TESTED:-0}" = 1 ]; then
	echo "note: manifests, Helm chart, image and VM tests ran in 'make test' on what they test (none runs this build) and are not repeated here"
else
	echo "== deployment manifests (offline)"
	REQUIRE=${PROFILED_DEPLOY_REQUIRE:-0} selftest deploy test/deploy/test.sh

	echo "== the Helm chart (offline; pinned helm and kustomize built once)"
	REQUIRE=${PROFILED_HELM_REQUIRE:-0} selftest helm test/helm/test.sh

	echo "== the image's runtime stage"
	selftest image test/image/check.sh "$PROFILED"

	echo "== AppArmor on real kernels (QEMU)"
	# the end-to-end test (profiled.sh's) on each kernel of the matrix
	REQUIRE=${PROFILED_VM_REQUIRE:-0} selftest vm-matrix test/vm/matrix.sh "$PROFILED"
	REQUIRE=${PROFILED_VM_REQUIRE:-0} selftest vm-unload test/vm/unload.sh "$PROFILED"
	REQUIRE=${PROFILED_VM_REQUIRE:-0} selftest vm-trust test/vm/trust.sh "$PROFILED"
	REQUIRE=${PROFILED_VM_REQUIRE:-0} selftest vm-advise test/vm/advise.sh "$PROFILED"

fi

echo "== soak (30 s of kubelet swaps; make soak runs 360 s)"
selftest soak test/image/with-parser.sh bash test/soak/soak.sh --seconds "${PROFILED_SOAK_SECONDS:-30}"

echo "== black-box tests (bats)"
tap=$(mktemp)
bats_files=(test/bats)
if [ "${PROFILED_TOOLS_TESTED:-0}" = 1 ]; then
	# The real API server's cases ran in 'make test'; here the same case
	# bodies run against the stand-in (api.bats, ready.bats).
	echo "note: realapi.bats ran in 'make test'; its cases run here against the stand-in"
	bats_files=()
	for f in test/bats/*.bats; do
		[ "$f" = test/bats/realapi.bats ] || bats_files+=("$f")
	done
fi
$with_parser bats --tap "${bats_files[@]}" | tee "$tap"
p=$(grep -c '^ok .*# skip' "$tap")
s=$p
p=$(($(grep -c '^ok ' "$tap") - s))
f=$(grep -c '^not ok ' "$tap")
rm -f "$tap"
count bats "$p" "$f" "$s"

if [ "$skipped" -gt 0 ]; then
	echo "note: $skipped test(s) skipped; each says why above"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
