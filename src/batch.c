/* Batched greedy translation (stele.h: stele_batch). Each slot is an ordinary greedy session
 * that tokenises, encodes and owns its result; the decoder runs here, one step for all running
 * sentences at once: their states are rows of one dec_state, every weight matrix is read once
 * per step for all rows, and each row attends over its own sentence's memory
 * (decoder_step_rows). A sentence that ends leaves the batch (its row is replaced by the last
 * one); in a stream its slot takes the next text at the next step, so the step stays full until
 * the texts run out. Texts are tokenised twice (once to check them all before any decoding). */
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "kernels.h"
#include "lstm.h"
#include "sentencepiece.h"
#include "session.h"

struct stele_batch {
    const struct stele_model *m;
    int cap;
    stele_session **slot;          /* [cap] greedy sessions (max_beam 1) */
    float *enc_scratch;            /* shared by the slots: they encode one after another */
    void *spm_scratch;             /* shared by the slots: they tokenise one after another */
    dec_state st;                  /* [cap] rows */
    dec_work w;
    float *state_block, *work_block;
    float *logits;                 /* [cap, V] */
    int32_t *y;                    /* [cap] previous token of each row */
    int *row_slot;                 /* [cap] slot decoded in each row */
    int *max_steps;                /* [cap] per slot: decoder steps allowed */
    int *start;                    /* [cap] per slot: the batch step its sentence entered at */
    int *index;                    /* [cap] per slot: its text's index in the call */
    int *free_slot, n_free;        /* [cap] stack of free slots */
    const stele_result **results;  /* translate_batch's output array, else NULL */
    const attn_memory **mems;      /* [cap] per row */
    float **attn_rows;             /* [cap] per row */
    const int32_t **gen_ids;       /* [cap] per row: its sentence's shortlist (dec_work gen_row_*) */
    int *gen_n;                    /* [cap] its size */
};

void stele_batch_free(stele_batch *b)
{
    if (!b)
        return;
    if (b->slot)
        for (int i = 0; i < b->cap; i++)
            stele_session_free(b->slot[i]);
    void *bufs[] = {b->slot, b->enc_scratch, b->spm_scratch, b->state_block, b->work_block, b->logits, b->y,
                    b->row_slot, b->max_steps, b->start, b->index, b->free_slot, b->mems,
                    b->attn_rows, b->gen_ids, b->gen_n};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
    free(b);
}

int stele_batch_capacity(const stele_batch *b)
{
    return b ? b->cap : 0;
}

stele_status stele_batch_create(const stele_model *m, const stele_limits *limits, int capacity,
                                stele_batch **out, stele_error *err)
{
    if (!m || !out)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_batch_create: NULL %s",
                          m ? "out" : "model");
    *out = NULL;
    if (m->task != TASK_TRANSLATE)   /* a batch decodes texts; images go one by one */
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_batch_create: the model's task is %s; "
                          "batches translate text (images: stele_caption, stele_answer)",
                          stele_model_task(m));
    if (capacity < 1 || capacity > 256)
        return stele_fail(err, STELE_ERR_ARGUMENT, "batch capacity %d outside 1..256", capacity);
    stele_limits lim = limits ? *limits : stele_default_limits();
    lim.max_beam = 1;   /* greedy slots: no beam rows */
    stele_status st = session_check_limits(&lim, err);   /* before sizing the shared scratch */
    if (st != STELE_OK)
        return st;
    stele_batch *b = calloc(1, sizeof *b);
    if (!b)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory allocating the batch");
    b->m = m;
    b->cap = capacity;
    const size_t K = (size_t)capacity;
    b->slot = calloc(K, sizeof *b->slot);
    b->enc_scratch = calloc(encoder_scratch_floats(m, lim.max_source_tokens), sizeof(float));
    b->spm_scratch = calloc(spm_scratch_bytes(m->spm, (size_t)lim.max_text_bytes), 1);
    b->state_block = calloc(dec_state_floats(m, capacity), sizeof(float));
    b->work_block = calloc(dec_work_floats(m, capacity), sizeof(float));
    b->logits = calloc(K * (size_t)m->V, sizeof(float));
    b->y = calloc(K, sizeof(int32_t));
    b->row_slot = calloc(K, sizeof(int));
    b->max_steps = calloc(K, sizeof(int));
    b->start = calloc(K, sizeof(int));
    b->index = calloc(K, sizeof(int));
    b->free_slot = calloc(K, sizeof(int));
    b->mems = calloc(K, sizeof *b->mems);
    b->attn_rows = calloc(K, sizeof *b->attn_rows);
    b->gen_ids = calloc(K, sizeof *b->gen_ids);
    b->gen_n = calloc(K, sizeof *b->gen_n);
    if (!b->slot || !b->enc_scratch || !b->spm_scratch || !b->state_block || !b->work_block || !b->logits || !b->y ||
        !b->row_slot || !b->max_steps || !b->start || !b->index || !b->free_slot || !b->mems ||
        !b->attn_rows || !b->gen_ids || !b->gen_n) {
        stele_batch_free(b);
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory allocating a batch of %d",
                          capacity);
    }
    dec_state_bind(&b->st, m, capacity, b->state_block);
    dec_work_bind(&b->w, m, capacity, b->work_block);
    for (int i = 0; i < capacity; i++) {
        st = session_create(m, &lim, b->enc_scratch, b->spm_scratch, &b->slot[i], err);
        if (st != STELE_OK) {
            stele_batch_free(b);
            return st;
        }
    }
    *out = b;
    return STELE_OK;
}

