// `make bench`: stele (wasm through the npm package's entry, and native) against onnxruntime-web
// and TF.js (wasm backend) on one model's test sentences, one thread, Node. See
// /work/shared/notes/bench.md for the fairness rules this follows:
//   1. outputs first: every engine's greedy and batched greedy (all sentences) and beam-5 (the
//      beam subset) outputs are compared with the PyTorch reference (tests/golden/<model>.
//      outputs.jsonl, tie rule of tests/js/parity.test.js); this pass is also each engine's
//      warm-up;
//   2. load times (model bytes in memory -> ready), engines interleaved;
//   3. REPS repetitions, engines interleaved and rotated, of a greedy pass, a batched greedy pass
//      (BATCH sentences at a time, every engine) and a beam-5 pass; between repetitions, the wasm
//      read bandwidth and k_linear alone on the decoder step's matrices (roofline);
//      medians with min-max;
//   4. a profiled pass (encoder / decoder-step split), peak memory and cold load in a fresh Node
//      process per engine (scripts/bench/mem.mjs), the kernel microbenchmark (roofline), shipped
//      bytes; build/bench/results.json and build/bench/results.md.
//
// Environment: MODEL (name under models/, or a .safetensors path; default ui-en-fr), GOLDEN
// (reference outputs; default tests/golden/<name>.outputs.jsonl), SENTENCES (first N; default
// all), TIME_SENTENCES (the first N of those are timed; default 400: outputs are checked on all,
// and 5 timed repetitions of all 1,000 would take ~9 minutes on a 2-core machine),
// BEAM_SENTENCES (default min(SENTENCES, 60)), REPS (default 5), BATCH (sentences per batch in
// the batched greedy pass; default 16), ENGINES (comma list), OUT (default build/bench),
// WORKERS (stele-wasm-workers' threads; default 2), WORKERS_MODEL (its model; default MODEL).
// stele-wasm-workers is the one engine on several threads: a TranslatorPool whose passes are one
// translateBatch call each (greedy: batchSize 1, so one by one on each worker; batched: BATCH
// rows per worker; beam 5), so its sentences/s is throughput, and it has no encoder/step split.
// INT8_MODEL (the int8 stele model; default models/<name>-int8/model.safetensors),
// BLEU_REFS (reference translations of the test split, one a line; default
// build/corpus/<name>/test.fr).
//
// Int8 engines (onnxruntime-web-int8: the graphs of scripts/bench/quantize_onnx.py; stele-wasm-int8
// with and without the shortlist) cannot give the F32 reference's outputs: for them the outputs
// pass reports the share identical to the F32 reference and the greedy BLEU on the test split
// beside the reference's own, instead of a match. A stele engine whose model file is missing, or
// that fails to load or translate (e.g. a build without the shortlist option), is skipped with a
// note in the table (results.skipped).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { greedy, greedyBatch, beam, detokenize } from './search.mjs';
import { readSafetensors, ortEngine, tfjsEngine } from './peers.mjs';
import { wasmKernels } from './roofline.mjs';
import { median, stat, spread, SPREAD_LIMIT } from './common.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.chdir(ROOT);
const env = process.env;
const MODEL_ARG = env.MODEL || 'ui-en-fr';
const MODEL_PATH = /\.safetensors$/.test(MODEL_ARG) ? MODEL_ARG : `models/${MODEL_ARG}/model.safetensors`;
const OUT = env.OUT || 'build/bench';
const REPS = Math.max(1, Number(env.REPS || 5));
const ALL_ENGINES = ['stele-wasm', 'stele-wasm-workers', 'stele-native', 'onnxruntime-web', 'onnxruntime-web-int8', 'tfjs-wasm',
  'stele-wasm-int8', 'stele-wasm-int8-shortlist', 'stele-wasm-int8-workers'];
// The stele engines: the model file each runs, the translate options it adds (wasm), and, for an
// approximation of the F32 reference, what it is (its outputs are then measured, not matched).
// default: models/<name>-int8/model.safetensors beside models/<name>/ (make int8-ui-en-fr)
const INT8_MODEL = env.INT8_MODEL || MODEL_PATH.replace(/\/model\.safetensors$/, '-int8/model.safetensors');
const STELE = {
  'stele-wasm': { model: MODEL_PATH, opts: {} },
  'stele-native': { model: MODEL_PATH, native: true },
  'stele-wasm-int8': { model: INT8_MODEL, opts: { shortlist: false }, approx: 'int8' },
  'stele-wasm-int8-shortlist': { model: INT8_MODEL, opts: { shortlist: true }, approx: 'int8 + shortlist' },
};
const APPROX = { 'onnxruntime-web-int8': 'int8 (dynamic)', 'stele-wasm-int8-workers': 'int8 + shortlist',
  ...Object.fromEntries(Object.entries(STELE).filter(([, s]) => s.approx).map(([n, s]) => [n, s.approx])) };
const isNative = (name) => !!STELE[name]?.native;
const skipped = {};   // engine -> why it was left out of this run
let ENGINES = env.ENGINES ? env.ENGINES.split(',') : ALL_ENGINES;
for (const n of ENGINES) {
  if (!ALL_ENGINES.includes(n)) {
    console.error(`bench: unknown engine ${n} (known: ${ALL_ENGINES.join(', ')})`);
    process.exit(1);
  }
}
const PY = env.PY || '/usr/bin/python3';
const TOL = 1e-4;

const log = (...a) => console.log(...a);
const now = () => performance.now();

// ---------------------------------------------------------------- inputs
if (!fs.existsSync(MODEL_PATH)) {
  console.error(`bench: ${MODEL_PATH} does not exist (MODEL=${MODEL_ARG})`);
  process.exit(1);
}
ENGINES = ENGINES.filter((n) => {
  if (!STELE[n] || fs.existsSync(STELE[n].model)) return true;
  skipped[n] = `no model file ${STELE[n].model}` + (STELE[n].approx ? ' (set INT8_MODEL=)' : '');
  log(`bench: ${n} skipped: ${skipped[n]}`);
  return false;
});
const modelBytes = new Uint8Array(fs.readFileSync(MODEL_PATH));
const st = readSafetensors(modelBytes);
const cfg = st.config;
const NAME = env.MODEL_NAME || (/\.safetensors$/.test(MODEL_ARG)
  ? readHeaderMeta(modelBytes).name || path.basename(path.dirname(MODEL_PATH)) : MODEL_ARG);
