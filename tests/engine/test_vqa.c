/* Visual question answering (stele_answer) against the PyTorch reference, with the kernel set
 * chosen by STELE_KERNELS (src/engine.mk runs it once per set):
 *   - the tiny random VQA model (tests/golden/tiny/vqa-tiny.*, scripts/golden_vqa.py; with a
 *     learned position table added after the l2 norm) and the same weights without it
 *     (vqa-tiny-nopos.*): per stage
 *     (question ids exactly; the l2-normalised CNN memory phi (+ P), the question state s, the glimpse
 *     scores and maps, x, the classifier's hidden layer, logits, probabilities), then
 *     stele_answer's answer, top-5 and text exactly and its probabilities and glimpses;
 *   - the same image as gray, RGB, RGBA and with a row stride gives the same answer and maps;
 *   - random questions about random images: an answer with its invariants, or a clean TEXT or
 *     ARGUMENT error;
 *   - bad input: NULL arguments, wrong image size or channels, an empty or blank question,
 *     invalid UTF-8, a NUL byte, too many words or bytes, the other tasks' entry points on a vqa
 *     model and stele_answer on the others;
 *   - the shipped model (models/scenes-vqa) on every question of its golden trace
 *     (tests/golden/scenes-vqa.trace.safetensors): the same question ids and answers (but for
 *     ties within 1e-4 in the reference), probabilities and glimpses within 1e-4. Skipped,
 *     saying so, only when that trace file is absent.
 * STELE_SHIPPED_LIMIT=N checks only the first N questions of the shipped trace (sanitizers, wasm);
 * STELE_SHIPPED_ROOT=DIR reads DIR/models and DIR/tests/golden instead of ./ (as test_shipped). */
#include "golden.h"
#include "../../src/conv.h"
#include "../../src/decoder.h"
#include "../../src/vqa.h"
#include "../../src/words.h"

/* Every stage is held to the 1e-4. phi, s, the glimpses and the probabilities (values
 * in 0..1, short sums) agree with torch far inside it, so they get a tighter bound, to see a
 * drift before it matters; the scores, x, hidden and logits (values up to ~7, and x a 441-term
 * float sum whose order differs per kernel set) keep 1e-4. */
#define TINY_TOL 2e-5

static const st_tensor *need(st_file *st, const char *name, const char *path)
{
    const st_tensor *t = st_find(st, name);
    if (!t)
        FAILF("%s: tensor %s is missing", path, name);
    return t;
}

typedef struct {
    const char *name;
    double worst;
} stage;

static const char *m_name = "vqa-tiny";   /* the tiny model tiny_parity is checking */

static void note_stage(stage *st, double d, double tol, int i)
{
    if (!(d <= st->worst))
        st->worst = d;
    if (!(d <= tol))
        FAILF("vqa-tiny example %d: %s max abs diff %.3g > %g (%s)", i, st->name, d, tol,
              m_name);
}

static int same_ids(const int32_t *a, const st_tensor *ref, size_t off, int n)
{
    for (int j = 0; j < n; j++)
        if (a[j] != ti32(ref, off + (size_t)j))
            return 0;
    return 1;
}

