/* The int8-weight linear kernel's driver (kernels.h linear_q8), shared by the kernel sets: each
 * of kernels_scalar.c, kernels_avx2.c and kernels_simd128.c includes this file once for the
 * helpers, defines its integer micro-kernel
 *   static void q8_dots(int32_t s[16], int mb, const q8_x *x, const int8_t *const w[4], int kc)
 * (for x rows r < mb (1 or 2) and the 4 w rows j: s[(r * 4 + j) * 2] = sum_{k < kc}
 * x[r].hi[k] w[j][k] and s[... + 1] the same with x[r].lo: exact integer sums; or, with
 * Q8_PAIRED_DOTS defined, its 2 x 2 and 1 x 2 parts, which this file assembles), then includes
 * this file again with Q8_LINEAR set to the name of the function to define, which computes
 * linear_q8 (rows NULL) and linear_rows_q8 (kernels.h). Everything
 * around the integer dots (activation quantization, chunks, the float epilogue) is here once, so
 * every set computes the same numbers: integer sums are exact in any order, and the float
 * operations are the same ones in the same order. Internal. */
#include <stdint.h>

#ifndef STELE_KERNELS_Q8_COMMON
#define STELE_KERNELS_Q8_COMMON
/* One quantized x row chunk: x[k] / xs = hi[k] 2^15 + lo[k], lo in 0..2^15-1. */
typedef struct {
    const int16_t *hi, *lo;
} q8_x;

/* max |x[k]| over a row; 0 for a row of zeros */
static inline float q8_row_absmax(const float *x, int K)
{
    float a = 0.0f;
    for (int k = 0; k < K; k++) {
        float v = x[k] < 0.0f ? -x[k] : x[k];
        a = v > a ? v : a;
    }
    return a;
}

/* q = x[k] inv rounded half away from zero (the same operations on every target, with no
 * dependence on the rounding mode or libm), split as q = hi 2^15 + lo. |x inv| <= Q8_XMAX (1 +
 * 2^-22) < Q8_XMAX + 2^15, so hi stays in -2^15..2^15-1. */
static inline void q8_quantize(int16_t *hi, int16_t *lo, const float *x, int n, float inv)
{
    for (int k = 0; k < n; k++) {
        float v = x[k] * inv;
        int32_t q = v >= 0.0f ? (int32_t)(v + 0.5f) : -(int32_t)(0.5f - v);
        int32_t h = q >= 0 ? q >> 15 : -((-q + 32767) >> 15);   /* floor(q / 2^15) */
        hi[k] = (int16_t)h;
        lo[k] = (int16_t)(q - h * 32768);
    }
}

/* One integer dot product (a scalar tail): exact in int32 within a chunk (kernels.h). */
static inline int32_t q8_dot_tail(const int16_t *x, const int8_t *w, int k0, int kc)
{
    int32_t s = 0;
    for (int k = k0; k < kc; k++)
        s += (int32_t)x[k] * w[k];
    return s;
}

/* The float value of one output's chunk: (hi_sum 2^15 + lo_sum) xs scale. */
static inline float q8_value(const int32_t *s2, float xs_scale)
{
    return ((float)s2[0] * 32768.0f + (float)s2[1]) * xs_scale;
}
#endif

#ifdef Q8_LINEAR
#ifdef Q8_PAIRED_DOTS
/* q8_dots from the set's two micro-kernels, for the SIMD sets (which define Q8_PAIRED_DOTS):
 * q8_dots_2x2 (2 x rows against 2 w rows) and q8_dots_1x2 (1 x row against 2 w rows), over the
 * 4 w rows two at a time. */
static void q8_dots(int32_t s[16], int mb, const q8_x *x, const int8_t *const w[4], int kc)
{
    for (int j = 0; j < 4; j += 2) {
        if (mb == 2)
            q8_dots_2x2(s + j * 2, x, w[j], w[j + 1], kc);
        else
            q8_dots_1x2(s + j * 2, s + j * 2 + 2, x[0], w[j], w[j + 1], kc);
    }
}
#undef Q8_PAIRED_DOTS
#endif
/* Rows of x are taken Q8_ROWS at a time, and within them each chunk of 4 w rows is used by every
 * pair of x rows while it is in L1: a beam's 5 rows (or a batch's 16) read the weights from
 * memory once per Q8_ROWS rows, not once per pair. */
