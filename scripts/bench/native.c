/* stele-native for `make bench` (scripts/bench/run.mjs runs it once per repetition, interleaved
 * with the JS engines): one process = load timings, warm-up, one timed greedy pass and one timed
 * beam-5 pass over the given sentences, a profiled greedy pass (encoder time), peak RSS. Prints
 * one JSON object on stdout.
 *
 *     stele-native MODEL SENTENCES.txt N_GREEDY N_BEAM [--outputs]
 *
 * SENTENCES.txt: one sentence per line. --outputs adds the greedy, batched greedy and beam token
 * ids of every sentence (for the comparison with the reference outputs). Single thread, one
 * session, plus one stele_batch of BATCH (environment, default 16) rows for the batched greedy
 * pass (stele_translate_stream over the N_GREEDY sentences). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "../../src/stele.h"

double stele_now(void);   /* src/decoder.c: the engine's clock */

/* The whole file, NUL-terminated (lines are split in place). */
static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) != NULL &&
        fread(b, 1, (size_t)n, f) == (size_t)n) {
        b[n] = 0;
        *size = (size_t)n;
    } else {
        free(b);
        b = NULL;
    }
    if (f)
        fclose(f);
    return b;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The text as given, like the reference and the peers (which get the reference's ids): no
   protected spans, no input normalization (both are on by default). */
static stele_params raw_params(void)
{
    stele_params p = stele_default_params();
    p.protect = 0;
    p.normalize = 0;
    return p;
}

/* One timed pass; tokens = output pieces of the best hypothesis (eos included). */
static double pass(stele_session *s, char **lines, int n, int beam, long long *tokens, int *errors,
                   FILE *ids_out)
{
    stele_params p = raw_params();
    p.beam_size = beam;
    const stele_result *r;
    stele_error err;
    *tokens = 0;
    *errors = 0;
    double t0 = stele_now();
    for (int i = 0; i < n; i++) {
        if (stele_translate(s, lines[i], -1, &p, &r, &err) != STELE_OK) {
            (*errors)++;
            if (ids_out)
                fprintf(ids_out, "%snull", i ? "," : "");
            continue;
        }
        *tokens += r->hyps[0].n_tokens;
        if (ids_out) {
            fprintf(ids_out, "%s[", i ? "," : "");
            for (int t = 0; t < r->hyps[0].n_tokens; t++)
                fprintf(ids_out, "%s%d", t ? "," : "", (int)r->hyps[0].tokens[t]);
            fputc(']', ids_out);
        }
    }
    return stele_now() - t0;
}

/* The batched greedy pass: stele_translate_stream over lines[0..n); token ids kept per index
 * (results arrive in finishing order) when ids_out is set. */
typedef struct {
    long long tokens;
    int32_t **ids;
    int *n_ids;
} stream_out;

static void on_result(void *user, int i, const stele_result *r)
{
    stream_out *o = user;
    const stele_hypothesis *h = &r->hyps[0];
    o->tokens += h->n_tokens;
    if (o->ids && (o->ids[i] = malloc(sizeof(int32_t) * ((size_t)h->n_tokens + 1))) != NULL) {
        memcpy(o->ids[i], h->tokens, sizeof(int32_t) * (size_t)h->n_tokens);
        o->n_ids[i] = h->n_tokens;
    }
}

static double batch_pass(stele_batch *b, char **lines, int n, long long *tokens, int *errors,
                         FILE *ids_out)
{
    stele_params p = raw_params();
    p.beam_size = 1;
    stele_error err;
    stream_out o = {0, NULL, NULL};
    if (ids_out) {
        o.ids = calloc((size_t)n + 1, sizeof *o.ids);
        o.n_ids = calloc((size_t)n + 1, sizeof *o.n_ids);
    }
    double t0 = stele_now();
    stele_status st = stele_translate_stream(b, (const char *const *)lines, NULL, n, &p,
                                             on_result, &o, &err);
    double t = stele_now() - t0;
    *errors = st == STELE_OK ? 0 : n;
    if (st != STELE_OK)
        fprintf(stderr, "batched pass: %s\n", err.message);
    *tokens = o.tokens;
    for (int i = 0; ids_out && i < n; i++) {
        fprintf(ids_out, "%s[", i ? "," : "");
        for (int k = 0; o.ids && o.ids[i] && k < o.n_ids[i]; k++)
            fprintf(ids_out, "%s%d", k ? "," : "", (int)o.ids[i][k]);
        fputc(']', ids_out);
        if (o.ids)
            free(o.ids[i]);
    }
    free(o.ids);
    free(o.n_ids);
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL SENTENCES.txt N_GREEDY N_BEAM [--outputs]\n", argv[0]);
        return 2;
    }
    int ng = atoi(argv[3]), nb = atoi(argv[4]);
    int want_outputs = argc > 5 && !strcmp(argv[5], "--outputs");
    size_t msize, tsize;
    char *bytes = slurp(argv[1], &msize), *text = slurp(argv[2], &tsize);
    if (!bytes || !text) {
        fprintf(stderr, "cannot read %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    int n = 0;
    char **lines = malloc(sizeof(char *) * (tsize + 2));
    for (char *p = text; p < text + tsize;) {
        char *nl = memchr(p, '\n', (size_t)(text + tsize - p));
        if (nl)
            *nl = 0;
        lines[n++] = p;
        p = nl ? nl + 1 : text + tsize;
    }
    if (ng > n)
        ng = n;
    if (nb > n)
        nb = n;
    stele_error err;
    stele_limits lim = stele_default_limits();
    /* load: model bytes in memory -> a session ready to translate (median of 5) */
    double loads[5];
    for (int k = 0; k < 5; k++) {
        stele_model *m = NULL;
        stele_session *s = NULL;
        double t0 = stele_now();
        if (stele_model_load(bytes, msize, &m, &err) != STELE_OK ||
            stele_session_create(m, &lim, &s, &err) != STELE_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        loads[k] = stele_now() - t0;
        stele_session_free(s);
        stele_model_free(m);
    }
    qsort(loads, 5, sizeof(double), cmp_double);
    stele_model *m = NULL;
    stele_session *s = NULL;
    stele_batch *batch = NULL;
    const char *bs = getenv("BATCH");
    int capacity = bs && atoi(bs) > 0 ? atoi(bs) : 16;
    if (stele_model_load(bytes, msize, &m, &err) != STELE_OK ||
        stele_session_create(m, &lim, &s, &err) != STELE_OK ||
        stele_batch_create(m, &lim, capacity, &batch, &err) != STELE_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    long long tok;
    int errs;
    pass(s, lines, ng < 20 ? ng : 20, 1, &tok, &errs, NULL);   /* warm-up */
    pass(s, lines, nb < 5 ? nb : 5, 5, &tok, &errs, NULL);
    batch_pass(batch, lines, ng < 40 ? ng : 40, &tok, &errs, NULL);
    printf("{\"kernels\":\"%s\",\"load_s\":%.9f,", stele_kernels_name(), loads[2]);
    long long gt, bt;
    int ge, be;
    if (want_outputs)
        printf("\"greedy_ids\":[");
    double tg = pass(s, lines, ng, 1, &gt, &ge, want_outputs ? stdout : NULL);
    if (want_outputs)
        printf("],\"beam_ids\":[");
    double tb = pass(s, lines, nb, 5, &bt, &be, want_outputs ? stdout : NULL);
    if (want_outputs)
        printf("],\"batch_ids\":[");
    long long bgt;
    int bge;
    double tbg = batch_pass(batch, lines, ng, &bgt, &bge, want_outputs ? stdout : NULL);
    if (want_outputs)
        printf("],");
    /* profiled greedy pass: encoder seconds and decoder steps */
    stele_timings tm;
    stele_session_set_profiling(s, 1);
    stele_session_timings(s, &tm, 1);
    long long pt;
    int pe;
    pass(s, lines, ng, 1, &pt, &pe, NULL);
    stele_session_timings(s, &tm, 1);
    /* VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over exec from the parent
       (the bench's Node process), VmHWM belongs to this address space */
    long peak_kb = -1;
    FILE *ps = fopen("/proc/self/status", "r");
    if (ps) {
        char line[256];
        while (fgets(line, sizeof line, ps))
            if (!strncmp(line, "VmHWM:", 6))
                peak_kb = atol(line + 6);
        fclose(ps);
    }
    if (peak_kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        peak_kb = ru.ru_maxrss;
    }
    printf("\"greedy\":{\"sentences\":%d,\"seconds\":%.9f,\"tokens\":%lld,\"errors\":%d},"
           "\"beam5\":{\"sentences\":%d,\"seconds\":%.9f,\"tokens\":%lld,\"errors\":%d},"
           "\"greedy_batch\":{\"capacity\":%d,\"sentences\":%d,\"seconds\":%.9f,\"tokens\":%lld,"
           "\"errors\":%d},"
           "\"profile\":{\"encoder_s\":%.9f,\"decoder_lstm_s\":%.9f,\"attention_s\":%.9f,"
           "\"output_s\":%.9f,\"search_s\":%.9f,\"steps\":%lld},\"peak_rss_kb\":%ld}\n",
           ng, tg, gt, ge, nb, tb, bt, be, capacity, ng, tbg, bgt, bge, tm.encoder, tm.decoder_lstm, tm.attention, tm.output,
           tm.search, tm.steps, peak_kb);
    stele_batch_free(batch);
    stele_session_free(s);
    stele_model_free(m);
    free(lines);
    free(text);
    free(bytes);
    return 0;
}
