/* bench-conv: the conv3x3 + ReLU kernel of the kernel set in use on the CNN shapes of an image
 * model (default: models/scenes-caption's blocks, 84x84 gray, channels 16, 32, 64), in GFLOP/s
 * (2 flops per multiply-add), against the machine's measured multiply-add peak for one thread
 * of the same vector width: WebAssembly SIMD128 (f32x4 mul + add, no FMA) when built with
 * Emscripten, AVX2 FMA natively (scalar: no peak shown). Also the whole CNN (conv + pool) per
 * image. Single thread; every time is the best of many runs (a shared machine interrupts some).
 * Native: make bench-conv; the wasm build runs the same file in Node. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../src/kernels.h"
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif
#if !defined(__wasm__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#endif

static unsigned rng = 7u;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 16777216.0)) - 0.5f;
}

/* A monotonic clock with sub-millisecond resolution (stele_now's timespec_get is Date.now() in
 * Emscripten: whole milliseconds). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

volatile float ONE = 1.0f, TINY = 1e-30f;   /* unknown to the compilers: nothing folds */

/* Multiply-add peak of one thread: the best of two loops of independent multiplies and adds (or
 * FMAs) kept in named registers (an array of vectors was kept in memory), each in a function
 * called many times, short calls, the best counted: V8 runs a function's first calls in its
 * baseline compiler and has no on-stack replacement for WebAssembly (make bench-conv runs Node
 * with --no-liftoff), and a shared machine interrupts some calls. Every multiply and every add
 * counts one flop per lane (a multiply-add pair: 2). */
#define CHAINS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define CHAINS12(X) CHAINS6(X) X(6) X(7) X(8) X(9) X(10) X(11)
enum { PEAK_ITERS = 100000, PEAK_CALLS = 400 };
#ifdef __wasm_simd128__
/* 6 multiply chains m *= 1 and 6 add chains a += m: 12 vector ops per iteration */
__attribute__((noinline)) static float peak_chains(long iters)
{
    const v128_t one = wasm_f32x4_splat(ONE);
#define DECL(i) v128_t m##i = wasm_f32x4_splat((float)i + ONE), a##i = wasm_f32x4_splat(ONE);
#define STEP(i) m##i = wasm_f32x4_mul(m##i, one); a##i = wasm_f32x4_add(a##i, m##i);
#define SUM(i) sink += wasm_f32x4_extract_lane(a##i, 0);
    CHAINS6(DECL)
    for (long k = 0; k < iters; k++) {
        CHAINS6(STEP)
    }
    float sink = 0;
    CHAINS6(SUM)
    return sink;
}
/* the conv's pattern without memory: 2 inputs (advanced by an add) x 3 weights into 6
 * accumulators: 6 multiplies + 8 adds per iteration */
