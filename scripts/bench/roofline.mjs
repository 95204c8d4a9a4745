// Kernel microbenchmark (wasm SIMD128): times build/bench/kernels.wasm (scripts/bench/kernels.c
// with src/kernels_simd128.c) from JS. Items, as for the native build:
//   "read:BYTES"    streaming read bandwidth over a buffer of BYTES (GB/s)
//   "linear:M,N,K"  stele's k_linear, y[M,N] = x[M,K] W[N,K]^T + b (GFLOP/s and GB/s of W)
//   "gemvs:NxK+..." the GEMVs of one batch-1 decoder step on their own matrices, in order (ms, GB/s)
//   "peak"          6x8 register-blocked multiply-add micro-kernel in L1 (GFLOP/s)
// Each item: one warm-up call, then the best of 5 timed calls.
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
  const best = (f) => {
    f();
    let b = Infinity;
    for (let t = 0; t < 5; t++) {
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
      if (item === 'peak') {
        const a = alloc(6 * 256), bm = alloc(24 * 256), reps = 100000;
        const dt = best(() => x.kb_peak(a, bm, reps));
        x.kb_free(a);
        x.kb_free(bm);
        return { item, gflop_s: (x.kb_peak_flops() * reps) / dt / 1e9 };
      }
      throw new Error(`unknown kernel item ${item}`);
    },
    get heapBytes() {
      return mem.buffer.byteLength;
    },
  };
}
