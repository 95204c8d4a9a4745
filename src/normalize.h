/* Input normalization around one translation (params.normalize): the source is sentence-cased
 * (casing.h) and stripped of characters the tokenizer does not know (passthrough.h) before
 * encoding; the output gets the input's case pattern and those characters back. Off, the text
 * goes to the tokenizer untouched (the raw path the PyTorch goldens check). Internal to stele. */
#ifndef STELE_NORMALIZE_H
#define STELE_NORMALIZE_H
#include <stddef.h>

struct stele_session;

/* Allocates the session's normalization buffers (sized from its limits and text_cap); sets
   *oom on failure. Freed by stele_session_free. */
void normalize_alloc(struct stele_session *s, int *oom);

/* The text to tokenise for text[0..n) (*out_n bytes): text itself when s->normalize is off or
   the text is not valid UTF-8 without NUL (the tokenizer then reports it), else the session's
   normalized copy. text must stay alive until normalize_result has run. */
const char *normalize_source(struct stele_session *s, const char *text, size_t n, size_t *out_n);

/* Applies the case pattern and puts the removed characters back into the assembled result's
   texts (word alignment places them in hyps[0]; other hypotheses get them at the start or end). */
void normalize_result(struct stele_session *s);
#endif
