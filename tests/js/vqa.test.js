// Visual question answering in WebAssembly (Answerer in src/js/stele.js) against the PyTorch
// reference: the tiny random-weight VQA model's trace (tests/golden/tiny/vqa-tiny.*, made by
// scripts/golden_vqa.py: eight questions over six images, with a tab, an "É" and upper case) and,
// when present, the shipped scenes-vqa model's trace (every test question). Then every image form
// gives the same answer, bad images, questions and models are SteleErrors (a question that is
// not a string a TypeError), the heap does not grow, and `stele ask` (src/js/cli.js) prints what
// the native CLI prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Answerer, Captioner, Translator, SteleError } from '../../src/js/stele.js';
import { CLI, NATIVE, ROOT, SMALL_MODEL, WASM, readTensors, run } from './common.js';

const TINY = path.join(ROOT, 'tests/golden/tiny/vqa-tiny.safetensors');
const TINY_TRACE = path.join(ROOT, 'tests/golden/tiny/vqa-tiny.trace.safetensors');
const CAPTION_TINY = path.join(ROOT, 'tests/golden/tiny/caption-tiny.safetensors');
const SCENES = path.join(process.env.STELE_SHIPPED_ROOT || ROOT, 'models/scenes-vqa/model.safetensors');
const SCENES_TRACE = path.join(process.env.STELE_GOLDEN_DIR || path.join(ROOT, 'tests/golden'), 'scenes-vqa.trace.safetensors');
const skip = (!existsSync(WASM) && 'dist/stele.wasm missing') || (!existsSync(TINY_TRACE) && 'tiny vqa golden missing');
// the parity bound (float32 sums in another order than PyTorch's)
const TOL = 1e-4;

const rowOf = (t, k) => {
  const size = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return t.data.subarray(k * size, (k + 1) * size);
};
const gray = (pixels) => ({ data: pixels, width: 84, height: 84, channels: 1 });
const utf8 = new TextDecoder('utf-8', { fatal: true });
// question k of a trace, as the string the caller typed (the tiny trace has its bytes; the
// shipped one, scripts/golden_vqa.py, the texts in its metadata)
const questionOf = (g, k) => (g.question_bytes
  ? utf8.decode(rowOf(g.question_bytes, k).subarray(0, g.question_len.data[k]))
  : JSON.parse(g.__metadata__.questions)[k]);
const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

// Every question of a trace: the question ids and the answer identical (but where the
// reference's two best probabilities are within TOL: a tie in float noise), the top-5 too on
// the tiny model, probabilities and glimpses within TOL. limit: questions checked (0: all).
function checkTrace(q, g, limit = 0) {
  const N = g.answer.shape[0], [, G, S] = g.glimpses.shape;
  const imageOf = (g.image ?? g.scene).data;
  let worstP = 0, worstA = 0, n = 0, ties = 0;
  for (let k = 0; k < N && (!limit || k < limit); k++, n++) {
    const r = q.answer(gray(rowOf(g.images, imageOf[k])), questionOf(g, k));
    const ids = Array.from(rowOf(g.question_ids, k)).slice(0, g.question_n.data[k]);
    assert.deepEqual(Array.from(r.questionIds), ids, `question ${k}: ids`);
    const [p1, p2] = Array.from(rowOf(g.probs, k)).sort((a, b) => b - a);
    if (r.index !== g.answer.data[k] && p1 - p2 < TOL) {
      ties++;
    } else {
      assert.equal(r.index, g.answer.data[k], `question ${k} "${questionOf(g, k)}": answer "${r.answer}"`);
      assert.equal(r.answer, q.answers[g.answer.data[k]]);
    }
    if (g.question_bytes) assert.deepEqual(r.top.map((t) => t.index), Array.from(rowOf(g.top, k)).slice(0, r.top.length), `question ${k}: top`);
    assert.equal(r.glimpseCount, G);
    assert.equal(r.gridHeight * r.gridWidth, S);
    assert.equal(r.glimpses.length, G * S);
    worstP = Math.max(worstP, maxDiff(r.probs, rowOf(g.probs, k)));
    worstA = Math.max(worstA, maxDiff(r.glimpses, rowOf(g.glimpses, k)));
    assert.ok(worstP <= TOL && worstA <= TOL, `question ${k}: probs ${worstP}, glimpses ${worstA}`);
    for (let gi = 0; gi < G; gi++) {
      const sum = r.glimpses.subarray(gi * S, (gi + 1) * S).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `question ${k} glimpse ${gi} sums to ${sum}`);
    }
  }
  return { n, worstP, worstA, ties };
}

