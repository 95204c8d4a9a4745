/* Binary PGM (P5, gray) and PPM (P6, RGB) images, the one image format the native CLI reads
 * (`stele caption`, `stele ask`): a parser over bytes in memory, so that it can be fuzzed apart
 * from the file reading (tests/fuzz/fuzz_pnm.c). Internal; the library itself never reads
 * images from files. */
#ifndef STELE_PNM_H
#define STELE_PNM_H
#include <stddef.h>

/* Largest width and height accepted (a caption model's image is far smaller). */
#define PNM_MAX_SIDE 4096

/* Parses b[0..n): "P5" or "P6", then width, height and maxval (decimal, separated by white
 * space and "#" comments to the end of a line), one white space byte, then height rows of width
 * pixels of 1 (P5) or 3 (P6) bytes. maxval 1..255; samples are scaled to 0..255 (rounded) and a
 * sample above maxval reads as 255. Bytes after the last pixel are ignored. Returns the pixels
 * (malloc'd, width * height * channels bytes; the caller frees them) and sets *w, *h,
 * *channels; on a bad image returns NULL with *why a sentence naming the fault. */
unsigned char *pnm_parse(const unsigned char *b, size_t n, int *w, int *h, int *channels,
                         const char **why);
#endif
