/* Characters the tokenizer has no piece for (emoji, symbols, rare letters) pass through the
 * translation unchanged: they are removed from the source before encoding, so the model never
 * sees an <unk> it was not trained on, and put back into the output next to the translation of
 * the words they stood beside (word alignment from attention). Internal to stele. */
#ifndef STELE_PASSTHROUGH_H
#define STELE_PASSTHROUGH_H
#include <stddef.h>
#include <stdint.h>
#include "sentencepiece.h"

/* A removed run: unknown characters and the spaces between them. */
typedef struct {
    int32_t start, end;        /* bytes in the input text */
    int32_t word;              /* words of the stripped text before the run */
    uint8_t space_before;      /* a space (or the text's start) precedes the run */
    uint8_t space_after;       /* a space (or the text's end) follows it */
} unk_span;

/* Copies text[0..n) (valid UTF-8) into out (n bytes of room) without its unknown runs; a run
   glued to words on both sides leaves one space so the words stay apart. Records up to cap runs
   in spans (*n_spans); later runs stay in the text (they become <unk>). Returns out's length. */
size_t passthrough_strip(const spm_model *spm, const char *text, size_t n, char *out,
                         unk_span *spans, int cap, int *n_spans);

/* Where a run goes in one translation text[0..len): at byte pos, with a space before it
   (space_before) or after it (suffix). */
typedef struct {
    int32_t pos;
    uint8_t prefix, suffix;
} unk_place;

/* Places run sp of a source with n_src_words words. word_align [n_tgt_words] is each target
   word's aligned source word (NULL: no attention) and word_start/word_end [n_tgt_words] their
   bytes in text. A run before the first source word goes to the output's start, one after the
   last to its end, one between source words a and a+1 after the last target word aligned to a,
   else before the first one aligned to a+1, else at the end. */
unk_place passthrough_place(const unk_span *sp, int n_src_words, int n_tgt_words,
                            const int32_t *word_align, const int32_t *word_start,
                            const int32_t *word_end, size_t len);

/* Writes text[0..len) with runs spans[order[i]] (placed at places[order[i]], order sorted by
   position) copied from src into out (cap bytes, NUL-terminated). Returns the length, or -1
   when it would not fit (out then holds nothing useful). */
ptrdiff_t passthrough_insert(const char *text, size_t len, const char *src, const unk_span *spans,
                             const unk_place *places, const size_t *order, int n, char *out,
                             size_t cap);
#endif
