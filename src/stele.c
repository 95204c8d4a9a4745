/* Public API (stele.h): statuses, defaults, sessions, translation and result assembly (text,
 * pieces, attention, word-level alignment). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conv.h"
#include "error.h"
#include "kernels.h"
#include "lstm.h"
#include "protect.h"
#include "normalize.h"
#include "session.h"
#include "vqa.h"
#include "words.h"

const char *stele_status_name(stele_status status)
{
    static const char *const names[] = {
        "STELE_OK", "STELE_ERR_ARGUMENT", "STELE_ERR_MEMORY", "STELE_ERR_IO", "STELE_ERR_HEADER",
        "STELE_ERR_DTYPE", "STELE_ERR_RANGE", "STELE_ERR_SHAPE", "STELE_ERR_MISSING",
        "STELE_ERR_CONFIG", "STELE_ERR_VERSION", "STELE_ERR_TOKENIZER", "STELE_ERR_TEXT",
        "STELE_ERR_LIMIT", "STELE_ERR_INTERNAL", "STELE_ERR_WEIGHTS"};
    if ((int)status < 0 || (size_t)status >= sizeof names / sizeof *names)
        return "STELE_ERR_UNKNOWN";
    return names[status];
}

stele_params stele_default_params(void)
{
    stele_params p = {5, 1, 0.2, 0.0, -1.0, -1.0, 0, 1, 1, 1};
    return p;
}

stele_limits stele_default_limits(void)
{
    stele_limits l = {256, 512, 16, 65536};
    return l;
}

/* ---- session ----------------------------------------------------------------------------- */

void stele_session_free(stele_session *s)
{
    if (!s)
        return;
    void *bufs[] = {s->spm_shared ? NULL : s->spm_scratch, s->src, s->memory, s->keys,
                    s->enc_shared ? NULL : s->enc_scratch, s->fh,
                    s->st[0].h, s->st[1].h, s->w.emb, s->logits, s->attn_run, s->live_tok,
                    s->live_par, s->live_lp, s->hyp_lp, s->y, s->parents, s->logp, s->logp_new, s->cand_val, s->cand_idx,
                    s->fin, s->rows, s->hyps, s->hyp_tok, s->text, s->res_attn, s->src_word,
                    s->tgt_word, s->word_align, s->word_attn, s->trace_nodes, s->trace_start,
                    s->trace_prev, s->norm_text, s->norm_out,
                    s->spans, s->places, s->span_order, s->tgt_bytes, s->sl_ids, s->sl_mark};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
    protect_free(s->prot);
    vqa_work_free(s->vqa);
    free(s);
}

static void *alloc(size_t n, size_t size, int *oom)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        *oom = 1;
    return p;
}

stele_status session_check_limits(const stele_limits *limits, stele_error *err)
{
    const stele_limits lim = *limits;
    if (lim.max_source_tokens < 1 || lim.max_source_tokens > 4096)
        return stele_fail(err, STELE_ERR_ARGUMENT, "limits.max_source_tokens %d outside 1..4096",
                    lim.max_source_tokens);
    if (lim.max_target_tokens < 1 || lim.max_target_tokens > 4096)
        return stele_fail(err, STELE_ERR_ARGUMENT, "limits.max_target_tokens %d outside 1..4096",
                    lim.max_target_tokens);
    if (lim.max_beam < 1 || lim.max_beam > 64)
        return stele_fail(err, STELE_ERR_ARGUMENT, "limits.max_beam %d outside 1..64", lim.max_beam);
    if (lim.max_text_bytes < 1 || lim.max_text_bytes > (1 << 24))
        return stele_fail(err, STELE_ERR_ARGUMENT, "limits.max_text_bytes %d outside 1..16777216",
                    lim.max_text_bytes);
    return STELE_OK;
}

stele_status stele_session_create(const stele_model *m, const stele_limits *limits,
                                  stele_session **out, stele_error *err)
{
    return session_create(m, limits, NULL, NULL, out, err);
}

