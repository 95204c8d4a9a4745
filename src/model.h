/* The loaded model: config, tensors bound by name (models/FORMAT.md), tokenizer. Internal.
 * Letters as in scripts/model.py: V vocabulary, E embedding, H encoder hidden per direction,
 * D encoder output (H or 2H; image models: the last CNN block's channels), Hd decoder hidden,
 * O output vector, A attention dim, C context size entering the decoder (D, or 0 without
 * attention), Le/Ld layers. */
#ifndef STELE_MODEL_H
#define STELE_MODEL_H
#include <stdint.h>
#include "stele.h"
#include "kernels.h"
#include "safetensors.h"
#include "casing.h"
#include "sentencepiece.h"
#include "shortlist.h"

typedef enum { SCORE_NONE, SCORE_DOT, SCORE_GENERAL, SCORE_ADDITIVE, SCORE_CONCAT } attn_score;

/* One LSTM direction / cell: gates = W_ih x + W_hh h + bias, bias = b_ih + b_hh (summed once). */
typedef struct {
    int in, H;
    wmat w_ih;             /* [4H, in] */
    wmat w_hh;             /* [4H, H] */
    const float *bias;     /* [4H] = b_ih + b_hh, owned by the model */
} lstm_weights;

/* Attention parameters (scripts/model.py Attention). key_dim: width of the precomputed keys. */
typedef struct {
    attn_score score;
    int Hd, D, A, key_dim;
    wmat linear_in;            /* general: [Hd, D] */
    wmat query;                /* additive: [A, Hd] */
    wmat key_w;                /* additive: [A, D] */
    const float *key_b;        /* additive: [A] */
    wmat concat_w;             /* concat: [A, Hd + D]; columns 0..Hd-1 act on the query */
    const float *v;            /* additive, concat: [A] */
} attn_weights;

#define STELE_MAX_LAYERS 16
#define STELE_MAX_CNN_BLOCKS 8

/* One CNN encoder block (conv.h): conv 3x3 + bias + ReLU on an H x W x Ci input, then (pool) a
 * 2x2 max-pool to H / 2 x W / 2 x Co, or (no pool: config encoder.pool false) H x W x Co. */
typedef struct {
    int Ci, Co, H, W;
    int pool;
    const float *w;        /* [3, 3, Ci, Co]: cnn.{i}.weight [Co, Ci, 3, 3] re-laid out at load
                              (kernels.h conv3x3_relu), owned by the model */
    const float *bias;     /* [Co] */
} cnn_block;

/* The image an image model reads (config "image"): x = (p / 255 - mean) / std per channel. */
typedef struct {
    int height, width, channels;     /* channels: 1 (gray) or 3 (RGB) */
    float mean, std;
} image_spec;

typedef enum { TASK_TRANSLATE, TASK_CAPTION, TASK_VQA } model_task;

/* A VQA model's own parts (config task "vqa", models/FORMAT.md; src/vqa.h runs them). The image
 * encoder is the caption models' CNN (stele_model.block); the question is read with the word
 * vocabulary (stele_model.words, V words). Letters as scripts/model.py VQA: Eq question
 * embedding, Hq question LSTM hidden, G glimpses, A glimpse hidden, F classifier hidden, Na
 * answers, D the CNN's feature size. */
