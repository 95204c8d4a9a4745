/* Model loading: metadata checks, config parsing and validation, tensor binding by name with the
 * shapes the config implies (models/FORMAT.md), the tokenizer, and the info JSON. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L   /* stat, fstat, fileno */
#endif
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "json.h"
#include "kernels.h"
#include "model.h"
#include "utf8.h"
#include "words.h"
#ifndef _WIN32
#include <sys/stat.h>
#endif

static float *model_alloc(struct stele_model *m, size_t n)
{
    if (m->n_allocs == m->cap_allocs) {
        int cap = m->cap_allocs ? 2 * m->cap_allocs : 32;
        float **a = realloc(m->allocs, sizeof(float *) * (size_t)cap);
        if (!a)
            return NULL;
        m->allocs = a;
        m->cap_allocs = cap;
    }
    float *p = malloc(sizeof(float) * (n ? n : 1));
    if (p)
        m->allocs[m->n_allocs++] = p;
    return p;
}

/* ---- config ------------------------------------------------------------------------------ */

#define MAX_DIM (1 << 20)

static stele_status get_int(const json_value *obj, const char *section, const char *key,
                            int lo, int hi, int *out, stele_error *err)
{
    const json_value *v = json_get(obj, key);
    double d;
    if (!v)
        return stele_fail(err, STELE_ERR_CONFIG, "config: %s%s%s is missing", section,
                    *section ? "." : "", key);
    if (json_number(v, &d) != 0 || d != (double)(long long)d || d < lo || d > hi)
        return stele_fail(err, STELE_ERR_CONFIG, "config: %s%s%s must be an integer in %d..%d",
                    section, *section ? "." : "", key, lo, hi);
    *out = (int)d;
    return STELE_OK;
}

/* *out = index of the value in names[], or STELE_ERR_CONFIG. */
static stele_status get_enum(const json_value *obj, const char *section, const char *key,
                             const char *const *names, int n, int *out, stele_error *err)
{
    const char *s = json_string(json_get(obj, key));
    if (!s)
        return stele_fail(err, STELE_ERR_CONFIG, "config: %s.%s is missing or not a string", section,
                    key);
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return STELE_OK;
        }
    return stele_fail(err, STELE_ERR_CONFIG, "config: %s.%s \"%.60s\" is not supported", section, key,
                s);
}

static stele_status get_bool(const json_value *obj, const char *section, const char *key,
                             int *out, stele_error *err)
{
    const json_value *v = json_get(obj, key);
    if (!v || (json_kind(v) != JSON_TRUE && json_kind(v) != JSON_FALSE))
        return stele_fail(err, STELE_ERR_CONFIG, "config: %s%s%s must be true or false", section,
                          *section ? "." : "", key);
    *out = json_kind(v) == JSON_TRUE;
    return STELE_OK;
}

#define TRY(x)                                                                                    \
    do {                                                                                          \
        stele_status st_ = (x);                                                                   \
        if (st_ != STELE_OK)                                                                      \
            return st_;                                                                           \
    } while (0)

/* *out = the finite number obj.key (the whole range of float when above lo, exclusive). */
static stele_status get_float(const json_value *obj, const char *section, const char *key,
                              int positive, float *out, stele_error *err)
{
    double d;
    if (json_number(json_get(obj, key), &d) != 0 || !(d >= -1e30 && d <= 1e30) ||
        (positive && !(d > 1e-30)))
        return stele_fail(err, STELE_ERR_CONFIG, "config: %s.%s must be a %snumber", section, key,
                          positive ? "positive " : "finite ");
    *out = (float)d;
    return STELE_OK;
}

/* The image and the CNN encoder's blocks (encoder.type "cnn"): sizes, and each block's input
 * size from the halving max-pools (encoder.pool false: a block keeps its size). The encoder
 * output D is the last block's channels. */
static stele_status parse_cnn(struct stele_model *m, const json_value *cfg,
                              const json_value *enc, stele_error *err)
{
    const json_value *img = json_get(cfg, "image"), *ch = json_get(enc, "channels");
    if (json_kind(img) != JSON_OBJECT)
        return stele_fail(err, STELE_ERR_CONFIG, "config: image must be a JSON object (height, "
                          "width, channels, mean, std) in a model with encoder.type cnn");
    image_spec *im = &m->image;
    TRY(get_int(img, "image", "height", 1, 4096, &im->height, err));
    TRY(get_int(img, "image", "width", 1, 4096, &im->width, err));
    TRY(get_int(img, "image", "channels", 1, 3, &im->channels, err));
    if (im->channels == 2)
        return stele_fail(err, STELE_ERR_CONFIG, "config: image.channels 2: must be 1 (gray) or "
                          "3 (RGB)");
    TRY(get_float(img, "image", "mean", 0, &im->mean, err));
    TRY(get_float(img, "image", "std", 1, &im->std, err));
    size_t n = json_count(ch);
    if (json_kind(ch) != JSON_ARRAY || n < 1 || n > STELE_MAX_CNN_BLOCKS)
        return stele_fail(err, STELE_ERR_CONFIG, "config: encoder.channels must be an array of "
                          "1..%d integers (one block each)", STELE_MAX_CNN_BLOCKS);
    /* encoder.pool: one boolean per block, absent = every block pools */
    const json_value *pool = json_get(enc, "pool");
    if (pool && (json_kind(pool) != JSON_ARRAY || json_count(pool) != n))
        return stele_fail(err, STELE_ERR_CONFIG, "config: encoder.pool must be an array of %zu "
                          "booleans (one per encoder.channels entry)", n);
    int H = im->height, W = im->width, Ci = im->channels;
    for (size_t i = 0; i < n; i++) {
        double d;
        if (json_number(json_at(ch, i), &d) != 0 || d != (double)(int)d || d < 1 || d > 4096)
            return stele_fail(err, STELE_ERR_CONFIG, "config: encoder.channels[%zu] must be an "
                              "integer in 1..4096", i);
        cnn_block *b = &m->block[i];
        const json_type kind = pool ? json_kind(json_at(pool, i)) : JSON_TRUE;
        if (kind != JSON_TRUE && kind != JSON_FALSE)
            return stele_fail(err, STELE_ERR_CONFIG, "config: encoder.pool[%zu] must be true or "
                              "false", i);
        b->pool = kind == JSON_TRUE;
        b->Ci = Ci;
        b->Co = (int)d;
        b->H = H;
        b->W = W;
        if ((long long)H * W * (b->Co > Ci ? b->Co : Ci) > (1LL << 28))
            return stele_fail(err, STELE_ERR_CONFIG, "config: CNN block %zu is %dx%d pixels x %d "
                              "channels, over the 2^28-float activation limit", i, H, W,
                              b->Co > Ci ? b->Co : Ci);
        if (b->pool) {
            H /= 2;
            W /= 2;
        }
        if (H < 1 || W < 1)
            return stele_fail(err, STELE_ERR_CONFIG, "config: image %dx%d is too small for %zu "
                              "CNN blocks (each max-pool halves it: block %zu gets %dx%d)",
                              im->width, im->height, n, i, b->W, b->H);
        Ci = b->Co;
    }
    /* a learned position per location (the CNN alone cannot tell where a feature is) */
    static const char *const positions[] = {"none", "learned"};
    int position = 0;
    if (json_get(enc, "position"))
        TRY(get_enum(enc, "encoder", "position", positions, 2, &position, err));
    m->cnn_position = position == 1;
    m->n_blocks = (int)n;
    m->grid_h = H;
    m->grid_w = W;
    m->D = Ci;
    if ((long long)H * W > 65536)
        return stele_fail(err, STELE_ERR_CONFIG, "config: the CNN's feature map is %dx%d "
                          "locations, over the limit of 65536", W, H);
    return STELE_OK;
}

