/* safetensors reader tests: the golden model files, hand-made valid files, every error path.
 *
 *   test_safetensors tests/golden/tiny/<name>.safetensors ...
 */
#include <stdint.h>

#include "../../src/safetensors.h"
#include "testutil.h"

/* A file: 8-byte length, the header padded with spaces to a multiple of 8, data_len bytes. */
static uint8_t *make(const char *header, size_t data_len, size_t *size) {
    size_t h = strlen(header), hp = (h + 7) / 8 * 8;
    *size = 8 + hp + data_len;
    uint8_t *b = malloc(*size);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hp >> (8 * i));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', hp - h);
    for (size_t i = 0; i < data_len; i++) b[8 + hp + i] = (uint8_t)i;
    return b;
}

static stele_status open_status(const char *header, size_t data_len, char *msg, size_t n) {
    size_t size;
    uint8_t *b = make(header, data_len, &size);
    st_file *f = NULL;
    stele_error err;
    err.message[0] = '\0';
    stele_status st = st_open(b, size, &f, &err);
    snprintf(msg, n, "%s", err.message);
    if (st == STELE_OK) CHECK(f != NULL, "no file");
    else CHECK(f == NULL && err.status == st && err.message[0], "error not filled");
    st_close(f);
    free(b);
    return st;
}

/* The header must fail with status `want` and a message containing `frag`. */
static void bad(const char *what, const char *header, size_t data_len, stele_status want,
                const char *frag) {
    char msg[256];
    stele_status st = open_status(header, data_len, msg, sizeof msg);
    CHECK(st == want && strstr(msg, frag), "%s: got %s \"%s\", want %s \"%s\"", what,
          t_status_name(st), msg, t_status_name(want), frag);
    if (st == want) printf("  %-30s %-18s %s\n", what, t_status_name(st), msg);
}

static void valid(void) {
    const char *h = "{\"__metadata__\":{\"format\":\"stele\",\"x\":\"\"},"
                    "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[5],\"data_offsets\":[24,29]},"
                    "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[32,40]},"
                    "\"e\":{\"dtype\":\"I32\",\"shape\":[0,7],\"data_offsets\":[29,29]},"
                    "\"e2\":{\"data_offsets\":[30,30],\"shape\":[3,0],\"dtype\":\"BF16\"}}";
    size_t size;
    uint8_t *b = make(h, 48, &size);   /* 8 trailing bytes nobody uses, a gap at 29..32 */
    st_file *f = NULL;
    stele_error err;
    CHECK(st_open(b, size, &f, &err) == STELE_OK, "valid: %s", err.message);
    if (f) {
        CHECK(st_count(f) == 5, "count %zu", st_count(f));
        const st_tensor *w = st_find(f, "w");
        CHECK(w && w->dtype == ST_F32 && w->ndim == 2 && w->shape[0] == 2 && w->shape[1] == 3 &&
              w->numel == 6 && w->nbytes == 24 && w->data == b + size - 48, "w");
        CHECK(st_at(f, 0) == w, "header order");
        const st_tensor *s = st_find(f, "s");
        CHECK(s && s->ndim == 0 && s->numel == 1 && s->nbytes == 8 && s->data[0] == 32, "scalar");
        const st_tensor *e = st_find(f, "e");
        CHECK(e && e->numel == 0 && e->nbytes == 0, "empty");
        CHECK(st_find(f, "e2") && st_find(f, "e2")->dtype == ST_BF16, "e2");
        CHECK(st_find(f, "zz") == NULL && st_find(f, "__metadata__") == NULL, "absent");
        CHECK(st_at(f, 5) == NULL, "st_at out of range");
        CHECK(strcmp(st_meta(f, "format"), "stele") == 0 && strcmp(st_meta(f, "x"), "") == 0 &&
              st_meta(f, "y") == NULL, "metadata");
    }
    st_close(f);
    st_close(NULL);
    free(b);

    /* No metadata, no tensors, unpadded header. */
    uint8_t tiny[10] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    CHECK(st_open(tiny, sizeof tiny, &f, &err) == STELE_OK && st_count(f) == 0 &&
          st_meta(f, "format") == NULL, "{}: %s", err.message);
    st_close(f);

    size_t dsizes[] = {4, 8, 4, 8, 1, 2, 2, 1, 2, 2, 4, 8, 1};
    for (int t = ST_F32; t <= ST_BOOL; t++)
        CHECK(st_dtype_size((st_dtype)t) == dsizes[t] && strcmp(st_dtype_name((st_dtype)t), "?"),
              "dtype %d", t);
    CHECK(st_dtype_size((st_dtype)99) == 0 && strcmp(st_dtype_name((st_dtype)99), "?") == 0,
          "bad dtype");
}

