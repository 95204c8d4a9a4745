#!/usr/bin/python3
"""Golden files for VQA models (task "vqa"): the C engine's parity tests read them.

    /usr/bin/python3 scripts/golden_vqa.py --only tiny       # tests/golden/tiny/vqa-tiny.*
    /usr/bin/python3 scripts/golden_vqa.py --only shipped    # tests/golden/scenes-vqa.*

1. tiny: a random-weight VQA model, tests/golden/tiny/vqa-tiny.safetensors (a complete model
   file: image 84x84x1, encoder channels [4, 8] -> grid 21 x 21, S = 441, D = 8, encoder.position
   learned (memory_position.weight [441, 8], added after the l2 norm); l2norm on;
   question Eq 8, Hq 12; G = 2 glimpses, A = 10; classifier F = 16; TINY_WORDS (20 words),
   TINY_ANSWERS (12, some with spaces)), and its trace tests/golden/tiny/vqa-tiny.trace.safetensors
   for N = len(TINY_QUESTIONS) = 8 (image, question) examples over the NI = 6 images of
   golden_caption.tiny_images(); and the same weights without the position table (encoder.position
   none), tests/golden/tiny/vqa-tiny-nopos.* with the same trace layout, so that both paths stay
   covered; and tests/golden/tiny/vqa-tiny-deep.*, a third block of 8 channels without the
   max-pool (encoder.pool [true, true, false], the same 21 x 21 grid), for the unpooled path. Trace tensors (Tq = longest question in ids, Lb = longest in
   bytes):
     images         U8  [NI, 84, 84]   the input pixels
     phi            F32 [NI, S, D]     CNN memory of each image AFTER the l2 normalisation and
                                       the position (phi = l2norm(cnn) + P)
     image          I32 [N]            example -> index into images
     question_bytes U8  [N, Lb]        the question text, UTF-8, 0 past question_len
     question_len   I32 [N]            its length in bytes
     question_ids   I32 [N, Tq]        the encoded question (words.encode_question), -1 padded
     question_n     I32 [N]            number of ids
     s              F32 [N, Hq]        question LSTM's final hidden state
     scores         F32 [N, G, S]      glimpse scores e before the softmax
     glimpses       F32 [N, G, S]      alpha = softmax over S of each glimpse's scores
     x              F32 [N, G*D]       [x_1; ...; x_G], x_g = sum_l alpha_{g,l} phi_l
     hidden         F32 [N, F]         relu(fc1 [x; s] + b)
     logits         F32 [N, Na]
     probs          F32 [N, Na]        softmax(logits), float32
     answer         I32 [N]            argmax of probs (lowest index among ties)
     top            I32 [N, 5]         the 5 most probable answers (ties: lower index first)
   Metadata: questions (JSON list of the texts), grid ([h, w]).
2. shipped: for models/scenes-vqa on every test question of build/corpus/scenes-vqa (Nq of them,
   on the 1,000 test scenes of build/corpus/scenes), each answered as the engine does
   (model.vqa_answer_scene):
   tests/golden/scenes-vqa.outputs.jsonl, one line per question: {"i", "scene", "type",
   "question" (text), "ids", "answer" (index), "answer_text", "top" (5 indices), "top_probs",
   "gap" (best - second-best probability), "expected" (the corpus' answer)}, and
   tests/golden/scenes-vqa.trace.safetensors:
     images        U8  [1000, 84, 84]  every test scene (question i's image = images[scene[i]])
     scene         I32 [Nq]
     question_ids  I32 [Nq, Tq]        -1 padded; question_n I32 [Nq]
     glimpses      F32 [Nq, G, S]
     probs         F32 [Nq, Na]
     answer        I32 [Nq]; top I32 [Nq, 5]
   Metadata: questions (JSON list of the Nq texts), grid ([h, w]), model (its file's name).
"""
import argparse, copy, json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402
from model import VQA, merge_vqa_config, feature_grid, vqa_answer  # noqa: E402
from export import export, load  # noqa: E402
from words import WordVocab, SPECIALS, encode_question  # noqa: E402
from golden_caption import tiny_images  # noqa: E402

