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

Image models (task "caption", encoder.type "cnn"; see models/FORMAT.md "Image models"):
  task            "translate" (absent = translate) | "caption"
  image           {"height", "width", "channels" (1 or 3), "mean", "std"}: pixels p (u8) enter
                  as x = (p / 255 - mean) / std, each operation one float32 IEEE operation
                  (pixel_table gives the 256 values), a [channels, height, width] tensor.
  encoder         {"type": "cnn", "channels": [C_0, ..., C_{n-1}]}: block i is
                  x = maxpool2x2(relu(conv3x3(x) + b)) (cnn.{i}.weight [C_i, C_{i-1}, 3, 3],
                  stride 1, zero padding 1; max-pool 2x2 stride 2, floor: 21 -> 10). The final
                  map [D = C_{n-1}, h, w] gives the memory a_l, l = row * w + col (row-major),
                  S = h * w locations of D features. No source embedding, no encoder LSTM.
  encoder.position "none" (default) | "learned": memory_position.weight [S, D] is added to the
                  memory, a_l = map[:, row, col] + P_l. Without it the decoder cannot tell WHERE
                  anything is: the additive score and the context only see the features' content,
                  and a CNN's features are (away from the zero-padded border) translation-
                  equivariant; captions that name places need it.
  bridge          from the mean of the memory: f_h = f_c = (1/S) sum_l a_l (position included).
  attention.gate  true (bahdanau style, top placement only): beta_t = sigmoid(w_g . q + b_g)
                  (attention.gate [1, Hd] + bias [1], q = the query s_{t-1}); the context is
                  c_t = beta_t * sum_l alpha_tl a_l (this gated c_t enters the LSTM input and the
                  projection). The attention row reported is alpha_t (not gated).
  decoder         bahdanau style only; everything else as for text. src_vocab == tgt_vocab (one
                  word vocabulary, stored as tokenizer.words).
Training adds the doubly stochastic penalty lambda * sum_l (1 - sum_t alpha_tl)^2 (train_caption.py).
"""
import copy
import numpy as np
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
        # a cnn encoder replaces the LSTM encoder's keys (layers, hidden, ...) instead of
        # merging into them; sections absent from the defaults (image) are taken whole
        if isinstance(v, dict) and k in cfg and not (k == "encoder" and v.get("type") == "cnn"):
            cfg[k].update(v)
        else:
            cfg[k] = copy.deepcopy(v)
    return cfg


def cnn_pools(enc):
    """encoder.pool: one boolean per block, whether it ends in the 2x2 max-pool (absent: every
    block does). A block without one keeps its input's size: a second convolution at the same
    scale, which widens what each final location sees at a quarter of a pooled block's cost per
    output pixel lost. ValueError for a malformed list."""
    n = len(enc["channels"])
    pools = enc.get("pool", [True] * n)
    if (not isinstance(pools, list) or len(pools) != n
            or any(not isinstance(p, bool) for p in pools)):
        raise ValueError(f"encoder.pool {pools!r}: a list of {n} booleans, one per block")
    return pools


def make_cnn(cfg):
    """The CNN blocks' convolutions (tensors cnn.{i}.weight/bias): 3x3, padding 1."""
    chans = cfg["encoder"]["channels"]
    return nn.ModuleList(
        nn.Conv2d(cfg["image"]["channels"] if i == 0 else chans[i - 1], c, 3, padding=1)
        for i, c in enumerate(chans))


def run_cnn(cnn, pools, x):
    """x [B, C, H, W] normalised -> the final map [B, D, h, w]: each block is conv + ReLU, then
    the 2x2 max-pool (floor) where pools says so."""
    for conv, pool in zip(cnn, pools):
        x = torch.relu(conv(x))
        if pool:
            x = F.max_pool2d(x, 2)
    return x


def feature_stride(cfg):
    """Pixels per final-grid step: 2 ** (the number of pooling blocks)."""
    return 2 ** sum(cnn_pools(cfg["encoder"]))


