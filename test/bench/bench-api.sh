#!/bin/bash
# API cost against the stand-in API server (test/apiserver): requests per
# profile change, requests at steady state, and many agent processes on this
# machine reacting to one ConfigMap change (test/bench/api.py).
#
# Knobs: BENCH_API_AGENTS (default 200), BENCH_API_RESYNC_S (default 10),
# BENCH_API_WINDOW_S (default 35), BENCH_API_JITTER_S (default 20),
# BENCH_API_CHANGES (default 4).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_profiled
command -v openssl >/dev/null || { echo "SKIP: openssl missing (the stand-in needs it)"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/profiled-bench-api.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 "$BENCH_DIR/api.py" "$PROFILED" "$work" "${BENCH_API_AGENTS:-200}" \
	"${BENCH_API_RESYNC_S:-10}" "${BENCH_API_WINDOW_S:-35}" "${BENCH_API_JITTER_S:-20}" \
	"${BENCH_API_CHANGES:-4}"
