#!/usr/bin/python3
"""Reference greedy and beam search. The C engine must reproduce this exactly, so it is kept
simple and deterministic.

Source: SentencePiece ids + [eos]. Target starts from bos. Maximum output length (eos included):
    max_len = floor(len_a * S + len_b), S = source length including its eos, at least 1.

Greedy: at each step the argmax of the logits; a tie goes to the lowest token id. Stops after eos
or after max_len tokens (then the output has no eos).

Beam search (beam K, n-best N <= K):
  * hypotheses are ranked by their summed log-probability logp (log_softmax of the float32
    logits taken in float64, summed in float64: torch's float32 log_softmax loses the smallest
    exp terms of its sum and comes out ~3e-6 high per step on an 8000-piece vocabulary, which
    a C summation order can only match by luck);
  * each step scores all K*V extensions of the live hypotheses and takes the 2K best, ordered by
    (-logp, parent index, token id) -- that order is also the tie-break. Walking that list, an
    extension ending in eos becomes a finished hypothesis; the others become the next live beam
    until it holds K. (Each parent has one eos extension, so 2K always suffices.)
  * the live beam keeps the order of that list (parent order = rank order);
  * an extension that ends in eos is scored at once (the GNMT score below);
  * search stops after step t when at least N hypotheses are finished and no live hypothesis can
    still beat the N-th best of them: the best live logp divided by lp(max_len) (the most any
    continuation can score, since logp only falls, lp grows with length and cp <= 0) is <= the
    N-th best finished score. (Stopping as soon as K hypotheses are finished is NOT exact: on the
    dates model it dropped the right answer, one piece longer than 5 early-ending mistakes.)
    It also stops at max_len steps, when the live hypotheses are finished as they stand (no eos);
  * finished hypotheses are ranked by the GNMT score
        score = logp / lp + cp,   lp = ((5 + |Y|) / 6) ** alpha,
        cp = beta * sum_j log(min(max(sum_t a_tj, 1e-6), 1.0))   (0 when beta == 0 or no attention)
    |Y| counts output tokens including eos; a_tj are the hypothesis' attention rows (including
    the eos step). alpha >= 0 and beta >= 0 (else the stopping bound would not hold). Ties keep
    the order in which hypotheses finished. The first N are returned.
Greedy's score is the same formula applied to the greedy output.

Image models (task "caption"): the source is the image, u8 pixels [H, W] (1 channel) or
[H, W, C]; the model normalises and encodes them (Seq2Seq.normalize, encode_image), and S is the
number of feature-map locations (10 x 10 = 100 for 84 x 84 and three blocks), so
max_len = floor(len_a * S + len_b) (image models ship len_a = 0). Everything else is unchanged.
"""
import math
import numpy as np
import torch


def default_params():
    # beta defaults to 0: the coverage penalty assumes every source piece must be attended to.
    # Measured on the dates test split, beta = 0.2 turned 3 correct outputs of 2,000 wrong (the
    # model rightly ignores weekday names and ordinal suffixes, and the penalty punished that).
    return {"beam": 5, "nbest": 1, "alpha": 0.2, "beta": 0.0, "len_a": 2.0, "len_b": 10.0}


def max_length(src_len, len_a, len_b):
    return max(1, int(math.floor(len_a * src_len + len_b)))


def gnmt_score(logp, n_tokens, attn_rows, alpha, beta):
    lp = ((5.0 + n_tokens) / 6.0) ** alpha
    cp = 0.0
    if beta != 0.0 and attn_rows is not None and len(attn_rows):
        cover = torch.stack(attn_rows).double().sum(0)
        cp = beta * float(torch.log(cover.clamp(min=1e-6, max=1.0)).sum())
    return logp / lp + cp


@torch.no_grad()
def prepare(model, src_ids):
    """src_ids: source ids incl. eos (text) or u8 pixels (image models)."""
    if getattr(model, "is_image", False):
        memory, fh, fc = model.encode_image(model.normalize(np.asarray(src_ids)[None]))
        return memory, model.memory_keys(memory), model.init_state(memory, fh, fc)
    src = torch.tensor([list(src_ids)], dtype=torch.long)
    memory, fh, fc = model.encode(src, torch.tensor([len(src_ids)]))
    keys = model.memory_keys(memory)
    return memory, keys, model.init_state(memory, fh, fc)


