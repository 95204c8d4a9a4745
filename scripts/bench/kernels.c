/* Kernel microbenchmark for `make bench` (roofline): stele's k_linear as GEMV (M = 1) and GEMM
 * against (a) the read bandwidth this core reaches on a buffer of the same size and (b) the
 * peak of a register-blocked SIMD multiply-add micro-kernel on L1-resident data; and (for the
 * captioning section, scripts/bench/caption.mjs) the kernel set's conv3x3_relu on a CNN layer's
 * shape against the same peak.
 *
 * Built twice from this file:
 *   wasm   (emcc -msimd128 with src/kernels_simd128.c): exports kb_*; scripts/bench/roofline.mjs
 *          times the calls from JS;
 *   native (-mavx2 -mfma, with build/libstele.a's kernels_avx2): main() runs the same
 *          measurements, prints JSON (exits 1 on a CPU without AVX2+FMA).
 * Each kb_* call repeats its work `reps` times and returns a value derived from the results so
 * that nothing is optimised away. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define KB_EXPORT(name) __attribute__((export_name(#name)))
#define KB_KERNELS kernels_simd128
#else
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
#define KB_EXPORT(name)
#define KB_KERNELS kernels_avx2
#endif

KB_EXPORT(kb_alloc)
float *kb_alloc(int n)
{
    float *p = aligned_alloc(64, ((size_t)n * sizeof(float) + 63) & ~(size_t)63);
    if (p)
        for (int i = 0; i < n; i++)
            p[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    return p;
}

KB_EXPORT(kb_free)
void kb_free(float *p) { free(p); }

/* Streams n floats (n a multiple of 32) reps times with independent accumulators. */
KB_EXPORT(kb_read)
float kb_read(const float *p, int n, int reps)
{
    float total = 0.0f;
    for (int r = 0; r < reps; r++) {
#if defined(__wasm_simd128__)
        v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
               a7 = a0;
        for (int i = 0; i < n; i += 32) {
            a0 = wasm_f32x4_add(a0, wasm_v128_load(p + i));
            a1 = wasm_f32x4_add(a1, wasm_v128_load(p + i + 4));
            a2 = wasm_f32x4_add(a2, wasm_v128_load(p + i + 8));
            a3 = wasm_f32x4_add(a3, wasm_v128_load(p + i + 12));
            a4 = wasm_f32x4_add(a4, wasm_v128_load(p + i + 16));
            a5 = wasm_f32x4_add(a5, wasm_v128_load(p + i + 20));
            a6 = wasm_f32x4_add(a6, wasm_v128_load(p + i + 24));
            a7 = wasm_f32x4_add(a7, wasm_v128_load(p + i + 28));
        }
        v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)),
                                  wasm_f32x4_add(wasm_f32x4_add(a4, a5), wasm_f32x4_add(a6, a7)));
        total += wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
#else
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < n; i += 32) {
            a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
            a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
            a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
            a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
        }
        __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        float t[8];
        _mm256_storeu_ps(t, s);
        total += t[0] + t[7];
#endif
    }
    return total;
}

/* y [M, N] = x [M, K] w[N, K]^T + b, reps times: stele's k_linear. */
KB_EXPORT(kb_linear)
float kb_linear(float *y, const float *x, const float *w, const float *b, int M, int N, int K,
                int reps)
{
    for (int r = 0; r < reps; r++)
        KB_KERNELS.linear(y, N, x, K, w, K, b, M, N, K, 0);
    return y[0] + y[(size_t)M * N - 1];
}

/* The GEMVs of one batch-1 decoder step, each on its own matrix (w[i]: n[i] x k[i]), in order,
 * reps times: what k_linear alone attains on a step's working set, the floor for the engine. x
 * and y hold max k and max n floats. */
KB_EXPORT(kb_gemvs)
float kb_gemvs(float *y, const float *x, float *const *w, const int *n, const int *k, int count,
               int reps)
{
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < count; i++)
            KB_KERNELS.linear(y, n[i], x, k[i], w[i], k[i], NULL, 1, n[i], k[i], 0);
    return y[0];
}

/* The kernel set's 3x3 convolution + bias + ReLU (src/kernels.h: x [H + 2, W + 2, Ci] padded,
 * w [3, 3, Ci, Co], y [H, W, Co]), reps times: one CNN layer of a caption model. The timing does
 * not depend on the values (kb_alloc's pattern, border included). Flops per call: 2 H W 9 Ci Co
 * (multiply-adds of the taps; bias and ReLU not counted). */
KB_EXPORT(kb_conv3x3)
float kb_conv3x3(float *y, const float *x, const float *w, const float *b, int H, int W, int Ci,
                 int Co, int reps)
{
    for (int r = 0; r < reps; r++)
        KB_KERNELS.conv3x3_relu(y, x, w, b, H, W, Ci, Co);
    return y[0] + y[(size_t)H * W * Co - 1];
}

