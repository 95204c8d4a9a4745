#!/usr/bin/python3
"""Golden tensors for the C engine's parity tests (`make golden`).

1. Tiny random-weight models for the config matrix {lstm, bilstm} x {none, dot, general, additive,
   concat} x {bahdanau, luong}, plus `residual` (2+2 layers, residual from layer 2) and `gnmt`
   (bahdanau, gnmt placement, 3 decoder layers, residual from layer 3): each is written as
   tests/golden/tiny/<name>.safetensors (a complete model file, tiny char tokenizer embedded) and
   tests/golden/tiny/<name>.trace.safetensors.
2. For each shipped model in models/: models' few-input traces (tests/golden/<model>.trace.safetensors)
   and the reference greedy and beam outputs for its whole test split
   (tests/golden/<model>.outputs.jsonl).

Trace tensors, for input i (0-based), T = greedy steps, L = decoder layers:
  in{i}.src_ids I32 [S]     source ids incl. eos     in{i}.memory F32 [S, D] encoder outputs
  in{i}.init_h / init_c F32 [L, Hd]                  in{i}.h / in{i}.c F32 [T, L, Hd] after each step
  in{i}.o F32 [T, O]        attentional/output vector in{i}.attn F32 [T, S] (absent for score none)
  in{i}.logits F32 [T, V]   in{i}.greedy I32 [T]       in{i}.greedy_score F64 [1]
  in{i}.beam_tokens I32 [N, Tmax] (-1 padded)         in{i}.beam_scores F64 [N]
Metadata: inputs (JSON list of texts), params (search parameters used for greedy and beam).
"""
import argparse, copy, glob, json, os, sys, tempfile
import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quantize, stio, search  # noqa: E402
from model import Seq2Seq, merge_config  # noqa: E402
from export import export, load  # noqa: E402

TINY_TEXT = ["the quick brown fox jumps over the lazy dog", "Save the document",
             "open a file", "5 March 2019", "zebra yak xylophone", "Quit without saving"]
TINY_INPUTS = ["the dog", "open the box quickly", "a"]
GOLDEN_PARAMS = {"beam": 5, "nbest": 5, "alpha": 0.2, "beta": 0.2, "len_a": 1.5, "len_b": 4.0}


def tiny_tokenizer():
    # Trained inside a temporary folder under RELATIVE names: SentencePiece stores the input and
    # prefix paths in the model, and a random folder name would change the bytes every run.
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)
        try:
            with open("tiny.txt", "w") as f:
                f.write("\n".join(TINY_TEXT) + "\n")
            spm.SentencePieceTrainer.train(
                input="tiny.txt", model_prefix="tiny", model_type="char", vocab_size=60,
                hard_vocab_limit=False, character_coverage=1.0, pad_id=0, unk_id=1, bos_id=2,
                eos_id=3, normalization_rule_name="identity", minloglevel=2)
            return open("tiny.model", "rb").read()
        finally:
            os.chdir(cwd)


def tiny_configs(V):
    out = {}
    for enc in ("lstm", "bilstm"):
        for score in ("none", "dot", "general", "additive", "concat"):
            for style in ("bahdanau", "luong"):
                luong = style == "luong"
                cfg = {"src_vocab": V, "tgt_vocab": V, "emb": 8,
                       "encoder": {"type": enc, "layers": 1, "hidden": 12 if enc == "lstm" else 6,
                                   "residual_from": 0},
                       "attention": {"score": score, "dim": 10},
                       "decoder": {"style": style, "layers": 1, "hidden": 12,
                                   "out": 8 if luong else 10, "residual_from": 0,
                                   "placement": "top"},
                       "bridge": "zero" if (enc, score) == ("lstm", "dot") else "linear",
                       "tie_embeddings": luong, "dropout": 0.0}
                out[f"{enc}-{score}-{style}"] = cfg
    base = copy.deepcopy(out["bilstm-general-luong"])
    base["encoder"].update(layers=2, residual_from=2)
    base["decoder"].update(layers=2, residual_from=2)
    out["residual"] = base
    g = copy.deepcopy(out["bilstm-additive-bahdanau"])
    g["encoder"].update(layers=2, residual_from=2)
    g["decoder"].update(layers=3, residual_from=3, placement="gnmt")
    out["gnmt"] = g
    for cfg in out.values():
        cfg.update(pad_id=0, unk_id=1, bos_id=2, eos_id=3)
    return out


