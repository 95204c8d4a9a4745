/* stele command line (native):
 *   stele translate -m MODEL [--beam K] [--nbest N] [--alpha A] [--beta B] [--json] [--align]
 *                   [TEXT...]
 *   stele info MODEL
 * TEXT arguments are translated one by one; without any, lines from stdin. Without --json, one
 * translation per line (with --align followed by a tab and "target-source" word pairs, 0-based);
 * --json prints one object per sentence. Errors: "STATUS_NAME: message" on stderr, exit 1 (the
 * other lines are still translated; a failed line prints an empty line / {"error": ...}); usage
 * errors exit 2. --beam 1 is greedy search. */
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
            "                       [--json] [--align] [TEXT...]\n"
            "       stele info MODEL\n");
    return 2;
}

static void json_str(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void json_pieces(const stele_model *m, const int32_t *ids, int n)
{
    putchar('[');
    for (int i = 0; i < n; i++) {
        const char *p = stele_model_piece(m, ids[i]);
        if (i)
            putchar(',');
        json_str(p ? p : "", p ? strlen(p) : 0);
    }
    putchar(']');
}

/* The words (pieces of one word joined, the leading U+2581 dropped) as a JSON list. */
static void json_words(const stele_model *m, const int32_t *ids, const int32_t *word, int n,
                       int nw)
{
    putchar('[');
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
            putchar(',');
        json_str(buf, k);
    }
    putchar(']');
}

static void json_matrix(const float *a, int rows, int cols)
{
    putchar('[');
    for (int r = 0; r < rows; r++) {
        putchar(r ? ',' : '[');
        if (r)
            putchar('[');
        for (int c = 0; c < cols; c++)
            printf("%s%.4g", c ? "," : "", a[(size_t)r * cols + c]);
        putchar(']');
    }
    putchar(']');
}

static void print_json(const stele_model *m, const stele_result *r, int align)
{
    const stele_hypothesis *h = &r->hyps[0];
    printf("{\"text\":");
    json_str(h->text, strlen(h->text));
    printf(",\"pieces\":");
    json_pieces(m, h->tokens, h->n_tokens);
    printf(",\"source_pieces\":");
    json_pieces(m, r->source_tokens, r->n_source);
    printf(",\"score\":%.17g,\"logp\":%.17g,\"nbest\":[", h->score, h->logp);
    for (int i = 0; i < r->n_hyps; i++) {
        const stele_hypothesis *x = &r->hyps[i];
        printf("%s{\"text\":", i ? "," : "");
        json_str(x->text, strlen(x->text));
        printf(",\"pieces\":");
        json_pieces(m, x->tokens, x->n_tokens);
        printf(",\"score\":%.17g,\"logp\":%.17g}", x->score, x->logp);
    }
    printf("],\"attention\":");
    if (r->attention)
        json_matrix(r->attention, h->n_tokens, r->n_source);
    else
        printf("null");
    if (align) {
        printf(",\"alignment\":{\"source_words\":");
        json_words(m, r->source_tokens, r->source_word_of_piece, r->n_source, r->n_source_words);
        printf(",\"target_words\":");
        json_words(m, h->tokens, r->target_word_of_piece, h->n_tokens, r->n_target_words);
        printf(",\"word_attention\":");
        if (r->word_attention)
            json_matrix(r->word_attention, r->n_target_words, r->n_source_words);
        else
            printf("null");
        printf(",\"pairs\":[");
        for (int w = 0; r->word_alignment && w < r->n_target_words; w++)
            printf("%s[%d,%d]", w ? "," : "", w, r->word_alignment[w]);
        printf("]}");
    }
    printf("}\n");
}

static void print_text(const stele_result *r, int align)
{
    fputs(r->hyps[0].text, stdout);
    if (align) {
        putchar('\t');
        for (int w = 0; r->word_alignment && w < r->n_target_words; w++)
            printf("%s%d-%d", w ? " " : "", w, r->word_alignment[w]);
    }
    putchar('\n');
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

static int cmd_translate(int argc, char **argv)
{
    const char *path = NULL;
    stele_params p = stele_default_params();
    int json = 0, align = 0, first_text = argc, nbest_set = 0;
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
    stele_error err;
    stele_model *m = NULL;
    stele_session *s = NULL;
    stele_limits lim = stele_default_limits();
    if (p.beam_size > lim.max_beam)
        lim.max_beam = p.beam_size;
    if (stele_model_load_file(path, &m, &err) != STELE_OK ||
        stele_session_create(m, &lim, &s, &err) != STELE_OK) {
        fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
        stele_model_free(m);
        return 1;
    }
    int failed = 0;
    if (first_text < argc) {
        for (int i = first_text; i < argc; i++)
            failed |= translate_one(s, m, argv[i], strlen(argv[i]), &p, json, align);
    } else {
        size_t cap = 4096, n = 0;
        char *line = malloc(cap);
        int c = 0;
        while (line && c != EOF) {
            n = 0;
            while ((c = getchar()) != EOF && c != '\n') {
                if (n + 1 >= cap) {
                    char *l2 = realloc(line, cap * 2);
                    if (!l2)
                        break;
                    line = l2;
                    cap *= 2;
                }
                line[n++] = (char)c;
            }
            if (c == EOF && n == 0)
                break;
            if (n && line[n - 1] == '\r')
                n--;
            line[n] = 0;
            failed |= translate_one(s, m, line, n, &p, json, align);
            fflush(stdout);
        }
        free(line);
    }
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
