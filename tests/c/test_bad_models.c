/* Bad-model test: malformed model files derived from a valid golden model, each of which must be
 * rejected by stele_model_load() with a SPECIFIC status (stele.h's meanings) and a message.
 * Run it under ASan+UBSan: no case may crash, leak or touch memory it should not.
 *
 *   test_bad_models tests/golden/tiny/bilstm-general-luong.safetensors [--out DIR]
 *
 * With --out, every malformed file is also written to DIR/<nn>-<case>.safetensors (fuzz seeds,
 * manual inspection). Cases: truncations at many offsets, header length fields, JSON syntax,
 * header structure, dtypes, shapes, byte ranges, missing tensors and metadata, format/version,
 * config values (absurd sizes, unknown types, constraint violations, disagreement with the
 * tensors and the tokenizer), corrupt embedded tokenizer bytes. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>

#include "../../src/json.h"
#include "../../src/safetensors.h"
#include "../../src/stele.h"
#include "testutil.h"

/* ------------------------------------------------------------------ string builder */

typedef struct {
    char *b;
    size_t n, cap;
} sb;

static void sb_put(sb *s, const char *p, size_t n) {
    if (s->n + n + 1 > s->cap) {
        s->cap = (s->n + n + 1) * 2;
        s->b = realloc(s->b, s->cap);
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
    s->b[s->n] = '\0';
}
static void sb_puts(sb *s, const char *p) { sb_put(s, p, strlen(p)); }
static void sb_printf(sb *s, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(s, tmp, (size_t)k);
}
static void sb_str(sb *s, const char *p) {
    sb_puts(s, "\"");
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') sb_printf(s, "\\%c", c);
        else if (c < 0x20) sb_printf(s, "\\u%04x", c);
        else sb_put(s, (const char *)&c, 1);
    }
    sb_puts(s, "\"");
}

/* ------------------------------------------------------------------ header rewriting */

/* An edit of the header tree: the value at path ("tensor/field", "__metadata__/config/encoder/
 * hidden"; a metadata string holding JSON is edited inside) becomes raw JSON text, or is deleted
 * (raw NULL); a path that does not exist is added to its parent object. */
typedef struct {
    const char *path;
    const char *raw;
} edit;

static int is_prefix_dir(const char *dir, const char *path) {
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static void ser(sb *s, const json_value *v, const char *path, const edit *ed, int ne);

static void child_path(char *out, size_t n, const char *path, const char *key) {
    snprintf(out, n, "%s%s%s", path, *path ? "/" : "", key);
}

static void ser_object(sb *s, const json_value *v, const char *path, const edit *ed, int ne) {
    int first = 1;
    sb_puts(s, "{");
    for (size_t i = 0; i < json_count(v); i++) {
        char cp[512];
        child_path(cp, sizeof cp, path, json_key_at(v, i));
        const edit *hit = NULL;
        for (int k = 0; k < ne; k++)
            if (strcmp(ed[k].path, cp) == 0) hit = &ed[k];
        if (hit && !hit->raw) continue;
        if (!first) sb_puts(s, ",");
        first = 0;
        sb_str(s, json_key_at(v, i));
        sb_puts(s, ":");
        if (hit) sb_puts(s, hit->raw);
        else ser(s, json_at(v, i), cp, ed, ne);
    }
    for (int k = 0; k < ne; k++) {   /* additions */
        const char *slash = strrchr(ed[k].path, '/');
        size_t plen = slash ? (size_t)(slash - ed[k].path) : 0;
        const char *key = slash ? slash + 1 : ed[k].path;
        if (!ed[k].raw || strlen(path) != plen || strncmp(ed[k].path, path, plen)) continue;
        if (json_get(v, key)) continue;
        if (!first) sb_puts(s, ",");
        first = 0;
        sb_str(s, key);
        sb_puts(s, ":");
        sb_puts(s, ed[k].raw);
    }
    sb_puts(s, "}");
}

static void ser(sb *s, const json_value *v, const char *path, const edit *ed, int ne) {
    double d;
    switch (json_kind(v)) {
    case JSON_NULL: sb_puts(s, "null"); break;
    case JSON_TRUE: sb_puts(s, "true"); break;
    case JSON_FALSE: sb_puts(s, "false"); break;
    case JSON_NUMBER:
        json_number(v, &d);
        if (d == (double)(long long)d) sb_printf(s, "%lld", (long long)d);
        else sb_printf(s, "%.17g", d);
        break;
    case JSON_STRING: {
        int nested = 0;
        for (int k = 0; k < ne; k++) nested |= is_prefix_dir(path, ed[k].path);
        json_value *inner = nested ? json_parse(json_string(v), json_string_len(v), NULL, 0) : 0;
        if (inner) {   /* a metadata string holding JSON, edited inside */
            sb t = {0};
            ser(&t, inner, path, ed, ne);
            sb_str(s, t.b);
            free(t.b);
            json_free(inner);
        } else {
            sb_str(s, json_string(v));
        }
        break;
    }
    case JSON_ARRAY:
        sb_puts(s, "[");
        for (size_t i = 0; i < json_count(v); i++) {
            char cp[512];
            snprintf(cp, sizeof cp, "%s/%zu", path, i);
            if (i) sb_puts(s, ",");
            ser(s, json_at(v, i), cp, ed, ne);
        }
        sb_puts(s, "]");
        break;
    case JSON_OBJECT: ser_object(s, v, path, ed, ne); break;
    }
}

/* ------------------------------------------------------------------ the base model */

static uint8_t *base;
static size_t base_size, base_hlen;
static json_value *base_header;
static const char *outdir;
static int n_cases;
static const char *want_text;   /* when set, the message must contain it (it names the fault) */

/* A file from a header text and the base model's data section (optionally patched). */
static uint8_t *assemble(const char *header, size_t *size) {
    size_t h = strlen(header), hp = (h + 7) / 8 * 8, data = base_size - 8 - base_hlen;
    *size = 8 + hp + data;
    uint8_t *b = malloc(*size);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hp >> (8 * i));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', hp - h);
    memcpy(b + 8 + hp, base + 8 + base_hlen, data);
    return b;
}

static void run(const char *name, stele_status want, const uint8_t *b, size_t size) {
    n_cases++;
    if (outdir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%02d-%s.safetensors", outdir, n_cases, name);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(b, 1, size, f);
            fclose(f);
        }
    }
    /* A private copy of exactly `size` bytes, so ASan sees any read past the end. */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, b, size);
    stele_model *m = NULL;
    stele_error err;
    memset(&err, 0, sizeof err);
    stele_status st = stele_model_load(copy, size, &m, &err);
    CHECK(st == want && err.status == st && err.message[0] && m == NULL &&
          (!want_text || strstr(err.message, want_text)),
          "case %d %s: got %s \"%s\", want %s%s%s", n_cases, name, t_status_name(st),
          err.message, t_status_name(want), want_text ? " naming " : "",
          want_text ? want_text : "");
    want_text = NULL;
    printf("%3d %-34s %-19s %s\n", n_cases, name, t_status_name(st), err.message);
    stele_model_free(m);
    free(copy);
}