TINY_WORDS = SPECIALS + ["what", "is", "in", "the", "top", "left", "where", "bag", "dress", "?",
                         "how", "many", "are", "there", ",", "of"]
TINY_ANSWERS = ["nothing", "bag", "dress", "top left", "at the bottom", "yes", "no", "0", "1",
                "2", "ankle boot", "in the centre"]
TINY_CONFIG = {
    "task": "vqa",
    "image": {"height": 84, "width": 84, "channels": 1, "mean": 0.25, "std": 0.375},
    "encoder": {"type": "cnn", "channels": [4, 8], "position": "learned"},
    "l2norm": True,
    "question": {"emb": 8, "hidden": 12},
    "glimpses": 2,
    "attention": {"hidden": 10},
    "classifier": {"hidden": 16},
    "src_vocab": len(TINY_WORDS), "answers": len(TINY_ANSWERS), "pad_id": 0, "unk_id": 1,
    "dropout": 0.0,
}
# (image index, question): unknown words (zebra, dresses, Élan), upper case, "?" and "," glued
# to words, tabs, a one-word question; image 0 (all zero) exercises the l2 norm's eps
TINY_QUESTIONS = [(0, "what is in the top left ?"), (1, "Where is the BAG?"),
                  (2, "how many dresses are there?"), (3, "is there a bag ?"),
                  (4, "what is left of the dress?"), (5, "where is the zebra ,the Élan?"),
                  (4, "bag"), (2, "what,is ,the\ttop?")]


def tiny_model(seed=1304, position=True, deep=False):
    """The tiny random model; position False: the same draws, then memory_position dropped
    (encoder.position none), so that both tiny models share every other weight. deep: a third
    CNN block [8] without the max-pool (its own draws)."""
    torch.manual_seed(seed)
    cfg = copy.deepcopy(TINY_CONFIG)
    if deep:
        cfg["encoder"].update(channels=[4, 8, 8], pool=[True, True, False])
    model = VQA(merge_vqa_config(cfg))
    with torch.no_grad():   # larger weights than PyTorch's init: peaked glimpses, varied answers
        for p in model.parameters():
            p.normal_(0.0, 0.5)
        model.cnn[-1].bias.sub_(1.5)               # some all-zero locations: the l2 norm's eps
        model.glimpse.conv1.weight.mul_(3.0)       # peaked glimpses over 441 places
        model.glimpse.conv2.weight.mul_(3.0)
        model.classifier.fc1.weight.mul_(2.0)      # answers that depend on the input
        model.classifier.fc2.bias.mul_(0.2)
    if not position:
        cfg = copy.deepcopy(model.cfg)
        cfg["encoder"]["position"] = "none"
        state = {k: v for k, v in model.state_dict().items() if k != "memory_position.weight"}
        model = VQA(cfg)
        model.load_state_dict(state, strict=True)
    return model.eval()


def trace_tensors(model, vocab, images, questions):
    """questions: [(image index, text)] -> the trace dict (module docstring)."""
    per = []
    phis = {}
    for b, text in questions:
        ids = encode_question(vocab, text)
        r = vqa_answer(model, images[b], ids)
        phis[b] = r["phi"]
        per.append((b, text.encode("utf-8"), ids, r))
    N, G = len(per), model.G
    Tq = max(len(p[2]) for p in per)
    Lb = max(len(p[1]) for p in per)
    t = {"images": np.ascontiguousarray(images, np.uint8),
         "phi": np.stack([phis[b] if b in phis else
                          vqa_answer(model, images[b], [1])["phi"] for b in range(len(images))]),
         "image": np.array([p[0] for p in per], np.int32),
         "question_bytes": np.zeros((N, Lb), np.uint8),
         "question_len": np.array([len(p[1]) for p in per], np.int32),
         "question_ids": np.full((N, Tq), -1, np.int32),
         "question_n": np.array([len(p[2]) for p in per], np.int32)}
    for i, (_, raw, ids, _) in enumerate(per):
        t["question_bytes"][i, :len(raw)] = np.frombuffer(raw, np.uint8)
        t["question_ids"][i, :len(ids)] = ids
    for k in ("s", "scores", "glimpses", "x", "hidden", "logits", "probs"):
        t[k] = np.stack([p[3][k] for p in per]).astype(np.float32)
    t["answer"] = np.array([p[3]["answer"] for p in per], np.int32)
    t["top"] = np.array([p[3]["top"] for p in per], np.int32)
    assert t["glimpses"].shape[1] == G
    return t


