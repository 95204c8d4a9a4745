/* A session: every buffer one translation needs, allocated once by stele_session_create() and
 * sized from the model and the limits. Internal (tests and the benchmark look inside). */
#ifndef STELE_SESSION_H
#define STELE_SESSION_H
#include <stdint.h>
#include "attention.h"
#include "decoder.h"
#include "model.h"
#include "passthrough.h"
#include "stele.h"

/* A finished hypothesis: created at step t from live row r by token tok (its path is recovered
 * through live_par / live_tok). */
typedef struct {
    int t, r, tok;
    int node;                        /* its trace node, -1 when not tracing */
    float tok_logp;                  /* log-probability of tok */
    double logp, score;
} fin_hyp;

struct vqa_work;

struct stele_session {
    const struct stele_model *m;
    stele_limits lim;
    struct vqa_work *vqa;            /* a vqa model's session: its only buffers (vqa.h); the
                                        text and caption buffers below stay NULL */
    int Smax, Tmax, K;               /* source and target pieces, beam rows */
    /* source */
    void *spm_scratch;
    int spm_shared;                  /* spm_scratch belongs to a batch (stele_batch) */
    int32_t *src;                    /* [Smax] ids, eos appended */
    int S;                           /* current source length */
    /* encoder output: the attention memory */
    float *memory, *keys, *enc_scratch, *fh, *fc;
    int enc_shared;                  /* enc_scratch belongs to a batch (stele_batch) */
    attn_memory mem;
    /* decoder */
    dec_state st[2];                 /* current and next (beam reordering) */
    int cur;
    dec_work w;
    float *logits;                   /* [K, V], log-probabilities after log-softmax; with a
                                        shortlist row k holds sl_n values, for sl_ids' pieces */
    int32_t *sl_ids;                 /* [V] this sentence's shortlist, ascending (NULL when the
                                        model has none) */
    uint8_t *sl_mark;                /* [V] zero flags for shortlist_union */
    int sl_n;                        /* its size; 0: every piece (no shortlist, or params off) */
    float *attn_run;                 /* [Tmax, K, S]: step t, row r at (t * K + r) * S */
    int32_t *live_tok, *live_par;    /* [Tmax, K]: slot b after step t: token, row of step t */
    float *live_lp;                  /* [Tmax, K]: that token's log-probability */
    int32_t *y;                      /* [K] previous tokens of the rows */
    int *parents;                    /* [K] */
    double *logp, *logp_new;         /* [K] */
    double *cand_val;                /* [2K] best extensions, best first */
    long *cand_idx;                  /* [2K] row * V + token */
    fin_hyp *fin;                    /* [3K] */
    int n_fin;
    double greedy_logp;              /* greedy: summed log-probability so far */
    int greedy_n;                    /* greedy: tokens so far */
    const float **rows;              /* [Tmax] attention rows of one path */
    /* trace (params.trace): nodes of every step, and the node of each live row of the previous
     * (trace_prev) and the current (trace_cur) step, to link children to parents */
    int tracing;
    stele_trace_node *trace_nodes;   /* [Tmax, 2K] */
    int32_t *trace_start;            /* [Tmax + 1] */
    int32_t *trace_prev, *trace_cur; /* [K] each */
    int trace_steps;
    /* results */
    stele_hypothesis *hyps;          /* [K] */
    int32_t *hyp_tok;                /* [K, Tmax] */
    float *hyp_lp;                   /* [K, Tmax] per-token log-probabilities */
    char *text;                      /* [K, text_cap] */
    size_t text_cap;
    float *res_attn;                 /* [Tmax, Smax] */
    int32_t *src_word, *tgt_word, *word_align;
    float *word_attn;                /* [Tmax, Smax] */
    stele_result result;
    /* protected spans (protect.c): n_prot > 0 when the current text was masked */
    struct protect_ctx *prot;
    int n_prot;
    /* input normalization (normalize.c): this call's params.normalize, the input's case
       pattern, the caller's text (read back while the result is assembled), the removed runs */
    int normalize, casing, n_spans;
    const char *orig;
    char *norm_text, *norm_out;      /* [2 * (max_text_bytes + 1)], [norm_out_cap] */
    size_t norm_out_cap;
    unk_span *spans;                 /* [Smax] */
    unk_place *places;               /* [Smax] */
    size_t *span_order;              /* [Smax] */
    int32_t *tgt_bytes;              /* [3 * Tmax] target word starts, ends; piece ends */
    /* profiling */
    int profile;
    stele_timings tim;
};