def feature_grid(cfg):
    """(h, w) of the CNN's final feature map: each pooling block halves with floor
    (MaxPool2d(2)); the others keep the size."""
    h, w = cfg["image"]["height"], cfg["image"]["width"]
    for pool in cnn_pools(cfg["encoder"]):
        if pool:
            h, w = h // 2, w // 2
    return h, w


def _check_image(cfg):
    enc, img = cfg["encoder"], cfg.get("image")
    if enc["type"] != "cnn":
        raise ValueError("task caption needs encoder.type cnn")
    if not isinstance(img, dict):
        raise ValueError("task caption needs an image section")
    for k in ("height", "width", "channels"):
        if not isinstance(img.get(k), int) or isinstance(img.get(k), bool) or img[k] < 1:
            raise ValueError(f"image.{k} {img.get(k)!r}")
    if img["channels"] not in (1, 3):
        raise ValueError(f"image.channels {img['channels']} (1 or 3)")
    for k in ("mean", "std"):
        if not isinstance(img.get(k), (int, float)) or isinstance(img.get(k), bool):
            raise ValueError(f"image.{k} {img.get(k)!r}")
    if not img["std"] > 0:
        raise ValueError(f"image.std {img['std']!r} (must be > 0)")
    if enc.get("position", "none") not in ("none", "learned"):
        raise ValueError(f"encoder.position {enc.get('position')!r} (none or learned)")
    ch = enc.get("channels")
    if not isinstance(ch, list) or not ch or any(
            not isinstance(c, int) or isinstance(c, bool) or c < 1 for c in ch):
        raise ValueError(f"encoder.channels {ch!r} (a non-empty list of positive integers)")
    h, w = img["height"], img["width"]
    for i, pool in enumerate(cnn_pools(enc)):
        if pool and (h < 2 or w < 2):
            raise ValueError(f"encoder.channels: block {i} would pool a {h}x{w} map to nothing")
        if pool:
            h, w = h // 2, w // 2
    if cfg["decoder"]["style"] != "bahdanau":
        raise ValueError("task caption needs decoder.style bahdanau")
    if cfg["src_vocab"] != cfg["tgt_vocab"]:
        raise ValueError("task caption needs src_vocab == tgt_vocab (one word vocabulary)")


def check_config(cfg):
    """Raise ValueError naming the first inconsistent key."""
    enc, att, dec = cfg["encoder"], cfg["attention"], cfg["decoder"]
    task = cfg.get("task", "translate")
    if task not in ("translate", "caption"):
        raise ValueError(f"task {task!r}")
    if task == "caption":
        _check_image(cfg)
    elif enc["type"] not in ("lstm", "bilstm"):
        raise ValueError(f"encoder.type {enc['type']!r}"
                         + (" (needs task caption)" if enc["type"] == "cnn" else ""))
    gate = att.get("gate", False)
    if not isinstance(gate, bool):
        raise ValueError(f"attention.gate {gate!r} (true or false)")
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
    if gate and (att["score"] == "none" or dec["style"] != "bahdanau"
                 or dec["placement"] != "top"):
        raise ValueError("attention.gate needs an attention score, decoder.style bahdanau and "
                         "decoder.placement top")
    image = enc["type"] == "cnn"
    for part, sub in ((("decoder", dec),) if image else (("encoder", enc), ("decoder", dec))):
        # layer 1 cannot have a residual (its input size differs) and r above the layer count
        # would mean none: both refused, as the C loader does (models/FORMAT.md "Config")
        if sub["residual_from"] == 1 or sub["residual_from"] > sub["layers"]:
            raise ValueError(f"{part}.residual_from {sub['residual_from']} (0 or 2..{part}.layers)")
    if image:
        D = enc["channels"][-1]
    else:
        D = enc["hidden"] * (2 if enc["type"] == "bilstm" else 1)
    if att["score"] == "dot" and dec["hidden"] != D:
        raise ValueError(f"attention.score dot needs decoder.hidden == encoder output size {D}")
    if cfg["tie_embeddings"] and dec["out"] != cfg["emb"]:
        raise ValueError("tie_embeddings needs decoder.out == emb")
    if cfg["bridge"] not in ("zero", "linear"):
        raise ValueError(f"bridge {cfg['bridge']!r}")
    for part in ((dec,) if image else (enc, dec)):
        if part["layers"] < 1:
            raise ValueError("layers must be >= 1")


