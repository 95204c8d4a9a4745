/* The CNN encoder of image models (config encoder.type "cnn", models/FORMAT.md): 8-bit pixels ->
 * a normalised float image -> blocks of conv 3x3 + bias + ReLU and (unless encoder.pool says
 * false for the block) 2x2 max-pool -> the attention
 * memory, one row of D features per location of the final feature map (row-major over the
 * grid), and the mean of the rows (the bridge's input). Channels-last throughout; each
 * convolution reads its input inside a one-pixel border of zeros (kernels.h). Internal. */
#ifndef STELE_CONV_H
#define STELE_CONV_H
#include <stddef.h>
#include <stdint.h>
#include "model.h"

/* Floats of scratch cnn_run needs: the padded input of a block and the convolution's output. */
size_t cnn_scratch_floats(const struct stele_model *m);

/* STELE_ERR_ARGUMENT naming the values, for pixels that stele_caption must refuse: NULL, a size
 * other than the model's, channels other than 1, 3, 4, a stride below width * channels. */
stele_status cnn_check_image(const struct stele_model *m, const uint8_t *pixels, int width,
                             int height, int channels, int stride, stele_error *err);

/* Writes the checked image into scratch as the first block's padded input: gray, RGB or RGBA
 * bytes (alpha ignored) converted to the model's channels (RGB -> gray by ITU-R 601 luma in
 * integers, as PIL's convert("L"); gray -> RGB by copying), then x = (p / 255 - mean) / std in
 * float. stride 0: width * channels. */
void cnn_load_image(float *scratch, const struct stele_model *m, const uint8_t *pixels,
                    int channels, int stride);

/* Runs the blocks on the image cnn_load_image left in scratch: memory [grid_h * grid_w, D] (plus
 * the learned position of each location, encoder.position "learned") and mean [D] = the average
 * of its rows (summed in double). */
void cnn_run(float *memory, float *mean, const struct stele_model *m, float *scratch);
#endif
