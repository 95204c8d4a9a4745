/*
 * stele — attention-based LSTM sequence-to-sequence inference in portable C11.
 *
 * Usage:
 *
 *     stele_error err;
 *     stele_model *model = NULL;
 *     if (stele_model_load_file("models/ui-en-fr/model.safetensors", &model, &err) != STELE_OK) {
 *         fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
 *         return 1;
 *     }
 *     stele_session *session = NULL;
 *     stele_session_create(model, NULL, &session, &err);       // NULL: stele_default_limits()
 *     stele_params params = stele_default_params();             // beam 5, alpha 0.2, beta 0
 *     const stele_result *result = NULL;
 *     if (stele_translate(session, "Save the document", -1, &params, &result, &err) == STELE_OK)
 *         printf("%s\n", result->hyps[0].text);                 // "Enregistrer le document"
 *     stele_session_free(session);
 *
 *     // Many texts, greedy, decoded 16 at a time (results reported as each one finishes):
 *     //   static void on_result(void *user, int i, const stele_result *r) { ... r->hyps[0] ... }
 *     stele_batch *batch = NULL;
 *     if (stele_batch_create(model, NULL, 16, &batch, &err) == STELE_OK)
 *         stele_translate_stream(batch, texts, NULL, n_texts, NULL, on_result, NULL, &err);
 *     stele_batch_free(batch);
 *     stele_model_free(model);
 *
 *     // Captions (a model whose stele_model_task() is "caption"): an 84x84 gray image.
 *     stele_model_load_file("models/scenes-caption/model.safetensors", &model, &err);
 *     stele_session_create(model, NULL, &session, &err);        // sized for the model's grid
 *     if (stele_caption(session, pixels, 84, 84, 1, 0, &params, &result, &err) == STELE_OK) {
 *         printf("%s\n", result->hyps[0].text);      // "a bag in the top left and a dress ..."
 *         // word t's attention over the grid: result->attention + t * result->n_source,
 *         // result->grid_height rows of result->grid_width locations
 *     }
 *     stele_session_free(session);
 *     stele_model_free(model);
 *
 *     // Visual question answering (stele_model_task() "vqa"): the same kind of image + a question.
 *     stele_model_load_file("models/scenes-vqa/model.safetensors", &model, &err);
 *     stele_session_create(model, NULL, &session, &err);        // sized for the grid
 *     const stele_answer_result *answer = NULL;
 *     if (stele_answer(session, pixels, 84, 84, 1, 0, "what is left of the coat?", -1, &answer,
 *                      &err) == STELE_OK) {
 *         printf("%s (%.2f)\n", answer->text, answer->top_prob[0]);   // answer, probability
 *         // glimpse g's weights over the grid: answer->glimpses + g * grid_height * grid_width
 *     }
 *     stele_session_free(session);
 *     stele_model_free(model);
 *
 * Ownership:
 *   - stele_model_load() BORROWS the bytes: they must stay alive and unchanged until
 *     stele_model_free(). stele_model_load_file() reads the file into a buffer the model owns.
 *   - A result belongs to its session and stays valid until the next stele_translate() (or
 *     stele_caption(), stele_answer()) on that session or stele_session_free(). Strings in it
 *     are UTF-8 and NUL-terminated. A batch's results: until its next call (stele_translate_batch), or
 *     during the callback only (stele_translate_stream).
 *   - Every *_free() accepts NULL.
 * Threads:
 *   - A model is immutable once loaded: any number of threads may share it.
 *   - A session is not thread-safe: use one session per thread. Sessions of one model are
 *     independent of each other. The same holds for batches (stele_batch).
 * Memory:
 *   - All scratch (states, beams, attention, result buffers) is allocated by
 *     stele_session_create(), sized from the model and the limits; stele_translate(),
 *     stele_caption() and stele_answer() do not allocate.
 * Errors:
 *   - Every fallible function returns a stele_status and, when err is not NULL, fills it with the
 *     status and a message naming the fault (tensor, byte offset, limit). The library never
 *     prints, exits or aborts.
 */
