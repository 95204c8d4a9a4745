// `make bench-caption` (and the captioning section of `make bench`): stele-wasm (the Captioner of
// the npm package's own entry) against onnxruntime-web (wasm backend, numThreads 1) running greedy
// captioning of the same images with the same weights, one thread, one Node process. The fairness
// rules of /work/shared/notes/bench.md:
//   1. outputs first: every engine's greedy caption of every image is compared with the PyTorch
//      reference's (the golden trace's greedy ids; tests/golden/<model>.outputs.jsonl's
//      greedy_gaps excuse a near-tie, <= 1e-4, as in run.mjs), and its attention rows with the
//      trace's (max |difference|); this pass is also each engine's warm-up;
//   2. REPS repetitions, engines interleaved and rotated, of a pass over the timed images: images/s
//      (whole captions: u8 pixels in, word ids and attention rows out); between repetitions, the
//      conv3x3 microbenchmark (scripts/bench/kernels.c through roofline.mjs) on the model's layer
//      shapes and the SIMD128 multiply-add peak, so that kernels and engines see the same machine
//      state; medians with min-max;
//   3. CNN ms and decode ms per image:
//        stele-wasm: CNN = stele_session_timings().encoder (conv/ReLU/max-pool blocks, the mean,
//          the bridge and the attention keys) from a profiled pass after each repetition (one
//          clock pair per image); decode = that profiled pass's time per image - its CNN (pixels
//          into wasm memory, the greedy steps, reading the result out). Both from the same pass:
//          a CNN median from one pass subtracted from another pass's total went negative when the
//          machine's speed drifted between them;
//        onnxruntime-web: CNN = pixels -> normalised float tensor + the encoder graph's run();
//          decode = the rest (one run() of the step graph per word, the argmax in JS).
//   build/bench/caption.json and caption.md (OUT/caption.*), with the machine and its load.
//
// The ONNX graphs come from scripts/bench/export_caption_onnx.py (re-exported when older than the
// model or the script) into OUT/caption/<model>/.
//
// Environment (CAPTION_* so that `make bench MODEL=... GOLDEN=...` does not reach it):
// CAPTION_MODEL (name under models/ or a .safetensors path; default scenes-caption),
// CAPTION_TRACE (golden trace with images, greedy, greedy_len, attn (padded [N, T, S], or ragged
// [R, S] with greedy_offset); default tests/golden/
// <name>.trace.safetensors, else <model dir>/<name>.trace.safetensors), CAPTION_GOLDEN
// (outputs.jsonl with greedy_gaps; default tests/golden/<name>.outputs.jsonl when present), IMAGES (first N images;
// default all), TIME_IMAGES (images per timed pass, default 500: the first 500, or the images
// cycled when there are fewer, as the tiny model's 6), KROUNDS (kernel measurements per
// repetition, default 3), REPS (default 3), OUT (default build/bench), PY (python for the
// export; default /usr/bin/python3).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { wasmKernels } from './roofline.mjs';
import { SPREAD_LIMIT, exportWhenStale, loadOrt, loadText, machineEnd, machineInfo, median, now,
  parameterCount, pixelTensor, readTensors, spread, stat } from './common.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.chdir(ROOT);
const env = process.env;
const MODEL_ARG = env.CAPTION_MODEL || 'scenes-caption';
const MODEL_PATH = /\.safetensors$/.test(MODEL_ARG) ? MODEL_ARG : `models/${MODEL_ARG}/model.safetensors`;
const OUT = env.OUT || 'build/bench';
const REPS = Math.max(1, Number(env.REPS || 3));
const PY = env.PY || '/usr/bin/python3';
const TOL = 1e-4;
const ENGINES = ['stele-wasm', 'onnxruntime-web'];

const log = (...a) => console.log(...a);
const fail = (msg) => {
  console.error(`bench-caption: ${msg}`);
  process.exit(1);
};

// ---------------------------------------------------------------- inputs
if (!fs.existsSync(MODEL_PATH)) fail(`${MODEL_PATH} does not exist (CAPTION_MODEL=${MODEL_ARG})`);
const model = readTensors(MODEL_PATH);
const modelBytes = model.bytes;
const cfg = JSON.parse(model.meta.config);
if (cfg.task !== 'caption') fail(`${MODEL_PATH} is not a caption model (task ${cfg.task ?? 'translate'})`);
const searchMeta = JSON.parse(model.meta.search || '{}');
const NAME = model.meta.name || path.basename(path.dirname(MODEL_PATH));
const TRACE = env.CAPTION_TRACE || [`tests/golden/${NAME}.trace.safetensors`,
  path.join(path.dirname(MODEL_PATH), `${NAME}.trace.safetensors`)].find((f) => fs.existsSync(f));
