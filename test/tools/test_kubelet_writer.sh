#!/usr/bin/env bash
# Self-check for test/tools/kubelet_writer.py (the kubelet AtomicWriter
# simulator).  Usage: test/tools/test_kubelet_writer.sh
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
KW="$HERE/kubelet_writer.py"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubelet_writer_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION CMD...
    local desc=$1; shift
    if "$@"; then ok; else fail "$desc"; fi
}

T="$WORK/vol"          # does not exist yet: writer must create it
A="$WORK/srcA"; B="$WORK/srcB"; C="$WORK/srcC"
mkdir -p "$A" "$B" "$C"
printf 'alpha-1\n' > "$A/alpha"
printf 'beta-1\n'  > "$A/beta"
printf 'alpha-2\n' > "$B/alpha"   # changed
printf 'gamma-1\n' > "$B/gamma"   # added; beta removed
mkdir "$A/subdir"                 # not a regular file: must be ignored

ts_dirs()   { (cd "$T" && ls -1d ..20* 2>/dev/null) || true; }
n_ts_dirs() { ts_dirs | grep -c . || true; }
is_ts_name() { [[ $1 =~ ^\.\.20[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}\.[0-9]+$ ]]; }
mode_of()   { stat -c %a "$1"; }

# ---- payload A -------------------------------------------------------------
out=$("$KW" "$T" "$A" 2>&1) && rc=0 || rc=$?
check "write A exits 0 (rc=$rc)" test "$rc" -eq 0
check "write A prints nothing (got: $out)" test -z "$out"
check "..data is a symlink" test -L "$T/..data"
DATA1=$(readlink "$T/..data")
check "..data -> ..20* timestamp dir (got $DATA1)" is_ts_name "$DATA1"
check "..data target is a real dir" test -d "$T/$DATA1" -a ! -L "$T/$DATA1"
check "ts dir mode 755" test "$(mode_of "$T/$DATA1")" = 755
for k in alpha beta; do
    check "$k is a symlink" test -L "$T/$k"
    check "$k -> ..data/$k" test "$(readlink "$T/$k")" = "..data/$k"
    check "$k content" cmp -s "$A/$k" "$T/$k"
    check "$k file mode 644" test "$(mode_of "$T/$DATA1/$k")" = 644
done
check "non-regular source entry ignored" test ! -e "$T/subdir"
check "no ..data_tmp left" test ! -e "$T/..data_tmp" -a ! -L "$T/..data_tmp"
check "exactly one ts dir after A" test "$(n_ts_dirs)" -eq 1

# ---- same payload again: no-op ---------------------------------------------
out=$("$KW" "$T" "$A" 2>&1) && rc=0 || rc=$?
check "rewrite identical exits 0 silently" test "$rc" -eq 0 -a -z "$out"
check "identical payload keeps ..data target" test "$(readlink "$T/..data")" = "$DATA1"

# ---- missing user-visible link is repaired without a data write (#121472) --
rm "$T/alpha"
"$KW" "$T" "$A"
check "missing alpha link re-created" test "$(readlink "$T/alpha" 2>/dev/null)" = "..data/alpha"
check "repair did not switch ..data" test "$(readlink "$T/..data")" = "$DATA1"

# ---- payload B: beta removed, alpha changed, gamma added -------------------
out=$("$KW" "$T" "$B" 2>&1) && rc=0 || rc=$?
check "write B exits 0 silently" test "$rc" -eq 0 -a -z "$out"
DATA2=$(readlink "$T/..data")
check "..data switched to a new ts dir" test "$DATA2" != "$DATA1"
check "new ..data target is ..20*" is_ts_name "$DATA2"
check "removed key beta: symlink gone" test ! -e "$T/beta" -a ! -L "$T/beta"
check "old ts dir removed" test ! -e "$T/$DATA1"
check "only one ts dir remains" test "$(n_ts_dirs)" -eq 1
check "remaining ts dir is ..data target" test "$(ts_dirs)" = "$DATA2"
check "alpha content updated" cmp -s "$B/alpha" "$T/alpha"
check "alpha still -> ..data/alpha" test "$(readlink "$T/alpha")" = "..data/alpha"
check "gamma added as link" test "$(readlink "$T/gamma" 2>/dev/null)" = "..data/gamma"
check "gamma content" cmp -s "$B/gamma" "$T/gamma"
check "no ..data_tmp left after B" test ! -L "$T/..data_tmp"
visible_entries() { # top-level names not starting with '..'
    local f out=""
    for f in "$T"/* "$T"/.[!.]*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        out="$out${f##*/} "
    done
    printf '%s' "$out"
}
check "visible entries are exactly alpha gamma" test "$(visible_entries)" = "alpha gamma "

# ---- --mode -------------------------------------------------------------------
printf 'gamma-2\n' > "$B/gamma"
"$KW" "$T" "$B" --mode 0600
DATA3=$(readlink "$T/..data")
check "--mode 0600 applied" test "$(mode_of "$T/$DATA3/gamma")" = 600

# ---- intermediate states are observable with --delay-ms --------------------
printf 'gamma-3\n' > "$B/gamma"
"$KW" "$T" "$B" --delay-ms 150 &
pid=$!
saw_two=0
for _ in $(seq 1 200); do
    if [ "$(n_ts_dirs)" -ge 2 ]; then saw_two=1; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
wait "$pid" && rc=0 || rc=$?
check "delayed write exits 0" test "$rc" -eq 0
check "delayed write: old and new ts dirs seen together" test "$saw_two" -eq 1
check "delayed write: one ts dir at the end" test "$(n_ts_dirs)" -eq 1
check "delayed write content" cmp -s "$B/gamma" "$T/gamma"

# ---- --empty ------------------------------------------------------------------
"$KW" "$T" --empty
DATA4=$(readlink "$T/..data")
check "--empty: ..data still a ts link" is_ts_name "$DATA4"
check "--empty: ts dir empty" test -z "$(ls -A "$T/$DATA4")"
check "--empty: key links removed" test ! -L "$T/alpha" -a ! -L "$T/gamma"
check "--empty: one ts dir" test "$(n_ts_dirs)" -eq 1
"$KW" "$T" --empty
check "--empty twice is a no-op" test "$(readlink "$T/..data")" = "$DATA4"

# ---- --empty into a fresh dir still creates ..data --------------------------
"$KW" "$WORK/fresh" --empty
check "--empty on fresh dir creates ..data" is_ts_name "$(readlink "$WORK/fresh/..data" 2>/dev/null)"

# ---- errors -------------------------------------------------------------------
printf 'x\n' > "$C/..bad"
before=$(readlink "$T/..data")
out=$("$KW" "$T" "$C" 2>&1) && rc=0 || rc=$?
check "key starting with '..' rejected (rc=$rc)" test "$rc" -eq 1
check "rejection message on stderr" test -n "$out"
check "rejected write left ..data untouched" test "$(readlink "$T/..data")" = "$before"
"$KW" "$T" 2>/dev/null && rc=0 || rc=$?
check "missing SRC_DIR -> exit 1" test "$rc" -eq 1
"$KW" "$T" "$WORK/nope" 2>/dev/null && rc=0 || rc=$?
check "nonexistent SRC_DIR -> exit 1" test "$rc" -eq 1
"$KW" "$T" "$A" --mode 9z 2>/dev/null && rc=0 || rc=$?
check "bad --mode -> exit 1" test "$rc" -eq 1

echo "kubelet_writer: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
