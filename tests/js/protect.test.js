// Protected spans and confidence through the JS API (wasm): the `protect` option (default on,
// validated), every placeholder exactly once on the shipped ui-en-fr model, byte-identical text
// for input without spans, and tokenLogp / meanLogp consistent with logp and score.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Translator } from '../../src/js/stele.js';
import { SMALL_MODEL, WASM, modelPath } from './common.js';

const skip = !existsSync(WASM) && 'dist/stele.wasm missing (make wasm)';
const UI = modelPath('ui-en-fr');
const count = (s, sub) => s.split(sub).length - 1;

function checkConfidence(h, alpha, where) {
  assert.equal(h.tokenLogp.length, h.tokens.length, where);
  let sum = 0;
  for (const lp of h.tokenLogp) {
    const p = Math.exp(lp);
    assert.ok(p > 0 && p <= 1, `${where}: exp(${lp}) outside (0, 1]`);
    sum += lp;
  }
  assert.ok(Math.abs(sum - h.logp) <= 1e-9 * (1 + Math.abs(h.logp)), `${where}: sum ${sum} vs logp ${h.logp}`);
  const mean = h.tokens.length ? sum / h.tokens.length : 0;
  assert.ok(Math.abs(mean - h.meanLogp) <= 1e-9 * (1 + Math.abs(mean)), `${where}: mean ${mean} vs meanLogp ${h.meanLogp}`);
  // beta 0: score = logp / ((5 + n) / 6)^alpha
  const sc = h.logp / Math.pow((5 + h.tokens.length) / 6, alpha);
  assert.ok(Math.abs(sc - h.score) <= 1e-9 * (1 + Math.abs(sc)), `${where}: score ${h.score} vs ${sc}`);
}

test('tokenLogp and meanLogp: greedy, beam n-best, batch', { skip }, async () => {
  const t = await Translator.load(SMALL_MODEL);
  try {
    const alpha = t.defaults.alpha;
    for (const text of ['29th March 2042', 'Open the file', '3 mars 2021']) {
      const g = t.translate(text, { beam: 1 });
      checkConfidence(g.nbest[0], alpha, `greedy ${text}`);
      assert.equal(g.meanLogp, g.nbest[0].meanLogp);
      assert.deepEqual(g.tokenLogp, g.nbest[0].tokenLogp);
      const b = t.translate(text, { beam: 5, nbest: 3, beta: 0 });
      b.nbest.forEach((h, i) => checkConfidence(h, alpha, `beam ${text} hyp ${i}`));
      assert.ok(b.score >= g.score - 1e-9, `beam score ${b.score} below greedy ${g.score}`);
    }
    const rs = t.translateBatch(['one', 'two three', 'Open the file'], { beam: 1, batchSize: 2 });
    rs.forEach((r, i) => checkConfidence(r.nbest[0], alpha, `batch ${i}`));
    const e = t.translate('   ');
    assert.deepEqual(e.tokenLogp, []);
    assert.equal(e.meanLogp, 0);
  } finally {
    t.dispose();
  }
});

test('protect option: validated, default on', { skip }, async () => {
  const t = await Translator.load(SMALL_MODEL);
  try {
    assert.throws(() => t.translate('x', { protect: 1 }), TypeError);
    assert.throws(() => t.translate('x', { protect: 'no' }), TypeError);
    const on = t.translate('open %s now');
    assert.equal(count(on.text, '%s'), 1, on.text);
    assert.equal(t.translate('open %s now', { protect: true }).text, on.text);
  } finally {
    t.dispose();
  }
});

test('ui-en-fr: every placeholder once, tags balanced; no spans: on = off', { skip: skip || (!existsSync(UI) && 'no ui-en-fr model') }, async () => {
  const t = await Translator.load(UI);
  try {
    const cases = [
      ['Cannot create directory “%s”: %s.', ['%s', '%s']],
      ['Surnames %(surname)s beginning with letter %(letter)s', ['%(surname)s', '%(letter)s']],
      ['%lu minute remaining (%s/sec)', ['%lu', '%s']],
      ['Copy {0} to {1}', ['{0}', '{1}']],
      ['%1$s has %2$d new messages', ['%1$s', '%2$d']],
      ['<b>Save</b> the document', ['<b>', '</b>']],
      ['Save the <b>current</b> document to <i>%s</i>', ['<b>', '</b>', '<i>', '</i>', '%s']],
    ];
    for (const beam of [1, 5]) {
      for (const [src, spans] of cases) {
        const r = t.translate(src, { beam });
        for (const s of new Set(spans))
          assert.equal(count(r.text, s), count(src, s), `beam ${beam}: ${src} -> ${r.text} (${s})`);
      }
      const batched = t.translateBatch(cases.map(([s]) => s), { beam: 1, batchSize: 4 });
      if (beam === 1)
        batched.forEach((r, i) => assert.equal(r.text, t.translate(cases[i][0], { beam: 1 }).text));
      for (const plain of ['Save the document', 'Print preview', '100% done', 'Tom & Jerry'])
        assert.equal(t.translate(plain, { beam, protect: true }).text, t.translate(plain, { beam, protect: false }).text, plain);
    }
    const m = t.translate('_File').text;
    assert.equal(count(m, '_'), 1, m);
  } finally {
    t.dispose();
  }
});