__attribute__((noinline)) static float peak_outer(long iters)
{
    const v128_t d = wasm_f32x4_splat(TINY), w0 = wasm_f32x4_splat(ONE * 0.5f);
    const v128_t w1 = wasm_f32x4_splat(ONE * 0.25f), w2 = wasm_f32x4_splat(ONE * 0.125f);
    v128_t x0 = wasm_f32x4_splat(ONE), x1 = wasm_f32x4_splat(ONE * 2);
    v128_t a0 = d, a1 = d, a2 = d, a3 = d, a4 = d, a5 = d;
    for (long k = 0; k < iters; k++) {
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, w0));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x0, w1));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(x0, w2));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(x1, w0));
        a4 = wasm_f32x4_add(a4, wasm_f32x4_mul(x1, w1));
        a5 = wasm_f32x4_add(a5, wasm_f32x4_mul(x1, w2));
        x0 = wasm_f32x4_add(x0, d);
        x1 = wasm_f32x4_add(x1, d);
    }
    v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)),
                              wasm_f32x4_add(a4, a5));
    return wasm_f32x4_extract_lane(s, 0);
}
/* the same with 2 inputs x 4 weights into 8 accumulators: 8 multiplies + 10 adds */
__attribute__((noinline)) static float peak_outer8(long iters)
{
    const v128_t d = wasm_f32x4_splat(TINY), w0 = wasm_f32x4_splat(ONE * 0.5f);
    const v128_t w1 = wasm_f32x4_splat(ONE * 0.25f), w2 = wasm_f32x4_splat(ONE * 0.125f);
    const v128_t w3 = wasm_f32x4_splat(ONE * 0.0625f);
    v128_t x0 = wasm_f32x4_splat(ONE), x1 = wasm_f32x4_splat(ONE * 2);
    v128_t a0 = d, a1 = d, a2 = d, a3 = d, a4 = d, a5 = d, a6 = d, a7 = d;
    for (long k = 0; k < iters; k++) {
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, w0));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x0, w1));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(x0, w2));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(x0, w3));
        a4 = wasm_f32x4_add(a4, wasm_f32x4_mul(x1, w0));
        a5 = wasm_f32x4_add(a5, wasm_f32x4_mul(x1, w1));
        a6 = wasm_f32x4_add(a6, wasm_f32x4_mul(x1, w2));
        a7 = wasm_f32x4_add(a7, wasm_f32x4_mul(x1, w3));
        x0 = wasm_f32x4_add(x0, d);
        x1 = wasm_f32x4_add(x1, d);
    }
    v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)),
                              wasm_f32x4_add(wasm_f32x4_add(a4, a5), wasm_f32x4_add(a6, a7)));
    return wasm_f32x4_extract_lane(s, 0);
}
static const struct {
    float (*run)(long);
    double flops_per_iter;
} PEAK_LOOPS[] = {{peak_chains, 12 * 4}, {peak_outer, 14 * 4}, {peak_outer8, 18 * 4}};
static const char *const PEAK_WHAT = "SIMD128 f32x4 mul + add";
static int peak_available(void) { return 1; }
#elif !defined(__wasm__) && (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
/* 12 FMA chains (latency 4 or less, two FMA units) */
__attribute__((target("avx2,fma"), noinline)) static float peak_fma(long iters)
{
    const __m256 x = _mm256_set1_ps(ONE), y = _mm256_set1_ps(TINY);
#define DECL(i) __m256 a##i = _mm256_set1_ps((float)i + ONE);
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, x, y);
#define SUM(i) sink += _mm256_cvtss_f32(a##i);
    CHAINS12(DECL)
    for (long k = 0; k < iters; k++) {
        CHAINS12(STEP)
    }
    float sink = 0;
    CHAINS12(SUM)
    return sink;
}
static const struct {
    float (*run)(long);
    double flops_per_iter;
} PEAK_LOOPS[] = {{peak_fma, 12 * 8 * 2}};
static const char *const PEAK_WHAT = "AVX2 FMA, 8 lanes";
static int peak_available(void) { return kernels_avx2_usable(); }
#else
static float peak_none(long iters) { return (float)iters; }
static const struct {
    float (*run)(long);
    double flops_per_iter;
} PEAK_LOOPS[] = {{peak_none, 0}};
static const char *const PEAK_WHAT = "none";
static int peak_available(void) { return 0; }
#endif

static double peak_gflops(void)
{
    if (!peak_available())
        return 0.0;
    double peak = 0.0;
    float sink = 0;
    for (size_t l = 0; l < sizeof PEAK_LOOPS / sizeof *PEAK_LOOPS; l++) {
        double best = 1e30;
        for (int c = 0; c < PEAK_CALLS; c++) {
            double t0 = now();
            sink += PEAK_LOOPS[l].run(PEAK_ITERS);
            double d = now() - t0;
            best = d < best ? d : best;
        }
        double g = PEAK_LOOPS[l].flops_per_iter * PEAK_ITERS / best / 1e9;
        peak = g > peak ? g : peak;
    }
    if (sink == 12345.0f)
        printf("%g\n", sink);
    return peak;
}