#ifndef STELE_H
#define STELE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STELE_VERSION "0.1.0"
#define STELE_FORMAT_VERSION 2   /* the newest model format this build reads (2: int8 matrices) */

typedef enum {
    STELE_OK = 0,
    STELE_ERR_ARGUMENT,        /* a NULL pointer, a parameter out of range */
    STELE_ERR_MEMORY,          /* an allocation failed */
    STELE_ERR_IO,              /* the model file could not be read */
    STELE_ERR_HEADER,          /* safetensors container: header length, JSON syntax, structure */
    STELE_ERR_DTYPE,           /* a tensor has an unknown or unexpected dtype */
    STELE_ERR_RANGE,           /* a tensor's byte range is outside the data or overlaps another */
    STELE_ERR_SHAPE,           /* a tensor's shape disagrees with its bytes or with the config */
    STELE_ERR_MISSING,         /* a required tensor or metadata key is absent */
    STELE_ERR_CONFIG,          /* the config metadata is invalid or unsupported */
    STELE_ERR_VERSION,         /* not a stele file, or an unsupported format_version */
    STELE_ERR_TOKENIZER,       /* the embedded SentencePiece model is corrupt or unsupported */
    STELE_ERR_TEXT,            /* input text is not valid UTF-8 or contains NUL bytes */
    STELE_ERR_LIMIT,           /* input or request exceeds a session limit */
    STELE_ERR_INTERNAL,        /* a bug: please report it with the message */
    STELE_ERR_WEIGHTS          /* a weight is NaN or infinite (the message names the tensor and
                                  element); last so that the older codes keep their values */
} stele_status;

/* Largest model file (or byte buffer) stele_model_load{,_file} accepts: 1 GiB. Checked before
   anything is read, so a huge or endless input costs no memory (shipped models are < 30 MB). */
#define STELE_MAX_MODEL_BYTES ((size_t)1 << 30)

/* "STELE_OK", "STELE_ERR_SHAPE", ... (never NULL). */
const char *stele_status_name(stele_status status);

typedef struct {
    stele_status status;
    char message[256];
} stele_error;

/* Limits fixed when a session is created; all scratch is sized from them. */
typedef struct {
    int max_source_tokens;     /* pieces of one input, eos included (default 256, max 4096) */
    int max_target_tokens;     /* output pieces, eos included (default 512, max 4096); the search's
                                  max length floor(len_a * S + len_b) is cut to this */
    int max_beam;              /* largest beam size stele_translate may be asked for (16, max 64) */
    int max_text_bytes;        /* bytes of one input text (default 65536, max 1 << 24) */
} stele_limits;

/* Search parameters. Reals are double because scripts/search.py computes the length and
   coverage penalties in double precision (a float 0.2 would not reproduce its scores). */
typedef struct {
    int beam_size;             /* 1 = greedy search; 2..limits.max_beam = beam search (5) */
    int nbest;                 /* hypotheses returned, 1..beam_size (1) */
    double alpha;              /* GNMT length penalty ((5+|Y|)/6)^alpha (0.2) */
    double beta;               /* GNMT coverage penalty weight (0: see scripts/search.py) */
    double len_a, len_b;       /* max output = floor(len_a * source + len_b); < 0: model's own */
    int trace;                 /* 1: record the search's trace in the result (stele_trace_node;
                                  0, the default, records nothing and costs nothing) */
    int protect;               /* 1 (default): placeholders (%s, {0}, $1), markup (<b>..</b>,
                                  &amp;) and mnemonics (_File) are kept out of the model and put
                                  back in every hypothesis' text, each source placeholder exactly
                                  once (src/protect.c: grammar and rules); tokens, attention and
                                  alignment are then those of the masked text. 0: off */
    int normalize;             /* 1 (default): inputs as people type them. ALL CAPS and Title Case
                                  text (>= 2 words with letters, every cased letter upper case /
                                  every word's first one) is translated in sentence case (ALL
                                  CAPS words respelled as the model's truecasing table says, e.g.
                                  "PDF": models/FORMAT.md) and the pattern put back on the
                                  output; characters the tokenizer has no
                                  piece for (emoji, symbols: <unk>) are removed before translation
                                  and copied into the output beside the words they stood next to
                                  (attention word alignment). 0: the text goes to the model as
                                  given (scripts/search.py's raw path). stele_translate_ids: off. */
    int shortlist;             /* 1 (default): when the model has a lexical shortlist
                                  (models/FORMAT.md), each step scores only the sentence's
                                  candidate target pieces (the union of its source pieces' lists
                                  and the always-set): a smaller, faster output layer whose
                                  softmax runs over that subset. 0: every piece, as without one.
                                  No effect on a model without a shortlist. */
} stele_params;

