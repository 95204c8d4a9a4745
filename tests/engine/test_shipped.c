/* Shipped models (models/<name>/model.safetensors), for whichever exist with their goldens:
 *   - tests/golden/<name>.trace.safetensors: per-component parity as for the tiny models;
 *   - tests/golden/<name>.outputs.jsonl: for EVERY test sentence, the tokenization, the greedy
 *     output and the beam-5 best output must equal the reference's. The only excused difference
 *     is a true tie: at the first step where the outputs differ, the reference's two best
 *     candidates were within 1e-4 (greedy_gaps[t]; for the beam, beam_gap). Each excused case is
 *     listed; any other difference fails.
 * STELE_SHIPPED_LIMIT=N checks only the first N sentences (the sanitizer build uses it);
 * STELE_SHIPPED_ROOT=DIR reads DIR/models and DIR/tests/golden instead of ./ (default). */
#include "golden.h"

/* ui-en-fr-none: the single-vector (attention.score "none") baseline of the attention study;
 * ui-en-fr-int8: ui-en-fr with int8 matrices (scripts/quantize.py), against its dequantized
 * reference */
static const char *const MODELS[] = {"dates", "ui-en-fr", "ui-en-fr-none", "ui-en-fr-int8"};

static int int_list(const json_value *a, int32_t *out, int cap)
{
    int n = 0;
    double v;
    for (size_t i = 0; a && i < json_count(a) && n < cap; i++)
        if (json_number(json_at(a, i), &v) == 0)
            out[n++] = (int32_t)v;
    return n;
}

static void check_outputs(const stele_model *m, const char *name, const char *path, int limit)
{
    size_t size;
    char *text = (char *)read_file(path, &size);
    if (!text) {
        FAILF("%s: cannot read", path);
        return;
    }
    stele_session *s = NULL;
    stele_error err;
    stele_limits lim = stele_default_limits();
    lim.max_source_tokens = lim.max_target_tokens = 1024;
    if (stele_session_create(m, &lim, &s, &err) != STELE_OK) {
        FAILF("%s: session: %s", name, err.message);
        free(text);
        return;
    }
    enum { CAP = 1024 };
    static int32_t ids[CAP], ref[CAP], enc[CAP];
    int n = 0, tok_ok = 0, greedy_ok = 0, beam_ok = 0, greedy_tie = 0, beam_tie = 0;
    double greedy_sd = 0, beam_sd = 0, min_gap = 1e9;
    stele_params g = stele_default_params(), b = stele_default_params();
    g.beam_size = 1;
    b.beam_size = 5;
    g.normalize = b.normalize = 0;   /* the goldens are the model's raw outputs */
    g.shortlist = b.shortlist = 0;   /* over the whole vocabulary, as the reference scores */
    b.nbest = 2;
    char *line = text, *end = text + size;
    json_value *rec;
    while ((limit <= 0 || n < limit) && (rec = next_jsonl(&line, end))) {
        n++;
        double iv = -1;
        json_number(json_get(rec, "i"), &iv);
        const char *src = json_string(json_get(rec, "src"));
        int S = int_list(json_get(rec, "src_ids"), ids, CAP);
        /* tokenization (the project's SentencePiece encoder) */
        size_t cnt = 0;
        if (src && spm_encode(m->spm, src, strlen(src), enc, CAP, &cnt, s->spm_scratch, &err) ==
                       STELE_OK && (int)cnt + 1 == S && first_diff(enc, (int)cnt, ids, S - 1) < 0)
            tok_ok++;
        else
            FAILF("%s sentence %d: tokenization differs from src_ids", name, (int)iv);
        const stele_result *r;
        /* greedy */
        int nr = int_list(json_get(rec, "greedy"), ref, CAP);
        if (stele_translate_ids(s, ids, S - 1, &g, &r, &err) != STELE_OK) {
            FAILF("%s sentence %d greedy: %s", name, (int)iv, err.message);
        } else {
            int t = first_diff(r->hyps[0].tokens, r->hyps[0].n_tokens, ref, nr);
            double sc;
            if (t < 0) {
                greedy_ok++;
                if (json_number(json_get(rec, "greedy_score"), &sc) == 0) {
                    double d = fabs(sc - r->hyps[0].score);
                    greedy_sd = d > greedy_sd ? d : greedy_sd;
                    if (!(d <= TOL))
                        FAILF("%s sentence %d: greedy score diff %.3g", name, (int)iv, d);
                }
            } else {
                double gap = 1e9;
                const json_value *gaps = json_get(rec, "greedy_gaps");
                if (gaps && (size_t)t < json_count(gaps))
                    json_number(json_at(gaps, (size_t)t), &gap);
                if (gap <= TOL) {
                    greedy_tie++;
                    printf("excused tie: %s sentence %d greedy step %d (reference gap %.3g)\n",
                           name, (int)iv, t, gap);
                } else {
                    FAILF("%s sentence %d: greedy differs at step %d (reference gap %.3g)", name,
                          (int)iv, t, gap);
                }
            }
            const json_value *gaps = json_get(rec, "greedy_gaps");
            for (size_t k = 0; gaps && k < json_count(gaps); k++) {
                double gp;
                if (json_number(json_at(gaps, k), &gp) == 0 && gp < min_gap)
                    min_gap = gp;
            }
        }
        /* beam 5 */
        nr = int_list(json_get(rec, "beam"), ref, CAP);
        if (stele_translate_ids(s, ids, S - 1, &b, &r, &err) != STELE_OK) {
            FAILF("%s sentence %d beam: %s", name, (int)iv, err.message);
        } else {
            int t = first_diff(r->hyps[0].tokens, r->hyps[0].n_tokens, ref, nr);
            double sc, gap = 1e9;
            if (t < 0) {
                beam_ok++;
                if (json_number(json_get(rec, "beam_score"), &sc) == 0) {
                    double d = fabs(sc - r->hyps[0].score);
                    beam_sd = d > beam_sd ? d : beam_sd;
                    if (!(d <= TOL))
                        FAILF("%s sentence %d: beam score diff %.3g", name, (int)iv, d);
                }
            } else if (json_number(json_get(rec, "beam_gap"), &gap) == 0 && fabs(gap) <= TOL) {
                beam_tie++;
                printf("excused tie: %s sentence %d beam (reference best-second gap %.3g)\n",
                       name, (int)iv, gap);
            } else {
                FAILF("%s sentence %d: beam output differs at step %d (reference gap %.3g)",
                      name, (int)iv, t, gap);
            }
        }
        json_free(rec);
    }
    printf("%s outputs: %d sentences; tokenization identical %d; greedy identical %d, excused "
           "ties %d (max score diff %.2g, smallest reference step gap %.2g); beam-5 identical %d, "
           "excused ties %d (max score diff %.2g)\n", name, n, tok_ok, greedy_ok, greedy_tie,
           greedy_sd, min_gap, beam_ok, beam_tie, beam_sd);
    stele_session_free(s);
    free(text);
}

