/* libFuzzer target: the word vocabulary of image models (src/words.c: the tokenizer.words
 * tensor) and its encoder and decoder on arbitrary bytes. Input: a vocabulary, then (after the
 * first 0x01 byte, or nothing) a text.
 * Checks beyond "no crash / leak / UB": a refused vocabulary has a message and no object; an
 * accepted one has words that are non-empty, free of white space and control characters, valid
 * UTF-8 and distinct, and every word encodes to its own id; the text encodes exactly when it is
 * valid UTF-8 without NUL (an independent validator below), to ids in range, and a buffer one
 * id too small gives STELE_ERR_LIMIT with the same count; decoding reports the length it needs,
 * writes no more than its buffer, and a word-cut buffer still ends in a NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/words.h"

/* 1 when b[0..n) is valid UTF-8 (shortest forms, no surrogates, <= U+10FFFF) without NUL. */
static int valid_utf8(const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = b[i];
        size_t k;
        uint32_t cp;
        if (c == 0) return 0;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { k = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { k = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { k = 4; cp = c & 0x07; }
        else return 0;
        if (i + k > n) return 0;
        for (size_t j = 1; j < k; j++) {
            if ((b[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (b[i + j] & 0x3f);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *sep = memchr(data, 0x01, size);
    size_t vn = sep ? (size_t)(sep - data) : size;
    uint8_t *vocab = malloc(vn ? vn : 1);   /* an exact-size copy: ASan sees overreads */
    if (!vocab) return 0;
    memcpy(vocab, data, vn);
    words *w = NULL;
    stele_error err;
    err.message[0] = 0;
    stele_status st = words_load(vocab, vn, &w, &err);
    free(vocab);   /* the vocabulary must not keep pointers into the bytes */
    if (st != STELE_OK) {
        if (!err.message[0] || w) abort();
        return 0;
    }
    int n = words_count(w);
    if (n < 1) abort();
    static int32_t one[4097];   /* a word of up to max_len bytes: at most that many tokens */
    size_t cnt;
    for (int i = 0; i < n && i < 256; i++) {
        const char *word = words_word(w, i);
        size_t len = strlen(word);
        if (!len || len > words_longest(w) || !valid_utf8((const uint8_t *)word, len)) abort();
        for (size_t j = 0; j < len; j++)
            if ((unsigned char)word[j] <= 0x20 || word[j] == 0x7f) abort();
        /* a word encodes to itself only when the encoder would not change or split it */
        int plain = 1;
        for (size_t j = 0; j < len; j++)
            if ((word[j] >= 'A' && word[j] <= 'Z') || word[j] == ',' || word[j] == '?') plain = 0;
        if (words_encode(w, word, len, -1, one, len, &cnt, &err) != STELE_OK) abort();
        if (plain && (cnt != 1 || one[0] != i)) abort();
    }
    if (words_word(w, n) || words_word(w, -1)) abort();

    /* the text */
    const uint8_t *text = sep ? sep + 1 : data + size;
    size_t tn = sep ? size - vn - 1 : 0;
    char *t = malloc(tn ? tn : 1);
    int32_t *ids = malloc(sizeof(int32_t) * (tn + 2));
    char *out = NULL;
    if (!t || !ids) goto done;
    memcpy(t, text, tn);
    st = words_encode(w, t, tn, 1 % n, ids, tn + 2, &cnt, &err);
    if ((st == STELE_OK) != valid_utf8(text, tn)) abort();
    if (st == STELE_OK) {
        if (cnt > tn) abort();   /* every token holds at least one byte */
        for (size_t i = 0; i < cnt; i++)
            if (ids[i] < 0 || ids[i] >= n) abort();
        if (cnt > 0) {
            size_t c2 = 0;
            if (words_encode(w, t, tn, 1 % n, ids, cnt - 1, &c2, &err) != STELE_ERR_LIMIT ||
                c2 != cnt)
                abort();
            if (words_encode(w, t, tn, 1 % n, ids, tn + 2, &c2, &err) != STELE_OK) abort();
        }
        /* decode: the length query, then buffers of the exact size and of a few bytes */
        size_t need = words_decode(w, ids, cnt, NULL, 0);
        out = malloc(need + 1);
        if (!out) goto done;
        if (words_decode(w, ids, cnt, out, need + 1) != need || strlen(out) != need) abort();
        size_t small = tn ? (size_t)text[0] % (need + 1) : need / 2;
        char *cut = malloc(small ? small : 1);
        if (!cut) goto done;
        if (small) {
            if (words_decode(w, ids, cnt, cut, small) != need) abort();
            if (!memchr(cut, 0, small)) abort();   /* NUL-terminated inside the buffer */
        }
        free(cut);
    } else if (!err.message[0]) {
        abort();
    }
    /* out-of-range ids decode without reading outside the vocabulary */
    int32_t odd[3] = {-5, n, (int32_t)(tn % (size_t)n)};
    char small_out[16];
    (void)words_decode(w, odd, 3, small_out, sizeof small_out);
done:
    free(out);
    free(ids);
    free(t);
    words_free(w);
    return 0;
}
