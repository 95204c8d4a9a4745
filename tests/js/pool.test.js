// TranslatorPool (src/js/pool.js): the results of one Translator, in input order, on several
// workers; dispose; every kind of error (bad texts before any work, a text the engine refuses in
// the middle of a batch, bad options, a worker that dies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { Translator, TranslatorPool, SteleError, defaultThreads } from '../../src/js/stele.js';
import { SMALL_MODEL, TEST_SPLIT, goldenOutputs, modelPath, readJsonl } from './common.js';

const isStele = (code, re) => (e) => e instanceof SteleError && e.code === code && (!re || re.test(e.message));

// A few hundred ui-en-fr test sentences (the test split, else the goldens' sources), shuffled
// with a fixed seed so that long and short sentences alternate unevenly across the chunks.
function uiSentences(n) {
  const all = existsSync(TEST_SPLIT['ui-en-fr'])
    ? readFileSync(TEST_SPLIT['ui-en-fr'], 'utf8').split('\n').filter((l) => l.length)
    : readJsonl(goldenOutputs('ui-en-fr')).map((o) => o.src);
  const s = all.slice(0, n);
  let seed = 14;
  for (let i = s.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [s[i], s[j]] = [s[j], s[i]];
  }
  return s;
}

const UI = modelPath('ui-en-fr');
const haveUi = existsSync(UI) && (existsSync(TEST_SPLIT['ui-en-fr']) || existsSync(goldenOutputs('ui-en-fr')));

test('pool = one Translator, in input order: ui-en-fr greedy (batched and not) and beam 5', { skip: !haveUi && 'no ui-en-fr model or sentences', timeout: 120_000 }, async () => {
  const texts = uiSentences(240);
  const lengths = texts.map((t) => t.split(' ').length);
  assert.ok(Math.max(...lengths) >= 10 && Math.min(...lengths) === 1, 'sentences of unequal lengths');
  const t = await Translator.load(UI);
  const pool = await TranslatorPool.load(UI, { threads: 3 });
  try {
    assert.equal(pool.threads, 3);
    assert.deepEqual(pool.defaults, t.defaults);
    for (const [{ chunkSize, ...opts }, n] of [[{ beam: 1 }, 240], [{ beam: 1, batchSize: 4, chunkSize: 5 }, 150],
      [{ beam: 1, batchSize: 1 }, 60], [{ beam: 5, nbest: 2 }, 30]]) {
      const one = t.translateBatch(texts.slice(0, n), opts);
      const many = await pool.translateBatch(texts.slice(0, n), { ...opts, chunkSize });
      assert.equal(many.length, n);
      // the same objects: text, scores, attention, word alignment, nbest, flags
      assert.deepStrictEqual(many, one, JSON.stringify(opts));
    }
  } finally {
    t.dispose();
    pool.dispose();
  }
});

test('pool = one Translator with trace, nbest and a 2-worker pool; calls in parallel keep their order', async () => {
  const texts = ['29th March 2042', '5 mars 2019', 'Tuesday, 5 March 2019', '', '1 января 2000 г.', '12/03/2021'];
  const t = await Translator.load(SMALL_MODEL);
  const pool = await TranslatorPool.load(SMALL_MODEL, { threads: 2 });
  try {
    const opts = { beam: 3, nbest: 2, trace: true };
    assert.deepStrictEqual(await pool.translateBatch(texts, opts), t.translateBatch(texts, opts));
    const [a, b] = await Promise.all([pool.translateBatch(texts, { beam: 1 }), pool.translateBatch(texts.slice().reverse())]);
    assert.deepStrictEqual(a, t.translateBatch(texts, { beam: 1 }));
    assert.deepStrictEqual(b, t.translateBatch(texts.slice().reverse()));
    assert.deepStrictEqual(await pool.translateBatch([]), []);
    assert.equal(pool.info.threads, 2);
    assert.equal(pool.info.modelBytes, t.info.modelBytes);
  } finally {
    t.dispose();
    pool.dispose();
  }
});

test('threads: the core count by default, 1..256', async () => {
  assert.equal(await defaultThreads(), os.availableParallelism?.() ?? os.cpus().length);
  for (const threads of [0, 257])
    await assert.rejects(TranslatorPool.load(SMALL_MODEL, { threads }), isStele('STELE_ERR_ARGUMENT', /threads/));
  await assert.rejects(TranslatorPool.load(SMALL_MODEL, { threads: 1.5 }), TypeError);
  await assert.rejects(TranslatorPool.load(SMALL_MODEL, { thread: 2 }), isStele('STELE_ERR_ARGUMENT', /unknown option "thread"/));
  const pool = await TranslatorPool.load(SMALL_MODEL);
  assert.equal(pool.threads, await defaultThreads());
  pool.dispose();
});