stele_status session_create(const stele_model *m, const stele_limits *limits,
                            float *shared_enc_scratch, void *shared_spm_scratch,
                            stele_session **out, stele_error *err)
{
    if (!m || !out)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_session_create: NULL %s", m ? "out" : "model");
    *out = NULL;
    stele_limits lim = limits ? *limits : stele_default_limits();
    stele_status st = session_check_limits(&lim, err);
    if (st != STELE_OK)
        return st;
    stele_session *s = calloc(1, sizeof *s);
    if (!s)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory allocating the session");
    s->m = m;
    s->lim = lim;
    /* vqa: no search, no decoder, just the forward pass's buffers (batches refuse vqa models,
     * so no scratch is shared) */
    if (m->task == TASK_VQA) {
        if (!(s->vqa = vqa_work_create(m, &lim))) {
            stele_session_free(s);
            return stele_fail(err, STELE_ERR_MEMORY, "out of memory allocating the vqa session "
                              "buffers (%d question words)", lim.max_source_tokens);
        }
        *out = s;
        return STELE_OK;
    }
    /* an image model's source is the CNN's feature map: always grid_h x grid_w locations */
    const int S = s->Smax = m->cnn ? m->grid_h * m->grid_w : lim.max_source_tokens;
    const int T = s->Tmax = lim.max_target_tokens;
    const int K = s->K = lim.max_beam;
    const size_t D = (size_t)m->D, V = (size_t)m->V;
    int oom = 0;
    s->spm_shared = shared_spm_scratch != NULL;
    s->spm_scratch = s->spm_shared || !m->spm
                         ? shared_spm_scratch
                         : alloc(spm_scratch_bytes(m->spm, (size_t)lim.max_text_bytes), 1, &oom);
    s->src = alloc((size_t)S, sizeof(int32_t), &oom);
    s->memory = alloc((size_t)S * D, sizeof(float), &oom);
    s->keys = alloc(attn_keys_floats(&m->attn, S), sizeof(float), &oom);
    s->enc_shared = shared_enc_scratch != NULL;
    s->enc_scratch = s->enc_shared ? shared_enc_scratch
                                   : alloc(m->cnn ? cnn_scratch_floats(m)
                                                  : encoder_scratch_floats(m, S),
                                           sizeof(float), &oom);
    s->fh = alloc(2 * D, sizeof(float), &oom);
    s->fc = s->fh ? s->fh + D : NULL;
    float *st0 = alloc(dec_state_floats(m, K), sizeof(float), &oom);
    float *st1 = alloc(dec_state_floats(m, K), sizeof(float), &oom);
    float *wk = alloc(dec_work_floats(m, K), sizeof(float), &oom);
    s->logits = alloc((size_t)K * V, sizeof(float), &oom);
    if (m->sl.V) {   /* the sentence's shortlist and the flags that build it */
        s->sl_ids = alloc(V, sizeof(int32_t), &oom);
        s->sl_mark = alloc(V, 1, &oom);
    }
    s->attn_run = alloc((size_t)T * K * S, sizeof(float), &oom);
    s->live_tok = alloc((size_t)T * K, sizeof(int32_t), &oom);
    s->live_par = alloc((size_t)T * K, sizeof(int32_t), &oom);
    s->live_lp = alloc((size_t)T * K, sizeof(float), &oom);
    s->y = alloc((size_t)K, sizeof(int32_t), &oom);
    s->parents = alloc((size_t)K, sizeof(int), &oom);
    s->logp = alloc((size_t)K, sizeof(double), &oom);
    s->logp_new = alloc((size_t)K, sizeof(double), &oom);
    s->cand_val = alloc(2 * (size_t)K, sizeof(double), &oom);
    s->cand_idx = alloc(2 * (size_t)K, sizeof(long), &oom);
    /* up to K hypotheses can finish at every step, plus the K live ones at max length */
    s->fin = alloc((size_t)K * ((size_t)T + 1), sizeof(fin_hyp), &oom);
    s->rows = alloc((size_t)T, sizeof(float *), &oom);
    s->hyps = alloc((size_t)K, sizeof(stele_hypothesis), &oom);
    s->hyp_tok = alloc((size_t)K * T, sizeof(int32_t), &oom);
    s->hyp_lp = alloc((size_t)K * T, sizeof(float), &oom);
    size_t longest = m->words ? words_longest(m->words) : 8;
    for (int i = 0; m->spm && i < m->V; i++) {
        const char *p = spm_piece(m->spm, i);
        if (p && strlen(p) > longest)
            longest = strlen(p);
    }
    s->text_cap = (size_t)T * (longest + 8) + 16;   /* unk decodes to " \u2047 " */
    s->text = alloc((size_t)K * s->text_cap, 1, &oom);
    if (!m->cnn)   /* text only: an image has no text to normalise or protect */
        normalize_alloc(s, &oom);
    s->res_attn = alloc((size_t)T * S, sizeof(float), &oom);
    s->src_word = alloc((size_t)S, sizeof(int32_t), &oom);
    s->tgt_word = alloc((size_t)T, sizeof(int32_t), &oom);
    s->word_align = alloc((size_t)T, sizeof(int32_t), &oom);
    s->word_attn = alloc((size_t)T * S, sizeof(float), &oom);
    /* the trace: at most 2K ranked candidates per step (one for greedy) */
    s->trace_nodes = alloc((size_t)T * 2 * K, sizeof(stele_trace_node), &oom);
    s->trace_start = alloc((size_t)T + 1, sizeof(int32_t), &oom);
    s->trace_prev = alloc(2 * (size_t)K, sizeof(int32_t), &oom);
    s->trace_cur = s->trace_prev ? s->trace_prev + K : NULL;
    if (!m->cnn) {
        s->prot = protect_create((size_t)lim.max_text_bytes, S, s->text_cap, K);
        oom |= s->prot == NULL;
    }
    if (st0)
        dec_state_bind(&s->st[0], m, K, st0);
    if (st1)
        dec_state_bind(&s->st[1], m, K, st1);
    if (wk)
        dec_work_bind(&s->w, m, K, wk);
    if (oom || !st0 || !st1 || !wk) {
        if (!st0 || !st1 || !wk) {   /* not yet owned by the structs freed below */
            free(st0);
            free(st1);
            free(wk);
            s->st[0].h = s->st[1].h = s->w.emb = NULL;
        }
        stele_session_free(s);
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory allocating session buffers (limits: "
                    "%d source, %d target tokens, beam %d)", S, T, K);
    }
    *out = s;
    return STELE_OK;
}

