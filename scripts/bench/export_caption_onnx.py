#!/usr/bin/python3
"""Export a stele caption model (.safetensors, task "caption", encoder.type "cnn") to two ONNX
graphs for the onnxruntime-web captioning benchmark (scripts/bench/caption.mjs); the greedy
search loop stays outside the graphs, in JS:

    /usr/bin/python3 scripts/bench/export_caption_onnx.py \
        --model models/scenes-caption/model.safetensors --out build/bench/caption/scenes-caption \
        [--trace tests/golden/scenes-caption.trace.safetensors]

writes OUT/cnn_encoder.onnx, OUT/caption_step.onnx and OUT/meta.json:

  cnn_encoder   image float32 [1, C, H, W], normalised: x = (p / 255 - mean) / std
                -> memory [S, D] (row-major over the final grid), keys [S, A] (the step-independent
                   part of the attention scores), h0, c0 [L, 1, Hd] (the bridge from the mean of
                   the memory)
  caption_step  y int32 [1] (previous word), h, c [L, 1, Hd], memory [S, D], keys [S, A]
                -> logp [1, V] (log_softmax of the logits), h1, c1 [L, 1, Hd], attn [1, S]
                   (alpha, not gated)

Both wrap scripts/model.py's own code (Seq2Seq.encode_image, init_state, memory_keys, step), so
the graphs compute exactly the PyTorch reference (scripts/export.py's load). meta.json carries
the config, the model's search defaults, the word list and the 256-entry pixel table (the
reference's float32 normalisation of each u8 value, so that the JS side feeds ORT the very same
floats). Both graphs pass onnx.checker.check_model. With --trace, the wrapped modules' greedy
captions of the trace's images are compared with the trace's (exit 1 on a difference).
"""
import argparse, json, os, sys
import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from export import load  # noqa: E402
from model import feature_grid  # noqa: E402
import stio  # noqa: E402


class CnnEncoder(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, image):
        m = self.m
        memory, fh, fc = m.encode_image(image)                # [1, S, D], [1, D], [1, D]
        st = m.init_state(memory, fh, fc)
        keys = m.memory_keys(memory)                          # [1, S, A]
        return memory[0], keys[0], torch.stack(st["h"], 0), torch.stack(st["c"], 0)


class CaptionStep(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, y, h, c, memory, keys):
        m = self.m
        L = m.cfg["decoder"]["layers"]
        state = {"h": [h[l] for l in range(L)], "c": [c[l] for l in range(L)], "feed": None}
        st, logits, attn, _ = m.step(y.long(), state, memory.unsqueeze(0), keys.unsqueeze(0),
                                     None)
        return (torch.log_softmax(logits, dim=1), torch.stack(st["h"], 0),
                torch.stack(st["c"], 0), attn)


def greedy(enc, step, image, cfg, T):
    memory, keys, h, c = enc(image)
    y = torch.tensor([cfg["bos_id"]], dtype=torch.int32)
    out = []
    for _ in range(T):
        logp, h, c, _ = step(y, h, c, memory, keys)
        best = int(torch.argmax(logp[0]))        # first maximum, as the engines
        out.append(best)
        y[0] = best
        if best == cfg["eos_id"]:
            break
    return out, memory.shape[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--trace", help="golden trace (images, greedy, greedy_len) to check against")
    args = ap.parse_args()
    model, vocab, meta = load(args.model)
    cfg = model.cfg
    if cfg.get("task") != "caption":
        raise SystemExit(f"export_caption_onnx: {args.model} is not a caption model")
    if not model.has_attn:
        raise SystemExit("export_caption_onnx: caption models without attention are not supported")
    os.makedirs(args.out, exist_ok=True)
    torch.set_grad_enabled(False)
    img = cfg["image"]
    enc, step = CnnEncoder(model).eval(), CaptionStep(model).eval()
    rs = np.random.RandomState(0)
    px = rs.randint(0, 256, (1, img["height"], img["width"]) +
                    ((img["channels"],) if img["channels"] > 1 else ())).astype(np.uint8)
    image = model.normalize(px)
    memory, keys, h0, c0 = enc(image)
    enc_path = os.path.join(args.out, "cnn_encoder.onnx")
    step_path = os.path.join(args.out, "caption_step.onnx")
    torch.onnx.export(enc, (image,), enc_path, input_names=["image"],
                      output_names=["memory", "keys", "h0", "c0"],
                      opset_version=args.opset, do_constant_folding=True)
    y = torch.tensor([cfg["bos_id"]], dtype=torch.int32)
    torch.onnx.export(step, (y, h0, c0, memory, keys), step_path,
                      input_names=["y", "h", "c", "memory", "keys"],
                      output_names=["logp", "h1", "c1", "attn"],
                      opset_version=args.opset, do_constant_folding=True)
    for p in (enc_path, step_path):
        onnx.checker.check_model(onnx.load(p))
    search = json.loads(meta.get("search") or "{}")
    checked = None
    if args.trace:
        t, _ = stio.load(args.trace)
        T = int(np.floor(search.get("len_a", 0.0) * memory.shape[0] + search.get("len_b", 40.0)))
        bad = []
        for i in range(t["images"].shape[0]):
            ids, _ = greedy(enc, step, model.normalize(t["images"][i:i + 1]), cfg, max(1, T))
            ref = [int(v) for v in t["greedy"][i, :int(t["greedy_len"][i])]]
            if ids != ref:
                bad.append(i)
        checked = {"images": int(t["images"].shape[0]), "mismatches": bad}
        print(f"export_caption_onnx: wrapped modules' greedy vs {args.trace}: "
              f"{checked['images'] - len(bad)}/{checked['images']} identical")
    info = {"name": meta.get("name", os.path.basename(os.path.dirname(args.model))),
            "config": cfg, "search": search,
            "words": [vocab.id_to_piece(i) for i in range(vocab.get_piece_size())],
            "pixel_table": [float(v) for v in model.pixel_table.numpy()],
            "grid": list(feature_grid(cfg)),
            "onnx_bytes": {os.path.basename(p): os.path.getsize(p) for p in (enc_path, step_path)},
            "opset": args.opset, "torch": torch.__version__, "onnx": onnx.__version__,
            "torch_check": checked}
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(info, f, ensure_ascii=False)
    print(f"{args.out}: cnn_encoder.onnx {info['onnx_bytes']['cnn_encoder.onnx']:,} bytes, "
          f"caption_step.onnx {info['onnx_bytes']['caption_step.onnx']:,} bytes (onnx.checker ok)")
    if checked and checked["mismatches"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
