// `make bench-vqa` (and the VQA section of `make bench`): stele-wasm (the Answerer of the npm
// package's own entry) against onnxruntime-web (wasm backend, SIMD, numThreads 1: stele is
// single-threaded) answering the same test questions with the same weights, one question at a
// time, in one Node process. The fairness rules of /work/shared/notes/bench.md:
//   1. outputs first: each engine answers every checked question of the golden trace (made by
//      scripts/golden_vqa.py from the PyTorch reference); its question ids, answer (a differing
//      answer is excused only where the reference's two best probabilities are within 1e-4: a
//      tie in float noise), probabilities and glimpses (max |difference| <= 1e-4) are compared
//      with the trace's, and the two engines' answers with each other. This pass is also each
//      engine's warm-up;
//   2. REPS repetitions of a pass over TIME_QUESTIONS questions by each engine: answers/s. The
//      engines are interleaved in blocks of BLOCK questions (A B, B A, A B, ...), so that both
//      see the same moments of a shared machine's load (whole passes one after the other varied
//      by 38-99 % between repetitions in the first runs here, blocks of 50 by 6-30 %); an
//      engine's time for a repetition is the sum of its blocks. An answer = what a page pays for
//      one question: the question text and the u8 pixels in, the answer, its probabilities and
//      the glimpse maps out.
//        stele-wasm: Answerer.answer(image, text) (the C tokeniser, CNN, LSTM, glimpses,
//          classifier; the result copied out of wasm memory);
//        onnxruntime-web: the text tokenised in JS (FORMAT.md "VQA models" step 3, the model's
//          word list), the pixels normalised through the reference's pixel table, one run() of
//          the exported graph (scripts/bench/export_vqa_onnx.py: the whole forward pass), the
//          argmax in JS.
//      Medians with min-max, and the ratio of each repetition's two times (median, min-max); a
//      repetition set varying by more than 30 % ((max - min) / median) is flagged. Also each
//      question's fastest time over the repetitions, summed (less sensitive to the other
//      processes of a shared machine).
//   build/bench/vqa.json and vqa.md (OUT/vqa.*), with the machine and its load.
//
// The ONNX graph comes from scripts/bench/export_vqa_onnx.py (re-exported when older than the
// model or the script) into OUT/vqa/<model>/; it checks the graph's PyTorch module against the
// reference (with the model's learned position table, if it has one).
//
// Environment (VQA_* so that `make bench MODEL=... GOLDEN=...` does not reach it):
// VQA_MODEL (name under models/ or a .safetensors path; default scenes-vqa), VQA_TRACE (golden
// trace: images, image or scene, question_ids, question_n, answer, probs, glimpses, and the
// question texts as question_bytes + question_len or the metadata's questions; default
// tests/golden/<name>.trace.safetensors, else tests/golden/tiny/<name>.trace.safetensors),
// QUESTIONS (first N checked; default all), TIME_QUESTIONS (questions per timed pass, default
// 1000: the first 1000, or the questions cycled when there are fewer, as the tiny model's 8),
// BLOCK (questions per interleaved block, default 50; 0: whole passes), REPS (default 3), OUT
// (default build/bench), PY (python for the export; default /usr/bin/python3).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SPREAD_LIMIT, exportWhenStale, loadOrt, loadText, machineEnd, machineInfo, now,
  parameterCount, pixelTensor, readTensors, spread, stat } from './common.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.chdir(ROOT);
const env = process.env;
const MODEL_ARG = env.VQA_MODEL || 'scenes-vqa';
const MODEL_PATH = /\.safetensors$/.test(MODEL_ARG) ? MODEL_ARG : `models/${MODEL_ARG}/model.safetensors`;
const OUT = env.OUT || 'build/bench';
const REPS = Math.max(1, Number(env.REPS || 3));
const PY = env.PY || '/usr/bin/python3';
const TOL = 1e-4;
const ENGINES = ['stele-wasm', 'onnxruntime-web'];

const log = (...a) => console.log(...a);
const fail = (msg) => {
  console.error(`bench-vqa: ${msg}`);
  process.exit(1);
};

