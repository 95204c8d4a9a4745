/* Input normalization (stele_params.normalize): case detection, sentence-casing and restoration
 * (casing.c), removal and placement of characters outside the vocabulary (passthrough.c), and
 * the whole path through stele_translate / the batch on the tiny golden model and, when present,
 * the shipped ui-en-fr model. Raw mode (normalize 0) must give the model's own output. */
#include "golden.h"
#include "../../src/casing.h"
#include "../../src/passthrough.h"
#include "../../src/utf8.h"

static const char *TINY = "tests/golden/tiny/bilstm-general-luong.safetensors";
static const char *SHIPPED = "models/ui-en-fr/model.safetensors";

static void check_str(const char *what, const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        FAILF("%s: got \"%s\", expected \"%s\"", what, got, want);
    else
        printf("ok   %-40s \"%s\"\n", what, got);
}

static void test_detect(void)
{
    static const struct { const char *text; casing_pattern want; } cases[] = {
        {"SAVE THE DOCUMENT", CASING_UPPER},
        {"Save The Document", CASING_TITLE},
        {"Save the document", CASING_NONE},
        {"save the document", CASING_NONE},
        {"SAVE", CASING_UPPER},                 /* one word: truecasing decides (below) */
        {"A", CASING_NONE},                     /* one letter: nothing to go on */
        {"OPEN %s", CASING_UPPER},              /* placeholders do not count */
        {"BORN IN %(month_year)s AT %(place)s", CASING_UPPER},   /* Python's named ones neither */
        {"BORN IN %(month year)s", CASING_NONE},  /* not a name: "month" is a lower-case word */
        {"Cannot open %s", CASING_NONE},
        {"Save", CASING_NONE},
        {"OK", CASING_UPPER},
        {"Open PDF", CASING_TITLE},
        {"OPEN 42 FILES!", CASING_UPPER},
        {"Hello \xF0\x9F\x91\x8B World", CASING_TITLE},
        {"\xC3\x89" "DITER LE FICHIER", CASING_UPPER},   /* ÉDITER */
        {"\xC3\xA9" "diter Le Fichier", CASING_NONE},    /* éditer: first word lower */
        {"%d Files Copied", CASING_TITLE},            /* only words starting with a letter */
        {"Open &File", CASING_NONE},                  /* count for Title Case */
        {"OPEN &FILE", CASING_UPPER},
        {"", CASING_NONE},
        {"1 2 3", CASING_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        casing_pattern got = casing_detect(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].want)
            FAILF("casing_detect(\"%s\") = %d, expected %d", cases[i].text, got, cases[i].want);
    }
    printf("ok   casing_detect: %zu cases\n", sizeof cases / sizeof *cases);
}

