/* Scalar reference kernels (kernels.h): the definition of what every SIMD path must compute,
 * and the kernel set kernels_scalar (any CPU; STELE_KERNELS=scalar). */
#include "kernels.h"
#include "kernels_q8.h"
#include <math.h>

/* Each dot product as 8 partial sums (k mod 8) added pairwise, then the tail: 8 independent
 * chains, which the compiler may also keep in SSE2 registers, instead of one serial sum that
 * made the scalar set ~10x slower than avx2. Any order is a valid reference. */
void ks_linear(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
               const float *bias, int M, int N, int K, int accumulate)
{
    for (int m = 0; m < M; m++) {
        const float *xr = x + (long)m * ldx;
        float *yr = y + (long)m * ldy;
        for (int n = 0; n < N; n++) {
            const float *wr = w + (long)n * ldw;
            float a[8] = {0};
            int k = 0;
            for (; k + 8 <= K; k += 8)
                for (int j = 0; j < 8; j++)
                    a[j] += xr[k + j] * wr[k + j];
            float s = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
            for (; k < K; k++)
                s += xr[k] * wr[k];
            if (bias)
                s += bias[n];
            yr[n] = accumulate ? yr[n] + s : s;
        }
    }
}

void ks_weighted_sum(float *y, int ldy, const float *a, int lda, const float *v, int M, int S,
                     int N)
{
    for (int m = 0; m < M; m++) {
        float *yr = y + (long)m * ldy;
        const float *ar = a + (long)m * lda;
        for (int n = 0; n < N; n++)
            yr[n] = 0.0f;
        for (int s = 0; s < S; s++) {
            const float *vr = v + (long)s * N;
            for (int n = 0; n < N; n++)
                yr[n] += ar[s] * vr[n];
        }
    }
}

static float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

void ks_lstm_gates(float *h, float *c, const float *gates, int ldg, int M, int H)
{
    for (int m = 0; m < M; m++) {
        const float *g = gates + (long)m * ldg;
        float *hr = h + (long)m * H, *cr = c + (long)m * H;
        for (int j = 0; j < H; j++) {
            float i = sigmoidf(g[j]), f = sigmoidf(g[H + j]);
            float gg = tanhf(g[2 * H + j]), o = sigmoidf(g[3 * H + j]);
            float cn = f * cr[j] + i * gg;
            cr[j] = cn;
            hr[j] = o * tanhf(cn);
        }
    }
}

void ks_tanh(float *x, int n)
{
    for (int i = 0; i < n; i++)
        x[i] = tanhf(x[i]);
}

void ks_additive_scores(float *e, const float *keys, const float *q, const float *v, int S, int A)
{
    for (int s = 0; s < S; s++) {
        const float *kr = keys + (long)s * A;
        float sum = 0.0f;
        for (int a = 0; a < A; a++)
            sum += v[a] * tanhf(kr[a] + q[a]);
        e[s] = sum;
    }
}

void ks_softmax(float *x, int n)
{
    float mx = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > mx)
            mx = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++)
        x[i] *= inv;
}

int ks_log_softmax(float *y, const float *x, int n)
{
    int arg = 0;
    float mx = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > mx) {
            mx = x[i];
            arg = i;
        }
    double sum = 0.0;   /* in float, terms below half an ulp of the sum would be lost */
    for (int i = 0; i < n; i++)
        sum += expf(x[i] - mx);
    float ls = (float)log(sum);
    for (int i = 0; i < n; i++)
        y[i] = (x[i] - mx) - ls;
    return arg;
}

/* Each output pixel's channels o0..o1 sum in y itself, tap by tap and input channel by input
 * channel (an inner loop over contiguous output channels, which the compiler may vectorise),
 * then bias and ReLU. The SIMD sets use it for the channels their vector blocks leave over. */
void ks_conv3x3_relu_part(float *y, const float *x, const float *w, const float *bias, int H,
                          int W, int Ci, int Co, int o0, int o1)
{
    const long ldx = (long)(W + 2) * Ci;
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++) {
            float *yp = y + ((long)r * W + c) * Co;
            for (int o = o0; o < o1; o++)
                yp[o] = 0.0f;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    const float *xp = x + (r + ky) * ldx + (long)(c + kx) * Ci;
                    const float *wt = w + (long)(ky * 3 + kx) * Ci * Co;
                    for (int i = 0; i < Ci; i++) {
                        const float xv = xp[i], *wr = wt + (long)i * Co;
                        for (int o = o0; o < o1; o++)
                            yp[o] += xv * wr[o];
                    }
                }
            for (int o = o0; o < o1; o++) {
                float v = yp[o] + bias[o];
                yp[o] = v > 0.0f ? v : 0.0f;
            }
        }
}

void ks_conv3x3_relu(float *y, const float *x, const float *w, const float *bias, int H, int W,
                     int Ci, int Co)
{
    ks_conv3x3_relu_part(y, x, w, bias, H, W, Ci, Co, 0, Co);
}

void ks_maxpool2x2(float *y, int ldy, const float *x, int H, int W, int C)
{
    const long ldx = (long)W * C;
    for (int r = 0; r < H / 2; r++)
        for (int c = 0; c < W / 2; c++) {
            const float *a = x + 2L * r * ldx + 2L * c * C, *b = a + ldx;
            float *yp = y + (long)r * ldy + (long)c * C;
            for (int k = 0; k < C; k++) {
                float m0 = a[k] > a[C + k] ? a[k] : a[C + k];
                float m1 = b[k] > b[C + k] ? b[k] : b[C + k];
                yp[k] = m0 > m1 ? m0 : m1;
            }
        }
}

/* The integer dot products of linear_q8 (kernels_q8.h), the reference for the SIMD ones. */
static void q8_dots(int32_t s[16], int mb, const q8_x *x, const int8_t *const w[4], int kc)
{
    for (int r = 0; r < mb; r++)
        for (int j = 0; j < 4; j++) {
            s[(r * 4 + j) * 2] = q8_dot_tail(x[r].hi, w[j], 0, kc);
            s[(r * 4 + j) * 2 + 1] = q8_dot_tail(x[r].lo, w[j], 0, kc);
        }
}

#define Q8_LINEAR scalar_linear_q8
#include "kernels_q8.h"

void ks_linear_q8(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                  const float *scale, const float *bias, int M, int N, int K, int accumulate)
{
    scalar_linear_q8(y, ldy, x, ldx, w, ldw, scale, bias, NULL, M, N, K, accumulate);
}

void ks_linear_rows_q8(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                       const float *scale, const float *bias, const int32_t *rows, int n, int M,
                       int K)
{
    scalar_linear_q8(y, ldy, x, ldx, w, ldw, scale, bias, rows, M, n, K, 0);
}

/* The same 8 partial sums as ks_linear, one dot product per (x row, gathered w row). */
void ks_linear_rows(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                    const float *bias, const int32_t *rows, int n, int M, int K)
{
    for (int j = 0; j < n; j++) {
        const long r = rows[j];
        for (int m = 0; m < M; m++)
            ks_linear(y + (long)m * ldy + j, ldy, x + (long)m * ldx, ldx, w + r * ldw, ldw,
                      bias ? bias + r : 0, 1, 1, K, 0);
    }
}

const kernels kernels_scalar = {"scalar", ks_linear, ks_weighted_sum, ks_lstm_gates, ks_tanh,
                                 ks_additive_scores, ks_softmax, ks_log_softmax,
                                 ks_conv3x3_relu, ks_maxpool2x2, ks_linear_rows,
                                 ks_linear_q8, ks_linear_rows_q8};