if (!TRACE || !fs.existsSync(TRACE)) fail(`no golden trace for ${NAME} (set CAPTION_TRACE=)`);
const GOLDEN = env.CAPTION_GOLDEN || (fs.existsSync(`tests/golden/${NAME}.outputs.jsonl`) ? `tests/golden/${NAME}.outputs.jsonl` : null);
const trace = readTensors(TRACE).tensors;
const img = cfg.image;
const [NI, TH, TW] = trace.images.shape;
const CH = trace.images.shape[3] ?? 1;
if (TH !== img.height || TW !== img.width || CH !== img.channels)
  fail(`${TRACE}'s images are ${TW}x${TH}x${CH}; the model takes ${img.width}x${img.height}x${img.channels}`);
const N = Math.min(NI, Number(env.IMAGES || NI));
const NT = Math.max(1, Number(env.TIME_IMAGES || 500));   // image i % N
const KROUNDS = Math.max(1, Number(env.KROUNDS || 3));
const PIX = TH * TW * CH;
const images = Array.from({ length: N }, (_, i) => trace.images.data.subarray(i * PIX, (i + 1) * PIX));
const Tg = trace.greedy.shape[1];
const refIds = Array.from({ length: N }, (_, i) =>
  Array.from(trace.greedy.data.subarray(i * Tg, i * Tg + trace.greedy_len.data[i])));
const gaps = GOLDEN ? fs.readFileSync(GOLDEN, 'utf8').trim().split('\n').map((l) => JSON.parse(l).greedy_gaps) : null;
// attention rows of image i's greedy output: padded [N, T, S] (the tiny trace) or ragged [R, S]
// with greedy_offset [N] (the shipped trace: image i's step t is row greedy_offset[i] + t)
const ragged = trace.attn?.shape.length === 2;
if (ragged && !trace.greedy_offset) fail(`${TRACE}: ragged attn without greedy_offset`);
const S = trace.attn ? trace.attn.shape.at(-1) : null;
const refAttn = (i, n) => {
  const r0 = ragged ? trace.greedy_offset.data[i] : i * Tg;
  return trace.attn.data.subarray(r0 * S, (r0 + n) * S);
};
// each block halves the map unless encoder.pool says false for it
const pooled = (i) => !Array.isArray(cfg.encoder.pool) || cfg.encoder.pool[i] !== false;
const grid = cfg.encoder.channels.reduce(([h, w], _, i) => (pooled(i) ? [Math.floor(h / 2), Math.floor(w / 2)] : [h, w]), [img.height, img.width]);
const maxLen = Math.max(1, Math.floor((searchMeta.len_a ?? 0) * grid[0] * grid[1] + (searchMeta.len_b ?? 40)));

// ONNX graphs, re-exported when older than the model or the export script
const WORK = path.join(OUT, 'caption', NAME);
fs.mkdirSync(WORK, { recursive: true });
const encOnnx = path.join(WORK, 'cnn_encoder.onnx'), stepOnnx = path.join(WORK, 'caption_step.onnx');
const metaJson = path.join(WORK, 'meta.json');
exportWhenStale({ py: PY, script: 'scripts/bench/export_caption_onnx.py', args: ['--model', MODEL_PATH, '--out', WORK],
  inputs: [MODEL_PATH, 'scripts/bench/export_caption_onnx.py'], outputs: [metaJson, encOnnx, stepOnnx], log, fail });
const onnxMeta = JSON.parse(fs.readFileSync(metaJson, 'utf8'));
const pixelTable = Float32Array.from(onnxMeta.pixel_table);

// ---------------------------------------------------------------- engines
// Each: load() -> handle; caption(h, i) -> { ids, attn (Float32Array rows), cnnMs? };
// timedPass(h, n) -> { seconds, cnn_s? }; dispose(h).
const engines = {};