/* Rewrites the header with edits and runs it. */
static void run_edits(const char *name, stele_status want, const edit *ed, int ne) {
    sb s = {0};
    ser(&s, base_header, "", ed, ne);
    size_t size;
    uint8_t *b = assemble(s.b, &size);
    run(name, want, b, size);
    free(b);
    free(s.b);
}
#define EDIT(name, want, ...)                                                   \
    do {                                                                        \
        const edit e_[] = {__VA_ARGS__};                                        \
        run_edits(name, want, e_, (int)(sizeof e_ / sizeof e_[0]));             \
    } while (0)

/* Runs the header text as given (with the base data). */
static void run_header(const char *name, stele_status want, const char *header) {
    size_t size;
    uint8_t *b = assemble(header, &size);
    run(name, want, b, size);
    free(b);
}

/* The base file with bytes [at, at+n) replaced. */
static void run_patched(const char *name, stele_status want, size_t at, const void *p, size_t n) {
    uint8_t *b = malloc(base_size);
    memcpy(b, base, base_size);
    memcpy(b + at, p, n);
    run(name, want, b, base_size);
    free(b);
}

static void set_len(uint8_t *b, uint64_t n) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(n >> (8 * i));
}

/* Offsets of a tensor in the base file's data section. */
static void offsets(const char *name, size_t *b, size_t *e) {
    const json_value *o = json_get(json_get(base_header, name), "data_offsets");
    double x = 0, y = 0;
    json_number(json_at(o, 0), &x);
    json_number(json_at(o, 1), &y);
    *b = (size_t)x;
    *e = (size_t)y;
}

/* ------------------------------------------------------------------ cases */

static void container_cases(void) {
    size_t h = base_hlen, data = base_size - 8 - h;
    /* Truncations. */
    const struct { size_t cut; stele_status want; } cuts[] = {
        {0, STELE_ERR_HEADER}, {3, STELE_ERR_HEADER}, {7, STELE_ERR_HEADER},
        {8, STELE_ERR_HEADER}, {9, STELE_ERR_HEADER}, {8 + h / 3, STELE_ERR_HEADER},
        {8 + h - 1, STELE_ERR_HEADER}, {8 + h, STELE_ERR_RANGE},
        {8 + h + 1, STELE_ERR_RANGE}, {8 + h + data / 2, STELE_ERR_RANGE},
        {base_size - 1, STELE_ERR_RANGE},
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "truncated-at-%zu", cuts[i].cut);
        run(name, cuts[i].want, base, cuts[i].cut);
    }
    /* Header length field. */
    uint8_t *b = malloc(base_size);
    const struct { const char *name; uint64_t len; } lens[] = {
        {"header-length-zero", 0}, {"header-length-one", 1},
        {"header-length-beyond-file", (uint64_t)base_size},
        {"header-length-2^64-1", UINT64_MAX}, {"header-length-2^63", 1ull << 63},
        {"header-length-cuts-json", (uint64_t)h - 9},
    };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memcpy(b, base, base_size);
        set_len(b, lens[i].len);
        run(lens[i].name, STELE_ERR_HEADER, b, base_size);
    }
    /* Length into the data: the first data bytes become header bytes (binary: not JSON). */
    memcpy(b, base, base_size);
    set_len(b, h + 8);
    run("header-length-into-data", STELE_ERR_HEADER, b, base_size);
    free(b);

    run_patched("json-syntax", STELE_ERR_HEADER, 8, "[", 1);
    run_patched("invalid-utf8-in-header", STELE_ERR_HEADER, 10, "\xFF", 1);
    run_header("header-is-array", STELE_ERR_HEADER, "[1,2,3]");
    run_header("header-is-number", STELE_ERR_HEADER, "42");
    run_header("duplicate-key", STELE_ERR_HEADER,
               "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
               "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}");
    run_header("deep-nesting", STELE_ERR_HEADER,
               "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
               "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}");
}

static void tensor_cases(void) {
    size_t sb0, se0, tb, te, gb, ge;
    offsets("src_embed.weight", &sb0, &se0);
    offsets("tgt_embed.weight", &tb, &te);
    offsets("generator.bias", &gb, &ge);
    const json_value *shape = json_get(json_get(base_header, "src_embed.weight"), "shape");
    double V = 0, E = 0;
    json_number(json_at(shape, 0), &V);
    json_number(json_at(shape, 1), &E);
    char r1[128], r2[128], r3[128];

    EDIT("dtype-i32-for-f32", STELE_ERR_DTYPE, {"src_embed.weight/dtype", "\"I32\""});
    EDIT("dtype-unknown", STELE_ERR_DTYPE, {"proj.weight/dtype", "\"F8_E5M2\""});
    EDIT("dtype-not-string", STELE_ERR_HEADER, {"proj.weight/dtype", "32"});
    snprintf(r1, sizeof r1, "[%d,%d]", (int)V, (int)E / 2);
    EDIT("dtype-f64-resized", STELE_ERR_DTYPE, {"src_embed.weight/dtype", "\"F64\""},
         {"src_embed.weight/shape", r1});
    EDIT("tokenizer-dtype-i8", STELE_ERR_DTYPE, {"tokenizer.spm/dtype", "\"I8\""});
    snprintf(r1, sizeof r1, "[%d,%d]", (int)V, (int)E + 1);
    EDIT("shape-vs-bytes", STELE_ERR_SHAPE, {"src_embed.weight/shape", r1});
    snprintf(r1, sizeof r1, "[%d,%d]", (int)E, (int)V);
    EDIT("shape-transposed", STELE_ERR_SHAPE, {"src_embed.weight/shape", r1});
    snprintf(r1, sizeof r1, "[%d]", (int)(V * E));
    EDIT("shape-flattened", STELE_ERR_SHAPE, {"src_embed.weight/shape", r1});
    EDIT("shape-negative", STELE_ERR_SHAPE, {"src_embed.weight/shape", "[-1,-8]"});
    EDIT("shape-overflow", STELE_ERR_SHAPE,
         {"src_embed.weight/shape", "[4294967296,4294967296,4294967296]"});
    EDIT("shape-too-many-dims", STELE_ERR_SHAPE,
         {"generator.bias/shape", "[1,1,1,1,1,1,1,1,1]"});
    EDIT("shape-fractional", STELE_ERR_SHAPE, {"generator.bias/shape", "[1.5]"});
    snprintf(r1, sizeof r1, "[%zu,%zu]", sb0, se0);
    EDIT("offsets-overlap", STELE_ERR_RANGE, {"tgt_embed.weight/data_offsets", r1});
    snprintf(r1, sizeof r1, "[%zu,%zu]", sb0 + 4, se0 + 4);
    EDIT("offsets-overlap-shifted", STELE_ERR_RANGE, {"src_embed.weight/data_offsets", r1});
    size_t data = base_size - 8 - base_hlen;
    snprintf(r1, sizeof r1, "[%zu,%zu]", data - (ge - gb) + 4, data + 4);
    EDIT("offsets-beyond-data", STELE_ERR_RANGE, {"generator.bias/data_offsets", r1});
    snprintf(r1, sizeof r1, "[%zu,%zu]", ge, gb);
    EDIT("offsets-reversed", STELE_ERR_RANGE, {"generator.bias/data_offsets", r1});
    EDIT("offsets-negative", STELE_ERR_RANGE, {"generator.bias/data_offsets", "[-4,0]"});
    EDIT("offsets-huge", STELE_ERR_RANGE,
         {"generator.bias/data_offsets", "[18446744073709551615,18446744073709551620]"});
    EDIT("offsets-one-number", STELE_ERR_HEADER, {"generator.bias/data_offsets", "[0]"});
    EDIT("entry-not-object", STELE_ERR_HEADER, {"generator.bias", "[]"});
    EDIT("entry-extra-field", STELE_ERR_HEADER, {"generator.bias/offset", "0"});
    EDIT("missing-generator-bias", STELE_ERR_MISSING, {"generator.bias", NULL});
    EDIT("missing-encoder-weight", STELE_ERR_MISSING, {"enc_layers.0.weight_hh_l0_reverse", NULL});
    EDIT("missing-tokenizer", STELE_ERR_MISSING, {"tokenizer.spm", NULL});
    snprintf(r2, sizeof r2, "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%zu,%zu]}", gb,
             gb + 8);
    EDIT("extra-tensor-overlapping", STELE_ERR_RANGE, {"zz.extra", r2});
    (void)r3;
}

