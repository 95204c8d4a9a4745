/* Visual question answering (vqa.h): the forward pass over the shared kernels, and stele_answer.
 * The 1x1 convolutions over the S locations are GEMMs. conv1 reads [phi_l; s] with s the same
 * at every location, so its question half W1[:, D:] s + b1 is computed once and enters the
 * location GEMM as its bias: the tiled [S, D + Hq] input of the reference is never built. */
#include "vqa.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conv.h"
#include "error.h"
#include "kernels.h"
#include "lstm.h"
#include "session.h"
#include "words.h"

void vqa_work_free(vqa_work *w)
{
    if (!w)
        return;
    void *bufs[] = {w->scratch, w->phi, w->mean, w->ids, w->emb, w->gates, w->hs, w->c,
                    w->in, w->qbias, w->u, w->scores, w->glimpses, w->hidden, w->logits,
                    w->probs, w->top, w->top_prob};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
    free(w);
}

static void *alloc(size_t n, size_t size, int *oom)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        *oom = 1;
    return p;
}

vqa_work *vqa_work_create(const struct stele_model *m, const stele_limits *lim)
{
    vqa_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    const vqa_weights *q = &m->vqa;
    const size_t S = (size_t)m->grid_h * m->grid_w, D = (size_t)m->D, Q = (size_t)lim->max_source_tokens;
    const size_t Hq = (size_t)q->Hq, G = (size_t)q->G;
    int oom = 0;
    w->Qmax = lim->max_source_tokens;
    w->scratch = alloc(cnn_scratch_floats(m), sizeof(float), &oom);
    w->phi = alloc(S * D, sizeof(float), &oom);
    w->mean = alloc(D, sizeof(float), &oom);
    w->ids = alloc(Q, sizeof(int32_t), &oom);
    w->emb = alloc(Q * (size_t)q->Eq, sizeof(float), &oom);
    w->gates = alloc(Q * 4 * Hq, sizeof(float), &oom);
    w->hs = alloc(Q * Hq, sizeof(float), &oom);
    w->c = alloc(Hq, sizeof(float), &oom);
    w->in = alloc(G * D + Hq, sizeof(float), &oom);
    w->qbias = alloc((size_t)q->A, sizeof(float), &oom);
    w->u = alloc(S * (size_t)q->A, sizeof(float), &oom);
    w->scores = alloc(G * S, sizeof(float), &oom);
    w->glimpses = alloc(G * S, sizeof(float), &oom);
    w->hidden = alloc((size_t)q->F, sizeof(float), &oom);
    w->logits = alloc((size_t)q->Na, sizeof(float), &oom);
    w->probs = alloc((size_t)q->Na, sizeof(float), &oom);
    w->top = alloc(VQA_TOP, sizeof(int32_t), &oom);
    w->top_prob = alloc(VQA_TOP, sizeof(float), &oom);
    if (oom) {
        vqa_work_free(w);
        return NULL;
    }
    return w;
}

stele_status vqa_question(vqa_work *w, const struct stele_model *m, const char *text, size_t len,
                          stele_error *err)
{
    size_t n = 0;
    stele_error e;
    w->n = 0;
    stele_status st = words_encode(m->words, text, len, (int32_t)m->unk_id, w->ids,
                                   (size_t)w->Qmax, &n, &e);
    if (st == STELE_ERR_LIMIT)
        return stele_fail(err, st, "stele_answer: the question has %zu words, the session's limit "
                          "is %d (max_source_tokens)", n, w->Qmax);
    if (st != STELE_OK)
        return stele_fail(err, st, "stele_answer: question: %s", e.message);
    /* the reference refuses it too: an LSTM state of no words is not a question */
    if (n == 0)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_answer: empty question (no words)");
    w->n = (int)n;
    return STELE_OK;
}

/* phi_l / max(||phi_l||, 1e-12), as torch.nn.functional.normalize: a location whose features are
 * all zero stays zero. The division (not a multiplication by the reciprocal) is the reference's. */
static void l2_normalize(float *phi, int S, int D)
{
    for (int l = 0; l < S; l++) {
        float *x = phi + (size_t)l * D;
        double ss = 0.0;
        for (int d = 0; d < D; d++)
            ss += (double)x[d] * x[d];
        float n = (float)sqrt(ss);
        n = n > 1e-12f ? n : 1e-12f;
        for (int d = 0; d < D; d++)
            x[d] /= n;
    }
}

void vqa_image(vqa_work *w, const struct stele_model *m, const uint8_t *pixels, int channels,
               int stride)
{
    cnn_load_image(w->scratch, m, pixels, channels, stride);
    cnn_run(w->phi, w->mean, m, w->scratch);
    const size_t n = (size_t)m->grid_h * m->grid_w * m->D;
    if (m->vqa.l2norm)
        l2_normalize(w->phi, m->grid_h * m->grid_w, m->D);
    /* the place of each location, after the norm (the reference's phi = l2norm(cnn) + P): both
     * the glimpse scores and the glimpses' sums read this phi */
    if (m->vqa.position)
        for (size_t i = 0; i < n; i++)
            w->phi[i] += m->vqa.position[i];
}

