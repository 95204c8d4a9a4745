// End-to-end test of the translation view's Weights switch (issue 14): float32 or int8 weights
// for a model that has both (ui-en-fr and ui-en-fr-int8), each with its download size, in
// Debian's Chromium (make e2e runs every file here). Every expected size comes from the server's
// /models/manifest.json and the files themselves, every expected output from the Node API with
// the same model file. Skipped when either model is missing. Writes build/e2e/weights-*.png.
//
// The service worker is blocked in this browser so that routes see every request of the page
// (web/sw.js and offline reloads are page.test.mjs's); the worker's model cache still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Translator } from '../../src/js/stele.js';
import { contrastReport, startBrowser } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODELS = path.resolve(process.env.STELE_MODELS_DIR || path.join(ROOT, 'models'));
const modelFile = (m) => path.join(MODELS, m, 'model.safetensors');
// The picker's model and the file of each kind of weights (web/translate-view.js, WEIGHTS).
const BASE = 'ui-en-fr';
const FILES = { f32: 'ui-en-fr', int8: 'ui-en-fr-int8' };
const HAVE = Object.values(FILES).every((m) => existsSync(modelFile(m)));
const OUT = path.join(ROOT, 'build/e2e');
// Inputs from the ui-en-fr test split; the test uses the first one whose beam-5 output differs
// between the two kinds of weights (the Node API says which), so that a page that loaded the
// wrong file fails on the text, not only on the scores.
const CANDIDATES = ['tone', 'Smaller', 'Fancy Date Format', 'Unified interaction', 'Notebookbar:'];
const PLAIN = 'Save the document';

let browser, origin, context, page, problems, modelHits, watch;
const translators = {};

async function nodeTranslate(model, text, opts) {
  translators[model] ??= await Translator.load(modelFile(model));
  return translators[model].translate(text, opts);
}

// The page's size format (web/common.js fmtBytes): decimal units.
const fmtBytes = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);
const fmtScore = (x) => (Math.abs(x) < 0.001 && x !== 0 ? x.toExponential(1) : x.toFixed(3));

before(async () => {
  if (!HAVE) return;
  mkdirSync(OUT, { recursive: true });
  browser = await startBrowser({ name: 'weights', serviceWorkers: 'block' });
  ({ origin, context, page, problems, modelHits, watch } = browser);
});

after(async () => {
  await browser?.close();
  for (const t of Object.values(translators)) t.dispose();
});

const waitReady = (p, model) => p.waitForFunction((m) => document.body.dataset.ready === 'true' &&
  document.body.dataset.model === m, model, { timeout: 90_000 });

// Waits for the main output (and the compare pane's, when shown) of exactly `text`.
const waitOutput = (p, text) => p.waitForFunction((t) => {
  const none = document.getElementById('out-none');
  return document.getElementById('output').dataset.input === t && document.body.dataset.busy === 'false' &&
    (none.hidden || (none.dataset.input === t && none.dataset.busy === 'false'));
}, text, { timeout: 90_000 });

async function translate(p, text) {
  await p.fill('#input', text);
  await p.press('#input', 'Enter');
  await waitOutput(p, text);
}

async function pageParams(p) {
  return { beam: Number(await p.inputValue('#beam')), nbest: Number(await p.inputValue('#nbest')) };
}

// The switch as shown: visibility, and per kind whether it is checked, its label and data-bytes.
const readSwitch = (p) => p.evaluate(() => {
  const kinds = {};
  for (const input of document.querySelectorAll('input[name="weights"]')) {
    const label = input.labels[0];
    kinds[input.value] = { checked: input.checked, label: label.textContent.replace(/\s+/g, ' ').trim(),
      bytes: label.querySelector('.size').dataset.bytes };
  }
  return { row: document.getElementById('weights-row').checkVisibility(),
    desc: document.getElementById('weights-desc').checkVisibility(), kinds };
});

const LABEL = { f32: 'float32', int8: 'int8' };

