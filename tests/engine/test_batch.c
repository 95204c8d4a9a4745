/* Batched greedy translation (stele_translate_batch) on the shipped models' test sentences:
 *   - every sentence's batched output equals the reference's greedy output (tests/golden/
 *     <name>.outputs.jsonl; a difference is excused only at a reference tie within 1e-4, as in
 *     test_shipped) and its score is within 1e-4 of the reference's;
 *   - it equals stele_translate's greedy result for the same text alone: tokens, and score and
 *     attention within 1e-5 (native kernels may sum a row in another order when M changes; in
 *     WebAssembly every row rounds the same for any M, and the differences print as 0);
 *   - batches of 1, 2, 3, 5, 8 and 16 sentences (the kernel paths for M = 1, 2, 3..5, > 5);
 *   - stele_translate_stream over all of them at once (rows refilled as sentences end): one
 *     callback per text with the reference's output;
 *   - misuse: n outside 1..capacity, beam_size 5, a NULL text, a text over the limits (the
 *     whole call fails, naming texts[i]); an empty text inside a batch gives the empty result.
 * STELE_SHIPPED_LIMIT=N checks the first N sentences; STELE_SHIPPED_ROOT as test_shipped. */
#include "golden.h"

static const char *const MODELS[] = {"dates", "ui-en-fr"};
enum { CAP = 1024, MAXN = 2048, BATCH = 16 };

typedef struct {
    char *src;
    int32_t ref[CAP];
    int nref;
    double score;
    json_value *gaps;
} sentence;

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        d = e > d ? e : d;
    }
    return d;
}

/* stele_translate_stream's callback: copies what the check needs (the result dies after it). */
typedef struct {
    const sentence *sents;
    int n, calls, dup, ok, ties, wrong;
    double score_d;
    char *seen;
} stream_check;

static void on_result(void *user, int i, const stele_result *r)
{
    stream_check *c = user;
    c->calls++;
    if (i < 0 || i >= c->n || c->seen[i]) {
        c->dup++;
        return;
    }
    c->seen[i] = 1;
    const sentence *se = &c->sents[i];
    const stele_hypothesis *h = &r->hyps[0];
    int t = first_diff(h->tokens, h->n_tokens, se->ref, se->nref);
    if (t < 0) {
        c->ok++;
        double d = fabs(h->score - se->score);
        c->score_d = d > c->score_d ? d : c->score_d;
        return;
    }
    double gap = 1e9;
    const json_value *gaps = json_get(se->gaps, "greedy_gaps");
    if (gaps && (size_t)t < json_count(gaps))
        json_number(json_at(gaps, (size_t)t), &gap);
    if (gap <= TOL)
        c->ties++;
    else
        c->wrong++;
}