static void relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* The VQA_TOP most probable answers, ties to the lower index (vqa_answer's sort by (-p, i)). */
static int top_answers(int32_t *top, float *top_prob, const float *p, int n)
{
    const int k = n < VQA_TOP ? n : VQA_TOP;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int taken = 0;
            for (int t = 0; t < j && !taken; t++)
                taken = top[t] == i;
            if (!taken && (best < 0 || p[i] > p[best]))
                best = i;
        }
        top[j] = best;
        top_prob[j] = p[best];
    }
    return k;
}

void vqa_forward(vqa_work *w, const struct stele_model *m)
{
    const kernels *k = m->kern;
    const vqa_weights *q = &m->vqa;
    const int S = m->grid_h * m->grid_w, D = m->D, Eq = q->Eq, Hq = q->Hq, A = q->A, G = q->G;
    const int n = w->n, in1 = D + Hq, nin = G * D + Hq;
    float *s = w->in + (size_t)G * D;   /* the question state, where the classifier reads it */
    for (int t = 0; t < n; t++)
        memcpy(w->emb + (size_t)t * Eq, q->q_embed + (size_t)w->ids[t] * Eq, sizeof(float) * Eq);
    lstm_run(k, w->hs, Hq, s, w->c, w->gates, w->emb, Eq, &q->q_lstm, n, 0);
    /* glimpse.conv1: u = relu(Phi W1[:, :D]^T + (W1[:, D:] s + b1)), one GEMM over the locations */
    k->linear(w->qbias, A, s, Hq, q->conv1_w + D, in1, q->conv1_b, 1, A, Hq, 0);
    k->linear(w->u, A, w->phi, D, q->conv1_w, in1, w->qbias, S, A, D, 0);
    relu(w->u, (size_t)S * A);
    /* glimpse.conv2 as E [G, S] = W2 U^T (+ b2 per glimpse): the maps come out row by row */
    k->linear(w->scores, S, q->conv2_w, A, w->u, A, NULL, G, S, A, 0);
    for (int g = 0; g < G; g++) {
        float *e = w->scores + (size_t)g * S, *a = w->glimpses + (size_t)g * S;
        for (int l = 0; l < S; l++)
            e[l] += q->conv2_b[g];
        memcpy(a, e, sizeof(float) * (size_t)S);
        k->softmax(a, S);
    }
    /* x_g = sum_l alpha_g,l phi_l, written in front of s: the classifier's input [x_1..x_G; s] */
    k->weighted_sum(w->in, D, w->glimpses, S, w->phi, G, S, D);
    k->linear(w->hidden, q->F, w->in, nin, q->fc1_w, nin, q->fc1_b, 1, q->F, nin, 0);
    relu(w->hidden, (size_t)q->F);
    k->linear(w->logits, q->Na, w->hidden, q->F, q->fc2_w, q->F, q->fc2_b, 1, q->Na, q->F, 0);
    memcpy(w->probs, w->logits, sizeof(float) * (size_t)q->Na);
    k->softmax(w->probs, q->Na);
    stele_answer_result *r = &w->result;
    r->n_top = top_answers(w->top, w->top_prob, w->probs, q->Na);
    r->answer = w->top[0];
    r->text = q->answer[r->answer];
    r->top = w->top;
    r->top_prob = w->top_prob;
    r->probs = w->probs;
    r->n_answers = q->Na;
    r->n_glimpses = G;
    r->grid_height = m->grid_h;
    r->grid_width = m->grid_w;
    r->glimpses = w->glimpses;
    r->n_question = n;
    r->question_ids = w->ids;
}

stele_status stele_answer(stele_session *s, const uint8_t *pixels, int width, int height,
                          int channels, int stride, const char *question, ptrdiff_t len,
                          const stele_answer_result **out, stele_error *err)
{
    if (!s || !out || !question)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_answer: NULL %s",
                          !s ? "session" : !out ? "out" : "question");
    *out = NULL;
    const struct stele_model *m = s->m;
    if (m->task != TASK_VQA || !s->vqa)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_answer: the model's task is %s, not "
                          "vqa (use stele_%s)", stele_model_task(m),
                          m->task == TASK_CAPTION ? "caption" : "translate");
    stele_error e;
    stele_status st = cnn_check_image(m, pixels, width, height, channels, stride, &e);
    if (st != STELE_OK) {   /* its message names stele_caption, whose check it is */
        const char *msg = strncmp(e.message, "stele_caption: ", 15) == 0 ? e.message + 15
                                                                          : e.message;
        return stele_fail(err, st, "stele_answer: %s", msg);
    }
    size_t n = len < 0 ? strlen(question) : (size_t)len;
    if (n > (size_t)s->lim.max_text_bytes)
        return stele_fail(err, STELE_ERR_LIMIT, "stele_answer: the question has %zu bytes, the "
                          "session's limit is %d (max_text_bytes)", n, s->lim.max_text_bytes);
    st = vqa_question(s->vqa, m, question, n, err);
    if (st != STELE_OK)
        return st;
    vqa_image(s->vqa, m, pixels, channels, stride);
    vqa_forward(s->vqa, m);
    *out = &s->vqa->result;
    return STELE_OK;
}
