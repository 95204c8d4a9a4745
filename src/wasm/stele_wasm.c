/* WebAssembly entry points for src/js/stele.js (linked only into dist/stele.wasm).
 *
 * The JS side cannot build C structs by value, so the calls that take structs
 * (model load with an out pointer, session create with limits, translate and caption with params) get
 * flat-argument wrappers here that return the handle or NULL (the reason in *err). Results are
 * read by the JS side straight from wasm memory, at the offsets in stele_wasm_layout(), so the
 * struct layout is stated once, by the compiler. */
#include <stddef.h>
#include <time.h>
#include "../stele.h"

#define WASM_EXPORT(name) __attribute__((export_name(#name)))

/* Offsets (bytes) and sizes the JS side reads results with; the order is the contract with
   LAYOUT in src/js/stele.js. */
static const int32_t layout[] = {
    /* stele_error */
    offsetof(stele_error, status), offsetof(stele_error, message), sizeof(stele_error),
    /* stele_result */
    offsetof(stele_result, n_source), offsetof(stele_result, source_tokens),
    offsetof(stele_result, n_hyps), offsetof(stele_result, hyps),
    offsetof(stele_result, attention), offsetof(stele_result, n_source_words),
    offsetof(stele_result, n_target_words), offsetof(stele_result, source_word_of_piece),
    offsetof(stele_result, target_word_of_piece), offsetof(stele_result, word_attention),
    offsetof(stele_result, word_alignment),
    /* stele_hypothesis */
    offsetof(stele_hypothesis, text), offsetof(stele_hypothesis, n_tokens),
    offsetof(stele_hypothesis, tokens), offsetof(stele_hypothesis, logp),
    offsetof(stele_hypothesis, score), sizeof(stele_hypothesis),
    /* struct timespec, filled by the host's timespec_get (profiling clock) */
    sizeof(time_t), offsetof(struct timespec, tv_nsec),
    /* the search's trace (params.trace) */
    offsetof(stele_result, n_trace_steps), offsetof(stele_result, trace_step_start),
    offsetof(stele_result, trace_nodes),
    offsetof(stele_trace_node, parent), offsetof(stele_trace_node, token),
    offsetof(stele_trace_node, status), offsetof(stele_trace_node, rank),
    offsetof(stele_trace_node, logp), offsetof(stele_trace_node, score),
    sizeof(stele_trace_node),
    /* stele_hypothesis, continued: the confidence */
    offsetof(stele_hypothesis, token_logp), offsetof(stele_hypothesis, mean_logp),
    /* stele_result, continued: a caption's feature grid */
    offsetof(stele_result, grid_height), offsetof(stele_result, grid_width),
};

WASM_EXPORT(stele_wasm_layout)
const int32_t *stele_wasm_layout(void) { return layout; }

WASM_EXPORT(stele_wasm_layout_count)
int stele_wasm_layout_count(void) { return (int)(sizeof layout / sizeof layout[0]); }

WASM_EXPORT(stele_wasm_model_load)
stele_model *stele_wasm_model_load(const void *bytes, size_t size, stele_error *err)
{
    stele_model *m = NULL;
    return stele_model_load(bytes, size, &m, err) == STELE_OK ? m : NULL;
}

/* stele_default_limits() with the values > 0 of the arguments. */
static stele_limits limits_from(int max_source_tokens, int max_target_tokens, int max_beam,
                                int max_text_bytes)
{
    stele_limits lim = stele_default_limits();
    if (max_source_tokens > 0)
        lim.max_source_tokens = max_source_tokens;
    if (max_target_tokens > 0)
        lim.max_target_tokens = max_target_tokens;
    if (max_beam > 0)
        lim.max_beam = max_beam;
    if (max_text_bytes > 0)
        lim.max_text_bytes = max_text_bytes;
    return lim;
}

/* Limits <= 0 keep stele_default_limits()'s value. */
WASM_EXPORT(stele_wasm_session_create)
stele_session *stele_wasm_session_create(const stele_model *model, int max_source_tokens,
                                         int max_target_tokens, int max_beam, int max_text_bytes,
                                         stele_error *err)
{
    stele_limits lim = limits_from(max_source_tokens, max_target_tokens, max_beam, max_text_bytes);
    stele_session *s = NULL;
    return stele_session_create(model, &lim, &s, err) == STELE_OK ? s : NULL;
}

/* The session's limits as [max_source_tokens, max_target_tokens, max_beam, max_text_bytes]
   for the defaults (the JS side reports what it asked for otherwise). */
WASM_EXPORT(stele_wasm_default_limit)
int stele_wasm_default_limit(int which)
{
    stele_limits lim = stele_default_limits();
    switch (which) {
    case 0: return lim.max_source_tokens;
    case 1: return lim.max_target_tokens;
    case 2: return lim.max_beam;
    default: return lim.max_text_bytes;
    }
}

WASM_EXPORT(stele_wasm_translate)
const stele_result *stele_wasm_translate(stele_session *session, const char *text, int len,
                                         int beam_size, int nbest, double alpha, double beta,
                                         double len_a, double len_b, int trace, int protect,
                                         int normalize, int shortlist,
                                         stele_error *err)
{
    stele_params p = stele_default_params();
    p.trace = trace;
    p.protect = protect;
    p.normalize = normalize;
    p.shortlist = shortlist;
    p.beam_size = beam_size;
    p.nbest = nbest;
    p.alpha = alpha;
    p.beta = beta;
    p.len_a = len_a;
    p.len_b = len_b;
    const stele_result *r = NULL;
    return stele_translate(session, text, len, &p, &r, err) == STELE_OK ? r : NULL;
}

