#!/usr/bin/python3
"""Export a trained model to ONE .safetensors file (models/FORMAT.md), and load it back.

    /usr/bin/python3 scripts/export.py --train build/train/dates --config scripts/configs/dates.json \
        --out models/dates/model.safetensors
"""
import argparse, json, os, sys
import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402
from model import Seq2Seq  # noqa: E402

FORMAT_VERSION = 1


def export(model, sp_bytes, path, search=None, training=None, extra=None):
    """Write model (a Seq2Seq) and its SentencePiece model bytes to path."""
    cfg = model.cfg
    tensors = {}
    for name, t in model.state_dict().items():
        if cfg["tie_embeddings"] and name == "generator.weight":
            continue  # the same storage as tgt_embed.weight
        tensors[name] = t.detach().cpu().float().numpy()
    tensors["tokenizer.spm"] = np.frombuffer(sp_bytes, dtype=np.uint8)
    meta = {"format": "stele", "format_version": str(FORMAT_VERSION),
            "config": json.dumps(cfg, sort_keys=True),
            "special_tokens": json.dumps({k: cfg[k] for k in
                                          ("pad_id", "unk_id", "bos_id", "eos_id")}),
            "search": json.dumps(search or {}), "training": json.dumps(training or {})}
    meta.update(extra or {})
    stio.save(path, tensors, meta)


def load(path):
    """Rebuild (model, SentencePieceProcessor, metadata) from the file alone."""
    tensors, meta = stio.load(path)
    if meta.get("format") != "stele":
        raise ValueError(f"{path}: not a stele model")
    cfg = json.loads(meta["config"])
    model = Seq2Seq(cfg)
    sp = spm.SentencePieceProcessor(model_proto=tensors.pop("tokenizer.spm").tobytes())
    state = {k: torch.from_numpy(v) for k, v in tensors.items()}
    if cfg["tie_embeddings"]:
        state["generator.weight"] = state["tgt_embed.weight"]
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, sp, meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True, help="training folder (best.pt, spm.model)")
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--corpus-info", help="packages.json of the corpus, stored in metadata")
    args = ap.parse_args()
    conf = json.load(open(args.config))
    # map_location: a folder trained on a GPU loads on a CPU-only machine
    best = torch.load(os.path.join(args.train, "best.pt"), map_location="cpu")
    model = Seq2Seq(best["config"])
    model.load_state_dict(best["model"])
    model.eval()
    sp_bytes = open(os.path.join(args.train, "spm.model"), "rb").read()
    tinfo = json.load(open(os.path.join(args.train, "train.json")))
    training = {k: tinfo[k] for k in ("parameters", "train_pairs", "epochs", "best_dev_loss",
                                      "train_seconds", "threads")}
    # where it ran and why it stopped, for the model card (absent from older train.json files)
    training.update({k: tinfo[k] for k in ("device", "torch", "stopped") if k in tinfo})
    extra = {"name": conf["name"]}
    if args.corpus_info:
        info = json.load(open(args.corpus_info))
        extra["corpus"] = json.dumps([f"{p['package']}={p['version']}"
                                      for p in info["packages"]])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export(model, sp_bytes, args.out, conf.get("search"), training, extra)
    print(f"{args.out}: {os.path.getsize(args.out):,} bytes")


if __name__ == "__main__":
    main()
