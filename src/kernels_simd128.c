/* WebAssembly SIMD128 kernels (kernels.h), compiled when __wasm_simd128__ is defined (Emscripten
 * with -msimd128). 4 f32 lanes, no FMA: multiply then add. pmin/pmax instead of min/max (cheaper
 * NaN handling in V8). Must agree with kernels_scalar.c up to float rounding. The kernel set
 * kernels_simd128, the only one of WebAssembly builds. */
#include "kernels.h"
#include "kernels_q8.h"
#ifdef __wasm_simd128__
#include <math.h>
#include <wasm_simd128.h>

#define SPLAT wasm_f32x4_splat
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))

/* exp(x) as in kernels_avx2.c: Cephes range reduction and polynomial. */
static inline v128_t exp4(v128_t x)
{
    x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, SPLAT(-87.3f)), SPLAT(88.3f));
    v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, SPLAT(1.44269504088896341f)));
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, SPLAT(0.693359375f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, SPLAT(-2.12194440e-4f)));
    v128_t p = SPLAT(1.9875691500e-4f);
    p = MADD(p, r, SPLAT(1.3981999507e-3f));
    p = MADD(p, r, SPLAT(8.3334519073e-3f));
    p = MADD(p, r, SPLAT(4.1665795894e-2f));
    p = MADD(p, r, SPLAT(1.6666665459e-1f));
    p = MADD(p, r, SPLAT(5.0000001201e-1f));
    p = MADD(p, wasm_f32x4_mul(r, r), wasm_f32x4_add(r, SPLAT(1.0f)));
    v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)),
                              23);
    return wasm_f32x4_mul(p, e);
}

static inline v128_t sigmoid4(v128_t x)
{
    return wasm_f32x4_div(SPLAT(1.0f), wasm_f32x4_add(SPLAT(1.0f), exp4(wasm_f32x4_neg(x))));
}

static inline v128_t tanh4(v128_t x)
{
    v128_t sign = wasm_v128_and(x, SPLAT(-0.0f));
    v128_t ax = wasm_f32x4_abs(x);
    v128_t e = exp4(wasm_f32x4_add(ax, ax));
    v128_t t = wasm_f32x4_sub(SPLAT(1.0f), wasm_f32x4_div(SPLAT(2.0f), wasm_f32x4_add(e, SPLAT(1.0f))));
    return wasm_v128_or(t, sign);
}

static inline float hsum4(v128_t v)
{
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

/* The four horizontal sums of a0..a3 as one vector. */
static inline v128_t hsum4x4(v128_t a0, v128_t a1, v128_t a2, v128_t a3)
{
    v128_t t0 = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 1, 4, 5),
                               wasm_i32x4_shuffle(a0, a1, 2, 3, 6, 7));  /* a0 01, a1 01 */
    v128_t t1 = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 1, 4, 5),
                               wasm_i32x4_shuffle(a2, a3, 2, 3, 6, 7));
    return wasm_f32x4_add(wasm_i32x4_shuffle(t0, t1, 0, 2, 4, 6),
                          wasm_i32x4_shuffle(t0, t1, 1, 3, 5, 7));
}

static inline float dot_tail(const float *x, const float *w, int k0, int K)
{
    float s = 0.0f;
    for (int k = k0; k < K; k++)
        s += x[k] * w[k];
    return s;
}

/* y[0], y[q], y[2q], y[3q] (w rows w0 + r q ldw) from their four sums s: the k tail, bias,
 * accumulate. */
static inline void store4(float *y, v128_t s, const float *x, const float *w0, int ldw, long q,
                          int k, int K, const float *bias, int accumulate)
{
    const long r = q * ldw;
    if (k < K)
        s = wasm_f32x4_add(s, wasm_f32x4_make(dot_tail(x, w0, k, K), dot_tail(x, w0 + r, k, K),
                                              dot_tail(x, w0 + 2 * r, k, K),
                                              dot_tail(x, w0 + 3 * r, k, K)));
    if (bias)
        s = wasm_f32x4_add(s, wasm_f32x4_make(bias[0], bias[q], bias[2 * q], bias[3 * q]));
    if (accumulate)
        s = wasm_f32x4_add(s, wasm_f32x4_make(y[0], y[q], y[2 * q], y[3 * q]));
    y[0] = wasm_f32x4_extract_lane(s, 0);
    y[q] = wasm_f32x4_extract_lane(s, 1);
    y[2 * q] = wasm_f32x4_extract_lane(s, 2);
    y[3 * q] = wasm_f32x4_extract_lane(s, 3);
}

