/* Attention scores none / dot / general / additive / concat (scripts/model.py Attention). */
#include "attention.h"
#include "kernels.h"

size_t attn_keys_floats(const attn_weights *aw, int S)
{
    switch (aw->score) {
    case SCORE_GENERAL: return (size_t)S * aw->Hd;
    case SCORE_ADDITIVE:
    case SCORE_CONCAT: return (size_t)S * aw->A;
    default: return 0;
    }
}

void attn_bind_memory(const kernels *k, attn_memory *mem, const attn_weights *aw,
                      const float *values, int S, float *keys_buf)
{
    mem->S = S;
    mem->D = aw->D;
    mem->values = values;
    mem->key_dim = aw->key_dim;
    mem->keys = keys_buf;
    switch (aw->score) {
    case SCORE_NONE:
        mem->keys = NULL;
        break;
    case SCORE_DOT:
        mem->keys = values;
        break;
    case SCORE_GENERAL:
        linear_w(k, keys_buf, aw->Hd, values, aw->D, aw->linear_in, NULL, S, aw->Hd, aw->D, 0);
        break;
    case SCORE_ADDITIVE:
        linear_w(k, keys_buf, aw->A, values, aw->D, aw->key_w, aw->key_b, S, aw->A, aw->D, 0);
        break;
    case SCORE_CONCAT:
        linear_w(k, keys_buf, aw->A, values, aw->D, wmat_cols(aw->concat_w, aw->Hd), NULL, S,
                  aw->A, aw->D, 0);
        break;
    }
}

size_t attn_scratch_floats(const attn_weights *aw, int M)
{
    return (aw->score == SCORE_ADDITIVE || aw->score == SCORE_CONCAT) ? (size_t)M * aw->A : 0;
}

void attn_apply(const kernels *k, float *ctx, int ldc, float *weights,
                const attn_weights *aw, const attn_memory *mem, const float *q, int ldq, int M,
                float *scratch)
{
    const int S = mem->S, A = aw->A, Hd = aw->Hd;
    switch (aw->score) {
    case SCORE_NONE:
        return;
    case SCORE_DOT:
    case SCORE_GENERAL:   /* e[m, j] = q_m . key_j: one [M, Hd] x [S, Hd]^T GEMM */
        k->linear(weights, S, q, ldq, mem->keys, mem->key_dim, NULL, M, S, Hd, 0);
        break;
    case SCORE_ADDITIVE:
    case SCORE_CONCAT:    /* e[m, j] = v . tanh(key_j + W_q q_m) */
        if (aw->score == SCORE_ADDITIVE)
            linear_w(k, scratch, A, q, ldq, aw->query, NULL, M, A, Hd, 0);
        else
            linear_w(k, scratch, A, q, ldq, aw->concat_w, NULL, M, A, Hd, 0);
        for (int m = 0; m < M; m++)
            k->additive_scores(weights + (size_t)m * S, mem->keys, scratch + (size_t)m * A, aw->v,
                               S, A);
        break;
    }
    for (int m = 0; m < M; m++)
        k->softmax(weights + (size_t)m * S, S);
    k->weighted_sum(ctx, ldc, weights, S, mem->values, M, S, mem->D);
}
