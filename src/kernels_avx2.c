/* AVX2 + FMA kernels (kernels.h): the kernel set kernels_avx2. The only file of the native build
 * compiled with -mavx2 -mfma (src/engine.mk); nothing here runs unless kernels_select() chose it,
 * which it does only where kernels_avx2_usable(). Each kernel must agree with its scalar
 * reference in kernels_scalar.c up to float rounding (tests/engine/test_kernels.c). */
#include "kernels.h"
#include "kernels_q8.h"
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#include <math.h>

/* exp(x), Cephes-style: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial; ~1 ulp. Inputs are
 * clamped to [-87.3, 88.3] (results stay finite and normal). */
static inline __m256 exp8(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)),
                                  23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256 sigmoid8(__m256 x)
{
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/* tanh(x) = sign(x) (1 - 2 / (exp(2|x|) + 1)) */
static inline __m256 tanh8(__m256 x)
{
    __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    __m256 e = exp8(_mm256_add_ps(ax, ax));
    __m256 t = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                             _mm256_div_ps(_mm256_set1_ps(2.0f),
                                           _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
    return _mm256_or_ps(t, sign);
}

static inline float hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The four horizontal sums of a0..a3 as one 4-lane vector. */
static inline __m128 hsum4x8(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
    __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

static inline void store4(float *y, __m128 s, const float *bias, int accumulate)
{
    if (bias)
        s = _mm_add_ps(s, _mm_loadu_ps(bias));
    if (accumulate)
        s = _mm_add_ps(s, _mm_loadu_ps(y));
    _mm_storeu_ps(y, s);
}

static inline float dot_tail(const float *x, const float *w, int k0, int K)
{
    float s = 0.0f;
    for (int k = k0; k < K; k++)
        s += x[k] * w[k];
    return s;
}

/* Two x rows against four w rows: 8 accumulators. */
static void block2x4(float *y0, float *y1, const float *x0, const float *x1, const float *w,
                     int ldw, const float *bias, int K, int accumulate)
{
    const float *w0 = w, *w1 = w + ldw, *w2 = w + 2L * ldw, *w3 = w + 3L * ldw;
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
    __m256 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 v0 = _mm256_loadu_ps(w0 + k), v1 = _mm256_loadu_ps(w1 + k);
        __m256 v2 = _mm256_loadu_ps(w2 + k), v3 = _mm256_loadu_ps(w3 + k);
        __m256 x = _mm256_loadu_ps(x0 + k);
        a00 = _mm256_fmadd_ps(x, v0, a00);
        a01 = _mm256_fmadd_ps(x, v1, a01);
        a02 = _mm256_fmadd_ps(x, v2, a02);
        a03 = _mm256_fmadd_ps(x, v3, a03);
        x = _mm256_loadu_ps(x1 + k);
        a10 = _mm256_fmadd_ps(x, v0, a10);
        a11 = _mm256_fmadd_ps(x, v1, a11);
        a12 = _mm256_fmadd_ps(x, v2, a12);
        a13 = _mm256_fmadd_ps(x, v3, a13);
    }
    __m128 s0 = hsum4x8(a00, a01, a02, a03), s1 = hsum4x8(a10, a11, a12, a13);
    if (k < K) {
        s0 = _mm_add_ps(s0, _mm_setr_ps(dot_tail(x0, w0, k, K), dot_tail(x0, w1, k, K),
                                        dot_tail(x0, w2, k, K), dot_tail(x0, w3, k, K)));
        s1 = _mm_add_ps(s1, _mm_setr_ps(dot_tail(x1, w0, k, K), dot_tail(x1, w1, k, K),
                                        dot_tail(x1, w2, k, K), dot_tail(x1, w3, k, K)));
    }
    store4(y0, s0, bias, accumulate);
    store4(y1, s1, bias, accumulate);
}

/* One x row against four w rows anywhere (block1x4's rows, or the shortlist's gathered ones):
 * 8 accumulators, x loaded once for the four rows; the k tail added after the sums. */
static inline __m128 dot1x4(const float *x0, const float *w0, const float *w1, const float *w2,
                            const float *w3, int K)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        __m256 x = _mm256_loadu_ps(x0 + k), z = _mm256_loadu_ps(x0 + k + 8);
        a0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(w0 + k), a0);
        a1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(w1 + k), a1);
        a2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(w2 + k), a2);
        a3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(w3 + k), a3);
        b0 = _mm256_fmadd_ps(z, _mm256_loadu_ps(w0 + k + 8), b0);
        b1 = _mm256_fmadd_ps(z, _mm256_loadu_ps(w1 + k + 8), b1);
        b2 = _mm256_fmadd_ps(z, _mm256_loadu_ps(w2 + k + 8), b2);
        b3 = _mm256_fmadd_ps(z, _mm256_loadu_ps(w3 + k + 8), b3);
    }
    for (; k + 8 <= K; k += 8) {
        __m256 x = _mm256_loadu_ps(x0 + k);
        a0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(w0 + k), a0);
        a1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(w1 + k), a1);
        a2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(w2 + k), a2);
        a3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(w3 + k), a3);
    }
    __m128 s = hsum4x8(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2),
                       _mm256_add_ps(a3, b3));
    if (k < K)
        s = _mm_add_ps(s, _mm_setr_ps(dot_tail(x0, w0, k, K), dot_tail(x0, w1, k, K),
                                      dot_tail(x0, w2, k, K), dot_tail(x0, w3, k, K)));
    return s;
}