stele_params stele_default_params(void);
stele_limits stele_default_limits(void);

/* The numeric kernels a model loaded now gets: "avx2+fma" where the CPU has AVX2 and FMA, else
   "scalar" (native builds); "wasm-simd128" (WebAssembly). In native builds the environment
   variable STELE_KERNELS=scalar|avx2 forces a set; when it names an unknown set, or avx2 on a
   CPU without it, this returns NULL and stele_model_load fails with STELE_ERR_ARGUMENT. A
   loaded model's set is "kernels" in stele_model_info_json. */
const char *stele_kernels_name(void);

typedef struct stele_model stele_model;
typedef struct stele_session stele_session;

/* Both refuse a model over STELE_MAX_MODEL_BYTES (STELE_ERR_LIMIT). stele_model_load_file reads
   a regular file only (a folder, device or FIFO is STELE_ERR_IO), and reads and checks the
      header (length field, JSON, structure) before the data. A tensor the config does not use is
   refused (STELE_ERR_CONFIG), as is a non-finite weight (STELE_ERR_WEIGHTS). Other limits
   (header size, tensor count): models/FORMAT.md "Limits". */
stele_status stele_model_load(const void *bytes, size_t size, stele_model **out, stele_error *err);
stele_status stele_model_load_file(const char *path, stele_model **out, stele_error *err);
void stele_model_free(stele_model *model);

/* What the model does: "translate" (text to text: stele_translate, batches), "caption" (an
   image to text: stele_caption) or "vqa" (an image and a question to an answer: stele_answer).
   NULL for a NULL model. */
const char *stele_model_task(const stele_model *model);

/* A vqa model's answers: their number (0 for other models), and answer i's text ("top left"),
   or NULL when i is out of range or the model is not a vqa model. */
int stele_model_answer_count(const stele_model *model);
const char *stele_model_answer(const stele_model *model, int i);

/* Architecture, as a JSON object (the config metadata plus sizes); owned by the model. */
const char *stele_model_info_json(const stele_model *model);
/* The piece string of a token id ("▁Save", "<unk>"; a caption model's word: "bag"), or NULL when
   out of range. */
const char *stele_model_piece(const stele_model *model, int id);
int stele_model_vocab_size(const stele_model *model);

/* A session of a caption model is sized for its image's feature map (grid_height x grid_width
   source locations): limits.max_source_tokens and max_text_bytes are checked but not used. */
stele_status stele_session_create(const stele_model *model, const stele_limits *limits,
                                  stele_session **out, stele_error *err);
void stele_session_free(stele_session *session);

typedef struct {
    const char *text;          /* detokenised output */
    int n_tokens;              /* output pieces, eos included when the hypothesis ended in it */
    const int32_t *tokens;
    double logp;               /* summed log-probability */
    double score;              /* logp / lp + cp, the ranking score */
    const float *token_logp;   /* [n_tokens] log-probability of each output piece (eos
                                  included): the confidence; they sum to logp */
    double mean_logp;          /* logp / n_tokens (0 without tokens): the sentence's confidence */
} stele_hypothesis;