const { Captioner } = await import('stele');   // the package's own entry (self-reference)
engines['stele-wasm'] = {
  async load() {
    return Captioner.load(modelBytes);
  },
  caption(c, i) {
    const r = c.caption({ data: images[i], width: TW, height: TH, channels: CH }, { beam: 1 });
    const S1 = r.gridHeight * r.gridWidth;
    const attn = new Float32Array(r.ids.length * S1);
    attn.set(r.attention);
    if (r.eosAttention) attn.set(r.eosAttention, r.attention.length);
    return { ids: r.ids, attn };
  },
  // per image: ms[i] (the caption's wall time)
  pass(c, n) {
    let words = 0;
    const ms = new Float64Array(n);
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const a = now();
      words += this.caption(c, i % N).ids.length;
      ms[i] = now() - a;
    }
    return { seconds: (now() - t0) / 1000, words, ms };
  },
  // the same pass with the session's profiling on: stele_session_timings (see the top), read
  // (and reset) after every image for the per-image CNN times cnnMs[i]
  profiledPass(c, n) {
    const e = c._engine, x = e.x, s = c._session.ptr;
    const tm = e.malloc(64);
    const sum = new Float64Array(5), cnnMs = new Float64Array(n);
    let steps = 0, words = 0;
    x.stele_session_set_profiling(s, 1);
    x.stele_session_timings(s, tm, 1);
    const t0 = now();
    for (let i = 0; i < n; i++) {
      words += this.caption(c, i % N).ids.length;
      x.stele_session_timings(s, tm, 1);
      e.views();
      for (let k = 0; k < 5; k++) sum[k] += e.dv.getFloat64(tm + 8 * k, true);
      steps += Number(e.dv.getBigInt64(tm + 40, true));
      cnnMs[i] = 1000 * e.dv.getFloat64(tm, true);
    }
    const seconds = (now() - t0) / 1000;
    x.stele_session_set_profiling(s, 0);
    e.free(tm);
    return { seconds, encoder_s: sum[0], decoder_lstm_s: sum[1], attention_s: sum[2], output_s: sum[3],
      search_s: sum[4], steps, words, cnnMs };
  },
  dispose(c) {
    c.dispose();
  },
};

const { ort, version: ortVersion, options: ortOptions } = await loadOrt();
const encB = new Uint8Array(fs.readFileSync(encOnnx)), stepB = new Uint8Array(fs.readFileSync(stepOnnx));
const L = cfg.decoder.layers, V = cfg.tgt_vocab;
engines['onnxruntime-web'] = {
  async load() {
    return { enc: await ort.InferenceSession.create(encB, ortOptions), step: await ort.InferenceSession.create(stepB, ortOptions) };
  },
  normalise(i) {
    return pixelTensor(ort, pixelTable, images[i], TH, TW, CH);
  },
  async caption(h, i, wantAttn = true) {
    const t0 = now();
    const e = await h.enc.run({ image: this.normalise(i) });
    const cnnMs = now() - t0;
    let hs = e.h0, cs = e.c0;
    const y = new Int32Array(1);
    y[0] = cfg.bos_id;
    const ids = [], rows = [];
    for (let t = 0; t < maxLen; t++) {
      const r = await h.step.run({ y: new ort.Tensor('int32', y, [1]), h: hs, c: cs, memory: e.memory, keys: e.keys });
      const lp = r.logp.data;
      let best = 0, bv = lp[0];
      for (let v = 1; v < V; v++) if (lp[v] > bv) { bv = lp[v]; best = v; }   // first maximum
      ids.push(best);
      if (wantAttn) rows.push(r.attn.data);
      hs = r.h1;
      cs = r.c1;
      y[0] = best;
      if (best === cfg.eos_id) break;
    }
    let attn = null;
    if (wantAttn) {
      attn = new Float32Array(rows.length * (rows[0]?.length ?? 0));
      rows.forEach((r, k) => attn.set(r, k * r.length));
    }
    return { ids, attn, cnnMs };
  },
  async pass(h, n) {
    let words = 0, cnn = 0;
    const ms = new Float64Array(n), cnnMs = new Float64Array(n);
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const a = now();
      const r = await this.caption(h, i % N, false);
      ms[i] = now() - a;
      words += r.ids.length;
      cnn += r.cnnMs;
      cnnMs[i] = r.cnnMs;
    }
    return { seconds: (now() - t0) / 1000, cnn_s: cnn / 1000, words, ms, cnnMs };
  },
  async dispose(h) {
    await h.enc.release();
    await h.step.release();
  },
};