test('dispose: twice is safe, later use and a call in flight fail with STELE_ERR_DISPOSED', async () => {
  const pool = await TranslatorPool.load(SMALL_MODEL, { threads: 2 });
  const texts = Array.from({ length: 400 }, (_, i) => `${(i % 28) + 1} March ${1900 + i}`);
  const flight = pool.translateBatch(texts, { beam: 5 });
  pool.dispose();
  pool.dispose();
  await assert.rejects(flight, isStele('STELE_ERR_DISPOSED'));
  await assert.rejects(pool.translateBatch(['x']), isStele('STELE_ERR_DISPOSED'));
  assert.throws(() => pool.info, isStele('STELE_ERR_DISPOSED'));
  assert.equal(pool.disposed, true);
});

test('errors: bad texts before any work, a refused text in the middle of a batch named, bad options', async () => {
  const t = await Translator.load(SMALL_MODEL, { limits: { maxSourceTokens: 40 } });
  const pool = await TranslatorPool.load(SMALL_MODEL, { threads: 2, limits: { maxSourceTokens: 40 } });
  try {
    const texts = Array.from({ length: 200 }, (_, i) => `${(i % 28) + 1} March ${1900 + i}`);
    await assert.rejects(pool.translateBatch('x'), TypeError);
    await assert.rejects(pool.translateBatch([...texts.slice(0, 50), 7]), /texts\[50\] must be a string/);
    await assert.rejects(pool.translateBatch(['a', 'b\ud800']), isStele('STELE_ERR_TEXT', /^texts\[1\]: lone UTF-16 surrogate/));
    await assert.rejects(pool.translateBatch(['a', 'é'.repeat(40000)]), isStele('STELE_ERR_LIMIT', /^texts\[1\]: input has 80000 bytes/));
    // over maxSourceTokens (only the engine can tell): texts[123] and texts[170] in a 200-text batch
    const bad = texts.slice();
    bad[123] = 'x'.repeat(60);
    bad[170] = 'y'.repeat(60);
    for (const opts of [{ beam: 5 }, { beam: 1 }, { beam: 1, batchSize: 1 }]) {
      let want;
      try {
        t.translate(bad[123], opts.beam === 5 ? opts : { beam: 1 });
      } catch (e) {
        want = e;
      }
      assert.ok(want instanceof SteleError);
      await assert.rejects(pool.translateBatch(bad, opts), (e) =>
        isStele(want.code)(e) && e.index === 123 && e.message === `texts[123]: ${want.message}`);
    }
    // the same refusal as Translator.translateBatch, one by one
    await assert.rejects(pool.translateBatch(bad, { beam: 5 }), { message: (() => {
      try { t.translateBatch(bad, { beam: 5 }); } catch (e) { return e.message; }
      return '';
    })() });
    await assert.rejects(pool.translateBatch(texts, { nBest: 2 }), isStele('STELE_ERR_ARGUMENT', /unknown option "nBest"/));
    await assert.rejects(pool.translateBatch(texts, { beam: 2, nbest: 3 }), isStele('STELE_ERR_ARGUMENT', /nbest 3 outside/));
    await assert.rejects(pool.translateBatch([], { beam: 'x' }), TypeError);
    await assert.rejects(pool.translateBatch(texts, { chunkSize: 0 }), isStele('STELE_ERR_ARGUMENT', /chunkSize/));
    // the pool still works after all of these
    assert.deepStrictEqual(await pool.translateBatch(texts.slice(0, 20)), t.translateBatch(texts.slice(0, 20)));
  } finally {
    t.dispose();
    pool.dispose();
  }
});

test('a worker that dies: the call fails with STELE_ERR_WORKER naming it and its texts, the pool refuses later calls', async () => {
  const pool = await TranslatorPool.load(SMALL_MODEL, { threads: 2 });
  try {
    const texts = Array.from({ length: 400 }, (_, i) => `${(i % 28) + 1} March ${1900 + i}`);
    const flight = pool.translateBatch(texts, { beam: 5 });
    await new Promise((r) => setTimeout(r, 50));
    pool._workers[1].handle.terminate();   // as a crash would: the thread is gone
    await assert.rejects(flight, isStele('STELE_ERR_WORKER', /^worker 2 of 2 exited \(code 1\) while translating texts\[\d+\.\.\d+\]/));
    await assert.rejects(pool.translateBatch(['5 March 2019']), isStele('STELE_ERR_WORKER', /dispose\(\) it and load another/));
  } finally {
    pool.dispose();
    pool.dispose();
  }
});

test('load errors: a bad model fails the load and leaves no worker running', async () => {
  const bytes = new Uint8Array(readFileSync(SMALL_MODEL));
  bytes.fill(0, 100, 200);   // inside the header: no longer JSON
  await assert.rejects(TranslatorPool.load(bytes, { threads: 2 }), isStele('STELE_ERR_HEADER'));
  await assert.rejects(TranslatorPool.load(SMALL_MODEL, { threads: 2, limits: { maxBeam: 0 } }), isStele('STELE_ERR_ARGUMENT', /maxBeam/));
  await assert.rejects(TranslatorPool.load('no-such-model'), isStele('STELE_ERR_IO'));
  assert.throws(() => new TranslatorPool(), TypeError);
});
