/* safetensors container reader (see safetensors.h and models/FORMAT.md). */
#include "safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "isort.h"
#include "json.h"


struct st_file {
    json_value *header;
    size_t count;
    st_tensor *tensors;        /* header order */
    size_t *by_name;           /* indices sorted by name */
    const json_value *meta;    /* __metadata__ object or NULL */
};

static const struct {
    const char *name;
    st_dtype dtype;
    size_t size;
} DTYPES[] = {
    {"F32", ST_F32, 4}, {"F64", ST_F64, 8}, {"I32", ST_I32, 4}, {"I64", ST_I64, 8},
    {"U8", ST_U8, 1}, {"F16", ST_F16, 2}, {"BF16", ST_BF16, 2}, {"I8", ST_I8, 1},
    {"I16", ST_I16, 2}, {"U16", ST_U16, 2}, {"U32", ST_U32, 4}, {"U64", ST_U64, 8},
    {"BOOL", ST_BOOL, 1},
};
#define N_DTYPES (sizeof DTYPES / sizeof DTYPES[0])

size_t st_dtype_size(st_dtype t) {
    for (size_t i = 0; i < N_DTYPES; i++)
        if (DTYPES[i].dtype == t) return DTYPES[i].size;
    return 0;
}

const char *st_dtype_name(st_dtype t) {
    for (size_t i = 0; i < N_DTYPES; i++)
        if (DTYPES[i].dtype == t) return DTYPES[i].name;
    return "?";
}


/* A JSON number that is an integer in [0, 2^53]; -1 when it is not a non-negative integer,
 * -2 when it is one above 2^53 (beyond any file or tensor stele can hold). */
static int64_t nonneg_int(const json_value *v) {
    double d;
    if (json_number(v, &d)) return -1;
    if (!(d >= 0) || floor(d) != d) return -1;
    if (d > 9007199254740992.0) return -2;
    return (int64_t)d;
}

/* Formats a JSON number for messages. */
static void num_text(const json_value *v, char *buf, size_t n) {
    double d = 0;
    if (json_number(v, &d)) snprintf(buf, n, "(not a number)");
    else snprintf(buf, n, "%.17g", d);
}

