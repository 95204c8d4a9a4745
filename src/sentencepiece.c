/* SentencePiece ModelProto reader, unigram/char encoders and decoder (see sentencepiece.h).
 *
 * Behaviour follows python3-sentencepiece 0.1.97 for the options stele supports:
 *   - normalization: no charsmap (identity); user-defined pieces are matched first and kept
 *     verbatim; leading spaces are dropped, runs of spaces collapse to one, trailing spaces are
 *     dropped (remove_extra_whitespaces); a "▁" is prepended (add_dummy_prefix); ' ' -> "▁"
 *     (escape_whitespaces).
 *   - unigram: best path by summed piece scores over the byte lattice; user-defined pieces score
 *     length * max_score - 0.1; a character no single-character piece covers gets an <unk> node
 *     scored min_score - 10; candidates are visited by start position then by end position and
 *     only a strictly better score replaces the current best (earliest wins ties); scores are
 *     summed in double and stored in float, as in SentencePiece's optimized encoder.
 *   - char: one piece per character (or per user-defined piece), unknown characters -> <unk>.
 *   - runs of consecutive <unk> pieces merge into one.
 */
#include "sentencepiece.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "isort.h"
#include "utf8.h"

enum { T_NORMAL = 1, T_UNKNOWN = 2, T_CONTROL = 3, T_USER = 4, T_UNUSED = 5, T_BYTE = 6 };
enum { M_UNIGRAM = 1, M_BPE = 2, M_WORD = 3, M_CHAR = 4 };

#define SPM_MAX_PIECES (1 << 22)
#define SPM_MAX_PIECE_BYTES 4096
#define SPACE_SYMBOL "\xE2\x96\x81"   /* U+2581 */

typedef struct {
    uint32_t child;    /* index of the first child; children are contiguous, sorted by byte */
    uint32_t nchild;
    int32_t normal;    /* id of a NORMAL / USER_DEFINED / UNUSED piece ending here, or -1 */
    int32_t reserved;  /* id of an UNKNOWN / CONTROL piece ending here, or -1 */
    uint8_t byte;
} trie_node;

struct spm_model {
    int n;
    char *text;        /* every piece, NUL-terminated */
    uint32_t *off, *len;
    float *score;
    uint8_t *type;
    int32_t *as_decoded;  /* PieceToId(IdToPiece(id)): reserved pieces win, as in SentencePiece */
    int model_type;
    int unk, bos, eos, pad;
    int add_dummy_prefix, remove_extra_ws, escape_ws;
    int has_user;
    float min_score, max_score;
    char *unk_surface;
    size_t unk_surface_len;
    trie_node *trie;
    uint32_t n_nodes;
};

/* ------------------------------------------------------------------ errors */


/* ------------------------------------------------------------------ protobuf wire format */

typedef struct {
    const uint8_t *base;   /* start of the whole ModelProto, for byte offsets in messages */
    const uint8_t *p, *end;
} pb;

typedef struct {
    uint32_t field;
    int wire;
    uint64_t v;            /* varint / fixed value */
    const uint8_t *data;   /* length-delimited payload */
    size_t len;
    size_t at;             /* byte offset of the tag */
} pb_field;

static int pb_varint(pb *r, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) return -1;
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1) return -2;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -2;
}

/* Reads the next field; 1 = got one, 0 = end of message, -1 = error (message in err). */
static int pb_next(pb *r, pb_field *f, const char *msg, stele_error *err) {
    if (r->p >= r->end) return 0;
    f->at = (size_t)(r->p - r->base);
    uint64_t tag;
    int rc = pb_varint(r, &tag);
    if (rc) {
        stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: %s tag in %s", f->at,
                rc == -1 ? "truncated" : "overlong", msg);
        return -1;
    }
    f->field = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    if (f->field == 0 || tag >> 3 > 0x1FFFFFFF) {
        stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: invalid field number "
                "in %s", f->at, msg);
        return -1;
    }
    const char *what = NULL;
    switch (f->wire) {
    case 0:
        rc = pb_varint(r, &f->v);
        if (rc) what = rc == -1 ? "truncated varint" : "overlong varint";
        break;
    case 1:
    case 5: {
        size_t n = f->wire == 1 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n) {
            what = "truncated fixed-width value";
            break;
        }
        f->v = 0;
        for (size_t i = n; i-- > 0;) f->v = (f->v << 8) | r->p[i];
        r->p += n;
        break;
    }
    case 2: {
        uint64_t n;
        rc = pb_varint(r, &n);
        if (rc) {
            what = rc == -1 ? "truncated length" : "overlong length";
            break;
        }
        if (n > (uint64_t)(r->end - r->p)) {
            what = "length runs past the end of its message";
            break;
        }
        f->data = r->p;
        f->len = (size_t)n;
        r->p += n;
        break;
    }
    default:
        what = "unsupported wire type (groups are not used by ModelProto)";
    }
    if (what) {
        stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: field %u of %s: %s",
                f->at, (unsigned)f->field, msg, what);
        return -1;
    }
    return 1;
}

