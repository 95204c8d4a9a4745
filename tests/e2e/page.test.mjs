// End-to-end test of the page (make e2e): Debian's Chromium, driven by playwright-core, against
// scripts/serve.mjs on 127.0.0.1. Fails on any console error, page error, or request that leaves
// the origin. Writes build/e2e/*.png; with UPDATE_SCREENSHOT=1 also web/screenshot.png (the README's
// picture), so that a plain test run leaves the committed tree untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createStaticServer } from '../../scripts/serve.mjs';
import { Translator } from '../../src/js/stele.js';
import { contrastReport } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.STELE_CHROMIUM || '/usr/bin/chromium';
// STELE_MODELS_DIR: another models/ folder, for the server and the Node reference alike.
const MODELS = path.resolve(process.env.STELE_MODELS_DIR || path.join(ROOT, 'models'));
const modelFile = (m) => path.join(MODELS, m, 'model.safetensors');
const HAVE_EN = existsSync(modelFile('ui-en-fr'));
// The default model; until models/ui-en-fr lands the page test runs its first part on dates.
const MAIN = HAVE_EN ? 'ui-en-fr' : 'dates';
const SENTENCES = {
  'ui-en-fr': ['Save the document', 'Open a new window', 'Delete the selected files?'],
  dates: ['29th March 2042', '3 juillet 1999', '7 января 2001'],
};
const DATE = 'Monday, 14 February 2011';
// Not a date: the dates model's output for it is flagged low-confidence (models/dates/README.md).
const NOT_A_DATE = 'hello';
// The README's picture: this sentence with one heatmap cell hovered.
const PICTURE = { 'ui-en-fr': 'Delete the selected files?', dates: '29th March 2042' };
const OUT = path.join(ROOT, 'build/e2e');

let server, origin, context, page, profile;
const problems = [];         // console errors, page errors, foreign requests
const modelHits = [];        // every model file request the server answered (the downloads)
const translators = {};