static void check_misuse(const stele_model *m, stele_batch *b)
{
    stele_error err;
    const stele_result *res[BATCH];
    const char *texts[3] = {"one", "two", "three"};
    stele_params g = stele_default_params();
    g.beam_size = 1;
    if (stele_translate_batch(b, texts, NULL, 0, &g, res, &err) != STELE_ERR_ARGUMENT)
        FAILF("n = 0 accepted");
    if (stele_translate_batch(b, texts, NULL, BATCH + 1, &g, res, &err) != STELE_ERR_ARGUMENT ||
        !strstr(err.message, "capacity"))
        FAILF("n above capacity: %s", err.message);
    stele_params b5 = stele_default_params();
    if (stele_translate_batch(b, texts, NULL, 3, &b5, res, &err) != STELE_ERR_ARGUMENT ||
        !strstr(err.message, "beam_size 5"))
        FAILF("beam 5 in a batch: %s", err.message);
    const char *with_null[3] = {"one", NULL, "three"};
    if (stele_translate_batch(b, with_null, NULL, 3, &g, res, &err) != STELE_ERR_ARGUMENT ||
        !strstr(err.message, "texts[1]"))
        FAILF("NULL text: %s", err.message);
    static char longtext[70000];
    memset(longtext, 'a', sizeof longtext - 1);
    const char *with_long[3] = {"one", "two", longtext};
    if (stele_translate_batch(b, with_long, NULL, 3, &g, res, &err) != STELE_ERR_LIMIT ||
        !strstr(err.message, "texts[2]") || !strstr(err.message, "max_text_bytes"))
        FAILF("too long text: %s", err.message);
    const char bad_utf8[] = {'o', 'k', (char)0xC3, 0};
    const char *with_bad[2] = {"one", bad_utf8};
    if (stele_translate_batch(b, with_bad, NULL, 2, &g, res, &err) != STELE_ERR_TEXT ||
        !strstr(err.message, "texts[1]"))
        FAILF("invalid UTF-8: %s", err.message);
    /* lens: a prefix of each text; an empty text among others */
    const char *mixed[3] = {"one two three", "   ", "one two three"};
    ptrdiff_t lens[3] = {3, -1, -1};
    if (stele_translate_batch(b, mixed, lens, 3, &g, res, &err) != STELE_OK) {
        FAILF("mixed batch: %s", err.message);
        return;
    }
    if (res[1]->n_source != 0 || res[1]->hyps[0].n_tokens != 0 || res[1]->hyps[0].text[0])
        FAILF("whitespace text in a batch: not the empty result");
    if (res[0]->n_source >= res[2]->n_source)
        FAILF("lens[0] = 3 ignored (%d vs %d source pieces)", res[0]->n_source, res[2]->n_source);
    (void)m;
}