// ---------------------------------------------------------------- inputs
if (!fs.existsSync(MODEL_PATH)) fail(`${MODEL_PATH} does not exist (VQA_MODEL=${MODEL_ARG})`);
const model = readTensors(MODEL_PATH);
const modelBytes = model.bytes;
const cfg = JSON.parse(model.meta.config);
if (cfg.task !== 'vqa') fail(`${MODEL_PATH} is not a VQA model (task ${cfg.task ?? 'translate'})`);
const NAME = model.meta.name || path.basename(MODEL_PATH, '.safetensors');
const TRACE = env.VQA_TRACE || [`tests/golden/${NAME}.trace.safetensors`, `tests/golden/tiny/${NAME}.trace.safetensors`,
  path.join(path.dirname(MODEL_PATH), `${NAME}.trace.safetensors`)].find((f) => fs.existsSync(f));
if (!TRACE || !fs.existsSync(TRACE)) fail(`no golden trace for ${NAME} (set VQA_TRACE=)`);
const traceFile = readTensors(TRACE), trace = traceFile.tensors;
const img = cfg.image;
const [, TH, TW] = trace.images.shape;
const CH = trace.images.shape[3] ?? 1;
if (TH !== img.height || TW !== img.width || CH !== img.channels)
  fail(`${TRACE}'s images are ${TW}x${TH}x${CH}; the model takes ${img.width}x${img.height}x${img.channels}`);
const PIX = TH * TW * CH;
const imageOf = (trace.image ?? trace.scene).data;
const NQ = imageOf.length;
const N = Math.min(NQ, Number(env.QUESTIONS || NQ));
const NT = Math.max(1, Number(env.TIME_QUESTIONS || 1000));   // question k % N
const BLOCK = Number(env.BLOCK ?? 50) > 0 ? Math.min(NT, Number(env.BLOCK ?? 50)) : NT;
const [, G, S] = trace.glimpses.shape;
const Na = trace.probs.shape[1], Tq = trace.question_ids.shape[1];
const images = Array.from({ length: trace.images.shape[0] }, (_, i) => trace.images.data.subarray(i * PIX, (i + 1) * PIX));
const utf8 = new TextDecoder('utf-8', { fatal: true });
const texts = trace.question_bytes
  ? Array.from({ length: N }, (_, k) => utf8.decode(trace.question_bytes.data.subarray(k * trace.question_bytes.shape[1],
    k * trace.question_bytes.shape[1] + trace.question_len.data[k])))
  : JSON.parse(traceFile.meta.questions).slice(0, N);
const row = (t, k, n) => t.data.subarray(k * n, (k + 1) * n);
const refIds = (k) => Array.from(row(trace.question_ids, k, Tq).subarray(0, trace.question_n.data[k]));
// a differing answer is excused where the reference's two best probabilities are within TOL
const refGap = (k) => {
  const [p1, p2] = Array.from(row(trace.probs, k, Na)).sort((a, b) => b - a);
  return p1 - (p2 ?? -Infinity);
};

// the ONNX graph, re-exported when older than the model or the export script
const WORK = path.join(OUT, 'vqa', NAME);
fs.mkdirSync(WORK, { recursive: true });
const onnxPath = path.join(WORK, 'vqa.onnx'), metaJson = path.join(WORK, 'meta.json');
exportWhenStale({ py: PY, script: 'scripts/bench/export_vqa_onnx.py',
  args: ['--model', MODEL_PATH, '--out', WORK, '--trace', TRACE],
  inputs: [MODEL_PATH, TRACE, 'scripts/bench/export_vqa_onnx.py'], outputs: [metaJson, onnxPath], log, fail });
const onnxMeta = JSON.parse(fs.readFileSync(metaJson, 'utf8'));
const pixelTable = Float32Array.from(onnxMeta.pixel_table);

// ---------------------------------------------------------------- engines
// Each: load() -> handle; answer(h, k) -> { index, ids, probs, glimpses } (question k of the
// trace); dispose(h).
const engines = {};

const { Answerer } = await import('stele');   // the package's own entry (self-reference)
engines['stele-wasm'] = {
  async load() {
    return Answerer.load(modelBytes);
  },
  answer(a, k) {
    const r = a.answer({ data: images[imageOf[k]], width: TW, height: TH, channels: CH }, texts[k]);
    return { index: r.index, ids: r.questionIds, probs: r.probs, glimpses: r.glimpses };
  },
  dispose(a) {
    a.dispose();
  },
};

