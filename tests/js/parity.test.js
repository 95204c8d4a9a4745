// The wasm build against the reference outputs, for every test sentence of each shipped model:
//   - with tests/golden/<model>.outputs.jsonl: source ids, greedy, batched greedy
//     (translateBatch) and beam-5 outputs must equal the reference's, scores within 1e-4; the only excused difference is the native parity
//     test's tie rule (tests/engine/test_shipped.c): at the first step where the outputs part,
//     the reference's two best candidates were within 1e-4 (greedy_gaps[t]; beam_gap);
//   - without it (the goldens are the reference; the C test checks native against them): the
//     test split (build/corpus) against build/stele (native, AVX2) --json
//     outputs; pieces identical, scores within 1e-4; a difference is excused only when both
//     engines' final scores for their outputs are within 1e-4 (a tie the search broke
//     differently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Translator } from '../../src/js/stele.js';
import { SHIPPED, NATIVE, TOL, TEST_SPLIT, modelPath, goldenOutputs, readJsonl, run } from './common.js';

const firstDiff = (a, b) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i === a.length && i === b.length ? -1 : i;
};

for (const name of SHIPPED) {
  test(`${name}: wasm vs reference outputs (golden)`, { skip: !existsSync(goldenOutputs(name)) && 'no golden outputs yet' }, async () => {
    const t = await Translator.load(modelPath(name), { limits: { maxSourceTokens: 1024, maxTargetTokens: 1024 } });
    const recs = readJsonl(goldenOutputs(name));
    // protect: false — the reference translated the raw text (no protected spans); shortlist:
    // false — it scored every piece (ui-en-fr-int8 carries a shortlist)
    const st = { n: 0, tok: 0, greedy: 0, greedyTie: 0, beam: 0, beamTie: 0, maxGreedy: 0, maxBeam: 0 };
    const failures = [];
    for (const rec of recs) {
      st.n++;
      const g = t.translate(rec.src, { beam: 1, protect: false, normalize: false, shortlist: false });
      const srcIds = Array.from(g.sourceIds);
      if (firstDiff(srcIds, rec.src_ids) < 0) st.tok++;
      else failures.push(`${name} ${rec.i}: source ids differ`);
      let d = firstDiff(Array.from(g.targetIds), rec.greedy);
      if (d < 0) {
        st.greedy++;
        const diff = Math.abs(g.score - rec.greedy_score);
        st.maxGreedy = Math.max(st.maxGreedy, diff);
        if (!(diff <= TOL)) failures.push(`${name} ${rec.i}: greedy score diff ${diff}`);
      } else if ((rec.greedy_gaps?.[d] ?? 1e9) <= TOL) {
        st.greedyTie++;
        console.log(`excused tie: ${name} sentence ${rec.i} greedy step ${d} (reference gap ${rec.greedy_gaps[d]})`);
      } else failures.push(`${name} ${rec.i}: greedy differs at step ${d}`);
      const b = t.translate(rec.src, { beam: 5, nbest: 2, protect: false, normalize: false, shortlist: false });
      d = firstDiff(Array.from(b.targetIds), rec.beam);
      if (d < 0) {
        st.beam++;
        const diff = Math.abs(b.score - rec.beam_score);
        st.maxBeam = Math.max(st.maxBeam, diff);
        if (!(diff <= TOL)) failures.push(`${name} ${rec.i}: beam score diff ${diff}`);
      } else if (Math.abs(rec.beam_gap ?? 1e9) <= TOL) {
        st.beamTie++;
        console.log(`excused tie: ${name} sentence ${rec.i} beam (reference gap ${rec.beam_gap})`);
      } else failures.push(`${name} ${rec.i}: beam differs at step ${d}`);
    }
    // batched greedy (translateBatch: a stream of 16 rows): the reference's outputs, by the same
    // rule, and the one-by-one greedy results
    const batched = t.translateBatch(recs.map((r) => r.src), { beam: 1, batchSize: 16, protect: false, normalize: false, shortlist: false });
    let bSame = 0, bTie = 0, bMax = 0;
    recs.forEach((rec, i) => {
      const d = firstDiff(Array.from(batched[i].targetIds), rec.greedy);
      if (d < 0) {
        bSame++;
        const diff = Math.abs(batched[i].score - rec.greedy_score);
        bMax = Math.max(bMax, diff);
        if (!(diff <= TOL)) failures.push(`${name} ${rec.i}: batched greedy score diff ${diff}`);
      } else if ((rec.greedy_gaps?.[d] ?? 1e9) <= TOL) bTie++;
      else failures.push(`${name} ${rec.i}: batched greedy differs at step ${d}`);
    });
    t.dispose();
    console.log(`${name} wasm batched greedy (batchSize 16) vs golden: identical ${bSame}, excused ties ${bTie} ` +
      `(max score diff ${bMax.toExponential(2)})`);
    assert.equal(bSame + bTie, recs.length);
    console.log(`${name} wasm vs golden: ${st.n} sentences; tokenization identical ${st.tok}; greedy identical ` +
      `${st.greedy}, excused ties ${st.greedyTie} (max score diff ${st.maxGreedy.toExponential(2)}); beam-5 identical ` +
      `${st.beam}, excused ties ${st.beamTie} (max score diff ${st.maxBeam.toExponential(2)})`);
    assert.deepEqual(failures.slice(0, 20), []);
    assert.ok(st.n > 0);
  });

  const split = TEST_SPLIT[name];
  test(`${name}: wasm vs native CLI on the test split`, { skip: (existsSync(goldenOutputs(name)) && 'golden outputs checked instead') || (!existsSync(NATIVE) && 'build/stele missing') || (!existsSync(split) && `no ${split}`) }, async () => {
    const lines = readFileSync(split, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const t = await Translator.load(modelPath(name), { limits: { maxSourceTokens: 1024, maxTargetTokens: 1024 } });
    const failures = [];
    for (const [label, opts, args] of [['greedy', { beam: 1 }, ['--beam', '1']], ['beam-5', { beam: 5, nbest: 2 }, ['--beam', '5', '--nbest', '2']]]) {
      const r = run(NATIVE, ['translate', '-m', modelPath(name), '--json', ...args], { input: lines.join('\n') + '\n' });
      const native = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.equal(native.length, lines.length, `native ${label}: ${r.stderr}`);
      let same = 0, ties = 0, maxDiff = 0, errors = 0;
      lines.forEach((line, i) => {
        const n = native[i];
        let w;
        try {
          w = t.translate(line, opts);
        } catch (e) {
          if (n.error === e.code) errors++;
          else failures.push(`${name} ${label} line ${i + 1}: wasm ${e.code}, native ${n.error ?? 'ok'}`);
          return;
        }
        if (n.error) {
          failures.push(`${name} ${label} line ${i + 1}: native ${n.error}, wasm ok`);
          return;
        }
        assert.deepEqual(w.sourceTokens, n.source_pieces, `${name} line ${i + 1}: source pieces`);
        const diff = Math.abs(w.score - n.score);
        if (firstDiff(w.targetTokens, n.pieces) < 0) {
          same++;
          maxDiff = Math.max(maxDiff, diff);
          if (!(diff <= TOL)) failures.push(`${name} ${label} line ${i + 1}: score diff ${diff}`);
        } else if (diff <= TOL) {
          ties++;
          console.log(`excused tie: ${name} ${label} line ${i + 1}: "${w.text}" vs native "${n.text}" (scores ${w.score}, ${n.score})`);
        } else failures.push(`${name} ${label} line ${i + 1}: "${w.text}" vs native "${n.text}"`);
      });
      console.log(`${name} ${label} wasm vs native: ${lines.length} sentences; identical ${same}, excused ties ${ties}, ` +
        `same error ${errors}; max score diff ${maxDiff.toExponential(2)}`);
    }
    t.dispose();
    assert.deepEqual(failures.slice(0, 20), []);
  });
}

test('at least one shipped model exists', () => assert.ok(SHIPPED.length > 0));
