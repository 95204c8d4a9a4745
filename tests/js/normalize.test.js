// Input normalization through the JS API (the C engine's, compiled to wasm): ALL CAPS and Title
// Case input recased, characters outside the vocabulary copied through, normalize: false as the
// raw path, the same in translateBatch, and a bad option type refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Translator } from '../../src/js/stele.js';
import { modelPath } from './common.js';

const MODEL = modelPath('ui-en-fr');
const UNK = '\u2047';

test('normalize: case, unknown characters, raw mode', { skip: !existsSync(MODEL) && 'no ui-en-fr model' }, async () => {
  const t = await Translator.load(MODEL);
  try {
    const plain = t.translate('Save the document', { beam: 1 });
    const raw = t.translate('Save the document', { beam: 1, normalize: false });
    assert.equal(plain.text, raw.text, 'sentence-case input without symbols: normalize changes nothing');
    assert.equal(plain.score, raw.score);
    const caps = t.translate('SAVE THE DOCUMENT', { beam: 1 });
    assert.equal(caps.text, plain.text.toUpperCase());
    const title = t.translate('Save The Document', { beam: 1 });
    assert.equal(title.text.toLowerCase(), plain.text.toLowerCase());
    assert.match(title.text, /^(\p{Lu}\S*)( \p{Lu}\S*)*$/u, `Title Case output: ${title.text}`);
    for (const beam of [1, 5]) {
      const e = t.translate('Save \u{1F4BE} the file', { beam });
      assert.ok(e.text.includes('\u{1F4BE}') && !e.text.includes(UNK), `beam ${beam}: ${e.text}`);
      assert.ok(!e.sourceTokens.includes('<unk>'));
    }
    const r = t.translate('Save \u{1F4BE} the file', { beam: 1, normalize: false });
    assert.ok(r.sourceTokens.includes('<unk>'), 'raw: the emoji reaches the model as <unk>');
    const texts = ['SAVE THE DOCUMENT', 'Save \u{1F4BE} the file', 'Open The File'];
    const batch = t.translateBatch(texts, { beam: 1, batchSize: 2 });
    texts.forEach((x, i) => assert.equal(batch[i].text, t.translate(x, { beam: 1 }).text));
    const rawBatch = t.translateBatch(texts, { beam: 1, batchSize: 2, normalize: false });
    texts.forEach((x, i) => assert.equal(rawBatch[i].text, t.translate(x, { beam: 1, normalize: false }).text));
    assert.throws(() => t.translate('Save', { normalize: 'yes' }), TypeError);
  } finally {
    t.dispose();
  }
});