/* The search, visible (params.trace): every candidate the search ranked at each step. Beam
   search ranks, per step, the 2 * beam_size best extensions of the live hypotheses (all other
   extensions score lower and are not recorded): an eos extension finishes, the beam_size best
   others stay live, the rest are pruned. At the last allowed step the live ones finish as they
   stand. Greedy search has one node per step. The nodes of step t are
   trace_nodes[trace_step_start[t] .. trace_step_start[t + 1]), best logp first. */
typedef enum {
    STELE_TRACE_LIVE = 0,      /* kept: extended at the next step (or the search stopped early) */
    STELE_TRACE_FINISHED = 1,  /* a complete hypothesis (ends in eos, or reached the max length) */
    STELE_TRACE_PRUNED = 2     /* ranked but fell out of the beam */
} stele_trace_status;

typedef struct {
    int32_t parent;            /* index of its parent in trace_nodes (a node of step t - 1);
                                  -1 at step 0, whose parent is the start symbol */
    int32_t token;             /* this step's token id */
    int32_t status;            /* stele_trace_status */
    int32_t rank;              /* a finished node returned in hyps: its index there (0 = the
                                  result); else -1 */
    double logp;               /* cumulative log-probability, this token included */
    double score;              /* finished nodes: the ranking score (hyps[].score); else 0 */
} stele_trace_node;

typedef struct {
    int n_source;              /* source pieces, eos included */
    const int32_t *source_tokens;
    int n_hyps;                /* nbest (or fewer) hypotheses, best first */
    const stele_hypothesis *hyps;
    /* Attention of hyps[0]: rows = hyps[0].n_tokens, cols = n_source, row-major.
       NULL when the model has no attention (score "none"). */
    const float *attention;
    /* Word-level view: words are maximal runs of pieces starting at a "▁" piece. */
    int n_source_words, n_target_words;
    const int32_t *source_word_of_piece;   /* [n_source] word index, -1 for eos */
    const int32_t *target_word_of_piece;   /* [hyps[0].n_tokens] word index, -1 for eos */
    const float *word_attention;           /* [n_target_words x n_source_words]: summed over
                                              source pieces, averaged over target pieces */
    const int32_t *word_alignment;         /* [n_target_words]: argmax source word */
    /* The search's trace when params.trace was set (see stele_trace_node), else 0 and NULL.
       Stored in buffers stele_session_create() sized for max_target_tokens steps of
       2 * max_beam nodes: tracing allocates nothing. Empty input: no steps. */
    int n_trace_steps;
    const int32_t *trace_step_start;       /* [n_trace_steps + 1] */
    const stele_trace_node *trace_nodes;   /* [trace_step_start[n_trace_steps]] */
    /* A caption (stele_caption): the CNN's feature map, grid_height x grid_width locations,
       n_source = grid_height * grid_width of them; attention row t is word t's map over the
       grid, row-major (location row * grid_width + col). 0 for a translation. */
    int grid_height, grid_width;
} stele_result;

/* Translate UTF-8 text (len bytes, or NUL-terminated when len < 0). Empty or whitespace-only text
   gives an empty translation without running the model (no error): n_source 0, one hypothesis
   with no tokens, text "", score 0, no attention. Characters absent from the vocabulary become
   <unk> when params->normalize is 0 (else they are copied through, see stele_params). Invalid UTF-8 or NUL bytes: STELE_ERR_TEXT. More than limits.max_text_bytes bytes or
   limits.max_source_tokens pieces (eos included): STELE_ERR_LIMIT (the message gives both
   numbers). params NULL: stele_default_params(). beam_size above limits.max_beam:
   STELE_ERR_LIMIT; nbest outside 1..beam_size or non-finite alpha/beta/len: STELE_ERR_ARGUMENT.
   The search is scripts/search.py's: greedy when beam_size is 1, else beam search.
   params->protect (the default): placeholders, markup and mnemonics are masked first and put
   back into each hypothesis' text (stele_params.protect); text without them is unaffected.
   A model whose task is caption or vqa: STELE_ERR_ARGUMENT (use stele_caption / stele_answer). */
