#!/usr/bin/python3
"""Golden files for image (caption) models: the C engine's parity tests read them.

    /usr/bin/python3 scripts/golden_caption.py --only tiny       # tests/golden/tiny/caption-tiny.*
    /usr/bin/python3 scripts/golden_caption.py --only shipped    # tests/golden/scenes-caption.*

1. tiny: a random-weight caption model, tests/golden/tiny/caption-tiny.safetensors (a complete
   model file: encoder.type cnn, channels [4, 8], image 84x84x1, 20 words, E 8, Hd 16, A 8, O 12,
   additive attention with the gate, bahdanau, linear bridge; feature grid 21 x 21, S = 441,
   D = 8), and its trace tests/golden/tiny/caption-tiny.trace.safetensors for N = 6
   deterministic images (tiny_images: all zero, all 255, a gradient, noise, blocks, a
   checkerboard). Trace tensors (b = image index; T = Tmax = the longest greedy output; rows
   past an output's length are 0 (floats) / -1 (tokens)):
     images        U8  [N, 84, 84]      the input pixels
     memory        F32 [N, S, D]        CNN memory, l = row * w + col
     init_h/init_c F32 [N, L, Hd]       decoder state after the bridge (L = decoder layers)
     greedy        I32 [N, T]           greedy tokens (incl. eos when reached), -1 padded
     greedy_len    I32 [N]
     greedy_logp   F64 [N]              summed log-probability (float64 log_softmax)
     greedy_score  F64 [N]              GNMT score with the params below
     attn          F32 [N, T, S]        alpha of each greedy step (not gated)
     gate          F32 [N, T]           beta of each greedy step (absent without the gate)
     h, c          F32 [N, T, L, Hd]    decoder state after each greedy step
     o             F32 [N, T, O]        attentional/output vector of each greedy step
     logits        F32 [N, T, V]
     beam          I32 [N, K, Tb]       beam search n-best (K = params.nbest, best first), -1 padded
     beam_len      I32 [N, K]           0 for a missing hypothesis
     beam_logp     F64 [N, K]
     beam_score    F64 [N, K]
   Metadata: params (search parameters, JSON), grid ([h, w]).
2. shipped: for models/scenes-caption (the test split of build/corpus/scenes; written by
   scripts/evaluate_caption.py's run(), which also scores): tests/golden/scenes-caption.outputs.jsonl,
   one line per test scene: {"i", "greedy" (ids incl. eos), "greedy_text", "greedy_score",
   "greedy_logp", "greedy_gaps" (per step: best minus second-best log-probability), "beam" (beam
   5, n-best 1), "beam_text", "beam_score", "beam_logp", "beam_gap" (best minus second-best
   score of the beam's n-best 2)} with the model's search params (len_a 0, len_b 40, alpha 0.2,
   beta 0), and tests/golden/scenes-caption.trace.safetensors:
     images         U8  [N, 84, 84]   every test scene
     greedy         I32 [N, T]        greedy tokens (-1 padded), greedy_len I32 [N]
     greedy_offset  I32 [N]           first row of scene i in attn (= sum of the earlier lengths)
     attn           F32 [R, S]        the greedy outputs' attention rows, RAGGED (to stay small):
                                      scene i's step t is row greedy_offset[i] + t, R = sum(greedy_len)
     beam           I32 [N, Tb]       beam-5 best (-1 padded), beam_len I32 [N]
   Metadata: params (JSON), grid ([h, w]).
"""
import argparse, json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio, search  # noqa: E402
from model import Seq2Seq, merge_config, feature_grid  # noqa: E402
from export import export, load  # noqa: E402
from words import WordVocab, SPECIALS  # noqa: E402

TINY_WORDS = SPECIALS + ["a", "bag", "dress", "sneaker", "shirt", "in", "the", "at", "top",
                         "bottom", "left", "right", "centre", "and", ","]
