/* Image captioning (stele_caption) against the PyTorch reference, with the kernel set chosen by
 * STELE_KERNELS (src/engine.mk runs it once per set):
 *   - the tiny random caption model (tests/golden/tiny/caption-tiny.*, scripts/golden_caption.py):
 *     per component (CNN memory, bridge, then per teacher-forced greedy step the gate, h, c,
 *     attention, o, logits), then stele_caption's greedy tokens (exactly), attention and score,
 *     and the beam n-best lists (exactly) and scores; all floats within 1e-4;
 *   - the same image as gray, RGB, RGBA and with a row stride gives the same caption;
 *   - bad input: wrong size, NULL, channels 2, short or huge stride, huge width, a text model,
 *     translate on a caption model, a batch of a caption model;
 *   - the word vocabulary: detokenisation and the word encoder;
 *   - the shipped model (models/scenes-caption) on every scene of its golden trace
 *     (tests/golden/scenes-caption.trace.safetensors): the same greedy and beam tokens and the
 *     attention within 1e-4. Skipped, saying so, only when that trace file is absent.
 * STELE_SHIPPED_LIMIT=N checks only the first N scenes of the shipped trace (sanitizers, wasm);
 * STELE_SHIPPED_ROOT=DIR reads DIR/models and DIR/tests/golden instead of ./ (as test_shipped). */
#include "golden.h"
#include "../../src/conv.h"
#include "../../src/words.h"

static const st_tensor *need(st_file *st, const char *name, const char *path)
{
    const st_tensor *t = st_find(st, name);
    if (!t)
        FAILF("%s: tensor %s is missing", path, name);
    return t;
}

static double worst_memory, worst_init, worst_gate, worst_h, worst_c, worst_o, worst_attn,
    worst_logits, worst_res_attn, worst_score;

static void note_diff(double *worst, double d, const char *what, int i, int t)
{
    if (!(d <= *worst))
        *worst = d;
    if (!(d <= TOL))
        FAILF("caption-tiny image %d step %d: %s max abs diff %.3g > %g", i, t, what, d, TOL);
}

/* Tokens row [len] of a -1 padded I32 tensor at offset off equal the hypothesis' tokens? */
static int same_tokens(const stele_hypothesis *h, const st_tensor *ref, size_t off, int len)
{
    if (h->n_tokens != len)
        return 0;
    for (int j = 0; j < len; j++)
        if (h->tokens[j] != ti32(ref, off + (size_t)j))
            return 0;
    return 1;
}

