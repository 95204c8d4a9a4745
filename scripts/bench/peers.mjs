// The peer engines of the benchmark, each behind the interface search.mjs drives:
//   onnxruntime-web (wasm backend, one thread): build/bench/<model>/{encoder,decoder_step}.onnx
//   TF.js + @tensorflow/tfjs-backend-wasm: the model written with tfjs ops, the weights read
//   from the same .safetensors file stele loads.
// Both take source ids (tokenised by SentencePiece in Python: tests/golden/<model>.outputs.jsonl)
// and detokenise with the model's piece list (search.detokenize).

// ---------------------------------------------------------------- safetensors (F32 views)

export function readSafetensors(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const base = 8 + n;
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || t.dtype !== 'F32') continue;
    const [b, e] = t.data_offsets;
    // copy: the data section is not 4-byte aligned in general
    const f = new Float32Array((e - b) / 4);
    new Uint8Array(f.buffer).set(bytes.subarray(base + b, base + e));
    tensors[name] = { shape: t.shape, data: f };
  }
  const meta = header.__metadata__ || {};
  return { tensors, config: JSON.parse(meta.config), search: JSON.parse(meta.search || '{}') };
}

// ---------------------------------------------------------------- onnxruntime-web

export async function ortEngine(ort, encoderBytes, stepBytes, cfg, batchStepBytes) {
  const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const enc = await ort.InferenceSession.create(encoderBytes, opts);
  const dec = await ort.InferenceSession.create(stepBytes, opts);
  const decB = batchStepBytes ? await ort.InferenceSession.create(batchStepBytes, opts) : null;
  const decInputs = dec.inputNames;
  const L = cfg.decoder.layers, Hd = cfg.decoder.hidden, O = cfg.decoder.out;
  const engine = {
    timeEncode: 0,
    async encode(src) {
      const r = await enc.run({ src: new ort.Tensor('int32', src, [1, src.length]) });
      return { memory: r.memory, keys: r.keys, h0: r.h0, c0: r.c0, feed0: r.feed0 };
    },
    async step(ctx, state, y) {
      const st = state || { h: ctx.h0, c: ctx.c0, feed: ctx.feed0 };
      const all = { y: new ort.Tensor('int32', y, [y.length]), h: st.h, c: st.c, feed: st.feed,
        memory: ctx.memory, keys: ctx.keys };
      const feeds = {};
      for (const n of decInputs) feeds[n] = all[n];   // the export drops unused inputs (bahdanau: feed)
      const r = await dec.run(feeds);
      return { state: { h: r.h1, c: r.c1, feed: r.feed1 }, logp: r.logp.data, attn: r.attn.data };
    },
    reorder(state, parents) {
      const B = parents.length, Bo = state.feed.dims[0];
      const gather = (t, rows, width, layers) => {
        const out = new Float32Array(layers * B * width), d = t.data;
        for (let l = 0; l < layers; l++)
          for (let k = 0; k < B; k++)
            out.set(d.subarray((l * Bo + parents[k]) * width, (l * Bo + parents[k] + 1) * width),
              (l * B + k) * width);
        return new ort.Tensor('float32', out, layers > 1 || t.dims.length === 3 ? [layers, B, width] : [B, width]);
      };
      return { h: gather(state.h, B, Hd, L), c: gather(state.c, B, Hd, L), feed: gather(state.feed, B, O, 1) };
    },
    release() {},
    // B different sentences (decoder_step_batch.onnx): memories and keys padded to the longest
    // source, mask -1e30 on the padding
    batchStart(ctxs) {
      const B = ctxs.length, S = Math.max(...ctxs.map((c) => c.memory.dims[0]));
      const D = ctxs[0].memory.dims[1], Kd = ctxs[0].keys.dims[1];
      const mem = new Float32Array(B * S * D), keys = new Float32Array(B * S * Kd);
      const mask = new Float32Array(B * S).fill(-1e30);
      const h0 = new Float32Array(L * B * Hd), c0 = new Float32Array(L * B * Hd), feed0 = new Float32Array(B * O);
      ctxs.forEach((c, k) => {
        const Sk = c.memory.dims[0];
        mem.set(c.memory.data, k * S * D);
        keys.set(c.keys.data, k * S * Kd);
        mask.fill(0, k * S, k * S + Sk);
        for (let l = 0; l < L; l++) {
          h0.set(c.h0.data.subarray(l * Hd, (l + 1) * Hd), (l * B + k) * Hd);
          c0.set(c.c0.data.subarray(l * Hd, (l + 1) * Hd), (l * B + k) * Hd);
        }
        feed0.set(c.feed0.data, k * O);
      });
      return { B, S, D, Kd, mem, keys, mask,
        feeds: { memory: new ort.Tensor('float32', mem, [B, S, D]), keys: new ort.Tensor('float32', keys, [B, S, Kd]),
          mask: new ort.Tensor('float32', mask, [B, S]) },
        init: { h: new ort.Tensor('float32', h0, [L, B, Hd]), c: new ort.Tensor('float32', c0, [L, B, Hd]),
          feed: new ort.Tensor('float32', feed0, [B, O]) } };
    },
    async batchStep(b, state, y) {
      const st = state || b.init;
      const all = { y: new ort.Tensor('int32', y, [y.length]), h: st.h, c: st.c, feed: st.feed, ...b.feeds };
      const feeds = {};
      for (const n of decB.inputNames) feeds[n] = all[n];
      const r = await decB.run(feeds);
      return { state: { h: r.h1, c: r.c1, feed: r.feed1 }, logp: r.logp.data };
    },
    batchKeep(b, state, rows) {
      const B = rows.length, { S, D, Kd } = b;
      const pick = (src, width) => {
        const out = new Float32Array(B * width);
        rows.forEach((r, k) => out.set(src.subarray(r * width, (r + 1) * width), k * width));
        return out;
      };
      const mem = pick(b.mem, S * D), keys = pick(b.keys, S * Kd), mask = pick(b.mask, S);
      return { bctx: { B, S, D, Kd, mem, keys, mask, feeds: { memory: new ort.Tensor('float32', mem, [B, S, D]),
        keys: new ort.Tensor('float32', keys, [B, S, Kd]), mask: new ort.Tensor('float32', mask, [B, S]) } },
      state: this.reorder(state, rows) };
    },
    async dispose() {
      await enc.release();
      await dec.release();
      await decB?.release();
    },
  };
  return engine;
}

