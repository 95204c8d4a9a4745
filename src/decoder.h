/* One decoder step for M rows (beams) at once: Bahdanau or Luong style, top or GNMT placement,
 * residual connections (scripts/model.py Seq2Seq.step). */
#ifndef STELE_DECODER_H
#define STELE_DECODER_H
#include "attention.h"
#include "model.h"

/* Recurrent state of up to K rows. Layer l, row k: h + (l * K + k) * Hd. */
typedef struct {
    int K;
    float *h, *c;      /* [Ld, K, Hd] */
    float *feed;       /* [K, O]: o_{t-1} (Luong input feeding) */
} dec_state;

/* Step buffers for up to K rows, and per-component time when profile is set. */
typedef struct {
    int K;
    float *emb;        /* [K, E] */
    float *ctx;        /* [K, D] */
    float *x;          /* [K, X]: a concatenated layer or projection input */
    float *gates;      /* [K, 4 Hd] */
    float *out[2];     /* [K, Hd]: layer outputs with the residual added */
    float *o;          /* [K, O] */
    float *gate;       /* [K]: the attention gate's values (attention.gate) */
    float *scratch;    /* attention scratch */
    /* the generator's rows (lexical shortlist): gen_ids[0..gen_n) for every row, or per row
     * gen_row_ids[k][0..gen_row_n[k]) (a batch of sentences); NULL: all V. Row k of the logits
     * then holds only those values, first in its row (stride V). */
    const int32_t *gen_ids;
    int gen_n;
    const int32_t *const *gen_row_ids;
    const int *gen_row_n;
    int profile;
    double t_lstm, t_attn, t_out;   /* seconds, accumulated when profile is set */
} dec_work;

/* Floats needed by one dec_state / one dec_work of K rows; the *_bind functions carve them out
 * of a caller-provided block of that many floats. */
size_t dec_state_floats(const struct stele_model *m, int K);
void dec_state_bind(dec_state *st, const struct stele_model *m, int K, float *block);
size_t dec_work_floats(const struct stele_model *m, int K);
void dec_work_bind(dec_work *w, const struct stele_model *m, int K, float *block);

/* Initial state in row 0 from the encoder's final states fh, fc [D] (bridge linear: h0 =
 * tanh(W_h fh + b_h), c0 = W_c fc + b_c; zero: zeros); feed o_0 = 0. */
void dec_state_init(dec_state *st, const struct stele_model *m, const float *fh, const float *fc);

/* dst row i = src row parents[i], i < n (beam reordering). */
void dec_state_gather(dec_state *dst, const dec_state *src, const struct stele_model *m,
                      const int *parents, int n);

/* One step for rows 0..M-1 with previous tokens y [M]: updates st in place, writes logits
 * [M, V] and, with attention, the weights attn [M, mem->S]. */
void decoder_step(float *logits, float *attn, dec_state *st, dec_work *w,
                  const struct stele_model *m, const attn_memory *mem, const int32_t *y, int M);

/* The same for M rows of different sentences (a batch): row k attends over its own memory
 * mems[k] and writes its weights to attn_rows[k] [mems[k]->S]. Each row's arithmetic is the
 * same as in decoder_step, so a sentence decodes to the same bits alone or in a batch. */
void decoder_step_rows(float *logits, float *const *attn_rows, dec_state *st, dec_work *w,
                       const struct stele_model *m, const attn_memory *const *mems,
                       const int32_t *y, int M);

double stele_now(void);   /* seconds, monotonic enough for profiling (timespec_get) */
#endif