int main(void)
{
    const kernels *k = NULL;
    if (kernels_select(&k, NULL) != STELE_OK) {
        printf("bench-conv: STELE_KERNELS names a kernel set this CPU lacks\n");
        return 1;
    }
    /* scalar: no peak of its own (the AVX2 one would mislead). Measured before and after the
       convolutions, the larger counted (other work on a shared machine slows some runs). */
    const int with_peak = strcmp(k->name, "scalar") != 0;
    double peak = with_peak ? peak_gflops() : 0.0;
    printf("bench-conv: kernels %s, one thread\n", k->name);
    enum { NB = 3 };
    double gf[NB];
    const int Hs[NB] = {84, 42, 21}, Cis[NB] = {1, 16, 32}, Cos[NB] = {16, 32, 64};
    float *x[NB], *w[NB], *b[NB], *y[NB], *p[NB];
    double flops_all = 0, t_all = 0;
    for (int i = 0; i < NB; i++) {
        const int H = Hs[i], Ci = Cis[i], Co = Cos[i];
        const size_t nx = (size_t)(H + 2) * (H + 2) * Ci, nw = (size_t)9 * Ci * Co;
        x[i] = calloc(nx, sizeof(float));
        w[i] = malloc(sizeof(float) * nw);
        b[i] = malloc(sizeof(float) * Co);
        y[i] = malloc(sizeof(float) * (size_t)H * H * Co);
        p[i] = malloc(sizeof(float) * (size_t)(H / 2) * (H / 2) * Co);
        if (!x[i] || !w[i] || !b[i] || !y[i] || !p[i])
            return 1;
        for (int r = 1; r <= H; r++)
            for (int c = 1; c <= H; c++)
                for (int j = 0; j < Ci; j++)
                    x[i][((size_t)r * (H + 2) + c) * Ci + j] = frand();
        for (size_t j = 0; j < nw; j++)
            w[i][j] = frand();
        for (int j = 0; j < Co; j++)
            b[i][j] = frand();
        const double flops = 2.0 * H * H * Ci * Co * 9;
        /* runs of ~20 MFLOP (a millisecond or so), the best of 60 counted */
        const int per_run = (int)(2e7 / flops) + 1;
        k->conv3x3_relu(y[i], x[i], w[i], b[i], H, H, Ci, Co);   /* warm-up */
        double dt = 1e30;
        for (int run = 0; run < 60; run++) {
            double t0 = now();
            for (int r = 0; r < per_run; r++)
                k->conv3x3_relu(y[i], x[i], w[i], b[i], H, H, Ci, Co);
            double d = (now() - t0) / per_run;
            dt = d < dt ? d : dt;
        }
        const double g = gf[i] = flops / dt / 1e9;
        printf("conv3x3_relu %2dx%-2d %2d -> %2d channels: %8.1f us, %6.2f GFLOP/s\n", H, H, Ci,
               Co, dt * 1e6, g);
        flops_all += flops;
        t_all += dt;
    }
    printf("conv3x3_relu, the three shapes together: %.2f GFLOP/s\n", flops_all / t_all / 1e9);
    if (with_peak) {
        double again = peak_gflops();
        peak = again > peak ? again : peak;
    }
    if (peak > 0)
        printf("multiply-add peak (%s, measured): %.1f GFLOP/s; conv3x3_relu %.0f%%, %.0f%%, "
               "%.0f%% of it, the three shapes together %.0f%%\n", PEAK_WHAT, peak,
               100 * gf[0] / peak, 100 * gf[1] / peak, 100 * gf[2] / peak,
               100 * flops_all / t_all / 1e9 / peak);
    else
        printf("multiply-add peak: not measured for kernels %s\n", k->name);
    /* the CNN of one image: conv + pool per block (pool into the next block's input) */
    double best = 1e30, sum = 0;
    const int runs = 60, per_run = 2;
    for (int run = 0; run < runs; run++) {
        double t0 = now();
        for (int r = 0; r < per_run; r++)
            for (int i = 0; i < NB; i++) {
                const int H = Hs[i];
                k->conv3x3_relu(y[i], x[i], w[i], b[i], H, H, Cis[i], Cos[i]);
                k->maxpool2x2(p[i], (H / 2) * Cos[i], y[i], H, H, Cos[i]);
            }
        double d = (now() - t0) / per_run;
        best = d < best ? d : best;
        sum += d;
    }
    printf("CNN (3 blocks, conv + pool) per 84x84 image: best %.3f ms, mean %.3f ms\n",
           best * 1e3, sum / runs * 1e3);
    for (int i = 0; i < NB; i++) {
        free(x[i]); free(w[i]); free(b[i]); free(y[i]); free(p[i]);
    }
    return 0;
}