/* y[0..1] of one x row from its two accumulators: hsum, the k tail, bias, accumulate, in the
 * order store4 uses, so a row rounds the same in every block. */
static inline void finish_x2(float *yr, v128_t acc0, v128_t acc1, const float *xr,
                             const float *w0, const float *w1, int k, int K, const float *bias,
                             int accumulate)
{
    float s0 = hsum4(acc0), s1 = hsum4(acc1);
    if (k < K) {
        s0 += dot_tail(xr, w0, k, K);
        s1 += dot_tail(xr, w1, k, K);
    }
    if (bias) {
        s0 += bias[0];
        s1 += bias[1];
    }
    yr[0] = accumulate ? yr[0] + s0 : s0;
    yr[1] = accumulate ? yr[1] + s1 : s1;
}

/* One x row against four w rows anywhere (block1x4's, q rows apart, or the shortlist's
 * gathered rows): the four sums, the k tail added after them as store4 does. */
static inline v128_t dot1x4(const float *x0, const float *w0, const float *w1, const float *w2,
                            const float *w3, int K)
{
    v128_t z = wasm_f32x4_splat(0.0f);
    v128_t a0 = z, a1 = z, a2 = z, a3 = z;
    int k = 0;
    for (; k + 4 <= K; k += 4) {
        v128_t x = wasm_v128_load(x0 + k);
        a0 = MADD(x, wasm_v128_load(w0 + k), a0);
        a1 = MADD(x, wasm_v128_load(w1 + k), a1);
        a2 = MADD(x, wasm_v128_load(w2 + k), a2);
        a3 = MADD(x, wasm_v128_load(w3 + k), a3);
    }
    v128_t s = hsum4x4(a0, a1, a2, a3);
    if (k < K)
        s = wasm_f32x4_add(s, wasm_f32x4_make(dot_tail(x0, w0, k, K), dot_tail(x0, w1, k, K),
                                              dot_tail(x0, w2, k, K), dot_tail(x0, w3, k, K)));
    return s;
}

/* One x row against the four w rows w + r q ldw, r = 0..3, into y[r q] (M = 1: the GEMV;
 * simd128_linear says why the rows are q apart). */
static void block1x4(float *y0, const float *x0, const float *w, int ldw, long q,
                     const float *bias, int K, int accumulate)
{
    /* dot1x4 adds the k tail as store4 would: k = K leaves store4 only bias and accumulate */
    store4(y0, dot1x4(x0, w, w + q * ldw, w + 2 * q * ldw, w + 3 * q * ldw, K), x0, w, ldw, q,
           K, K, bias, accumulate);
}

/* R (1..3, a constant after inlining) x rows against two w rows: the rows block4x2 leaves over.
 * Named accumulators, not an array: clang kept an array of them in memory for R = 2 and 4. */
static inline __attribute__((always_inline)) void block_rx2(float *y, int ldy, const float *x,
                                                             int ldx, const float *w, int ldw,
                                                             const float *bias, int K,
                                                             int accumulate, const int R)
{
    const float *w0 = w, *w1 = w + ldw;
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2L * ldx;
    v128_t z = wasm_f32x4_splat(0.0f);
    v128_t a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z;
    int k = 0;
    for (; k + 4 <= K; k += 4) {
        v128_t v0 = wasm_v128_load(w0 + k), v1 = wasm_v128_load(w1 + k);
        v128_t xv = wasm_v128_load(x0 + k);
        a00 = MADD(xv, v0, a00);
        a01 = MADD(xv, v1, a01);
        if (R > 1) {
            xv = wasm_v128_load(x1 + k);
            a10 = MADD(xv, v0, a10);
            a11 = MADD(xv, v1, a11);
        }
        if (R > 2) {
            xv = wasm_v128_load(x2 + k);
            a20 = MADD(xv, v0, a20);
            a21 = MADD(xv, v1, a21);
        }
    }
    const v128_t acc[3][2] = {{a00, a01}, {a10, a11}, {a20, a21}};
    for (int r = 0; r < R; r++)
        finish_x2(y + (long)r * ldy, acc[r][0], acc[r][1], x + (long)r * ldx, w0, w1, k, K, bias,
                  accumulate);
}

