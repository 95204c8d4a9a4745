/* Small JSON (RFC 8259) parser into a read-only tree; used for the safetensors header and the
 * config metadata. Internal to stele. */
#ifndef STELE_JSON_H
#define STELE_JSON_H
#include <stddef.h>

typedef enum { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
               JSON_OBJECT } json_type;

typedef struct json_value json_value;

/* Parses text[0..len). Returns NULL on error and writes "byte N: what" into err (errlen bytes).
 * Depth is limited (JSON_MAX_DEPTH) so hostile input cannot exhaust the stack. The whole tree is
 * freed by json_free(root). Strings are decoded (escapes, \uXXXX pairs) to NUL-terminated UTF-8;
 * a string containing an escaped NUL is rejected. */
#define JSON_MAX_DEPTH 64
json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* The same; on error also stores the offending byte offset into *err_pos (when not NULL) and
 * writes just "what" (no "byte N: " prefix), so that callers can report offsets in their own
 * frame (e.g. file offsets). */
json_value *json_parse_ex(const char *text, size_t len, char *err, size_t errlen, size_t *err_pos);
void json_free(json_value *root);

json_type json_kind(const json_value *v);
/* Object member by key, or NULL (also when v is not an object). With duplicate keys the parse
 * fails, so lookups are unambiguous. */
const json_value *json_get(const json_value *object, const char *key);
size_t json_count(const json_value *v);                       /* array items or object members */
const json_value *json_at(const json_value *v, size_t i);     /* i-th item / member value */
const char *json_key_at(const json_value *object, size_t i);  /* i-th member's key */
const char *json_string(const json_value *v);                 /* NULL unless a string */
size_t json_string_len(const json_value *v);                  /* bytes, 0 unless a string */
int json_number(const json_value *v, double *out);            /* 0 ok, -1 not a number */
#endif
