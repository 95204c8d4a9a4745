/* LSTM cell, (Bi)LSTM layer and stacked/residual encoder. */
#include "lstm.h"
#include <string.h>
#include "kernels.h"

void lstm_run(const kernels *k, float *out, int ldo, float *h_fin, float *c_fin, float *gates,
              const float *x, int ldx, const lstm_weights *w, int S, int reverse)
{
    const int H = w->H, G = 4 * w->H;
    linear_w(k, gates, G, x, ldx, w->w_ih, w->bias, S, G, w->in, 0);
    memset(c_fin, 0, sizeof(float) * (size_t)H);
    const float *h_prev = NULL;
    for (int i = 0; i < S; i++) {
        int t = reverse ? S - 1 - i : i;
        float *g = gates + (size_t)t * G;
        if (h_prev)   /* from zero states the recurrent term of the first step vanishes */
            linear_w(k, g, G, h_prev, H, w->w_hh, NULL, 1, G, H, 1);
        float *h = out + (size_t)t * ldo;
        k->lstm_gates(h, c_fin, g, G, 1, H);
        h_prev = h;
    }
    if (h_prev)
        memcpy(h_fin, h_prev, sizeof(float) * (size_t)H);
    else
        memset(h_fin, 0, sizeof(float) * (size_t)H);
}

void lstm_cell(const kernels *k, float *h, float *c, float *gates, const float *x, int ldx,
               const lstm_weights *w, int M)
{
    const int H = w->H, G = 4 * w->H;
    linear_w(k, gates, G, x, ldx, w->w_ih, w->bias, M, G, w->in, 0);
    linear_w(k, gates, G, h, H, w->w_hh, NULL, M, G, H, 1);
    k->lstm_gates(h, c, gates, G, M, H);
}

static int max_int(int a, int b) { return a > b ? a : b; }

size_t encoder_scratch_floats(const struct stele_model *m, int S)
{
    /* embeddings [S, E], two layer buffers [S, D], gates [S, 4H], final states 2 x [D] */
    return (size_t)S * (size_t)(m->E + 2 * m->D + 4 * m->H) + 2 * (size_t)m->D;
}

void encoder_run(float *memory, float *fh, float *fc, const struct stele_model *m,
                 const int32_t *ids, int S, float *scratch)
{
    const int E = m->E, D = m->D, H = m->H;
    float *emb = scratch;
    float *buf[2] = {emb + (size_t)S * E, emb + (size_t)S * (E + D)};
    float *gates = emb + (size_t)S * (E + 2 * D);
    float *hb = gates + (size_t)S * 4 * H, *cb = hb + D;
    for (int t = 0; t < S; t++)
        wmat_row(emb + (size_t)t * E, m->src_embed, ids[t], E);
    const float *x = emb;
    int in = E;
    for (int l = 0; l < m->Le; l++) {
        float *out = l + 1 == m->Le ? memory : buf[l % 2];
        lstm_run(m->kern, out, D, hb, cb, gates, x, in, &m->enc[l][0], S, 0);
        if (m->bidirectional)
            lstm_run(m->kern, out + H, D, hb + H, cb + H, gates, x, in, &m->enc[l][1], S, 1);
        if (m->enc_residual_from && l + 1 >= max_int(m->enc_residual_from, 2))
            for (size_t i = 0; i < (size_t)S * D; i++)
                out[i] += x[i];   /* from layer 2 on, in == D */
        x = out;
        in = D;
    }
    memcpy(fh, hb, sizeof(float) * D);
    memcpy(fc, cb, sizeof(float) * D);
}
