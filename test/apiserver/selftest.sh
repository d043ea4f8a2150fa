#!/usr/bin/env bash
# Self-test of the Kubernetes API server stand-in (urllib and the real kubectl).
# Prints "ok N - ..." / "not ok N - ..." and closes with "N passed, N failed".
exec python3 "$(dirname "${BASH_SOURCE[0]}")/selftest.py" "$@"