/* Four x rows against two w rows, written out: 8 accumulators + 2 w + 1 x + 1 product = 12 of
 * the ~15 xmm registers V8 allocates. (block_rx2 with R = 4 compiled to a loop that ran at less
 * than half this speed.) */
static void block4x2(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                     const float *bias, int K, int accumulate)
{
    const float *w0 = w, *w1 = w + ldw;
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2L * ldx, *x3 = x + 3L * ldx;
    v128_t z = wasm_f32x4_splat(0.0f);
    v128_t a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
    int k = 0;
    for (; k + 4 <= K; k += 4) {
        v128_t v0 = wasm_v128_load(w0 + k), v1 = wasm_v128_load(w1 + k);
        v128_t xv = wasm_v128_load(x0 + k);
        a00 = MADD(xv, v0, a00);
        a01 = MADD(xv, v1, a01);
        xv = wasm_v128_load(x1 + k);
        a10 = MADD(xv, v0, a10);
        a11 = MADD(xv, v1, a11);
        xv = wasm_v128_load(x2 + k);
        a20 = MADD(xv, v0, a20);
        a21 = MADD(xv, v1, a21);
        xv = wasm_v128_load(x3 + k);
        a30 = MADD(xv, v0, a30);
        a31 = MADD(xv, v1, a31);
    }
    const v128_t acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
    for (int r = 0; r < 4; r++)
        finish_x2(y + (long)r * ldy, acc[r][0], acc[r][1], x + (long)r * ldx, w0, w1, k, K, bias,
                  accumulate);
}

/* M = 1 (a GEMV, memory-bound): four w rows per pass, a quarter of the matrix apart (rows n,
 * n + q, n + 2q, n + 3q with q = N / 4), so that each of the four read streams runs on through
 * consecutive rows, one long sequential sweep over a quarter of W, instead of four streams one row
 * (1-3 KB) long that restart at every block of four adjacent rows. On the 2-core AMD EPYC (Zen 5)
 * machine, under its neighbours' load (load average 4-7), k_linear alone on the decoder step's
 * four matrices (14.5 MB) took 0.54-1.21 ms per call with adjacent rows and 0.23-0.40 ms with
 * strided ones (medians of 15-25 interleaved rounds, 8 runs, scripts/bench/gemv_ab.mjs). Only the
 * order of the rows changes: every row sums as before, so the bits are the same.
 * M > 1: two w rows per pass, held in
 * registers while 4 x rows at a time use them (block4x2, then 1..3 left over): W is read once
 * per call however many rows there are, and the compute stays at mul + add per 4 lanes. Every
 * path sums row (m, n) the same way (4 lanes over k, hsum, tail, bias, accumulate), so a row
 * gets the same bits whatever M is; the last N % 4 rows use the scalar reference for every M. */
static void simd128_linear(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                           const float *bias, int M, int N, int K, int accumulate)
{
    const int Nv = N - N % 4;
    if (M == 1) {
        const long q = Nv / 4;
        for (long n = 0; n < q; n++)
            block1x4(y + n, x, w + n * ldw, ldw, q, bias ? bias + n : 0, K, accumulate);
    } else {
        for (int n = 0; n < Nv; n += 2) {
            const float *wn = w + (long)n * ldw, *bn = bias ? bias + n : 0;
            int m = 0;
            for (; m + 4 <= M; m += 4)
                block4x2(y + (long)m * ldy + n, ldy, x + (long)m * ldx, ldx, wn, ldw, bn, K,
                         accumulate);
            float *ym = y + (long)m * ldy + n;
            const float *xm = x + (long)m * ldx;
            if (M - m == 3)
                block_rx2(ym, ldy, xm, ldx, wn, ldw, bn, K, accumulate, 3);
            else if (M - m == 2)
                block_rx2(ym, ldy, xm, ldx, wn, ldw, bn, K, accumulate, 2);
            else if (M - m == 1)
                block_rx2(ym, ldy, xm, ldx, wn, ldw, bn, K, accumulate, 1);
        }
    }
    if (Nv < N)
        ks_linear(y + Nv, ldy, x, ldx, w + (long)Nv * ldw, ldw, bias ? bias + Nv : 0, M, N - Nv, K,
                  accumulate);
}

