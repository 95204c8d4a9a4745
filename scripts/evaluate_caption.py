#!/usr/bin/python3
"""Score an image-captioning model on the scenes test split with the PyTorch reference search
(scripts/search.py, greedy and beam 5), and optionally write the engine's goldens.

    /usr/bin/python3 scripts/evaluate_caption.py --model models/scenes-caption/model.safetensors \
        --corpus build/corpus/scenes --out models/scenes-caption/scores.json \
        [--golden tests/golden/scenes-caption]

Measures, for greedy and for beam 5 (the model's search params: len_a, len_b from the file;
alpha 0.2, beta 0):
  exact      % of captions exactly right (the output words equal the reference caption's);
  items      % of the scenes' items named with the right class and place: the output is read
             back into (cell, class) pairs (scenes.parse_caption; a caption that does not parse
             is read pair by pair with scan_items) and an item counts when its pair is there;
             extra_items counts output pairs that are not in the scene;
  attention  for each item noun (the head noun, the last word of the item's noun phrase) of an
             exactly right caption: the argmax of that word's attention row over the feature grid
             lies inside the item's 3x3 cell. Grid location (r, c) of an n-block CNN covers the
             input pixels [2^n r, 2^n (r + 1)) x [2^n c, 2^n (c + 1)) (each block halves with
             floor; the 84 -> 10 grid drops pixels 80..83), so its centre is 2^n c + (2^n - 1) / 2
             and its cell floor(centre / 28) (cell_of_location). Also reported: the mean
             attention mass that falls on locations of the item's cell;
  confusion  per class: [true class][said class] over items whose cell is named in the output
             (said = the class named there), plus a "missing" column (cell not named).
With --golden PREFIX: PREFIX.outputs.jsonl and PREFIX.trace.safetensors (layout in
scripts/golden_caption.py).
"""
import argparse, json, os, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
import search, stio  # noqa: E402
import scenes  # noqa: E402
from export import load  # noqa: E402
from model import feature_grid, feature_stride  # noqa: E402
from words import detokenize  # noqa: E402

PHRASE_TOKENS = [p.split() for p in scenes.PHRASES]
PLACE_TOKENS = [p.split() for p in scenes.PLACES]


def scan_items(words):
    """(cell, class) pairs of a possibly malformed caption: every noun phrase directly followed
    by a place phrase, anywhere."""
    out, i = [], 0
    while i < len(words):
        hit = None
        for k, ph in sorted(enumerate(PHRASE_TOKENS), key=lambda x: -len(x[1])):
            if words[i:i + len(ph)] == ph:
                j = i + len(ph)
                for c, pl in enumerate(PLACE_TOKENS):
                    if words[j:j + len(pl)] == pl:
                        hit = (c, k, j + len(pl))
                        break
                if hit:
                    break
        if hit:
            out.append(hit[:2])
            i = hit[2]
        else:
            i += 1
    return out


def noun_positions(words):
    """Indices of the head nouns in a well-formed caption, in caption order."""
    pos, i = [], 0
    while i < len(words):
        for ph in sorted(PHRASE_TOKENS, key=lambda p: -len(p)):
            if words[i:i + len(ph)] == ph:
                pos.append(i + len(ph) - 1)
                i += len(ph) - 1
                break
        i += 1
    return pos


