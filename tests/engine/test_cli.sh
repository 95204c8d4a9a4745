#!/bin/bash
# The native CLI: output contract (one line per input, nothing else on stdout), --json, --align,
# stdin input, info, error and usage exit codes.
set -u
STELE=${1:-build/stele}
M=tests/golden/tiny/bilstm-general-luong.safetensors
fail=0
check() {  # check NAME EXPECTED_RC ACTUAL_RC
    if [ "$2" != "$3" ]; then echo "FAIL cli: $1 (exit $3, expected $2)"; fail=1; else echo "ok   cli: $1"; fi
}
out=$($STELE translate -m $M "the dog" "open the box" 2>/dev/null); rc=$?
check "two TEXT arguments" 0 $rc
n=$($STELE translate -m $M "the dog" "open the box" 2>/dev/null | wc -l)
[ "$n" = 2 ] || { echo "FAIL cli: expected 2 lines, got $n"; fail=1; }
out2=$(printf 'the dog\nopen the box\n' | $STELE translate -m $M); rc=$?
check "stdin lines" 0 $rc
[ "$out" = "$out2" ] || { echo "FAIL cli: stdin and arguments differ"; fail=1; }
g1=$($STELE translate -m $M --beam 1 "the dog"); rc=$?
check "--beam 1 (greedy)" 0 $rc
j=$($STELE translate -m $M --json --align --nbest 3 "the dog"); rc=$?
check "--json --align --nbest 3" 0 $rc
printf '%s\n' "$j" | /usr/bin/python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
assert {"text", "pieces", "score", "nbest", "attention", "alignment"} <= set(o), o.keys()
assert len(o["nbest"]) == 3 and len(o["attention"]) == len(o["pieces"])
' || { echo "FAIL cli: --json output"; fail=1; }
$STELE info $M >/dev/null; check "info" 0 $?
$STELE translate -m $M $'bad \xff text' >/dev/null 2>/tmp/stele_cli_err.$$; rc=$?
check "invalid UTF-8 -> exit 1" 1 $rc
grep -q '^STELE_ERR_TEXT: ' /tmp/stele_cli_err.$$ || { echo "FAIL cli: error format"; fail=1; }
rm -f /tmp/stele_cli_err.$$
$STELE translate -m /nonexistent "x" >/dev/null 2>&1; check "missing model -> exit 1" 1 $?
$STELE translate "x" >/dev/null 2>&1; check "no -m -> usage exit 2" 2 $?
$STELE translate -m $M --beam 2 --nbest 3 x >/dev/null 2>&1; check "nbest > beam -> exit 2" 2 $?
$STELE frobnicate >/dev/null 2>&1; check "unknown command -> exit 2" 2 $?
# --batch: the same lines, in order, as one by one (a blank line and a bad line included: the
# bad line's chunk falls back to one by one, so its error and the other lines are unchanged).
# Translations and alignments, not --json: the AVX2 kernels sum a batch's rows in another order,
# so scores may differ in their last bits.
in=$'the dog\n\nopen the box\nthe cat\nclose the box\nthe dog and the cat'
b1=$(printf '%s\n' "$in" | $STELE translate -m $M --beam 1 --align); rc1=$?
b2=$(printf '%s\n' "$in" | $STELE translate -m $M --beam 1 --align --batch 3); rc2=$?
check "--batch 3 (greedy)" 0 $rc2
[ "$b1" = "$b2" ] && [ $rc1 = 0 ] || { echo "FAIL cli: --batch output differs from one by one"; fail=1; }
b1=$(printf '%s\n' "$in" $'bad \xff' "the cat" | $STELE translate -m $M --beam 1 2>/dev/null); rc1=$?
b2=$(printf '%s\n' "$in" $'bad \xff' "the cat" | $STELE translate -m $M --beam 1 --batch 4 2>/dev/null); rc2=$?
check "--batch with a bad line -> exit 1" 1 $rc2
[ "$b1" = "$b2" ] || { echo "FAIL cli: --batch with a bad line differs from one by one"; fail=1; }
$STELE translate -m $M --batch 4 x >/dev/null 2>&1; check "--batch without --beam 1 -> exit 2" 2 $?
$STELE translate -m $M --beam 1 --batch 0 x >/dev/null 2>&1; check "--batch 0 -> exit 2" 2 $?
exit $fail