static const char *const enc_types[] = {"lstm", "bilstm", "cnn"};

/* A VQA model's config (task "vqa"): the image and CNN as a caption model's, then the question
 * encoder, the glimpses and the classifier; no decoder, attention score or search. */
static stele_status parse_vqa(struct stele_model *m, const json_value *cfg, stele_error *err)
{
    const json_value *enc = json_get(cfg, "encoder");
    int type = 0;
    if (json_kind(enc) != JSON_OBJECT)
        return stele_fail(err, STELE_ERR_CONFIG, "config: encoder must be a JSON object (type "
                          "cnn, channels) in a vqa model");
    TRY(get_enum(enc, "encoder", "type", enc_types, 3, &type, err));
    if (type != 2)
        return stele_fail(err, STELE_ERR_CONFIG, "config: task vqa needs encoder.type cnn, not %s",
                          enc_types[type]);
    m->cnn = 1;
    TRY(parse_cnn(m, cfg, enc, err));
    vqa_weights *q = &m->vqa;
    TRY(get_bool(cfg, "", "l2norm", &q->l2norm, err));
    /* "pool": "mean" is the no-attention baseline, trained and measured in Python only */
    const json_value *pool = json_get(cfg, "pool");
    if (pool && (!json_string(pool) || strcmp(json_string(pool), "attention") != 0))
        return stele_fail(err, STELE_ERR_CONFIG, "config: pool %s%.40s%s is not supported (the "
                          "engine runs attention models; the mean-pool baseline is Python-only)",
                          json_string(pool) ? "\"" : "", json_string(pool) ? json_string(pool) :
                          "(not a string)", json_string(pool) ? "\"" : "");
    const char *sections[] = {"question", "attention", "classifier"};
    const json_value *sec[3];
    for (int i = 0; i < 3; i++)
        if (json_kind(sec[i] = json_get(cfg, sections[i])) != JSON_OBJECT)
            return stele_fail(err, STELE_ERR_CONFIG, "config: %s must be a JSON object in a vqa "
                              "model", sections[i]);
    TRY(get_int(sec[0], "question", "emb", 1, MAX_DIM, &q->Eq, err));
    TRY(get_int(sec[0], "question", "hidden", 1, MAX_DIM, &q->Hq, err));
    TRY(get_int(cfg, "", "glimpses", 1, 4, &q->G, err));
    TRY(get_int(sec[1], "attention", "hidden", 1, MAX_DIM, &q->A, err));
    TRY(get_int(sec[2], "classifier", "hidden", 1, MAX_DIM, &q->F, err));
    TRY(get_int(cfg, "", "src_vocab", 2, MAX_DIM, &m->V, err));
    TRY(get_int(cfg, "", "answers", 1, MAX_DIM, &q->Na, err));
    TRY(get_int(cfg, "", "pad_id", 0, m->V - 1, &m->pad_id, err));
    TRY(get_int(cfg, "", "unk_id", 0, m->V - 1, &m->unk_id, err));
    m->bos_id = m->eos_id = -1;   /* a question has neither */
    const long long lim = 1LL << 30, S = (long long)m->grid_h * m->grid_w, D = m->D;
    const struct {
        long long n;
        const char *what;
    } sizes[] = {
        {(long long)m->V * q->Eq, "src_vocab x question.emb (q_embed.weight)"},
        {4LL * q->Hq * (q->Eq + q->Hq), "4 x question.hidden x (question.emb + question.hidden) "
                                        "(q_lstm.*)"},
        {(long long)q->A * (D + q->Hq), "attention.hidden x (CNN channels + question.hidden) "
                                        "(glimpse.conv1.weight)"},
        {S * q->A, "grid locations x attention.hidden (the glimpse activations)"},
        {(long long)q->F * (q->G * D + q->Hq), "classifier.hidden x (glimpses x CNN channels + "
                                               "question.hidden) (classifier.fc1.weight)"},
        {(long long)q->Na * q->F, "answers x classifier.hidden (classifier.fc2.weight)"},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].n > lim)
            return stele_fail(err, STELE_ERR_CONFIG, "config: sizes too large: %s = %lld "
                              "elements, over the 2^30 limit", sizes[i].what, sizes[i].n);
    return STELE_OK;
}

