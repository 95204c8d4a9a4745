/* A measuring prototype, not part of the engine: the batch-1 linear y = W x on W stored packed as
 * [N / 16][K][16] (16 output rows interleaved per k; N a multiple of 16), so that one call reads
 * W as a single sequential stream and the 16 outputs of a panel are the lanes of four
 * accumulators (no horizontal sums): the layout onnxruntime's MLAS gives a constant Gemm weight
 * when it pre-packs it. scripts/bench/gemv_ab.mjs times it beside k_linear on the same shapes, to
 * say what a load-time repacking of the weights would buy. Built by scripts/bench/bench.mk
 * (build/bench/gemv_packed.wasm). */
#include <stdlib.h>
#include <wasm_simd128.h>

#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))

__attribute__((export_name("gp_alloc"))) float *gp_alloc(int n)
{
    float *p = aligned_alloc(16, ((size_t)n * sizeof(float) + 15) & ~(size_t)15);
    /* touched, and not zero: pages never written read from the shared zero page */
    for (int i = 0; p && i < n; i++)
        p[i] = (float)((i * 7919) % 1000) * 1e-4f - 0.05f;
    return p;
}

static void gemv_packed(float *y, const float *x, const float *p, int N, int K)
{
    for (int n = 0; n < N; n += 16, p += 16L * K) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
        const float *q = p;
        for (int k = 0; k < K; k++, q += 16) {   /* 64 bytes of W, the 16 rows' w[., k] */
            v128_t xb = wasm_v128_load32_splat(x + k);
            a0 = MADD(xb, wasm_v128_load(q), a0);
            a1 = MADD(xb, wasm_v128_load(q + 4), a1);
            a2 = MADD(xb, wasm_v128_load(q + 8), a2);
            a3 = MADD(xb, wasm_v128_load(q + 12), a3);
        }
        wasm_v128_store(y + n, a0);
        wasm_v128_store(y + n + 4, a1);
        wasm_v128_store(y + n + 8, a2);
        wasm_v128_store(y + n + 12, a3);
    }
}

/* The decoder step's GEMVs in order, as kernels.c's kb_gemvs. */
__attribute__((export_name("gp_gemvs")))
float gp_gemvs(float *y, const float *x, float *const *w, const int *n, const int *k, int count)
{
    for (int i = 0; i < count; i++)
        gemv_packed(y, x, w[i], n[i], k[i]);
    return y[0];
}
