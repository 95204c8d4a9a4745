#!/usr/bin/python3
"""Export a stele VQA model (.safetensors, task "vqa") to one ONNX graph for the onnxruntime-web
VQA benchmark (scripts/bench/vqa.mjs), and check it against the PyTorch reference:

    /usr/bin/python3 scripts/bench/export_vqa_onnx.py \
        --model models/scenes-vqa/model.safetensors --out build/bench/vqa/scenes-vqa \
        [--trace tests/golden/scenes-vqa.trace.safetensors] [--check N]
    /usr/bin/python3 scripts/bench/export_vqa_onnx.py --model M --out DIR --trace T --position-selfcheck

writes OUT/vqa.onnx, OUT/meta.json and OUT/reference.json:

  vqa   image float32 [1, C, H, W], normalised: x = (p / 255 - mean) / std
        question int32 [1, T] (the question's ids, T >= 1 dynamic; no padding)
        -> probs [1, Na] (softmax of the logits), glimpses [1, G, S] (alpha, row-major over the
           final grid)

One question a run: the CNN, the l2 normalisation, the optional learned position table, the
question LSTM, the G glimpses and the classifier (models/FORMAT.md "VQA models"), the same work
as one stele_answer call. The graph is built from the model FILE: scripts/model.py's modules hold
the weights (q_embed, q_lstm, glimpse, classifier, cnn), the wrapper below strings them together.

Learned position table (config encoder.position "learned", tensor memory_position.weight F32
[S, D]): phi_l = l2norm(cnn_l) + p_l, used by the glimpse scores and the attended sums. The
wrapper adds it itself after its own l2 normalisation (it does not call VQA.encode_image), so the
graph is the same whether or not scripts/model.py knows the table; the reference it is checked
against is vqa_answer when model.py's VQA holds memory_position, else model.py's own pieces with
the table added at that point (encode_image(x) + P, then encode_question and answer_from).

Checks (exit 1 on a failure): on the trace's first --check questions (default 200; 0 = all),
the wrapped module that is exported vs the reference: answers identical, probabilities and
glimpses within 1e-4; and (not for the self-check copy) the reference vs the trace's answers
(the trace is of the same file: a stale trace is reported). onnx.checker on the graph. Python
here has no onnxruntime: the graph's own outputs are checked by vqa.mjs (onnxruntime-web against
the trace, and against stele-wasm) and, for the reference.json written here, by
tests/js/bench_vqa.test.js.

reference.json: for the checked questions, {image (index into the trace's images), ids, answer,
probs, glimpses} from the reference, so that a runtime can be checked on this exact graph
(notably one with a position table, which no trace covers yet).

--position-selfcheck: the same export and checks on a copy of the model with a random position
table (normal, std 0.5; config encoder.position "learned"), written to OUT/position/ (model copy
included); it also requires the table to move the probabilities (> 1e-3 somewhere), so a graph
that ignored it would fail the comparison.
"""
import argparse, json, os, sys
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from export import load_vqa  # noqa: E402
from model import feature_grid, run_cnn, vqa_answer  # noqa: E402
import stio  # noqa: E402

TOL = 1e-4
POSITION = "memory_position.weight"


def load_model(path):
    """-> (VQA module, WordVocab, metadata, P (torch [S, D] or None), native) where native says
    whether model.py's VQA holds the table itself (then vqa_answer is the whole reference)."""
    tensors, meta = stio.load(path)
    if meta.get("format") != "stele":
        raise SystemExit(f"export_vqa_onnx: {path}: not a stele model")
    cfg = json.loads(meta["config"])
    if cfg.get("task") != "vqa":
        raise SystemExit(f"export_vqa_onnx: {path} is not a VQA model (task {cfg.get('task')!r})")
    learned = cfg["encoder"].get("position", "none") == "learned"
    table = tensors.get(POSITION)
    if learned != (table is not None):
        raise SystemExit(f"export_vqa_onnx: {path}: encoder.position "
                         f"{cfg['encoder'].get('position', 'none')!r} but {POSITION} "
                         f"{'present' if table is not None else 'missing'}")
    if table is not None:
        S, D = int(np.prod(feature_grid(cfg))), cfg["encoder"]["channels"][-1]
        if table.dtype != np.float32 or tuple(table.shape) != (S, D):
            raise SystemExit(f"export_vqa_onnx: {POSITION} {table.dtype} {list(table.shape)}, "
                             f"expected F32 [{S}, {D}]")
    try:
        model, vocab, meta = load_vqa(dict(tensors), meta)
        native = table is not None
    except RuntimeError:
        # model.py's VQA does not know the table (yet): load the rest, add it in the wrapper
        if table is None:
            raise
        model, vocab, meta = load_vqa({k: v for k, v in tensors.items() if k != POSITION}, meta)
        native = False
    if native and not hasattr(model, "memory_position"):
        raise SystemExit("export_vqa_onnx: model.py loaded the table under an unexpected name")
    if model.mean_pool:
        raise SystemExit("export_vqa_onnx: mean-pool VQA models are not exported")
    P = None if table is None else torch.from_numpy(np.ascontiguousarray(table))
    return model, vocab, meta, P, native