static stele_status parse_config(struct stele_model *m, const json_value *cfg, stele_error *err)
{
    static const char *const tasks[] = {"translate", "caption", "vqa"};
    static const char *const scores[] = {"none", "dot", "general", "additive", "concat"};
    static const char *const styles[] = {"bahdanau", "luong"};
    static const char *const placements[] = {"top", "gnmt"};
    static const char *const bridges[] = {"zero", "linear"};
    if (json_kind(cfg) != JSON_OBJECT)
        return stele_fail(err, STELE_ERR_CONFIG, "config is not a JSON object");
    int task = TASK_TRANSLATE;
    if (json_get(cfg, "task"))   /* absent: translate (every model before image models) */
        TRY(get_enum(cfg, "config", "task", tasks, 3, &task, err));
    m->task = (model_task)task;
    if (task == TASK_VQA)
        return parse_vqa(m, cfg, err);
    const json_value *enc = json_get(cfg, "encoder"), *att = json_get(cfg, "attention");
    const json_value *dec = json_get(cfg, "decoder");
    if (json_kind(enc) != JSON_OBJECT || json_kind(att) != JSON_OBJECT ||
        json_kind(dec) != JSON_OBJECT)
        return stele_fail(err, STELE_ERR_CONFIG,
                    "config: encoder, attention and decoder must be JSON objects");
    int src_vocab = 0, tgt_vocab = 0, type = 0, score = 0, style = 0, placement = 0, bridge = 0;
    TRY(get_int(cfg, "", "src_vocab", 5, MAX_DIM, &src_vocab, err));
    TRY(get_int(cfg, "", "tgt_vocab", 5, MAX_DIM, &tgt_vocab, err));
    if (src_vocab != tgt_vocab)
        return stele_fail(err, STELE_ERR_CONFIG,
                    "config: src_vocab %d != tgt_vocab %d (one tokenizer serves both sides)",
                    src_vocab, tgt_vocab);
    m->V = src_vocab;
    TRY(get_int(cfg, "", "emb", 1, MAX_DIM, &m->E, err));
    TRY(get_enum(enc, "encoder", "type", enc_types, 3, &type, err));
    m->cnn = type == 2;
    if (m->cnn != (task == TASK_CAPTION))
        return stele_fail(err, STELE_ERR_CONFIG, "config: task %s needs encoder.type %s, not %s",
                          tasks[task], m->cnn ? "lstm or bilstm" : "cnn", enc_types[type]);
    if (m->cnn) {
        TRY(parse_cnn(m, cfg, enc, err));
    } else {
        TRY(get_int(enc, "encoder", "layers", 1, STELE_MAX_LAYERS, &m->Le, err));
        TRY(get_int(enc, "encoder", "hidden", 1, MAX_DIM, &m->H, err));
        TRY(get_int(enc, "encoder", "residual_from", 0, STELE_MAX_LAYERS, &m->enc_residual_from,
                    err));
    }
    TRY(get_enum(att, "attention", "score", scores, 5, &score, err));
    TRY(get_int(att, "attention", "dim", 1, MAX_DIM, &m->A, err));
    TRY(get_enum(dec, "decoder", "style", styles, 2, &style, err));
    TRY(get_int(dec, "decoder", "layers", 1, STELE_MAX_LAYERS, &m->Ld, err));
    TRY(get_int(dec, "decoder", "hidden", 1, MAX_DIM, &m->Hd, err));
    TRY(get_int(dec, "decoder", "out", 1, MAX_DIM, &m->O, err));
    TRY(get_int(dec, "decoder", "residual_from", 0, STELE_MAX_LAYERS, &m->dec_residual_from, err));
    TRY(get_enum(dec, "decoder", "placement", placements, 2, &placement, err));
    TRY(get_enum(cfg, "config", "bridge", bridges, 2, &bridge, err));
    TRY(get_bool(cfg, "", "tie_embeddings", &m->tie_embeddings, err));
    TRY(get_int(cfg, "", "pad_id", 0, m->V - 1, &m->pad_id, err));
    TRY(get_int(cfg, "", "unk_id", 0, m->V - 1, &m->unk_id, err));
    TRY(get_int(cfg, "", "bos_id", 0, m->V - 1, &m->bos_id, err));
    TRY(get_int(cfg, "", "eos_id", 0, m->V - 1, &m->eos_id, err));
    m->bidirectional = type == 1;
    m->luong = style == 1;
    m->gnmt = placement == 1;
    m->bridge_linear = bridge == 1;
    if (!m->cnn)
        m->D = m->H * (m->bidirectional ? 2 : 1);
    m->C = score == SCORE_NONE ? 0 : m->D;
    if (json_get(att, "gate"))   /* optional, default false */
        TRY(get_bool(att, "attention", "gate", &m->gate, err));
    /* The gate scales the context of a Bahdanau step (it enters the LSTM and the projection);
     * a Luong step's context is computed after the LSTM, where the reference has no gate. */
    if (m->gate && (score == SCORE_NONE || m->luong || m->gnmt))
        return stele_fail(err, STELE_ERR_CONFIG, "config: attention.gate needs an attention "
                          "score, decoder.style bahdanau and decoder.placement top (attention.score "
                          "%s, decoder.style %s, decoder.placement %s)", scores[score],
                          styles[style], placements[placement]);
    if (m->gnmt && m->luong)
        return stele_fail(err, STELE_ERR_CONFIG, "config: decoder.placement gnmt needs decoder.style "
                                           "bahdanau");
    /* A context appended to every layer's input needs a context: with score none, gnmt would
     * silently mean top (the reference refuses it too). */
    if (m->gnmt && score == SCORE_NONE)
        return stele_fail(err, STELE_ERR_CONFIG, "config: decoder.placement gnmt needs an attention "
                                           "(attention.score is none)");
    /* residual_from r: layers l >= r (1-based) add their input. Layer 1 never can (its input
     * is the embedding, of another size), so r = 1 would mean the same as 2, and r above the
     * layer count would mean no residual at all: both are refused rather than read two ways. */
    const struct {
        int r, layers;
        const char *part;
    } res[] = {{m->enc_residual_from, m->Le, "encoder"}, {m->dec_residual_from, m->Ld, "decoder"}};
    for (int i = 0; i < 2; i++) {
        if (res[i].r == 1)
            return stele_fail(err, STELE_ERR_CONFIG, "config: %s.residual_from 1: layer 1 has no "
                              "residual (its input size differs); use 0 (none) or 2..%s.layers",
                              res[i].part, res[i].part);
        if (res[i].r > res[i].layers)
            return stele_fail(err, STELE_ERR_CONFIG, "config: %s.residual_from %d is above "
                              "%s.layers %d (no layer would have a residual; use 0)", res[i].part,
                              res[i].r, res[i].part, res[i].layers);
    }
    if (score == SCORE_DOT && m->Hd != m->D)
        return stele_fail(err, STELE_ERR_CONFIG, "config: attention.score dot needs decoder.hidden (%d) "
                                           "== encoder output size (%d)", m->Hd, m->D);
    if (m->tie_embeddings && m->O != m->E)
        return stele_fail(err, STELE_ERR_CONFIG, "config: tie_embeddings needs decoder.out (%d) == emb "
                                           "(%d)", m->O, m->E);
    /* Keep every weight matrix (and so every product of two sizes and the gate width) well
     * inside int. Each check names the fields whose product is too large, with their values. */
    const long long lim = 1LL << 30;
    const struct {
        long long n;
        const char *what;
    } sizes[] = {
        {(long long)m->V * m->E, "src_vocab x emb (src_embed.weight)"},
        {(long long)m->V * m->O, "tgt_vocab x decoder.out (generator.weight)"},
        {4LL * m->H * m->D, "4 x encoder.hidden x encoder output (enc_layers.*.weight_ih)"},
        {4LL * m->Hd * (m->Hd + m->D + m->E + m->O),
         "4 x decoder.hidden x (decoder.hidden + encoder output + emb + decoder.out) "
         "(dec_cells.*)"},
        {(long long)m->Ld * m->Hd * m->D,
         "decoder.layers x decoder.hidden x encoder output (bridge_*.weight)"},
        {(long long)m->A * (m->Hd + m->D),
         "attention.dim x (decoder.hidden + encoder output) (attention.*)"},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].n > lim)
            return stele_fail(err, STELE_ERR_CONFIG, "config: sizes too large: %s = %lld elements, "
                              "over the 2^30 limit (src_vocab %d, emb %d, encoder.hidden %d, "
                              "decoder.hidden %d)", sizes[i].what, sizes[i].n, m->V, m->E, m->H,
                              m->Hd);
    attn_weights *a = &m->attn;
    a->score = (attn_score)score;
    a->Hd = m->Hd;
    a->D = m->D;
    a->A = m->A;
    a->key_dim = score == SCORE_NONE ? 0 : score <= SCORE_GENERAL ? m->Hd : m->A;
    return STELE_OK;
}

/* ---- tensors ----------------------------------------------------------------------------- */

static void shape_text(char *buf, size_t n, const int64_t *dims, int nd)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < nd && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

/* STELE_ERR_WEIGHTS naming the first NaN or infinity in w[0..n): one would make every
 * translation garbage (and native and wasm differ in how), with nothing to say why. The
 * exponent bits are tested, which holds under any floating-point compiler flags. */
static stele_status check_finite(const float *w, size_t n, const char *name, stele_error *err)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &w[i], sizeof u);
        if ((u & 0x7f800000u) == 0x7f800000u)
            return stele_fail(err, STELE_ERR_WEIGHTS, "tensor %s element %zu is %s (weights must "
                              "be finite)", name, i, (u & 0x007fffffu) ? "NaN" :
                              (u >> 31) ? "-Inf" : "+Inf");
    }
    return STELE_OK;
}

/* Binds tensor `name` of shape [d0] (d1 < 0) or [d0, d1] as F32, after checking that every
 * element is finite; used in place when 4-byte aligned, else copied into an aligned buffer the
 * model owns. */