const GOLDEN = env.GOLDEN || `tests/golden/${NAME}.outputs.jsonl`;
if (!fs.existsSync(GOLDEN)) {
  console.error(`bench: reference outputs ${GOLDEN} not found (set GOLDEN=)`);
  process.exit(1);
}
let recs = fs.readFileSync(GOLDEN, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
if (env.SENTENCES) recs = recs.slice(0, Number(env.SENTENCES));
const N = recs.length;
const NB = Math.min(N, Number(env.BEAM_SENTENCES || 60));
const NT = Math.min(N, Number(env.TIME_SENTENCES || 400));
const BATCH = Math.max(1, Number(env.BATCH || 16));   // rows of stele's batched greedy pass
const texts = recs.map((r) => r.src);
const srcIds = recs.map((r) => Int32Array.from(r.src_ids));
const WORK = path.join(OUT, NAME);
fs.mkdirSync(WORK, { recursive: true });
fs.writeFileSync(path.join(WORK, 'sentences.txt'), texts.join('\n') + '\n');
fs.writeFileSync(path.join(WORK, 'src_ids.json'), JSON.stringify(recs.map((r) => r.src_ids)));

function readHeaderMeta(bytes) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))).__metadata__ || {};
}

// ONNX graphs (scripts/bench/export_onnx.py), re-exported when older than the model.
const encOnnx = path.join(WORK, 'encoder.onnx'), decOnnx = path.join(WORK, 'decoder_step.onnx');
const decBatchOnnx = path.join(WORK, 'decoder_step_batch.onnx');
const metaJson = path.join(WORK, 'meta.json');
const int8Onnx = (f) => f.replace(/\.onnx$/, '_int8.onnx');
const int8Json = path.join(WORK, 'int8.json');
if (ENGINES.some((n) => n.startsWith('onnxruntime-web')) || ENGINES.includes('tfjs-wasm')) {
  const mtime = (f) => fs.statSync(f).mtimeMs;
  const stale = !fs.existsSync(metaJson) || !fs.existsSync(decBatchOnnx) ||
    mtime(metaJson) < Math.max(mtime(MODEL_PATH), mtime('scripts/bench/export_onnx.py'));
  if (stale) {
    log(`exporting ${MODEL_PATH} to ONNX (${WORK})`);
    const r = spawnSync(PY, ['scripts/bench/export_onnx.py', '--model', MODEL_PATH, '--out', WORK],
      { stdio: ['ignore', 'inherit', 'pipe'] });
    if (r.status !== 0) {
      console.error(r.stderr.toString());
      process.exit(1);
    }
  }
  // the int8 peer's graphs: onnxruntime's dynamic quantisation, written by scripts/bench/quantize_onnx.py
  if (ENGINES.includes('onnxruntime-web-int8') && (!fs.existsSync(int8Json) ||
      mtime(int8Json) < Math.max(mtime(metaJson), mtime('scripts/bench/quantize_onnx.py')))) {
    log(`quantising the ONNX graphs to int8 (${WORK})`);
    const r = spawnSync(PY, ['scripts/bench/quantize_onnx.py', '--dir', WORK], { stdio: ['ignore', 'inherit', 'pipe'] });
    if (r.status !== 0) {
      skipped['onnxruntime-web-int8'] = `scripts/bench/quantize_onnx.py failed: ${r.stderr.toString().trim().split('\n').at(-1)}`;
      log(`bench: onnxruntime-web-int8 skipped: ${skipped['onnxruntime-web-int8']}`);
      ENGINES = ENGINES.filter((n) => n !== 'onnxruntime-web-int8');
    }
  }
}
const meta = fs.existsSync(metaJson) ? JSON.parse(fs.readFileSync(metaJson, 'utf8')) : null;

const searchP = {
  V: cfg.tgt_vocab, eos: cfg.eos_id, bos: cfg.bos_id, alpha: 0.2, beta: 0, beam: 5, nbest: 1,
  lenA: st.search.len_a ?? 2.0, lenB: st.search.len_b ?? 10.0,
};

// ---------------------------------------------------------------- engines
// Each: load() -> ready engine; translate(i, beam) -> { ids, text, encMs }; profile(); dispose().
const engines = {};
let ort = null, tf = null;

for (const name of ENGINES.filter((n) => STELE[n] && !isNative(n))) {
  const { Translator } = await import('stele');   // the package's own entry (self-reference)
  const spec = STELE[name];
  const bytes = spec.model === MODEL_PATH ? modelBytes : new Uint8Array(fs.readFileSync(spec.model));
  engines[name] = {
    async load() {
      return Translator.load(bytes);
    },
    translate(t, i, beamSize) {
      // raw text, as the reference and the peers see it (protect and normalize are on by default)
      const r = t.translate(texts[i], { beam: beamSize, nbest: 1, alpha: 0.2, beta: 0, protect: false, normalize: false, ...spec.opts });
      return { ids: r.targetIds, text: r.text };
    },
    // sentences 0..n-1 greedy through translateBatch (a stream of BATCH rows)
    translateAll(t, n) {
      return t.translateBatch(texts.slice(0, n), { beam: 1, alpha: 0.2, beta: 0, batchSize: BATCH, protect: false, normalize: false, ...spec.opts })
        .map((r) => ({ ids: r.targetIds, text: r.text }));
    },
    // encoder / decoder components from the engine's own profiling (stele_session_timings)
    profile(t, n) {
      const e = t._engine, x = e.x, s = t._session.ptr;
      const tm = e.malloc(64);
      x.stele_session_set_profiling(s, 1);
      x.stele_session_timings(s, tm, 1);
      let tokens = 0;
      const t0 = now();
      for (let i = 0; i < n; i++) tokens += this.translate(t, i, 1).ids.length;
      const total = (now() - t0) / 1000;
      x.stele_session_timings(s, tm, 1);
      x.stele_session_set_profiling(s, 0);
      e.views();
      const d = (k) => e.dv.getFloat64(tm + 8 * k, true);
      const r = { total_s: total, encoder_s: d(0), decoder_lstm_s: d(1), attention_s: d(2),
        output_s: d(3), search_s: d(4), steps: Number(e.dv.getBigInt64(tm + 40, true)), tokens };
      e.free(tm);
      return r;
    },
    dispose(t) {
      t.dispose();
    },
  };
}

// A TranslatorPool of `threads` workers on modelPath as engine `name` (a model path parameter,
// so that other model files, e.g. int8, can be benchmarked the same way). pass(): a whole pass
// as one translateBatch call, used instead of translate() one sentence at a time.
function steleWorkers(name, modelPath, threads) {
  const raw = { alpha: 0.2, beta: 0, protect: false, normalize: false };
  const bytes = new Uint8Array(fs.readFileSync(modelPath));
  let Pool = null;
  engines[name] = {
    threads,
    modelPath,
    async load() {
      Pool ??= (await import('stele')).TranslatorPool;
      return Pool.load(bytes, { threads });
    },
    async translate(p, i, beamSize) {
      const [r] = await p.translateBatch([texts[i]], { ...raw, beam: beamSize, nbest: 1 });
      return { ids: r.targetIds, text: r.text };
    },
    async pass(p, n, beamSize) {
      const rs = await p.translateBatch(texts.slice(0, n), { ...raw, beam: beamSize, nbest: 1, batchSize: 1 });
      return rs.map((r) => ({ ids: r.targetIds, text: r.text }));
    },
    async translateAll(p, n) {
      const rs = await p.translateBatch(texts.slice(0, n), { ...raw, beam: 1, batchSize: BATCH });
      return rs.map((r) => ({ ids: r.targetIds, text: r.text }));
    },
    dispose(p) {
      p.dispose();
    },
  };
}
const WORKERS = Math.max(1, Number(env.WORKERS || 2));
if (ENGINES.includes('stele-wasm-workers')) steleWorkers('stele-wasm-workers', env.WORKERS_MODEL || MODEL_PATH, WORKERS);
// the int8 model (its shortlist on, the default) on WORKERS workers; skipped without the file
if (ENGINES.includes('stele-wasm-int8-workers')) {
  if (fs.existsSync(INT8_MODEL)) steleWorkers('stele-wasm-int8-workers', INT8_MODEL, WORKERS);
  else {
    skipped['stele-wasm-int8-workers'] = `no model file ${INT8_MODEL} (set INT8_MODEL=)`;
    ENGINES = ENGINES.filter((n) => n !== 'stele-wasm-int8-workers');
  }
}

