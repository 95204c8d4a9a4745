/* SentencePiece reader, encoder and decoder tests.
 *
 *   test_sentencepiece tests/golden/tokenizer/<name>.jsonl ...
 *
 * 1. Each golden file (scripts/golden_tokenizer.py): the model loads, its vocabulary, special ids
 *    and pieces match python3-sentencepiece's, every text encodes to exactly python's ids and
 *    they decode to python's text, and every id sequence decodes as python decodes it.
 * 2. Hand-built ModelProtos: every malformed or unsupported one is rejected with
 *    STELE_ERR_TOKENIZER and a message; truncations at every byte never crash.
 * 3. Encoder/decoder API edges: invalid UTF-8 and NUL -> STELE_ERR_TEXT, capacity -> LIMIT,
 *    decode buffer truncation. */
#include <stdint.h>

#include "../../src/json.h"
#include "../../src/sentencepiece.h"
#include "testutil.h"

/* ------------------------------------------------------------------ golden files */

static uint64_t fnv_pieces(const spm_model *m) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < spm_vocab_size(m); i++) {
        const unsigned char *p = (const unsigned char *)spm_piece(m, i);
        for (size_t j = 0;; j++) {
            h ^= p[j];
            h *= 0x100000001b3ull;
            if (!p[j]) break;
        }
    }
    return h;
}

static int json_int(const json_value *o, const char *key) {
    double d = -999;
    json_number(json_get(o, key), &d);
    return (int)d;
}

/* Reads a JSON array of ints into ids (cap entries); returns the count or -1. */
static long read_ids(const json_value *a, int32_t *ids, size_t cap) {
    if (json_kind(a) != JSON_ARRAY || json_count(a) > cap) return -1;
    for (size_t i = 0; i < json_count(a); i++) {
        double d;
        if (json_number(json_at(a, i), &d)) return -1;
        ids[i] = (int32_t)d;
    }
    return (long)json_count(a);
}

static void print_ids(const char *label, const int32_t *ids, size_t n) {
    fprintf(stderr, "  %s:", label);
    for (size_t i = 0; i < n && i < 60; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 60 ? " ...\n" : "\n");
}