/* Peak multiply-add rate of an outer-product micro-kernel over a K = 256 panel held in L1:
 * wasm 6 x 8 (12 accumulator vectors + 2 b + 1 broadcast: fits the ~15 xmm registers V8 uses),
 * native 4 x 24 (12 ymm accumulators, FMA). */
#define KB_PEAK_K 256
KB_EXPORT(kb_peak)
float kb_peak(const float *a, const float *bm, int reps)
{
    float total = 0.0f;
    for (int r = 0; r < reps; r++) {
#if defined(__wasm_simd128__)
        v128_t c[6][2];
        for (int i = 0; i < 6; i++)
            c[i][0] = c[i][1] = wasm_f32x4_splat(0);
        for (int k = 0; k < KB_PEAK_K; k++) {
            v128_t b0 = wasm_v128_load(bm + 8 * k), b1 = wasm_v128_load(bm + 8 * k + 4);
            for (int i = 0; i < 6; i++) {
                v128_t av = wasm_v128_load32_splat(a + 6 * k + i);
                c[i][0] = wasm_f32x4_add(c[i][0], wasm_f32x4_mul(av, b0));
                c[i][1] = wasm_f32x4_add(c[i][1], wasm_f32x4_mul(av, b1));
            }
        }
        for (int i = 0; i < 6; i++)
            total += wasm_f32x4_extract_lane(c[i][0], 1) + wasm_f32x4_extract_lane(c[i][1], 2);
#else
        __m256 c[4][3];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++)
                c[i][j] = _mm256_setzero_ps();
        for (int k = 0; k < KB_PEAK_K; k++) {
            __m256 b0 = _mm256_load_ps(bm + 24 * k), b1 = _mm256_load_ps(bm + 24 * k + 8),
                   b2 = _mm256_load_ps(bm + 24 * k + 16);
            for (int i = 0; i < 4; i++) {
                __m256 av = _mm256_broadcast_ss(a + 4 * k + i);
                c[i][0] = _mm256_fmadd_ps(av, b0, c[i][0]);
                c[i][1] = _mm256_fmadd_ps(av, b1, c[i][1]);
                c[i][2] = _mm256_fmadd_ps(av, b2, c[i][2]);
            }
        }
        float t[8];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++) {
                _mm256_storeu_ps(t, c[i][j]);
                total += t[1];
            }
#endif
    }
    return total;
}

#if defined(__wasm_simd128__)
/* A second peak micro-kernel for wasm, 4 x 8 (8 accumulators in named variables, 2 b vectors, 1
 * broadcast: 11 registers, so no spill whatever V8 reserves); the captioning section takes the
 * better of the two as the SIMD128 multiply-add peak. 2 * 4 * 8 * KB_PEAK_K flops a repetition. */
#define KB_MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
KB_EXPORT(kb_peak4x8)
float kb_peak4x8(const float *a, const float *bm, int reps)
{
    float total = 0.0f;
    for (int r = 0; r < reps; r++) {
        v128_t z = wasm_f32x4_splat(0), c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z,
               c30 = z, c31 = z;
        for (int k = 0; k < KB_PEAK_K; k++) {
            v128_t b0 = wasm_v128_load(bm + 8 * k), b1 = wasm_v128_load(bm + 8 * k + 4);
            v128_t x = wasm_v128_load32_splat(a + 4 * k);
            c00 = KB_MADD(x, b0, c00), c01 = KB_MADD(x, b1, c01);
            x = wasm_v128_load32_splat(a + 4 * k + 1);
            c10 = KB_MADD(x, b0, c10), c11 = KB_MADD(x, b1, c11);
            x = wasm_v128_load32_splat(a + 4 * k + 2);
            c20 = KB_MADD(x, b0, c20), c21 = KB_MADD(x, b1, c21);
            x = wasm_v128_load32_splat(a + 4 * k + 3);
            c30 = KB_MADD(x, b0, c30), c31 = KB_MADD(x, b1, c31);
        }
        v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(c00, c01), wasm_f32x4_add(c10, c11)),
                                  wasm_f32x4_add(wasm_f32x4_add(c20, c21), wasm_f32x4_add(c30, c31)));
        total += wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
    }
    return total;
}
#endif

/* Flops of one kb_peak repetition. */
KB_EXPORT(kb_peak_flops)
double kb_peak_flops(void)
{
#if defined(__wasm_simd128__)
    return 2.0 * 6 * 8 * KB_PEAK_K;
#else
    return 2.0 * 4 * 24 * KB_PEAK_K;
#endif
}

