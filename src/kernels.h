/* Numeric kernels: float32, row-major. Every kernel has a scalar reference ks_* (kernels_scalar.c);
 * the engine calls them through a kernel set, a table of function pointers chosen at run time
 * (one pointer call per matrix or vector, not per element):
 *   kernels_avx2      kernels_avx2.c     native x86-64, the only file compiled with -mavx2 -mfma
 *   kernels_scalar    kernels_scalar.c   native, any CPU: the ks_* functions themselves
 *   kernels_simd128   kernels_simd128.c  WebAssembly (Emscripten, -msimd128), always
 * Everything else in a native build is baseline x86-64, so one binary runs on any x86-64 CPU.
 * kernels_select() picks the set when a model is loaded (the model keeps it): in native builds
 * the STELE_KERNELS environment variable (scalar or avx2) if set, else avx2 when the CPU (and
 * OS) have AVX2 and FMA, else scalar. Every set computes the log-softmax denominator (the sum
 * of exponentials) in double, so that all of them agree with the float64 reference
 * (scripts/search.py) on long outputs, whatever their summation order.
 * Signatures: outputs first, then inputs, sizes last. Weights are stored PyTorch-style [N, K]
 * (one row per output), so y = x W^T is a row-by-row dot product ("NT" GEMM). Internal. */
#ifndef STELE_KERNELS_H
#define STELE_KERNELS_H
#include <stdint.h>
#include "stele.h"

/* y[m, n] = (accumulate ? y[m, n] : 0) + (bias ? bias[n] : 0) + sum_k x[m, k] w[n, k]
 * for m < M, n < N, k < K; ldy, ldx, ldw are the row strides (in floats) of y, x, w.
 * M = 1 is a GEMV; the decoder's step over K beams is an M = K GEMM, reading W once. */
void ks_linear(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
               const float *bias, int M, int N, int K, int accumulate);

/* The same with int8 weights (models/FORMAT.md version 2): w [N, K] int8 (row stride ldw bytes)
 * with one float scale per row, weight (n, k) = w[n, k] scale[n]. The weights are used as
 * integers: each x row is quantized to 31-bit integers, xs = max_k |x[m, k]| / Q8_XMAX,
 * xq[m, k] = round(x[m, k] / xs) (half away from zero), each split in two 16-bit halves
 * xq = hi 2^15 + lo, and the integer dot products of each half go in chunks of Q8_CHUNK (exact in
 * int32: Q8_CHUNK 2^15 128 <= 2^31):
 *   y[m, n] = (accumulate ? y[m, n] : 0) + (bias ? bias[n] : 0)
 *             + sum over chunks c, in order, of
 *               ((float)hi_dot_c 2^15 + (float)lo_dot_c) (xs scale[n])
 * So the activations keep float precision (31 bits > float's 24), and the result is the float
 * product with the dequantized weights up to float rounding: the PyTorch reference of an int8
 * model is the float model it dequantizes to, within the parity tolerance. (One 16-bit half alone
 * moved the tiny models' LSTM cells by up to 1.7e-4.) Every kernel set computes exactly these
 * operations (src/kernels_q8.h): a quarter of F32's weight bytes, and two integer
 * multiply-adds (i32x4.dot_i16x8_s, vpmaddwd) per 8 (16) weights. Natively that is about half
 * F32's instructions; in SIMD128, which has no 8-bit dot product, two dots and two adds per 8
 * weights are as many as F32's multiply and add per 4, so the gain there is bytes, not time
 * (measured: the README's Performance section). */
#define Q8_CHUNK 256
#define Q8_XMAX 1073709056.0f   /* 32767 * 2^15: float-exact, hi stays within int16 */
void ks_linear_q8(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                  const float *scale, const float *bias, int M, int N, int K, int accumulate);

/* linear_q8 over gathered rows (a lexical shortlist's generator): y[m, j] = bias[rows[j]] +
 * the int8 product of x row m with w row rows[j], for m < M, j < n; bias may be NULL. Each
 * (m, j) is computed exactly as linear_q8 computes it, whatever M and rows are. */
