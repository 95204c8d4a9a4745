/* The lexical shortlist (models/FORMAT.md "Lexical shortlist", stele_params.shortlist).
 *
 * 1. Tiny configs (always run): a shortlist is put on each tiny golden model in memory.
 *    - A shortlist of every piece decodes exactly as no shortlist (same tokens; logp within
 *      1e-5: only the generator kernel's summation order differs).
 *    - A partial shortlist (the always-set and a few candidates per source piece): every output
 *      piece (greedy and beam) lies inside the sentence's shortlist; when the greedy output
 *      without the shortlist lies inside it, the shortlisted greedy output is the same; batched
 *      greedy with the shortlist is bit for bit the same as alone.
 * 2. ui-en-fr with the shortlist scripts/shortlist.py builds (`make shortlist`:
 *    build/shortlist/ui-en-fr.safetensors, or $STELE_SHORTLIST_MODEL; skipped with a note when it
 *    was not built), on the test sentences of tests/golden/ui-en-fr.outputs.jsonl; and the same
 *    for the shipped models/ui-en-fr-int8, which carries its shortlist
 *    ($STELE_SHIPPED_LIMIT: the first N): the same greedy rule as above, asserted; for beam 5
 *    the share of identical outputs is measured (the softmax over the subset changes scores, so
 *    beam may differ) and printed with the average shortlist size; with STELE_SHORTLIST_TIMING
 *    set, also the decoder step time with and without the shortlist (profiled). */
#include "golden.h"

#define MAXS 1100

