// The search's trace in the JS API (options.trace → result.trace, stele_trace_node in C): off
// by default; its returned hypotheses spell nbest's pieces through their parents; greedy has one
// node per step; translateBatch keeps it; a non-boolean is a TypeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Translator } from '../../src/js/stele.js';
import { SMALL_MODEL, WASM } from './common.js';

const skip = !existsSync(WASM) && 'dist/stele.wasm missing';

// The path ending at node i of step t: its ids, first step first.
function path(steps, t, i) {
  const ids = [];
  for (; t >= 0; i = steps[t][i].parent, t--) ids.unshift(steps[t][i].id);
  return ids;
}

test('result.trace: off by default, n-best paths, greedy, batch, option type', { skip }, async () => {
  const t = await Translator.load(SMALL_MODEL);
  try {
    assert.equal(t.translate('29th March 2042').trace, undefined);
    for (const opts of [{ beam: 4, nbest: 3 }, { beam: 2, nbest: 2 }, { beam: 1 }]) {
      for (const text of ['29th March 2042', '3 mars 2021', 'Open the file']) {
        const r = t.translate(text, { ...opts, trace: true });
        const plain = t.translate(text, opts);
        assert.deepEqual(r.nbest.map((h) => h.score), plain.nbest.map((h) => h.score));
        const { steps } = r.trace;
        assert.ok(steps.length >= r.targetIds.length);
        steps.forEach((nodes, s) => {
          assert.ok(nodes.length >= 1 && nodes.length <= 2 * (opts.beam ?? 5), `step ${s}`);
          for (const n of nodes) {
            if (s === 0) assert.equal(n.parent, -1);
            else assert.equal(steps[s - 1][n.parent].status, 'live');
            assert.ok(['live', 'finished', 'pruned'].includes(n.status));
            assert.equal(typeof n.token, 'string');
          }
        });
        if (opts.beam === 1) assert.ok(steps.every((n) => n.length === 1));
        r.nbest.forEach((h, k) => {
          const at = steps.flatMap((nodes, s) => nodes.map((n, i) => [s, i, n])).filter(([, , n]) => n.rank === k);
          assert.equal(at.length, 1, `one node of rank ${k}`);
          const [s, i, n] = at[0];
          assert.equal(n.status, 'finished');
          assert.equal(n.score, h.score);
          assert.deepEqual(path(steps, s, i), Array.from(h.ids), `${text} ${JSON.stringify(opts)} nbest[${k}]`);
        });
      }
    }
    const b = t.translateBatch(['29th March 2042', '3 mars 2021'], { beam: 1, trace: true });
    assert.ok(b.every((r) => r.trace.steps.length === r.targetIds.length));
    assert.equal(t.translate('   ', { trace: true }).trace, undefined);   // empty input: no search
    assert.throws(() => t.translate('x', { trace: 1 }), TypeError);
  } finally {
    t.dispose();
  }
});