test('Answerer on the tiny model: answers, top-5, probabilities, glimpses and question ids equal the reference', { skip }, async () => {
  const g = readTensors(TINY_TRACE);
  const q = await Answerer.load(TINY);
  try {
    assert.deepEqual(q.info.image, { width: 84, height: 84, channels: 1 });
    assert.equal(q.info.glimpses, 2);
    assert.equal(q.answers.length, 12);
    assert.ok(q.answers.includes('top left'), 'answers may contain spaces');
    // words: the file's tokenizer.words, line i = id i; a word outside it is read as <unk>
    const file = readTensors(TINY)['tokenizer.words'];
    const lines = new TextDecoder().decode(file.data).replace(/\n$/, '').split('\n');
    assert.deepEqual(q.words, lines);
    assert.deepEqual(q.words.slice(0, 2), ['<pad>', '<unk>']);
    const known = q.words.find((w) => /^[a-z]+$/.test(w));
    const read = q.answer(gray(new Uint8Array(84 * 84)), `${known} zzzqqq`).question;
    assert.deepEqual(read, [known, '<unk>']);
    const { n, worstP, worstA } = checkTrace(q, g);
    assert.equal(n, 8);
    for (let k = 0; k < n; k++) {
      const r = q.answer(gray(rowOf(g.images, g.image.data[k])), questionOf(g, k));
      assert.equal(r.question.length, r.questionIds.length);
      assert.equal(r.top[0].prob, r.probs[r.index]);
    }
    console.log(`vqa-tiny (wasm): ${n} questions; answers identical; max abs diff probs ${worstP.toExponential(2)}, glimpses ${worstA.toExponential(2)}`);
  } finally {
    q.dispose();
  }
});

test('every image form (gray, RGB, RGBA/ImageData, stride, canvas) gives the same answer and glimpses', { skip }, async () => {
  const g = readTensors(TINY_TRACE);
  const q = await Answerer.load(TINY);
  try {
    const px = rowOf(g.images, 1);
    const want = q.answer(gray(px), 'where is the bag?');
    const rgb = new Uint8Array(84 * 84 * 3), rgba = new Uint8ClampedArray(84 * 84 * 4), padded = new Uint8Array(84 * 90);
    for (let i = 0; i < 84 * 84; i++) {
      rgb.fill(px[i], 3 * i, 3 * i + 3);
      rgba.fill(px[i], 4 * i, 4 * i + 3);
      rgba[4 * i + 3] = i % 256;
      padded[Math.floor(i / 84) * 90 + (i % 84)] = px[i];
    }
    const forms = {
      rgb: { data: rgb, width: 84, height: 84 },
      imageData: { data: rgba, width: 84, height: 84 },
      stride: { data: padded, width: 84, height: 84, channels: 1, stride: 90 },
      buffer: { data: px.slice().buffer, width: 84, height: 84 },
      canvas: { width: 84, height: 84, getContext: () => ({ getImageData: () => ({ data: rgba }) }) },
    };
    for (const [name, image] of Object.entries(forms)) {
      const r = q.answer(image, 'where is the bag?');
      assert.equal(r.index, want.index, name);
      assert.deepEqual(r.glimpses, want.glimpses, `${name}: glimpses`);
    }
  } finally {
    q.dispose();
  }
});