static int want_wire(const pb_field *f, int wire, const char *msg, const char *name,
                     stele_error *err) {
    if (f->wire == wire) return 0;
    stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: %s.%s (field %u) has wire "
            "type %d, expected %d", f->at, msg, name, (unsigned)f->field, f->wire, wire);
    return -1;
}

/* ------------------------------------------------------------------ ModelProto */

typedef struct {
    int model_type;
    int64_t unk_id, bos_id, eos_id, pad_id;
    int byte_fallback, ws_suffix;
    const uint8_t *unk_surface, *unk_piece, *bos_piece, *eos_piece, *pad_piece;
    size_t unk_surface_len, unk_piece_len, bos_piece_len, eos_piece_len, pad_piece_len;
    int has_unk_surface;
    int add_dummy_prefix, remove_extra_ws, escape_ws;
    size_t charsmap_len, denorm_charsmap_len;
    size_t charsmap_at, denorm_at;
} spec;

typedef struct {
    const uint8_t *piece;
    size_t len;
    float score;
    int type;
    size_t at;
} raw_piece;

static int parse_piece(pb *whole, const pb_field *outer, raw_piece *rp, stele_error *err) {
    pb r = {whole->base, outer->data, outer->data + outer->len};
    pb_field f;
    int rc;
    rp->piece = NULL;
    rp->len = 0;
    rp->score = 0;
    rp->type = T_NORMAL;
    rp->at = outer->at;
    int has_piece = 0;
    while ((rc = pb_next(&r, &f, "SentencePiece", err)) == 1) {
        if (f.field == 1) {
            if (want_wire(&f, 2, "SentencePiece", "piece", err)) return -1;
            rp->piece = f.data;
            rp->len = f.len;
            has_piece = 1;
        } else if (f.field == 2) {
            if (want_wire(&f, 5, "SentencePiece", "score", err)) return -1;
            uint32_t u = (uint32_t)f.v;
            memcpy(&rp->score, &u, sizeof u);
        } else if (f.field == 3) {
            if (want_wire(&f, 0, "SentencePiece", "type", err)) return -1;
            if (f.v < 1 || f.v > 6) {
                stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: piece type %llu "
                        "is not a known type", f.at, (unsigned long long)f.v);
                return -1;
            }
            rp->type = (int)f.v;
        }
    }
    if (rc < 0) return -1;
    if (!has_piece || rp->len == 0) {
        stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: piece with an empty "
                "string", outer->at);
        return -1;
    }
    return 0;
}

static int bool_field(const pb_field *f, const char *msg, const char *name, int *out,
                      stele_error *err) {
    if (want_wire(f, 0, msg, name, err)) return -1;
    *out = f->v != 0;
    return 0;
}

static int int32_field(const pb_field *f, const char *msg, const char *name, int64_t *out,
                       stele_error *err) {
    if (want_wire(f, 0, msg, name, err)) return -1;
    *out = (int32_t)(uint32_t)f->v;   /* int32 varints are sign-extended to 64 bits */
    return 0;
}

static int bytes_field(const pb_field *f, const char *msg, const char *name,
                       const uint8_t **data, size_t *len, stele_error *err) {
    if (want_wire(f, 2, msg, name, err)) return -1;
    *data = f->data;
    *len = f->len;
    return 0;
}

