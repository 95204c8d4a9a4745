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
#include "stele.h"

/* y[m, n] = (accumulate ? y[m, n] : 0) + (bias ? bias[n] : 0) + sum_k x[m, k] w[n, k]
 * for m < M, n < N, k < K; ldy, ldx, ldw are the row strides (in floats) of y, x, w.
 * M = 1 is a GEMV; the decoder's step over K beams is an M = K GEMM, reading W once. */
void ks_linear(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
               const float *bias, int M, int N, int K, int accumulate);

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
} kernels;

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