void ks_linear_rows_q8(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                       const float *scale, const float *bias, const int32_t *rows, int n, int M,
                       int K);

/* y[m, n] = sum_s a[m, s] v[s, n]: attention-weighted sum of memory rows (context vectors);
 * a [M, S] with stride lda, v [S, N], y [M, N] with stride ldy. */
void ks_weighted_sum(float *y, int ldy, const float *a, int lda, const float *v, int M, int S,
                     int N);

/* LSTM gate nonlinearity for M rows: gates [M, 4H] (stride ldg) in PyTorch order i, f, g, o;
 * c [M, H] is updated in place (c = sigmoid(f) c + sigmoid(i) tanh(g)), h [M, H] receives
 * sigmoid(o) tanh(c). */
void ks_lstm_gates(float *h, float *c, const float *gates, int ldg, int M, int H);

/* x[i] = tanh(x[i]) for i < n. */
void ks_tanh(float *x, int n);

/* Additive/concat attention scores: e[s] = sum_a v[a] tanh(keys[s, a] + q[a]), keys [S, A]. */
void ks_additive_scores(float *e, const float *keys, const float *q, const float *v, int S,
                        int A);

/* In place softmax over n values (max-subtracted, as torch.softmax). */
void ks_softmax(float *x, int n);

/* y[i] = x[i] - max - log(sum_j exp(x[j] - max)), as torch.log_softmax of x in float64 (the sum
 * is accumulated in double); returns the index of the first maximum of x (the greedy argmax:
 * lowest id among ties). y may equal x. */
int ks_log_softmax(float *y, const float *x, int n);

/* 3x3 convolution, stride 1, padding 1, plus bias, then ReLU; activations channels-last (HWC).
 * x [H + 2, W + 2, Ci]: the input inside a one-pixel border of zeros (the padding, kept by the
 * caller, so that no kernel tests bounds); w [3, 3, Ci, Co] (tap row, tap column, input channel,
 * output channel: PyTorch's [Co, Ci, 3, 3] re-laid out once at load so that the output channels
 * of one tap are contiguous, one vector load each); bias [Co]; y [H, W, Co]:
 * y[r, c, o] = max(0, bias[o] + sum_{ky, kx, i} x[r + ky, c + kx, i] w[ky, kx, i, o]). */
void ks_conv3x3_relu(float *y, const float *x, const float *w, const float *bias, int H, int W,
                     int Ci, int Co);
/* The same for output channels o0..o1 only (the others of y are not touched). */
void ks_conv3x3_relu_part(float *y, const float *x, const float *w, const float *bias, int H,
                          int W, int Ci, int Co, int o0, int o1);

/* 2x2 max-pool, stride 2, floor (PyTorch MaxPool2d(2): a last odd row or column is dropped):
 * x [H, W, C] -> y [H / 2, W / 2, C] with rows ldy floats apart (ldy = (W / 2 + 2) C writes
 * into the interior of the next convolution's padded input). */
void ks_maxpool2x2(float *y, int ldy, const float *x, int H, int W, int C);

/* Gathered rows (the lexical shortlist's generator): y[m, j] = bias[rows[j]] +
 * sum_k x[m, k] w[rows[j], k] for m < M, j < n; ldy, ldx, ldw as for linear. Each (m, j) is
 * summed the same way whatever M is, so a row decodes to the same bits alone, in a beam or in
 * a batch. bias may be NULL. */
void ks_linear_rows(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                    const float *bias, const int32_t *rows, int n, int M, int K);

