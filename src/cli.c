/* stele command line (native):
 *   stele translate -m MODEL [--beam K] [--nbest N] [--alpha A] [--beta B] [--json] [--align]
 *                   [--batch N] [TEXT...]
 *   stele info MODEL
 * TEXT arguments are translated one by one; without any, lines from stdin. Without --json, one
 * translation per line (with --align followed by a tab and "target-source" word pairs, 0-based);
 * --json prints one object per sentence. Errors: "STATUS_NAME: message" on stderr, exit 1 (the
 * other lines are still translated; a failed line prints an empty line / {"error": ...}); usage
 * errors exit 2. --beam 1 is greedy search. --batch N (with --beam 1) decodes N sentences at a
 * time (stele_translate_stream): the same output, in input order, for a file several times
 * faster; it prints once per 4,096 lines instead of after every line. */
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stele.h"

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "stele: %s\n", msg);
    fprintf(stderr,
            "usage: stele translate -m MODEL [--beam K] [--nbest N] [--alpha A] [--beta B]\n"
            "                       [--json] [--align] [--batch N] [TEXT...]\n"
            "       stele info MODEL\n");
    return 2;
}

/* Where the printers below write: stdout, or (--batch) the buffer of one input line, so the
 * lines come out in input order although a batch finishes them in another. */
static FILE *line_out;
#define OUT (line_out ? line_out : stdout)
#define fputc_out(c) fputc((c), OUT)

static void json_str(const char *s, size_t n)
{
    fputc_out('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(OUT, "\\%c", c);
        else if (c < 0x20)
            fprintf(OUT, "\\u%04x", c);
        else
            fputc_out(c);
    }
    fputc_out('"');
}

static void json_pieces(const stele_model *m, const int32_t *ids, int n)
{
    fputc_out('[');
    for (int i = 0; i < n; i++) {
        const char *p = stele_model_piece(m, ids[i]);
        if (i)
            fputc_out(',');
        json_str(p ? p : "", p ? strlen(p) : 0);
    }
    fputc_out(']');
}

/* The words (pieces of one word joined, the leading U+2581 dropped) as a JSON list. */
static void json_words(const stele_model *m, const int32_t *ids, const int32_t *word, int n,
                       int nw)
{
    fputc_out('[');
    for (int w = 0; w < nw; w++) {
        char buf[1024];
        size_t k = 0;
        for (int i = 0; i < n; i++) {
            const char *p = word[i] == w ? stele_model_piece(m, ids[i]) : NULL;
            if (!p)
                continue;
            if (strncmp(p, "\xE2\x96\x81", 3) == 0)
                p += 3;
            size_t l = strlen(p);
            if (k + l < sizeof buf) {
                memcpy(buf + k, p, l);
                k += l;
            }
        }
        if (w)
            fputc_out(',');
        json_str(buf, k);
    }
    fputc_out(']');
}

static void json_matrix(const float *a, int rows, int cols)
{
    fputc_out('[');
    for (int r = 0; r < rows; r++) {
        fputc_out(r ? ',' : '[');
        if (r)
            fputc_out('[');
        for (int c = 0; c < cols; c++)
            fprintf(OUT, "%s%.4g", c ? "," : "", a[(size_t)r * cols + c]);
        fputc_out(']');
    }
    fputc_out(']');
}

static void print_json(const stele_model *m, const stele_result *r, int align)
{
    const stele_hypothesis *h = &r->hyps[0];
    fprintf(OUT, "{\"text\":");
    json_str(h->text, strlen(h->text));
    fprintf(OUT, ",\"pieces\":");
    json_pieces(m, h->tokens, h->n_tokens);
    fprintf(OUT, ",\"source_pieces\":");
    json_pieces(m, r->source_tokens, r->n_source);
    fprintf(OUT, ",\"score\":%.17g,\"logp\":%.17g,\"nbest\":[", h->score, h->logp);
    for (int i = 0; i < r->n_hyps; i++) {
        const stele_hypothesis *x = &r->hyps[i];
        fprintf(OUT, "%s{\"text\":", i ? "," : "");
        json_str(x->text, strlen(x->text));
        fprintf(OUT, ",\"pieces\":");
        json_pieces(m, x->tokens, x->n_tokens);
        fprintf(OUT, ",\"score\":%.17g,\"logp\":%.17g}", x->score, x->logp);
    }
    fprintf(OUT, "],\"attention\":");
    if (r->attention)
        json_matrix(r->attention, h->n_tokens, r->n_source);
    else
        fprintf(OUT, "null");
    if (align) {
        fprintf(OUT, ",\"alignment\":{\"source_words\":");
        json_words(m, r->source_tokens, r->source_word_of_piece, r->n_source, r->n_source_words);
        fprintf(OUT, ",\"target_words\":");
        json_words(m, h->tokens, r->target_word_of_piece, h->n_tokens, r->n_target_words);
        fprintf(OUT, ",\"word_attention\":");
        if (r->word_attention)
            json_matrix(r->word_attention, r->n_target_words, r->n_source_words);
        else
            fprintf(OUT, "null");
        fprintf(OUT, ",\"pairs\":[");
        for (int w = 0; r->word_alignment && w < r->n_target_words; w++)
            fprintf(OUT, "%s[%d,%d]", w ? "," : "", w, r->word_alignment[w]);
        fprintf(OUT, "]}");
    }
    fprintf(OUT, "}\n");
}

