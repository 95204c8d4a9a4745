/* Protected spans: placeholders, markup and mnemonics kept out of the model's way and put back
 * after translation (grammar and restoration rules: protect.c's top comment). Internal to stele;
 * the tests and the fuzz target use it directly. */
#ifndef STELE_PROTECT_H
#define STELE_PROTECT_H
#include <stddef.h>
#include <stdint.h>

enum {
    PROTECT_PLACEHOLDER = 1,   /* printf / brace / dollar placeholder, entity, self-closing tag */
    PROTECT_OPEN,              /* opening tag with its closing partner in the text */
    PROTECT_CLOSE,
    PROTECT_MNEMONIC           /* the '_' or '&' marker before a letter (len 1) */
};

/* At most this many spans, of at most this many bytes together, per text: a text with more is
 * translated unprotected. */
#define PROTECT_MAX_SPANS 256
#define PROTECT_MAX_SPAN_BYTES 16384

typedef struct {
    int kind;
    int start, len;            /* bytes of the source text */
    int pair;                  /* OPEN / CLOSE: index of the partner span; else -1 */
    int parent;                /* OPEN / CLOSE: index of the enclosing OPEN; else -1 */
    int mpos, mlen;            /* where it is in the masked text: the mask (placeholder) or the
                                  point it was cut from (tags, mnemonic; mlen 0) */
    int word;                  /* masked-text word of the span (see protect.c) */
} protect_span;

/* Recognises the spans of text[0..n) in text order (tags only when paired, a mnemonic only when
 * it is the text's only candidate). Returns their count, 0 when there are none or more than
 * cap. Never fails: what the grammar does not accept is plain text. */
int protect_scan(const char *text, size_t n, protect_span *spans, int cap);

typedef struct protect_ctx protect_ctx;

/* Scratch for texts of up to max_text_bytes in up to max_words whitespace-separated words (more
 * could not fit the session's source tokens anyway: such a text is not protected) and
 * translations of up to max_out_bytes (the model's detokenised output), with n_out restored
 * outputs (one per returned hypothesis). NULL when out of memory. Nothing is allocated after. */
protect_ctx *protect_create(size_t max_text_bytes, int max_words, size_t max_out_bytes, int n_out);
void protect_free(protect_ctx *c);

/* Scans text[0..n) and writes the masked text the model translates. Returns the number of
 * spans (0: nothing to protect; *masked is then text itself). */
int protect_mask(protect_ctx *c, const char *text, size_t n, const char **masked,
                 size_t *masked_len);

/* Restores the spans of the last protect_mask() into target (the masked text's translation,
 * NUL-terminated) and returns the result, held in output `slot` until the next call for that
 * slot. align [n_tgt_words]: the source word each target word is aligned to (word-level
 * attention), n_src_words / n_tgt_words the model's word counts; NULL (or counts that disagree
 * with the whitespace words) places spans by relative position. word_attn [n_tgt_words x
 * n_src_words] (may be NULL) picks the mnemonic's word. NULL on overflow (a bug). */
const char *protect_restore(protect_ctx *c, int slot, const char *target, int n_src_words,
                            int n_tgt_words, const int32_t *align, const float *word_attn);
#endif
