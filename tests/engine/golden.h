/* Helpers shared by the engine tests: files, golden trace tensors (read with the project's own
 * safetensors reader) and per-component parity against a trace (scripts/golden.py documents the
 * tensor names). Header-only, internal to the tests. */
#ifndef STELE_TEST_GOLDEN_H
#define STELE_TEST_GOLDEN_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/json.h"
#include "../../src/safetensors.h"
#include "../../src/session.h"
#include "../../src/stele.h"

#define TOL 1e-4

static int g_failures;

#define FAILF(...)                                                                                \
    do {                                                                                          \
        printf("FAIL ");                                                                          \
        printf(__VA_ARGS__);                                                                      \
        printf("\n");                                                                             \
        g_failures++;                                                                             \
    } while (0)

static uint8_t *read_file(const char *path, size_t *size)
{
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* The tiny golden models (tests/golden/tiny/<name>.safetensors): every config of the matrix. */
static const char *const TINY_CONFIGS[] = {
    "lstm-none-bahdanau", "lstm-none-luong", "lstm-dot-bahdanau", "lstm-dot-luong",
    "lstm-general-bahdanau", "lstm-general-luong", "lstm-additive-bahdanau",
    "lstm-additive-luong", "lstm-concat-bahdanau", "lstm-concat-luong", "bilstm-none-bahdanau",
    "bilstm-none-luong", "bilstm-dot-bahdanau", "bilstm-dot-luong", "bilstm-general-bahdanau",
    "bilstm-general-luong", "bilstm-additive-bahdanau", "bilstm-additive-luong",
    "bilstm-concat-bahdanau", "bilstm-concat-luong", "residual", "gnmt",
    /* int8 matrices (scripts/quantize.py) against the dequantized reference */
    "int8-bilstm-additive-bahdanau", "int8-bilstm-concat-luong", "int8-lstm-general-bahdanau",
    "int8-gnmt", "int8-residual"};

/* Index of the first difference of a[0..na) and b[0..nb), or -1 when equal. */
/* How many shipped sentences (scenes, questions) a test checks: `--limit N` on the command line,
 * else $STELE_SHIPPED_LIMIT, else dflt; 0 means all of them. The command line comes first because
 * the wasm build cannot read the environment: Emscripten's getenv sees a fixed set of variables,
 * not the Node process's. */
static int shipped_limit(int argc, char **argv, int dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--limit"))
            return atoi(argv[i + 1]);
    const char *env = getenv("STELE_SHIPPED_LIMIT");
    return env && *env ? atoi(env) : dflt;
}

/* The next record of a JSON-lines buffer: parses the lines from *line (before end) until one
 * parses, and moves *line past it; NULL at the end. Empty and unparsable lines are skipped. The
 * caller json_frees the record. */
static json_value *next_jsonl(char **line, char *end)
{
    while (*line < end) {
        char *nl = memchr(*line, '\n', (size_t)(end - *line));
        size_t len = nl ? (size_t)(nl - *line) : (size_t)(end - *line);
        char jerr[96];
        json_value *rec = len ? json_parse(*line, len, jerr, sizeof jerr) : NULL;
        *line += len + 1;
        if (rec)
            return rec;
    }
    return NULL;
}

static int first_diff(const int32_t *a, int na, const int32_t *b, int nb)
{
    int i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    return (i == na && i == nb) ? -1 : i;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

typedef struct {
    uint8_t *bytes;
    st_file *st;
} trace_file;

static int trace_open(trace_file *t, const char *path)
{
    size_t n;
    stele_error err;
    t->bytes = read_file(path, &n);
    if (!t->bytes || st_open(t->bytes, n, &t->st, &err) != STELE_OK) {
        FAILF("%s: cannot read trace", path);
        free(t->bytes);
        return 0;
    }
    return 1;
}

static void trace_close(trace_file *t)
{
    st_close(t->st);
    free(t->bytes);
}

/* Tensor `in{i}.name` or NULL. */
static const st_tensor *tget(const trace_file *t, int i, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "in%d.%s", i, name);
    return st_find(t->st, key);
}

static float tf32(const st_tensor *x, size_t i)
{
    float v;
    memcpy(&v, x->data + 4 * i, 4);
    return v;
}
static int32_t ti32(const st_tensor *x, size_t i)
{
    int32_t v;
    memcpy(&v, x->data + 4 * i, 4);
    return v;
}
static double tf64(const st_tensor *x, size_t i)
{
    double v;
    memcpy(&v, x->data + 8 * i, 8);
    return v;
}

/* max |a[i] - ref[off + i]| for i < n */
static double diff_f32(const float *a, const st_tensor *ref, size_t off, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)tf32(ref, off + i));
        if (!(d <= m))
            m = d;
    }
    return m;
}

