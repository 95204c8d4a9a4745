/* Decoder step (scripts/model.py Seq2Seq.step) batched over M beams: every matrix product is an
 * M-row GEMM so each weight is read once per step. */
#include "decoder.h"
#include <math.h>
#include <string.h>
#include <time.h>
#include "kernels.h"
#include "lstm.h"

double stele_now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int model_dec_in(const struct stele_model *m, int l)
{
    if (l == 0)
        return m->E + (m->luong ? m->O : m->C);
    return m->Hd + (m->gnmt ? m->C : 0);
}

static int dec_x_width(const struct stele_model *m)
{
    int x = m->luong ? m->C + m->Hd : m->Hd + m->C + m->E;
    for (int l = 0; l < m->Ld; l++)
        if (model_dec_in(m, l) > x)
            x = model_dec_in(m, l);
    return x;
}

size_t dec_state_floats(const struct stele_model *m, int K)
{
    return (size_t)K * (2 * (size_t)m->Ld * m->Hd + m->O);
}

void dec_state_bind(dec_state *st, const struct stele_model *m, int K, float *block)
{
    st->K = K;
    st->h = block;
    st->c = st->h + (size_t)m->Ld * K * m->Hd;
    st->feed = st->c + (size_t)m->Ld * K * m->Hd;
}

size_t dec_work_floats(const struct stele_model *m, int K)
{
    return (size_t)K * (m->E + m->D + dec_x_width(m) + 6 * (size_t)m->Hd + m->O + 1) +
           attn_scratch_floats(&m->attn, K);
}

void dec_work_bind(dec_work *w, const struct stele_model *m, int K, float *block)
{
    w->K = K;
    w->emb = block;
    w->ctx = w->emb + (size_t)K * m->E;
    w->x = w->ctx + (size_t)K * m->D;
    w->gates = w->x + (size_t)K * dec_x_width(m);
    w->out[0] = w->gates + (size_t)K * 4 * m->Hd;
    w->out[1] = w->out[0] + (size_t)K * m->Hd;
    w->o = w->out[1] + (size_t)K * m->Hd;
    w->gate = w->o + (size_t)K * m->O;
    w->scratch = w->gate + K;
    w->gen_ids = NULL;
    w->gen_n = 0;
    w->gen_row_ids = NULL;
    w->gen_row_n = NULL;
    w->profile = 0;
    w->t_lstm = w->t_attn = w->t_out = 0.0;
}

void dec_state_init(dec_state *st, const struct stele_model *m, const float *fh, const float *fc)
{
    const int K = st->K, Hd = m->Hd;
    for (int l = 0; l < m->Ld; l++) {
        float *h = st->h + (size_t)l * K * Hd, *c = st->c + (size_t)l * K * Hd;
        if (m->bridge_linear) {
            linear_w(m->kern, h, Hd, fh, m->D, wmat_rows(m->bridge_h_w, l * Hd),
                     m->bridge_h_b + (size_t)l * Hd, 1, Hd, m->D, 0);
            m->kern->tanh_inplace(h, Hd);
            linear_w(m->kern, c, Hd, fc, m->D, wmat_rows(m->bridge_c_w, l * Hd),
                     m->bridge_c_b + (size_t)l * Hd, 1, Hd, m->D, 0);
        } else {
            memset(h, 0, sizeof(float) * Hd);
            memset(c, 0, sizeof(float) * Hd);
        }
    }
    memset(st->feed, 0, sizeof(float) * m->O);
}

void dec_state_gather(dec_state *dst, const dec_state *src, const struct stele_model *m,
                      const int *parents, int n)
{
    const size_t Hd = (size_t)m->Hd;
    for (int l = 0; l < m->Ld; l++)
        for (int i = 0; i < n; i++) {
            memcpy(dst->h + ((size_t)l * dst->K + i) * Hd,
                   src->h + ((size_t)l * src->K + parents[i]) * Hd, sizeof(float) * Hd);
            memcpy(dst->c + ((size_t)l * dst->K + i) * Hd,
                   src->c + ((size_t)l * src->K + parents[i]) * Hd, sizeof(float) * Hd);
        }
    for (int i = 0; i < n; i++)
        memcpy(dst->feed + (size_t)i * m->O, src->feed + (size_t)parents[i] * m->O,
               sizeof(float) * m->O);
}

