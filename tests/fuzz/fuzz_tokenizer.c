/* libFuzzer target: encode + decode of arbitrary bytes with real tokenizers
 * (tests/golden/tokenizer/: the unigram 8000 model, and the unigram and char models with
 * user-defined pieces). The first input byte picks the model; the rest is the text.
 * Checks: invalid UTF-8 / NUL -> STELE_ERR_TEXT, else OK; ids in range and within
 * spm_max_ids(); the capacity error reports the same count; decoding is deterministic and the
 * size query agrees with the written length; the decoded text is valid input again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sentencepiece.h"

#ifndef FUZZ_MODEL_DIR
#define FUZZ_MODEL_DIR "tests/golden/tokenizer"
#endif

static const char *names[] = {"unigram-test", "udef-unigram", "udef-char"};
static spm_model *models[3];

static spm_model *load(const char *name) {
    char path[512];
    const char *dir = getenv("FUZZ_MODEL_DIR");
    snprintf(path, sizeof path, "%s/%s.model", dir ? dir : FUZZ_MODEL_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_tokenizer: cannot open %s (run from the repository root or set "
                "FUZZ_MODEL_DIR)\n", path);
        abort();
    }
    static uint8_t buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    spm_model *m = NULL;
    stele_error err;
    if (spm_load(buf, n, &m, &err) != STELE_OK) {
        fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path, err.message);
        abort();
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int which = data[0] % 3;
    if (!models[which]) models[which] = load(names[which]);
    const spm_model *m = models[which];
    size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    memcpy(text, data + 1, len);
    int valid = 1;   /* an independent, simple UTF-8 check */
    for (size_t i = 0; i < len && valid;) {
        uint8_t c = (uint8_t)text[i];
        size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!k || c == 0 || i + k > len) { valid = 0; break; }
        uint32_t cp = k == 1 ? c : c & (0xFF >> (k + 1));
        for (size_t j = 1; j < k; j++) {
            if (((uint8_t)text[i + j] & 0xC0) != 0x80) valid = 0;
            cp = cp << 6 | ((uint8_t)text[i + j] & 0x3F);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) valid = 0;
        i += k;
    }
    size_t cap = spm_max_ids(len);
    int32_t *ids = malloc(cap * sizeof *ids + 1);
    void *scratch = malloc(spm_scratch_bytes(m, len));
    size_t n = 0;
    stele_error err;
    stele_status st = spm_encode(m, text, len, ids, cap, &n, scratch, &err);
    if (!valid) {
        if (st != STELE_ERR_TEXT) abort();
    } else {
        if (st != STELE_OK || n > cap) abort();
        int has_unk = 0;
        for (size_t i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= spm_vocab_size(m)) abort();
            has_unk |= ids[i] == spm_unk_id(m);
        }
        if (n > 1) {   /* too small a buffer: LIMIT with the same count */
            size_t n2 = 0;
            int32_t *few = malloc((n - 1) * sizeof *few);
            if (spm_encode(m, text, len, few, n - 1, &n2, scratch, &err) != STELE_ERR_LIMIT ||
                n2 != n)
                abort();
            free(few);
        }
        size_t need = spm_decode(m, ids, n, NULL, 0);
        char *out = malloc(need + 1);
        if (spm_decode(m, ids, n, out, need + 1) != need || strlen(out) != need) abort();
        if (!has_unk) {   /* (<unk>'s surface is valid too, but kept out for clarity) */
            size_t n3 = 0, cap3 = spm_max_ids(need);
            int32_t *ids3 = malloc(cap3 * sizeof *ids3 + 1);
            void *scratch3 = malloc(spm_scratch_bytes(m, need));
            if (spm_encode(m, out, need, ids3, cap3, &n3, scratch3, &err) != STELE_OK) abort();
            (void)n3;   /* ids may differ: pieces are not a normal form of the text */
            free(ids3);
            free(scratch3);
        }
        free(out);
    }
    free(ids);
    free(scratch);
    free(text);
    return 0;
}