int main(int argc, char **argv)
{
    const char *root = getenv("STELE_SHIPPED_ROOT");
    int limit = shipped_limit(argc, argv, 0), checked = 0;
    if (!root || !*root)
        root = ".";
    for (size_t i = 0; i < sizeof MODELS / sizeof *MODELS; i++) {
        char mp[512], tp[512], op[512];
        snprintf(mp, sizeof mp, "%s/models/%s/model.safetensors", root, MODELS[i]);
        snprintf(tp, sizeof tp, "%s/tests/golden/%s.trace.safetensors", root,
                 MODELS[i]);
        snprintf(op, sizeof op, "%s/tests/golden/%s.outputs.jsonl", root, MODELS[i]);
        if (!file_exists(mp)) {
            printf("%s: no model file yet (%s), skipped\n", MODELS[i], mp);
            continue;
        }
        stele_model *m = NULL;
        stele_error err;
        if (stele_model_load_file(mp, &m, &err) != STELE_OK) {
            FAILF("%s: %s: %s", mp, stele_status_name(err.status), err.message);
            continue;
        }
        if (file_exists(tp)) {
            parity_stats ps = {0};
            check_trace(m, MODELS[i], tp, &ps);
            char what[96];
            snprintf(what, sizeof what, "%s trace parity", MODELS[i]);
            print_stats(what, &ps);
            checked++;
        } else {
            printf("%s: no trace golden yet (%s)\n", MODELS[i], tp);
        }
        if (file_exists(op)) {
            check_outputs(m, MODELS[i], op, limit);
            checked++;
        } else {
            printf("%s: no outputs golden yet (%s)\n", MODELS[i], op);
        }
        stele_model_free(m);
    }
    printf("shipped models: %d golden files checked: %s\n", checked, g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