static void check_model(const stele_model *m, const char *name, const char *path, int limit)
{
    size_t size;
    char *text = (char *)read_file(path, &size);
    if (!text) {
        FAILF("%s: cannot read", path);
        return;
    }
    static sentence sents[MAXN];
    int n = 0;
    char *line = text, *end = text + size;
    json_value *rec;
    while (n < MAXN && (limit <= 0 || n < limit) && (rec = next_jsonl(&line, end))) {
        sentence *se = &sents[n++];
        const char *src = json_string(json_get(rec, "src"));
        se->src = copy_string(src ? src : "");
        if (!se->src) {
            FAILF("out of memory");
            n--;
            json_free(rec);
            break;
        }
        se->nref = 0;
        const json_value *g = json_get(rec, "greedy");
        double v;
        for (size_t i = 0; g && i < json_count(g) && se->nref < CAP; i++)
            if (json_number(json_at(g, i), &v) == 0)
                se->ref[se->nref++] = (int32_t)v;
        se->score = NAN;
        json_number(json_get(rec, "greedy_score"), &se->score);
        se->gaps = rec;   /* keeps the record for greedy_gaps */
    }
    free(text);
    stele_error err;
    stele_limits lim = stele_default_limits();
    lim.max_source_tokens = lim.max_target_tokens = 1024;
    stele_batch *b = NULL;
    stele_session *s = NULL;
    if (stele_batch_create(m, &lim, BATCH, &b, &err) != STELE_OK ||
        stele_session_create(m, &lim, &s, &err) != STELE_OK) {
        FAILF("%s: batch/session: %s", name, err.message);
        goto done;
    }
    if (stele_batch_capacity(b) != BATCH)
        FAILF("capacity %d, expected %d", stele_batch_capacity(b), BATCH);
    stele_params g = stele_default_params();
    g.beam_size = 1;
    g.protect = 0;   /* the reference translated the raw text */
    g.normalize = 0;   /* the reference outputs are the model's on the raw text */
    static const int sizes[] = {1, 2, 3, 5, 8, 16};
    int ok = 0, ties = 0, same_alone = 0, batches = 0;
    double score_d = 0, alone_score_d = 0, alone_attn_d = 0;
    for (int i0 = 0, k = 0; i0 < n; k++) {
        int nb = sizes[k % (int)(sizeof sizes / sizeof *sizes)];
        if (nb > n - i0)
            nb = n - i0;
        const char *texts[BATCH];
        const stele_result *res[BATCH];
        for (int j = 0; j < nb; j++)
            texts[j] = sents[i0 + j].src;
        batches++;
        if (stele_translate_batch(b, texts, NULL, nb, &g, res, &err) != STELE_OK) {
            FAILF("%s sentences %d..%d: %s", name, i0, i0 + nb - 1, err.message);
            i0 += nb;
            continue;
        }
        for (int j = 0; j < nb; j++) {
            const sentence *se = &sents[i0 + j];
            const stele_hypothesis *h = &res[j]->hyps[0];
            int t = first_diff(h->tokens, h->n_tokens, se->ref, se->nref);
            if (t < 0) {
                ok++;
                double d = fabs(h->score - se->score);
                score_d = d > score_d ? d : score_d;
                if (!(d <= TOL))
                    FAILF("%s sentence %d: batched greedy score diff %.3g", name, i0 + j, d);
            } else {
                double gap = 1e9;
                const json_value *gaps = json_get(se->gaps, "greedy_gaps");
                if (gaps && (size_t)t < json_count(gaps))
                    json_number(json_at(gaps, (size_t)t), &gap);
                if (gap <= TOL) {
                    ties++;
                    printf("excused tie: %s sentence %d batched greedy step %d (gap %.3g)\n",
                           name, i0 + j, t, gap);
                } else {
                    FAILF("%s sentence %d: batched greedy differs at step %d (gap %.3g)", name,
                          i0 + j, t, gap);
                }
            }
        }
        /* the same sentences alone (after the batch: its results must stay valid meanwhile) */
        for (int j = 0; j < nb; j++) {
            const stele_result *r1;
            if (stele_translate(s, texts[j], -1, &g, &r1, &err) != STELE_OK) {
                FAILF("%s sentence %d alone: %s", name, i0 + j, err.message);
                continue;
            }
            const stele_hypothesis *hb = &res[j]->hyps[0], *ha = &r1->hyps[0];
            if (first_diff(hb->tokens, hb->n_tokens, ha->tokens, ha->n_tokens) >= 0 ||
                strcmp(hb->text, ha->text) != 0 || res[j]->n_source != r1->n_source) {
                FAILF("%s sentence %d: batched \"%s\" vs alone \"%s\"", name, i0 + j, hb->text,
                      ha->text);
                continue;
            }
            same_alone++;
            double d = fabs(hb->score - ha->score);
            alone_score_d = d > alone_score_d ? d : alone_score_d;
            if (r1->attention && res[j]->attention) {
                double a = max_abs_diff(r1->attention, res[j]->attention,
                                        (size_t)ha->n_tokens * (size_t)r1->n_source);
                alone_attn_d = a > alone_attn_d ? a : alone_attn_d;
            } else if (!r1->attention != !res[j]->attention) {
                FAILF("%s sentence %d: attention present in one result only", name, i0 + j);
            }
        }
        i0 += nb;
    }
    /* the stream: every sentence in one call, rows refilled as sentences end */
    stream_check sc = {sents, n, 0, 0, 0, 0, 0, 0.0, calloc((size_t)n + 1, 1)};
    const char **all = malloc(sizeof(char *) * ((size_t)n + 1));
    if (!sc.seen || !all) {
        FAILF("out of memory");
    } else {
        for (int i = 0; i < n; i++)
            all[i] = sents[i].src;
        if (stele_translate_stream(b, all, NULL, n, &g, on_result, &sc, &err) != STELE_OK)
            FAILF("%s stream: %s", name, err.message);
        printf("%s stream (capacity %d): %d callbacks for %d texts; reference-identical %d, "
               "excused ties %d, different %d, repeated/out-of-range indices %d (max score diff "
               "%.2g)\n", name, BATCH, sc.calls, n, sc.ok, sc.ties, sc.wrong, sc.dup, sc.score_d);
        if (sc.calls != n || sc.dup || sc.wrong || sc.ok + sc.ties != n || !(sc.score_d <= TOL))
            FAILF("%s stream: wrong results", name);
        int calls_before = sc.calls;
        if (stele_translate_stream(b, all, NULL, 0, &g, on_result, &sc, &err) != STELE_OK ||
            sc.calls != calls_before)
            FAILF("%s stream of 0 texts: %s", name, err.message);
        const char *bad[2] = {"fine", NULL};
        if (stele_translate_stream(b, bad, NULL, 2, &g, on_result, &sc, &err) !=
                STELE_ERR_ARGUMENT || sc.calls != calls_before)
            FAILF("%s stream with a NULL text: reported results or wrong status", name);
    }
    free(sc.seen);
    free(all);
    if (alone_score_d > 1e-5 || alone_attn_d > 1e-5)
        FAILF("%s: batched vs alone: score diff %.3g, attention diff %.3g (> 1e-5)", name,
              alone_score_d, alone_attn_d);
    printf("%s batched greedy: %d sentences in %d batches (sizes 1..16); reference-identical %d, "
           "excused ties %d (max score diff %.2g); identical to the sentence alone %d (max score "
           "diff %.2g, attention %.2g)\n", name, n, batches, ok, ties, score_d, same_alone,
           alone_score_d, alone_attn_d);
    if (ok + ties != n || same_alone != n)
        FAILF("%s: %d of %d sentences checked", name, ok + ties, n);
    check_misuse(m, b);
done:
    stele_batch_free(b);
    stele_session_free(s);
    for (int i = 0; i < n; i++) {
        free(sents[i].src);
        json_free(sents[i].gaps);
    }
}

