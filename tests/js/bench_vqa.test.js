// The VQA benchmark (scripts/bench/vqa.mjs, `make bench-vqa`) end to end on the tiny random-weight
// VQA model (tests/golden/tiny/vqa-tiny.*, with its position table when it has one): the ONNX export, both engines' outputs against the trace, a short timed pass, the
// report files. No timing assertions (a shared machine's speed says nothing about the code).
// Then the exported graph WITH a random learned position table added to the tiny model without
// one (export_vqa_onnx.py --position-selfcheck) run by onnxruntime-web against the PyTorch
// reference's answers in reference.json: the Python side has no onnxruntime, so this is where the
// graph itself (not its PyTorch module) is checked on that path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, WASM, readTensors, run } from './common.js';

const PY = '/usr/bin/python3';
const TINY = path.join(ROOT, 'tests/golden/tiny/vqa-tiny.safetensors');
// the tiny model without a table: vqa-tiny-nopos once vqa-tiny has one (scripts/golden_vqa.py)
const NOPOS = path.join(ROOT, 'tests/golden/tiny/vqa-tiny-nopos.safetensors');
const PLAIN = existsSync(NOPOS) ? NOPOS : TINY;
const PLAIN_TRACE = PLAIN.replace(/\.safetensors$/, '.trace.safetensors');
const haveOnnx = existsSync(PY) && run(PY, ['-c', 'import torch, onnx']).status === 0;
const skip = (!existsSync(WASM) && 'dist/stele.wasm missing (make wasm)') ||
  (!existsSync(path.join(ROOT, 'node_modules/onnxruntime-web/package.json')) && 'onnxruntime-web missing (npm ci)') ||
  (!haveOnnx && 'python3-torch / python3-onnx missing (make setup-train)');
const TOL = 1e-4;

test('bench-vqa runs end to end on the tiny model', { skip, timeout: 300_000 }, (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'stele-bench-vqa-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const r = run('node', [path.join(ROOT, 'scripts/bench/vqa.mjs')], {
    env: { ...process.env, VQA_MODEL: TINY, OUT: out, REPS: '2', TIME_QUESTIONS: '20', BLOCK: '6' },
  });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const res = JSON.parse(readFileSync(path.join(out, 'vqa.json'), 'utf8'));
  assert.equal(res.settings.questions, 8);
  assert.equal(res.settings.block, 6);
  assert.equal(res.settings.onnx.export_check.answer_mismatches.length, 0);
  for (const name of ['stele-wasm', 'onnxruntime-web']) {
    const e = res.engines[name];
    assert.ok(e.outputs_match, `${name}: ${JSON.stringify(e.outputs)}`);
    assert.equal(e.outputs.same + e.outputs.tie, 8);
    assert.equal(e.outputs.question_ids_differ, 0);
    assert.ok(e.probs_max_abs_diff <= TOL && e.glimpses_max_abs_diff <= TOL);
    assert.equal(e.seconds.n, 2);
    assert.equal(e.runs_answers_per_s.length, 2);
    assert.ok(Number.isFinite(e.answers_per_s) && e.answers_per_s > 0);
    assert.equal(typeof e.varied, 'boolean');
  }
  assert.equal(res.engines_agree.differ, 0);
  assert.ok(Number.isFinite(res.ratios.answers_per_s_vs_onnxruntime));
  assert.equal(res.ratios.per_repetition.length, 2);
  assert.ok(res.machine.cpu && res.machine.loadavg_end.length === 3);
  const md = readFileSync(path.join(out, 'vqa.md'), 'utf8');
  assert.match(md, /\| stele-wasm \| yes \(8\/8\) \|/);
  assert.match(md, /\| onnxruntime-web \| yes \(8\/8\) \|/);
  assert.match(md, /stele-wasm vs onnxruntime-web: answers\/s ×.*blocks of 6 questions/);
  // a second run reuses the export (not older than the model and the script)
  const again = run('node', [path.join(ROOT, 'scripts/bench/vqa.mjs')], {
    env: { ...process.env, VQA_MODEL: TINY, OUT: out, REPS: '1', TIME_QUESTIONS: '4' },
  });
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /export_vqa_onnx\.py --model/);
});

test('a model with a learned position table: the ONNX graph in onnxruntime-web equals the reference', { skip, timeout: 300_000 }, async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'stele-bench-vqa-pos-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const r = run(PY, [path.join(ROOT, 'scripts/bench/export_vqa_onnx.py'), '--model', PLAIN, '--out', out,
    '--trace', PLAIN_TRACE, '--check', '0', '--position-selfcheck']);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /position table, .* 8 answers identical/);
  const { loadOrt, pixelTensor } = await import('../../scripts/bench/common.mjs');
  const { ort, options } = await loadOrt();
  const trace = readTensors(PLAIN_TRACE);
  const [, H, W] = trace.images.shape;
  // runs dir's graph on every question of its reference.json -> the max |diff| of probs and glimpses
  const check = async (dir, refDir) => {
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    const ref = JSON.parse(readFileSync(path.join(refDir, 'reference.json'), 'utf8'));
    const sess = await ort.InferenceSession.create(new Uint8Array(readFileSync(path.join(dir, 'vqa.onnx'))), options);
    const table = Float32Array.from(meta.pixel_table);
    let dp = 0, dg = 0, wrong = 0;
    for (const q of ref.questions) {
      const px = trace.images.data.subarray(q.image * H * W, (q.image + 1) * H * W);
      const o = await sess.run({ image: pixelTensor(ort, table, px, H, W, 1),
        question: new ort.Tensor('int32', Int32Array.from(q.ids), [1, q.ids.length]) });
      const p = o.probs.data;
      let best = 0;
      for (let v = 1; v < p.length; v++) if (p[v] > p[best]) best = v;
      if (best !== q.answer) wrong++;
      q.probs.forEach((v, i) => { dp = Math.max(dp, Math.abs(v - p[i])); });
      q.glimpses.forEach((v, i) => { dg = Math.max(dg, Math.abs(v - o.glimpses.data[i])); });
    }
    await sess.release();
    return { dp, dg, wrong, n: ref.questions.length };
  };
  const pos = path.join(out, 'position');
  const ok = await check(pos, pos);
  assert.equal(ok.n, 8);
  assert.equal(ok.wrong, 0);
  assert.ok(ok.dp <= TOL && ok.dg <= TOL, JSON.stringify(ok));
  // the control: the graph without the table is far from the table's reference (so the check
  // above would catch a graph that ignored it)
  const plain = await check(out, pos);
  assert.ok(plain.dp > 1e-3, JSON.stringify(plain));
});
