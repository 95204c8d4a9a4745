#!/usr/bin/python3
"""Dynamic int8 quantisation of the bench's ONNX graphs (scripts/bench/export_onnx.py), written with
the `onnx` package alone because onnxruntime's own quantisation tool is not installable here. It
writes the operators onnxruntime's `quantize_dynamic` writes (QOperator format, int8 weights), and
applies them to every weight matrix: quantize_dynamic's registry rewrites MatMul, LSTM and Gather
but leaves Gemm in F32, and the decoder step's weights (LSTM cell, generator) are Gemms here, so
the stock tool would leave most of the bytes in F32. The int8 peer of `make bench` is thus the
strongest dynamic-int8 onnxruntime-web a user could build from these graphs:

    /usr/bin/python3 scripts/bench/quantize_onnx.py --dir build/bench/ui-en-fr [--weight-type int8]
        [--per-tensor] [--keep-lstm] [--keep-gather]

reads DIR/{encoder,decoder_step,decoder_step_batch}.onnx and writes DIR/*_int8.onnx (and
DIR/int8.json: what was quantised, how, and the bytes).

- MatMul / Gemm with a constant weight W [K, N] (Gemm transB: W^T):
      x --DynamicQuantizeLinear--> (x_q uint8, x_scale, x_zp)
      MatMulInteger(x_q, W_q, x_zp, W_zp) -> int32 --Cast--> float
      * (x_scale * W_scale) [+ bias]
  the pattern onnxruntime's optimiser (level 'all') fuses into one DynamicQuantizeMatMul /
  MatMulIntegerToFloat kernel. W_q is int8 symmetric (zero point 0, scale max|w|/127) or uint8
  asymmetric (scale (max-min)/255, zero point round(-min/scale)), per output column by default
  (W_scale and W_zp of shape [N]; --per-tensor: one of each).
- LSTM (the encoder's bidirectional layer): com.microsoft.DynamicQuantizeLSTM, the contrib op that
  onnxruntime's quantize_dynamic uses for LSTM (its IntegerOps registry lists LSTM): W and R
  transposed to [dirs, in, 4H], int8 symmetric, scales per direction and gate row ([dirs, 4H]) or
  per direction (--per-tensor). --keep-lstm leaves it F32.
- Gather from a constant table (the embeddings; with tied embeddings the generator's Gemm gets its
  own int8 copy of the table, transposed): Gather on the int8 table + DequantizeLinear, one scale
  for the table (symmetric), as quantize_dynamic's GatherQuant does. --keep-gather: F32.
- Everything else (attention's activation x activation MatMuls, the gates' element-wise ops)
  stays F32.
"""
import argparse, json, os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

GRAPHS = ("encoder", "decoder_step", "decoder_step_batch")


def quant_cols(w, wtype, per_channel):
    """w [K, N] float32 -> (q [K, N], scale [N] or [], zero point [N] or []); columns = outputs."""
    if wtype == "int8":
        amax = np.abs(w).max(axis=0) if per_channel else np.abs(w).max()
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        zp = np.zeros_like(scale, dtype=np.int8)
    else:
        lo = np.minimum(w.min(axis=0) if per_channel else w.min(), 0.0)
        hi = np.maximum(w.max(axis=0) if per_channel else w.max(), 0.0)
        scale = np.where(hi > lo, (hi - lo) / 255.0, 1.0).astype(np.float32)
        zp = np.clip(np.rint(-lo / scale), 0, 255).astype(np.uint8)
        q = np.clip(np.rint(w / scale) + zp, 0, 255).astype(np.uint8)
    return q, np.asarray(scale, np.float32), np.asarray(zp)


