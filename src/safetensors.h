/* safetensors container reader (models/FORMAT.md): validates everything, copies nothing. */
#ifndef STELE_SAFETENSORS_H
#define STELE_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include "stele.h"

typedef enum { ST_F32, ST_F64, ST_I32, ST_I64, ST_U8, ST_F16, ST_BF16, ST_I8, ST_I16, ST_U16,
               ST_U32, ST_U64, ST_BOOL } st_dtype;
#define ST_MAX_DIMS 8
/* Limits that bound the memory and time a hostile header costs (models/FORMAT.md "Limits"):
 * real stele headers are a few kilobytes with under 250 tensors (16 layers each side). */
#define ST_MAX_HEADER_BYTES (1u << 20)
#define ST_MAX_TENSORS 1024u

typedef struct {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t numel;
    const uint8_t *data;       /* points into the caller's bytes */
    size_t nbytes;
} st_tensor;

typedef struct st_file st_file;

/* Parses and validates bytes[0..size): header length (8 <= 8+N <= size, 2 <= N <= 1 MiB), at
 * most ST_MAX_TENSORS tensors,
 * JSON syntax (strict, see json.h), the header an object, every entry an object with exactly
 * dtype, shape and data_offsets, the dtype known, the shape non-negative integers (<=
 * ST_MAX_DIMS dims, no overflow), offsets two integers with 0 <= b <= e <= data size,
 * e - b == numel * sizeof(dtype), no two non-empty tensors overlapping, __metadata__ an object
 * of strings. Trailing unused data bytes and gaps are allowed. Does not copy: bytes must outlive
 * the st_file; tensor data may be unaligned. Errors:
 *   STELE_ERR_HEADER  length field, JSON syntax, structure (non-object, missing/extra fields,
 *                     non-string dtype or metadata value, data_offsets not two numbers)
 *   STELE_ERR_DTYPE   unknown dtype name
 *   STELE_ERR_SHAPE   bad dimension, too many dims, overflow, bytes != shape x dtype size
 *   STELE_ERR_RANGE   offsets negative/fractional, reversed, beyond the data, overlapping
 *   STELE_ERR_MEMORY, STELE_ERR_ARGUMENT
 * each with a message naming the tensor and the offsets or file byte. st_at() keeps header
 * order; st_find() is a binary search. */
stele_status st_open(const uint8_t *bytes, size_t size, st_file **out, stele_error *err);
void st_close(st_file *f);

size_t st_count(const st_file *f);
const st_tensor *st_at(const st_file *f, size_t i);
const st_tensor *st_find(const st_file *f, const char *name);   /* NULL if absent */
const char *st_meta(const st_file *f, const char *key);          /* NULL if absent */
size_t st_dtype_size(st_dtype t);
const char *st_dtype_name(st_dtype t);
#endif