// FORMAT.md "VQA models" step 3, as scripts/words.py question_words: ASCII A-Z lower-cased, "?"
// and "," words of their own, split on ASCII white space; a word not in the list -> unk_id 1
const wordIndex = new Map(onnxMeta.words.map((w, i) => [w, i]));
const ASCII_SPACE = /[ \t\n\r\v\f]+/;
function tokenise(text) {
  const words = text.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[?,]/g, ' $& ').split(ASCII_SPACE);
  const ids = [];
  for (const w of words) if (w) ids.push(wordIndex.get(w) ?? 1);
  return ids;
}

const { ort, version: ortVersion, options: ortOptions } = await loadOrt();
const onnxBytes = new Uint8Array(fs.readFileSync(onnxPath));
engines['onnxruntime-web'] = {
  async load() {
    return ort.InferenceSession.create(onnxBytes, ortOptions);
  },
  async answer(sess, k) {
    const ids = Int32Array.from(tokenise(texts[k]));
    if (!ids.length) throw new Error(`question ${k}: no words`);
    const r = await sess.run({ image: pixelTensor(ort, pixelTable, images[imageOf[k]], TH, TW, CH),
      question: new ort.Tensor('int32', ids, [1, ids.length]) });
    const p = r.probs.data;
    let best = 0;
    for (let v = 1; v < p.length; v++) if (p[v] > p[best]) best = v;   // the first maximum
    return { index: best, ids, probs: p, glimpses: r.glimpses.data };
  },
  async dispose(sess) {
    await sess.release();
  },
};

// ---------------------------------------------------------------- 1. outputs vs reference
const results = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  model: { name: NAME, path: MODEL_PATH, bytes: modelBytes.length, config: cfg, parameters: parameterCount(model),
    grid: onnxMeta.grid, position: cfg.encoder.position === 'learned' },
  settings: { trace: TRACE, questions: N, timed_questions: NT, block: BLOCK, reps: REPS, threads: 1,
    onnxruntime_web: ortVersion, onnx: { opset: onnxMeta.opset, bytes: onnxMeta.onnx_bytes, torch: onnxMeta.torch,
      export_check: onnxMeta.check },
    timing: 'one question at a time, text and u8 pixels in, answer + probabilities + glimpses out; ' +
      'stele-wasm: Answerer.answer(); onnxruntime-web: JS tokenisation + pixel normalisation + one run() + argmax' },
  engines: {},
};
const maxDiff = (a, b) => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const handles = {}, given = {};
for (const name of ENGINES) {
  const e = engines[name];
  const t0 = now();
  handles[name] = await e.load();
  const r = (results.engines[name] = { load_first_ms: now() - t0 });
  const o = { same: 0, tie: 0, diff: 0 }, bad = [];
  let pMax = 0, gMax = 0, idsBad = 0;
  given[name] = new Int32Array(N);
  for (let k = 0; k < N; k++) {
    const a = await e.answer(handles[name], k);
    given[name][k] = a.index;
    const ref = refIds(k);
    if (a.ids.length !== ref.length || ref.some((v, j) => v !== a.ids[j])) idsBad++;
    if (a.index === trace.answer.data[k]) o.same++;
    else if (refGap(k) < TOL) o.tie++;
    else {
      o.diff++;
      bad.push(k);
      if (bad.length <= 3) log(`  ${name}: question ${k} "${texts[k]}": answer ${a.index}, reference ${trace.answer.data[k]}`);
    }
    pMax = Math.max(pMax, maxDiff(a.probs, row(trace.probs, k, Na)));
    gMax = Math.max(gMax, maxDiff(a.glimpses, row(trace.glimpses, k, G * S)));
  }
  Object.assign(r, { outputs: { ...o, mismatches: bad.slice(0, 20), question_ids_differ: idsBad },
    probs_max_abs_diff: pMax, glimpses_max_abs_diff: gMax,
    outputs_match: o.diff === 0 && idsBad === 0 && pMax <= TOL && gMax <= TOL });
  log(`${name}: answers vs reference: ${o.same} identical, ${o.tie} excused ties, ${o.diff} MISMATCHES of ${N}; ` +
    `question ids differ on ${idsBad}; probs max |diff| ${pMax.toExponential(2)}, glimpses ${gMax.toExponential(2)}` +
    (r.outputs_match ? '' : '  <-- MISMATCH'));
}
{
  let same = 0, tie = 0;
  const differ = [];
  for (let k = 0; k < N; k++) {
    if (given['stele-wasm'][k] === given['onnxruntime-web'][k]) same++;
    else if (refGap(k) < TOL) tie++;
    else differ.push(k);
  }
  results.engines_agree = { same, tie, differ: differ.length, questions: differ.slice(0, 20) };
  log(`stele-wasm vs onnxruntime-web: ${same} answers identical, ${tie} differ on a reference tie, ${differ.length} differ`);
}