static int parse_trainer(pb *whole, const pb_field *outer, spec *s, stele_error *err) {
    pb r = {whole->base, outer->data, outer->data + outer->len};
    pb_field f;
    int rc;
    const char *m = "TrainerSpec";
    while ((rc = pb_next(&r, &f, m, err)) == 1) {
        int bad = 0;
        switch (f.field) {
        case 3: {
            int64_t v = 0;
            bad = int32_field(&f, m, "model_type", &v, err);
            s->model_type = (int)v;
            break;
        }
        case 24: bad = bool_field(&f, m, "treat_whitespace_as_suffix", &s->ws_suffix, err); break;
        case 35: bad = bool_field(&f, m, "byte_fallback", &s->byte_fallback, err); break;
        case 40: bad = int32_field(&f, m, "unk_id", &s->unk_id, err); break;
        case 41: bad = int32_field(&f, m, "bos_id", &s->bos_id, err); break;
        case 42: bad = int32_field(&f, m, "eos_id", &s->eos_id, err); break;
        case 43: bad = int32_field(&f, m, "pad_id", &s->pad_id, err); break;
        case 44:
            bad = bytes_field(&f, m, "unk_surface", &s->unk_surface, &s->unk_surface_len, err);
            s->has_unk_surface = 1;
            break;
        case 45: bad = bytes_field(&f, m, "unk_piece", &s->unk_piece, &s->unk_piece_len, err); break;
        case 46: bad = bytes_field(&f, m, "bos_piece", &s->bos_piece, &s->bos_piece_len, err); break;
        case 47: bad = bytes_field(&f, m, "eos_piece", &s->eos_piece, &s->eos_piece_len, err); break;
        case 48: bad = bytes_field(&f, m, "pad_piece", &s->pad_piece, &s->pad_piece_len, err); break;
        default: break;
        }
        if (bad) return -1;
    }
    return rc < 0 ? -1 : 0;
}

static int parse_normalizer(pb *whole, const pb_field *outer, spec *s, int denorm,
                            stele_error *err) {
    pb r = {whole->base, outer->data, outer->data + outer->len};
    pb_field f;
    int rc;
    const char *m = denorm ? "denormalizer_spec" : "NormalizerSpec";
    while ((rc = pb_next(&r, &f, m, err)) == 1) {
        int bad = 0, dummy;
        const uint8_t *d = NULL;
        size_t n = 0;
        switch (f.field) {
        case 2:
            bad = bytes_field(&f, m, "precompiled_charsmap", &d, &n, err);
            if (denorm) {
                s->denorm_charsmap_len = n;
                s->denorm_at = f.at;
            } else {
                s->charsmap_len = n;
                s->charsmap_at = f.at;
            }
            break;
        case 3: bad = bool_field(&f, m, "add_dummy_prefix", denorm ? &dummy : &s->add_dummy_prefix,
                                 err); break;
        case 4: bad = bool_field(&f, m, "remove_extra_whitespaces",
                                 denorm ? &dummy : &s->remove_extra_ws, err); break;
        case 5: bad = bool_field(&f, m, "escape_whitespaces", denorm ? &dummy : &s->escape_ws,
                                 err); break;
        default: break;
        }
        if (bad) return -1;
    }
    return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ trie */

static int piece_less(const void *ctx, size_t a, size_t b) {
    const spm_model *m = ctx;
    size_t la = m->len[a], lb = m->len[b];
    int c = memcmp(m->text + m->off[a], m->text + m->off[b], la < lb ? la : lb);
    if (c) return c < 0;
    if (la != lb) return la < lb;
    return a < b;
}

static int is_reserved_type(int t) {
    return t == T_UNKNOWN || t == T_CONTROL || t == T_BYTE;
}

/* Builds the byte trie breadth-first from the pieces sorted by bytes: a node's pieces form a
 * contiguous range of the sorted order, and its children (appended in byte order) are
 * contiguous in the node array. */
static stele_status build_trie(spm_model *m, stele_error *err) {
    size_t n = (size_t)m->n, total = 1;
    for (size_t i = 0; i < n; i++) total += m->len[i];
    size_t *sorted = malloc(n * sizeof *sorted);
    uint32_t *lo = malloc(total * sizeof *lo), *hi = malloc(total * sizeof *hi);
    uint32_t *depth = malloc(total * sizeof *depth);
    m->trie = malloc(total * sizeof *m->trie);
    stele_status st = STELE_OK;
    if (!sorted || !lo || !hi || !depth || !m->trie) {
        st = stele_fail(err, STELE_ERR_MEMORY, "out of memory for the tokenizer's piece trie");
        goto done;
    }
    for (size_t i = 0; i < n; i++) sorted[i] = i;
    isort(sorted, n, piece_less, m);
    uint32_t count = 1;
    m->trie[0] = (trie_node){0, 0, -1, -1, 0};
    lo[0] = 0;
    hi[0] = (uint32_t)n;
    depth[0] = 0;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t a = lo[k], b = hi[k], d = depth[k];
        trie_node *node = &m->trie[k];
        for (; a < b && m->len[sorted[a]] == d; a++) {
            int id = (int)sorted[a];
            int32_t *slot = is_reserved_type(m->type[id]) ? &node->reserved : &node->normal;
            if (*slot >= 0) {
                st = stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: piece \"%.60s\" "
                             "(id %d) is already defined (id %d)", m->text + m->off[id], id,
                             (int)*slot);
                goto done;
            }
            *slot = id;
        }
        node->child = count;
        while (a < b) {
            uint8_t byte = (uint8_t)m->text[m->off[sorted[a]] + d];
            uint32_t e = a;
            while (e < b && (uint8_t)m->text[m->off[sorted[e]] + d] == byte) e++;
            m->trie[count] = (trie_node){0, 0, -1, -1, byte};
            lo[count] = a;
            hi[count] = e;
            depth[count] = d + 1;
            count++;
            a = e;
        }
        m->trie[k].nchild = count - m->trie[k].child;
    }
    m->n_nodes = count;