void stele_session_set_profiling(stele_session *s, int on)
{
    if (s)
        s->profile = s->w.profile = on != 0;
}

void stele_session_timings(const stele_session *cs, stele_timings *out, int reset)
{
    if (!cs || !out)
        return;
    stele_session *s = (stele_session *)cs;   /* reset is the only write */
    *out = s->tim;
    out->decoder_lstm = s->w.t_lstm;
    out->attention = s->w.t_attn;
    out->output = s->w.t_out;
    if (reset) {
        memset(&s->tim, 0, sizeof s->tim);
        s->w.t_lstm = s->w.t_attn = s->w.t_out = 0.0;
    }
}

/* ---- translation ------------------------------------------------------------------------- */

void session_encode(struct stele_session *s)
{
    const struct stele_model *m = s->m;
    if (m->cnn) {   /* the image is in enc_scratch (cnn_load_image); the bridge reads the mean */
        cnn_run(s->memory, s->fh, m, s->enc_scratch);
        memcpy(s->fc, s->fh, sizeof(float) * (size_t)m->D);
    } else {
        encoder_run(s->memory, s->fh, s->fc, m, s->src, s->S, s->enc_scratch);
    }
    attn_bind_memory(m->kern, &s->mem, &m->attn, s->memory, s->S, s->keys);
    if (m->attn.score == SCORE_NONE) {
        s->mem.S = s->S;
        s->mem.D = m->D;
        s->mem.values = s->memory;
    }
    s->cur = 0;
    dec_state_init(&s->st[0], m, s->fh, s->fc);
}

/* Word index of each piece: a piece starting with U+2581 opens a word; control pieces (eos) get
 * -1. Returns the number of words. */
static int word_index(const struct stele_model *m, const int32_t *ids, int n, int32_t *word)
{
    int w = -1;
    for (int i = 0; i < n; i++) {
        if (ids[i] == m->eos_id || ids[i] == m->bos_id || ids[i] == m->pad_id) {
            word[i] = -1;
            continue;
        }
        const char *p = spm_piece(m->spm, ids[i]);
        if (w < 0 || (p && strncmp(p, "\xE2\x96\x81", 3) == 0))
            w++;
        word[i] = w;
    }
    return w + 1;
}

/* Puts the masked spans back into every hypothesis' text (hyps[0] by its word alignment, the
 * others by relative position: only hyps[0] has one). */
static void restore_spans(struct stele_session *s)
{
    stele_result *r = &s->result;
    for (int i = 0; s->n_prot > 0 && i < r->n_hyps; i++) {
        const char *t = protect_restore(s->prot, i, s->hyps[i].text, r->n_source_words,
                                        i == 0 ? r->n_target_words : -1,
                                        i == 0 ? r->word_alignment : NULL,
                                        i == 0 ? r->word_attention : NULL);
        if (t)   /* NULL only on a sizing bug: the masked translation is still a translation */
            s->hyps[i].text = t;
    }
}

