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
from model import Seq2Seq, VQA  # noqa: E402
from words import WordVocab  # noqa: E402

FORMAT_VERSION = 1


def export(model, sp_bytes, path, search=None, training=None, extra=None):
    """Write model (a Seq2Seq) and its tokenizer to path: for text models sp_bytes is the
    SentencePiece model (tokenizer.spm); for image models a WordVocab or a list of words
    (tokenizer.words). VQA models (task "vqa"): see export_vqa."""
    cfg = model.cfg
    if cfg.get("task") == "vqa":
        return export_vqa(model, sp_bytes, path, training, extra)
    tensors = {}
    for name, t in model.state_dict().items():
        if cfg["tie_embeddings"] and name == "generator.weight":
            continue  # the same storage as tgt_embed.weight
        tensors[name] = t.detach().cpu().float().numpy()
    if cfg.get("task", "translate") == "caption":
        vocab = sp_bytes if isinstance(sp_bytes, WordVocab) else WordVocab(sp_bytes)
        if vocab.get_piece_size() != cfg["tgt_vocab"]:
            raise ValueError(f"{vocab.get_piece_size()} words for tgt_vocab {cfg['tgt_vocab']}")
        tensors["tokenizer.words"] = np.frombuffer(vocab.to_bytes(), dtype=np.uint8)
    else:
        tensors["tokenizer.spm"] = np.frombuffer(sp_bytes, dtype=np.uint8)
    meta = {"format": "stele", "format_version": str(FORMAT_VERSION),
            "config": json.dumps(cfg, sort_keys=True),
            "special_tokens": json.dumps({k: cfg[k] for k in
                                          ("pad_id", "unk_id", "bos_id", "eos_id")}),
            "search": json.dumps(search or {}), "training": json.dumps(training or {})}
    meta.update(extra or {})
    stio.save(path, tensors, meta)


def dequantize(tensors):
    """Int8 matrices (format version 2, scripts/quantize.py) in place to the float32 weights they
    stand for, w[n, k] = q[n, k] * scale[n] rounded to float32, as the engine's embedding lookup
    computes them: the reference for an int8 model is this float model."""
    for name in [n for n, t in tensors.items() if t.dtype == np.int8]:
        scale = tensors.pop(name + ".scale")
        tensors[name] = tensors[name].astype(np.float32) * scale.astype(np.float32)[:, None]


def load(path):
    """Rebuild (model, tokenizer, metadata) from the file alone: the tokenizer is a
    SentencePieceProcessor for text models, a WordVocab for image (caption) models."""
    tensors, meta = stio.load(path)
    if meta.get("format") != "stele":
        raise ValueError(f"{path}: not a stele model")
    dequantize(tensors)
    cfg = json.loads(meta["config"])
    if cfg.get("task") == "vqa":
        return load_vqa(tensors, meta)
    model = Seq2Seq(cfg)
    if cfg.get("task", "translate") == "caption":
        sp = WordVocab.from_bytes(tensors.pop("tokenizer.words"))
    else:
        sp = spm.SentencePieceProcessor(model_proto=tensors.pop("tokenizer.spm").tobytes())
        # the truecasing table is read by the engine's input normalization only; the reference
        # translates text as given (the raw path), so it has no use for it
        tensors.pop("tokenizer.truecase", None)
        # nor a lexical shortlist (scripts/shortlist.py): the reference scores every piece
        for name in [n for n in tensors if n.startswith("shortlist.")]:
            tensors.pop(name)
    state = {k: torch.from_numpy(v) for k, v in tensors.items()}
    if cfg["tie_embeddings"]:
        state["generator.weight"] = state["tgt_embed.weight"]
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, sp, meta


def answers_bytes(answers):
    answers = list(answers)
    for a in answers:
        if not a or "\n" in a:
            raise ValueError(f"bad answer {a!r} (empty or containing a newline)")
    if len(set(answers)) != len(answers):
        raise ValueError("duplicate answers")
    return "\n".join(answers).encode("utf-8")


def export_vqa(model, vocab_answers, path, training=None, extra=None):
    """A VQA model (model.VQA, task "vqa") to one file: its state_dict, tokenizer.words (the
    question vocabulary, a WordVocab or a word list) and answers.words (the Na answer strings
    joined by "\n", line i = answer i). vocab_answers = (vocabulary, answers). The mean-pool
    baseline (pool "mean") is refused: only attention models are shipped."""
    cfg = model.cfg
    if cfg.get("pool", "attention") != "attention":
        raise ValueError("only attention VQA models are exported (pool mean is Python-only)")
    vocab, answers = vocab_answers
    vocab = vocab if isinstance(vocab, WordVocab) else WordVocab(vocab)
    if vocab.get_piece_size() != cfg["src_vocab"]:
        raise ValueError(f"{vocab.get_piece_size()} words for src_vocab {cfg['src_vocab']}")
    if len(answers) != cfg["answers"]:
        raise ValueError(f"{len(answers)} answers for answers {cfg['answers']}")
    tensors = {name: t.detach().cpu().float().numpy() for name, t in model.state_dict().items()}
    tensors["tokenizer.words"] = np.frombuffer(vocab.to_bytes(), dtype=np.uint8)
    tensors["answers.words"] = np.frombuffer(answers_bytes(answers), dtype=np.uint8)
    meta = {"format": "stele", "format_version": str(FORMAT_VERSION),
            "config": json.dumps(cfg, sort_keys=True),
            "special_tokens": json.dumps({"pad_id": cfg["pad_id"], "unk_id": cfg["unk_id"]}),
            "training": json.dumps(training or {})}
    meta.update(extra or {})
    stio.save(path, tensors, meta)


def load_vqa(tensors, meta):
    """-> (model (VQA, eval mode, model.answers = the answer strings), WordVocab, metadata)."""
    cfg = json.loads(meta["config"])
    model = VQA(cfg)
    vocab = WordVocab.from_bytes(tensors.pop("tokenizer.words"))
    answers = tensors.pop("answers.words").tobytes().decode("utf-8").split("\n")
    if vocab.get_piece_size() != cfg["src_vocab"] or len(answers) != cfg["answers"]:
        raise ValueError("tokenizer.words / answers.words do not match src_vocab / answers")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    model.answers = answers
    model.eval()
    return model, vocab, meta


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
    if model.cfg.get("task") == "caption":    # image models: the word vocabulary (train_caption.py)
        with open(os.path.join(args.train, "words.txt"), encoding="utf-8") as f:
            sp_bytes = WordVocab(line.rstrip("\n") for line in f if line.strip())
    else:
        sp_bytes = open(os.path.join(args.train, "spm.model"), "rb").read()
    tinfo = json.load(open(os.path.join(args.train, "train.json")))
    training = {k: tinfo[k] for k in ("parameters", "train_pairs", "epochs", "best_dev_loss",
                                      "train_seconds", "threads")}
    # where it ran and why it stopped, for the model card (absent from older train.json files)
    training.update({k: tinfo[k] for k in ("device", "torch", "stopped", "doubly_stochastic")
                     if k in tinfo})
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