TINY_CONFIG = {
    "task": "caption",
    "image": {"height": 84, "width": 84, "channels": 1, "mean": 0.25, "std": 0.375},
    "src_vocab": len(TINY_WORDS), "tgt_vocab": len(TINY_WORDS), "emb": 8,
    "encoder": {"type": "cnn", "channels": [4, 8], "position": "learned"},
    "attention": {"score": "additive", "dim": 8, "gate": True},
    "decoder": {"style": "bahdanau", "layers": 1, "hidden": 16, "out": 12, "residual_from": 0,
                "placement": "top"},
    "bridge": "linear", "tie_embeddings": False, "dropout": 0.0,
    "pad_id": 0, "unk_id": 1, "bos_id": 2, "eos_id": 3,
}
TINY_PARAMS = {"beam": 5, "nbest": 5, "alpha": 0.2, "beta": 0.0, "len_a": 0.0, "len_b": 9.0}


def tiny_images():
    """Six deterministic 84x84 u8 images (numpy's legacy RandomState is stable across
    versions)."""
    rs = np.random.RandomState(12)
    yy, xx = np.mgrid[0:84, 0:84]
    imgs = [np.zeros((84, 84), np.uint8), np.full((84, 84), 255, np.uint8),
            ((xx * 3 + yy) % 256).astype(np.uint8),
            rs.randint(0, 256, (84, 84)).astype(np.uint8)]
    blocks = np.zeros((84, 84), np.uint8)
    for _ in range(5):
        r, c = rs.randint(0, 70, 2)
        blocks[r:r + 14, c:c + 14] = rs.randint(100, 256)
    imgs.append(blocks)
    imgs.append((((xx // 7) + (yy // 7)) % 2 * 255).astype(np.uint8))
    return np.stack(imgs)


def pad_rows(rows, width, fill, dtype):
    out = np.full((len(rows), width) + rows[0].shape[1:], fill, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def trace_tensors(model, images, params):
    cfg = model.cfg
    L, Hd, O, V = (cfg["decoder"]["layers"], cfg["decoder"]["hidden"], cfg["decoder"]["out"],
                   cfg["tgt_vocab"])
    per = []
    for img in images:
        memory, keys, state = search.prepare(model, img)
        steps = []
        g = search.greedy(model, img, params, trace=steps)
        # beta of step t is computed from the state BEFORE it (query = s_{t-1}, top layer)
        prev = [state["h"][-1][0]] + [s["h"][-1] for s in steps[:-1]]
        gate = None
        if model.gated:
            with torch.no_grad():
                gate = np.array([float(torch.sigmoid(model.attention.gate(q[None]))[0, 0])
                                 for q in prev], np.float32)
        nb = search.beam_search(model, img, params)
        per.append({"memory": memory[0].numpy(),
                    "init_h": torch.stack([h[0] for h in state["h"]]).numpy(),
                    "init_c": torch.stack([c[0] for c in state["c"]]).numpy(),
                    "greedy": np.array(g["tokens"], np.int32), "logp": g["logp"],
                    "score": g["score"], "gate": gate,
                    "attn": torch.stack([s["attn"] for s in steps]).numpy(),
                    "h": torch.stack([torch.stack(s["h"]) for s in steps]).numpy(),
                    "c": torch.stack([torch.stack(s["c"]) for s in steps]).numpy(),
                    "o": torch.stack([s["o"] for s in steps]).numpy(),
                    "logits": torch.stack([s["logits"] for s in steps]).numpy(),
                    "beam": nb})
    N, T = len(per), max(len(p["greedy"]) for p in per)
    K = int(params["nbest"])
    Tb = max(len(h["tokens"]) for p in per for h in p["beam"])
    t = {"images": np.ascontiguousarray(images, dtype=np.uint8),
         "memory": np.stack([p["memory"] for p in per]),
         "init_h": np.stack([p["init_h"] for p in per]),
         "init_c": np.stack([p["init_c"] for p in per]),
         "greedy": pad_rows([p["greedy"] for p in per], T, -1, np.int32),
         "greedy_len": np.array([len(p["greedy"]) for p in per], np.int32),
         "greedy_logp": np.array([p["logp"] for p in per], np.float64),
         "greedy_score": np.array([p["score"] for p in per], np.float64),
         "attn": pad_rows([p["attn"] for p in per], T, 0, np.float32),
         "h": pad_rows([p["h"] for p in per], T, 0, np.float32),
         "c": pad_rows([p["c"] for p in per], T, 0, np.float32),
         "o": pad_rows([p["o"] for p in per], T, 0, np.float32),
         "logits": pad_rows([p["logits"] for p in per], T, 0, np.float32),
         "beam": np.full((N, K, Tb), -1, np.int32), "beam_len": np.zeros((N, K), np.int32),
         "beam_logp": np.zeros((N, K), np.float64), "beam_score": np.zeros((N, K), np.float64)}
    if model.gated:
        t["gate"] = pad_rows([p["gate"] for p in per], T, 0, np.float32)
    for b, p in enumerate(per):
        for k, h in enumerate(p["beam"]):
            t["beam"][b, k, :len(h["tokens"])] = h["tokens"]
            t["beam_len"][b, k] = len(h["tokens"])
            t["beam_logp"][b, k] = h["logp"]
            t["beam_score"][b, k] = h["score"]
    return t


GEN_SCALE = 3.0


def make_tiny_model(seed=1212):
    torch.manual_seed(seed)
    model = Seq2Seq(merge_config(TINY_CONFIG))
    with torch.no_grad():   # larger weights than PyTorch's init: peaked, varied attention
        for name, p in model.named_parameters():
            p.normal_(0.0, 0.5)
        model.attention.v.weight.mul_(4.0)                   # peaked attention over 441 places
        model.generator.weight.mul_(GEN_SCALE)               # confident steps: long hypotheses win
        model.generator.bias[TINY_CONFIG["eos_id"]] += 4.5   # so that some hypotheses finish
    return model.eval()


def make_tiny(outdir):
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "caption-tiny.safetensors")
    export(make_tiny_model(), TINY_WORDS, path,
           search={"len_a": TINY_PARAMS["len_a"], "len_b": TINY_PARAMS["len_b"]},
           extra={"name": "caption-tiny"})
    model, _, _ = load(path)    # trace the round-tripped model: exactly what C reads
    stio.save(os.path.join(outdir, "caption-tiny.trace.safetensors"),
              trace_tensors(model, tiny_images(), TINY_PARAMS),
              {"params": json.dumps(TINY_PARAMS), "grid": json.dumps(feature_grid(model.cfg))})
    print(f"tiny caption: {path}", file=sys.stderr)


def make_shipped(models_dir, corpus_dir, outdir, name="scenes-caption"):
    """Goldens of the shipped caption model on its whole test split (evaluate_caption.run)."""
    import evaluate_caption
    path = os.path.join(models_dir, name, "model.safetensors")
    if not os.path.exists(path):
        print(f"{path}: missing, no caption goldens written", file=sys.stderr)
        return
    model, vocab, meta = load(path)
    z = np.load(os.path.join(corpus_dir, "scenes", "test.npz"))
    with open(os.path.join(corpus_dir, "scenes", "test.txt"), encoding="utf-8") as f:
        refs = [line.split() for line in f]
    evaluate_caption.run(model, vocab, meta, z["images"], refs, os.path.join(outdir, name))
    print(f"shipped {name}: {len(refs)} test scenes", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/golden")
    ap.add_argument("--models", default="models")
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--only", choices=["tiny", "shipped"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.only in (None, "tiny"):
        make_tiny(os.path.join(args.out, "tiny"))
    if args.only in (None, "shipped"):
        make_shipped(args.models, args.corpus, args.out)


if __name__ == "__main__":
    main()
