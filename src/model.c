/* Model loading: metadata checks, config parsing and validation, tensor binding by name with the
 * shapes the config implies (models/FORMAT.md), the tokenizer, and the info JSON. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "json.h"
#include "kernels.h"
#include "model.h"

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

static stele_status get_bool(const json_value *obj, const char *key, int *out, stele_error *err)
{
    const json_value *v = json_get(obj, key);
    if (!v || (json_kind(v) != JSON_TRUE && json_kind(v) != JSON_FALSE))
        return stele_fail(err, STELE_ERR_CONFIG, "config: %s must be true or false", key);
    *out = json_kind(v) == JSON_TRUE;
    return STELE_OK;
}

#define TRY(x)                                                                                    \
    do {                                                                                          \
        stele_status st_ = (x);                                                                   \
        if (st_ != STELE_OK)                                                                      \
            return st_;                                                                           \
    } while (0)

static stele_status parse_config(struct stele_model *m, const json_value *cfg, stele_error *err)
{
    static const char *const enc_types[] = {"lstm", "bilstm"};
    static const char *const scores[] = {"none", "dot", "general", "additive", "concat"};
    static const char *const styles[] = {"bahdanau", "luong"};
    static const char *const placements[] = {"top", "gnmt"};
    static const char *const bridges[] = {"zero", "linear"};
    if (json_kind(cfg) != JSON_OBJECT)
        return stele_fail(err, STELE_ERR_CONFIG, "config is not a JSON object");
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
    TRY(get_enum(enc, "encoder", "type", enc_types, 2, &type, err));
    TRY(get_int(enc, "encoder", "layers", 1, STELE_MAX_LAYERS, &m->Le, err));
    TRY(get_int(enc, "encoder", "hidden", 1, MAX_DIM, &m->H, err));
    TRY(get_int(enc, "encoder", "residual_from", 0, STELE_MAX_LAYERS, &m->enc_residual_from, err));
    TRY(get_enum(att, "attention", "score", scores, 5, &score, err));
    TRY(get_int(att, "attention", "dim", 1, MAX_DIM, &m->A, err));
    TRY(get_enum(dec, "decoder", "style", styles, 2, &style, err));
    TRY(get_int(dec, "decoder", "layers", 1, STELE_MAX_LAYERS, &m->Ld, err));
    TRY(get_int(dec, "decoder", "hidden", 1, MAX_DIM, &m->Hd, err));
    TRY(get_int(dec, "decoder", "out", 1, MAX_DIM, &m->O, err));
    TRY(get_int(dec, "decoder", "residual_from", 0, STELE_MAX_LAYERS, &m->dec_residual_from, err));
    TRY(get_enum(dec, "decoder", "placement", placements, 2, &placement, err));
    TRY(get_enum(cfg, "config", "bridge", bridges, 2, &bridge, err));
    TRY(get_bool(cfg, "tie_embeddings", &m->tie_embeddings, err));
    TRY(get_int(cfg, "", "pad_id", 0, m->V - 1, &m->pad_id, err));
    TRY(get_int(cfg, "", "unk_id", 0, m->V - 1, &m->unk_id, err));
    TRY(get_int(cfg, "", "bos_id", 0, m->V - 1, &m->bos_id, err));
    TRY(get_int(cfg, "", "eos_id", 0, m->V - 1, &m->eos_id, err));
    m->bidirectional = type == 1;
    m->luong = style == 1;
    m->gnmt = placement == 1;
    m->bridge_linear = bridge == 1;
    m->D = m->H * (m->bidirectional ? 2 : 1);
    m->C = score == SCORE_NONE ? 0 : m->D;
    if (m->gnmt && m->luong)
        return stele_fail(err, STELE_ERR_CONFIG, "config: decoder.placement gnmt needs decoder.style "
                                           "bahdanau");
    if (score == SCORE_DOT && m->Hd != m->D)
        return stele_fail(err, STELE_ERR_CONFIG, "config: attention.score dot needs decoder.hidden (%d) "
                                           "== encoder output size (%d)", m->Hd, m->D);
    if (m->tie_embeddings && m->O != m->E)
        return stele_fail(err, STELE_ERR_CONFIG, "config: tie_embeddings needs decoder.out (%d) == emb "
                                           "(%d)", m->O, m->E);
    /* keep every product of two sizes and the gate width well inside int */
    if ((long long)m->V * m->E > (1LL << 30) || (long long)m->Hd * 4 * (m->Hd + m->D + m->E + m->O)
        > (1LL << 30) || (long long)m->Ld * m->Hd * m->D > (1LL << 30) || 4LL * m->H * m->D
        > (1LL << 30) || (long long)m->A * (m->Hd + m->D) > (1LL << 30) ||
        (long long)m->V * m->O > (1LL << 30))
        return stele_fail(err, STELE_ERR_CONFIG, "config: sizes too large");
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

