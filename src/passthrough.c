/* Unknown characters: removal before translation, placement after (passthrough.h). */
#include "passthrough.h"
#include "utf8.h"

static size_t char_at(const char *text, size_t n, size_t i)
{
    uint32_t cp;
    size_t k = utf8_decode((const uint8_t *)text + i, n - i, &cp);
    return k ? k : 1;
}

static int unknown_at(const spm_model *spm, const char *text, size_t n, size_t i, size_t *k)
{
    *k = char_at(text, n, i);
    return text[i] != ' ' && !spm_char_known(spm, text + i, *k);
}

size_t passthrough_strip(const spm_model *spm, const char *text, size_t n, char *out,
                         unk_span *spans, int cap, int *n_spans)
{
    size_t o = 0, k;
    int words = 0, in_word = 0;
    *n_spans = 0;
    for (size_t i = 0; i < n;) {
        if (*n_spans >= cap || !unknown_at(spm, text, n, i, &k)) {
            k = char_at(text, n, i);
            if (text[i] == ' ')
                in_word = 0;
            else if (!in_word)
                in_word = 1, words++;
            for (size_t j = 0; j < k; j++)
                out[o++] = text[i + j];
            i += k;
            continue;
        }
        /* The run: this character, then further unknown characters with only spaces between. */
        size_t start = i, end = i + k;
        for (;;) {
            size_t j = end;
            while (j < n && text[j] == ' ')
                j++;
            if (j >= n || !unknown_at(spm, text, n, j, &k))
                break;
            end = j + k;
        }
        unk_span *sp = &spans[(*n_spans)++];
        sp->start = (int32_t)start;
        sp->end = (int32_t)end;
        sp->space_before = start == 0 || text[start - 1] == ' ';
        sp->space_after = end == n || text[end] == ' ';
        /* "a✓b" -> "a b": the words stay two words. in_word stays: "file✓" is one word. */
        if (!sp->space_before && !sp->space_after) {
            out[o++] = ' ';
            in_word = 0;
        }
        sp->word = words;
        i = end;
    }
    /* A run glued to the front of a word ("✓Save") precedes that word: already counted right,
       since the word is counted when its first kept character is copied. A run glued to the
       end of a word ("Save✓") follows it: words already includes it. */
    return o;
}

unk_place passthrough_place(const unk_span *sp, int n_src_words, int n_tgt_words,
                            const int32_t *word_align, const int32_t *word_start,
                            const int32_t *word_end, size_t len)
{
    unk_place at = {(int32_t)len, sp->space_before, 0};
    if (sp->word <= 0 && n_src_words > 0) {
        at.pos = 0;
        at.prefix = 0;
        at.suffix = sp->space_after;
        return at;
    }
    if (sp->word >= n_src_words || !word_align)
        return at;
    for (int tw = n_tgt_words - 1; tw >= 0; tw--)
        if (word_align[tw] == sp->word - 1) {
            at.pos = word_end[tw];
            return at;
        }
    for (int tw = 0; tw < n_tgt_words; tw++)
        if (word_align[tw] == sp->word) {
            at.pos = word_start[tw];
            at.prefix = 0;
            at.suffix = sp->space_after;
            return at;
        }
    return at;
}

static int put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    if (*o + n >= cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[(*o)++] = s[i];
    return 1;
}

ptrdiff_t passthrough_insert(const char *text, size_t len, const char *src, const unk_span *spans,
                             const unk_place *places, const size_t *order, int n, char *out,
                             size_t cap)
{
    size_t o = 0, t = 0;
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        const unk_span *sp = &spans[order[i]];
        const unk_place *pl = &places[order[i]];
        size_t pos = (size_t)pl->pos < len ? (size_t)pl->pos : len;
        ok &= put(out, cap, &o, text + t, pos - t);
        t = pos;
        /* No space at the very start or doubled after one. */
        if (pl->prefix && o > 0 && out[o - 1] != ' ')
            ok &= put(out, cap, &o, " ", 1);
        ok &= put(out, cap, &o, src + sp->start, (size_t)(sp->end - sp->start));
        /* No space at the very end or doubled before one. */
        if (pl->suffix && t < len && text[t] != ' ')
            ok &= put(out, cap, &o, " ", 1);
        else if (pl->suffix && t == len && i + 1 < n)
            ok &= put(out, cap, &o, " ", 1);
    }
    ok &= put(out, cap, &o, text + t, len - t);
    if (!ok || cap == 0)
        return -1;
    out[o] = '\0';
    return (ptrdiff_t)o;
}
