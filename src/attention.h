/* Attention over an abstract memory: S locations x D features plus keys precomputed once per
 * memory. The memory is the text encoder's outputs today; a CNN feature map (H*W locations of D
 * features) or any other encoder can fill the same struct without changing the decoder. */
#ifndef STELE_ATTENTION_H
#define STELE_ATTENTION_H
#include "model.h"

typedef struct {
    int S, D;              /* locations, features per location */
    const float *values;   /* [S, D]: what the context averages */
    int key_dim;           /* Hd (dot, general) or A (additive, concat); 0 for score none */
    const float *keys;     /* [S, key_dim]: the step-independent part of the score */
} attn_memory;

/* Floats attn_bind_memory needs for its keys buffer (0 when the keys are the values). */
size_t attn_keys_floats(const attn_weights *aw, int S);

/* k, in both: the model's kernel set (kernels.h).
 * Fills mem for values [S, D]: dot uses the values as keys; general W_a h_j; additive
 * W_k h_j + b_k; concat W[:, Hd:] h_j, written into keys_buf. */
void attn_bind_memory(const struct kernels *k, attn_memory *mem, const attn_weights *aw,
                      const float *values, int S, float *keys_buf);

/* Floats of scratch attn_apply needs for M queries over S locations. */
size_t attn_scratch_floats(const attn_weights *aw, int M);

/* M queries q [M, Hd] (stride ldq) -> weights [M, S] (softmax over locations, stride S) and
 * contexts ctx [M, D] (stride ldc). */
void attn_apply(const struct kernels *k, float *ctx, int ldc, float *weights,
                const attn_weights *aw, const attn_memory *mem, const float *q, int ldq, int M,
                float *scratch);
#endif
