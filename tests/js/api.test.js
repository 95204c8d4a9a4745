// The JS API: loading from every kind of source with progress, results, options, info, misuse
// (always SteleError or TypeError, never a raw wasm trap), dispose, and a heap that does not grow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { Translator, SteleError, simdSupported } from '../../src/js/stele.js';
import { ROOT, SMALL_MODEL, WASM } from './common.js';

const isStele = (code) => (e) => e instanceof SteleError && e.code === code && typeof e.message === 'string';
const SENT = path.basename(path.dirname(SMALL_MODEL)) === 'dates' ? '29th March 2042' : 'Save the document';

test('SIMD128 is detected', () => assert.equal(simdSupported(), true));

test('load from a path, file URL, bytes, ArrayBuffer, Response and http URL, with progress', async () => {
  const bytes = readFileSync(SMALL_MODEL);
  const seen = [];
  const onProgress = (p) => seen.push(p);
  const sources = [SMALL_MODEL, pathToFileURL(SMALL_MODEL), new Uint8Array(bytes),
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), new Response(new Uint8Array(bytes))];
  const wasm = readFileSync(WASM);
  const server = createServer((req, res) => {
    const body = req.url.endsWith('.wasm') ? wasm : bytes;
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  sources.push(`http://127.0.0.1:${server.address().port}/model.safetensors`);
  const texts = [];
  try {
    const viaHttp = await Translator.load(sources.at(-1), { wasm: sources.at(-1).replace(/model.safetensors$/, 'stele.wasm') });
    texts.push(viaHttp.translate(SENT).text);
    viaHttp.dispose();
    for (const src of sources) {
      seen.length = 0;
      const t = await Translator.load(src, { onProgress });
      texts.push(t.translate(SENT).text);
      t.dispose();
      const last = seen.at(-1);
      assert.ok(seen.length >= 1, `progress for ${src}`);
      assert.equal(last.loaded, bytes.length);
      if (typeof src === 'string' || !(src instanceof Response)) assert.equal(last.total, bytes.length);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i].loaded >= seen[i - 1].loaded);
    }
  } finally {
    server.close();
  }
  assert.equal(new Set(texts).size, 1);
});

test('result shape, nbest, alignment, info, translateBatch, maxLength', async () => {
  const t = await Translator.load(SMALL_MODEL);
  const r = t.translate(SENT, { beam: 5, nbest: 3 });
  assert.equal(typeof r.text, 'string');
  assert.ok(r.text.length > 0);
  assert.equal(r.nbest.length, 3);
  assert.equal(r.nbest[0].text, r.text);
  assert.ok(r.nbest[0].score >= r.nbest[1].score);
  assert.equal(r.alignment.rows, r.targetTokens.length);
  assert.equal(r.alignment.cols, r.sourceTokens.length);
  assert.ok(r.alignment.weights instanceof Float32Array);
  assert.equal(r.alignment.weights.length, r.alignment.rows * r.alignment.cols);
  for (let i = 0; i < r.alignment.rows; i++) {
    const row = r.alignment.weights.subarray(i * r.alignment.cols, (i + 1) * r.alignment.cols);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-3, 'attention rows sum to 1');
  }
  assert.equal(r.targetTokens.at(-1), '</s>');
  const w = r.wordAlignment;
  assert.equal(w.rows, w.targetWords.length);
  assert.equal(w.cols, w.sourceWords.length);
  assert.equal(w.pairs.length, w.rows);
  const info = t.info;
  assert.equal(info.kernels, 'wasm-simd128');
  assert.ok(info.parameters > 0 && info.vocabSize > 0 && info.modelBytes > 0);
  assert.equal(info.limits.maxBeam, 16);
  assert.deepEqual(Object.keys(t.defaults), ['beam', 'nbest', 'alpha', 'beta']);
  assert.equal(JSON.parse(t.infoJson).name, info.name);
  const batch = t.translateBatch([SENT, '', SENT], { beam: 1 });
  assert.equal(batch.length, 3);
  const alone = t.translate(SENT, { beam: 1 });
  assert.equal(batch[0].text, alone.text);
  assert.equal(batch[2].text, alone.text);
  assert.deepEqual(batch[0].alignment.weights.length, alone.alignment.weights.length);
  assert.equal(batch[1].text, '');
  assert.equal(batch[1].alignment, null);
  // every batch size gives the same results (rows refilled as sentences end)
  const many = [SENT, 'Open the file', '', 'Close all windows', SENT, 'Print', 'Save as...'];
  const one = many.map((s) => t.translate(s, { beam: 1 }));
  for (const batchSize of [1, 2, 3, 8, 256]) {
    const got = t.translateBatch(many, { beam: 1, batchSize });
    assert.deepEqual(got.map((r) => r.text), one.map((r) => r.text), `batchSize ${batchSize}`);
    got.forEach((r, i) => assert.ok(Math.abs(r.score - one[i].score) <= 1e-5, `batchSize ${batchSize} text ${i}`));
  }
  assert.deepEqual(t.translateBatch([], { beam: 1 }), []);
  // beam > 1: one by one, as translate()
  assert.equal(t.translateBatch([SENT], { beam: 5 })[0].text, t.translate(SENT, { beam: 5 }).text);
  const short = t.translate(SENT, { beam: 1, maxLength: 2 });
  assert.ok(short.targetTokens.length <= 2);
  t.dispose();
});