class Attention(nn.Module):
    def __init__(self, score, Hd, D, A, gate=False):
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
        if gate:   # Show, Attend and Tell's gating scalar beta_t = sigmoid(f_beta(q))
            self.gate = nn.Linear(Hd, 1, bias=True)
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
        E, Hd, O = cfg["emb"], dec["hidden"], dec["out"]
        self.is_image = enc["type"] == "cnn"
        self.has_attn = att["score"] != "none"
        self.gated = bool(att.get("gate", False))
        if self.is_image:
            chans = enc["channels"]
            self.D = D = chans[-1]
            self.cnn = make_cnn(cfg)
            self.cnn_pools = cnn_pools(enc)
            if enc.get("position", "none") == "learned":
                h, w = feature_grid(cfg)
                self.memory_position = nn.Embedding(h * w, D)
                with torch.no_grad():
                    self.memory_position.weight.normal_(0.0, 0.1)
            self.register_buffer("pixel_table", torch.from_numpy(pixel_table(cfg["image"])),
                                 persistent=False)
        else:
            H = enc["hidden"]
            bi = enc["type"] == "bilstm"
            self.D = D = H * (2 if bi else 1)
            self.src_embed = nn.Embedding(cfg["src_vocab"], E)
        C = D if self.has_attn else 0        # context size entering the decoder
        self.tgt_embed = nn.Embedding(cfg["tgt_vocab"], E)
        if not self.is_image:
            self.enc_layers = nn.ModuleList(
                nn.LSTM(E if l == 0 else D, H, batch_first=True, bidirectional=bi)
                for l in range(enc["layers"]))
        if self.has_attn:
            self.attention = Attention(att["score"], Hd, D, att["dim"], self.gated)
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

    def normalize(self, pixels):
        """u8 pixels [B, H, W] (1 channel) or [B, H, W, C] (interleaved) -> float32
        [B, C, H, W], x = (p / 255 - mean) / std (pixel_table)."""
        p = pixels if torch.is_tensor(pixels) else torch.from_numpy(np.ascontiguousarray(pixels))
        if p.dtype != torch.uint8:
            raise ValueError(f"pixels must be uint8, got {p.dtype}")
        img = self.cfg["image"]
        shape = (img["height"], img["width"]) + ((img["channels"],) if img["channels"] > 1 else ())
        if tuple(p.shape[1:]) != shape:
            raise ValueError(f"pixels {tuple(p.shape)}: expected [B, {', '.join(map(str, shape))}]")
        x = self.pixel_table[p.long()]
        return x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2).contiguous()

    def encode_image(self, x):
        """x [B, C, H, W] normalised -> (memory [B, S, D] row-major over the final grid,
        f_h = f_c = mean of the memory [B, D])."""
        x = run_cnn(self.cnn, self.cnn_pools, x)
        B, D, h, w = x.shape
        memory = x.permute(0, 2, 3, 1).reshape(B, h * w, D)
        if hasattr(self, "memory_position"):
            memory = memory + self.memory_position.weight
        mean = memory.mean(dim=1)
        return memory, mean, mean

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
            if self.gated:
                ctx = torch.sigmoid(self.attention.gate(query)) * ctx
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

    def caption_forward(self, x, tgt_in):
        """Image models, teacher forcing: x [B, C, H, W] normalised, tgt_in [B, T] starting with
        bos. Returns (logits [B, T, V], attention [B, T, S]; zeros for score none)."""
        memory, fh, fc = self.encode_image(x)
        keys = self.memory_keys(memory)
        state = self.init_state(memory, fh, fc)
        out, rows = [], []
        for t in range(tgt_in.shape[1]):
            state, _, attn, o = self.step(tgt_in[:, t], state, memory, keys, None, logits=False)
            out.append(o)
            rows.append(attn if attn is not None else memory.new_zeros(memory.shape[:2]))
        return self.generator(self.dropout(torch.stack(out, dim=1))), torch.stack(rows, dim=1)