static void simd128_weighted_sum(float *y, int ldy, const float *a, int lda, const float *v,
                                 int M, int S, int N)
{
    for (int m = 0; m < M; m++) {
        float *yr = y + (long)m * ldy;
        const float *ar = a + (long)m * lda;
        int n = 0;
        for (; n + 16 <= N; n += 16) {
            v128_t c0 = wasm_f32x4_splat(0.0f), c1 = c0, c2 = c0, c3 = c0;
            for (int s = 0; s < S; s++) {
                const float *vr = v + (long)s * N + n;
                v128_t as = SPLAT(ar[s]);
                c0 = MADD(as, wasm_v128_load(vr), c0);
                c1 = MADD(as, wasm_v128_load(vr + 4), c1);
                c2 = MADD(as, wasm_v128_load(vr + 8), c2);
                c3 = MADD(as, wasm_v128_load(vr + 12), c3);
            }
            wasm_v128_store(yr + n, c0);
            wasm_v128_store(yr + n + 4, c1);
            wasm_v128_store(yr + n + 8, c2);
            wasm_v128_store(yr + n + 12, c3);
        }
        for (; n < N; n++) {
            float c = 0.0f;
            for (int s = 0; s < S; s++)
                c += ar[s] * v[(long)s * N + n];
            yr[n] = c;
        }
    }
}

static void simd128_lstm_gates(float *h, float *c, const float *gates, int ldg, int M, int H)
{
    for (int m = 0; m < M; m++) {
        const float *g = gates + (long)m * ldg;
        float *hr = h + (long)m * H, *cr = c + (long)m * H;
        int j = 0;
        for (; j + 4 <= H; j += 4) {
            v128_t i = sigmoid4(wasm_v128_load(g + j));
            v128_t f = sigmoid4(wasm_v128_load(g + H + j));
            v128_t gg = tanh4(wasm_v128_load(g + 2 * H + j));
            v128_t o = sigmoid4(wasm_v128_load(g + 3 * H + j));
            v128_t cn = MADD(f, wasm_v128_load(cr + j), wasm_f32x4_mul(i, gg));
            wasm_v128_store(cr + j, cn);
            wasm_v128_store(hr + j, wasm_f32x4_mul(o, tanh4(cn)));
        }
        for (; j < H; j++) {
            float gi[4] = {g[j], g[H + j], g[2 * H + j], g[3 * H + j]};
            ks_lstm_gates(hr + j, cr + j, gi, 4, 1, 1);
        }
    }
}

static void simd128_tanh(float *x, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(x + i, tanh4(wasm_v128_load(x + i)));
    ks_tanh(x + i, n - i);
}

static void simd128_additive_scores(float *e, const float *keys, const float *q, const float *v,
                                    int S, int A)
{
    for (int s = 0; s < S; s++) {
        const float *kr = keys + (long)s * A;
        v128_t acc = wasm_f32x4_splat(0.0f);
        int a = 0;
        for (; a + 4 <= A; a += 4)
            acc = MADD(wasm_v128_load(v + a),
                       tanh4(wasm_f32x4_add(wasm_v128_load(kr + a), wasm_v128_load(q + a))), acc);
        float sum = hsum4(acc);
        for (; a < A; a++)
            sum += v[a] * tanhf(kr[a] + q[a]);
        e[s] = sum;
    }
}

static float max_of(const float *x, int n)
{
    int i = 0;
    float mx = x[0];
    if (n >= 4) {
        v128_t m = wasm_v128_load(x);
        for (i = 4; i + 4 <= n; i += 4)
            m = wasm_f32x4_pmax(m, wasm_v128_load(x + i));
        for (int l = 0; l < 4; l++) {
            float f = l == 0 ? wasm_f32x4_extract_lane(m, 0) : l == 1 ? wasm_f32x4_extract_lane(m, 1)
                    : l == 2 ? wasm_f32x4_extract_lane(m, 2) : wasm_f32x4_extract_lane(m, 3);
            if (l == 0 || f > mx)
                mx = f;
        }
    }
    for (; i < n; i++)
        if (x[i] > mx)
            mx = x[i];
    return mx;
}