static stele_status bind_dims(struct stele_model *m, const float **out, const char *name,
                              const int64_t *want, int nd, stele_error *err)
{
    const st_tensor *t = st_find(m->st, name);
    if (!t)
        return stele_fail(err, STELE_ERR_MISSING, "tensor %s is missing", name);
    m->bound[t - st_at(m->st, 0)] = 1;
    if (t->dtype != ST_F32)
        return stele_fail(err, STELE_ERR_DTYPE, "tensor %s has dtype %s, expected F32", name,
                    st_dtype_name(t->dtype));
    int same = t->ndim == nd;
    for (int i = 0; same && i < nd; i++)
        same = t->shape[i] == want[i];
    if (!same) {
        char got[96], exp[64];
        shape_text(got, sizeof got, t->shape, t->ndim);
        shape_text(exp, sizeof exp, want, nd);
        return stele_fail(err, STELE_ERR_SHAPE, "tensor %s has shape %s, the config implies %s", name,
                    got, exp);
    }
    if (((uintptr_t)t->data & 3u) == 0) {
        *out = (const float *)(const void *)t->data;
        return check_finite(*out, (size_t)t->numel, name, err);
    }
    float *copy = model_alloc(m, (size_t)t->numel);
    if (!copy)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory copying tensor %s", name);
    memcpy(copy, t->data, t->nbytes);
    *out = copy;
    return check_finite(copy, (size_t)t->numel, name, err);
}

static stele_status bind(struct stele_model *m, const float **out, const char *name, int d0,
                         int d1, stele_error *err)
{
    const int64_t want[2] = {d0, d1};
    return bind_dims(m, out, name, want, d1 < 0 ? 1 : 2, err);
}

/* Binds the weight matrix `name` [d0, d1]: F32 as bind(), or (format version 2) I8 with its
 * per-row scales `name.scale` F32 [d0], each finite and >= 0 (models/FORMAT.md "Int8 weights").
 * I8 values are used as they are: every byte is a valid weight in -128..127. */
static stele_status bind_mat(struct stele_model *m, wmat *out, const char *name, int d0, int d1,
                             stele_error *err)
{
    const st_tensor *t = st_find(m->st, name);
    memset(out, 0, sizeof *out);
    out->ld = d1;
    if (!t || t->dtype != ST_I8)
        return bind(m, &out->f, name, d0, d1, err);
    m->bound[t - st_at(m->st, 0)] = 1;
    if (m->format_version < 2)
        return stele_fail(err, STELE_ERR_VERSION, "tensor %s is I8: int8 weights need "
                          "format_version 2 (the file says 1)", name);
    if (t->ndim != 2 || t->shape[0] != d0 || t->shape[1] != d1) {
        char got[96], exp[64];
        const int64_t want[2] = {d0, d1};
        shape_text(got, sizeof got, t->shape, t->ndim);
        shape_text(exp, sizeof exp, want, 2);
        return stele_fail(err, STELE_ERR_SHAPE, "tensor %s has shape %s, the config implies %s",
                          name, got, exp);
    }
    char sname[160];
    snprintf(sname, sizeof sname, "%s.scale", name);
    if (!st_find(m->st, sname))
        return stele_fail(err, STELE_ERR_MISSING, "tensor %s is missing (the row scales of the "
                          "I8 tensor %s)", sname, name);
    TRY(bind(m, &out->scale, sname, d0, -1, err));
    for (int i = 0; i < d0; i++)
        if (!(out->scale[i] >= 0.0f))
            return stele_fail(err, STELE_ERR_WEIGHTS, "tensor %s element %d is negative (row "
                              "scales must be >= 0)", sname, i);
    out->q = (const int8_t *)(const void *)t->data;
    out->f = NULL;
    m->int8 = 1;
    return STELE_OK;
}

/* cnn.{i}.weight [Co, Ci, 3, 3] and cnn.{i}.bias [Co]; each weight is copied once into the
 * layout of the conv kernels, [3, 3, Ci, Co] (kernels.h: a tap's output channels contiguous).
 * With encoder.position learned, memory_position.weight [S, D] goes to *position: a caption
 * model's m->position (cnn_run adds it to the raw memory), a vqa model's vqa.position (added
 * after the l2 norm, vqa.c), so that cnn_run does not add it a second time, in the wrong place. */
static stele_status bind_cnn(struct stele_model *m, const float **position, stele_error *err)
{
    char name[64];
    for (int i = 0; i < m->n_blocks; i++) {
        cnn_block *b = &m->block[i];
        const int Ci = b->Ci, Co = b->Co;
        const int64_t want[4] = {Co, Ci, 3, 3};
        const float *w;
        snprintf(name, sizeof name, "cnn.%d.weight", i);
        TRY(bind_dims(m, &w, name, want, 4, err));
        snprintf(name, sizeof name, "cnn.%d.bias", i);
        TRY(bind(m, &b->bias, name, Co, -1, err));
        float *hwio = model_alloc(m, (size_t)9 * Ci * Co);
        if (!hwio)
            return stele_fail(err, STELE_ERR_MEMORY, "out of memory re-laying out cnn.%d.weight",
                              i);
        for (int o = 0; o < Co; o++)
            for (int c = 0; c < Ci; c++)
                for (int k = 0; k < 9; k++)
                    hwio[((size_t)k * Ci + c) * Co + o] = w[((size_t)o * Ci + c) * 9 + k];
        b->w = hwio;
    }
    if (m->cnn_position)
        TRY(bind(m, position, "memory_position.weight", m->grid_h * m->grid_w, m->D, err));
    return STELE_OK;
}

static stele_status bind_lstm(struct stele_model *m, lstm_weights *w, const char *prefix,
                              const char *suffix, int in, int H, stele_error *err)
{
    char name[128];
    const float *b_ih, *b_hh;
    w->in = in;
    w->H = H;
    snprintf(name, sizeof name, "%s.weight_ih%s", prefix, suffix);
    TRY(bind_mat(m, &w->w_ih, name, 4 * H, in, err));
    snprintf(name, sizeof name, "%s.weight_hh%s", prefix, suffix);
    TRY(bind_mat(m, &w->w_hh, name, 4 * H, H, err));
    snprintf(name, sizeof name, "%s.bias_ih%s", prefix, suffix);
    TRY(bind(m, &b_ih, name, 4 * H, -1, err));
    snprintf(name, sizeof name, "%s.bias_hh%s", prefix, suffix);
    TRY(bind(m, &b_hh, name, 4 * H, -1, err));
    float *b = model_alloc(m, 4 * (size_t)H);
    if (!b)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for %s biases", prefix);
    for (int i = 0; i < 4 * H; i++)
        b[i] = b_ih[i] + b_hh[i];
    w->bias = b;
    /* two finite biases near FLT_MAX can still sum to infinity */
    snprintf(name, sizeof name, "%s.bias_ih%s + bias_hh%s", prefix, suffix, suffix);
    return check_finite(b, 4 * (size_t)H, name, err);
}

/* answers.words (vqa models): the Na answer strings, "\n"-separated, line i = answer i. An answer
 * may contain spaces ("top left"), so this is not a word vocabulary (words.h refuses spaces):
 * each line must be non-empty UTF-8 without control characters (a NUL would cut the string, a
 * newline is the separator); one trailing "\n" is allowed, as in tokenizer.words. */