def pixel_table(image):
    """The 256 input values x = (p / 255 - mean) / std of an image config, each step a float32
    IEEE operation (p / 255 a correctly rounded division, then the subtraction, then the
    division), exactly what a C float computation of the same expression gives."""
    p = np.arange(256, dtype=np.float32)
    return ((p / np.float32(255.0)) - np.float32(image["mean"])) / np.float32(image["std"])


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def read_pretrained(path):
    """-> (config, {name: numpy array}) of a file a CNN can start from: a .pt holding
    {"config", "model"} (a training folder's best.pt, scripts/pretrain_cnn.py's cnn.pt) or an
    exported model (.safetensors, its config in the metadata)."""
    if path.endswith(".pt"):
        saved = torch.load(path, map_location="cpu")
        return saved["config"], {k: v.numpy() for k, v in saved["model"].items()}
    import json, stio   # only here: model.py itself needs neither
    tensors, meta = stio.load(path)
    return json.loads(meta["config"]), tensors


def cnn_param_groups(model, lr, frozen, cnn_scale):
    """Adam parameter groups of an image model: everything but cnn.* at lr, and the CNN blocks
    that are not frozen at lr * cnn_scale (a pretrained CNN may need a gentler rate). frozen:
    True (every block), False (none) or N, the first N blocks; a frozen block's parameters stop
    requiring gradients. Each group keeps its "scale" so that a halved lr keeps the ratio."""
    n_frozen = len(model.cnn) if frozen is True else int(frozen)
    for block in list(model.cnn)[:n_frozen]:
        for p in block.parameters():
            p.requires_grad_(False)
    groups = [{"params": [p for n, p in model.named_parameters() if not n.startswith("cnn.")],
               "scale": 1.0}]
    tuned = [p for block in list(model.cnn)[n_frozen:] for p in block.parameters()]
    if tuned:
        groups.append({"params": tuned, "scale": cnn_scale})
    for g in groups:
        g["lr"] = lr * g["scale"]
    return groups


def identity_blocks(have, want, what):
    """The cnn.{i}.weight/bias tensors that take a CNN with the blocks of encoder config `have`
    to those of `want` (train.extend_cnn): `have`'s blocks must be `want`'s first ones, and each
    further block unpooled with as many channels out as in. Its 3x3 kernel is the identity (the
    centre tap 1 from channel c to c, 0 elsewhere) and its bias 0: its input is a ReLU's output,
    never negative, so the block, ReLU included, passes it on unchanged, and the deeper model
    starts as the function the shallower one computes. SystemExit (naming `what`) otherwise."""
    n, hc, wc = len(have["channels"]), have["channels"], want["channels"]
    hp, wp = cnn_pools(have), cnn_pools(want)
    if wc[:n] != hc or wp[:n] != hp:
        raise SystemExit(f"{what}: CNN channels {hc} (pools {hp}) are not the first blocks of "
                         f"{wc} (pools {wp})")
    out = {}
    for i in range(n, len(wc)):
        if wp[i] or wc[i] != wc[i - 1]:
            raise SystemExit(f"{what}: block {i} of {wc} (pools {wp}) cannot start as the "
                             f"identity: it must keep {wc[i - 1]} channels and have no max-pool")
        w = torch.zeros(wc[i], wc[i], 3, 3)
        w[torch.arange(wc[i]), torch.arange(wc[i]), 1, 1] = 1.0
        out[f"cnn.{i}.weight"], out[f"cnn.{i}.bias"] = w, torch.zeros(wc[i])
    return out