/* The search (search.c) on the encoded source in s->src[0..s->S): fills s->hyps, s->hyp_tok
 * and s->res_attn (the best hypothesis' attention), and sets s->result.n_hyps. */
void search_greedy(struct stele_session *s, int T, double alpha, double beta);
/* Greedy search in steps, for callers that run the decoder themselves (batch.c): greedy_start,
 * then per step t greedy_take with the chosen token tok (the argmax), its log-probability
 * tok_logp and the step's attention attn [S] (kept: it must live in s->attn_run).
 * Returns 1 when the hypothesis is complete (tok is eos or t + 1 == T): s->hyps[0] is then
 * final and s->result.n_hyps is 1. */
void greedy_start(struct stele_session *s);
int greedy_take(struct stele_session *s, int t, int T, int tok, float tok_logp,
                const float *attn, double alpha, double beta);
void search_beam(struct stele_session *s, int T, int K, int N, double alpha, double beta);

/* stele_session_create, with the encoder scratch (encoder_scratch_floats(m, Smax) floats) and
 * the tokenizer scratch (spm_scratch_bytes(spm, max_text_bytes)) borrowed from the caller when
 * not NULL: the sessions of a batch tokenise and encode one after another. */
stele_status session_create(const stele_model *m, const stele_limits *limits,
                            float *shared_enc_scratch, void *shared_spm_scratch,
                            stele_session **out, stele_error *err);

/* Tokenises text into s->src (eos appended, s->S set); *empty = 1 (and s->src untouched) for
 * text with no pieces. STELE_ERR_LIMIT / STELE_ERR_TEXT as stele_translate. */
stele_status session_prepare_text(struct stele_session *s, const char *text, ptrdiff_t len,
                                  int *empty, stele_error *err);
/* The same, masking the text's protected spans first when protect is set (session_assemble /
 * session_empty_result then put them back into the hypotheses' texts). */
stele_status session_prepare_protected(struct stele_session *s, const char *text, ptrdiff_t len,
                                       int protect, int *empty, stele_error *err);
/* STELE_ERR_ARGUMENT naming the first limit outside its range, else STELE_OK. */
stele_status session_check_limits(const stele_limits *limits, stele_error *err);
stele_status session_check_params(const stele_session *s, const stele_params *p,
                                  stele_error *err);
/* The shortlist of the source in s->src (params->shortlist and a model with one), set as the
 * decoder's generator rows (s->w); else sl_n 0 and every row. */
void session_shortlist(struct stele_session *s, const stele_params *p);
/* Decoder steps allowed for the current source: floor(len_a * S + len_b), within 1..Tmax. */
int session_max_steps(const struct stele_session *s, const stele_params *p);
/* Fills s->result from s->hyps (texts, attention, word alignment) / as an empty translation. */
void session_assemble(struct stele_session *s);
void session_empty_result(struct stele_session *s);

/* Runs the encoder on s->src[0..S) and prepares the memory and the initial decoder state. */
void session_encode(struct stele_session *s);

/* GNMT score of a hypothesis: logp / ((5 + n) / 6)^alpha + beta * sum_j log(clamp(sum_t a_tj,
 * 1e-6, 1)), the coverage term only when beta != 0 and rows is not NULL. rows[t] [S]. */
double gnmt_score(double logp, int n, const float *const *rows, int S, double alpha, double beta);
#endif