def cell_of_location(cfg):
    """[S] -> the 3x3 cell (0..8) holding each grid location's receptive-field centre."""
    h, w = feature_grid(cfg)
    f = feature_stride(cfg)
    cells = np.zeros(h * w, np.int64)
    for r in range(h):
        for c in range(w):
            cy, cx = f * r + (f - 1) / 2, f * c + (f - 1) / 2
            cells[r * w + c] = min(2, int(cy // scenes.CELL)) * 3 + min(2, int(cx // scenes.CELL))
    return cells


def score(outputs, refs, layouts, loc_cell):
    """outputs: [(word list, attention [T, S] numpy)], refs: reference word lists, layouts:
    [(cell, class)] per scene."""
    exact = items = n_items = extra = 0
    att_hit = att_total = 0
    mass = []
    conf = np.zeros((10, 11), np.int64)
    unparsed = 0
    for (words, attn), ref, lay in zip(outputs, refs, layouts):
        ok = words == ref
        exact += ok
        parsed = scenes.parse_caption(" ".join(words))
        if parsed is None:
            unparsed += 1
            parsed = scan_items(words)
        said = dict()
        for c, k in parsed:
            said.setdefault(c, k)
        got = set(parsed)
        for c, k in lay:
            n_items += 1
            items += (c, k) in got
            conf[k, said.get(c, 10)] += 1
        extra += len(got - set(lay))
        if ok:
            for (c, k), p in zip(sorted(lay), noun_positions(words)):
                att_total += 1
                att_hit += int(loc_cell[int(np.argmax(attn[p]))] == c)
                mass.append(float(attn[p][loc_cell == c].sum()))
    n = len(outputs)
    return {"scenes": n, "exact": round(100.0 * exact / n, 2), "exact_count": exact,
            "items": round(100.0 * items / n_items, 2), "items_right": items, "items_total": n_items,
            "extra_items": extra, "unparsed": unparsed,
            "attention_in_cell": round(100.0 * att_hit / max(att_total, 1), 2),
            "attention_nouns": att_total, "attention_in_cell_count": att_hit,
            "attention_mass_in_cell": round(100.0 * float(np.mean(mass)) if mass else 0.0, 2),
            "confusion": conf.tolist()}


def run(model, vocab, meta, images, refs, golden=None):
    srch = json.loads(meta.get("search", "{}"))
    p = dict(search.default_params(), **{k: srch[k] for k in ("len_a", "len_b") if k in srch})
    eos = model.cfg["eos_id"]
    greedy_out, beam_out, recs, attn_rows, beam_tok = [], [], [], [], []
    t0 = time.time()
    for i, img in enumerate(images):
        steps = []
        g = search.greedy(model, img, p, trace=steps)
        gaps = []
        for s in steps:
            top = torch.topk(torch.log_softmax(s["logits"].double(), 0), 2).values
            gaps.append(round(float(top[0] - top[1]), 6))
        nb = search.beam_search(model, img, dict(p, beam=5, nbest=2))
        gw = [vocab.words[t] for t in g["tokens"] if t != eos]
        bw = [vocab.words[t] for t in nb[0]["tokens"] if t != eos]
        greedy_out.append((gw, g["attention"].numpy()))
        beam_out.append((bw, nb[0]["attention"].numpy()))
        attn_rows.append(g["attention"].numpy())
        beam_tok.append(nb[0]["tokens"])
        recs.append({"i": i, "greedy": g["tokens"], "greedy_text": vocab.decode(g["tokens"]),
                     "greedy_score": g["score"], "greedy_logp": g["logp"], "greedy_gaps": gaps,
                     "beam": nb[0]["tokens"], "beam_text": vocab.decode(nb[0]["tokens"]),
                     "beam_score": nb[0]["score"], "beam_logp": nb[0]["logp"],
                     "beam_gap": nb[0]["score"] - nb[1]["score"] if len(nb) > 1 else None})
        if (i + 1) % 100 == 0:
            print(f"  {i + 1}/{len(images)} scenes ({time.time() - t0:.0f} s)", file=sys.stderr)
    if golden:
        os.makedirs(os.path.dirname(os.path.abspath(golden)), exist_ok=True)
        with open(golden + ".outputs.jsonl", "w", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r) + "\n")
        glen = np.array([len(r["greedy"]) for r in recs], np.int32)
        T = int(glen.max())
        Tb = max(len(t) for t in beam_tok)
        greedy = np.full((len(recs), T), -1, np.int32)
        beam = np.full((len(recs), Tb), -1, np.int32)
        for i, r in enumerate(recs):
            greedy[i, :glen[i]] = r["greedy"]
            beam[i, :len(beam_tok[i])] = beam_tok[i]
        stio.save(golden + ".trace.safetensors",
                  {"images": np.ascontiguousarray(images, np.uint8), "greedy": greedy,
                   "greedy_len": glen,
                   "greedy_offset": np.concatenate([[0], np.cumsum(glen)[:-1]]).astype(np.int32),
                   "attn": np.concatenate(attn_rows).astype(np.float32), "beam": beam,
                   "beam_len": np.array([len(t) for t in beam_tok], np.int32)},
                  {"params": json.dumps(dict(p, beam=5, nbest=1)),
                   "grid": json.dumps(feature_grid(model.cfg))})
    return p, greedy_out, beam_out, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", help="scores.json")
    ap.add_argument("--golden", help="prefix of the golden files to write (tests/golden/scenes-caption)")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, vocab, meta = load(args.model)
    z = np.load(os.path.join(args.corpus, f"{args.split}.npz"))
    n = args.limit or len(z["n"])
    images = z["images"][:n]
    lay = {k: z[k][:n] for k in ("n", "cell", "cls")}
    layouts = [scenes.items_of(lay, s) for s in range(n)]
    with open(os.path.join(args.corpus, f"{args.split}.txt"), encoding="utf-8") as f:
        refs = [line.split() for line in f][:n]
    p, g, b, secs = run(model, vocab, meta, images, refs, args.golden)
    loc_cell = cell_of_location(model.cfg)
    res = {"split": args.split, "scenes": n, "params": dict(p, beam=5, nbest=1),
           "greedy": score(g, refs, layouts, loc_cell), "beam5": score(b, refs, layouts, loc_cell),
           "classes": scenes.CLASSES, "reference_seconds": round(secs, 1),
           "examples": [{"i": i, "ref": detokenize(refs[i]), "hyp": detokenize(b[i][0])}
                        for i in range(min(8, n))]}
    for k in ("greedy", "beam5"):
        r = res[k]
        print(f"{k}: exact {r['exact']}% items {r['items']}% attention in cell "
              f"{r['attention_in_cell']}% (mass {r['attention_mass_in_cell']}%)", file=sys.stderr)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
