#!/usr/bin/python3
"""Adds a lexical shortlist to a stele translation model (models/FORMAT.md, "Lexical shortlist").

    scripts/shortlist.py MODEL.safetensors OUT.safetensors --corpus build/corpus/ui-en-fr \
        [--k 50] [--frequent 200] [--score dice|cond] [--no-copy]

The parallel training text (CORPUS/train.en, CORPUS/train.fr) is tokenized with the model's own
SentencePiece tokenizer (its tokenizer.spm tensor). For every source piece s the candidates are
the k target pieces t with the best association score among those seen in the same sentence pair
(presence per pair, not token counts, so a long sentence does not weigh more):
  dice:  2 c(s, t) / (c(s) + c(t))       (c = number of pairs containing the piece(s))
  cond:  c(s, t) / c(s)                  (p(t | s) by co-occurrence)
ties by c(s, t) then the lower id; pieces of the "always" set are not counted against k (they
are in every sentence's shortlist anyway). With copy (the default) s itself is a candidate of s
(source and target share one vocabulary: names, numbers and placeholders are copied). The
"always" set is the `frequent` most frequent target pieces (token counts) and the four special
ids (pad, unk, bos, eos).

The output is the input file with three tensors ADDED: the existing tensors' bytes and offsets
and the metadata are kept byte for byte (the header is rewritten with the new entries; their
data is appended, 8-byte aligned, after the existing data). Works on any dtype the input holds
(F32 today, int8 models later): nothing else is read but tokenizer.spm and the config.
"""
import argparse, json, os, struct, sys
import numpy as np

NAMES = ("shortlist.offsets", "shortlist.ids", "shortlist.always")


def read_model(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    return data, n, header


def tensor_bytes(data, n, entry):
    b, e = entry["data_offsets"]
    return data[8 + n + b:8 + n + e]


def associations(src, tgt, V, score):
    """src, tgt: lists of id lists (pairs). Returns (keys s*V+t, scores, pair counts) for every
    co-occurring pair, and the per-piece pair counts of each side."""
    cs = np.zeros(V, np.int64)
    ct = np.zeros(V, np.int64)
    keys = []
    for s, t in zip(src, tgt):
        us = np.unique(np.asarray(s, np.int64))
        ut = np.unique(np.asarray(t, np.int64))
        cs[us] += 1
        ct[ut] += 1
        keys.append((us[:, None] * V + ut[None, :]).ravel())
    keys, cst = np.unique(np.concatenate(keys), return_counts=True)
    s, t = keys // V, keys % V
    if score == "dice":
        sc = 2.0 * cst / (cs[s] + ct[t])
    else:
        sc = cst / cs[s]
    return s, t, sc, cst


def build(sp, corpus, V, k, frequent, score, copy, specials):
    def enc(path):
        with open(path, encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f]
        return sp.encode(lines)
    src = enc(os.path.join(corpus, "train.en"))
    tgt = enc(os.path.join(corpus, "train.fr"))
    if len(src) != len(tgt):
        raise SystemExit(f"{corpus}: train.en has {len(src)} lines, train.fr {len(tgt)}")
    freq = np.bincount(np.concatenate([np.asarray(t, np.int64) for t in tgt if t]), minlength=V)
    order = np.lexsort((np.arange(V), -freq))   # most frequent first, lower id on ties
    always = set(int(i) for i in order[:frequent]) | set(specials)
    s, t, sc, cst = associations(src, tgt, V, score)
    keep = ~np.isin(t, np.fromiter(always, np.int64))
    s, t, sc, cst = s[keep], t[keep], sc[keep], cst[keep]
    # best first within each source piece: by score, then pair count, then lower target id
    o = np.lexsort((t, -cst, -sc, s))
    s, t = s[o], t[o]
    starts = np.searchsorted(s, np.arange(V + 1))
    offsets, ids = [0], []
    for v in range(V):
        cand = set(int(x) for x in t[starts[v]:starts[v + 1]][:k])
        if copy and v not in always:
            cand.add(v)
        ids.extend(sorted(cand))
        offsets.append(len(ids))
    return (np.asarray(offsets, np.int32), np.asarray(ids, np.int32),
            np.asarray(sorted(always), np.int32))


def add_tensors(data, n, header, tensors):
    """The input file with tensors appended (8-byte aligned) and the header rewritten."""
    for name in tensors:
        if name in header:
            raise SystemExit(f"the model already has a tensor {name} (start from a model without "
                             "a shortlist)")
    end = max([e["data_offsets"][1] for k, e in header.items() if k != "__metadata__"] + [0])
    body = bytearray(data[8 + n:8 + n + end])
    for name, a in tensors.items():
        body += b"\0" * (-len(body) % 8)
        b = np.ascontiguousarray(a).astype("<i4").tobytes()
        header[name] = {"dtype": "I32", "shape": list(a.shape),
                        "data_offsets": [len(body), len(body) + len(b)]}
        body += b
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + bytes(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--corpus", required=True, help="folder with train.en and train.fr")
    ap.add_argument("--k", type=int, default=50, help="candidates per source piece")
    ap.add_argument("--frequent", type=int, default=200, help="most frequent target pieces "
                    "always in the shortlist")
    ap.add_argument("--score", choices=("dice", "cond"), default="dice")
    ap.add_argument("--no-copy", dest="copy", action="store_false",
                    help="do not make each source piece a candidate of itself")
    args = ap.parse_args()
    import sentencepiece as spm
    data, n, header = read_model(args.model)
    meta = header.get("__metadata__", {})
    cfg = json.loads(meta.get("config", "{}"))
    if cfg.get("task", "translate") != "translate" or "tokenizer.spm" not in header:
        raise SystemExit(f"{args.model}: not a text translation model")
    V = int(cfg["tgt_vocab"])
    sp = spm.SentencePieceProcessor(model_proto=tensor_bytes(data, n, header["tokenizer.spm"]))
    if sp.get_piece_size() != V:
        raise SystemExit(f"tokenizer has {sp.get_piece_size()} pieces, config tgt_vocab {V}")
    specials = [int(cfg[k]) for k in ("pad_id", "unk_id", "bos_id", "eos_id")]
    offsets, ids, always = build(sp, args.corpus, V, args.k, args.frequent, args.score,
                                 args.copy, specials)
    out = add_tensors(data, n, header, dict(zip(NAMES, (offsets, ids, always))))
    with open(args.out, "wb") as f:
        f.write(out)
    print(f"{args.out}: shortlist k={args.k} frequent={args.frequent} score={args.score} "
          f"copy={args.copy}: {len(ids)} candidates ({len(ids) / V:.1f} per source piece), "
          f"{len(always)} always", file=sys.stderr)


if __name__ == "__main__":
    main()