/* One x row against four w rows, two accumulators per w row to hide FMA latency. */
static void block1x4(float *y0, const float *x0, const float *w, int ldw, const float *bias,
                     int K, int accumulate)
{
    store4(y0, dot1x4(x0, w, w + ldw, w + 2L * ldw, w + 3L * ldw, K), bias, accumulate);
}

/* R (1..5, a compile-time constant after inlining) x rows against two w rows: W is read once for
 * all the rows of a block (the decoder's beams). 2R accumulators + 2 w + 1 x <= 13 registers. */
static inline __attribute__((always_inline)) void block_rx2(float *y, int ldy, const float *x,
                                                             int ldx, const float *w, int ldw,
                                                             const float *bias, int K,
                                                             int accumulate, const int R)
{
    const float *w0 = w, *w1 = w + ldw;
    __m256 a0[5], a1[5];
#pragma GCC unroll 5
    for (int r = 0; r < R; r++)
        a0[r] = a1[r] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 v0 = _mm256_loadu_ps(w0 + k), v1 = _mm256_loadu_ps(w1 + k);
#pragma GCC unroll 5
        for (int r = 0; r < R; r++) {
            __m256 xv = _mm256_loadu_ps(x + (long)r * ldx + k);
            a0[r] = _mm256_fmadd_ps(xv, v0, a0[r]);
            a1[r] = _mm256_fmadd_ps(xv, v1, a1[r]);
        }
    }
#pragma GCC unroll 5
    for (int r = 0; r < R; r++) {
        const float *xr = x + (long)r * ldx;
        float s0 = hsum8(a0[r]) + dot_tail(xr, w0, k, K), s1 = hsum8(a1[r]) + dot_tail(xr, w1, k, K);
        if (bias) {
            s0 += bias[0];
            s1 += bias[1];
        }
        float *yr = y + (long)r * ldy;
        yr[0] = accumulate ? yr[0] + s0 : s0;
        yr[1] = accumulate ? yr[1] + s1 : s1;
    }
}

#include "kernels_linear.h"

static void avx2_weighted_sum(float *y, int ldy, const float *a, int lda, const float *v, int M,
                              int S, int N)
{
    for (int m = 0; m < M; m++) {
        float *yr = y + (long)m * ldy;
        const float *ar = a + (long)m * lda;
        int n = 0;
        for (; n + 32 <= N; n += 32) {   /* 4 accumulators kept in registers over all s */
            __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
            for (int s = 0; s < S; s++) {
                const float *vr = v + (long)s * N + n;
                __m256 as = _mm256_set1_ps(ar[s]);
                c0 = _mm256_fmadd_ps(as, _mm256_loadu_ps(vr), c0);
                c1 = _mm256_fmadd_ps(as, _mm256_loadu_ps(vr + 8), c1);
                c2 = _mm256_fmadd_ps(as, _mm256_loadu_ps(vr + 16), c2);
                c3 = _mm256_fmadd_ps(as, _mm256_loadu_ps(vr + 24), c3);
            }
            _mm256_storeu_ps(yr + n, c0);
            _mm256_storeu_ps(yr + n + 8, c1);
            _mm256_storeu_ps(yr + n + 16, c2);
            _mm256_storeu_ps(yr + n + 24, c3);
        }
        for (; n + 8 <= N; n += 8) {
            __m256 c0 = _mm256_setzero_ps();
            for (int s = 0; s < S; s++)
                c0 = _mm256_fmadd_ps(_mm256_set1_ps(ar[s]), _mm256_loadu_ps(v + (long)s * N + n),
                                     c0);
            _mm256_storeu_ps(yr + n, c0);
        }
        for (; n < N; n++) {
            float c = 0.0f;
            for (int s = 0; s < S; s++)
                c += ar[s] * v[(long)s * N + n];
            yr[n] = c;
        }
    }
}

