#!/usr/bin/python3
"""The attention study (`make study`): does attention's advantage over the single-vector
baseline grow with source length?

    /usr/bin/python3 scripts/study.py --corpus build/corpus/ui-en-fr --golden tests/golden \
        --models ui-en-fr ui-en-fr-none --out models/ui-en-fr-none/study

Reads the beam-5 outputs that scripts/golden.py already wrote for the whole test split
(tests/golden/<model>.outputs.jsonl, `beam_text`), so nothing is decoded again; the engine's
parity tests check that the C engine produces those same outputs. Test sentences are bucketed by
source length in whitespace-separated words (1-2, 3-5, 6-10, 11-15, 16+). Per bucket: corpus BLEU
and chrF (scripts/bleu.py) of each model and the gap (first model minus second) with a 95 %
paired bootstrap confidence interval: RESAMPLES resamples of the bucket's sentences with
replacement (the same resample for both models, fixed seed), the gap recomputed as a corpus
score on each, the 2.5th and 97.5th percentiles reported (Koehn 2004's paired bootstrap).

Writes OUT.json (every number), OUT.md (the table the cards and README show) and OUT.svg.
"""
import argparse, json, os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bleu import corpus_bleu, corpus_chrf, tok_13a, _ngrams  # noqa: E402
from svgplot import chart  # noqa: E402

BUCKETS = [(1, 2), (3, 5), (6, 10), (11, 15), (16, None)]
RESAMPLES = 1000
SEED = 1
CHRF_ORDER, CHRF_BETA = 6, 2.0


def label(lo, hi):
    return f"{lo}–{hi}" if hi else f"{lo}+"


def sentence_stats(hyps, refs):
    """Per-sentence sufficient statistics, so that a resample's corpus score is a sum:
    BLEU: matches[4], totals[4], hyp length, ref length; chrF: matches, hyp and ref n-gram counts
    for n = 1..6 (the same counts scripts/bleu.py sums over the corpus)."""
    bleu = np.zeros((len(hyps), 10), dtype=np.int64)
    chrf = np.zeros((len(hyps), 3 * CHRF_ORDER), dtype=np.int64)
    for i, (h, r) in enumerate(zip(hyps, refs)):
        ht, rt = tok_13a(h), tok_13a(r)
        for n in range(1, 5):
            hn, rn = _ngrams(ht, n), _ngrams(rt, n)
            bleu[i, n - 1] = sum(min(k, rn[g]) for g, k in hn.items())
            bleu[i, 4 + n - 1] = max(len(ht) - n + 1, 0)
        bleu[i, 8], bleu[i, 9] = len(ht), len(rt)
        hs, rs = "".join(h.split()), "".join(r.split())
        for n in range(1, CHRF_ORDER + 1):
            hc, rc = _ngrams(list(hs), n), _ngrams(list(rs), n)
            chrf[i, n - 1] = sum(min(k, rc[g]) for g, k in hc.items())
            chrf[i, CHRF_ORDER + n - 1] = sum(hc.values())
            chrf[i, 2 * CHRF_ORDER + n - 1] = sum(rc.values())
    return bleu, chrf


def bleu_from(s):
    """Corpus BLEU from summed statistics s [..., 10], as scripts/bleu.py computes it."""
    match, total, c, r = s[..., :4], s[..., 4:8], s[..., 8], s[..., 9]
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(match / np.maximum(total, 1)).mean(axis=-1)
        score = np.where((c == 0) | (match.min(axis=-1) == 0), 0.0, 100.0 * np.exp(logp))
        bp = np.where(c > r, 1.0, np.where(c > 0, np.exp(1 - r / np.maximum(c, 1)), 0.0))
    return score * bp


