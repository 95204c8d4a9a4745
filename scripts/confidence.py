#!/usr/bin/python3
"""Calibrate a model's low-confidence threshold on its dev split, store it in the model file
(`search.low_confidence_logp`, models/FORMAT.md), and measure the flag on the other splits.

    /usr/bin/python3 scripts/confidence.py --model models/dates/model.safetensors \
        --corpus build/corpus/dates --splits dev test unseen --out models/dates/confidence.json

Rule: decode the dev split with the default search (beam 5, alpha 0.2, beta 0, the model's
length limits: what both CLIs and the JS API do by default); the threshold is the logp of the
correct dev output at rank floor(q * n_correct) from the lowest (q = --quantile, 0.5 %), so at most
0.5 % of the correct dev outputs fall strictly below it and are flagged. Correct dev outputs are
the only calibration data that exists for a model that is (nearly) exact on dev; the wrong
outputs it should catch come from inputs unlike its training data, which dev does not have: the
other splits (test, and `unseen` for dates) measure how many wrong outputs the flag catches and
how many right ones it flags.

Decoding uses the native engine (build/stele translate --json), which reproduces
scripts/search.py token for token (tests/engine/test_shipped.c) and was about 60 times faster
than the PyTorch reference in one measurement on this 2-core machine (beam 5 on the dates model:
0.34 s a sentence in PyTorch, 0.005 s in the engine). Exact match only: the splits are the dates kind, where
one output is right.

Rule "usable" (--rule usable, for ui-en-fr): interface strings have many right translations and
the model's outputs are exact on dev only about one time in five, so exact match cannot be the
criterion (every score has fewer than half its outputs exact). An output counts as usable when its
sentence chrF against the reference is at least --usable-chrf (60: a reviewer edits it rather
than rewriting it). The probability of "usable" given the output's mean log-probability per piece
(mean_logp, eos included; length-independent, unlike the summed logp) is fitted on dev by
logistic regression, and the threshold is the mean_logp where the fit crosses one half: outputs
below it are more likely unusable than usable. It is stored as `search.low_confidence_mean_logp`.
The corpus files are <split>.<src-ext> and <split>.<tgt-ext> (ui-en-fr: en, fr).
"""
import argparse, json, math, os, subprocess, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402
from bleu import corpus_chrf  # noqa: E402


def decode(stele, model, src_path):
    with open(src_path, "rb") as f:
        out = subprocess.run([stele, "translate", "-m", model, "--json"], stdin=f,
                             capture_output=True, check=True).stdout.decode("utf-8")
    return [json.loads(line) for line in out.splitlines()]