def trace_tensors(model, sp, texts, params):
    t = {}
    for i, text in enumerate(texts):
        ids = sp.encode(text) + [model.cfg["eos_id"]]
        memory, keys, state = search.prepare(model, ids)
        steps = []
        g = search.greedy(model, ids, params, trace=steps)
        t[f"in{i}.src_ids"] = np.array(ids, dtype=np.int32)
        t[f"in{i}.memory"] = memory[0].numpy()
        t[f"in{i}.init_h"] = torch.stack([h[0] for h in state["h"]]).numpy()
        t[f"in{i}.init_c"] = torch.stack([c[0] for c in state["c"]]).numpy()
        t[f"in{i}.h"] = torch.stack([torch.stack(s["h"]) for s in steps]).numpy()
        t[f"in{i}.c"] = torch.stack([torch.stack(s["c"]) for s in steps]).numpy()
        t[f"in{i}.o"] = torch.stack([s["o"] for s in steps]).numpy()
        if steps[0]["attn"] is not None:
            t[f"in{i}.attn"] = torch.stack([s["attn"] for s in steps]).numpy()
        t[f"in{i}.logits"] = torch.stack([s["logits"] for s in steps]).numpy()
        t[f"in{i}.greedy"] = np.array(g["tokens"], dtype=np.int32)
        t[f"in{i}.greedy_score"] = np.array([g["score"]], dtype=np.float64)
        nb = search.beam_search(model, ids, params)
        width = max(len(h["tokens"]) for h in nb)
        bt = np.full((len(nb), width), -1, dtype=np.int32)
        for r, h in enumerate(nb):
            bt[r, :len(h["tokens"])] = h["tokens"]
        t[f"in{i}.beam_tokens"] = bt
        t[f"in{i}.beam_scores"] = np.array([h["score"] for h in nb], dtype=np.float64)
    return t


def make_tiny(outdir):
    os.makedirs(outdir, exist_ok=True)
    sp_bytes = tiny_tokenizer()
    sp = spm.SentencePieceProcessor(model_proto=sp_bytes)
    for n, (name, cfg) in enumerate(sorted(tiny_configs(sp.get_piece_size()).items())):
        torch.manual_seed(1000 + n)
        model = Seq2Seq(merge_config(cfg))
        with torch.no_grad():   # larger weights than PyTorch's init: peaked, varied attention
            for p in model.parameters():
                p.normal_(0.0, 0.5)
            model.generator.bias[cfg["eos_id"]] += 0.7   # so that some hypotheses finish
        model.eval()
        path = os.path.join(outdir, f"{name}.safetensors")
        export(model, sp_bytes, path, search={"len_a": GOLDEN_PARAMS["len_a"],
                                              "len_b": GOLDEN_PARAMS["len_b"]},
               extra={"name": name})
        model, sp2, _ = load(path)   # trace the round-tripped model: exactly what C reads
        stio.save(os.path.join(outdir, f"{name}.trace.safetensors"),
                  trace_tensors(model, sp2, TINY_INPUTS, GOLDEN_PARAMS),
                  {"inputs": json.dumps(TINY_INPUTS), "params": json.dumps(GOLDEN_PARAMS)})
        print(f"tiny {name}", file=sys.stderr)


# Int8 versions (scripts/quantize.py) of tiny models whose matrices cover every way the engine
# reads one: attention query/key, a column slice (concat), linear_in, bridges, stacked layers.
TINY_INT8 = ["bilstm-additive-bahdanau", "bilstm-concat-luong", "lstm-general-bahdanau", "gnmt",
             "residual"]


def make_tiny_int8(outdir):
    """int8-<name>.safetensors from the tiny float models already in outdir, and their traces
    from the dequantized reference (export.load)."""
    for name in TINY_INT8:
        tensors, meta = stio.load(os.path.join(outdir, f"{name}.safetensors"))
        out, meta, _ = quantize.quantize(tensors, meta)
        meta["name"] = f"int8-{name}"
        path = os.path.join(outdir, f"int8-{name}.safetensors")
        stio.save(path, out, meta)
        model, sp, _ = load(path)
        stio.save(os.path.join(outdir, f"int8-{name}.trace.safetensors"),
                  trace_tensors(model, sp, TINY_INPUTS, GOLDEN_PARAMS),
                  {"inputs": json.dumps(TINY_INPUTS), "params": json.dumps(GOLDEN_PARAMS)})
        print(f"tiny int8-{name}", file=sys.stderr)