// ---------------------------------------------------------------- machine and load
const results = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  model: { name: NAME, path: MODEL_PATH, bytes: modelBytes.length, config: cfg,
    parameters: parameterCount(model), grid, max_length: maxLen },
  settings: { trace: TRACE, golden: GOLDEN, images: N, timed_images: NT, reps: REPS, kernel_rounds: KROUNDS, threads: 1, search: 'greedy',
    onnxruntime_web: ortVersion,
    onnx: { opset: onnxMeta.opset, bytes: onnxMeta.onnx_bytes, torch: onnxMeta.torch },
    timing: 'stele-wasm: CNN = stele_session_timings().encoder (profiled pass), decode = that pass\'s time - CNN; ' +
      'onnxruntime-web: CNN = normalisation + encoder run(), decode = the rest (step run() per word, argmax)' },
  engines: {},
};

// ---------------------------------------------------------------- 1. outputs vs reference
function compare(ids, i) {
  const a = Array.from(ids), ref = refIds[i];
  if (a.length === ref.length && a.every((v, k) => v === ref[k])) return 'same';
  let d = 0;
  while (d < a.length && d < ref.length && a[d] === ref[d]) d++;
  return (gaps?.[i]?.[d] ?? 1e9) <= TOL ? 'tie' : 'diff';
}
const handles = {};
for (const name of ENGINES) {
  const e = engines[name];
  const t0 = now();
  handles[name] = await e.load();
  const r = (results.engines[name] = { load_first_ms: now() - t0 });
  const o = { same: 0, tie: 0, diff: 0 }, bad = [];
  let attnMax = 0, attnChecked = 0;
  for (let i = 0; i < N; i++) {
    const c = await e.caption(handles[name], i);
    const k = compare(c.ids, i);
    o[k]++;
    if (k === 'diff') {
      bad.push(i);
      if (bad.length <= 3) log(`  ${name}: mismatch on image ${i}: [${Array.from(c.ids)}] vs reference [${refIds[i]}]`);
    }
    if (k === 'same' && trace.attn && c.attn) {
      const ref = refAttn(i, c.ids.length);
      for (let j = 0; j < ref.length; j++) attnMax = Math.max(attnMax, Math.abs(ref[j] - c.attn[j]));
      attnChecked++;
    }
  }
  Object.assign(r, { outputs: { ...o, mismatches: bad.slice(0, 20) }, outputs_match: o.diff === 0,
    attention_max_abs_diff: trace.attn ? attnMax : null, attention_images_checked: attnChecked });
  log(`${name}: greedy vs reference: ${o.same} identical, ${o.tie} excused ties, ${o.diff} MISMATCHES of ${N}; ` +
    `attention max |diff| ${attnMax.toExponential(2)} over ${attnChecked} images` + (o.diff ? '  <-- MISMATCH' : ''));
}

// ---------------------------------------------------------------- 2. timed repetitions
const kw = await wasmKernels(path.join(OUT, 'kernels.wasm'));
const convLayers = [];
{
  let h = img.height, w = img.width, ci = img.channels;
  cfg.encoder.channels.forEach((co, i) => {
    convLayers.push({ H: h, W: w, Ci: ci, Co: co, item: `conv:${h},${w},${ci},${co}`, flops: 2 * h * w * 9 * ci * co });
    if (pooled(i)) {
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    }
    ci = co;
  });
}
const kItems = ['peak', 'peak4x8', ...convLayers.map((l) => l.item)];
for (const it of kItems) kw.run(it);   // not recorded: V8 tiers each kernel up (Liftoff -> TurboFan)
const kRuns = Object.fromEntries(kItems.map((it) => [it, []]));
const runs = Object.fromEntries(ENGINES.map((n) => [n, { seconds: [], cnn_s: [], decode_s: [], words: 0, profile: [] }]));
for (let rep = 0; rep < REPS; rep++) {
  const order = ENGINES.map((_, k) => ENGINES[(k + rep) % ENGINES.length]);
  for (const name of order) {
    const e = engines[name], R = runs[name];
    const p = await e.pass(handles[name], NT);
    R.seconds.push(p.seconds);
    R.words = p.words;
    R.bestMs = R.bestMs ? R.bestMs.map((v, i) => Math.min(v, p.ms[i])) : p.ms;
    let cnnMs;
    if (name === 'stele-wasm') {
      const q = e.profiledPass(handles[name], NT);
      R.profile.push(q);
      R.cnn_s.push(q.encoder_s);
      R.decode_s.push(q.seconds - q.encoder_s);
      cnnMs = q.cnnMs;
    } else {
      R.cnn_s.push(p.cnn_s);
      R.decode_s.push(p.seconds - p.cnn_s);
      cnnMs = p.cnnMs;
    }
    R.bestCnnMs = R.bestCnnMs ? R.bestCnnMs.map((v, i) => Math.min(v, cnnMs[i])) : cnnMs;
  }
  for (let k = 0; k < KROUNDS; k++) for (const it of kItems) kRuns[it].push(kw.run(it));
  log(`rep ${rep + 1}/${REPS}: ` + ENGINES.map((n) => `${n} ${(NT / runs[n].seconds.at(-1)).toFixed(1)} images/s ` +
    `(CNN ${(1000 * runs[n].cnn_s.at(-1) / NT).toFixed(2)} ms)`).join('; ') +
    `; conv ${convLayers.map((l) => kRuns[l.item].at(-1).gflop_s.toFixed(1)).join('/')} GFLOP/s, peak ` +
    `${Math.max(kRuns.peak.at(-1).gflop_s, kRuns.peak4x8.at(-1).gflop_s).toFixed(1)}`);
}
for (const name of ENGINES) await engines[name].dispose(handles[name]);
machineEnd(results.machine);