/* Every tiny config (each encoder, attention score, decoder style, residual and GNMT stacks,
 * several layers): a stream of texts through a batch of 3 rows (rows refilled) and
 * stele_translate_batch against each text translated alone. */
static void check_tiny(void)
{
    static const char *const texts[] = {"the dog", "open the box", "", "a", "the cat and the dog",
                                        "close", "box the open dog the", "cat"};
    enum { NT = sizeof texts / sizeof *texts };
    int configs = 0, same = 0;
    double score_d = 0, attn_d = 0;
    for (size_t c = 0; c < sizeof TINY_CONFIGS / sizeof *TINY_CONFIGS; c++) {
        char mp[256];
        snprintf(mp, sizeof mp, "tests/golden/tiny/%s.safetensors", TINY_CONFIGS[c]);
        stele_model *m = NULL;
        stele_session *s = NULL;
        stele_batch *b = NULL;
        stele_error err;
        if (stele_model_load_file(mp, &m, &err) != STELE_OK ||
            stele_session_create(m, NULL, &s, &err) != STELE_OK ||
            stele_batch_create(m, NULL, 3, &b, &err) != STELE_OK) {
            FAILF("%s: %s", mp, err.message);
            goto next;
        }
        configs++;
        stele_params g = stele_default_params();
        g.beam_size = 1;
        /* alone: tokens, score and attention of every text, copied */
        static int32_t tok[NT][1024];
        static float att[NT][4096];
        static int ntok[NT], nsrc[NT];
        static double score[NT];
        for (int i = 0; i < NT; i++) {
            const stele_result *r;
            if (stele_translate(s, texts[i], -1, &g, &r, &err) != STELE_OK) {
                FAILF("%s \"%s\": %s", TINY_CONFIGS[c], texts[i], err.message);
                goto next;
            }
            ntok[i] = r->hyps[0].n_tokens < 1024 ? r->hyps[0].n_tokens : 1024;
            nsrc[i] = r->n_source;
            memcpy(tok[i], r->hyps[0].tokens, sizeof(int32_t) * (size_t)ntok[i]);
            score[i] = r->hyps[0].score;
            size_t na = (size_t)ntok[i] * (size_t)nsrc[i];
            if (r->attention && na <= 4096)
                memcpy(att[i], r->attention, sizeof(float) * na);
        }
        /* in batches of 3 (translate_batch) */
        for (int i0 = 0; i0 < NT; i0 += 3) {
            int nb = NT - i0 < 3 ? NT - i0 : 3;
            const stele_result *res[3];
            if (stele_translate_batch(b, texts + i0, NULL, nb, &g, res, &err) != STELE_OK) {
                FAILF("%s batch: %s", TINY_CONFIGS[c], err.message);
                continue;
            }
            for (int j = 0; j < nb; j++) {
                const stele_result *r = res[j];
                int i = i0 + j;
                if (r->n_source != nsrc[i] ||
                    first_diff(r->hyps[0].tokens, r->hyps[0].n_tokens, tok[i], ntok[i]) >= 0) {
                    FAILF("%s \"%s\": batched output differs from the text alone",
                          TINY_CONFIGS[c], texts[i]);
                    continue;
                }
                same++;
                double d = fabs(r->hyps[0].score - score[i]);
                score_d = d > score_d ? d : score_d;
                size_t na = (size_t)ntok[i] * (size_t)nsrc[i];
                if (r->attention && na <= 4096) {
                    double a = max_abs_diff(r->attention, att[i], na);
                    attn_d = a > attn_d ? a : attn_d;
                }
            }
        }
    next:
        stele_batch_free(b);
        stele_session_free(s);
        stele_model_free(m);
    }
    printf("tiny configs: %d, batched greedy identical to alone for %d of %d texts (max score diff "
           "%.2g, attention %.2g)\n", configs, same, configs * NT, score_d, attn_d);
    if (same != configs * NT || score_d > 1e-5 || attn_d > 1e-5)
        FAILF("tiny configs: batched greedy differs from alone");
}

