/* Every kernel of every SIMD kernel set this build has and this CPU runs (native: avx2+fma;
 * WebAssembly: simd128) against its scalar reference ks_*, on sizes that exercise the vector
 * bodies and all the tails; and (native) the choice of the set: STELE_KERNELS and its errors. */
#define _POSIX_C_SOURCE 200809L   /* setenv */
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
static double worst[11];
static const kernels *KS;   /* the set under test */
static void check(int which, const char *what, double d, double tol, int a, int b, int c)
{
    if (d > worst[which])
        worst[which] = d;
    if (!(d <= tol)) {
        printf("FAIL %s (%d, %d, %d): max abs diff %.3g > %.3g\n", what, a, b, c, d, tol);
        failures++;
    }
}

/* linear_q8 (int8 weights, kernels.h): the set's against the scalar one (the same integer sums
 * and float operations: equal up to the contraction of a multiply-add), and the scalar one against
 * its meaning, x times the dequantized weights in double, within the bound of the activation's
 * 31-bit rounding (sum_k |w[n, k]| xs / 2) plus float rounding. K beyond Q8_CHUNK crosses chunks;
 * M beyond 8 crosses the blocks of x rows; a row of zeros (xs = 0) and a zero scale are
 * included. */
static void test_q8(float *x, float *y1, float *y2, float *b)
{
    enum { MAXM = 17, MAXN = 70, MAXK = 600 };
    static int8_t q[MAXN * (MAXK + 5)];
    static float scale[MAXN];
    static double ref[MAXM * (MAXN + 2)];
    static const int Ms[] = {1, 2, 3, 5, 6, 9, 17}, Ns[] = {1, 3, 4, 7, 33, 64};
    static const int Ks[] = {1, 7, 8, 15, 16, 17, 100, 256, 257, 600};
    double worst_meaning = 0;
    for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
        for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
            for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
                for (int acc = 0; acc < 2; acc++) {
                    int M = Ms[mi], N = Ns[ni], K = Ks[ki], ldx = K + 3, ldw = K + 5, ldy = N + 2;
                    fill(x, M * ldx);
                    if (M > 2)
                        memset(x + 2 * ldx, 0, sizeof(float) * K);   /* xs = 0 */
                    for (int i = 0; i < N * ldw; i++)
                        q[i] = (int8_t)((int)(frand() * 64.0f));   /* -128..127 */
                    for (int n = 0; n < N; n++)
                        scale[n] = n == 2 ? 0.0f : (frand() + 2.5f) * 0.01f;
                    fill(b, N);
                    fill(y1, M * ldy);
                    memcpy(y2, y1, sizeof(float) * M * ldy);
                    const float *bias = (K & 1) ? b : NULL;
                    for (int m = 0; m < M; m++)
                        for (int n = 0; n < N; n++) {
                            double s = (acc ? y1[m * ldy + n] : 0.0) + (bias ? bias[n] : 0.0);
                            for (int k = 0; k < K; k++)
                                s += (double)x[m * ldx + k] * ((float)q[n * ldw + k] * scale[n]);
                            ref[m * ldy + n] = s;
                        }
                    KS->linear_q8(y1, ldy, x, ldx, q, ldw, scale, bias, M, N, K, acc);
                    ks_linear_q8(y2, ldy, x, ldx, q, ldw, scale, bias, M, N, K, acc);
                    check(10, "linear_q8", maxdiff(y1, y2, M * ldy), 1e-5 * (1 + K / 16.0), M, N,
                          K);
                    for (int m = 0; m < M; m++) {
                        float amax = 0;
                        for (int k = 0; k < K; k++)
                            amax = fabsf(x[m * ldx + k]) > amax ? fabsf(x[m * ldx + k]) : amax;
                        for (int n = 0; n < N; n++) {
                            double wsum = 0;
                            for (int k = 0; k < K; k++)
                                wsum += fabs((float)q[n * ldw + k] * scale[n]);
                            double bound = wsum * amax / Q8_XMAX / 2 + 1e-5 * (1 + K / 16.0);
                            double d = fabs(y2[m * ldy + n] - ref[m * ldy + n]);
                            worst_meaning = d > worst_meaning ? d : worst_meaning;
                            if (!(d <= bound)) {
                                printf("FAIL linear_q8 scalar vs dequantized double (%d, %d, %d) "
                                       "row %d col %d: %.3g > bound %.3g\n", M, N, K, m, n, d,
                                       bound);
                                failures++;
                            }
                        }
                    }
                }
    /* linear_rows_q8: gathered rows (repeats, any order) give exactly linear_q8's columns */
    int32_t rows[40];
    int rows_bad = 0;
    for (int K = 7; K <= 600; K += 593) {
        const int M = 5, N = 64, ldx = K + 3, ldw = K + 5, ldy = N + 2, n = 37;
        fill(x, M * ldx);
        for (int i = 0; i < N * ldw; i++)
            q[i] = (int8_t)((int)(frand() * 64.0f));
        for (int j = 0; j < N; j++)
            scale[j] = (frand() + 2.5f) * 0.01f;
        fill(b, N);
        for (int j = 0; j < n; j++)
            rows[j] = (int32_t)((j * 29 + 7) % N);
        KS->linear_q8(y1, ldy, x, ldx, q, ldw, scale, b, M, N, K, 0);
        for (int mm = 1; mm <= M; mm += M - 1) {   /* one row alone, then all five */
            KS->linear_rows_q8(y2, ldy, x, ldx, q, ldw, scale, b, rows, n, mm, K);
            for (int m = 0; m < mm; m++)
                for (int j = 0; j < n; j++)
                    rows_bad += y2[m * ldy + j] != y1[m * ldy + rows[j]];
        }
    }
    if (rows_bad) {
        printf("FAIL linear_rows_q8: %d outputs differ from linear_q8's columns\n", rows_bad);
        failures++;
    }
    printf("linear_q8: scalar vs dequantized weights in double, max abs diff %.2g (within the "
           "31-bit activation bound); linear_rows_q8 = linear_q8's columns: %s\n", worst_meaning,
           rows_bad ? "no" : "yes");
}