static void test_sentence_restore(void)
{
    char buf[128];
    static const struct { const char *in, *sentence; casing_pattern p; } cases[] = {
        {"SAVE THE DOCUMENT", "Save the document", CASING_UPPER},
        {"Save The Document", "Save the document", CASING_TITLE},
        {"Open PDF Files", "Open PDF files", CASING_TITLE},       /* acronyms stay */
        {"Buy An iPhone", "Buy an iPhone", CASING_TITLE},
        {"\xC3\x89" "DITER \xC5\x92UVRE \xC3\x87" "A", "\xC3\x89" "diter \xC5\x93uvre \xC3\xA7" "a",
         CASING_UPPER},                                          /* ÉDITER ŒUVRE ÇA */
        {"\xF0\x9F\x91\x8B HELLO WORLD", "\xF0\x9F\x91\x8B Hello world", CASING_UPPER},
        /* each sentence keeps its capital; "e.g" without a space after the dot does not end one */
        {"FILE EXISTS! OVERWRITE? (YES) NO. \"QUOTED.\" NEXT E.G.X", "File exists! Overwrite? (Yes) "
         "no. \"Quoted.\" Next e.g.x", CASING_UPPER},
        {"Backup Exists! Overwrite It?", "Backup exists! Overwrite it?", CASING_TITLE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = strlen(cases[i].in);
        casing_to_sentence(cases[i].p, cases[i].in, n, buf);
        buf[n] = 0;
        check_str("casing_to_sentence", buf, cases[i].sentence);
    }
    strcpy(buf, "enregistrer le document \xC3\xA9t\xC3\xA9 \xC5\x93uvre");
    casing_restore(CASING_UPPER, buf, strlen(buf));
    check_str("casing_restore upper", buf, "ENREGISTRER LE DOCUMENT \xC3\x89T\xC3\x89 \xC5\x92UVRE");
    /* Only words starting with a letter: "%d" and "(été)" stay, placeholders keep working. */
    strcpy(buf, "%d enregistrer le document (\xC3\xA9t\xC3\xA9) \xC3\xA9t\xC3\xA9");
    casing_restore(CASING_TITLE, buf, strlen(buf));
    check_str("casing_restore title", buf,
              "%d Enregistrer Le Document (\xC3\xA9t\xC3\xA9) \xC3\x89t\xC3\xA9");
    /* Placeholders, markup, escapes and entities keep their case. */
    strcpy(buf, "%d fichiers de %1$s, <a href=\"x\">voir</a> {name}\\n &amp; %ls %(n_1)d");
    casing_restore(CASING_UPPER, buf, strlen(buf));
    check_str("casing_restore keeps placeholders", buf,
              "%d FICHIERS DE %1$s, <a href=\"x\">VOIR</a> {name}\\n &amp; %ls %(n_1)d");
    strcpy(buf, "Enregistrer le document");
    casing_restore(CASING_NONE, buf, strlen(buf));
    check_str("casing_restore none", buf, "Enregistrer le document");
    /* Every mapped pair round-trips and keeps its UTF-8 length. */
    int bad = 0;
    for (unsigned c = 1; c < 0x800; c++) {
        unsigned l = casing_lower(c), u = casing_upper(c);
        uint8_t a[4], b[4];
        if (l != c && (casing_upper(l) != c || utf8_encode(l, a) != utf8_encode(c, b)))
            bad++;
        if (u != c && c != 0x3C2 && c != 0x131 && (casing_lower(u) != c || utf8_encode(u, a) != utf8_encode(c, b)))
            bad++;
    }
    if (bad)
        FAILF("%d code points do not round-trip through casing_lower/casing_upper", bad);
    else
        printf("ok   case maps round-trip below U+0800\n");
}

/* The truecasing table (tokenizer.truecase): lookup, the ALL CAPS path, and refused tables. */
static void test_table(void)
{
    static const char good[] = "github\tGitHub\nlinux\tLinux\npdf\tPDF\n";
    casing_table t;
    stele_error err;
    if (casing_table_load((const uint8_t *)good, sizeof good - 1, &t, &err) != STELE_OK) {
        FAILF("casing_table_load: %s", err.message);
        return;
    }
    const char *f = casing_table_find(&t, "pdf", 3);
    if (t.count != 3 || !f || memcmp(f, "PDF", 3) || casing_table_find(&t, "pd", 2) ||
        casing_table_find(&t, "pdfs", 4) || casing_table_find(&t, "aaa", 3) ||
        casing_table_find(&t, "zzz", 3))
        FAILF("casing_table_find: wrong lookups (count %d)", t.count);
    char out[128], tmp[128];
    const char *in = "OPEN THE GITHUB PAGE. LINUX, PDF! (PDF) PDFS GIT\xC3\x89HUB";
    size_t n = strlen(in);
    casing_truecase(CASING_UPPER, in, n, out, tmp, NULL, NULL, &t);
    out[n] = 0;
    check_str("casing_truecase with a table", out,
              "Open the GitHub page. Linux, PDF! (PDF) pdfs git\xC3\xA9hub");
    /* Title Case input does not use the table (the typed capitals say more). */
    in = "Open Github Page";
    n = strlen(in);
    casing_truecase(CASING_TITLE, in, n, out, tmp, NULL, NULL, &t);
    out[n] = 0;
    check_str("casing_truecase title ignores the table", out, "Open github page");
    casing_table_free(&t);
    casing_table_free(&t);   /* safe twice */
    static const struct { const char *bytes, *want; } bad[] = {
        {"pdf\tPDF", "the last line (byte 7) has no newline"},
        {"pdf PDF\n", "line 1 (byte 7): expected"},
        {"pdf\tPDFS\n", "line 1 (byte 7): the form's length"},
        {"pdf\tPDX\n", "line 1 (byte 2): the key is not"},
        {"pdf\tpdf\n", "line 1 (byte 4): a form without an upper-case"},
        {"pdf\tP\001" "F\n", "line 1 (byte 5): a byte that is not printable"},
        {"pdf\tPDF\ngit\tGIT\n", "line 2 (byte 8): keys out of order"},
        {"pdf\tPDF\npdf\tPdf\n", "line 2 (byte 8): keys out of order"},
        {"\tX\n", "line 1 (byte 0): expected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        stele_status st = casing_table_load((const uint8_t *)bad[i].bytes, strlen(bad[i].bytes),
                                            &t, &err);
        if (st != STELE_ERR_TOKENIZER || !strstr(err.message, bad[i].want))
            FAILF("casing_table_load(bad %zu): %s \"%s\", expected \"%s\"", i,
                  stele_status_name(st), err.message, bad[i].want);
        if (t.line || t.count)
            FAILF("casing_table_load(bad %zu) left an index behind", i);
    }
    printf("ok   casing_table_load refuses %zu malformed tables\n", sizeof bad / sizeof *bad);
}

static void test_strip_place(const stele_model *m)
{
    char out[128];
    unk_span sp[8];
    int n = 0;
    /* "\xE2\x98\x85" = ★ and "\xF0\x9F\x91\x8B" = 👋: not in the tiny vocabulary (checked). */
    const char *star = "\xE2\x98\x85", *wave = "\xF0\x9F\x91\x8B";
    if (spm_char_known(m->spm, star, 3) || spm_char_known(m->spm, wave, 4) ||
        !spm_char_known(m->spm, "d", 1)) {
        FAILF("spm_char_known: the tiny vocabulary has \xE2\x98\x85 or \xF0\x9F\x91\x8B, or lacks d");
        return;
    }
    const char *in = "the \xF0\x9F\x91\x8B \xE2\x98\x85 dog\xE2\x98\x85 a\xE2\x98\x85" "b";
    size_t len = passthrough_strip(m->spm, in, strlen(in), out, sp, 8, &n);
    out[len] = 0;
    check_str("passthrough_strip", out, "the  dog a b");
    if (n != 3)
        FAILF("passthrough_strip: %d runs, expected 3", n);
    else if (sp[0].start != 4 || sp[0].end != 12 || sp[0].word != 1 || !sp[0].space_before ||
             !sp[0].space_after || sp[1].word != 2 || sp[1].space_before || !sp[1].space_after ||
             sp[2].word != 3 || sp[2].space_before || sp[2].space_after)
        FAILF("passthrough_strip: wrong runs");
    else
        printf("ok   passthrough_strip runs: words %d %d %d\n", sp[0].word, sp[1].word, sp[2].word);
    /* Placement: target "le chien" (words 0, 1) aligned to source words 0 ("the"), 1 ("dog"). */
    const int32_t align[2] = {0, 1}, ws[2] = {0, 3}, we[2] = {2, 8};
    const char *tgt = "le chien";
    unk_place pl[3];
    size_t order[3] = {0, 1, 2};
    const unk_span mid = {4, 12, 1, 1, 1}, start = {0, 4, 0, 1, 1}, end = {4, 8, 2, 1, 1};
    pl[0] = passthrough_place(&mid, 2, 2, align, ws, we, strlen(tgt));
    pl[1] = passthrough_place(&start, 2, 2, align, ws, we, strlen(tgt));
    pl[2] = passthrough_place(&end, 2, 2, align, ws, we, strlen(tgt));
    if (pl[0].pos != 2 || pl[1].pos != 0 || pl[2].pos != 8)
        FAILF("passthrough_place: positions %d %d %d, expected 2 0 8", pl[0].pos, pl[1].pos,
              pl[2].pos);
    const char *src = "ABCDxxxxYYYY";
    const unk_span spans[3] = {mid, start, end};
    size_t ord[3] = {1, 0, 2};
    (void)order;
    char res[64];
    ptrdiff_t k = passthrough_insert(tgt, strlen(tgt), src, spans, pl, ord, 3, res, sizeof res);
    check_str("passthrough_insert", k < 0 ? "(overflow)" : res, "ABCD le xxxxYYYY chien xxxx");
    k = passthrough_insert(tgt, strlen(tgt), src, spans, pl, ord, 3, res, 10);
    if (k != -1)
        FAILF("passthrough_insert: no overflow reported for a 10-byte buffer");
}

/* Whole path on a model: raw equals the model's output, normalized case and symbols. */
static void test_translate(const stele_model *m, const char *name, int shipped)
{
    stele_error err;
    stele_session *s = NULL;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("%s: session: %s", name, err.message);
        return;
    }
    stele_params on = stele_default_params(), off = on;
    off.normalize = 0;
    if (on.normalize != 1)
        FAILF("stele_default_params: normalize %d, expected 1 (on by default)", on.normalize);
    const stele_result *r = NULL;
    char want[4096], got[4096];
    const char *sentence = shipped ? "Save the document" : "the dog";
    const char *upper = shipped ? "SAVE THE DOCUMENT" : "THE DOG";
    const char *title = shipped ? "Save The Document" : "The Dog";
    /* Sentence-case text without unknown characters: bit-identical to raw. */
    if (stele_translate(s, sentence, -1, &off, &r, &err) != STELE_OK) {
        FAILF("%s: %s", name, err.message);
        goto done;
    }
    snprintf(want, sizeof want, "%s", r->hyps[0].text);
    double raw_score = r->hyps[0].score;
    stele_translate(s, sentence, -1, &on, &r, &err);
    if (strcmp(r->hyps[0].text, want) || r->hyps[0].score != raw_score)
        FAILF("%s: normalize changed a plain sentence-case input", name);
    /* ALL CAPS: the sentence-case translation, upper-cased. */
    stele_translate(s, shipped ? sentence : "The dog", -1, &on, &r, &err);
    snprintf(want, sizeof want, "%s", r->hyps[0].text);
    casing_restore(CASING_UPPER, want, strlen(want));
    stele_translate(s, upper, -1, &on, &r, &err);
    check_str(shipped ? "ui-en-fr: ALL CAPS" : "tiny: ALL CAPS", r->hyps[0].text, want);
    snprintf(want, sizeof want, "%s", r->hyps[0].text);
    stele_translate(s, title, -1, &on, &r, &err);
    snprintf(got, sizeof got, "%s", r->hyps[0].text);
    casing_restore(CASING_UPPER, got, strlen(got));
    if (strcmp(got, want))
        FAILF("%s: Title Case output \"%s\" is not the sentence-case translation", name,
              r->hyps[0].text);
    /* The shipped model's truecasing table: an acronym keeps its capitals in the source. */
    if (shipped) {
        if (!m->truecase.count)
            FAILF("ui-en-fr: no tokenizer.truecase table");
        stele_translate(s, "OPEN THE PDF FILE", -1, &on, &r, &err);
        char src[256] = "";
        for (int i = 0; i < r->n_source - 1; i++) {
            const char *piece = spm_piece(m->spm, r->source_tokens[i]);
            strncat(src, piece, sizeof src - strlen(src) - 1);
        }
        check_str("ui-en-fr: ALL CAPS source pieces", src,
                  "\xE2\x96\x81Open\xE2\x96\x81the\xE2\x96\x81PDF\xE2\x96\x81" "file");
    }
    /* Raw ALL CAPS: the model's own (different) input. */
    stele_translate(s, upper, -1, &off, &r, &err);
    /* Emoji: raw has <unk> in the source and may print ⁇; normalized copies it, no ⁇. */
    const char *emoji = shipped ? "Save \xF0\x9F\x92\xBE the file" : "the \xF0\x9F\x91\x8B dog";
    const char *sym = shipped ? "\xF0\x9F\x92\xBE" : "\xF0\x9F\x91\x8B";
    stele_translate(s, emoji, -1, &off, &r, &err);
    int unk = 0;
    for (int i = 0; i < r->n_source; i++)
        unk += r->source_tokens[i] == m->unk_id;
    if (!unk)
        FAILF("%s: raw emoji input has no <unk> piece", name);
    for (int beam = 1; beam <= 5; beam += 4) {
        on.beam_size = beam;
        on.nbest = beam;
        stele_translate(s, emoji, -1, &on, &r, &err);
        for (int i = 0; i < r->n_source; i++)
            if (r->source_tokens[i] == m->unk_id)
                FAILF("%s: normalized source still has <unk>", name);
        for (int h = 0; h < r->n_hyps; h++)
            if (!strstr(r->hyps[h].text, sym) || strstr(r->hyps[h].text, "\xE2\x81\x87"))
                FAILF("%s beam %d: hypothesis %d \"%s\" lacks the emoji or has \xE2\x81\x87", name,
                      beam, h, r->hyps[h].text);
        printf("ok   %s beam %d: \"%s\" -> \"%s\"\n", name, beam, emoji, r->hyps[0].text);
    }
    on = stele_default_params();
    /* Only unknown characters: the output is those characters. */
    stele_translate(s, "\xF0\x9F\x91\x8B  \xE2\x98\x85", -1, &on, &r, &err);
    check_str("only unknown characters", r->hyps[0].text, "\xF0\x9F\x91\x8B  \xE2\x98\x85");
    /* Batch (greedy stream) gives what stele_translate gives. */
    stele_batch *b = NULL;
    if (stele_batch_create(m, NULL, 2, &b, &err) == STELE_OK) {
        const char *texts[3] = {upper, emoji, title};
        const stele_result *br[3];
        stele_params g = stele_default_params();
        g.beam_size = 1;
        if (stele_translate_batch(b, texts, NULL, 2, &g, br, &err) != STELE_OK)
            FAILF("%s: batch: %s", name, err.message);
        else
            for (int i = 0; i < 2; i++) {
                snprintf(got, sizeof got, "%s", br[i]->hyps[0].text);
                stele_translate(s, texts[i], -1, &g, &r, &err);
                if (strcmp(got, r->hyps[0].text))
                    FAILF("%s: batch text %d \"%s\" != \"%s\"", name, i, got, r->hyps[0].text);
            }
        stele_batch_free(b);
    }
done:
    stele_session_free(s);
}

int main(void)
{
    test_detect();
    test_sentence_restore();
    test_table();
    stele_error err;
    stele_model *m = NULL;
    if (stele_model_load_file(TINY, &m, &err) != STELE_OK) {
        printf("FAIL %s: %s\n", TINY, err.message);
        return 1;
    }
    test_strip_place(m);
    test_translate(m, "tiny", 0);
    stele_model_free(m);
    if (file_exists(SHIPPED) && stele_model_load_file(SHIPPED, &m, &err) == STELE_OK) {
        test_translate(m, "ui-en-fr", 1);
        stele_model_free(m);
    } else {
        printf("skip %s: not present\n", SHIPPED);
    }
    printf("normalize: %s\n", g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
