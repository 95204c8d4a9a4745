/* stele command line (native):
 *   stele translate -m MODEL [--beam K] [--nbest N] [--alpha A] [--beta B] [--json] [--align]
 *                   [--batch N] [--threads N] [--no-protect] [--no-normalize] [--no-shortlist]
 *                   [TEXT...]
 *   stele caption -m MODEL [--beam K] [--nbest N] [--alpha A] [--beta B] [--json] IMAGE...
 *   stele ask -m MODEL [--json] IMAGE QUESTION...
 *   stele info MODEL
 *   stele info --json MODEL;  stele models;  stele help | --help | -h;  stele --version
 * MODEL is a path to a .safetensors file or the name of a model folder (see find_model).
 *   stele --version          (also the kernel set a model gets: avx2+fma or scalar)
 * STELE_KERNELS=scalar|avx2 in the environment forces a kernel set (src/kernels.h).
 * TEXT arguments are translated one by one; without any, lines from stdin. Without --json, one
 * translation per line (with --align followed by a tab and "target-source" word pairs, 0-based);
 * --json prints one object per sentence. Errors: "STATUS_NAME: message" on stderr, exit 1 (the
 * other lines are still translated; a failed line prints an empty line / {"error": ...}); usage
 * errors exit 2. --beam 1 is greedy search. --batch N (with --beam 1) decodes N sentences at a
 * time (stele_translate_stream): the same output, in input order, for a file several times
 * faster; it prints once per 4,096 lines instead of after every line. --threads N translates on N
 * threads (one session each, the model shared): the same output, in input order, also printed
 * per 4,096 lines. A result the model flags
 * as low-confidence (stele_low_confidence) ends its line with a tab and "(low confidence)", and
 * has "low_confidence": true in --json, so that a likely-wrong output is not shown as certain.
 * --no-normalize turns off the handling of ALL CAPS / Title Case input and of characters outside
 * the vocabulary (stele_params.normalize): the text goes to the model exactly as given.
 * --no-shortlist scores every target piece at each step even when the model has a lexical
 * shortlist (stele_params.shortlist; slower, the reference for what the shortlist changes).
 * caption (a model whose task is caption) reads binary PGM (P5, gray) or PPM (P6, RGB) files of
 * the model's image size, 8-bit (a smaller maxval is scaled to 0..255; no PNG decoder here: the
 * Node CLI reads PNG), and prints one caption per image; --json one object per image: text,
 * words, scores, n-best, the grid's size and each word's attention over it.
 * ask (a model whose task is vqa) reads one PGM/PPM image the same way and answers each QUESTION
 * about it: the answer on a line, then the 3 most probable answers, one "  PROB  ANSWER" line
 * each; --json one object per question: answer, top-5 with probabilities, every probability, the
 * question's words and each glimpse's weights over the grid. */
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#define _XOPEN_SOURCE 700         /* and realpath */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json.h"
#include "pnm.h"
#include "stele.h"

/* The help text. src/js/cli.js prints the same one (its -m line differs: it has a default);
 * tests/js/cli.test.js compares them. The numbers are stele_default_params() and
 * stele_default_limits(). */
static const char HELP[] =
    "stele: translate text offline with a small attention model (LSTM encoder-decoder).\n"
    "\n"
    "usage:\n"
    "  stele translate -m MODEL [OPTIONS] [TEXT...]  translate each TEXT, or each line of stdin\n"
    "  stele caption -m MODEL [OPTIONS] IMAGE...     caption images (PGM/PPM; Node CLI: PNG)\n"
    "  stele ask -m MODEL [--json] IMAGE QUESTION... answer questions about an image\n"
    "  stele info [--json] MODEL                     describe a model (--json: the engine's JSON)\n"
    "  stele models                                  list the models found (name, size, path)\n"
    "  stele po translate IN.po -o OUT.po [...]      fill a gettext catalog (Node CLI: npx stele)\n"
    "  stele help | --help | -h                      this help\n"
    "  stele --version                               the version\n"
    "\n"
    "MODEL is a name from `stele models` (dates, ui-en-fr, ...) or a .safetensors file.\n"
    "Names are looked up in $STELE_MODELS, then ../models beside the binary, then ./models.\n"
    "\n"
    "translate options [default]:\n"
    "  -m, --model MODEL  the model [required]\n"
    "  --beam K           beam size, 1..64; 1 = greedy search [5]\n"
    "  --nbest N          hypotheses kept (listed with --json), 1..K [1]\n"
    "  --alpha A          length penalty ((5+|Y|)/6)^A [0.2]\n"
    "  --beta B           coverage penalty [0]\n"
    "  --json             one JSON object per input: text, pieces, scores, n-best, attention [off]\n"
    "  --align            word alignment: target-source word index pairs, 0-based [off]\n"
    "  --batch N          with --beam 1: decode N inputs at a time, same output, 1..256 [1]\n"
    "  --threads N        translate on N threads, same output; 0: one per CPU, 0..256 [1]\n"
    "  --no-shortlist     score every target piece, not the model's lexical shortlist [on\n"
    "                     when the model has one]\n"
    "  --                 every later argument is TEXT\n"
    "\n"
    "Limits per input: 65,536 bytes and 256 pieces (end of sentence included); outputs stop at\n"
    "512 pieces or the model's maximum length. An input over a limit, invalid UTF-8 or a NUL\n"
    "byte fails alone: an empty line (--json: {\"error\":STATUS}) and \"STATUS: message\" on\n"
    "stderr; the other inputs are still translated.\n"
    "\n"
    "Output: one line per input and nothing else. Exit status: 0 all translated, 1 a model or\n"
    "an input failed, 2 a usage error.\n"
    "\n"
    "examples:\n"
    "  stele translate -m dates \"29th March 2042\"        # 2042-03-29\n"
    "  echo \"Save the document\" | stele translate -m ui-en-fr --align\n"
    "  stele translate -m ui-en-fr --beam 1 --batch 16 < strings.txt > strings.fr\n";

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "stele: %s\n", msg);
    fprintf(stderr,
            "usage: stele translate -m MODEL [--beam K] [--nbest N] [--alpha A] [--beta B]\n"
            "                       [--json] [--align] [--batch N] [--threads N]\n"
            "                       [--no-protect] [--no-normalize] [--no-shortlist] [TEXT...]\n"
            "       stele caption -m MODEL [--beam K] [--nbest N] [--alpha A] [--beta B]\n"
            "                     [--json] IMAGE.pgm|IMAGE.ppm...\n"
            "       stele ask -m MODEL [--json] IMAGE.pgm|IMAGE.ppm QUESTION...\n"
            "       stele info MODEL\n");
    fprintf(stderr, "Also: stele info --json MODEL, stele models. `stele --help` explains each "
            "option.\n");
    return 2;
}

