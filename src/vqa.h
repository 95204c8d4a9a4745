/* Visual question answering (task "vqa"; scripts/model.py VQA, Kazemi & Elqursh 2017): the CNN
 * memory phi [S, D] (conv.h), l2-normalised per location, plus the learned position P_l of each
 * location when the model has one (encoder.position "learned"); the question's words -> embeddings ->
 * one LSTM layer -> s [Hq]; the glimpses: u_l = relu(W1 [phi_l; s] + b1), e_g,l = (W2 u_l + b2)_g,
 * alpha_g = softmax over the locations, x_g = sum_l alpha_g,l phi_l; the classifier:
 * p = softmax(fc2 relu(fc1 [x_1..x_G; s])). A vqa session holds one vqa_work, sized at session
 * creation for the model's grid and max_source_tokens question words. Internal (the tests look
 * at every stage). */
#ifndef STELE_VQA_H
#define STELE_VQA_H
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "stele.h"

#define VQA_TOP 5   /* answers in stele_answer_result.top */

typedef struct vqa_work {
    int Qmax;            /* question words (limits.max_source_tokens) */
    int n;               /* the current question's words */
    float *scratch;      /* the CNN's (cnn_scratch_floats) */
    float *phi;          /* [S, D] the memory, l2-normalised when the model says so, + P */
    float *mean;         /* [D] cnn_run's mean of the rows (the caption bridge's; unused here) */
    int32_t *ids;        /* [Qmax] the question's word ids */
    float *emb;          /* [Qmax, Eq] their embeddings */
    float *gates;        /* [Qmax, 4 Hq] the LSTM's gates */
    float *hs;           /* [Qmax, Hq] the LSTM's outputs (the last one is s) */
    float *c;            /* [Hq] the LSTM's cell */
    float *in;           /* [G D + Hq] the classifier's input: x_1, ..., x_G, then s */
    float *qbias;        /* [A] W1[:, D:] s + b1: the question's share of every location's u */
    float *u;            /* [S, A] */
    float *scores;       /* [G, S] e, before the softmax */
    float *glimpses;     /* [G, S] alpha */
    float *hidden;       /* [F] */
    float *logits;       /* [Na] */
    float *probs;        /* [Na] */
    int32_t *top;        /* [VQA_TOP] */
    float *top_prob;     /* [VQA_TOP] */
    stele_answer_result result;
} vqa_work;

/* Every buffer of a vqa session; NULL when out of memory. */
vqa_work *vqa_work_create(const struct stele_model *m, const stele_limits *lim);
void vqa_work_free(vqa_work *w);

/* The stages of stele_answer, in order:
 * the question text -> w->ids, w->n (STELE_ERR_TEXT / STELE_ERR_LIMIT / STELE_ERR_ARGUMENT for
 * an empty question, messages prefixed "stele_answer: "); */
stele_status vqa_question(vqa_work *w, const struct stele_model *m, const char *text, size_t len,
                          stele_error *err);
/* the image (checked by cnn_check_image) -> w->phi; */
void vqa_image(vqa_work *w, const struct stele_model *m, const uint8_t *pixels, int channels,
               int stride);
/* phi and the ids -> s, scores, glimpses, x, hidden, logits, probs, the result. */
void vqa_forward(vqa_work *w, const struct stele_model *m);
#endif