/* The lexical shortlist (models/FORMAT.md "Lexical shortlist"): three I32 tensors appended to
 * the base model's data. A valid one loads; each fault is refused with the status and a message
 * naming the tensor and the element. */
#define SL_MAX 128
typedef struct {
    int32_t off[SL_MAX], ids[SL_MAX], always[SL_MAX];
    int n_off, n_ids, n_always;
    const char *ids_dtype;   /* "I32" unless set */
    const char *off_shape;   /* "[n_off]" unless set */
    int omit;                /* 1, 2, 3: leave out offsets, ids, always */
} sl_spec;

static uint8_t *sl_file(const sl_spec *sp, size_t *size) {
    size_t data = base_size - 8 - base_hlen, pad = (8 - data % 8) % 8;
    const int32_t *arr[3] = {sp->off, sp->ids, sp->always};
    const int cnt[3] = {sp->n_off, sp->n_ids, sp->n_always};
    const char *names[3] = {"shortlist.offsets", "shortlist.ids", "shortlist.always"};
    char raw[3][200], shape[64];
    edit ed[3];
    int ne = 0;
    size_t at = data + pad;
    for (int i = 0; i < 3; i++) {
        snprintf(shape, sizeof shape, "[%d]", cnt[i]);
        snprintf(raw[i], sizeof raw[i], "{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%zu,%zu]}",
                 i == 1 && sp->ids_dtype ? sp->ids_dtype : "I32",
                 i == 0 && sp->off_shape ? sp->off_shape : shape, at, at + 4 * (size_t)cnt[i]);
        at += 4 * (size_t)cnt[i];
        if (sp->omit != i + 1) ed[ne++] = (edit){names[i], raw[i]};
    }
    sb h = {0};
    ser(&h, base_header, "", ed, ne);
    size_t hl = strlen(h.b), hp = (hl + 7) / 8 * 8;
    *size = 8 + hp + at;
    uint8_t *b = calloc(*size, 1);
    set_len(b, hp);
    memcpy(b + 8, h.b, hl);
    memset(b + 8 + hl, ' ', hp - hl);
    memcpy(b + 8 + hp, base + 8 + base_hlen, data);
    size_t w = 8 + hp + data + pad;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < cnt[i]; j++, w += 4)
            for (int k = 0; k < 4; k++) b[w + k] = (uint8_t)((uint32_t)arr[i][j] >> (8 * k));
    free(h.b);
    return b;
}

static void run_sl(const char *name, stele_status want, const char *text, const sl_spec *sp) {
    size_t size;
    uint8_t *b = sl_file(sp, &size);
    want_text = text;
    run(name, want, b, size);
    free(b);
}

static void shortlist_cases(void) {
    const json_value *shape = json_get(json_get(base_header, "src_embed.weight"), "shape");
    double Vd = 0;
    json_number(json_at(shape, 0), &Vd);
    const int V = (int)Vd;
    CHECK(V >= 8 && V + 1 <= SL_MAX, "shortlist cases: V %d outside 8..%d", V, SL_MAX - 1);
    if (V < 8 || V + 1 > SL_MAX) return;
    sl_spec ok = {.n_off = V + 1, .n_ids = V, .n_always = 4};
    for (int v = 0; v <= V; v++) ok.off[v] = v;   /* piece v: the candidate v */
    for (int v = 0; v < V; v++) ok.ids[v] = v;
    for (int i = 0; i < 4; i++) ok.always[i] = i;   /* pad, unk, bos, eos of the tiny models */
    size_t size;
    uint8_t *b = sl_file(&ok, &size);
    stele_model *m = NULL;
    stele_error err;
    CHECK(stele_model_load(b, size, &m, &err) == STELE_OK, "valid shortlist refused: %s",
          err.message);
    stele_model_free(m);
    free(b);
    char msg[128];
    sl_spec c = ok;
    c.ids[2] = V;
    snprintf(msg, sizeof msg, "tensor shortlist.ids element 2 is %d, outside 0..%d", V, V - 1);
    run_sl("shortlist-id-too-big", STELE_ERR_WEIGHTS, msg, &c);
    c = ok;
    c.ids[5] = -1;
    run_sl("shortlist-id-negative", STELE_ERR_WEIGHTS, "tensor shortlist.ids element 5 is -1", &c);
    c = ok;
    c.off[4] = 2;   /* 3 -> 2 -> 5: decreasing */
    run_sl("shortlist-offsets-decrease", STELE_ERR_WEIGHTS, "tensor shortlist.offsets element 4 is 2",
           &c);
    c = ok;
    c.off[0] = 1;
    run_sl("shortlist-offsets-start", STELE_ERR_WEIGHTS, "tensor shortlist.offsets element 0 is 1",
           &c);
    c = ok;
    c.off[V] = V - 1;   /* the last id never used */
    snprintf(msg, sizeof msg, "tensor shortlist.offsets element %d is %d, expected %d", V, V - 1,
             V);
    run_sl("shortlist-offsets-end", STELE_ERR_WEIGHTS, msg, &c);
    c = ok;
    c.off[V] = V + 5;   /* past the ids */
    snprintf(msg, sizeof msg, "tensor shortlist.offsets element %d is %d", V, V + 5);
    run_sl("shortlist-offsets-past-ids", STELE_ERR_WEIGHTS, msg, &c);
    c = ok;
    /* piece 1's candidates are 1, 1 (ids 0, 1, 1, 2, 3, ...): not strictly ascending */
    c.n_ids = V + 1;
    c.ids[0] = 0;
    for (int j = 1; j <= V; j++) c.ids[j] = j - 1;
    c.ids[1] = 1;
    for (int v = 2; v <= V; v++) c.off[v] = v + 1;
    run_sl("shortlist-ids-not-ascending", STELE_ERR_WEIGHTS,
           "tensor shortlist.ids element 2 (1) is not above the one before (1)", &c);
    c = ok;
    c.always[1] = V + 3;
    snprintf(msg, sizeof msg, "tensor shortlist.always element 1 is %d", V + 3);
    run_sl("shortlist-always-too-big", STELE_ERR_WEIGHTS, msg, &c);
    c = ok;
    c.always[2] = 0;
    run_sl("shortlist-always-not-ascending", STELE_ERR_WEIGHTS,
           "tensor shortlist.always element 2 (0) is not above", &c);
    c = ok;
    c.n_always = 3;   /* 0, 1, 2: no eos (3) */
    run_sl("shortlist-always-no-eos", STELE_ERR_WEIGHTS, "shortlist.always lacks eos_id 3", &c);
    c = ok;
    c.n_off = V;
    snprintf(msg, sizeof msg, "tensor shortlist.offsets has shape [%d], expected [%d]", V, V + 1);
    run_sl("shortlist-offsets-length", STELE_ERR_SHAPE, msg, &c);
    c = ok;
    char two_d[32];
    snprintf(two_d, sizeof two_d, "[1,%d]", V + 1);
    c.off_shape = two_d;
    run_sl("shortlist-offsets-2d", STELE_ERR_SHAPE, "tensor shortlist.offsets has shape", &c);
    c = ok;
    c.ids_dtype = "F32";
    run_sl("shortlist-ids-f32", STELE_ERR_DTYPE, "tensor shortlist.ids has dtype F32, expected I32",
           &c);
    c = ok;
    c.omit = 3;
    run_sl("shortlist-no-always", STELE_ERR_MISSING, "tensor shortlist.always is missing", &c);
    c = ok;
    c.omit = 1;
    run_sl("shortlist-no-offsets", STELE_ERR_MISSING, "tensor shortlist.offsets is missing", &c);
}