done:
    free(sorted);
    free(lo);
    free(hi);
    free(depth);
    return st;
}

/* Child of node k for byte c, or -1. */
static int64_t trie_step(const spm_model *m, uint32_t k, uint8_t c) {
    const trie_node *t = m->trie;
    uint32_t a = t[k].child, b = t[k].child + t[k].nchild;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (t[mid].byte == c) return mid;
        if (t[mid].byte < c) a = mid + 1;
        else b = mid;
    }
    return -1;
}

/* Node of the exact string s[0..n), or -1. */
static int64_t trie_find(const spm_model *m, const uint8_t *s, size_t n) {
    int64_t k = 0;
    for (size_t i = 0; i < n && k >= 0; i++) k = trie_step(m, (uint32_t)k, s[i]);
    return k;
}

/* PieceToId: reserved pieces first, then normal ones; -1 when absent. */
static int piece_to_id(const spm_model *m, const uint8_t *s, size_t n) {
    int64_t k = trie_find(m, s, n);
    if (k < 0) return -1;
    return m->trie[k].reserved >= 0 ? m->trie[k].reserved : m->trie[k].normal;
}

int spm_char_known(const spm_model *m, const char *s, size_t n) {
    int id = piece_to_id(m, (const uint8_t *)s, n);
    return id >= 0 && (m->type[id] == T_NORMAL || m->type[id] == T_USER);
}

/* ------------------------------------------------------------------ loading */

static stele_status check_utf8(const uint8_t *s, size_t n, size_t at, const char *what,
                               stele_error *err) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (!k || cp == 0)
            return stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: %s is not "
                           "valid UTF-8 without NUL (at its byte %zu)", at, what, i);
        i += k;
    }
    return STELE_OK;
}

static int special_id(const spm_model *m, const uint8_t *piece, size_t len, const char *dflt,
                      int type) {
    if (!piece) {
        piece = (const uint8_t *)dflt;
        len = strlen(dflt);
    }
    int id = piece_to_id(m, piece, len);
    return id >= 0 && m->type[id] == type ? id : -1;
}

