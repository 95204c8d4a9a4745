// The image-captioning API (Captioner in src/js/stele.js) against the PyTorch reference's goldens:
// the tiny random-weight caption model's trace (tests/golden/tiny/caption-tiny.*, made by
// scripts/golden_caption.py: greedy and beam outputs, scores and attention for six images) and,
// when present, the shipped scenes-caption model's outputs on every test scene. Then every form
// of image input gives the same caption, every malformed input is a SteleError with its code,
// and the wasm heap does not grow over many captions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Captioner, Translator, SteleError, shippedModels } from '../../src/js/stele.js';
import { ROOT, SMALL_MODEL, WASM, goldenOutputs, readJsonl, readTensors } from './common.js';

const TINY = path.join(ROOT, 'tests/golden/tiny/caption-tiny.safetensors');
const TINY_TRACE = path.join(ROOT, 'tests/golden/tiny/caption-tiny.trace.safetensors');
const SCENES = path.join(ROOT, 'models/scenes-caption/model.safetensors');
const SCENES_TRACE = path.join(process.env.STELE_GOLDEN_DIR || path.join(ROOT, 'tests/golden'), 'scenes-caption.trace.safetensors');
const skip = (!existsSync(WASM) && 'dist/stele.wasm missing') || (!existsSync(TINY_TRACE) && 'tiny caption golden missing');
// float32 sums in another order than PyTorch's (SIMD128 vs ATen)
const TOL = 1e-4;

// Row k of a [N, ...] tensor, and its ids up to len (the -1 padding dropped).
const rowOf = (t, k) => {
  const size = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return t.data.subarray(k * size, (k + 1) * size);
};
const ids = (row, len) => Array.from(row.subarray(0, len));

const gray = (pixels) => ({ data: pixels, width: 84, height: 84, channels: 1 });

test('Captioner on the tiny model: greedy and beam outputs, scores and attention equal the reference', { skip }, async () => {
  const g = readTensors(TINY_TRACE);
  const params = JSON.parse(g.__metadata__.params);
  const [gh, gw] = JSON.parse(g.__metadata__.grid);
  const c = await Captioner.load(TINY);
  try {
    assert.deepEqual(c.info.image, { width: 84, height: 84, channels: 1 });
    const N = g.images.shape[0], S = gh * gw;
    for (let k = 0; k < N; k++) {
      const img = gray(rowOf(g.images, k));
      const len = g.greedy_len.data[k];
      const r = c.caption(img, { beam: 1, alpha: params.alpha, beta: params.beta, maxLength: params.len_b });
      assert.deepEqual(Array.from(r.ids), ids(rowOf(g.greedy, k), len), `image ${k}: greedy tokens`);
      assert.ok(Math.abs(r.logp - g.greedy_logp.data[k]) <= TOL, `image ${k}: logp ${r.logp} vs ${g.greedy_logp.data[k]}`);
      assert.ok(Math.abs(r.score - g.greedy_score.data[k]) <= TOL, `image ${k}: score`);
      assert.equal(r.gridHeight, gh);
      assert.equal(r.gridWidth, gw);
      assert.deepEqual(r.tokens, r.words.concat(r.tokens.length > r.words.length ? ['</s>'] : []));
      assert.equal(r.attention.length, r.words.length * S, 'attention: one row per word');
      const att = rowOf(g.attn, k);
      for (let t = 0; t < r.words.length; t++) {
        let sum = 0;
        for (let l = 0; l < S; l++) {
          const v = r.attention[t * S + l];
          sum += v;
          assert.ok(Math.abs(v - att[t * S + l]) <= TOL, `image ${k} word ${t} place ${l}: ${v} vs ${att[t * S + l]}`);
        }
        assert.ok(Math.abs(sum - 1) <= 1e-4, `image ${k} word ${t}: the map sums to ${sum}`);
      }
      if (r.eosAttention) for (let l = 0; l < S; l++) assert.ok(Math.abs(r.eosAttention[l] - att[r.words.length * S + l]) <= TOL);

      const b = c.caption(img, { beam: params.beam, nbest: params.nbest, alpha: params.alpha, beta: params.beta, maxLength: params.len_b });
      const K = g.beam_len.shape[1], blen = rowOf(g.beam_len, k), btok = rowOf(g.beam, k), Tb = g.beam.shape[2];
      const want = [];
      for (let h = 0; h < K; h++) if (blen[h] > 0) want.push({ ids: ids(btok.subarray(h * Tb, (h + 1) * Tb), blen[h]), score: rowOf(g.beam_score, k)[h], logp: rowOf(g.beam_logp, k)[h] });
      assert.equal(b.nbest.length, want.length, `image ${k}: n-best size`);
      b.nbest.forEach((h, i) => {
        assert.deepEqual(Array.from(h.ids), want[i].ids, `image ${k}: beam hypothesis ${i}`);
        assert.ok(Math.abs(h.score - want[i].score) <= TOL, `image ${k}: beam score ${i}`);
        assert.ok(Math.abs(h.logp - want[i].logp) <= TOL, `image ${k}: beam logp ${i}`);
      });
      assert.equal(b.text, b.nbest[0].text);
    }
  } finally {
    c.dispose();
  }
});

