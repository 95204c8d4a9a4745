#!/usr/bin/python3
"""Export a stele model (.safetensors) to two ONNX graphs for the onnxruntime-web benchmark, plus
the side files the JS peers need (the search loop lives in JS, scripts/bench/search.mjs):

    /usr/bin/python3 scripts/bench/export_onnx.py --model models/ui-en-fr/model.safetensors \
        --out build/bench/ui-en-fr

writes OUT/encoder.onnx, OUT/decoder_step.onnx, OUT/decoder_step_batch.onnx and OUT/meta.json
(config, search defaults, pieces for detokenising, token ids).

  encoder       src int32 [1, S] (ids ending in eos)
                -> memory [S, D], keys [S, K] (the step-independent attention part),
                   h0, c0 [L, 1, Hd] (bridge), feed0 [1, O] (zeros)
  decoder_step  y int32 [B], h, c [L, B, Hd], feed [B, O], memory [S, D], keys [S, K]
                -> logp [B, V] (log_softmax of the logits), h1, c1 [L, B, Hd], feed1 [B, O],
                   attn [B, S]

  decoder_step_batch  the same for B different sentences: memory [B, S, D], keys [B, S, K]
                padded to the longest, plus mask [B, S] (0 or -1e30, added to the scores)

In decoder_step, memory and keys have no batch axis: the B beams of a step share them (broadcast in the graph),
so a beam step copies them into ORT once, not B times. The step is scripts/model.py's
Seq2Seq.step, rewritten only for that broadcast; parity is checked on the golden outputs.
"""
import argparse, json, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from export import load  # noqa: E402


class Encoder(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, src):
        m, cfg = self.m, self.m.cfg
        enc = cfg["encoder"]
        x = m.src_embed(src.long())                      # [1, S, E]
        h = c = None
        for l, lstm in enumerate(m.enc_layers):           # batch 1, no padding: no packing
            out, (h, c) = lstm(x)
            if enc["residual_from"] and l + 1 >= max(enc["residual_from"], 2):
                out = out + x
            x = out
        fh = torch.cat(list(h), dim=1)                    # [1, D]
        fc = torch.cat(list(c), dim=1)
        st = m.init_state(x, fh, fc)
        memory = x[0]
        keys = m.attention.keys(x)[0]
        h0 = torch.stack(st["h"], 0)                      # [L, 1, Hd]
        c0 = torch.stack(st["c"], 0)
        return memory, keys, h0, c0, st["feed"]