/* Largest differences seen, per component. */
typedef struct {
    double memory, init, h, c, o, attn, logits, greedy_score, beam_score;
    int inputs, steps, greedy_ok, beam_lists_ok, beam_hyps;
} parity_stats;

static void note(double *worst, double d, const char *what, const char *name, int i, int t)
{
    if (!(d <= *worst))
        *worst = d;
    if (!(d <= TOL))
        FAILF("%s input %d step %d: %s max abs diff %.3g > %g", name, i, t, what, d, TOL);
}

/* The search parameters stored in a trace's metadata. */
static stele_params trace_params(const trace_file *t)
{
    stele_params p = stele_default_params();
    p.shortlist = 0;   /* the reference scores every piece (a model may carry a shortlist) */
    p.protect = 0;   /* the reference translates the raw text: no protected spans */
    p.normalize = 0;   /* the reference ran on the raw text (scripts/golden.py) */
    const char *s = st_meta(t->st, "params");
    char e[64];
    json_value *j = s ? json_parse(s, strlen(s), e, sizeof e) : NULL;
    double v;
    if (j) {
        if (json_number(json_get(j, "beam"), &v) == 0) p.beam_size = (int)v;
        if (json_number(json_get(j, "nbest"), &v) == 0) p.nbest = (int)v;
        if (json_number(json_get(j, "alpha"), &v) == 0) p.alpha = v;
        if (json_number(json_get(j, "beta"), &v) == 0) p.beta = v;
        if (json_number(json_get(j, "len_a"), &v) == 0) p.len_a = v;
        if (json_number(json_get(j, "len_b"), &v) == 0) p.len_b = v;
    }
    json_free(j);
    return p;
}

/* Compares every component of the C engine with the trace: encoder memory, initial states, then
 * per greedy step (teacher-forced with the reference's tokens) h, c, o, attention and logits;
 * then greedy tokens/score and the beam n-best tokens/scores. Also checks that tokenizing the
 * trace's input texts gives its src_ids. */