static void tiny_parity(const stele_model *m, const char *name, const char *path)
{
    m_name = name;
    trace_file t;
    if (!trace_open(&t, path))
        return;
    stele_session *s = NULL;
    stele_error err;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("vqa-tiny: session: %s", err.message);
        trace_close(&t);
        return;
    }
    const char *names[] = {"images", "phi", "image", "question_bytes", "question_len",
                           "question_ids", "question_n", "s", "scores", "glimpses", "x",
                           "hidden", "logits", "probs", "answer", "top"};
    const st_tensor *tt[16];
    for (int i = 0; i < 16; i++)
        tt[i] = need(t.st, names[i], path);
    if (g_failures) {
        stele_session_free(s);
        trace_close(&t);
        return;
    }
    const st_tensor *images = tt[0], *phi = tt[1], *image = tt[2], *qbytes = tt[3], *qlen = tt[4];
    const st_tensor *qids = tt[5], *qn = tt[6], *ts = tt[7], *scores = tt[8], *glimpses = tt[9];
    const st_tensor *tx = tt[10], *hidden = tt[11], *logits = tt[12], *probs = tt[13];
    const st_tensor *answer = tt[14], *top = tt[15];
    const vqa_weights *q = &m->vqa;
    const int N = (int)answer->shape[0], Hi = (int)images->shape[1], Wi = (int)images->shape[2];
    const int S = m->grid_h * m->grid_w, D = m->D, G = q->G, Hq = q->Hq, Na = q->Na;
    const int QB = (int)qbytes->shape[1], QI = (int)qids->shape[1], NT = (int)top->shape[1];
    if ((int)phi->shape[1] != S || (int)phi->shape[2] != D || (int)glimpses->shape[1] != G)
        FAILF("vqa-tiny: the trace's phi is [%lld, %lld] and has %lld glimpses, the model "
              "gives [%d, %d] and %d", (long long)phi->shape[1], (long long)phi->shape[2],
              (long long)glimpses->shape[1], S, D, G);
    stage st_phi = {"phi", 0}, st_s = {"s", 0}, st_e = {"scores", 0}, st_a = {"glimpses", 0},
          st_x = {"x", 0}, st_h = {"hidden", 0}, st_l = {"logits", 0}, st_p = {"probs", 0},
          st_ra = {"result glimpses", 0}, st_rp = {"result probs", 0};
    int ids_ok = 0, answers_ok = 0, top_ok = 0;
    vqa_work *w = s->vqa;
    for (int i = 0; i < N && !g_failures; i++) {
        const int img = ti32(image, (size_t)i), n = ti32(qn, (size_t)i);
        const uint8_t *px = images->data + (size_t)img * Hi * Wi;
        const char *text = (const char *)qbytes->data + (size_t)i * QB;
        const size_t len = (size_t)ti32(qlen, (size_t)i);
        /* the stages */
        if (vqa_question(w, m, text, len, &err) != STELE_OK) {
            FAILF("vqa-tiny example %d: question: %s", i, err.message);
            continue;
        }
        if (w->n == n && same_ids(w->ids, qids, (size_t)i * QI, n))
            ids_ok++;
        else
            FAILF("vqa-tiny example %d: question \"%.*s\" gives %d ids, the reference %d (or "
                  "other ids)", i, (int)len, text, w->n, n);
        vqa_image(w, m, px, 1, 0);
        note_stage(&st_phi, diff_f32(w->phi, phi, (size_t)img * S * D, (size_t)S * D), TINY_TOL,
                   i);
        vqa_forward(w, m);
        note_stage(&st_s, diff_f32(w->in + (size_t)G * D, ts, (size_t)i * Hq, (size_t)Hq),
                   TINY_TOL, i);
        note_stage(&st_e, diff_f32(w->scores, scores, (size_t)i * G * S, (size_t)G * S), TOL,
                   i);
        note_stage(&st_a, diff_f32(w->glimpses, glimpses, (size_t)i * G * S, (size_t)G * S),
                   TINY_TOL, i);
        note_stage(&st_x, diff_f32(w->in, tx, (size_t)i * G * D, (size_t)G * D), TOL, i);
        note_stage(&st_h, diff_f32(w->hidden, hidden, (size_t)i * q->F, (size_t)q->F), TOL,
                   i);
        note_stage(&st_l, diff_f32(w->logits, logits, (size_t)i * Na, (size_t)Na), TOL, i);
        note_stage(&st_p, diff_f32(w->probs, probs, (size_t)i * Na, (size_t)Na), TINY_TOL, i);
        /* the public call: a fresh image + question */
        const stele_answer_result *r = NULL;
        if (stele_answer(s, px, Wi, Hi, 1, 0, text, (ptrdiff_t)len, &r, &err) != STELE_OK) {
            FAILF("vqa-tiny example %d: stele_answer: %s", i, err.message);
            continue;
        }
        const int want = ti32(answer, (size_t)i);
        if (r->answer == want && strcmp(r->text, stele_model_answer(m, want)) == 0)
            answers_ok++;
        else
            FAILF("vqa-tiny example %d: answer %d \"%s\", the reference %d \"%s\"", i, r->answer,
                  r->text, want, stele_model_answer(m, want));
        int same_top = r->n_top == (NT < Na ? NT : Na) && r->top[0] == r->answer;
        for (int j = 0; same_top && j < r->n_top; j++)
            same_top = r->top[j] == ti32(top, (size_t)i * NT + j) &&
                       r->top_prob[j] == r->probs[r->top[j]];
        if (same_top)
            top_ok++;
        else
            FAILF("vqa-tiny example %d: top-%d differs from the reference's", i, r->n_top);
        if (r->n_answers != Na || r->n_glimpses != G || r->grid_height != m->grid_h ||
            r->grid_width != m->grid_w || r->n_question != n || r->question_ids != w->ids)
            FAILF("vqa-tiny example %d: result sizes %d answers, %d glimpses, grid %dx%d, %d "
                  "words", i, r->n_answers, r->n_glimpses, r->grid_height, r->grid_width,
                  r->n_question);
        note_stage(&st_ra, diff_f32(r->glimpses, glimpses, (size_t)i * G * S, (size_t)G * S),
                   TOL, i);
        note_stage(&st_rp, diff_f32(r->probs, probs, (size_t)i * Na, (size_t)Na), TOL, i);
        for (int g = 0; g < G; g++) {   /* each map is a distribution over the locations */
            double sum = 0.0;
            for (int l = 0; l < S; l++)
                sum += r->glimpses[(size_t)g * S + l];
            if (!(fabs(sum - 1.0) < 1e-5))
                FAILF("vqa-tiny example %d: glimpse %d sums to %.8f", i, g, sum);
        }
    }
    printf("%s (%s): %d questions; question ids identical %d/%d; max abs diff phi %.2g, "
           "s %.2g, scores %.2g, glimpses %.2g (result %.2g), x %.2g, hidden %.2g, logits %.2g, "
           "probs %.2g (result %.2g); answers identical %d/%d, top-5 identical %d/%d\n",
           m_name, stele_kernels_name(), N, ids_ok, N, st_phi.worst, st_s.worst, st_e.worst, st_a.worst,
           st_ra.worst, st_x.worst, st_h.worst, st_l.worst, st_p.worst, st_rp.worst, answers_ok,
           N, top_ok, N);
    stele_session_free(s);
    trace_close(&t);
}