static int help(void)
{
    fputs(HELP, stdout);
    return 0;
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "help");
}

/* ---- named models -----------------------------------------------------------------------
 * A model name is a folder holding model.safetensors in one of the models folders:
 * $STELE_MODELS, then ../models beside the binary (build/stele in the repository finds the
 * repository's models/ from any working directory), then ./models. The first folder that has
 * the name wins. Names are [A-Za-z0-9][A-Za-z0-9_-]*, so a name never walks out of its folder. */
/* readlink, opendir (POSIX.1-2008) and realpath (XSI): see the feature macros above. */
enum { PATH_BYTES = 4096, MAX_MODEL_DIRS = 3, MAX_LISTED = 256 };

static const char *g_argv0;

static int model_dirs(char dirs[MAX_MODEL_DIRS][PATH_BYTES])
{
    int n = 0;
    const char *env = getenv("STELE_MODELS");
    if (env && *env)
        snprintf(dirs[n++], PATH_BYTES, "%s", env);
    char exe[PATH_BYTES - 16] = "";   /* room for "/../models" */
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0)
        exe[k] = 0;
    else if (g_argv0 && strchr(g_argv0, '/'))   /* no /proc: how the binary was called */
        snprintf(exe, sizeof exe, "%s", g_argv0);
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = 0;
        snprintf(dirs[n++], PATH_BYTES, "%s/../models", exe);
    }
    snprintf(dirs[n++], PATH_BYTES, "models");
    return n;
}

static int is_file(const char *path, long long *size)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    if (size)
        *size = (long long)st.st_size;
    return 1;
}

static int is_model_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100 || s[0] == '-' || s[0] == '_')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* dir/name/model.safetensors when it is a file (canonical path in out), else 0. */
static int model_in(const char *dir, const char *name, char out[PATH_BYTES], long long *size)
{
    char p[PATH_BYTES];
    if (snprintf(p, sizeof p, "%s/%s/model.safetensors", dir, name) >= (int)sizeof p ||
        !is_file(p, size))
        return 0;
    if (!realpath(p, out))
        snprintf(out, PATH_BYTES, "%s", p);
    return 1;
}

static int find_model(const char *name, char out[PATH_BYTES])
{
    char dirs[MAX_MODEL_DIRS][PATH_BYTES];
    int n = model_dirs(dirs);
    for (int i = 0; i < n; i++)
        if (model_in(dirs[i], name, out, NULL))
            return 1;
    return 0;
}

/* The file to load for a MODEL argument: an existing file or anything with a slash as given
 * (the loader reports a missing one), else a model name. A bare word that is neither: an error
 * naming it, exit 1. */
static int resolve_model(const char *arg, char out[PATH_BYTES])
{
    if (strchr(arg, '/') || is_file(arg, NULL)) {
        snprintf(out, PATH_BYTES, "%s", arg);
        return 0;
    }
    if (is_model_name(arg) && find_model(arg, out))
        return 0;
    fprintf(stderr, "STELE_ERR_IO: \"%.200s\" is neither a model file nor the name of a model; "
            "`stele models` lists the models\n", arg);
    return 1;
}

typedef struct listed_model {
    char name[256];
    char path[PATH_BYTES];
    long long size;
} listed_model;

static int cmp_listed(const void *a, const void *b)
{
    return strcmp(((const listed_model *)a)->name, ((const listed_model *)b)->name);
}

static int cmd_models(int argc, char **argv)
{
    (void)argv;
    if (argc != 2)
        return usage("models takes no arguments");
    char dirs[MAX_MODEL_DIRS][PATH_BYTES];
    int nd = model_dirs(dirs), n = 0;
    listed_model *list = calloc(MAX_LISTED, sizeof *list);
    if (!list) {
        fprintf(stderr, "STELE_ERR_MEMORY: out of memory listing the models\n");
        return 1;
    }
    for (int d = 0; d < nd; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            continue;
        for (struct dirent *e; n < MAX_LISTED && (e = readdir(dir));) {
            int seen = !is_model_name(e->d_name);
            for (int i = 0; i < n && !seen; i++)
                seen = !strcmp(list[i].name, e->d_name);   /* an earlier folder has it */
            if (!seen && model_in(dirs[d], e->d_name, list[n].path, &list[n].size))
                snprintf(list[n++].name, sizeof list[0].name, "%s", e->d_name);
        }
        closedir(dir);
    }
    if (n == 0) {
        fprintf(stderr, "STELE_ERR_IO: no models found in");
        for (int d = 0; d < nd; d++)
            fprintf(stderr, "%s %s", d ? "," : "", dirs[d]);
        fprintf(stderr, " (set STELE_MODELS to a folder of <name>/model.safetensors)\n");
        free(list);
        return 1;
    }
    qsort(list, (size_t)n, sizeof *list, cmp_listed);
    int w = 4;
    for (int i = 0; i < n; i++)
        if ((int)strlen(list[i].name) > w)
            w = (int)strlen(list[i].name);
    printf("%-*s  %10s  %s\n", w, "name", "size", "path");
    for (int i = 0; i < n; i++)
        printf("%-*s  %6.1f MiB  %s\n", w, list[i].name, (double)list[i].size / (1 << 20),
               list[i].path);
    free(list);
    return 0;
}

/* Where the printers below write: stdout and stderr, or (--batch, --threads) the buffers of one
 * input line, so the lines come out in input order although a batch or the threads finish them
 * in another. Per thread: each --threads worker renders its own lines. */
static _Thread_local FILE *line_out, *line_err;
#define OUT (line_out ? line_out : stdout)
#define ERR (line_err ? line_err : stderr)
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

/* A number as JSON: %.17g (or %.4g for attention), and null for NaN or an infinity, which
 * JSON cannot spell (printf would write "nan", and every JSON reader would reject the line). */
static void json_num(const char *sep, double x, int short_form)
{
    if (!isfinite(x))
        fprintf(OUT, "%snull", sep);
    else
        fprintf(OUT, short_form ? "%s%.4g" : "%s%.17g", sep, x);
}

static void json_matrix(const float *a, int rows, int cols)
{
    fputc_out('[');
    for (int r = 0; r < rows; r++) {
        fputc_out(r ? ',' : '[');
        if (r)
            fputc_out('[');
        for (int c = 0; c < cols; c++)
            json_num(c ? "," : "", a[(size_t)r * cols + c], 1);
        fputc_out(']');
    }
    fputc_out(']');
}