stele_status stele_translate(stele_session *session, const char *text, ptrdiff_t len,
                             const stele_params *params, const stele_result **out,
                             stele_error *err);

/* The same from source token ids (eos NOT included: it is appended), e.g. for a caller with its
   own tokenizer. n == 0 runs the model on the source [eos]. Ids outside 0..V-1: STELE_ERR_ARGUMENT. */
stele_status stele_translate_ids(stele_session *session, const int32_t *ids, int n,
                                 const stele_params *params, const stele_result **out,
                                 stele_error *err);

/* Caption an image (models whose task is "caption"): 8-bit pixels, `height` rows of `width`
   pixels of `channels` interleaved bytes (1 gray, 3 RGB, 4 RGBA: converted to what the model
   reads, RGB to gray by ITU-R 601 luma as PIL's convert("L"), alpha ignored), rows `stride`
   bytes apart (0: width * channels). width and height must be the model's image size (its info
   JSON: config.image). The result is as stele_translate's (greedy or beam search, params NULL:
   stele_default_params()) with source_tokens NULL, n_source = grid_height * grid_width
   locations of the CNN's feature map, attention [hyps[0].n_tokens x n_source] (row t: word t's
   map over the grid, row-major), and the word-level view with one word per token (eos: -1) and
   one source "word" per location. NULL pixels, another size, channels other than 1/3/4, a
   stride below width * channels, or a model whose task is not caption: STELE_ERR_ARGUMENT naming
   the values. Allocates nothing (the session was sized for the model's grid). */
stele_status stele_caption(stele_session *session, const uint8_t *pixels, int width, int height,
                           int channels, int stride, const stele_params *params,
                           const stele_result **out, stele_error *err);

/* The answer to a question about an image (stele_answer). Arrays belong to the session, as a
   stele_result's do. */
typedef struct {
    int answer;                /* the most probable answer (lowest index among ties) */
    const char *text;          /* its text: stele_model_answer(model, answer) */
    int n_top;                 /* min(5, n_answers) */
    const int32_t *top;        /* [n_top] the most probable answers, best first (ties: lower
                                  index first); top[0] == answer */
    const float *top_prob;     /* [n_top] their probabilities */
    const float *probs;        /* [n_answers] every answer's probability (softmax) */
    int n_answers;
    int n_glimpses;            /* G: the model's attention glimpses (1..4) */
    int grid_height, grid_width;   /* the CNN's feature map: S = grid_height * grid_width */
    const float *glimpses;     /* [n_glimpses, S]: glimpse g's weights over the locations (each
                                  row sums to 1), location row * grid_width + col */
    int n_question;            /* the question's words */
    const int32_t *question_ids;   /* [n_question] their ids (stele_model_piece; unknown words:
                                      the model's <unk>) */
} stele_answer_result;

/* Answer a question about an image (models whose task is "vqa"). The image is given as to
   stele_caption (8-bit gray, RGB or RGBA, `stride` bytes a row, 0: packed) and must be the
   model's image size. The question is UTF-8 text (len bytes, or NUL-terminated when len < 0),
   read as the model was trained: ASCII letters lower-cased, "?" and "," words of their own,
   split at ASCII white space, words outside the vocabulary read as <unk>. A question without
   words: STELE_ERR_ARGUMENT ("empty question"); invalid UTF-8 or a NUL byte: STELE_ERR_TEXT;
   over limits.max_text_bytes bytes or limits.max_source_tokens words: STELE_ERR_LIMIT; NULL
   arguments, a wrong image size or format, or a model whose task is not vqa:
   STELE_ERR_ARGUMENT. The result stays valid until the next stele_answer on the session or
   stele_session_free(); *out is NULL after an error. Allocates nothing (a vqa session is sized
   for the model's grid and max_source_tokens words). */