for (const name of ENGINES) {
  const r = results.engines[name], R = runs[name];
  const s = stat(R.seconds);
  const cnnMs = stat(R.cnn_s.map((v) => (1000 * v) / NT));
  const totalMs = (1000 * s.median) / NT;
  const decodeMs = stat(R.decode_s.map((v) => (1000 * v) / NT)).median;
  Object.assign(r, {
    timed_images: NT, words: R.words, seconds: s,
    images_per_s: NT / s.median, images_per_s_range: [NT / s.max, NT / s.min],
    spread: spread(s), varied: spread(s) > SPREAD_LIMIT,
    ms_per_image: totalMs, cnn_ms: cnnMs.median, cnn_ms_range: [cnnMs.min, cnnMs.max],
    decode_ms: decodeMs, decode_ms_per_word: (decodeMs * NT) / R.words,
  });
  // load-robust companions: each image's fastest caption (and CNN) over the repetitions, summed
  const bestTotal = R.bestMs.reduce((a, v) => a + v, 0), bestCnn = R.bestCnnMs.reduce((a, v) => a + v, 0);
  r.best_case = { images_per_s: (1000 * NT) / bestTotal, ms_per_image: bestTotal / NT, cnn_ms: bestCnn / NT,
    decode_ms: (bestTotal - bestCnn) / NT,
    note: 'each image\'s fastest time over the repetitions, summed (CNN likewise): less sensitive to other processes' };
  if (R.profile.length) {
    const { cnnMs, ...last } = R.profile.at(-1);
    r.profile = { ...last, note: 'stele_session_timings over the last profiled pass (seconds, all timed images)' };
  }
}