/* conv3x3_relu and maxpool2x2 on sizes that exercise every pixel block (the 6- and 4-pixel
 * blocks and each remainder), every channel block (16, 8, 4 and the scalar tail) and one input
 * channel; the padded input's border is zero as the engine keeps it, the output guarded. */
static void test_conv(void)
{
    static const int Hs[] = {1, 2, 5}, Ws[] = {1, 2, 3, 4, 5, 6, 7, 9, 13, 21};
    static const int Cis[] = {1, 3, 4, 8, 17}, Cos[] = {1, 3, 4, 5, 8, 12, 16, 17, 24, 33};
    const int maxH = 5, maxW = 21, maxC = 33;
    float *x = malloc(sizeof(float) * (maxH + 2) * (maxW + 2) * maxC);
    float *w = malloc(sizeof(float) * 9 * maxC * maxC), *b = malloc(sizeof(float) * maxC);
    const size_t ny = (size_t)maxH * maxW * maxC + 16;
    float *y1 = malloc(sizeof(float) * ny), *y2 = malloc(sizeof(float) * ny);
    if (!x || !w || !b || !y1 || !y2) {
        printf("FAIL out of memory\n");
        failures++;
        free(x); free(w); free(b); free(y1); free(y2);
        return;
    }
    for (size_t hi = 0; hi < sizeof Hs / sizeof *Hs; hi++)
        for (size_t wi = 0; wi < sizeof Ws / sizeof *Ws; wi++)
            for (size_t ci = 0; ci < sizeof Cis / sizeof *Cis; ci++)
                for (size_t co = 0; co < sizeof Cos / sizeof *Cos; co++) {
                    const int H = Hs[hi], W = Ws[wi], Ci = Cis[ci], Co = Cos[co];
                    for (int r = 0; r < H + 2; r++)
                        for (int c = 0; c < W + 2; c++) {
                            float *px = x + ((size_t)r * (W + 2) + c) * Ci;
                            if (r == 0 || c == 0 || r == H + 1 || c == W + 1)
                                memset(px, 0, sizeof(float) * Ci);
                            else
                                fill(px, Ci);
                        }
                    fill(w, 9 * Ci * Co);
                    fill(b, Co);
                    const size_t n = (size_t)H * W * Co;
                    for (size_t i = 0; i < n + 16; i++)
                        y1[i] = y2[i] = 123.0f;   /* guard: nothing past n is written */
                    KS->conv3x3_relu(y1, x, w, b, H, W, Ci, Co);
                    ks_conv3x3_relu(y2, x, w, b, H, W, Ci, Co);
                    int zeros = 0;
                    for (size_t i = 0; i < n; i++)
                        zeros += y2[i] == 0.0f;
                    if (zeros == 0 && n > 8) {
                        printf("FAIL conv3x3_relu (%d, %d, %d, %d): ReLU never clipped\n", H, W,
                               Ci, Co);
                        failures++;
                    }
                    check(7, "conv3x3_relu", maxdiff(y1, y2, (int)n + 16), 1e-6 * (9 * Ci + 1) * 4,
                          H * 100 + W, Ci, Co);
                }
    /* max-pool: odd sizes floor; ldy wider than the row (a padded destination) */
    for (int H = 1; H <= 7; H += 3)
        for (int W = 1; W <= 9; W += 2)
            for (int C = 1; C <= 19; C += 6) {
                const int Ho = H / 2, Wo = W / 2, ldy = (Wo + 2) * C;
                fill(x, H * W * C);
                const int n = (Ho + 1) * ldy;
                for (int i = 0; i < n; i++)
                    y1[i] = y2[i] = -5.0f;
                KS->maxpool2x2(y1, ldy, x, H, W, C);
                ks_maxpool2x2(y2, ldy, x, H, W, C);
                check(8, "maxpool2x2", maxdiff(y1, y2, n), 0.0, H, W, C);
                if (Ho && Wo) {   /* the reference itself, one element */
                    float m = x[0];
                    if (W > 1 && x[C] > m) m = x[C];
                    if (x[W * C] > m) m = x[W * C];
                    if (x[W * C + C] > m) m = x[W * C + C];
                    if (y2[0] != m) {
                        printf("FAIL ks_maxpool2x2 (%d, %d, %d): y[0] %g, expected %g\n", H, W,
                               C, y2[0], m);
                        failures++;
                    }
                }
            }
    free(x); free(w); free(b); free(y1); free(y2);
}

