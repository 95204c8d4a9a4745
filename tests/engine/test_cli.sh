#!/bin/bash
# The native CLI: output contract (one line per input, nothing else on stdout), --json, --align,
# stdin input, info, error and usage exit codes, help, named models and `stele models`.
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
# confidence: per-piece log-probabilities (mean = mean_logp, sum = logp, probabilities in (0, 1])
for beam in 1 4; do
  $STELE translate -m $M --json --beam $beam --nbest 1 "the dog" "open the box" | /usr/bin/python3 -c '
import json, math, sys
for line in sys.stdin:
    o = json.loads(line)
    for h in [o] + o["nbest"]:
        lp = h["token_logp"]
        assert len(lp) == len(h["pieces"]) > 0, h
        assert all(0 < math.exp(x) <= 1 for x in lp), lp
        assert abs(sum(lp) / len(lp) - h["mean_logp"]) < 1e-6, (lp, h["mean_logp"])
        assert abs(sum(lp) - h["logp"]) < 1e-5 * len(lp), (sum(lp), h["logp"])
' || { echo "FAIL cli: --json token_logp / mean_logp (beam $beam)"; fail=1; }
done
# protected spans: a placeholder exactly once (on and off accepted; --no-protect changes nothing
# for text without spans)
o=$($STELE translate -m $M "open %s the box" "close <b>the</b> box"); rc=$?
check "protected spans" 0 $rc
[ "$(printf '%s' "$o" | grep -o '%s' | wc -l)" = 1 ] || { echo "FAIL cli: %s not kept once: $o"; fail=1; }
printf '%s\n' "$o" | tail -n 1 | grep -q '<b>.*</b>' || { echo "FAIL cli: tags not restored: $o"; fail=1; }
$STELE translate -m $M --no-protect "open %s the box" >/dev/null; check "--no-protect" 0 $?
[ "$($STELE translate -m $M --no-protect "the dog")" = "$($STELE translate -m $M "the dog")" ] ||
  { echo "FAIL cli: --no-protect changes text without spans"; fail=1; }
$STELE info $M >/dev/null; check "info" 0 $?
# The kernel set: --version and info name the one a model gets (STELE_KERNELS when set); an unknown
# STELE_KERNELS fails the model load with STELE_ERR_ARGUMENT (exit 1).
v=$($STELE --version); check "--version" 0 $?
k=$($STELE info --json $M | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["kernels"])')
case "${STELE_KERNELS:-}" in scalar) want=scalar ;; avx2) want=avx2+fma ;; *) want=$k ;; esac
[ "$k" = "$want" ] && [ "$v" = "stele ${v#stele }" ] && [ "${v%, kernels $k}" != "$v" ] ||
    { echo "FAIL cli: kernels: info says '$k', --version '$v', STELE_KERNELS '${STELE_KERNELS:-}'"; fail=1; }
STELE_KERNELS=foo $STELE translate -m $M x >/dev/null 2>/tmp/stele_cli_err.$$
check "STELE_KERNELS=foo -> exit 1" 1 $?
grep -q '^STELE_ERR_ARGUMENT: STELE_KERNELS=foo: unknown kernel set' /tmp/stele_cli_err.$$ ||
    { echo "FAIL cli: STELE_KERNELS=foo message: $(cat /tmp/stele_cli_err.$$)"; fail=1; }
STELE_KERNELS=foo $STELE --version >/dev/null 2>&1; check "STELE_KERNELS=foo --version -> exit 1" 1 $?
$STELE translate -m $M $'bad \xff text' >/dev/null 2>/tmp/stele_cli_err.$$; rc=$?
check "invalid UTF-8 -> exit 1" 1 $rc
grep -q '^STELE_ERR_TEXT: ' /tmp/stele_cli_err.$$ || { echo "FAIL cli: error format"; fail=1; }
rm -f /tmp/stele_cli_err.$$
$STELE translate -m /nonexistent "x" >/dev/null 2>&1; check "missing model -> exit 1" 1 $?
$STELE translate "x" >/dev/null 2>&1; check "no -m -> usage exit 2" 2 $?
$STELE translate -m $M --beam 2 --nbest 3 x >/dev/null 2>&1; check "nbest > beam -> exit 2" 2 $?
$STELE frobnicate >/dev/null 2>&1; check "unknown command -> exit 2" 2 $?
# help: to stdout, exit 0, every option with its default, an example
for h in --help -h help "translate --help" "translate -m x -h" "info --help"; do
    out=$($STELE $h 2>/dev/null); rc=$?
    check "stele $h" 0 $rc
    for want in "stele translate" "stele models" "--beam K" "[5]" "--batch N" "65,536 bytes" "examples:"; do
        case "$out" in *"$want"*) ;; *) echo "FAIL cli: stele $h lacks '$want'"; fail=1 ;; esac
    done
