#!/usr/bin/python3
"""The card of an int8 model (scripts/quantize.py): its size, and what the integers cost in
quality against the float model it was made from, on the float model's test split.

    /usr/bin/python3 scripts/int8_card.py --model models/ui-en-fr-int8/model.safetensors \\
        --float-model models/ui-en-fr/model.safetensors --golden tests/golden \\
        --refs build/corpus/ui-en-fr/test.fr --out models/ui-en-fr-int8/README.md

The goldens score every target piece; a model with a lexical shortlist (on by default in the
engine) is also run by the native CLI (--engine, greedy and beam 5, raw text, --json) with its
shortlist, and those outputs get rows of their own. Otherwise no decoding here: the goldens (tests/golden/<name>.outputs.jsonl, scripts/golden.py) hold every
test sentence's greedy and beam-5 output of each model's reference, which the engine reproduces
on the whole split (tests/engine/test_shipped.c), so they are the engine's outputs too."""
import argparse, json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bleu, stio  # noqa: E402
from model_card import licence_section  # noqa: E402


def outputs(path):
    recs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    return ([r["greedy_text"] for r in recs], [r["beam_text"] for r in recs])


def engine_outputs(engine, model, src, beam):
    """The CLI's texts for every line of src (shortlist on: the engine's default)."""
    r = subprocess.run([engine, "translate", "-m", model, "--beam", str(beam), "--json",
                        "--no-normalize", "--no-protect"], stdin=open(src, "rb"),
                       capture_output=True, check=True)
    return [json.loads(l)["text"] for l in r.stdout.decode("utf-8").splitlines()]


def row(label, hyps, refs, float_hyps):
    b, c = bleu.corpus_bleu(hyps, refs)["bleu"], bleu.corpus_chrf(hyps, refs)
    same = sum(h == f for h, f in zip(hyps, float_hyps))
    exact = sum(h == r for h, r in zip(hyps, refs))
    return (f"| {label} | {100.0 * exact / len(refs):.2f} | {b:.2f} | {c:.2f} | "
            f"{same} / {len(refs)} ({100.0 * same / len(refs):.1f} %) |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--float-model", required=True)
    ap.add_argument("--golden", default="tests/golden")
    ap.add_argument("--refs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--src", help="the test split's source lines (with --engine)")
    ap.add_argument("--engine", help="the native CLI, to run the model with its shortlist")
    args = ap.parse_args()
    name = os.path.basename(os.path.dirname(os.path.abspath(args.model)))
    fname = os.path.basename(os.path.dirname(os.path.abspath(args.float_model)))
    tensors, meta = stio.load(args.model)
    refs = [l.rstrip("\n") for l in open(args.refs, encoding="utf-8")]
    qg, qb = outputs(os.path.join(args.golden, f"{name}.outputs.jsonl"))
    fg, fb = outputs(os.path.join(args.golden, f"{fname}.outputs.jsonl"))
    if not (len(refs) == len(qg) == len(fg)):
        raise SystemExit(f"{len(refs)} references, {len(qg)} and {len(fg)} golden outputs")
    size, fsize = os.path.getsize(args.model), os.path.getsize(args.float_model)
    int8 = sorted(n for n, a in tensors.items() if a.dtype.name == "int8")
    int8_bytes = sum(tensors[n].nbytes for n in int8)
    lines = [
        f"# Model card: `{name}`", "",
        f"`{fname}` with its weight matrices stored as **int8** (models/FORMAT.md, \"Int8 "
        f"weights\", format version 2), made from `{fname}`'s file by `scripts/quantize.py` "
        f"(`make int8-{fname}`): each row of each matrix is scaled by its largest magnitude / 127 "
        "and rounded, one float32 scale per row. Same tokenizer, config, search settings and "
        f"low-confidence threshold as [`{fname}`](../{fname}/README.md); not trained again.", "",
        "## Size", "",
        f"- file: **{size:,} bytes** ({size / 2**20:.1f} MiB), against {fsize:,} bytes "
        f"({fsize / 2**20:.1f} MiB) for `{fname}`: {fsize / size:.2f}x smaller",
        f"- {len(int8)} int8 matrices ({int8_bytes:,} bytes): {', '.join(f'`{n}`' for n in int8)}",
        "- float32: the row scales, biases and vectors; the tokenizer and truecasing table as "
        "they were",
        *([f"- the lexical shortlist (`shortlist.*`, I32): "
           f"{sum(a.nbytes for n, a in tensors.items() if n.startswith('shortlist.')):,} bytes"]
          if "shortlist.ids" in tensors else []), "",
        "## Quality against the float model", "",
        f"The {len(refs):,} test sentences of `{fname}`'s split, raw outputs (no input "
        "normalization or placeholder protection, as in the goldens); BLEU and chrF by "
        "scripts/bleu.py. \"Same as float\": outputs identical to the float model's with the same "
        "search.", "",
        "| model, search | exact match % | BLEU | chrF | same as float |",
        "|---|---|---|---|---|",
        row(f"`{fname}` greedy", fg, refs, fg),
        row(f"`{name}` greedy", qg, refs, fg),
        row(f"`{fname}` beam 5", fb, refs, fb),
        row(f"`{name}` beam 5", qb, refs, fb), "",
    ]
    if "shortlist.ids" in tensors and args.engine and args.src:
        sg = engine_outputs(args.engine, args.model, args.src, 1)
        sb = engine_outputs(args.engine, args.model, args.src, 5)
        n = len(tensors["shortlist.ids"])
        lines[-1:-1] = [
            row(f"`{name}` greedy, shortlist", sg, refs, fg),
            row(f"`{name}` beam 5, shortlist", sb, refs, fb)]
        lines += [
            f"With its lexical shortlist (on by default: `shortlist.*`, {n:,} candidates over the "
            f"source pieces and {len(tensors['shortlist.always']):,} pieces always; "
            "scripts/shortlist.py, models/FORMAT.md \"Lexical shortlist\"), each step scores only the "
            "sentence's candidate pieces; the shortlist rows are the native engine's outputs "
            "(`stele translate --json`), \"same as float\" against the float model without one. "
            f"Against this model without its shortlist: greedy {sum(a == b for a, b in zip(sg, qg))}"
            f" / {len(refs)}, beam 5 {sum(a == b for a, b in zip(sb, qb))} / {len(refs)} "
            "identical.", ""]
    lines += [
        "## Parity", "",
        "The reference of this model is the float model its integers stand for (scripts/export.py "
        "`dequantize`: w = q * scale in float32). The engine multiplies the int8 weights with the "
        "activations quantized to 31 bits (src/kernels.h `linear_q8`), so it reproduces that "
        "reference like a float model's: every test sentence's greedy and beam-5 output, logits "
        "within 1e-4 (`make test`: tests/engine/test_shipped.c, native and wasm).", "",
    ]
    # the float model's licence, whose card lists the catalogs (this one does not repeat them)
    where = f"in [`{fname}`'s card](../{fname}/README.md)"
    lines += [l.replace("listed above", f"listed {where}").replace("packages above",
                                                                   f"packages listed {where}")
              for l in licence_section(fname, from_catalogs="corpus" in meta)]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
