#include "error.h"

#include <stdarg.h>
#include <stdio.h>

stele_status stele_fail(stele_error *err, stele_status st, const char *fmt, ...) {
    if (err) {
        err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

void stele_error_clear(stele_error *err) {
    if (err) {
        err->status = STELE_OK;
        err->message[0] = '\0';
    }
}
