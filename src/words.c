/* Word vocabularies (words.h): one copy of the list with each "\n" made a NUL, the offset of
 * every word, and the ids sorted by word for the binary search of words_encode. */
#include "words.h"
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "isort.h"
#include "utf8.h"

struct words {
    char *text;          /* the words, NUL-terminated, back to back */
    size_t *start;       /* [n] offset of word i in text */
    size_t *sorted;      /* [n] ids in byte order of their words */
    unsigned char *control;   /* [n] 1 for <pad>, <s>, </s> (not written by words_decode) */
    int n;
    size_t longest;
};

void words_free(words *w)
{
    if (!w)
        return;
    free(w->text);
    free(w->start);
    free(w->sorted);
    free(w->control);
    free(w);
}

static int word_less(const void *ctx, size_t a, size_t b)
{
    const words *w = ctx;
    return strcmp(w->text + w->start[a], w->text + w->start[b]) < 0;
}

stele_status words_load(const uint8_t *bytes, size_t n, words **out, stele_error *err)
{
    *out = NULL;
    if (n > 0 && bytes[n - 1] == '\n')
        n--;   /* a file's last line may end in a newline */
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += bytes[i] == '\n';
    if (lines > (1u << 24))
        return stele_fail(err, STELE_ERR_TOKENIZER, "tokenizer.words: %zu words, over the limit "
                          "of 16777216", lines);
    words *w = calloc(1, sizeof *w);
    if (!w)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for the word vocabulary");
    w->n = (int)lines;
    w->text = malloc(n + 1);
    w->start = malloc(sizeof(size_t) * lines);
    w->sorted = malloc(sizeof(size_t) * lines);
    w->control = calloc(lines, 1);
    if (!w->text || !w->start || !w->sorted || !w->control) {
        words_free(w);
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for the word vocabulary (%zu "
                          "words)", lines);
    }
    memcpy(w->text, bytes, n);
    w->text[n] = 0;
    size_t id = 0, begin = 0;
    for (size_t i = 0; i <= n;) {
        if (i == n || bytes[i] == '\n') {
            if (i == begin) {
                words_free(w);
                return stele_fail(err, STELE_ERR_TOKENIZER, "tokenizer.words: word %zu (line "
                                  "%zu) is empty", id, id + 1);
            }
            w->text[i] = 0;
            w->start[id] = begin;
            w->sorted[id] = id;
            if (i - begin > w->longest)
                w->longest = i - begin;
            const char *word = w->text + begin;
            w->control[id] = strcmp(word, "<pad>") == 0 || strcmp(word, "<s>") == 0 ||
                             strcmp(word, "</s>") == 0;
            id++;
            begin = ++i;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_decode(bytes + i, n - i, &cp);
        /* a space or control character would not survive words_decode / words_encode */
        if (!k || cp <= 0x20 || cp == 0x7f) {
            words_free(w);
            return stele_fail(err, STELE_ERR_TOKENIZER, "tokenizer.words: word %zu (line %zu) "
                              "has %s at byte %zu", id, id + 1, !k ? "invalid UTF-8" :
                              "white space or a control character", i);
        }
        i += k;
    }
    isort(w->sorted, lines, word_less, w);
    for (size_t i = 1; i < lines; i++)
        if (strcmp(w->text + w->start[w->sorted[i - 1]], w->text + w->start[w->sorted[i]]) == 0) {
            size_t a = w->sorted[i - 1], b = w->sorted[i];
            stele_status st = stele_fail(err, STELE_ERR_TOKENIZER, "tokenizer.words: words %zu "
                                         "and %zu are both \"%.40s\"", a < b ? a : b,
                                         a < b ? b : a, w->text + w->start[a]);
            words_free(w);
            return st;
        }
    *out = w;
    return STELE_OK;
}

int words_count(const words *w) { return w ? w->n : 0; }

const char *words_word(const words *w, int id)
{
    return w && id >= 0 && id < w->n ? w->text + w->start[id] : NULL;
}

size_t words_longest(const words *w) { return w ? w->longest : 0; }

size_t words_decode(const words *w, const int32_t *ids, size_t n, char *out, size_t cap)
{
    size_t len = 0, written = 0;   /* written: bytes of whole words that fit */
    for (size_t i = 0; i < n; i++) {
        const char *word = words_word(w, ids[i]);
        if (!word || w->control[ids[i]])
            continue;
        size_t k = strlen(word);
        int space = len > 0 && strcmp(word, ",") != 0 && strcmp(word, "?") != 0;
        if (out && written == len && len + space + k < cap) {
            if (space)
                out[len] = ' ';
            memcpy(out + len + space, word, k);
            written = len + space + k;
        }
        len += space + k;
    }
    if (out && cap)
        out[written] = 0;
    return len;
}

/* strcmp of the lower-cased token tok[0..n) with the NUL-terminated word. */
static int token_cmp(const char *tok, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)tok[i], b = (unsigned char)word[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a - 'A' + 'a');
        if (b == 0 || a != b)
            return b == 0 ? 1 : (int)a - (int)b;
    }
    return word[n] ? -1 : 0;
}

static int32_t lookup(const words *w, const char *tok, size_t n, int32_t unk_id)
{
    size_t lo = 0, hi = (size_t)w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = token_cmp(tok, n, w->text + w->start[w->sorted[mid]]);
        if (c == 0)
            return (int32_t)w->sorted[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return unk_id;
}

/* ASCII white space, as scripts/words.py ASCII_SPACE (other spaces, U+00A0 and the like, stay
 * inside words there too) */
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

stele_status words_encode(const words *w, const char *text, size_t len, int32_t unk_id,
                          int32_t *ids, size_t cap, size_t *count, stele_error *err)
{
    *count = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = utf8_decode((const uint8_t *)text + i, len - i, &cp);
        if (!k || cp == 0)
            return stele_fail(err, STELE_ERR_TEXT, "input has %s at byte %zu",
                              k ? "a NUL byte" : "invalid UTF-8", i);
        i += k;
    }
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (is_space(text[i])) {
            i++;
            continue;
        }
        size_t j = i + 1;
        if (text[i] != ',' && text[i] != '?')
            while (j < len && !is_space(text[j]) && text[j] != ',' && text[j] != '?')
                j++;
        if (n < cap)
            ids[n] = lookup(w, text + i, j - i, unk_id);
        n++;
        i = j;
    }
    *count = n;
    if (n > cap)
        return stele_fail(err, STELE_ERR_LIMIT, "input has %zu words, the limit is %zu", n, cap);
    return STELE_OK;
}