def chrf_from(s):
    """Corpus chrF from summed statistics s [..., 18], as scripts/bleu.py computes it."""
    m, hn, rn = s[..., :CHRF_ORDER], s[..., CHRF_ORDER:2 * CHRF_ORDER], s[..., 2 * CHRF_ORDER:]
    valid = (hn > 0) & (rn > 0)
    k = valid.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(valid, m / np.maximum(hn, 1), 0.0).sum(axis=-1) / np.maximum(k, 1)
        r = np.where(valid, m / np.maximum(rn, 1), 0.0).sum(axis=-1) / np.maximum(k, 1)
        f = (1 + CHRF_BETA ** 2) * p * r / (CHRF_BETA ** 2 * p + r)
    return np.where((k == 0) | (p + r == 0), 0.0, 100.0 * f)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True, help="folder with test.en / test.fr")
    ap.add_argument("--golden", default="tests/golden")
    ap.add_argument("--models", nargs=2, default=["ui-en-fr", "ui-en-fr-none"],
                    help="the attention model, then the baseline")
    ap.add_argument("--src", default="en")
    ap.add_argument("--tgt", default="fr")
    ap.add_argument("--out", required=True, help="path prefix: OUT.json, OUT.md, OUT.svg")
    args = ap.parse_args(argv)
    read = lambda p: [l.rstrip("\n") for l in open(p, encoding="utf-8")]  # noqa: E731
    src = read(os.path.join(args.corpus, f"test.{args.src}"))
    ref = read(os.path.join(args.corpus, f"test.{args.tgt}"))
    stats, hyps = {}, {}
    for m in args.models:
        recs = [json.loads(l) for l in open(os.path.join(args.golden, f"{m}.outputs.jsonl"),
                                            encoding="utf-8")]
        if [r["src"] for r in recs] != src:
            raise SystemExit(f"{m}.outputs.jsonl does not match {args.corpus}'s test split")
        hyps[m] = [r["beam_text"] for r in recs]
        stats[m] = sentence_stats(hyps[m], ref)
        # the summed statistics must give exactly scripts/bleu.py's corpus scores
        assert abs(bleu_from(stats[m][0].sum(0)) - corpus_bleu(hyps[m], ref)["bleu"]) < 1e-9
        assert abs(chrf_from(stats[m][1].sum(0)) - corpus_chrf(hyps[m], ref)) < 1e-9
    a, b = args.models
    words = np.array([len(s.split()) for s in src])
    rng = np.random.default_rng(SEED)
    rows = []
    for lo, hi in BUCKETS + [(1, None)]:
        idx = np.nonzero((words >= lo) & ((words <= hi) if hi else True))[0]
        if len(idx) == 0:
            continue    # no sentence this long: no score, no interval
        row = {"words": label(lo, hi) if (lo, hi) != (1, None) else "all", "sentences": len(idx)}
        # one set of resampled indices per bucket, shared by both models and both metrics
        boot = idx[rng.integers(0, len(idx), size=(RESAMPLES, len(idx)))]
        for metric, k, fn in (("bleu", 0, bleu_from), ("chrf", 1, chrf_from)):
            point = {m: float(fn(stats[m][k][idx].sum(0))) for m in args.models}
            gaps = fn(stats[a][k][boot].sum(1)) - fn(stats[b][k][boot].sum(1))
            lo_ci, hi_ci = np.percentile(gaps, [2.5, 97.5])
            row[metric] = {m: round(point[m], 2) for m in args.models}
            row[metric]["gap"] = round(point[a] - point[b], 2)
            row[metric]["ci95"] = [round(float(lo_ci), 2), round(float(hi_ci), 2)]
        rows.append(row)
    out = {"models": args.models, "search": "beam 5 (tests/golden/<model>.outputs.jsonl)",
           "test_sentences": len(src), "resamples": RESAMPLES, "seed": SEED, "buckets": rows}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    json.dump(out, open(args.out + ".json", "w"), indent=1, ensure_ascii=False)

    L = [f"## Study: attention (`{a}`) vs a single vector (`{b}`) by source length", "",
         f"Beam-5 outputs of both models on the {len(src):,} test sentences (the goldens in "
         f"`tests/golden/`, which the C engine reproduces), bucketed by source words. Gap = "
         f"`{a}` − `{b}`; 95 % CI: paired bootstrap, {RESAMPLES} resamples of each bucket, seed "
         f"{SEED} (`make study`, scripts/study.py).", "",
         f"| source words | sentences | BLEU `{a}` | BLEU `{b}` | BLEU gap [95 % CI] "
         f"| chrF `{a}` | chrF `{b}` | chrF gap [95 % CI] |",
         "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r["words"], str(r["sentences"])]
        for metric in ("bleu", "chrf"):
            v = r[metric]
            cells += [f"{v[a]:.2f}", f"{v[b]:.2f}",
                      f"{v['gap']:+.2f} [{v['ci95'][0]:+.2f}, {v['ci95'][1]:+.2f}]"]
        if r["words"] == "all":
            cells = [f"**{c}**" for c in cells]
        L.append("| " + " | ".join(cells) + " |")
    L += ["", "![BLEU and chrF by source length for both models, and the gap with its 95 % "
              "confidence interval](study.svg)"]
    open(args.out + ".md", "w", encoding="utf-8").write("\n".join(L) + "\n")

    br = rows[:-1]
    xt = [(i, f"{r['words']} (n={r['sentences']})") for i, r in enumerate(br)]
    x = list(range(len(br)))
    panels = [{"title": "beam-5 score by source length", "xlabel": "source words",
               "ylabel": "score", "xticks": xt,
               "series": [{"label": f"BLEU {a}", "x": x, "y": [r["bleu"][a] for r in br],
                           "color": "#1f77b4"},
                          {"label": f"BLEU {b}", "x": x, "y": [r["bleu"][b] for r in br],
                           "color": "#d62728"},
                          {"label": f"chrF {a}", "x": x, "y": [r["chrf"][a] for r in br],
                           "color": "#1f77b4", "dash": True},
                          {"label": f"chrF {b}", "x": x, "y": [r["chrf"][b] for r in br],
                           "color": "#d62728", "dash": True}]},
              {"title": f"gap ({a} − {b}), 95 % CI", "xlabel": "source words",
               "ylabel": "score difference", "xticks": xt, "hline": 0.0,
               "series": [{"label": "BLEU gap", "x": [v - 0.08 for v in x],
                           "y": [r["bleu"]["gap"] for r in br],
                           "lo": [r["bleu"]["ci95"][0] for r in br],
                           "hi": [r["bleu"]["ci95"][1] for r in br], "color": "#2ca02c"},
                          {"label": "chrF gap", "x": [v + 0.08 for v in x],
                           "y": [r["chrf"]["gap"] for r in br],
                           "lo": [r["chrf"]["ci95"][0] for r in br],
                           "hi": [r["chrf"]["ci95"][1] for r in br], "color": "#9467bd",
                           "dash": True}]}]
    open(args.out + ".svg", "w").write(chart(panels, width=1000, height=340))
    print("\n".join(L[4:-2]))


if __name__ == "__main__":
    main()