#define T(name, rest) "{\"" name "\":{" rest "}}"
#define F32(shape, offs) "\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":" offs

static void errors(void) {
    uint8_t b[16] = {0};
    st_file *f = NULL;
    stele_error err;
    CHECK(st_open(b, 7, &f, &err) == STELE_ERR_HEADER && strstr(err.message, "7 bytes"),
          "short: %s", err.message);
    b[0] = 9;
    CHECK(st_open(b, 16, &f, &err) == STELE_ERR_HEADER && strstr(err.message, "header length 9"),
          "length past end: %s", err.message);
    memset(b, 0xFF, 8);
    CHECK(st_open(b, 16, &f, &err) == STELE_ERR_HEADER, "huge length: %s", err.message);
    memset(b, 0, 8);
    CHECK(st_open(b, 16, &f, &err) == STELE_ERR_HEADER, "zero length: %s", err.message);
    CHECK(st_open(NULL, 16, &f, &err) == STELE_ERR_ARGUMENT, "NULL bytes");
    CHECK(st_open(b, 16, NULL, &err) == STELE_ERR_ARGUMENT, "NULL out");
    CHECK(st_open(b, 16, &f, NULL) == STELE_ERR_HEADER, "NULL err allowed");
    /* Over the header size limit (the file is big enough to hold it). */
    size_t big = ST_MAX_HEADER_BYTES + 64;
    uint8_t *hb = calloc(1, big);
    uint64_t n = ST_MAX_HEADER_BYTES + 8;
    for (int i = 0; i < 8; i++) hb[i] = (uint8_t)(n >> (8 * i));
    CHECK(st_open(hb, big, &f, &err) == STELE_ERR_HEADER && strstr(err.message, "limit"),
          "limit: %s", err.message);
    CHECK(ST_MAX_HEADER_BYTES == 1u << 20, "header limit is 1 MiB (models/FORMAT.md)");
    free(hb);
    /* Tensor count: ST_MAX_TENSORS (plus __metadata__) are accepted, one more is refused
     * before any entry is parsed (a 200,000-entry header would otherwise be accepted). */
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned count = ST_MAX_TENSORS + extra;
        size_t cap = 64 + (size_t)count * 64, k = 0;
        char *h = malloc(cap);
        k += (size_t)snprintf(h + k, cap - k, "{\"__metadata__\":{}");
        for (unsigned i = 0; i < count; i++)
            k += (size_t)snprintf(h + k, cap - k, ",\"t%u\":{\"dtype\":\"U8\",\"shape\":[0],"
                                  "\"data_offsets\":[0,0]}", i);
        k += (size_t)snprintf(h + k, cap - k, "}");
        uint8_t *fb = malloc(8 + k);
        for (int i = 0; i < 8; i++) fb[i] = (uint8_t)((uint64_t)k >> (8 * i));
        memcpy(fb + 8, h, k);
        f = NULL;
        stele_status st = st_open(fb, 8 + k, &f, &err);
        if (extra == 0)
            CHECK(st == STELE_OK && st_count(f) == ST_MAX_TENSORS, "%u tensors: %s", count,
                  err.message);
        else
            CHECK(st == STELE_ERR_HEADER && strstr(err.message, "1026 entries") &&
                  strstr(err.message, "1024 tensors"), "%u tensors: %s", count, err.message);
        st_close(f);
        free(fb);
        free(h);
    }

    bad("bad JSON", "{\"a\":", 0, STELE_ERR_HEADER, "file byte 16: unexpected end");
    bad("trailing garbage", "{} x", 0, STELE_ERR_HEADER, "file byte 11");
    bad("header is an array", "[]", 0, STELE_ERR_HEADER, "not a JSON object");
    bad("header is a string", "\"x\"", 0, STELE_ERR_HEADER, "not a JSON object");
    bad("invalid UTF-8", "{\"\xC3\x28\":1}", 0, STELE_ERR_HEADER, "UTF-8");
    bad("duplicate tensor", "{\"a\":{},\"a\":{}}", 0, STELE_ERR_HEADER, "duplicate key \"a\"");
    bad("entry not an object", "{\"a\":[1]}", 0, STELE_ERR_HEADER, "tensor \"a\": entry");
    bad("empty name", T("", F32("[1]", "[0,4]")), 4, STELE_ERR_HEADER, "empty name");
    bad("unknown field", T("a", F32("[1]", "[0,4]") ",\"x\":1"), 4, STELE_ERR_HEADER,
        "unknown field \"x\"");
    bad("missing dtype", T("a", "\"shape\":[1],\"data_offsets\":[0,4]"), 4, STELE_ERR_HEADER,
        "missing field \"dtype\"");
    bad("missing shape", T("a", "\"dtype\":\"F32\",\"data_offsets\":[0,4]"), 4, STELE_ERR_HEADER,
        "missing field \"shape\"");
    bad("missing offsets", T("a", "\"dtype\":\"F32\",\"shape\":[1]"), 4, STELE_ERR_HEADER,
        "missing field \"data_offsets\"");
    bad("dtype not a string", T("a", "\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]"), 4,
        STELE_ERR_HEADER, "dtype is not a string");
    bad("unknown dtype", T("a", "\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]"), 4,
        STELE_ERR_DTYPE, "tensor \"a\": unknown dtype \"F8_E4M3\"");
    bad("lowercase dtype", T("a", "\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]"), 4,
        STELE_ERR_DTYPE, "unknown dtype");
    bad("shape not an array", T("a", F32("3", "[0,12]")), 12, STELE_ERR_HEADER,
        "shape is not an array");
    bad("shape of strings", T("a", F32("[\"3\"]", "[0,12]")), 12, STELE_ERR_SHAPE,
        "shape[0] = (not a number)");
    bad("negative dim", T("a", F32("[2,-3]", "[0,24]")), 24, STELE_ERR_SHAPE,
        "shape[1] = -3 is not a non-negative integer");
    bad("fractional dim", T("a", F32("[2.5]", "[0,10]")), 10, STELE_ERR_SHAPE, "shape[0] = 2.5");
    bad("huge dim", T("a", F32("[1e300]", "[0,4]")), 4, STELE_ERR_SHAPE, "shape[0]");
    bad("9 dims", T("a", F32("[1,1,1,1,1,1,1,1,1]", "[0,4]")), 4, STELE_ERR_SHAPE,
        "9 dimensions");
    bad("product overflow", T("a", F32("[4294967296,4294967296]", "[0,4]")), 4,
        STELE_ERR_SHAPE, "overflows");
    bad("dim over 2^53", T("a", F32("[4611686018427387904]", "[0,4]")), 4, STELE_ERR_SHAPE,
        "too large");
    bad("bytes overflow", T("a", F32("[2147483648,1073741824,1024]", "[0,4]")), 4,
        STELE_ERR_SHAPE, "overflows");
    bad("size mismatch", T("enc_layers.0.weight_ih_l0", F32("[4,4]", "[0,60]")), 64,
        STELE_ERR_SHAPE, "tensor \"enc_layers.0.weight_ih_l0\": shape [4, 4] x F32 (4 bytes) = "
        "64 bytes, but data_offsets [0, 60] hold 60");
    bad("offsets not an array", T("a", F32("[1]", "4")), 4, STELE_ERR_HEADER, "data_offsets");
    bad("three offsets", T("a", F32("[1]", "[0,4,8]")), 8, STELE_ERR_HEADER, "two numbers");
    bad("negative offset", T("a", F32("[1]", "[-4,0]")), 4, STELE_ERR_RANGE,
        "data_offsets [-4, 0] are not non-negative integers");
    bad("fractional offset", T("a", F32("[1]", "[0.5,4.5]")), 8, STELE_ERR_RANGE,
        "not non-negative integers");
    bad("begin after end", T("a", F32("[1]", "[8,4]")), 8, STELE_ERR_RANGE, "begin after");
    bad("end beyond data", T("enc_layers.0.weight_ih_l0", F32("[16]", "[16,80]")), 64,
        STELE_ERR_RANGE, "tensor \"enc_layers.0.weight_ih_l0\": data_offsets [16, 80] end beyond "
        "the 64-byte data section");
    bad("offset 2^60", T("a", F32("[1]", "[1152921504606846976,1152921504606846980]")), 8,
        STELE_ERR_RANGE, "end beyond");
    bad("overlap", "{\"a\":{" F32("[4]", "[0,16]") "},\"b\":{" F32("[2]", "[12,20]") "}}", 24,
        STELE_ERR_RANGE, "tensor \"b\": data_offsets [12, 20] overlap tensor \"a\" [0, 16]");
    bad("same range", "{\"a\":{" F32("[2]", "[8,16]") "},\"b\":{" F32("[2]", "[8,16]") "}}", 24,
        STELE_ERR_RANGE, "overlap");
    bad("contained", "{\"a\":{" F32("[8]", "[0,32]") "},\"b\":{" F32("[1]", "[4,8]") "},"
        "\"c\":{" F32("[1]", "[20,24]") "}}", 32, STELE_ERR_RANGE, "overlap tensor \"a\"");
    bad("metadata not an object", "{\"__metadata__\":[\"a\"]}", 0, STELE_ERR_HEADER,
        "__metadata__ is not a JSON object");
    bad("metadata number", "{\"__metadata__\":{\"format\":\"stele\",\"format_version\":1}}", 0,
        STELE_ERR_HEADER, "__metadata__ value \"format_version\" is not a string");
    bad("metadata object", "{\"__metadata__\":{\"config\":{}}}", 0, STELE_ERR_HEADER,
        "\"config\" is not a string");

    /* Empty tensors inside another's range overlap nothing. */
    char msg[256];
    CHECK(open_status("{\"a\":{" F32("[4]", "[0,16]") "},\"b\":{" F32("[0]", "[8,8]") "}}", 16,
                      msg, sizeof msg) == STELE_OK, "empty inside: %s", msg);
}

