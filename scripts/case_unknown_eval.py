#!/usr/bin/python3
"""Inputs as people type them: ALL CAPS, Title Case and text with emoji/symbols, translated by the
native CLI with input normalization on (the default) and off (--no-normalize), scored with
case-insensitive BLEU (scripts/bleu.py, both sides lower-cased) against the reference and against
the raw output of the original text. Inserted symbols and " ⁇ " are removed from the outputs before
scoring (the reference has neither); whether each inserted symbol came through is counted apart.

    python3 scripts/case_unknown_eval.py [--model M] [--corpus DIR] [--stele build/stele]
                                         [--beam 1] [--out build/eval]

Prints a Markdown table. Variants of DIR/test.en: orig, upper (str.upper() of everything),
upper-code (upper case outside the spans a program reads: printf and Python placeholders, markup
tags, brace placeholders, escapes and entities, as src/casing.c's protected_len finds them; an
ALL CAPS string in a program keeps "%(name)s" as it is, or the program breaks), title (first
letter of every space-separated word raised), symbols (one of SYMBOLS per sentence, at the start,
the end or between two words, chosen by a seeded generator).
"""
import argparse, os, random, re, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bleu import corpus_bleu  # noqa: E402

SYMBOLS = ["👋", "✓", "📂", "★", "💾", "🔒", "⚠", "✔", "🙂", "→", "©", "™", "€", "♥", "☐", "🚀"]
UNK = "\u2047"


# src/casing.c protected_len: "%(name)" then printf flags and a conversion; markup; braces;
# escapes; entities.
CODE = re.compile(r"%(?:\([A-Za-z0-9_]{0,64}\))?[0-9$.\-+#lhzjtqL]*[^0-9$.\-+#lhzjtqL]|<[^>]*>|"
                  r"\{[^}]*\}|\\.|&[A-Za-z]{1,9};", re.S)


def upper_code(s):
    """s in upper case except its code spans (CODE)."""
    out, at = [], 0
    for m in CODE.finditer(s):
        out += [s[at:m.start()].upper(), m.group(0)]
        at = m.end()
    return "".join(out) + s[at:].upper()


def title(s):
    return " ".join(w[:1].upper() + w[1:] for w in s.split(" "))


def with_symbol(lines, seed=11):
    rng = random.Random(seed)
    out, syms = [], []
    for s in lines:
        sym = SYMBOLS[rng.randrange(len(SYMBOLS))]
        words = s.split(" ")
        where = rng.randrange(3)
        if where == 0:
            words.insert(0, sym)
        elif where == 1 or len(words) < 2:
            words.append(sym)
        else:
            words.insert(rng.randrange(1, len(words)), sym)
        out.append(" ".join(words))
        syms.append(sym)
    return out, syms


def translate(args, lines, normalize):
    cmd = [args.stele, "translate", "-m", args.model, "--beam", str(args.beam)]
    if args.beam == 1:
        cmd += ["--batch", "16"]
    if not normalize:
        cmd.append("--no-normalize")
    r = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True,
                       check=True)
    outs = r.stdout.split("\n")[:len(lines)]
    return [o.split("\t")[0] for o in outs]


def clean(hyps, syms=None):
    out = []
    for i, h in enumerate(hyps):
        if syms:
            h = h.replace(syms[i], " ")
        out.append(" ".join(h.replace(UNK, " ").split()).lower())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/ui-en-fr/model.safetensors")
    ap.add_argument("--corpus", default="build/corpus/ui-en-fr")
    ap.add_argument("--stele", default="build/stele")
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--out", default="build/eval")
    a = ap.parse_args()
    src = open(os.path.join(a.corpus, "test.en"), encoding="utf-8").read().split("\n")
    ref = open(os.path.join(a.corpus, "test.fr"), encoding="utf-8").read().split("\n")
    src, ref = src[:len(src) - (src[-1] == "")], ref[:len(src) - (src[-1] == "")]
    ref = [r.lower() for r in ref[:len(src)]]
    sym_src, syms = with_symbol(src)
    variants = {"orig": (src, None), "upper": ([s.upper() for s in src], None),
                "upper-code": ([upper_code(s) for s in src], None),
                "title": ([title(s) for s in src], None), "symbols": (sym_src, syms)}
    os.makedirs(a.out, exist_ok=True)
    raw_orig = None
    rows = []
    for norm in (False, True):
        for name, (lines, sy) in variants.items():
            hyps = translate(a, lines, norm)
            with open(os.path.join(a.out, f"{name}.{'norm' if norm else 'raw'}.txt"), "w",
                      encoding="utf-8") as f:
                f.write("\n".join(hyps) + "\n")
            c = clean(hyps, sy)
            if raw_orig is None:
                raw_orig = c
            changed = sum(1 for s, v in zip(src, lines) if s != v)
            unk = sum(1 for h in hyps if UNK in h)
            kept = sum(1 for h, s in zip(hyps, sy) if s in h) if sy else None
            rows.append((name, "on" if norm else "off", changed, corpus_bleu(c, ref)["bleu"],
                         corpus_bleu(c, raw_orig)["bleu"], unk, kept))
    print(f"model {a.model}, {len(src)} sentences of {a.corpus}/test.en, beam {a.beam}\n")
    print("| input | normalize | inputs changed | BLEU vs ref | BLEU vs raw orig output "
          "| outputs with ⁇ | symbol kept |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, norm, changed, b, bo, unk, kept in rows:
        print(f"| {name} | {norm} | {changed} | {b:.2f} | {bo:.2f} | {unk} | "
              f"{'' if kept is None else kept} |")


if __name__ == "__main__":
    main()