/* x[k] = [a[k] (na floats); b[k] (nb); c[k] (nc)] for k < M, row stride na + nb + nc. */
static void concat_rows(float *x, const float *a, int lda, int na, const float *b, int ldb,
                        int nb, const float *c, int ldc, int nc, int M)
{
    const int w = na + nb + nc;
    for (int k = 0; k < M; k++) {
        float *r = x + (size_t)k * w;
        memcpy(r, a + (size_t)k * lda, sizeof(float) * na);
        if (nb)
            memcpy(r + na, b + (size_t)k * ldb, sizeof(float) * nb);
        if (nc)
            memcpy(r + na + nb, c + (size_t)k * ldc, sizeof(float) * nc);
    }
}

/* Where the attention of a step reads and writes: one memory shared by all rows (beams of one
 * sentence: one [M, S] GEMM over its keys) or one memory per row (a batch of sentences). */
typedef struct {
    const attn_memory *mem;              /* shared, or NULL */
    float *weights;                      /* shared: [M, mem->S] */
    const attn_memory *const *row_mem;   /* per row */
    float *const *row_weights;           /* per row: [row_mem[k]->S] */
} step_attention;

static void attend(dec_work *w, const struct stele_model *m, const step_attention *a,
                   const float *q, int ldq, int M)
{
    if (a->mem) {
        attn_apply(m->kern, w->ctx, m->D, a->weights, &m->attn, a->mem, q, ldq, M, w->scratch);
        return;
    }
    for (int k = 0; k < M; k++)
        attn_apply(m->kern, w->ctx + (size_t)k * m->D, m->D, a->row_weights[k], &m->attn,
                   a->row_mem[k], q + (size_t)k * ldq, ldq, 1, w->scratch);
}

/* The attention gate (Show, Attend and Tell's beta): each row's context is scaled by
 * sigmoid(w_g . q + b_g) of its query, before it enters the LSTM and the projection. The
 * attention weights reported stay the ungated alpha. */
static void gate_context(dec_work *w, const struct stele_model *m, const float *q, int ldq, int M)
{
    m->kern->linear(w->gate, 1, q, ldq, m->gate_w, m->Hd, m->gate_b, M, 1, m->Hd, 0);
    for (int k = 0; k < M; k++) {
        const float beta = 1.0f / (1.0f + expf(-w->gate[k]));
        float *ctx = w->ctx + (size_t)k * m->D;
        for (int d = 0; d < m->D; d++)
            ctx[d] *= beta;
    }
}

/* logits [M, V] = generator rows . o + bias: every row, or only the shortlist's (dec_work
 * gen_*). The one place the output layer's weights are read. */
static void generator(float *logits, const dec_work *w, const struct stele_model *m, int M)
{
    const int V = m->V, O = m->O;
    if (w->gen_row_ids) {
        for (int k = 0; k < M; k++)
            if (w->gen_row_ids[k])
                linear_rows_w(m->kern, logits + (size_t)k * V, V, w->o + (size_t)k * O, O,
                              m->gen_w, m->gen_b, w->gen_row_ids[k], w->gen_row_n[k], 1, O);
            else
                linear_w(m->kern, logits + (size_t)k * V, V, w->o + (size_t)k * O, O, m->gen_w,
                         m->gen_b, 1, V, O, 0);
    } else if (w->gen_ids) {
        linear_rows_w(m->kern, logits, V, w->o, O, m->gen_w, m->gen_b, w->gen_ids, w->gen_n, M, O);
    } else {
        linear_w(m->kern, logits, V, w->o, O, m->gen_w, m->gen_b, M, V, O, 0);
    }
}