static stele_status finish_load(spm_model *m, raw_piece *rp, const spec *s, stele_error *err) {
    size_t n = (size_t)m->n, total = 0;
    for (size_t i = 0; i < n; i++) total += rp[i].len + 1;
    if (total >= UINT32_MAX)
        return stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: %zu bytes of pieces, "
                          "too many", total);
    m->text = malloc(total);
    m->off = malloc(n * sizeof *m->off);
    m->len = malloc(n * sizeof *m->len);
    m->score = malloc(n * sizeof *m->score);
    m->type = malloc(n);
    m->as_decoded = malloc(n * sizeof *m->as_decoded);
    if (!m->text || !m->off || !m->len || !m->score || !m->type || !m->as_decoded)
        return stele_fail(err, STELE_ERR_MEMORY, "out of memory for %zu tokenizer pieces", n);
    size_t pos = 0;
    m->min_score = FLT_MAX;
    m->max_score = FLT_MIN;   /* sic: SentencePiece starts from FLT_MIN, the smallest positive */
    int unk_count = 0;
    for (size_t i = 0; i < n; i++) {
        char what[48];
        snprintf(what, sizeof what, "piece %zu", i);
        stele_status st = check_utf8(rp[i].piece, rp[i].len, rp[i].at, what, err);
        if (st) return st;
        if (rp[i].len > SPM_MAX_PIECE_BYTES)
            return stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: piece %zu is "
                           "%zu bytes long, over the %d-byte limit", rp[i].at, i, rp[i].len,
                           SPM_MAX_PIECE_BYTES);
        if (rp[i].type == T_BYTE)
            return stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: piece %zu is "
                           "a byte piece (byte fallback is not supported)", rp[i].at, i);
        if (rp[i].type == T_UNKNOWN) unk_count++;
        if (rp[i].type == T_USER) m->has_user = 1;
        if (rp[i].type == T_NORMAL) {
            if (rp[i].score < m->min_score) m->min_score = rp[i].score;
            if (rp[i].score > m->max_score) m->max_score = rp[i].score;
        }
        memcpy(m->text + pos, rp[i].piece, rp[i].len);
        m->text[pos + rp[i].len] = '\0';
        m->off[i] = (uint32_t)pos;
        m->len[i] = (uint32_t)rp[i].len;
        m->score[i] = rp[i].score;
        m->type[i] = (uint8_t)rp[i].type;
        pos += rp[i].len + 1;
    }
    if (unk_count != 1)
        return stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: %d pieces of type UNKNOWN,"
                       " expected exactly one", unk_count);
    stele_status st = build_trie(m, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        m->as_decoded[i] = piece_to_id(m, (const uint8_t *)m->text + m->off[i], m->len[i]);

    m->unk = special_id(m, s->unk_piece, s->unk_piece_len, "<unk>", T_UNKNOWN);
    m->bos = special_id(m, s->bos_piece, s->bos_piece_len, "<s>", T_CONTROL);
    m->eos = special_id(m, s->eos_piece, s->eos_piece_len, "</s>", T_CONTROL);
    m->pad = special_id(m, s->pad_piece, s->pad_piece_len, "<pad>", T_CONTROL);
    const struct { const char *name; int64_t want; int got; } ids[] = {
        {"unk", s->unk_id, m->unk}, {"bos", s->bos_id, m->bos}, {"eos", s->eos_id, m->eos},
        {"pad", s->pad_id, m->pad}};
    for (size_t i = 0; i < 4; i++)
        if (ids[i].want != ids[i].got)
            return stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: trainer_spec %s_id is "
                           "%lld but the %s piece is id %d", ids[i].name, (long long)ids[i].want,
                           ids[i].name, ids[i].got);
    if (m->unk < 0)
        return stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: no unk piece");

    const uint8_t *surf = s->has_unk_surface ? s->unk_surface : (const uint8_t *)" \xE2\x81\x87 ";
    size_t surf_len = s->has_unk_surface ? s->unk_surface_len : 5;
    st = check_utf8(surf, surf_len, 0, "unk_surface", err);
    if (st) return st;
    m->unk_surface = malloc(surf_len + 1);
    if (!m->unk_surface) return stele_fail(err, STELE_ERR_MEMORY, "out of memory");
    memcpy(m->unk_surface, surf, surf_len);
    m->unk_surface[surf_len] = '\0';
    m->unk_surface_len = surf_len;
    return STELE_OK;
}