/* A caption's result: texts from the word vocabulary; one word per token (eos: -1) and one
 * source "word" per location, so word_attention is the attention without the eos row and
 * word_alignment each word's most attended location (all NULL without attention). */
static void caption_assemble(struct stele_session *s)
{
    const struct stele_model *m = s->m;
    stele_result *r = &s->result;
    const int S = s->S;
    r->n_source = S;
    r->source_tokens = NULL;
    r->hyps = s->hyps;
    r->grid_height = m->grid_h;
    r->grid_width = m->grid_w;
    for (int i = 0; i < r->n_hyps; i++) {
        stele_hypothesis *h = &s->hyps[i];
        char *text = s->text + (size_t)i * s->text_cap;
        words_decode(m->words, h->tokens, (size_t)h->n_tokens, text, s->text_cap);
        h->text = text;
    }
    const stele_hypothesis *h0 = &s->hyps[0];
    for (int j = 0; j < S; j++)
        s->src_word[j] = j;
    const int has_attn = m->attn.score != SCORE_NONE;
    int nt = 0;
    for (int t = 0; t < h0->n_tokens; t++) {
        int32_t tok = h0->tokens[t];
        int word = tok != m->eos_id && tok != m->bos_id && tok != m->pad_id;
        s->tgt_word[t] = word ? nt : -1;
        if (!word || !has_attn) {
            nt += word;
            continue;
        }
        const float *a = s->res_attn + (size_t)t * S;
        memcpy(s->word_attn + (size_t)nt * S, a, sizeof(float) * (size_t)S);
        int best = 0;
        for (int j = 1; j < S; j++)
            if (a[j] > a[best])
                best = j;
        s->word_align[nt++] = best;
    }
    r->n_source_words = S;
    r->n_target_words = nt;
    r->source_word_of_piece = s->src_word;
    r->target_word_of_piece = s->tgt_word;
    r->attention = has_attn ? s->res_attn : NULL;
    r->word_attention = has_attn ? s->word_attn : NULL;
    r->word_alignment = has_attn ? s->word_align : NULL;
}

void session_assemble(struct stele_session *s)
{
    const struct stele_model *m = s->m;
    stele_result *r = &s->result;
    if (m->cnn) {
        caption_assemble(s);
        return;
    }
    r->grid_height = r->grid_width = 0;
    r->n_source = s->S;
    r->source_tokens = s->src;
    r->hyps = s->hyps;
    for (int i = 0; i < r->n_hyps; i++) {
        stele_hypothesis *h = &s->hyps[i];
        char *text = s->text + (size_t)i * s->text_cap;
        spm_decode(m->spm, h->tokens, (size_t)h->n_tokens, text, s->text_cap);
        h->text = text;
    }
    const stele_hypothesis *h0 = &s->hyps[0];
    r->source_word_of_piece = s->src_word;
    r->target_word_of_piece = s->tgt_word;
    int ns = r->n_source_words = word_index(m, s->src, s->S, s->src_word);
    int nt = r->n_target_words = word_index(m, h0->tokens, h0->n_tokens, s->tgt_word);
    if (m->attn.score == SCORE_NONE) {
        r->attention = r->word_attention = NULL;
        r->word_alignment = NULL;
        normalize_result(s);
        restore_spans(s);
        return;
    }
    r->attention = s->res_attn;
    r->word_attention = s->word_attn;
    r->word_alignment = s->word_align;
    memset(s->word_attn, 0, sizeof(float) * (size_t)nt * ns);
    for (int tw = 0; tw < nt; tw++) {
        int pieces = 0;
        float *row = s->word_attn + (size_t)tw * ns;
        for (int t = 0; t < h0->n_tokens; t++) {
            if (s->tgt_word[t] != tw)
                continue;
            pieces++;
            for (int j = 0; j < s->S; j++)
                if (s->src_word[j] >= 0)
                    row[s->src_word[j]] += s->res_attn[(size_t)t * s->S + j];
        }
        int best = 0;
        for (int sw = 0; sw < ns; sw++) {
            row[sw] /= (float)(pieces ? pieces : 1);
            if (row[sw] > row[best])
                best = sw;
        }
        s->word_align[tw] = ns ? best : -1;
    }
    normalize_result(s);
    restore_spans(s);
}