// The six images in every input form the API takes; each must caption as the gray bytes do.
function forms(pixels) {
  const n = 84 * 84;
  const rgb = new Uint8Array(3 * n), rgba = new Uint8ClampedArray(4 * n), padded = new Uint8Array(84 * 100);
  for (let i = 0; i < n; i++) {
    rgb.fill(pixels[i], 3 * i, 3 * i + 3);
    rgba.fill(pixels[i], 4 * i, 4 * i + 3);
    rgba[4 * i + 3] = (i * 37) & 255;   // alpha is ignored
  }
  for (let y = 0; y < 84; y++) padded.set(pixels.subarray(84 * y, 84 * y + 84), 100 * y);
  const canvas = { width: 84, height: 84, getContext: (kind) => (kind === '2d' ? { getImageData: (x, y, w, h) => {
    assert.deepEqual([x, y, w, h], [0, 0, 84, 84]);
    return { data: rgba, width: 84, height: 84 };
  } } : null) };
  return {
    'gray, channels inferred': { data: pixels, width: 84, height: 84 },
    'gray ArrayBuffer': { data: pixels.slice().buffer, width: 84, height: 84, channels: 1 },
    RGB: { data: rgb, width: 84, height: 84, channels: 3 },
    'ImageData-like (RGBA, Uint8ClampedArray)': { data: rgba, width: 84, height: 84 },
    'gray with a stride': { data: padded, width: 84, height: 84, channels: 1, stride: 100 },
    'a canvas (getContext)': canvas,
  };
}

test('every image form (gray, RGB, RGBA/ImageData, stride, canvas) gives the same caption', { skip }, async () => {
  const g = readTensors(TINY_TRACE);
  const c = await Captioner.load(TINY);
  try {
    for (let k = 0; k < g.images.shape[0]; k++) {
      const px = rowOf(g.images, k);
      const want = c.caption(gray(px));
      for (const [name, image] of Object.entries(forms(px))) {
        const r = c.caption(image);
        assert.deepEqual(Array.from(r.ids), Array.from(want.ids), `image ${k}, ${name}`);
        assert.deepEqual(r.attention, want.attention, `image ${k}, ${name}: attention`);
      }
    }
  } finally {
    c.dispose();
  }
});

