/* libFuzzer target: the truecasing table of text models (src/casing.c: the tokenizer.truecase
 * tensor) and the ALL CAPS path that reads it. Input: a table, then (after the first 0x01 byte,
 * or nothing) a text.
 * Checks beyond "no crash / leak / UB": a refused table has a message and no index; an accepted
 * one finds every line's key (its own form back), and no key one byte longer or shorter than a
 * listed one unless that is listed too; truecasing a text with it changes letters' case only
 * (the output lower-cased equals the sentence-case text lower-cased), never its length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/casing.h"

static void lower_ascii(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0x01, size);
    size_t tn = sep ? (size_t)(sep - data) : size;
    uint8_t *bytes = malloc(tn ? tn : 1);   /* an exact-size copy: ASan sees overreads */
    if (!bytes)
        return 0;
    memcpy(bytes, data, tn);
    casing_table t;
    stele_error err;
    err.message[0] = 0;
    if (casing_table_load(bytes, tn, &t, &err) != STELE_OK) {
        if (!err.message[0] || t.line || t.count)
            abort();
        free(bytes);
        return 0;
    }
    for (int k = 0; k < t.count; k++) {
        const char *key = t.bytes + t.line[k];
        size_t len = (size_t)(strchr(key, '\t') - key);
        const char *form = casing_table_find(&t, key, len);
        if (form != key + len + 1)
            abort();
        if (len > 1 && casing_table_find(&t, key, len - 1) &&
            (k == 0 || strncmp(t.bytes + t.line[k - 1], key, len - 1) != 0))
            abort();   /* a shorter key is found only when it is listed (just before) */
    }
    if (sep) {
        const char *text = (const char *)sep + 1;
        size_t n = size - tn - 1;
        char *out = malloc(n + 1), *tmp = malloc(n + 1), *plain = malloc(n + 1);
        if (out && tmp && plain) {
            casing_pattern p = casing_detect(text, n);
            casing_to_sentence(p, text, n, plain);
            casing_truecase(p, text, n, out, tmp, NULL, NULL, &t);
            lower_ascii(out, n);
            lower_ascii(plain, n);
            if (memcmp(out, plain, n) != 0)
                abort();
        }
        free(out);
        free(tmp);
        free(plain);
    }
    casing_table_free(&t);
    free(bytes);
    return 0;
}