def test_outputs(model, sp, meta, src_lines, path):
    """Reference greedy and beam-5 outputs for every test sentence, with what the tie rule needs:
    per greedy step the gap between the best and second-best log-probability, and the beam's
    best-minus-second-best final score."""
    srch = json.loads(meta.get("search", "{}"))
    p = dict(search.default_params(), **{k: srch[k] for k in ("len_a", "len_b") if k in srch})
    with open(path, "w", encoding="utf-8") as f:
        for n, text in enumerate(src_lines):
            ids = sp.encode(text) + [model.cfg["eos_id"]]
            steps = []
            g = search.greedy(model, ids, p, trace=steps)
            gaps = []
            for s in steps:
                top = torch.topk(torch.log_softmax(s["logits"].double(), 0), 2).values
                gaps.append(round(float(top[0] - top[1]), 6))
            nb = search.beam_search(model, ids, dict(p, beam=5, nbest=2))
            rec = {"i": n, "src": text, "src_ids": ids, "greedy": g["tokens"],
                   "greedy_score": g["score"], "greedy_gaps": gaps,
                   "greedy_text": sp.decode([t for t in g["tokens"] if t != model.cfg["eos_id"]]),
                   "beam": nb[0]["tokens"], "beam_score": nb[0]["score"],
                   "beam_gap": nb[0]["score"] - nb[1]["score"] if len(nb) > 1 else None,
                   "beam_text": sp.decode([t for t in nb[0]["tokens"]
                                           if t != model.cfg["eos_id"]])}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return p


def make_shipped(models_dir, corpus_dir, outdir, only=None):
    for path in sorted(glob.glob(os.path.join(models_dir, "*", "model.safetensors"))):
        name = os.path.basename(os.path.dirname(path))
        if only and name != only:
            continue
        model, sp, meta = load(path)
        if model.cfg.get("task") == "caption":
            continue   # image models: scripts/golden_caption.py
        # an int8 model (scripts/quantize.py) is tested on its float source's test split
        conf_name = meta.get("quantized_from") or name
        conf = json.load(open(os.path.join(os.path.dirname(__file__), "configs",
                                           f"{conf_name}.json")))
        # the corpus, not the model name: ui-en-fr-none is tested on ui-en-fr's test split
        src_file = os.path.join(corpus_dir, conf.get("corpus", name),
                                f"test.{conf['files']['src']}")
        lines = [l.rstrip("\n") for l in open(src_file, encoding="utf-8")]
        p = test_outputs(model, sp, meta, lines, os.path.join(outdir, f"{name}.outputs.jsonl"))
        stio.save(os.path.join(outdir, f"{name}.trace.safetensors"),
                  trace_tensors(model, sp, lines[:3], dict(p, nbest=5)),
                  {"inputs": json.dumps(lines[:3], ensure_ascii=False),
                   "params": json.dumps(dict(p, nbest=5))})
        print(f"shipped {name}: {len(lines)} test sentences", file=sys.stderr)


# Inputs whose ui-en-fr outputs run to 100-212 pieces: a score is a sum over every step, so these
# show whether the engine's per-step log-probabilities drift from the reference's (issue: a float32
# log-sum-exp over 8,000 pieces came out ~3e-6 high per step, 4e-4 after 200 steps).
LONG_INPUTS = ["A" * 100, "Open " * 80, "x" * 200]


def make_long(models_dir, outdir, name="ui-en-fr"):
    model, sp, meta = load(os.path.join(models_dir, name, "model.safetensors"))
    test_outputs(model, sp, meta, LONG_INPUTS, os.path.join(outdir, f"{name}.long.jsonl"))
    print(f"long {name}: {len(LONG_INPUTS)} inputs", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/golden")
    ap.add_argument("--models", default="models")
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--only", choices=["tiny", "tiny-int8", "shipped", "long"])
    ap.add_argument("--name", help="with --only shipped: just this model")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.only in (None, "tiny"):
        make_tiny(os.path.join(args.out, "tiny"))
    if args.only in (None, "tiny", "tiny-int8"):
        make_tiny_int8(os.path.join(args.out, "tiny"))
    if args.only in (None, "shipped"):
        make_shipped(args.models, args.corpus, args.out, args.name)
    if args.only in (None, "long"):
        make_long(args.models, args.out)


if __name__ == "__main__":
    main()