test('bad images, options and models are SteleErrors with their codes; dispose is safe twice', { skip }, async () => {
  const c = await Captioner.load(TINY);
  const px = new Uint8Array(84 * 84);
  const code = (fn, want, re) => {
    assert.throws(fn, (e) => e instanceof SteleError && e.code === want && (!re || re.test(e.message)), `${want} ${re ?? ''}`);
  };
  try {
    code(() => c.caption(), 'STELE_ERR_ARGUMENT', /image: expected ImageData/);
    code(() => c.caption(null), 'STELE_ERR_ARGUMENT', /got null/);
    code(() => c.caption('a.png'), 'STELE_ERR_ARGUMENT', /got string/);
    code(() => c.caption({ data: px, width: 84 }), 'STELE_ERR_ARGUMENT', /height must be a positive integer/);
    code(() => c.caption({ data: px, width: 84.5, height: 84 }), 'STELE_ERR_ARGUMENT', /width/);
    code(() => c.caption({ data: Array.from(px), width: 84, height: 84 }), 'STELE_ERR_ARGUMENT', /data must be a Uint8Array/);
    code(() => c.caption({ data: new Float32Array(84 * 84), width: 84, height: 84 }), 'STELE_ERR_ARGUMENT', /Float32Array/);
    code(() => c.caption({ data: px, width: 84, height: 84, channels: 2 }), 'STELE_ERR_ARGUMENT', /channels must be 1/);
    code(() => c.caption({ data: px.subarray(1), width: 84, height: 84 }), 'STELE_ERR_ARGUMENT', /give channels/);
    code(() => c.caption({ data: px.subarray(1), width: 84, height: 84, channels: 1 }), 'STELE_ERR_ARGUMENT', /7055 bytes.*need 7056/);
    code(() => c.caption({ data: px, width: 84, height: 84, channels: 1, stride: 83 }), 'STELE_ERR_ARGUMENT', /stride/);
    code(() => c.caption({ data: new Uint8Array(83 * 84), width: 83, height: 84 }), 'STELE_ERR_ARGUMENT', /^stele_caption: the image is 83x84 pixels \(width x height\), the model reads 84x84$/);
    code(() => c.caption({ data: new Uint8Array(1 << 24), width: 4096, height: 4096 }), 'STELE_ERR_ARGUMENT', /the image is 4096x4096 pixels/);
    code(() => c.caption({ width: 0, height: 0, getContext: () => null }), 'STELE_ERR_ARGUMENT', /canvas is 0x0/);
    code(() => c.caption({ width: 84, height: 84, getContext: () => null }), 'STELE_ERR_ARGUMENT', /no 2d context/);
    code(() => c.caption(gray(px), { nBest: 2 }), 'STELE_ERR_ARGUMENT', /unknown option "nBest"/);
    code(() => c.caption(gray(px), { beam: 0 }), 'STELE_ERR_ARGUMENT', /beam_size 0/);
    code(() => c.caption(gray(px), { beam: 2, nbest: 3 }), 'STELE_ERR_ARGUMENT', /nbest 3/);
    code(() => c.caption(gray(px), { beam: 65 }), 'STELE_ERR_LIMIT', /max_beam/);
    assert.throws(() => c.caption(gray(px), { beam: 1.5 }), TypeError);
    // still usable after every refusal
    assert.equal(typeof c.caption(gray(px)).text, 'string');
  } finally {
    c.dispose();
    c.dispose();
  }
  assert.equal(c.disposed, true);
  code(() => c.caption(gray(px)), 'STELE_ERR_DISPOSED');
  code(() => c.info, 'STELE_ERR_DISPOSED');
  // a model of the other task, both ways
  await assert.rejects(Captioner.load(SMALL_MODEL), (e) => e.code === 'STELE_ERR_ARGUMENT' && /task is "translate".*Translator/.test(e.message));
  await assert.rejects(Translator.load(TINY), (e) => e.code === 'STELE_ERR_ARGUMENT' && /task is "caption".*Captioner/.test(e.message));
  await assert.rejects(Captioner.load(path.join(ROOT, 'no-such-model.safetensors')), (e) => e.code === 'STELE_ERR_IO');
  await assert.rejects(Captioner.load(new Uint8Array(16)), (e) => e instanceof SteleError);
});

test('the wasm heap does not grow over many captions', { skip }, async () => {
  const g = readTensors(TINY_TRACE);
  const c = await Captioner.load(TINY);
  try {
    const img = gray(rowOf(g.images, 3));
    for (let i = 0; i < 20; i++) c.caption(img, { beam: 5 });
    const before = c.info.wasmMemoryBytes;
    for (let i = 0; i < 200; i++) c.caption(img, { beam: i % 2 ? 5 : 1 });
    assert.equal(c.info.wasmMemoryBytes, before);
  } finally {
    c.dispose();
  }
});

// The shipped model: by name, and its outputs on every test scene equal the reference's.
const haveScenes = existsSync(SCENES) && existsSync(goldenOutputs('scenes-caption')) && existsSync(SCENES_TRACE);
test('scenes-caption: by name, greedy and beam captions of every test scene equal the reference', {
  skip: skip || (!haveScenes && 'models/scenes-caption or its goldens missing'),
}, async () => {
  assert.ok((await shippedModels()).some((m) => m.name === 'scenes-caption'));
  const c = await Captioner.load('scenes-caption');
  try {
    const g = readTensors(SCENES_TRACE);
    const lines = readJsonl(goldenOutputs('scenes-caption'));
    assert.equal(lines.length, g.images.shape[0]);
    // The native parity test's tie rule (tests/js/parity.test.js): an output may differ only
    // where the reference's two best candidates were within TOL (greedy_gaps[t], beam_gap).
    const st = { greedy: 0, greedyTie: 0, beam: 0, beamTie: 0 };
    lines.forEach((want, k) => {
      const img = gray(rowOf(g.images, k));
      const r = c.caption(img, { beam: 1 });
      const ids = Array.from(r.ids);
      if (JSON.stringify(ids) === JSON.stringify(want.greedy)) {
        st.greedy++;
        assert.equal(r.text, want.greedy_text, `scene ${k}: greedy text`);
        assert.ok(Math.abs(r.score - want.greedy_score) <= TOL, `scene ${k}: greedy score ${r.score} vs ${want.greedy_score}`);
      } else {
        const d = ids.findIndex((id, t) => id !== want.greedy[t]);
        assert.ok((want.greedy_gaps?.[d < 0 ? ids.length : d] ?? 1e9) <= TOL, `scene ${k}: greedy ${ids} vs ${want.greedy}`);
        st.greedyTie++;
      }
      const b = c.caption(img, { beam: 5, nbest: 1 });
      if (JSON.stringify(Array.from(b.ids)) === JSON.stringify(want.beam)) {
        st.beam++;
        assert.equal(b.text, want.beam_text, `scene ${k}: beam text`);
        assert.ok(Math.abs(b.score - want.beam_score) <= TOL, `scene ${k}: beam score`);
      } else {
        assert.ok(Math.abs(want.beam_gap ?? 1e9) <= TOL, `scene ${k}: beam ${Array.from(b.ids)} vs ${want.beam}`);
        st.beamTie++;
      }
    });
    console.log(`scenes-caption wasm vs reference: ${lines.length} scenes; greedy identical ${st.greedy}, ` +
      `excused ties ${st.greedyTie}; beam-5 identical ${st.beam}, excused ties ${st.beamTie}`);
  } finally {
    c.dispose();
  }
});

