/* LSTM cell, (Bi)LSTM layers and the stacked/residual encoder (scripts/model.py encode). */
#ifndef STELE_LSTM_H
#define STELE_LSTM_H
#include "model.h"

/* k: the model's kernel set (kernels.h), as for attention.h's functions.
 * One direction over S steps from zero states. x [S, in] (row stride ldx); out [S, H] rows with
 * stride ldo (the backward direction writes the right half of [S, 2H]); gates: scratch [S, 4H].
 * The input projection of all S steps is one GEMM. h_fin, c_fin [H]: the state after the last
 * step processed (position S-1 forward, position 0 backward). */
void lstm_run(const struct kernels *k, float *out, int ldo, float *h_fin, float *c_fin,
              float *gates, const float *x, int ldx, const lstm_weights *w, int S, int reverse);

/* One step for M independent rows (the decoder's K beams): h, c [M, H] updated in place from
 * x [M, in] (stride ldx); gates: scratch [M, 4H]. */
void lstm_cell(const struct kernels *k, float *h, float *c, float *gates, const float *x, int ldx,
               const lstm_weights *w, int M);

/* Floats of scratch encoder_run needs for S source positions. */
size_t encoder_scratch_floats(const struct stele_model *m, int S);

/* The encoder: ids [S] -> memory [S, D] (top layer outputs), fh, fc [D] (top layer final
 * states: lstm h_S; bilstm [forward h_S; backward h_1]). */
void encoder_run(float *memory, float *fh, float *fc, const struct stele_model *m,
                 const int32_t *ids, int S, float *scratch);
#endif