function peer(makeEngine) {
  return {
    async load() {
      return makeEngine();
    },
    async translate(e, i, beamSize) {
      const t0 = now();
      let encMs = 0;
      const timed = { ...e, encode: async (ids) => {
        const a = now();
        const c = await e.encode(ids);
        encMs += now() - a;
        return c;
      } };
      const out = beamSize === 1 ? await greedy(timed, srcIds[i], searchP)
        : (await beam(timed, srcIds[i], { ...searchP, beam: beamSize }))[0];
      const text = detokenize(meta.pieces, out.tokens, cfg.eos_id);
      return { ids: out.tokens, text, encMs, ms: now() - t0 };
    },
    // sentences 0..n-1 greedy in static batches of BATCH, sorted by source length (so a batch's
    // sentences end at similar steps), results in sentence order
    async translateAll(e, n) {
      const order = [...Array(n).keys()].sort((a, b) => srcIds[a].length - srcIds[b].length || a - b);
      const res = await greedyBatch(e, order.map((i) => srcIds[i]), searchP, BATCH);
      const out = new Array(n);
      order.forEach((i, k) => {
        out[i] = { ids: res[k].tokens, text: detokenize(meta.pieces, res[k].tokens, cfg.eos_id) };
      });
      return out;
    },
    async dispose(e) {
      await e.dispose?.();
    },
  };
}

if (ENGINES.includes('onnxruntime-web')) {
  ort ??= await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const encB = new Uint8Array(fs.readFileSync(encOnnx)), decB = new Uint8Array(fs.readFileSync(decOnnx));
  const decBB = new Uint8Array(fs.readFileSync(decBatchOnnx));
  engines['onnxruntime-web'] = peer(() => ortEngine(ort, encB, decB, cfg, decBB));
}
if (ENGINES.includes('onnxruntime-web-int8')) {
  ort ??= await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const rd = (f) => new Uint8Array(fs.readFileSync(int8Onnx(f)));
  const encB = rd(encOnnx), decB = rd(decOnnx), decBB = rd(decBatchOnnx);
  engines['onnxruntime-web-int8'] = peer(() => ortEngine(ort, encB, decB, cfg, decBB));
}
if (ENGINES.includes('tfjs-wasm')) {
  tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  engines['tfjs-wasm'] = peer(() => tfjsEngine(tf, readSafetensors(modelBytes)));
  engines['tfjs-wasm'].init = async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') throw new Error(`TF.js backend is ${tf.getBackend()}, not wasm`);
  };
}