stele_status session_check_params(const stele_session *s, const stele_params *p,
                                  stele_error *err)
{
    if (p->beam_size < 1)
        return stele_fail(err, STELE_ERR_ARGUMENT, "beam_size %d must be >= 1", p->beam_size);
    if (p->beam_size > s->lim.max_beam)
        return stele_fail(err, STELE_ERR_LIMIT, "beam_size %d exceeds the session's max_beam %d",
                    p->beam_size, s->lim.max_beam);
    if (p->nbest < 1 || p->nbest > p->beam_size)
        return stele_fail(err, STELE_ERR_ARGUMENT, "nbest %d outside 1..beam_size (%d)", p->nbest,
                    p->beam_size);
    if (!isfinite(p->alpha) || !isfinite(p->beta) || !isfinite(p->len_a) || !isfinite(p->len_b))
        return stele_fail(err, STELE_ERR_ARGUMENT, "alpha, beta, len_a and len_b must be finite");
    if (p->alpha < 0.0 || p->beta < 0.0)
        return stele_fail(err, STELE_ERR_ARGUMENT,
                          "alpha and beta must be >= 0 (the beam's stopping bound needs it)");
    return STELE_OK;
}

int session_max_steps(const struct stele_session *s, const stele_params *p)
{
    const struct stele_model *m = s->m;
    double la = p->len_a < 0 ? m->len_a : p->len_a, lb = p->len_b < 0 ? m->len_b : p->len_b;
    double T = floor(la * (double)s->S + lb);
    return T < 1.0 ? 1 : T > (double)s->Tmax ? s->Tmax : (int)T;
}

void session_shortlist(struct stele_session *s, const stele_params *p)
{
    s->sl_n = p->shortlist && s->sl_ids && s->m->task == TASK_TRANSLATE
                  ? shortlist_union(s->sl_ids, s->sl_mark, &s->m->sl, s->src, s->S)
                  : 0;
    s->w.gen_ids = s->sl_n ? s->sl_ids : NULL;
    s->w.gen_n = s->sl_n;
}

/* Runs the search on s->src[0..s->S) (eos included). */
static void run(struct stele_session *s, const stele_params *p)
{
    double t0 = s->profile ? stele_now() : 0.0;
    session_encode(s);
    if (s->profile)
        s->tim.encoder += stele_now() - t0;
    session_shortlist(s, p);
    int Tmax = session_max_steps(s, p);
    s->tracing = p->trace != 0;
    s->trace_steps = 0;
    if (p->beam_size == 1)
        search_greedy(s, Tmax, p->alpha, p->beta);
    else
        search_beam(s, Tmax, p->beam_size, p->nbest, p->alpha, p->beta);
    double t1 = s->profile ? stele_now() : 0.0;
    session_assemble(s);
    stele_result *r = &s->result;
    r->n_trace_steps = s->tracing ? s->trace_steps : 0;
    r->trace_step_start = s->tracing ? s->trace_start : NULL;
    r->trace_nodes = s->tracing ? s->trace_nodes : NULL;
    if (s->profile)
        s->tim.search += stele_now() - t1;
}

void session_empty_result(struct stele_session *s)
{
    stele_result *r = &s->result;
    memset(r, 0, sizeof *r);
    s->text[0] = 0;
    memset(&s->hyps[0], 0, sizeof s->hyps[0]);
    s->hyps[0].text = s->text;
    s->hyps[0].tokens = s->hyp_tok;
    s->hyps[0].token_logp = s->hyp_lp;
    r->n_hyps = 1;
    r->hyps = s->hyps;
    r->source_tokens = s->src;
    normalize_result(s);
    restore_spans(s);   /* a text of tags only masks to nothing */
}

stele_status session_prepare_protected(struct stele_session *s, const char *text, ptrdiff_t len,
                                       int protect, int *empty, stele_error *err)
{
    s->n_prot = 0;
    if (protect && text) {
        size_t n = len < 0 ? strlen(text) : (size_t)len, mn = 0;
        const char *masked = text;
        s->n_prot = protect_mask(s->prot, text, n, &masked, &mn);
        if (s->n_prot > 0 &&
            session_prepare_text(s, masked, (ptrdiff_t)mn, empty, NULL) == STELE_OK)
            return STELE_OK;
        s->n_prot = 0;   /* refused: the error (byte offsets, counts) is the text's own */
    }
    return session_prepare_text(s, text, len, empty, err);
}