test('misuse gives SteleError or TypeError, never a wasm trap', async () => {
  await assert.rejects(Translator.load(42), TypeError);
  await assert.rejects(Translator.load(SMALL_MODEL, { onProgress: 1 }), TypeError);
  await assert.rejects(Translator.load(SMALL_MODEL, { limits: { maxBeam: 1.5 } }), TypeError);
  await assert.rejects(Translator.load(SMALL_MODEL, { limits: { maxBeam: 1000 } }), isStele('STELE_ERR_ARGUMENT'));
  await assert.rejects(Translator.load('/nonexistent/model.safetensors'), isStele('STELE_ERR_IO'));
  await assert.rejects(Translator.load(new Uint8Array(0)), (e) => e instanceof SteleError);
  await assert.rejects(Translator.load(new Uint8Array(100).fill(7)), (e) => e instanceof SteleError);
  const bytes = readFileSync(SMALL_MODEL);
  await assert.rejects(Translator.load(bytes.subarray(0, bytes.length >> 1)), isStele('STELE_ERR_RANGE'));
  assert.throws(() => new Translator(), TypeError);

  const t = await Translator.load(SMALL_MODEL);
  assert.throws(() => t.translate(42), TypeError);
  assert.throws(() => t.translate(null), TypeError);
  assert.throws(() => t.translate(SENT, 5), TypeError);
  assert.throws(() => t.translate(SENT, { beam: '5' }), TypeError);
  assert.throws(() => t.translate(SENT, { beam: 2.5 }), TypeError);
  assert.throws(() => t.translate(SENT, { alpha: 'x' }), TypeError);
  assert.throws(() => t.translateBatch('text'), TypeError);
  assert.throws(() => t.translateBatch([SENT, 1]), TypeError);
  assert.throws(() => t.translateBatch([SENT, SENT], { beam: 1, batchSize: 0 }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translateBatch([SENT, SENT], { beam: 1, batchSize: 257 }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translateBatch([SENT, SENT], { beam: 1, batchSize: 1.5 }), TypeError);
  // a bad text fails the whole call, naming it, before any translation
  assert.throws(() => t.translateBatch([SENT, 'x'.repeat(65537), SENT], { beam: 1 }),
    (e) => isStele('STELE_ERR_LIMIT')(e) && /texts\[1\]/.test(e.message));
  assert.throws(() => t.translateBatch([SENT, SENT, 'a '.repeat(1000)], { beam: 1 }),
    (e) => isStele('STELE_ERR_LIMIT')(e) && /texts\[2\].*max_source_tokens/.test(e.message));
  assert.throws(() => t.translateBatch([SENT, 'a\u0000b'], { beam: 1 }),
    (e) => isStele('STELE_ERR_TEXT')(e) && /texts\[1\]/.test(e.message));
  assert.throws(() => t.translate(SENT, { beam: 0 }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translate(SENT, { beam: 2 ** 40 }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translate(SENT, { beam: 17 }), isStele('STELE_ERR_LIMIT'));
  assert.throws(() => t.translate(SENT, { beam: 2, nbest: 3 }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translate(SENT, { alpha: NaN }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translate(SENT, { maxLength: 0 }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translate('a\u0000b'), (e) => isStele('STELE_ERR_TEXT')(e) && /NUL/.test(e.message));
  assert.throws(() => t.translate('x'.repeat(65537)), isStele('STELE_ERR_LIMIT'));
  assert.throws(() => t.translate('é'.repeat(40000)), isStele('STELE_ERR_LIMIT'));
  assert.throws(() => t.translate('x'.repeat(20 << 20)), isStele('STELE_ERR_LIMIT'));
  assert.throws(() => t.translate('a '.repeat(1000)), (e) => isStele('STELE_ERR_LIMIT')(e) && /max_source_tokens/.test(e.message));
  assert.equal(t.translate('').text, '');
  assert.equal(t.translate('   ').text, '');
  assert.equal(typeof t.translate('\ud800 lone surrogate').text, 'string');
  assert.equal(typeof t.translate('😀 ☃ 東京').text, 'string');
  // still usable after every error
  assert.ok(t.translate(SENT).text.length > 0);
  t.dispose();
  t.dispose();
  assert.equal(t.disposed, true);
  assert.throws(() => t.translate(SENT), isStele('STELE_ERR_DISPOSED'));
  assert.throws(() => t.translateBatch([SENT]), isStele('STELE_ERR_DISPOSED'));
  assert.throws(() => t.info, isStele('STELE_ERR_DISPOSED'));
});

test('large limits grow the wasm memory; views follow the growth', async () => {
  const small = await Translator.load(SMALL_MODEL);
  const big = await Translator.load(SMALL_MODEL, { limits: { maxSourceTokens: 4096, maxTargetTokens: 4096, maxTextBytes: 1 << 24 } });
  assert.ok(big.info.wasmMemoryBytes > small.info.wasmMemoryBytes, `${big.info.wasmMemoryBytes} > ${small.info.wasmMemoryBytes}`);
  assert.equal(big.info.limits.maxTextBytes, 1 << 24);
  const a = small.translate(SENT, { nbest: 2 }), b = big.translate(SENT, { nbest: 2 });
  assert.equal(b.text, a.text);
  assert.deepEqual(b.alignment, a.alignment);
  assert.deepEqual(b.nbest.map((h) => h.text), a.nbest.map((h) => h.text));
  assert.throws(() => big.translate('x'.repeat((1 << 24) + 1)), isStele('STELE_ERR_LIMIT'));
  small.dispose();
  big.dispose();
});

test('tiny golden models (every architecture) load and translate', async () => {
  const dir = path.join(ROOT, 'tests/golden/tiny');
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors') && !f.endsWith('.trace.safetensors'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const t = await Translator.load(path.join(dir, f));
    const r = t.translate('hello world', { beam: 3, nbest: 2 });
    assert.equal(typeof r.text, 'string', f);
    assert.ok(r.nbest.length >= 1, f);
    if (t.info.config.attention?.score === 'none') assert.equal(r.alignment, null, f);
    else assert.equal(r.alignment.weights.length, r.alignment.rows * r.alignment.cols, f);
    t.dispose();
  }
});

test('the wasm heap does not grow across 2,000 translations after warm-up', async () => {
  const t = await Translator.load(SMALL_MODEL);
  const inputs = [SENT, '1 janvier 2000', '', 'Open the file', 'x'.repeat(300), 'a\u0000b'];
  const one = (i) => {
    try {
      t.translate(inputs[i % inputs.length], { beam: i % 3 === 0 ? 5 : 1, nbest: 1 });
    } catch (e) {
      if (!(e instanceof SteleError)) throw e;
    }
  };
  for (let i = 0; i < 50; i++) one(i);
  const before = t.info.wasmMemoryBytes;
  for (let i = 0; i < 2000; i++) one(i);
  const after = t.info.wasmMemoryBytes;
  console.log(`wasm memory: ${before} bytes after warm-up, ${after} bytes after 2000 more translations`);
  assert.equal(after, before);
  t.dispose();
});