/* ,"token_logp":[...],"mean_logp":x — the confidence of hypothesis h. */
static void json_confidence(const stele_hypothesis *h)
{
    fprintf(OUT, ",\"token_logp\":[");
    for (int i = 0; i < h->n_tokens; i++) {   /* %.9g: a float's digits; null if not finite */
        double x = h->token_logp[i];
        fprintf(OUT, isfinite(x) ? "%s%.9g" : "%snull", i ? "," : "", x);
    }
    fputc_out(']');
    json_num(",\"mean_logp\":", h->mean_logp, 0);
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
    json_num(",\"score\":", h->score, 0);
    json_num(",\"logp\":", h->logp, 0);
    json_confidence(h);
    fprintf(OUT, ",\"low_confidence\":%s,\"nbest\":[",
            stele_low_confidence(m, r) ? "true" : "false");
    for (int i = 0; i < r->n_hyps; i++) {
        const stele_hypothesis *x = &r->hyps[i];
        fprintf(OUT, "%s{\"text\":", i ? "," : "");
        json_str(x->text, strlen(x->text));
        fprintf(OUT, ",\"pieces\":");
        json_pieces(m, x->tokens, x->n_tokens);
        json_num(",\"score\":", x->score, 0);
        json_num(",\"logp\":", x->logp, 0);
        json_confidence(x);
        fputc_out('}');
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

static void print_text(const stele_model *m, const stele_result *r, int align)
{
    fputs(r->hyps[0].text, OUT);
    if (align) {
        fputc_out('\t');
        for (int w = 0; r->word_alignment && w < r->n_target_words; w++)
            fprintf(OUT, "%s%d-%d", w ? " " : "", w, r->word_alignment[w]);
    }
    if (stele_low_confidence(m, r))
        fputs("\t(low confidence)", OUT);
    fputc_out('\n');
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *s && !*end && errno == 0;
}

/* A failed line: the error on stderr, an empty line / {"error": ...} on stdout. Returns 1. */
static int report_error(const stele_error *err, int json)
{
    fprintf(ERR, "%s: %s\n", stele_status_name(err->status), err->message);
    if (json) {
        fprintf(OUT, "{\"error\":");
        json_str(stele_status_name(err->status), strlen(stele_status_name(err->status)));
        fprintf(OUT, "}\n");
    } else {
        fputc_out('\n');
    }
    return 1;
}

/* A stdin line longer than the session's max_text_bytes, which next_line did not keep: the error
 * stele_translate gives for such a text, with the same message. */
static int report_too_long(size_t bytes, int limit, int json)
{
    stele_error err;
    err.status = STELE_ERR_LIMIT;
    snprintf(err.message, sizeof err.message, "input has %zu bytes, the session's limit is %d "
             "(max_text_bytes)", bytes, limit);
    return report_error(&err, json);
}

static int translate_one(stele_session *s, const stele_model *m, const char *text, size_t len,
                         const stele_params *p, int json, int align)
{
    stele_error err;
    const stele_result *r;
    if (stele_translate(s, text, (ptrdiff_t)len, p, &r, &err) != STELE_OK)
        return report_error(&err, json);
    if (json)
        print_json(m, r, align);
    else
        print_text(m, r, align);
    return 0;
}

/* Reads one line of stdin into *line (grown as needed up to max + 1 bytes, NUL-terminated, the
 * newline and a CR before it dropped; *len bytes, which may include NULs). A line of more than
 * max bytes is read to its end but not kept (it would be refused anyway, and a 256 MiB line
 * would otherwise cost 256 MiB): *len is then its length and *too_long is set. Returns 0 at the
 * end of input. */
static int next_line(char **line, size_t *cap, size_t *len, size_t max, int *too_long)
{
    size_t n = 0;
    int c = 0, last = 0;
    if (!*line) {
        *cap = 4096;
        if (!(*line = malloc(*cap)))
            return 0;
    }
    while ((c = getchar()) != EOF && c != '\n') {
        last = c;
        if (n < max + 1) {   /* + 1: a trailing CR of a line of exactly max bytes */
            if (n + 1 >= *cap) {
                char *l2 = realloc(*line, *cap * 2);
                if (!l2)
                    break;   /* out of memory: the line so far */
                *line = l2;
                *cap *= 2;
            }
            (*line)[n] = (char)c;
        }
        n++;
    }
    if (c == EOF && n == 0)
        return 0;
    if (n && last == '\r')
        n--;
    *too_long = n > max;
    (*line)[n > max ? 0 : n] = 0;
    *len = n;
    return 1;
}

/* --batch: lines are collected (BATCH_LINES at a time), translated together by
 * stele_translate_stream, and printed in input order. A chunk with a line stele refuses is
 * translated line by line instead, so every line gets exactly the output it would get without
 * --batch (its error included).
 * --threads N: the same chunks, shared by N workers (threads_flush). */
enum { BATCH_LINES = 4096 };

struct worker;

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
    int max_bytes;          /* the session's max_text_bytes */
    size_t *too_long;       /* [BATCH_LINES] bytes of a line next_line did not keep, else 0 */
    /* --threads */
    int threads;            /* workers (1: no threads) */
    struct worker *workers; /* [threads]; workers[0] is the main thread, with s and b */
    char **errs;            /* [BATCH_LINES] what a line wrote to stderr, or NULL */
    size_t *err_sizes;
    int slice;              /* lines a worker takes from the queue at a time */
    int next;               /* the queue: the first line no worker has taken, under lock */
    pthread_mutex_t lock;
} line_batch;

/* The lines of one stele_translate_stream call: its result i is line base + i of lb. */
typedef struct stream_slice {
    line_batch *lb;
    int base;
} stream_slice;

static void on_line_result(void *user, int i, const stele_result *r)
{
    const stream_slice *sl = user;
    line_batch *lb = sl->lb;
    i += sl->base;
    line_out = open_memstream(&lb->outs[i], &lb->out_sizes[i]);
    if (!line_out)
        return;   /* no memory: the flush sees the missing output and redoes the line */
    if (lb->json)
        print_json(lb->m, r, lb->align);
    else
        print_text(lb->m, r, lb->align);
    fclose(line_out);
    line_out = NULL;
}

static void threads_close(line_batch *lb);

/* --threads: one worker per thread, each with its own session and (--batch) its own batch; the
 * model is shared, which stele.h allows (a model is immutable, a session is per thread). */
typedef struct worker {
    line_batch *lb;
    stele_session *s;
    stele_batch *b;
    int failed;
    pthread_t thread;
} worker;

/* Line i rendered into lb->outs[i] and lb->errs[i] with w's session. Returns 1 if the line
 * failed. Without memory for the buffers, outs[i] stays NULL and the main thread, which finds
 * it so, translates the line itself. */
static int render_line(worker *w, int i)
{
    line_batch *lb = w->lb;
    int failed = 0;
    line_out = open_memstream(&lb->outs[i], &lb->out_sizes[i]);
    line_err = open_memstream(&lb->errs[i], &lb->err_sizes[i]);
    if (line_out && line_err)
        failed = lb->too_long[i] ? report_too_long(lb->too_long[i], lb->max_bytes, lb->json)
                                 : translate_one(w->s, lb->m, lb->texts[i], (size_t)lb->lens[i],
                                                 lb->p, lb->json, lb->align);
    if (line_out)
        fclose(line_out);
    if (line_err)
        fclose(line_err);
    if (!line_out || !line_err) {
        if (line_out)
            free(lb->outs[i]);
        if (line_err)
            free(lb->errs[i]);
        lb->outs[i] = lb->errs[i] = NULL;
        failed = 0;
    }
    line_out = line_err = NULL;
    return failed;
}

/* A worker's loop: slices of the chunk from the shared queue until none is left, so that a
 * worker that drew short lines takes more of them (contiguous shares would leave one thread
 * idle while the other finishes the long lines). With a batch, a slice is streamed as one, and
 * a slice with a refused line goes line by line, as batch_flush does. */
static void *worker_run(void *arg)
{
    worker *w = arg;
    line_batch *lb = w->lb;
    for (;;) {
        pthread_mutex_lock(&lb->lock);
        int lo = lb->next, hi = lb->n - lo > lb->slice ? lo + lb->slice : lb->n;
        lb->next = hi;
        pthread_mutex_unlock(&lb->lock);
        if (lo >= hi)
            break;
        int streamed = 0;
        if (w->b && hi - lo > 1) {
            int any_too_long = 0;
            for (int i = lo; i < hi; i++)
                any_too_long |= lb->too_long[i] != 0;
            stele_error err;
            stream_slice sl = {lb, lo};
            streamed = !any_too_long &&
                       stele_translate_stream(w->b, (const char *const *)lb->texts + lo,
                                              lb->lens + lo, hi - lo, lb->p, on_line_result, &sl,
                                              &err) == STELE_OK;
            for (int i = lo; !streamed && i < hi; i++) {
                free(lb->outs[i]);
                lb->outs[i] = NULL;
            }
        }
        for (int i = lo; i < hi; i++)
            if (!streamed || !lb->outs[i])
                w->failed |= render_line(w, i);
    }
    return NULL;
}

/* Frees what threads_open made (workers[0]'s session and batch are the caller's). */
static void threads_close(line_batch *lb)
{
    if (!lb->workers)
        return;
    for (int t = 1; t < lb->threads; t++) {
        stele_batch_free(lb->workers[t].b);
        stele_session_free(lb->workers[t].s);
    }
    pthread_mutex_destroy(&lb->lock);
    free(lb->workers);
    lb->workers = NULL;
    lb->threads = 1;
}

/* The collected lines translated by lb->threads workers (the main thread is one of them), then
 * printed in input order: each line's stderr, then its stdout. */
static int threads_flush(line_batch *lb)
{
    int failed = 0, started = 1;
    for (int i = 0; i < lb->n; i++)
        lb->outs[i] = lb->errs[i] = NULL;
    lb->next = 0;
    for (int t = 0; t < lb->threads; t++)
        lb->workers[t].failed = 0;
    /* a thread that cannot start leaves its share to the others */
    while (started < lb->threads &&
           pthread_create(&lb->workers[started].thread, NULL, worker_run, &lb->workers[started]) == 0)
        started++;
    worker_run(&lb->workers[0]);
    for (int t = 1; t < started; t++)
        pthread_join(lb->workers[t].thread, NULL);
    for (int t = 0; t < started; t++)
        failed |= lb->workers[t].failed;
    for (int i = 0; i < lb->n; i++) {
        if (lb->errs[i])
            fwrite(lb->errs[i], 1, lb->err_sizes[i], stderr);
        if (lb->outs[i])
            fwrite(lb->outs[i], 1, lb->out_sizes[i], stdout);
        else
            failed |= lb->too_long[i] ? report_too_long(lb->too_long[i], lb->max_bytes, lb->json)
                                      : translate_one(lb->s, lb->m, lb->texts[i],
                                                      (size_t)lb->lens[i], lb->p, lb->json,
                                                      lb->align);
        free(lb->outs[i]);
        free(lb->errs[i]);
        free(lb->texts[i]);
    }
    lb->n = 0;
    fflush(stdout);
    return failed;
}

static int batch_flush(line_batch *lb)
{
    int failed = 0;
    if (lb->n == 0)
        return 0;
    if (lb->threads > 1)
        return threads_flush(lb);
    stele_error err;
    stream_slice sl = {lb, 0};
    int any_too_long = 0;
    for (int i = 0; i < lb->n; i++) {
        lb->outs[i] = NULL;
        any_too_long |= lb->too_long[i] != 0;
    }
    /* a line over the limit is a refused line: the chunk goes line by line, as for any other */
    if (any_too_long || stele_translate_stream(lb->b, (const char *const *)lb->texts, lb->lens,
                                               lb->n, lb->p, on_line_result, &sl, &err) != STELE_OK) {
        for (int i = 0; i < lb->n; i++)   /* nothing was printed: each line on its own */
            failed |= lb->too_long[i] ? report_too_long(lb->too_long[i], lb->max_bytes, lb->json)
                                      : translate_one(lb->s, lb->m, lb->texts[i],
                                                      (size_t)lb->lens[i], lb->p, lb->json,
                                                      lb->align);
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

/* Adds a copy of one line (too_long: the byte count of a line next_line did not keep, stored as
 * an empty text), translating the collected lines when BATCH_LINES are there. */
static int batch_add(line_batch *lb, const char *text, size_t len, int too_long)
{
    if (!lb->texts) {
        lb->texts = calloc(BATCH_LINES, sizeof *lb->texts);
        lb->lens = calloc(BATCH_LINES, sizeof *lb->lens);
        lb->outs = calloc(BATCH_LINES, sizeof *lb->outs);
        lb->out_sizes = calloc(BATCH_LINES, sizeof *lb->out_sizes);
        lb->too_long = calloc(BATCH_LINES, sizeof *lb->too_long);
        lb->errs = calloc(BATCH_LINES, sizeof *lb->errs);
        lb->err_sizes = calloc(BATCH_LINES, sizeof *lb->err_sizes);
    }
    size_t keep = too_long ? 0 : len;
    char *copy = malloc(keep + 1);
    if (!lb->texts || !lb->lens || !lb->outs || !lb->out_sizes || !lb->too_long || !lb->errs ||
        !lb->err_sizes || !copy) {
        free(copy);
        fprintf(stderr, "STELE_ERR_MEMORY: out of memory collecting input lines\n");
        return 1;
    }
    memcpy(copy, text, keep);
    copy[keep] = 0;
    lb->texts[lb->n] = copy;
    lb->too_long[lb->n] = too_long ? len : 0;
    lb->lens[lb->n++] = (ptrdiff_t)keep;
    return lb->n == BATCH_LINES ? batch_flush(lb) : 0;
}

/* --threads n: lb's workers, the main thread's (lb->s, lb->b) and n - 1 more, each with a
 * session and, with batch_size > 1, a batch of its own. On failure: the error on stderr, nothing
 * left allocated, 1 returned. */
static int threads_open(line_batch *lb, int n, const stele_limits *lim, int batch_size)
{
    stele_error err;
    lb->workers = calloc((size_t)n, sizeof *lb->workers);
    if (!lb->workers || pthread_mutex_init(&lb->lock, NULL) != 0) {
        free(lb->workers);
        lb->workers = NULL;
        fprintf(stderr, "STELE_ERR_MEMORY: cannot set up %d threads\n", n);
        return 1;
    }
    lb->threads = n;
    lb->workers[0] = (worker){.lb = lb, .s = lb->s, .b = lb->b};
    for (int t = 1; t < n; t++) {
        worker *w = &lb->workers[t];
        w->lb = lb;
        if (stele_session_create(lb->m, lim, &w->s, &err) != STELE_OK ||
            (batch_size > 1 && stele_batch_create(lb->m, lim, batch_size, &w->b, &err) != STELE_OK)) {
            fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
            threads_close(lb);
            return 1;
        }
    }
    /* a slice per queue draw: one line one by one; with a batch, enough lines to keep its rows
     * full while the slice's last sentences finish */
    lb->slice = batch_size > 1 ? 4 * batch_size : 1;
    return 0;
}

static int batch_read_stdin(line_batch *lb)
{
    size_t cap = 0, n;
    char *line = NULL;
    int failed = 0, too_long = 0;
    while (next_line(&line, &cap, &n, (size_t)lb->max_bytes, &too_long))
        failed |= batch_add(lb, line, n, too_long);
    free(line);
    return failed;
}

/* ---- the options of translate, caption and ask ------------------------------------------
 * One parser for the three commands, so an option means the same, and fails with the same
 * message, in each: -m and --json everywhere, the search options where there is a search, the
 * text options for translate only. */
enum { OPT_SEARCH = 1,   /* --beam --nbest --alpha --beta */
       OPT_TEXT = 2 };   /* --align --no-protect --no-normalize --no-shortlist --batch --threads */

typedef struct command_spec {
    const char *name;         /* in "NAME needs -m MODEL" */
    unsigned options;         /* OPT_* sets the command takes */
    int min_args;             /* arguments it needs after the options */
    const char *few_args;     /* the usage error when they are fewer */
} command_spec;

typedef struct command_options {
    const char *model;        /* -m */
    stele_params p;           /* stele_default_params() and the search and text options */
    int json, align, batch_size;
    int threads;              /* --threads (0 given: the CPUs online) */
    int first;                /* argv index of the first argument after the options */
} command_options;

/* parse_options' result when the command goes on (any other is its exit status). */
enum { PARSED = -1, MAX_THREADS = 256 };

/* Parses argv[2..] as spec's command takes it, then checks what the options cannot say alone:
 * -m given, enough arguments, --nbest within --beam. Returns PARSED, or the command's exit
 * status after --help (0) or a usage error (2). */
static int parse_options(int argc, char **argv, const command_spec *spec, command_options *o)
{
    const int search = spec->options & OPT_SEARCH, text = spec->options & OPT_TEXT;
    int nbest_set = 0;
    *o = (command_options){.p = stele_default_params(), .batch_size = 1, .threads = 1,
                           .first = argc};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            return help();
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) {
            if (++i >= argc)
                return usage("-m needs a MODEL path");
            o->model = argv[i];
        } else if (search && (!strcmp(a, "--beam") || !strcmp(a, "--nbest") ||
                              !strcmp(a, "--alpha") || !strcmp(a, "--beta"))) {
            if (++i >= argc || !parse_num(argv[i], &v))
                return usage("option needs a number");
            if (!strcmp(a, "--beam") || !strcmp(a, "--nbest")) {
                if (v != (int)v || v < 1 || v > 64)
                    return usage("--beam and --nbest take an integer in 1..64");
                if (a[2] == 'b')
                    o->p.beam_size = (int)v;
                else {
                    o->p.nbest = (int)v;
                    nbest_set = 1;
                }
            } else if (a[2] == 'a') {
                o->p.alpha = v;
            } else {
                o->p.beta = v;
            }
        } else if (text && strcmp(a, "--align") == 0) {
            o->align = 1;
        } else if (text && strcmp(a, "--no-protect") == 0) {
            o->p.protect = 0;   /* placeholders and markup go to the model as they are */
        } else if (text && strcmp(a, "--no-normalize") == 0) {
            o->p.normalize = 0;   /* text to the model as typed (stele_params.normalize) */
        } else if (text && strcmp(a, "--no-shortlist") == 0) {
            o->p.shortlist = 0;   /* every target piece (stele_params.shortlist) */
        } else if (text && strcmp(a, "--batch") == 0) {
            if (++i >= argc || !parse_num(argv[i], &v) || v != (int)v || v < 1 || v > 256)
                return usage("--batch takes an integer in 1..256");
            o->batch_size = (int)v;
        } else if (text && strcmp(a, "--threads") == 0) {
            if (++i >= argc || !parse_num(argv[i], &v) || v != (int)v || v < 0 || v > MAX_THREADS)
                return usage("--threads takes an integer in 0..256");
            o->threads = (int)v;
            if (o->threads == 0) {   /* one per CPU */
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                o->threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
            }
        } else if (strcmp(a, "--") == 0) {
            o->first = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            return usage("unknown option");
        } else {
            o->first = i;
            break;
        }
    }
    if (!o->model) {
        char msg[64];
        snprintf(msg, sizeof msg, "%s needs -m MODEL", spec->name);
        return usage(msg);
    }
    if (argc - o->first < spec->min_args)
        return usage(spec->few_args);
    if (o->p.nbest > o->p.beam_size)
        return usage(nbest_set ? "--nbest must not exceed --beam" : "--nbest > --beam");
    return PARSED;
}

/* The default limits, with room for the beam p asks for. */
static stele_limits limits_for(const stele_params *p)
{
    stele_limits lim = stele_default_limits();
    if (p->beam_size > lim.max_beam)
        lim.max_beam = p->beam_size;
    return lim;
}

/* The model a command's -m names (resolve_model), loaded, and a session for it (lim NULL: the
 * default limits). On failure: the error on stderr, nothing left allocated, 1 returned. */
static int open_model(const char *arg, const stele_limits *lim, stele_model **m,
                      stele_session **s)
{
    char file[PATH_BYTES];
    stele_error err;
    *m = NULL;
    *s = NULL;
    if (resolve_model(arg, file))
        return 1;
    if (stele_model_load_file(file, m, &err) != STELE_OK ||
        stele_session_create(*m, lim, s, &err) != STELE_OK) {
        fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
        stele_model_free(*m);
        *m = NULL;
        return 1;
    }
    return 0;
}

static int cmd_translate(int argc, char **argv)
{
    static const command_spec spec = {"translate", OPT_SEARCH | OPT_TEXT, 0, NULL};
    command_options o;
    int rc = parse_options(argc, argv, &spec, &o);
    if (rc != PARSED)
        return rc;
    if (o.batch_size > 1 && o.p.beam_size != 1)
        return usage("--batch is for greedy search: add --beam 1");
    stele_limits lim = limits_for(&o.p);
    stele_model *m;
    stele_session *s;
    if (open_model(o.model, &lim, &m, &s))
        return 1;
    stele_error err;
    stele_batch *b = NULL;
    if (o.batch_size > 1 && stele_batch_create(m, &lim, o.batch_size, &b, &err) != STELE_OK) {
        fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
        stele_session_free(s);
        stele_model_free(m);
        return 1;
    }
    int failed = 0;
    line_batch lb = {.b = b, .s = s, .m = m, .p = &o.p, .json = o.json, .align = o.align,
                     .max_bytes = lim.max_text_bytes, .threads = 1};
    if (o.threads > 1 && threads_open(&lb, o.threads, &lim, o.batch_size)) {
        stele_batch_free(b);
        stele_session_free(s);
        stele_model_free(m);
        return 1;
    }
    if (b || lb.threads > 1) {
        if (o.first < argc) {
            for (int i = o.first; i < argc; i++)
                failed |= batch_add(&lb, argv[i], strlen(argv[i]), 0);
        } else {
            failed |= batch_read_stdin(&lb);
        }
        failed |= batch_flush(&lb);
        free(lb.texts);
        free(lb.lens);
        free(lb.outs);
        free(lb.out_sizes);
        free(lb.too_long);
        free(lb.errs);
        free(lb.err_sizes);
    } else if (o.first < argc) {
        for (int i = o.first; i < argc; i++)
            failed |= translate_one(s, m, argv[i], strlen(argv[i]), &o.p, o.json, o.align);
    } else {
        size_t cap = 0, n;
        char *line = NULL;
        int too_long = 0;
        while (next_line(&line, &cap, &n, (size_t)lim.max_text_bytes, &too_long)) {
            failed |= too_long ? report_too_long(n, lim.max_text_bytes, o.json)
                               : translate_one(s, m, line, n, &o.p, o.json, o.align);
            fflush(stdout);
        }
        free(line);
    }
    threads_close(&lb);
    stele_batch_free(b);
    stele_session_free(s);
    stele_model_free(m);
    return failed ? 1 : 0;
}

/* ---- caption ---------------------------------------------------------------------------- */

/* Reads a binary PGM (P5) or PPM (P6) file (pnm.h: at most 4096 x 4096 pixels, maxval <= 255):
 * its pixels (malloc'd, values scaled to 0..255), size and channels (1 or 3). NULL with *why set. */
static unsigned char *read_pnm(const char *path, int *w, int *h, int *channels, const char **why)
{
    long long size = 0;
    *why = "cannot read the file";
    if (!is_file(path, &size) || size > (64LL << 20))
        return NULL;
    FILE *f = fopen(path, "rb");
    unsigned char *b = f ? malloc((size_t)size + 1) : NULL;
    size_t n = b ? fread(b, 1, (size_t)size, f) : 0;
    if (f)
        fclose(f);
    if (!b)
        return NULL;
    unsigned char *px = pnm_parse(b, n, w, h, channels, why);
    free(b);
    return px;
}

/* A caption as JSON: the text, the words (one per token, eos left out), the scores, the n-best
 * texts, the grid and the attention rows of the words (row t: word t over the grid). */
static void print_caption_json(const stele_model *m, const stele_result *r)
{
    const stele_hypothesis *h = &r->hyps[0];
    fprintf(OUT, "{\"text\":");
    json_str(h->text, strlen(h->text));
    fprintf(OUT, ",\"tokens\":");
    json_pieces(m, h->tokens, h->n_tokens);
    json_num(",\"score\":", h->score, 0);
    json_num(",\"logp\":", h->logp, 0);
    json_confidence(h);
    fprintf(OUT, ",\"nbest\":[");
    for (int i = 0; i < r->n_hyps; i++) {
        fprintf(OUT, "%s{\"text\":", i ? "," : "");
        json_str(r->hyps[i].text, strlen(r->hyps[i].text));
        json_num(",\"score\":", r->hyps[i].score, 0);
        json_num(",\"logp\":", r->hyps[i].logp, 0);
        fputc_out('}');
    }
    fprintf(OUT, "],\"grid\":[%d,%d],\"attention\":", r->grid_height, r->grid_width);
    if (r->attention)
        json_matrix(r->attention, h->n_tokens, r->n_source);
    else
        fprintf(OUT, "null");
    fprintf(OUT, "}\n");
}

static int cmd_caption(int argc, char **argv)
{
    static const command_spec spec = {"caption", OPT_SEARCH, 1,
                                      "caption needs one or more IMAGE files (binary PGM or PPM)"};
    command_options o;
    int rc = parse_options(argc, argv, &spec, &o);
    if (rc != PARSED)
        return rc;
    stele_limits lim = limits_for(&o.p);
    stele_model *m;
    stele_session *s;
    if (open_model(o.model, &lim, &m, &s))
        return 1;
    stele_error err;
    int failed = 0;
    for (int i = o.first; i < argc; i++) {
        int w = 0, h = 0, ch = 0;
        const char *why = NULL;
        unsigned char *px = read_pnm(argv[i], &w, &h, &ch, &why);
        const stele_result *r;
        if (!px) {
            err.status = STELE_ERR_ARGUMENT;
            snprintf(err.message, sizeof err.message, "%.200s: %s", argv[i], why);
            failed |= report_error(&err, o.json);
        } else if (stele_caption(s, px, w, h, ch, 0, &o.p, &r, &err) != STELE_OK) {
            char msg[sizeof err.message];
            snprintf(msg, sizeof msg, "%.100s: %.150s", argv[i], err.message);
            memcpy(err.message, msg, sizeof msg);
            failed |= report_error(&err, o.json);
        } else if (o.json) {
            print_caption_json(m, r);
        } else {
            printf("%s\n", r->hyps[0].text);
        }
        free(px);
        fflush(stdout);
    }
    stele_session_free(s);
    stele_model_free(m);
    return failed ? 1 : 0;
}

/* ---- ask -------------------------------------------------------------------------------- */

/* An answer as JSON: the answer, the top-5 with probabilities, every answer's probability, the
 * question's words (as the model read them: <unk> for unknown ones), the grid and the glimpses
 * (row g: glimpse g's weights over the grid, row-major). */
static void print_answer_json(const stele_model *m, const stele_answer_result *r)
{
    fprintf(OUT, "{\"answer\":");
    json_str(r->text, strlen(r->text));
    fprintf(OUT, ",\"index\":%d,\"top\":[", r->answer);
    for (int i = 0; i < r->n_top; i++) {
        const char *a = stele_model_answer(m, r->top[i]);
        fprintf(OUT, "%s{\"answer\":", i ? "," : "");
        json_str(a, strlen(a));
        json_num(",\"prob\":", r->top_prob[i], 0);
        fputc_out('}');
    }
    fprintf(OUT, "],\"probs\":[");
    for (int i = 0; i < r->n_answers; i++)
        json_num(i ? "," : "", r->probs[i], 0);
    fprintf(OUT, "],\"question\":");
    json_pieces(m, r->question_ids, r->n_question);
    fprintf(OUT, ",\"grid\":[%d,%d],\"glimpses\":", r->grid_height, r->grid_width);
    json_matrix(r->glimpses, r->n_glimpses, r->grid_height * r->grid_width);
    fprintf(OUT, "}\n");
}

static int cmd_ask(int argc, char **argv)
{
    static const command_spec spec = {"ask", 0, 2,
                                      "ask needs an IMAGE (binary PGM or PPM) and one or more "
                                      "QUESTIONs"};
    command_options o;
    int rc = parse_options(argc, argv, &spec, &o);
    if (rc != PARSED)
        return rc;
    const int image = o.first;   /* argv[image] is the IMAGE, the QUESTIONs follow */
    stele_model *m;
    stele_session *s;
    if (open_model(o.model, NULL, &m, &s))
        return 1;
    stele_error err;
    int w = 0, h = 0, ch = 0, failed = 0;
    const char *why = NULL;
    unsigned char *px = read_pnm(argv[image], &w, &h, &ch, &why);
    if (!px) {   /* every question fails: the image is the same for all */
        err.status = STELE_ERR_ARGUMENT;
        snprintf(err.message, sizeof err.message, "%.200s: %s", argv[image], why);
        fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
        stele_session_free(s);
        stele_model_free(m);
        return 1;
    }
    for (int i = image + 1; i < argc; i++) {
        const stele_answer_result *r;
        if (stele_answer(s, px, w, h, ch, 0, argv[i], -1, &r, &err) != STELE_OK) {
            char msg[sizeof err.message];
            snprintf(msg, sizeof msg, "question %d: %.200s", i - image, err.message);
            memcpy(err.message, msg, sizeof msg);
            failed |= report_error(&err, o.json);
        } else if (o.json) {
            print_answer_json(m, r);
        } else {
            printf("%s\n", r->text);
            for (int k = 0; k < r->n_top && k < 3; k++)
                printf("  %.4f  %s\n", r->top_prob[k], stele_model_answer(m, r->top[k]));
        }
        fflush(stdout);
    }
    free(px);
    stele_session_free(s);
    stele_model_free(m);
    return failed ? 1 : 0;
}

/* ---- info ------------------------------------------------------------------------------- */

static const json_value *jget(const json_value *o, const char *path0, const char *path1)
{
    const json_value *v = json_get(o, path0);
    return path1 ? json_get(v, path1) : v;
}

static double jnum(const json_value *o, const char *k0, const char *k1)
{
    double v = 0;
    json_number(jget(o, k0, k1), &v);
    return v;
}

static const char *jstr(const json_value *o, const char *k0, const char *k1)
{
    const char *v = json_string(jget(o, k0, k1));
    return v ? v : "?";
}

/* 1234567 -> "1,234,567" (buf of 32 bytes; counts here are below 1e15, larger ones as %g). */
static const char *grouped(double v, char *buf)
{
    char digits[24];
    if (!(v > -1e15 && v < 1e15)) {
        snprintf(buf, 32, "%g", v);
        return buf;
    }
    int n = snprintf(digits, sizeof digits, "%.0f", v), k = 0;
    for (int i = 0; i < n; i++) {
        if (i && digits[i - 1] != '-' && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = 0;
    return buf;
}

static const char *plural(double n) { return n == 1 ? "" : "s"; }

/* The decoder lines of `stele info` (text and caption models). */
static void print_decoder_info(const json_value *c)
{
    double dl = jnum(c, "decoder", "layers"), dr = jnum(c, "decoder", "residual_from");
    printf("decoder     %s style, %g layer%s, hidden %g, output %g, context placement %s",
           jstr(c, "decoder", "style"), dl, plural(dl), jnum(c, "decoder", "hidden"),
           jnum(c, "decoder", "out"), jstr(c, "decoder", "placement"));
    printf(dr > 0 ? ", residual from layer %g\n" : "\n", dr);
    printf("embeddings  %g; vocabulary %g source, %g target; tied output layer: %s; bridge %s\n",
           jnum(c, "emb", NULL), jnum(c, "src_vocab", NULL), jnum(c, "tgt_vocab", NULL),
           json_kind(json_get(c, "tie_embeddings")) == JSON_TRUE ? "yes" : "no",
           jstr(c, "bridge", NULL));
}

/* The search line of `stele info` (models with a decoder). */
static void print_search_info(const json_value *j)
{
    stele_params p = stele_default_params();
    printf("search      output up to %g*S + %g pieces; defaults: beam %d, nbest %d, alpha %g, "
           "beta %g", jnum(j, "search", "len_a"), jnum(j, "search", "len_b"), p.beam_size,
           p.nbest, p.alpha, p.beta);
    /* any other search metadata a newer exporter writes, as "; key value" */
    const json_value *sm = json_get(j, "search");
    for (size_t i = 0; i < json_count(sm); i++) {
        const char *k = json_key_at(sm, i);
        double v;
        if (strcmp(k, "len_a") && strcmp(k, "len_b") && json_number(json_at(sm, i), &v) == 0)
            printf("; %s %g", k, v);
    }
    printf("\n");
}

/* The model's info JSON as a few lines for people; src/js/cli.js prints the same lines. */
static void print_info_text(const char *file, const char *info_json)
{
    char err[128], b1[32], b2[32];
    json_value *j = json_parse(info_json, strlen(info_json), err, sizeof err);
    if (!j) {   /* cannot happen: the engine wrote it */
        printf("%s\n", info_json);
        return;
    }
    const json_value *c = json_get(j, "config");
    long long bytes = 0;
    is_file(file, &bytes);
    printf("name        %s\n", jstr(j, "name", NULL));
    printf("file        %s (%s bytes)\n", file, grouped((double)bytes, b1));
    double el = jnum(c, "encoder", "layers"), er = jnum(c, "encoder", "residual_from");
    const json_value *chs = jget(c, "encoder", "channels");
    if (!strcmp(jstr(c, "encoder", "type"), "cnn")) {   /* an image model */
        const json_value *im = json_get(c, "image");
        printf("task        %s; image %gx%g, %g channel%s, normalised (p/255 - %g) / %g\n",
               jstr(c, "task", NULL), jnum(im, "width", NULL), jnum(im, "height", NULL),
               jnum(im, "channels", NULL), plural(jnum(im, "channels", NULL)),
               jnum(im, "mean", NULL), jnum(im, "std", NULL));
        printf("encoder     cnn, %zu block%s (conv 3x3 + ReLU + max-pool 2x2), channels",
               json_count(chs), json_count(chs) == 1 ? "" : "s");
        for (size_t i = 0; i < json_count(chs); i++) {
            double v = 0;
            json_number(json_at(chs, i), &v);
            printf("%s%g", i ? ", " : " ", v);
        }
        /* encoder.pool: the blocks (numbered as their cnn.{i} tensors) without the max-pool */
        const json_value *pools = jget(c, "encoder", "pool");
        for (size_t i = 0, n = 0; i < json_count(pools); i++)
            if (json_kind(json_at(pools, i)) == JSON_FALSE)
                printf("%s%zu", n++ ? ", " : "; no max-pool in block ", i);
        const char *pos = json_string(jget(c, "encoder", "position"));
        printf(pos && !strcmp(pos, "learned") ? "; a learned position per location\n" : "\n");
    } else {
        printf("encoder     %s, %g layer%s, hidden %g%s", jstr(c, "encoder", "type"), el,
               plural(el), jnum(c, "encoder", "hidden"),
               strcmp(jstr(c, "encoder", "type"), "bilstm") ? "" : " per direction");
        printf(er > 0 ? ", residual from layer %g\n" : "\n", er);
    }
    const int vqa = !strcmp(jstr(c, "task", NULL), "vqa");
    const char *score = json_string(jget(c, "attention", "score"));
    if (vqa) {   /* no decoder or search: a question encoder, glimpses and a classifier */
        printf("question    embeddings %g, LSTM hidden %g; vocabulary %g words\n",
               jnum(c, "question", "emb"), jnum(c, "question", "hidden"),
               jnum(c, "src_vocab", NULL));
        printf("glimpses    %g (1x1 convolutions, hidden %g); features l2-normalised: %s\n",
               jnum(c, "glimpses", NULL), jnum(c, "attention", "hidden"),
               json_kind(json_get(c, "l2norm")) == JSON_TRUE ? "yes" : "no");
        printf("classifier  hidden %g, %g answers\n", jnum(c, "classifier", "hidden"),
               jnum(c, "answers", NULL));
    } else if (!score || !strcmp(score, "none"))
        printf("attention   none\n");
    else if (json_get(json_get(c, "attention"), "dim") && strcmp(score, "dot") && strcmp(score, "general"))
        printf("attention   %s, size %g%s\n", score, jnum(c, "attention", "dim"),
               json_kind(jget(c, "attention", "gate")) == JSON_TRUE ? ", gated" : "");
    else
        printf("attention   %s%s\n", score,
               json_kind(jget(c, "attention", "gate")) == JSON_TRUE ? ", gated" : "");
    if (!vqa)
        print_decoder_info(c);
    /* the tensors' dtypes, each once, in file order */
    const json_value *t = json_get(j, "tensors");
    const char *dtypes[8];
    int nd = 0;
    for (size_t i = 0; i < json_count(t); i++) {
        const char *d = jstr(json_at(t, i), "dtype", NULL);
        int seen = 0;
        for (int k = 0; k < nd && !seen; k++)
            seen = !strcmp(dtypes[k], d);
        if (!seen && nd < 8)
            dtypes[nd++] = d;
    }
    printf("parameters  %s in %zu tensors (%s bytes; ", grouped(jnum(j, "parameters", NULL), b1),
           json_count(t), grouped(jnum(j, "tensor_bytes", NULL), b2));
    for (int k = 0; k < nd; k++)
        printf("%s%s", k ? "/" : "", dtypes[k]);
    printf(")\n");
    if (!vqa)   /* a classifier: no search */
        print_search_info(j);
    const json_value *sl = json_get(j, "shortlist");
    if (sl)   /* a lexical shortlist (models/FORMAT.md) */
        printf("shortlist   %s target pieces always, %s candidates over the source pieces\n",
               grouped(jnum(sl, "always", NULL), b1), grouped(jnum(sl, "candidates", NULL), b2));
    printf("format      stele %g, %s weights\n", jnum(j, "format_version", NULL),
           jstr(j, "weights", NULL));
    printf("kernels     %s\n", jstr(j, "kernels", NULL));
    json_free(j);
}

static int cmd_info(int argc, char **argv)
{
    int json = argc > 2 && !strcmp(argv[2], "--json");
    if (argc > 2 && is_help(argv[2]))
        return help();
    if (argc != 3 + json)
        return usage("info takes [--json] and one MODEL");
    char file[PATH_BYTES];
    if (resolve_model(argv[2 + json], file))
        return 1;
    stele_error err;
    stele_model *m = NULL;
    if (stele_model_load_file(file, &m, &err) != STELE_OK) {
        fprintf(stderr, "%s: %s\n", stele_status_name(err.status), err.message);
        return 1;
    }
    if (json)
        printf("%s\n", stele_model_info_json(m));
    else
        print_info_text(file, stele_model_info_json(m));
    stele_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    g_argv0 = argv[0];
    if (argc < 2)
        return usage(NULL);
    if (is_help(argv[1]))
        return help();
    if (strcmp(argv[1], "translate") == 0)
        return cmd_translate(argc, argv);
    if (strcmp(argv[1], "caption") == 0)
        return cmd_caption(argc, argv);
    if (strcmp(argv[1], "ask") == 0)
        return cmd_ask(argc, argv);
    if (strcmp(argv[1], "info") == 0)
        return cmd_info(argc, argv);
    if (strcmp(argv[1], "models") == 0)
        return cmd_models(argc, argv);
    if (strcmp(argv[1], "--version") == 0) {
        const char *kernels = stele_kernels_name();
        if (!kernels) {   /* STELE_KERNELS names a set this build or CPU lacks */
            fprintf(stderr, "stele: STELE_KERNELS=%s: not a kernel set this CPU runs (scalar, "
                    "avx2)\n", getenv("STELE_KERNELS"));
            return 1;
        }
        printf("stele %s, kernels %s\n", STELE_VERSION, kernels);
        return 0;
    }
    fprintf(stderr, "stele: unknown command \"%.100s\"\n", argv[1]);
    return usage(NULL);
}