// conv kernels vs the SIMD128 peak: the best of the repetitions (each already the best of 5
// calls) for every item; the peak is the better of the two micro-kernels, or a conv layer's rate
// where one measured higher (as run.mjs does with its GEMMs: on a loaded machine the
// micro-kernels are not always timed in their best moment), so no fraction exceeds 100 %
const best = (it) => Math.max(...kRuns[it].map((o) => o.gflop_s));
const microPeak = Math.max(best('peak'), best('peak4x8'));
const peak = Math.max(microPeak, ...convLayers.map((l) => best(l.item)));
const layers = convLayers.map((l) => {
  const g = kRuns[l.item].map((o) => o.gflop_s);
  return { shape: { H: l.H, W: l.W, Ci: l.Ci, Co: l.Co }, mflop: l.flops / 1e6, gflop_s_best: Math.max(...g),
    gflop_s_median: median(g), ms_best: Math.min(...kRuns[l.item].map((o) => o.ms)), peak_fraction: Math.max(...g) / peak };
});
const convFlops = convLayers.reduce((a, l) => a + l.flops, 0), convMs = layers.reduce((a, l) => a + l.ms_best, 0);
results.kernels = {
  simd128_peak_gflop_s: peak, microkernel_peak_gflop_s: microPeak,
  peak_source: peak > microPeak ? 'a conv layer (faster than the micro-kernels in this run)' : 'micro-kernel',
  peak_runs: { '6x8': kRuns.peak.map((o) => o.gflop_s), '4x8': kRuns.peak4x8.map((o) => o.gflop_s) },
  conv_layers: layers,
  conv_all: { mflop: convFlops / 1e6, ms: convMs, gflop_s: convFlops / convMs / 1e6, peak_fraction: convFlops / convMs / 1e6 / peak },
  note: 'kernels_simd128.conv3x3_relu alone (scripts/bench/kernels.c kb_conv3x3), flops = 2 H W 9 Ci Co; ' +
    'peak = the better of two register-blocked multiply-add micro-kernels on L1 data (6x8, 4x8); ' +
    'best of 20 short calls (~1 ms), KROUNDS times per repetition between the engines\' passes, then the best of all',
};
// the native build of the same kernels (AVX2+FMA, build/bench/kernels-native) as the "what this
// CPU can do" reference, when built (make bench-deps): best of 5 calls, once
const KN = path.join(OUT, 'kernels-native');
if (fs.existsSync(KN)) {
  const r = spawnSync(KN, ['peak', ...convLayers.map((l) => l.item)]);
  if (r.status === 0) {
    const o = Object.fromEntries(JSON.parse(r.stdout.toString()).map((v) => [v.item, v]));
    const pk = Math.max(...Object.values(o).map((v) => v.gflop_s));
    results.kernels.native_avx2 = { peak_gflop_s: o.peak.gflop_s,
      conv_layers: convLayers.map((l) => ({ shape: { H: l.H, W: l.W, Ci: l.Ci, Co: l.Co }, ms: o[l.item].ms, gflop_s: o[l.item].gflop_s })),
      conv_all_gflop_s: convFlops / convLayers.reduce((a, l) => a + o[l.item].ms, 0) / 1e6,
      note: 'kernels_avx2.conv3x3_relu; peak = a 4x24 FMA micro-kernel (best of 20 short calls, one round)' +
        (pk > o.peak.gflop_s ? '; a conv layer measured above it' : '') };
  }
}

const W = results.engines;
results.ratios = {
  images_per_s_vs_onnxruntime: W['stele-wasm'].images_per_s / W['onnxruntime-web'].images_per_s,
  best_case_images_per_s_vs_onnxruntime: W['stele-wasm'].best_case.images_per_s / W['onnxruntime-web'].best_case.images_per_s,
  cnn_vs_onnxruntime: W['onnxruntime-web'].cnn_ms / W['stele-wasm'].cnn_ms,
  decode_vs_onnxruntime: W['onnxruntime-web'].decode_ms / W['stele-wasm'].decode_ms,
};
results.targets = {
  images_per_s_ratio_ge_1_3: results.ratios.images_per_s_vs_onnxruntime >= 1.3,
  conv_ge_50pct_peak: results.kernels.conv_all.peak_fraction >= 0.5,
  conv_every_layer_ge_50pct_peak: layers.every((l) => l.peak_fraction >= 0.5),
  outputs_match: ENGINES.every((n) => W[n].outputs_match),
};

fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(path.join(OUT, 'caption.json'), JSON.stringify(results, null, 1) + '\n');
const md = table(results);
fs.writeFileSync(path.join(OUT, 'caption.md'), md);
log('\n' + md);
log(`wrote ${path.join(OUT, 'caption.json')} and ${path.join(OUT, 'caption.md')}`);
if (!results.targets.outputs_match) process.exitCode = 1;