static float sum_exp(float *out, const float *x, float mx, int n)
{
    v128_t acc = wasm_f32x4_splat(0.0f), m4 = SPLAT(mx);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t ex = exp4(wasm_f32x4_sub(wasm_v128_load(x + i), m4));
        if (out)
            wasm_v128_store(out + i, ex);
        acc = wasm_f32x4_add(acc, ex);
    }
    float sum = hsum4(acc);
    for (; i < n; i++) {
        float ex = expf(x[i] - mx);
        if (out)
            out[i] = ex;
        sum += ex;
    }
    return sum;
}

/* sum_i exp(x[i] - mx) accumulated in double (log_softmax's denominator, as kernels_scalar). */
static double sum_exp_double(const float *x, float mx, int n)
{
    v128_t a0 = wasm_f64x2_splat(0.0), a1 = a0, m4 = SPLAT(mx);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t ex = exp4(wasm_f32x4_sub(wasm_v128_load(x + i), m4));
        a0 = wasm_f64x2_add(a0, wasm_f64x2_promote_low_f32x4(ex));
        v128_t hi = wasm_i32x4_shuffle(ex, ex, 2, 3, 0, 1);
        a1 = wasm_f64x2_add(a1, wasm_f64x2_promote_low_f32x4(hi));
    }
    v128_t a = wasm_f64x2_add(a0, a1);
    double sum = wasm_f64x2_extract_lane(a, 0) + wasm_f64x2_extract_lane(a, 1);
    for (; i < n; i++)
        sum += expf(x[i] - mx);
    return sum;
}

static void simd128_softmax(float *x, int n)
{
    float mx = max_of(x, n);
    float inv = 1.0f / sum_exp(x, x, mx, n);
    for (int i = 0; i < n; i++)
        x[i] *= inv;
}

static int simd128_log_softmax(float *y, const float *x, int n)
{
    float mx = max_of(x, n);
    int arg = 0;
    while (arg + 1 < n && x[arg] != mx)
        arg++;
    float ls = (float)log(sum_exp_double(x, mx, n));
    v128_t m4 = SPLAT(mx), l4 = SPLAT(ls);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + i), m4), l4));
    for (; i < n; i++)
        y[i] = (x[i] - mx) - ls;
    return arg;
}

/* P (1..4) consecutive output pixels of a row x 4 NV (1, 2) output channels of the convolution:
 * P NV accumulators in registers over the 9 taps and Ci input channels; each weight vector
 * loaded serves P pixels, each input value splat serves 4 NV channels. Named accumulators (see
 * block4x2): 8 + 2 weights + 1 input + 1 product = 12 registers at 4 x 2. x: the first pixel's
 * window (its top-left tap), rows ldx floats apart; w, bias, y: at the block's first channel. */