stele_status stele_answer(stele_session *session, const uint8_t *pixels, int width, int height,
                          int channels, int stride, const char *question, ptrdiff_t len,
                          const stele_answer_result **out, stele_error *err);

/* 1 when the model's metadata sets a low-confidence threshold (models/FORMAT.md) and the best
   hypothesis is below it: its summed log-probability below search.low_confidence_logp, or its
   mean log-probability per output piece (mean_logp) below search.low_confidence_mean_logp. The
   output is then more likely wrong than the model's usual outputs, and should not be shown as
   certain. Else 0 (always 0 for a model without the keys, and for an empty output). */
int stele_low_confidence(const stele_model *model, const stele_result *result);

/* Batched greedy translation: up to `capacity` sentences decoded together. Every decoder step is
   one GEMM over the sentences still running, so the weights are read once per step for all of
   them instead of once per sentence: the throughput mode for translating many texts (a file, a
   test set). Each sentence gets exactly the search stele_translate runs with beam_size 1 (it
   stops at its own eos or length limit); its attention reads its own source only. Translation
   models only (a caption model: STELE_ERR_ARGUMENT). The batch owns
   one greedy session per slot (limits as stele_session_create, max_beam ignored) and the shared
   step buffers, all allocated here; stele_translate_batch does not allocate. Not thread-safe. */
typedef struct stele_batch stele_batch;

stele_status stele_batch_create(const stele_model *model, const stele_limits *limits,
                                int capacity, stele_batch **out, stele_error *err);
void stele_batch_free(stele_batch *batch);
int stele_batch_capacity(const stele_batch *batch);

/* Translates texts[0..n) (lens[i] bytes, or NUL-terminated when lens is NULL or lens[i] < 0),
   1 <= n <= capacity; results[i] receives text i's result, valid until the next call on this
   batch or stele_batch_free(). params as stele_translate (NULL: stele_default_params() with
   beam_size 1), but beam_size must be 1 (beam search
   keeps one sentence per session: use stele_translate) and trace 0. A text that stele_translate would refuse
   fails the whole call before any decoding, with the message prefixed "texts[i]: ". */
stele_status stele_translate_batch(stele_batch *batch, const char *const *texts,
                                   const ptrdiff_t *lens, int n, const stele_params *params,
                                   const stele_result **results, stele_error *err);

/* The throughput mode for any number of texts: at most `capacity` sentences decode at a time,
   and a sentence that ends makes room for the next text at the next step, so the step stays
   full until the texts run out. on_result(user, i, result) is called once per text as it
   finishes (in finishing order, not index order); result is valid only during the call, and
   on_result must not call into the same batch. Texts are checked first as in
   stele_translate_batch (then nothing is reported). n may be 0. */
typedef void (*stele_batch_callback)(void *user, int index, const stele_result *result);
stele_status stele_translate_stream(stele_batch *batch, const char *const *texts,
                                    const ptrdiff_t *lens, int n, const stele_params *params,
                                    stele_batch_callback on_result, void *user,
                                    stele_error *err);

/* Seconds spent per component since the session was created or the timings were reset, counted
   only while profiling is on (it costs a clock read per component per step). */
typedef struct {
    double encoder;            /* embedding, (Bi)LSTM layers, bridge, attention keys */
    double decoder_lstm;       /* decoder LSTM stack */
    double attention;          /* scores, softmax, context */
    double output;             /* projection, generator (logits), log-softmax */
    double search;             /* the rest of the search: top-k selection, bookkeeping, results */
    long long steps;           /* decoder steps (each over all live beams) */
} stele_timings;

void stele_session_set_profiling(stele_session *session, int on);
void stele_session_timings(const stele_session *session, stele_timings *out, int reset);

#ifdef __cplusplus
}
#endif
#endif /* STELE_H */