async function nodeTranslate(model, text, opts) {
  translators[model] ??= await Translator.load(modelFile(model));
  return translators[model].translate(text, opts);
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  server = createStaticServer();
  server.on('request', (req) => { if (req.url.includes('.safetensors')) modelHits.push(req.url); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${server.address().port}`;
  profile = mkdtempSync(path.join(tmpdir(), 'stele-e2e-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 900 },
    acceptDownloads: true,
  });
  context.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin + '/') && !/^(data|blob):/.test(u)) problems.push(`request to another origin: ${u}`);
  });
  // Every text the load status shows, to check the progress in bytes and %.
  await context.addInitScript(() => {
    window.__loadTexts = [];
    document.addEventListener('DOMContentLoaded', () => {
      const el = document.getElementById('load-text');
      new MutationObserver(() => window.__loadTexts.push(el.textContent))
        .observe(el, { childList: true, characterData: true, subtree: true });
    });
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location()?.url ?? ''})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  await context?.close();
  server?.close();
  for (const t of Object.values(translators)) t.dispose();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

function assertClean() {
  assert.deepEqual(problems, [], 'no console errors and no request to another origin');
}

async function waitReady(model) {
  await page.waitForFunction((m) => document.body.dataset.ready === 'true' && document.body.dataset.model === m,
    model, { timeout: 60_000 });
}

// Types text, presses Enter, waits for the result of exactly that text.
async function translate(text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await page.waitForFunction((t) => document.getElementById('output').dataset.input === t &&
    document.body.dataset.busy === 'false', text, { timeout: 30_000 });
}

// The model picker's labels at the current width: elements of the model card cut off
// (scrollWidth > clientWidth), and <select> options whose text is wider than the select's room
// for it (a select clips its label without any overflow to measure).
function pickerOverflow() {
  const out = [];
  const card = document.getElementById('model-h').closest('section');
  for (const el of card.querySelectorAll('*')) {
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth) out.push(`${el.tagName.toLowerCase()}#${el.id}: ${el.scrollWidth} > ${el.clientWidth}`);
  }
  const sel = document.getElementById('model'), cs = getComputedStyle(sel);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
  // Chromium draws the drop-down arrow in about 20 px of the padding box.
  const room = sel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
  for (const o of sel.options) {
    const w = ctx.measureText(o.textContent).width;
    if (w > room) out.push(`option ${o.value}: ${Math.ceil(w)} px of text in ${Math.floor(room)} px`);
  }
  return out;
}

async function pageParams() {
  return { beam: Number(await page.inputValue('#beam')), nbest: Number(await page.inputValue('#nbest')) };
}

async function checkResult(model, text) {
  const opts = await pageParams();
  const want = await nodeTranslate(model, text, opts);
  assert.equal(await page.textContent('#output'), want.text, `${model}: "${text}"`);
  assert.equal(await page.isVisible('#low-confidence'), want.lowConfidence, `${model}: "${text}" flag`);
  const hyps = await page.$$eval('#nbest-list .hyp', (els) => els.map((e) => e.textContent));
  if (opts.nbest > 1) assert.deepEqual(hyps, want.nbest.map((h) => h.text), 'n-best list');
  const grid = await page.$eval('#heatmap', (t) => ({
    rows: Number(t.dataset.rows), cols: Number(t.dataset.cols),
    cells: t.querySelectorAll('td.cell').length, bodyRows: t.tBodies[0].rows.length,
    colHeads: [...t.querySelectorAll('th.col-h')].map((th) => th.textContent),
  }));
  const a = want.alignment;
  assert.equal(grid.rows, a.rows);
  assert.equal(grid.cols, a.cols);
  assert.equal(grid.bodyRows, a.rows);
  assert.equal(grid.cells, a.rows * a.cols, 'heatmap has rows x cols cells');
  assert.equal(grid.colHeads.length, want.sourceTokens.length);
  assert.match(await page.textContent('#stats'), /decoded in [\d.]+ ms · \d+ tokens · \d+ tokens\/s/);
  return want;
}

test('the page: load, translate, heatmap, hover, errors, offline, dates model, screenshot', async (t) => {
  // float32 weights whatever the page's default (the reference is models/ui-en-fr; the int8
  // variant is weights.test.mjs's); reloads keep the URL
  await page.goto(`${origin}/?weights=f32${MAIN === 'dates' ? '&model=dates' : ''}`);
  await waitReady(MAIN);
  assert.match(await page.textContent('#load-text'), /downloaded · ready in \d+ ms/);
  assert.ok(modelHits.some((u) => u.includes(`/${MAIN}/`)), 'the first visit downloads the model');
  const texts = await page.evaluate(() => window.__loadTexts);
  assert.ok(texts.some((x) => /^[\d.]+ [kM]B \/ [\d.]+ [kM]B \(\d+ %\)$/.test(x)), `progress in bytes and %: ${texts.join(' | ')}`);
  assert.equal(await page.$eval('#progress', (p) => p.value / p.max), 1);

  let last;
  for (const s of SENTENCES[MAIN]) last = await checkResult(MAIN, await translate(s).then(() => s));
  assertClean();

  await t.test('a second visit reads the model from Cache Storage: no model request', async () => {
    const hits = modelHits.length, seen = [];
    const onRequest = (r) => { if (r.url().includes('.safetensors')) seen.push(r.url()); };
    context.on('request', onRequest);
    try {
      await page.reload();
      await waitReady(MAIN);
    } finally {
      context.off('request', onRequest);
    }
    assert.deepEqual(seen, [], 'the browser requested no model file');
    assert.equal(modelHits.length, hits, 'the server sent no model file');
    assert.match(await page.textContent('#load-text'), /from cache · ready in \d+ ms/);
    // The cache key: the server's manifest gives each model's size and SHA-256.
    const { models } = await (await fetch(`${origin}/models/manifest.json`)).json();
    const bytes = readFileSync(modelFile(MAIN));
    assert.deepEqual(models[MAIN], { path: `${MAIN}/model.safetensors`, bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex') });
    await translate(SENTENCES[MAIN][0]);
    await checkResult(MAIN, SENTENCES[MAIN][0]);
  });

  await t.test('hovering a cell highlights its source and target tokens', async () => {
    const first = await nodeTranslate(MAIN, PICTURE[MAIN], await pageParams());
    await translate(PICTURE[MAIN]);
    const a = first.alignment;
    const i = Math.floor((a.rows - 1) / 2);
    let j = 0;
    for (let k = 1; k < a.cols; k++) if (a.weights[i * a.cols + k] > a.weights[i * a.cols + j]) j = k;
    await page.hover(`td.cell[data-row="${i}"][data-col="${j}"]`);
    const hl = await page.evaluate(([i, j]) => ({
      cell: document.querySelector(`td.cell[data-row="${i}"][data-col="${j}"]`).classList.contains('hl-cell'),
      src: [...document.querySelectorAll('#src-tokens .tok.hl')].map((e) => Number(e.dataset.i)),
      tgt: [...document.querySelectorAll('#tgt-tokens .tok.hl')].map((e) => Number(e.dataset.i)),
      rowHead: document.querySelector(`th.row-h[data-row="${i}"]`).classList.contains('hl'),
      colHead: document.querySelector(`th.col-h[data-col="${j}"]`).classList.contains('hl'),
    }), [i, j]);
    assert.deepEqual(hl, { cell: true, src: [j], tgt: [i], rowHead: true, colHead: true });
    // The README's picture is the default model's page, rewritten only on request (see the top).
    const shot = MAIN === 'ui-en-fr' && process.env.UPDATE_SCREENSHOT === '1'
      ? path.join(ROOT, 'web/screenshot.png') : path.join(OUT, 'screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    await page.mouse.move(0, 0);
  });

  await t.test('keyboard: Tab reaches every control', async () => {
    await page.focus('#model');
    const seen = new Set();
    for (let k = 0; k < 40; k++) {
      seen.add(await page.evaluate(() => {
        const e = document.activeElement;
        return e.id || (e.matches('td.cell') ? 'cell' : e.tagName.toLowerCase());
      }));
      await page.keyboard.press('Tab');
    }
    for (const id of ['model', 'input', 'go', 'beam', 'nbest', 'live', 'view-grid', 'unit-piece', 'export-png', 'export-json', 'cell'])
      assert.ok(seen.has(id), `Tab reaches ${id} (reached: ${[...seen].join(', ')})`);
  });

  await t.test('keyboard: arrow keys move the focused cell and its highlight', async () => {
    await page.focus('td.cell[tabindex="0"]');
    await page.keyboard.press('ArrowDown');
    const f = await page.evaluate(() => {
      const c = document.activeElement;
      return { row: c.dataset.row, col: c.dataset.col, hl: c.classList.contains('hl-cell') };
    });
    assert.deepEqual(f, { row: '1', col: '0', hl: true });
  });

  await t.test('word view, links view, JSON export', async () => {
    // Back to subwords and the heatmap even on a failure, so that the tests after it still run.
    try {
      const want = await nodeTranslate(MAIN, PICTURE[MAIN], await pageParams());
      await page.click('label[for="unit-word"]');
      const w = want.wordAlignment;
      // The words plus the source </s> as columns.
      assert.equal(await page.$$eval('#heatmap td.cell', (c) => c.length), w.rows * (w.cols + 1));
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
      const doc = JSON.parse(readFileSync(await dl.path(), 'utf8'));
      assert.equal(doc.output, want.text);
      assert.deepEqual(doc.source, [...w.sourceWords, '</s>']);
      assert.equal(doc.weights.length, w.rows);
      doc.weights.forEach((row, i) => {
        const sum = row.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) <= 1e-5, `word row ${i} sums to ${sum}`);
        for (let j = 0; j < w.cols; j++) assert.ok(Math.abs(row[j] - w.weights[i * w.cols + j]) <= 1e-6, 'the engine\'s word weights');
      });
      await page.click('label[for="unit-piece"]');
      await page.click('label[for="view-links"]');
      assert.ok(await page.$$eval('#links line.link', (l) => l.length) > 0);
      await page.hover('#links .ln-tok[data-side="tgt"][data-i="1"]');
      assert.ok(await page.$$eval('#links line.link.hl', (l) => l.length) > 0, 'hovering a target token marks its links');
      await page.locator('#links-wrap').screenshot({ path: path.join(OUT, 'links.png') });
      await page.mouse.move(0, 0);
      const [png] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
      assert.deepEqual([...readFileSync(await png.path()).subarray(1, 4)], [0x50, 0x4e, 0x47]);
      await png.saveAs(path.join(OUT, 'export.png'));
    } finally {
      await page.click('label[for="unit-piece"]');
      await page.click('label[for="view-grid"]');
    }
  });

  await t.test('search view: one column per step, the chosen path marked, hover and focus show scores', async () => {
    try {
      const want = await nodeTranslate(MAIN, PICTURE[MAIN], { ...await pageParams(), trace: true });
      const steps = want.trace.steps;
      await page.click('label[for="view-search"]');
      const tree = await page.$eval('#search-tree', (svg) => ({
        steps: Number(svg.dataset.steps),
        columns: svg.querySelectorAll('g.step').length,
        perColumn: [...svg.querySelectorAll('g.step')].map((g) => g.querySelectorAll('g.node').length),
        chosen: [...svg.querySelectorAll('g.node.chosen')].map((g) => [Number(g.dataset.step), g.querySelector('text').textContent]),
        chosenEdges: svg.querySelectorAll('path.edge.chosen').length,
        best: svg.querySelectorAll('g.node.chosen.finished[data-rank="0"]').length,
        nbest: svg.querySelectorAll('g.node.nbest').length,
        finished: svg.querySelectorAll('g.node.finished').length,
        pruned: svg.querySelectorAll('g.node.pruned').length,
      }));
      assert.equal(tree.steps, steps.length, 'data-steps');
      assert.equal(tree.columns, steps.length, 'one column per search step');
      assert.deepEqual(tree.perColumn, steps.map((s) => s.length), 'one node per ranked candidate');
      const cut = (p) => (p.length > 10 ? `${p.slice(0, 9)}…` : p);
      assert.deepEqual(tree.chosen, want.targetTokens.map((p, i) => [i, cut(p)]), 'the chosen path spells the output');
      assert.equal(tree.chosenEdges, want.targetTokens.length - 1);
      assert.equal(tree.best, 1, 'the best hypothesis ends the chosen path');
      assert.equal(tree.nbest, want.nbest.length);
      assert.equal(tree.finished, steps.flat().filter((n) => n.status === 'finished').length);
      assert.equal(tree.pruned, steps.flat().filter((n) => n.status === 'pruned').length);
      await page.hover('#search-tree g.node[data-rank="0"]');
      assert.match(await page.textContent('#search-info'), /"<\/s>", cumulative logp -?\d+\.\d{4}, finished, score -?\d+\.\d{4}, n-best #1$/);
      assert.equal(await page.$$eval('#search-tree g.node.on-path', (g) => g.length), want.targetTokens.length);
      await page.locator('#search-wrap').screenshot({ path: path.join(OUT, 'search.png') });
      await page.mouse.move(0, 0);
      await page.focus('#search-tree g.node[tabindex="0"]');
      await page.keyboard.press('ArrowLeft');
      assert.match(await page.textContent('#search-info'), new RegExp(`^step ${want.targetTokens.length - 1}: `));
    } finally {
      await page.click('label[for="view-grid"]');
    }
  });

  await t.test('translates as you type (debounced), without Enter', async () => {
    const text = SENTENCES[MAIN][2];
    await page.fill('#input', '');
    await page.type('#input', text, { delay: 15 });
    await page.waitForFunction((t) => document.getElementById('output').dataset.input === t &&
      document.body.dataset.busy === 'false', text, { timeout: 30_000 });
    await checkResult(MAIN, text);
  });

  await t.test('errors are shown in the page, and clear the previous result', async () => {
    const onScreen = () => page.evaluate(() => ({
      output: document.getElementById('output').textContent,
      stats: document.getElementById('stats').textContent,
      nbest: document.querySelectorAll('#nbest-list li').length,
      heatmap: document.querySelectorAll('#heatmap td.cell').length,
      tokens: document.querySelectorAll('#src-tokens .tok, #tgt-tokens .tok').length,
      exports: [...document.querySelectorAll('#export-png, #export-json')].map((b) => b.disabled),
    }));
    await translate(SENTENCES[MAIN][0]);
    const good = await onScreen();
    assert.ok(good.output && good.heatmap > 0 && good.tokens > 0, 'a result is shown first');
    await translate('x'.repeat(2100));
    assert.equal(await page.isVisible('#error'), true);
    assert.match(await page.textContent('#error'), /Input too long/);
    assert.deepEqual(await onScreen(), { output: '', stats: '', nbest: 0, heatmap: 0, tokens: 0, exports: [true, true] },
      'nothing of the previous sentence stays on screen');
    await page.click('label[for="view-links"]');
    assert.equal(await page.$$eval('#links line', (l) => l.length), 0, 'nor in the links view');
    await page.click('label[for="view-grid"]');
    await translate(SENTENCES[MAIN][1]);
    assert.equal(await page.isVisible('#error'), false);
    assert.ok((await onScreen()).heatmap > 0);
  });

  await t.test('a browser without WebAssembly SIMD128 gets a message in the page', async () => {
    // The worker as served, with WebAssembly.validate failing as it does without SIMD128.
    const workerJs = readFileSync(path.join(ROOT, 'web/worker.js'), 'utf8');
    const route = '**/worker.js';
    await context.route(route, (r) => r.fulfill({ status: 200, contentType: 'text/javascript',
      body: `WebAssembly.validate = () => false;\n${workerJs}` }));
    const p2 = await context.newPage();
    p2.on('console', (m) => { if (m.type() === 'error') problems.push(`console error (no-SIMD page): ${m.text()}`); });
    p2.on('pageerror', (e) => problems.push(`page error (no-SIMD page): ${e.message}`));
    try {
      await p2.goto(`${origin}/?model=dates`);
      await p2.waitForFunction(() => document.body.dataset.ready === 'error', null, { timeout: 30_000 });
      assert.match(await p2.textContent('#error'), /cannot run stele.*SIMD128/s);
      assert.equal(await p2.isDisabled('#input'), true);
    } finally {
      await p2.close();
      await context.unroute(route);
      // The service worker kept the doctored copy: fetch the real one through it again.
      await page.evaluate(() => fetch('worker.js').then((r) => r.text()));
    }
  });

  await t.test('without Cache Storage (an insecure context) the page downloads the model', async () => {
    // The worker as served, in a scope whose caches throws as it does outside a secure context.
    const workerJs = readFileSync(path.join(ROOT, 'web/worker.js'), 'utf8');
    const route = '**/worker.js';
    await context.route(route, (r) => r.fulfill({ status: 200, contentType: 'text/javascript',
      body: `Object.defineProperty(self, 'caches', { get() { throw new DOMException('insecure', 'SecurityError'); } });\n${workerJs}` }));
    const p2 = await context.newPage();
    p2.on('console', (m) => { if (m.type() === 'error') problems.push(`console error (no-cache page): ${m.text()}`); });
    p2.on('pageerror', (e) => problems.push(`page error (no-cache page): ${e.message}`));
    const hits = modelHits.length;
    try {
      await p2.goto(`${origin}/?model=dates`);
      await p2.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
      assert.match(await p2.textContent('#load-text'), /downloaded · ready/);
      assert.equal(await p2.isVisible('#error'), false);
      assert.deepEqual(modelHits.slice(hits).map((u) => u.split('?')[0]), ['/models/dates/model.safetensors']);
      // Nothing was kept: the cache (read from the page, where it works) has no dates model.
      assert.equal(await p2.evaluate(() => caches.open('stele-models-v1')
        .then((c) => c.keys()).then((k) => k.filter((r) => r.url.includes('/dates/')).length)), 0);
    } finally {
      await p2.close();
      await context.unroute(route);
      await page.evaluate(() => fetch('worker.js').then((r) => r.text()));
    }
  });

  await t.test('translating and reloading work offline once loaded', async () => {
    await context.setOffline(true);
    try {
      await translate(SENTENCES[MAIN][2]);
      await checkResult(MAIN, SENTENCES[MAIN][2]);
      // A reload with no network: the service worker's copies of the page, engine and model.
      await page.reload();
      await waitReady(MAIN);
      await translate(SENTENCES[MAIN][0]);
      await checkResult(MAIN, SENTENCES[MAIN][0]);
    } finally {
      await context.setOffline(false);
    }
  });

  await t.test('usable at 375 px wide; the picker labels fit at 375 and 1280 px', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(400);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page overflows by ${overflow} px at 375 px`);
    assert.deepEqual(await page.evaluate(pickerOverflow), [], 'picker labels at 375 px');
    await page.screenshot({ path: path.join(OUT, 'narrow.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForTimeout(400);
    assert.deepEqual(await page.evaluate(pickerOverflow), [], 'picker labels at 1280 px');
    await page.screenshot({ path: path.join(OUT, 'wide.png') });
    const light = await page.evaluate(contrastReport);
    assert.ok(light.checked > 20, `checked ${light.checked} texts`);
    assert.deepEqual(light.bad, [], 'light mode: text contrast >= 4.5:1');
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  await t.test('a model that fails to load is reported in the page', async () => {
    const other = MAIN === 'dates' ? 'ui-en-fr' : 'dates';
    const bad = `**/models/${other}/model.safetensors`;
    await context.route(bad, (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream',
      body: Buffer.from('not a safetensors file') }));
    try {
      await page.selectOption('#model', other);
      await page.waitForFunction(() => document.body.dataset.ready === 'error', null, { timeout: 30_000 });
      assert.equal(await page.isVisible('#error'), true);
      assert.match(await page.textContent('#error'), /model failed to load/);
      assert.equal(await page.isDisabled('#input'), true);
    } finally {
      await context.unroute(bad);
    }
    await page.selectOption('#model', MAIN);
    await waitReady(MAIN);
    assert.equal(await page.isVisible('#error'), false);
  });

  await t.test('switching to the dates model (a cached copy the engine refuses is replaced)', async () => {
    // A broken copy under the current hash's key: the page must delete it and download the model;
    // and a copy of an older version (another hash), which the new copy must replace.
    const kept = () => page.evaluate(async () => {
      const c = await caches.open('stele-models-v1');
      const out = [];
      for (const k of await c.keys()) if (k.url.includes('/dates/')) out.push((await (await c.match(k)).arrayBuffer()).byteLength);
      return out;
    });
    await page.evaluate(async () => {
      const { models } = await (await fetch('/models/manifest.json')).json();
      const c = await caches.open('stele-models-v1');
      const url = new URL('/models/dates/model.safetensors', location.href);
      await c.put(`${url}?sha256=${'0'.repeat(64)}`, new Response('an older version'));
      await c.put(`${url}?sha256=${models.dates.sha256}`, new Response('not a safetensors file'));
    });
    assert.deepEqual(await kept(), [16, 22]);
    const hits = modelHits.length;
    await page.selectOption('#model', 'dates');
    await waitReady('dates');
    assert.match(await page.textContent('#load-text'), /downloaded · ready/);
    assert.equal(modelHits.length, hits + 1);
    assert.deepEqual(await kept(), [readFileSync(modelFile('dates')).length], 'the good copy replaced the broken one');
    await translate(DATE);
    const want = await checkResult('dates', DATE);
    assert.match(want.text, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(want.lowConfidence, false);
    assert.equal(await page.isVisible('#forms'), true, 'the dates model lists its forms');
    await translate(NOT_A_DATE);
    assert.equal((await checkResult('dates', NOT_A_DATE)).lowConfidence, true);
    assert.equal(await page.isVisible('#low-confidence'), true);
    await page.screenshot({ path: path.join(OUT, 'dates.png'), fullPage: true });
  });

  // The study's baseline: the same recipe without attention. The page translates with it and
  // says there is no attention to draw instead of drawing an empty heatmap.
  await t.test('the no-attention model (ui-en-fr-none): same text as the Node API, no heatmap', { skip: !existsSync(modelFile('ui-en-fr-none')) }, async () => {
    await page.selectOption('#model', 'ui-en-fr-none');
    await waitReady('ui-en-fr-none');
    const text = 'Open the file';
    await translate(text);
    const want = await nodeTranslate('ui-en-fr-none', text, await pageParams());
    assert.equal(want.alignment, null, 'the engine gives no attention for this model');
    assert.equal(await page.textContent('#output'), want.text);
    assert.equal(await page.$$eval('#heatmap td.cell', (c) => c.length), 0);
    assert.match(await page.textContent('#grid-wrap'), /No attention to show/);
  });

  await t.test('dark mode (prefers-color-scheme): dark background, text contrast >= 4.5:1', async () => {
    const p2 = await context.newPage();
    p2.on('console', (m) => { if (m.type() === 'error') problems.push(`console error (dark page): ${m.text()}`); });
    p2.on('pageerror', (e) => problems.push(`page error (dark page): ${e.message}`));
    try {
      await p2.emulateMedia({ colorScheme: 'dark' });
      await p2.goto(`${origin}/?model=dates`);
      await p2.waitForFunction(() => document.body.dataset.ready === 'true' &&
        document.querySelectorAll('#heatmap td.cell').length > 0, null, { timeout: 60_000 });
      const dark = await p2.evaluate(contrastReport);
      assert.ok(dark.bodyBg < 0.05, `body background luminance ${dark.bodyBg.toFixed(3)} is dark`);
      assert.ok(dark.checked > 20, `checked ${dark.checked} texts`);
      assert.deepEqual(dark.bad, [], 'dark mode: text contrast >= 4.5:1');
      await p2.screenshot({ path: path.join(OUT, 'dark.png'), fullPage: true });
      await p2.setViewportSize({ width: 375, height: 800 });
      await p2.waitForTimeout(300);
      await p2.screenshot({ path: path.join(OUT, 'dark-narrow.png'), fullPage: true });
    } finally {
      await p2.close();
    }
  });

  assertClean();
  writeFileSync(path.join(OUT, 'result.json'), JSON.stringify({ main: MAIN, last: last.text }, null, 1));
});