static void golden_file(const char *path) {
    size_t size;
    char *text = (char *)read_file(path, &size);
    CHECK(text != NULL, "cannot read %s", path);
    if (!text) return;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) slash[1] = '\0';
    else dir[0] = '\0';

    spm_model *m = NULL;
    size_t n_text = 0, n_decode = 0, bad = 0;
    size_t line_no = 0;
    size_t cap = 1 << 16;
    int32_t *ids = malloc(cap * sizeof *ids), *want = malloc(cap * sizeof *want);
    char *dec = malloc(1 << 20);
    void *scratch = NULL;
    size_t scratch_size = 0;
    for (char *line = text; line < text + size;) {
        char *nl = memchr(line, '\n', (size_t)(text + size - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(text + size - line);
        line_no++;
        char jerr[128];
        json_value *rec = json_parse(line, len, jerr, sizeof jerr);
        CHECK(rec != NULL, "%s:%zu: %s", path, line_no, jerr);
        line = nl ? nl + 1 : text + size;
        if (!rec) continue;
        if (line_no == 1) {
            char mpath[1200];
            snprintf(mpath, sizeof mpath, "%s%s", dir, json_string(json_get(rec, "model")));
            size_t msize;
            unsigned char *mb = read_file(mpath, &msize);
            CHECK(mb != NULL, "cannot read %s", mpath);
            stele_error err;
            stele_status st = mb ? spm_load(mb, msize, &m, &err) : STELE_ERR_IO;
            free(mb);
            CHECK(st == STELE_OK, "%s: %s", mpath, err.message);
            if (st != STELE_OK) {
                json_free(rec);
                break;
            }
            const json_value *h = rec;
            CHECK(spm_vocab_size(m) == json_int(h, "vocab_size"), "%s: vocab %d vs %d", path,
                  spm_vocab_size(m), json_int(h, "vocab_size"));
            CHECK(spm_unk_id(m) == json_int(h, "unk_id"), "%s: unk", path);
            CHECK(spm_bos_id(m) == json_int(h, "bos_id"), "%s: bos", path);
            CHECK(spm_eos_id(m) == json_int(h, "eos_id"), "%s: eos", path);
            CHECK(spm_pad_id(m) == json_int(h, "pad_id"), "%s: pad", path);
            char hex[32];
            snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv_pieces(m));
            const char *wh = json_string(json_get(h, "pieces_fnv1a64"));
            CHECK(wh && strcmp(hex, wh) == 0, "%s: pieces hash %s vs %s", path, hex, wh);
            json_free(rec);
            continue;
        }
        const json_value *t = json_get(rec, "text");
        const char *want_dec = json_string(json_get(rec, "decoded"));
        if (t) {
            const char *s = json_string(t);
            size_t slen = json_string_len(t);
            size_t need = spm_scratch_bytes(m, slen);
            if (need > scratch_size) {
                free(scratch);
                scratch = malloc(need);
                scratch_size = need;
            }
            long nw = read_ids(json_get(rec, "ids"), want, cap);
            size_t n = 0;
            stele_error err;
            stele_status st = spm_encode(m, s, slen, ids, cap, &n, scratch, &err);
            int same = st == STELE_OK && nw >= 0 && (size_t)nw == n &&
                       memcmp(ids, want, n * sizeof *ids) == 0;
            CHECK(n <= spm_max_ids(slen), "%s:%zu: %zu ids > bound", path, line_no, n);
            if (!same) {
                bad++;
                CHECK(same, "%s:%zu: encode(\"%.80s\") differs (status %s %s)", path, line_no, s,
                      t_status_name(st), err.message);
                print_ids("python", want, nw < 0 ? 0 : (size_t)nw);
                print_ids("C     ", ids, n);
            }
            size_t dl = spm_decode(m, ids, n, dec, 1 << 20);
            CHECK(want_dec && dl == strlen(dec) && strcmp(dec, want_dec) == 0,
                  "%s:%zu: decode \"%s\" vs python \"%s\"", path, line_no, dec, want_dec);
            n_text++;
        } else {
            long nw = read_ids(json_get(rec, "decode_ids"), want, cap);
            CHECK(nw >= 0, "%s:%zu: bad decode_ids", path, line_no);
            size_t dl = spm_decode(m, want, nw < 0 ? 0 : (size_t)nw, dec, 1 << 20);
            CHECK(want_dec && dl == strlen(dec) && strcmp(dec, want_dec) == 0,
                  "%s:%zu: decode \"%s\" vs python \"%s\"", path, line_no, dec, want_dec);
            n_decode++;
        }
        json_free(rec);
    }
    printf("%s: %zu texts (%zu differ), %zu decodes\n", path, n_text, bad, n_decode);
    spm_free(m);
    free(scratch);
    free(ids);
    free(want);
    free(dec);
    free(text);
}

/* ------------------------------------------------------------------ hand-built protos */

typedef struct {
    uint8_t b[4096];
    size_t n;
} buf;

