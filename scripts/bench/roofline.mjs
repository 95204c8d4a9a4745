// Kernel microbenchmark (wasm SIMD128): times build/bench/kernels.wasm (scripts/bench/kernels.c
// with src/kernels_simd128.c) from JS. Items, as for the native build:
//   "read:BYTES"    streaming read bandwidth over a buffer of BYTES (GB/s)
//   "linear:M,N,K"  stele's k_linear, y[M,N] = x[M,K] W[N,K]^T + b (GFLOP/s and GB/s of W)
//   "gemvs:NxK+..." the GEMVs of one batch-1 decoder step on their own matrices, in order (ms, GB/s)
//   "conv:H,W,Ci,Co" the kernel set's conv3x3_relu on one CNN layer (ms per call, GFLOP/s with
//                   2 H W 9 Ci Co flops)
//   "peak"          6x8 register-blocked multiply-add micro-kernel in L1 (GFLOP/s)
//   "peak4x8"       the same with a 4x8 block (no register spills whatever V8 reserves)
// Each item: one warm-up call, then the best of 5 timed calls (conv and peak4x8: 20 short ones).
import fs from 'node:fs';

export async function wasmKernels(wasmPath) {
  let mem;
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmPath), {
    env: { emscripten_notify_memory_growth: () => {} },
  });
  const x = instance.exports;
  x._initialize?.();
  mem = x.memory;
  const alloc = (n) => {
    const p = x.kb_alloc(n);
    if (!p) throw new Error(`kernels.wasm: out of memory (${n} floats)`);
    return p;
  };
  const best = (f, calls = 5) => {
    f();
    let b = Infinity;
    for (let t = 0; t < calls; t++) {
      const t0 = performance.now();
      f();
      b = Math.min(b, performance.now() - t0);
    }
    return b / 1000;
  };
  return {
    run(item) {
      if (item.startsWith('read:')) {
        const n = Math.floor(Number(item.slice(5)) / 4) & ~31;
        const p = alloc(n);
        const reps = Math.floor(4e8 / (4 * n)) + 1;
        const dt = best(() => x.kb_read(p, n, reps));
        x.kb_free(p);
        return { item, bytes: 4 * n, gb_s: (4 * n * reps) / dt / 1e9 };
      }
      if (item.startsWith('linear:')) {
        const [M, N, K] = item.slice(7).split(',').map(Number);
        const w = alloc(N * K), xx = alloc(M * K), b = alloc(N), y = alloc(M * N);
        const reps = Math.floor(2e8 / (2 * M * N * K)) + 1;
        const dt = best(() => x.kb_linear(y, xx, w, b, M, N, K, reps));
        for (const p of [w, xx, b, y]) x.kb_free(p);
        return { item, gflop_s: (2 * M * N * K * reps) / dt / 1e9, gb_s: (4 * N * K * reps) / dt / 1e9 };
      }
      if (item.startsWith('gemvs:')) {
        const mats = item.slice(6).split('+').map((m) => m.split('x').map(Number));
        const ws = mats.map(([n, k]) => alloc(n * k));
        const nmax = Math.max(...mats.map((m) => m[0])), kmax = Math.max(...mats.map((m) => m[1]));
        const xx = alloc(kmax), y = alloc(nmax), arr = alloc(3 * mats.length);
        const bytes = mats.reduce((a, [n, k]) => a + 4 * n * k, 0);
        const v = new Int32Array(mem.buffer, arr, 3 * mats.length);
        mats.forEach(([n, k], i) => { v[i] = ws[i]; v[mats.length + i] = n; v[2 * mats.length + i] = k; });
        const reps = Math.floor(4e8 / bytes) + 1;
        const dt = best(() => x.kb_gemvs(y, xx, arr, arr + 4 * mats.length, arr + 8 * mats.length, mats.length, reps));
        for (const p of [...ws, xx, y, arr]) x.kb_free(p);
        return { item, bytes, ms: (dt / reps) * 1000, gb_s: (bytes * reps) / dt / 1e9 };
      }
      if (item.startsWith('conv:')) {
        const [H, W, Ci, Co] = item.slice(5).split(',').map(Number);
        const xx = alloc((H + 2) * (W + 2) * Ci), w = alloc(9 * Ci * Co), b = alloc(Co), y = alloc(H * W * Co);
        // short calls (~2e7 flops, about a millisecond), best of 20: on a shared, loaded machine
        // a call longer than a scheduler slice is seldom timed alone
        const fl = 2 * H * W * 9 * Ci * Co;
        const reps = Math.floor(2e7 / fl) + 1;
        const dt = best(() => x.kb_conv3x3(y, xx, w, b, H, W, Ci, Co, reps), 20);
        for (const p of [xx, w, b, y]) x.kb_free(p);
        return { item, ms: (dt / reps) * 1000, gflop_s: (fl * reps) / dt / 1e9 };
      }
      if (item === 'peak') {
        // ~2e8 flops a call (10-30 ms): long calls are more often preempted on a shared machine
        const a = alloc(6 * 256), bm = alloc(24 * 256), reps = Math.ceil(2e8 / x.kb_peak_flops());
        const dt = best(() => x.kb_peak(a, bm, reps));
        x.kb_free(a);
        x.kb_free(bm);
        return { item, gflop_s: (x.kb_peak_flops() * reps) / dt / 1e9 };
      }
      if (item === 'peak4x8') {
        const a = alloc(4 * 256), bm = alloc(8 * 256), reps = Math.ceil(2e7 / (2 * 4 * 8 * 256));
        const dt = best(() => x.kb_peak4x8(a, bm, reps), 20);   // as conv: short calls
        x.kb_free(a);
        x.kb_free(bm);
        return { item, gflop_s: (2 * 4 * 8 * 256 * reps) / dt / 1e9 };
      }
      throw new Error(`unknown kernel item ${item}`);
    },
    get heapBytes() {
      return mem.buffer.byteLength;
    },
  };
}