/* The same picture as gray, RGB, RGBA and in padded rows: the same answer and glimpses. */
static void pixel_formats(const stele_model *m)
{
    enum { W = 84, H = 84 };
    static uint8_t gray[H * W], rgb[H * W * 3], rgba[H * W * 4], padded[H * (W + 13)];
    for (int i = 0; i < H * W; i++) {
        gray[i] = (uint8_t)((i * 7 + (i / W) * 13) % 256);
        for (int k = 0; k < 3; k++)
            rgb[3 * i + k] = rgba[4 * i + k] = gray[i];
        rgba[4 * i + 3] = (uint8_t)(i % 256);   /* alpha: ignored */
        padded[(i / W) * (W + 13) + i % W] = gray[i];
    }
    stele_session *s = NULL;
    stele_error err;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("formats: session: %s", err.message);
        return;
    }
    const int S = m->grid_h * m->grid_w, G = m->vqa.G;
    float *ref = malloc(sizeof(float) * (size_t)G * S);
    int ref_answer = -1, ok = ref != NULL;
    const struct {
        const uint8_t *px;
        int channels, stride;
        const char *what;
    } in[] = {{gray, 1, 0, "gray"}, {rgb, 3, 0, "RGB"}, {rgba, 4, 0, "RGBA"},
              {rgba, 4, W * 4, "RGBA stride"}, {padded, 1, W + 13, "gray stride"}};
    for (size_t k = 0; ok && k < sizeof in / sizeof *in; k++) {
        const stele_answer_result *r;
        if (stele_answer(s, in[k].px, W, H, in[k].channels, in[k].stride, "where is the bag?", -1,
                         &r, &err) != STELE_OK) {
            FAILF("formats: %s: %s", in[k].what, err.message);
            ok = 0;
        } else if (k == 0) {
            ref_answer = r->answer;
            memcpy(ref, r->glimpses, sizeof(float) * (size_t)G * S);
        } else if (r->answer != ref_answer ||
                   memcmp(ref, r->glimpses, sizeof(float) * (size_t)G * S) != 0) {
            FAILF("formats: %s gives another answer or other glimpses than gray", in[k].what);
            ok = 0;
        }
    }
    printf("%s pixel formats: gray, RGB, RGBA, strides give the same answer and glimpses\n",
           ok ? "ok  " : "FAIL");
    free(ref);
    stele_session_free(s);
}

static void expect(stele_status got, stele_status want, const stele_error *err, const char *what,
                   const char *needle)
{
    int ok = got == want && (!needle || strstr(err->message, needle));
    printf("%s %-44s %s: %s\n", ok ? "ok  " : "FAIL", what, stele_status_name(got),
           got == STELE_OK ? "" : err->message);
    g_failures += !ok;
}