def widen_hidden(start, have, want, fresh, what):
    """The state dict `start` of a VQA model with config `have`, with its glimpse hidden layer
    (attention.hidden) and classifier hidden layer (classifier.hidden) widened to `want`'s
    (train.widen_hidden). The new units take their incoming weights and biases from `fresh` (a
    newly initialised model of config `want`, so they differ from each other and learn) and get
    zero outgoing weights, so the wider model starts as the function the narrower one computes.
    Every other part of the two configs must be equal; SystemExit (naming `what`) otherwise."""
    rest = lambda c: {k: v for k, v in c.items() if k not in ("attention", "classifier")}
    if rest(have) != rest(want):
        raise SystemExit(f"{what}: only attention.hidden and classifier.hidden may differ to "
                         f"widen it; its config differs in more")
    out = dict(start)
    for key, first, second in (("attention", "glimpse.conv1", "glimpse.conv2"),
                               ("classifier", "classifier.fc1", "classifier.fc2")):
        old, new = have[key]["hidden"], want[key]["hidden"]
        if new < old:
            raise SystemExit(f"{what}: {key}.hidden {old} cannot shrink to {new}")
        if new == old:
            continue
        for name in (f"{first}.weight", f"{first}.bias"):
            out[name] = torch.cat([start[name], fresh[name][old:]], 0)
        w = start[f"{second}.weight"]
        out[f"{second}.weight"] = torch.cat(
            [w, torch.zeros((w.shape[0], new - old) + tuple(w.shape[2:]), dtype=w.dtype)], 1)
    return out


def cnn_state(path, enc, extend=False):
    """-> (the cnn.* tensors of read_pretrained(path) as a state dict for a CNN ModuleList,
    its config, all its tensors); SystemExit when its channels or pools differ from those of
    the encoder config `enc`. extend: its CNN may be the first blocks of enc's, the others
    starting as the identity (identity_blocks)."""
    cfg, tensors = read_pretrained(path)
    if extend and cfg["encoder"]["channels"] != enc["channels"]:
        tensors = dict(tensors)
        tensors.update({k: v.numpy() for k, v in
                        identity_blocks(cfg["encoder"], enc, path).items()})
        cfg = dict(cfg, encoder=dict(cfg["encoder"], channels=enc["channels"],
                                     pool=cnn_pools(enc)))
    if cfg["encoder"]["channels"] != enc["channels"]:
        raise SystemExit(f"{path}: CNN channels {cfg['encoder']['channels']} != {enc['channels']}")
    if cnn_pools(cfg["encoder"]) != cnn_pools(enc):
        raise SystemExit(f"{path}: CNN pools {cnn_pools(cfg['encoder'])} != {cnn_pools(enc)}")
    return ({k[4:]: torch.from_numpy(np.array(v)) for k, v in tensors.items()
             if k.startswith("cnn.")}, cfg, tensors)


# ---- visual question answering (task "vqa", issue 13) ------------------------------------------
# "Show, Ask, Attend and Answer" (Kazemi & Elqursh 2017). Config (models/FORMAT.md "VQA models"):
#   task        "vqa"
#   image       as for caption models; encoder {"type": "cnn", "channels": [...]} (the caption CNN)
#   l2norm      true: each location's feature vector phi_l is l2-normalised before use:
#               phi_l / max(||phi_l||_2, 1e-12) (torch.nn.functional.normalize)
#   encoder.position "none" (default) | "learned": memory_position.weight [S, D] (S = h * w of
#               the final grid, row-major; D = channels[-1]) is ADDED after the l2 norm:
#               phi_l = l2norm(cnn_l) + P_l, and that phi is what the glimpse scores read and
#               what the glimpses sum. Without it nothing says WHERE a feature is (a CNN is
#               translation-equivariant away from its border), and "where is the bag?", "what
#               is in the top right?" and every relation need the place. Added after the norm
#               so that the place keeps its weight whatever the features' magnitude.
#   question    {"emb": Eq, "hidden": Hq}: q_embed [Vq, Eq] -> ONE LSTM layer (q_lstm, gates i, f,
#               g, o as nn.LSTM) over the question ids (no bos/eos); s = the final hidden state [Hq]
#   glimpses    G (1..4); attention {"hidden": A}
#               u_l = relu(W1 [phi_l; s] + b1)   glimpse.conv1 [A, D + Hq, 1, 1]: a 1x1
#                                                convolution over the map with s tiled over every
#                                                location; input channels phi FIRST, then s
#               e_{g,l} = (W2 u_l + b2)_g         glimpse.conv2 [G, A, 1, 1]
#               alpha_g = softmax_l(e_g); x_g = sum_l alpha_{g,l} phi_l
#   classifier  {"hidden": F}: h = relu(fc1 [x_1; ...; x_G; s] + b) (classifier.fc1 [F, G*D + Hq]),
#               logits = fc2 h + b (classifier.fc2 [Na, F]); p = softmax(logits);
#               answer = argmax (lowest index among ties)
#   src_vocab Vq, answers Na, pad_id 0, unk_id 1; dropout (training only) on the classifier's
#   input and hidden layer.
#   pool        (training-only key, absent from shipped models) "mean": the no-attention
#               baseline: x = (1/S) sum_l phi_l, h = relu(fc1 [x; s] + b) (fc1 [F, D + Hq]); no
#               glimpse module. The engine does not run it.
VQA_DEFAULTS = {"l2norm": True, "question": {"emb": 64, "hidden": 128}, "glimpses": 2,
                "attention": {"hidden": 128}, "classifier": {"hidden": 256}, "dropout": 0.1,
                "pad_id": 0, "unk_id": 1}


