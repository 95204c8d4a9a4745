/* The search's trace (params.trace, stele_trace_node): recording it leaves the results
 * unchanged; its structure is consistent (parents are live nodes of the step before, at most
 * 2 * beam ranked and beam live nodes per step); its final beam is the n-best: the nodes ranked
 * 0..n_hyps-1 are finished, carry hyps[i]'s score and logp, spell hyps[i]'s tokens through their
 * parents, and no other finished node outscores the last returned one. Greedy has one node per
 * step. Off (the default), the result has no trace; batches refuse it. */
#include "golden.h"

static const char *SENTENCES[] = {
    "29th March 2042", "3 mars 2021", "Open the file", "the 1st of January, 1999",
    "19 января 1970", "Save the document before closing the window", "x", "12/05/2020",
};

static void check_search_trace(const char *what, const stele_result *r, int beam)
{
    int steps = r->n_trace_steps;
    if (steps < 1 || !r->trace_step_start || !r->trace_nodes) {
        FAILF("%s: no trace (%d steps)", what, steps);
        return;
    }
    const int32_t *start = r->trace_step_start;
    const stele_trace_node *nd = r->trace_nodes;
    if (start[0] != 0)
        FAILF("%s: trace_step_start[0] = %d", what, start[0]);
    for (int t = 0; t < steps; t++) {
        int n = start[t + 1] - start[t], live = 0;
        if (n < 1 || n > (beam == 1 ? 1 : 2 * beam))
            FAILF("%s: step %d has %d nodes (beam %d)", what, t, n, beam);
        for (int i = start[t]; i < start[t + 1]; i++) {
            live += nd[i].status == STELE_TRACE_LIVE;
            if (t == 0 ? nd[i].parent != -1
                       : nd[i].parent < start[t - 1] || nd[i].parent >= start[t] ||
                             nd[nd[i].parent].status != STELE_TRACE_LIVE)
                FAILF("%s: step %d node %d: parent %d is not a live node of step %d", what, t, i,
                      nd[i].parent, t - 1);
            if (i > start[t] && nd[i].logp > nd[i - 1].logp)
                FAILF("%s: step %d nodes not in logp order", what, t);
            if (t > 0 && nd[i].logp > nd[nd[i].parent].logp + 1e-12)
                FAILF("%s: step %d node %d: logp rises above its parent's", what, t, i);
            if (nd[i].status == STELE_TRACE_PRUNED && beam == 1)
                FAILF("%s: greedy trace has a pruned node", what);
        }
        if (live > beam)
            FAILF("%s: step %d keeps %d live nodes (beam %d)", what, t, live, beam);
    }
    int total = start[steps];
    double worst_returned = INFINITY;
    for (int k = 0; k < r->n_hyps; k++) {
        const stele_hypothesis *h = &r->hyps[k];
        int found = -1;
        for (int i = 0; i < total; i++)
            if (nd[i].rank == k) {
                if (found >= 0)
                    FAILF("%s: rank %d on two nodes", what, k);
                found = i;
            }
        if (found < 0) {
            FAILF("%s: no trace node for hyps[%d]", what, k);
            continue;
        }
        const stele_trace_node *f = &nd[found];
        if (f->status != STELE_TRACE_FINISHED)
            FAILF("%s: hyps[%d]'s node is not finished", what, k);
        if (f->score != h->score || fabs(f->logp - h->logp) > 1e-9)
            FAILF("%s: hyps[%d]: node score %.9g logp %.9g, result %.9g %.9g", what, k, f->score,
                  f->logp, h->score, h->logp);
        worst_returned = f->score < worst_returned ? f->score : worst_returned;
        /* backtrack: the path's length is its step + 1, its tokens the hypothesis' */
        int len = 0, ok = 1;
        for (int i = found; i >= 0; i = nd[i].parent)
            len++;
        if (len != h->n_tokens) {
            FAILF("%s: hyps[%d] has %d tokens, its trace path %d", what, k, h->n_tokens, len);
            continue;
        }
        int p = len - 1;
        for (int i = found; i >= 0; i = nd[i].parent, p--)
            ok &= nd[i].token == h->tokens[p];
        if (!ok)
            FAILF("%s: hyps[%d]'s tokens differ from its trace path", what, k);
    }
    for (int i = 0; i < total; i++) {
        if (nd[i].rank >= r->n_hyps || nd[i].rank < -1)
            FAILF("%s: node %d has rank %d (n_hyps %d)", what, i, nd[i].rank, r->n_hyps);
        if (nd[i].status == STELE_TRACE_FINISHED && nd[i].rank < 0 && nd[i].score > worst_returned)
            FAILF("%s: finished node %d (score %.9g) beats a returned hypothesis (%.9g)", what, i,
                  nd[i].score, worst_returned);
    }
}