static void bad_inputs(const stele_model *m)
{
    enum { W = 84, H = 84 };
    static uint8_t px[H * W * 4];
    stele_session *s = NULL;
    stele_error err = {STELE_OK, ""};
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("bad inputs: session: %s", err.message);
        return;
    }
    const stele_answer_result *r = (const stele_answer_result *)&err;   /* NULL after a failure */
    const char *qq = "is there a bag?";
    expect(stele_answer(s, px, 83, H, 1, 0, qq, -1, &r, &err), STELE_ERR_ARGUMENT, &err,
           "width 83", "stele_answer: the image is 83x84");
    expect(r == NULL ? STELE_ERR_ARGUMENT : STELE_OK, STELE_ERR_ARGUMENT, &err,
           "  (result NULL after an error)", NULL);
    expect(stele_answer(s, px, W, 0, 1, 0, qq, -1, &r, &err), STELE_ERR_ARGUMENT, &err,
           "height 0", "84x0");
    expect(stele_answer(s, NULL, W, H, 1, 0, qq, -1, &r, &err), STELE_ERR_ARGUMENT, &err,
           "NULL pixels", "stele_answer: NULL pixels");
    expect(stele_answer(s, px, W, H, 2, 0, qq, -1, &r, &err), STELE_ERR_ARGUMENT, &err,
           "channels 2", "channels 2");
    expect(stele_answer(s, px, W, H, 3, W * 3 - 1, qq, -1, &r, &err), STELE_ERR_ARGUMENT, &err,
           "stride below width x channels", "stride 251");
    expect(stele_answer(NULL, px, W, H, 1, 0, qq, -1, &r, &err), STELE_ERR_ARGUMENT, &err,
           "NULL session", "NULL session");
    expect(stele_answer(s, px, W, H, 1, 0, qq, -1, NULL, &err), STELE_ERR_ARGUMENT, &err,
           "NULL out", "NULL out");
    expect(stele_answer(s, px, W, H, 1, 0, NULL, -1, &r, &err), STELE_ERR_ARGUMENT, &err,
           "NULL question", "NULL question");
    expect(stele_answer(s, px, W, H, 1, 0, "", -1, &r, &err), STELE_ERR_ARGUMENT, &err,
           "empty question", "empty question");
    expect(stele_answer(s, px, W, H, 1, 0, " \t\n\r\v\f ", -1, &r, &err), STELE_ERR_ARGUMENT,
           &err, "blank question (ASCII white space)", "empty question");
    expect(stele_answer(s, px, W, H, 1, 0, qq, 0, &r, &err), STELE_ERR_ARGUMENT, &err,
           "len 0", "empty question");
    expect(stele_answer(s, px, W, H, 1, 0, "is there\xff?", -1, &r, &err), STELE_ERR_TEXT, &err,
           "invalid UTF-8", "invalid UTF-8 at byte 8");
    expect(stele_answer(s, px, W, H, 1, 0, "is\0there", 8, &r, &err), STELE_ERR_TEXT, &err,
           "NUL byte", "NUL byte at byte 2");
    expect(stele_answer(s, px, W, H, 1, 0, "?", -1, &r, &err), STELE_OK, &err,
           "\"?\" alone (a word)", NULL);
    expect(stele_answer(s, px, W, H, 4, 0, qq, 5, &r, &err), STELE_OK, &err,
           "RGBA, len 5 (\"is th\")", NULL);
    if (r && r->n_question != 2)
        FAILF("len 5: %d words, expected 2", r->n_question);
    stele_params p = stele_default_params();
    const stele_result *tr = NULL;
    expect(stele_translate(s, "a bag", -1, &p, &tr, &err), STELE_ERR_ARGUMENT, &err,
           "translate on a vqa model", "task is vqa, not translate (use stele_answer)");
    int32_t ids[2] = {4, 5};
    expect(stele_translate_ids(s, ids, 2, &p, &tr, &err), STELE_ERR_ARGUMENT, &err,
           "translate_ids on a vqa model", "task is vqa");
    expect(stele_caption(s, px, W, H, 1, 0, &p, &tr, &err), STELE_ERR_ARGUMENT, &err,
           "caption on a vqa model", "task is vqa, not caption (use stele_answer)");
    stele_batch *b = NULL;
    expect(stele_batch_create(m, NULL, 4, &b, &err), STELE_ERR_ARGUMENT, &err,
           "batch of a vqa model", "task is vqa");
    stele_batch_free(b);
    stele_session_free(s);
    /* limits: words and bytes */
    stele_limits lim = stele_default_limits();
    lim.max_source_tokens = 4;
    lim.max_text_bytes = 30;
    if (stele_session_create(m, &lim, &s, &err) == STELE_OK) {
        expect(stele_answer(s, px, W, H, 1, 0, "is there a bag", -1, &r, &err), STELE_OK, &err,
               "4 words, limit 4", NULL);
        expect(stele_answer(s, px, W, H, 1, 0, "is there a bag?", -1, &r, &err), STELE_ERR_LIMIT,
               &err, "5 words, limit 4", "the question has 5 words, the session's limit is 4");
        expect(stele_answer(s, px, W, H, 1, 0, "is                             bag", -1, &r,
                            &err), STELE_ERR_LIMIT, &err, "34 bytes, limit 30",
               "34 bytes, the session's limit is 30 (max_text_bytes)");
        stele_session_free(s);
    } else {
        FAILF("limits session: %s", err.message);
    }
    /* the model's answers and task */
    const int na = stele_model_answer_count(m);
    if (strcmp(stele_model_task(m), "vqa") != 0 || na != m->vqa.Na || !stele_model_answer(m, 0) ||
        stele_model_answer(m, na) || stele_model_answer(m, -1) ||
        strcmp(stele_model_piece(m, 1), "<unk>") != 0)
        FAILF("vqa model: task %s, %d answers, answer(0) %s, answer(%d) %s", stele_model_task(m),
              na, stele_model_answer(m, 0), na, stele_model_answer(m, na));
    /* stele_answer on the other tasks */
    const char *other[] = {"tests/golden/tiny/caption-tiny.safetensors",
                           "tests/golden/tiny/lstm-additive-bahdanau.safetensors"};
    const char *task[] = {"task is caption, not vqa (use stele_caption)",
                          "task is translate, not vqa (use stele_translate)"};
    for (int k = 0; k < 2; k++) {
        stele_model *om = NULL;
        if (stele_model_load_file(other[k], &om, &err) != STELE_OK) {
            FAILF("%s: %s", other[k], err.message);
            continue;
        }
        if (stele_model_answer_count(om) != 0 || stele_model_answer(om, 0))
            FAILF("%s: answers on a non-vqa model", other[k]);
        if (stele_session_create(om, NULL, &s, &err) == STELE_OK) {
            expect(stele_answer(s, px, W, H, 1, 0, qq, -1, &r, &err), STELE_ERR_ARGUMENT, &err,
                   k ? "answer on a text model" : "answer on a caption model", task[k]);
            stele_session_free(s);
        }
        stele_model_free(om);
    }
}