class DecoderStep(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def attend(self, q, memory, keys):
        att = self.m.attention
        if att.score in ("dot", "general"):
            e = q @ keys.t()                                              # [B, S]
        elif att.score == "additive":
            e = att.v(torch.tanh(keys.unsqueeze(0) + att.query(q).unsqueeze(1))).squeeze(2)
        else:  # concat
            qq = F.linear(q, att.linear.weight[:, :att.Hd])
            e = att.v(torch.tanh(keys.unsqueeze(0) + qq.unsqueeze(1))).squeeze(2)
        a = torch.softmax(e, dim=1)
        return a @ memory, a                                              # [B, D], [B, S]

    def forward(self, y, h, c, feed, memory, keys):
        m = self.m
        dec = m.cfg["decoder"]
        luong, gnmt, res = dec["style"] == "luong", dec["placement"] == "gnmt", dec["residual_from"]
        emb = m.tgt_embed(y.long())
        ctx = attn = None
        if not luong:
            ctx, attn = self.attend(h[0] if gnmt else h[-1], memory, keys)
            x = torch.cat([emb, ctx], dim=1)
        else:
            x = torch.cat([emb, feed], dim=1)
        hs, cs, below = [], [], None
        for l, cell in enumerate(m.dec_cells):
            if l > 0:
                x = below
                if gnmt:
                    x = torch.cat([x, ctx], dim=1)
            hl, cl = cell(x, (h[l], c[l]))
            below = hl + below if (res and l >= 1 and l + 1 >= res) else hl
            hs.append(hl)
            cs.append(cl)
        top = below
        if luong:
            ctx, attn = self.attend(top, memory, keys)
            o = torch.tanh(m.proj(torch.cat([ctx, top], dim=1)))
        else:
            o = torch.tanh(m.proj(torch.cat([top, ctx, emb], dim=1)))
        logp = torch.log_softmax(m.generator(o), dim=1)
        return logp, torch.stack(hs, 0), torch.stack(cs, 0), o, attn


class DecoderStepBatch(DecoderStep):
    """DecoderStep for B different sentences (the peers' batched greedy): memory [B, S, D] and
    keys [B, S, K] padded to the longest source, mask [B, S] added to the scores (0 for a real
    position, -1e30 for padding, whose softmax weight is then exactly 0)."""

    def attend(self, q, memory, keys):
        att = self.m.attention
        if att.score in ("dot", "general"):
            e = torch.bmm(keys, q.unsqueeze(2)).squeeze(2)                # [B, S]
        elif att.score == "additive":
            e = att.v(torch.tanh(keys + att.query(q).unsqueeze(1))).squeeze(2)
        else:  # concat
            qq = F.linear(q, att.linear.weight[:, :att.Hd])
            e = att.v(torch.tanh(keys + qq.unsqueeze(1))).squeeze(2)
        a = torch.softmax(e + self.mask, dim=1)
        return torch.bmm(a.unsqueeze(1), memory).squeeze(1), a           # [B, D], [B, S]

    def forward(self, y, h, c, feed, memory, keys, mask):
        self.mask = mask
        return super().forward(y, h, c, feed, memory, keys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=14)
    args = ap.parse_args()
    model, sp, meta = load(args.model)
    cfg = model.cfg
    if not model.has_attn:
        raise SystemExit("export_onnx: models without attention are not supported by the bench")
    os.makedirs(args.out, exist_ok=True)
    torch.set_grad_enabled(False)
    enc, step = Encoder(model).eval(), DecoderStep(model).eval()
    S = 7
    src = torch.randint(4, cfg["src_vocab"], (1, S), dtype=torch.int32)
    memory, keys, h0, c0, feed0 = enc(src)
    torch.onnx.export(enc, (src,), os.path.join(args.out, "encoder.onnx"),
                      input_names=["src"], output_names=["memory", "keys", "h0", "c0", "feed0"],
                      dynamic_axes={"src": {1: "S"}, "memory": {0: "S"}, "keys": {0: "S"}},
                      opset_version=args.opset, do_constant_folding=True)
    B = 3
    y = torch.full((B,), cfg["bos_id"], dtype=torch.int32)
    ex = (y, h0.expand(-1, B, -1).contiguous(), c0.expand(-1, B, -1).contiguous(),
          feed0.expand(B, -1).contiguous(), memory, keys)
    torch.onnx.export(step, ex, os.path.join(args.out, "decoder_step.onnx"),
                      input_names=["y", "h", "c", "feed", "memory", "keys"],
                      output_names=["logp", "h1", "c1", "feed1", "attn"],
                      dynamic_axes={"y": {0: "B"}, "h": {1: "B"}, "c": {1: "B"}, "feed": {0: "B"},
                                    "memory": {0: "S"}, "keys": {0: "S"}, "logp": {0: "B"},
                                    "h1": {1: "B"}, "c1": {1: "B"}, "feed1": {0: "B"},
                                    "attn": {0: "B", 1: "S"}},
                      opset_version=args.opset, do_constant_folding=True)
    bstep = DecoderStepBatch(model).eval()
    exb = ex[:4] + (memory.unsqueeze(0).expand(B, -1, -1).contiguous(),
                    keys.unsqueeze(0).expand(B, -1, -1).contiguous(), torch.zeros(B, S))
    torch.onnx.export(bstep, exb, os.path.join(args.out, "decoder_step_batch.onnx"),
                      input_names=["y", "h", "c", "feed", "memory", "keys", "mask"],
                      output_names=["logp", "h1", "c1", "feed1", "attn"],
                      dynamic_axes={"y": {0: "B"}, "h": {1: "B"}, "c": {1: "B"}, "feed": {0: "B"},
                                    "memory": {0: "B", 1: "S"}, "keys": {0: "B", 1: "S"},
                                    "mask": {0: "B", 1: "S"}, "logp": {0: "B"},
                                    "h1": {1: "B"}, "c1": {1: "B"}, "feed1": {0: "B"},
                                    "attn": {0: "B", 1: "S"}},
                      opset_version=args.opset, do_constant_folding=True)
    info = {"name": meta.get("name", os.path.basename(os.path.dirname(args.model))),
            "config": cfg, "search": json.loads(meta.get("search") or "{}"),
            "pieces": [sp.id_to_piece(i) for i in range(sp.get_piece_size())],
            "onnx_bytes": {f: os.path.getsize(os.path.join(args.out, f))
                           for f in ("encoder.onnx", "decoder_step.onnx",
                                     "decoder_step_batch.onnx")}}
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(info, f, ensure_ascii=False)
    print(f"{args.out}: encoder.onnx {info['onnx_bytes']['encoder.onnx']:,} bytes, "
          f"decoder_step.onnx {info['onnx_bytes']['decoder_step.onnx']:,} bytes")


if __name__ == "__main__":
    main()
