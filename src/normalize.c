/* Input normalization hooks of a session (normalize.h). */
#include "normalize.h"
#include <stdlib.h>
#include <string.h>
#include "casing.h"
#include "isort.h"
#include "passthrough.h"
#include "session.h"
#include "utf8.h"

void normalize_alloc(struct stele_session *s, int *oom)
{
    const size_t B = (size_t)s->lim.max_text_bytes, S = (size_t)s->Smax, T = (size_t)s->Tmax;
    /* Two copies of the input (sentence-cased, then stripped: stripping reads the characters
       around a run, so it cannot work in place), and room for the output plus every removed
       byte (each run is copied back once) and up to two spaces per run (a run is at least one
       byte: 3 * B). */
    s->norm_text = calloc(2 * (B + 1), 1);
    s->norm_out_cap = s->text_cap + 3 * B + 1;
    s->norm_out = calloc(s->norm_out_cap, 1);
    s->spans = calloc(S, sizeof *s->spans);
    s->places = calloc(S, sizeof *s->places);
    s->span_order = calloc(S, sizeof *s->span_order);
    s->tgt_bytes = calloc(3 * T, sizeof *s->tgt_bytes);
    if (!s->norm_text || !s->norm_out || !s->spans || !s->places || !s->span_order ||
        !s->tgt_bytes)
        *oom = 1;
}

static int valid_text(const char *text, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode((const uint8_t *)text + i, n - i, &cp);
        if (!k || cp == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* The tokenizer's unigram score of a spelling (casing_truecase). */
static double word_score(void *ctx, const char *word, size_t n)
{
    const struct stele_session *s = ctx;
    return spm_score(s->m->spm, word, n, s->spm_scratch);
}

const char *normalize_source(struct stele_session *s, const char *text, size_t n, size_t *out_n)
{
    s->casing = CASING_NONE;
    s->n_spans = 0;
    s->orig = text;
    *out_n = n;
    if (!s->normalize || !valid_text(text, n))
        return text;
    char *cased = s->norm_text, *stripped = s->norm_text + n + 1;
    s->casing = (int)casing_detect(text, n);
    casing_truecase((casing_pattern)s->casing, text, n, cased, stripped, word_score, s,
                    &s->m->truecase);
    /* Spelled as typed after all ("PDF", "OK"): nothing to put back on the output. */
    if (memcmp(cased, text, n) == 0)
        s->casing = CASING_NONE;
    *out_n = passthrough_strip(s->m->spm, cased, n, stripped, s->spans, s->Smax, &s->n_spans);
    return stripped;
}

static int place_less(const void *ctx, size_t a, size_t b)
{
    const unk_place *p = ctx;
    return p[a].pos != p[b].pos ? p[a].pos < p[b].pos : a < b;
}

/* Byte range of each target word of hyps[0] in its text: pieces are decoded prefix by prefix
   (only when there is something to place, so the quadratic cost stays off the common path). */
static void target_words(struct stele_session *s, const char *text, int32_t *start,
                         int32_t *end)
{
    const stele_hypothesis *h = &s->hyps[0];
    int32_t *piece_end = s->tgt_bytes + 2 * (size_t)s->Tmax;
    for (int t = 0; t < h->n_tokens; t++)
        piece_end[t] = (int32_t)spm_decode(s->m->spm, h->tokens, (size_t)t + 1, NULL, 0);
    const int nt = s->result.n_target_words;
    for (int tw = 0; tw < nt; tw++)
        start[tw] = -1;
    for (int t = 0; t < h->n_tokens; t++) {
        int tw = s->tgt_word[t];
        if (tw < 0 || tw >= nt)
            continue;
        if (start[tw] < 0) {
            int32_t b = t ? piece_end[t - 1] : 0;
            while (b < piece_end[t] && text[b] == ' ')
                b++;
            start[tw] = b;
        }
        end[tw] = piece_end[t];
    }
    for (int tw = 0; tw < nt; tw++)
        if (start[tw] < 0)
            start[tw] = end[tw] = 0;
}

/* Puts the runs into hypothesis i's text, building in norm_out. Returns the new length, or -1
   when the runs do not fit (the text then stays without them). */
static ptrdiff_t place_runs(struct stele_session *s, int i, const char *text, size_t len)
{
    const stele_result *r = &s->result;
    const int32_t *align = i == 0 ? r->word_alignment : NULL;
    int32_t *start = s->tgt_bytes, *end = s->tgt_bytes + s->Tmax;
    if (align)
        target_words(s, text, start, end);
    for (int k = 0; k < s->n_spans; k++) {
        s->places[k] = passthrough_place(&s->spans[k], r->n_source_words,
                                         align ? r->n_target_words : 0, align, start, end, len);
        s->span_order[k] = (size_t)k;
    }
    isort(s->span_order, (size_t)s->n_spans, place_less, s->places);
    return passthrough_insert(text, len, s->orig, s->spans, s->places, s->span_order, s->n_spans,
                              s->norm_out, s->norm_out_cap);
}

void normalize_result(struct stele_session *s)
{
    if (!s->normalize)
        return;
    stele_result *r = &s->result;
    /* hyps[0] last: its text moves into norm_out, the scratch the others are built in. */
    for (int i = r->n_hyps - 1; i >= 0; i--) {
        stele_hypothesis *h = &s->hyps[i];
        char *text = (char *)h->text;
        size_t len = strlen(text);
        casing_restore((casing_pattern)s->casing, text, len);
        if (!s->n_spans)
            continue;
        ptrdiff_t n = place_runs(s, i, text, len);
        if (n < 0)
            continue;
        if (i == 0)
            h->text = s->norm_out;
        else if ((size_t)n < s->text_cap)
            memcpy(text, s->norm_out, (size_t)n + 1);
    }
}