/* The question's words: the reference's rule (scripts/words.py question_words). */
static void question_words(const stele_model *m)
{
    stele_session *s = NULL;
    stele_error err;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK)
        return;
    static const struct {
        const char *text;
        int n;
    } cases[] = {{"what,is ,the\ttop?", 7}, {"a\vb\fc", 3}, {"Where is the BAG?", 5},
                 {"\xc3\x89lan?", 2}, {"what\xc2\xa0is", 1}};
    int ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (vqa_question(s->vqa, m, cases[i].text, strlen(cases[i].text), &err) != STELE_OK ||
            s->vqa->n != cases[i].n) {
            FAILF("question \"%s\": %d words, expected %d", cases[i].text, s->vqa->n, cases[i].n);
            ok = 0;
        }
    /* upper-case ASCII reads as lower case; other letters as they are */
    int32_t a[8], b[8];
    int na = 0;
    if (vqa_question(s->vqa, m, "where is the bag", 16, &err) == STELE_OK) {
        na = s->vqa->n;
        memcpy(a, s->vqa->ids, sizeof(int32_t) * (size_t)na);
    }
    if (vqa_question(s->vqa, m, "WHERE Is THE bAg", 16, &err) != STELE_OK || s->vqa->n != na ||
        memcmp(a, s->vqa->ids, sizeof(int32_t) * (size_t)na) != 0 || na != 4) {
        FAILF("question: upper case reads differently");
        ok = 0;
    }
    memcpy(b, a, sizeof b);
    for (int j = 0; j < na; j++)
        if (b[j] == m->unk_id) {
            FAILF("question: \"%s\" is not in the tiny vocabulary", j == 3 ? "bag" : "where");
            ok = 0;
        }
    printf("%s question words: , ? split, ASCII white space (\\v \\f too), ASCII case only\n",
           ok ? "ok  " : "FAIL");
    stele_session_free(s);
}

/* Random questions (words of the vocabulary, unknown words, punctuation, white space, random
 * bytes) about random images: each call answers or fails with TEXT (invalid UTF-8, NUL) or
 * ARGUMENT (no words), never anything else; an answer's probabilities and each glimpse sum to 1,
 * top[] is sorted, and the same call twice gives the same bits. */
