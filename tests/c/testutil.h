/* Tiny helpers shared by the parser tests (tests/c/test_*.c). */
#ifndef STELE_TESTUTIL_H
#define STELE_TESTUTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failures = 0, t_checks = 0;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        t_checks++;                                                             \
        if (!(cond)) {                                                          \
            t_failures++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* Reads a whole file; *size gets its length. NULL (and a message) when it cannot. */
static inline unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        unsigned char *nb = realloc(buf, cap *= 2);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
        }
    }
    fclose(f);
    if (buf) *size = n;
    return buf;
}

/* Status names without linking the engine's stele_status_name(). */
static inline const char *t_status_name(int st) {
    static const char *names[] = {"STELE_OK", "STELE_ERR_ARGUMENT", "STELE_ERR_MEMORY",
        "STELE_ERR_IO", "STELE_ERR_HEADER", "STELE_ERR_DTYPE", "STELE_ERR_RANGE",
        "STELE_ERR_SHAPE", "STELE_ERR_MISSING", "STELE_ERR_CONFIG", "STELE_ERR_VERSION",
        "STELE_ERR_TOKENIZER", "STELE_ERR_TEXT", "STELE_ERR_LIMIT", "STELE_ERR_INTERNAL", "STELE_ERR_WEIGHTS"};
    return st >= 0 && st < (int)(sizeof names / sizeof names[0]) ? names[st] : "?";
}

static inline int t_report(const char *name) {
    if (t_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, t_failures, t_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, t_checks);
    return 0;
}
#endif