static void print_text(const stele_result *r, int align)
{
    fputs(r->hyps[0].text, OUT);
    if (align) {
        fputc_out('\t');
        for (int w = 0; r->word_alignment && w < r->n_target_words; w++)
            fprintf(OUT, "%s%d-%d", w ? " " : "", w, r->word_alignment[w]);
    }
    fputc_out('\n');
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *s && !*end && errno == 0;
}

static int translate_one(stele_session *s, const stele_model *m, const char *text, size_t len,
                         const stele_params *p, int json, int align)
{
    stele_error err;
    const stele_result *r;
    if (stele_translate(s, text, (ptrdiff_t)len, p, &r, &err) != STELE_OK) {
        fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
        if (json) {
            printf("{\"error\":");
            json_str(stele_status_name(err.status), strlen(stele_status_name(err.status)));
            printf("}\n");
        } else {
            putchar('\n');
        }
        return 1;
    }
    if (json)
        print_json(m, r, align);
    else
        print_text(r, align);
    return 0;
}

/* Reads one line of stdin into *line (grown as needed, NUL-terminated, the newline and a CR
 * before it dropped; *len bytes, which may include NULs). Returns 0 at the end of input. */
static int next_line(char **line, size_t *cap, size_t *len)
{
    size_t n = 0;
    int c = 0;
    if (!*line) {
        *cap = 4096;
        if (!(*line = malloc(*cap)))
            return 0;
    }
    while ((c = getchar()) != EOF && c != '\n') {
        if (n + 1 >= *cap) {
            char *l2 = realloc(*line, *cap * 2);
            if (!l2)
                break;   /* out of memory: the line so far */
            *line = l2;
            *cap *= 2;
        }
        (*line)[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return 0;
    if (n && (*line)[n - 1] == '\r')
        n--;
    (*line)[n] = 0;
    *len = n;
    return 1;
}

/* --batch: lines are collected (BATCH_LINES at a time), translated together by
 * stele_translate_stream, and printed in input order. A chunk with a line stele refuses is
 * translated line by line instead, so every line gets exactly the output it would get without
 * --batch (its error included). */
enum { BATCH_LINES = 4096 };

typedef struct line_batch {
    stele_batch *b;
    stele_session *s;
    const stele_model *m;
    const stele_params *p;
    int json, align;
    int n;                  /* lines collected */
    char **texts;           /* [BATCH_LINES] owned copies */
    ptrdiff_t *lens;
    char **outs;            /* [BATCH_LINES] rendered output of each line */
    size_t *out_sizes;
} line_batch;

static void on_line_result(void *user, int i, const stele_result *r)
{
    line_batch *lb = user;
    line_out = open_memstream(&lb->outs[i], &lb->out_sizes[i]);
    if (!line_out)
        return;   /* no memory: batch_flush sees the missing output and redoes the line */
    if (lb->json)
        print_json(lb->m, r, lb->align);
    else
        print_text(r, lb->align);
    fclose(line_out);
    line_out = NULL;
}

static int batch_flush(line_batch *lb)
{
    int failed = 0;
    if (lb->n == 0)
        return 0;
    stele_error err;
    for (int i = 0; i < lb->n; i++)
        lb->outs[i] = NULL;
    if (stele_translate_stream(lb->b, (const char *const *)lb->texts, lb->lens, lb->n, lb->p,
                               on_line_result, lb, &err) != STELE_OK) {
        for (int i = 0; i < lb->n; i++)   /* nothing was printed: each line on its own */
            failed |= translate_one(lb->s, lb->m, lb->texts[i], (size_t)lb->lens[i], lb->p,
                                    lb->json, lb->align);
    } else {
        for (int i = 0; i < lb->n; i++) {
            if (lb->outs[i])
                fwrite(lb->outs[i], 1, lb->out_sizes[i], stdout);
            else
                failed |= translate_one(lb->s, lb->m, lb->texts[i], (size_t)lb->lens[i], lb->p,
                                        lb->json, lb->align);
        }
    }
    for (int i = 0; i < lb->n; i++) {
        free(lb->outs[i]);
        free(lb->texts[i]);
    }
    lb->n = 0;
    fflush(stdout);
    return failed;
}

/* Adds a copy of one line, translating the collected lines when BATCH_LINES are there. */
static int batch_add(line_batch *lb, const char *text, size_t len)
{
    if (!lb->texts) {
        lb->texts = calloc(BATCH_LINES, sizeof *lb->texts);
        lb->lens = calloc(BATCH_LINES, sizeof *lb->lens);
        lb->outs = calloc(BATCH_LINES, sizeof *lb->outs);
        lb->out_sizes = calloc(BATCH_LINES, sizeof *lb->out_sizes);
    }
    char *copy = malloc(len + 1);
    if (!lb->texts || !lb->lens || !lb->outs || !lb->out_sizes || !copy) {
        free(copy);
        fprintf(stderr, "STELE_ERR_MEMORY: out of memory collecting input lines\n");
        return 1;
    }
    memcpy(copy, text, len);
    copy[len] = 0;
    lb->texts[lb->n] = copy;
    lb->lens[lb->n++] = (ptrdiff_t)len;
    return lb->n == BATCH_LINES ? batch_flush(lb) : 0;
}

static int batch_read_stdin(line_batch *lb)
{
    size_t cap = 0, n;
    char *line = NULL;
    int failed = 0;
    while (next_line(&line, &cap, &n))
        failed |= batch_add(lb, line, n);
    free(line);
    return failed;
}

static int cmd_translate(int argc, char **argv)
{
    const char *path = NULL;
    stele_params p = stele_default_params();
    int json = 0, align = 0, first_text = argc, nbest_set = 0, batch_size = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--align") == 0) {
            align = 1;
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) {
            if (++i >= argc)
                return usage("-m needs a MODEL path");
            path = argv[i];
        } else if (!strcmp(a, "--beam") || !strcmp(a, "--nbest") || !strcmp(a, "--alpha") ||
                   !strcmp(a, "--beta")) {
            if (++i >= argc || !parse_num(argv[i], &v))
                return usage("option needs a number");
            if (!strcmp(a, "--beam") || !strcmp(a, "--nbest")) {
                if (v != (int)v || v < 1 || v > 64)
                    return usage("--beam and --nbest take an integer in 1..64");
                if (a[2] == 'b')
                    p.beam_size = (int)v;
                else {
                    p.nbest = (int)v;
                    nbest_set = 1;
                }
            } else if (a[2] == 'a') {
                p.alpha = v;
            } else {
                p.beta = v;
            }
        } else if (strcmp(a, "--batch") == 0) {
            if (++i >= argc || !parse_num(argv[i], &v) || v != (int)v || v < 1 || v > 256)
                return usage("--batch takes an integer in 1..256");
            batch_size = (int)v;
        } else if (strcmp(a, "--") == 0) {
            first_text = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            return usage("unknown option");
        } else {
            first_text = i;
            break;
        }
    }
    if (!path)
        return usage("translate needs -m MODEL");
    if (p.nbest > p.beam_size)
        return usage(nbest_set ? "--nbest must not exceed --beam" : "--nbest > --beam");
    if (batch_size > 1 && p.beam_size != 1)
        return usage("--batch is for greedy search: add --beam 1");
    stele_error err;
    stele_model *m = NULL;
    stele_session *s = NULL;
    stele_limits lim = stele_default_limits();
    if (p.beam_size > lim.max_beam)
        lim.max_beam = p.beam_size;
    stele_batch *b = NULL;
    if (stele_model_load_file(path, &m, &err) != STELE_OK ||
        stele_session_create(m, &lim, &s, &err) != STELE_OK ||
        (batch_size > 1 && stele_batch_create(m, &lim, batch_size, &b, &err) != STELE_OK)) {
        fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
        stele_session_free(s);
        stele_model_free(m);
        return 1;
    }
    int failed = 0;
    line_batch lb = {b, s, m, &p, json, align, 0, NULL, NULL, NULL, NULL};
    if (b) {
        if (first_text < argc) {
            for (int i = first_text; i < argc; i++)
                failed |= batch_add(&lb, argv[i], strlen(argv[i]));
        } else {
            failed |= batch_read_stdin(&lb);
        }
        failed |= batch_flush(&lb);
        free(lb.texts);
        free(lb.lens);
        free(lb.outs);
        free(lb.out_sizes);
    } else if (first_text < argc) {
        for (int i = first_text; i < argc; i++)
            failed |= translate_one(s, m, argv[i], strlen(argv[i]), &p, json, align);
    } else {
        size_t cap = 0, n;
        char *line = NULL;
        while (next_line(&line, &cap, &n)) {
            failed |= translate_one(s, m, line, n, &p, json, align);
            fflush(stdout);
        }
        free(line);
    }
    stele_batch_free(b);
    stele_session_free(s);
    stele_model_free(m);
    return failed ? 1 : 0;
}

static int cmd_info(int argc, char **argv)
{
    if (argc != 3)
        return usage("info takes one MODEL path");
    stele_error err;
    stele_model *m = NULL;
    if (stele_model_load_file(argv[2], &m, &err) != STELE_OK) {
        fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
        return 1;
    }
    printf("%s\n", stele_model_info_json(m));
    stele_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(NULL);
    if (strcmp(argv[1], "translate") == 0)
        return cmd_translate(argc, argv);
    if (strcmp(argv[1], "info") == 0)
        return cmd_info(argc, argv);
    if (strcmp(argv[1], "--version") == 0) {
        printf("stele %s\n", STELE_VERSION);
        return 0;
    }
    return usage("unknown command");
}
