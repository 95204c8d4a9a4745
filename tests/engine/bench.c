/* bench-native: greedy and beam-5 throughput (sentences/s, target tokens/s) of the shipped
 * models on their test splits, single thread, with the time per component (encoder, decoder
 * LSTM, attention, output layer, search bookkeeping). Models and test splits that do not exist
 * yet are skipped. STELE_BENCH_ROOT=DIR reads DIR/models; STELE_BENCH_LIMIT=N uses N sentences. */
#include "golden.h"

typedef struct {
    const char *name, *test;
} shipped;

static const shipped MODELS[] = {{"dates", "build/corpus/dates/test.src"},
                                 {"ui-en-fr", "build/corpus/ui-en-fr/test.en"},
                                 {"ui-en-fr-int8", "build/corpus/ui-en-fr/test.en"}};

static void bench(stele_session *s, const char *name, const char *label, char **lines, int n,
                  int beam)
{
    stele_params p = stele_default_params();
    p.beam_size = beam;
    stele_error err;
    const stele_result *r;
    for (int i = 0; i < n && i < 20; i++)   /* warm-up */
        stele_translate(s, lines[i], -1, &p, &r, &err);
    stele_timings tm;
    stele_session_timings(s, &tm, 1);
    long long tokens = 0, src_tokens = 0;
    int errors = 0;
    double t0 = stele_now();
    for (int i = 0; i < n; i++) {
        if (stele_translate(s, lines[i], -1, &p, &r, &err) != STELE_OK) {
            errors++;
            continue;
        }
        tokens += r->hyps[0].n_tokens;
        src_tokens += r->n_source;
    }
    double dt = stele_now() - t0;
    stele_session_timings(s, &tm, 1);
    double other = dt - tm.encoder - tm.decoder_lstm - tm.attention - tm.output;
    printf("%-9s %-7s %5d sentences in %7.3f s: %8.1f sentences/s, %9.0f target tokens/s "
           "(%lld source, %lld target tokens, %lld decoder steps%s)\n"
           "          time per component: encoder %.1f%%, decoder LSTM %.1f%%, attention %.1f%%, "
           "output layer %.1f%%, search/other %.1f%%\n",
           name, label, n, dt, n / dt, tokens / dt, src_tokens, tokens, tm.steps,
           errors ? ", some errors" : "", 100 * tm.encoder / dt, 100 * tm.decoder_lstm / dt,
           100 * tm.attention / dt, 100 * tm.output / dt, 100 * other / dt);
}

int main(void)
{
    const char *root = getenv("STELE_BENCH_ROOT"), *lim = getenv("STELE_BENCH_LIMIT");
    int limit = lim ? atoi(lim) : 0;
    if (!root || !*root)
        root = ".";
    const char *kernels = stele_kernels_name();
    if (!kernels) {
        printf("bench-native: STELE_KERNELS names a kernel set this CPU lacks\n");
        return 1;
    }
    printf("bench-native: kernels %s, one thread\n", kernels);
    for (size_t k = 0; k < sizeof MODELS / sizeof *MODELS; k++) {
        char mp[512];
        snprintf(mp, sizeof mp, "%s/models/%s/model.safetensors", root, MODELS[k].name);
        size_t size;
        char *text = (char *)read_file(MODELS[k].test, &size);
        if (!file_exists(mp) || !text) {
            printf("%s: model or test split missing, skipped\n", MODELS[k].name);
            free(text);
            continue;
        }
        int n = 0;
        char **lines = malloc(sizeof(char *) * (size / 2 + 2));
        for (char *p = text; p < text + size;) {
            char *nl = memchr(p, '\n', (size_t)(text + size - p));
            if (nl)
                *nl = 0;
            lines[n++] = p;
            p = nl ? nl + 1 : text + size;
            if (limit > 0 && n >= limit)
                break;
        }
        stele_model *m = NULL;
        stele_session *s = NULL;
        stele_error err;
        stele_limits l = stele_default_limits();
        l.max_source_tokens = l.max_target_tokens = 1024;
        if (stele_model_load_file(mp, &m, &err) != STELE_OK ||
            stele_session_create(m, &l, &s, &err) != STELE_OK) {
            printf("%s: %s\n", MODELS[k].name, err.message);
        } else {
            stele_session_set_profiling(s, 1);
            bench(s, MODELS[k].name, "greedy", lines, n, 1);
            bench(s, MODELS[k].name, "beam-5", lines, n, 5);
        }
        stele_session_free(s);
        stele_model_free(m);
        free(lines);
        free(text);
    }
    return 0;
}