stele_status spm_load(const uint8_t *bytes, size_t size, spm_model **out, stele_error *err) {
    stele_error_clear(err);
    if (!out || (!bytes && size)) return stele_fail(err, STELE_ERR_ARGUMENT, "spm_load: NULL argument");
    *out = NULL;
    spec s = {0};
    s.model_type = M_UNIGRAM;
    s.unk_id = 0;
    s.bos_id = 1;
    s.eos_id = 2;
    s.pad_id = -1;
    s.add_dummy_prefix = s.remove_extra_ws = s.escape_ws = 1;

    pb r = {bytes, bytes, bytes + size};
    pb_field f;
    int rc;
    raw_piece *rp = NULL;
    size_t n = 0, cap = 0;
    stele_status st = STELE_OK;
    while ((rc = pb_next(&r, &f, "ModelProto", err)) == 1) {
        if (f.field == 1) {
            if (want_wire(&f, 2, "ModelProto", "pieces", err)) { rc = -1; break; }
            if (n >= SPM_MAX_PIECES) {
                st = stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: more than "
                             "%d pieces", f.at, SPM_MAX_PIECES);
                break;
            }
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                raw_piece *nr = realloc(rp, nc * sizeof *nr);
                if (!nr) {
                    st = stele_fail(err, STELE_ERR_MEMORY, "out of memory for tokenizer pieces");
                    break;
                }
                rp = nr;
                cap = nc;
            }
            if (parse_piece(&r, &f, &rp[n], err)) { rc = -1; break; }
            n++;
        } else if (f.field == 2) {
            if (want_wire(&f, 2, "ModelProto", "trainer_spec", err) ||
                parse_trainer(&r, &f, &s, err)) { rc = -1; break; }
        } else if (f.field == 3 || f.field == 5) {
            if (want_wire(&f, 2, "ModelProto", f.field == 3 ? "normalizer_spec" :
                          "denormalizer_spec", err) ||
                parse_normalizer(&r, &f, &s, f.field == 5, err)) { rc = -1; break; }
        }
    }
    if (rc < 0) st = err ? err->status : STELE_ERR_TOKENIZER;
    if (st == STELE_OK) {
        if (n == 0)
            st = stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: no pieces (%zu bytes "
                         "are not a ModelProto)", size);
        else if (s.model_type != M_UNIGRAM && s.model_type != M_CHAR)
            st = stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: model_type %d is not "
                         "supported (only unigram = 1 and char = 4)", s.model_type);
        else if (s.charsmap_len)
            st = stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: non-empty "
                         "precompiled_charsmap (%zu bytes): only identity normalization is "
                         "supported", s.charsmap_at, s.charsmap_len);
        else if (s.denorm_charsmap_len)
            st = stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model byte %zu: denormalizer "
                         "charsmap is not supported", s.denorm_at);
        else if (s.byte_fallback)
            st = stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: byte_fallback is not "
                         "supported");
        else if (s.ws_suffix)
            st = stele_fail(err, STELE_ERR_TOKENIZER, "SentencePiece model: "
                         "treat_whitespace_as_suffix is not supported");
    }
    spm_model *m = NULL;
    if (st == STELE_OK) {
        m = calloc(1, sizeof *m);
        if (!m) st = stele_fail(err, STELE_ERR_MEMORY, "out of memory");
    }
    if (st == STELE_OK) {
        m->n = (int)n;
        m->model_type = s.model_type;
        m->add_dummy_prefix = s.add_dummy_prefix;
        m->remove_extra_ws = s.remove_extra_ws;
        m->escape_ws = s.escape_ws;
        st = finish_load(m, rp, &s, err);
    }
    free(rp);
    if (st != STELE_OK) {
        spm_free(m);
        return st;
    }
    *out = m;
    return STELE_OK;
}

void spm_free(spm_model *m) {
    if (!m) return;
    free(m->text);
    free(m->off);
    free(m->len);
    free(m->score);
    free(m->type);
    free(m->as_decoded);
    free(m->unk_surface);
    free(m->trie);
    free(m);
}

int spm_vocab_size(const spm_model *m) { return m ? m->n : 0; }
int spm_unk_id(const spm_model *m) { return m ? m->unk : -1; }
int spm_bos_id(const spm_model *m) { return m ? m->bos : -1; }
int spm_eos_id(const spm_model *m) { return m ? m->eos : -1; }
int spm_pad_id(const spm_model *m) { return m ? m->pad : -1; }

const char *spm_piece(const spm_model *m, int id) {
    if (!m || id < 0 || id >= m->n) return NULL;
    return m->text + m->off[id];
}

/* ------------------------------------------------------------------ encoding */

size_t spm_max_ids(size_t text_len) {
    /* Each piece covers at least one character of the normalized text, which has at most one
       character per input character plus the dummy prefix. */
    return text_len + 1;
}

typedef struct {
    float score;       /* best path score ending here */
    int32_t start;     /* start of its last piece, -1 = unreached */
    int32_t id;
    int32_t next;      /* forward link, filled while backtracking */
} lattice_node;

static size_t norm_cap(size_t len) { return 3 * len + 3; }

size_t spm_scratch_bytes(const spm_model *m, size_t text_len) {
    (void)m;
    if (text_len > (SIZE_MAX - 64) / (4 * sizeof(lattice_node))) return SIZE_MAX;
    size_t nc = norm_cap(text_len);
    return nc + 16 + (nc + 1) * sizeof(lattice_node);
}

/* Length of the longest user-defined piece that prefixes s[0..n), or 0. */
static size_t user_prefix(const spm_model *m, const uint8_t *s, size_t n) {
    if (!m->has_user) return 0;
    size_t best = 0;
    int64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k = trie_step(m, (uint32_t)k, s[i]);
        if (k < 0) break;
        int32_t id = m->trie[k].normal;
        if (id >= 0 && m->type[id] == T_USER) best = i + 1;
    }
    return best;
}

