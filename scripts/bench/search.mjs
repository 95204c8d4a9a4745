// Greedy and beam search in JS for the peer engines (onnxruntime-web, TF.js), following
// scripts/search.py exactly: greedy = first argmax; beam = 2K best of all K*V extensions ordered
// by (-logp, parent, token), eos extensions finished at once, GNMT length penalty, the same
// stopping rule. The coverage penalty is not implemented (the bench runs beta = 0, the default).
//
// An engine provides:
//   encode(srcIds: Int32Array) -> ctx                 (memory, keys, initial state for B = 1)
//   (encode and step may return promises: onnxruntime's run() is async)
//   step(ctx, state, y: Int32Array) -> { state, logp: Float32Array [B*V], attn }  (state = null: initial)
//   reorder(state, parents: Int32Array) -> state      (beam: rows of the next live beam)
//   release(ctx, state)                               (optional: free tensors)
// and, for greedyBatch (B different sentences per step, padded memories and a mask):
//   batchStart(ctxs) -> bctx                          (the encoded sentences as one batch)
//   batchStep(bctx, state, y) -> { state, logp }      (state = null: initial)
//   batchKeep(bctx, state, rows) -> { bctx, state }   (only these rows go on)
//   batchRelease(bctx, state)                         (optional)
// Timing hooks are the caller's (see run.mjs).

export function maxLength(srcLen, lenA, lenB) {
  return Math.max(1, Math.floor(lenA * srcLen + lenB));
}

export async function greedy(engine, srcIds, p) {
  const V = p.V, eos = p.eos;
  const ctx = await engine.encode(srcIds);
  const T = maxLength(srcIds.length, p.lenA, p.lenB);
  let state = null;
  const y = new Int32Array(1);
  y[0] = p.bos;
  const tokens = [];
  let logp = 0;
  for (let t = 0; t < T; t++) {
    const r = await engine.step(ctx, state, y);
    state = r.state;
    const lp = r.logp;
    let best = 0, bv = lp[0];
    for (let v = 1; v < V; v++) if (lp[v] > bv) { bv = lp[v]; best = v; }
    logp += bv;
    tokens.push(best);
    y[0] = best;
    if (best === eos) break;
  }
  engine.release?.(ctx, state);
  return { tokens, logp, score: logp / Math.pow((5 + tokens.length) / 6, p.alpha) };
}

export async function beam(engine, srcIds, p) {
  const K = p.beam, N = p.nbest ?? 1, V = p.V, eos = p.eos;
  if (p.beta) throw new Error('search.mjs: coverage penalty (beta != 0) not implemented');
  const ctx = await engine.encode(srcIds);
  const T = maxLength(srcIds.length, p.lenA, p.lenB);
  const lp = (n) => Math.pow((5 + n) / 6, p.alpha);
  const lpMax = lp(T);
  let live = [{ tokens: [], logp: 0 }];
  const finished = [];
  let state = null;
  const k2max = 2 * K;
  const candV = new Float64Array(k2max), candI = new Int32Array(k2max);
  for (let step = 0; step < T; step++) {
    const n = live.length;
    const y = new Int32Array(n);
    for (let k = 0; k < n; k++) y[k] = live[k].tokens.length ? live[k].tokens.at(-1) : p.bos;
    const r = await engine.step(ctx, state, y);
    state = r.state;
    const lsm = r.logp;
    // the 2K best of n*V by (-logp, flat index): scan in flat-index order, insert only when
    // strictly better than the current last (equal values keep the earlier index first)
    const k2 = Math.min(k2max, n * V);
    let filled = 0;
    for (let k = 0; k < n; k++) {
      const base = live[k].logp, row = k * V;
      for (let v = 0; v < V; v++) {
        const val = base + lsm[row + v];
        if (filled === k2 && !(val > candV[k2 - 1])) continue;
        let pos = filled < k2 ? filled++ : k2 - 1;
        while (pos > 0 && candV[pos - 1] < val) {
          candV[pos] = candV[pos - 1];
          candI[pos] = candI[pos - 1];
          pos--;
        }
        candV[pos] = val;
        candI[pos] = row + v;
      }
    }
    const next = [], parents = [];
    for (let j = 0; j < filled; j++) {
      const parent = Math.floor(candI[j] / V), tok = candI[j] - parent * V;
      const cand = { tokens: [...live[parent].tokens, tok], logp: candV[j] };
      if (tok === eos) {
        cand.score = cand.logp / lp(cand.tokens.length);
        finished.push(cand);
      } else if (next.length < K) {
        next.push(cand);
        parents.push(parent);
      }
    }
    if (step === T - 1 || next.length === 0) {
      for (const h of next) {
        h.score = h.logp / lp(h.tokens.length);
        finished.push(h);
      }
      break;
    }
    if (finished.length >= N) {
      const nth = finished.map((h) => h.score).sort((a, b) => b - a)[N - 1];
      let bestLive = -Infinity;
      for (const h of next) if (h.logp > bestLive) bestLive = h.logp;
      if (bestLive / lpMax <= nth) break;
    }
    state = engine.reorder(state, Int32Array.from(parents));
    live = next;
  }
  engine.release?.(ctx, state);
  const ranked = finished.map((h, i) => [h, i]).sort((a, b) => b[0].score - a[0].score || a[1] - b[1]);
  return ranked.slice(0, N).map(([h]) => h);
}

// Pieces -> text as SentencePiece decodes (U+2581 -> space, leading space dropped).
export function detokenize(pieces, ids, eos) {
  let s = '';
  for (const id of ids) if (id !== eos) s += pieces[id];
  return s.replace(/\u2581/g, ' ').replace(/^ /, '');
}

// Greedy search over a list of sentences, `size` at a time: the batch of sentences decodes in one
// step per output position; a sentence that ends leaves the batch (batchKeep). This is how a
// user of these runtimes would batch a test set (static batches; callers sort by length so a
// batch's sentences end at similar steps). Returns the greedy() results in the order of srcList.
export async function greedyBatch(engine, srcList, p, size) {
  const V = p.V, eos = p.eos, out = new Array(srcList.length);
  for (let b0 = 0; b0 < srcList.length; b0 += size) {
    let rows = srcList.slice(b0, b0 + size).map((src, k) => ({ i: b0 + k, src,
      T: maxLength(src.length, p.lenA, p.lenB), tokens: [], logp: 0 }));
    const ctxs = [];
    for (const r of rows) ctxs.push(await engine.encode(r.src));
    let bctx = await engine.batchStart(ctxs), state = null;
    for (let t = 0; rows.length; t++) {
      const y = Int32Array.from(rows, (r) => (t === 0 ? p.bos : r.tokens.at(-1)));
      const res = await engine.batchStep(bctx, state, y);
      state = res.state;
      const keep = [];
      rows.forEach((r, k) => {
        const lp = res.logp.subarray(k * V, (k + 1) * V);
        let best = 0, bv = lp[0];
        for (let v = 1; v < V; v++) if (lp[v] > bv) { bv = lp[v]; best = v; }
        r.logp += bv;
        r.tokens.push(best);
        if (best === eos || t + 1 >= r.T)
          out[r.i] = { tokens: r.tokens, logp: r.logp, score: r.logp / Math.pow((5 + r.tokens.length) / 6, p.alpha) };
        else keep.push(k);
      });
      if (keep.length < rows.length && keep.length) ({ bctx, state } = await engine.batchKeep(bctx, state, keep));
      rows = keep.map((k) => rows[k]);
    }
    engine.batchRelease?.(bctx, state);
    for (const c of ctxs) engine.release?.(c, null);
  }
  return out;
}
