// End-to-end test of the page's Images view (make e2e): Debian's Chromium, driven by
// playwright-core, against scripts/serve.mjs on 127.0.0.1. A shipped scene's pixels are the
// composition rule's (checked against sprites.png decoded here, and against the generator's test
// images when the scenes-caption goldens exist), its caption is the Node API's for the same
// pixels; hovering, focusing and playing words draw their attention maps over the image; a
// scene composed by keyboard alone is captioned as the API captions it; 375 px has no sideways
// overflow; dark mode keeps text contrast; the Translate view still works after a switch.
// Fails on any console error, page error, or request that leaves the origin.
// models/scenes-caption is the model; until it exists, the tiny random-weight caption model
// (tests/golden/tiny/caption-tiny.safetensors, also 84 x 84) stands in for it, served as
// scenes-caption from a temporary models folder (its captions are noise, but the page must still
// show exactly the API's). Writes build/e2e/images*.png; with UPDATE_SCREENSHOT=1 and the real
// model also web/screenshot-images.png (the README's picture).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Captioner } from '../../src/js/stele.js';
import { composeScene, contrastReport, decodeGrayPng } from './helpers.mjs';
import { readTensors } from '../js/common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.STELE_CHROMIUM || '/usr/bin/chromium';
const REAL = path.join(process.env.STELE_MODELS_DIR || path.join(ROOT, 'models'), 'scenes-caption/model.safetensors');
const HAVE_REAL = existsSync(REAL);
const TINY = path.join(ROOT, 'tests/golden/tiny/caption-tiny.safetensors');
const TRACE = path.join(process.env.STELE_GOLDEN_DIR || path.join(ROOT, 'tests/golden'), 'scenes-caption.trace.safetensors');
const OUT = path.join(ROOT, 'build/e2e');
const SCENES = JSON.parse(readFileSync(path.join(ROOT, 'web/scenes/scenes.json'), 'utf8'));

let server, origin, browser, context, page, tmpModels, captioner, atlas;
const problems = [];