static void test_set(void)
{
    enum { MAXN = 4200 };
    memset(worst, 0, sizeof worst);
    float *x = malloc(sizeof(float) * 8 * MAXN), *w = malloc(sizeof(float) * 70 * MAXN);
    float *y1 = malloc(sizeof(float) * 8 * MAXN), *y2 = malloc(sizeof(float) * 8 * MAXN);
    float *b = malloc(sizeof(float) * MAXN), *c1 = malloc(sizeof(float) * 8 * MAXN);
    float *c2 = malloc(sizeof(float) * 8 * MAXN);
    if (!x || !w || !y1 || !y2 || !b || !c1 || !c2) {
        printf("FAIL out of memory\n");
        failures++;
        return;
    }
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
                    KS->linear(y1, ldy, x, ldx, w, ldw, bias, M, N, K, acc);
                    ks_linear(y2, ldy, x, ldx, w, ldw, bias, M, N, K, acc);
                    check(0, "linear", maxdiff(y1, y2, M * ldy), 1e-4 * (1 + K / 16.0), M, N, K);
                }
    /* linear_rows: gathered rows (the shortlist's generator) against the scalar set, and each
     * (row, x row) the same bits whatever M is (alone, beam and batch rows must agree) */
    const unsigned rng_saved = rng;   /* the later tests keep the random inputs they had */
    static const int Rs[] = {1, 2, 5};
    static const int RK[] = {1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 256};
    int32_t rows[40];
    for (size_t mi = 0; mi < sizeof Rs / sizeof *Rs; mi++)
        for (size_t ki = 0; ki < sizeof RK / sizeof *RK; ki++)
            for (int nr = 1; nr <= 40; nr += 13) {
                int M = Rs[mi], K = RK[ki], N = 64, ldx = K + 3, ldw = K + 1, ldy = nr + 2;
                fill(x, M * ldx);
                fill(w, N * ldw);
                fill(b, N);
                for (int j = 0; j < nr; j++)
                    rows[j] = (int32_t)((j * 37u + (unsigned)K) % (unsigned)N);
                const float *bias = (nr & 1) ? b : NULL;
                KS->linear_rows(y1, ldy, x, ldx, w, ldw, bias, rows, nr, M, K);
                ks_linear_rows(y2, ldy, x, ldx, w, ldw, bias, rows, nr, M, K);
                double d = 0.0;
                for (int m = 0; m < M; m++) {
                    double dm = maxdiff(y1 + m * ldy, y2 + m * ldy, nr);
                    d = dm > d ? dm : d;
                    KS->linear_rows(c1, ldy, x + m * ldx, ldx, w, ldw, bias, rows, nr, 1, K);
                    if (memcmp(c1, y1 + m * ldy, sizeof(float) * nr) != 0) {
                        printf("FAIL linear_rows (%d, %d, %d): row %d alone differs from M=%d\n",
                               M, nr, K, m, M);
                        failures++;
                    }
                }
                check(9, "linear_rows", d, 1e-4 * (1 + K / 16.0), M, nr, K);
            }
    rng = rng_saved;
    for (int M = 1; M <= 3; M++)
        for (int S = 1; S <= 40; S += 13)
            for (int N = 1; N <= 80; N += 9) {
                fill(x, M * S);
                fill(w, S * N);
                KS->weighted_sum(y1, N, x, S, w, M, S, N);
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
            KS->lstm_gates(y1, c1, x, 4 * H, M, H);
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
        KS->tanh_inplace(y1, n);
        ks_tanh(y2, n);
        check(3, "tanh", maxdiff(y1, y2, n), 1e-6, n, 0, 0);
    }
    for (int S = 1; S <= 30; S += 7)
        for (int A = 1; A <= 70; A += 11) {
            fill(w, S * A);
            fill(x, A);
            fill(b, A);
            KS->additive_scores(y1, w, x, b, S, A);
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
        int a1 = KS->log_softmax(y1, x, n), a2 = ks_log_softmax(y2, x, n);
        check(5, "log_softmax", maxdiff(y1, y2, n), 1e-5, n, 0, 0);
        if (a1 != a2 || (n > 8 && a1 != n / 2)) {
            printf("FAIL log_softmax argmax %d vs %d (n %d)\n", a1, a2, n);
            failures++;
        }
        memcpy(y1, x, sizeof(float) * n);
        memcpy(y2, x, sizeof(float) * n);
        KS->softmax(y1, n);
        ks_softmax(y2, n);
        check(6, "softmax", maxdiff(y1, y2, n), 1e-6, n, 0, 0);
    }
    /* A vocabulary-sized tail far below one maximum, like a trained model's logits: in a float
     * sum, terms under half an ulp of the running sum vanish (log of a sequential float sum came
     * out 2.6e-5 low on such data, of an 8-lane one 3.3e-6), so every set must sum in double and
     * agree with a double reference up to the rounding of y (half an ulp of 22 = 9.5e-7). */
    for (int n = 8000, rep = 0; rep < 2; rep++, n += 7) {
        fill(x, n);
        for (int i = 0; i < n; i++)
            x[i] = 2.0f * x[i] - 18.0f;   /* [-22, -14) */
        x[n / 3] = 0.0f;
        double sum = 0.0;
        for (int i = 0; i < n; i++)
            sum += exp((double)x[i]);
        double lse = log(sum), d = 0.0;
        KS->log_softmax(y1, x, n);
        ks_log_softmax(y2, x, n);
        for (int i = 0; i < n; i++) {
            double d1 = fabs(y1[i] - (x[i] - lse)), d2 = fabs(y2[i] - (x[i] - lse));
            d = d1 > d ? d1 : d;
            d = d2 > d ? d2 : d;
        }
        check(5, "log_softmax vs double", d, 2e-6, n, 0, 0);
    }
    test_conv();
    test_q8(x, y1, y2, b);
    printf("kernels (%s vs scalar): max abs diff linear %.2g, weighted_sum %.2g, lstm_gates %.2g, "
           "tanh %.2g, additive %.2g, log_softmax %.2g, softmax %.2g, conv3x3_relu %.2g, "
           "maxpool2x2 %.2g, linear_rows %.2g, linear_q8 %.2g: %s\n", KS->name, worst[0], worst[1],
           worst[2], worst[3], worst[4], worst[5], worst[6], worst[7], worst[8], worst[9], worst[10],
           failures ? "FAIL" : "ok");
    free(x); free(w); free(y1); free(y2); free(b); free(c1); free(c2);
}

