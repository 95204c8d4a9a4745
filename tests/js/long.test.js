// Long outputs keep the parity contract: for inputs whose ui-en-fr translations run to 104-212
// pieces (tests/golden/ui-en-fr.long.jsonl, from `scripts/golden.py --only long`), the wasm engine
// and the native CLI give the reference's tokens, greedy and beam 5, with scores within TOL. A
// score sums one log-probability per step, so a per-step bias (a float32 log-sum-exp over 8,000
// pieces was ~3e-6 high) would show here as 4e-4 after 200 steps. Raw text (no normalization, no
// protection): the reference translated the text as given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Translator } from '../../src/js/stele.js';
import { NATIVE, ROOT, TOL, WASM, modelPath, readJsonl, run } from './common.js';

const GOLDEN = path.join(ROOT, 'tests/golden/ui-en-fr.long.jsonl');
const skip = (!existsSync(modelPath('ui-en-fr')) && 'models/ui-en-fr missing') ||
  (!existsSync(WASM) && 'dist/stele.wasm missing (make wasm)');
const RAW = { normalize: false, protect: false };

test('long outputs: wasm and native match the reference (tokens, scores within 1e-4)', { skip }, async () => {
  const recs = readJsonl(GOLDEN);
  assert.ok(recs.length >= 3 && recs.some((r) => r.greedy.length >= 200), 'an output of 200+ pieces');
  const t = await Translator.load(modelPath('ui-en-fr'));
  try {
    for (const r of recs) {
      const g = t.translate(r.src, { beam: 1, ...RAW });
      assert.deepEqual([...g.targetIds], r.greedy, `wasm greedy tokens, ${r.greedy.length} pieces`);
      assert.ok(Math.abs(g.score - r.greedy_score) <= TOL, `wasm greedy score ${g.score} vs ${r.greedy_score}`);
      const b = t.translate(r.src, { beam: 5, ...RAW });
      assert.deepEqual([...b.targetIds], r.beam, 'wasm beam tokens');
      assert.ok(Math.abs(b.score - r.beam_score) <= TOL, `wasm beam score ${b.score} vs ${r.beam_score}`);
    }
  } finally {
    t.dispose();
  }
  if (!existsSync(NATIVE)) return;   // test-c builds it; without it the wasm half stands alone
  for (const [beam, key] of [[1, 'greedy'], [5, 'beam']]) {
    const out = run(NATIVE, ['translate', '-m', modelPath('ui-en-fr'), '--beam', String(beam), '--json',
      '--no-normalize', '--no-protect', ...recs.map((r) => r.src)]);
    assert.equal(out.status, 0, out.stderr);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    lines.forEach((l, i) => {
      assert.ok(Math.abs(l.score - recs[i][`${key}_score`]) <= TOL,
        `native ${key} score ${l.score} vs ${recs[i][`${key}_score`]}`);
      assert.equal(l.pieces.length, recs[i][key].length, `native ${key} length`);
    });
  }
});