#define Q8_ROWS 8
static void Q8_LINEAR(float *y, int ldy, const float *x, int ldx, const int8_t *w, int ldw,
                      const float *scale, const float *bias, const int32_t *rows, int M, int N,
                      int K, int accumulate)
{
#define Q8_ROW(j) (rows ? rows[j] : (j))   /* output column j reads w row Q8_ROW(j) */
    int16_t xq[Q8_ROWS][2][Q8_CHUNK];   /* [row][hi, lo][k] */
    q8_x xr[Q8_ROWS];
    float xs[Q8_ROWS], inv[Q8_ROWS];
    for (int r = 0; r < Q8_ROWS; r++) {
        xr[r].hi = xq[r][0];
        xr[r].lo = xq[r][1];
    }
    for (int m0 = 0; m0 < M; m0 += Q8_ROWS) {
        const int nx = M - m0 < Q8_ROWS ? M - m0 : Q8_ROWS;
        for (int r = 0; r < nx; r++) {
            const float *row = x + (long)(m0 + r) * ldx;
            float *yr = y + (long)(m0 + r) * ldy;
            float amax = q8_row_absmax(row, K);
            xs[r] = inv[r] = 0.0f;
            if (amax > 0.0f) {
                xs[r] = amax / (float)Q8_XMAX;
                inv[r] = (float)Q8_XMAX / amax;
            }
            for (int n = 0; n < N; n++)
                yr[n] = (accumulate ? yr[n] : 0.0f) + (bias ? bias[Q8_ROW(n)] : 0.0f);
        }
        for (int k0 = 0; k0 < K; k0 += Q8_CHUNK) {
            const int kc = K - k0 < Q8_CHUNK ? K - k0 : Q8_CHUNK;
            for (int r = 0; r < nx; r++)
                q8_quantize(xq[r][0], xq[r][1], x + (long)(m0 + r) * ldx + k0, kc, inv[r]);
            int32_t s[16];
            int n;
            /* the 4 columns of a block: adjacent, or (one x row of a plain product, a GEMV)
             * a quarter of the matrix apart, so that each of the 4 weight streams reads a
             * quarter of W sequentially instead of restarting every 4 rows (the F32 GEMV's
             * measured lesson, kernels_simd128.c); the sums are the same either way */
            const int q = (nx == 1 && !rows && N >= 16) ? N / 4 : 1;
            const int blocks = q > 1 ? q : N / 4;
            for (int b = 0; b < blocks; b++) {
                const int c0 = q > 1 ? b : 4 * b;
                const int col[4] = {c0, c0 + q, c0 + 2 * q, c0 + 3 * q};
                const int8_t *const w4[4] = {
                    w + (long)Q8_ROW(col[0]) * ldw + k0, w + (long)Q8_ROW(col[1]) * ldw + k0,
                    w + (long)Q8_ROW(col[2]) * ldw + k0, w + (long)Q8_ROW(col[3]) * ldw + k0};
                for (int r0 = 0; r0 < nx; r0 += 2) {
                    const int mb = nx - r0 >= 2 ? 2 : 1;
                    q8_dots(s, mb, xr + r0, w4, kc);
                    for (int r = 0; r < mb; r++) {
                        float *yr = y + (long)(m0 + r0 + r) * ldy;
                        for (int j = 0; j < 4; j++)
                            yr[col[j]] += q8_value(s + (r * 4 + j) * 2,
                                                   xs[r0 + r] * scale[Q8_ROW(col[j])]);
                    }
                }
            }
            n = 4 * blocks;   /* q > 1: columns 4q..N-1 are left, as 4 (N / 4)..N-1 otherwise */
            for (; n < N; n++)
                for (int r = 0; r < nx; r++) {
                    const int8_t *wn = w + (long)Q8_ROW(n) * ldw + k0;
                    int32_t s2[2] = {q8_dot_tail(xr[r].hi, wn, 0, kc),
                                     q8_dot_tail(xr[r].lo, wn, 0, kc)};
                    y[(long)(m0 + r) * ldy + n] += q8_value(s2, xs[r] * scale[Q8_ROW(n)]);
                }
        }
    }
#undef Q8_ROW
}
#undef Q8_LINEAR
#endif