static int in_list(const int32_t *ids, int n, int32_t v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ids[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == v;
}

static int inside(const int32_t *tok, int n, const stele_session *s)
{
    for (int i = 0; i < n; i++)
        if (!in_list(s->sl_ids, s->sl_n, tok[i]))
            return 0;
    return 1;
}

typedef struct {
    int32_t tok[1100];
    int n;
    double logp;
} output;

static int translate(stele_session *s, const char *text, const stele_params *p, output *o,
                     const char *what)
{
    const stele_result *r;
    stele_error err;
    if (stele_translate(s, text, -1, p, &r, &err) != STELE_OK) {
        FAILF("%s \"%.40s\": %s", what, text, err.message);
        return 0;
    }
    o->n = r->hyps[0].n_tokens < 1100 ? r->hyps[0].n_tokens : 1100;
    memcpy(o->tok, r->hyps[0].tokens, sizeof(int32_t) * (size_t)o->n);
    o->logp = r->hyps[0].logp;
    return 1;
}

static int same(const output *a, const output *b)
{
    return first_diff(a->tok, a->n, b->tok, b->n) < 0;
}

/* ---- 1. tiny configs ---------------------------------------------------------------------- */

static const char *const TEXTS[] = {"hello world", "the cat sat on the mat", "a", "zz top",
                                    "one two three four five six seven", "abc abc abc"};
#define NT (int)(sizeof TEXTS / sizeof *TEXTS)

typedef struct {
    const char *text;
    int index;
    output out;
} batch_out;

static void on_result(void *user, int i, const stele_result *r)
{
    batch_out *b = (batch_out *)user + i;
    b->out.n = r->hyps[0].n_tokens;
    memcpy(b->out.tok, r->hyps[0].tokens, sizeof(int32_t) * (size_t)b->out.n);
    b->out.logp = r->hyps[0].logp;
}

static void check_tiny_config(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/golden/tiny/%s.safetensors", name);
    stele_model *m = NULL;
    stele_error err;
    if (stele_model_load_file(path, &m, &err) != STELE_OK) {
        FAILF("%s: %s", path, err.message);
        return;
    }
    struct stele_model *mm = (struct stele_model *)m;   /* the test puts a shortlist on it */
    const int V = mm->V;
    if (V > 4096) {
        FAILF("%s: V %d above this test's 4096", name, V);
        stele_model_free(m);
        return;
    }
    static int32_t all[4096], off[4097], ids[4096 * 2], always[16];
    /* (a) every piece */
    for (int v = 0; v < V; v++) {
        all[v] = v;
        off[v] = 0;
    }
    off[V] = 0;
    stele_session *plain = NULL, *s = NULL;
    stele_session_create(m, NULL, &plain, &err);   /* before the shortlist: no sl buffers */
    mm->sl = (shortlist){V, off, ids, all, V};
    if (shortlist_check(&mm->sl, 0, mm->eos_id, &err) != STELE_OK)
        FAILF("%s: full shortlist refused: %s", name, err.message);
    stele_session_create(m, NULL, &s, &err);
    stele_params p = stele_default_params(), off_p;
    int n_same = 0, n_checked = 0, n_inside_same = 0, n_inside = 0;
    for (int beam = 1; beam <= 5; beam += 4) {
        p.beam_size = beam;
        for (int i = 0; i < NT; i++) {
            output a, b;
            if (!translate(plain, TEXTS[i], &p, &a, name) || !translate(s, TEXTS[i], &p, &b, name))
                continue;
            n_checked++;
            if (s->sl_n != V)
                FAILF("%s: shortlist of every piece has size %d, V %d", name, s->sl_n, V);
            if (same(&a, &b) && fabs(a.logp - b.logp) <= 1e-5)
                n_same++;
            else
                FAILF("%s beam %d \"%s\": a shortlist of every piece changed the output (logp "
                      "%.9g vs %.9g)", name, beam, TEXTS[i], a.logp, b.logp);
        }
    }
    /* (b) a partial shortlist: specials, the pieces 4..11 always, each source piece v the
     * candidates v and (7 v + 3) mod V (arbitrary, deterministic) */
    int na = 0;
    for (int v = 0; v < 12 && v < V; v++)
        always[na++] = v;
    int n = 0;
    for (int v = 0; v < V; v++) {
        off[v] = n;
        int c1 = v, c2 = (7 * v + 3) % V;
        if (c1 > c2) {
            int t = c1;
            c1 = c2;
            c2 = t;
        }
        ids[n++] = c1;
        if (c2 != c1)
            ids[n++] = c2;
    }
    off[V] = n;
    mm->sl = (shortlist){V, off, ids, always, na};
    if (shortlist_check(&mm->sl, (size_t)n, mm->eos_id, &err) != STELE_OK)
        FAILF("%s: partial shortlist refused: %s", name, err.message);
    off_p = stele_default_params();
    off_p.shortlist = 0;
    batch_out bo[NT];
    const char *texts[NT];
    for (int beam = 1; beam <= 5; beam += 4) {
        p.beam_size = off_p.beam_size = beam;
        for (int i = 0; i < NT; i++) {
            output a, b;
            if (!translate(s, TEXTS[i], &off_p, &a, name) || !translate(s, TEXTS[i], &p, &b, name))
                continue;
            if (!inside(b.tok, b.n, s))
                FAILF("%s beam %d \"%s\": an output piece outside the shortlist", name, beam,
                      TEXTS[i]);
            if (beam == 1 && inside(a.tok, a.n, s)) {
                n_inside++;
                if (same(&a, &b))
                    n_inside_same++;
                else
                    FAILF("%s \"%s\": greedy output inside the shortlist, yet changed by it", name,
                          TEXTS[i]);
            }
            if (beam == 1)
                bo[i].out = b;
            texts[i] = TEXTS[i];
        }
    }
    /* batched greedy with the shortlist: every row its own sentence's subset; the same tokens,
     * logp within test_batch's 1e-5 (the LSTM's GEMM sums M rows in another order than one) */
    stele_batch *bt = NULL;
    batch_out got[NT];
    p.beam_size = 1;
    if (stele_batch_create(m, NULL, 4, &bt, &err) != STELE_OK ||
        stele_translate_stream(bt, texts, NULL, NT, &p, on_result, got, &err) != STELE_OK) {
        FAILF("%s: batch: %s", name, err.message);
    } else {
        for (int i = 0; i < NT; i++)
            if (!same(&got[i].out, &bo[i].out) || fabs(got[i].out.logp - bo[i].out.logp) > 1e-5)
                FAILF("%s \"%s\": batched greedy with the shortlist differs from alone (%d tokens, "
                      "logp %.9g; alone %d, %.9g)", name, TEXTS[i], got[i].out.n, got[i].out.logp,
                      bo[i].out.n, bo[i].out.logp);
    }
    stele_batch_free(bt);
    printf("%-24s full shortlist: %d/%d identical; partial: greedy inside %d, identical %d\n",
           name, n_same, n_checked, n_inside, n_inside_same);
    stele_session_free(s);
    stele_session_free(plain);
    mm->sl = (shortlist){0};
    stele_model_free(m);
}

/* ---- 2. ui-en-fr ------------------------------------------------------------------------- */

static char *texts_store[MAXS];
static int timing, parts;   /* STELE_SHORTLIST_TIMING / --timing, STELE_SHORTLIST_PARTS / --parts */

static int read_sources(const char *path, int limit)
{
    size_t size;
    char *text = (char *)read_file(path, &size);
    if (!text)
        return 0;
    int n = 0;
    char *line = text, *end = text + size;
    json_value *rec;
    while (n < MAXS && (limit <= 0 || n < limit) && (rec = next_jsonl(&line, end))) {
        const char *src = json_string(json_get(rec, "src"));
        size_t l = src ? strlen(src) : 0;
        texts_store[n] = malloc(l + 1);
        memcpy(texts_store[n], src ? src : "", l + 1);
        n++;
        json_free(rec);
    }
    free(text);
    return n;
}

/* Decoder step time (decoder LSTM + attention + output layer, profiled) per step over the
 * first n sentences: one pass. */
static double step_pass(stele_session *s, const stele_params *p, int n)
{
    const stele_result *r;
    stele_error err;
    stele_timings tm;
    stele_session_set_profiling(s, 1);
    stele_session_timings(s, &tm, 1);
    for (int i = 0; i < n; i++)
        stele_translate(s, texts_store[i], -1, p, &r, &err);
    stele_session_timings(s, &tm, 1);
    stele_session_set_profiling(s, 0);
    if (parts)
        printf("    shortlist %d: lstm %.4f attention %.4f output %.4f ms/step (%d steps)\n",
               p->shortlist, 1e3 * tm.decoder_lstm / tm.steps, 1e3 * tm.attention / tm.steps,
               1e3 * tm.output / tm.steps, (int)tm.steps);
    return 1e3 * (tm.decoder_lstm + tm.attention + tm.output) / (double)(tm.steps ? tm.steps : 1);
}

/* The best of reps passes without and with the shortlist, interleaved so that a busy moment of
 * a shared machine does not land on one side only. */
static void step_ms(stele_session *s, stele_params p, int n, int reps, double *off, double *on)
{
    *off = *on = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        p.shortlist = 0;
        double t = step_pass(s, &p, n);
        *off = t < *off ? t : *off;
        p.shortlist = 1;
        t = step_pass(s, &p, n);
        *on = t < *on ? t : *on;
    }
}

