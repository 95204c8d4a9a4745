/* Letter case of an input as people type it (ALL CAPS, Title Case): the model is trained on
 * sentence-case text, so such input is translated in sentence case and the pattern is put back
 * on the output. Case maps cover ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic, and
 * every map keeps a character's UTF-8 length, so a mapped text has the same byte offsets as the
 * original. Internal to stele. */
#ifndef STELE_CASING_H
#define STELE_CASING_H
#include <stddef.h>
#include <stdint.h>
#include "stele.h"

typedef enum {
    CASING_NONE = 0,   /* anything else: translated as typed */
    CASING_UPPER,      /* >= 2 words with letters, every cased letter upper case */
    CASING_TITLE       /* >= 2 words starting with a cased letter, all of them upper case, and
                          not CASING_UPPER ("%d Files Copied" yes, "Open &File" no) */
} casing_pattern;

/* The pattern of text[0..n) (valid UTF-8). Words are runs of characters other than ASCII
   space. */
casing_pattern casing_detect(const char *text, size_t n);

/* Writes the sentence-case form of text[0..n) into out (n bytes, may equal text): the first
   cased letter of each sentence (the text's, and those after a word ending in '.', '!' or '?')
   stays as typed; CASING_UPPER: every other cased letter lowered; CASING_TITLE:
   each later word's first character lowered when it is a letter and the rest of the word is
   lower case (so "PDF" or "iPhone" stay). CASING_NONE copies. */
void casing_to_sentence(casing_pattern p, const char *text, size_t n, char *out);

/* How likely a spelling of one word is (higher: more likely); ctx is the caller's. */
typedef double (*casing_scorer)(void *ctx, const char *word, size_t n);

/* A truecasing table (tensor tokenizer.truecase, models/FORMAT.md): the usual spelling in the
   training text of each ASCII word that is not usually written in lower case ("GitHub", "PDF",
   "Linux"), keyed by its lower-case form. The Moses truecaser's idea: a word's usual case is a
   fact about the corpus, which the tokenizer's unigram scores only hint at. */
typedef struct {
    const char *bytes;      /* the tensor's "key\tform\n" lines, keys in increasing byte order */
    uint32_t *line;         /* start of each line (owned: casing_table_free) */
    int count;
} casing_table;

/* Checks and indexes the tensor's n bytes (kept, not copied): every line "key\tform\n" with
   key = form in ASCII lower case, form ASCII with an upper-case letter, keys strictly
   increasing. STELE_ERR_TOKENIZER names the line and byte of the first fault. */
stele_status casing_table_load(const uint8_t *bytes, size_t n, casing_table *t, stele_error *err);
void casing_table_free(casing_table *t);

/* The form (n bytes) stored for key[0..n) (lower case), or NULL. */
const char *casing_table_find(const casing_table *t, const char *key, size_t n);

/* casing_to_sentence (each sentence keeps its first capital), then each word respelled:
   - with a table (not NULL) and CASING_UPPER: each word whose core (the word without leading and
     trailing ASCII punctuation) is in the table takes the table's spelling; others keep the
     sentence-case one;
   - otherwise, when score prefers another spelling to the sentence-case one by a margin: for
     CASING_UPPER the word in lower case (not at a sentence start), capitalised or upper case
     ("URL" stays "URL" when the vocabulary knows it so); for CASING_TITLE the word as typed.
   tmp: n bytes of scratch (not out). score and table NULL: casing_to_sentence. */
void casing_truecase(casing_pattern p, const char *text, size_t n, char *out, char *tmp,
                     casing_scorer score, void *ctx, const casing_table *table);

/* Puts pattern p on a translation, in place (UTF-8 lengths unchanged): CASING_UPPER raises
   every cased letter, CASING_TITLE every word's first character when it is a letter. */
void casing_restore(casing_pattern p, char *text, size_t n);

/* Single code points (exposed for the tests): the other case, or c itself. */
unsigned casing_lower(unsigned c);
unsigned casing_upper(unsigned c);
#endif
