/* Hostile and unusual inputs: documented statuses, never a crash (run under ASan+UBSan too).
 * Text: empty, whitespace only, 100 KB, invalid UTF-8, NUL bytes, emoji, scripts absent from the
 * vocabulary; limits; bad parameters; model files with a wrong shape, a missing tensor, a bad
 * config and a wrong format version (edited copies of a golden model). */
#define _POSIX_C_SOURCE 200809L   /* mkfifo, getpid, getrusage */
#include "golden.h"
#ifndef __EMSCRIPTEN__
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

static const char *MODEL = "tests/golden/tiny/bilstm-general-luong.safetensors";

static void expect(const char *what, stele_status got, stele_status want, const stele_error *err)
{
    if (got != want)
        FAILF("%s: got %s (%s), expected %s", what, stele_status_name(got),
              got ? err->message : "", stele_status_name(want));
    else
        printf("ok   %-44s %s%s%s\n", what, stele_status_name(got), got ? ": " : "",
               got ? err->message : "");
}

/* Replaces the first occurrence of from by to (same length) in a copy of the model bytes and
 * loads it. */
static stele_status load_edited(const uint8_t *bytes, size_t n, const char *from, const char *to,
                                stele_error *err)
{
    uint8_t *copy = malloc(n);
    memcpy(copy, bytes, n);
    size_t lf = strlen(from);
    int found = 0;
    for (size_t i = 0; i + lf <= n && !found; i++)
        if (memcmp(copy + i, from, lf) == 0) {
            memcpy(copy + i, to, lf);
            found = 1;
        }
    if (!found)
        FAILF("edit \"%s\" not found in the model", from);
    stele_model *m = NULL;
    stele_status st = stele_model_load(copy, n, &m, err);
    stele_model_free(m);
    free(copy);
    return st;
}

#ifndef __EMSCRIPTEN__
static long max_rss_kb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* A sparse file of `size` bytes starting with `head` (costs no disk space). */
static int sparse_file(const char *path, const void *head, size_t n, long long size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(head, 1, n, f) == n && fseek(f, (long)(size - 1), SEEK_SET) == 0 &&
             fputc(0, f) != EOF;
    return fclose(f) == 0 && ok;
}

/* stele_model_load_file on hostile paths: never reads a device, FIFO or folder, refuses a file
 * over STELE_MAX_MODEL_BYTES before reading it, and a broken header before reading the data. */
static void file_cases(void)
{
    stele_error err;
    stele_model *m = NULL;
    char path[256];
    expect("load_file: a folder", stele_model_load_file("tests", &m, &err), STELE_ERR_IO, &err);
    if (!strstr(err.message, "folder"))
        FAILF("folder message: %s", err.message);
    expect("load_file: /dev/zero (a device)", stele_model_load_file("/dev/zero", &m, &err),
           STELE_ERR_IO, &err);
    snprintf(path, sizeof path, "/tmp/stele-test-inputs-%d.fifo", (int)getpid());
    if (mkfifo(path, 0600) == 0) {
        /* fopen on a FIFO would block forever with no writer */
        expect("load_file: a FIFO", stele_model_load_file(path, &m, &err), STELE_ERR_IO, &err);
        remove(path);
    }
    snprintf(path, sizeof path, "/tmp/stele-test-inputs-%d.safetensors", (int)getpid());
    /* 1 GiB + 1 (sparse): over the limit, refused from its size */
    const char bad[] = "\x10\0\0\0\0\0\0\0{not json}      ";
    long before = max_rss_kb();
    if (sparse_file(path, bad, sizeof bad - 1, (long long)STELE_MAX_MODEL_BYTES + 1)) {
        expect("load_file: 1 GiB + 1 byte", stele_model_load_file(path, &m, &err),
               STELE_ERR_LIMIT, &err);
        /* 512 MiB with a broken header: the header error, without reading the data */
        sparse_file(path, bad, sizeof bad - 1, 512LL << 20);
        expect("load_file: 512 MiB, broken header", stele_model_load_file(path, &m, &err),
               STELE_ERR_HEADER, &err);
        /* a header length over 1 MiB in a file big enough to hold it */
        const char huge[] = "\x00\x00\x20\0\0\0\0\0{";
        sparse_file(path, huge, sizeof huge - 1, 64LL << 20);
        expect("load_file: header length 2 MiB", stele_model_load_file(path, &m, &err),
               STELE_ERR_HEADER, &err);
        long grown = max_rss_kb() - before;
        printf("     peak RSS grew %ld KB over these loads\n", grown);
        if (grown > 32 * 1024)
            FAILF("loading hostile files grew the peak RSS by %ld KB", grown);
        remove(path);
    } else {
        FAILF("cannot write %s", path);
    }
    /* a valid model read through the two-step reader */
    expect("load_file: the golden model", stele_model_load_file(MODEL, &m, &err), STELE_OK,
           &err);
    stele_model_free(m);
}
#endif