// ---------------------------------------------------------------- 2. timed repetitions
const runs = Object.fromEntries(ENGINES.map((n) => [n, { seconds: [], bestMs: new Float64Array(NT).fill(Infinity) }]));
for (let rep = 0; rep < REPS; rep++) {
  const sec = Object.fromEntries(ENGINES.map((n) => [n, 0]));
  for (let b0 = 0, blk = 0; b0 < NT; b0 += BLOCK, blk++) {
    const order = ENGINES.map((_, k) => ENGINES[(k + rep + blk) % ENGINES.length]);
    for (const name of order) {
      const e = engines[name], h = handles[name], best = runs[name].bestMs;
      const t0 = now();
      for (let i = b0; i < Math.min(NT, b0 + BLOCK); i++) {
        const a = now();
        await e.answer(h, i % N);   // (stele's answer() is synchronous: await adds one microtask)
        best[i] = Math.min(best[i], now() - a);
      }
      sec[name] += (now() - t0) / 1000;
    }
  }
  for (const name of ENGINES) runs[name].seconds.push(sec[name]);
  log(`rep ${rep + 1}/${REPS}: ` + ENGINES.map((n) => `${n} ${(NT / sec[n]).toFixed(1)} answers/s`).join('; ') +
    `; ratio ×${(sec['onnxruntime-web'] / sec['stele-wasm']).toFixed(2)}`);
}
for (const name of ENGINES) await engines[name].dispose(handles[name]);
machineEnd(results.machine);

for (const name of ENGINES) {
  const r = results.engines[name], R = runs[name];
  const s = stat(R.seconds);
  const best = R.bestMs.reduce((a, v) => a + v, 0);
  Object.assign(r, {
    timed_questions: NT, seconds: s, runs_answers_per_s: R.seconds.map((v) => NT / v),
    answers_per_s: NT / s.median, answers_per_s_range: [NT / s.max, NT / s.min], ms_per_answer: (1000 * s.median) / NT,
    spread: spread(s), varied: spread(s) > SPREAD_LIMIT,
    best_case: { answers_per_s: (1000 * NT) / best, ms_per_answer: best / NT,
      note: 'each question\'s fastest time over the repetitions, summed: less sensitive to other processes' },
  });
}
const W = results.engines;
const repRatios = runs['stele-wasm'].seconds.map((v, r) => runs['onnxruntime-web'].seconds[r] / v);
results.ratios = {
  answers_per_s_vs_onnxruntime: W['stele-wasm'].answers_per_s / W['onnxruntime-web'].answers_per_s,
  per_repetition: repRatios, per_repetition_stat: stat(repRatios),
  best_case_answers_per_s_vs_onnxruntime: W['stele-wasm'].best_case.answers_per_s / W['onnxruntime-web'].best_case.answers_per_s,
};
results.targets = {
  answers_per_s_ratio_ge_1_3: results.ratios.answers_per_s_vs_onnxruntime >= 1.3,
  outputs_match: ENGINES.every((n) => W[n].outputs_match),
  engines_agree: results.engines_agree.differ === 0,
  repetitions_steady: ENGINES.every((n) => !W[n].varied),
};

fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(path.join(OUT, 'vqa.json'), JSON.stringify(results, null, 1) + '\n');
const md = table(results);
fs.writeFileSync(path.join(OUT, 'vqa.md'), md);
log('\n' + md);
log(`wrote ${path.join(OUT, 'vqa.json')} and ${path.join(OUT, 'vqa.md')}`);
if (!results.targets.outputs_match || !results.targets.engines_agree) process.exitCode = 1;