/* A kernel set: the kernels above, with the meanings and signatures of their ks_* references. */
typedef struct kernels {
    const char *name;   /* "scalar", "avx2+fma", "wasm-simd128" (model info JSON, CLI) */
    void (*linear)(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                   const float *bias, int M, int N, int K, int accumulate);
    void (*weighted_sum)(float *y, int ldy, const float *a, int lda, const float *v, int M, int S,
                         int N);
    void (*lstm_gates)(float *h, float *c, const float *gates, int ldg, int M, int H);
    void (*tanh_inplace)(float *x, int n);
    void (*additive_scores)(float *e, const float *keys, const float *q, const float *v, int S,
                            int A);
    void (*softmax)(float *x, int n);
    int (*log_softmax)(float *y, const float *x, int n);
    void (*conv3x3_relu)(float *y, const float *x, const float *w, const float *bias, int H,
                         int W, int Ci, int Co);
    void (*maxpool2x2)(float *y, int ldy, const float *x, int H, int W, int C);
    void (*linear_rows)(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                        const float *bias, const int32_t *rows, int n, int M, int K);
    void (*linear_q8)(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                      const float *scale, const float *bias, int M, int N, int K, int accumulate);
    void (*linear_rows_q8)(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                           const float *scale, const float *bias, const int32_t *rows, int n,
                           int M, int K);
} kernels;

/* A weight matrix as a model holds it: F32 rows, or int8 rows with a scale per row (f NULL).
 * ld: the row stride in elements. wmat_cols / wmat_rows: the sub-matrix from column c0 or from
 * row r0 on (a slice of a wider or stacked tensor). */
typedef struct {
    const float *f;
    const int8_t *q;
    const float *scale;
    int ld;
} wmat;

static inline wmat wmat_cols(wmat w, int c0)
{
    if (w.f)
        w.f += c0;
    else
        w.q += c0;
    return w;
}

static inline wmat wmat_rows(wmat w, int r0)
{
    if (w.f) {
        w.f += (long)r0 * w.ld;
    } else {
        w.q += (long)r0 * w.ld;
        w.scale += r0;
    }
    return w;
}

/* Row r of w as floats (an embedding lookup): dst[i] = w[r, i] (int8: q scale, as the reference
 * dequantizes). */
static inline void wmat_row(float *dst, wmat w, int r, int n)
{
    if (w.f) {
        const float *src = w.f + (long)r * w.ld;
        for (int i = 0; i < n; i++)
            dst[i] = src[i];
    } else {
        const int8_t *src = w.q + (long)r * w.ld;
        const float s = w.scale[r];
        for (int i = 0; i < n; i++)
            dst[i] = (float)src[i] * s;
    }
}

/* y = x W^T (+ bias) with either kind of weights: the set's linear or linear_q8 (argument order
 * and meaning as ks_linear, the weights' stride from w). */
static inline void linear_w(const kernels *k, float *y, int ldy, const float *x, int ldx, wmat w,
                            const float *bias, int M, int N, int K, int accumulate)
{
    if (w.f)
        k->linear(y, ldy, x, ldx, w.f, w.ld, bias, M, N, K, accumulate);
    else
        k->linear_q8(y, ldy, x, ldx, w.q, w.ld, w.scale, bias, M, N, K, accumulate);
}

/* The gathered rows' product with either kind of weights: linear_rows or linear_rows_q8. */
static inline void linear_rows_w(const kernels *k, float *y, int ldy, const float *x, int ldx,
                                 wmat w, const float *bias, const int32_t *rows, int n, int M,
                                 int K)
{
    if (w.f)
        k->linear_rows(y, ldy, x, ldx, w.f, w.ld, bias, rows, n, M, K);
    else
        k->linear_rows_q8(y, ldy, x, ldx, w.q, w.ld, w.scale, bias, rows, n, M, K);
}

extern const kernels kernels_scalar;    /* every build */
extern const kernels kernels_avx2;      /* native builds; name NULL where the compiler could not
                                           build it (not x86, no -mavx2 -mfma) */
extern const kernels kernels_simd128;   /* WebAssembly builds */

/* 1 when kernels_avx2 was built and this CPU and OS run AVX2 and FMA instructions. */
int kernels_avx2_usable(void);

/* The set for a model being loaded (see the top of this file). An unknown STELE_KERNELS name, or
 * avx2 where kernels_avx2_usable() is 0: STELE_ERR_ARGUMENT naming the variable. */
stele_status kernels_select(const kernels **out, stele_error *err);

#endif