static stele_status load_answers(struct stele_model *m, stele_error *err)
{
    vqa_weights *q = &m->vqa;
    const st_tensor *t = st_find(m->st, "answers.words");
    if (!t)
        return stele_fail(err, STELE_ERR_MISSING, "tensor answers.words is missing (a vqa "
                          "model's answer list)");
    m->bound[t - st_at(m->st, 0)] = 1;
    if (t->dtype != ST_U8)
        return stele_fail(err, STELE_ERR_DTYPE, "tensor answers.words has dtype %s, expected U8",
                          st_dtype_name(t->dtype));
    const uint8_t *b = t->data;
    size_t n = t->nbytes, lines = 1;
    if (n > 0 && b[n - 1] == '\n')
        n--;
    for (size_t i = 0; i < n; i++)
        lines += b[i] == '\n';
    q->answer_text = malloc(n + 1);
    q->answer = malloc(sizeof(char *) * lines);
    if (!q->answer_text || !q->answer)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for %zu answers", lines);
    memcpy(q->answer_text, b, n);
    q->answer_text[n] = 0;
    size_t id = 0, begin = 0;
    for (size_t i = 0; i <= n;) {
        if (i == n || b[i] == '\n') {
            if (i == begin)
                return stele_fail(err, STELE_ERR_TOKENIZER, "answers.words: answer %zu (line %zu) "
                                  "is empty", id, id + 1);
            q->answer_text[i] = 0;
            q->answer[id++] = q->answer_text + begin;
            begin = ++i;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_decode(b + i, n - i, &cp);
        if (!k || cp < 0x20 || cp == 0x7f)
            return stele_fail(err, STELE_ERR_TOKENIZER, "answers.words: answer %zu (line %zu) "
                              "has %s at byte %zu", id, id + 1, !k ? "invalid UTF-8" :
                              "a control character", i);
        i += k;
    }
    if (lines != (size_t)q->Na)
        return stele_fail(err, STELE_ERR_CONFIG, "config: answers %d but answers.words has %zu "
                          "lines", q->Na, lines);
    return STELE_OK;
}

/* A vqa model's tensors (models/FORMAT.md "VQA models"): the CNN, the question embedding and
 * LSTM, the two 1x1 glimpse convolutions bound as matrices ([out, in, 1, 1] is [out, in] in
 * memory), the classifier, the answers. */
static stele_status bind_vqa(struct stele_model *m, stele_error *err)
{
    vqa_weights *q = &m->vqa;
    const int D = m->D, Hq = q->Hq, A = q->A, G = q->G;
    TRY(bind_cnn(m, &q->position, err));
    TRY(bind(m, &q->q_embed, "q_embed.weight", m->V, q->Eq, err));
    TRY(bind_lstm(m, &q->q_lstm, "q_lstm", "_l0", q->Eq, Hq, err));
    const int64_t w1[4] = {A, D + Hq, 1, 1}, w2[4] = {G, A, 1, 1};
    TRY(bind_dims(m, &q->conv1_w, "glimpse.conv1.weight", w1, 4, err));
    TRY(bind(m, &q->conv1_b, "glimpse.conv1.bias", A, -1, err));
    TRY(bind_dims(m, &q->conv2_w, "glimpse.conv2.weight", w2, 4, err));
    TRY(bind(m, &q->conv2_b, "glimpse.conv2.bias", G, -1, err));
    TRY(bind(m, &q->fc1_w, "classifier.fc1.weight", q->F, G * D + Hq, err));
    TRY(bind(m, &q->fc1_b, "classifier.fc1.bias", q->F, -1, err));
    TRY(bind(m, &q->fc2_w, "classifier.fc2.weight", q->Na, q->F, err));
    TRY(bind(m, &q->fc2_b, "classifier.fc2.bias", q->Na, -1, err));
    return load_answers(m, err);
}

static stele_status bind_all(struct stele_model *m, stele_error *err)
{
    if (m->task == TASK_VQA)
        return bind_vqa(m, err);
    char prefix[64];
    const int V = m->V, E = m->E, D = m->D, H = m->H, Hd = m->Hd, O = m->O, C = m->C, A = m->A;
    if (!m->cnn)
        TRY(bind_mat(m, &m->src_embed, "src_embed.weight", V, E, err));
    else
        TRY(bind_cnn(m, &m->position, err));
    TRY(bind_mat(m, &m->tgt_embed, "tgt_embed.weight", V, E, err));
    for (int l = 0; l < m->Le; l++) {
        snprintf(prefix, sizeof prefix, "enc_layers.%d", l);
        TRY(bind_lstm(m, &m->enc[l][0], prefix, "_l0", l ? D : E, H, err));
        if (m->bidirectional)
            TRY(bind_lstm(m, &m->enc[l][1], prefix, "_l0_reverse", l ? D : E, H, err));
    }
    attn_weights *a = &m->attn;
    switch (a->score) {
    case SCORE_GENERAL:
        TRY(bind_mat(m, &a->linear_in, "attention.linear_in.weight", Hd, D, err));
        break;
    case SCORE_ADDITIVE:
        TRY(bind_mat(m, &a->query, "attention.query.weight", A, Hd, err));
        TRY(bind_mat(m, &a->key_w, "attention.key.weight", A, D, err));
        TRY(bind(m, &a->key_b, "attention.key.bias", A, -1, err));
        TRY(bind(m, &a->v, "attention.v.weight", 1, A, err));
        break;
    case SCORE_CONCAT:
        TRY(bind_mat(m, &a->concat_w, "attention.linear.weight", A, Hd + D, err));
        TRY(bind(m, &a->v, "attention.v.weight", 1, A, err));
        break;
    default:
        break;
    }
    for (int l = 0; l < m->Ld; l++) {
        snprintf(prefix, sizeof prefix, "dec_cells.%d", l);
        TRY(bind_lstm(m, &m->dec[l], prefix, "", model_dec_in(m, l), Hd, err));
    }
    if (m->gate) {
        TRY(bind(m, &m->gate_w, "attention.gate.weight", 1, Hd, err));
        TRY(bind(m, &m->gate_b, "attention.gate.bias", 1, -1, err));
    }
    if (m->luong) {
        TRY(bind_mat(m, &m->proj_w, "proj.weight", O, C + Hd, err));
        m->proj_b = NULL;
    } else {
        TRY(bind_mat(m, &m->proj_w, "proj.weight", O, Hd + C + E, err));
        TRY(bind(m, &m->proj_b, "proj.bias", O, -1, err));
    }
    if (m->tie_embeddings)
        m->gen_w = m->tgt_embed;
    else
        TRY(bind_mat(m, &m->gen_w, "generator.weight", V, O, err));
    TRY(bind(m, &m->gen_b, "generator.bias", V, -1, err));
    if (m->bridge_linear) {
        TRY(bind_mat(m, &m->bridge_h_w, "bridge_h.weight", m->Ld * Hd, D, err));
        TRY(bind(m, &m->bridge_h_b, "bridge_h.bias", m->Ld * Hd, -1, err));
        TRY(bind_mat(m, &m->bridge_c_w, "bridge_c.weight", m->Ld * Hd, D, err));
        TRY(bind(m, &m->bridge_c_b, "bridge_c.bias", m->Ld * Hd, -1, err));
    }
    return STELE_OK;
}

/* ---- info JSON --------------------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = (b->cap + (size_t)k + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void sb_json_string(sbuf *b, const char *s)
{
    sb_put(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sb_put(b, "\\%c", c);
        else if (c < 0x20)
            sb_put(b, "\\u%04x", c);
        else
            sb_put(b, "%c", c);
    }
    sb_put(b, "\"");
}

static stele_status build_info(struct stele_model *m, stele_error *err)
{
    sbuf b = {0};
    const char *name = st_meta(m->st, "name");
    sb_put(&b, "{\"name\": ");
    sb_json_string(&b, name ? name : "");
    sb_put(&b, ", \"format_version\": %d, \"weights\": \"%s\", \"kernels\": \"%s\", "
               "\"config\": %s, \"search\": {\"len_a\": %.17g, \"len_b\": %.17g",
           m->format_version, m->int8 ? "int8" : "f32", m->kern->name, st_meta(m->st, "config"), m->len_a,
           m->len_b);
    if (isfinite(m->low_conf_logp))
        sb_put(&b, ", \"low_confidence_logp\": %.17g", m->low_conf_logp);
    if (isfinite(m->low_conf_mean_logp))
        sb_put(&b, ", \"low_confidence_mean_logp\": %.17g", m->low_conf_mean_logp);
    sb_put(&b, "}");
    if (m->sl.V)   /* the lexical shortlist: its sizes (models/FORMAT.md) */
        sb_put(&b, ", \"shortlist\": {\"candidates\": %d, \"always\": %d}",
               (int)m->sl.offsets[m->sl.V], m->sl.n_always);
    long long params = 0, bytes = 0;
    sb_put(&b, ", \"tensors\": {");
    for (size_t i = 0; i < st_count(m->st); i++) {
        const st_tensor *t = st_at(m->st, i);
        char shape[128];
        shape_text(shape, sizeof shape, t->shape, t->ndim);
        sb_put(&b, "%s", i ? ", " : "");
        sb_json_string(&b, t->name);
        sb_put(&b, ": {\"dtype\": \"%s\", \"shape\": %s, \"bytes\": %zu}",
               st_dtype_name(t->dtype), shape, t->nbytes);
        size_t len = strlen(t->name);   /* an int8 matrix's row scales are not parameters */
        if ((t->dtype == ST_F32 || t->dtype == ST_I8) &&
            !(len > 6 && strcmp(t->name + len - 6, ".scale") == 0))
            params += t->numel;
        bytes += (long long)t->nbytes;
    }
    sb_put(&b, "}, \"parameters\": %lld, \"tensor_bytes\": %lld}", params, bytes);
    if (b.oom) {
        free(b.s);
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory building the model info");
    }
    m->info_json = b.s;
    return STELE_OK;
}