def read(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def flag_stats(recs, refs, threshold):
    ok = [r["text"] == t for r, t in zip(recs, refs)]
    low = [r["logp"] < threshold for r in recs]
    wrong = len(ok) - sum(ok)
    return {"sentences": len(ok), "exact_match": round(100.0 * sum(ok) / len(ok), 2),
            "wrong": wrong, "wrong_flagged": sum(1 for o, l in zip(ok, low) if not o and l),
            "correct_flagged": sum(1 for o, l in zip(ok, low) if o and l),
            "flagged": sum(low),
            "wrong_examples": [{"src": r["src"], "ref": t, "hyp": r["text"],
                                "logp": round(r["logp"], 4), "flagged": r["logp"] < threshold}
                               for r, t, o in zip(recs, refs, ok) if not o][:10]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--splits", nargs="+", default=["dev", "test"],
                    help="the first is calibrated on; all are measured")
    ap.add_argument("--quantile", type=float, default=0.005)
    ap.add_argument("--rule", choices=("exact", "usable"), default="exact")
    ap.add_argument("--usable-chrf", type=float, default=60.0)
    ap.add_argument("--src-ext", default="src")
    ap.add_argument("--tgt-ext", default="tgt")
    ap.add_argument("--stele", default="build/stele")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    recs, refs = {}, {}
    for split in args.splits:
        src_path = os.path.join(args.corpus, f"{split}.{args.src_ext}")
        src = read(src_path)
        refs[split] = read(os.path.join(args.corpus, f"{split}.{args.tgt_ext}"))
        recs[split] = decode(args.stele, args.model, src_path)
        if len(recs[split]) != len(src):
            raise SystemExit(f"{split}: {len(recs[split])} outputs for {len(src)} inputs")
        for r, s in zip(recs[split], src):
            r["src"] = s
    cal = args.splits[0]
    if args.rule == "usable":
        return calibrate_usable(args, recs, refs, cal)
    good = sorted(r["logp"] for r, t in zip(recs[cal], refs[cal]) if r["text"] == t)
    if not good:
        raise SystemExit(f"no correct output on {cal}: nothing to calibrate on")
    threshold = good[int(math.floor(args.quantile * len(good)))]
    tensors, meta = stio.load(args.model)
    search = json.loads(meta.get("search", "{}"))
    search["low_confidence_logp"] = threshold
    meta["search"] = json.dumps(search)
    stio.save(args.model, tensors, meta)
    res = {"calibrated_on": cal, "quantile": args.quantile, "low_confidence_logp": threshold,
           "correct_on_calibration_split": len(good),
           "splits": {s: flag_stats(recs[s], refs[s], threshold) for s in args.splits}}
    json.dump(res, open(args.out, "w"), indent=1, ensure_ascii=False)
    print(json.dumps({"low_confidence_logp": threshold,
                      **{s: {k: v for k, v in st.items() if k != "wrong_examples"}
                         for s, st in res["splits"].items()}}, ensure_ascii=False))


def fit_logistic(x, y, iters=100):
    """Maximum-likelihood P(y=1 | x) = sigmoid(a x + b) by Newton's method (x, y 1-D)."""
    X = np.stack([x, np.ones_like(x)], axis=1)
    w = np.zeros(2)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-X @ w))
        grad = X.T @ (y - p)
        hess = (X * (p * (1 - p))[:, None]).T @ X + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w += step
        if np.abs(step).max() < 1e-12:
            break
    return w


def usable_stats(recs, refs, threshold, min_chrf):
    chrf = [corpus_chrf([r["text"]], [t]) for r, t in zip(recs, refs)]
    low = [r["mean_logp"] < threshold and len(r["pieces"]) > 0 for r in recs]
    usable = [c >= min_chrf for c in chrf]
    exact = [r["text"] == t for r, t in zip(recs, refs)]

    def part(sel):
        idx = [i for i, s in enumerate(sel) if s]
        n = len(idx)
        return {"outputs": n,
                "usable_pct": round(100.0 * sum(usable[i] for i in idx) / n, 1) if n else None,
                "exact_pct": round(100.0 * sum(exact[i] for i in idx) / n, 1) if n else None,
                "mean_chrf": round(sum(chrf[i] for i in idx) / n, 1) if n else None}
    return {"sentences": len(recs), "flagged": sum(low),
            "flagged_pct": round(100.0 * sum(low) / len(recs), 1),
            "flagged_part": part(low), "unflagged_part": part([not v for v in low]),
            "unusable_caught_pct": round(100.0 * sum(1 for u, l in zip(usable, low) if not u and l)
                                         / max(1, usable.count(False)), 1)}


def calibrate_usable(args, recs, refs, cal):
    x = np.array([r["mean_logp"] for r in recs[cal]], dtype=np.float64)
    y = np.array([corpus_chrf([r["text"]], [t]) >= args.usable_chrf
                  for r, t in zip(recs[cal], refs[cal])], dtype=np.float64)
    a, b = fit_logistic(x, y)
    if not a > 0:
        raise SystemExit(f"{cal}: usable does not rise with mean_logp (slope {a}): no threshold")
    a, b = float(a), float(b)
    threshold = min(0.0, -b / a)
    tensors, meta = stio.load(args.model)
    search = json.loads(meta.get("search", "{}"))
    search["low_confidence_mean_logp"] = threshold
    meta["search"] = json.dumps(search)
    stio.save(args.model, tensors, meta)
    res = {"rule": "usable", "calibrated_on": cal, "usable_chrf": args.usable_chrf,
           "logistic": {"slope": a, "intercept": b}, "low_confidence_mean_logp": threshold,
           "splits": {s: usable_stats(recs[s], refs[s], threshold, args.usable_chrf)
                      for s in args.splits}}
    json.dump(res, open(args.out, "w"), indent=1, ensure_ascii=False)
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