/* Copies row `from` of (h, c per layer, feed, y, slot) over row `to`. */
static void move_row(stele_batch *b, int to, int from)
{
    const struct stele_model *m = b->m;
    const size_t Hd = (size_t)m->Hd, K = (size_t)b->cap;
    for (int l = 0; l < m->Ld; l++) {
        memcpy(b->st.h + (l * K + to) * Hd, b->st.h + (l * K + from) * Hd, sizeof(float) * Hd);
        memcpy(b->st.c + (l * K + to) * Hd, b->st.c + (l * K + from) * Hd, sizeof(float) * Hd);
    }
    memcpy(b->st.feed + (size_t)to * m->O, b->st.feed + (size_t)from * m->O,
           sizeof(float) * m->O);
    b->y[to] = b->y[from];
    b->row_slot[to] = b->row_slot[from];
}

/* Puts slot i's initial decoder state (row 0 of its own state) into batch row r. */
static void enter_row(stele_batch *b, int r, int i)
{
    const struct stele_model *m = b->m;
    const stele_session *s = b->slot[i];
    const size_t Hd = (size_t)m->Hd, K = (size_t)b->cap;
    for (int l = 0; l < m->Ld; l++) {
        memcpy(b->st.h + (l * K + r) * Hd, s->st[0].h + (size_t)l * s->st[0].K * Hd,
               sizeof(float) * Hd);
        memcpy(b->st.c + (l * K + r) * Hd, s->st[0].c + (size_t)l * s->st[0].K * Hd,
               sizeof(float) * Hd);
    }
    memcpy(b->st.feed + (size_t)r * m->O, s->st[0].feed, sizeof(float) * m->O);
    b->y[r] = m->bos_id;
    b->row_slot[r] = i;
}

/* Tokenises texts[i] into slot `slot` (empty: *empty = 1). Errors name texts[i]. */
static stele_status prepare(stele_batch *b, int slot, const char *const *texts,
                            const ptrdiff_t *lens, int i, int protect, int *empty,
                            stele_error *err)
{
    if (!texts[i])
        return stele_fail(err, STELE_ERR_ARGUMENT, "texts[%d] is NULL", i);
    stele_error e;
    stele_status st = session_prepare_protected(b->slot[slot], texts[i],
                                                lens && lens[i] >= 0 ? lens[i] : -1, protect,
                                                empty, &e);
    if (st != STELE_OK)
        return stele_fail(err, st, "texts[%d]: %s", i, e.message);
    return STELE_OK;
}

/* A sentence's result is complete in its slot: keep it (translate_batch) or hand it to cb and
 * free the slot for the next text (stream). */
static void finish(stele_batch *b, int slot, stele_batch_callback cb, void *user)
{
    const stele_result *r = &b->slot[slot]->result;
    if (b->results)
        b->results[b->index[slot]] = r;
    if (cb) {
        cb(user, b->index[slot], r);
        b->free_slot[b->n_free++] = slot;
    }
}

/* The decoder loop shared by both entry points. Texts enter free slots in order, each slot's
 * sentence one row of the step; a finished sentence leaves its row (the last row moves into
 * it), and with cb (the stream) its slot takes the next pending text at once, so the step keeps
 * `capacity` rows busy until the texts run out. translate_batch has n <= capacity: no refill,
 * every result stays in its own slot. Texts were checked by the caller: only the model runs. */