const NATIVE = path.join(OUT, 'stele-native');
function runNative(name, outputs) {
  const args = [STELE[name].model, path.join(WORK, 'sentences.txt'), String(outputs ? N : NT), String(NB)];
  if (outputs) args.push('--outputs');
  const r = spawnSync(NATIVE, args, { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`stele-native failed: ${r.stderr}`);
  return JSON.parse(r.stdout.toString());
}

// ---------------------------------------------------------------- 1. outputs vs reference
function compare(ids, rec, kind) {
  const ref = kind === 'greedy' ? rec.greedy : rec.beam;
  const a = Array.from(ids);
  if (a.length === ref.length && a.every((v, i) => v === ref[i])) return 'same';
  if (kind === 'greedy') {
    let d = 0;
    while (d < a.length && d < ref.length && a[d] === ref[d]) d++;
    return (rec.greedy_gaps?.[d] ?? 1e9) <= TOL ? 'tie' : 'diff';
  }
  return Math.abs(rec.beam_gap ?? 1e9) <= TOL ? 'tie' : 'diff';
}

const results = {
  date: new Date().toISOString(),
  machine: {
    cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version,
    platform: `${os.platform()} ${os.release()}`, mem_gb: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadavg_before: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  },
  model: { name: NAME, path: MODEL_PATH, bytes: modelBytes.length, config: cfg,
    parameters: Object.values(st.tensors).reduce((s, t) => s + t.data.length, 0) },
  settings: { sentences: N, timed_sentences: NT, beam_sentences: NB, reps: REPS, threads: 1, workers: WORKERS, alpha: 0.2, beta: 0,
    len_a: searchP.lenA, len_b: searchP.lenB,
    tokens: 'output pieces of the best hypothesis, eos included (one decoder step each for greedy)',
    peer_tokenisation: 'onnxruntime-web and tfjs-wasm get SentencePiece ids from the reference file ' +
      '(tokenisation not timed for them); all engines detokenise' },
  engines: {},
};
const handles = {};
const loadMs = {};

const greedyTexts = {};   // engine -> its greedy outputs on all N sentences (for BLEU)
async function checkOutputs(name, r) {
  if (isNative(name)) {
    const o = runNative(name, true);
    r.kernels = o.kernels;
    const g = { same: 0, tie: 0, diff: 0 }, b = { same: 0, tie: 0, diff: 0 };
    const bad = [];
    o.greedy_ids.forEach((ids, i) => { const c = compare(ids ?? [], recs[i], 'greedy'); g[c]++; if (c === 'diff') bad.push(i); });
    o.beam_ids.forEach((ids, i) => { b[compare(ids ?? [], recs[i], 'beam')]++; });
    const gb = { same: 0, tie: 0, diff: 0 };
    o.batch_ids.forEach((ids, i) => { gb[compare(ids ?? [], recs[i], 'greedy')]++; });
    Object.assign(r.outputs, { greedy: g, beam5: b, greedy_batch: gb, greedy_mismatches: bad.slice(0, 20) });
    if (meta) greedyTexts[name] = o.greedy_ids.map((ids) => detokenize(meta.pieces, ids ?? [], cfg.eos_id));
    return;
  }
  const e = engines[name];
  await e.init?.();
  const t0 = now();
  handles[name] = await e.load();
  r.load_first_ms = now() - t0;   // first load in this process (compiles/instantiates the runtime)
  const h = handles[name];
  const g = { same: 0, tie: 0, diff: 0 }, b = { same: 0, tie: 0, diff: 0 };
  const bad = [], outs = [];
  const all = e.pass ? await e.pass(h, N, 1) : null;   // stele-wasm-workers: one call
  for (let i = 0; i < N; i++) {
    const o = all ? all[i] : await e.translate(h, i, 1);
    outs.push(o.text);
    const c = compare(o.ids, recs[i], 'greedy');
    g[c]++;
    if (c === 'diff') {
      bad.push(i);
      if (bad.length <= 3 && !APPROX[name]) log(`  ${name}: greedy mismatch on sentence ${i}: "${o.text}" vs reference "${recs[i].greedy_text}"`);
    }
  }
  greedyTexts[name] = outs;
  const beams = e.pass ? await e.pass(h, NB, 5) : null;
  for (let i = 0; i < NB; i++) b[compare((beams ? beams[i] : await e.translate(h, i, 5)).ids, recs[i], 'beam')]++;
  Object.assign(r.outputs, { greedy: g, beam5: b, greedy_mismatches: bad.slice(0, 20) });
  if (e.translateAll) {
    const gb = { same: 0, tie: 0, diff: 0 };
    (await e.translateAll(h, N)).forEach((o, i) => { gb[compare(o.ids, recs[i], 'greedy')]++; });
    r.outputs.greedy_batch = gb;
  }
}

for (const name of ENGINES) {
  const r = (results.engines[name] = { outputs: {} });
  try {
    await checkOutputs(name, r);
  } catch (err) {
    // an int8 engine may not load in this build (no int8 reader or shortlist option yet): note it
    // and go on; an F32 engine's failure stops the bench
    if (!APPROX[name]) throw err;
    skipped[name] = `failed: ${err.message}`;
    log(`bench: ${name} skipped: ${skipped[name]}`);
    delete results.engines[name];
    if (handles[name]) await engines[name].dispose(handles[name]);
    delete handles[name];
    continue;
  }
  const o = r.outputs;
  r.outputs_match = o.greedy.diff === 0 && (o.greedy_batch?.diff ?? 0) === 0;
  r.beam_outputs_match = o.beam5.diff === 0;
  if (APPROX[name]) {
    // not the F32 model: the share of outputs identical to the F32 reference's (the tie rule is
    // for float rounding, not for a changed model: ties are kept apart in r.outputs)
    r.approximation = APPROX[name];
    const frac = (c, n) => (c ? c.same / n : null);
    r.agreement = { greedy: frac(o.greedy, N), beam5: frac(o.beam5, NB), greedy_batch: frac(o.greedy_batch, N) };
    log(`${name} (${APPROX[name]}): greedy outputs identical to the F32 reference on ${o.greedy.same} of ${N} ` +
      `(${(100 * r.agreement.greedy).toFixed(1)} %, ${o.greedy.tie} more at a reference tie); beam-5 ${o.beam5.same} of ${NB}` +
      (o.greedy_batch ? `; batched greedy ${o.greedy_batch.same} of ${N}` : ''));
    continue;
  }
  log(`${name}: greedy vs reference: ${o.greedy.same} identical, ${o.greedy.tie} excused ties, ` +
    `${o.greedy.diff} MISMATCHES of ${N}; beam-5: ${o.beam5.same}/${o.beam5.tie}/${o.beam5.diff} of ${NB}` +
    (o.greedy_batch ? `; batched greedy: ${o.greedy_batch.same}/${o.greedy_batch.tie}/${o.greedy_batch.diff}` : '') +
    (r.outputs_match ? '' : '  <-- MISMATCH'));
}
ENGINES = ENGINES.filter((n) => !skipped[n]);
results.skipped = skipped;

// greedy BLEU on the test split (scripts/bleu.py, 13a tokenisation) for every engine and for the
// F32 reference's own greedy outputs, when the golden file's sentences are the split's in order
results.bleu = greedyBleu();
if (results.bleu.engines) {
  log(`greedy BLEU on ${results.bleu.sentences} test sentences: F32 reference ${results.bleu.reference.toFixed(2)}; ` +
    Object.entries(results.bleu.engines).map(([n, b]) => `${n} ${b.toFixed(2)}`).join(', '));
} else log(`greedy BLEU not computed: ${results.bleu.note}`);

function greedyBleu() {
  const refsPath = env.BLEU_REFS || `build/corpus/${NAME}/test.fr`;
  const srcPath = refsPath.replace(/\.[^./]+$/, '.en');
  if (!fs.existsSync(refsPath) || !fs.existsSync(srcPath)) return { note: `no ${refsPath} (or ${srcPath})` };
  const lines = (f) => fs.readFileSync(f, 'utf8').replace(/\n$/, '').split('\n');
  const src = lines(srcPath), refs = lines(refsPath);
  if (src.length < N || refs.length !== src.length || recs.some((r, i) => r.src !== src[i]))
    return { note: `${srcPath} is not the golden file's sentences in order` };
  const sets = { reference: recs.map((r) => r.greedy_text), ...greedyTexts };
  const py = 'import json, sys; sys.path.insert(0, "scripts"); from bleu import corpus_bleu\n' +
    'd = json.load(sys.stdin)\n' +
    'print(json.dumps({k: corpus_bleu(h, d["refs"])["bleu"] for k, h in d["sets"].items()}))';
  const r = spawnSync(PY, ['-c', py], { input: JSON.stringify({ refs: refs.slice(0, N), sets }), maxBuffer: 1 << 26 });
  if (r.status !== 0) return { note: `scripts/bleu.py failed: ${r.stderr}` };
  const b = JSON.parse(r.stdout.toString());
  const { reference, ...engs } = b;
  return { refs: refsPath, sentences: N, reference, engines: engs };
}

// ---------------------------------------------------------------- 2. load times (interleaved)
const jsEngines = ENGINES.filter((n) => !isNative(n));
for (let rep = 0; rep < REPS; rep++) {
  for (const name of jsEngines) {
    const e = engines[name];
    const t0 = now();
    const h = await e.load();
    (loadMs[name] ??= []).push(now() - t0);
    await e.dispose(h);
  }
}

// roofline: weights read per decoder step; the read bandwidth at that size is measured once per
// repetition, between the engines' passes, so the floor sees the same machine state as they do
// (this shared machine's bandwidth drifts by tens of percent within minutes)
const E = cfg.emb, Hd = cfg.decoder.hidden, O = cfg.decoder.out, V = cfg.tgt_vocab;
const D = cfg.encoder.hidden * (cfg.encoder.type === 'bilstm' ? 2 : 1);
const Hh = cfg.encoder.hidden;
const decTensors = Object.entries(st.tensors).filter(([k]) =>
  /^(dec_cells|proj|generator|attention)\./.test(k) && !/^attention\.(key|linear_in)/.test(k));
let stepBytes = decTensors.reduce((s, [, t]) => s + 4 * t.data.length, 0) + 4 * E;   // + one embedding row
if (cfg.tie_embeddings) stepBytes += 4 * V * O;   // generator.weight = tgt_embed.weight
const din = cfg.decoder.style === 'luong' ? E + O : E + D;
// the step's weight matrices in order, for k_linear alone on them ("gemvs:NxK+...")
const stepMatrices = decTensors.filter(([, t]) => t.shape.length === 2).map(([, t]) => t.shape);
if (cfg.tie_embeddings) stepMatrices.push([V, O]);
const gemvsItem = 'gemvs:' + stepMatrices.map(([n, k]) => `${n}x${k}`).join('+');
const kwReps = await wasmKernels(path.join(OUT, 'kernels.wasm'));
const readDuringReps = [], gemvsDuringReps = [];

// ---------------------------------------------------------------- 3. timed repetitions
const runs = Object.fromEntries(ENGINES.map((n) => [n, { greedy: [], beam5: [], greedy_batch: [], enc: [], tokens: {}, native: [] }]));
for (let rep = 0; rep < REPS; rep++) {
  const order = ENGINES.map((_, k) => ENGINES[(k + rep) % ENGINES.length]);
  for (const name of order) {
    const R = runs[name];
    if (isNative(name)) {
      const o = runNative(name, false);
      R.native.push(o);
      R.greedy.push(o.greedy.seconds);
      R.beam5.push(o.beam5.seconds);
      R.greedy_batch.push(o.greedy_batch.seconds);
      R.tokens.greedy = o.greedy.tokens;
      R.tokens.beam5 = o.beam5.tokens;
      R.tokens.greedy_batch = o.greedy_batch.tokens;
      continue;
    }
    const e = engines[name], h = handles[name];
    if (e.translateAll) {
      const t0 = now();
      R.tokens.greedy_batch = (await e.translateAll(h, NT)).reduce((a, o) => a + o.ids.length, 0);
      R.greedy_batch.push((now() - t0) / 1000);
    }
    for (const [kind, n, bs] of [['greedy', NT, 1], ['beam5', NB, 5]]) {
      let tokens = 0, enc = 0;
      const t0 = now();
      if (e.pass) {   // the whole pass at once (stele-wasm-workers)
        tokens = (await e.pass(h, n, bs)).reduce((a, o) => a + o.ids.length, 0);
        R[kind].push((now() - t0) / 1000);
        R.tokens[kind] = tokens;
        continue;
      }
      for (let i = 0; i < n; i++) {
        const o = await e.translate(h, i, bs);
        tokens += o.ids.length;
        enc += o.encMs ?? 0;
      }
      R[kind].push((now() - t0) / 1000);
      R.tokens[kind] = tokens;
      if (kind === 'greedy') R.enc.push(enc / 1000);
    }
  }
  readDuringReps.push(kwReps.run(`read:${stepBytes}`).gb_s);
  gemvsDuringReps.push(kwReps.run(gemvsItem).ms);
  log(`rep ${rep + 1}/${REPS}: ` + ENGINES.map((n) => `${n} greedy ${runs[n].greedy.at(-1).toFixed(2)} s, beam ${runs[n].beam5.at(-1).toFixed(2)} s`).join('; '));
}

// ---------------------------------------------------------------- 4. profile, memory, roofline, bytes
const steleProfiles = {};
for (const name of ENGINES.filter((n) => STELE[n] && !isNative(n)))
  steleProfiles[name] = engines[name].profile(handles[name], NT);

for (const name of ENGINES) {
  const r = results.engines[name], R = runs[name];
  const g = stat(R.greedy), b = stat(R.beam5);
  r.greedy = { sentences: NT, tokens: R.tokens.greedy, seconds: g,
    sentences_per_s: NT / g.median, tokens_per_s: R.tokens.greedy / g.median,
    tokens_per_s_range: [R.tokens.greedy / g.max, R.tokens.greedy / g.min] };
  r.beam5 = { sentences: NB, tokens: R.tokens.beam5, seconds: b,
    sentences_per_s: NB / b.median, tokens_per_s: R.tokens.beam5 / b.median,
    tokens_per_s_range: [R.tokens.beam5 / b.max, R.tokens.beam5 / b.min] };
  r.greedy_tokens_per_s = r.greedy.tokens_per_s;
  r.beam5_tokens_per_s = r.beam5.tokens_per_s;
  r.greedy_sentences_per_s = r.greedy.sentences_per_s;
  r.beam5_sentences_per_s = r.beam5.sentences_per_s;
  if (R.greedy_batch.length) {
    const gb = stat(R.greedy_batch);
    r.greedy_batch = { batch: BATCH, sentences: NT, tokens: R.tokens.greedy_batch, seconds: gb,
      sentences_per_s: NT / gb.median, tokens_per_s: R.tokens.greedy_batch / gb.median,
      tokens_per_s_range: [R.tokens.greedy_batch / gb.max, R.tokens.greedy_batch / gb.min] };
    r.greedy_batch_tokens_per_s = r.greedy_batch.tokens_per_s;
    r.greedy_batch_sentences_per_s = r.greedy_batch.sentences_per_s;
  }
  let encS;
  if (isNative(name)) {
    const p = R.native.at(-1).profile;
    r.profile = p;
    encS = p.encoder_s;
    r.load_ms = median(R.native.map((o) => o.load_s * 1000));
    r.peak_rss_mb = Math.max(...R.native.map((o) => o.peak_rss_kb)) / 1024;
  } else if (steleProfiles[name]) {
    r.profile = steleProfiles[name];
    encS = steleProfiles[name].encoder_s;
  } else if (engines[name].pass) {
    encS = NaN;   // several workers: no encoder / decoder-step split (the table shows –)
    r.threads = engines[name].threads;
  } else {
    encS = median(R.enc);
  }
  r.encoder_ms_per_sentence = (encS * 1000) / NT;
  // decoder step = (greedy time - encoder time) / steps (one step per output piece)
  r.decode_step_ms = ((g.median - encS) * 1000) / R.tokens.greedy;
  if (loadMs[name]) {
    r.load_ms = median(loadMs[name]);
    r.load_ms_range = [Math.min(...loadMs[name]), Math.max(...loadMs[name])];
  }
}
for (const name of jsEngines) await engines[name].dispose(handles[name]);

// peak memory and cold load: a fresh Node process per engine (and one with no engine)
const memArgs = [String(Math.min(N, 100)), String(Math.min(NB, 20))];
const nodeBase = spawnSync(process.execPath, ['scripts/bench/mem.mjs', 'none', MODEL_PATH, WORK, ...memArgs]);
results.machine.node_baseline_rss_mb = JSON.parse(nodeBase.stdout.toString()).peak_rss_mb;
for (const name of jsEngines) {
  const m = spawnSync(process.execPath, ['scripts/bench/mem.mjs', name,
    STELE[name]?.model ?? engines[name]?.modelPath ?? MODEL_PATH, WORK, ...memArgs],
    { env: { ...env, MEM_LEN_A: String(searchP.lenA), MEM_LEN_B: String(searchP.lenB),
      MEM_STELE_OPTS: JSON.stringify(STELE[name]?.opts ?? {}), MEM_WORKERS: String(WORKERS) } });
  if (m.status !== 0) {
    log(`mem.mjs ${name} failed: ${m.stderr}`);
    continue;
  }
  const o = JSON.parse(m.stdout.toString());
  Object.assign(results.engines[name], { peak_rss_mb: o.peak_rss_mb, wasm_heap_mb: o.wasm_heap_mb,
    load_cold_ms: o.load_cold_ms });
}

// shipped bytes: what a web page would download (runtime JS + wasm + model files)
const nm = 'node_modules';
const ship = {
  'stele-wasm': ['dist/stele.wasm', 'src/js/stele.js', MODEL_PATH],
  'stele-wasm-workers': ['dist/stele.wasm', 'src/js/stele.js', 'src/js/pool.js', 'src/js/pool_worker.js',
    engines['stele-wasm-workers']?.modelPath ?? MODEL_PATH],
  'stele-wasm-int8-workers': ['dist/stele.wasm', 'src/js/stele.js', 'src/js/pool.js', 'src/js/pool_worker.js', INT8_MODEL],
  'stele-native': [NATIVE, STELE['stele-native'].model],
  'onnxruntime-web': [`${nm}/onnxruntime-web/dist/ort.wasm.min.mjs`, `${nm}/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs`,
    `${nm}/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm`, encOnnx, decOnnx, 'scripts/bench/search.mjs'],
  'onnxruntime-web-int8': [`${nm}/onnxruntime-web/dist/ort.wasm.min.mjs`, `${nm}/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs`,
    `${nm}/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm`, int8Onnx(encOnnx), int8Onnx(decOnnx), 'scripts/bench/search.mjs'],
  'stele-wasm-int8': ['dist/stele.wasm', 'src/js/stele.js', INT8_MODEL],
  'stele-wasm-int8-shortlist': ['dist/stele.wasm', 'src/js/stele.js', INT8_MODEL],
  'tfjs-wasm': [`${nm}/@tensorflow/tfjs-core/dist/tf-core.min.js`, `${nm}/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js`,
    `${nm}/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm`, MODEL_PATH, 'scripts/bench/peers.mjs', 'scripts/bench/search.mjs'],
};
for (const name of ENGINES) {
  const files = ship[name].filter((f) => fs.existsSync(f));
  let raw = 0, gz = 0;
  const parts = {};
  for (const f of files) {
    const b = fs.readFileSync(f);
    const z = zlib.gzipSync(b, { level: 9 }).length;
    raw += b.length;
    gz += z;
    parts[path.relative(ROOT, f)] = { raw: b.length, gzip: z };
  }
  Object.assign(results.engines[name], { shipped_bytes: raw, shipped_gzip_bytes: gz, shipped_files: parts });
}

// roofline: kernels (the bytes per step were computed before the repetitions)
const items = [gemvsItem, `read:${stepBytes}`, `read:${4 * V * O}`, `read:${4 * 4 * Hd * (din + Hd)}`, 'read:65536', 'read:67108864',
  `linear:1,${V},${O}`, `linear:1,${4 * Hd},${din + Hd}`, `linear:5,${V},${O}`, `linear:16,${4 * Hh},${E}`, `linear:64,${4 * Hh},${E}`, 'peak'];
const kw = await wasmKernels(path.join(OUT, 'kernels.wasm'));
const wasmK = Object.fromEntries(items.map((it) => [it, kw.run(it)]));
let nativeK = null;
const kn = spawnSync(path.join(OUT, 'kernels-native'), items);
if (kn.status === 0) nativeK = Object.fromEntries(JSON.parse(kn.stdout.toString()).map((o) => [o.item, o]));
const roof = (K, w) => {
  if (!K) return null;
  // the compute peak: the micro-kernel's rate, or a faster measured k_linear GEMM (V8's code
  // for the micro-kernel is not always its best)
  // wasm: the median of the reads interleaved with the repetitions; native: its own kernel run
  const bw = K === wasmK && readDuringReps.length ? median(readDuringReps) : K[`read:${stepBytes}`].gb_s;
  const peak = Math.max(K.peak.gflop_s, ...Object.values(K).map((o) => o.gflop_s || 0));
  const step = (it, rd) => ({ ...K[it], read_gb_s: K[rd]?.gb_s, bandwidth_fraction: K[rd] ? K[it].gb_s / K[rd].gb_s : undefined,
    peak_fraction: K[it].gflop_s / peak });
  const stepMs = results.engines[w]?.decode_step_ms;
  const floorMs = (stepBytes / (bw * 1e9)) * 1000;
  return {
    decode_bytes_per_step: stepBytes, read_gb_s_at_decode_size: bw, decode_floor_ms: floorMs,
    read_gb_s_during_reps: K === wasmK ? readDuringReps : undefined,
    // k_linear alone on the step's matrices (no LSTM gates, attention, log-softmax, search)
    gemvs_ms: K === wasmK && gemvsDuringReps.length ? median(gemvsDuringReps) : K[gemvsItem]?.ms,
    gemvs_ms_during_reps: K === wasmK ? gemvsDuringReps : undefined,
    decode_step_ms: stepMs, decode_fraction: stepMs ? floorMs / stepMs : null,
    gemm_peak_gflop_s: peak, microkernel_gflop_s: K.peak.gflop_s,
    gemv_generator: step(`linear:1,${V},${O}`, `read:${4 * V * O}`),
    gemv_decoder_lstm: step(`linear:1,${4 * Hd},${din + Hd}`, `read:${4 * 4 * Hd * (din + Hd)}`),
    gemm_beam5_generator: step(`linear:5,${V},${O}`, `read:${4 * V * O}`),
    gemm_encoder_16: step(`linear:16,${4 * Hh},${E}`, `read:65536`),
    gemm_encoder_64: step(`linear:64,${4 * Hh},${E}`, `read:65536`),
    read_bandwidth: Object.fromEntries(Object.entries(K).filter(([k]) => k.startsWith('read:')).map(([k, v]) => [v.bytes, v.gb_s])),
  };
};
results.roofline = { 'stele-wasm': roof(wasmK, 'stele-wasm'), 'stele-native': roof(nativeK, 'stele-native') };
if (results.engines['stele-wasm']) results.engines['stele-wasm'].roofline = { decode_fraction: results.roofline['stele-wasm'].decode_fraction };
if (results.engines['stele-native'] && nativeK) results.engines['stele-native'].roofline = { decode_fraction: results.roofline['stele-native'].decode_fraction };
results.roofline.decode_fraction = results.roofline['stele-wasm']?.decode_fraction;

// targets
const W = results.engines;
const ratio = (a, b, k) => (W[a] && W[b] ? W[a][k] / W[b][k] : null);
// Repetition sets that vary too much to be trusted (common.mjs SPREAD_LIMIT), named in the table.
results.flagged = [];
for (const [name, r] of Object.entries(results.engines))
  for (const pass of ['greedy', 'beam5', 'greedy_batch']) {
    const sec = r[pass]?.seconds;
    if (sec && sec.n > 1 && spread(sec) > SPREAD_LIMIT)
      results.flagged.push({ engine: name, pass, spread: spread(sec) });
  }

results.ratios = {
  greedy_vs_onnxruntime: ratio('stele-wasm', 'onnxruntime-web', 'greedy_tokens_per_s'),
  greedy_vs_tfjs: ratio('stele-wasm', 'tfjs-wasm', 'greedy_tokens_per_s'),
  beam5_vs_onnxruntime: ratio('stele-wasm', 'onnxruntime-web', 'beam5_tokens_per_s'),
  beam5_vs_tfjs: ratio('stele-wasm', 'tfjs-wasm', 'beam5_tokens_per_s'),
  e2e_sentences_vs_onnxruntime: ratio('stele-wasm', 'onnxruntime-web', 'greedy_sentences_per_s'),
  e2e_sentences_vs_tfjs: ratio('stele-wasm', 'tfjs-wasm', 'greedy_sentences_per_s'),
  wasm_vs_native_decoding: W['stele-native'] && W['stele-wasm'] ? W['stele-native'].decode_step_ms / W['stele-wasm'].decode_step_ms : null,
  wasm_vs_native_greedy_tokens: ratio('stele-wasm', 'stele-native', 'greedy_tokens_per_s'),
  // batched greedy, every engine: stele's stream of BATCH rows refilled as sentences end; the
  // peers' static batches of BATCH sentences sorted by length (decoder_step_batch.onnx / tfjs
  // with padded memories and a mask)
  batched_greedy_vs_onnxruntime: ratio('stele-wasm', 'onnxruntime-web', 'greedy_batch_tokens_per_s'),
  batched_greedy_vs_tfjs: ratio('stele-wasm', 'tfjs-wasm', 'greedy_batch_tokens_per_s'),
  batched_e2e_sentences_vs_onnxruntime: ratio('stele-wasm', 'onnxruntime-web', 'greedy_batch_sentences_per_s'),
  batched_e2e_sentences_vs_tfjs: ratio('stele-wasm', 'tfjs-wasm', 'greedy_batch_sentences_per_s'),
  batched_vs_one_by_one_wasm: W['stele-wasm']?.greedy_batch_tokens_per_s ? W['stele-wasm'].greedy_batch_tokens_per_s / W['stele-wasm'].greedy_tokens_per_s : null,
  // int8 (issue 14's targets: sentences/s one at a time against both onnxruntime-web engines,
  // and the greedy decoder step against stele's F32 one)
  onnxruntime_int8_vs_f32_greedy: ratio('onnxruntime-web-int8', 'onnxruntime-web', 'greedy_tokens_per_s'),
  greedy_vs_onnxruntime_int8: ratio('stele-wasm', 'onnxruntime-web-int8', 'greedy_tokens_per_s'),
  e2e_sentences_vs_onnxruntime_int8: ratio('stele-wasm', 'onnxruntime-web-int8', 'greedy_sentences_per_s'),
  ...Object.fromEntries(['stele-wasm-int8', 'stele-wasm-int8-shortlist'].filter((n) => W[n]).flatMap((n) => [
    [`${n}_e2e_sentences_vs_onnxruntime`, ratio(n, 'onnxruntime-web', 'greedy_sentences_per_s')],
    [`${n}_e2e_sentences_vs_onnxruntime_int8`, ratio(n, 'onnxruntime-web-int8', 'greedy_sentences_per_s')],
    [`${n}_decode_step_vs_f32`, W['stele-wasm'] ? W['stele-wasm'].decode_step_ms / W[n].decode_step_ms : null]])),
  // test-set sentences/s of WORKERS workers vs one stele-wasm (the same model file by default)
  workers_greedy_vs_one: ratio('stele-wasm-workers', 'stele-wasm', 'greedy_sentences_per_s'),
  workers_batched_vs_one: ratio('stele-wasm-workers', 'stele-wasm', 'greedy_batch_sentences_per_s'),
  workers_beam5_vs_one: ratio('stele-wasm-workers', 'stele-wasm', 'beam5_sentences_per_s'),
  int8_workers_greedy_vs_one: ratio('stele-wasm-int8-workers', 'stele-wasm-int8-shortlist', 'greedy_sentences_per_s'),
  int8_workers_batched_vs_one: ratio('stele-wasm-int8-workers', 'stele-wasm-int8-shortlist', 'greedy_batch_sentences_per_s'),
  int8_workers_beam5_vs_one: ratio('stele-wasm-int8-workers', 'stele-wasm-int8-shortlist', 'beam5_sentences_per_s'),
};

results.machine.loadavg_after = os.loadavg().map((x) => x.toFixed(2)).join(' ');

fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 1) + '\n');
const md = table(results);
fs.writeFileSync(path.join(OUT, 'results.md'), md);
log('\n' + md);
log(`wrote ${path.join(OUT, 'results.json')} and ${path.join(OUT, 'results.md')}`);

