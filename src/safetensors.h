/* safetensors container reader (models/FORMAT.md): validates everything, copies nothing. */
#ifndef STELE_SAFETENSORS_H
#define STELE_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include "stele.h"

typedef enum { ST_F32, ST_F64, ST_I32, ST_I64, ST_U8, ST_F16, ST_BF16, ST_I8, ST_I16, ST_U16,
               ST_U32, ST_U64, ST_BOOL } st_dtype;
#define ST_MAX_DIMS 8

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

/* Parses and validates bytes[0..size): header length (8 <= 8+N <= size), JSON syntax, every
 * entry's dtype, shape (non-negative, <= ST_MAX_DIMS dims, no overflow), nbytes == numel *
 * sizeof(dtype), offsets inside the data section, no two tensors overlapping, metadata values
 * strings. Does not copy: bytes must outlive the st_file. Errors: STELE_ERR_HEADER, _DTYPE,
 * _RANGE, _SHAPE, _MEMORY, each with a message naming the tensor and the byte. */
stele_status st_open(const uint8_t *bytes, size_t size, st_file **out, stele_error *err);
void st_close(st_file *f);

size_t st_count(const st_file *f);
const st_tensor *st_at(const st_file *f, size_t i);
const st_tensor *st_find(const st_file *f, const char *name);   /* NULL if absent */
const char *st_meta(const st_file *f, const char *key);          /* NULL if absent */
size_t st_dtype_size(st_dtype t);
const char *st_dtype_name(st_dtype t);
#endif
