/* libFuzzer target: the SentencePiece ModelProto reader (spm_load) on arbitrary bytes; whatever
 * it accepts must then encode and decode a fixed text without trouble. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sentencepiece.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *b = malloc(size ? size : 1);
    if (!b) return 0;
    memcpy(b, data, size);
    spm_model *m = NULL;
    stele_error err;
    stele_status st = spm_load(b, size, &m, &err);
    free(b);   /* the model must not keep pointers into the bytes */
    if (st != STELE_OK) {
        if (!err.message[0] || m) abort();
        return 0;
    }
    static const char text[] = "  Save the\tdocument  \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80 <s> ab ";
    size_t len = sizeof text - 1;
    void *scratch = malloc(spm_scratch_bytes(m, len));
    int32_t ids[64];
    size_t n = 0;
    st = spm_encode(m, text, len, ids, 64, &n, scratch, &err);
    if (st != STELE_OK || n > spm_max_ids(len)) abort();
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= spm_vocab_size(m)) abort();
    char out[512];
    (void)spm_decode(m, ids, n, out, sizeof out);
    for (int i = 0; i < spm_vocab_size(m) && i < 64; i++) (void)spm_piece(m, i);
    free(scratch);
    spm_free(m);
    return 0;
}