/* ---- load -------------------------------------------------------------------------------- */

static stele_status parse_search(struct stele_model *m, stele_error *err)
{
    m->len_a = 2.0;   /* scripts/search.py default_params */
    m->len_b = 10.0;
    m->low_conf_logp = -INFINITY;   /* no threshold: nothing is flagged */
    m->low_conf_mean_logp = -INFINITY;
    const char *s = st_meta(m->st, "search");
    if (!s)
        return STELE_OK;
    char jerr[128];
    json_value *j = json_parse(s, strlen(s), jerr, sizeof jerr);
    if (!j || json_kind(j) != JSON_OBJECT) {
        json_free(j);
        return stele_fail(err, STELE_ERR_CONFIG, "search metadata: %s", j ? "not an object" : jerr);
    }
    double v;
    stele_status st = STELE_OK;
    const json_value *a = json_get(j, "len_a"), *b = json_get(j, "len_b");
    if (a && (json_number(a, &v) != 0 || !(v >= 0 && v <= 1e4)))
        st = stele_fail(err, STELE_ERR_CONFIG, "search metadata: len_a must be a number in 0..1e4");
    else if (a)
        m->len_a = v;
    if (st == STELE_OK && b && (json_number(b, &v) != 0 || !(v >= -1e6 && v <= 1e6)))
        st = stele_fail(err, STELE_ERR_CONFIG, "search metadata: len_b must be a number in -1e6..1e6");
    else if (b)
        m->len_b = v;
    /* Optional (models/FORMAT.md): a best hypothesis whose logp is below it is flagged
       low-confidence. logp, not score: it does not move with the caller's alpha and beta. */
    const json_value *lc = json_get(j, "low_confidence_logp");
    if (st == STELE_OK && lc && (json_number(lc, &v) != 0 || !(v >= -1e6 && v <= 0)))
        st = stele_fail(err, STELE_ERR_CONFIG,
                        "search metadata: low_confidence_logp must be a number in -1e6..0");
    else if (lc)
        m->low_conf_logp = v;
    /* The same per output piece (eos included): for models whose outputs vary in length, where
       a summed logp would flag long outputs for being long. */
    const json_value *lm = json_get(j, "low_confidence_mean_logp");
    if (st == STELE_OK && lm && (json_number(lm, &v) != 0 || !(v >= -1e6 && v <= 0)))
        st = stele_fail(err, STELE_ERR_CONFIG,
                        "search metadata: low_confidence_mean_logp must be a number in -1e6..0");
    else if (lm)
        m->low_conf_mean_logp = v;
    json_free(j);
    return st;
}

static stele_status load_spm(struct stele_model *m, const st_tensor *tok, stele_error *err)
{
    if (!tok)
        return stele_fail(err, STELE_ERR_MISSING, "tensor tokenizer.spm is missing");
    if (tok->dtype != ST_U8)
        return stele_fail(err, STELE_ERR_DTYPE, "tensor tokenizer.spm has dtype %s, expected U8",
                    st_dtype_name(tok->dtype));
    TRY(spm_load(tok->data, tok->nbytes, &m->spm, err));
    if (spm_vocab_size(m->spm) != m->V)
        return stele_fail(err, STELE_ERR_CONFIG, "config: src_vocab %d but the tokenizer has %d pieces",
                    m->V, spm_vocab_size(m->spm));
    if (spm_unk_id(m->spm) != m->unk_id || spm_eos_id(m->spm) != m->eos_id)
        return stele_fail(err, STELE_ERR_CONFIG, "config: unk_id %d / eos_id %d disagree with the "
                    "tokenizer's %d / %d", m->unk_id, m->eos_id, spm_unk_id(m->spm),
                    spm_eos_id(m->spm));
    return STELE_OK;
}

/* tokenizer.truecase (optional, text models): how ALL CAPS input is respelled (casing.h). */
static stele_status load_truecase(struct stele_model *m, stele_error *err)
{
    const st_tensor *t = st_find(m->st, "tokenizer.truecase");
    if (!t)
        return STELE_OK;
    if (t->dtype != ST_U8)
        return stele_fail(err, STELE_ERR_DTYPE, "tensor tokenizer.truecase has dtype %s, expected "
                          "U8", st_dtype_name(t->dtype));
    TRY(casing_table_load(t->data, t->nbytes, &m->truecase, err));
    m->bound[t - st_at(m->st, 0)] = 1;
    return STELE_OK;
}

/* One I32 tensor of the shortlist, 1-D (want >= 0: of that length), used in place when 4-byte
 * aligned, else copied. *out NULL when absent. */
static stele_status bind_i32(struct stele_model *m, const int32_t **out, size_t *n,
                             const char *name, int64_t want, stele_error *err)
{
    const st_tensor *t = st_find(m->st, name);
    *out = NULL;
    if (!t)
        return STELE_OK;
    m->bound[t - st_at(m->st, 0)] = 1;
    if (t->dtype != ST_I32)
        return stele_fail(err, STELE_ERR_DTYPE, "tensor %s has dtype %s, expected I32", name,
                          st_dtype_name(t->dtype));
    if (t->ndim != 1 || (want >= 0 && t->shape[0] != want) || t->shape[0] > INT32_MAX) {
        char got[96];
        shape_text(got, sizeof got, t->shape, t->ndim);
        return stele_fail(err, STELE_ERR_SHAPE, "tensor %s has shape %s, expected [%lld]", name,
                          got, want >= 0 ? (long long)want : (long long)t->shape[0]);
    }
    *n = (size_t)t->numel;
    if (((uintptr_t)t->data & 3u) == 0) {
        *out = (const int32_t *)(const void *)t->data;
        return STELE_OK;
    }
    float *copy = model_alloc(m, *n);   /* 4-byte elements: the same bytes */
    if (!copy)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory copying tensor %s", name);
    memcpy(copy, t->data, t->nbytes);
    *out = (const int32_t *)(const void *)copy;
    return STELE_OK;
}