def merge_vqa_config(overrides):
    cfg = copy.deepcopy(VQA_DEFAULTS)
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k].update(v)
        else:
            cfg[k] = copy.deepcopy(v)
    cfg["task"] = "vqa"
    return cfg


def _positive_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def check_vqa_config(cfg):
    """Raise ValueError naming the first inconsistent key of a task "vqa" config."""
    if cfg.get("task") != "vqa":
        raise ValueError(f"task {cfg.get('task')!r} (expected vqa)")
    _check_image({**cfg, "decoder": {"style": "bahdanau"}, "src_vocab": 0, "tgt_vocab": 0})
    if not isinstance(cfg.get("l2norm"), bool):
        raise ValueError(f"l2norm {cfg.get('l2norm')!r} (true or false)")
    pool = cfg.get("pool", "attention")
    if pool not in ("attention", "mean"):
        raise ValueError(f"pool {pool!r} (attention or mean)")
    for sec, keys in (("question", ("emb", "hidden")), ("attention", ("hidden",)),
                      ("classifier", ("hidden",))):
        if not isinstance(cfg.get(sec), dict):
            raise ValueError(f"{sec} section missing")
        for k in keys:
            if not _positive_int(cfg[sec].get(k)):
                raise ValueError(f"{sec}.{k} {cfg[sec].get(k)!r} (a positive integer)")
    g = cfg.get("glimpses")
    if not _positive_int(g) or g > 4:
        raise ValueError(f"glimpses {g!r} (1..4)")
    for k in ("src_vocab", "answers"):
        if not _positive_int(cfg.get(k)):
            raise ValueError(f"{k} {cfg.get(k)!r} (a positive integer)")
    if cfg["src_vocab"] < 2:
        raise ValueError("src_vocab must hold at least <pad> and <unk>")
    if (cfg.get("pad_id"), cfg.get("unk_id")) != (0, 1):
        raise ValueError("pad_id must be 0 and unk_id 1")


class Glimpses(nn.Module):
    """The two 1x1 convolutions: e = conv2(relu(conv1([phi; tile(s)]))), one map per glimpse."""

    def __init__(self, D, Hq, A, G):
        super().__init__()
        self.conv1 = nn.Conv2d(D + Hq, A, 1)
        self.conv2 = nn.Conv2d(A, G, 1)

    def forward(self, phi, s, scene=None):
        """phi [B_img, S, D], s [B, Hq], scene [B] (question b is about image scene[b]; None:
        B_img == B, one image per question) -> scores e [B, G, S] (before the softmax).
        A 1x1 convolution is a linear map of each location's channel vector, so conv1 over the
        [D + Hq, S] map with s tiled over the S locations is W1a phi_l + (W1b s + b1), W1 =
        [W1a | W1b]: the image half is computed once per image, the question half once per
        question (the same math as the tiled concatenation; float sums in another order)."""
        D = phi.shape[2]
        w1 = self.conv1.weight.flatten(1)
        p = F.linear(phi, w1[:, :D])                               # [B_img, S, A]
        q = F.linear(s, w1[:, D:], self.conv1.bias)                # [B, A]
        u = torch.relu((p if scene is None else p[scene]) + q[:, None, :])
        return F.linear(u, self.conv2.weight.flatten(1), self.conv2.bias).transpose(1, 2)