@torch.no_grad()
def greedy(model, src_ids, params=None, trace=None):
    """Returns {"tokens", "logp", "score", "attention" [T, S] or None}. If trace is a list, one
    dict per step is appended (state, attention, logits) for the golden files."""
    p = dict(default_params(), **(params or {}))
    cfg = model.cfg
    memory, keys, state = prepare(model, src_ids)
    T = max_length(memory.shape[1], p["len_a"], p["len_b"])   # S (text: len(src_ids))
    y = torch.tensor([cfg["bos_id"]])
    tokens, rows, logp = [], [], 0.0
    for _ in range(T):
        state, logits, attn, o = model.step(y, state, memory, keys, None)
        lsm = torch.log_softmax(logits[0].double(), dim=0)
        best = float(logits[0].max())
        tok = int(torch.nonzero(logits[0] == best)[0])   # lowest id among ties
        if trace is not None:
            trace.append({"h": [h[0].clone() for h in state["h"]],
                          "c": [c[0].clone() for c in state["c"]], "o": o[0].clone(),
                          "attn": None if attn is None else attn[0].clone(),
                          "logits": logits[0].clone()})
        logp += float(lsm[tok])
        if attn is not None:
            rows.append(attn[0])
        tokens.append(tok)
        y = torch.tensor([tok])
        if tok == cfg["eos_id"]:
            break
    return {"tokens": tokens, "logp": logp,
            "score": gnmt_score(logp, len(tokens), rows, p["alpha"], p["beta"]),
            "attention": torch.stack(rows) if rows else None}


@torch.no_grad()
def beam_search(model, src_ids, params=None):
    """Returns the n-best list: [{"tokens", "logp", "score", "attention"}], best first."""
    p = dict(default_params(), **(params or {}))
    K, N = int(p["beam"]), int(p["nbest"])
    if not (1 <= N <= K):
        raise ValueError("need 1 <= nbest <= beam")
    if p["alpha"] < 0 or p["beta"] < 0:
        raise ValueError("need alpha >= 0 and beta >= 0")
    cfg = model.cfg
    eos = cfg["eos_id"]
    memory, keys, state = prepare(model, src_ids)
    T = max_length(memory.shape[1], p["len_a"], p["len_b"])   # S (text: len(src_ids))
    live = [{"tokens": [], "logp": 0.0, "rows": []}]
    finished = []
    lp_max = ((5.0 + T) / 6.0) ** p["alpha"]

    def finish(hyp):
        hyp["score"] = gnmt_score(hyp["logp"], len(hyp["tokens"]),
                                  hyp["rows"] if has_attn else None, p["alpha"], p["beta"])
        finished.append(hyp)

    def expand(s, n):  # repeat batch row 0 n times
        return {"h": [h.expand(n, -1) for h in s["h"]], "c": [c.expand(n, -1) for c in s["c"]],
                "feed": s["feed"].expand(n, -1)}

    state = expand(state, 1)
    for step in range(T):
        n = len(live)
        y = torch.tensor([hyp["tokens"][-1] if hyp["tokens"] else cfg["bos_id"] for hyp in live])
        mem = memory.expand(n, -1, -1)
        ks = keys.expand(n, -1, -1) if keys is not None else None
        state, logits, attn, _ = model.step(y, state, mem, ks, None)
        has_attn = attn is not None
        lsm = torch.log_softmax(logits.double(), dim=1)
        total = lsm + torch.tensor([hyp["logp"] for hyp in live], dtype=torch.float64)[:, None]
        V = total.shape[1]
        flat = total.reshape(-1)
        k2 = min(2 * K, flat.numel())
        # order by (-logp, parent, token): flat index = parent * V + token already encodes
        # (parent, token) order, so a stable sort on -logp gives exactly that tie-break.
        order = torch.sort(-flat, stable=True).indices[:k2]
        new_live, parents = [], []
        for idx in order.tolist():
            parent, tok = divmod(idx, V)
            hyp = live[parent]
            rows = hyp["rows"] + ([attn[parent]] if attn is not None else [])
            cand = {"tokens": hyp["tokens"] + [tok], "logp": float(flat[idx]), "rows": rows}
            if tok == eos:
                finish(cand)
            elif len(new_live) < K:
                new_live.append(cand)
                parents.append(parent)
        if step == T - 1 or not new_live:
            for hyp in new_live:
                finish(hyp)
            break
        if len(finished) >= N:
            nth = sorted((h["score"] for h in finished), reverse=True)[N - 1]
            if max(h["logp"] for h in new_live) / lp_max <= nth:
                break
        idx = torch.tensor(parents)
        state = {"h": [h[idx] for h in state["h"]], "c": [c[idx] for c in state["c"]],
                 "feed": state["feed"][idx]}
        live = new_live
    ranked = sorted(range(len(finished)), key=lambda i: (-finished[i]["score"], i))
    out = []
    for i in ranked[:N]:
        h = finished[i]
        out.append({"tokens": h["tokens"], "logp": h["logp"], "score": h["score"],
                    "attention": torch.stack(h["rows"]) if h["rows"] else None})
    return out