typedef struct {
    int l2norm;                       /* each location's features divided by their 2-norm */
    const float *position;            /* encoder.position "learned": memory_position.weight [S, D],
                                         added AFTER the l2 norm (phi_l = l2norm(cnn_l) + P_l);
                                         NULL when none. Not stele_model.position, which cnn_run
                                         adds before any norm (the caption models') */
    int Eq, Hq, G, A, F, Na;
    const float *q_embed;             /* [V, Eq] */
    lstm_weights q_lstm;              /* in Eq, H Hq (nn.LSTM layer 0; biases summed) */
    const float *conv1_w, *conv1_b;   /* glimpse.conv1 [A, D + Hq] (a 1x1 convolution is a matrix):
                                         columns 0..D-1 read the location, D.. the question */
    const float *conv2_w, *conv2_b;   /* glimpse.conv2 [G, A], [G] */
    const float *fc1_w, *fc1_b;       /* classifier.fc1 [F, G D + Hq] (input [x_1..x_G; s]), [F] */
    const float *fc2_w, *fc2_b;       /* classifier.fc2 [Na, F], [Na] */
    char *answer_text;                /* answers.words with each "\n" made a NUL (owned) */
    const char **answer;              /* [Na] answer i's text, into answer_text (owned) */
} vqa_weights;

struct kernels;
struct words;

struct stele_model {
    /* config */
    int V, E, H, D, Hd, O, A, C, Le, Ld;
    int bidirectional, enc_residual_from, dec_residual_from;
    int luong, gnmt, bridge_linear, tie_embeddings;
    int pad_id, unk_id, bos_id, eos_id;
    model_task task;
    int format_version;               /* the file's: 1, or 2 (int8 matrices allowed) */
    int cnn;                          /* 1: the encoder is a CNN over an image (conv.h) */
    image_spec image;
    int n_blocks, grid_h, grid_w;     /* CNN blocks; the feature map's size (S = grid_h grid_w) */
    int cnn_position;                 /* encoder.position is "learned" */
    cnn_block block[STELE_MAX_CNN_BLOCKS];
    const float *position;            /* encoder.position "learned": memory_position.weight
                                         [S, D], added to the CNN's memory; else NULL */
    int gate;                         /* attention.gate: z = sigmoid(w_g . q + b_g) z */
    const float *gate_w, *gate_b;     /* [Hd], [1] */
    vqa_weights vqa;                  /* task vqa only */
    double len_a, len_b;              /* the model's default max-length parameters */
    double low_conf_logp;             /* search.low_confidence_logp, or -INFINITY when absent */
    double low_conf_mean_logp;        /* search.low_confidence_mean_logp, or -INFINITY */
    const struct kernels *kern;       /* the kernel set (kernels.h), chosen at load */
    /* tensors (pointers into the file bytes, or into aligned copies owned by the model); the
       matrices (wmat) F32, or int8 with a scale per row (format version 2) */
    int int8;                                        /* some matrix is int8 */
    wmat src_embed, tgt_embed;                       /* [V, E] */
    lstm_weights enc[STELE_MAX_LAYERS][2];           /* [layer][direction: 0 fwd, 1 bwd] */
    attn_weights attn;
    lstm_weights dec[STELE_MAX_LAYERS];              /* in: see dec_in() */
    wmat proj_w;                                     /* [O, Hd + C + E] or [O, C + Hd] */
    const float *proj_b;                             /* [O] (bahdanau) or NULL */
    wmat gen_w;                                      /* [V, O] */
    const float *gen_b;                              /* [V] */
    wmat bridge_h_w, bridge_c_w;                     /* [Ld*Hd, D] */
    const float *bridge_h_b, *bridge_c_b;            /* [Ld*Hd] */
    shortlist sl;                     /* shortlist.* (optional, text models); sl.V 0 when absent */
    /* ownership */
    uint8_t *owned_bytes;             /* stele_model_load_file's buffer */
    st_file *st;
    spm_model *spm;                   /* text models */
    casing_table truecase;            /* tokenizer.truecase (text models; count 0 when absent) */
    struct words *words;              /* image models: tokenizer.words (vqa: the question's) */
    float **allocs;                   /* copies and summed biases */
    int n_allocs, cap_allocs;
    char *info_json;
    unsigned char *bound;             /* while loading: [st_count] which tensors bind() used */
};

/* Size of decoder layer l's input (FORMAT.md: in_l). */
int model_dec_in(const struct stele_model *m, int l);

#endif