function table(res) {
  const f = (x, d = 0) => (x == null || Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const mb = (b) => f(b / 1e6, 1);
  const rng = (r, d = 0) => (r ? ` (${f(r[0], d)}–${f(r[1], d)})` : '');
  const lines = [];
  lines.push(`Model \`${res.model.name}\` (${f(res.model.parameters / 1e6, 2)} M parameters, F32), ` +
    `outputs checked on ${res.settings.sentences} test sentences (greedy) and the first ${res.settings.beam_sentences} (beam-5); ` +
    `timed: the first ${res.settings.timed_sentences} greedy and the first ${res.settings.beam_sentences} beam-5 (translation = text in, text out); ` +
    `one thread (stele-wasm-workers: ${res.settings.workers} workers), Node ${res.machine.node}, ${res.machine.cpu}; ${res.date.slice(0, 10)}. ` +
    `Medians of ${res.settings.reps} interleaved repetitions (min–max).`);
  lines.push('');
  lines.push(`| engine | outputs = reference | greedy tokens/s | greedy sentences/s | batched greedy (${BATCH} rows) tokens/s | beam-5 tokens/s | encoder ms/sentence | decoder step ms | load ms | peak RSS MB (wasm heap) | shipped MB (gzip) |`);
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const bl = res.bleu?.engines;
  for (const [n, r] of Object.entries(res.engines)) {
    const o = r.outputs;
    // an int8 engine: the share of outputs identical to the F32 reference, and greedy BLEU
    const match = r.approximation
      ? `${r.approximation}: ${f(100 * r.agreement.greedy, 1)} % identical${bl?.[n] != null ? `, BLEU ${f(bl[n], 2)}` : ''}`
      : `${r.outputs_match ? 'yes' : '**NO**'} (${o.greedy.same + o.greedy.tie}/${res.settings.sentences}${o.greedy.tie ? `, ${o.greedy.tie} ties` : ''})`;
    const batched = r.greedy_batch ? `${f(r.greedy_batch_tokens_per_s)}${rng(r.greedy_batch.tokens_per_s_range)}` : '–';
    lines.push(`| ${n} | ${match} | ${f(r.greedy_tokens_per_s)}${rng(r.greedy.tokens_per_s_range)} | ${f(r.greedy_sentences_per_s, 1)} | ${batched} | ` +
      `${f(r.beam5_tokens_per_s)}${rng(r.beam5.tokens_per_s_range)} | ${f(r.encoder_ms_per_sentence, 3)} | ${f(r.decode_step_ms, 3)} | ` +
      `${f(r.load_ms, 1)} | ${f(r.peak_rss_mb, 0)}${r.wasm_heap_mb != null ? ` (${f(r.wasm_heap_mb, 0)})` : ''} | ${mb(r.shipped_bytes)} (${mb(r.shipped_gzip_bytes)}) |`);
  }
  for (const fl of res.flagged ?? [])
    lines.push('', `**Flagged:** ${fl.engine}'s ${fl.pass === 'beam5' ? 'beam-5' : fl.pass === 'greedy_batch' ? 'batched greedy' : 'greedy'} repetitions varied by ${f(100 * fl.spread, 0)} % ` +
      `((max − min) / median > ${f(100 * SPREAD_LIMIT, 0)} %): its median is not to be trusted; run again on a quieter machine.`);
  for (const [n, why] of Object.entries(res.skipped ?? {})) lines.push('', `**Skipped:** ${n}: ${why}.`);
  const q = res.ratios, rw = res.roofline['stele-wasm'];
  lines.push('');
  if (bl && Object.values(res.engines).some((r) => r.approximation))
    lines.push(`Int8 engines: "% identical" = the share of their greedy outputs on all ${res.settings.sentences} sentences identical to the F32 PyTorch reference's; ` +
      `greedy BLEU on the test split (scripts/bleu.py) ${Object.entries(bl).map(([n, b]) => `${n} ${f(b, 2)}`).join(', ')}, the F32 reference's own ${f(res.bleu.reference, 2)}. ` +
      (res.engines['onnxruntime-web-int8'] ? `onnxruntime-web-int8 = onnxruntime's dynamic quantisation (scripts/bench/quantize_onnx.py: ` +
        `MatMul/Gemm → DynamicQuantizeLinear + MatMulInteger, int8 weights per output column; the encoder's LSTM → DynamicQuantizeLSTM; embeddings int8), ` +
        `×${f(q.onnxruntime_int8_vs_f32_greedy, 2)} onnxruntime-web F32 greedy tokens/s; stele-wasm F32 = ×${f(q.greedy_vs_onnxruntime_int8, 2)} onnxruntime-web-int8 greedy tokens/s` +
        `${['stele-wasm-int8', 'stele-wasm-int8-shortlist'].filter((n) => res.engines[n]).map((n) => `; ${n}: test-set sentences/s ×${f(q[`${n}_e2e_sentences_vs_onnxruntime`], 2)} onnxruntime-web F32, ` +
          `×${f(q[`${n}_e2e_sentences_vs_onnxruntime_int8`], 2)} onnxruntime-web-int8, decoder step ×${f(q[`${n}_decode_step_vs_f32`], 2)} faster than stele-wasm F32`).join('')}.` : ''));
  lines.push(`stele-wasm vs onnxruntime-web / tfjs-wasm: greedy tokens/s ×${f(q.greedy_vs_onnxruntime, 2)} / ×${f(q.greedy_vs_tfjs, 2)}, ` +
    `beam-5 ×${f(q.beam5_vs_onnxruntime, 2)} / ×${f(q.beam5_vs_tfjs, 2)}, end-to-end greedy sentences/s ×${f(q.e2e_sentences_vs_onnxruntime, 2)} / ×${f(q.e2e_sentences_vs_tfjs, 2)}; ` +
    `stele-wasm decoder step = ${f(q.wasm_vs_native_decoding == null ? null : 100 * q.wasm_vs_native_decoding, 0)} % of native's speed.`);
  lines.push(`Batched greedy (${BATCH} sentences at a time; stele: \`translateBatch\`, rows refilled as sentences end; peers: static batches sorted by source length, ` +
    `padded memories and a mask): stele-wasm vs onnxruntime-web / tfjs-wasm tokens/s ×${f(q.batched_greedy_vs_onnxruntime, 2)} / ×${f(q.batched_greedy_vs_tfjs, 2)}, ` +
    `test-set sentences/s ×${f(q.batched_e2e_sentences_vs_onnxruntime, 2)} / ×${f(q.batched_e2e_sentences_vs_tfjs, 2)}; stele-wasm batched = ×${f(q.batched_vs_one_by_one_wasm, 2)} its one-by-one tokens/s.`);
  if (q.workers_greedy_vs_one != null)
    lines.push(`stele-wasm-workers (${res.settings.workers} workers, a TranslatorPool) vs one stele-wasm, test-set sentences/s: greedy one by one ×${f(q.workers_greedy_vs_one, 2)}, ` +
      `batched greedy ×${f(q.workers_batched_vs_one, 2)}, beam-5 ×${f(q.workers_beam5_vs_one, 2)}` +
      (q.int8_workers_greedy_vs_one != null ? `; stele-wasm-int8-workers vs one stele-wasm-int8-shortlist: greedy ×${f(q.int8_workers_greedy_vs_one, 2)}, ` +
        `batched greedy ×${f(q.int8_workers_batched_vs_one, 2)}, beam-5 ×${f(q.int8_workers_beam5_vs_one, 2)}` : '') + ` (load average ${res.machine.loadavg_before} before, ${res.machine.loadavg_after} after: other processes take cores from the workers).`);
  if (rw) {
    lines.push(`Roofline (wasm SIMD128): a decoder step reads ${mb(rw.decode_bytes_per_step)} MB of weights; read bandwidth at that size ${f(rw.read_gb_s_at_decode_size, 1)} GB/s ` +
      `→ floor ${f(rw.decode_floor_ms, 3)} ms/step; stele-wasm reaches ${f(100 * rw.decode_fraction, 0)} % of it. ` +
      `k_linear alone on the step's ${stepMatrices.length} matrices takes ${f(rw.gemvs_ms, 3)} ms (${f(100 * rw.decode_floor_ms / rw.gemvs_ms, 0)} % of the floor; the whole step ${f(rw.decode_step_ms, 3)} ms). ` +
      `GEMV ${rw.gemv_generator.item.slice(7)}: ${f(rw.gemv_generator.gb_s, 1)} GB/s (${f(100 * rw.gemv_generator.bandwidth_fraction, 0)} % of read bandwidth); ` +
      `encoder GEMM ${rw.gemm_encoder_16.item.slice(7)}: ${f(rw.gemm_encoder_16.gflop_s, 1)} GFLOP/s (${f(100 * rw.gemm_encoder_16.peak_fraction, 0)} % of the ${f(rw.gemm_peak_gflop_s, 1)} GFLOP/s SIMD128 peak, the best of a 6x8 micro-kernel and the measured GEMMs).`);
  }
  lines.push('');
  return lines.join('\n');
}