/* Non-finite weights (a NaN or an infinity makes every translation garbage): refused at load,
 * naming the tensor and the element. */
static void weight_cases(void) {
    size_t b, e, b2, e2;
    const float nan_ = NAN, inf = INFINITY, ninf = -INFINITY, big = 3e38f;
    offsets("generator.bias", &b, &e);
    want_text = "tensor generator.bias element 3 is NaN";
    run_patched("weights-nan", STELE_ERR_WEIGHTS, 8 + base_hlen + b + 12, &nan_, 4);
    offsets("src_embed.weight", &b, &e);
    want_text = "tensor src_embed.weight element 0 is +Inf";
    run_patched("weights-inf", STELE_ERR_WEIGHTS, 8 + base_hlen + b, &inf, 4);
    size_t last = (e - b) / 4 - 1;
    char msg[96];
    snprintf(msg, sizeof msg, "tensor src_embed.weight element %zu is -Inf", last);
    want_text = msg;
    run_patched("weights-minus-inf-last", STELE_ERR_WEIGHTS, 8 + base_hlen + e - 4, &ninf, 4);
    /* Two finite biases whose sum (the bias stele uses) overflows. */
    offsets("enc_layers.0.bias_ih_l0", &b, &e);
    offsets("enc_layers.0.bias_hh_l0", &b2, &e2);
    uint8_t *m = malloc(base_size);
    memcpy(m, base, base_size);
    memcpy(m + 8 + base_hlen + b + 4, &big, 4);
    memcpy(m + 8 + base_hlen + b2 + 4, &big, 4);
    want_text = "enc_layers.0.bias_ih_l0 + bias_hh_l0 element 1 is +Inf";
    run("weights-bias-sum-overflows", STELE_ERR_WEIGHTS, m, base_size);
    free(m);
}

