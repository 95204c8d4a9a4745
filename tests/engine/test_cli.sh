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
# --threads N: the same lines in the same order as one thread, each line's error included, on
# 240 lines of 0 to 23 words (lengths shuffled, so the threads finish them out of order), a blank
# line, invalid UTF-8 and a line over the byte limit among them. One by one every sentence is
# decoded alone, so even --json is byte for byte the same; with --batch the slices change which
# sentences share a batch, so (as for --batch above) translations and alignments only.
thtmp=$(mktemp -d)
words=(the dog cat open close box file save document window new folder delete selected)
th_in=$(for i in $(seq 0 239); do n=$(( (i * 7919) % 24 )); l=""
    for j in $(seq 1 $n); do l+="${words[$(( (i + j * 5) % ${#words[@]} ))]} "; done
    echo "${l% }"; [ $i = 60 ] && printf 'bad \xff\n'; [ $i = 120 ] && head -c 70000 /dev/zero | tr '\0' a && echo
    done)
for opts in "--json" "--beam 1 --json" "--beam 1 --align --batch 4"; do
    t1=$(printf '%s\n' "$th_in" | $STELE translate -m $M $opts 2>$thtmp/err1); rc1=$?
    for th in 2 3; do
        t2=$(printf '%s\n' "$th_in" | $STELE translate -m $M $opts --threads $th 2>$thtmp/err2); rc2=$?
        check "--threads $th $opts (a bad line -> exit 1)" 1 $rc2
        [ $rc1 = 1 ] && [ "$t1" = "$t2" ] && [ "$(printf '%s\n' "$t2" | wc -l)" = 242 ] \
            || { echo "FAIL cli: --threads $th $opts output differs from one thread"; fail=1; }
        cmp -s $thtmp/err1 $thtmp/err2 || { echo "FAIL cli: --threads $th $opts: stderr differs"; fail=1; }
    done
done
t1=$($STELE translate -m $M "the dog" "open the box"); t2=$($STELE translate -m $M --threads 0 "the dog" "open the box"); rc=$?
check "--threads 0 (one per CPU), TEXT arguments" 0 $rc
[ "$t1" = "$t2" ] || { echo "FAIL cli: --threads 0 differs"; fail=1; }
rm -rf $thtmp
for bad in 257 -1 1.5 x; do
    $STELE translate -m $M --threads $bad x >/dev/null 2>&1; check "--threads $bad -> exit 2" 2 $?
done
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
# The same per output piece (search.low_confidence_mean_logp): flagged just above the output's
# own mean_logp, not just below it; refused above 0; named by info.
ml=$($STELE translate -m $M --json "the dog" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["mean_logp"])')
for v in above below bad; do
    /usr/bin/python3 -c '
import json, sys
sys.path.insert(0, "scripts")
import stio
t, m = stio.load(sys.argv[1])
ml = float(sys.argv[2]); v = {"above": ml / 2, "below": ml * 2, "bad": 0.5}[sys.argv[3]]
s = json.loads(m.get("search", "{}")); s["low_confidence_mean_logp"] = v
m["search"] = json.dumps(s); stio.save(sys.argv[4], t, m)' $M $ml $v $lc/mean-$v.safetensors
done
o=$($STELE translate -m $lc/mean-above.safetensors --json "the dog"; $STELE translate -m $lc/mean-below.safetensors --json "the dog"; $STELE translate -m $lc/mean-above.safetensors --json "")
printf '%s\n' "$o" | /usr/bin/python3 -c '
import json, sys
got = [json.loads(l)["low_confidence"] for l in sys.stdin]
assert got == [True, False, False], got
' || { echo "FAIL cli: low_confidence_mean_logp in --json"; fail=1; }
$STELE info --json $lc/mean-above.safetensors | grep -q '"low_confidence_mean_logp": -' || { echo "FAIL cli: info lacks low_confidence_mean_logp"; fail=1; }
$STELE translate -m $lc/mean-bad.safetensors x >/dev/null 2>&1; check "low_confidence_mean_logp 0.5 -> refused, exit 1" 1 $?
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
# caption: PGM/PPM images of the tiny caption model's golden trace; greedy captions equal the
# reference's tokens detokenised (scripts/words.py); P6 with R = G = B gives the same; --json;
# unreadable, non-PNM, wrong-size images fail alone (exit 1); usage errors exit 2.
CM=tests/golden/tiny/caption-tiny.safetensors
/usr/bin/python3 - "$tmp" <<'PY' || { echo "FAIL cli: cannot write the caption test images"; fail=1; }
import sys
sys.path.insert(0, 'scripts')
import stio, words
t, _ = stio.load('tests/golden/tiny/caption-tiny.trace.safetensors')
m, _ = stio.load('tests/golden/tiny/caption-tiny.safetensors')
vocab = words.WordVocab.from_bytes(m['tokenizer.words'])
out = sys.argv[1]
with open(out + '/captions.want', 'w') as f:
    for i, (im, g, n) in enumerate(zip(t['images'], t['greedy'], t['greedy_len'])):
        open(f'{out}/img{i}.pgm', 'wb').write(b'P5\n# a comment\n84 84\n255\n' + im.tobytes())
        rgb = bytes(v for p in im.tobytes() for v in (p, p, p))
        open(f'{out}/img{i}.ppm', 'wb').write(b'P6 84 84 255\n' + rgb)
        ws = [vocab.words[x] for x in g[:n] if x not in (0, 2, 3)]
        f.write(words.detokenize(ws) + '\n')