static void property(const stele_model *m)
{
    enum { W = 84, H = 84, ROUNDS = 300 };
    static uint8_t px[H * W * 3];
    static const char *const pieces[] = {"what", "is", "the", "bag", "?", ",", "Where", "ZEBRA",
                                         " ", "\t", "\v", "\xc3\x89", "\xff", "", "top left"};
    stele_session *s = NULL;
    stele_error err;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("property: session: %s", err.message);
        return;
    }
    const int S = m->grid_h * m->grid_w, G = m->vqa.G, Na = m->vqa.Na;
    uint32_t seed = 12345;
    int answered = 0, text = 0, empty = 0, bad = 0;
    float *probs = malloc(sizeof(float) * (size_t)Na), *maps = malloc(sizeof(float) * (size_t)G * S);
    for (int round = 0; round < ROUNDS && probs && maps; round++) {
        char q[256];
        size_t len = 0;
        seed = seed * 1664525u + 1013904223u;
        const int channels = 1 + 2 * (int)(seed >> 30 & 1);   /* 1 or 3 */
        for (size_t i = 0; i < sizeof px; i++) {
            seed = seed * 1664525u + 1013904223u;
            px[i] = (uint8_t)(seed >> 24);
        }
        seed = seed * 1664525u + 1013904223u;
        for (int k = (int)(seed >> 28); k > 0; k--) {
            seed = seed * 1664525u + 1013904223u;
            const char *p = pieces[(seed >> 16) % (sizeof pieces / sizeof *pieces)];
            size_t n = strlen(p);
            if ((seed >> 8 & 3) == 0 && len < sizeof q)   /* a NUL inside, now and then */
                q[len++] = (seed >> 10 & 7) == 0 ? 0 : ' ';
            if (len + n < sizeof q) {
                memcpy(q + len, p, n);
                len += n;
            }
        }
        const stele_answer_result *r;
        stele_status st = stele_answer(s, px, W, H, channels, 0, q, (ptrdiff_t)len, &r, &err);
        if (st == STELE_OK) {
            answered++;
            double sum = 0.0;
            for (int a = 0; a < Na; a++)
                sum += r->probs[a];
            int ok = fabs(sum - 1.0) < 1e-4 && r->top[0] == r->answer && r->n_question > 0;
            for (int j = 1; j < r->n_top; j++)
                ok = ok && r->top_prob[j] <= r->top_prob[j - 1];
            for (int g = 0; g < G; g++) {
                double gs = 0.0;
                for (int l = 0; l < S; l++)
                    gs += r->glimpses[(size_t)g * S + l];
                ok = ok && fabs(gs - 1.0) < 1e-4;
            }
            memcpy(probs, r->probs, sizeof(float) * (size_t)Na);
            memcpy(maps, r->glimpses, sizeof(float) * (size_t)G * S);
            ok = ok && stele_answer(s, px, W, H, channels, 0, q, (ptrdiff_t)len, &r, &err) ==
                           STELE_OK &&
                 memcmp(probs, r->probs, sizeof(float) * (size_t)Na) == 0 &&
                 memcmp(maps, r->glimpses, sizeof(float) * (size_t)G * S) == 0;
            if (!ok) {
                FAILF("property round %d: an answer breaks an invariant (sums, order, repeat)",
                      round);
                bad++;
            }
        } else if (st == STELE_ERR_TEXT) {
            text++;
        } else if (st == STELE_ERR_ARGUMENT && strstr(err.message, "empty question")) {
            empty++;
        } else {
            FAILF("property round %d: %s %s", round, stele_status_name(st), err.message);
            bad++;
        }
    }
    printf("%s property: %d random questions about random images: %d answered, %d TEXT, %d "
           "empty\n", bad ? "FAIL" : "ok  ", ROUNDS, answered, text, empty);
    free(probs);
    free(maps);
    stele_session_free(s);
}

/* The shipped model on every question of its golden trace (scripts/golden_vqa.py "shipped":
 * images, scene, question_ids, question_n, glimpses, probs, answer; the texts in the metadata
 * "questions"). A scene's CNN runs once for its questions (the stages of stele_answer, as in
 * tiny_parity); every 16th question also goes through stele_answer itself, which must give the
 * same result bit for bit. An answer may differ only where the reference's two best
 * probabilities are within TOL (a tie in float noise). */
