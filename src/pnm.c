/* Binary PGM / PPM parsing (pnm.h). */
#include "pnm.h"
#include <stdlib.h>
#include <string.h>

/* Skips white space and "#" comments of a PNM header; returns the next unsigned number (at most
 * six digits are read: anything that large is refused by the caller), or -1 when there is none. */
static long pnm_number(const unsigned char *b, size_t n, size_t *i)
{
    for (;;) {
        while (*i < n && b[*i] && strchr(" \t\r\n\v\f", b[*i]))
            (*i)++;
        if (*i < n && b[*i] == '#') {
            while (*i < n && b[*i] != '\n')
                (*i)++;
            continue;
        }
        break;
    }
    long v = -1;
    while (*i < n && b[*i] >= '0' && b[*i] <= '9' && v < 100000)
        v = (v < 0 ? 0 : 10 * v) + (b[(*i)++] - '0');
    return v;
}

unsigned char *pnm_parse(const unsigned char *b, size_t n, int *w, int *h, int *channels,
                         const char **why)
{
    *why = "not a binary PGM (P5) or PPM (P6) image";
    if (n < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6'))
        return NULL;
    const int ch = b[1] == '5' ? 1 : 3;
    size_t i = 2;
    long W = pnm_number(b, n, &i), H = pnm_number(b, n, &i), maxval = pnm_number(b, n, &i);
    if (W < 1 || H < 1 || W > PNM_MAX_SIDE || H > PNM_MAX_SIDE || maxval < 1 || maxval > 255 ||
        i >= n) {
        *why = maxval > 255 ? "16-bit PNM images are not supported (maxval over 255)"
                            : "bad PNM header (width, height 1..4096, maxval 1..255)";
        return NULL;
    }
    i++;   /* the single white space character after maxval */
    const size_t bytes = (size_t)W * (size_t)H * (size_t)ch;
    if (n - i < bytes) {
        *why = "the file ends before its last pixel";
        return NULL;
    }
    unsigned char *px = malloc(bytes);
    if (!px) {
        *why = "out of memory for the pixels";
        return NULL;
    }
    memcpy(px, b + i, bytes);
    if (maxval != 255)
        for (size_t k = 0; k < bytes; k++)
            px[k] = (unsigned char)(px[k] > maxval ? 255 : (px[k] * 255 + maxval / 2) / maxval);
    *w = (int)W;
    *h = (int)H;
    *channels = ch;
    return px;
}