class VqaGraph(nn.Module):
    """image [1, C, H, W] normalised, question int32 [1, T] -> probs [1, Na], glimpses [1, G, S]."""

    def __init__(self, m, P):
        super().__init__()
        self.m = m
        if P is not None:
            self.register_buffer("position", P.clone())
        else:
            self.position = None

    def forward(self, image, question):
        m = self.m
        x = image
        x = run_cnn(m.cnn, m.cnn_pools, x)                    # as VQA.encode_image
        _, D, h, w = x.shape
        phi = x.permute(0, 2, 3, 1).reshape(1, h * w, D)
        if m.cfg["l2norm"]:
            phi = F.normalize(phi, p=2.0, dim=2, eps=1e-12)
        if self.position is not None:
            phi = phi + self.position                         # after the l2 norm (the contract)
        # one question, no padding: the LSTM's last hidden state is s (no packing needed)
        _, (hq, _) = m.q_lstm(m.q_embed(question.long()))
        s = hq[-1]
        alpha = torch.softmax(m.glimpse(phi, s), dim=2)       # [1, G, S]
        xg = torch.bmm(alpha, phi).flatten(1)
        logits, _ = m.classifier(torch.cat([xg, s], dim=1))
        return torch.softmax(logits, dim=1), alpha


def reference(model, P, native, pixels, ids):
    """model.py's answer for one question -> (answer, probs [Na], glimpses [G, S])."""
    if P is None or native:
        r = vqa_answer(model, pixels, ids)
        return r["answer"], r["probs"], r["glimpses"]
    x = model.normalize(np.asarray(pixels, np.uint8)[None])
    phi = model.encode_image(x) + P                           # the table at the contract's point
    s = model.encode_question(torch.tensor([ids]), torch.tensor([len(ids)]))
    out = model.answer_from(phi, s)
    p = torch.softmax(out["logits"][0], dim=0).numpy()
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    return order[0], p, out["glimpses"][0].numpy()


def trace_questions(trace_path, limit):
    """-> (images u8 [NI, H, W(, C)], [(image index, ids, trace answer or None, trace probs)])."""
    t, _ = stio.load(trace_path)
    img_of = t["image"] if "image" in t else t["scene"]
    n = len(img_of) if not limit else min(limit, len(img_of))
    qs = []
    for k in range(n):
        ids = [int(v) for v in t["question_ids"][k, :int(t["question_n"][k])]]
        qs.append((int(img_of[k]), ids, int(t["answer"][k]), t["probs"][k]))
    return t["images"], qs