int main(int argc, char **argv)
{
    const char *root = getenv("STELE_SHIPPED_ROOT");
    int limit = shipped_limit(argc, argv, 0), checked = 0;
    if (!root || !*root)
        root = ".";
    stele_batch *none = NULL;
    stele_error err;
    check_tiny();
    if (stele_batch_create(NULL, NULL, 4, &none, &err) != STELE_ERR_ARGUMENT || none)
        FAILF("batch without a model accepted");
    for (size_t i = 0; i < sizeof MODELS / sizeof *MODELS; i++) {
        char mp[512], op[512];
        snprintf(mp, sizeof mp, "%s/models/%s/model.safetensors", root, MODELS[i]);
        snprintf(op, sizeof op, "%s/tests/golden/%s.outputs.jsonl", root, MODELS[i]);
        if (!file_exists(mp) || !file_exists(op)) {
            printf("%s: no model or outputs golden, skipped\n", MODELS[i]);
            continue;
        }
        stele_model *m = NULL;
        if (stele_model_load_file(mp, &m, &err) != STELE_OK) {
            FAILF("%s: %s", mp, err.message);
            continue;
        }
        if (stele_batch_create(m, NULL, 0, &none, &err) != STELE_ERR_ARGUMENT ||
            stele_batch_create(m, NULL, 257, &none, &err) != STELE_ERR_ARGUMENT)
            FAILF("capacity 0 or 257 accepted");
        stele_limits bad = stele_default_limits();
        bad.max_text_bytes = 0;
        if (stele_batch_create(m, &bad, 4, &none, &err) != STELE_ERR_ARGUMENT ||
            !strstr(err.message, "max_text_bytes") || none)
            FAILF("batch with max_text_bytes 0: %s", err.message);
        check_model(m, MODELS[i], op, limit);
        checked++;
        stele_model_free(m);
    }
    printf("batched translation: %d models checked: %s\n", checked, g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