function table(res) {
  const f = (x, d = 0) => (x == null || Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const rng = (r, d = 0) => (r ? ` (${f(r[0], d)}–${f(r[1], d)})` : '');
  const m = res.machine, k = res.kernels, q = res.ratios;
  const lines = [];
  lines.push(`Captioning: model \`${res.model.name}\` (${f(res.model.parameters / 1e6, 3)} M parameters, F32; ` +
    `CNN ${res.model.config.encoder.channels.join('-')}, ${res.model.grid.join('x')} grid), greedy, ` +
    `outputs checked on ${res.settings.images} images (\`${res.settings.trace}\`), ${res.settings.timed_images} captions a timed pass` +
    `${res.settings.timed_images > res.settings.images ? ' (the images cycled)' : ''}; ` +
    `one thread, Node ${m.node}, ${m.cpu} (${m.cores} cores); ${loadText(m)}; ` +
    `${res.date.slice(0, 16).replace('T', ' ')} UTC. Medians of ${res.settings.reps} interleaved repetitions (min–max).`);
  lines.push('');
  lines.push('| engine | outputs = reference | attention max abs diff | images/s | ms/image | CNN ms/image | decode ms/image | decode ms/word |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const [n, r] of Object.entries(res.engines)) {
    const o = r.outputs;
    lines.push(`| ${n} | ${r.outputs_match ? 'yes' : '**NO**'} (${o.same + o.tie}/${res.settings.images}${o.tie ? `, ${o.tie} ties` : ''}) | ` +
      `${r.attention_max_abs_diff == null ? '–' : r.attention_max_abs_diff.toExponential(1)} | ${f(r.images_per_s, 1)}${rng(r.images_per_s_range, 1)} | ` +
      `${f(r.ms_per_image, 2)} | ${f(r.cnn_ms, 2)}${rng(r.cnn_ms_range, 2)} | ${f(r.decode_ms, 2)} | ${f(r.decode_ms_per_word, 3)} |`);
  }
  lines.push('');
  for (const [n, r] of Object.entries(res.engines))
    if (r.varied) lines.push(`**${n}'s repetitions varied by ${f(100 * r.spread)} % (max − min over the median, limit ` +
      `${100 * SPREAD_LIMIT} %): the machine was not quiet; rerun before trusting its figures.**`);
  lines.push(`stele-wasm vs onnxruntime-web: images/s ×${f(q.images_per_s_vs_onnxruntime, 2)} (target ≥ 1.3: ` +
    `${res.targets.images_per_s_ratio_ge_1_3 ? 'met' : '**not met**'}), CNN ×${f(q.cnn_vs_onnxruntime, 2)}, decode ×${f(q.decode_vs_onnxruntime, 2)}.`);
  lines.push(`Each image's fastest caption over the repetitions, summed (less sensitive to the machine's other load): ` +
    Object.entries(res.engines).map(([n, r]) => `${n} ${f(r.best_case.images_per_s, 1)} images/s (CNN ${f(r.best_case.cnn_ms, 2)} ms, ` +
      `decode ${f(r.best_case.decode_ms, 2)} ms)`).join(', ') + `: ×${f(q.best_case_images_per_s_vs_onnxruntime, 2)}.`);
  lines.push('');
  lines.push(`Conv kernels (wasm SIMD128, \`kernels_simd128.conv3x3_relu\` alone) against the measured multiply-add peak ` +
    `${f(k.simd128_peak_gflop_s, 1)} GFLOP/s (${k.simd128_peak_gflop_s > k.microkernel_peak_gflop_s
      ? `a conv layer's rate: the 6x8 and 4x8 micro-kernels reached ${f(k.microkernel_peak_gflop_s, 1)} in this run`
      : 'the better of a 6x8 and a 4x8 micro-kernel'}):`);
  lines.push('');
  lines.push('| layer (H x W, Ci → Co) | MFLOP | ms | GFLOP/s best (median) | % of peak |');
  lines.push('|---|---|---|---|---|');
  for (const l of k.conv_layers)
    lines.push(`| ${l.shape.H}x${l.shape.W}, ${l.shape.Ci} → ${l.shape.Co} | ${f(l.mflop, 2)} | ${f(l.ms_best, 3)} | ` +
      `${f(l.gflop_s_best, 1)} (${f(l.gflop_s_median, 1)}) | ${f(100 * l.peak_fraction, 0)} % |`);
  lines.push(`| all layers | ${f(k.conv_all.mflop, 2)} | ${f(k.conv_all.ms, 3)} | ${f(k.conv_all.gflop_s, 1)} | ${f(100 * k.conv_all.peak_fraction, 0)} % |`);
  lines.push('');
  lines.push(`Target conv ≥ 50 % of the SIMD128 peak: all layers together ${res.targets.conv_ge_50pct_peak ? 'met' : '**not met**'}` +
    `, every layer ${res.targets.conv_every_layer_ge_50pct_peak ? 'met' : '**not met**'}.`);
  const nk = k.native_avx2;
  if (nk)
    lines.push(`Native (AVX2+FMA, the same C): conv ${nk.conv_layers.map((l) => f(l.gflop_s, 1)).join(' / ')} GFLOP/s per layer, ` +
      `${f(nk.conv_all_gflop_s, 1)} all layers (FMA micro-kernel ${f(nk.peak_gflop_s, 1)} GFLOP/s).`);
  lines.push('');
  return lines.join('\n');
}