test('bad images, questions and models are SteleErrors with their codes (TypeError for a non-string question)', { skip }, async () => {
  const q = await Answerer.load(TINY, { limits: { maxSourceTokens: 4, maxTextBytes: 40 } });
  const px = new Uint8Array(84 * 84);
  const code = (fn, want, re) => {
    assert.throws(fn, (e) => e instanceof SteleError && e.code === want && (!re || re.test(e.message)), `${want} ${re ?? ''}`);
  };
  try {
    code(() => q.answer(null, 'is there a bag?'), 'STELE_ERR_ARGUMENT', /image: expected ImageData/);
    code(() => q.answer({ data: new Uint8Array(83 * 84), width: 83, height: 84 }, 'is there a bag?'), 'STELE_ERR_ARGUMENT', /stele_answer: the image is 83x84 pixels \(width x height\), the model reads 84x84/);
    code(() => q.answer({ data: px, width: 84, height: 84, channels: 2 }, 'is there a bag?'), 'STELE_ERR_ARGUMENT', /channels must be 1/);
    code(() => q.answer(gray(px), ''), 'STELE_ERR_ARGUMENT', /empty question/);
    code(() => q.answer(gray(px), ' \t\n '), 'STELE_ERR_ARGUMENT', /empty question/);
    code(() => q.answer(gray(px), 'is there\0a bag'), 'STELE_ERR_TEXT', /NUL byte at byte 8/);
    code(() => q.answer(gray(px), 'is there \ud800 bag'), 'STELE_ERR_TEXT', /lone UTF-16 surrogate/);
    code(() => q.answer(gray(px), 'is there a bag?'), 'STELE_ERR_LIMIT', /5 words, the session's limit is 4/);
    code(() => q.answer(gray(px), `is${' '.repeat(40)}bag`), 'STELE_ERR_LIMIT', /45 bytes, the session's limit is 40/);
    for (const bad of [undefined, null, 42, ['is', 'there'], { toString: () => 'x' }])
      assert.throws(() => q.answer(gray(px), bad), TypeError, String(bad));
    // still usable after every refusal; unknown words read as <unk>
    const r = q.answer(gray(px), 'is there a Zebra');
    assert.deepEqual(r.question, ['is', 'there', '<unk>', '<unk>']);
    assert.equal(typeof r.answer, 'string');
  } finally {
    q.dispose();
    q.dispose();
  }
  assert.equal(q.disposed, true);
  code(() => q.answer(gray(px), 'is there a bag?'), 'STELE_ERR_DISPOSED');
  code(() => q.answers, 'STELE_ERR_DISPOSED');
  await assert.rejects(Answerer.load(SMALL_MODEL), (e) => e.code === 'STELE_ERR_ARGUMENT' && /task is "translate".*Translator/.test(e.message));
  await assert.rejects(Answerer.load(CAPTION_TINY), (e) => e.code === 'STELE_ERR_ARGUMENT' && /task is "caption".*Captioner/.test(e.message));
  await assert.rejects(Translator.load(TINY), (e) => e.code === 'STELE_ERR_ARGUMENT' && /task is "vqa".*Answerer/.test(e.message));
  await assert.rejects(Captioner.load(TINY), (e) => e.code === 'STELE_ERR_ARGUMENT' && /task is "vqa".*Answerer/.test(e.message));
  await assert.rejects(Answerer.load(path.join(ROOT, 'no-such-model.safetensors')), (e) => e.code === 'STELE_ERR_IO');
});

test('the wasm heap does not grow over many answers', { skip }, async () => {
  const g = readTensors(TINY_TRACE);
  const q = await Answerer.load(TINY);
  try {
    const img = gray(rowOf(g.images, 2));
    for (let i = 0; i < 20; i++) q.answer(img, 'how many dresses are there?');
    const before = q.info.wasmMemoryBytes;
    for (let i = 0; i < 300; i++) q.answer(img, i % 2 ? 'is there a bag?' : 'what is left of the dress?');
    assert.equal(q.info.wasmMemoryBytes, before);
  } finally {
    q.dispose();
  }
});

// Random image and question arguments (fast-check): every field of every type, strings with
// white space, punctuation, NUL, lone surrogates and unknown words must give an answer (with its
// invariants), a SteleError or a TypeError (never another exception or a trap), the same outcome
// twice, and no heap growth. FC_RUNS=N sets the case count; FC_SEED=S replays a seed.
test('property: random images and questions give an answer or a SteleError/TypeError, and no heap growth', { skip }, async () => {
  const fc = (await import('fast-check')).default;
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() | 0;
  const runs = Number(process.env.FC_RUNS ?? 0) || 200;
  const q = await Answerer.load(TINY);
  const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ min: -5, max: 200 }), fc.double(),
    fc.boolean(), fc.constant([]), fc.constant({}));
  const near = (n) => fc.oneof(fc.constant(n), fc.integer({ min: 0, max: 100 }), anything);
  const image = fc.oneof(
    fc.record({ data: fc.oneof(fc.integer({ min: 0, max: 4 * 84 * 84 }).map((n) => new Uint8Array(n).map((_, i) => (i * 37) & 255)),
      fc.constant(new Uint8Array(84 * 84)), anything), width: near(84), height: near(84),
    channels: fc.oneof(fc.constantFrom(undefined, 1, 3, 4), anything) }, { requiredKeys: ['data', 'width', 'height'] }),
    fc.constant(gray(new Uint8Array(84 * 84).fill(200))), anything);
  const word = fc.constantFrom('what', 'is', 'the', 'bag', 'dress', '?', ',', 'Where', 'ZEBRA', ' ', '\t', '\v', 'É', '\0',
    '\ud800', '😀', 'top left');
  const question = fc.oneof(fc.array(word, { maxLength: 12 }).map((w) => w.join('')), fc.string({ maxLength: 20 }), anything);
  const cases = fc.sample(fc.tuple(image, question), { seed, numRuns: runs });
  cases.splice(runs >> 1, 0, [gray(new Uint8Array(7056).fill(9)), 'where is the bag?']);
  const one = ([img, text]) => {
    try {
      const r = q.answer(img, text);
      const S = r.gridHeight * r.gridWidth;
      assert.ok(Math.abs(r.probs.reduce((a, b) => a + b, 0) - 1) < 1e-4);
      for (let g = 0; g < r.glimpseCount; g++)
        assert.ok(Math.abs(r.glimpses.subarray(g * S, (g + 1) * S).reduce((a, b) => a + b, 0) - 1) < 1e-4);
      assert.equal(r.top[0].index, r.index);
      return `ok ${r.index}`;
    } catch (e) {
      if (e instanceof SteleError) {
        assert.ok(e.code !== 'STELE_ERR_INTERNAL', `seed ${seed}: ${e.message}`);
        return e.code;
      }
      if (e instanceof TypeError && !/is not a function|Cannot read/.test(e.message)) return 'TypeError';
      throw new Error(`seed ${seed}: ${JSON.stringify(String(text)).slice(0, 80)}: ${e.stack}`);
    }
  };
  try {
    const first = cases.map(one);
    const before = q.info.wasmMemoryBytes;
    assert.deepEqual(cases.map(one), first, `seed ${seed}: the same outcomes twice`);
    assert.equal(q.info.wasmMemoryBytes, before, `seed ${seed}: no heap growth`);
    assert.ok(first.some((o) => o.startsWith('ok')) && first.includes('STELE_ERR_ARGUMENT'), `seed ${seed}: ${[...new Set(first)].join(', ')}`);
  } finally {
    q.dispose();
  }
});