static void step_rows(float *logits, const step_attention *a, dec_state *st, dec_work *w,
                      const struct stele_model *m, const int32_t *y, int M)
{
    const int K = st->K, Hd = m->Hd, E = m->E, C = m->C, O = m->O, D = m->D;
    const int has_attn = m->attn.score != SCORE_NONE;
    double t0 = w->profile ? stele_now() : 0.0, t1;
    for (int k = 0; k < M; k++)
        wmat_row(w->emb + (size_t)k * E, m->tgt_embed, y[k], E);
    if (has_attn && !m->luong) {   /* Bahdanau: query = previous top (gnmt: layer 0) state */
        const float *q = st->h + (size_t)(m->gnmt ? 0 : m->Ld - 1) * K * Hd;
        attend(w, m, a, q, Hd, M);
        if (m->gate)
            gate_context(w, m, q, Hd, M);
        if (w->profile) {
            t1 = stele_now();
            w->t_attn += t1 - t0;
            t0 = t1;
        }
    }
    /* layer 0 input: [emb; ctx] (bahdanau) or [emb; o_{t-1}] (luong) */
    if (m->luong)
        concat_rows(w->x, w->emb, E, E, st->feed, O, O, NULL, 0, 0, M);
    else
        concat_rows(w->x, w->emb, E, E, w->ctx, D, C, NULL, 0, 0, M);
    const float *below = NULL;
    for (int l = 0; l < m->Ld; l++) {
        float *h = st->h + (size_t)l * K * Hd, *c = st->c + (size_t)l * K * Hd;
        int in = model_dec_in(m, l);
        if (l > 0)
            concat_rows(w->x, below, Hd, Hd, w->ctx, D, m->gnmt ? C : 0, NULL, 0, 0, M);
        lstm_cell(m->kern, h, c, w->gates, w->x, in, &m->dec[l], M);
        if (l >= 1 && m->dec_residual_from && l + 1 >= m->dec_residual_from) {
            float *out = w->out[l % 2];   /* the recurrent state keeps h without the residual */
            for (size_t i = 0; i < (size_t)M * Hd; i++)
                out[i] = h[i] + below[i];
            below = out;
        } else {
            below = h;
        }
    }
    if (w->profile) {
        t1 = stele_now();
        w->t_lstm += t1 - t0;
        t0 = t1;
    }
    int pin;
    if (m->luong) {
        if (has_attn) {
            attend(w, m, a, below, Hd, M);
            if (w->profile) {
                t1 = stele_now();
                w->t_attn += t1 - t0;
                t0 = t1;
            }
        }
        concat_rows(w->x, w->ctx, D, C, below, Hd, Hd, NULL, 0, 0, M);
        pin = C + Hd;
    } else {
        concat_rows(w->x, below, Hd, Hd, w->ctx, D, C, w->emb, E, E, M);
        pin = Hd + C + E;
    }
    linear_w(m->kern, w->o, O, w->x, pin, m->proj_w, m->proj_b, M, O, pin, 0);
    for (int k = 0; k < M; k++)   /* row by row: a row's SIMD/scalar split must not depend on M */
        m->kern->tanh_inplace(w->o + (size_t)k * O, O);
    if (m->luong)
        memcpy(st->feed, w->o, sizeof(float) * (size_t)M * O);
    generator(logits, w, m, M);
    if (w->profile)
        w->t_out += stele_now() - t0;
}

void decoder_step(float *logits, float *attn, dec_state *st, dec_work *w,
                  const struct stele_model *m, const attn_memory *mem, const int32_t *y, int M)
{
    step_attention a = {mem, attn, NULL, NULL};
    step_rows(logits, &a, st, w, m, y, M);
}

void decoder_step_rows(float *logits, float *const *attn_rows, dec_state *st, dec_work *w,
                       const struct stele_model *m, const attn_memory *const *mems,
                       const int32_t *y, int M)
{
    step_attention a = {NULL, NULL, mems, attn_rows};
    step_rows(logits, &a, st, w, m, y, M);
}
