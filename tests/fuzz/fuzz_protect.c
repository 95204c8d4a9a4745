/* libFuzzer target: protected spans (src/protect.c) on arbitrary bytes. The input is split at
 * its first 0x01 byte: before it the source text, after it the "translation"; a byte after the
 * split's next byte seeds the alignment (every target word gets a pseudo-random source word, or
 * NULL). Checks: scanning, masking and restoring never crash or read out of bounds (the text is
 * an exact-size copy, so ASan sees overreads); the restored text exists (no overflow); the masked
 * text is never longer than the source; every source placeholder and paired tag appears in the
 * output at least as often as the source has it as a span (restoration adds each exactly once;
 * copies that are plain text may be dropped by the "translation"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/protect.h"

static protect_ctx *ctx;

static int count_of(const char *hay, size_t hn, const char *needle, size_t nn)
{
    int c = 0;
    for (size_t i = 0; nn && i + nn <= hn; i++)
        if (memcmp(hay + i, needle, nn) == 0) {
            c++;
            i += nn - 1;
        }
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx && !(ctx = protect_create(4096, 2048, 4096, 2)))
        abort();
    if (size > 4096)
        return 0;
    const uint8_t *cut = memchr(data, 1, size);
    size_t sn = cut ? (size_t)(cut - data) : size;
    size_t tn = cut ? size - sn - 1 : 0;
    char *src = malloc(sn ? sn : 1), *tgt = malloc(tn + 1);
    memcpy(src, data, sn);
    for (size_t i = 0; i < sn; i++)   /* the engine refuses NUL bytes (STELE_ERR_TEXT) */
        if (!src[i])
            src[i] = 2;
    if (tn)
        memcpy(tgt, cut + 1, tn);
    tgt[tn] = 0;
    for (size_t i = 0; i < tn; i++)   /* a C string: no NUL inside */
        if (!tgt[i])
            tgt[i] = ' ';
    const char *masked;
    size_t ml;
    int ns = protect_mask(ctx, src, sn, &masked, &ml);
    if (ml > sn)
        abort();
    if (ns > 0) {
        int nsw = 0, ntw = 0;
        for (size_t i = 0; i < ml; i++)
            nsw += masked[i] != ' ' && (i == 0 || masked[i - 1] == ' ');
        for (size_t i = 0; i < tn; i++)
            ntw += tgt[i] != ' ' && (i == 0 || tgt[i - 1] == ' ');
        int32_t align[4096];
        unsigned seed = tn ? (unsigned char)tgt[0] : 7u;
        for (int t = 0; t < ntw && t < 4096; t++) {
            seed = seed * 1103515245u + 12345u;
            align[t] = nsw ? (int32_t)((seed >> 16) % (unsigned)nsw) : 0;
        }
        const char *out = protect_restore(ctx, (int)(seed & 1), tgt, nsw, ntw,
                                          seed & 2 ? align : NULL, NULL);
        if (!out)
            abort();
        protect_span sp[PROTECT_MAX_SPANS];
        int n = protect_scan(src, sn, sp, PROTECT_MAX_SPANS);
        for (int k = 0; k < n; k++) {
            if (sp[k].kind == PROTECT_MNEMONIC)
                continue;
            const char *s = src + sp[k].start;
            size_t len = (size_t)sp[k].len;
            int want = 0;   /* spans with this text (plain-text copies may be dropped) */
            for (int j = 0; j < n; j++)
                want += sp[j].len == sp[k].len && memcmp(src + sp[j].start, s, len) == 0;
            if (count_of(out, strlen(out), s, len) < want && !memchr(s, ' ', len)) {
                fprintf(stderr, "span \"%.*s\" lost\n", (int)len, s);
                abort();
            }
        }
    }
    free(src);
    free(tgt);
    return 0;
}
