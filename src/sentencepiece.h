/* SentencePiece model reader (protobuf wire format of ModelProto) and the unigram (Viterbi) and
 * char encoders and the decoder, giving the same ids as python3-sentencepiece for the options
 * stele's models use (models/FORMAT.md: identity normalization, add_dummy_prefix,
 * remove_extra_whitespaces, escape_whitespaces). Internal to stele. */
#ifndef STELE_SENTENCEPIECE_H
#define STELE_SENTENCEPIECE_H
#include <stddef.h>
#include <stdint.h>
#include "stele.h"

typedef struct spm_model spm_model;

/* Parses a serialized ModelProto. Copies what it needs (bytes may be freed afterwards).
 * Rejects (STELE_ERR_TOKENIZER, message naming the field and byte offset): malformed protobuf
 * (truncated varints/lengths, group wire types, field 0, a known field with the wrong wire type),
 * model types other than unigram and char, a non-empty precompiled (or denormalizer) charsmap,
 * byte_fallback, treat_whitespace_as_suffix, not exactly one UNKNOWN piece, empty / invalid
 * UTF-8 / NUL-containing / duplicate pieces, BYTE pieces, unknown piece types, trainer_spec
 * unk/bos/eos/pad ids that disagree with the pieces, absurd sizes (> 4M pieces, > 4096-byte
 * pieces). Errors: STELE_ERR_TOKENIZER, STELE_ERR_MEMORY, STELE_ERR_ARGUMENT. */
stele_status spm_load(const uint8_t *bytes, size_t size, spm_model **out, stele_error *err);
void spm_free(spm_model *m);

int spm_vocab_size(const spm_model *m);
const char *spm_piece(const spm_model *m, int id);           /* NULL if out of range */
int spm_unk_id(const spm_model *m);
int spm_bos_id(const spm_model *m);
int spm_eos_id(const spm_model *m);
int spm_pad_id(const spm_model *m);

/* 1 when a piece of exactly the character s[0..n) exists (normal or user-defined), i.e. the
 * encoder never maps it to <unk>; 0 for characters that become <unk>. */
int spm_char_known(const spm_model *m, const char *s, size_t n);

/* The unigram score (summed piece log-probabilities) of text[0..len)'s best segmentation, the
 * dummy prefix included, as spm_encode would segment it: which spelling of a word the model saw
 * more often (casing.c). scratch as spm_encode. 0 for char models and empty text. */
double spm_score(const spm_model *m, const char *text, size_t len, void *scratch);

/* Upper bound of the ids encode can produce for len bytes of text (to size buffers). */
size_t spm_max_ids(size_t text_len);

/* Encodes text[0..len) (must be valid UTF-8 without NUL: else STELE_ERR_TEXT, the message gives
 * the byte offset) into ids[0..*n). cap is the capacity of ids (spm_max_ids(len) always
 * suffices); more pieces than cap: STELE_ERR_LIMIT with *n = the count needed. Empty or
 * whitespace-only text gives 0 ids. scratch: caller-provided workspace of
 * spm_scratch_bytes(m, len) bytes (any alignment), so encoding never allocates; a model may be
 * shared by threads that each use their own scratch. */
size_t spm_scratch_bytes(const spm_model *m, size_t text_len);
stele_status spm_encode(const spm_model *m, const char *text, size_t len, int32_t *ids, size_t cap,
                        size_t *n, void *scratch, stele_error *err);

/* Decodes ids into UTF-8 text as python3-sentencepiece does: pieces joined, "▁" -> space; while
 * nothing has been written yet, each piece loses one leading "▁" (so the dummy-prefix space
 * disappears); control ids (pad/bos/eos) decode to nothing; unk decodes to the model's
 * unk_surface (default " ⁇ "). Ids outside 0..vocab-1 are skipped (sentencepiece raises).
 * Writes at most cap bytes including the NUL (out may be NULL when cap is 0); returns the
 * length needed (excluding NUL), like snprintf. Never allocates. */
size_t spm_decode(const spm_model *m, const int32_t *ids, size_t n, char *out, size_t cap);
#endif