static void avx2_lstm_gates(float *h, float *c, const float *gates, int ldg, int M, int H)
{
    for (int m = 0; m < M; m++) {
        const float *g = gates + (long)m * ldg;
        float *hr = h + (long)m * H, *cr = c + (long)m * H;
        int j = 0;
        for (; j + 8 <= H; j += 8) {
            __m256 i = sigmoid8(_mm256_loadu_ps(g + j));
            __m256 f = sigmoid8(_mm256_loadu_ps(g + H + j));
            __m256 gg = tanh8(_mm256_loadu_ps(g + 2 * H + j));
            __m256 o = sigmoid8(_mm256_loadu_ps(g + 3 * H + j));
            __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(cr + j), _mm256_mul_ps(i, gg));
            _mm256_storeu_ps(cr + j, cn);
            _mm256_storeu_ps(hr + j, _mm256_mul_ps(o, tanh8(cn)));
        }
        if (j < H) {   /* the tail through the scalar reference, column by column */
            for (; j < H; j++) {
                float gi[4] = {g[j], g[H + j], g[2 * H + j], g[3 * H + j]};
                ks_lstm_gates(hr + j, cr + j, gi, 4, 1, 1);
            }
        }
    }
}

static void avx2_tanh(float *x, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, tanh8(_mm256_loadu_ps(x + i)));
    ks_tanh(x + i, n - i);
}

static void avx2_additive_scores(float *e, const float *keys, const float *q, const float *v,
                                 int S, int A)
{
    for (int s = 0; s < S; s++) {
        const float *kr = keys + (long)s * A;
        __m256 acc = _mm256_setzero_ps();
        int a = 0;
        for (; a + 8 <= A; a += 8) {
            __m256 t = tanh8(_mm256_add_ps(_mm256_loadu_ps(kr + a), _mm256_loadu_ps(q + a)));
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(v + a), t, acc);
        }
        float sum = hsum8(acc);
        for (; a < A; a++)
            sum += v[a] * tanhf(kr[a] + q[a]);
        e[s] = sum;
    }
}

static float max_of(const float *x, int n)
{
    int i = 0;
    float mx = x[0];
    if (n >= 8) {
        __m256 m = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8)
            m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        mx = _mm_cvtss_f32(h);
    }
    for (; i < n; i++)
        if (x[i] > mx)
            mx = x[i];
    return mx;
}

/* sum_i exp(x[i] - mx) in float (softmax); with out, out[i] receives exp(x[i] - mx). */
static float sum_exp(float *out, const float *x, float mx, int n)
{
    __m256 acc = _mm256_setzero_ps(), m8 = _mm256_set1_ps(mx);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 ex = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m8));
        if (out)
            _mm256_storeu_ps(out + i, ex);
        acc = _mm256_add_ps(acc, ex);
    }
    float sum = hsum8(acc);
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
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    __m256 m8 = _mm256_set1_ps(mx);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 ex = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m8));
        a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(ex)));
        a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(ex, 1)));
    }
    __m256d a = _mm256_add_pd(a0, a1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; i++)
        sum += expf(x[i] - mx);
    return sum;
}

static void avx2_softmax(float *x, int n)
{
    float mx = max_of(x, n);
    float inv = 1.0f / sum_exp(x, x, mx, n);
    int i = 0;
    __m256 iv = _mm256_set1_ps(inv);
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), iv));
    for (; i < n; i++)
        x[i] *= inv;
}

static int avx2_log_softmax(float *y, const float *x, int n)
{
    float mx = max_of(x, n);
    int arg = 0;
    while (arg + 1 < n && x[arg] != mx)   /* NaN logits: arg stays in range */
        arg++;
    float ls = (float)log(sum_exp_double(x, mx, n));
    __m256 m8 = _mm256_set1_ps(mx), l8 = _mm256_set1_ps(ls);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), m8), l8));
    for (; i < n; i++)
        y[i] = (x[i] - mx) - ls;
    return arg;
}