/* Binds tensor `name` of shape [d0] (d1 < 0) or [d0, d1] as F32; used in place when 4-byte
 * aligned, else copied into an aligned buffer the model owns. */
static stele_status bind(struct stele_model *m, const float **out, const char *name, int d0,
                         int d1, stele_error *err)
{
    const st_tensor *t = st_find(m->st, name);
    if (!t)
        return stele_fail(err, STELE_ERR_MISSING, "tensor %s is missing", name);
    if (t->dtype != ST_F32)
        return stele_fail(err, STELE_ERR_DTYPE, "tensor %s has dtype %s, expected F32", name,
                    st_dtype_name(t->dtype));
    int64_t want[2] = {d0, d1};
    int nd = d1 < 0 ? 1 : 2;
    if (t->ndim != nd || t->shape[0] != want[0] || (nd == 2 && t->shape[1] != want[1])) {
        char got[96], exp[64];
        shape_text(got, sizeof got, t->shape, t->ndim);
        shape_text(exp, sizeof exp, want, nd);
        return stele_fail(err, STELE_ERR_SHAPE, "tensor %s has shape %s, the config implies %s", name,
                    got, exp);
    }
    if (((uintptr_t)t->data & 3u) == 0) {
        *out = (const float *)(const void *)t->data;
        return STELE_OK;
    }
    float *copy = model_alloc(m, (size_t)t->numel);
    if (!copy)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory copying tensor %s", name);
    memcpy(copy, t->data, t->nbytes);
    *out = copy;
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
    TRY(bind(m, &w->w_ih, name, 4 * H, in, err));
    snprintf(name, sizeof name, "%s.weight_hh%s", prefix, suffix);
    TRY(bind(m, &w->w_hh, name, 4 * H, H, err));
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
    return STELE_OK;
}

