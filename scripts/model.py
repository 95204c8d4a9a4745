#!/usr/bin/python3
"""stele's PyTorch reference: an attention-based LSTM sequence-to-sequence model whose whole
architecture is one config dict (the same dict is stored in the exported .safetensors file).

The C engine reproduces THIS module; every choice below is part of the contract.

Glossary: S source length, T target length, E embedding size, H encoder hidden size per
direction, D encoder output size (2H for bilstm, H for lstm), Hd decoder hidden size, A attention
size (additive/concat), O attentional/output vector size, V vocabulary size, B batch, L layers.

Config keys (see DEFAULT_CONFIG and models/FORMAT.md):
  src_vocab, tgt_vocab, emb            vocabulary sizes, embedding size E (source and target)
  encoder.type    "lstm" | "bilstm"    bilstm: EVERY layer is bidirectional, H per direction, the
                                       layer output is [forward; backward] (D = 2H)
  encoder.layers, encoder.hidden
  encoder.residual_from  r             0 = none; else layer l (1-based, l >= max(r, 2)) outputs
                                       LSTM_l(x) + x (GNMT residual; sizes are equal from layer 2)
  attention.score "none"|"dot"|"general"|"additive"|"concat"
                                       q = query (Hd), h_j = encoder output j (D):
        dot       e_j = q . h_j                           (needs Hd == D)
        general   e_j = q . (W_a h_j)                     W_a: attention.linear_in [Hd, D], no bias
        additive  e_j = v . tanh(W_q q + W_k h_j + b_k)   attention.query [A, Hd] (no bias),
                                                          attention.key [A, D] + bias [A],
                                                          attention.v [1, A] (no bias)
        concat    e_j = v . tanh(W [q; h_j])              attention.linear [A, Hd + D] (no bias),
                                                          attention.v [1, A]
        none      no attention: the decoder sees the source only through the bridge (the
                  "single vector" baseline); no context vector, no attention row.
                  a = softmax_j(e), c = sum_j a_j h_j. The keys (W_a h_j, W_k h_j + b_k, and the
                  h_j half of concat's W) do not depend on the step: computed once per sentence.
  attention.dim   A
  decoder.style   "bahdanau" | "luong"
        bahdanau  c_t   = attn(q = s_{t-1}, H)            (the previous top-layer hidden state;
                                                           with placement gnmt, layer 1's)
                  s_t   = LSTM stack([emb(y_{t-1}); c_t], s_{t-1})
                  o_t   = tanh(W_p [s_t; c_t; emb(y_{t-1})] + b_p)     decoder.proj [O, Hd+D+E]
        luong     s_t   = LSTM stack([emb(y_{t-1}); o_{t-1}], s_{t-1})  (input feeding, o_0 = 0)
                  c_t   = attn(q = s_t, H)
                  o_t   = tanh(W_c [c_t; s_t])                         decoder.proj [O, D+Hd],
                                                                       no bias
        logits_t = W_out o_t + b_out (generator.weight [V, O], generator.bias [V]);
        with score none the context parts are simply absent from the concatenations.
  decoder.layers, decoder.hidden (Hd), decoder.out (O)
  decoder.residual_from r              as for the encoder, on the LSTM-output part of the input
  decoder.placement "top" | "gnmt"     top: the context enters layer 1 only; gnmt (bahdanau style
                                       only): the query is layer 1's previous hidden state and the
                                       context is appended to the input of EVERY layer
                                       (layer l>1 input = [s^{l-1}_t; c_t]).
  bridge "zero" | "linear"             linear: the top encoder layer's final states (lstm: h_S;
                                       bilstm: [forward h_S; backward h_1], same for c) give every
                                       decoder layer's initial state:
                                       h0 = tanh(W_h f_h + b_h), c0 = W_c f_c + b_c, with
                                       bridge.h [L*Hd, D], bridge.c [L*Hd, D]; row block l is layer
                                       l. zero: all-zero initial states.
  tie_embeddings  true: generator.weight IS tgt_embed.weight (needs O == E; exported once, as
                  tgt_embed.weight).
  pad_id, unk_id, bos_id, eos_id       token ids (one SentencePiece model for both sides).

LSTM cells are PyTorch's: gates = W_ih x + b_ih + W_hh h + b_hh, split in the order i, f, g, o;
i, f, o sigmoid, g tanh; c' = f*c + i*g; h' = o*tanh(c').
The source is the SentencePiece ids followed by eos_id; the decoder starts from bos_id.
Dropout (training only) acts on embeddings, between layers and on o_t; it does not exist at
inference.
"""
import copy
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "src_vocab": 8000, "tgt_vocab": 8000, "emb": 256,
    "encoder": {"type": "bilstm", "layers": 1, "hidden": 256, "residual_from": 0},
    "attention": {"score": "general", "dim": 256},
    "decoder": {"style": "luong", "layers": 1, "hidden": 512, "out": 256, "residual_from": 0,
                "placement": "top"},
    "bridge": "linear", "tie_embeddings": True, "dropout": 0.2,
    "pad_id": 0, "unk_id": 1, "bos_id": 2, "eos_id": 3,
}
MASK_VALUE = -1e9   # padding scores (training batches only); never -inf (all-masked rows -> NaN)


