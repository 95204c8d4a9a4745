/* Strict RFC 8259 JSON parser (see json.h). */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isort.h"
#include "utf8.h"

typedef struct json_member json_member;

struct json_value {
    uint32_t type;           /* json_type */
    uint32_t n;              /* items / members / string bytes */
    union {
        double num;
        char *str;           /* into the document's string arena */
        json_value *items;   /* array: n values */
        json_member *members;/* object: n members, then n uint32 indices sorted by key */
    } u;
};

struct json_member {
    const char *key;
    json_value value;
};

/* The root value comes first so that json_free can get the document back from it. */
typedef struct {
    json_value root;
    char *strings;           /* arena for every decoded string: never longer than the text */
} json_doc;

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    char *arena;
    size_t arena_used;
    char *err;
    size_t errlen;
    size_t err_pos;
    int failed;
} parser;

#define MAX_NUMBER_CHARS 256

static void fail(parser *p, size_t pos, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = 1;
    p->err_pos = pos;
    if (p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
}

static const char *describe(parser *p, size_t pos, char *buf, size_t n) {
    if (pos >= p->len) return "end of input";
    unsigned char c = p->s[pos];
    if (c >= 0x20 && c < 0x7F) snprintf(buf, n, "'%c'", c);
    else snprintf(buf, n, "byte 0x%02X", c);
    return buf;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static void free_contents(json_value *v) {
    if (v->type == JSON_ARRAY) {
        for (uint32_t i = 0; i < v->n; i++) free_contents(&v->u.items[i]);
        free(v->u.items);
    } else if (v->type == JSON_OBJECT) {
        for (uint32_t i = 0; i < v->n; i++) free_contents(&v->u.members[i].value);
        free(v->u.members);
    }
    v->type = JSON_NULL;
    v->n = 0;
}

static int parse_value(parser *p, json_value *out, int depth);

static int hex4(parser *p, size_t at, uint32_t *out) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (at + i >= p->len) {
            fail(p, at + i, "truncated \\u escape");
            return -1;
        }
        unsigned char c = p->s[at + i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10u;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10u;
        else {
            fail(p, at + i, "invalid hex digit in \\u escape");
            return -1;
        }
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* Parses a string at p->pos (the opening quote) into the arena; returns its start or NULL. */
static char *parse_string(parser *p, uint32_t *out_len) {
    size_t start = p->pos;
    p->pos++;   /* opening quote */
    char *dst = p->arena + p->arena_used;
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len) {
            fail(p, start, "unterminated string");
            return NULL;
        }
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            fail(p, p->pos, "control character 0x%02X in string (must be escaped)", c);
            return NULL;
        }
        if (c == '\\') {
            size_t esc = p->pos;
            if (esc + 1 >= p->len) {
                fail(p, esc, "truncated escape");
                return NULL;
            }
            unsigned char e = p->s[esc + 1];
            p->pos = esc + 2;
            char simple = 0;
            switch (e) {
            case '"': simple = '"'; break;
            case '\\': simple = '\\'; break;
            case '/': simple = '/'; break;
            case 'b': simple = '\b'; break;
            case 'f': simple = '\f'; break;
            case 'n': simple = '\n'; break;
            case 'r': simple = '\r'; break;
            case 't': simple = '\t'; break;
            case 'u': break;
            default:
                fail(p, esc, "invalid escape '\\%c'", e >= 0x20 && e < 0x7F ? e : '?');
                return NULL;
            }
            if (simple) {
                dst[n++] = simple;
                continue;
            }
            uint32_t cp;
            if (hex4(p, esc + 2, &cp)) return NULL;
            p->pos = esc + 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(p, esc, "unpaired low surrogate \\u%04X", (unsigned)cp);
                return NULL;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    fail(p, esc, "high surrogate \\u%04X not followed by a low surrogate",
                         (unsigned)cp);
                    return NULL;
                }
                if (hex4(p, p->pos + 2, &lo)) return NULL;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail(p, p->pos, "high surrogate \\u%04X followed by \\u%04X, not a low "
                         "surrogate", (unsigned)cp, (unsigned)lo);
                    return NULL;
                }
                p->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0) {
                fail(p, esc, "\\u0000 (NUL) in string");
                return NULL;
            }
            n += utf8_encode(cp, (uint8_t *)dst + n);
            continue;
        }
        uint32_t cp;
        size_t k = utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
        if (k == 0) {
            fail(p, p->pos, "invalid UTF-8 in string");
            return NULL;
        }
        memcpy(dst + n, p->s + p->pos, k);
        n += k;
        p->pos += k;
    }
    /* The decoded text (plus NUL) is never longer than the quoted source text. */
    dst[n] = '\0';
    p->arena_used += n + 1;
    *out_len = (uint32_t)n;
    return dst;
}

