/* Lexical shortlist (models/FORMAT.md, "Lexical shortlist"): per source piece, the target
 * pieces worth scoring; a sentence's generator rows are the union of its source pieces'
 * candidates and the always-set. Internal. */
#ifndef STELE_SHORTLIST_H
#define STELE_SHORTLIST_H
#include <stddef.h>
#include <stdint.h>
#include "stele.h"

typedef struct {
    int V;                    /* source pieces covered; 0: the model has no shortlist */
    const int32_t *offsets;   /* [V + 1]: piece v's candidates are ids[offsets[v] .. offsets[v+1]) */
    const int32_t *ids;       /* [offsets[V]], ascending within each piece */
    const int32_t *always;    /* [n_always], ascending: in every sentence's shortlist */
    int n_always;
} shortlist;

/* STELE_ERR_WEIGHTS naming the tensor and element of the first fault: offsets not starting at
 * 0, decreasing, or not ending at n_ids; an id outside 0..V-1 or not strictly ascending within
 * its piece (always: within the tensor); eos_id absent from always. */
stele_status shortlist_check(const shortlist *sl, size_t n_ids, int eos_id, stele_error *err);

/* The sentence's shortlist: the union of always and the candidates of src[0..S), ascending,
 * into out [V]; returns its size. mark [V] is all zero on entry and left so. */
int shortlist_union(int32_t *out, uint8_t *mark, const shortlist *sl, const int32_t *src, int S);
#endif
