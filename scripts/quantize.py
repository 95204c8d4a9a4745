#!/usr/bin/python3
"""Int8 weights: a translation model's matrices as int8 with one float32 scale per row
(models/FORMAT.md, "Int8 weights", format version 2).

    /usr/bin/python3 scripts/quantize.py models/ui-en-fr/model.safetensors \\
        models/ui-en-fr-int8/model.safetensors

Each matrix W [N, K] becomes q = round(W / s) (half to even) with s[n] = max_k |W[n, k]| / 127,
so q is in -127..127 and every row uses the whole range (symmetric: no zero point, so the engine
multiplies the integers directly). The matrices are the embeddings, the LSTM weights, the
attention and bridge matrices, the output projection and generator; the biases, the attention
vector v and the gate stay float32 (a few KB). The tokenizer tensors and the metadata are kept
(format_version becomes "2", "quantized" says how, "quantized_from" the source model's name).
The float32 model these integers stand for (scripts/export.py dequantize) is the reference the
engine is tested against."""
import argparse, json, os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402

QMAX = 127


def is_matrix(name, a):
    """The tensors the engine binds as weight matrices (src/model.c bind_mat)."""
    if a.dtype != np.float32 or a.ndim != 2:
        return False
    if name.startswith("tokenizer.") or name in ("attention.v.weight", "attention.gate.weight"):
        return False
    return name.endswith(".weight") or ".weight_ih" in name or ".weight_hh" in name


def quantize_rows(w):
    """-> (q int8 [N, K], scale float32 [N])."""
    amax = np.abs(w).max(axis=1)
    scale = (amax / QMAX).astype(np.float32)
    safe = np.where(scale > 0, scale, 1).astype(np.float32)
    q = np.clip(np.round(w / safe[:, None]), -QMAX, QMAX).astype(np.int8)
    return q, scale


def quantize(tensors, meta):
    cfg = json.loads(meta["config"])
    if cfg.get("task", "translate") != "translate":
        raise ValueError(f"task {cfg.get('task')}: only translation models are quantized")
    if meta.get("format_version") != "1":
        raise ValueError(f"format_version {meta.get('format_version')}: expected a float32 model "
                         "(version 1)")
    out, report = {}, []
    for name, a in tensors.items():
        if is_matrix(name, a):
            q, s = quantize_rows(a)
            out[name], out[name + ".scale"] = q, s
            err = np.abs(q.astype(np.float32) * s[:, None] - a).max()
            report.append((name, a.shape, float(err)))
        else:
            out[name] = a
    meta = dict(meta, format_version="2", quantized="int8 rows, symmetric, float32 scale per row",
                quantized_from=meta.get("name", ""))
    return out, meta, report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="a float32 translation model (.safetensors)")
    ap.add_argument("out", help="the int8 model to write")
    args = ap.parse_args()
    tensors, meta = stio.load(args.model)
    out, meta, report = quantize(tensors, meta)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    stio.save(args.out, out, meta)
    for name, shape, err in report:
        print(f"{name} {list(shape)}: max |dequantized - float| {err:.3g}", file=sys.stderr)
    print(f"{args.out}: {os.path.getsize(args.out)} bytes (from {os.path.getsize(args.model)})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