static int parse_number(parser *p, json_value *out) {
    size_t start = p->pos, i = p->pos;
    const unsigned char *s = p->s;
    if (i < p->len && s[i] == '-') i++;
    if (i >= p->len || s[i] < '0' || s[i] > '9') {
        fail(p, i, "expected a digit in number");
        return -1;
    }
    if (s[i] == '0') {
        i++;
        if (i < p->len && s[i] >= '0' && s[i] <= '9') {
            fail(p, start, "leading zero in number");
            return -1;
        }
    } else {
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            fail(p, i, "expected a digit after the decimal point");
            return -1;
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            fail(p, i, "expected a digit in the exponent");
            return -1;
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    size_t n = i - start;
    if (n > MAX_NUMBER_CHARS) {
        fail(p, start, "number longer than %d characters", MAX_NUMBER_CHARS);
        return -1;
    }
    char buf[MAX_NUMBER_CHARS + 1];
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    /* The grammar is checked above; strtod only converts (correctly rounded with glibc, musl and
       Emscripten). It follows LC_NUMERIC: stele is used with the default "C" locale. */
    double v = strtod(buf, NULL);
    if (isinf(v)) {
        fail(p, start, "number out of range");
        return -1;
    }
    out->type = JSON_NUMBER;
    out->u.num = v;
    p->pos = i;
    return 0;
}

static int literal(parser *p, const char *word, json_type t, json_value *out) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
        char b[16];
        fail(p, p->pos, "unexpected %s", describe(p, p->pos, b, sizeof b));
        return -1;
    }
    p->pos += n;
    out->type = t;
    return 0;
}

/* Grows a buffer of elements of size `elem` to hold at least need elements. */
static int grow(parser *p, void **buf, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return 0;
    if (need == UINT32_MAX) {
        fail(p, p->pos, "too many elements");
        return -1;
    }
    uint32_t c = *cap ? *cap : 4;
    while (c < need) c = c > UINT32_MAX / 2 ? UINT32_MAX - 1 : c * 2;
    if ((size_t)c > SIZE_MAX / elem / 2) {   /* (32-bit size_t) */
        fail(p, p->pos, "too many elements");
        return -1;
    }
    void *nb = realloc(*buf, (size_t)c * elem);
    if (!nb) {
        fail(p, p->pos, "out of memory");
        return -1;
    }
    *buf = nb;
    *cap = c;
    return 0;
}