static inline __attribute__((always_inline)) void conv_block(float *y, int Co, const float *x,
                                                              long ldx, int Ci, const float *w,
                                                              const float *bias, const int P,
                                                              const int NV)
{
    const v128_t b0 = wasm_v128_load(bias), b1 = NV > 1 ? wasm_v128_load(bias + 4) : b0;
    v128_t a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
    const float *x1 = x + Ci, *x2 = x + 2L * Ci, *x3 = x + 3L * Ci;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
            const long xo = ky * ldx + (long)kx * Ci;
            const float *wp = w + (long)(ky * 3 + kx) * Ci * Co;
            for (int i = 0; i < Ci; i++, wp += Co) {
                v128_t w0 = wasm_v128_load(wp), w1 = NV > 1 ? wasm_v128_load(wp + 4) : w0;
                v128_t xb = wasm_v128_load32_splat(x + xo + i);
                a00 = MADD(xb, w0, a00);
                if (NV > 1)
                    a01 = MADD(xb, w1, a01);
                if (P > 1) {
                    xb = wasm_v128_load32_splat(x1 + xo + i);
                    a10 = MADD(xb, w0, a10);
                    if (NV > 1)
                        a11 = MADD(xb, w1, a11);
                }
                if (P > 2) {
                    xb = wasm_v128_load32_splat(x2 + xo + i);
                    a20 = MADD(xb, w0, a20);
                    if (NV > 1)
                        a21 = MADD(xb, w1, a21);
                }
                if (P > 3) {
                    xb = wasm_v128_load32_splat(x3 + xo + i);
                    a30 = MADD(xb, w0, a30);
                    if (NV > 1)
                        a31 = MADD(xb, w1, a31);
                }
            }
        }
    const v128_t z = wasm_f32x4_splat(0.0f);
    const v128_t acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
    for (int p = 0; p < P; p++) {
        wasm_v128_store(y + (long)p * Co, wasm_f32x4_pmax(z, acc[p][0]));
        if (NV > 1)
            wasm_v128_store(y + (long)p * Co + 4, wasm_f32x4_pmax(z, acc[p][1]));
    }
}

/* One output row's pixels in blocks of 4 (then the 1..3 left) for one block of 4 NV channels. */
static inline __attribute__((always_inline)) void conv_row(float *y, int Co, const float *x,
                                                            long ldx, int W, int Ci,
                                                            const float *w, const float *bias,
                                                            const int NV)
{
    int c = 0;
    for (; c + 4 <= W; c += 4)
        conv_block(y + (long)c * Co, Co, x + (long)c * Ci, ldx, Ci, w, bias, 4, NV);
    float *yc = y + (long)c * Co;
    const float *xc = x + (long)c * Ci;
    switch (W - c) {
    case 3: conv_block(yc, Co, xc, ldx, Ci, w, bias, 3, NV); break;
    case 2: conv_block(yc, Co, xc, ldx, Ci, w, bias, 2, NV); break;
    case 1: conv_block(yc, Co, xc, ldx, Ci, w, bias, 1, NV); break;
    default: break;
    }
}

/* Row by row; within a row, channel blocks of 8 (then 4) outermost, so the block's weights stay
 * in cache while all the row's pixels use them. Channels beyond the last multiple of 4: the
 * scalar reference. pmax(0, v): ReLU (a NaN sum gives 0, as the reference's v > 0 ? v : 0). */
static inline __attribute__((always_inline)) void conv_rows(float *y, const float *x,
                                                             const float *w, const float *bias,
                                                             int H, int W, int Ci, int Cv, int Co)
{
    const long ldx = (long)(W + 2) * Ci;
    for (int r = 0; r < H; r++) {
        float *yr = y + (long)r * W * Co;
        const float *xr = x + r * ldx;
        int o = 0;
        for (; o + 8 <= Cv; o += 8)
            conv_row(yr + o, Co, xr, ldx, W, Ci, w + o, bias + o, 2);
        if (o < Cv)
            conv_row(yr + o, Co, xr, ldx, W, Ci, w + o, bias + o, 1);
    }
}

/* One input channel (a gray image's first block) is compiled apart: with Ci a constant 1 the
 * loop over input channels disappears, which made that layer ~1.5x faster. */
static void simd128_conv3x3_relu(float *y, const float *x, const float *w, const float *bias,
                                 int H, int W, int Ci, int Co)
{
    const int Cv = Co - Co % 4;
    if (Ci == 1)
        conv_rows(y, x, w, bias, H, W, 1, Cv, Co);
    else
        conv_rows(y, x, w, bias, H, W, Ci, Cv, Co);
    if (Cv < Co)
        ks_conv3x3_relu_part(y, x, w, bias, H, W, Ci, Co, Cv, Co);
}

