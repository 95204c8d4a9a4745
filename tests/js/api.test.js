// The JS API: loading from every kind of source with progress, results, options, info, misuse
// (always SteleError or TypeError, never a raw wasm trap), dispose, and a heap that does not grow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, openSync, ftruncateSync, writeSync, closeSync, rmSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
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
  assert.deepEqual([...w.targetWordOfPiece].slice(-1), [-1], 'the target </s> is in no word');
  assert.equal(w.sourceWordOfPiece.length, r.sourceTokens.length);
  assert.equal(Math.max(...w.sourceWordOfPiece) + 1, w.cols);
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

// A copy of a model file with its search metadata's low_confidence_logp (or `key`) set
// (undefined: removed).
function withThreshold(bytes, value, key = 'low_confidence_logp') {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const search = JSON.parse(header.__metadata__.search ?? '{}');
  if (value === undefined) delete search[key];
  else search[key] = value;
  header.__metadata__.search = JSON.stringify(search);
  let h = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
  padded.set(h);
  h = padded;
  const out = new Uint8Array(8 + h.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(bytes.subarray(8 + n), 8 + h.length);
  return out;
}

test('lowConfidence follows the model\'s search.low_confidence_logp', async () => {
  const bytes = new Uint8Array(readFileSync(SMALL_MODEL));
  const flagged = async (value, opts) => {
    const t = await Translator.load(withThreshold(bytes, value));
    const r = [t.translate(SENT, opts), t.translate('', opts), ...t.translateBatch([SENT], { beam: 1 })];
    assert.equal(t.info.search.low_confidence_logp, value);
    t.dispose();
    assert.equal(r[1].lowConfidence, false, 'an empty input is never flagged');
    return [r[0].lowConfidence, r[2].lowConfidence];
  };
  assert.deepEqual(await flagged(0), [true, true]);             // every logp < 0
  assert.deepEqual(await flagged(-1e6), [false, false]);
  assert.deepEqual(await flagged(undefined), [false, false]);
  assert.deepEqual(await flagged(0, { beam: 1 }), [true, true]);
  await assert.rejects(Translator.load(withThreshold(bytes, 1)), isStele('STELE_ERR_CONFIG'));
});

test('lowConfidence follows search.low_confidence_mean_logp (per output piece)', async () => {
  const bytes = new Uint8Array(readFileSync(SMALL_MODEL));
  const key = 'low_confidence_mean_logp';
  const t0 = await Translator.load(withThreshold(bytes, undefined, key));
  const r0 = t0.translate(SENT);
  t0.dispose();
  const flagged = async (value) => {
    const t = await Translator.load(withThreshold(bytes, value, key));
    assert.equal(t.info.search[key], value);
    const r = [t.translate(SENT), t.translate(''), ...t.translateBatch([SENT], { beam: 1 })];
    t.dispose();
    assert.equal(r[1].lowConfidence, false, 'an empty input is never flagged');
    return [r[0].lowConfidence, r[2].lowConfidence];
  };
  // just above and just below this sentence's own mean logp: the flag turns on exactly there
  assert.ok(r0.meanLogp < 0);
  assert.equal((await flagged(r0.meanLogp / 2))[0], true);    // threshold above its mean logp
  assert.equal((await flagged(r0.meanLogp * 2))[0], false);   // threshold below it
  assert.deepEqual(await flagged(0), [true, true]);
  assert.deepEqual(await flagged(-1e6), [false, false]);
  await assert.rejects(Translator.load(withThreshold(bytes, 0.5, key)), isStele('STELE_ERR_CONFIG'));
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
  // a lone surrogate would become U+FFFD, i.e. <unk>: refused, naming its position
  assert.throws(() => t.translate('ab\ud800 lone surrogate'),
    (e) => isStele('STELE_ERR_TEXT')(e) && /U\+D800 at index 2/.test(e.message));
  assert.throws(() => t.translate('x\udc00'), (e) => isStele('STELE_ERR_TEXT')(e) && /index 1/.test(e.message));
  assert.throws(() => t.translate('\ud83d'), isStele('STELE_ERR_TEXT'));
  assert.throws(() => t.translateBatch([SENT, 'ok\ud800'], { beam: 1 }),
    (e) => isStele('STELE_ERR_TEXT')(e) && /texts\[1\]/.test(e.message));
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

test('translateBatch checks every entry (sparse arrays) and every option on every path', async () => {
  const t = await Translator.load(SMALL_MODEL);
  const sparse = () => {
    const a = [SENT];
    a[2] = SENT;   // a[1] is a hole: forEach/map would skip it
    return a;
  };
  const holeError = (e) => e instanceof TypeError && /texts\[1\]/.test(e.message) && /missing/.test(e.message);
  for (const opts of [{ beam: 1 }, { beam: 1, batchSize: 1 }, { beam: 1, batchSize: 2 }, { beam: 3 }, {}])
    assert.throws(() => t.translateBatch(sparse(), opts), holeError, JSON.stringify(opts));
  // a hole at the end, and an undefined/object/number entry, on the batched and one-by-one paths
  const a = [SENT, SENT];
  a.length = 3;
  assert.throws(() => t.translateBatch(a, { beam: 1 }), (e) => e instanceof TypeError && /texts\[2\]/.test(e.message));
  for (const bad of [undefined, {}, 7, new String('x')])
    for (const beam of [1, 2])
      assert.throws(() => t.translateBatch([SENT, bad], { beam }), (e) => e instanceof TypeError && /texts\[1\]/.test(e.message));
  // nbest (and every other option) is validated as translate() does, whatever the path
  for (const nbest of [2, 999, -3, 0])
    for (const opts of [{ beam: 1 }, { beam: 1, batchSize: 1 }, { beam: 1, batchSize: 4 }]) {
      assert.throws(() => t.translate(SENT, { beam: opts.beam, nbest }), isStele('STELE_ERR_ARGUMENT'));
      assert.throws(() => t.translateBatch([SENT, SENT], { ...opts, nbest }), isStele('STELE_ERR_ARGUMENT'),
        `nbest ${nbest} ${JSON.stringify(opts)}`);
    }
  assert.throws(() => t.translateBatch([SENT, SENT], { beam: 1, alpha: Infinity }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translateBatch([SENT, SENT], { beam: 17 }), isStele('STELE_ERR_LIMIT'));
  assert.throws(() => t.translateBatch([SENT, SENT], { beam: 0 }), isStele('STELE_ERR_ARGUMENT'));
  // unknown keys (a typo would otherwise silently give the default)
  assert.throws(() => t.translate(SENT, { nBest: 3 }), (e) => isStele('STELE_ERR_ARGUMENT')(e) && /nBest/.test(e.message));
  assert.throws(() => t.translate(SENT, { batchSize: 3 }), isStele('STELE_ERR_ARGUMENT'));
  assert.throws(() => t.translateBatch([SENT, SENT], { beam: 1, batchsize: 3 }), isStele('STELE_ERR_ARGUMENT'));
  await assert.rejects(Translator.load(SMALL_MODEL, { limit: {} }), isStele('STELE_ERR_ARGUMENT'));
  await assert.rejects(Translator.load(SMALL_MODEL, { limits: { maxbeam: 4 } }), isStele('STELE_ERR_ARGUMENT'));
  // the valid options still work on every path, with the same results
  const one = t.translate(SENT, { beam: 1, nbest: 1 }).text;
  for (const opts of [{ beam: 1, nbest: 1 }, { beam: 1, batchSize: 1 }, { beam: 1, batchSize: 4, maxLength: 100 }])
    assert.deepEqual(t.translateBatch([SENT, SENT, SENT], opts).map((r) => r.text), [one, one, one]);
  assert.equal(t.translateBatch([SENT, SENT], { beam: 3, nbest: 2 })[1].nbest.length, 2);
  t.dispose();
});

test('hostile model sources: refused from their size, type or header length, before reading', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-api-'));
  // A sparse file of `size` bytes starting with `head` (no disk space, no time).
  const sparse = (name, head, size) => {
    const f = path.join(dir, name), fd = openSync(f, 'w');
    writeSync(fd, head);
    ftruncateSync(fd, size);
    closeSync(fd);
    return f;
  };
  try {
    await assert.rejects(Translator.load(dir), (e) => isStele('STELE_ERR_IO')(e) && /folder/.test(e.message));
    await assert.rejects(Translator.load('/dev/zero'), (e) => isStele('STELE_ERR_IO')(e) && /device/.test(e.message));
    const fifo = path.join(dir, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status === 0)
      await assert.rejects(Translator.load(fifo), (e) => isStele('STELE_ERR_IO')(e) && /FIFO/.test(e.message));
    const bad = Buffer.from('\x10\0\0\0\0\0\0\0{not json}      ', 'latin1');
    await assert.rejects(Translator.load(sparse('big.safetensors', bad, 2 ** 30 + 1)),
      (e) => isStele('STELE_ERR_LIMIT')(e) && /1073741825 bytes/.test(e.message));
    // a header length over 1 MiB: refused after the first chunk, not after 512 MiB
    const huge = Buffer.from([0, 0, 0x20, 0, 0, 0, 0, 0, 0x7b]);
    const rss = process.memoryUsage().rss;
    await assert.rejects(Translator.load(sparse('hdr.safetensors', huge, 512 * 2 ** 20)),
      (e) => isStele('STELE_ERR_HEADER')(e) && /header length 2097152/.test(e.message));
    // the same from a Response: an endless body, and a Content-Length over the limit
    let sent = 0;
    const endless = new ReadableStream({
      pull(c) { c.enqueue(sent++ ? new Uint8Array(1 << 16) : new Uint8Array(huge)); },
    });
    await assert.rejects(Translator.load(new Response(endless)), isStele('STELE_ERR_HEADER'));
    assert.ok(sent < 8, `read ${sent} chunks of an endless body`);
    const lying = new Response(new Uint8Array(16), { headers: { 'content-length': String(2 ** 31) } });
    await assert.rejects(Translator.load(lying), isStele('STELE_ERR_LIMIT'));
    // a broken JSON header in a 900 MiB file: refused once the header is in, not after reading
    // 900 MiB (and copying them into the wasm heap), nor as STELE_ERR_MEMORY
    const t0 = Date.now();
    await assert.rejects(Translator.load(sparse('json.safetensors', bad, 900 * 2 ** 20)),
      (e) => isStele('STELE_ERR_HEADER')(e) && /not UTF-8 JSON/.test(e.message));
    const bad2 = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('[1] ')]);
    await assert.rejects(Translator.load(sparse('array.safetensors', bad2, 900 * 2 ** 20)),
      (e) => isStele('STELE_ERR_HEADER')(e) && /not a JSON object/.test(e.message));
    assert.ok(process.memoryUsage().rss - rss < 256 * 2 ** 20, 'a hostile file did not cost its size in memory');
    assert.ok(Date.now() - t0 < 15000, 'the 900 MiB files were not read');
    // a NaN weight: refused by the wasm engine as by the native one, naming tensor and element
    const m = Buffer.from(readFileSync(SMALL_MODEL));
    const n = Number(m.readBigUInt64LE(0));
    const [b] = JSON.parse(m.subarray(8, 8 + n).toString())['generator.bias'].data_offsets;
    m.writeFloatLE(NaN, 8 + n + b + 8);
    await assert.rejects(Translator.load(m),
      (e) => isStele('STELE_ERR_WEIGHTS')(e) && /tensor generator.bias element 2 is NaN/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('large limits grow the wasm memory; views follow the growth', async () => {
  // 2048 x 2048 at beam 16: the session's per-step attention record alone (T x K x S floats) is
  // 256 MiB; 4096 x 4096 needs 1 GiB of it and, with the other buffers, passes wasm32's 2 GiB.
  const small = await Translator.load(SMALL_MODEL);
  const big = await Translator.load(SMALL_MODEL, { limits: { maxSourceTokens: 2048, maxTargetTokens: 2048, maxTextBytes: 1 << 24 } });
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
  // caption-*, vqa-*: image models, which Translator refuses (tests/js/caption.test.js, vqa.test.js)
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors') && !f.endsWith('.trace.safetensors') &&
    !f.startsWith('caption-') && !f.startsWith('vqa-'));
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