#if !defined(__wasm_simd128__)
/* Native driver: argv = "read:BYTES" | "linear:M,N,K" | "gemvs:NxK+NxK+..." | "conv:H,W,Ci,Co" |
 * "peak" items;
 * prints one JSON array with the best-of-5 rate of each (conv and peak: best of 20 short calls;
 * the same items scripts/bench/roofline.mjs times in wasm). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static volatile float sink;

int main(int argc, char **argv)
{
    if (!kernels_avx2_usable()) {
        fprintf(stderr, "kernels-native: this CPU does not run AVX2 and FMA instructions\n");
        return 1;
    }
    printf("[");
    for (int i = 1; i < argc; i++) {
        double best = 1e30, work = 0;
        const char *kind = argv[i];
        if (!strncmp(kind, "read:", 5)) {
            int n = (int)(atof(kind + 5) / 4) & ~31;
            float *p = kb_alloc(n);
            int reps = (int)(4e8 / (4.0 * n)) + 1;
            sink = kb_read(p, n, reps);
            for (int t = 0; t < 5; t++) {
                double t0 = now();
                sink = kb_read(p, n, reps);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            work = 4.0 * n * reps;
            printf("%s{\"item\":\"%s\",\"bytes\":%.0f,\"gb_s\":%.3f}", i > 1 ? "," : "", kind,
                   4.0 * n, work / best * 1e-9);
            free(p);
        } else if (!strncmp(kind, "linear:", 7)) {
            int M, N, K;
            sscanf(kind + 7, "%d,%d,%d", &M, &N, &K);
            float *w = kb_alloc(N * K), *x = kb_alloc(M * K), *b = kb_alloc(N), *y = kb_alloc(M * N);
            int reps = (int)(2e8 / (2.0 * M * N * K)) + 1;
            sink = kb_linear(y, x, w, b, M, N, K, reps);
            for (int t = 0; t < 5; t++) {
                double t0 = now();
                sink = kb_linear(y, x, w, b, M, N, K, reps);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            double fl = 2.0 * M * N * K * reps, by = 4.0 * N * K * reps;
            printf("%s{\"item\":\"%s\",\"gflop_s\":%.3f,\"gb_s\":%.3f}", i > 1 ? "," : "", kind,
                   fl / best * 1e-9, by / best * 1e-9);
            free(w), free(x), free(b), free(y);
        } else if (!strncmp(kind, "gemvs:", 6)) {
            float *w[16];
            int n[16], k[16], count = 0, nmax = 0, kmax = 0;
            double bytes = 0;
            const char *q = kind + 6;
            while (count < 16 && sscanf(q, "%dx%d", &n[count], &k[count]) == 2) {
                w[count] = kb_alloc(n[count] * k[count]);
                bytes += 4.0 * n[count] * k[count];
                nmax = n[count] > nmax ? n[count] : nmax;
                kmax = k[count] > kmax ? k[count] : kmax;
                count++;
                q = strchr(q, '+');
                if (!q)
                    break;
                q++;
            }
            float *x = kb_alloc(kmax), *y = kb_alloc(nmax);
            int reps = (int)(4e8 / bytes) + 1;
            sink = kb_gemvs(y, x, w, n, k, count, reps);
            for (int t = 0; t < 5; t++) {
                double t0 = now();
                sink = kb_gemvs(y, x, w, n, k, count, reps);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            printf("%s{\"item\":\"%s\",\"bytes\":%.0f,\"ms\":%.4f,\"gb_s\":%.3f}", i > 1 ? "," : "",
                   kind, bytes, best / reps * 1e3, bytes * reps / best * 1e-9);
            for (int j = 0; j < count; j++)
                free(w[j]);
            free(x), free(y);
        } else if (!strncmp(kind, "conv:", 5)) {
            int H, W, Ci, Co;
            sscanf(kind + 5, "%d,%d,%d,%d", &H, &W, &Ci, &Co);
            float *x = kb_alloc((H + 2) * (W + 2) * Ci), *w = kb_alloc(9 * Ci * Co),
                  *b = kb_alloc(Co), *y = kb_alloc(H * W * Co);
            double fl = 2.0 * H * W * 9.0 * Ci * Co;
            int reps = (int)(2e7 / fl) + 1;   /* short calls, best of 20 (as roofline.mjs) */
            sink = kb_conv3x3(y, x, w, b, H, W, Ci, Co, reps);
            for (int t = 0; t < 20; t++) {
                double t0 = now();
                sink = kb_conv3x3(y, x, w, b, H, W, Ci, Co, reps);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            printf("%s{\"item\":\"%s\",\"ms\":%.4f,\"gflop_s\":%.3f}", i > 1 ? "," : "",
                   kind, best / reps * 1e3, fl * reps / best * 1e-9);
            free(x), free(w), free(b), free(y);
        } else if (!strcmp(kind, "peak")) {
            float *a = kb_alloc(6 * KB_PEAK_K), *bm = kb_alloc(24 * KB_PEAK_K);
            /* ~2e7 flops a call, best of 20: on a loaded machine a long call is seldom alone */
            int reps = (int)(2e7 / kb_peak_flops()) + 1;
            sink = kb_peak(a, bm, reps);
            for (int t = 0; t < 20; t++) {
                double t0 = now();
                sink = kb_peak(a, bm, reps);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            printf("%s{\"item\":\"peak\",\"gflop_s\":%.3f}", i > 1 ? "," : "",
                   kb_peak_flops() * reps / best * 1e-9);
            free(a), free(bm);
        }
    }
    printf("]\n");
    return 0;
}
#endif