static void tiny_parity(const stele_model *m)
{
    const char *path = "tests/golden/tiny/caption-tiny.trace.safetensors";
    trace_file t;
    if (!trace_open(&t, path))
        return;
    stele_params p = trace_params(&t);
    stele_session *s = NULL;
    stele_error err;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("caption-tiny: session: %s", err.message);
        trace_close(&t);
        return;
    }
    const st_tensor *images = need(t.st, "images", path), *memory = need(t.st, "memory", path);
    const st_tensor *init_h = need(t.st, "init_h", path), *init_c = need(t.st, "init_c", path);
    const st_tensor *greedy = need(t.st, "greedy", path), *glen = need(t.st, "greedy_len", path);
    const st_tensor *gscore = need(t.st, "greedy_score", path), *attn = need(t.st, "attn", path);
    const st_tensor *gate = need(t.st, "gate", path), *th = need(t.st, "h", path);
    const st_tensor *tc = need(t.st, "c", path), *to = need(t.st, "o", path);
    const st_tensor *tl = need(t.st, "logits", path), *beam = need(t.st, "beam", path);
    const st_tensor *blen = need(t.st, "beam_len", path), *bscore = need(t.st, "beam_score", path);
    if (g_failures) {
        stele_session_free(s);
        trace_close(&t);
        return;
    }
    const int N = (int)images->shape[0], Hi = (int)images->shape[1], Wi = (int)images->shape[2];
    const int S = m->grid_h * m->grid_w, D = m->D, Hd = m->Hd, Ld = m->Ld, O = m->O, V = m->V;
    const int T = (int)greedy->shape[1], NB = (int)beam->shape[1], TB = (int)beam->shape[2];
    int greedy_ok = 0, beam_ok = 0, steps = 0;
    if ((int)memory->shape[1] != S || (int)memory->shape[2] != D)
        FAILF("caption-tiny: the trace's memory is [%lld, %lld], the model's grid gives [%d, %d]",
              (long long)memory->shape[1], (long long)memory->shape[2], S, D);
    for (int i = 0; i < N && !g_failures; i++) {
        const uint8_t *px = images->data + (size_t)i * Hi * Wi;
        /* components: the CNN and the bridge */
        cnn_load_image(s->enc_scratch, m, px, 1, 0);
        s->S = S;
        session_encode(s);
        note_diff(&worst_memory, diff_f32(s->memory, memory, (size_t)i * S * D, (size_t)S * D),
                  "memory", i, -1);
        for (int l = 0; l < Ld; l++) {
            const size_t off = ((size_t)i * Ld + l) * Hd;
            note_diff(&worst_init, diff_f32(s->st[0].h + (size_t)l * s->K * Hd, init_h, off,
                                            (size_t)Hd), "init_h", i, -1);
            note_diff(&worst_init, diff_f32(s->st[0].c + (size_t)l * s->K * Hd, init_c, off,
                                            (size_t)Hd), "init_c", i, -1);
        }
        /* teacher-forced greedy steps */
        const int len = ti32(glen, (size_t)i);
        for (int step = 0; step < len; step++) {
            s->y[0] = step ? ti32(greedy, (size_t)i * T + step - 1) : m->bos_id;
            decoder_step(s->logits, s->attn_run, &s->st[0], &s->w, m, &s->mem, s->y, 1);
            const size_t at = (size_t)i * T + step;
            float beta = 1.0f / (1.0f + expf(-s->w.gate[0]));
            note_diff(&worst_gate, fabs((double)beta - tf32(gate, at)), "gate", i, step);
            for (int l = 0; l < Ld; l++) {
                note_diff(&worst_h, diff_f32(s->st[0].h + (size_t)l * s->K * Hd, th,
                                             (at * Ld + l) * Hd, (size_t)Hd), "h", i, step);
                note_diff(&worst_c, diff_f32(s->st[0].c + (size_t)l * s->K * Hd, tc,
                                             (at * Ld + l) * Hd, (size_t)Hd), "c", i, step);
            }
            note_diff(&worst_attn, diff_f32(s->attn_run, attn, at * S, (size_t)S), "attention", i,
                      step);
            note_diff(&worst_o, diff_f32(s->w.o, to, at * O, (size_t)O), "o", i, step);
            note_diff(&worst_logits, diff_f32(s->logits, tl, at * V, (size_t)V), "logits", i, step);
            steps++;
        }
        /* stele_caption: greedy */
        stele_params g = p;
        g.beam_size = g.nbest = 1;
        const stele_result *r;
        if (stele_caption(s, px, Wi, Hi, 1, 0, &g, &r, &err) != STELE_OK) {
            FAILF("caption-tiny image %d greedy: %s", i, err.message);
            continue;
        }
        if (!same_tokens(&r->hyps[0], greedy, (size_t)i * T, len))
            FAILF("caption-tiny image %d: greedy tokens differ (C %d tokens, reference %d)", i,
                  r->hyps[0].n_tokens, len);
        else
            greedy_ok++;
        if (r->n_source != S || r->grid_height != m->grid_h || r->grid_width != m->grid_w ||
            r->source_tokens || !r->attention)
            FAILF("caption-tiny image %d: result n_source %d grid %dx%d (expected %d, %dx%d)", i,
                  r->n_source, r->grid_height, r->grid_width, S, m->grid_h, m->grid_w);
        else
            for (int step = 0; step < r->hyps[0].n_tokens && step < len; step++)
                note_diff(&worst_res_attn, diff_f32(r->attention + (size_t)step * S, attn,
                                                    ((size_t)i * T + step) * S, (size_t)S),
                          "result attention", i, step);
        note_diff(&worst_score, fabs(r->hyps[0].score - tf64(gscore, (size_t)i)), "greedy score",
                  i, -1);
        /* the text: the words of the tokens, pad/bos/eos left out */
        char want[512] = "";
        for (int j = 0; j < r->hyps[0].n_tokens; j++) {
            int32_t id = r->hyps[0].tokens[j];
            if (id == m->eos_id || id == m->bos_id || id == m->pad_id)
                continue;
            const char *w = stele_model_piece(m, id);
            if (*want && strcmp(w, ",") != 0 && strcmp(w, "?") != 0)
                strncat(want, " ", sizeof want - strlen(want) - 1);
            strncat(want, w, sizeof want - strlen(want) - 1);
        }
        if (strcmp(r->hyps[0].text, want) != 0)
            FAILF("caption-tiny image %d: text \"%s\", expected \"%s\"", i, r->hyps[0].text, want);
        /* beam n-best */
        if (stele_caption(s, px, Wi, Hi, 1, 0, &p, &r, &err) != STELE_OK) {
            FAILF("caption-tiny image %d beam: %s", i, err.message);
            continue;
        }
        int nb = 0;
        while (nb < NB && ti32(blen, (size_t)i * NB + nb) > 0)
            nb++;
        int same = r->n_hyps == nb;
        for (int k = 0; same && k < nb; k++) {
            same = same_tokens(&r->hyps[k], beam, ((size_t)i * NB + k) * TB,
                               ti32(blen, (size_t)i * NB + k));
            if (same)
                note_diff(&worst_score, fabs(r->hyps[k].score - tf64(bscore, (size_t)i * NB + k)),
                          "beam score", i, k);
        }
        if (!same)
            FAILF("caption-tiny image %d: beam n-best differs (C %d hyps, reference %d)", i,
                  r->n_hyps, nb);
        else
            beam_ok++;
    }
    printf("caption-tiny (%s): %d images, %d steps; max abs diff memory %.2g, init %.2g, "
           "gate %.2g, h %.2g, c %.2g, o %.2g, attention %.2g (result %.2g), logits %.2g, "
           "scores %.2g; greedy identical %d/%d, beam n-best lists identical %d/%d\n",
           stele_kernels_name(), N, steps, worst_memory, worst_init, worst_gate, worst_h, worst_c,
           worst_o, worst_attn, worst_res_attn, worst_logits, worst_score, greedy_ok, N, beam_ok,
           N);
    stele_session_free(s);
    trace_close(&t);
}

