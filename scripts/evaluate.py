#!/usr/bin/python3
"""Evaluate an exported model (the .safetensors file alone) on its test split and write the
scores JSON and the model card (models/<name>/README.md).

Metrics: exact match (dates), corpus BLEU and chrF (scripts/bleu.py) for greedy and beam-5
search, BLEU by source-length bucket, and for ui-en-fr a translation-memory baseline: for each
test source, the training pair whose source shares the most character 3-grams (Dice coefficient
over the sets of 3-grams of " " + source + " "; ties to the earliest training pair) gives its
target as the translation.
"""
import argparse, collections, json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import search  # noqa: E402
from bleu import corpus_bleu, corpus_chrf  # noqa: E402
from export import load  # noqa: E402

# the same buckets as scripts/study.py, so the card's table and the study line up
BUCKETS = [(1, 2), (3, 5), (6, 10), (11, 15), (16, 10 ** 9)]


def trigrams(s):
    s = f" {s.lower()} "
    return {s[i:i + 3] for i in range(len(s) - 2)}


def translation_memory(train_src, train_tgt, test_src):
    index = collections.defaultdict(list)
    grams = [trigrams(s) for s in train_src]
    for i, g in enumerate(grams):
        for t in g:
            index[t].append(i)
    out = []
    for s in test_src:
        q = trigrams(s)
        overlap = collections.Counter()
        for t in q:
            for i in index.get(t, ()):
                overlap[i] += 1
        best, best_score = 0, -1.0
        for i, o in overlap.items():
            d = 2.0 * o / (len(q) + len(grams[i]))
            if d > best_score or (d == best_score and i < best):
                best, best_score = i, d
        out.append(train_tgt[best])
    return out


def translate_all(model, sp, lines, params, beam):
    eos = model.cfg["eos_id"]
    out = []
    for text in lines:
        ids = sp.encode(text) + [eos]
        if beam == 1:
            toks = search.greedy(model, ids, params)["tokens"]
        else:
            toks = search.beam_search(model, ids, dict(params, beam=beam, nbest=1))[0]["tokens"]
        out.append(sp.decode([t for t in toks if t != eos]))
    return out


def by_bucket(src, hyps, refs):
    rows = []
    for lo, hi in BUCKETS:
        idx = [i for i, s in enumerate(src) if lo <= len(s.split()) <= hi]
        if idx:
            b = corpus_bleu([hyps[i] for i in idx], [refs[i] for i in idx])["bleu"]
            rows.append({"words": f"{lo}-{hi}" if hi < 10 ** 9 else f"{lo}+", "sentences": len(idx),
                         "bleu": round(b, 2)})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=0, help="first N test sentences only")
    ap.add_argument("--outputs", help="reuse the reference outputs in this .outputs.jsonl (written "
                    "by scripts/golden.py with the same search) instead of decoding again")
    args = ap.parse_args()
    conf = json.load(open(args.config))
    model, sp, meta = load(args.model)
    fs, ft = conf["files"]["src"], conf["files"]["tgt"]

    def read(split, side):
        with open(os.path.join(args.corpus, f"{split}.{side}"), encoding="utf-8") as f:
            return [l.rstrip("\n") for l in f]
    src, ref = read("test", fs), read("test", ft)
    if args.limit:
        src, ref = src[:args.limit], ref[:args.limit]
    params = dict(search.default_params(), **conf.get("search", {}))
    scores = {"model": conf["name"], "test_sentences": len(src), "search": params}
    recs = None
    if args.outputs:
        recs = [json.loads(l) for l in open(args.outputs, encoding="utf-8")][:len(src)]
        if [r["src"] for r in recs] != src:
            raise SystemExit(f"{args.outputs} does not match the test split")
    for beam, key in ((1, "greedy"), (5, "beam5")):
        t0 = time.time()
        if recs is not None:
            hyps = [r["greedy_text" if beam == 1 else "beam_text"] for r in recs]
        else:
            hyps = translate_all(model, sp, src, params, beam)
        secs = time.time() - t0
        s = {"bleu": round(corpus_bleu(hyps, ref)["bleu"], 2),
             "chrf": round(corpus_chrf(hyps, ref), 2),
             "exact_match": round(100.0 * sum(h == r for h, r in zip(hyps, ref)) / len(ref), 2),
             "pytorch_seconds": None if recs is not None else round(secs, 1)}
        if key == "beam5":
            s["bleu_by_source_words"] = by_bucket(src, hyps, ref)
            scores["examples"] = [{"src": a, "ref": b, "hyp": c}
                                  for a, b, c in list(zip(src, ref, hyps))[:8]]
        scores[key] = s
    if conf.get("corpus") == "ui-en-fr":
        tm = translation_memory(read("train", fs), read("train", ft), src)
        scores["translation_memory"] = {
            "bleu": round(corpus_bleu(tm, ref)["bleu"], 2), "chrf": round(corpus_chrf(tm, ref), 2),
            "bleu_by_source_words": by_bucket(src, tm, ref)}
    training = json.loads(meta.get("training", "{}"))
    scores["training"] = training
    scores["file_bytes"] = os.path.getsize(args.model)
    json.dump(scores, open(args.out, "w"), indent=1, ensure_ascii=False)
    print(json.dumps({k: scores[k] for k in scores if k in ("greedy", "beam5",
                                                              "translation_memory")}))


if __name__ == "__main__":
    main()