/* P (1..6) consecutive output pixels of a row x 8 NV (1, 2) output channels of the convolution:
 * P NV accumulators stay in registers over the 9 taps and Ci input channels; each weight vector
 * loaded serves P pixels, each input value broadcast serves 8 NV channels (6 x 2: 12
 * accumulators + 2 weights + 1 input = 15 of the 16 ymm registers). x: the window of the first
 * pixel (its top-left tap), rows ldx floats apart; w, bias, y: at the block's first channel. */
static inline __attribute__((always_inline)) void conv_block(float *y, int Co, const float *x,
                                                              long ldx, int Ci, const float *w,
                                                              const float *bias, const int P,
                                                              const int NV)
{
    __m256 acc[6][2];
#pragma GCC unroll 6
    for (int p = 0; p < P; p++) {
        acc[p][0] = _mm256_loadu_ps(bias);
        acc[p][1] = NV > 1 ? _mm256_loadu_ps(bias + 8) : acc[p][0];
    }
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
            const float *xp = x + ky * ldx + (long)kx * Ci;
            const float *wp = w + (long)(ky * 3 + kx) * Ci * Co;
            for (int i = 0; i < Ci; i++, wp += Co) {
                __m256 w0 = _mm256_loadu_ps(wp), w1 = NV > 1 ? _mm256_loadu_ps(wp + 8) : w0;
#pragma GCC unroll 6
                for (int p = 0; p < P; p++) {
                    __m256 xb = _mm256_broadcast_ss(xp + (long)p * Ci + i);
                    acc[p][0] = _mm256_fmadd_ps(xb, w0, acc[p][0]);
                    if (NV > 1)
                        acc[p][1] = _mm256_fmadd_ps(xb, w1, acc[p][1]);
                }
            }
        }
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int p = 0; p < P; p++) {
        _mm256_storeu_ps(y + (long)p * Co, _mm256_max_ps(acc[p][0], zero));
        if (NV > 1)
            _mm256_storeu_ps(y + (long)p * Co + 8, _mm256_max_ps(acc[p][1], zero));
    }
}

/* One output row's pixels in blocks of 6 (then the 1..5 left) for one block of 8 NV channels. */
static inline __attribute__((always_inline)) void conv_row(float *y, int Co, const float *x,
                                                            long ldx, int W, int Ci,
                                                            const float *w, const float *bias,
                                                            const int NV)
{
    int c = 0;
    for (; c + 6 <= W; c += 6)
        conv_block(y + (long)c * Co, Co, x + (long)c * Ci, ldx, Ci, w, bias, 6, NV);
    float *yc = y + (long)c * Co;
    const float *xc = x + (long)c * Ci;
    switch (W - c) {
    case 5: conv_block(yc, Co, xc, ldx, Ci, w, bias, 5, NV); break;
    case 4: conv_block(yc, Co, xc, ldx, Ci, w, bias, 4, NV); break;
    case 3: conv_block(yc, Co, xc, ldx, Ci, w, bias, 3, NV); break;
    case 2: conv_block(yc, Co, xc, ldx, Ci, w, bias, 2, NV); break;
    case 1: conv_block(yc, Co, xc, ldx, Ci, w, bias, 1, NV); break;
    default: break;
    }
}

/* Row by row; within a row, channel blocks of 16 (then 8) outermost, so the block's weights
 * (9 Ci 16 floats) stay in L1 while all the row's pixels use them. Channels beyond the last
 * multiple of 8: the scalar reference. */
static inline __attribute__((always_inline)) void conv_rows(float *y, const float *x,
                                                             const float *w, const float *bias,
                                                             int H, int W, int Ci, int Cv, int Co)
{
    const long ldx = (long)(W + 2) * Ci;
    for (int r = 0; r < H; r++) {
        float *yr = y + (long)r * W * Co;
        const float *xr = x + r * ldx;
        int o = 0;
        for (; o + 16 <= Cv; o += 16)
            conv_row(yr + o, Co, xr, ldx, W, Ci, w + o, bias + o, 2);
        if (o < Cv)
            conv_row(yr + o, Co, xr, ldx, W, Ci, w + o, bias + o, 1);
    }
}

/* One input channel (a gray image's first block) is compiled apart: with Ci a constant 1 the
 * loop over input channels disappears. */
