// TranslatorPool in a browser (make e2e): Debian's Chromium, driven by playwright-core, imports
// the package's ESM API from scripts/serve.mjs and runs a pool of module Web Workers
// (src/js/pool_worker.js). Its results equal the Node API's (one Translator) on the same texts,
// in input order; the default pool has navigator.hardwareConcurrency workers; a refused text is
// named; dispose twice. Fails on any console or page error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Translator } from '../../src/js/stele.js';
import { createStaticServer } from '../../scripts/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.STELE_CHROMIUM || '/usr/bin/chromium';
const MODEL = path.join(ROOT, 'models/dates/model.safetensors');
const skip = (!existsSync(CHROMIUM) && 'no chromium') || (!existsSync(MODEL) && 'no dates model');
let server, context, page, origin, profile;
const problems = [];

// What the page sends back of a result: enough to see any difference (typed arrays as arrays).
const summary = (r) => ({ text: r.text, score: r.score, logp: r.logp, ids: Array.from(r.targetIds),
  att: Array.from(r.alignment?.weights ?? []), nbest: r.nbest.map((h) => h.text), low: r.lowConfidence });

before(async () => {
  if (skip) return;
  server = createStaticServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${server.address().port}`;
  profile = mkdtempSync(path.join(tmpdir(), 'stele-e2e-pool-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${origin}/`);
});

after(async () => {
  await context?.close();
  server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('TranslatorPool in Chromium: Web Workers, the results of one Translator in input order', { skip, timeout: 120_000 }, async () => {
  const texts = Array.from({ length: 60 }, (_, i) => (i % 3 ? `${(i % 28) + 1} March ${1900 + i}` : `Tuesday, ${(i % 28) + 1} mai ${2000 + i}`));
  const got = await page.evaluate(async ({ texts }) => {
    const { TranslatorPool, defaultThreads } = await import('/src/js/stele.js');
    const s = (r) => ({ text: r.text, score: r.score, logp: r.logp, ids: Array.from(r.targetIds),
      att: Array.from(r.alignment?.weights ?? []), nbest: r.nbest.map((h) => h.text), low: r.lowConfidence });
    const pool = await TranslatorPool.load('dates', { threads: 2 });
    const out = {
      greedy: (await pool.translateBatch(texts, { beam: 1 })).map(s),
      beam: (await pool.translateBatch(texts, { beam: 4, nbest: 2 })).map(s),
      threads: pool.threads,
    };
    try {
      await pool.translateBatch([...texts.slice(0, 7), 'a\u0000b', ...texts.slice(7)], { beam: 2 });
    } catch (e) {
      out.error = { code: e.code, index: e.index, message: e.message };
    }
    pool.dispose();
    pool.dispose();
    const byDefault = await TranslatorPool.load('dates');
    out.defaultThreads = [byDefault.threads, await defaultThreads(), navigator.hardwareConcurrency];
    byDefault.dispose();
    return out;
  }, { texts });
  const t = await Translator.load(MODEL);
  try {
    assert.deepEqual(got.greedy, t.translateBatch(texts, { beam: 1 }).map(summary));
    assert.deepEqual(got.beam, t.translateBatch(texts, { beam: 4, nbest: 2 }).map(summary));
  } finally {
    t.dispose();
  }
  assert.equal(got.threads, 2);
  assert.equal(got.error.code, 'STELE_ERR_TEXT');
  assert.equal(got.error.index, 7);
  assert.match(got.error.message, /^texts\[7\]: /);
  const [n, d, hc] = got.defaultThreads;
  assert.ok(n === d && d === Math.max(1, hc), `default threads ${n}, defaultThreads() ${d}, hardwareConcurrency ${hc}`);
  assert.deepEqual(problems, []);
});
