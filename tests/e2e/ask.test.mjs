// End-to-end test of the Images view's Ask mode (make e2e): Debian's Chromium, driven by
// playwright-core, against scripts/serve.mjs on 127.0.0.1. For several shipped scenes and every
// example question the page offers, and for a scene composed by keyboard, the page's answer, top
// 3 probabilities and glimpse maps equal the Node API's (Answerer) on the same pixels and
// question (nothing here is a hard-coded answer: the model may be retrained); the examples are
// the templates' (web/questions.js) and use only words of the model's vocabulary (its
// tokenizer.words, read here from the file); the overlay is exactly the API's glimpses drawn by
// heatmap.js, in two colours, each toggled by its labelled checkbox from the keyboard; an unknown
// word's error names it; the mode switch; 375 px; contrast in both schemes; offline reload.
// Fails on any console error, page error, or request that leaves the origin.
// models/scenes-vqa is the model; without it, the tiny random-weight VQA model
// (tests/golden/tiny/vqa-tiny.safetensors, also 84 x 84, 20 words) stands in, served as
// scenes-vqa from a temporary models folder (its answers are noise and most template words are
// unknown to it, but the page must still show exactly the API's).
//
// The README's picture: `UPDATE_SCREENSHOT=1 node --test tests/e2e/ask.test.mjs` (with the real
// model) rewrites web/screenshot-ask.png: a relational question about a shipped scene answered
// with both glimpses drawn (the scene and question are chosen here from the model's own answers:
// see 'README picture'). Every run writes build/e2e/ask*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Answerer } from '../../src/js/stele.js';
import { composeScene, contrastReport, decodeGrayPng } from './helpers.mjs';
import { readTensors } from '../js/common.js';
import { allQuestions, exampleQuestions, questionWords, TYPES } from '../../web/questions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.STELE_CHROMIUM || '/usr/bin/chromium';
const REAL = path.join(process.env.STELE_MODELS_DIR || path.join(ROOT, 'models'), 'scenes-vqa/model.safetensors');
const HAVE_REAL = existsSync(REAL);
const TINY = path.join(ROOT, 'tests/golden/tiny/vqa-tiny.safetensors');
const MODEL = HAVE_REAL ? REAL : TINY;
const OUT = path.join(ROOT, 'build/e2e');
const SCENES = JSON.parse(readFileSync(path.join(ROOT, 'web/scenes/scenes.json'), 'utf8'));
// The model's word list, from its file (models/FORMAT.md: tokenizer.words).
const VOCAB = new Set(Buffer.from(readTensors(MODEL)['tokenizer.words'].data).toString('utf8').split('\n'));
const known = (q) => questionWords(q.text).every((w) => VOCAB.has(w));
const layoutOf = (items) => {
  const l = new Array(9).fill(null);
  for (const it of items) l[it.cell] = it.class;
  return l;
};
// The page's probability format (ask-view.js fmtProb).
const fmtProb = (p) => (p >= 0.0005 ? `${(100 * p).toFixed(1)} %` : '< 0.1 %');

let server, origin, browser, context, page, tmpModels, answerer, atlas;
const problems = [];

