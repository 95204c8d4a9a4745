/* The loaded model: config, tensors bound by name (models/FORMAT.md), tokenizer. Internal.
 * Letters as in scripts/model.py: V vocabulary, E embedding, H encoder hidden per direction,
 * D encoder output (H or 2H), Hd decoder hidden, O output vector, A attention dim, C context
 * size entering the decoder (D, or 0 without attention), Le/Ld layers. */
#ifndef STELE_MODEL_H
#define STELE_MODEL_H
#include <stdint.h>
#include "stele.h"
#include "safetensors.h"
#include "sentencepiece.h"

typedef enum { SCORE_NONE, SCORE_DOT, SCORE_GENERAL, SCORE_ADDITIVE, SCORE_CONCAT } attn_score;

/* One LSTM direction / cell: gates = W_ih x + W_hh h + bias, bias = b_ih + b_hh (summed once). */
typedef struct {
    int in, H;
    const float *w_ih;     /* [4H, in] */
    const float *w_hh;     /* [4H, H] */
    const float *bias;     /* [4H] = b_ih + b_hh, owned by the model */
} lstm_weights;

/* Attention parameters (scripts/model.py Attention). key_dim: width of the precomputed keys. */
typedef struct {
    attn_score score;
    int Hd, D, A, key_dim;
    const float *linear_in;    /* general: [Hd, D] */
    const float *query;        /* additive: [A, Hd] */
    const float *key_w;        /* additive: [A, D] */
    const float *key_b;        /* additive: [A] */
    const float *concat_w;     /* concat: [A, Hd + D]; columns 0..Hd-1 act on the query */
    const float *v;            /* additive, concat: [A] */
} attn_weights;

#define STELE_MAX_LAYERS 16

struct kernels;

struct stele_model {
    /* config */
    int V, E, H, D, Hd, O, A, C, Le, Ld;
    int bidirectional, enc_residual_from, dec_residual_from;
    int luong, gnmt, bridge_linear, tie_embeddings;
    int pad_id, unk_id, bos_id, eos_id;
    double len_a, len_b;              /* the model's default max-length parameters */
    double low_conf_logp;             /* search.low_confidence_logp, or -INFINITY when absent */
    const struct kernels *kern;       /* the kernel set (kernels.h), chosen at load */
    /* tensors (pointers into the file bytes, or into aligned copies owned by the model) */
    const float *src_embed, *tgt_embed;              /* [V, E] */
    lstm_weights enc[STELE_MAX_LAYERS][2];           /* [layer][direction: 0 fwd, 1 bwd] */
    attn_weights attn;
    lstm_weights dec[STELE_MAX_LAYERS];              /* in: see dec_in() */
    const float *proj_w, *proj_b;                    /* [O, Hd + C + E] (+ [O]) or [O, C + Hd] */
    const float *gen_w, *gen_b;                      /* [V, O], [V] */
    const float *bridge_h_w, *bridge_h_b, *bridge_c_w, *bridge_c_b;   /* [Ld*Hd, D], [Ld*Hd] */
    /* ownership */
    uint8_t *owned_bytes;             /* stele_model_load_file's buffer */
    st_file *st;
    spm_model *spm;
    float **allocs;                   /* copies and summed biases */
    int n_allocs, cap_allocs;
    char *info_json;
    unsigned char *bound;             /* while loading: [st_count] which tensors bind() used */
};

/* Size of decoder layer l's input (FORMAT.md: in_l). */
int model_dec_in(const struct stele_model *m, int l);

#endif
