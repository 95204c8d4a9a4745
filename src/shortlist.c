/* Lexical shortlist: validation at load, a sentence's union at the start of its decode. */
#include "shortlist.h"
#include "error.h"

stele_status shortlist_check(const shortlist *sl, size_t n_ids, int eos_id, stele_error *err)
{
    const int V = sl->V;
    if (sl->offsets[0] != 0)
        return stele_fail(err, STELE_ERR_WEIGHTS, "tensor shortlist.offsets element 0 is %d, "
                          "expected 0", (int)sl->offsets[0]);
    for (int v = 0; v < V; v++) {
        const int32_t a = sl->offsets[v], b = sl->offsets[v + 1];
        if (b < a || (size_t)b > n_ids)
            return stele_fail(err, STELE_ERR_WEIGHTS, "tensor shortlist.offsets element %d is %d: "
                              "offsets must not decrease and stay within 0..%zu (shortlist.ids' "
                              "length)", v + 1, (int)b, n_ids);
        for (int32_t i = a; i < b; i++) {
            if (sl->ids[i] < 0 || sl->ids[i] >= V)
                return stele_fail(err, STELE_ERR_WEIGHTS, "tensor shortlist.ids element %d is %d, "
                                  "outside 0..%d", (int)i, (int)sl->ids[i], V - 1);
            if (i > a && sl->ids[i] <= sl->ids[i - 1])
                return stele_fail(err, STELE_ERR_WEIGHTS, "tensor shortlist.ids element %d (%d) "
                                  "is not above the one before (%d): each source piece's "
                                  "candidates must be strictly ascending", (int)i,
                                  (int)sl->ids[i], (int)sl->ids[i - 1]);
        }
    }
    if ((size_t)sl->offsets[V] != n_ids)
        return stele_fail(err, STELE_ERR_WEIGHTS, "tensor shortlist.offsets element %d is %d, "
                          "expected %zu (shortlist.ids' length)", V, (int)sl->offsets[V], n_ids);
    int has_eos = 0;
    for (int i = 0; i < sl->n_always; i++) {
        const int32_t t = sl->always[i];
        if (t < 0 || t >= V)
            return stele_fail(err, STELE_ERR_WEIGHTS, "tensor shortlist.always element %d is %d, "
                              "outside 0..%d", i, (int)t, V - 1);
        if (i > 0 && t <= sl->always[i - 1])
            return stele_fail(err, STELE_ERR_WEIGHTS, "tensor shortlist.always element %d (%d) is "
                              "not above the one before (%d): it must be strictly ascending", i,
                              (int)t, (int)sl->always[i - 1]);
        has_eos |= t == eos_id;
    }
    /* without eos no hypothesis could ever finish before the maximum length */
    if (!has_eos)
        return stele_fail(err, STELE_ERR_WEIGHTS, "tensor shortlist.always lacks eos_id %d (every "
                          "sentence's shortlist must let it end)", eos_id);
    return STELE_OK;
}

int shortlist_union(int32_t *out, uint8_t *mark, const shortlist *sl, const int32_t *src, int S)
{
    for (int i = 0; i < sl->n_always; i++)
        mark[sl->always[i]] = 1;
    for (int j = 0; j < S; j++)
        for (int32_t i = sl->offsets[src[j]]; i < sl->offsets[src[j] + 1]; i++)
            mark[sl->ids[i]] = 1;
    /* a scan of V flags (8,000 for ui-en-fr) once per sentence gives the sorted union without a
     * sort, and clears the flags for the next sentence */
    int n = 0;
    for (int v = 0; v < sl->V; v++)
        if (mark[v]) {
            mark[v] = 0;
            out[n++] = v;
        }
    return n;
}
