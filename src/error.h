/* Filling a stele_error (internal to stele; shared by the parsers, usable by the engine). */
#ifndef STELE_ERROR_H
#define STELE_ERROR_H
#include "stele.h"

/* Stores status st and the printf-style message into err (when not NULL); returns st. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
stele_status stele_fail(stele_error *err, stele_status st, const char *fmt, ...);

/* Clears err to STELE_OK with an empty message (when not NULL). */
void stele_error_clear(stele_error *err);
#endif
