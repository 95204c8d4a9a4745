/* Numeric kernels: float32, row-major. Every kernel has a scalar reference ks_* (kernels_scalar.c)
 * and the k_* entry point the engine calls, chosen at compile time:
 *   __AVX2__ && __FMA__   -> kernels_avx2.c      (native builds, -march=x86-64-v3)
 *   __wasm_simd128__      -> kernels_simd128.c   (Emscripten, -msimd128)
 *   otherwise             -> the scalar reference (kernels_scalar.c defines k_* as ks_*).
 * Signatures: outputs first, then inputs, sizes last. Weights are stored PyTorch-style [N, K]
 * (one row per output), so y = x W^T is a row-by-row dot product ("NT" GEMM). Internal. */
#ifndef STELE_KERNELS_H
#define STELE_KERNELS_H

#if defined(__AVX2__) && defined(__FMA__)
#define STELE_KERNELS_AVX2 1
#define STELE_KERNELS_NAME "avx2+fma"
#elif defined(__wasm_simd128__)
#define STELE_KERNELS_SIMD128 1
#define STELE_KERNELS_NAME "wasm-simd128"
#else
#define STELE_KERNELS_SCALAR 1
#define STELE_KERNELS_NAME "scalar"
#endif

/* y[m, n] = (accumulate ? y[m, n] : 0) + (bias ? bias[n] : 0) + sum_k x[m, k] w[n, k]
 * for m < M, n < N, k < K; ldy, ldx, ldw are the row strides (in floats) of y, x, w.
 * M = 1 is a GEMV; the decoder's step over K beams is an M = K GEMM, reading W once. */
void k_linear(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
              const float *bias, int M, int N, int K, int accumulate);
void ks_linear(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
               const float *bias, int M, int N, int K, int accumulate);

/* y[m, n] = sum_s a[m, s] v[s, n]: attention-weighted sum of memory rows (context vectors);
 * a [M, S] with stride lda, v [S, N], y [M, N] with stride ldy. */
void k_weighted_sum(float *y, int ldy, const float *a, int lda, const float *v, int M, int S,
                    int N);
void ks_weighted_sum(float *y, int ldy, const float *a, int lda, const float *v, int M, int S,
                     int N);

/* LSTM gate nonlinearity for M rows: gates [M, 4H] (stride ldg) in PyTorch order i, f, g, o;
 * c [M, H] is updated in place (c = sigmoid(f) c + sigmoid(i) tanh(g)), h [M, H] receives
 * sigmoid(o) tanh(c). */
void k_lstm_gates(float *h, float *c, const float *gates, int ldg, int M, int H);
void ks_lstm_gates(float *h, float *c, const float *gates, int ldg, int M, int H);

/* x[i] = tanh(x[i]) for i < n. */
void k_tanh(float *x, int n);
void ks_tanh(float *x, int n);

/* Additive/concat attention scores: e[s] = sum_a v[a] tanh(keys[s, a] + q[a]), keys [S, A]. */
void k_additive_scores(float *e, const float *keys, const float *q, const float *v, int S, int A);
void ks_additive_scores(float *e, const float *keys, const float *q, const float *v, int S,
                        int A);

/* In place softmax over n values (max-subtracted, as torch.softmax). */
void k_softmax(float *x, int n);
void ks_softmax(float *x, int n);

/* y[i] = x[i] - max - log(sum_j exp(x[j] - max)), as torch.log_softmax; returns the index of the
 * first maximum of x (the greedy argmax: lowest id among ties). y may equal x. */
int k_log_softmax(float *y, const float *x, int n);
int ks_log_softmax(float *y, const float *x, int n);

#endif