before(async () => {
  mkdirSync(OUT, { recursive: true });
  if (!HAVE_REAL) {
    tmpModels = mkdtempSync(path.join(tmpdir(), 'stele-e2e-models-'));
    mkdirSync(path.join(tmpModels, 'scenes-vqa'));
    copyFileSync(TINY, path.join(tmpModels, 'scenes-vqa/model.safetensors'));
    // the Caption mode, which the switch test opens: the tiny caption model when the real one is absent
    mkdirSync(path.join(tmpModels, 'scenes-caption'));
    const cap = path.join(ROOT, 'models/scenes-caption/model.safetensors');
    copyFileSync(existsSync(cap) ? cap : path.join(ROOT, 'tests/golden/tiny/caption-tiny.safetensors'),
      path.join(tmpModels, 'scenes-caption/model.safetensors'));
    process.env.STELE_MODELS_DIR = tmpModels;
  }
  // serve.mjs reads STELE_MODELS_DIR when it is imported
  const { createStaticServer } = await import('../../scripts/serve.mjs');
  server = createStaticServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${server.address().port}`;
  answerer = await Answerer.load(MODEL);
  atlas = await decodeGrayPng(readFileSync(path.join(ROOT, 'web/scenes/sprites.png')));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  context.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin + '/') && !/^(data|blob):/.test(u)) problems.push(`request to another origin: ${u}`);
  });
  page = await context.newPage();
  watch(page, '');
});

after(async () => {
  await browser?.close();
  server?.close();
  answerer?.dispose();
  if (tmpModels) rmSync(tmpModels, { recursive: true, force: true });
});

function watch(p, what) {
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error${what}: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`page error${what}: ${e.message}`));
}

// Waits until the answer on screen is the newest request's (for question q and scene id when
// given), and returns what the page shows and the pixels it answered about (read back from its
// 84 x 84 canvas, opaque gray: exact).
async function asked(want = {}, p = page) {
  await p.waitForFunction(({ q, scene }) => {
    const a = document.getElementById('answer');
    return document.body.dataset.askReady === 'true' && document.body.dataset.askBusy === 'false' &&
      a.dataset.question !== undefined && (q === undefined || a.dataset.question === q) &&
      (scene === undefined || a.dataset.scene === scene);
  }, { q: want.question, scene: want.scene }, { timeout: 30_000 });
  return p.evaluate(() => {
    const c = document.getElementById('scene-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const gray = [];
    for (let i = 0; i < d.length; i += 4) gray.push(d[i]);
    const a = document.getElementById('answer');
    return {
      question: a.dataset.question,
      scene: a.dataset.scene,
      answer: a.dataset.answer,
      text: a.textContent,
      glimpses: a.dataset.glimpses ? JSON.parse(a.dataset.glimpses) : null,
      top: [...document.querySelectorAll('#answer-top li')].map((li) => ({ answer: li.dataset.answer, prob: Number(li.dataset.prob),
        shown: [li.querySelector('.ans').textContent, li.querySelector('.prob').textContent] })),
      truth: document.getElementById('ask-truth').textContent,
      error: document.getElementById('ask-error').hidden ? '' : document.getElementById('ask-error').textContent,
      examples: [...document.querySelectorAll('#ask-examples .chip')].map((b) => b.textContent),
      gray,
    };
  });
}

// The page's answer is the Node API's for the same pixels and question: the answer, the top 3
// (answers, probabilities, as shown) and every glimpse weight, exactly (the same engine).
function checkAnswer(shown, what) {
  const want = answerer.answer({ data: Uint8Array.from(shown.gray), width: 84, height: 84, channels: 1 }, shown.question);
  assert.equal(shown.error, '', `${what}: no error`);
  assert.equal(shown.answer, want.answer, `${what}: the page's answer is the Node API's`);
  assert.equal(shown.text, want.answer);
  assert.deepEqual(shown.top.map((t) => [t.answer, t.prob]), want.top.slice(0, 3).map((t) => [t.answer, t.prob]),
    `${what}: the top 3 answers and probabilities`);
  assert.deepEqual(shown.top.map((t) => t.shown), want.top.slice(0, 3).map((t) => [t.answer, fmtProb(t.prob)]), `${what}: as shown`);
  assert.deepEqual(shown.glimpses, Array.from(want.glimpses), `${what}: the glimpse maps`);
  return want;
}

// The overlay canvas, summed up in the page (its 336 x 336 RGBA bytes are too many to bring
// over for every check): how many pixels are not transparent, a FNV-1a hash of the bytes, and
// the colour of its most opaque pixel.
const overlay = (p = page) => p.evaluate(() => {
  const c = document.getElementById('overlay');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let alpha = 0, hash = 2166136261, best = 3;
  for (let i = 0; i < d.length; i++) hash = Math.imul(hash ^ d[i], 16777619) >>> 0;
  for (let i = 3; i < d.length; i += 4) {
    if (d[i] > 0) alpha++;
    if (d[i] > d[best]) best = i;
  }
  // the most opaque pixel: its colour, and its place on the feature grid (a W x H canvas over
  // a gw x gh grid: pixel x is in column floor(x * gw / W))
  const px = (best - 3) / 4;
  return { alpha, hash, peak: [d[best - 3], d[best - 2], d[best - 1]], at: [(px % c.width) / c.width, Math.floor(px / c.width) / c.height] };
});

// How many bytes of the overlay differ from heatmap.js's drawing of these glimpses (the Node
// API's) with these toggles, drawn in the page on a canvas of the overlay's size.
const overlayDiff = (want, show, p = page) => p.evaluate(async ({ glimpses, G, gh, gw, show }) => {
  const { drawGlimpses } = await import('/heatmap.js');
  const ov = document.getElementById('overlay');
  const c = new OffscreenCanvas(ov.width, ov.height);
  drawGlimpses(c, glimpses, G, gh, gw, show);
  const a = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const b = ov.getContext('2d').getImageData(0, 0, ov.width, ov.height).data;
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}, { glimpses: Array.from(want.glimpses), G: want.glimpseCount, gh: want.gridHeight, gw: want.gridWidth, show });

// The cell (0..8) of a glimpse's strongest place (its centre's third of the image).
function peakCell(want, g) {
  const S = want.gridHeight * want.gridWidth;
  let best = 0;
  for (let k = 1; k < S; k++) if (want.glimpses[g * S + k] > want.glimpses[g * S + best]) best = k;
  const r = Math.floor(best / want.gridWidth), c = best % want.gridWidth;
  return 3 * Math.floor(((r + 0.5) / want.gridHeight) * 3) + Math.floor(((c + 0.5) / want.gridWidth) * 3);
}

async function pickScene(id, p = page) {
  await p.selectOption('#scene', id);
  await p.waitForFunction((s) => document.getElementById('ask-examples').dataset.scene === s, id);
}

async function ask(question, p = page) {
  await p.fill('#question', question);
  await p.press('#question', 'Enter');
  return asked({ question, scene: await p.inputValue('#scene') }, p);
}

test('the Ask mode: answers, top 3 and glimpses as the API\'s; examples; toggles; errors; 375 px; offline', async (t) => {
  await page.goto(`${origin}/?view=images&mode=ask`);
  let shown = await asked({ scene: SCENES.scenes[0].id });
  assert.equal(await page.isChecked('#mode-ask'), true);
  assert.equal(await page.isVisible('#caption-mode'), false, 'the Caption panel is hidden');
  assert.equal(await page.isVisible('#img-load'), false, 'the caption model\'s progress is hidden');
  assert.equal(await page.evaluate(() => document.body.dataset.imgReady), undefined, 'the caption model is not loaded in the Ask mode');
  assert.equal(shown.question, shown.examples[0], 'the first example is asked at first');
  checkAnswer(shown, 'the first example');
  assert.match(await page.textContent('#ask-model-info'), /scenes-vqa|vqa/);
  assert.match(await page.textContent('#ask-stats'), /^answered in [\d.]+ ms · \d glimpses? over a \d+ × \d+ grid · \d+ possible answers$/);

  await t.test('shipped scenes: every example question, answered as the Node API answers it', async () => {
    const picks = [...new Set([0, 1, Math.floor(SCENES.scenes.length / 2), SCENES.scenes.length - 1])];
    const types = new Set();
    for (const k of picks) {
      const s = SCENES.scenes[k];
      await pickScene(s.id);
      shown = await asked({ scene: s.id });
      assert.deepEqual(shown.gray, Array.from(composeScene(s.items, atlas)), `${s.id}: pixels by the composition rule`);
      // the examples: the templates' for this layout, only those the model has every word of
      const layout = layoutOf(s.items);
      const want = exampleQuestions(layout, SCENES).filter(known);
      assert.deepEqual(shown.examples, want.map((q) => q.text), `${s.id}: the examples`);
      const truths = allQuestions(layout, SCENES);
      for (let i = 0; i < want.length; i++) {
        await page.click(`#ask-examples .chip >> nth=${i}`);
        shown = await asked({ question: want[i].text, scene: s.id });
        const got = checkAnswer(shown, `${s.id}: "${want[i].text}"`);
        assert.ok(!got.question.includes('<unk>'), `${s.id}: "${want[i].text}": every word known to the model`);
        assert.equal(shown.truth, `The scene's answer (from its layout): ${truths.find((q) => q.text === want[i].text).answer}`);
        types.add(want[i].type);
      }
    }
    if (HAVE_REAL) assert.deepEqual([...types].sort(), [...TYPES].sort(), 'the examples cover all five types');
  });

  await t.test('examples use only the model\'s words, for every shipped scene and an empty one', () => {
    for (const items of [...SCENES.scenes.map((s) => s.items), []]) {
      const qs = exampleQuestions(layoutOf(items), SCENES);
      assert.ok(qs.length >= 3, 'a few examples');
      // with the shipped model (trained on these templates) none is left out
      if (HAVE_REAL) assert.deepEqual(qs.filter((q) => !known(q)).map((q) => q.text), []);
      for (const q of qs.filter(known))
        assert.ok(!answerer.answer({ data: composeScene(items, atlas), width: 84, height: 84 }, q.text).question.includes('<unk>'));
    }
  });

  await t.test('the glimpses: the API\'s maps in two colours, each toggled by its labelled checkbox, by keyboard', async () => {
    shown = await ask(shown.question);
    const want = checkAnswer(shown, 'toggles');
    const G = want.glimpseCount;
    assert.equal(G, 2, 'two glimpses');
    for (let g = 0; g < G; g++) {
      assert.equal(await page.isChecked(`#glimpse-${g}`), true, `glimpse ${g + 1} is shown at first`);
      assert.match(await page.textContent(`label:has(#glimpse-${g})`), new RegExp(`Glimpse ${g + 1} \\(\\w+\\)`));
      const place = SCENES.places[peakCell(want, g)].replace(/^(in|at|on) the /, '');
      assert.match(await page.textContent(`#glimpse-info-${g}`), new RegExp(`^looked most at the ${place} \\(peak weight [\\d.]+ of the \\d+ places\\)$`));
    }
    // A glimpse drawn alone is most opaque on (one of) its strongest places: the map is drawn
    // the right way round (this does not lean on heatmap.js, unlike overlayDiff).
    const S = want.gridHeight * want.gridWidth;
    const onPeak = (o, g) => {
      const k = Math.floor(o.at[1] * want.gridHeight) * want.gridWidth + Math.floor(o.at[0] * want.gridWidth);
      const row = want.glimpses.subarray(g * S, (g + 1) * S);
      return row[k] >= 0.999 * Math.max(...row);
    };
    assert.equal(await overlayDiff(want, [true, true]), 0, 'both glimpses: heatmap.js\'s drawing of the API\'s maps');
    assert.ok((await overlay()).alpha > 1000, 'the overlay covers part of the scene');
    // Tab from the question reaches both toggles; Space flips the focused one
    await page.focus('#question');
    const seen = [];
    for (let k = 0; k < 20 && !seen.includes('glimpse-1'); k++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => document.activeElement.id || document.activeElement.className));
    }
    assert.ok(seen.includes('ask') && seen.includes('chip') && seen.includes('glimpse-0') && seen.includes('glimpse-1'), `Tab order: ${seen.join(', ')}`);
    await page.focus('#glimpse-0');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('#glimpse-0'), false);
    const only2 = await overlay();
    assert.equal(await overlayDiff(want, [false, true]), 0, 'glimpse 2 alone');
    assert.equal(await page.getAttribute('#overlay', 'data-glimpses'), '1');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('#glimpse-1'), false);
    assert.equal((await overlay()).alpha, 0, 'both off: nothing drawn');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Space');
    const only1 = await overlay();
    assert.equal(await overlayDiff(want, [true, false]), 0, 'glimpse 1 alone');
    // two distinct colours: each glimpse's most opaque pixel has its own hue
    const [c1, c2] = [only1.peak, only2.peak];
    assert.ok(onPeak(only1, 0), `glimpse 1 is most opaque at its strongest place (${only1.at})`);
    assert.ok(onPeak(only2, 1), `glimpse 2 is most opaque at its strongest place (${only2.at})`);
    assert.ok(Math.abs(c1[0] - c2[0]) + Math.abs(c1[1] - c2[1]) + Math.abs(c1[2] - c2[2]) > 150, `distinct colours ${c1} and ${c2}`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    assert.equal(await overlayDiff(want, [true, true]), 0, 'both again');
    // the toggles hold for the next answer
    await page.click('#glimpse-1');
    shown = await ask(shown.examples.at(-1));
    const next = checkAnswer(shown, 'the last example');
    assert.equal(await overlayDiff(next, [true, false]), 0, 'glimpse 2 stays off');
    await page.click('#glimpse-1');
    await page.screenshot({ path: path.join(OUT, 'ask-glimpses.png'), fullPage: true });
  });

  await t.test('errors: an unknown word is named, no answer is shown; a known question clears it', async () => {
    shown = await ask('What is left of the frobnicator?');
    assert.match(shown.error, /does not know the word “frobnicator”\./);
    assert.equal(shown.answer, '', 'no answer');
    assert.deepEqual(shown.top, []);
    assert.equal(await page.getAttribute('#question', 'aria-invalid'), 'true');
    assert.equal((await overlay()).alpha, 0, 'no glimpses drawn');
    assert.equal(await page.isDisabled('#glimpse-0'), true);
    assert.equal(await page.evaluate(() => document.getElementById('ask-words').open), true, 'the known words are shown');
    shown = await ask('Wat is blorp of the BAG?');   // upper case is read in lower case; "of" and "bag" are known
    assert.match(shown.error, /does not know the words “wat”, “blorp”\./);
    await page.screenshot({ path: path.join(OUT, 'ask-error.png'), fullPage: true });
    // no words at all: said so, nothing is asked
    await page.fill('#question', '  ');
    await page.press('#question', 'Enter');
    assert.match(await page.textContent('#ask-error'), /Type a question/);
    // too long for the session (2000 bytes): the engine's limit, explained
    shown = await ask('is there a bag '.repeat(140) + '?');
    assert.match(shown.error, /Input too long:.*STELE_ERR_LIMIT|Input too long:.*2000/s);
    await page.click('#ask-examples .chip >> nth=0');
    shown = await asked({ question: shown.examples[0] });
    checkAnswer(shown, 'after the errors');
    assert.equal(await page.isVisible('#ask-error'), false);
    assert.equal(await page.getAttribute('#question', 'aria-invalid'), 'false');
  });

  await t.test('a scene composed with the keyboard alone, then asked about: the API\'s answer', async () => {
    await page.click('#clear-scene');
    await page.focus('#cells button[tabindex="0"]');
    for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowUp');
    for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowLeft');
    // a coat (4) in the top left, a bag (8) right of it, a sandal (5) in the centre
    for (const key of ['4', 'ArrowRight', '8', 'ArrowDown', '5']) await page.keyboard.press(key);
    await page.waitForFunction(() => document.querySelector('#cells button[data-cell="4"]').getAttribute('aria-label').includes('sandal'));
    const sprite = Number(await page.inputValue('#cell-sprite')) - 1;
    const items = [{ cell: 0, class: 4 }, { cell: 1, class: 8 }, { cell: 4, class: 5 }].map((x) => ({ ...x, sprite, dx: 0, dy: 0 }));
    // the question on screen is asked again about the new scene
    shown = await asked({ scene: '' });
    assert.deepEqual(shown.gray, Array.from(composeScene(items, atlas)), 'the composed pixels');
    checkAnswer(shown, 'composed, the question on screen');
    const want = exampleQuestions(layoutOf(items), SCENES).filter(known);
    assert.deepEqual(shown.examples, want.map((q) => q.text), 'the examples follow the composed scene');
    await page.focus('#question');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(HAVE_REAL ? 'what is right of the coat?' : 'where is the bag?');
    await page.keyboard.press('Enter');
    shown = await asked({ question: HAVE_REAL ? 'what is right of the coat?' : 'where is the bag?', scene: '' });
    checkAnswer(shown, 'composed, typed');
    if (HAVE_REAL) assert.equal(shown.truth, 'The scene\'s answer (from its layout): bag');
  });

  await t.test('the mode switch: Caption and back by keyboard; each mode keeps the overlay to itself', async () => {
    const before = await overlay();
    await page.focus('#mode-ask');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.isChecked('#mode-caption'), true);
    assert.equal(new URL(page.url()).searchParams.get('mode'), null);
    assert.equal(await page.isVisible('#ask-mode'), false);
    await page.waitForFunction(() => document.body.dataset.imgReady === 'true' && document.body.dataset.imgBusy === 'false' &&
      document.getElementById('caption').dataset.caption, null, { timeout: 30_000 });
    assert.equal((await overlay()).alpha, 0, 'the Caption mode: no word hovered, nothing drawn');
    await page.focus('#mode-caption');
    await page.keyboard.press('ArrowRight');
    assert.equal(new URL(page.url()).searchParams.get('mode'), 'ask');
    assert.deepEqual(await overlay(), before, 'back in Ask: the same glimpses');
    assert.ok(before.alpha > 1000);
  });

  await t.test('375 px: no sideways overflow; the scene, question and answers fit; contrast', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(300);
    const m = await page.evaluate(() => {
      const right = (id) => document.getElementById(id).getBoundingClientRect().right;
      return { overflow: document.documentElement.scrollWidth - window.innerWidth,
        right: Math.max(right('stage'), right('ask'), right('answer-top'), right('glimpse-toggles'), right('ask-examples')) };
    });
    assert.ok(m.overflow <= 0, `page overflows by ${m.overflow} px at 375 px`);
    assert.ok(m.right <= 375, `the Ask mode ends at ${m.right} px`);
    await page.screenshot({ path: path.join(OUT, 'ask-narrow.png'), fullPage: true });
    const light = await page.evaluate(contrastReport);
    assert.deepEqual(light.bad, [], 'light mode: text contrast >= 4.5:1');
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  await t.test('dark mode: text contrast >= 4.5:1 in the Ask mode, an error on screen', async () => {
    const p2 = await context.newPage();
    watch(p2, ' (dark page)');
    try {
      await p2.emulateMedia({ colorScheme: 'dark' });
      await p2.goto(`${origin}/?view=images&mode=ask`);
      await asked({}, p2);
      await p2.fill('#question', 'is there a frobnicator?');
      await p2.press('#question', 'Enter');
      await p2.waitForFunction(() => !document.getElementById('ask-error').hidden);
      const dark = await p2.evaluate(contrastReport);
      assert.ok(dark.bodyBg < 0.05, `body background luminance ${dark.bodyBg.toFixed(3)} is dark`);
      assert.deepEqual(dark.bad, [], 'dark mode: text contrast >= 4.5:1');
      await p2.screenshot({ path: path.join(OUT, 'ask-dark.png'), fullPage: true });
    } finally {
      await p2.close();
    }
  });

  await t.test('README picture: a relational question answered, both glimpses drawn', async () => {
    // The scene and question: among the shipped scenes' relational questions (every one the
    // templates allow), one the model answers as the layout does, preferring one where its two
    // glimpses peak in the named item's cell and in the cell the answer describes, and an item
    // for an answer (not "nothing"); then the most probable answer. Chosen from the model's own answers, so a retrained model gets a
    // fitting picture.
    const better = (a, b) => {   // lexicographic: the first difference decides (true > false)
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
      return false;
    };
    let best = null;
    for (const s of SCENES.scenes) {
      const px = composeScene(s.items, atlas);
      for (const q of allQuestions(layoutOf(s.items), SCENES).filter((x) => x.type === 'relation' && known(x))) {
        const r = answerer.answer({ data: px, width: 84, height: 84 }, q.text);
        const cells = Array.from({ length: r.glimpseCount }, (_, g) => peakCell(r, g));
        const score = [r.answer === q.answer, cells.includes(q.ref) && cells.includes(q.target), q.answer !== 'nothing', r.top[0].prob];
        if (!best || better(score, best.score)) best = { s, q, score };
      }
    }
    assert.ok(best, 'a relational question');
    // a fresh page (nothing left of the tests above), the question typed in
    const p3 = await context.newPage();
    watch(p3, ' (README page)');
    const shot = HAVE_REAL && process.env.UPDATE_SCREENSHOT === '1'
      ? path.join(ROOT, 'web/screenshot-ask.png') : path.join(OUT, 'screenshot-ask.png');
    try {
      await p3.goto(`${origin}/?view=images&mode=ask`);
      await asked({}, p3);
      await pickScene(best.s.id, p3);
      shown = await ask(best.q.text, p3);
      checkAnswer(shown, `README: ${best.s.id} "${best.q.text}"`);
      for (const g of [0, 1]) assert.equal(await p3.isChecked(`#glimpse-${g}`), true);
      await p3.evaluate(() => document.activeElement?.blur());
      await p3.screenshot({ path: shot, fullPage: true });
    } finally {
      await p3.close();
    }
    console.log(`# README picture: ${best.s.id}, "${best.q.text}" -> ${shown.answer} (the layout's: ${best.q.answer}; ` +
      `correct, glimpses on both cells, an item: ${best.score.slice(0, 3).join(', ')}) -> ${path.relative(ROOT, shot)}`);
  });

  await t.test('offline once loaded: a reload in the Ask mode answers as the API', async () => {
    await context.setOffline(true);
    try {
      await page.reload();
      shown = await asked({ scene: SCENES.scenes[0].id });
      checkAnswer(shown, 'offline');
      assert.match(await page.textContent('#ask-load-text'), /from cache/);
    } finally {
      await context.setOffline(false);
    }
  });

  assert.deepEqual(problems, [], 'no console errors and no request to another origin');
});