static size_t char_len(const uint8_t *s, size_t n) {
    uint32_t cp;
    size_t k = utf8_decode(s, n, &cp);
    return k ? k : 1;   /* the input is validated; normalized text is valid too */
}

/* SentencePiece's normalizer without a charsmap; returns the normalized length. */
static size_t normalize(const spm_model *m, const uint8_t *in, size_t len, uint8_t *out) {
    size_t o = 0, i = 0;
    if (len == 0) return 0;
    if (m->remove_extra_ws)
        while (i < len && in[i] == ' ' && user_prefix(m, in + i, len - i) <= 1) i++;
    if (i == len) return 0;
    if (m->add_dummy_prefix) {
        if (m->escape_ws) {
            memcpy(out, SPACE_SYMBOL, 3);
            o = 3;
        } else {
            out[o++] = ' ';
        }
    }
    int prev_space = m->remove_extra_ws;
    while (i < len) {
        size_t k = user_prefix(m, in + i, len - i);
        if (!k) k = char_len(in + i, len - i);
        const uint8_t *sp = in + i;
        size_t spn = k;
        while (prev_space && spn && sp[0] == ' ') {
            sp++;
            spn--;
        }
        if (spn) {
            for (size_t j = 0; j < spn; j++) {
                if (m->escape_ws && sp[j] == ' ') {
                    memcpy(out + o, SPACE_SYMBOL, 3);
                    o += 3;
                } else {
                    out[o++] = sp[j];
                }
            }
            prev_space = sp[spn - 1] == ' ';
        }
        i += k;
        if (!m->remove_extra_ws) prev_space = 0;
    }
    if (m->remove_extra_ws) {
        const char *space = m->escape_ws ? SPACE_SYMBOL : " ";
        size_t sl = m->escape_ws ? 3 : 1;
        while (o >= sl && memcmp(out + o - sl, space, sl) == 0) o -= sl;
    }
    return o;
}

/* The unigram best path; fills nodes[0..n] and links them forward from 0 via .next. */
static void viterbi(const spm_model *m, const uint8_t *s, size_t n, lattice_node *nodes) {
    const float unk_score = m->min_score - 10.0f;
    for (size_t i = 0; i <= n; i++) nodes[i] = (lattice_node){0.0f, -1, -1, -1};
    for (size_t start = 0; start < n;) {
        const float here = nodes[start].score;
        size_t mblen = char_len(s + start, n - start);
        int single = 0;
        int64_t k = 0;
        for (size_t end = start + 1; end <= n; end++) {
            k = trie_step(m, (uint32_t)k, s[end - 1]);
            if (k < 0) break;
            int32_t id = m->trie[k].normal;
            if (id < 0 || m->type[id] == T_UNUSED) continue;
            size_t length = end - start;
            /* As SentencePiece: the score is a double (the conditional's common type), the
               candidate is summed in double, compared with the stored float, stored as float. */
            double score = m->type[id] == T_USER ? (double)((float)length * m->max_score) - 0.1
                                                 : (double)m->score[id];
            double cand = score + (double)here;
            lattice_node *t = &nodes[end];
            if (t->start == -1 || cand > (double)t->score) {
                t->score = (float)cand;
                t->start = (int32_t)start;
                t->id = id;
            }
            if (length == mblen) single = 1;
        }
        if (!single) {
            lattice_node *t = &nodes[start + mblen];
            float cand = unk_score + here;
            if (t->start == -1 || cand > t->score) {
                t->score = cand;
                t->start = (int32_t)start;
                t->id = m->unk;
            }
        }
        start += mblen;
    }
    for (size_t end = n; end > 0;) {
        size_t start = (size_t)nodes[end].start;
        nodes[start].next = (int32_t)end;
        end = start;
    }
}

/* Appends id with <unk> run merging; counts past cap. */
static void emit(const spm_model *m, int id, int32_t *ids, size_t cap, size_t *count,
                 int *prev_unk) {
    int is_unk = m->type[id] == T_UNKNOWN;
    if (!(is_unk && *prev_unk)) {
        if (*count < cap) ids[*count] = id;
        (*count)++;
    }
    *prev_unk = is_unk;
}