test('scenes-vqa: every test question of the golden trace (answers identical, probs and glimpses within 1e-4)', {
  skip: skip || (!(existsSync(SCENES) && existsSync(SCENES_TRACE)) && 'models/scenes-vqa or its trace missing'),
}, async () => {
  const q = await Answerer.load(SCENES);
  try {
    const { n, worstP, worstA, ties } = checkTrace(q, readTensors(SCENES_TRACE));
    console.log(`scenes-vqa (wasm): ${n} questions; answers identical (${ties} ties within ${TOL} in the reference); ` +
      `max abs diff probs ${worstP.toExponential(2)}, glimpses ${worstA.toExponential(2)}`);
  } finally {
    q.dispose();
  }
});

test('stele ask (Node CLI): the golden answers, the same output as the native CLI, errors and usage', { skip }, async () => {
  const g = readTensors(TINY_TRACE);
  const tmp = mkdtempSync(path.join(tmpdir(), 'stele-ask-'));
  try {
    for (let i = 0; i < g.images.shape[0]; i++)
      writeFileSync(path.join(tmp, `${i}.pgm`), Buffer.concat([Buffer.from('P5 84 84 255\n'), Buffer.from(rowOf(g.images, i))]));
    const tiny = await Answerer.load(TINY);
    const names = tiny.answers;
    tiny.dispose();
    // one call per image with all of its questions: 4 lines each, the first the golden answer
    for (let i = 0; i < g.images.shape[0]; i++) {
      const ks = Array.from(g.image.data).flatMap((im, k) => (im === i ? [k] : []));
      const img = path.join(tmp, `${i}.pgm`);
      const js = run('node', [CLI, 'ask', '-m', TINY, img, ...ks.map((k) => questionOf(g, k))]);
      assert.equal(js.status, 0, js.stderr);
      const lines = js.stdout.split('\n');
      assert.equal(lines.length, 4 * ks.length + 1, js.stdout);
      ks.forEach((k, j) => {
        assert.equal(lines[4 * j], names[g.answer.data[k]], `question ${k}`);
        assert.match(lines[4 * j + 1], /^ {2}\d\.\d{4} {2}\S/);
      });
      if (existsSync(NATIVE)) {
        const nat = run(NATIVE, ['ask', '-m', TINY, img, ...ks.map((k) => questionOf(g, k))]);
        assert.equal(js.stdout, nat.stdout, `image ${i}: the Node and native CLIs differ`);
      }
    }
    const j = run('node', [CLI, 'ask', '-m', TINY, '--json', path.join(tmp, '1.pgm'), 'where is the bag?', 'is there a dress?']);
    assert.equal(j.status, 0, j.stderr);
    const objs = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(objs.length, 2);
    for (const o of objs) {
      assert.deepEqual(Object.keys(o), ['answer', 'index', 'top', 'probs', 'question', 'grid', 'glimpses']);
      assert.deepEqual(o.grid, [21, 21]);
      assert.equal(o.glimpses.length, 2);
      assert.equal(o.top[0].answer, o.answer);
    }
    if (existsSync(NATIVE)) {
      const n = run(NATIVE, ['ask', '-m', TINY, '--json', path.join(tmp, '1.pgm'), 'where is the bag?', 'is there a dress?']);
      const nobjs = n.stdout.trim().split('\n').map((l) => JSON.parse(l));
      for (let i = 0; i < 2; i++) {
        assert.equal(nobjs[i].answer, objs[i].answer);
        assert.deepEqual(nobjs[i].question, objs[i].question);
        assert.ok(maxDiff(nobjs[i].probs, objs[i].probs) <= TOL);
      }
    }
    const e = run('node', [CLI, 'ask', '-m', TINY, path.join(tmp, '0.pgm'), '', 'is there a bag?']);
    assert.equal(e.status, 1);
    assert.match(e.stderr, /^STELE_ERR_ARGUMENT: question 1: stele_answer: empty question/);
    assert.equal(e.stdout.split('\n').length, 6, 'an empty line for the failed question, 4 lines for the other');
    // a bad image: the same message as the native CLI
    for (const [f, why] of [['nothere.pgm', 'cannot read the file'], ['0.pgm.txt', 'cannot read the file']]) {
      const b = run('node', [CLI, 'ask', '-m', TINY, path.join(tmp, f), 'is there a bag?']);
      assert.equal(b.status, 1);
      assert.equal(b.stderr, `STELE_ERR_ARGUMENT: ${path.join(tmp, f)}: ${why}\n`);
      if (existsSync(NATIVE)) assert.equal(run(NATIVE, ['ask', '-m', TINY, path.join(tmp, f), 'is there a bag?']).stderr, b.stderr);
    }
    const c = run('node', [CLI, 'ask', '-m', CAPTION_TINY, path.join(tmp, '0.pgm'), 'is there a bag?']);
    assert.equal(c.status, 1);
    assert.match(c.stderr, /task is "caption"/);
    assert.equal(run('node', [CLI, 'ask', '-m', TINY, path.join(tmp, '0.pgm')]).status, 2);
    assert.equal(run('node', [CLI, 'ask', '--frobnicate', '-m', TINY]).status, 2);
    const h = run('node', [CLI, 'ask', '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /^stele ask: answer questions/);
    const info = run('node', [CLI, 'info', TINY]);
    assert.equal(info.status, 0, info.stderr);
    if (existsSync(NATIVE)) {
      const strip = (o) => o.replace(/^kernels .*\n/m, '');
      assert.equal(strip(info.stdout), strip(run(NATIVE, ['info', TINY]).stdout));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