// The main output equals the Node API's translation of `text` with `model`: the text, the n-best
// hypotheses with their scores, and each word's probability (data-p, from the token log-probs).
async function checkOutput(p, model, text) {
  const want = await nodeTranslate(model, text, await pageParams(p));
  const shown = await p.evaluate(() => ({
    text: document.getElementById('output').textContent,
    nbest: [...document.querySelectorAll('#nbest-list li')].map((li) =>
      [li.querySelector('.hyp').textContent, li.querySelector('.score').textContent]),
    p: [...document.querySelectorAll('#output .word')].map((e) => Number(e.dataset.p)),
    stats: document.getElementById('stats').textContent,
  }));
  assert.equal(shown.text, want.text, `${model}: "${text}"`);
  if (want.nbest.length > 1) {
    assert.deepEqual(shown.nbest, want.nbest.map((h) => [h.text, `score ${fmtScore(h.score)} · log p ${fmtScore(h.logp)}`]),
      `${model}: "${text}" n-best and scores`);
  }
  assert.ok(shown.stats.endsWith(`score ${fmtScore(want.score)}`), `${model}: "${shown.stats}" ends with the score`);
  const w = want.wordAlignment, logp = w.targetWords.map(() => 0);
  want.targetTokens.forEach((_, t) => { if (w.targetWordOfPiece[t] >= 0) logp[w.targetWordOfPiece[t]] += want.tokenLogp[t]; });
  assert.equal(shown.p.length, logp.length, `${model}: "${text}" one span per word`);
  shown.p.forEach((x, k) => assert.ok(Math.abs(x - Math.exp(logp[k])) <= 5e-5, `${model}: word ${k} p ${x} vs ${Math.exp(logp[k])}`));
  return want;
}