/* The golden model files: load, and every truncation fails cleanly with HEADER or RANGE. */
static void golden(const char *path) {
    size_t size;
    uint8_t *b = read_file(path, &size);
    CHECK(b != NULL, "read %s", path);
    if (!b) return;
    st_file *f = NULL;
    stele_error err;
    CHECK(st_open(b, size, &f, &err) == STELE_OK, "%s: %s", path, err.message);
    if (f) {
        /* text models embed SentencePiece, image models (caption, vqa) a word list */
        const st_tensor *tok = st_find(f, "tokenizer.spm");
        if (!tok) tok = st_find(f, "tokenizer.words");
        int is_trace = strstr(path, ".trace.") != NULL;
        CHECK(is_trace || (tok && tok->dtype == ST_U8 && tok->ndim == 1 && tok->nbytes > 0),
              "%s: tokenizer.spm or tokenizer.words", path);
        CHECK(is_trace || (st_meta(f, "format") && strcmp(st_meta(f, "format"), "stele") == 0),
              "%s: format", path);
        size_t total = 0;
        for (size_t i = 0; i < st_count(f); i++) {
            const st_tensor *t = st_at(f, i);
            total += t->nbytes;
            CHECK(st_find(f, t->name) == t, "%s: find %s", path, t->name);
            CHECK((size_t)t->numel * st_dtype_size(t->dtype) == t->nbytes, "%s: %s", path,
                  t->name);
        }
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
        CHECK(total == size - 8 - n, "%s: tensors cover the data section", path);
    }
    st_close(f);
    size_t step = size / 97 + 1;
    for (size_t cut = 0; cut < size; cut += step) {
        stele_status st = st_open(b, cut, &f, &err);
        CHECK(st == STELE_ERR_HEADER || st == STELE_ERR_RANGE, "%s cut at %zu: %s %s", path, cut,
              t_status_name(st), err.message);
        st_close(f);
        f = NULL;
    }
    free(b);
}

int main(int argc, char **argv) {
    valid();
    errors();
    for (int i = 1; i < argc; i++) golden(argv[i]);
    printf("%d golden files\n", argc - 1);
    return t_report("test_safetensors");
}
