// The lexical shortlist through the JS API and the Node CLI: option shortlist (default true) and
// --no-shortlist. The shortlisted model is made here from models/ui-en-fr by appending the three
// shortlist tensors (models/FORMAT.md) to its bytes, as scripts/shortlist.py does, with a
// synthetic list that needs no corpus: the pieces below ALWAYS always, and each source piece v
// the candidate v itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Translator } from '../../src/js/stele.js';
import { CLI, modelPath, goldenOutputs, readJsonl, run } from './common.js';

const MODEL = modelPath('ui-en-fr');
const ALWAYS = 1500;

// The model's bytes with I32 tensors added: the header rewritten with their entries, their data
// appended (8-byte aligned) after the existing data, which stays byte for byte.
function withTensors(bytes, tensors) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  let end = 0;
  for (const [k, e] of Object.entries(header)) if (k !== '__metadata__') end = Math.max(end, e.data_offsets[1]);
  const parts = [bytes.subarray(8 + n, 8 + n + end)];
  let at = end;
  for (const [name, arr] of Object.entries(tensors)) {
    const pad = (8 - (at % 8)) % 8;
    parts.push(new Uint8Array(pad));
    at += pad;
    const data = new Uint8Array(new Int32Array(arr).buffer);   // little-endian hosts (x86, wasm)
    header[name] = { dtype: 'I32', shape: [arr.length], data_offsets: [at, at + data.length] };
    parts.push(data);
    at += data.length;
  }
  const h = new TextEncoder().encode(JSON.stringify(header));
  const hp = Math.ceil(h.length / 8) * 8;
  const out = new Uint8Array(8 + hp + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(hp), true);
  out.fill(0x20, 8, 8 + hp);
  out.set(h, 8);
  let w = 8 + hp;
  for (const p of parts) { out.set(p, w); w += p.length; }
  return out;
}

function shortlisted(V) {
  const offsets = Array.from({ length: V + 1 }, (_, v) => v);
  const ids = Array.from({ length: V }, (_, v) => v);
  const always = Array.from({ length: ALWAYS }, (_, v) => v);
  return withTensors(new Uint8Array(readFileSync(MODEL)),
    { 'shortlist.offsets': offsets, 'shortlist.ids': ids, 'shortlist.always': always });
}

const skip = !existsSync(MODEL) && 'no ui-en-fr model';

test('shortlist option: off is the plain model, on scores only the shortlist', { skip }, async () => {
  const plain = await Translator.load(MODEL);
  const V = 8000;
  const sl = await Translator.load(shortlisted(V));
  const texts = readJsonl(goldenOutputs('ui-en-fr')).slice(0, 40).map((r) => r.src);
  let sameTokensHigherLogp = 0, differ = 0;
  try {
    assert.deepEqual(sl.info.shortlist, { candidates: V, always: ALWAYS });
    assert.equal(plain.info.shortlist, null);
    for (const text of texts) {
      const ref = plain.translate(text, { beam: 1 });
      const off = sl.translate(text, { beam: 1, shortlist: false });
      assert.equal(off.text, ref.text, text);
      assert.equal(off.logp, ref.logp, `${text}: shortlist false must be the plain model's arithmetic`);
      assert.deepEqual(plain.translate(text, { beam: 1, shortlist: true }).logp, ref.logp,
        'a model without a shortlist ignores the option');
      const on = sl.translate(text, { beam: 1 });
      const src = new Set(on.sourceIds);
      assert.ok(on.targetIds.length > 0);
      for (const id of on.targetIds)
        assert.ok(id < ALWAYS || src.has(id), `${text}: piece ${id} outside the shortlist`);
      if (on.text === ref.text) {
        // the softmax over a subset has a smaller normaliser: the same pieces score higher
        assert.ok(on.logp > ref.logp, `${text}: logp ${on.logp} not above ${ref.logp}`);
        sameTokensHigherLogp++;
      } else {
        differ++;
      }
      const beamOn = sl.translate(text, { beam: 5 }), beamOff = sl.translate(text, { beam: 5, shortlist: false });
      assert.equal(beamOff.text, plain.translate(text, { beam: 5 }).text);
      assert.ok(typeof beamOn.text === 'string');
    }
    assert.ok(sameTokensHigherLogp >= 10, `only ${sameTokensHigherLogp} outputs unchanged (${differ} changed)`);
    // the batched path takes the option too, and decodes as one at a time
    const batchOn = sl.translateBatch(texts, { beam: 1 });
    const batchOff = sl.translateBatch(texts, { beam: 1, shortlist: false });
    texts.forEach((t, i) => {
      assert.equal(batchOn[i].text, sl.translate(t, { beam: 1 }).text, t);
      assert.equal(batchOff[i].text, plain.translate(t, { beam: 1 }).text, t);
    });
    assert.throws(() => sl.translate('Save', { shortlist: 'no' }), TypeError);
  } finally {
    plain.dispose();
    sl.dispose();
  }
});

test('--no-shortlist in the Node CLI', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stele-sl-'));
  try {
    const file = path.join(dir, 'ui-en-fr-sl.safetensors');
    writeFileSync(file, shortlisted(8000));
    const texts = readJsonl(goldenOutputs('ui-en-fr')).slice(0, 12).map((r) => r.src);
    const args = (extra) => ['translate', '-m', file, '--beam', '1', '--json', ...extra, '--', ...texts];
    const plain = run('node', [CLI, 'translate', '-m', MODEL, '--beam', '1', '--json', '--', ...texts]);
    const off = run('node', [CLI, ...args(['--no-shortlist'])]);
    const on = run('node', [CLI, ...args([])]);
    assert.equal(off.status, 0, off.stderr);
    assert.equal(on.status, 0, on.stderr);
    assert.equal(off.stdout, plain.stdout, '--no-shortlist prints what the plain model prints');
    assert.notEqual(on.stdout, off.stdout, 'the shortlist changes at least the scores');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