static void check_trace(const stele_model *m, const char *name, const char *trace_path,
                        parity_stats *ps)
{
    trace_file t;
    if (!trace_open(&t, trace_path))
        return;
    stele_params p = trace_params(&t);
    stele_limits lim = stele_default_limits();
    stele_session *s = NULL;
    stele_error err;
    if (stele_session_create(m, &lim, &s, &err) != STELE_OK) {
        FAILF("%s: session: %s", name, err.message);
        trace_close(&t);
        return;
    }
    const char *inputs = st_meta(t.st, "inputs");
    char e[64];
    json_value *texts = inputs ? json_parse(inputs, strlen(inputs), e, sizeof e) : NULL;
    const int Ld = m->Ld, Hd = m->Hd, V = m->V, O = m->O;
    for (int i = 0; tget(&t, i, "src_ids"); i++) {
        const st_tensor *src = tget(&t, i, "src_ids"), *greedy = tget(&t, i, "greedy");
        const int S = (int)src->numel, T = (int)greedy->numel;
        ps->inputs++;
        const stele_result *r;
        const char *text = json_string(json_at(texts, (size_t)i));
        if (text && stele_translate(s, text, -1, &p, &r, &err) == STELE_OK) {
            int same = r->n_source == S;
            for (int j = 0; same && j < S; j++)
                same = r->source_tokens[j] == ti32(src, (size_t)j);
            if (!same)
                FAILF("%s input %d: tokenization of \"%s\" differs from src_ids", name, i, text);
        } else {
            FAILF("%s input %d: cannot translate the input text", name, i);
        }
        /* components */
        s->S = S;
        for (int j = 0; j < S; j++)
            s->src[j] = ti32(src, (size_t)j);
        session_encode(s);
        note(&ps->memory, diff_f32(s->memory, tget(&t, i, "memory"), 0, (size_t)S * m->D),
             "memory", name, i, -1);
        for (int l = 0; l < Ld; l++) {
            note(&ps->init, diff_f32(s->st[0].h + (size_t)l * s->K * Hd, tget(&t, i, "init_h"),
                                     (size_t)l * Hd, (size_t)Hd), "init_h", name, i, -1);
            note(&ps->init, diff_f32(s->st[0].c + (size_t)l * s->K * Hd, tget(&t, i, "init_c"),
                                     (size_t)l * Hd, (size_t)Hd), "init_c", name, i, -1);
        }
        const st_tensor *th = tget(&t, i, "h"), *tc = tget(&t, i, "c"), *to = tget(&t, i, "o");
        const st_tensor *ta = tget(&t, i, "attn"), *tl = tget(&t, i, "logits");
        if ((ta != NULL) != (m->attn.score != SCORE_NONE))
            FAILF("%s: trace and model disagree on attention", name);
        for (int step = 0; step < T; step++) {
            s->y[0] = step ? ti32(greedy, (size_t)step - 1) : m->bos_id;
            float *attn = ta ? s->attn_run : NULL;
            decoder_step(s->logits, attn, &s->st[0], &s->w, m, &s->mem, s->y, 1);
            for (int l = 0; l < Ld; l++) {
                size_t off = ((size_t)step * Ld + l) * Hd;
                note(&ps->h, diff_f32(s->st[0].h + (size_t)l * s->K * Hd, th, off, (size_t)Hd),
                     "h", name, i, step);
                note(&ps->c, diff_f32(s->st[0].c + (size_t)l * s->K * Hd, tc, off, (size_t)Hd),
                     "c", name, i, step);
            }
            note(&ps->o, diff_f32(s->w.o, to, (size_t)step * O, (size_t)O), "o", name, i, step);
            if (ta)
                note(&ps->attn, diff_f32(attn, ta, (size_t)step * S, (size_t)S), "attention",
                     name, i, step);
            note(&ps->logits, diff_f32(s->logits, tl, (size_t)step * V, (size_t)V), "logits", name,
                 i, step);
            ps->steps++;
        }
        /* greedy */
        stele_params g = p;
        g.beam_size = g.nbest = 1;
        int32_t ids[4096];
        for (int j = 0; j + 1 < S; j++)
            ids[j] = ti32(src, (size_t)j);
        if (stele_translate_ids(s, ids, S - 1, &g, &r, &err) != STELE_OK) {
            FAILF("%s input %d greedy: %s", name, i, err.message);
            continue;
        }
        int same = r->hyps[0].n_tokens == T;
        for (int j = 0; same && j < T; j++)
            same = r->hyps[0].tokens[j] == ti32(greedy, (size_t)j);
        if (!same)
            FAILF("%s input %d: greedy tokens differ", name, i);
        else
            ps->greedy_ok++;
        note(&ps->greedy_score, fabs(r->hyps[0].score - tf64(tget(&t, i, "greedy_score"), 0)),
             "greedy score", name, i, -1);
        /* beam n-best */
        if (stele_translate_ids(s, ids, S - 1, &p, &r, &err) != STELE_OK) {
            FAILF("%s input %d beam: %s", name, i, err.message);
            continue;
        }
        const st_tensor *bt = tget(&t, i, "beam_tokens"), *bs = tget(&t, i, "beam_scores");
        int N = (int)bt->shape[0], W = (int)bt->shape[1];
        same = r->n_hyps == N;
        for (int k = 0; same && k < N; k++) {
            int len = 0;
            while (len < W && ti32(bt, (size_t)k * W + len) >= 0)
                len++;
            same = r->hyps[k].n_tokens == len;
            for (int j = 0; same && j < len; j++)
                same = r->hyps[k].tokens[j] == ti32(bt, (size_t)k * W + j);
            if (same)
                note(&ps->beam_score, fabs(r->hyps[k].score - tf64(bs, (size_t)k)), "beam score",
                     name, i, k);
        }
        if (!same)
            FAILF("%s input %d: beam n-best differs (C %d hyps, reference %d)", name, i,
                  r->n_hyps, N);
        else {
            ps->beam_lists_ok++;
            ps->beam_hyps += N;
        }
    }
    json_free(texts);
    stele_session_free(s);
    trace_close(&t);
}

static void print_stats(const char *what, const parity_stats *ps)
{
    printf("%s: %d inputs, %d steps; max abs diff memory %.2g, init %.2g, h %.2g, c %.2g, o %.2g, "
           "attention %.2g, logits %.2g, greedy score %.2g, beam score %.2g; greedy identical "
           "%d/%d, beam n-best lists identical %d/%d (%d hypotheses)\n",
           what, ps->inputs, ps->steps, ps->memory, ps->init, ps->h, ps->c, ps->o, ps->attn,
           ps->logits, ps->greedy_score, ps->beam_score, ps->greedy_ok, ps->inputs,
           ps->beam_lists_ok, ps->inputs, ps->beam_hyps);
}
#endif