// ---------------------------------------------------------------- TF.js (wasm backend)

export function tfjsEngine(tf, st) {
  const cfg = st.config, T = st.tensors;
  const enc = cfg.encoder, dec = cfg.decoder, att = cfg.attention;
  if (enc.residual_from || dec.residual_from || dec.placement !== 'top' || att.score === 'none' ||
      att.score === 'concat')
    throw new Error('tfjs engine: only placement top, no residuals, dot/general/additive attention');
  const w = (name) => {
    const t = T[name];
    if (!t) throw new Error(`tfjs engine: missing tensor ${name}`);
    return t;
  };
  const keep = [];
  const K = (data, shape) => {
    const t = tf.tensor(data, shape, 'float32');
    keep.push(t);
    return t;
  };
  // W [N, K] (PyTorch) -> W^T [K, N] so every matMul is a plain (non-transposed) one (XNNPACK).
  const transposed = (name) => {
    const t = w(name), [N, Kd] = t.shape, out = new Float32Array(N * Kd);
    for (let n = 0; n < N; n++) for (let k = 0; k < Kd; k++) out[k * N + n] = t.data[n * Kd + k];
    return K(out, [Kd, N]);
  };
  // [W_ih | W_hh]^T stacked on K: gates = [x, h] @ Wcat + (b_ih + b_hh)
  const lstmWeights = (ih, hh, bih, bhh, stacked) => {
    const a = w(ih), b = w(hh), N = a.shape[0], Ka = a.shape[1], Kb = b.shape[1];
    const out = new Float32Array((Ka + Kb) * N);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < Ka; k++) out[k * N + n] = a.data[n * Ka + k];
      for (let k = 0; k < Kb; k++) out[(Ka + k) * N + n] = b.data[n * Kb + k];
    }
    const bias = new Float32Array(N);
    for (let n = 0; n < N; n++) bias[n] = w(bih).data[n] + w(bhh).data[n];
    if (stacked) return { W: K(out, [Ka + Kb, N]), b: K(bias, [N]), H: N / 4 };
    return { Wx: K(out.subarray(0, Ka * N), [Ka, N]), Wh: K(out.subarray(Ka * N), [Kb, N]),
      b: K(bias, [N]), H: N / 4 };
  };
  const srcE = K(w('src_embed.weight').data, w('src_embed.weight').shape);
  const tgtE = K(w('tgt_embed.weight').data, w('tgt_embed.weight').shape);
  const encL = [];
  for (let l = 0; l < enc.layers; l++) {
    const dirs = [lstmWeights(`enc_layers.${l}.weight_ih_l0`, `enc_layers.${l}.weight_hh_l0`,
      `enc_layers.${l}.bias_ih_l0`, `enc_layers.${l}.bias_hh_l0`)];
    if (enc.type === 'bilstm')
      dirs.push(lstmWeights(`enc_layers.${l}.weight_ih_l0_reverse`, `enc_layers.${l}.weight_hh_l0_reverse`,
        `enc_layers.${l}.bias_ih_l0_reverse`, `enc_layers.${l}.bias_hh_l0_reverse`));
    encL.push(dirs);
  }
  const decL = [];
  for (let l = 0; l < dec.layers; l++)
    decL.push(lstmWeights(`dec_cells.${l}.weight_ih`, `dec_cells.${l}.weight_hh`,
      `dec_cells.${l}.bias_ih`, `dec_cells.${l}.bias_hh`, true));
  const Ld = dec.layers, Hd = dec.hidden, O = dec.out;
  const bridge = cfg.bridge === 'linear' ? {
    hW: transposed('bridge_h.weight'), hb: K(w('bridge_h.bias').data, [Ld * Hd]),
    cW: transposed('bridge_c.weight'), cb: K(w('bridge_c.bias').data, [Ld * Hd]),
  } : null;
  const A = {};
  if (att.score === 'general') A.W = transposed('attention.linear_in.weight');
  if (att.score === 'additive') {
    A.Wk = transposed('attention.key.weight');
    A.bk = K(w('attention.key.bias').data, w('attention.key.bias').shape);
    A.Wq = transposed('attention.query.weight');
    A.v = transposed('attention.v.weight');   // [A, 1]
  }
  const projW = transposed('proj.weight');
  const projB = T['proj.bias'] ? K(w('proj.bias').data, w('proj.bias').shape) : null;
  const genW = cfg.tie_embeddings ? transposed('tgt_embed.weight') : transposed('generator.weight');
  const genB = K(w('generator.bias').data, w('generator.bias').shape);
  const luong = dec.style === 'luong';

  const cell = (x, h, c, p) => {   // x [B, in], h/c [B, H]
    const gates = tf.add(tf.matMul(tf.concat([x, h], 1), p.W), p.b);
    const [i, f, g, o] = tf.split(gates, 4, 1);
    const c1 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    return [tf.mul(tf.sigmoid(o), tf.tanh(c1)), c1];
  };
  const runDir = (xw, p, reverse) => {   // xw [S, 4H] = x W_ih^T + b, precomputed
    const S = xw.shape[0], H = p.H;
    let h = tf.zeros([1, H]), c = tf.zeros([1, H]);
    const outs = new Array(S);
    for (let n = 0; n < S; n++) {
      const t = reverse ? S - 1 - n : n;
      const [h1, c1] = tf.tidy(() => {
        const gates = tf.add(tf.slice(xw, [t, 0], [1, 4 * H]), tf.matMul(h, p.Wh));
        const [i, f, g, o] = tf.split(gates, 4, 1);
        const cc = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        return [tf.mul(tf.sigmoid(o), tf.tanh(cc)), cc];
      });
      if (n > 0) { tf.dispose(c); }
      h = h1; c = c1;
      outs[t] = h1;
    }
    const seq = tf.concat(outs, 0);
    tf.dispose(outs.filter((x) => x !== h));
    return { seq, h, c };
  };
  const attend = (q, ctx) => {   // q [B, Hd] -> ctx [B, D], a [B, S]
    if (ctx.batched) return attendBatch(q, ctx);
    let e;
    if (att.score === 'additive') {
      const qk = tf.matMul(q, A.Wq);                                     // [B, A]
      const B = q.shape[0], S = ctx.S, Ad = qk.shape[1];
      const t = tf.tanh(tf.add(tf.expandDims(ctx.keys, 0), tf.expandDims(qk, 1)));   // [B, S, A]
      e = tf.reshape(tf.matMul(tf.reshape(t, [B * S, Ad]), A.v), [B, S]);
    } else {
      e = tf.matMul(q, ctx.keysT);                                       // [B, S]
    }
    const a = tf.softmax(e);
    return [tf.matMul(a, ctx.memory), a];
  };

  // B different sentences: memory [B, S, D], keysT [B, Hd, S] or keys [B, S, A] padded to the
  // longest source, mask [B, S] (-1e30 on the padding) added to the scores
  const attendBatch = (q, ctx) => {
    const B = q.shape[0], S = ctx.S;
    let e;
    if (att.score === 'additive') {
      const qk = tf.matMul(q, A.Wq), Ad = qk.shape[1];
      const t = tf.tanh(tf.add(ctx.keys, tf.expandDims(qk, 1)));        // [B, S, A]
      e = tf.reshape(tf.matMul(tf.reshape(t, [B * S, Ad]), A.v), [B, S]);
    } else {
      e = tf.reshape(tf.matMul(tf.expandDims(q, 1), ctx.keysT), [B, S]);
    }
    const a = tf.softmax(tf.add(e, ctx.mask));
    return [tf.reshape(tf.matMul(tf.expandDims(a, 1), ctx.memory), [B, -1]), a];
  };
  const batchTensors = (b) => [b.memory, b.keysT, b.keys, b.mask, ...b.h0, ...b.c0, b.feed0].filter(Boolean);

  return {
    batchStart(ctxs) {
      return tf.tidy(() => {
        const B = ctxs.length, S = Math.max(...ctxs.map((c) => c.S));
        const mask = new Float32Array(B * S).fill(-1e30);
        ctxs.forEach((c, k) => mask.fill(0, k * S, k * S + c.S));
        const b = { batched: true, S,
          memory: tf.stack(ctxs.map((c) => tf.pad(c.memory, [[0, S - c.S], [0, 0]]))),
          mask: tf.tensor(mask, [B, S]),
          h0: [...Array(Ld).keys()].map((l) => tf.concat(ctxs.map((c) => c.h0[l]), 0)),
          c0: [...Array(Ld).keys()].map((l) => tf.concat(ctxs.map((c) => c.c0[l]), 0)),
          feed0: tf.zeros([B, O]) };
        if (ctxs[0].keysT) b.keysT = tf.stack(ctxs.map((c) => tf.pad(c.keysT, [[0, 0], [0, S - c.S]])));
        else b.keys = tf.stack(ctxs.map((c) => tf.pad(c.keys, [[0, S - c.S], [0, 0]])));
        return b;
      });
    },
    batchStep(b, state, y) {
      return this.step(b, state, y);
    },
    batchKeep(b, state, rows) {
      const idx = tf.tensor1d(rows, 'int32');
      const nb = tf.tidy(() => ({ batched: true, S: b.S, memory: tf.gather(b.memory, idx), mask: tf.gather(b.mask, idx),
        keysT: b.keysT && tf.gather(b.keysT, idx), keys: b.keys && tf.gather(b.keys, idx),
        h0: b.h0.map((t) => tf.gather(t, idx)), c0: b.c0.map((t) => tf.gather(t, idx)), feed0: tf.gather(b.feed0, idx) }));
      tf.dispose([idx, ...batchTensors(b)]);
      return { bctx: nb, state: this.reorder(state, rows) };
    },
    batchRelease(b, state) {
      if (state) this.free(state);
      tf.dispose(batchTensors(b));
    },
    encode(src) {
      return tf.tidy(() => {
        let x = tf.gather(srcE, tf.tensor1d(src, 'int32'));             // [S, E]
        let fh = [], fc = [];
        for (const dirs of encL) {
          const outs = dirs.map((p, d) => {
            const r = runDir(tf.add(tf.matMul(x, p.Wx), p.b), p, d === 1);
            return r;
          });
          x = outs.length > 1 ? tf.concat(outs.map((r) => r.seq), 1) : outs[0].seq;
          fh = outs.map((r) => r.h);
          fc = outs.map((r) => r.c);
        }
        const fhc = tf.concat(fh, 1), fcc = tf.concat(fc, 1);          // [1, D]
        const memory = x, S = src.length;
        const ctx = { memory, S };
        if (att.score === 'general') ctx.keysT = tf.transpose(tf.matMul(memory, A.W));
        else if (att.score === 'dot') ctx.keysT = tf.transpose(memory);
        else ctx.keys = tf.add(tf.matMul(memory, A.Wk), A.bk);
        let h0, c0;
        if (bridge) {
          h0 = tf.tanh(tf.add(tf.matMul(fhc, bridge.hW), bridge.hb));    // [1, Ld*Hd]
          c0 = tf.add(tf.matMul(fcc, bridge.cW), bridge.cb);
        } else {
          h0 = tf.zeros([1, Ld * Hd]);
          c0 = tf.zeros([1, Ld * Hd]);
        }
        ctx.h0 = tf.split(h0, Ld, 1);
        ctx.c0 = tf.split(c0, Ld, 1);
        ctx.feed0 = tf.zeros([1, O]);
        return ctx;
      });
    },
    step(ctx, state, y) {
      const st = state || { h: ctx.h0, c: ctx.c0, feed: ctx.feed0 };
      const out = tf.tidy(() => {
        const emb = tf.gather(tgtE, tf.tensor1d(y, 'int32'));          // [B, E]
        let x, cx = null, a = null;
        if (!luong) {
          [cx, a] = attend(st.h[Ld - 1], ctx);
          x = tf.concat([emb, cx], 1);
        } else {
          x = tf.concat([emb, st.feed], 1);
        }
        const hs = [], cs = [];
        for (let l = 0; l < Ld; l++) {
          const [h1, c1] = cell(l === 0 ? x : hs[l - 1], st.h[l], st.c[l], decL[l]);
          hs.push(h1);
          cs.push(c1);
        }
        const top = hs[Ld - 1];
        let o;
        if (luong) {
          [cx, a] = attend(top, ctx);
          o = tf.tanh(tf.matMul(tf.concat([cx, top], 1), projW));
        } else {
          o = tf.tanh(tf.add(tf.matMul(tf.concat([top, cx, emb], 1), projW), projB));
        }
        const logp = tf.logSoftmax(tf.add(tf.matMul(o, genW), genB));
        return { h: hs, c: cs, feed: o, logp, a };
      });
      if (state) this.free(state);
      const logp = out.logp.dataSync(), attn = out.a.dataSync();
      tf.dispose([out.logp, out.a]);
      return { state: { h: out.h, c: out.c, feed: out.feed }, logp, attn };
    },
    reorder(state, parents) {
      const idx = tf.tensor1d(parents, 'int32');
      const r = { h: state.h.map((t) => tf.gather(t, idx)), c: state.c.map((t) => tf.gather(t, idx)),
        feed: tf.gather(state.feed, idx) };
      tf.dispose(idx);
      this.free(state);
      return r;
    },
    free(state) {
      tf.dispose([...state.h, ...state.c, state.feed]);
    },
    release(ctx, state) {
      if (state) this.free(state);
      tf.dispose([ctx.memory, ctx.keysT, ctx.keys, ...ctx.h0, ...ctx.c0, ctx.feed0].filter(Boolean));
    },
    dispose() {
      tf.dispose(keep);
    },
  };
}