/* An image's caption (stele_caption): pixels as stele_caption takes them, the search parameters
   as stele_wasm_translate's. */
WASM_EXPORT(stele_wasm_caption)
const stele_result *stele_wasm_caption(stele_session *session, const uint8_t *pixels, int width,
                                       int height, int channels, int stride, int beam_size,
                                       int nbest, double alpha, double beta, double len_a,
                                       double len_b, stele_error *err)
{
    stele_params p = stele_default_params();
    p.beam_size = beam_size;
    p.nbest = nbest;
    p.alpha = alpha;
    p.beta = beta;
    p.len_a = len_a;
    p.len_b = len_b;
    const stele_result *r = NULL;
    return stele_caption(session, pixels, width, height, channels, stride, &p, &r, err) == STELE_OK
        ? r : NULL;
}

/* Defaults of stele_default_params(), in the order beam, nbest, alpha, beta, len_a, len_b. */
WASM_EXPORT(stele_wasm_default_param)
double stele_wasm_default_param(int which)
{
    stele_params p = stele_default_params();
    switch (which) {
    case 0: return p.beam_size;
    case 1: return p.nbest;
    case 2: return p.alpha;
    case 3: return p.beta;
    case 4: return p.len_a;
    default: return p.len_b;
    }
}

/* Batched greedy translation. Limits <= 0 keep the defaults; max_beam does not apply. */
WASM_EXPORT(stele_wasm_batch_create)
stele_batch *stele_wasm_batch_create(const stele_model *model, int capacity,
                                     int max_source_tokens, int max_target_tokens,
                                     int max_text_bytes, stele_error *err)
{
    stele_limits lim = limits_from(max_source_tokens, max_target_tokens, 0, max_text_bytes);
    stele_batch *b = NULL;
    return stele_batch_create(model, &lim, capacity, &b, err) == STELE_OK ? b : NULL;
}

/* Results of stele_wasm_translate_stream go to the JS side as they finish (src/js/stele.js reads
   each one during the call: it is valid only then). */
__attribute__((import_module("env"), import_name("stele_js_on_result")))
extern void stele_js_on_result(int index, const stele_result *result);

static void forward_result(void *user, int index, const stele_result *result)
{
    (void)user;
    stele_js_on_result(index, result);
}

/* texts [n] pointers, lens [n] byte counts (ptrdiff_t is 32-bit here). Returns the status (0:
   STELE_OK). */
WASM_EXPORT(stele_wasm_translate_stream)
int stele_wasm_translate_stream(stele_batch *batch, const char *const *texts,
                                const ptrdiff_t *lens, int n, double alpha, double beta,
                                double len_a, double len_b, int protect, int normalize,
                                int shortlist, stele_error *err)
{
    stele_params p = stele_default_params();
    p.protect = protect;
    p.normalize = normalize;
    p.shortlist = shortlist;
    p.beam_size = 1;
    p.nbest = 1;
    p.alpha = alpha;
    p.beta = beta;
    p.len_a = len_a;
    p.len_b = len_b;
    return (int)stele_translate_stream(batch, texts, lens, n, &p, forward_result, NULL, err);
}

/* ---- visual question answering (stele_answer; src/js/stele.js Answerer) ----
   stele_answer_result's offsets in a list of their own, so that the layout above stays as it is;
   the order is the contract with ANSWER_FIELDS in src/js/stele.js. */
static const int32_t answer_layout[] = {
    offsetof(stele_answer_result, answer), offsetof(stele_answer_result, text),
    offsetof(stele_answer_result, n_top), offsetof(stele_answer_result, top),
    offsetof(stele_answer_result, top_prob), offsetof(stele_answer_result, probs),
    offsetof(stele_answer_result, n_answers), offsetof(stele_answer_result, n_glimpses),
    offsetof(stele_answer_result, grid_height), offsetof(stele_answer_result, grid_width),
    offsetof(stele_answer_result, glimpses), offsetof(stele_answer_result, n_question),
    offsetof(stele_answer_result, question_ids),
};

WASM_EXPORT(stele_wasm_answer_layout)
const int32_t *stele_wasm_answer_layout(void) { return answer_layout; }

WASM_EXPORT(stele_wasm_answer_layout_count)
int stele_wasm_answer_layout_count(void)
{
    return (int)(sizeof answer_layout / sizeof answer_layout[0]);
}

/* The answer to question (len bytes) about an image given as to stele_wasm_caption. */
WASM_EXPORT(stele_wasm_answer)
const stele_answer_result *stele_wasm_answer(stele_session *session, const uint8_t *pixels,
                                             int width, int height, int channels, int stride,
                                             const char *question, int len, stele_error *err)
{
    const stele_answer_result *r = NULL;
    return stele_answer(session, pixels, width, height, channels, stride, question, len, &r,
                        err) == STELE_OK ? r : NULL;
}

WASM_EXPORT(stele_wasm_model_answer_count)
int stele_wasm_model_answer_count(const stele_model *model)
{
    return stele_model_answer_count(model);
}

WASM_EXPORT(stele_wasm_model_answer)
const char *stele_wasm_model_answer(const stele_model *model, int i)
{
    return stele_model_answer(model, i);
}