/* model (a path, or under root) with a shortlist, on the test sentences of golden's outputs */
static void check_ui_en_fr(const char *root, const char *model, const char *golden, int limit)
{
    char mp[512], op[512];
    if (model[0] == '/')
        snprintf(mp, sizeof mp, "%s", model);
    else
        snprintf(mp, sizeof mp, "%s/%s", root, model);
    snprintf(op, sizeof op, "%s/tests/golden/%s.outputs.jsonl", root, golden);
    if (!file_exists(mp)) {
        printf("ui-en-fr: %s not built (make shortlist), skipped\n", mp);
        return;
    }
    stele_model *m = NULL;
    stele_error err;
    if (stele_model_load_file(mp, &m, &err) != STELE_OK) {
        FAILF("%s: %s", mp, err.message);
        return;
    }
    const int n = read_sources(op, limit);
    stele_session *s = NULL;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK || n == 0) {
        FAILF("ui-en-fr: session or sources (%d): %s", n, err.message);
        stele_model_free(m);
        return;
    }
    stele_params on = stele_default_params(), off = on;
    off.shortlist = 0;
    long long size_sum = 0;
    int g_inside = 0, g_inside_same = 0, g_same = 0, b_inside = 0, b_inside_same = 0, b_same = 0;
    for (int i = 0; i < n; i++) {
        output a, b;
        on.beam_size = off.beam_size = 1;
        if (!translate(s, texts_store[i], &off, &a, "greedy off") ||
            !translate(s, texts_store[i], &on, &b, "greedy on"))
            continue;
        size_sum += s->sl_n;
        const int gi = inside(a.tok, a.n, s), gs = same(&a, &b);
        g_inside += gi;
        g_same += gs;
        g_inside_same += gi && gs;
        if (gi && !gs)
            FAILF("ui-en-fr %d \"%.60s\": greedy output inside the shortlist, yet changed by it",
                  i, texts_store[i]);
        on.beam_size = off.beam_size = 5;
        if (!translate(s, texts_store[i], &off, &a, "beam off") ||
            !translate(s, texts_store[i], &on, &b, "beam on"))
            continue;
        const int bi = inside(a.tok, a.n, s), bs = same(&a, &b);
        b_inside += bi;
        b_same += bs;
        b_inside_same += bi && bs;
    }
    /* batched greedy with the shortlist: each row its own sentence's shortlist, the same tokens
     * as alone (the first 100 sentences) */
    {
        enum { NB = 100 };
        static batch_out alone[NB], got[NB];
        const char *bt[NB];
        const int nb = n < NB ? n : NB;
        on.beam_size = 1;
        for (int i = 0; i < nb; i++) {
            bt[i] = texts_store[i];
            translate(s, texts_store[i], &on, &alone[i].out, "greedy on");
        }
        stele_batch *b = NULL;
        if (stele_batch_create(m, NULL, 16, &b, &err) != STELE_OK ||
            stele_translate_stream(b, bt, NULL, nb, &on, on_result, got, &err) != STELE_OK)
            FAILF("ui-en-fr batch: %s", err.message);
        else
            for (int i = 0; i < nb; i++)
                if (!same(&got[i].out, &alone[i].out) ||
                    fabs(got[i].out.logp - alone[i].out.logp) > 1e-5)
                    FAILF("ui-en-fr %d: batched greedy with the shortlist differs from alone", i);
        stele_batch_free(b);
    }
    printf("ui-en-fr shortlist (%s), %d test sentences: average shortlist %.1f pieces of %d\n"
           "  greedy: output inside the shortlist %d (%.1f %%), of which identical %d; identical "
           "overall %d (%.1f %%)\n"
           "  beam 5: output inside the shortlist %d (%.1f %%), of which identical %d; identical "
           "overall %d (%.1f %%)\n",
           mp, n, (double)size_sum / n, stele_model_vocab_size(m), g_inside, 100.0 * g_inside / n,
           g_inside_same, g_same, 100.0 * g_same / n, b_inside, 100.0 * b_inside / n,
           b_inside_same, b_same, 100.0 * b_same / n);
    if (n >= 300 && g_inside < n / 2)
        FAILF("ui-en-fr: only %d of %d greedy outputs inside the shortlist: the assertion above "
              "checked too few", g_inside, n);
    if (timing) {   /* make shortlist-bench */
        const int tn = n < 200 ? n : 200;
        for (int beam = 1; beam <= 5; beam += 4) {
            stele_params tp = stele_default_params();
            tp.beam_size = beam;
            double t_off, t_on;
            step_ms(s, tp, tn, 5, &t_off, &t_on);
            printf("  decoder step, beam %d, %d sentences, best of 5 interleaved: %.4f ms without, "
                   "%.4f ms with the shortlist (x%.2f)\n", beam, tn, t_off, t_on, t_off / t_on);
        }
    }
    for (int i = 0; i < n; i++)
        free(texts_store[i]);
    stele_session_free(s);
    stele_model_free(m);
}