done
$STELE 2>/dev/null; check "no command -> usage exit 2" 2 $?
# info: readable lines; --json the engine's JSON
out=$($STELE info $M); check "info (text)" 0 $?
case "$out" in *"encoder     bilstm"*"parameters  "*" tensors ("*) ;; *) echo "FAIL cli: info text: $out"; fail=1 ;; esac
$STELE info --json $M | /usr/bin/python3 -c 'import json, sys; assert json.load(sys.stdin)["config"]' \
    || { echo "FAIL cli: info --json"; fail=1; }
$STELE info $M extra >/dev/null 2>&1; check "info with two models -> exit 2" 2 $?
# named models: $STELE_MODELS first, then ../models beside the binary, then ./models
tmp=$(mktemp -d)
mkdir -p $tmp/models/tiny-a $tmp/models/not-a-model $tmp/cwd
cp $M $tmp/models/tiny-a/model.safetensors
a=$(STELE_MODELS=$tmp/models $STELE translate -m tiny-a "the dog"); check "-m NAME from \$STELE_MODELS" 0 $?
[ "$a" = "$(printf 'the dog\n' | $STELE translate -m $M)" ] || { echo "FAIL cli: -m tiny-a output"; fail=1; }
list=$(STELE_MODELS=$tmp/models $STELE models); check "models" 0 $?
case "$list" in *"tiny-a "*"MiB  $tmp/models/tiny-a/model.safetensors"*) ;; *) echo "FAIL cli: models: $list"; fail=1 ;; esac
case "$list" in *not-a-model*) echo "FAIL cli: models lists a folder without model.safetensors"; fail=1 ;; esac
if [ -f models/dates/model.safetensors ]; then
    # from another directory, the repository's models/ beside build/
    d=$(cd $tmp/cwd && "$OLDPWD/$STELE" translate -m dates "29th March 2042"); check "-m dates from elsewhere" 0 $?
    [ "$d" = 2042-03-29 ] || { echo "FAIL cli: -m dates gave '$d'"; fail=1; }
    (cd $tmp/cwd && "$OLDPWD/$STELE" models) | grep -q "^dates  " || { echo "FAIL cli: models lacks dates"; fail=1; }
    # ./models of the working directory, after the binary's
    mkdir -p $tmp/cwd/models/tiny-b && cp $M $tmp/cwd/models/tiny-b/model.safetensors
    (cd $tmp/cwd && "$OLDPWD/$STELE" translate -m tiny-b "the dog" >/dev/null); check "-m NAME from ./models" 0 $?
fi
$STELE translate -m no-such-model x >/dev/null 2>$tmp/err; check "unknown model name -> exit 1" 1 $?
grep -q '^STELE_ERR_IO: "no-such-model" is neither a model file nor the name of a model; `stele models`' $tmp/err \
    || { echo "FAIL cli: unknown name message: $(cat $tmp/err)"; fail=1; }
STELE_MODELS=$tmp/models $STELE info ../tiny-a >/dev/null 2>&1; check "a path is not looked up as a name" 1 $?
mkdir -p $tmp/lone/bin && cp $STELE $tmp/lone/bin/stele
(cd $tmp/cwd && rm -rf models && STELE_MODELS=$tmp/empty $tmp/lone/bin/stele models >/dev/null 2>&1); check "no models found -> exit 1" 1 $?
rm -rf $tmp
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
# Low confidence (search.low_confidence_logp): copies of $M with the threshold at 0 (every
# non-empty output has logp < 0: flagged), at -1e6 (nothing flagged) and at 1 (refused).
lc=$(mktemp -d)
for v in 0 -1e6 1; do
    /usr/bin/python3 -c '
import json, sys
sys.path.insert(0, "scripts")
import stio
t, m = stio.load(sys.argv[1])
s = json.loads(m.get("search", "{}")); s["low_confidence_logp"] = float(sys.argv[2])
m["search"] = json.dumps(s); stio.save(sys.argv[3], t, m)' $M $v $lc/m$v.safetensors
done
o=$($STELE translate -m $lc/m0.safetensors "the dog" ""); rc=$?
check "low confidence marker" 0 $rc
[ "$o" = "$(printf '%s\t(low confidence)\n' "$($STELE translate -m $M "the dog")")" ] \
    || { echo "FAIL cli: low confidence marker: $o"; fail=1; }