int main(void)
{
    stele_error err;
    stele_model *m = NULL;
    if (stele_model_load_file(MODEL, &m, &err) != STELE_OK) {
        printf("FAIL %s: %s\n", MODEL, err.message);
        return 1;
    }
    stele_session *s = NULL;
    stele_limits lim = stele_default_limits();
    lim.max_beam = 8;
    if (stele_session_create(m, &lim, &s, &err) != STELE_OK) {
        printf("FAIL session: %s\n", err.message);
        return 1;
    }
    const stele_result *r = NULL;
    stele_params p = stele_default_params();
    stele_status st;

    st = stele_translate(s, "", -1, &p, &r, &err);
    expect("empty text", st, STELE_OK, &err);
    if (st == STELE_OK && (r->n_hyps != 1 || r->hyps[0].n_tokens != 0 || r->hyps[0].text[0] ||
                           r->n_source != 0))
        FAILF("empty text: expected an empty translation");
    st = stele_translate(s, "   ", -1, &p, &r, &err);
    expect("spaces only", st, STELE_OK, &err);
    if (st == STELE_OK && r->hyps[0].n_tokens != 0)
        FAILF("spaces only: expected an empty translation");
    st = stele_translate(s, " \t \n ", -1, &p, &r, &err);
    expect("tabs and newlines", st, STELE_OK, &err);

    size_t big = 100 * 1024;
    char *text = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        text[i] = "the dog "[i % 8];
    text[big] = 0;
    st = stele_translate(s, text, -1, &p, &r, &err);
    expect("100 KB of text", st, STELE_ERR_LIMIT, &err);
    stele_limits wide = lim;
    wide.max_text_bytes = 1 << 20;
    stele_session *s2 = NULL;
    if (stele_session_create(m, &wide, &s2, &err) == STELE_OK) {
        st = stele_translate(s2, text, -1, &p, &r, &err);
        expect("100 KB of text, max_text_bytes 1 MB", st, STELE_ERR_LIMIT, &err);
        stele_session_free(s2);
    }
    text[255 * 2] = 0;   /* "the dog " x 63.75: more than 256 pieces */
    st = stele_translate(s, text, -1, &p, &r, &err);
    expect("510 bytes: over max_source_tokens", st, STELE_ERR_LIMIT, &err);
    free(text);

    expect("invalid UTF-8 (0xff)", stele_translate(s, "the \xff dog", -1, &p, &r, &err),
           STELE_ERR_TEXT, &err);
    expect("truncated UTF-8 sequence", stele_translate(s, "dog \xe2\x96", -1, &p, &r, &err),
           STELE_ERR_TEXT, &err);
    expect("overlong UTF-8", stele_translate(s, "\xc0\xaf", -1, &p, &r, &err), STELE_ERR_TEXT,
           &err);
    expect("UTF-8 surrogate", stele_translate(s, "\xed\xa0\x80", -1, &p, &r, &err),
           STELE_ERR_TEXT, &err);
    expect("NUL byte inside the text", stele_translate(s, "the\0dog", 7, &p, &r, &err),
           STELE_ERR_TEXT, &err);
    stele_params raw = p;
    raw.normalize = 0;   /* normalized, the emoji never reach the model (test_normalize.c) */
    st = stele_translate(s, "the dog \xF0\x9F\x98\x80\xF0\x9F\x90\xB6", -1, &raw, &r, &err);
    expect("emoji", st, STELE_OK, &err);
    int unk = 0;
    for (int i = 0; st == STELE_OK && i < r->n_source; i++)
        unk += r->source_tokens[i] == m->unk_id;
    if (st == STELE_OK && unk == 0)
        FAILF("emoji: expected <unk> in the source");
    expect("scripts absent from the vocabulary",
           stele_translate(s, "\xe6\x97\xa5\xe6\x9c\xac \xd1\x82\xd0\xb5\xd0\xba\xd1\x81\xd1\x82 "
                              "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a", -1, &p, &r, &err),
           STELE_OK, &err);

    stele_params q = p;
    q.beam_size = 9;
    expect("beam above max_beam", stele_translate(s, "the dog", -1, &q, &r, &err),
           STELE_ERR_LIMIT, &err);
    q = p;
    q.nbest = 6;
    expect("nbest above beam", stele_translate(s, "the dog", -1, &q, &r, &err),
           STELE_ERR_ARGUMENT, &err);
    q = p;
    q.alpha = NAN;
    expect("alpha NaN", stele_translate(s, "the dog", -1, &q, &r, &err), STELE_ERR_ARGUMENT,
           &err);
    q = p;
    q.beam_size = 0;
    expect("beam 0", stele_translate(s, "the dog", -1, &q, &r, &err), STELE_ERR_ARGUMENT, &err);
    int32_t bad[2] = {5, 100000};
    expect("source id out of range", stele_translate_ids(s, bad, 2, &p, &r, &err),
           STELE_ERR_ARGUMENT, &err);
    expect("NULL text", stele_translate(s, NULL, -1, &p, &r, &err), STELE_ERR_ARGUMENT, &err);

    stele_limits tight = lim;
    tight.max_target_tokens = 3;
    stele_session *s3 = NULL;
    if (stele_session_create(m, &tight, &s3, &err) == STELE_OK) {
        for (int beam = 1; beam <= 5; beam += 4) {
            q = p;
            q.beam_size = beam;
            st = stele_translate(s3, "open the box quickly", -1, &q, &r, &err);
            expect(beam == 1 ? "max_target_tokens 3, greedy" : "max_target_tokens 3, beam 5", st,
                   STELE_OK, &err);
            if (st == STELE_OK && r->hyps[0].n_tokens > 3)
                FAILF("max_target_tokens 3: %d tokens", r->hyps[0].n_tokens);
        }
        stele_session_free(s3);
    }
    stele_limits silly = lim;
    silly.max_beam = 0;
    expect("limits: max_beam 0", stele_session_create(m, &silly, &s3, &err), STELE_ERR_ARGUMENT,
           &err);

    /* model files */
    size_t n;
    uint8_t *bytes = read_file(MODEL, &n);
    expect("wrong tensor shape (config hidden 12->13)",
           load_edited(bytes, n, "\\\"hidden\\\": 12", "\\\"hidden\\\": 13", &err),
           STELE_ERR_SHAPE, &err);
    expect("missing tensor (proj.weight renamed)",
           load_edited(bytes, n, "\"proj.weight\"", "\"proj.weighx\"", &err), STELE_ERR_MISSING,
           &err);
    expect("bad config (style luong -> luonx)",
           load_edited(bytes, n, "\\\"luong\\\"", "\\\"luonx\\\"", &err), STELE_ERR_CONFIG, &err);
    expect("bad config (not JSON)",
           load_edited(bytes, n, "\"config\":\"{", "\"config\":\"[", &err), STELE_ERR_CONFIG,
           &err);
    expect("format_version 3",
           load_edited(bytes, n, "\"format_version\":\"1\"", "\"format_version\":\"3\"", &err),
           STELE_ERR_VERSION, &err);
    expect("format not stele", load_edited(bytes, n, "\"stele\"", "\"steel\"", &err),
           STELE_ERR_VERSION, &err);
    expect("wrong dtype (F32 -> I32)", load_edited(bytes, n, "\"F32\"", "\"I32\"", &err),
           STELE_ERR_DTYPE, &err);
    /* unaligned data: the same file shifted by one byte inside a bigger buffer */
    uint8_t *shifted = malloc(n + 1);
    memcpy(shifted + 1, bytes, n);
    stele_model *m2 = NULL;
    st = stele_model_load(shifted + 1, n, &m2, &err);
    expect("unaligned tensors (copied)", st, STELE_OK, &err);
    if (st == STELE_OK) {
        stele_session *s4 = NULL;
        const stele_result *r2;
        stele_session_create(m2, NULL, &s4, &err);
        stele_translate(s, "open the box", -1, &p, &r, &err);
        int len = r->hyps[0].n_tokens;
        int32_t first[64];
        memcpy(first, r->hyps[0].tokens, sizeof(int32_t) * (size_t)(len < 64 ? len : 64));
        if (stele_translate(s4, "open the box", -1, &p, &r2, &err) != STELE_OK ||
            r2->hyps[0].n_tokens != len ||
            memcmp(first, r2->hyps[0].tokens, sizeof(int32_t) * (size_t)(len < 64 ? len : 64)))
            FAILF("unaligned model translates differently");
        stele_session_free(s4);
    }
    stele_model_free(m2);
    free(shifted);
    expect("truncated file", stele_model_load(bytes, n / 2, &m2, &err), STELE_ERR_RANGE, &err);
    free(bytes);

#ifndef __EMSCRIPTEN__
    file_cases();
#endif

    stele_session_free(s);
    stele_model_free(m);
    printf("bad inputs: %s\n", g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