function table(res) {
  const f = (x, d = 0) => (x == null || Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const rng = (r, d = 0) => (r ? ` (${f(r[0], d)}–${f(r[1], d)})` : '');
  const m = res.machine, q = res.ratios, c = res.model.config;
  // "32-64-128-128u-128u (u: without the max-pool)" when encoder.pool leaves blocks unpooled
  const cnnText = (enc) => {
    const bare = (i) => Array.isArray(enc.pool) && enc.pool[i] === false;
    const text = enc.channels.map((ch, i) => `${ch}${bare(i) ? 'u' : ''}`).join('-');
    return enc.channels.some((_, i) => bare(i)) ? `${text} (u: without the max-pool)` : text;
  };
  const lines = [];
  lines.push(`VQA: model \`${res.model.name}\` (${f(res.model.parameters / 1e6, 3)} M parameters, F32; ` +
    `CNN ${cnnText(c.encoder)}, ${res.model.grid.join('x')} grid, ${c.glimpses} glimpses, ${c.answers} answers` +
    `${res.model.position ? ', learned position table' : ''}), one question at a time (text and pixels in, answer, ` +
    `probabilities and glimpses out), outputs checked on ${res.settings.questions} test questions (\`${res.settings.trace}\`), ` +
    `${res.settings.timed_questions} answers a timed pass${res.settings.timed_questions > res.settings.questions ? ' (the questions cycled)' : ''}; ` +
    `one thread, Node ${m.node}, onnxruntime-web ${res.settings.onnxruntime_web}, ${m.cpu} (${m.cores} cores); ${loadText(m)}; ` +
    `${res.date.slice(0, 16).replace('T', ' ')} UTC. Medians of ${res.settings.reps} repetitions (min–max), the engines interleaved in blocks of ${res.settings.block} questions.`);
  lines.push('');
  lines.push('| engine | answers = reference | probs max abs diff | glimpses max abs diff | answers/s | ms/answer | each repetition, answers/s |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const [n, r] of Object.entries(res.engines)) {
    const o = r.outputs;
    lines.push(`| ${n} | ${r.outputs_match ? 'yes' : '**NO**'} (${o.same + o.tie}/${res.settings.questions}${o.tie ? `, ${o.tie} ties` : ''}) | ` +
      `${r.probs_max_abs_diff.toExponential(1)} | ${r.glimpses_max_abs_diff.toExponential(1)} | ` +
      `${f(r.answers_per_s, 1)}${rng(r.answers_per_s_range, 1)} | ${f(r.ms_per_answer, 3)} | ` +
      `${r.runs_answers_per_s.map((v) => f(v, 1)).join(', ')}${r.varied ? ` (**varied ${f(100 * r.spread)} %**)` : ''} |`);
  }
  lines.push('');
  const a = res.engines_agree;
  lines.push(`The two engines' answers: ${a.same} identical${a.tie ? `, ${a.tie} differ on a reference tie (gap < 1e-4)` : ''}` +
    `${a.differ ? `, **${a.differ} differ**` : ''} of ${res.settings.questions}.`);
  for (const [n, r] of Object.entries(res.engines))
    if (r.varied) lines.push(`**${n}'s repetitions varied by ${f(100 * r.spread)} % (max − min over the median, limit ` +
      `${100 * SPREAD_LIMIT} %): the machine was not quiet; rerun before trusting its figures.**`);
  const pr = q.per_repetition_stat;
  lines.push(`stele-wasm vs onnxruntime-web: answers/s ×${f(q.answers_per_s_vs_onnxruntime, 2)} (target ≥ 1.3: ` +
    `${res.targets.answers_per_s_ratio_ge_1_3 ? 'met' : '**not met**'}); each repetition's ratio (engines interleaved in blocks of ` +
    `${res.settings.block} questions): median ×${f(pr.median, 2)} (×${f(pr.min, 2)}–×${f(pr.max, 2)}).`);
  lines.push(`Each question's fastest answer over the repetitions, summed (less sensitive to the machine's other load): ` +
    Object.entries(res.engines).map(([n, r]) => `${n} ${f(r.best_case.answers_per_s, 1)} answers/s ` +
      `(${f(r.best_case.ms_per_answer, 3)} ms)`).join(', ') + `: ×${f(q.best_case_answers_per_s_vs_onnxruntime, 2)}.`);
  lines.push('');
  return lines.join('\n');
}