before(async () => {
  mkdirSync(OUT, { recursive: true });
  if (!HAVE_REAL) {
    tmpModels = mkdtempSync(path.join(tmpdir(), 'stele-e2e-models-'));
    mkdirSync(path.join(tmpModels, 'scenes-caption'));
    copyFileSync(TINY, path.join(tmpModels, 'scenes-caption/model.safetensors'));
    // the Translate view, which the switch test opens, on the dates model
    mkdirSync(path.join(tmpModels, 'dates'));
    copyFileSync(path.join(ROOT, 'models/dates/model.safetensors'), path.join(tmpModels, 'dates/model.safetensors'));
    process.env.STELE_MODELS_DIR = tmpModels;
  }
  // serve.mjs reads STELE_MODELS_DIR when it is imported
  const { createStaticServer } = await import('../../scripts/serve.mjs');
  server = createStaticServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${server.address().port}`;
  captioner = await Captioner.load(HAVE_REAL ? REAL : TINY);
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
  captioner?.dispose();
  if (tmpModels) rmSync(tmpModels, { recursive: true, force: true });
});

function watch(p, what) {
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error${what}: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`page error${what}: ${e.message}`));
}

// Waits until the caption on screen is the newest request's, and returns what the page shows
// and the pixels it captioned (read back from its 84 x 84 canvas, opaque gray: exact).
async function settled(p = page) {
  await p.waitForFunction(() => document.body.dataset.imgReady === 'true' && document.body.dataset.imgBusy === 'false' &&
    document.getElementById('caption').dataset.caption !== undefined, null, { timeout: 30_000 });
  return p.evaluate(() => {
    const c = document.getElementById('scene-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const gray = [];
    for (let i = 0; i < d.length; i += 4) gray.push(d[i]);
    return {
      text: document.getElementById('caption').dataset.caption,
      scene: document.getElementById('caption').dataset.scene,
      words: [...document.querySelectorAll('#caption .word')].map((w) => w.textContent),
      beam: Number(document.getElementById('img-beam').value),
      gray,
    };
  });
}

// The overlay canvas: how many pixels have a non-zero alpha, and which word it shows.
const overlay = (p = page) => p.evaluate(() => {
  const c = document.getElementById('overlay');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
  return { alpha: n, word: Number(c.dataset.word) };
});

async function checkCaption(shown, what) {
  const want = captioner.caption({ data: Uint8Array.from(shown.gray), width: 84, height: 84, channels: 1 }, { beam: shown.beam });
  assert.equal(shown.text, want.text, `${what}: the page's caption is the Node API's`);
  assert.deepEqual(shown.words, want.words, `${what}: one button per word`);
  return want;
}

test('the Images view: scenes, captions, attention overlays, play, keyboard, 375 px, dark mode', async (t) => {
  await page.goto(`${origin}/?view=images&model=dates`);
  let shown = await settled();
  assert.equal(await page.isVisible('#view-translate'), false, 'the translation view is hidden');
  assert.equal(await page.isChecked('#page-images'), true);
  assert.equal(shown.scene, SCENES.scenes[0].id, 'the first shipped scene is shown first');
  const trace = existsSync(TRACE) ? readTensors(TRACE) : null;

  await t.test('shipped scenes: the composition rule\'s pixels, and the Node API\'s caption', async () => {
    const picks = [0, 1, Math.floor(SCENES.scenes.length / 2), SCENES.scenes.length - 1];
    for (const k of [...new Set(picks)]) {
      const s = SCENES.scenes[k];
      await page.selectOption('#scene', s.id);
      await page.waitForFunction((id) => document.getElementById('caption').dataset.scene === id, s.id);
      shown = await settled();
      assert.deepEqual(shown.gray, Array.from(composeScene(s.items, atlas)), `${s.id}: pixels by the composition rule`);
      const m = /^test-(\d+)$/.exec(s.id);
      if (trace && m) assert.deepEqual(shown.gray, Array.from(trace.images.data.subarray(m[1] * 7056, (Number(m[1]) + 1) * 7056)), `${s.id}: the generator's test image`);
      const want = await checkCaption(shown, s.id);
      if (HAVE_REAL) assert.match(await page.textContent('#reference'), new RegExp(s.caption.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(await page.textContent('#img-stats'), new RegExp(`^captioned in [\\d.]+ ms · ${want.words.length} words · beam ${shown.beam} · `));
    }
    // another beam: the same as the API's with it
    await page.fill('#img-beam', '3');
    await page.press('#img-beam', 'Enter');
    await page.locator('#img-beam').blur();
    await page.waitForFunction(() => / beam 3 /.test(document.getElementById('img-stats').textContent));
    shown = await settled();
    assert.equal(shown.beam, 3);
    await checkCaption(shown, 'beam 3');
  });

  await t.test('the API in the browser: a canvas and its ImageData caption as the page does', async () => {
    const got = await page.evaluate(async (beam) => {
      const { Captioner } = await import('/src/js/stele.js');
      const c = await Captioner.load('scenes-caption');
      try {
        const canvas = document.getElementById('scene-canvas');
        const a = c.caption(canvas, { beam });
        const b = c.caption(canvas.getContext('2d').getImageData(0, 0, 84, 84), { beam });
        const off = new OffscreenCanvas(84, 84);
        off.getContext('2d').drawImage(canvas, 0, 0);
        const o = c.caption(off, { beam });
        let err = null;
        try {
          c.caption(new ImageData(83, 84));
        } catch (e) {
          err = `${e.name} ${e.code}`;
        }
        return { texts: [a.text, b.text, o.text], same: a.attention.every((v, i) => v === b.attention[i]), err };
      } finally {
        c.dispose();
        c.dispose();
      }
    }, shown.beam);
    assert.deepEqual(got.texts, [shown.text, shown.text, shown.text]);
    assert.equal(got.same, true);
    assert.equal(got.err, 'SteleError STELE_ERR_ARGUMENT');
  });

  await t.test('hovering or focusing a word draws its map over the image; leaving clears it', async () => {
    assert.equal((await overlay()).alpha, 0, 'no overlay before a word is hovered');
    const n = shown.words.length;
    assert.ok(n > 0, 'the caption has words');
    const i = Math.min(1, n - 1);
    await page.hover(`#caption .word[data-i="${i}"]`);
    const o = await overlay();
    assert.equal(o.word, i);
    assert.ok(o.alpha > 1000, `the overlay has ${o.alpha} non-transparent pixels`);
    assert.match(await page.textContent('#word-info'), new RegExp(`^“${shown.words[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}” looked most at the `));
    await page.locator('#overlay').screenshot({ path: path.join(OUT, 'images-overlay.png') });
    await page.mouse.move(0, 0);
    assert.equal((await overlay()).alpha, 0, 'leaving the words clears the overlay');
    // keyboard: focus the first word (a button), then the next with Tab
    await page.focus('#caption .word[data-i="0"]');
    assert.equal((await overlay()).word, 0);
    if (n > 1) {
      await page.keyboard.press('Tab');
      assert.equal((await overlay()).word, 1, 'Tab moves to the next word and its map');
    }
    assert.ok((await overlay()).alpha > 0);
    await page.locator('#caption .word').first().blur();
  });

  await t.test('keyboard: Tab reaches every control of the view', async () => {
    await page.focus('#page-images');
    const seen = new Set();
    for (let k = 0; k < 30; k++) {
      await page.keyboard.press('Tab');
      seen.add(await page.evaluate(() => {
        const e = document.activeElement;
        return e.id || (e.closest('#cells') ? 'cell' : e.classList.contains('word') ? 'word' : e.tagName.toLowerCase());
      }));
    }
    for (const id of ['scene', 'cell', 'cell-class', 'cell-sprite', 'clear-scene', 'img-beam', 'play', 'word'])
      assert.ok(seen.has(id), `Tab reaches ${id} (reached: ${[...seen].join(', ')})`);
    await page.evaluate(() => document.activeElement.blur());
  });

  await t.test('play steps through the words', async () => {
    await page.click('#play');
    assert.equal(await page.getAttribute('#play', 'aria-pressed'), 'true');
    const seen = new Set();
    const t0 = Date.now();
    while (Date.now() - t0 < 900 * Math.min(shown.words.length, 3) + 500) {
      seen.add((await overlay()).word);
      await page.waitForTimeout(150);
    }
    const want = Math.min(shown.words.length, 3);
    for (let w = 0; w < want; w++) assert.ok(seen.has(w), `word ${w} was shown (seen: ${[...seen].join(', ')})`);
    await page.click('#play');   // stop
    assert.equal(await page.getAttribute('#play', 'aria-pressed'), 'false');
  });

  await t.test('a scene composed with the keyboard alone', async () => {
    await page.click('#clear-scene');
    shown = await settled();
    assert.ok(shown.gray.every((v) => v === 0), 'cleared: an all-black scene');
    await page.focus('#cells button[tabindex="0"]');
    const start = Number(await page.evaluate(() => document.activeElement.dataset.cell));
    // to the top left, then: a bag (8) there, a sneaker (7) at the bottom right, a dress (3)
    // in the centre, and an item placed then removed at the top right
    for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowUp');
    for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('8');
    for (const key of ['ArrowRight', 'ArrowRight', '1', 'Delete', 'ArrowDown', 'ArrowDown', '7', 'ArrowLeft', 'ArrowUp', '3']) await page.keyboard.press(key);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.cell), '4', `focus ends in the centre (from ${start})`);
    const sprite = Number(await page.inputValue('#cell-sprite')) - 1;
    await page.waitForFunction(() => document.getElementById('scene').value === '');
    shown = await settled();
    const items = [{ cell: 0, class: 8 }, { cell: 8, class: 7 }, { cell: 4, class: 3 }].map((x) => ({ ...x, sprite, dx: 0, dy: 0 }));
    assert.deepEqual(shown.gray, Array.from(composeScene(items, atlas)), 'the composed pixels');
    const labels = await page.$$eval('#cells button', (bs) => bs.map((b) => b.getAttribute('aria-label')));
    assert.match(labels[0], /: bag, sample \d/);
    assert.match(labels[2], /: empty$/);
    assert.match(labels[4], /: dress, sample/);
    assert.match(labels[8], /: sneaker, sample/);
    await checkCaption(shown, 'composed');
    // the class picker and the mouse change a cell too
    await page.click('#cells button[data-cell="6"]');
    await page.selectOption('#cell-class', '0');
    await page.waitForFunction(() => document.querySelector('#cells button[data-cell="6"]').getAttribute('aria-label').includes('t-shirt'));
    shown = await settled();
    await checkCaption(shown, 'composed + t-shirt');
  });

  await t.test('375 px: no sideways overflow; the scene fits', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(300);
    const m = await page.evaluate(() => ({ overflow: document.documentElement.scrollWidth - window.innerWidth,
      stage: document.getElementById('stage').getBoundingClientRect().right }));
    assert.ok(m.overflow <= 0, `page overflows by ${m.overflow} px at 375 px`);
    assert.ok(m.stage <= 375, `the scene ends at ${m.stage} px`);
    await page.hover('#caption .word[data-i="0"]');
    await page.screenshot({ path: path.join(OUT, 'images-narrow.png'), fullPage: true });
    await page.mouse.move(0, 0);
    const light = await page.evaluate(contrastReport);
    assert.deepEqual(light.bad, [], 'light mode: text contrast >= 4.5:1');
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  await t.test('README picture: a scene with a noun\'s attention over it', async () => {
    const s = SCENES.scenes[0];
    await page.fill('#img-beam', '1');
    await page.locator('#img-beam').blur();
    await page.selectOption('#scene', s.id);
    await page.waitForFunction((id) => document.getElementById('caption').dataset.scene === id &&
      / beam 1 /.test(document.getElementById('img-stats').textContent), s.id);
    shown = await settled();
    // the first noun of the classes' names the caption has, else the second word
    const nouns = new Set(SCENES.classes.map((c) => c.split(' ').at(-1)));
    const i = Math.max(0, shown.words.findIndex((w) => nouns.has(w)));
    await page.hover(`#caption .word[data-i="${i}"]`);
    const shot = HAVE_REAL && process.env.UPDATE_SCREENSHOT === '1'
      ? path.join(ROOT, 'web/screenshot-images.png') : path.join(OUT, 'screenshot-images.png');
    await page.screenshot({ path: shot, fullPage: true });
    await page.mouse.move(0, 0);
  });

  await t.test('dark mode: dark background, text contrast >= 4.5:1', async () => {
    const p2 = await context.newPage();
    watch(p2, ' (dark page)');
    try {
      await p2.emulateMedia({ colorScheme: 'dark' });
      await p2.goto(`${origin}/?view=images`);
      await settled(p2);
      await p2.hover('#caption .word[data-i="0"]');
      const dark = await p2.evaluate(contrastReport);
      assert.ok(dark.bodyBg < 0.05, `body background luminance ${dark.bodyBg.toFixed(3)} is dark`);
      assert.ok(dark.checked > 15, `checked ${dark.checked} texts`);
      assert.deepEqual(dark.bad, [], 'dark mode: text contrast >= 4.5:1');
      await p2.screenshot({ path: path.join(OUT, 'images-dark.png'), fullPage: true });
    } finally {
      await p2.close();
    }
  });

  await t.test('the view switch: keyboard to Translate and back', async () => {
    await page.focus('#page-images');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.isChecked('#page-translate'), true);
    assert.equal(await page.isVisible('#view-images'), false);
    assert.equal(new URL(page.url()).searchParams.get('view'), null);
    await page.waitForFunction(() => document.body.dataset.ready === 'true' && document.body.dataset.model === 'dates', null, { timeout: 60_000 });
    {
      await page.fill('#input', '3 mars 2021');
      await page.press('#input', 'Enter');
      await page.waitForFunction(() => document.getElementById('output').dataset.input === '3 mars 2021' && document.body.dataset.busy === 'false');
      assert.equal(await page.textContent('#output'), '2021-03-03');
    }
    await page.focus('#page-translate');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.isVisible('#view-images'), true);
    assert.equal(new URL(page.url()).searchParams.get('view'), 'images');
    const again = await settled();
    assert.deepEqual(again.gray, shown.gray, 'the scene stays as it was');
  });

  await t.test('offline once loaded: a reload shows the view, and captions', async () => {
    await context.setOffline(true);
    try {
      await page.reload();
      const s = await settled();
      assert.equal(s.scene, SCENES.scenes[0].id);
      await checkCaption(s, 'offline');
      await page.click('#cells button[data-cell="0"]');
      await page.keyboard.press('5');
      await page.waitForFunction(() => document.getElementById('scene').value === '');
      await checkCaption(await settled(), 'offline, composed');
    } finally {
      await context.setOffline(false);
    }
  });

  assert.deepEqual(problems, [], 'no console errors and no request to another origin');
});