def merge_config(overrides):
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    for k, v in overrides.items():
        if isinstance(v, dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    return cfg


def check_config(cfg):
    """Raise ValueError naming the first inconsistent key."""
    enc, att, dec = cfg["encoder"], cfg["attention"], cfg["decoder"]
    if enc["type"] not in ("lstm", "bilstm"):
        raise ValueError(f"encoder.type {enc['type']!r}")
    if att["score"] not in ("none", "dot", "general", "additive", "concat"):
        raise ValueError(f"attention.score {att['score']!r}")
    if dec["style"] not in ("bahdanau", "luong"):
        raise ValueError(f"decoder.style {dec['style']!r}")
    if dec["placement"] not in ("top", "gnmt"):
        raise ValueError(f"decoder.placement {dec['placement']!r}")
    if dec["placement"] == "gnmt" and dec["style"] != "bahdanau":
        raise ValueError("decoder.placement gnmt needs decoder.style bahdanau")
    if dec["placement"] == "gnmt" and att["score"] == "none":
        raise ValueError("decoder.placement gnmt needs an attention (attention.score is none)")
    for part, sub in (("encoder", enc), ("decoder", dec)):
        # layer 1 cannot have a residual (its input size differs) and r above the layer count
        # would mean none: both refused, as the C loader does (models/FORMAT.md "Config")
        if sub["residual_from"] == 1 or sub["residual_from"] > sub["layers"]:
            raise ValueError(f"{part}.residual_from {sub['residual_from']} (0 or 2..{part}.layers)")
    D = enc["hidden"] * (2 if enc["type"] == "bilstm" else 1)
    if att["score"] == "dot" and dec["hidden"] != D:
        raise ValueError(f"attention.score dot needs decoder.hidden == encoder output size {D}")
    if cfg["tie_embeddings"] and dec["out"] != cfg["emb"]:
        raise ValueError("tie_embeddings needs decoder.out == emb")
    if cfg["bridge"] not in ("zero", "linear"):
        raise ValueError(f"bridge {cfg['bridge']!r}")
    for part in (enc, dec):
        if part["layers"] < 1:
            raise ValueError("layers must be >= 1")


class Attention(nn.Module):
    def __init__(self, score, Hd, D, A):
        super().__init__()
        self.score = score
        if score == "general":
            self.linear_in = nn.Linear(D, Hd, bias=False)
        elif score == "additive":
            self.query = nn.Linear(Hd, A, bias=False)
            self.key = nn.Linear(D, A, bias=True)
            self.v = nn.Linear(A, 1, bias=False)
        elif score == "concat":
            self.linear = nn.Linear(Hd + D, A, bias=False)
            self.v = nn.Linear(A, 1, bias=False)
        self.Hd = Hd

    def keys(self, memory):
        """memory [B, S, D] -> the step-independent part of the score, once per sentence."""
        if self.score == "general":
            return self.linear_in(memory)                     # [B, S, Hd]
        if self.score == "additive":
            return self.key(memory)                           # [B, S, A]
        if self.score == "concat":
            return F.linear(memory, self.linear.weight[:, self.Hd:])   # [B, S, A]
        return memory

    def forward(self, query, memory, keys, mask):
        """query [B, Hd], memory [B, S, D], keys from keys(), mask [B, S] True = padding.
        Returns context [B, D], weights [B, S]."""
        if self.score in ("dot", "general"):
            e = torch.bmm(keys, query.unsqueeze(2)).squeeze(2)
        elif self.score == "additive":
            e = self.v(torch.tanh(keys + self.query(query).unsqueeze(1))).squeeze(2)
        else:  # concat
            q = F.linear(query, self.linear.weight[:, :self.Hd])
            e = self.v(torch.tanh(keys + q.unsqueeze(1))).squeeze(2)
        if mask is not None:
            e = e.masked_fill(mask, MASK_VALUE)
        a = torch.softmax(e, dim=1)
        return torch.bmm(a.unsqueeze(1), memory).squeeze(1), a


class Seq2Seq(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        check_config(cfg)
        self.cfg = cfg
        enc, att, dec = cfg["encoder"], cfg["attention"], cfg["decoder"]
        E, H, Hd, O = cfg["emb"], enc["hidden"], dec["hidden"], dec["out"]
        bi = enc["type"] == "bilstm"
        self.D = D = H * (2 if bi else 1)
        self.has_attn = att["score"] != "none"
        C = D if self.has_attn else 0        # context size entering the decoder
        self.src_embed = nn.Embedding(cfg["src_vocab"], E)
        self.tgt_embed = nn.Embedding(cfg["tgt_vocab"], E)
        self.enc_layers = nn.ModuleList(
            nn.LSTM(E if l == 0 else D, H, batch_first=True, bidirectional=bi)
            for l in range(enc["layers"]))
        if self.has_attn:
            self.attention = Attention(att["score"], Hd, D, att["dim"])
        gnmt = dec["placement"] == "gnmt"
        luong = dec["style"] == "luong"
        cells = []
        for l in range(dec["layers"]):
            if l == 0:
                inp = E + (O if luong else C)
            else:
                inp = Hd + (C if gnmt else 0)
            cells.append(nn.LSTMCell(inp, Hd))
        self.dec_cells = nn.ModuleList(cells)
        if luong:
            self.proj = nn.Linear(C + Hd, O, bias=False)
        else:
            self.proj = nn.Linear(Hd + C + E, O, bias=True)
        self.generator = nn.Linear(O, cfg["tgt_vocab"], bias=True)
        if cfg["tie_embeddings"]:
            self.generator.weight = self.tgt_embed.weight
        if cfg["bridge"] == "linear":
            self.bridge_h = nn.Linear(D, dec["layers"] * Hd)
            self.bridge_c = nn.Linear(D, dec["layers"] * Hd)
        self.dropout = nn.Dropout(cfg.get("dropout", 0.0))

    # ---- encoder -------------------------------------------------------------------------
    def encode(self, src, src_len):
        """src [B, S] ids (already ending in eos), src_len [B] -> (memory [B, S, D],
        final_h [B, D], final_c [B, D]) from the top layer."""
        enc = self.cfg["encoder"]
        x = self.dropout(self.src_embed(src))
        lengths = src_len.cpu()
        for l, lstm in enumerate(self.enc_layers):
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                       enforce_sorted=False)
            out, (h, c) = lstm(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                      total_length=src.shape[1])
            if enc["residual_from"] and l + 1 >= max(enc["residual_from"], 2):
                out = out + x
            x = out if l + 1 == len(self.enc_layers) else self.dropout(out)
        # h, c: [num_directions, B, H] -> [B, D]: forward final, then backward final (= step 1)
        fh = torch.cat(list(h), dim=1)
        fc = torch.cat(list(c), dim=1)
        return x, fh, fc

    def init_state(self, memory, fh, fc):
        dec = self.cfg["decoder"]
        B, L, Hd = memory.shape[0], dec["layers"], dec["hidden"]
        if self.cfg["bridge"] == "linear":
            h0 = torch.tanh(self.bridge_h(fh)).view(B, L, Hd)
            c0 = self.bridge_c(fc).view(B, L, Hd)
            hs, cs = [h0[:, l] for l in range(L)], [c0[:, l] for l in range(L)]
        else:
            hs = [memory.new_zeros(B, Hd) for _ in range(L)]
            cs = [memory.new_zeros(B, Hd) for _ in range(L)]
        feed = memory.new_zeros(B, dec["out"])
        return {"h": hs, "c": cs, "feed": feed}

    def memory_keys(self, memory):
        return self.attention.keys(memory) if self.has_attn else None

    # ---- one decoder step ------------------------------------------------------------------
    def step(self, y_prev, state, memory, keys, mask, logits=True):
        """y_prev [B] ids; state from init_state/step. Returns (new_state, logits [B, V] (None
        when logits=False: training applies the generator to all steps at once), attn [B, S] or
        None, o_t [B, O])."""
        dec = self.cfg["decoder"]
        luong = dec["style"] == "luong"
        gnmt = dec["placement"] == "gnmt"
        res = dec["residual_from"]
        emb = self.dropout(self.tgt_embed(y_prev))
        ctx = attn = None
        if self.has_attn and not luong:
            query = state["h"][0] if gnmt else state["h"][-1]
            ctx, attn = self.attention(query, memory, keys, mask)
        if luong:
            x = torch.cat([emb, state["feed"]], dim=1)
        else:
            x = torch.cat([emb, ctx], dim=1) if ctx is not None else emb
        hs, cs = [], []
        below = None
        for l, cell in enumerate(self.dec_cells):
            if l > 0:
                x = self.dropout(below)
                if gnmt and ctx is not None:
                    x = torch.cat([x, ctx], dim=1)
            h, c = cell(x, (state["h"][l], state["c"][l]))
            if res and l >= 1 and l + 1 >= res:
                h_out = h + below
            else:
                h_out = h
            hs.append(h)
            cs.append(c)
            below = h_out
        top = below
        if luong:
            if self.has_attn:
                ctx, attn = self.attention(top, memory, keys, mask)
                o = torch.tanh(self.proj(torch.cat([ctx, top], dim=1)))
            else:
                o = torch.tanh(self.proj(top))
        else:
            parts = [top] + ([ctx] if ctx is not None else []) + [emb]
            o = torch.tanh(self.proj(torch.cat(parts, dim=1)))
        out = self.generator(self.dropout(o)) if logits else None
        return {"h": hs, "c": cs, "feed": o}, out, attn, o

    def forward(self, src, src_len, tgt_in):
        """Teacher forcing: tgt_in [B, T] starts with bos. Returns logits [B, T, V]."""
        memory, fh, fc = self.encode(src, src_len)
        keys = self.memory_keys(memory)
        mask = torch.arange(src.shape[1], device=src.device)[None, :] >= src_len[:, None]
        state = self.init_state(memory, fh, fc)
        out = []
        for t in range(tgt_in.shape[1]):
            state, _, _, o = self.step(tgt_in[:, t], state, memory, keys, mask, logits=False)
            out.append(o)
        return self.generator(self.dropout(torch.stack(out, dim=1)))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