/* The lexical shortlist (optional, translation models): all three tensors or none, checked
 * (shortlist.h) so that the decoder can index with them blindly. */
static stele_status load_shortlist(struct stele_model *m, stele_error *err)
{
    shortlist *sl = &m->sl;
    size_t n_off = 0, n_ids = 0, n_always = 0;
    TRY(bind_i32(m, &sl->offsets, &n_off, "shortlist.offsets", (int64_t)m->V + 1, err));
    TRY(bind_i32(m, &sl->ids, &n_ids, "shortlist.ids", -1, err));
    TRY(bind_i32(m, &sl->always, &n_always, "shortlist.always", -1, err));
    const int have = !!sl->offsets + !!sl->ids + !!sl->always;
    if (have == 0)
        return STELE_OK;
    if (have != 3)
        return stele_fail(err, STELE_ERR_MISSING, "tensor shortlist.%s is missing (a shortlist "
                          "has shortlist.offsets, shortlist.ids and shortlist.always)",
                          !sl->offsets ? "offsets" : !sl->ids ? "ids" : "always");
    if (n_always > (size_t)m->V)
        return stele_fail(err, STELE_ERR_SHAPE, "tensor shortlist.always has %zu elements, more "
                          "than the vocabulary (%d)", n_always, m->V);
    sl->n_always = (int)n_always;
    sl->V = m->V;
    stele_status st = shortlist_check(sl, n_ids, m->eos_id, err);
    if (st != STELE_OK)
        sl->V = 0;
    return st;
}

/* tokenizer.words (caption models): one word per id, and the special ids' words as the config
 * says (models/FORMAT.md: 0..3 = <pad>, <unk>, <s>, </s> by convention; the config's ids rule). */
static stele_status load_words(struct stele_model *m, const st_tensor **tok, stele_error *err)
{
    const st_tensor *t = *tok = st_find(m->st, "tokenizer.words");
    if (!t)
        return stele_fail(err, STELE_ERR_MISSING, "tensor tokenizer.words is missing (an image "
                          "model's vocabulary)");
    if (t->dtype != ST_U8)
        return stele_fail(err, STELE_ERR_DTYPE, "tensor tokenizer.words has dtype %s, expected U8",
                          st_dtype_name(t->dtype));
    TRY(words_load(t->data, t->nbytes, &m->words, err));
    if (words_count(m->words) != m->V)
        return stele_fail(err, STELE_ERR_CONFIG, "config: %s %d but tokenizer.words has %d "
                          "words", m->task == TASK_VQA ? "src_vocab" : "tgt_vocab", m->V,
                          words_count(m->words));
    const struct {
        int id;
        const char *key, *word;
    } special[] = {{m->pad_id, "pad_id", "<pad>"}, {m->unk_id, "unk_id", "<unk>"},
                   {m->bos_id, "bos_id", "<s>"}, {m->eos_id, "eos_id", "</s>"}};
    /* a question has no <s> or </s>: a vqa config names only pad_id and unk_id */
    const int n_special = m->task == TASK_VQA ? 2 : 4;
    for (int i = 0; i < n_special; i++)
        if (strcmp(words_word(m->words, special[i].id), special[i].word) != 0)
            return stele_fail(err, STELE_ERR_CONFIG, "config: %s %d is the word \"%.40s\" in "
                              "tokenizer.words, expected \"%s\"", special[i].key, special[i].id,
                              words_word(m->words, special[i].id), special[i].word);
    return STELE_OK;
}

static stele_status load_into(struct stele_model *m, const uint8_t *bytes, size_t size,
                              stele_error *err)
{
    TRY(st_open(bytes, size, &m->st, err));
    const char *format = st_meta(m->st, "format"), *version = st_meta(m->st, "format_version");
    if (!format || strcmp(format, "stele") != 0)
        return stele_fail(err, STELE_ERR_VERSION, "not a stele model: metadata format is %s%.40s%s",
                    format ? "\"" : "", format ? format : "absent", format ? "\"" : "");
    if (!version || (strcmp(version, "1") != 0 && strcmp(version, "2") != 0))
        return stele_fail(err, STELE_ERR_VERSION, "unsupported format_version %s%.40s%s (this build "
                    "reads 1 and 2)", version ? "\"" : "", version ? version : "absent",
                    version ? "\"" : "");
    m->format_version = version[0] - '0';
    const char *cfg_text = st_meta(m->st, "config");
    if (!cfg_text)
        return stele_fail(err, STELE_ERR_MISSING, "metadata key config is missing");
    char jerr[128];
    json_value *cfg = json_parse(cfg_text, strlen(cfg_text), jerr, sizeof jerr);
    if (!cfg)
        return stele_fail(err, STELE_ERR_CONFIG, "config metadata is not valid JSON: %s", jerr);
    stele_status st = parse_config(m, cfg, err);
    json_free(cfg);
    TRY(st);
    TRY(parse_search(m, err));
    const st_tensor *tok = m->cnn ? NULL : st_find(m->st, "tokenizer.spm");
    if (m->cnn)
        TRY(load_words(m, &tok, err));
    else
        TRY(load_spm(m, tok, err));
    m->bound = calloc(st_count(m->st) ? st_count(m->st) : 1, 1);
    if (!m->bound)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for %zu tensor flags",
                          st_count(m->st));
    m->bound[tok - st_at(m->st, 0)] = 1;
    if (!m->cnn)
        TRY(load_truecase(m, err));
    if (m->task == TASK_TRANSLATE)
        TRY(load_shortlist(m, err));
    TRY(bind_all(m, err));
    /* A tensor this config does not read is refused rather than ignored: it is a misspelt
     * name, or a tensor of another architecture (the config and the weights disagree). */
    for (size_t i = 0; i < st_count(m->st); i++)
        if (!m->bound[i])
            return stele_fail(err, STELE_ERR_CONFIG, "tensor %.120s is not used by this config "
                              "(an unknown name, or a tensor of another architecture)",
                              st_at(m->st, i)->name);
    free(m->bound);
    m->bound = NULL;
    return build_info(m, err);
}

stele_status stele_model_load(const void *bytes, size_t size, stele_model **out, stele_error *err)
{
    if (err) {
        err->status = STELE_OK;
        err->message[0] = 0;
    }
    if (!out || (!bytes && size))
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_model_load: NULL %s", out ? "bytes" : "out");
    *out = NULL;
    if (size > STELE_MAX_MODEL_BYTES)
        return stele_fail(err, STELE_ERR_LIMIT, "model is %zu bytes, over the %zu-byte limit "
                          "(STELE_MAX_MODEL_BYTES)", size, STELE_MAX_MODEL_BYTES);
    const kernels *kern;
    stele_status st = kernels_select(&kern, err);
    if (st != STELE_OK)
        return st;
    struct stele_model *m = calloc(1, sizeof *m);
    if (!m)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory allocating the model");
    m->kern = kern;
    st = load_into(m, bytes, size, err);
    if (st != STELE_OK) {
        stele_model_free(m);
        return st;
    }
    *out = m;
    return STELE_OK;
}