#ifndef __wasm__
/* kernels_select() and stele_model_load() under STELE_KERNELS=value (NULL: unset): the set's
 * name, or the error's status and message. */
static void expect_select(const char *value, const char *want_name, const char *want_msg)
{
    if (value)
        setenv("STELE_KERNELS", value, 1);
    else
        unsetenv("STELE_KERNELS");
    const kernels *k = NULL;
    stele_error err = {STELE_OK, ""};
    stele_status st = kernels_select(&k, &err);
    const char *name = stele_kernels_name();
    stele_model *m = NULL;
    stele_error lerr = {STELE_OK, ""};
    stele_status lst = stele_model_load(NULL, 0, &m, &lerr);   /* kernels first, then bytes */
    int ok = want_name ? st == STELE_OK && k && strcmp(k->name, want_name) == 0 && name &&
                             strcmp(name, want_name) == 0 && lst != STELE_ERR_ARGUMENT
                       : st == STELE_ERR_ARGUMENT && err.status == st && !name &&
                             strstr(err.message, want_msg) && lst == STELE_ERR_ARGUMENT &&
                             strcmp(lerr.message, err.message) == 0;
    printf("%s STELE_KERNELS=%s: %s\n", ok ? "ok  " : "FAIL", value ? value : "(unset)",
           st == STELE_OK && k ? k->name : err.message);
    failures += !ok;
    stele_model_free(m);
}
#endif