class Rewriter:
    def __init__(self, model, wtype, per_channel, keep_lstm, keep_gather):
        self.m, self.g = model, model.graph
        self.wtype, self.per_channel, self.keep_lstm = wtype, per_channel, keep_lstm
        self.keep_gather = keep_gather
        self.inits = {i.name: i for i in self.g.initializer}
        self.consts = {n.output[0]: n for n in self.g.node if n.op_type == "Constant"}
        self.report = []

    def const(self, name):
        if name in self.inits:
            return numpy_helper.to_array(self.inits[name])
        return None

    def add_init(self, arr, name):
        t = numpy_helper.from_array(arr, name)
        self.g.initializer.append(t)
        self.inits[name] = t
        return name

    def drop_unused(self):
        used = {i for n in self.g.node for i in n.input} | {o.name for o in self.g.output}
        keep = [i for i in self.g.initializer if i.name in used]
        del self.g.initializer[:]
        self.g.initializer.extend(keep)

    def linear(self, node, x, w_kn, bias, out):
        """Nodes computing out = x @ w_kn (+ bias) with a dynamically quantised x."""
        p = node.name.strip("/").replace("/", "_") or f"q{len(self.report)}"
        q, s, z = quant_cols(w_kn, self.wtype, self.per_channel)
        wq = self.add_init(q, p + "_W_q")
        ws = self.add_init(s, p + "_W_scale")
        wz = self.add_init(z, p + "_W_zp")
        nodes = [
            helper.make_node("DynamicQuantizeLinear", [x], [p + "_x_q", p + "_x_scale", p + "_x_zp"], p + "_dql"),
            helper.make_node("MatMulInteger", [p + "_x_q", wq, p + "_x_zp", wz], [p + "_mmi"], p + "_mmi"),
            helper.make_node("Cast", [p + "_mmi"], [p + "_mmi_f"], p + "_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [p + "_x_scale", ws], [p + "_scale"], p + "_scale"),
        ]
        if bias is None:
            nodes.append(helper.make_node("Mul", [p + "_mmi_f", p + "_scale"], [out], p + "_deq"))
        else:
            nodes.append(helper.make_node("Mul", [p + "_mmi_f", p + "_scale"], [p + "_deq"], p + "_deq"))
            nodes.append(helper.make_node("Add", [p + "_deq", bias], [out], p + "_bias"))
        err = np.abs(self.dequant(q, s, z) - w_kn).max()
        self.report.append({"node": node.name, "op": node.op_type, "K": int(w_kn.shape[0]),
                            "N": int(w_kn.shape[1]), "max_abs_weight_error": float(err)})
        return nodes

    def dequant(self, q, s, z):
        return (q.astype(np.float32) - z.astype(np.float32)) * s

    def lstm(self, node):
        W, R = self.const(node.input[1]), self.const(node.input[2])   # [dirs, 4H, in], [dirs, 4H, H]
        p = node.name.strip("/").replace("/", "_")
        ins = [node.input[0]]
        extra = []
        for arr, tag in ((W, "W"), (R, "R")):
            dirs, G, K = arr.shape
            t = np.transpose(arr, (0, 2, 1))                            # [dirs, K, 4H]
            amax = np.abs(t).max(axis=1) if self.per_channel else np.abs(t).max(axis=(1, 2))
            scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)   # [dirs, 4H] or [dirs]
            sc = scale[:, None, :] if self.per_channel else scale[:, None, None]
            q = np.clip(np.rint(t / sc), -127, 127).astype(np.int8)
            self.add_init(q, f"{p}_{tag}_q")
            ins.append(f"{p}_{tag}_q")
            extra += [self.add_init(scale, f"{p}_{tag}_scale"),
                      self.add_init(np.zeros(scale.shape, np.int8), f"{p}_{tag}_zp")]
            err = np.abs(q.astype(np.float32) * sc - t).max()
            self.report.append({"node": node.name, "op": "LSTM " + tag, "K": int(K), "N": int(dirs * G),
                                "max_abs_weight_error": float(err)})
        rest = list(node.input[3:8]) + [""] * (8 - len(node.input))   # B, sequence_lens, h0, c0, P
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
        return [helper.make_node("DynamicQuantizeLSTM", ins + rest + extra, list(node.output),
                                 p + "_quant", domain="com.microsoft", **attrs)]

    def gather(self, node):
        table = self.const(node.input[0])
        p = node.name.strip("/").replace("/", "_")
        amax = float(np.abs(table).max())
        scale = np.float32(amax / 127.0 if amax > 0 else 1.0)
        q = np.clip(np.rint(table / scale), -127, 127).astype(np.int8)
        self.add_init(q, p + "_table_q")
        self.add_init(np.array(scale, np.float32), p + "_scale")
        self.add_init(np.array(0, np.int8), p + "_zp")
        self.report.append({"node": node.name, "op": "Gather", "K": int(table.shape[1]),
                            "N": int(table.shape[0]),
                            "max_abs_weight_error": float(np.abs(q.astype(np.float32) * scale - table).max())})
        return [helper.make_node("Gather", [p + "_table_q", node.input[1]], [p + "_q"], p + "_q",
                                 axis=0),
                helper.make_node("DequantizeLinear", [p + "_q", p + "_scale", p + "_zp"],
                                 list(node.output), p + "_deq")]

    def run(self):
        new = []
        for n in self.g.node:
            if n.op_type == "Gather" and not self.keep_gather and self.const(n.input[0]) is not None:
                axis = next((helper.get_attribute_value(a) for a in n.attribute if a.name == "axis"), 0)
                if axis == 0 and self.const(n.input[0]).ndim == 2:
                    new += self.gather(n)
                    continue
            if n.op_type == "MatMul" and self.const(n.input[1]) is not None:
                w = self.const(n.input[1])
                if w.ndim == 2:
                    new += self.linear(n, n.input[0], w, None, n.output[0])
                    continue
            if n.op_type == "Gemm" and self.const(n.input[1]) is not None:
                a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
                if a.get("transA", 0) == 0 and a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0:
                    w = self.const(n.input[1])
                    w = w.T if a.get("transB", 0) else w
                    bias = n.input[2] if len(n.input) > 2 and n.input[2] else None
                    new += self.linear(n, n.input[0], np.ascontiguousarray(w), bias, n.output[0])
                    continue
            if n.op_type == "LSTM" and not self.keep_lstm and self.const(n.input[1]) is not None \
                    and self.const(n.input[2]) is not None:
                new += self.lstm(n)
                continue
            new.append(n)
        del self.g.node[:]
        self.g.node.extend(new)
        self.drop_unused()
        if any(n.domain == "com.microsoft" for n in self.g.node) and \
                not any(o.domain == "com.microsoft" for o in self.m.opset_import):
            self.m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
        return self.m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--weight-type", choices=("int8", "uint8"), default="int8")
    ap.add_argument("--per-tensor", action="store_true", help="one scale per weight (default: per output column)")
    ap.add_argument("--keep-lstm", action="store_true", help="leave the encoder's LSTM op in F32")
    ap.add_argument("--keep-gather", action="store_true", help="leave the embedding tables in F32")
    ap.add_argument("--suffix", default="_int8")
    args = ap.parse_args()
    info = {"weight_type": args.weight_type, "per_channel": not args.per_tensor,
            "lstm": "F32" if args.keep_lstm else "DynamicQuantizeLSTM",
            "embeddings": "F32" if args.keep_gather else "int8, one scale per table", "graphs": {}}
    for name in GRAPHS:
        src = os.path.join(args.dir, name + ".onnx")
        if not os.path.exists(src):
            raise SystemExit(f"quantize_onnx: {src} not found (run scripts/bench/export_onnx.py first)")
        r = Rewriter(onnx.load(src), args.weight_type, not args.per_tensor, args.keep_lstm,
                     args.keep_gather)
        m = r.run()
        onnx.checker.check_model(m)
        dst = os.path.join(args.dir, name + args.suffix + ".onnx")
        onnx.save(m, dst)
        info["graphs"][name] = {"bytes_f32": os.path.getsize(src), "bytes": os.path.getsize(dst),
                                "quantised": r.report}
        print(f"{dst}: {os.path.getsize(dst):,} bytes (F32 {os.path.getsize(src):,}), "
              f"{len(r.report)} weights quantised")
    with open(os.path.join(args.dir, "int8.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