def make_tiny(outdir):
    os.makedirs(outdir, exist_ok=True)
    for name, position, deep in (("vqa-tiny", True, False), ("vqa-tiny-nopos", False, False),
                                 ("vqa-tiny-deep", True, True)):
        path = os.path.join(outdir, f"{name}.safetensors")
        export(tiny_model(position=position, deep=deep), (TINY_WORDS, TINY_ANSWERS), path,
               extra={"name": name})
        model, vocab, _ = load(path)    # trace the round-tripped model: exactly what C reads
        stio.save(os.path.join(outdir, f"{name}.trace.safetensors"),
                  trace_tensors(model, vocab, tiny_images(), TINY_QUESTIONS),
                  {"questions": json.dumps([q for _, q in TINY_QUESTIONS], ensure_ascii=False),
                   "grid": json.dumps(feature_grid(model.cfg))})
        print(f"tiny vqa: {path}", file=sys.stderr)


def make_shipped(models, corpus, outdir, name="scenes-vqa"):
    from evaluate_vqa import answer_split, read_lines
    path = os.path.join(models, name, "model.safetensors")
    model, vocab, _ = load(path)
    records = [json.loads(l) for l in read_lines(os.path.join(corpus, "scenes-vqa", "test.jsonl"))]
    images = np.load(os.path.join(corpus, "scenes", "test.npz"))["images"]
    res = answer_split(model, vocab, images, records)
    ids = [encode_question(vocab, r["question"]) for r in records]
    with open(os.path.join(outdir, f"{name}.outputs.jsonl"), "w") as f:
        for i, (r, x, q) in enumerate(zip(records, res, ids)):
            top = [int(j) for j in x["top"]]
            f.write(json.dumps({"i": i, "scene": r["scene"], "type": r["type"],
                                "question": r["question"], "ids": q, "answer": int(x["answer"]),
                                "answer_text": model.answers[x["answer"]], "top": top,
                                "top_probs": [float(x["probs"][j]) for j in top],
                                "gap": float(x["probs"][top[0]] - x["probs"][top[1]]),
                                "expected": r["answer"]}) + "\n")
    Tq = max(len(q) for q in ids)
    qid = np.full((len(ids), Tq), -1, np.int32)
    for i, q in enumerate(ids):
        qid[i, :len(q)] = q
    t = {"images": np.ascontiguousarray(images, np.uint8),
         "scene": np.array([r["scene"] for r in records], np.int32),
         "question_ids": qid, "question_n": np.array([len(q) for q in ids], np.int32),
         "glimpses": np.stack([x["glimpses"] for x in res]).astype(np.float32),
         "probs": np.stack([x["probs"] for x in res]).astype(np.float32),
         "answer": np.array([x["answer"] for x in res], np.int32),
         "top": np.array([x["top"] for x in res], np.int32)}
    stio.save(os.path.join(outdir, f"{name}.trace.safetensors"), t,
              {"questions": json.dumps([r["question"] for r in records]),
               "grid": json.dumps(feature_grid(model.cfg)), "model": f"models/{name}"})
    print(f"shipped vqa: {len(records)} questions", file=sys.stderr)


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