/* The same picture as gray, RGB, RGBA, in rows with padding bytes: the same caption and
 * attention (R = G = B = p converts back to p exactly). */
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
    const stele_result *r;
    stele_params p = stele_default_params();
    int32_t ref[64];
    float ref_attn[64];
    int n = 0, ok = 1;
    const struct {
        const uint8_t *px;
        int channels, stride;
        const char *what;
    } in[] = {{gray, 1, 0, "gray"}, {rgb, 3, 0, "RGB"}, {rgba, 4, 0, "RGBA"},
              {rgba, 4, W * 4, "RGBA stride"}, {padded, 1, W + 13, "gray stride"}};
    for (size_t k = 0; k < sizeof in / sizeof *in; k++) {
        if (stele_caption(s, in[k].px, W, H, in[k].channels, in[k].stride, &p, &r, &err) !=
            STELE_OK) {
            FAILF("formats: %s: %s", in[k].what, err.message);
            ok = 0;
            continue;
        }
        if (k == 0) {
            n = r->hyps[0].n_tokens < 64 ? r->hyps[0].n_tokens : 64;
            memcpy(ref, r->hyps[0].tokens, sizeof(int32_t) * (size_t)n);
            for (int j = 0; j < n && j < 64; j++)
                ref_attn[j] = r->attention[(size_t)j * r->n_source];
        } else if (first_diff(r->hyps[0].tokens, r->hyps[0].n_tokens, ref, n) >= 0) {
            FAILF("formats: %s gives other tokens than gray", in[k].what);
            ok = 0;
        } else {
            for (int j = 0; j < n; j++)
                if (r->attention[(size_t)j * r->n_source] != ref_attn[j]) {
                    FAILF("formats: %s gives other attention than gray", in[k].what);
                    ok = 0;
                    break;
                }
        }
    }
    /* RGB -> gray: PIL's luma, (19595 R + 38470 G + 7471 B + 2^15) >> 16, then the model's
       normalisation, seen in the CNN input */
    static const uint8_t px3[3] = {200, 100, 50};
    static uint8_t one[H * W * 3];
    for (int i = 0; i < H * W; i++)
        memcpy(one + 3 * i, px3, 3);
    cnn_load_image(s->enc_scratch, m, one, 3, 0);
    unsigned luma = (19595u * 200 + 38470u * 100 + 7471u * 50 + 32768u) >> 16;
    float want = ((float)luma / 255.0f - m->image.mean) / m->image.std;
    float got = s->enc_scratch[(W + 2) + 1];   /* pixel (0, 0) inside the border */
    if (got != want || s->enc_scratch[0] != 0.0f) {
        FAILF("formats: RGB (200, 100, 50) -> %g, expected luma %u -> %g (border %g)", got, luma,
              want, s->enc_scratch[0]);
        ok = 0;
    }
    /* a model that reads RGB (image.channels 3): RGB and RGBA pixels as they are, gray ones
       copied into the three channels; the same model struct with 3 channels is enough here */
    struct stele_model rgb_model = *m;
    rgb_model.image.channels = 3;
    static float buf[(H + 2) * (W + 2) * 3];
    static const uint8_t px4[4] = {10, 20, 30, 99};
    static uint8_t four[H * W * 4];
    for (int i = 0; i < H * W; i++)
        memcpy(four + 4 * i, px4, 4);
    const struct {
        const uint8_t *px;
        int channels;
        uint8_t want[3];
    } rgb_in[] = {{one, 3, {200, 100, 50}}, {four, 4, {10, 20, 30}}, {gray, 1, {0, 0, 0}}};
    for (size_t k = 0; k < sizeof rgb_in / sizeof *rgb_in; k++) {
        cnn_load_image(buf, &rgb_model, rgb_in[k].px, rgb_in[k].channels, 0);
        const float *x = buf + ((size_t)(W + 2) + 1) * 3;   /* pixel (0, 0) */
        for (int c = 0; c < 3; c++) {
            uint8_t p8 = rgb_in[k].channels == 1 ? gray[0] : rgb_in[k].want[c];
            float e = ((float)p8 / 255.0f - m->image.mean) / m->image.std;
            if (x[c] != e || buf[c] != 0.0f) {
                FAILF("formats: RGB model, %d-channel input, channel %d: %g, expected %g",
                      rgb_in[k].channels, c, x[c], e);
                ok = 0;
            }
        }
    }
    printf("%s pixel formats: gray, RGB, RGBA, strides give the same caption; RGB->gray luma; "
           "an RGB model's input from RGB, RGBA, gray\n", ok ? "ok  " : "FAIL");
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
    static uint8_t px[(H + 1) * W * 4];
    stele_session *s = NULL;
    stele_error err = {STELE_OK, ""};
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("bad inputs: session: %s", err.message);
        return;
    }
    const stele_result *r = (const stele_result *)&err;   /* must be set to NULL on failure */
    stele_params p = stele_default_params();
    expect(stele_caption(s, px, 83, H, 1, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "width 83", "83x84");
    expect(r == NULL ? STELE_ERR_ARGUMENT : STELE_OK, STELE_ERR_ARGUMENT, &err,
           "  (result NULL after an error)", NULL);
    expect(stele_caption(s, px, W, 85, 1, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "height 85", "84x85");
    expect(stele_caption(s, px, 0, 0, 1, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "0x0", "0x0");
    expect(stele_caption(s, px, -84, H, 1, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "negative width", "-84x84");
    expect(stele_caption(s, px, 2147483647, 2147483647, 4, 0, &p, &r, &err),
           STELE_ERR_ARGUMENT, &err, "huge width and height", "2147483647x2147483647");
    expect(stele_caption(s, NULL, W, H, 1, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "NULL pixels", "NULL pixels");
    expect(stele_caption(s, px, W, H, 2, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "channels 2", "channels 2");
    expect(stele_caption(s, px, W, H, 0, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "channels 0", "channels 0");
    expect(stele_caption(s, px, W, H, 3, W * 3 - 1, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "stride below width x channels", "stride 251 is below width x channels = 252");
    expect(stele_caption(s, px, W, H, 1, -1, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "negative stride", "stride -1");
    if (sizeof(void *) < 8)   /* 64-bit: a legal stride, the caller's buffer must be that big */
        expect(stele_caption(s, px, W, H, 1, 2147483647, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
               "stride past the 32-bit address space", "address space");
    stele_params q = p;
    q.beam_size = 1000;
    expect(stele_caption(s, px, W, H, 1, 0, &q, &r, &err), STELE_ERR_LIMIT, &err,
           "beam 1000", "beam_size 1000");
    expect(stele_caption(NULL, px, W, H, 1, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "NULL session", "NULL session");
    expect(stele_caption(s, px, W, H, 1, 0, &p, NULL, &err), STELE_ERR_ARGUMENT, &err,
           "NULL out", "NULL out");
    expect(stele_caption(s, px, W, H, 4, 0, NULL, &r, &err), STELE_OK, &err,
           "RGBA, params NULL", NULL);
    expect(stele_translate(s, "a bag", -1, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "translate on a caption model", "task is caption");
    int32_t ids[2] = {4, 5};
    expect(stele_translate_ids(s, ids, 2, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
           "translate_ids on a caption model", "task is caption");
    stele_batch *b = NULL;
    expect(stele_batch_create(m, NULL, 4, &b, &err), STELE_ERR_ARGUMENT, &err,
           "batch of a caption model", "task is caption");
    stele_batch_free(b);
    stele_session_free(s);
    /* a text model */
    stele_model *tm = NULL;
    if (stele_model_load_file("tests/golden/tiny/lstm-additive-bahdanau.safetensors", &tm, &err) !=
        STELE_OK) {
        FAILF("text model: %s", err.message);
        return;
    }
    if (strcmp(stele_model_task(tm), "translate") != 0 || strcmp(stele_model_task(m), "caption"))
        FAILF("stele_model_task: %s / %s", stele_model_task(tm), stele_model_task(m));
    if (stele_session_create(tm, NULL, &s, &err) == STELE_OK) {
        expect(stele_caption(s, px, W, H, 1, 0, &p, &r, &err), STELE_ERR_ARGUMENT, &err,
               "caption on a text model", "task is translate");
        if (stele_translate(s, "abc", -1, &p, &r, &err) != STELE_OK || r->grid_height ||
            r->grid_width)
            FAILF("text model: translate after caption: %s, grid %dx%d", err.message,
                  r ? r->grid_height : -1, r ? r->grid_width : -1);
        stele_session_free(s);
    }
    stele_model_free(tm);
}

/* words.c on its own: the detokenisation rule and the encoder. */
static void word_vocab(void)
{
    static const char list[] = "<pad>\n<unk>\n<s>\n</s>\na\nbag\n,\n?\nis\nthere\nin";
    words *w = NULL;
    stele_error err;
    int ok = words_load((const uint8_t *)list, sizeof list - 1, &w, &err) == STELE_OK;
    char out[128];
    const int32_t ids[] = {2, 4, 5, 6, 4, 5, 7, 1, 3, 0};
    size_t n = ok ? words_decode(w, ids, 10, out, sizeof out) : 0;
    ok = ok && strcmp(out, "a bag, a bag? <unk>") == 0 && n == strlen(out);
    ok = ok && words_decode(w, ids, 10, out, 8) == n && strcmp(out, "a bag,") == 0;
    int32_t enc[16];
    size_t cnt = 0;
    ok = ok && words_encode(w, "  Is there A bag,in\tthe BAG?", 28, 1, enc, 16, &cnt, &err) ==
                   STELE_OK && cnt == 9;
    const int32_t want[] = {8, 9, 4, 5, 6, 10, 1, 5, 7};
    for (size_t i = 0; ok && i < 9; i++)
        ok = enc[i] == want[i];
    ok = ok && words_encode(w, "a a a", 5, 1, enc, 2, &cnt, &err) == STELE_ERR_LIMIT && cnt == 3;
    ok = ok && words_encode(w, "a\xff", 2, 1, enc, 2, &cnt, &err) == STELE_ERR_TEXT;
    words_free(w);
    static const struct {
        const char *list, *msg;
    } bad[] = {{"a\n\nb", "word 1 (line 2) is empty"}, {"a\nb c", "white space"},
               {"a\nb\na", "words 0 and 2 are both \"a\""}, {"a\n\xc3", "invalid UTF-8"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        w = NULL;
        stele_status st = words_load((const uint8_t *)bad[i].list, strlen(bad[i].list), &w, &err);
        if (st != STELE_ERR_TOKENIZER || !strstr(err.message, bad[i].msg) || w) {
            printf("FAIL words_load(\"%s\"): %s %s\n", bad[i].list, stele_status_name(st),
                   err.message);
            ok = 0;
        }
        words_free(w);
    }
    printf("%s word vocabulary: decode (no space before , ?), encode (lower case, , ? split)\n",
           ok ? "ok  " : "FAIL");
    g_failures += !ok;
}

/* The records of outputs.jsonl by scene index [N] (NULL where absent): the reference's texts
 * and, for the tie rule, its per-step gaps; the caller json_frees each and frees the array. */
static json_value **read_outputs(const char *path, int N)
{
    size_t size;
    char *text = (char *)read_file(path, &size);
    json_value **recs = text ? calloc((size_t)N, sizeof *recs) : NULL;
    json_value *rec;
    for (char *line = text, *end = text + size; recs && (rec = next_jsonl(&line, end));) {
        double iv = -1;
        if (json_number(json_get(rec, "i"), &iv) == 0 && iv >= 0 && iv < N && !recs[(int)iv])
            recs[(int)iv] = rec;
        else
            json_free(rec);
    }
    free(text);
    return recs;
}

/* A difference at step t (or in the beam's best) that the reference itself calls a tie: its two
 * best candidates within TOL (outputs.jsonl greedy_gaps[t] / beam_gap), as test_shipped. */
static int excused(const json_value *rec, const char *key, int t, double *gap)
{
    const json_value *g = json_get(rec, key);
    *gap = 1e9;
    if (t >= 0 && (size_t)t < json_count(g))
        json_number(json_at(g, (size_t)t), gap);
    else if (t < 0)
        json_number(g, gap);
    return fabs(*gap) <= TOL;
}

/* The shipped model on every scene of its golden trace. */
static void shipped(const char *root, int limit)
{
    char mp[1024], tp[1024];
    snprintf(mp, sizeof mp, "%s/models/scenes-caption/model.safetensors", root);
    snprintf(tp, sizeof tp, "%s/tests/golden/scenes-caption.trace.safetensors", root);
    if (!file_exists(tp)) {
        printf("SKIP scenes-caption parity: %s is absent (not generated yet)\n", tp);
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
    stele_params p = trace_params(&t);
    stele_session *s = NULL;
    const st_tensor *images = need(t.st, "images", tp), *greedy = need(t.st, "greedy", tp);
    const st_tensor *glen = need(t.st, "greedy_len", tp), *attn = need(t.st, "attn", tp);
    const st_tensor *beam = need(t.st, "beam", tp), *blen = need(t.st, "beam_len", tp);
    if (!images || !greedy || !glen || !attn || !beam || !blen ||
        stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("scenes-caption: trace tensors or session missing");
        trace_close(&t);
        stele_model_free(m);
        return;
    }
    const int N = (int)images->shape[0], Hi = (int)images->shape[1], Wi = (int)images->shape[2];
    const int T = (int)greedy->shape[1], TB = (int)beam->shape[beam->ndim - 1];
    const int S = m->grid_h * m->grid_w;
    const size_t beam_rows = beam->ndim == 3 ? (size_t)beam->shape[1] : 1;   /* [N, (K,) Tb] */
    const st_tensor *goff = st_find(t.st, "greedy_offset");
    int n = 0, greedy_ok = 0, beam_ok = 0, ties = 0, texts_ok = 0;
    double worst = 0.0, gap;
    char op[1024];
    snprintf(op, sizeof op, "%s/tests/golden/scenes-caption.outputs.jsonl", root);
    json_value **outs = file_exists(op) ? read_outputs(op, N) : NULL;
    stele_params g = p;
    g.beam_size = g.nbest = 1;
    stele_params b = p;
    b.nbest = 1;
    for (int i = 0; i < N && (limit <= 0 || i < limit); i++, n++) {
        const uint8_t *px = images->data + (size_t)i * Hi * Wi;
        const stele_result *r;
        const int len = ti32(glen, (size_t)i);
        if (stele_caption(s, px, Wi, Hi, 1, 0, &g, &r, &err) != STELE_OK) {
            FAILF("scenes-caption scene %d greedy: %s", i, err.message);
            continue;
        }
        if (same_tokens(&r->hyps[0], greedy, (size_t)i * T, len)) {
            greedy_ok++;
            /* attn: ragged [sum of greedy_len, S] with greedy_offset (scene i's first row), or
               [N, T, S] */
            size_t row0 = goff ? (size_t)ti32(goff, (size_t)i) : (size_t)i * T;
            if ((row0 + (size_t)len) * S > (size_t)attn->numel) {
                FAILF("scenes-caption scene %d: the trace's attention has too few rows", i);
                continue;
            }
            double d = diff_f32(r->attention, attn, row0 * S, (size_t)len * S);
            worst = d > worst ? d : worst;
            if (!(d <= TOL))
                FAILF("scenes-caption scene %d: attention max abs diff %.3g > %g", i, d, TOL);
        } else {
            const json_value *rec = outs ? outs[i] : NULL;
            int32_t ref[512];
            const int nr = len < 512 ? len : 512;
            for (int j = 0; j < nr; j++)
                ref[j] = ti32(greedy, (size_t)i * T + j);
            const int step = first_diff(r->hyps[0].tokens, r->hyps[0].n_tokens, ref, nr);
            if (rec && excused(rec, "greedy_gaps", step, &gap)) {
                ties++;
                printf("excused tie: scenes-caption scene %d greedy step %d (reference gap %.3g)\n",
                       i, step, gap);
            } else {
                FAILF("scenes-caption scene %d: greedy tokens differ at step %d: \"%s\"", i, step,
                      r->hyps[0].text);
            }
        }
        const char *want = outs && outs[i] ? json_string(json_get(outs[i], "greedy_text")) : NULL;
        if (want && strcmp(want, r->hyps[0].text) == 0)
            texts_ok++;
        else if (want && same_tokens(&r->hyps[0], greedy, (size_t)i * T, len))
            FAILF("scenes-caption scene %d: text \"%s\", the reference's \"%s\"", i,
                  r->hyps[0].text, want);
        if (b.beam_size > 1) {
            if (stele_caption(s, px, Wi, Hi, 1, 0, &b, &r, &err) != STELE_OK)
                FAILF("scenes-caption scene %d beam: %s", i, err.message);
            else if (same_tokens(&r->hyps[0], beam, (size_t)i * beam_rows * TB,
                                 ti32(blen, (size_t)i * beam_rows)))
                beam_ok++;
            else if (outs && outs[i] && excused(outs[i], "beam_gap", -1, &gap)) {
                ties++;
                printf("excused tie: scenes-caption scene %d beam (reference gap %.3g)\n", i,
                       gap);
            } else {
                FAILF("scenes-caption scene %d: beam tokens differ: \"%s\"", i, r->hyps[0].text);
            }
        }
    }
    for (int i = 0; outs && i < N; i++)
        json_free(outs[i]);
    free(outs);
    printf("scenes-caption (%s): %d/%d scenes; greedy identical %d, beam-%d identical %d, excused "
           "ties %d; texts as the reference's %d%s; attention max abs diff %.2g\n",
           stele_kernels_name(), n, N, greedy_ok, b.beam_size, beam_ok, ties, texts_ok,
           outs ? "" : " (no outputs.jsonl)", worst);
    stele_session_free(s);
    trace_close(&t);
    stele_model_free(m);
}

int main(int argc, char **argv)
{
    stele_model *m = NULL;
    stele_error err;
    const char *mp = "tests/golden/tiny/caption-tiny.safetensors";
    if (stele_model_load_file(mp, &m, &err) != STELE_OK) {
        printf("FAIL %s: %s: %s\n", mp, stele_status_name(err.status), err.message);
        return 1;
    }
    tiny_parity(m);
    pixel_formats(m);
    bad_inputs(m);
    stele_model_free(m);
    word_vocab();
    const char *root = getenv("STELE_SHIPPED_ROOT");
    shipped(root && *root ? root : ".", shipped_limit(argc, argv, 0));
    printf("caption: %s\n", g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