stele_status spm_encode(const spm_model *m, const char *text, size_t len, int32_t *ids, size_t cap,
                        size_t *n, void *scratch, stele_error *err) {
    stele_error_clear(err);
    if (n) *n = 0;
    if (!m || !n || (!text && len) || (!ids && cap) || !scratch)
        return stele_fail(err, STELE_ERR_ARGUMENT, "spm_encode: NULL argument");
    const uint8_t *in = (const uint8_t *)text;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = utf8_decode(in + i, len - i, &cp);
        if (!k)
            return stele_fail(err, STELE_ERR_TEXT, "input byte %zu: invalid UTF-8 (0x%02X)", i,
                           in[i]);
        if (cp == 0) return stele_fail(err, STELE_ERR_TEXT, "input byte %zu: NUL byte", i);
        i += k;
    }
    if (len > INT32_MAX / 4)
        return stele_fail(err, STELE_ERR_LIMIT, "text of %zu bytes is too long to encode", len);
    uint8_t *norm = scratch;
    size_t nn = normalize(m, in, len, norm);
    size_t count = 0;
    int prev_unk = 0;
    if (m->model_type == M_CHAR) {
        for (size_t i = 0; i < nn;) {
            size_t k = user_prefix(m, norm + i, nn - i);
            if (!k) k = char_len(norm + i, nn - i);
            int id = piece_to_id(m, norm + i, k);
            /* A control piece here would make SentencePiece fail; treat it as unknown. */
            if (id < 0 || m->type[id] == T_CONTROL) id = m->unk;
            emit(m, id, ids, cap, &count, &prev_unk);
            i += k;
        }
    } else if (nn) {
        uintptr_t a = (uintptr_t)(norm + norm_cap(len));
        lattice_node *nodes = (lattice_node *)((a + 15) & ~(uintptr_t)15);
        viterbi(m, norm, nn, nodes);
        for (int32_t pos = 0; (size_t)pos < nn; pos = nodes[pos].next)
            emit(m, nodes[nodes[pos].next].id, ids, cap, &count, &prev_unk);
    }
    *n = count;
    if (count > cap)
        return stele_fail(err, STELE_ERR_LIMIT, "text of %zu bytes encodes to %zu pieces, more than "
                       "the %zu allowed", len, count, cap);
    return STELE_OK;
}

double spm_score(const spm_model *m, const char *text, size_t len, void *scratch) {
    if (!m || !text || !scratch || m->model_type == M_CHAR) return 0.0;
    uint8_t *norm = scratch;
    size_t nn = normalize(m, (const uint8_t *)text, len, norm);
    if (!nn) return 0.0;
    uintptr_t a = (uintptr_t)(norm + norm_cap(len));
    lattice_node *nodes = (lattice_node *)((a + 15) & ~(uintptr_t)15);
    viterbi(m, norm, nn, nodes);
    return (double)nodes[nn].score;
}

/* ------------------------------------------------------------------ decoding */

static void put(char *out, size_t cap, size_t *o, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++, (*o)++)
        if (*o + 1 < cap) out[*o] = s[i];
}

size_t spm_decode(const spm_model *m, const int32_t *ids, size_t n, char *out, size_t cap) {
    size_t o = 0;
    int bos_ws = 1;   /* still at the beginning: a leading "▁" of a piece is dropped */
    for (size_t i = 0; m && ids && i < n; i++) {
        if (ids[i] < 0 || ids[i] >= m->n) continue;   /* SentencePiece raises; stele skips */
        if (o > 0) bos_ws = 0;
        int id = m->as_decoded[ids[i]];
        int t = m->type[id];
        if (t == T_CONTROL) continue;
        if (t == T_UNKNOWN) {
            put(out, cap, &o, m->unk_surface, m->unk_surface_len);
            continue;
        }
        const char *p = m->text + m->off[id];
        size_t pl = m->len[id];
        if (bos_ws && (m->add_dummy_prefix || m->remove_extra_ws) && pl >= 3 &&
            memcmp(p, SPACE_SYMBOL, 3) == 0) {
            p += 3;
            pl -= 3;
            /* Without remove_extra_whitespaces SentencePiece stops at the first consumed "▁". */
            if (!m->remove_extra_ws) bos_ws = 0;
        }
        for (size_t j = 0; j < pl;) {
            if (j + 3 <= pl && memcmp(p + j, SPACE_SYMBOL, 3) == 0) {
                put(out, cap, &o, " ", 1);
                j += 3;
            } else {
                put(out, cap, &o, p + j, 1);
                j++;
            }
        }
    }
    if (cap) out[o < cap ? o : cap - 1] = '\0';
    return o;
}