static stele_status bind_all(struct stele_model *m, stele_error *err)
{
    char prefix[64];
    const int V = m->V, E = m->E, D = m->D, H = m->H, Hd = m->Hd, O = m->O, C = m->C, A = m->A;
    TRY(bind(m, &m->src_embed, "src_embed.weight", V, E, err));
    TRY(bind(m, &m->tgt_embed, "tgt_embed.weight", V, E, err));
    for (int l = 0; l < m->Le; l++) {
        snprintf(prefix, sizeof prefix, "enc_layers.%d", l);
        TRY(bind_lstm(m, &m->enc[l][0], prefix, "_l0", l ? D : E, H, err));
        if (m->bidirectional)
            TRY(bind_lstm(m, &m->enc[l][1], prefix, "_l0_reverse", l ? D : E, H, err));
    }
    attn_weights *a = &m->attn;
    switch (a->score) {
    case SCORE_GENERAL:
        TRY(bind(m, &a->linear_in, "attention.linear_in.weight", Hd, D, err));
        break;
    case SCORE_ADDITIVE:
        TRY(bind(m, &a->query, "attention.query.weight", A, Hd, err));
        TRY(bind(m, &a->key_w, "attention.key.weight", A, D, err));
        TRY(bind(m, &a->key_b, "attention.key.bias", A, -1, err));
        TRY(bind(m, &a->v, "attention.v.weight", 1, A, err));
        break;
    case SCORE_CONCAT:
        TRY(bind(m, &a->concat_w, "attention.linear.weight", A, Hd + D, err));
        TRY(bind(m, &a->v, "attention.v.weight", 1, A, err));
        break;
    default:
        break;
    }
    for (int l = 0; l < m->Ld; l++) {
        snprintf(prefix, sizeof prefix, "dec_cells.%d", l);
        TRY(bind_lstm(m, &m->dec[l], prefix, "", model_dec_in(m, l), Hd, err));
    }
    if (m->luong) {
        TRY(bind(m, &m->proj_w, "proj.weight", O, C + Hd, err));
        m->proj_b = NULL;
    } else {
        TRY(bind(m, &m->proj_w, "proj.weight", O, Hd + C + E, err));
        TRY(bind(m, &m->proj_b, "proj.bias", O, -1, err));
    }
    if (m->tie_embeddings)
        m->gen_w = m->tgt_embed;
    else
        TRY(bind(m, &m->gen_w, "generator.weight", V, O, err));
    TRY(bind(m, &m->gen_b, "generator.bias", V, -1, err));
    if (m->bridge_linear) {
        TRY(bind(m, &m->bridge_h_w, "bridge_h.weight", m->Ld * Hd, D, err));
        TRY(bind(m, &m->bridge_h_b, "bridge_h.bias", m->Ld * Hd, -1, err));
        TRY(bind(m, &m->bridge_c_w, "bridge_c.weight", m->Ld * Hd, D, err));
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
    sb_put(&b, ", \"format_version\": %d, \"kernels\": \"%s\", \"config\": %s, "
               "\"search\": {\"len_a\": %.17g, \"len_b\": %.17g}",
           STELE_FORMAT_VERSION, STELE_KERNELS_NAME, st_meta(m->st, "config"), m->len_a,
           m->len_b);
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
        if (t->dtype == ST_F32)
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
    json_free(j);
    return st;
}

static stele_status load_into(struct stele_model *m, const uint8_t *bytes, size_t size,
                              stele_error *err)
{
    TRY(st_open(bytes, size, &m->st, err));
    const char *format = st_meta(m->st, "format"), *version = st_meta(m->st, "format_version");
    if (!format || strcmp(format, "stele") != 0)
        return stele_fail(err, STELE_ERR_VERSION, "not a stele model: metadata format is %s%.40s%s",
                    format ? "\"" : "", format ? format : "absent", format ? "\"" : "");
    if (!version || strcmp(version, "1") != 0)
        return stele_fail(err, STELE_ERR_VERSION, "unsupported format_version %s%.40s%s (this build "
                    "reads 1)", version ? "\"" : "", version ? version : "absent",
                    version ? "\"" : "");
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
    const st_tensor *tok = st_find(m->st, "tokenizer.spm");
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
    TRY(bind_all(m, err));
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
    struct stele_model *m = calloc(1, sizeof *m);
    if (!m)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory allocating the model");
    stele_status st = load_into(m, bytes, size, err);
    if (st != STELE_OK) {
        stele_model_free(m);
        return st;
    }
    *out = m;
    return STELE_OK;
}

stele_status stele_model_load_file(const char *path, stele_model **out, stele_error *err)
{
    if (!path || !out)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_model_load_file: NULL %s",
                    path ? "out" : "path");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return stele_fail(err, STELE_ERR_IO, "cannot open %.200s", path);
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1 << 20;
            uint8_t *b = realloc(buf, nc);
            if (!b) {
                free(buf);
                fclose(f);
                return stele_fail(err, STELE_ERR_MEMORY, "out of memory reading %.200s", path);
            }
            buf = b;
            cap = nc;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return stele_fail(err, STELE_ERR_IO, "error reading %.200s", path);
    }
    stele_status st = stele_model_load(buf, n, out, err);
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
    spm_free(m->spm);
    st_close(m->st);
    free(m->owned_bytes);
    free(m);
}

const char *stele_model_info_json(const stele_model *m) { return m ? m->info_json : NULL; }

const char *stele_model_piece(const stele_model *m, int id)
{
    return m ? spm_piece(m->spm, id) : NULL;
}

int stele_model_vocab_size(const stele_model *m) { return m ? m->V : 0; }
