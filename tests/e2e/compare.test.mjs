// End-to-end test of the translation view's "compare with no attention" switch (issue 11) and
// its confidence tint (issue 15), in Debian's Chromium (make e2e runs every file here). Every
// expected output, tint and flag is computed from the Node API's results for the same input:
// the outputs of ui-en-fr and ui-en-fr-none, each word's probability (the product of its
// pieces' exp(tokenLogp)) against the page's thresholds, and lowConfidence. Skipped when either
// model is missing. Writes build/e2e/compare-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createStaticServer } from '../../scripts/serve.mjs';
import { Translator } from '../../src/js/stele.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.STELE_CHROMIUM || '/usr/bin/chromium';
const MODELS = path.resolve(process.env.STELE_MODELS_DIR || path.join(ROOT, 'models'));
const modelFile = (m) => path.join(MODELS, m, 'model.safetensors');
const HAVE = existsSync(modelFile('ui-en-fr')) && existsSync(modelFile('ui-en-fr-none'));
const OUT = path.join(ROOT, 'build/e2e');
// The page's thresholds (web/translate-view.js TINT): a word below 50 % is tinted, more below
// 25 % and 10 %.
const TINT = [0.5, 0.25, 0.1];
// Inputs of several lengths, an out-of-domain one and one with an emoji (copied through). The
// test checks below that, between them, they give both tinted and untinted words and both
// values of lowConfidence, so that every check can fail.
const SENTENCES = [
  'Save the document',
  'The file could not be opened because it is read-only.',
  'Could not connect to the proxy server because the certificate has expired',
  'Hello 👋 world',
  'The quick brown fox jumps over the lazy dog',
  // case restored on the output, a placeholder, a mnemonic, markup: the words are still found
  'SAVE THE DOCUMENT',
  'Delete %s files?',
  'Open &File',
  '<b>Save</b> the file',
];

let server, origin, context, page, profile;
const problems = [];
const modelHits = [];
const translators = {};

async function nodeTranslate(model, text, opts) {
  translators[model] ??= await Translator.load(modelFile(model));
  return translators[model].translate(text, opts);
}

// The Node API's words with their probabilities and tint levels, as the page must show them.
function expectedWords(r) {
  const w = r.wordAlignment;
  const logp = w.targetWords.map(() => 0);
  r.targetTokens.forEach((_, t) => {
    const k = w.targetWordOfPiece[t];
    if (k >= 0) logp[k] += r.tokenLogp[t];
  });
  return w.targetWords.map((word, k) => {
    const p = Math.exp(logp[k]);
    return { word, p, level: TINT.filter((x) => p < x).length };
  });
}