test('the Weights switch: float32 or int8 for ui-en-fr, with download sizes', { skip: !HAVE && 'needs models/ui-en-fr and models/ui-en-fr-int8', timeout: 900_000 }, async (t) => {
  await page.goto(`${origin}/`);
  // The page's default kind (a constant the lead flips once int8 meets the quality bar).
  const DEFAULT = await page.evaluate(() => import(new URL('translate-view.js', location.href).href).then((m) => m.DEFAULT_WEIGHTS));
  assert.ok(DEFAULT in FILES, `DEFAULT_WEIGHTS ${DEFAULT}`);
  const OTHER = DEFAULT === 'f32' ? 'int8' : 'f32';
  // The radios are f32 then int8: the arrow key from one to the other.
  const toward = { int8: 'ArrowRight', f32: 'ArrowLeft' };
  await waitReady(page, FILES[DEFAULT]);

  // The sentence whose output differs between the two kinds, with the page's beam and n-best.
  const params = await pageParams(page);
  let DIFF = null;
  for (const s of CANDIDATES) {
    const [a, b] = await Promise.all([nodeTranslate(FILES.f32, s, params), nodeTranslate(FILES.int8, s, params)]);
    if (a.text !== b.text) { DIFF = s; break; }
  }
  assert.ok(DIFF, `one of ${CANDIDATES.join(' | ')} translates differently with int8 weights (beam ${params.beam})`);

  await t.test('shown for ui-en-fr: each size is the manifest\'s and the file\'s, the default checked', async () => {
    const { models } = await (await fetch(`${origin}/models/manifest.json`)).json();
    await page.waitForFunction(() => [...document.querySelectorAll('#weights .size')].every((s) => s.dataset.bytes), null, { timeout: 30_000 });
    const sw = await readSwitch(page);
    assert.equal(sw.row, true, 'the switch is shown');
    assert.equal(sw.desc, true, 'and what int8 means');
    assert.deepEqual(Object.keys(sw.kinds), ['f32', 'int8']);
    for (const [kind, file] of Object.entries(FILES)) {
      const bytes = models[file].bytes;
      assert.equal(bytes, statSync(modelFile(file)).size, `the manifest's ${file} is the file's size`);
      assert.equal(sw.kinds[kind].bytes, String(bytes), `${kind}: data-bytes`);
      assert.equal(sw.kinds[kind].label, `${LABEL[kind]} · ${fmtBytes(bytes)}`, `${kind}: label`);
      assert.equal(sw.kinds[kind].checked, kind === DEFAULT, `${kind}: checked`);
    }
    assert.ok(models[FILES.int8].bytes * 3 < models[FILES.f32].bytes, 'int8 is the smaller download');
    assert.equal(await page.evaluate(() => document.body.dataset.weights), DEFAULT);
    assert.match(await page.textContent('#model-info'), new RegExp(`^ui-en-fr: [\\d.]+ M parameters · ${LABEL[DEFAULT]} weights · `));
    await translate(page, PLAIN);
    await checkOutput(page, FILES[DEFAULT], PLAIN);
  });

  await t.test('keyboard: Tab from the picker reaches the switch, an arrow key loads the other weights', async () => {
    await translate(page, DIFF);
    const before = await checkOutput(page, FILES[DEFAULT], DIFF);
    await page.focus('#model');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), `weights-${DEFAULT}`, 'Tab lands on the checked kind');
    const hits = modelHits.length;
    await page.keyboard.press(toward[OTHER]);
    await waitReady(page, FILES[OTHER]);
    assert.deepEqual(modelHits.slice(hits), [`/models/${FILES[OTHER]}/model.safetensors`], 'the other file is downloaded');
    assert.equal(await page.evaluate(() => document.activeElement.id), `weights-${OTHER}`, 'focus stays on the switch');
    assert.equal(await page.isChecked(`#weights-${OTHER}`), true);
    assert.equal(await page.inputValue('#model'), BASE, 'the picker still says ui-en-fr');
    assert.equal(await page.evaluate(() => document.body.dataset.weights), OTHER);
    assert.match(await page.textContent('#model-info'), new RegExp(` · ${LABEL[OTHER]} weights · `));
    assert.match(await page.textContent('#load-text'), /downloaded · ready in \d+ ms/);
    // The input is kept and translated again with the new weights.
    await waitOutput(page, DIFF);
    const after = await checkOutput(page, FILES[OTHER], DIFF);
    assert.notEqual(after.text, before.text, 'the output changed with the weights');
    for (const s of [PLAIN, 'Open a new window']) {
      await translate(page, s);
      await checkOutput(page, FILES[OTHER], s);
    }
    await page.screenshot({ path: path.join(OUT, `weights-${OTHER}.png`), fullPage: true });
  });

  await t.test('the choice is kept: a reload loads the same weights, from the cache', async () => {
    const hits = modelHits.length;
    await page.reload();
    await waitReady(page, FILES[OTHER]);
    assert.deepEqual(modelHits.slice(hits), [], 'no model downloaded');
    assert.match(await page.textContent('#load-text'), /from cache · ready in \d+ ms/);
    assert.equal(await page.isChecked(`#weights-${OTHER}`), true);
    // A first load starts with the model's first example, the variant's too.
    const first = await page.textContent('#examples .chip');
    assert.ok(first, 'ui-en-fr has examples');
    assert.equal(await page.inputValue('#input'), first);
    await waitOutput(page, first);
    await checkOutput(page, FILES[OTHER], first);
  });

  await t.test('compare with no attention works with either weights; its twin is loaded once', async () => {
    await page.check('#compare');
    for (const kind of [OTHER, DEFAULT]) {
      if (kind === DEFAULT) {
        await page.focus(`#weights-${OTHER}`);
        await page.keyboard.press(toward[DEFAULT]);
        await waitReady(page, FILES[DEFAULT]);
      }
      await translate(page, DIFF);
      await checkOutput(page, FILES[kind], DIFF);
      const none = await nodeTranslate('ui-en-fr-none', DIFF, { ...await pageParams(page), trace: false });
      assert.equal(await page.textContent('#output-none'), none.text, `${kind}: the twin's output`);
      assert.equal(await page.textContent('#out-label'), `With attention: ${FILES[kind]}`);
    }
    assert.equal(modelHits.filter((u) => u.includes('/ui-en-fr-none/')).length, 1, 'ui-en-fr-none downloaded once');
    await page.uncheck('#compare');
  });

  await t.test('hidden for dates (one kind of weights); back to ui-en-fr keeps the kind', async () => {
    await page.focus(`#weights-${DEFAULT}`);
    await page.keyboard.press(toward[OTHER]);
    await waitReady(page, FILES[OTHER]);
    await page.selectOption('#model', 'dates');
    await waitReady(page, 'dates');
    const sw = await readSwitch(page);
    assert.equal(sw.row, false, 'no switch for dates');
    assert.equal(sw.desc, false);
    assert.match(await page.textContent('#model-info'), /^dates: [\d.]+ M parameters · float32 weights · /);
    await page.selectOption('#model', BASE);
    await waitReady(page, FILES[OTHER]);
    assert.equal((await readSwitch(page)).row, true);
    assert.equal(await page.isChecked(`#weights-${OTHER}`), true);
  });

  await t.test('?model=ui-en-fr-int8 and ?weights= in the URL', async () => {
    await page.goto(`${origin}/?model=${FILES.int8}`);
    await waitReady(page, FILES.int8);
    assert.equal(await page.inputValue('#model'), BASE);
    assert.equal(await page.isChecked('#weights-int8'), true);
    await page.goto(`${origin}/?weights=f32`);
    await waitReady(page, FILES.f32);
    assert.equal(await page.isChecked('#weights-f32'), true);
  });

  await t.test('375 px wide and dark mode: nothing cut off, text contrast >= 4.5:1', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(300);
    const cut = await page.evaluate(() => {
      const out = [`page: ${document.documentElement.scrollWidth - window.innerWidth}`];
      for (const el of document.getElementById('model-h').closest('section').querySelectorAll('*'))
        if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth) out.push(`${el.tagName.toLowerCase()}#${el.id}`);
      const row = document.getElementById('weights-row').getBoundingClientRect();
      const card = document.getElementById('model-h').closest('section').getBoundingClientRect();
      const labels = [...document.querySelectorAll('#weights label')].map((l) => l.getBoundingClientRect());
      if (labels.some((r) => r.right > card.right || r.left < card.left) || row.right > card.right) out.push('a label outside the card');
      return out;
    });
    assert.deepEqual(cut, ['page: 0'], 'no overflow at 375 px');
    await page.locator('#model-h').locator('..').screenshot({ path: path.join(OUT, 'weights-narrow.png') });
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      const c = await page.evaluate(contrastReport);
      assert.deepEqual(c.bad, [], `${scheme}: text contrast`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  await t.test('no manifest: the sizes are unknown, except the loaded file\'s (the engine counts it)', async () => {
    const p2 = await context.newPage();
    watch(p2, ' (no-manifest page)', (m) => /manifest\.json/.test(m.location()?.url ?? '') && /404/.test(m.text()));
    await p2.route('**/models/manifest.json', (r) => r.fulfill({ status: 404, body: 'not found' }));
    try {
      await p2.goto(`${origin}/?model=${FILES.int8}`);
      await waitReady(p2, FILES.int8);
      await p2.waitForFunction(() => document.querySelector('label[for="weights-f32"] .size').textContent !== '', null, { timeout: 30_000 });
      const sw = await readSwitch(p2);
      assert.deepEqual(sw.kinds.f32, { checked: false, label: 'float32 · size unknown', bytes: '' });
      const bytes = statSync(modelFile(FILES.int8)).size;
      assert.deepEqual(sw.kinds.int8, { checked: true, label: `int8 · ${fmtBytes(bytes)}`, bytes: String(bytes) });
    } finally {
      await p2.close();
    }
  });

  assert.deepEqual(problems, [], 'no console errors and no request to another origin');
});