static void put_byte(buf *o, uint8_t c) { if (o->n < sizeof o->b) o->b[o->n++] = c; }
static void put_varint(buf *o, uint64_t v) {
    do {
        put_byte(o, (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}
static void put_tag(buf *o, unsigned field, unsigned wire) { put_varint(o, field << 3 | wire); }
static void put_bytes(buf *o, unsigned field, const void *p, size_t n) {
    put_tag(o, field, 2);
    put_varint(o, n);
    for (size_t i = 0; i < n; i++) put_byte(o, ((const uint8_t *)p)[i]);
}
static void put_msg(buf *o, unsigned field, const buf *m) { put_bytes(o, field, m->b, m->n); }
static void put_float(buf *o, unsigned field, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_tag(o, field, 5);
    for (int i = 0; i < 4; i++) put_byte(o, (uint8_t)(u >> (8 * i)));
}
static void put_int(buf *o, unsigned field, int64_t v) {
    put_tag(o, field, 0);
    put_varint(o, (uint64_t)v);
}

static void add_piece(buf *o, const char *s, size_t len, float score, int type) {
    buf p = {{0}, 0};
    put_bytes(&p, 1, s, len);
    put_float(&p, 2, score);
    if (type != 1) put_int(&p, 3, type);
    put_msg(o, 1, &p);
}

/* Knobs for the hand-built model. */
typedef struct {
    int model_type, unk_id, extra_unk, dup_piece, byte_fallback, ws_suffix, charsmap, bad_utf8,
        nul_piece, empty_piece, bad_type, byte_piece, denorm, pad_id;
} knobs;

static buf build(knobs k) {
    buf o = {{0}, 0};
    add_piece(&o, "<pad>", 5, 0, 3);
    add_piece(&o, "<unk>", 5, 0, 2);
    add_piece(&o, "<s>", 3, 0, 3);
    add_piece(&o, "</s>", 4, 0, 3);
    add_piece(&o, "\xE2\x96\x81", 3, -1.0f, 1);
    add_piece(&o, "a", 1, -2.0f, 1);
    add_piece(&o, "b", 1, -2.5f, 1);
    add_piece(&o, "ab", 2, -3.0f, 1);
    add_piece(&o, "\xE2\x96\x81" "ab", 5, -3.5f, 1);
    if (k.extra_unk) add_piece(&o, "<unk2>", 6, 0, 2);
    if (k.dup_piece) add_piece(&o, "ab", 2, -1.0f, 1);
    if (k.bad_utf8) add_piece(&o, "\xC3\x28", 2, -1.0f, 1);
    if (k.nul_piece) add_piece(&o, "x\0y", 3, -1.0f, 1);
    if (k.empty_piece) add_piece(&o, "", 0, -1.0f, 1);
    if (k.bad_type) add_piece(&o, "zz", 2, -1.0f, 9);
    if (k.byte_piece) add_piece(&o, "<0x41>", 6, 0, 6);
    buf t = {{0}, 0};
    put_int(&t, 3, k.model_type ? k.model_type : 1);
    put_int(&t, 40, k.unk_id ? k.unk_id : 1);
    put_int(&t, 41, 2);
    put_int(&t, 42, 3);
    put_int(&t, 43, k.pad_id ? k.pad_id : 0);
    if (k.byte_fallback) put_int(&t, 35, 1);
    if (k.ws_suffix) put_int(&t, 24, 1);
    put_msg(&o, 2, &t);
    buf nz = {{0}, 0};
    put_bytes(&nz, 1, "identity", 8);
    if (k.charsmap) put_bytes(&nz, 2, "\x01\x02\x03\x04", 4);
    put_int(&nz, 3, 1);
    put_msg(&o, 3, &nz);
    if (k.denorm) {
        buf d = {{0}, 0};
        put_bytes(&d, 2, "\x01\x02", 2);
        put_msg(&o, 5, &d);
    }
    return o;
}

static void expect_reject(const char *what, const uint8_t *b, size_t n) {
    spm_model *m = NULL;
    stele_error err;
    err.message[0] = '\0';
    stele_status st = spm_load(b, n, &m, &err);
    CHECK(st == STELE_ERR_TOKENIZER && err.status == st && err.message[0] && !m,
          "%s: status %s \"%s\"", what, t_status_name(st), err.message);
    if (st == STELE_ERR_TOKENIZER) printf("  rejected %-28s %s\n", what, err.message);
    spm_free(m);
}

static void encode_expect(const spm_model *m, const char *text, const int32_t *want, size_t nw) {
    int32_t ids[64];
    size_t n = 0;
    uint8_t scratch[4096];
    stele_error err;
    stele_status st = spm_encode(m, text, strlen(text), ids, 64, &n, scratch, &err);
    CHECK(st == STELE_OK && n == nw && memcmp(ids, want, n * sizeof *ids) == 0,
          "encode \"%s\": %s, %zu ids", text, err.message, n);
}

static void handmade(void) {
    knobs k0 = {0};
    buf ok = build(k0);
    spm_model *m = NULL;
    stele_error err;
    CHECK(spm_load(ok.b, ok.n, &m, &err) == STELE_OK, "valid hand-built model: %s", err.message);
    if (m) {
        CHECK(spm_vocab_size(m) == 9 && spm_unk_id(m) == 1 && spm_bos_id(m) == 2 &&
              spm_eos_id(m) == 3 && spm_pad_id(m) == 0, "ids");
        CHECK(spm_piece(m, 9) == NULL && spm_piece(m, -1) == NULL, "piece out of range");
        CHECK(strcmp(spm_piece(m, 7), "ab") == 0, "piece 7");
        /* "▁ab": -3.5 as one piece beats "▁"+"ab" (-4.0) and "▁"+"a"+"b" (-5.5). */
        encode_expect(m, "ab", (const int32_t[]){8}, 1);
        /* "▁ba": "▁" "b" "a"; "c" unknown: "▁"(-1) then unk; "cc" merges into one unk. */
        encode_expect(m, "ba", (const int32_t[]){4, 6, 5}, 3);
        encode_expect(m, "cc", (const int32_t[]){4, 1}, 2);
        encode_expect(m, "c c", (const int32_t[]){4, 1, 4, 1}, 4);
        encode_expect(m, "   ", (const int32_t[]){0}, 0);

        /* Errors of the encoder. */
        int32_t ids[8];
        size_t n = 99;
        uint8_t scratch[512];
        CHECK(spm_encode(m, "a\xC3", 3, ids, 8, &n, scratch, &err) == STELE_ERR_TEXT &&
              strstr(err.message, "byte 1"), "truncated UTF-8: %s", err.message);
        CHECK(spm_encode(m, "a\0b", 3, ids, 8, &n, scratch, &err) == STELE_ERR_TEXT &&
              strstr(err.message, "NUL"), "NUL: %s", err.message);
        CHECK(spm_encode(m, "\xED\xA0\x80", 3, ids, 8, &n, scratch, &err) == STELE_ERR_TEXT,
              "surrogate: %s", err.message);
        CHECK(spm_encode(m, "\xC0\xAF", 2, ids, 8, &n, scratch, &err) == STELE_ERR_TEXT,
              "overlong: %s", err.message);
        CHECK(spm_encode(m, "\xF4\x90\x80\x80", 4, ids, 8, &n, scratch, &err) == STELE_ERR_TEXT,
              "above U+10FFFF: %s", err.message);
        CHECK(spm_encode(m, "b b b b", 7, ids, 3, &n, scratch, &err) == STELE_ERR_LIMIT &&
              n == 8 && err.message[0], "limit: n=%zu %s", n, err.message);
        CHECK(spm_encode(m, "", 0, ids, 0, &n, scratch, &err) == STELE_OK && n == 0, "empty");
        CHECK(spm_encode(NULL, "a", 1, ids, 8, &n, scratch, &err) == STELE_ERR_ARGUMENT, "null");

        /* Decoder: snprintf-like truncation. */
        int32_t seq[] = {8, 4, 5, 6, 1, 2};   /* "ab" " " "a" "b" <unk> <s> */
        char out[64];
        size_t need = spm_decode(m, seq, 6, out, sizeof out);
        CHECK(strcmp(out, "ab ab \xE2\x81\x87 ") == 0 && need == strlen(out), "decode \"%s\"", out);
        char small[4];
        size_t need2 = spm_decode(m, seq, 6, small, sizeof small);
        CHECK(need2 == need && strcmp(small, "ab ") == 0, "truncated decode \"%s\"", small);
        CHECK(spm_decode(m, seq, 6, NULL, 0) == need, "size query");
        int32_t oob[] = {-5, 99, 5};
        CHECK(spm_decode(m, oob, 3, out, sizeof out) == 1 && strcmp(out, "a") == 0,
              "out-of-range ids skipped: \"%s\"", out);
        spm_free(m);
    }

    /* Rejections. */
    struct { const char *what; knobs k; } cases[] = {
        {"BPE model type", {.model_type = 2}},
        {"word model type", {.model_type = 3}},
        {"unknown model type", {.model_type = 77}},
        {"unk_id disagrees", {.unk_id = 5}},
        {"pad_id disagrees", {.pad_id = 4}},
        {"two unk pieces", {.extra_unk = 1}},
        {"duplicate piece", {.dup_piece = 1}},
        {"byte_fallback", {.byte_fallback = 1}},
        {"whitespace as suffix", {.ws_suffix = 1}},
        {"precompiled charsmap", {.charsmap = 1}},
        {"denormalizer charsmap", {.denorm = 1}},
        {"invalid UTF-8 piece", {.bad_utf8 = 1}},
        {"NUL in piece", {.nul_piece = 1}},
        {"empty piece", {.empty_piece = 1}},
        {"unknown piece type", {.bad_type = 1}},
        {"byte piece", {.byte_piece = 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf b = build(cases[i].k);
        expect_reject(cases[i].what, b.b, b.n);
    }
    /* Wire-level corruption. */
    expect_reject("empty input", (const uint8_t *)"", 0);
    {
        buf t = {{0}, 0}, o = {{0}, 0};
        put_int(&t, 3, 1);
        put_msg(&o, 2, &t);
        expect_reject("only a trainer_spec", o.b, o.n);
    }
    {
        buf b = ok;
        b.b[0] = (1 << 3) | 0;   /* pieces as a varint */
        expect_reject("pieces with wire type 0", b.b, b.n);
        b = ok;
        b.b[0] = (1 << 3) | 3;   /* start group */
        expect_reject("group wire type", b.b, b.n);
        b = ok;
        b.b[1] = 0x7F;           /* first piece's length beyond the end */
        expect_reject("length past the end", b.b, 40);
        uint8_t over[12] = {0x08};
        memset(over + 1, 0xFF, 10);
        over[11] = 0x01;
        expect_reject("overlong varint", over, sizeof over);
        uint8_t zero_field[] = {0x00, 0x01};
        expect_reject("field number 0", zero_field, sizeof zero_field);
        uint8_t trunc_fixed[] = {0x0D, 0x01, 0x02};   /* field 1, wire 5, 2 of 4 bytes */
        expect_reject("truncated fixed32", trunc_fixed, sizeof trunc_fixed);
    }
    /* Every truncation: OK or TOKENIZER, never a crash (ASan build checks the rest). */
    int accepted = 0;
    for (size_t cut = 0; cut < ok.n; cut++) {
        spm_model *mm = NULL;
        stele_status st = spm_load(ok.b, cut, &mm, &err);
        CHECK(st == STELE_OK || (st == STELE_ERR_TOKENIZER && err.message[0]),
              "truncated at %zu: %s", cut, t_status_name(st));
        accepted += st == STELE_OK;
        spm_free(mm);
    }
    /* A cut at a field boundary is a valid shorter message: here only the one dropping the
       whole normalizer_spec (its defaults are the same). */
    CHECK(accepted <= 1, "%d truncations accepted", accepted);
    CHECK(spm_load(NULL, 0, NULL, &err) == STELE_ERR_ARGUMENT, "NULL out");
    CHECK(spm_load(ok.b, ok.n, &m, NULL) == STELE_OK, "NULL err allowed");
    spm_free(m);
    spm_free(NULL);
}

int main(int argc, char **argv) {
    handmade();
    for (int i = 1; i < argc; i++) golden_file(argv[i]);
    return t_report("test_sentencepiece");
}