before(async () => {
  if (!HAVE) return;
  mkdirSync(OUT, { recursive: true });
  server = createStaticServer();
  server.on('request', (req) => { if (req.url.includes('.safetensors')) modelHits.push(req.url.split('?')[0]); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${server.address().port}`;
  profile = mkdtempSync(path.join(tmpdir(), 'stele-e2e-compare-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 900 },
  });
  context.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin + '/') && !/^(data|blob):/.test(u)) problems.push(`request to another origin: ${u}`);
  });
  page = context.pages()[0] ?? await context.newPage();
  watch(page, '');
});

after(async () => {
  await context?.close();
  server?.close();
  for (const t of Object.values(translators)) t.dispose();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

function watch(p, what) {
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error${what}: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`page error${what}: ${e.message}`));
}

const waitReady = (p, model) => p.waitForFunction((m) => document.body.dataset.ready === 'true' &&
  document.body.dataset.model === m, model, { timeout: 90_000 });

// Types text, presses Enter, waits for the main output of that text and, when the compare pane
// is shown, for its output of that text too.
async function translate(p, text) {
  await p.fill('#input', text);
  await p.press('#input', 'Enter');
  await p.waitForFunction((t) => {
    const none = document.getElementById('out-none');
    return document.getElementById('output').dataset.input === t && document.body.dataset.busy === 'false' &&
      (none.hidden || (none.dataset.input === t && none.dataset.busy === 'false'));
  }, text, { timeout: 90_000 });
}

async function pageParams(p) {
  return { beam: Number(await p.inputValue('#beam')), nbest: Number(await p.inputValue('#nbest')) };
}

// One output pane as shown: its text, its words (text, tint level, data-p, title), the
// uncertain-words line and the low-confidence notice.
function readPane(p, outId, listId, flagId) {
  return p.evaluate(([o, l, f]) => {
    const out = document.getElementById(o);
    return {
      text: out.textContent,
      words: [...out.querySelectorAll('.word')].map((e) => ({
        text: e.textContent, level: Number(/tint-(\d)/.exec(e.className)?.[1] ?? 0),
        tag: e.tagName.toLowerCase(), p: Number(e.dataset.p), title: e.title,
      })),
      list: document.getElementById(l).textContent,
      flag: !document.getElementById(f).hidden && document.getElementById(f).checkVisibility(),
      flagText: document.getElementById(f).textContent,
    };
  }, [outId, listId, flagId]);
}

function checkPane(shown, want, label) {
  assert.equal(shown.text, want.text, `${label}: the output`);
  const exp = expectedWords(want);
  // Every word is a span (the text spells each of these inputs' words, in any case, a mnemonic
  // marker perhaps inside).
  const bare = (x) => x.toLowerCase().replace(/[&_]/g, '');
  assert.deepEqual(shown.words.map((w) => bare(w.text)), exp.map((w) => bare(w.word)), `${label}: the words`);
  shown.words.forEach((w, k) => {
    assert.equal(w.level, exp[k].level, `${label}: "${w.text}" p=${exp[k].p} tint level`);
    assert.equal(w.tag, exp[k].level ? 'mark' : 'span', `${label}: "${w.text}" element`);
    assert.ok(Math.abs(w.p - exp[k].p) <= 5e-5, `${label}: "${w.text}" data-p ${w.p} vs ${exp[k].p}`);
    assert.match(w.title, /^probability (\d+|< 1) %/, `${label}: "${w.text}" title`);
  });
  const low = exp.filter((w) => w.level > 0);
  if (low.length) {
    assert.match(shown.list, /^Below 50 %: /, `${label}: the uncertain words in words`);
    for (const w of low) assert.ok(shown.list.includes(`“${w.word}”`), `${label}: "${w.word}" listed in "${shown.list}"`);
  } else {
    assert.equal(shown.list, want.text ? 'Every word above 50 %.' : '', `${label}: no uncertain word`);
  }
  assert.equal(shown.flag, want.lowConfidence, `${label}: low-confidence notice shown = lowConfidence`);
  if (want.lowConfidence) assert.match(shown.flagText, /^Low confidence: this output is likely wrong/);
  return { tinted: low.length, plain: exp.length - low.length };
}

// Text whose contrast with its composed background is under 4.5:1 (WCAG AA), for the elements
// matching sel; and how many were checked.
function contrastOf(sel) {
  const rgba = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    const v = m ? m[1].split(/[\s,/]+/).filter(Boolean).map(Number) : [0, 0, 0, 0];
    return [v[0], v[1], v[2], v[3] ?? 1];
  };
  const over = (top, under) => [0, 1, 2].map((k) => top[k] * top[3] + under[k] * (1 - top[3])).concat(1);
  const lum = (c) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const bgOf = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    return chain.reduce((c, e) => over(rgba(getComputedStyle(e).backgroundColor), c), [255, 255, 255, 1]);
  };
  const bad = [];
  let checked = 0;
  for (const el of document.querySelectorAll(sel)) {
    if (!el.checkVisibility()) continue;
    const bg = bgOf(el), fg = over(rgba(getComputedStyle(el).color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    checked++;
    if (ratio < 4.5) bad.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} "${el.textContent.trim().slice(0, 30)}": ${ratio.toFixed(2)}`);
  }
  return { checked, bad };
}

const TEXTS = '#output .word, #output-none .word, #tint-legend, #tint-legend mark, .uncertain-words, .low-confidence, #compare-why, #compare-label, #out-none .out-label, #out-label';

test('compare with no attention, and the confidence tint', { skip: !HAVE && 'needs models/ui-en-fr and models/ui-en-fr-none' }, async (t) => {
  await page.goto(`${origin}/?weights=f32`);   // the reference is models/ui-en-fr, whatever the default
  await waitReady(page, 'ui-en-fr');
  assert.equal(await page.isChecked('#compare'), false, 'off by default');
  assert.equal(await page.isEnabled('#compare'), true, 'offered for ui-en-fr');
  assert.equal(await page.isVisible('#out-none'), false);
  assert.equal(await page.isVisible('#tint-legend'), true, 'the tint is explained');
  assert.match(await page.textContent('#tint-legend'), /probability\s+below 50 %/);
  assert.ok(!modelHits.includes('/models/ui-en-fr-none/model.safetensors'), 'the baseline loads only when asked for');

  // Keyboard: Tab from "as you type" reaches the switch, Space turns it on.
  await page.focus('#live');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'compare', 'Tab reaches the switch');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#compare'), true);
  assert.equal(await page.isVisible('#out-none'), true);
  assert.match(await page.textContent('#out-label'), /With attention: ui-en-fr/);

  const seen = { tinted: 0, plain: 0, low: new Set(), differ: 0 };
  for (const s of SENTENCES) {
    await translate(page, s);
    const opts = await pageParams(page);
    const [att, none] = [await nodeTranslate('ui-en-fr', s, opts), await nodeTranslate('ui-en-fr-none', s, opts)];
    for (const [shown, want, label] of [
      [await readPane(page, 'output', 'uncertain-words', 'low-confidence'), att, `ui-en-fr "${s}"`],
      [await readPane(page, 'output-none', 'uncertain-words-none', 'low-confidence-none'), none, `ui-en-fr-none "${s}"`],
    ]) {
      const n = checkPane(shown, want, label);
      seen.tinted += n.tinted;
      seen.plain += n.plain;
      seen.low.add(want.lowConfidence);
    }
    if (att.text !== none.text) seen.differ++;
  }
  // The checks above could fail: the inputs gave both kinds of word, both flags, and outputs
  // that differ between the two models.
  assert.ok(seen.tinted > 0 && seen.plain > 0, `tinted ${seen.tinted}, plain ${seen.plain} words`);
  assert.deepEqual([...seen.low].sort(), [false, true], 'both values of lowConfidence were shown');
  assert.ok(seen.differ > 0, 'the two models disagree on some input');
  assert.equal(modelHits.filter((u) => u.endsWith('/ui-en-fr-none/model.safetensors')).length, 1, 'the baseline was downloaded once');
  await page.screenshot({ path: path.join(OUT, 'compare.png'), fullPage: true });

  await t.test('side by side when wide, stacked at 375 px, no horizontal overflow', async () => {
    const boxes = () => page.evaluate(() => ['out-main', 'out-none'].map((id) => {
      const b = document.getElementById(id).getBoundingClientRect();
      return { left: b.left, right: b.right, top: b.top, bottom: b.bottom };
    }));
    let [a, b] = await boxes();
    assert.ok(b.left >= a.right && Math.abs(a.top - b.top) < 1, `side by side at 1100 px: ${JSON.stringify([a, b])}`);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(400);
    [a, b] = await boxes();
    assert.ok(b.top >= a.bottom - 1 && Math.abs(a.left - b.left) < 1, `stacked at 375 px: ${JSON.stringify([a, b])}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page overflows by ${overflow} px at 375 px`);
    const wide = await page.evaluate(() => [...document.querySelectorAll('#outputs *, #tint-legend, #compare-why')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map((e) => e.id || e.className));
    assert.deepEqual(wide, [], 'nothing of the outputs runs past the right edge');
    await page.screenshot({ path: path.join(OUT, 'compare-narrow.png'), fullPage: true });
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  await t.test('light mode: tinted words and the explanations keep text contrast >= 4.5:1', async () => {
    await translate(page, SENTENCES[3]);
    const r = await page.evaluate(contrastOf, TEXTS);
    assert.ok(r.checked >= 8, `checked ${r.checked}`);
    assert.deepEqual(r.bad, []);
  });

  await t.test('only for ui-en-fr: disabled with the reason for other models, back on after', async () => {
    for (const m of ['dates', 'ui-en-fr-none']) {
      await page.selectOption('#model', m);
      await waitReady(page, m);
      assert.equal(await page.isDisabled('#compare'), true, `${m}: the switch is disabled`);
      assert.equal(await page.isVisible('#out-none'), false, `${m}: one output`);
      assert.match(await page.textContent('#compare-why'), /^Compare needs ui-en-fr: /);
      assert.equal(await page.textContent('#out-label'), 'Output');
    }
    // The dates model's output is tinted too, and its flag is the API's (a non-date).
    await page.selectOption('#model', 'dates');
    await waitReady(page, 'dates');
    for (const s of ['29th March 2042', 'hello']) {
      await translate(page, s);
      checkPane(await readPane(page, 'output', 'uncertain-words', 'low-confidence'),
        await nodeTranslate('dates', s, await pageParams(page)), `dates "${s}"`);
    }
    const hits = modelHits.length;
    await page.selectOption('#model', 'ui-en-fr');
    await waitReady(page, 'ui-en-fr');
    assert.equal(await page.isChecked('#compare'), true, 'the switch keeps its state');
    assert.equal(await page.isEnabled('#compare'), true);
    const s = SENTENCES[1];
    await translate(page, s);
    const opts = await pageParams(page);
    checkPane(await readPane(page, 'output-none', 'uncertain-words-none', 'low-confidence-none'),
      await nodeTranslate('ui-en-fr-none', s, opts), `ui-en-fr-none again "${s}"`);
    assert.ok(!modelHits.slice(hits).some((u) => u.includes('ui-en-fr-none')), 'the baseline stayed loaded');
  });

  await t.test('an input the models refuse clears both outputs (no stale result)', async () => {
    await translate(page, SENTENCES[1]);
    assert.ok((await page.textContent('#output-none')).length > 0, 'a result is shown first');
    const long = 'x'.repeat(2100);
    await translate(page, long);
    assert.match(await page.textContent('#error'), /Input too long/);
    const shown = await page.evaluate(() => ['output', 'uncertain-words', 'output-none', 'uncertain-words-none', 'stats-none']
      .map((id) => document.getElementById(id).textContent));
    assert.deepEqual(shown, ['', '', '', '', ''], 'nothing of the previous input stays in either pane');
    assert.equal(await page.isVisible('#low-confidence-none'), false);
    await translate(page, SENTENCES[0]);
    assert.equal(await page.isVisible('#error'), false);
    assert.equal(await page.textContent('#output-none'), (await nodeTranslate('ui-en-fr-none', SENTENCES[0], await pageParams(page))).text);
  });

  await t.test('a reload with ?compare=1 reads both models from Cache Storage, also offline', async () => {
    const hits = modelHits.length;
    await page.goto(`${origin}/?compare=1&weights=f32`);
    await waitReady(page, 'ui-en-fr');
    const s = SENTENCES[2];
    await translate(page, s);
    assert.equal(await page.isChecked('#compare'), true);
    const opts = await pageParams(page);
    checkPane(await readPane(page, 'output-none', 'uncertain-words-none', 'low-confidence-none'),
      await nodeTranslate('ui-en-fr-none', s, opts), `after reload "${s}"`);
    assert.deepEqual(modelHits.slice(hits), [], 'no model file was downloaded again');
    // and offline: the service worker's page, both models from Cache Storage
    await context.setOffline(true);
    try {
      await page.reload();
      await waitReady(page, 'ui-en-fr');
      await translate(page, SENTENCES[0]);
      assert.equal(await page.textContent('#output-none'),
        (await nodeTranslate('ui-en-fr-none', SENTENCES[0], await pageParams(page))).text, 'offline');
    } finally {
      await context.setOffline(false);
    }
  });

  await t.test('dark mode: tints and notices keep text contrast >= 4.5:1', async () => {
    const p2 = await context.newPage();
    watch(p2, ' (dark page)');
    try {
      await p2.emulateMedia({ colorScheme: 'dark' });
      await p2.goto(`${origin}/?compare=1&weights=f32`);
      await waitReady(p2, 'ui-en-fr');
      for (const s of [SENTENCES[4], SENTENCES[3]]) {
        await translate(p2, s);
        const r = await p2.evaluate(contrastOf, TEXTS);
        assert.ok(r.checked >= 8, `checked ${r.checked}`);
        assert.deepEqual(r.bad, [], `"${s}"`);
      }
      assert.ok(await p2.$$eval('mark.tint', (m) => m.length) > 3, 'tinted words on screen');
      await p2.screenshot({ path: path.join(OUT, 'compare-dark.png'), fullPage: true });
      await p2.setViewportSize({ width: 375, height: 800 });
      await p2.waitForTimeout(300);
      const overflow = await p2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `dark page overflows by ${overflow} px at 375 px`);
      await p2.screenshot({ path: path.join(OUT, 'compare-dark-narrow.png'), fullPage: true });
    } finally {
      await p2.close();
    }
  });

  assert.deepEqual(problems, [], 'no console errors and no request to another origin');
});