/* Limits on the header (models/FORMAT.md "Limits"), and tensors the config does not use. */
static void limit_cases(void) {
    size_t gb, ge;
    offsets("generator.bias", &gb, &ge);
    char r[160];
    snprintf(r, sizeof r, "{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[%zu,%zu]}", gb, gb);
    want_text = "tensor zz.extra is not used";
    EDIT("extra-tensor-unknown", STELE_ERR_CONFIG, {"zz.extra", r});
    /* a correctly spelt tensor of another architecture (this one has score general) */
    want_text = "tensor attention.v.weight is not used";
    EDIT("extra-tensor-other-architecture", STELE_ERR_CONFIG, {"attention.v.weight", r});
    /* 1,100 (empty) tensors: over the 1,024-tensor limit, refused before any is parsed */
    sb h = {0};
    sb_puts(&h, "{");
    for (int i = 0; i < 1100; i++)
        sb_printf(&h, "%s\"t%d\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}",
                  i ? "," : "", i);
    sb_puts(&h, "}");
    want_text = "over the limit of 1024 tensors";
    run_header("header-1100-tensors", STELE_ERR_HEADER, h.b);
    free(h.b);
    /* a header over 1 MiB (padding in a metadata string) */
    sb big = {0};
    sb_puts(&big, "{\"__metadata__\":{\"pad\":\"");
    for (int i = 0; i < (1 << 20) / 64 + 1; i++)
        sb_puts(&big, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    sb_puts(&big, "\"}}");
    want_text = "limit";
    run_header("header-over-1-MiB", STELE_ERR_HEADER, big.b);
    free(big.b);
}

static void metadata_cases(void) {
    EDIT("metadata-missing", STELE_ERR_VERSION, {"__metadata__", NULL});
    EDIT("metadata-not-object", STELE_ERR_HEADER, {"__metadata__", "\"stele\""});
    EDIT("metadata-value-number", STELE_ERR_HEADER, {"__metadata__/format_version", "1"});
    EDIT("format-missing", STELE_ERR_VERSION, {"__metadata__/format", NULL});
    EDIT("format-wrong", STELE_ERR_VERSION, {"__metadata__/format", "\"pytorch\""});
    EDIT("format-version-3", STELE_ERR_VERSION, {"__metadata__/format_version", "\"3\""});
    EDIT("format-version-missing", STELE_ERR_VERSION, {"__metadata__/format_version", NULL});
    EDIT("format-version-1.0", STELE_ERR_VERSION, {"__metadata__/format_version", "\"1.0\""});
    EDIT("config-missing", STELE_ERR_MISSING, {"__metadata__/config", NULL});
    EDIT("config-not-json", STELE_ERR_CONFIG, {"__metadata__/config", "\"{hidden: 12\""});
    EDIT("config-not-object", STELE_ERR_CONFIG, {"__metadata__/config", "\"[1,2]\""});
    EDIT("search-not-json", STELE_ERR_CONFIG, {"__metadata__/search", "\"{\""});
    EDIT("search-len-a-negative", STELE_ERR_CONFIG, {"__metadata__/search/len_a", "-3"});
}

static void config_cases(void) {
#define CFG(p) "__metadata__/config/" p
    EDIT("config-emb-absurd", STELE_ERR_CONFIG, {CFG("emb"), "1000000000"});
    EDIT("config-hidden-zero", STELE_ERR_CONFIG, {CFG("encoder/hidden"), "0"});
    EDIT("config-hidden-negative", STELE_ERR_CONFIG, {CFG("encoder/hidden"), "-12"});
    EDIT("config-hidden-fractional", STELE_ERR_CONFIG, {CFG("decoder/hidden"), "12.5"});
    EDIT("config-hidden-string", STELE_ERR_CONFIG, {CFG("decoder/hidden"), "\"12\""});
    EDIT("config-layers-absurd", STELE_ERR_CONFIG, {CFG("decoder/layers"), "100000"});
    EDIT("config-vocab-absurd", STELE_ERR_CONFIG, {CFG("src_vocab"), "1e12"},
         {CFG("tgt_vocab"), "1e12"});
    EDIT("config-sizes-product", STELE_ERR_CONFIG, {CFG("encoder/hidden"), "60000"},
         {CFG("decoder/hidden"), "60000"});
    /* a size under the per-field maximum whose products are too large: the message names it */
    want_text = "encoder.hidden 1000000";
    EDIT("config-encoder-hidden-1e6", STELE_ERR_CONFIG, {CFG("encoder/hidden"), "1e6"});
    want_text = "4 x decoder.hidden x";
    EDIT("config-decoder-hidden-1e6", STELE_ERR_CONFIG, {CFG("decoder/hidden"), "1000000"});
    EDIT("config-encoder-gru", STELE_ERR_CONFIG, {CFG("encoder/type"), "\"gru\""});
    EDIT("config-score-unknown", STELE_ERR_CONFIG, {CFG("attention/score"), "\"cosine\""});
    EDIT("config-encoder-missing", STELE_ERR_CONFIG, {CFG("encoder"), NULL});
    EDIT("config-tie-missing", STELE_ERR_CONFIG, {CFG("tie_embeddings"), NULL});
    EDIT("config-gnmt-with-luong", STELE_ERR_CONFIG, {CFG("decoder/placement"), "\"gnmt\""});
    /* residual_from 1 (layer 1 cannot have one) and above the layer count (none would): refused
     * (models/FORMAT.md "Config"); the base model has 1 layer on each side. */
    want_text = "encoder.residual_from 1";
    EDIT("config-enc-residual-from-1", STELE_ERR_CONFIG, {CFG("encoder/residual_from"), "1"});
    want_text = "decoder.residual_from 1";
    EDIT("config-dec-residual-from-1", STELE_ERR_CONFIG, {CFG("decoder/residual_from"), "1"});
    want_text = "encoder.residual_from 2 is above encoder.layers 1";
    EDIT("config-enc-residual-above-layers", STELE_ERR_CONFIG, {CFG("encoder/residual_from"), "2"});
    want_text = "decoder.residual_from 3 is above decoder.layers 2";
    EDIT("config-dec-residual-above-layers", STELE_ERR_CONFIG, {CFG("decoder/residual_from"), "3"},
         {CFG("decoder/layers"), "2"});
    /* gnmt placement without attention (it appends a context that does not exist). */
    want_text = "gnmt needs an attention";
    EDIT("config-gnmt-without-attention", STELE_ERR_CONFIG, {CFG("decoder/placement"), "\"gnmt\""},
         {CFG("decoder/style"), "\"bahdanau\""}, {CFG("attention/score"), "\"none\""});
    EDIT("config-vocab-sides-differ", STELE_ERR_CONFIG, {CFG("tgt_vocab"), "77"});
    EDIT("config-eos-out-of-range", STELE_ERR_CONFIG, {CFG("eos_id"), "100000"});
    /* Valid configs that disagree with the tensors or the tokenizer. */
    EDIT("config-hidden-vs-tensors", STELE_ERR_SHAPE, {CFG("encoder/hidden"), "7"});
    EDIT("config-emb-vs-tensors", STELE_ERR_SHAPE, {CFG("emb"), "10"},
         {CFG("decoder/out"), "10"});
    EDIT("config-lstm-vs-bilstm-tensors", STELE_ERR_SHAPE, {CFG("encoder/type"), "\"lstm\""},
         {CFG("encoder/hidden"), "12"});
    EDIT("config-untied-needs-generator", STELE_ERR_MISSING, {CFG("tie_embeddings"), "false"});
    EDIT("config-vocab-vs-tokenizer", STELE_ERR_CONFIG, {CFG("src_vocab"), "40"},
         {CFG("tgt_vocab"), "40"});
    EDIT("config-eos-vs-tokenizer", STELE_ERR_CONFIG, {CFG("eos_id"), "5"});
#undef CFG
}

static void tokenizer_cases(void) {
    size_t b, e;
    offsets("tokenizer.spm", &b, &e);
    size_t at = 8 + base_hlen + b, n = e - b;
    run_patched("tokenizer-bad-wire-type", STELE_ERR_TOKENIZER, at, "\x0F", 1);
    run_patched("tokenizer-field-zero", STELE_ERR_TOKENIZER, at, "\x00", 1);
    run_patched("tokenizer-length-past-end", STELE_ERR_TOKENIZER, at + 1, "\xFF\x7F", 2);
    /* The first piece ("<pad>") spelled with invalid UTF-8: bytes 0..1 are the piece's tag
       and length, 2..3 the string's tag and length, then its bytes. */
    run_patched("tokenizer-invalid-utf8-piece", STELE_ERR_TOKENIZER, at + 4, "\xC0", 1);
    /* The first piece's type (CONTROL = 3) becomes 9. */
    const uint8_t *tok = base + at;
    size_t piece_len = tok[1];
    int found = 0;
    for (size_t i = 2; i + 1 < 2 + piece_len; i++)
        if (tok[i] == 0x18 && tok[i + 1] == 3) {   /* field 3, varint */
            run_patched("tokenizer-unknown-piece-type", STELE_ERR_TOKENIZER, at + i + 1, "\x09",
                        1);
            found = 1;
            break;
        }
    CHECK(found, "first piece has no type field");
    char r[160];
    snprintf(r, sizeof r, "{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[%zu,%zu]}", b, b);
    EDIT("tokenizer-empty", STELE_ERR_TOKENIZER, {"tokenizer.spm", r});
    snprintf(r, sizeof r, "{\"dtype\":\"U8\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}", n / 2,
             b, b + n / 2);
    EDIT("tokenizer-truncated-half", STELE_ERR_TOKENIZER, {"tokenizer.spm", r});
    snprintf(r, sizeof r, "{\"dtype\":\"U8\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}", n - 3,
             b, e - 3);
    EDIT("tokenizer-truncated-end", STELE_ERR_TOKENIZER, {"tokenizer.spm", r});
    /* Weights instead of a tokenizer. */
    size_t sb0, se0;
    offsets("src_embed.weight", &sb0, &se0);
    snprintf(r, sizeof r, "{\"dtype\":\"U8\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
             se0 - sb0, sb0, se0);
    const edit e2[] = {{"tokenizer.spm", r}, {"src_embed.weight", NULL}};
    run_edits("tokenizer-is-floats", STELE_ERR_TOKENIZER, e2, 2);
}

/* An int8 model (format version 2, models/FORMAT.md "Int8 weights"): int8 in a version-1 file,
 * a matrix without its row scales, scales that are not finite, negative or not F32, a matrix of
 * the wrong shape, int8 where only F32 is read. */
static void int8_cases(void) {
    want_text = "int8 weights need format_version 2";
    EDIT("int8-in-version-1", STELE_ERR_VERSION, {"__metadata__/format_version", "\"1\""});
    want_text = "tensor attention.query.weight.scale is missing";
    EDIT("int8-scale-missing", STELE_ERR_MISSING, {"attention.query.weight.scale", NULL});
    size_t b, e;
    offsets("attention.query.weight.scale", &b, &e);
    const float neg = -0.5f, nan_ = NAN;
    want_text = "tensor attention.query.weight.scale element 2 is negative";
    run_patched("int8-scale-negative", STELE_ERR_WEIGHTS, 8 + base_hlen + b + 8, &neg, 4);
    want_text = "tensor attention.query.weight.scale element 0 is NaN";
    run_patched("int8-scale-nan", STELE_ERR_WEIGHTS, 8 + base_hlen + b, &nan_, 4);
    want_text = "attention.query.weight.scale has dtype I32";
    EDIT("int8-scale-i32", STELE_ERR_DTYPE, {"attention.query.weight.scale/dtype", "\"I32\""});
    const json_value *shape = json_get(json_get(base_header, "attention.query.weight"), "shape");
    double r = 0, c = 0;
    json_number(json_at(shape, 0), &r);
    json_number(json_at(shape, 1), &c);
    char sh[64];
    snprintf(sh, sizeof sh, "[%d,%d]", (int)c, (int)r);
    want_text = "tensor attention.query.weight has shape";
    EDIT("int8-shape-transposed", STELE_ERR_SHAPE, {"attention.query.weight/shape", sh});
    offsets("attention.key.bias", &b, &e);
    char r1[128];
    snprintf(r1, sizeof r1, "{\"dtype\":\"I8\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
             (e - b) / 4, b, b + (e - b) / 4);
    want_text = "tensor attention.key.bias has dtype I8, expected F32";
    EDIT("int8-bias", STELE_ERR_DTYPE, {"attention.key.bias", r1});
}

/* Makes the file at path the base of the cases that follow; 0 when it cannot be read or parsed. */
static int set_base(const char *path) {
    free(base);
    json_free(base_header);
    base_header = NULL;
    base_hlen = 0;
    base = read_file(path, &base_size);
    if (!base) return 0;
    for (int i = 7; i >= 0; i--) base_hlen = base_hlen << 8 | base[i];
    char msg[256];
    base_header = json_parse((const char *)base + 8, base_hlen, msg, sizeof msg);
    CHECK(base_header != NULL, "base header of %s: %s", path, msg);
    return base_header != NULL;
}

/* Image (caption) models, from the tiny caption model (models/FORMAT.md "Image models"): the
 * task, the image, the CNN blocks and their tensors, the attention gate, tokenizer.words. */
static void caption_cases(void) {
    stele_model *m = NULL;
    stele_error err;
    CHECK(stele_model_load(base, base_size, &m, &err) == STELE_OK, "caption base: %s", err.message);
    stele_model_free(m);
#define CFG(p) "__metadata__/config/" p
    want_text = "config.task \"summarize\" is not supported";
    EDIT("caption-task-unknown", STELE_ERR_CONFIG, {CFG("task"), "\"summarize\""});
    want_text = "task caption needs encoder.type cnn, not lstm";
    EDIT("caption-task-with-lstm", STELE_ERR_CONFIG, {CFG("encoder/type"), "\"lstm\""});
    want_text = "task translate needs encoder.type lstm or bilstm, not cnn";
    EDIT("caption-cnn-without-task", STELE_ERR_CONFIG, {CFG("task"), NULL});
    want_text = "config: image must be a JSON object";
    EDIT("caption-image-missing", STELE_ERR_CONFIG, {CFG("image"), NULL});
    want_text = "image.channels 2";
    EDIT("caption-image-channels-2", STELE_ERR_CONFIG, {CFG("image/channels"), "2"});
    want_text = "image.channels must be an integer in 1..3";
    EDIT("caption-image-channels-4", STELE_ERR_CONFIG, {CFG("image/channels"), "4"});
    want_text = "image.std must be a positive number";
    EDIT("caption-image-std-zero", STELE_ERR_CONFIG, {CFG("image/std"), "0"});
    want_text = "image.mean must be a finite number";
    EDIT("caption-image-mean-string", STELE_ERR_CONFIG, {CFG("image/mean"), "\"0.5\""});
    want_text = "image.height must be an integer in 1..4096";
    EDIT("caption-image-height-0", STELE_ERR_CONFIG, {CFG("image/height"), "0"});
    want_text = "image.width must be an integer in 1..4096";
    EDIT("caption-image-width-huge", STELE_ERR_CONFIG, {CFG("image/width"), "100000"});
    want_text = "image 84x3 is too small for 2 CNN blocks";
    EDIT("caption-image-too-small", STELE_ERR_CONFIG, {CFG("image/height"), "3"});
    want_text = "encoder.channels must be an array of 1..8";
    EDIT("caption-channels-empty", STELE_ERR_CONFIG, {CFG("encoder/channels"), "[]"});
    EDIT("caption-channels-missing", STELE_ERR_CONFIG, {CFG("encoder/channels"), NULL});
    want_text = "encoder.channels must be an array of 1..8";
    EDIT("caption-channels-9-blocks", STELE_ERR_CONFIG,
         {CFG("encoder/channels"), "[1,1,1,1,1,1,1,1,1]"});
    want_text = "encoder.channels[1] must be an integer in 1..4096";
    EDIT("caption-channels-fractional", STELE_ERR_CONFIG, {CFG("encoder/channels"), "[4,8.5]"});
    want_text = "encoder.pool must be an array of 2 booleans";
    EDIT("caption-pool-short", STELE_ERR_CONFIG, {CFG("encoder/pool"), "[true]"});
    EDIT("caption-pool-not-array", STELE_ERR_CONFIG, {CFG("encoder/pool"), "false"});
    want_text = "encoder.pool[1] must be true or false";
    EDIT("caption-pool-number", STELE_ERR_CONFIG, {CFG("encoder/pool"), "[true,0]"});
    /* an unpooled second block keeps 42x42: the position table no longer fits the grid */
    want_text = "memory_position.weight has shape [441, 8], the config implies [1764, 8]";
    EDIT("caption-pool-grid", STELE_ERR_SHAPE, {CFG("encoder/pool"), "[true,false]"});
    want_text = "over the 2^28-float activation limit";
    EDIT("caption-activations-huge", STELE_ERR_CONFIG, {CFG("image/height"), "4096"},
         {CFG("image/width"), "4096"}, {CFG("encoder/channels"), "[4096,8]"});
    want_text = "tensor cnn.1.weight has shape [8, 4, 3, 3], the config implies [9, 4, 3, 3]";
    EDIT("caption-channels-vs-tensors", STELE_ERR_SHAPE, {CFG("encoder/channels"), "[4,9]"});
    want_text = "tensor cnn.1.bias is missing";
    EDIT("caption-missing-conv-bias", STELE_ERR_MISSING, {"cnn.1.bias", NULL});
    want_text = "tensor cnn.0.weight has dtype I32";
    EDIT("caption-conv-dtype", STELE_ERR_DTYPE, {"cnn.0.weight/dtype", "\"I32\""});
    want_text = "tensor cnn.0.weight has shape [4, 1, 9], the config implies [4, 1, 3, 3]";
    EDIT("caption-conv-shape-3d", STELE_ERR_SHAPE, {"cnn.0.weight/shape", "[4,1,9]"});
    want_text = "tensor attention.gate.weight is missing";
    EDIT("caption-gate-missing", STELE_ERR_MISSING, {"attention.gate.weight", NULL});
    want_text = "tensor attention.gate.bias is not used";
    EDIT("caption-gate-off-with-tensors", STELE_ERR_CONFIG, {CFG("attention/gate"), "false"});
    want_text = "attention.gate must be true or false";
    EDIT("caption-gate-not-bool", STELE_ERR_CONFIG, {CFG("attention/gate"), "1"});
    want_text = "attention.gate needs an attention score, decoder.style bahdanau and "
                "decoder.placement top (attention.score additive, decoder.style luong";
    EDIT("caption-gate-with-luong", STELE_ERR_CONFIG, {CFG("decoder/style"), "\"luong\""});
    want_text = "decoder.placement gnmt)";
    EDIT("caption-gate-with-gnmt", STELE_ERR_CONFIG, {CFG("decoder/placement"), "\"gnmt\""});
    want_text = "config: encoder.position \"sinusoidal\" is not supported";
    EDIT("caption-position-unknown", STELE_ERR_CONFIG, {CFG("encoder/position"), "\"sinusoidal\""});
    want_text = "tensor memory_position.weight is not used";
    EDIT("caption-position-none-with-tensor", STELE_ERR_CONFIG, {CFG("encoder/position"), "\"none\""});
    want_text = "tensor memory_position.weight is missing";
    EDIT("caption-position-missing", STELE_ERR_MISSING, {"memory_position.weight", NULL});
    want_text = "tensor memory_position.weight has shape [441, 8], the config implies [100, 8]";
    EDIT("caption-position-vs-grid", STELE_ERR_SHAPE, {CFG("image/height"), "40"},
         {CFG("image/width"), "40"});
    want_text = "tensor tokenizer.words is missing";
    EDIT("caption-words-missing", STELE_ERR_MISSING, {"tokenizer.words", NULL});
    want_text = "tensor tokenizer.words has dtype I8";
    EDIT("caption-words-dtype", STELE_ERR_DTYPE, {"tokenizer.words/dtype", "\"I8\""});
    want_text = "tgt_vocab 20 but tokenizer.words has 19 words";
    EDIT("caption-vocab-vs-words", STELE_ERR_CONFIG, {CFG("src_vocab"), "20"},
         {CFG("tgt_vocab"), "20"});
    want_text = "eos_id 4 is the word \"a\" in tokenizer.words, expected \"</s>\"";
    EDIT("caption-eos-vs-words", STELE_ERR_CONFIG, {CFG("eos_id"), "4"});
    size_t b, e;
    offsets("tokenizer.words", &b, &e);
    want_text = "word 0 (line 1) has white space";
    run_patched("caption-words-space", STELE_ERR_TOKENIZER, 8 + base_hlen + b + 5, " ", 1);
    const char *w = (const char *)base + 8 + base_hlen + b;
    size_t at = 0;
    for (size_t i = 0; i + 4 <= e - b; i++)
        if (memcmp(w + i, "\nat\n", 4) == 0) at = i + 1;
    CHECK(at > 0, "the tiny caption vocabulary has no word \"at\"");
    want_text = "are both \"in\"";
    if (at) run_patched("caption-words-duplicate", STELE_ERR_TOKENIZER, 8 + base_hlen + b + at,
                        "in", 2);
    want_text = "tensor cnn.0.weight element 0 is NaN";
    offsets("cnn.0.weight", &b, &e);
    const float nan_ = NAN;
    run_patched("caption-conv-weight-nan", STELE_ERR_WEIGHTS, 8 + base_hlen + b, &nan_, 4);
    char r[160];
    snprintf(r, sizeof r, "{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[%zu,%zu]}", b, b);
    want_text = "tensor cnn.2.weight is not used";
    EDIT("caption-extra-block-tensor", STELE_ERR_CONFIG, {"cnn.2.weight", r});
    want_text = "tensor src_embed.weight is not used";
    EDIT("caption-src-embed", STELE_ERR_CONFIG, {"src_embed.weight", r});
    snprintf(r, sizeof r, "{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[%zu,%zu]}", b, b);
    want_text = "tensor tokenizer.spm is not used";
    EDIT("caption-spm-tokenizer-too", STELE_ERR_CONFIG, {"tokenizer.spm", r});
#undef CFG
}

/* The offset in the base file of the first occurrence of `what` inside tensor `name` (0 when
 * absent). */
static size_t find_in(const char *name, const char *what) {
    size_t b, e, n = strlen(what);
    offsets(name, &b, &e);
    const uint8_t *d = base + 8 + base_hlen;
    for (size_t i = b; i + n <= e; i++)
        if (memcmp(d + i, what, n) == 0) return 8 + base_hlen + i;
    return 0;
}

/* VQA models, from the tiny VQA model (models/FORMAT.md "VQA models"): the config sections, the
 * glimpse convolutions, the classifier, tokenizer.words and answers.words. */
static void vqa_cases(void) {
    stele_model *m = NULL;
    stele_error err;
    CHECK(stele_model_load(base, base_size, &m, &err) == STELE_OK, "vqa base: %s", err.message);
    stele_model_free(m);
#define CFG(p) "__metadata__/config/" p
    want_text = "task vqa needs encoder.type cnn, not lstm";
    EDIT("vqa-encoder-lstm", STELE_ERR_CONFIG, {CFG("encoder/type"), "\"lstm\""});
    /* encoder.position learned (the tiny model has it): memory_position.weight [S = 441, D = 8] */
    want_text = "tensor memory_position.weight has shape [8, 441], the config implies [441, 8]";
    EDIT("vqa-position-transposed", STELE_ERR_SHAPE, {"memory_position.weight/shape", "[8,441]"});
    want_text = "tensor memory_position.weight has shape [3528], the config implies [441, 8]";
    EDIT("vqa-position-flat", STELE_ERR_SHAPE, {"memory_position.weight/shape", "[3528]"});
    want_text = "tensor memory_position.weight is missing";
    EDIT("vqa-position-missing", STELE_ERR_MISSING, {"memory_position.weight", NULL});
    want_text = "tensor memory_position.weight has dtype I32, expected F32";
    EDIT("vqa-position-dtype", STELE_ERR_DTYPE, {"memory_position.weight/dtype", "\"I32\""});
    want_text = "tensor memory_position.weight is not used";
    EDIT("vqa-position-none-with-table", STELE_ERR_CONFIG, {CFG("encoder/position"), "\"none\""});
    want_text = "config: encoder.position";
    EDIT("vqa-position-sinusoid", STELE_ERR_CONFIG, {CFG("encoder/position"), "\"sinusoid\""});
    /* a grid of another size: the table no longer matches S */
    want_text = "tensor memory_position.weight has shape [441, 8], the config implies [400, 8]";
    EDIT("vqa-position-vs-grid", STELE_ERR_SHAPE, {CFG("image/height"), "80"},
         {CFG("image/width"), "80"});
    want_text = "config: glimpses must be an integer in 1..4";
    EDIT("vqa-glimpses-0", STELE_ERR_CONFIG, {CFG("glimpses"), "0"});
    EDIT("vqa-glimpses-5", STELE_ERR_CONFIG, {CFG("glimpses"), "5"});
    want_text = "tensor glimpse.conv2.weight has shape [2, 10, 1, 1], the config implies [3, 10, 1, 1]";
    EDIT("vqa-glimpses-vs-tensors", STELE_ERR_SHAPE, {CFG("glimpses"), "3"});
    want_text = "config: l2norm must be true or false";
    EDIT("vqa-l2norm-missing", STELE_ERR_CONFIG, {CFG("l2norm"), NULL});
    want_text = "config: pool \"mean\" is not supported";
    EDIT("vqa-pool-mean", STELE_ERR_CONFIG, {CFG("pool"), "\"mean\""});
    want_text = "config: question must be a JSON object";
    EDIT("vqa-question-missing", STELE_ERR_CONFIG, {CFG("question"), NULL});
    want_text = "config: classifier.hidden must be an integer";
    EDIT("vqa-classifier-hidden-0", STELE_ERR_CONFIG, {CFG("classifier/hidden"), "0"});
    want_text = "tensor q_lstm.weight_ih_l0 has shape [48, 8], the config implies [52, 8]";
    EDIT("vqa-question-hidden-vs-tensors", STELE_ERR_SHAPE, {CFG("question/hidden"), "13"});
    want_text = "sizes too large: answers x classifier.hidden (classifier.fc2.weight) = "
                "1099511627776 elements";
    EDIT("vqa-classifier-huge", STELE_ERR_CONFIG, {CFG("classifier/hidden"), "1048576"},
         {CFG("answers"), "1048576"});
    want_text = "tensor glimpse.conv1.weight has shape [10, 20], the config implies [10, 20, 1, 1]";
    EDIT("vqa-conv1-2d", STELE_ERR_SHAPE, {"glimpse.conv1.weight/shape", "[10,20]"});
    want_text = "tensor classifier.fc1.weight is missing";
    EDIT("vqa-fc1-missing", STELE_ERR_MISSING, {"classifier.fc1.weight", NULL});
    want_text = "src_vocab 21 but tokenizer.words has 20 words";
    EDIT("vqa-vocab-vs-words", STELE_ERR_CONFIG, {CFG("src_vocab"), "21"});
    want_text = "unk_id 2 is the word \"<s>\" in tokenizer.words, expected \"<unk>\"";
    EDIT("vqa-unk-vs-words", STELE_ERR_CONFIG, {CFG("unk_id"), "2"});
    want_text = "tensor answers.words is missing";
    EDIT("vqa-answers-missing", STELE_ERR_MISSING, {"answers.words", NULL});
    want_text = "tensor answers.words has dtype I8";
    EDIT("vqa-answers-dtype", STELE_ERR_DTYPE, {"answers.words/dtype", "\"I8\""});
    want_text = "tensor classifier.fc2.weight has shape [12, 16], the config implies [13, 16]";
    EDIT("vqa-answers-vs-fc2", STELE_ERR_SHAPE, {CFG("answers"), "13"});
    size_t at = find_in("answers.words", "\nbag\n");
    CHECK(at > 0, "the tiny vqa answers have no \"bag\"");
    if (at) {
        want_text = "config: answers 12 but answers.words has 11 lines";
        run_patched("vqa-answers-lines", STELE_ERR_CONFIG, at, " ", 1);
        want_text = "answers.words: answer 1 (line 2) has a control character";
        run_patched("vqa-answers-control", STELE_ERR_TOKENIZER, at + 1, "\t", 1);
        want_text = "answers.words: answer 1 (line 2) has invalid UTF-8";
        run_patched("vqa-answers-utf8", STELE_ERR_TOKENIZER, at + 1, "\xc3", 1);
        want_text = "answers.words: answer 1 (line 2) is empty";
        run_patched("vqa-answers-empty", STELE_ERR_TOKENIZER, at + 1, "\n\n\n", 3);
    }
    size_t b, e;
    offsets("glimpse.conv2.weight", &b, &e);
    const float inf = INFINITY;
    want_text = "tensor glimpse.conv2.weight element 0 is +Inf";
    run_patched("vqa-conv2-inf", STELE_ERR_WEIGHTS, 8 + base_hlen + b, &inf, 4);
    char r[160];
    snprintf(r, sizeof r, "{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[%zu,%zu]}", b, b);
    want_text = "tensor tgt_embed.weight is not used";
    EDIT("vqa-decoder-tensor", STELE_ERR_CONFIG, {"tgt_embed.weight", r});
#undef CFG
}

int main(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) outdir = argv[++i];
        else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: test_bad_models MODEL.safetensors [--out DIR]\n");
        return 2;
    }
    base = read_file(path, &base_size);
    if (!base) return 1;
    stele_model *m = NULL;
    stele_error err;
    CHECK(stele_model_load(base, base_size, &m, &err) == STELE_OK, "base model: %s", err.message);
    stele_model_free(m);
    for (int i = 7; i >= 0; i--) base_hlen = base_hlen << 8 | base[i];
    base_header = json_parse((const char *)base + 8, base_hlen, err.message, sizeof err.message);
    CHECK(base_header != NULL, "base header: %s", err.message);
    if (!base_header) return t_report("test_bad_models");
    /* The rewriting itself is faithful: no edits -> a loadable model. */
    const edit none[] = {{"-", NULL}};
    sb s = {0};
    ser(&s, base_header, "", none, 0);
    size_t size;
    uint8_t *b = assemble(s.b, &size);
    CHECK(stele_model_load(b, size, &m, &err) == STELE_OK, "rewritten base: %s", err.message);
    stele_model_free(m);
    free(b);
    free(s.b);

    container_cases();
    tensor_cases();
    weight_cases();
    limit_cases();
    metadata_cases();
    config_cases();
    tokenizer_cases();
    shortlist_cases();
    /* the tiny caption model beside the base (tests/golden/tiny/caption-tiny.safetensors) */
    char cap[1024];
    const char *slash = strrchr(path, '/');
    snprintf(cap, sizeof cap, "%.*scaption-tiny.safetensors", slash ? (int)(slash - path + 1) : 0,
             path);
    CHECK(set_base(cap), "cannot read the caption base model %s", cap);
    if (base_header) caption_cases();
    snprintf(cap, sizeof cap, "%.*svqa-tiny.safetensors", slash ? (int)(slash - path + 1) : 0,
             path);
    CHECK(set_base(cap), "cannot read the vqa base model %s", cap);
    if (base_header) vqa_cases();
    snprintf(cap, sizeof cap, "%.*sint8-bilstm-additive-bahdanau.safetensors",
             slash ? (int)(slash - path + 1) : 0, path);
    CHECK(set_base(cap), "cannot read the int8 base model %s", cap);
    if (base_header) int8_cases();
    printf("%d malformed models\n", n_cases);
    CHECK(n_cases >= 40, "only %d cases", n_cases);
    json_free(base_header);
    free(base);
    return t_report("test_bad_models");
}