open(out + '/small.pgm', 'wb').write(b'P5\n10 10\n255\n' + bytes(100))
open(out + '/fake.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + bytes(100))
open(out + '/short.pgm', 'wb').write(b'P5\n84 84\n255\n' + bytes(100))
PY
$STELE caption -m $CM --beam 1 $tmp/img[0-5].pgm > $tmp/captions.got; check "caption PGM" 0 $?
cmp -s $tmp/captions.got $tmp/captions.want ||
    { echo "FAIL cli: captions differ from the reference:"; diff $tmp/captions.got $tmp/captions.want; fail=1; }
$STELE caption -m $CM --beam 1 $tmp/img[0-5].ppm > $tmp/captions.ppm; check "caption PPM" 0 $?
cmp -s $tmp/captions.ppm $tmp/captions.want || { echo "FAIL cli: PPM captions differ from PGM"; fail=1; }
j=$($STELE caption -m $CM --json --nbest 2 $tmp/img1.pgm); check "caption --json" 0 $?
printf '%s\n' "$j" | /usr/bin/python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
assert {"text", "tokens", "score", "nbest", "grid", "attention"} <= set(o), o.keys()
h, w = o["grid"]
assert (h, w) == (21, 21) and len(o["attention"]) == len(o["tokens"]) and len(o["nbest"]) == 2
assert all(len(r) == h * w and abs(sum(r) - 1) < 1e-2 for r in o["attention"])
' || { echo "FAIL cli: caption --json output"; fail=1; }
out=$($STELE caption -m $CM $tmp/small.pgm $tmp/nothere.pgm $tmp/fake.png $tmp/short.pgm $tmp/img1.pgm 2>$tmp/err)
check "caption: bad images fail alone -> exit 1" 1 $?
[ "$(printf '%s\n' "$out" | wc -l)" = 5 ] && [ -n "$(printf '%s\n' "$out" | tail -n 1)" ] ||
    { echo "FAIL cli: caption bad images: one line each, the good one captioned: $out"; fail=1; }
for want in 'small.pgm: stele_caption: the image is 10x10 pixels' 'nothere.pgm: cannot read' \
            'fake.png: not a binary PGM (P5) or PPM (P6) image' 'short.pgm: the file ends before'; do
    grep -q "^STELE_ERR_ARGUMENT: .*$want" $tmp/err || { echo "FAIL cli: no '$want' in: $(cat $tmp/err)"; fail=1; }
done
$STELE caption -m $M $tmp/img0.pgm >/dev/null 2>$tmp/err; check "caption with a text model -> exit 1" 1 $?
grep -q "task is translate" $tmp/err || { echo "FAIL cli: caption text model: $(cat $tmp/err)"; fail=1; }
$STELE translate -m $CM "a bag" >/dev/null 2>$tmp/err; check "translate with a caption model -> exit 1" 1 $?
grep -q "task is caption" $tmp/err || { echo "FAIL cli: translate caption model: $(cat $tmp/err)"; fail=1; }
$STELE caption -m $CM 2>/dev/null; check "caption without IMAGE -> exit 2" 2 $?
$STELE caption $tmp/img0.pgm 2>/dev/null; check "caption without -m -> exit 2" 2 $?
$STELE info $CM | grep -q '^encoder     cnn, 2 blocks' || { echo "FAIL cli: info of a caption model"; fail=1; }
# ask: the tiny VQA model's golden questions (tab, "É", upper case) on PGM images of its trace:
# the same answers; --json (top-5, probabilities within 1e-4 of the reference, glimpses over the
# grid); an empty question fails alone (exit 1); other tasks refused; usage errors exit 2.
VM=tests/golden/tiny/vqa-tiny.safetensors
/usr/bin/python3 - "$tmp" <<'PY' || { echo "FAIL cli: cannot write the vqa test images"; fail=1; }
import json, sys
sys.path.insert(0, 'scripts')
import stio
t, meta = stio.load('tests/golden/tiny/vqa-tiny.trace.safetensors')
m, _ = stio.load('tests/golden/tiny/vqa-tiny.safetensors')
answers = m['answers.words'].tobytes().decode().split('\n')
out = sys.argv[1]
for i, im in enumerate(t['images']):
    open(f'{out}/vimg{i}.pgm', 'wb').write(b'P5 84 84 255\n' + im.tobytes())
for i in range(len(t['answer'])):
    open(f'{out}/q{i}.txt', 'wb').write(t['question_bytes'][i][:t['question_len'][i]].tobytes())
    open(f'{out}/a{i}.txt', 'w').write(f"{t['image'][i]} {answers[t['answer'][i]]}\n")
    json.dump([float(p) for p in t['probs'][i]], open(f'{out}/p{i}.json', 'w'))
PY
ok=0
for i in 0 1 2 3 4 5 6 7; do
    read -r img want < $tmp/a$i.txt
    got=$($STELE ask -m $VM $tmp/vimg$img.pgm "$(cat $tmp/q$i.txt)" | head -n 1)
    if [ "$got" = "$want" ]; then ok=$((ok + 1)); else echo "FAIL cli: ask question $i: \"$got\", the reference \"$want\""; fail=1; fi
done
[ $ok = 8 ] && echo "ok   cli: ask: 8/8 golden answers"
n=$($STELE ask -m $VM $tmp/vimg0.pgm "is there a bag?" "where is the dress?" | wc -l)
[ "$n" = 8 ] || { echo "FAIL cli: ask: 2 questions should print 2 x 4 lines, got $n"; fail=1; }
$STELE ask -m $VM --json $tmp/vimg$(cut -d' ' -f1 $tmp/a1.txt).pgm "$(cat $tmp/q1.txt)" > $tmp/ask.json
check "ask --json" 0 $?
/usr/bin/python3 - $tmp/ask.json $tmp/p1.json <<'PY' || { echo "FAIL cli: ask --json output"; fail=1; }
import json, sys
o = json.loads(open(sys.argv[1]).readline())
want = json.load(open(sys.argv[2]))
assert {"answer", "index", "top", "probs", "question", "grid", "glimpses"} <= set(o), o.keys()
assert o["grid"] == [21, 21] and len(o["glimpses"]) == 2 and len(o["top"]) == 5
assert all(len(g) == 441 and abs(sum(g) - 1) < 1e-2 for g in o["glimpses"])
assert o["top"][0]["answer"] == o["answer"] and o["question"][-1] == "?"
assert max(abs(a - b) for a, b in zip(o["probs"], want)) < 1e-4
PY
out=$($STELE ask -m $VM $tmp/vimg0.pgm "" "is there a bag?" 2>$tmp/err)
check "ask: an empty question fails alone -> exit 1" 1 $?
grep -q "^STELE_ERR_ARGUMENT: question 1: stele_answer: empty question" $tmp/err ||
    { echo "FAIL cli: ask empty question: $(cat $tmp/err)"; fail=1; }
[ "$(printf '%s\n' "$out" | wc -l)" = 5 ] || { echo "FAIL cli: ask: empty line + 4 lines expected: $out"; fail=1; }
$STELE ask -m $VM $tmp/small.pgm "is there a bag?" >/dev/null 2>$tmp/err; check "ask: wrong image size -> exit 1" 1 $?
grep -q "stele_answer: the image is 10x10 pixels" $tmp/err || { echo "FAIL cli: ask small image: $(cat $tmp/err)"; fail=1; }
$STELE ask -m $CM $tmp/vimg0.pgm "is there a bag?" >/dev/null 2>$tmp/err; check "ask with a caption model -> exit 1" 1 $?
grep -q "task is caption" $tmp/err || { echo "FAIL cli: ask caption model: $(cat $tmp/err)"; fail=1; }
$STELE caption -m $VM $tmp/vimg0.pgm >/dev/null 2>$tmp/err; check "caption with a vqa model -> exit 1" 1 $?
grep -q "task is vqa" $tmp/err || { echo "FAIL cli: caption vqa model: $(cat $tmp/err)"; fail=1; }
$STELE ask -m $VM $tmp/vimg0.pgm 2>/dev/null; check "ask without QUESTION -> exit 2" 2 $?
$STELE ask $tmp/vimg0.pgm "is there a bag?" 2>/dev/null; check "ask without -m -> exit 2" 2 $?
$STELE info $VM | grep -q '^glimpses    2 (1x1 convolutions, hidden 10)' || { echo "FAIL cli: info of a vqa model"; fail=1; }
rm -rf "$tmp"
exit $fail