static int same_hyps(const stele_result *a, const stele_result *b)
{
    if (a->n_hyps != b->n_hyps)
        return 0;
    for (int k = 0; k < a->n_hyps; k++) {
        const stele_hypothesis *x = &a->hyps[k], *y = &b->hyps[k];
        if (x->n_tokens != y->n_tokens || x->score != y->score || x->logp != y->logp ||
            memcmp(x->tokens, y->tokens, sizeof(int32_t) * (size_t)x->n_tokens) ||
            strcmp(x->text, y->text))
            return 0;
    }
    return 1;
}

static void run_model(const char *path)
{
    stele_error err;
    stele_model *m = NULL;
    if (stele_model_load_file(path, &m, &err) != STELE_OK) {
        FAILF("%s: %s", path, err.message);
        return;
    }
    stele_session *plain = NULL, *traced = NULL;
    if (stele_session_create(m, NULL, &plain, &err) != STELE_OK ||
        stele_session_create(m, NULL, &traced, &err) != STELE_OK) {
        FAILF("session: %s", err.message);
        return;
    }
    static const int BEAMS[][2] = {{1, 1}, {2, 2}, {5, 1}, {5, 5}, {12, 4}};
    int checked = 0;
    for (size_t b = 0; b < sizeof BEAMS / sizeof BEAMS[0]; b++) {
        for (size_t i = 0; i < sizeof SENTENCES / sizeof SENTENCES[0]; i++) {
            stele_params p = stele_default_params();
            p.beam_size = BEAMS[b][0];
            p.nbest = BEAMS[b][1];
            const stele_result *r0 = NULL, *r1 = NULL;
            if (stele_translate(plain, SENTENCES[i], -1, &p, &r0, &err) != STELE_OK) {
                FAILF("translate: %s", err.message);
                continue;
            }
            if (r0->n_trace_steps != 0 || r0->trace_nodes || r0->trace_step_start)
                FAILF("trace off, yet the result has one");
            p.trace = 1;
            if (stele_translate(traced, SENTENCES[i], -1, &p, &r1, &err) != STELE_OK) {
                FAILF("translate (trace): %s", err.message);
                continue;
            }
            char what[160];
            snprintf(what, sizeof what, "%s beam %d nbest %d \"%s\"", path, p.beam_size, p.nbest,
                     SENTENCES[i]);
            if (!same_hyps(r0, r1))
                FAILF("%s: the trace changed the results", what);
            check_search_trace(what, r1, p.beam_size);
            checked++;
        }
    }
    /* the session forgets the trace when the next call does not ask for it */
    const stele_result *r = NULL;
    stele_params p = stele_default_params();
    stele_translate(traced, "Open the file", -1, &p, &r, &err);
    if (!r || r->n_trace_steps || r->trace_nodes)
        FAILF("%s: a traced session keeps its trace on the next untraced call", path);
    p.trace = 1;
    stele_translate(traced, "   ", -1, &p, &r, &err);
    if (!r || r->n_trace_steps || r->trace_nodes)
        FAILF("%s: empty input has a trace", path);
    stele_batch *batch = NULL;
    if (stele_batch_create(m, NULL, 2, &batch, &err) == STELE_OK) {
        const char *texts[1] = {"Open the file"};
        const stele_result *out[1];
        p.beam_size = 1;
        if (stele_translate_batch(batch, texts, NULL, 1, &p, out, &err) != STELE_ERR_ARGUMENT)
            FAILF("%s: a batch accepted params.trace", path);
    }
    stele_batch_free(batch);
    printf("%s: %d traced searches checked\n", path, checked);
    stele_session_free(plain);
    stele_session_free(traced);
    stele_model_free(m);
}

int main(void)
{
    run_model("tests/golden/tiny/bilstm-general-luong.safetensors");
    for (int i = 0; i < 2; i++) {
        const char *path = i ? "models/ui-en-fr/model.safetensors" : "models/dates/model.safetensors";
        if (file_exists(path))
            run_model(path);
    }
    printf("trace: %s\n", g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
