/* Every k_* kernel (the SIMD path this build selected) against its scalar reference ks_*, on
 * sizes that exercise the vector bodies and all the tails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/kernels.h"

static unsigned rng = 12345u;
static float frand(void)   /* uniform in [-2, 2) */
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 16777216.0)) * 4.0f - 2.0f;
}
static void fill(float *x, int n)
{
    for (int i = 0; i < n; i++)
        x[i] = frand();
}
static double maxdiff(const float *a, const float *b, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m))
            m = d;
    }
    return m;
}

static int failures;
static double worst[8];
static void check(int which, const char *what, double d, double tol, int a, int b, int c)
{
    if (d > worst[which])
        worst[which] = d;
    if (!(d <= tol)) {
        printf("FAIL %s (%d, %d, %d): max abs diff %.3g > %.3g\n", what, a, b, c, d, tol);
        failures++;
    }
}

int main(void)
{
    enum { MAXN = 4200 };
    float *x = malloc(sizeof(float) * 8 * MAXN), *w = malloc(sizeof(float) * 70 * MAXN);
    float *y1 = malloc(sizeof(float) * 8 * MAXN), *y2 = malloc(sizeof(float) * 8 * MAXN);
    float *b = malloc(sizeof(float) * MAXN), *c1 = malloc(sizeof(float) * 8 * MAXN);
    float *c2 = malloc(sizeof(float) * 8 * MAXN);
    if (!x || !w || !y1 || !y2 || !b || !c1 || !c2)
        return 2;
    static const int Ms[] = {1, 2, 3, 4, 5, 6}, Ns[] = {1, 3, 4, 7, 33, 64}, Ks[] = {1, 7, 8, 15, 16,
                                                                              17, 100, 256};
    for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
        for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
            for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
                for (int acc = 0; acc < 2; acc++) {
                    int M = Ms[mi], N = Ns[ni], K = Ks[ki], ldx = K + 3, ldw = K + 1, ldy = N + 2;
                    fill(x, M * ldx);
                    fill(w, N * ldw);
                    fill(b, N);
                    fill(y1, M * ldy);
                    memcpy(y2, y1, sizeof(float) * M * ldy);
                    const float *bias = (K & 1) ? b : NULL;
                    k_linear(y1, ldy, x, ldx, w, ldw, bias, M, N, K, acc);
                    ks_linear(y2, ldy, x, ldx, w, ldw, bias, M, N, K, acc);
                    check(0, "linear", maxdiff(y1, y2, M * ldy), 1e-4 * (1 + K / 16.0), M, N, K);
                }
    for (int M = 1; M <= 3; M++)
        for (int S = 1; S <= 40; S += 13)
            for (int N = 1; N <= 80; N += 9) {
                fill(x, M * S);
                fill(w, S * N);
                k_weighted_sum(y1, N, x, S, w, M, S, N);
                ks_weighted_sum(y2, N, x, S, w, M, S, N);
                check(1, "weighted_sum", maxdiff(y1, y2, M * N), 1e-5 * S, M, S, N);
            }
    for (int M = 1; M <= 3; M++)
        for (int H = 1; H <= 70; H += 3) {
            fill(x, M * 4 * H);
            for (int i = 0; i < M * 4 * H; i++)
                x[i] *= 4.0f;   /* gates in [-8, 8): saturating and linear regions */
            fill(c1, M * H);
            memcpy(c2, c1, sizeof(float) * M * H);
            k_lstm_gates(y1, c1, x, 4 * H, M, H);
            ks_lstm_gates(y2, c2, x, 4 * H, M, H);
            check(2, "lstm_gates h", maxdiff(y1, y2, M * H), 1e-6, M, H, 0);
            check(2, "lstm_gates c", maxdiff(c1, c2, M * H), 1e-6, M, H, 0);
        }
    for (int n = 1; n <= 100; n += 7) {
        fill(x, n);
        for (int i = 0; i < n; i++)
            x[i] *= 10.0f;
        memcpy(y1, x, sizeof(float) * n);
        memcpy(y2, x, sizeof(float) * n);
        k_tanh(y1, n);
        ks_tanh(y2, n);
        check(3, "tanh", maxdiff(y1, y2, n), 1e-6, n, 0, 0);
    }
    for (int S = 1; S <= 30; S += 7)
        for (int A = 1; A <= 70; A += 11) {
            fill(w, S * A);
            fill(x, A);
            fill(b, A);
            k_additive_scores(y1, w, x, b, S, A);
            ks_additive_scores(y2, w, x, b, S, A);
            check(4, "additive_scores", maxdiff(y1, y2, S), 1e-6 * A, S, A, 0);
        }
    static const int Vs[] = {1, 2, 7, 8, 9, 31, 60, 1000, 4099};
    for (size_t vi = 0; vi < sizeof Vs / sizeof *Vs; vi++) {
        int n = Vs[vi];
        fill(x, n);
        for (int i = 0; i < n; i++)
            x[i] *= 8.0f;
        if (n > 8)
            x[n / 2] = x[n - 1] = 40.0f;   /* a tie for the maximum: the first index wins */
        int a1 = k_log_softmax(y1, x, n), a2 = ks_log_softmax(y2, x, n);
        check(5, "log_softmax", maxdiff(y1, y2, n), 1e-5, n, 0, 0);
        if (a1 != a2 || (n > 8 && a1 != n / 2)) {
            printf("FAIL log_softmax argmax %d vs %d (n %d)\n", a1, a2, n);
            failures++;
        }
        memcpy(y1, x, sizeof(float) * n);
        memcpy(y2, x, sizeof(float) * n);
        k_softmax(y1, n);
        ks_softmax(y2, n);
        check(6, "softmax", maxdiff(y1, y2, n), 1e-6, n, 0, 0);
    }
    printf("kernels (%s vs scalar): max abs diff linear %.2g, weighted_sum %.2g, lstm_gates %.2g, "
           "tanh %.2g, additive %.2g, log_softmax %.2g, softmax %.2g: %s\n", STELE_KERNELS_NAME,
           worst[0], worst[1], worst[2], worst[3], worst[4], worst[5], worst[6],
           failures ? "FAIL" : "ok");
    free(x); free(w); free(y1); free(y2); free(b); free(c1); free(c2);
    return failures ? 1 : 0;
}
