/* A word-level vocabulary (the caption models' tokenizer.words tensor, models/FORMAT.md): UTF-8
 * words separated by "\n", line i = id i. Ids -> text for captions, and text -> ids (lower-case
 * ASCII, split on white space, "," and "?" tokens of their own) for models that read words.
 * Internal. */
#ifndef STELE_WORDS_H
#define STELE_WORDS_H
#include <stddef.h>
#include <stdint.h>
#include "stele.h"

typedef struct words words;

/* Parses bytes[0..n) (one optional trailing "\n" allowed) into a vocabulary the caller frees
 * with words_free. Refused with STELE_ERR_TOKENIZER naming the line: an empty word, a word with
 * white space or a control character, invalid UTF-8, a word listed twice. */
stele_status words_load(const uint8_t *bytes, size_t n, words **out, stele_error *err);
void words_free(words *w);

int words_count(const words *w);
/* The word of id, or NULL when out of range. */
const char *words_word(const words *w, int id);
/* Length in bytes of the longest word. */
size_t words_longest(const words *w);

/* The text of ids[0..n): words joined by " ", no space before "," or "?"; the control words
 * "<pad>", "<s>" and "</s>" are left out. Writes at most cap bytes including the NUL (cut at a
 * word boundary when too small); returns the length the whole text needs (without NUL). */
size_t words_decode(const words *w, const int32_t *ids, size_t n, char *out, size_t cap);

/* Ids of text[0..len): ASCII letters lower-cased, tokens split at white space, "," and "?" each
 * a token; a token not in the vocabulary becomes unk_id. *count receives the number of tokens;
 * more than cap: STELE_ERR_LIMIT (ids holds the first cap). Invalid UTF-8 or a NUL byte:
 * STELE_ERR_TEXT naming the byte offset. No allocation. */
stele_status words_encode(const words *w, const char *text, size_t len, int32_t unk_id,
                          int32_t *ids, size_t cap, size_t *count, stele_error *err);
#endif