/* Reads exactly n bytes; 0 when the file ended or failed first. */
static int read_exact(FILE *f, uint8_t *dst, size_t n)
{
    return fread(dst, 1, n, f) == n;
}

#ifndef _WIN32
/* STELE_ERR_IO naming what a non-regular file is: a folder, a device (/dev/zero never ends), a
 * FIFO or socket (blocks, never ends). */
static stele_status not_regular(const struct stat *sb, const char *path, stele_error *err)
{
    return stele_fail(err, STELE_ERR_IO, "%.200s is %s, not a regular file", path,
                      S_ISDIR(sb->st_mode) ? "a folder" : S_ISCHR(sb->st_mode) ||
                      S_ISBLK(sb->st_mode) ? "a device" : S_ISFIFO(sb->st_mode) ? "a FIFO" :
                      "not a file");
}
#endif

/* The size of the regular file f (path for messages), or STELE_ERR_IO (not_regular). */
static stele_status regular_size(FILE *f, const char *path, size_t *size, stele_error *err)
{
#ifndef _WIN32
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0)
        return stele_fail(err, STELE_ERR_IO, "cannot stat %.200s", path);
    if (!S_ISREG(sb.st_mode))
        return not_regular(&sb, path, err);
    if ((unsigned long long)sb.st_size > (unsigned long long)STELE_MAX_MODEL_BYTES)
        return stele_fail(err, STELE_ERR_LIMIT, "%.200s is %lld bytes, over the %zu-byte model "
                          "size limit (STELE_MAX_MODEL_BYTES)", path, (long long)sb.st_size,
                          STELE_MAX_MODEL_BYTES);
    *size = (size_t)sb.st_size;
#else
    long n;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        return stele_fail(err, STELE_ERR_IO, "%.200s is not a regular file", path);
    if ((unsigned long)n > STELE_MAX_MODEL_BYTES)
        return stele_fail(err, STELE_ERR_LIMIT, "%.200s is %ld bytes, over the %zu-byte model "
                          "size limit (STELE_MAX_MODEL_BYTES)", path, n, STELE_MAX_MODEL_BYTES);
    *size = (size_t)n;
#endif
    return STELE_OK;
}

/* Reads the file in two steps: the 8-byte length and the header, which are checked (length,
 * JSON, structure: st_open on the header alone) before a single data byte is read, then the
 * data. Memory is bounded by STELE_MAX_MODEL_BYTES and by the file's size, known in advance. */
static stele_status read_model_file(FILE *f, const char *path, uint8_t **out, size_t *out_size,
                                    stele_error *err)
{
    size_t size = 0;
    TRY(regular_size(f, path, &size, err));
    uint8_t len8[8];
    if (size < 8 || !read_exact(f, len8, 8))
        return stele_fail(err, STELE_ERR_HEADER, "file %.200s is %zu bytes, too short for the "
                          "8-byte header length", path, size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | len8[i];
    if (n > ST_MAX_HEADER_BYTES || n > size - 8)
        return stele_fail(err, STELE_ERR_HEADER, n > ST_MAX_HEADER_BYTES ? "header length %llu "
                          "(bytes 0..8) is over the %u-byte header limit" : "header length %llu "
                          "(bytes 0..8) runs past the end of the %u-byte file",
                          (unsigned long long)n, n > ST_MAX_HEADER_BYTES ? ST_MAX_HEADER_BYTES :
                          (unsigned)size);
    /* The header alone first, in its own buffer: the file-sized one is allocated only for a
     * header that passed (a big allocation is not free everywhere: ASan shadows it). */
    uint8_t *hdr = malloc(8 + (size_t)n);
    if (!hdr)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for the %llu-byte header of "
                          "%.200s", (unsigned long long)n, path);
    memcpy(hdr, len8, 8);
    if (!read_exact(f, hdr + 8, (size_t)n)) {
        free(hdr);
        return stele_fail(err, STELE_ERR_IO, "error reading the header of %.200s (the file "
                          "shrank?)", path);
    }
    /* With an empty data section, every error but a byte range (the data is not read yet) is
     * the error the whole file would give. */
    st_file *h = NULL;
    stele_error herr;
    stele_status hs = st_open(hdr, 8 + (size_t)n, &h, &herr);
    st_close(h);
    if (hs != STELE_OK && hs != STELE_ERR_RANGE) {
        free(hdr);
        if (err)
            *err = herr;
        return hs;
    }
    uint8_t *buf = malloc(size);
    if (!buf) {
        free(hdr);
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for the %zu bytes of %.200s",
                          size, path);
    }
    memcpy(buf, hdr, 8 + (size_t)n);
    free(hdr);
    if (!read_exact(f, buf + 8 + n, size - 8 - (size_t)n) || fgetc(f) != EOF || ferror(f)) {
        free(buf);
        return stele_fail(err, STELE_ERR_IO, "error reading %.200s (or it changed size while "
                          "being read)", path);
    }
    *out = buf;
    *out_size = size;
    return STELE_OK;
}

stele_status stele_model_load_file(const char *path, stele_model **out, stele_error *err)
{
    if (!path || !out)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_model_load_file: NULL %s",
                    path ? "out" : "path");
    *out = NULL;
#ifndef _WIN32
    /* Before fopen: opening a FIFO blocks until a writer appears. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return not_regular(&sb, path, err);
#endif
    FILE *f = fopen(path, "rb");
    if (!f)
        return stele_fail(err, STELE_ERR_IO, "cannot open %.200s", path);
    uint8_t *buf = NULL;
    size_t n = 0;
    stele_status st = read_model_file(f, path, &buf, &n, err);
    fclose(f);
    if (st != STELE_OK)
        return st;
    st = stele_model_load(buf, n, out, err);
    if (st != STELE_OK) {
        free(buf);
        return st;
    }
    (*out)->owned_bytes = buf;
    return STELE_OK;
}

void stele_model_free(stele_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_allocs; i++)
        free(m->allocs[i]);
    free(m->allocs);
    free(m->info_json);
    free(m->bound);
    spm_free(m->spm);
    casing_table_free(&m->truecase);
    words_free(m->words);
    free(m->vqa.answer_text);
    free(m->vqa.answer);
    st_close(m->st);
    free(m->owned_bytes);
    free(m);
}

const char *stele_model_info_json(const stele_model *m) { return m ? m->info_json : NULL; }

const char *stele_model_piece(const stele_model *m, int id)
{
    return !m ? NULL : m->words ? words_word(m->words, id) : spm_piece(m->spm, id);
}

const char *stele_model_task(const stele_model *m)
{
    static const char *const names[] = {"translate", "caption", "vqa"};
    return m ? names[m->task] : NULL;
}

int stele_model_answer_count(const stele_model *m)
{
    return m && m->task == TASK_VQA ? m->vqa.Na : 0;
}

const char *stele_model_answer(const stele_model *m, int i)
{
    return m && m->task == TASK_VQA && i >= 0 && i < m->vqa.Na ? m->vqa.answer[i] : NULL;
}

int stele_model_vocab_size(const stele_model *m) { return m ? m->V : 0; }

int stele_low_confidence(const stele_model *m, const stele_result *r)
{
    /* An empty input has no hypothesis tokens and logp 0: never flagged. */
    if (!m || !r || r->n_hyps < 1)
        return 0;
    return r->hyps[0].logp < m->low_conf_logp ||
           (r->hyps[0].n_tokens > 0 && r->hyps[0].mean_logp < m->low_conf_mean_logp);
}
