/* libFuzzer target: the safetensors container reader (st_open) on arbitrary bytes, then every
 * accessor on what it accepted. Also feeds the header bytes to the JSON parser alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/json.h"
#include "../../src/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* An exact-size copy, so that reads past the end are caught. */
    uint8_t *b = malloc(size ? size : 1);
    if (!b) return 0;
    memcpy(b, data, size);
    st_file *f = NULL;
    stele_error err;
    if (st_open(b, size, &f, &err) == STELE_OK) {
        volatile uint64_t sum = 0;
        for (size_t i = 0; i < st_count(f); i++) {
            const st_tensor *t = st_at(f, i);
            if (st_find(f, t->name) != t) abort();
            if ((uint64_t)t->numel * st_dtype_size(t->dtype) != t->nbytes) abort();
            if (t->nbytes) sum += t->data[0] + t->data[t->nbytes - 1];
        }
        (void)st_meta(f, "format");
        (void)st_meta(f, "config");
        st_close(f);
    } else if (!err.message[0]) {
        abort();   /* every error names its fault */
    }
    json_value *v = json_parse((const char *)b, size, NULL, 0);
    json_free(v);
    free(b);
    return 0;
}