static void simd128_maxpool2x2(float *y, int ldy, const float *x, int H, int W, int C)
{
    const long ldx = (long)W * C;
    for (int r = 0; r < H / 2; r++)
        for (int c = 0; c < W / 2; c++) {
            const float *a = x + 2L * r * ldx + 2L * c * C, *b = a + ldx;
            float *yp = y + (long)r * ldy + (long)c * C;
            int k = 0;
            for (; k + 4 <= C; k += 4)
                wasm_v128_store(yp + k, wasm_f32x4_pmax(
                    wasm_f32x4_pmax(wasm_v128_load(a + k), wasm_v128_load(a + C + k)),
                    wasm_f32x4_pmax(wasm_v128_load(b + k), wasm_v128_load(b + C + k))));
            for (; k < C; k++) {
                float m0 = a[k] > a[C + k] ? a[k] : a[C + k];
                float m1 = b[k] > b[C + k] ? b[k] : b[C + k];
                yp[k] = m0 > m1 ? m0 : m1;
            }
        }
}

static inline int32_t hsum4i(v128_t v)
{
    return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
           wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

/* linear_q8's integer dots (kernels_q8.h): 8 weights loaded and widened to 16 bits in one
 * instruction (v128.load8x8_s), multiplied with 8 activation halves and summed in pairs into 4
 * int32 lanes (i32x4.dot_i16x8_s). Per x row, a hi and a lo accumulator for each w row: with
 * two x rows, two passes of two w rows keep the live vectors (8 accumulators, 4 x, 2 w) within
 * the 16 registers V8 has on x86-64. */
static inline void q8_dots_1x2(int32_t *s0, int32_t *s1, q8_x x, const int8_t *w0,
                               const int8_t *w1, int kc)
{
    v128_t h0 = wasm_i32x4_splat(0), l0 = h0, h1 = h0, l1 = h0;
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
        v128_t xh = wasm_v128_load(x.hi + k), xl = wasm_v128_load(x.lo + k);
        v128_t v0 = wasm_i16x8_load8x8(w0 + k), v1 = wasm_i16x8_load8x8(w1 + k);
        h0 = wasm_i32x4_add(h0, wasm_i32x4_dot_i16x8(xh, v0));
        l0 = wasm_i32x4_add(l0, wasm_i32x4_dot_i16x8(xl, v0));
        h1 = wasm_i32x4_add(h1, wasm_i32x4_dot_i16x8(xh, v1));
        l1 = wasm_i32x4_add(l1, wasm_i32x4_dot_i16x8(xl, v1));
    }
    s0[0] = hsum4i(h0) + q8_dot_tail(x.hi, w0, k, kc);
    s0[1] = hsum4i(l0) + q8_dot_tail(x.lo, w0, k, kc);
    s1[0] = hsum4i(h1) + q8_dot_tail(x.hi, w1, k, kc);
    s1[1] = hsum4i(l1) + q8_dot_tail(x.lo, w1, k, kc);
}

static inline void q8_dots_2x2(int32_t *s, const q8_x *x, const int8_t *w0, const int8_t *w1,
                               int kc)
{
    v128_t h00 = wasm_i32x4_splat(0), l00 = h00, h01 = h00, l01 = h00;
    v128_t h10 = h00, l10 = h00, h11 = h00, l11 = h00;
    int k = 0;
    for (; k + 8 <= kc; k += 8) {
        v128_t v0 = wasm_i16x8_load8x8(w0 + k), v1 = wasm_i16x8_load8x8(w1 + k);
        v128_t xh = wasm_v128_load(x[0].hi + k), xl = wasm_v128_load(x[0].lo + k);
        h00 = wasm_i32x4_add(h00, wasm_i32x4_dot_i16x8(xh, v0));
        l00 = wasm_i32x4_add(l00, wasm_i32x4_dot_i16x8(xl, v0));
        h01 = wasm_i32x4_add(h01, wasm_i32x4_dot_i16x8(xh, v1));
        l01 = wasm_i32x4_add(l01, wasm_i32x4_dot_i16x8(xl, v1));
        xh = wasm_v128_load(x[1].hi + k);
        xl = wasm_v128_load(x[1].lo + k);
        h10 = wasm_i32x4_add(h10, wasm_i32x4_dot_i16x8(xh, v0));
        l10 = wasm_i32x4_add(l10, wasm_i32x4_dot_i16x8(xl, v0));
        h11 = wasm_i32x4_add(h11, wasm_i32x4_dot_i16x8(xh, v1));
        l11 = wasm_i32x4_add(l11, wasm_i32x4_dot_i16x8(xl, v1));
    }
    s[0] = hsum4i(h00) + q8_dot_tail(x[0].hi, w0, k, kc);
    s[1] = hsum4i(l00) + q8_dot_tail(x[0].lo, w0, k, kc);
    s[2] = hsum4i(h01) + q8_dot_tail(x[0].hi, w1, k, kc);
    s[3] = hsum4i(l01) + q8_dot_tail(x[0].lo, w1, k, kc);
    s[8] = hsum4i(h10) + q8_dot_tail(x[1].hi, w0, k, kc);
    s[9] = hsum4i(l10) + q8_dot_tail(x[1].lo, w0, k, kc);
    s[10] = hsum4i(h11) + q8_dot_tail(x[1].hi, w1, k, kc);
    s[11] = hsum4i(l11) + q8_dot_tail(x[1].lo, w1, k, kc);
}