int main(void)
{
    int sets = 0;
#ifdef __wasm__
    KS = &kernels_simd128;
    test_set();
    sets++;
#else
    const char *env = getenv("STELE_KERNELS");
    printf("kernel set selected here: %s (STELE_KERNELS=%s)\n",
           stele_kernels_name() ? stele_kernels_name() : "none, an error", env ? env : "unset");
    if (kernels_avx2_usable()) {
        KS = &kernels_avx2;
        test_set();
        sets++;
    }
    char *saved = env ? strdup(env) : NULL;
    const char *best = kernels_avx2_usable() ? "avx2+fma" : "scalar";
    expect_select(NULL, best, NULL);
    expect_select("", best, NULL);
    expect_select("scalar", "scalar", NULL);
    if (kernels_avx2_usable())
        expect_select("avx2", "avx2+fma", NULL);
    else
        expect_select("avx2", NULL, "STELE_KERNELS=avx2: ");
    expect_select("foo", NULL, "STELE_KERNELS=foo: unknown kernel set (scalar, avx2)");
    expect_select("AVX2", NULL, "unknown kernel set");
    if (saved)
        setenv("STELE_KERNELS", saved, 1);
    else
        unsetenv("STELE_KERNELS");
    free(saved);
#endif
    if (!sets)
        printf("no SIMD kernel set on this CPU: the scalar set is the reference itself\n");
    printf("kernels: %s\n", failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
}