static void avx2_conv3x3_relu(float *y, const float *x, const float *w, const float *bias, int H,
                              int W, int Ci, int Co)
{
    const int Cv = Co - Co % 8;
    if (Ci == 1)
        conv_rows(y, x, w, bias, H, W, 1, Cv, Co);
    else
        conv_rows(y, x, w, bias, H, W, Ci, Cv, Co);
    if (Cv < Co)
        ks_conv3x3_relu_part(y, x, w, bias, H, W, Ci, Co, Cv, Co);
}

static void avx2_maxpool2x2(float *y, int ldy, const float *x, int H, int W, int C)
{
    const long ldx = (long)W * C;
    for (int r = 0; r < H / 2; r++)
        for (int c = 0; c < W / 2; c++) {
            const float *a = x + 2L * r * ldx + 2L * c * C, *b = a + ldx;
            float *yp = y + (long)r * ldy + (long)c * C;
            int k = 0;
            for (; k + 8 <= C; k += 8)
                _mm256_storeu_ps(yp + k, _mm256_max_ps(
                    _mm256_max_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(a + C + k)),
                    _mm256_max_ps(_mm256_loadu_ps(b + k), _mm256_loadu_ps(b + C + k))));
            for (; k < C; k++) {
                float m0 = a[k] > a[C + k] ? a[k] : a[C + k];
                float m1 = b[k] > b[C + k] ? b[k] : b[C + k];
                yp[k] = m0 > m1 ? m0 : m1;
            }
        }
}

static inline int32_t hsum8i(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* linear_q8's integer dots (kernels_q8.h): 16 weights widened to 16 bits (vpmovsxbw) are
 * multiplied with 16 activation halves, pairs summed into 8 int32 lanes (vpmaddwd). Per x row,
 * a hi and a lo accumulator for each w row: with two x rows, two passes of two w rows keep the
 * 8 accumulators, 4 x vectors and 2 w vectors within the 16 ymm registers. */
static inline void q8_dots_1x2(int32_t *s0, int32_t *s1, q8_x x, const int8_t *w0,
                               const int8_t *w1, int kc)
{
    __m256i h0 = _mm256_setzero_si256(), l0 = h0, h1 = h0, l1 = h0;
    int k = 0;
    for (; k + 16 <= kc; k += 16) {
        __m256i xh = _mm256_loadu_si256((const __m256i *)(const void *)(x.hi + k));
        __m256i xl = _mm256_loadu_si256((const __m256i *)(const void *)(x.lo + k));
        __m256i v0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w0 + k)));
        __m256i v1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w1 + k)));
        h0 = _mm256_add_epi32(h0, _mm256_madd_epi16(xh, v0));
        l0 = _mm256_add_epi32(l0, _mm256_madd_epi16(xl, v0));
        h1 = _mm256_add_epi32(h1, _mm256_madd_epi16(xh, v1));
        l1 = _mm256_add_epi32(l1, _mm256_madd_epi16(xl, v1));
    }
    s0[0] = hsum8i(h0) + q8_dot_tail(x.hi, w0, k, kc);
    s0[1] = hsum8i(l0) + q8_dot_tail(x.lo, w0, k, kc);
    s1[0] = hsum8i(h1) + q8_dot_tail(x.hi, w1, k, kc);
    s1[1] = hsum8i(l1) + q8_dot_tail(x.lo, w1, k, kc);
}