static int parse_array(parser *p, json_value *out, int depth) {
    uint32_t cap = 0;
    out->type = JSON_ARRAY;
    out->n = 0;
    out->u.items = NULL;
    p->pos++;   /* '[' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        void *buf = out->u.items;
        if (grow(p, &buf, &cap, out->n + 1, sizeof(json_value))) break;
        out->u.items = buf;
        json_value *item = &out->u.items[out->n];
        item->type = JSON_NULL;
        item->n = 0;
        if (parse_value(p, item, depth)) break;
        out->n++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return 0;
        }
        char b[16];
        fail(p, p->pos, "expected ',' or ']' in array, found %s",
             describe(p, p->pos, b, sizeof b));
        break;
    }
    free_contents(out);
    return -1;
}

static int key_less(const void *ctx, size_t a, size_t b) {
    const json_member *m = ctx;
    return strcmp(m[a].key, m[b].key) < 0;
}

/* Sorted index (after the members), duplicate check. */
static int finish_object(parser *p, json_value *out, const size_t *key_pos) {
    uint32_t n = out->n;
    if (n == 0) return 0;
    size_t bytes = (size_t)n * sizeof(json_member) + (size_t)n * sizeof(uint32_t);
    json_member *m = realloc(out->u.members, bytes);
    if (!m) {
        fail(p, p->pos, "out of memory");
        return -1;
    }
    out->u.members = m;
    uint32_t *order = (uint32_t *)(m + n);
    /* Sort a size_t index (isort's type) in a temporary, then narrow it into order. */
    size_t *idx = malloc((size_t)n * sizeof *idx);
    if (!idx) {
        fail(p, p->pos, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) idx[i] = i;
    isort(idx, n, key_less, m);
    for (uint32_t i = 0; i < n; i++) order[i] = (uint32_t)idx[i];
    free(idx);
    for (uint32_t i = 1; i < n; i++) {
        if (strcmp(m[order[i - 1]].key, m[order[i]].key) == 0) {
            uint32_t later = order[i] > order[i - 1] ? order[i] : order[i - 1];
            fail(p, key_pos[later], "duplicate key \"%s\"", m[later].key);
            return -1;
        }
    }
    return 0;
}

static int parse_object(parser *p, json_value *out, int depth) {
    uint32_t cap = 0, pos_cap = 0;
    size_t *key_pos = NULL;
    out->type = JSON_OBJECT;
    out->n = 0;
    out->u.members = NULL;
    p->pos++;   /* '{' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        char b[16];
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            fail(p, p->pos, "expected a string key in object, found %s",
                 describe(p, p->pos, b, sizeof b));
            break;
        }
        void *buf = out->u.members;
        if (grow(p, &buf, &cap, out->n + 1, sizeof(json_member))) break;
        out->u.members = buf;
        buf = key_pos;
        if (grow(p, &buf, &pos_cap, out->n + 1, sizeof(size_t))) break;
        key_pos = buf;
        json_member *m = &out->u.members[out->n];
        key_pos[out->n] = p->pos;
        uint32_t klen;
        m->key = parse_string(p, &klen);
        if (!m->key) break;
        m->value.type = JSON_NULL;
        m->value.n = 0;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            fail(p, p->pos, "expected ':' after object key, found %s",
                 describe(p, p->pos, b, sizeof b));
            break;
        }
        p->pos++;
        if (parse_value(p, &m->value, depth)) break;
        out->n++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            skip_ws(p);
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            int rc = finish_object(p, out, key_pos);
            free(key_pos);
            if (rc) free_contents(out);
            return rc;
        }
        fail(p, p->pos, "expected ',' or '}' in object, found %s",
             describe(p, p->pos, b, sizeof b));
        break;
    }
    free(key_pos);
    free_contents(out);
    return -1;
}

static int parse_value(parser *p, json_value *out, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, p->pos, "unexpected end of input, expected a value");
        return -1;
    }
    unsigned char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        if (depth >= JSON_MAX_DEPTH) {
            fail(p, p->pos, "nesting deeper than %d", JSON_MAX_DEPTH);
            return -1;
        }
        return c == '{' ? parse_object(p, out, depth + 1) : parse_array(p, out, depth + 1);
    }
    if (c == '"') {
        uint32_t n;
        char *s = parse_string(p, &n);
        if (!s) return -1;
        out->type = JSON_STRING;
        out->n = n;
        out->u.str = s;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, out);
    if (c == 't') return literal(p, "true", JSON_TRUE, out);
    if (c == 'f') return literal(p, "false", JSON_FALSE, out);
    if (c == 'n') return literal(p, "null", JSON_NULL, out);
    char b[16];
    fail(p, p->pos, "unexpected %s, expected a value", describe(p, p->pos, b, sizeof b));
    return -1;
}

static json_value *parse(const char *text, size_t len, char *err, size_t errlen,
                         size_t *err_pos, int prefix) {
    if (err && errlen) err[0] = '\0';
    parser p = {0};
    p.s = (const unsigned char *)text;
    p.len = len;
    p.err = err;
    p.errlen = errlen;
    json_doc *doc = calloc(1, sizeof *doc);
    if (doc) doc->strings = malloc(len + 1);
    if (!doc || !doc->strings) {
        free(doc);
        doc = NULL;
        fail(&p, 0, "out of memory");
    } else if (!text && len) {
        fail(&p, 0, "NULL text");
    } else {
        p.arena = doc->strings;
        if (parse_value(&p, &doc->root, 0) == 0) {
            skip_ws(&p);
            if (p.pos < p.len) {
                char b[16];
                fail(&p, p.pos, "unexpected %s after the value",
                     describe(&p, p.pos, b, sizeof b));
            }
        }
    }
    if (!p.failed) return &doc->root;
    if (doc) {
        free_contents(&doc->root);
        free(doc->strings);
        free(doc);
    }
    if (err_pos) *err_pos = p.err_pos;
    if (prefix && err && errlen) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", err);
        snprintf(err, errlen, "byte %zu: %s", p.err_pos, msg);
    }
    return NULL;
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errlen) {
    return parse(text, len, err, errlen, NULL, 1);
}

json_value *json_parse_ex(const char *text, size_t len, char *err, size_t errlen,
                          size_t *err_pos) {
    return parse(text, len, err, errlen, err_pos, 0);
}

void json_free(json_value *root) {
    if (!root) return;
    json_doc *doc = (json_doc *)root;
    free_contents(&doc->root);
    free(doc->strings);
    free(doc);
}

json_type json_kind(const json_value *v) {
    return v ? (json_type)v->type : JSON_NULL;
}

const json_value *json_get(const json_value *object, const char *key) {
    if (!object || object->type != JSON_OBJECT || !key || object->n == 0) return NULL;
    const json_member *m = object->u.members;
    const uint32_t *order = (const uint32_t *)(m + object->n);
    size_t lo = 0, hi = object->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m[order[mid]].key, key);
        if (c == 0) return &m[order[mid]].value;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

size_t json_count(const json_value *v) {
    if (!v || (v->type != JSON_ARRAY && v->type != JSON_OBJECT)) return 0;
    return v->n;
}

const json_value *json_at(const json_value *v, size_t i) {
    if (!v || i >= json_count(v)) return NULL;
    return v->type == JSON_ARRAY ? &v->u.items[i] : &v->u.members[i].value;
}

const char *json_key_at(const json_value *object, size_t i) {
    if (!object || object->type != JSON_OBJECT || i >= object->n) return NULL;
    return object->u.members[i].key;
}

const char *json_string(const json_value *v) {
    return v && v->type == JSON_STRING ? v->u.str : NULL;
}

size_t json_string_len(const json_value *v) {
    return v && v->type == JSON_STRING ? v->n : 0;
}

int json_number(const json_value *v, double *out) {
    if (!v || v->type != JSON_NUMBER) return -1;
    if (out) *out = v->u.num;
    return 0;
}