// Random image arguments (fast-check): sizes, channels, strides, data lengths and types, and
// values of every type in every field must give a caption, a SteleError or a TypeError (never
// another exception or a trap), and a second pass over the same cases must not grow the heap.
// FC_RUNS=N sets the case count; FC_SEED=S replays a seed.
test('property: random image arguments give a caption or a SteleError, and no heap growth', { skip }, async () => {
  const fc = (await import('fast-check')).default;
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() | 0;
  const runs = Number(process.env.FC_RUNS ?? 0) || 150;
  const c = await Captioner.load(TINY);
  const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ min: -5, max: 200 }), fc.double(),
    fc.string({ maxLength: 4 }), fc.boolean(), fc.constant([]), fc.constant({}));
  const near = (n) => fc.oneof(fc.constant(n), fc.integer({ min: 0, max: 100 }), anything);
  const data = fc.oneof(
    fc.integer({ min: 0, max: 4 * 100 * 100 }).map((n) => new Uint8Array(n).map((_, i) => (i * 31) & 255)),
    fc.integer({ min: 0, max: 4 * 84 * 84 }).map((n) => new Uint8ClampedArray(n)),
    fc.integer({ min: 0, max: 84 * 84 }).map((n) => new ArrayBuffer(n)),
    fc.constant(new Float32Array(84 * 84)), fc.constant(new Uint8Array(84 * 84 * 4)), anything);
  const image = fc.oneof(
    fc.record({ data, width: near(84), height: near(84), channels: fc.oneof(fc.constantFrom(undefined, 1, 3, 4), anything),
      stride: fc.oneof(fc.constant(undefined), near(84), near(252)) }, { requiredKeys: ['data', 'width', 'height'] }),
    anything);
  const options = fc.oneof(fc.constant(undefined), fc.record({ beam: fc.oneof(fc.integer({ min: -1, max: 70 }), anything),
    maxLength: fc.oneof(fc.integer({ min: -1, max: 50 }), anything) }, { requiredKeys: [] }), anything);
  const cases = fc.sample(fc.tuple(image, options), { seed, numRuns: runs });
  // and valid ones among them (random fields rarely make one)
  cases.splice(runs >> 1, 0, [gray(new Uint8Array(7056).fill(99)), undefined],
    [{ data: new Uint8Array(3 * 7056), width: 84, height: 84, channels: 3 }, { beam: 2 }]);
  const one = ([img, opt]) => {
    try {
      const r = c.caption(img, opt);
      assert.equal(r.attention.length, r.words.length * r.gridHeight * r.gridWidth);
      return 'ok';
    } catch (e) {
      if (e instanceof SteleError) {
        assert.ok(e.code !== 'STELE_ERR_INTERNAL', `seed ${seed}: ${e.message}`);
        return e.code;
      }
      if (e instanceof TypeError && !/is not a function|Cannot read/.test(e.message)) return 'TypeError';
      throw new Error(`seed ${seed}: ${JSON.stringify(String(img)).slice(0, 80)}: ${e.stack}`);
    }
  };
  try {
    const first = cases.map(one);
    const before = c.info.wasmMemoryBytes;
    assert.deepEqual(cases.map(one), first, `seed ${seed}: the same outcomes twice`);
    assert.equal(c.info.wasmMemoryBytes, before, `seed ${seed}: no heap growth`);
    assert.ok(first.includes('ok') && first.includes('STELE_ERR_ARGUMENT'), `seed ${seed}: ${[...new Set(first)].join(', ')}`);
  } finally {
    c.dispose();
  }
});
