/* avx2_linear's blocking for kernels_avx2.c (kernels_simd128.c has its own): included after the
 * micro-kernels block_rx2 (R = 3..5 x rows against 2 w rows), block2x4 and block1x4. Internal. */
#ifndef STELE_KERNELS_LINEAR_H
#define STELE_KERNELS_LINEAR_H

static void avx2_linear(float *y, int ldy, const float *x, int ldx, const float *w, int ldw,
                        const float *bias, int M, int N, int K, int accumulate)
{
    int n = 0;
    if (M >= 3 && M <= 5) {   /* beam-sized batches: every w row read once */
        for (; n + 2 <= N; n += 2) {
            const float *wn = w + (long)n * ldw, *bn = bias ? bias + n : 0;
            if (M == 5)
                block_rx2(y + n, ldy, x, ldx, wn, ldw, bn, K, accumulate, 5);
            else if (M == 4)
                block_rx2(y + n, ldy, x, ldx, wn, ldw, bn, K, accumulate, 4);
            else
                block_rx2(y + n, ldy, x, ldx, wn, ldw, bn, K, accumulate, 3);
        }
    }
    for (; n + 4 <= N; n += 4) {   /* pairs of x rows against 4 w rows, then a single row */
        const float *wn = w + (long)n * ldw;
        const float *bn = bias ? bias + n : 0;
        int m = 0;
        for (; m + 2 <= M; m += 2)
            block2x4(y + (long)m * ldy + n, y + (long)(m + 1) * ldy + n, x + (long)m * ldx,
                     x + (long)(m + 1) * ldx, wn, ldw, bn, K, accumulate);
        if (m < M)
            block1x4(y + (long)m * ldy + n, x + (long)m * ldx, wn, ldw, bn, K, accumulate);
    }
    if (n < N)   /* at most 3 w rows left */
        ks_linear(y + n, ldy, x, ldx, w + (long)n * ldw, ldw, bias ? bias + n : 0, M, N - n, K,
                  accumulate);
}
#endif