#define Q8_PAIRED_DOTS   /* q8_dots from the two micro-kernels above */
#define Q8_LINEAR simd128_q8
#include "kernels_q8.h"

static void simd128_linear_q8(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                         const float *scale, const float *bias, int M, int N, int K,
                         int accumulate)
{
    simd128_q8(y, ldy, x, ldx, w, ldw, scale, bias, NULL, M, N, K, accumulate);
}

static void simd128_linear_rows_q8(float *y, int ldy, const float *x, int ldx, const int8_t *w,
                              int ldw, const float *scale, const float *bias,
                              const int32_t *rows, int n, int M, int K)
{
    simd128_q8(y, ldy, x, ldx, w, ldw, scale, bias, rows, M, n, K, 0);
}

/* Gathered rows four at a time (block1x4's sums with the rows anywhere: x loaded once for the
 * four, which stay in cache for the next x row), then one at a time. Which sum a row gets
 * depends on its place in rows[], never on M: alone, beam and batch rows agree bit for bit. */
static void simd128_linear_rows(float *y, int ldy, const float *x, int ldx, const float *w,
                                int ldw, const float *bias, const int32_t *rows, int n, int M,
                                int K)
{
    const v128_t z = wasm_f32x4_splat(0.0f);
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *w0 = w + (long)rows[j] * ldw, *w1 = w + (long)rows[j + 1] * ldw;
        const float *w2 = w + (long)rows[j + 2] * ldw, *w3 = w + (long)rows[j + 3] * ldw;
        const v128_t b = bias ? wasm_f32x4_make(bias[rows[j]], bias[rows[j + 1]],
                                                bias[rows[j + 2]], bias[rows[j + 3]])
                              : z;
        for (int m = 0; m < M; m++)
            wasm_v128_store(y + (long)m * ldy + j,
                            wasm_f32x4_add(dot1x4(x + (long)m * ldx, w0, w1, w2, w3, K), b));
    }
    for (; j < n; j++) {
        const float *wr = w + (long)rows[j] * ldw;
        for (int m = 0; m < M; m++) {
            const float *xr = x + (long)m * ldx;
            v128_t a0 = z, a1 = z;
            int k = 0;
            for (; k + 8 <= K; k += 8) {
                a0 = MADD(wasm_v128_load(xr + k), wasm_v128_load(wr + k), a0);
                a1 = MADD(wasm_v128_load(xr + k + 4), wasm_v128_load(wr + k + 4), a1);
            }
            for (; k + 4 <= K; k += 4)
                a0 = MADD(wasm_v128_load(xr + k), wasm_v128_load(wr + k), a0);
            float s = hsum4(wasm_f32x4_add(a0, a1)) + dot_tail(xr, wr, k, K);
            y[(long)m * ldy + j] = bias ? s + bias[rows[j]] : s;
        }
    }
}

const kernels kernels_simd128 = {"wasm-simd128", simd128_linear, simd128_weighted_sum,
                                 simd128_lstm_gates, simd128_tanh, simd128_additive_scores,
                                 simd128_softmax, simd128_log_softmax, simd128_conv3x3_relu,
                                 simd128_maxpool2x2, simd128_linear_rows, simd128_linear_q8,
                                 simd128_linear_rows_q8};
#else
typedef int stele_kernels_simd128_unused;   /* ISO C: a translation unit must not be empty */
#endif