def export_and_check(model_path, out, trace, limit, opset, require_position_effect=False):
    """Export model_path to out/ and check it; -> (ok, summary dict)."""
    model, vocab, meta, P, native = load_model(model_path)
    cfg = model.cfg
    os.makedirs(out, exist_ok=True)
    torch.set_grad_enabled(False)
    g = VqaGraph(model, P).eval()
    img = cfg["image"]
    images, qs = trace_questions(trace, limit)
    if tuple(images.shape[1:3]) != (img["height"], img["width"]):
        raise SystemExit(f"export_vqa_onnx: {trace}'s images are {images.shape[1:]}, the model "
                         f"takes {img['height']}x{img['width']}")
    image = model.normalize(images[:1])
    q = torch.tensor([qs[0][1]], dtype=torch.int32)
    path = os.path.join(out, "vqa.onnx")
    torch.onnx.export(g, (image, q), path, input_names=["image", "question"],
                      output_names=["probs", "glimpses"],
                      dynamic_axes={"question": {1: "T"}},
                      opset_version=opset, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))

    worst_p = worst_g = 0.0
    bad, stale, moved, refs = [], [], 0.0, []
    plain = None
    if P is not None and require_position_effect:
        plain = VqaGraph(model, None).eval()
    for k, (ii, ids, t_answer, t_probs) in enumerate(qs):
        px = images[ii]
        a, p, gl = reference(model, P, native, px, ids)
        gp, gg = g(model.normalize(px[None]), torch.tensor([ids], dtype=torch.int32))
        gp, gg = gp[0].numpy(), gg[0].numpy()
        worst_p = max(worst_p, float(np.abs(gp - p).max()))
        worst_g = max(worst_g, float(np.abs(gg - gl).max()))
        ga = int(np.argmax(gp))                                 # the first maximum
        if ga != a:
            top2 = np.sort(p)[-2:]
            if top2[1] - top2[0] >= TOL:                        # not a float-noise tie
                bad.append(k)
        if not require_position_effect and a != t_answer:   # the trace is of this file
            top2 = np.sort(t_probs)[-2:]
            if top2[1] - top2[0] >= TOL:
                stale.append(k)
        if plain is not None:
            pp, _ = plain(model.normalize(px[None]), torch.tensor([ids], dtype=torch.int32))
            moved = max(moved, float(np.abs(pp[0].numpy() - p).max()))
        refs.append({"image": ii, "ids": ids, "answer": int(a),
                     "probs": [float(v) for v in p], "glimpses": [float(v) for v in gl.ravel()]})
    ok = not bad and not stale and worst_p <= TOL and worst_g <= TOL
    if plain is not None and moved <= 1e-3:
        ok = False
    summary = {"questions": len(qs), "answer_mismatches": bad, "probs_max_abs_diff": worst_p,
               "glimpses_max_abs_diff": worst_g, "reference": "vqa_answer" if (P is None or native)
               else "model.py pieces + position table (model.py's VQA has no table)",
               "position": P is not None, "trace": trace, "trace_answer_mismatches": stale}
    if plain is not None:
        summary["position_moves_probs_by"] = moved
    answers = model.answers
    info = {"name": meta.get("name", os.path.basename(os.path.dirname(os.path.abspath(model_path)))),
            "config": cfg, "words": [vocab.id_to_piece(i) for i in range(vocab.get_piece_size())],
            "answers": answers, "pixel_table": [float(v) for v in model.pixel_table.numpy()],
            "grid": list(feature_grid(cfg)), "onnx_bytes": os.path.getsize(path), "opset": opset,
            "torch": torch.__version__, "onnx": onnx.__version__, "check": summary}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(info, f, ensure_ascii=False)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"model": model_path, "trace": trace, "questions": refs}, f)
    print(f"export_vqa_onnx: {path} {info['onnx_bytes']:,} bytes (onnx.checker ok); "
          f"{'position table, ' if P is not None else ''}vs {summary['reference']} on "
          f"{len(qs)} questions: {len(qs) - len(bad)} answers identical, probs max |diff| "
          f"{worst_p:.2e}, glimpses {worst_g:.2e}"
          + (f"; the table moves probs by up to {moved:.3f}" if plain is not None else "")
          + (f"; {len(stale)} answers differ from {trace} (stale trace?)" if stale else ""))
    return ok, summary


def with_random_position(model_path, dst, seed=0):
    """A copy of model_path with a random learned position table (encoder.position "learned")."""
    tensors, meta = stio.load(model_path)
    cfg = json.loads(meta["config"])
    S, D = int(np.prod(feature_grid(cfg))), cfg["encoder"]["channels"][-1]
    cfg["encoder"]["position"] = "learned"
    tensors[POSITION] = np.random.RandomState(seed).normal(0.0, 0.5, (S, D)).astype(np.float32)
    meta = dict(meta, config=json.dumps(cfg, sort_keys=True))
    stio.save(dst, tensors, meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--trace", required=True,
                    help="golden trace (images, image|scene, question_ids, question_n, answer, probs)")
    ap.add_argument("--check", type=int, default=200, help="questions checked (0: all)")
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--position-selfcheck", action="store_true",
                    help="also export and check a copy with a random position table (OUT/position/)")
    args = ap.parse_args()
    ok, _ = export_and_check(args.model, args.out, args.trace, args.check, args.opset)
    if args.position_selfcheck:
        pos_out = os.path.join(args.out, "position")
        os.makedirs(pos_out, exist_ok=True)
        copy = os.path.join(pos_out, "model.safetensors")
        with_random_position(args.model, copy)
        ok2, _ = export_and_check(copy, pos_out, args.trace, args.check, args.opset,
                                  require_position_effect=True)
        ok = ok and ok2
    if not ok:
        print("export_vqa_onnx: CHECK FAILED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