class Classifier(nn.Module):
    def __init__(self, n_in, Fh, Na, dropout):
        super().__init__()
        self.fc1 = nn.Linear(n_in, Fh)
        self.fc2 = nn.Linear(Fh, Na)
        self.dropout = nn.Dropout(dropout)

    def forward(self, v):
        h = torch.relu(self.fc1(self.dropout(v)))
        return self.fc2(self.dropout(h)), h


class VQA(nn.Module):
    """Image + question -> answer logits, with G attention glimpses (see the config notes above).
    Parameter names are the file's tensor names (models/FORMAT.md "VQA models")."""

    def __init__(self, cfg):
        super().__init__()
        check_vqa_config(cfg)
        self.cfg = cfg
        chans = cfg["encoder"]["channels"]
        self.D = D = chans[-1]
        Eq, Hq = cfg["question"]["emb"], cfg["question"]["hidden"]
        self.G = G = cfg["glimpses"]
        self.mean_pool = cfg.get("pool", "attention") == "mean"
        self.cnn = make_cnn(cfg)
        self.cnn_pools = cnn_pools(cfg["encoder"])
        self.register_buffer("pixel_table", torch.from_numpy(pixel_table(cfg["image"])),
                             persistent=False)
        self.q_embed = nn.Embedding(cfg["src_vocab"], Eq, padding_idx=None)
        self.q_lstm = nn.LSTM(Eq, Hq, num_layers=1, batch_first=True)
        if cfg["encoder"].get("position", "none") == "learned":
            h, w = feature_grid(cfg)
            self.memory_position = nn.Embedding(h * w, D)
            with torch.no_grad():   # small next to the unit-norm features (caption: the same)
                self.memory_position.weight.normal_(0.0, 0.1)
        if not self.mean_pool:
            self.glimpse = Glimpses(D, Hq, cfg["attention"]["hidden"], G)
        n_in = (D if self.mean_pool else G * D) + Hq
        self.classifier = Classifier(n_in, cfg["classifier"]["hidden"], cfg["answers"],
                                     cfg.get("dropout", 0.0))

    normalize = Seq2Seq.normalize

    def encode_image(self, x):
        """x [B, C, H, W] normalised -> phi [B, S, D] (row-major over the final grid; l2
        normalised per location when l2norm; then + memory_position.weight when
        encoder.position is learned)."""
        return self.add_position(self.cnn_features(x))

    def cnn_features(self, x, first=0):
        """x [B, C, H, W] normalised (first 0), or cnn_prefix(x, first) -> [B, S, D] the CNN's
        final map, row-major, l2 normalised per location when l2norm; no position (what a
        frozen CNN's feature cache may keep)."""
        x = run_cnn(self.cnn[first:], self.cnn_pools[first:], x)
        B, D, h, w = x.shape
        phi = x.permute(0, 2, 3, 1).reshape(B, h * w, D)
        if self.cfg["l2norm"]:
            phi = F.normalize(phi, p=2.0, dim=2, eps=1e-12)
        return phi

    def cnn_prefix(self, x, blocks):
        """x [B, C, H, W] normalised -> the map after the first `blocks` CNN blocks (what a
        partly frozen CNN's feature cache keeps: train.freeze_cnn N)."""
        return run_cnn(self.cnn[:blocks], self.cnn_pools[:blocks], x)

    def add_position(self, feats):
        """cnn_features' [B, S, D] -> phi: + memory_position.weight when encoder.position is
        learned (after the l2 norm), else unchanged."""
        if hasattr(self, "memory_position"):
            return feats + self.memory_position.weight
        return feats

    def encode_question(self, q, q_len):
        """q [B, T] ids (pad 0 past each length), q_len [B] >= 1 -> s [B, Hq], the LSTM's hidden
        state after each question's last word."""
        if int(q_len.min()) < 1:
            raise ValueError("empty question")
        packed = nn.utils.rnn.pack_padded_sequence(self.q_embed(q), q_len.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        _, (h, _) = self.q_lstm(packed)
        return h[-1]

    def answer_from(self, phi, s, scene=None):
        """phi [B_img, S, D], s [B, Hq], scene [B] indices into phi (None: B_img == B) ->
        dict(logits [B, Na], glimpses alpha [B, G, S] (None for mean pooling), scores e
        [B, G, S], x [B, G*D], hidden h [B, F])."""
        if self.mean_pool:
            x = phi.mean(dim=1)
            x = x if scene is None else x[scene]
            e = alpha = None
        else:
            e = self.glimpse(phi, s, scene)
            alpha = torch.softmax(e, dim=2)
            x = torch.bmm(alpha, phi if scene is None else phi[scene]).flatten(1)  # [x_1; ...]
        logits, h = self.classifier(torch.cat([x, s], dim=1))
        return {"logits": logits, "glimpses": alpha, "scores": e, "x": x, "hidden": h}

    def forward(self, x, q, q_len, scene=None):
        """x [B_img, C, H, W] normalised images; q [B, T], q_len [B]; scene [B] (optional):
        question b is about image scene[b] (several questions share one CNN pass). Returns
        answer_from's dict plus phi [B_img, S, D] and s [B, Hq]."""
        phi = self.encode_image(x)
        s = self.encode_question(q, q_len)
        out = self.answer_from(phi, s, scene)
        out.update(phi=phi, s=s)
        return out


@torch.no_grad()
def vqa_answer(model, pixels, ids):
    """One image (u8 [H, W] or [H, W, C]) and one question's ids -> the engine's result: dict
    answer (argmax, lowest index among ties), probs [Na] (float32 softmax), logits, glimpses
    [G, S], phi [S, D], s [Hq], top (5 best answers by probability, ties by index)."""
    model.eval()
    if not ids:
        raise ValueError("empty question")
    x = model.normalize(np.asarray(pixels, np.uint8)[None])
    q = torch.tensor([ids], dtype=torch.long)
    out = model(x, q, torch.tensor([len(ids)]))
    logits = out["logits"][0]
    probs = torch.softmax(logits, dim=0)
    p = probs.numpy()
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    return {"answer": order[0], "probs": p, "logits": logits.numpy(),
            "glimpses": None if out["glimpses"] is None else out["glimpses"][0].numpy(),
            "scores": None if out["scores"] is None else out["scores"][0].numpy(),
            "phi": out["phi"][0].numpy(), "s": out["s"][0].numpy(),
            "x": out["x"][0].numpy(), "hidden": out["hidden"][0].numpy(), "top": order[:5]}


@torch.no_grad()
def vqa_answer_scene(model, pixels, id_lists):
    """One image and several questions (lists of ids): the CNN runs once; -> a list of dicts as
    vqa_answer's (answer, probs, logits, glimpses, top), one per question, in order."""
    model.eval()
    if any(not ids for ids in id_lists):
        raise ValueError("empty question")
    x = model.normalize(np.asarray(pixels, np.uint8)[None])
    T = max(len(ids) for ids in id_lists)
    q = torch.zeros(len(id_lists), T, dtype=torch.long)
    for i, ids in enumerate(id_lists):
        q[i, :len(ids)] = torch.tensor(ids)
    out = model(x, q, torch.tensor([len(ids) for ids in id_lists]),
                scene=torch.zeros(len(id_lists), dtype=torch.long))
    probs = torch.softmax(out["logits"], dim=1).numpy()
    res = []
    for i, p in enumerate(probs):
        order = sorted(range(len(p)), key=lambda j: (-p[j], j))
        res.append({"answer": order[0], "probs": p, "logits": out["logits"][i].numpy(),
                    "glimpses": None if out["glimpses"] is None else out["glimpses"][i].numpy(),
                    "top": order[:5]})
    return res
