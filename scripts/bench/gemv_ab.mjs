// The batch-1 decoder step's GEMVs alone, A/B, in one Node process: k_linear of one or more
// builds of build/bench/kernels.wasm (e.g. before and after a change to src/kernels_simd128.c),
// the packed-layout prototype (scripts/bench/gemv_packed.c, build/bench/gemv_packed.wasm) and
// onnxruntime-web (one thread) running the same shapes as Gemm nodes with constant weights.
// Interleaved rounds (ROUNDS, default 20); per round and variant 50 calls of the whole sequence,
// each timed, and their median; printed: the median over rounds, the min and max round and the
// spread (max - min) / median. This 2-core machine is shared, so only variants timed in the same
// run compare.
//
//   node scripts/bench/gemv_ab.mjs [KERNELS.wasm ...]      (default build/bench/kernels.wasm)
//   MATS=1536x512+1536x384+256x768+8000x256 (N x K of each weight, in order; default: ui-en-fr's
//   step), ROUNDS=20, ORT=0 to leave onnxruntime-web out (it needs python3-onnx to write the graph)
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.chdir(ROOT);
const env = process.env;
const mats = (env.MATS || '1536x512+1536x384+256x768+8000x256').split('+').map((m) => m.split('x').map(Number));
const bytes = mats.reduce((s, [n, k]) => s + 4 * n * k, 0);
const ROUNDS = Number(env.ROUNDS || 20), CALLS = 50;
const files = process.argv.slice(2).length ? process.argv.slice(2) : ['build/bench/kernels.wasm'];
const imports = { env: { emscripten_notify_memory_growth: () => {} },
  wasi_snapshot_preview1: { proc_exit() {}, fd_close: () => 0, fd_write: () => 0, fd_seek: () => 0 } };

// a wasm module's sequence of GEMVs over its own buffers: alloc(n floats) -> pointer (touched),
// gemvs(y, x, w**, n*, k*, count, ...rest)
async function sequence(file, alloc, gemvs, rest) {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), imports);
  const x = instance.exports;
  x._initialize?.();
  const ws = mats.map(([n, k]) => x[alloc](n * k));
  const kmax = Math.max(...mats.map((m) => m[1])), nmax = Math.max(...mats.map((m) => m[0]));
  const xx = x[alloc](kmax), y = x[alloc](nmax), arr = x[alloc](3 * mats.length);
  if (!ws.every(Boolean) || !xx || !y || !arr) throw new Error(`${file}: out of memory`);
  const v = new Int32Array(x.memory.buffer, arr, 3 * mats.length);
  const c = mats.length;
  mats.forEach(([n, k], i) => { v[i] = ws[i]; v[c + i] = n; v[2 * c + i] = k; });
  return () => x[gemvs](y, xx, arr, arr + 4 * c, arr + 8 * c, c, ...rest);
}

const runs = {};
for (const f of files) runs[`k_linear ${f}`] = await sequence(f, 'kb_alloc', 'kb_gemvs', [1]);
if (fs.existsSync('build/bench/gemv_packed.wasm') && mats.every(([n]) => n % 16 === 0))
  runs['packed [N/16][K][16] prototype'] = await sequence('build/bench/gemv_packed.wasm', 'gp_alloc', 'gp_gemvs', []);
if (env.ORT !== '0') {
  const onnx = 'build/bench/gemv_ab.onnx';
  const py = 'import sys, numpy as np, onnx\nfrom onnx import helper, numpy_helper, TensorProto\n' +
    'mats = [tuple(map(int, m.split("x"))) for m in sys.argv[2].split("+")]\nr = np.random.default_rng(0)\n' +
    'nodes, inits, ins, outs = [], [], [], []\nfor i, (n, k) in enumerate(mats):\n' +
    '    inits += [numpy_helper.from_array((r.standard_normal((n, k)) * 0.05).astype(np.float32), f"W{i}"),\n' +
    '              numpy_helper.from_array(np.zeros(n, np.float32), f"b{i}")]\n' +
    '    ins.append(helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, [1, k]))\n' +
    '    outs.append(helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, [1, n]))\n' +
    '    nodes.append(helper.make_node("Gemm", [f"x{i}", f"W{i}", f"b{i}"], [f"y{i}"], transB=1))\n' +
    'm = helper.make_model(helper.make_graph(nodes, "gemvs", ins, outs, inits), opset_imports=[helper.make_opsetid("", 14)])\n' +
    'm.ir_version = 8\nonnx.save(m, sys.argv[1])\n';
  const r = spawnSync(env.PY || '/usr/bin/python3', ['-c', py, onnx, mats.map((m) => m.join('x')).join('+')]);
  if (r.status === 0) {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const s = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(onnx)),
      { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const feeds = Object.fromEntries(mats.map(([, k], i) =>
      [`x${i}`, new ort.Tensor('float32', Float32Array.from({ length: k }, (_, j) => (j % 7) * 0.1), [1, k])]));
    runs['onnxruntime-web Gemm (one run)'] = () => s.run(feeds);
  } else console.log(`onnxruntime-web left out: could not write its graph (${r.stderr.toString().trim().split('\n').at(-1)})`);
}

const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const res = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [k, f] of Object.entries(runs)) {
    for (let i = 0; i < 5; i++) await f();
    const t = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      await f();
      t.push(performance.now() - t0);
    }
    res[k].push(med(t));
  }
}
console.log(`GEMVs ${mats.map((m) => m.join('x')).join(' + ')} (${(bytes / 1e6).toFixed(1)} MB of weights), ${ROUNDS} rounds:`);
for (const [k, a] of Object.entries(res)) {
  const m = med(a);
  console.log(`  ${k.padEnd(44)} ${m.toFixed(3)} ms (${(bytes / m / 1e6).toFixed(1)} GB/s); rounds ${Math.min(...a).toFixed(3)}-${Math.max(...a).toFixed(3)}, spread ${(100 * (Math.max(...a) - Math.min(...a)) / m).toFixed(0)} %`);
}
