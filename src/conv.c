/* The CNN encoder (conv.h). The scratch holds two buffers: `pad`, the current block's input
 * inside its zero border, and `out`, the convolution's output, which the max-pool (or, in a
 * block without one, a copy) writes into the interior of `pad` for the next block (the last
 * block's pool writes the memory; a last block without one convolves straight into it). */
#include "conv.h"
#include <stdint.h>
#include <string.h>
#include "error.h"
#include "kernels.h"

static size_t pad_floats(const struct stele_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_blocks; i++) {
        const cnn_block *b = &m->block[i];
        size_t k = (size_t)(b->H + 2) * (b->W + 2) * b->Ci;
        n = k > n ? k : n;
    }
    return n;
}

size_t cnn_scratch_floats(const struct stele_model *m)
{
    size_t out = 0;
    for (int i = 0; i < m->n_blocks; i++) {
        const cnn_block *b = &m->block[i];
        size_t k = (size_t)b->H * b->W * b->Co;
        out = k > out ? k : out;
    }
    return pad_floats(m) + out;
}

stele_status cnn_check_image(const struct stele_model *m, const uint8_t *pixels, int width,
                             int height, int channels, int stride, stele_error *err)
{
    const image_spec *im = &m->image;
    if (!pixels)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_caption: NULL pixels");
    if (width != im->width || height != im->height)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_caption: the image is %dx%d pixels "
                          "(width x height), the model reads %dx%d", width, height, im->width,
                          im->height);
    if (channels != 1 && channels != 3 && channels != 4)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_caption: channels %d: must be 1 "
                          "(gray), 3 (RGB) or 4 (RGBA)", channels);
    if (stride != 0 && stride < width * channels)   /* width <= 4096: no overflow */
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_caption: stride %d is below width x "
                          "channels = %d bytes (0 means rows packed)", stride, width * channels);
    /* the last byte read, (height - 1) stride + width channels, must be addressable */
    if ((double)(height - 1) * stride + (double)width * channels > (double)PTRDIFF_MAX)
        return stele_fail(err, STELE_ERR_ARGUMENT, "stele_caption: stride %d x %d rows is beyond "
                          "this platform's address space", stride, height);
    return STELE_OK;
}

/* Zeroes the one-pixel border of a padded [H + 2, W + 2, C] buffer (its interior is written by
 * the image or the previous block's pool; the border is what the convolution reads as padding). */
static void zero_border(float *pad, int H, int W, int C)
{
    const size_t row = (size_t)(W + 2) * C;
    memset(pad, 0, sizeof(float) * row);
    memset(pad + (size_t)(H + 1) * row, 0, sizeof(float) * row);
    for (int r = 1; r <= H; r++) {
        memset(pad + r * row, 0, sizeof(float) * C);
        memset(pad + r * row + (size_t)(W + 1) * C, 0, sizeof(float) * C);
    }
}

void cnn_load_image(float *scratch, const struct stele_model *m, const uint8_t *pixels,
                    int channels, int stride)
{
    const image_spec *im = &m->image;
    const int H = im->height, W = im->width, C = im->channels;
    if (stride == 0)
        stride = W * channels;
    zero_border(scratch, H, W, C);
    const float mean = im->mean, std = im->std;
    for (int r = 0; r < H; r++) {
        const uint8_t *p = pixels + (size_t)r * (size_t)stride;
        float *x = scratch + ((size_t)(r + 1) * (W + 2) + 1) * C;
        for (int c = 0; c < W; c++, p += channels, x += C) {
            if (C == 1) {
                unsigned v = p[0];
                if (channels >= 3)   /* PIL "L": (19595 R + 38470 G + 7471 B + 2^15) >> 16 */
                    v = (19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 32768u) >> 16;
                x[0] = ((float)v / 255.0f - mean) / std;
            } else {
                for (int k = 0; k < 3; k++)
                    x[k] = ((float)p[channels >= 3 ? k : 0] / 255.0f - mean) / std;
            }
        }
    }
}

/* Copies a block's unpooled output [H, W, C] into the interior of the next block's padded
 * input, rows dst_row floats apart (the convolution writes only packed rows). */
static void copy_rows(float *dst, size_t dst_row, const float *src, int H, int W, int C)
{
    const size_t row = (size_t)W * C;
    for (int r = 0; r < H; r++)
        memcpy(dst + r * dst_row, src + r * row, sizeof(float) * row);
}

void cnn_run(float *memory, float *mean, const struct stele_model *m, float *scratch)
{
    const struct kernels *k = m->kern;
    float *pad = scratch, *out = scratch + pad_floats(m);
    for (int i = 0; i < m->n_blocks; i++) {
        const cnn_block *b = &m->block[i];
        const int last = i + 1 == m->n_blocks;
        /* a last block without the pool writes the memory itself: the same [H, W, Co] layout */
        k->conv3x3_relu(!b->pool && last ? memory : out, pad, b->w, b->bias, b->H, b->W, b->Ci,
                        b->Co);
        if (!b->pool) {   /* the same size: into the next block's padded input */
            if (!last) {
                zero_border(pad, b->H, b->W, b->Co);
                copy_rows(pad + ((size_t)(b->W + 2) + 1) * b->Co, (size_t)(b->W + 2) * b->Co,
                          out, b->H, b->W, b->Co);
            }
            continue;
        }
        const int Ho = b->H / 2, Wo = b->W / 2;
        if (!last) {   /* into the next block's padded input */
            zero_border(pad, Ho, Wo, b->Co);
            k->maxpool2x2(pad + ((size_t)(Wo + 2) + 1) * b->Co, (Wo + 2) * b->Co, out, b->H,
                          b->W, b->Co);
        } else {
            k->maxpool2x2(memory, Wo * b->Co, out, b->H, b->W, b->Co);
        }
    }
    const int S = m->grid_h * m->grid_w, D = m->D;
    if (m->position)   /* before the keys, the mean and the contexts read it */
        for (size_t i = 0; i < (size_t)S * D; i++)
            memory[i] += m->position[i];
    for (int d = 0; d < D; d++) {
        double sum = 0.0;
        for (int l = 0; l < S; l++)
            sum += memory[(size_t)l * D + d];
        mean[d] = (float)(sum / S);
    }
}