static void shipped(int limit)
{
    const char *root = getenv("STELE_SHIPPED_ROOT");
    char mp[1024], tp[1024];
    snprintf(mp, sizeof mp, "%s/models/scenes-vqa/model.safetensors", root ? root : ".");
    snprintf(tp, sizeof tp, "%s/tests/golden/scenes-vqa.trace.safetensors", root ? root : ".");
    if (!file_exists(tp)) {
        printf("SKIP scenes-vqa parity: %s is absent (not generated yet)\n", tp);
        return;
    }
    stele_model *m = NULL;
    stele_error err;
    if (stele_model_load_file(mp, &m, &err) != STELE_OK) {
        FAILF("%s: %s", mp, err.message);
        return;
    }
    trace_file t;
    if (!trace_open(&t, tp)) {
        stele_model_free(m);
        return;
    }
    stele_session *s = NULL;
    const st_tensor *images = need(t.st, "images", tp), *scene = need(t.st, "scene", tp);
    const st_tensor *qids = need(t.st, "question_ids", tp), *qn = need(t.st, "question_n", tp);
    const st_tensor *answer = need(t.st, "answer", tp), *probs = need(t.st, "probs", tp);
    const st_tensor *glimpses = need(t.st, "glimpses", tp);
    const char *qtext = st_meta(t.st, "questions");
    json_value *qs = qtext ? json_parse(qtext, strlen(qtext), NULL, 0) : NULL;
    if (!images || !scene || !qids || !qn || !answer || !probs || !glimpses || !qs ||
        json_count(qs) != (size_t)answer->shape[0] ||
        stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("scenes-vqa: trace tensors, its questions or the session missing");
        json_free(qs);
        trace_close(&t);
        stele_model_free(m);
        return;
    }
    const int N = (int)answer->shape[0], Hi = (int)images->shape[1], Wi = (int)images->shape[2];
    const int S = m->grid_h * m->grid_w, G = m->vqa.G, Na = m->vqa.Na, QI = (int)qids->shape[1];
    vqa_work *w = s->vqa;
    int n = 0, same = 0, ties = 0, ids_ok = 0, public_ok = 0, publics = 0, last = -1;
    double worst_p = 0.0, worst_a = 0.0, seconds = 0.0;
    for (int i = 0; i < N && (limit <= 0 || i < limit); i++, n++) {
        const int sc = ti32(scene, (size_t)i);
        const uint8_t *px = images->data + (size_t)sc * Hi * Wi;
        const json_value *q = json_at(qs, (size_t)i);
        const char *text = json_string(q);
        const size_t len = json_string_len(q);
        if (!text || vqa_question(w, m, text, len, &err) != STELE_OK) {
            FAILF("scenes-vqa question %d: %s", i, text ? err.message : "not a string");
            continue;
        }
        if (w->n == ti32(qn, (size_t)i) && same_ids(w->ids, qids, (size_t)i * QI, w->n))
            ids_ok++;
        else
            FAILF("scenes-vqa question %d \"%s\": other word ids than the reference's", i, text);
        if (sc != last)
            vqa_image(w, m, px, 1, 0);
        last = sc;
        vqa_forward(w, m);
        const stele_answer_result *r = &w->result;
        const int want = ti32(answer, (size_t)i);
        /* the reference's gap between its two best probabilities */
        float p1 = -1.0f, p2 = -1.0f;
        for (int k = 0; k < Na; k++) {
            float p = tf32(probs, (size_t)i * Na + k);
            if (p > p1) {
                p2 = p1;
                p1 = p;
            } else if (p > p2) {
                p2 = p;
            }
        }
        if (r->answer == want)
            same++;
        else if (p1 - p2 < TOL)
            ties++;
        else
            FAILF("scenes-vqa question %d \"%s\": answer \"%s\", the reference's \"%s\"", i,
                  text, r->text, stele_model_answer(m, want));
        double dp = diff_f32(r->probs, probs, (size_t)i * Na, (size_t)Na);
        double da = diff_f32(r->glimpses, glimpses, (size_t)i * G * S, (size_t)G * S);
        worst_p = dp > worst_p ? dp : worst_p;
        worst_a = da > worst_a ? da : worst_a;
        if (!(dp <= TOL) || !(da <= TOL))
            FAILF("scenes-vqa question %d: probs max abs diff %.3g, glimpses %.3g (> %g)", i, dp,
                  da, TOL);
        if (i % 16 == 0) {   /* the public call: the same numbers */
            static float keep_p[4096], keep_a[4 * 65536];
            if (Na > 4096 || G * S > 4 * 65536)
                continue;
            memcpy(keep_p, r->probs, sizeof(float) * (size_t)Na);
            memcpy(keep_a, r->glimpses, sizeof(float) * (size_t)G * S);
            const stele_answer_result *r2;
            publics++;
            const double t0 = stele_now();
            const stele_status st = stele_answer(s, px, Wi, Hi, 1, 0, text, (ptrdiff_t)len, &r2,
                                                 &err);
            seconds += stele_now() - t0;
            if (st != STELE_OK)
                FAILF("scenes-vqa question %d: stele_answer: %s", i, err.message);
            else if (memcmp(keep_p, r2->probs, sizeof(float) * (size_t)Na) != 0 ||
                     memcmp(keep_a, r2->glimpses, sizeof(float) * (size_t)G * S) != 0)
                FAILF("scenes-vqa question %d: stele_answer differs from its stages", i);
            else
                public_ok++;
        }
    }
    printf("scenes-vqa (%s): %d/%d questions; question ids identical %d; answers identical %d "
           "(+%d ties within %g); max abs diff probs %.2g, glimpses %.2g; stele_answer = "
           "stages %d/%d (%.2f ms per stele_answer: CNN + question + glimpses + classifier)\n",
           stele_kernels_name(), n, N, ids_ok, same, ties, TOL, worst_p, worst_a, public_ok,
           publics, publics ? 1e3 * seconds / publics : 0.0);
    json_free(qs);
    stele_session_free(s);
    trace_close(&t);
    stele_model_free(m);
}

