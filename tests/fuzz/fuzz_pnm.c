/* libFuzzer target: the binary PGM / PPM parser of the native CLI's image commands (src/pnm.c)
 * on arbitrary bytes. Checks beyond "no crash / leak / UB": a refused image has a reason and no
 * pixels; an accepted one has a size within 1..4096, 1 or 3 channels matching its magic, every
 * pixel byte readable (an exact-size copy of the input, so ASan sees overreads), no more pixel
 * bytes than input bytes, and the same input parsed twice gives the same pixels. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/pnm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *b = malloc(size ? size : 1);
    if (!b) return 0;
    memcpy(b, data, size);
    int w = -1, h = -1, ch = -1;
    const char *why = NULL;
    unsigned char *px = pnm_parse(b, size, &w, &h, &ch, &why);
    if (!px) {
        if (!why || !why[0]) abort();
        free(b);
        return 0;
    }
    if (w < 1 || h < 1 || w > PNM_MAX_SIDE || h > PNM_MAX_SIDE) abort();
    if (ch != (b[1] == '5' ? 1 : 3)) abort();
    size_t bytes = (size_t)w * (size_t)h * (size_t)ch;
    if (bytes > size) abort();   /* the pixels come from the input */
    unsigned sum = 0;
    for (size_t k = 0; k < bytes; k++) sum += px[k];   /* all readable */
    (void)sum;
    int w2, h2, ch2;
    unsigned char *again = pnm_parse(b, size, &w2, &h2, &ch2, &why);
    if (!again || w2 != w || h2 != h || ch2 != ch || memcmp(again, px, bytes) != 0) abort();
    free(again);
    free(px);
    free(b);
    return 0;
}
