/* Per-component parity with the PyTorch reference on the tiny golden models
 * (tests/golden/tiny/<cfg>.safetensors + <cfg>.trace.safetensors): every config of the matrix. */
#include "golden.h"


int main(void)
{
    parity_stats all = {0};
    int n = 0;
    for (size_t c = 0; c < sizeof TINY_CONFIGS / sizeof *TINY_CONFIGS; c++) {
        char mp[256], tp[256];
        snprintf(mp, sizeof mp, "tests/golden/tiny/%s.safetensors", TINY_CONFIGS[c]);
        snprintf(tp, sizeof tp, "tests/golden/tiny/%s.trace.safetensors", TINY_CONFIGS[c]);
        stele_model *m = NULL;
        stele_error err;
        if (stele_model_load_file(mp, &m, &err) != STELE_OK) {
            FAILF("%s: %s: %s", mp, stele_status_name(err.status), err.message);
            continue;
        }
        parity_stats ps = {0};
        int before = g_failures;
        check_trace(m, TINY_CONFIGS[c], tp, &ps);
        if (g_failures != before)
            print_stats(TINY_CONFIGS[c], &ps);
#define MAXOF(f) all.f = all.f > ps.f ? all.f : ps.f
        MAXOF(memory); MAXOF(init); MAXOF(h); MAXOF(c); MAXOF(o); MAXOF(attn); MAXOF(logits);
        MAXOF(greedy_score); MAXOF(beam_score);
        all.inputs += ps.inputs; all.steps += ps.steps; all.greedy_ok += ps.greedy_ok;
        all.beam_lists_ok += ps.beam_lists_ok; all.beam_hyps += ps.beam_hyps;
        stele_model_free(m);
        n++;
    }
    char what[64];
    snprintf(what, sizeof what, "tiny parity (%d configs)", n);
    print_stats(what, &all);
    printf("%s\n", g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