static stele_status parse_tensor(const char *name, const json_value *e, size_t data_size,
                                 const uint8_t *data, st_tensor *t, stele_error *err) {
    if (json_kind(e) != JSON_OBJECT)
        return stele_fail(err, STELE_ERR_HEADER, "tensor \"%s\": entry is not a JSON object", name);
    for (size_t i = 0; i < json_count(e); i++) {
        const char *k = json_key_at(e, i);
        if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
            return stele_fail(err, STELE_ERR_HEADER, "tensor \"%s\": unknown field \"%s\"", name, k);
    }
    const json_value *dt = json_get(e, "dtype"), *sh = json_get(e, "shape"),
                     *off = json_get(e, "data_offsets");
    if (!dt || !sh || !off)
        return stele_fail(err, STELE_ERR_HEADER, "tensor \"%s\": missing field \"%s\"", name,
                       !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    t->name = name;

    const char *dname = json_string(dt);
    if (!dname)
        return stele_fail(err, STELE_ERR_HEADER, "tensor \"%s\": dtype is not a string", name);
    size_t dsize = 0;
    for (size_t i = 0; i < N_DTYPES; i++) {
        if (strcmp(dname, DTYPES[i].name) == 0) {
            t->dtype = DTYPES[i].dtype;
            dsize = DTYPES[i].size;
        }
    }
    if (!dsize)
        return stele_fail(err, STELE_ERR_DTYPE, "tensor \"%s\": unknown dtype \"%.40s\"", name,
                       dname);

    if (json_kind(sh) != JSON_ARRAY)
        return stele_fail(err, STELE_ERR_HEADER, "tensor \"%s\": shape is not an array", name);
    size_t nd = json_count(sh);
    if (nd > ST_MAX_DIMS)
        return stele_fail(err, STELE_ERR_SHAPE, "tensor \"%s\": %zu dimensions, more than %d", name,
                       nd, ST_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    int overflow = 0;
    for (size_t i = 0; i < nd; i++) {
        const json_value *d = json_at(sh, i);
        int64_t v = nonneg_int(d);
        if (v < 0) {
            char b[40];
            num_text(d, b, sizeof b);
            return stele_fail(err, STELE_ERR_SHAPE, "tensor \"%s\": shape[%zu] = %s is %s", name,
                              i, b, v == -2 ? "too large" : "not a non-negative integer");
        }
        t->shape[i] = v;
        if (v != 0 && numel > (uint64_t)INT64_MAX / (uint64_t)v) overflow = 1;
        else numel *= (uint64_t)v;
    }
    /* A zero dimension makes the product 0 whatever the others are. */
    for (size_t i = 0; i < nd; i++)
        if (t->shape[i] == 0) { numel = 0; overflow = 0; }
    if (overflow || numel > (uint64_t)INT64_MAX / dsize)
        return stele_fail(err, STELE_ERR_SHAPE, "tensor \"%s\": shape product overflows", name);
    t->numel = (int64_t)numel;

    if (json_kind(off) != JSON_ARRAY || json_count(off) != 2)
        return stele_fail(err, STELE_ERR_HEADER,
                       "tensor \"%s\": data_offsets is not an array of two numbers", name);
    int64_t b = nonneg_int(json_at(off, 0)), e2 = nonneg_int(json_at(off, 1));
    if (b < 0 || e2 < 0) {
        char b1[40], b2[40];
        num_text(json_at(off, 0), b1, sizeof b1);
        num_text(json_at(off, 1), b2, sizeof b2);
        if (b == -1 || e2 == -1)
            return stele_fail(err, STELE_ERR_RANGE, "tensor \"%s\": data_offsets [%s, %s] are "
                              "not non-negative integers", name, b1, b2);
        return stele_fail(err, STELE_ERR_RANGE, "tensor \"%s\": data_offsets [%s, %s] end beyond "
                          "the %zu-byte data section", name, b1, b2, data_size);
    }
    if (b > e2)
        return stele_fail(err, STELE_ERR_RANGE,
                       "tensor \"%s\": data_offsets [%lld, %lld] begin after their end", name,
                       (long long)b, (long long)e2);
    if ((uint64_t)e2 > data_size)
        return stele_fail(err, STELE_ERR_RANGE,
                       "tensor \"%s\": data_offsets [%lld, %lld] end beyond the %zu-byte data "
                       "section", name, (long long)b, (long long)e2, data_size);
    uint64_t want = numel * dsize, have = (uint64_t)(e2 - b);
    if (want != have) {
        char dims[128];
        size_t used = 0;
        dims[0] = '\0';
        for (size_t i = 0; i < nd && used < sizeof dims; i++)
            used += (size_t)snprintf(dims + used, sizeof dims - used, "%s%lld", i ? ", " : "",
                                     (long long)t->shape[i]);
        return stele_fail(err, STELE_ERR_SHAPE,
                       "tensor \"%s\": shape [%s] x %s (%zu bytes) = %llu bytes, but "
                       "data_offsets [%lld, %lld] hold %llu", name, dims, dname, dsize,
                       (unsigned long long)want, (long long)b, (long long)e2,
                       (unsigned long long)have);
    }
    t->data = data + b;
    t->nbytes = (size_t)have;
    return STELE_OK;
}

static stele_status check_meta(const json_value *meta, stele_error *err) {
    if (json_kind(meta) != JSON_OBJECT)
        return stele_fail(err, STELE_ERR_HEADER, "__metadata__ is not a JSON object");
    for (size_t i = 0; i < json_count(meta); i++)
        if (json_kind(json_at(meta, i)) != JSON_STRING)
            return stele_fail(err, STELE_ERR_HEADER, "__metadata__ value \"%s\" is not a string",
                           json_key_at(meta, i));
    return STELE_OK;
}

static int by_offset(const void *ctx, size_t a, size_t b) {
    const st_tensor *x = &((const st_tensor *)ctx)[a], *y = &((const st_tensor *)ctx)[b];
    if (x->data != y->data) return x->data < y->data;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes;
    return a < b;
}

static int by_name(const void *ctx, size_t a, size_t b) {
    return strcmp(((const st_tensor *)ctx)[a].name, ((const st_tensor *)ctx)[b].name) < 0;
}

static stele_status check_overlaps(st_file *f, const uint8_t *data, stele_error *err) {
    size_t n = f->count;
    if (n < 2) return STELE_OK;
    /* by_name is reused as scratch for the offset order, then re-sorted by name. */
    size_t *idx = f->by_name;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    isort(idx, n, by_offset, f->tensors);
    const st_tensor *last = NULL;   /* the non-empty tensor reaching furthest so far */
    for (size_t i = 0; i < n; i++) {
        const st_tensor *t = &f->tensors[idx[i]];
        if (t->nbytes == 0) continue;   /* empty ranges hold no bytes: they overlap nothing */
        if (last && t->data < last->data + last->nbytes)
            return stele_fail(err, STELE_ERR_RANGE,
                           "tensor \"%s\": data_offsets [%zu, %zu] overlap tensor \"%s\" [%zu, "
                           "%zu]", t->name, (size_t)(t->data - data),
                           (size_t)(t->data - data) + t->nbytes, last->name,
                           (size_t)(last->data - data), (size_t)(last->data - data) +
                           last->nbytes);
        if (!last || t->data + t->nbytes > last->data + last->nbytes) last = t;
    }
    return STELE_OK;
}

stele_status st_open(const uint8_t *bytes, size_t size, st_file **out, stele_error *err) {
    stele_error_clear(err);
    if (!out || (!bytes && size))
        return stele_fail(err, STELE_ERR_ARGUMENT, "st_open: NULL argument");
    *out = NULL;
    if (size < 8)
        return stele_fail(err, STELE_ERR_HEADER,
                       "file is %zu bytes, too short for the 8-byte header length", size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | bytes[i];
    if (n > size - 8)
        return stele_fail(err, STELE_ERR_HEADER,
                       "header length %llu (bytes 0..8) runs past the end of the %zu-byte file",
                       (unsigned long long)n, size);
    if (n > ST_MAX_HEADER_BYTES)
        return stele_fail(err, STELE_ERR_HEADER, "header length %llu is over the %u-byte limit",
                       (unsigned long long)n, ST_MAX_HEADER_BYTES);
    if (n < 2)
        return stele_fail(err, STELE_ERR_HEADER, "header length %llu is too small for a JSON object",
                       (unsigned long long)n);
    char jerr[200];
    size_t jpos = 0;
    json_value *h = json_parse_ex((const char *)bytes + 8, (size_t)n, jerr, sizeof jerr, &jpos);
    if (!h)
        return stele_fail(err, STELE_ERR_HEADER, "header JSON, file byte %zu: %s", jpos + 8, jerr);
    if (json_kind(h) != JSON_OBJECT) {
        json_free(h);
        return stele_fail(err, STELE_ERR_HEADER, "header is not a JSON object");
    }
    size_t members = json_count(h);
    if (members > ST_MAX_TENSORS + 1) {   /* + __metadata__ */
        json_free(h);
        return stele_fail(err, STELE_ERR_HEADER, "header has %zu entries (tensors and "
                          "__metadata__), over the limit of %u tensors", members, ST_MAX_TENSORS);
    }
    st_file *f = calloc(1, sizeof *f);
    if (f && members) {
        f->tensors = calloc(members, sizeof *f->tensors);
        f->by_name = calloc(members, sizeof *f->by_name);
    }
    if (!f || (members && (!f->tensors || !f->by_name))) {
        if (f) {
            free(f->tensors);
            free(f->by_name);
            free(f);
        }
        json_free(h);
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for %zu header entries", members);
    }
    f->header = h;
    const uint8_t *data = bytes + 8 + n;
    size_t data_size = size - 8 - (size_t)n;
    stele_status st = STELE_OK;
    for (size_t i = 0; i < members && st == STELE_OK; i++) {
        const char *key = json_key_at(h, i);
        const json_value *v = json_at(h, i);
        if (strcmp(key, "__metadata__") == 0) {
            st = check_meta(v, err);
            f->meta = v;
        } else if (key[0] == '\0') {
            st = stele_fail(err, STELE_ERR_HEADER, "a tensor has an empty name");
        } else {
            st = parse_tensor(key, v, data_size, data, &f->tensors[f->count], err);
            if (st == STELE_OK) f->count++;
        }
    }
    if (st == STELE_OK) st = check_overlaps(f, data, err);
    if (st != STELE_OK) {
        st_close(f);
        return st;
    }
    for (size_t i = 0; i < f->count; i++) f->by_name[i] = i;
    isort(f->by_name, f->count, by_name, f->tensors);
    *out = f;
    return STELE_OK;
}

void st_close(st_file *f) {
    if (!f) return;
    json_free(f->header);
    free(f->tensors);
    free(f->by_name);
    free(f);
}

size_t st_count(const st_file *f) {
    return f ? f->count : 0;
}

const st_tensor *st_at(const st_file *f, size_t i) {
    return f && i < f->count ? &f->tensors[i] : NULL;
}

const st_tensor *st_find(const st_file *f, const char *name) {
    if (!f || !name) return NULL;
    size_t lo = 0, hi = f->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const st_tensor *t = &f->tensors[f->by_name[mid]];
        int c = strcmp(t->name, name);
        if (c == 0) return t;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *st_meta(const st_file *f, const char *key) {
    if (!f || !key) return NULL;
    return json_string(json_get(f->meta, key));
}