/* Options as arguments too: a wasm build under Node does not see the environment. */
int main(int argc, char **argv)
{
    const char *root = getenv("STELE_SHIPPED_ROOT");
    timing = getenv("STELE_SHORTLIST_TIMING") != NULL;
    parts = getenv("STELE_SHORTLIST_PARTS") != NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--timing"))
            timing = 1;
        else if (!strcmp(argv[i], "--parts"))
            parts = 1;
    }
    if (!root || !*root)
        root = ".";
    for (size_t i = 0; i < sizeof TINY_CONFIGS / sizeof *TINY_CONFIGS; i++)
        check_tiny_config(TINY_CONFIGS[i]);
    const char *env = getenv("STELE_SHORTLIST_MODEL");
    /* the float model with the shortlist `make shortlist` builds from the corpus (not in a fresh
       clone), and the shipped int8 model, which carries one */
    /* the first 300 test sentences unless told (--limit 0: all; make shortlist-bench and the
       model cards measure the whole split): each kernel set and the wasm build run this */
    const int n = shipped_limit(argc, argv, 300);
    check_ui_en_fr(root, env && *env ? env : "build/shortlist/ui-en-fr.safetensors", "ui-en-fr",
                   n);
    check_ui_en_fr(root, "models/ui-en-fr-int8/model.safetensors", "ui-en-fr-int8", n);
    printf("shortlist: %s\n", g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