static void run_batch(stele_batch *b, const char *const *texts, const ptrdiff_t *lens, int n,
                      const stele_params *p, stele_batch_callback cb, void *user)
{
    const struct stele_model *m = b->m;
    const int V = m->V;
    int M = 0, next = 0, t = 0;
    b->n_free = b->cap;
    for (int k = 0; k < b->cap; k++)
        b->free_slot[k] = b->cap - 1 - k;   /* slot 0 first */
    for (;;) {
        while (next < n && b->n_free > 0) {
            int slot = b->free_slot[--b->n_free], empty = 0, i = next++;
            stele_session *s = b->slot[slot];
            prepare(b, slot, texts, lens, i, p->protect, &empty, NULL);   /* checked before: cannot fail */
            b->index[slot] = i;
            if (empty) {
                session_empty_result(s);
                finish(b, slot, cb, user);
                continue;
            }
            session_encode(s);
            session_shortlist(s, p);
            b->max_steps[slot] = session_max_steps(s, p);
            b->start[slot] = t;
            greedy_start(s);
            enter_row(b, M++, slot);
        }
        if (M == 0)
            break;
        for (int r = 0; r < M; r++) {
            stele_session *s = b->slot[b->row_slot[r]];
            b->mems[r] = &s->mem;
            b->attn_rows[r] = s->attn_run + (size_t)(t - b->start[b->row_slot[r]]) * s->S;
            b->gen_ids[r] = s->sl_n ? s->sl_ids : NULL;
            b->gen_n[r] = s->sl_n;
        }
        /* each row scores its own sentence's shortlist (alone and batched: the same bits) */
        const int shortlisted = p->shortlist && m->sl.V;
        b->w.gen_row_ids = shortlisted ? b->gen_ids : NULL;
        b->w.gen_row_n = shortlisted ? b->gen_n : NULL;
        decoder_step_rows(b->logits, b->attn_rows, &b->st, &b->w, m, b->mems, b->y, M);
        for (int r = M - 1; r >= 0; r--) {   /* rows above r are done: moving M - 1 down is safe */
            const int slot = b->row_slot[r];
            stele_session *s = b->slot[slot];
            float *l = b->logits + (size_t)r * V;
            int j = m->kern->log_softmax(l, l, s->sl_n ? s->sl_n : V);
            int tok = s->sl_n ? s->sl_ids[j] : j;
            s->tim.steps++;
            if (greedy_take(s, t - b->start[slot], b->max_steps[slot], tok, l[j], b->attn_rows[r],
                            p->alpha, p->beta)) {
                session_assemble(s);
                finish(b, slot, cb, user);
                if (r != M - 1)
                    move_row(b, r, M - 1);
                M--;
            } else {
                b->y[r] = tok;
            }
        }
        t++;
    }
}

/* Checks the call's arguments and every text (tokenised in slot 0: a bad text fails the call
 * before any decoding). */
static stele_status check_call(stele_batch *b, const char *const *texts, const ptrdiff_t *lens,
                               int n, const stele_params *params, stele_params *p,
                               stele_error *err)
{
    *p = params ? *params : stele_default_params();
    if (!params)
        p->beam_size = 1;
    if (p->beam_size != 1)
        return stele_fail(err, STELE_ERR_ARGUMENT, "batched translation is greedy (beam_size 1), "
                          "got beam_size %d; use stele_translate for beam search", p->beam_size);
    if (p->trace)   /* the batch's decoder loop does not record one */
        return stele_fail(err, STELE_ERR_ARGUMENT, "batched translation has no search trace "
                          "(params.trace); use stele_translate");
    stele_status st = session_check_params(b->slot[0], p, err);
    for (int k = 0; k < b->cap; k++)
        b->slot[k]->normalize = p->normalize != 0;
    for (int i = 0; i < n && st == STELE_OK; i++) {
        int empty;
        st = prepare(b, 0, texts, lens, i, p->protect, &empty, err);
    }
    return st;
}

stele_status stele_translate_batch(stele_batch *b, const char *const *texts,
                                   const ptrdiff_t *lens, int n, const stele_params *params,
                                   const stele_result **results, stele_error *err)
{
    if (!b || !texts || !results)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_translate_batch: NULL %s",
                          !b ? "batch" : !texts ? "texts" : "results");
    if (n < 1 || n > b->cap)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_translate_batch: n %d outside 1..%d "
                          "(the batch's capacity)", n, b->cap);
    for (int i = 0; i < n; i++)
        results[i] = NULL;
    stele_params p;
    stele_status st = check_call(b, texts, lens, n, params, &p, err);
    if (st != STELE_OK)
        return st;
    b->results = results;
    run_batch(b, texts, lens, n, &p, NULL, NULL);
    b->results = NULL;
    return STELE_OK;
}

stele_status stele_translate_stream(stele_batch *b, const char *const *texts,
                                    const ptrdiff_t *lens, int n, const stele_params *params,
                                    stele_batch_callback on_result, void *user, stele_error *err)
{
    if (!b || !texts || !on_result)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_translate_stream: NULL %s",
                          !b ? "batch" : !texts ? "texts" : "on_result");
    if (n < 0)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_translate_stream: n %d < 0", n);
    stele_params p;
    stele_status st = check_call(b, texts, lens, n, params, &p, err);
    if (st != STELE_OK)
        return st;
    run_batch(b, texts, lens, n, &p, on_result, user);
    b->results = NULL;
    return STELE_OK;
}