static inline void q8_dots_2x2(int32_t *s, const q8_x *x, const int8_t *w0, const int8_t *w1,
                               int kc)
{
    __m256i h00 = _mm256_setzero_si256(), l00 = h00, h01 = h00, l01 = h00;
    __m256i h10 = h00, l10 = h00, h11 = h00, l11 = h00;
    int k = 0;
    for (; k + 16 <= kc; k += 16) {
        __m256i v0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w0 + k)));
        __m256i v1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w1 + k)));
        __m256i xh = _mm256_loadu_si256((const __m256i *)(const void *)(x[0].hi + k));
        __m256i xl = _mm256_loadu_si256((const __m256i *)(const void *)(x[0].lo + k));
        h00 = _mm256_add_epi32(h00, _mm256_madd_epi16(xh, v0));
        l00 = _mm256_add_epi32(l00, _mm256_madd_epi16(xl, v0));
        h01 = _mm256_add_epi32(h01, _mm256_madd_epi16(xh, v1));
        l01 = _mm256_add_epi32(l01, _mm256_madd_epi16(xl, v1));
        xh = _mm256_loadu_si256((const __m256i *)(const void *)(x[1].hi + k));
        xl = _mm256_loadu_si256((const __m256i *)(const void *)(x[1].lo + k));
        h10 = _mm256_add_epi32(h10, _mm256_madd_epi16(xh, v0));
        l10 = _mm256_add_epi32(l10, _mm256_madd_epi16(xl, v0));
        h11 = _mm256_add_epi32(h11, _mm256_madd_epi16(xh, v1));
        l11 = _mm256_add_epi32(l11, _mm256_madd_epi16(xl, v1));
    }
    /* s: row 0's two w rows at s[0..3], row 1's at s[8..11] (kernels_q8.h's layout) */
    s[0] = hsum8i(h00) + q8_dot_tail(x[0].hi, w0, k, kc);
    s[1] = hsum8i(l00) + q8_dot_tail(x[0].lo, w0, k, kc);
    s[2] = hsum8i(h01) + q8_dot_tail(x[0].hi, w1, k, kc);
    s[3] = hsum8i(l01) + q8_dot_tail(x[0].lo, w1, k, kc);
    s[8] = hsum8i(h10) + q8_dot_tail(x[1].hi, w0, k, kc);
    s[9] = hsum8i(l10) + q8_dot_tail(x[1].lo, w0, k, kc);
    s[10] = hsum8i(h11) + q8_dot_tail(x[1].hi, w1, k, kc);
    s[11] = hsum8i(l11) + q8_dot_tail(x[1].lo, w1, k, kc);
}

#define Q8_PAIRED_DOTS   /* q8_dots from the two micro-kernels above */
#define Q8_LINEAR avx2_q8
#include "kernels_q8.h"

static void avx2_linear_q8(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                      const float *scale, const float *bias, int M, int N, int K,
                      int accumulate)
{
    avx2_q8(y, ldy, x, ldx, w, ldw, scale, bias, NULL, M, N, K, accumulate);
}

static void avx2_linear_rows_q8(float *y, int ldy, const float *x, int ldx, const int8_t *w,
                           int ldw, const float *scale, const float *bias,
                           const int32_t *rows, int n, int M, int K)
{
    avx2_q8(y, ldy, x, ldx, w, ldw, scale, bias, rows, M, n, K, 0);
}

/* Gathered rows four at a time (each x row against the four, which stay in L1 for the next x
 * row), then one at a time. Which sum a row gets depends on its place in rows[], never on M,
 * so a row decodes to the same bits alone, in a beam or in a batch. */
static void avx2_linear_rows(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                             const float *bias, const int32_t *rows, int n, int M, int K)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *w0 = w + (long)rows[j] * ldw, *w1 = w + (long)rows[j + 1] * ldw;
        const float *w2 = w + (long)rows[j + 2] * ldw, *w3 = w + (long)rows[j + 3] * ldw;
        const __m128 b = bias ? _mm_setr_ps(bias[rows[j]], bias[rows[j + 1]], bias[rows[j + 2]],
                                            bias[rows[j + 3]])
                              : _mm_setzero_ps();
        for (int m = 0; m < M; m++)
            _mm_storeu_ps(y + (long)m * ldy + j,
                          _mm_add_ps(dot1x4(x + (long)m * ldx, w0, w1, w2, w3, K), b));
    }
    for (; j < n; j++) {
        const float *wr = w + (long)rows[j] * ldw;
        for (int m = 0; m < M; m++) {
            const float *xr = x + (long)m * ldx;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0;
            int k = 0;
            for (; k + 16 <= K; k += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + k), _mm256_loadu_ps(wr + k), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + k + 8), _mm256_loadu_ps(wr + k + 8), a1);
            }
            for (; k + 8 <= K; k += 8)
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + k), _mm256_loadu_ps(wr + k), a0);
            float s = hsum8(_mm256_add_ps(a0, a1)) + dot_tail(xr, wr, k, K);
            y[(long)m * ldy + j] = bias ? s + bias[rows[j]] : s;
        }
    }
}

const kernels kernels_avx2 = {"avx2+fma", avx2_linear, avx2_weighted_sum, avx2_lstm_gates,
                              avx2_tanh, avx2_additive_scores, avx2_softmax, avx2_log_softmax,
                              avx2_conv3x3_relu, avx2_maxpool2x2, avx2_linear_rows,
                              avx2_linear_q8, avx2_linear_rows_q8};
#else
const kernels kernels_avx2 = {0};   /* built without -mavx2 -mfma: never selected */
#endif