stele_status session_prepare_text(struct stele_session *s, const char *text, ptrdiff_t len,
                                  int *empty, stele_error *err)
{
    size_t n = len < 0 ? strlen(text) : (size_t)len;
    if (n > (size_t)s->lim.max_text_bytes)
        return stele_fail(err, STELE_ERR_LIMIT, "input has %zu bytes, the session's limit is %d "
                    "(max_text_bytes)", n, s->lim.max_text_bytes);
    size_t count = 0;
    text = normalize_source(s, text, n, &n);
    stele_status st = spm_encode(s->m->spm, text, n, s->src, (size_t)s->Smax - 1, &count,
                                 s->spm_scratch, err);
    if (st == STELE_ERR_LIMIT)
        return stele_fail(err, STELE_ERR_LIMIT, "input has %zu pieces + eos, the session's limit is %d "
                    "(max_source_tokens)", count, s->Smax);
    if (st != STELE_OK)
        return st;
    *empty = count == 0;
    if (count == 0)
        return STELE_OK;
    s->src[count] = s->m->eos_id;
    s->S = (int)count + 1;
    return STELE_OK;
}

stele_status stele_translate(stele_session *s, const char *text, ptrdiff_t len,
                             const stele_params *params, const stele_result **out,
                             stele_error *err)
{
    if (!s || !out || !text)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_translate: NULL %s",
                    !s ? "session" : !out ? "out" : "text");
    *out = NULL;
    if (s->m->task != TASK_TRANSLATE)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_translate: the model's task is %s, "
                          "not translate (use stele_%s)", stele_model_task(s->m),
                          s->m->task == TASK_VQA ? "answer" : "caption");
    stele_params p = params ? *params : stele_default_params();
    stele_status st = session_check_params(s, &p, err);
    if (st != STELE_OK)
        return st;
    int empty = 0;
    s->normalize = p.normalize != 0;
    st = session_prepare_protected(s, text, len, p.protect, &empty, err);
    if (st != STELE_OK)
        return st;
    if (empty) {
        session_empty_result(s);
        *out = &s->result;
        return STELE_OK;
    }
    run(s, &p);
    *out = &s->result;
    return STELE_OK;
}

stele_status stele_translate_ids(stele_session *s, const int32_t *ids, int n,
                                 const stele_params *params, const stele_result **out,
                                 stele_error *err)
{
    if (!s || !out || (!ids && n > 0) || n < 0)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_translate_ids: NULL pointer or n < 0");
    *out = NULL;
    if (s->m->task != TASK_TRANSLATE)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_translate_ids: the model's task is %s, "
                          "not translate (use stele_%s)", stele_model_task(s->m),
                          s->m->task == TASK_VQA ? "answer" : "caption");
    stele_params p = params ? *params : stele_default_params();
    stele_status st = session_check_params(s, &p, err);
    if (st != STELE_OK)
        return st;
    if (n + 1 > s->Smax)
        return stele_fail(err, STELE_ERR_LIMIT, "input has %d pieces + eos, the session's limit is %d "
                    "(max_source_tokens)", n, s->Smax);
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= s->m->V)
            return stele_fail(err, STELE_ERR_ARGUMENT, "source id %d at position %d outside 0..%d",
                        ids[i], i, s->m->V - 1);
        s->src[i] = ids[i];
    }
    s->src[n] = s->m->eos_id;
    s->S = n + 1;
    s->n_prot = 0;   /* ids: nothing to protect */
    s->normalize = 0;   /* no text to normalize */
    run(s, &p);
    *out = &s->result;
    return STELE_OK;
}

stele_status stele_caption(stele_session *s, const uint8_t *pixels, int width, int height,
                           int channels, int stride, const stele_params *params,
                           const stele_result **out, stele_error *err)
{
    if (!s || !out)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_caption: NULL %s",
                          !s ? "session" : "out");
    *out = NULL;
    const struct stele_model *m = s->m;
    if (m->task != TASK_CAPTION)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_caption: the model's task is %s, not "
                          "caption (use stele_%s)", stele_model_task(m),
                          m->task == TASK_VQA ? "answer" : "translate");
    stele_params p = params ? *params : stele_default_params();
    stele_status st = session_check_params(s, &p, err);
    if (st != STELE_OK)
        return st;
    st = cnn_check_image(m, pixels, width, height, channels, stride, err);
    if (st != STELE_OK)
        return st;
    cnn_load_image(s->enc_scratch, m, pixels, channels, stride);
    s->S = s->Smax;
    s->n_prot = 0;
    s->normalize = 0;
    run(s, &p);
    *out = &s->result;
    return STELE_OK;
}