/* The position is added AFTER the l2 norm: the two tiny models share every weight but
 * memory_position.weight, so on any image the position model's phi is the other's + P, bit for
 * bit (one float addition per element), and the position moves the glimpses. */
static void position_after_norm(const stele_model *m, const stele_model *nopos)
{
    enum { W = 84, H = 84 };
    static uint8_t px[H * W];
    for (int i = 0; i < H * W; i++)
        px[i] = (uint8_t)((i * 37 + (i / W) * 11) % 256);
    stele_session *a = NULL, *b = NULL;
    stele_error err;
    if (!m->vqa.position || nopos->vqa.position || m->position || nopos->position) {
        FAILF("position: vqa-tiny must bind memory_position.weight as vqa.position (and not as "
              "the caption models' position), vqa-tiny-nopos nothing");
        return;
    }
    if (stele_session_create(m, NULL, &a, &err) != STELE_OK ||
        stele_session_create(nopos, NULL, &b, &err) != STELE_OK) {
        FAILF("position: session: %s", err.message);
        stele_session_free(a);
        return;
    }
    vqa_image(a->vqa, m, px, 1, 0);
    vqa_image(b->vqa, nopos, px, 1, 0);
    const size_t n = (size_t)m->grid_h * m->grid_w * m->D;
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += a->vqa->phi[i] == b->vqa->phi[i] + m->vqa.position[i];
    const stele_answer_result *ra, *rb;
    double moved = 0.0;
    if (stele_answer(a, px, W, H, 1, 0, "where is the bag?", -1, &ra, &err) == STELE_OK &&
        stele_answer(b, px, W, H, 1, 0, "where is the bag?", -1, &rb, &err) == STELE_OK) {
        for (int i = 0; i < m->vqa.G * m->grid_h * m->grid_w; i++)
            moved = fmax(moved, fabs((double)ra->glimpses[i] - rb->glimpses[i]));
    } else {
        FAILF("position: stele_answer: %s", err.message);
    }
    const int ok = same == n && moved > 1e-3;
    if (!ok)
        FAILF("position: phi = l2norm(cnn) + P in %zu/%zu elements; glimpses moved by %.3g",
              same, n, moved);
    printf("%s position after the l2 norm: phi(vqa-tiny) = phi(vqa-tiny-nopos) + P in %zu/%zu "
           "elements; the glimpses move by up to %.3g\n", ok ? "ok  " : "FAIL", same, n, moved);
    stele_session_free(a);
    stele_session_free(b);
}

int main(int argc, char **argv)
{
    stele_model *m = NULL, *nopos = NULL;
    stele_error err;
    const char *mp = "tests/golden/tiny/vqa-tiny.safetensors";
    const char *np = "tests/golden/tiny/vqa-tiny-nopos.safetensors";
    if (stele_model_load_file(mp, &m, &err) != STELE_OK) {
        printf("FAIL %s: %s: %s\n", mp, stele_status_name(err.status), err.message);
        return 1;
    }
    if (stele_model_load_file(np, &nopos, &err) != STELE_OK) {
        printf("FAIL %s: %s: %s\n", np, stele_status_name(err.status), err.message);
        stele_model_free(m);
        return 1;
    }
    tiny_parity(m, "vqa-tiny", "tests/golden/tiny/vqa-tiny.trace.safetensors");
    tiny_parity(nopos, "vqa-tiny-nopos", "tests/golden/tiny/vqa-tiny-nopos.trace.safetensors");
    position_after_norm(m, nopos);
    stele_model_free(nopos);
    /* a CNN block without the max-pool (encoder.pool false): the same grid, one more conv */
    const char *dp = "tests/golden/tiny/vqa-tiny-deep.safetensors";
    stele_model *deep = NULL;
    if (stele_model_load_file(dp, &deep, &err) != STELE_OK) {
        FAILF("%s: %s: %s", dp, stele_status_name(err.status), err.message);
    } else {
        tiny_parity(deep, "vqa-tiny-deep", "tests/golden/tiny/vqa-tiny-deep.trace.safetensors");
        stele_model_free(deep);
    }
    pixel_formats(m);
    bad_inputs(m);
    question_words(m);
    property(m);
    stele_model_free(m);
    shipped(shipped_limit(argc, argv, 0));
    printf("vqa: %s\n", g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