o=$($STELE translate -m $lc/m0.safetensors --json --beam 1 "the dog"; $STELE translate -m $lc/m-1e6.safetensors --json "the dog"; $STELE translate -m $M --json "the dog"; $STELE translate -m $lc/m0.safetensors --json "")
printf '%s\n' "$o" | /usr/bin/python3 -c '
import json, sys
got = [json.loads(l)["low_confidence"] for l in sys.stdin]
assert got == [True, False, False, False], got
' || { echo "FAIL cli: low_confidence in --json"; fail=1; }
[ "$($STELE translate -m $lc/m-1e6.safetensors "the dog")" = "$($STELE translate -m $M "the dog")" ] \
    || { echo "FAIL cli: a threshold nothing is below changed the output"; fail=1; }
$STELE info --json $lc/m0.safetensors | grep -q '"low_confidence_logp": 0' || { echo "FAIL cli: info lacks low_confidence_logp"; fail=1; }
$STELE translate -m $lc/m1.safetensors x >/dev/null 2>&1; check "low_confidence_logp 1 -> refused, exit 1" 1 $?
rm -rf $lc
$STELE translate -m $M --beam 1 --batch 0 x >/dev/null 2>&1; check "--batch 0 -> exit 2" 2 $?
# Issue 16. --json never prints nan/inf (not JSON): a model whose generator.bias gives every
# token but eos a logit of -3e38 has -inf scores in its n-best list; they print as null.
tmp=$(mktemp -d)
/usr/bin/python3 - "$M" "$tmp" <<'PY'
import json, struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
eos = json.loads(h['__metadata__']['config'])['eos_id']
s, e = h['generator.bias']['data_offsets']
for i in range((e - s) // 4):
    struct.pack_into('<f', b, 8 + n + s + 4 * i, 3e38 if i == eos else -3e38)
open(sys.argv[2] + '/inf.safetensors', 'wb').write(b)
struct.pack_into('<f', b, 8 + n + s + 4, float('nan'))
open(sys.argv[2] + '/nan.safetensors', 'wb').write(b)
PY
j=$($STELE translate -m $tmp/inf.safetensors --json --beam 5 --nbest 5 "the dog"); rc=$?
check "--json with -inf scores" 0 $rc
printf '%s\n' "$j" | /usr/bin/python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
assert None in [h["score"] for h in o["nbest"]], o["nbest"]
' || { echo "FAIL cli: --json with non-finite scores is not JSON with null: $j"; fail=1; }
$STELE translate -m $tmp/nan.safetensors x >/dev/null 2>$tmp/err; check "NaN weight -> exit 1" 1 $?
grep -q '^STELE_ERR_WEIGHTS: tensor generator.bias element 1 is NaN' $tmp/err ||
    { echo "FAIL cli: NaN weight message: $(cat $tmp/err)"; fail=1; }
timeout 10 $STELE info /dev/zero >/dev/null 2>$tmp/err; check "info /dev/zero -> exit 1" 1 $?
grep -q '^STELE_ERR_IO: .*device' $tmp/err || { echo "FAIL cli: /dev/zero message"; fail=1; }
# A 64 MiB stdin line is refused without being buffered (a 48 MB address-space limit would make
# a whole-line buffer fail), and the next line is still translated; with --batch too.
for batch in "" "--beam 1 --batch 4"; do
    (ulimit -v 49152; { head -c 67108864 /dev/zero | tr '\0' a; printf '\nthe dog\n'; } |
        $STELE translate -m $M --align $batch >$tmp/out 2>$tmp/err); rc=$?
    check "64 MiB stdin line ${batch:-(one by one)} -> exit 1" 1 $rc
    printf '\n%s\n' "$($STELE translate -m $M --align $batch "the dog")" > $tmp/want
    cmp -s $tmp/out $tmp/want ||
        { echo "FAIL cli: 64 MiB line ${batch}: output $(head -c 200 $tmp/out)"; fail=1; }
    grep -qx "STELE_ERR_LIMIT: input has 67108864 bytes, the session's limit is 65536 (max_text_bytes)" $tmp/err ||
        { echo "FAIL cli: 64 MiB line message: $(head -c 300 $tmp/err)"; fail=1; }
done
rm -rf "$tmp"
exit $fail
