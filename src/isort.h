/* Heapsort of an index array with a context-taking comparison (C11's qsort has no context
 * argument, and a global would make concurrent model loads race). O(n log n), no allocation,
 * no recursion. Internal to stele. */
#ifndef STELE_ISORT_H
#define STELE_ISORT_H
#include <stddef.h>

/* less(ctx, a, b): nonzero when index a sorts before index b. */
typedef int (*isort_less)(const void *ctx, size_t a, size_t b);

static inline void isort_sift(size_t *idx, size_t root, size_t n, isort_less less,
                              const void *ctx) {
    for (size_t c; (c = 2 * root + 1) < n; root = c) {
        if (c + 1 < n && less(ctx, idx[c], idx[c + 1])) c++;
        if (!less(ctx, idx[root], idx[c])) return;
        size_t t = idx[root];
        idx[root] = idx[c];
        idx[c] = t;
    }
}

static inline void isort(size_t *idx, size_t n, isort_less less, const void *ctx) {
    for (size_t i = n / 2; i-- > 0;) isort_sift(idx, i, n, less, ctx);
    for (size_t end = n; end-- > 1;) {
        size_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        isort_sift(idx, 0, end, less, ctx);
    }
}
#endif
