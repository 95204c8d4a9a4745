/* Protected spans (src/protect.c) and confidence (token_logp, mean_logp):
 *   - the grammar, one case list per kind of span, and bad input (unbalanced tags and braces,
 *     '%' at the end) recognised as plain text;
 *   - restoration with given alignments: dropped placeholders put back, invented ones removed,
 *     tags around the aligned words, mnemonics; random alignments: every source placeholder
 *     exactly once and the tags balanced, always;
 *   - on the shipped ui-en-fr model (skipped when absent): every placeholder exactly once, tags
 *     balanced, byte-identical output with protection on and off for text without spans;
 *   - confidence on the tiny golden model: per-token log-probabilities sum to logp, their mean
 *     is mean_logp, exp in (0, 1], greedy score = logp / lp; the same through a batch. */
#include "golden.h"
#include "../../src/protect.h"

static const char *TINY = "tests/golden/tiny/bilstm-general-luong.safetensors";
static const char *SHIPPED = "models/ui-en-fr/model.safetensors";

/* "kind:text|kind:text..." of the spans of s (P placeholder, O open, C close, M mnemonic). */
static void describe(const char *s, char *out, size_t cap)
{
    protect_span sp[PROTECT_MAX_SPANS];
    int n = protect_scan(s, strlen(s), sp, PROTECT_MAX_SPANS);
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%c:%.*s", i ? "|" : "", " POCM"[sp[i].kind],
                              sp[i].len, s + sp[i].start);
}

static void grammar(void)
{
    static const char *const cases[][2] = {
        /* printf */
        {"Deleting %d files in %s", "P:%d|P:%s"},
        {"%1$s of %2$d", "P:%1$s|P:%2$d"},
        {"%ld bytes, %lu left, %i %u %m", "P:%ld|P:%lu|P:%i|P:%u|P:%m"},
        {"%-5.2f and %*d and %hhx and %lld", "P:%-5.2f|P:%*d|P:%hhx|P:%lld"},
        {"Hello %(name)s, %(count)d new", "P:%(name)s|P:%(count)d"},
        {"100%% done", "P:%%"},
        {"100% done, 50% off", ""},          /* no space flag: not "% d" / "% o" */
        {"Value: 50%", ""},                   /* '%' at the end */
        {"%", ""},
        {"%(name", ""},
        {"%(name)", ""},
        /* braces */
        {"Copy {0} to {name}", "P:{0}|P:{name}"},
        {"{} of {}", "P:{}|P:{}"},
        {"{0:>5} {a.b[1]}", "P:{0:>5}|P:{a.b[1]}"},
        {"{count, plural, one {# file} other {# files}} left",
         "P:{count, plural, one {# file} other {# files}}"},
        {"{{literal}} {x}", "P:{x}"},
        {"unbalanced {name", ""},
        {"closing only } here", ""},
        {"{not a placeholder}", ""},
        /* dollar */
        {"$1 and $23 and $name$ and ${user}", "P:$1|P:$23|P:$name$|P:${user}"},
        {"costs $ 5 or $x", ""},
        /* tags and entities */
        {"<b>Save</b> the file", "O:<b>|C:</b>"},
        {"<a href=\"x>y\">link</a>", "O:<a href=\"x>y\">|C:</a>"},
        {"line<br/>next<br>last", "P:<br/>|P:<br>"},
        {"<b><i>x</i></b>", "O:<b>|O:<i>|C:</i>|C:</b>"},
        {"Tom &amp; Jerry &#215; &#x1F600;", "P:&amp;|P:&#215;|P:&#x1F600;"},
        {"<b>unclosed", ""},
        {"closed</b> only", ""},
        {"<b>crossing <i>tags</b> here</i>", "O:<b>|C:</b>"},
        {"a < b > c", ""},
        {"<confidence level>", ""},
        /* mnemonics */
        {"_File", "M:_"},
        {"St_yle Sheets", "M:_"},
        {"&Open", "M:&"},
        {"snake_case_name", ""},              /* two candidates: identifiers, not a mnemonic */
        {"__init", ""},
        {"_ alone", ""},
        {"_Été", "M:_"},
    };
    char got[1024];
    int ok = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        describe(cases[i][0], got, sizeof got);
        if (strcmp(got, cases[i][1]) != 0)
            FAILF("grammar: \"%s\" gives \"%s\", expected \"%s\"", cases[i][0], got, cases[i][1]);
        else
            ok++;
    }
    /* more spans than PROTECT_MAX_SPANS: none (the text is translated unprotected) */
    char many[4 * PROTECT_MAX_SPANS + 16];
    size_t k = 0;
    for (int i = 0; i <= PROTECT_MAX_SPANS; i++)
        k += (size_t)sprintf(many + k, "%%s ");
    protect_span sp[PROTECT_MAX_SPANS];
    if (protect_scan(many, k, sp, PROTECT_MAX_SPANS) != 0)
        FAILF("grammar: more than PROTECT_MAX_SPANS spans should give none");
    printf("grammar: %d/%zu cases\n", ok, sizeof cases / sizeof *cases);
}

/* Occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle, size_t nl)
{
    int c = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += nl)
        c++;
    return c;
}

/* Every placeholder of src exactly once in out (by text, multiset), nothing added; the paired
 * tags of src all in out, balanced. Returns 1 when so. */
static int faithful(const char *src, const char *out)
{
    protect_span a[PROTECT_MAX_SPANS], b[PROTECT_MAX_SPANS];
    int na = protect_scan(src, strlen(src), a, PROTECT_MAX_SPANS);
    int nb = protect_scan(out, strlen(out), b, PROTECT_MAX_SPANS);
    int pa = 0, pb = 0, ta = 0, tb = 0;
    for (int i = 0; i < na; i++) {
        pa += a[i].kind == PROTECT_PLACEHOLDER;
        ta += a[i].kind == PROTECT_OPEN || a[i].kind == PROTECT_CLOSE;
    }
    for (int i = 0; i < nb; i++) {
        pb += b[i].kind == PROTECT_PLACEHOLDER;
        tb += b[i].kind == PROTECT_OPEN || b[i].kind == PROTECT_CLOSE;
        if (b[i].kind == PROTECT_PLACEHOLDER) {   /* same text, same count */
            char t[256];
            snprintf(t, sizeof t, "%.*s", b[i].len, out + b[i].start);
            if (count_of(src, t, strlen(t)) != count_of(out, t, strlen(t)))
                return 0;
        }
    }
    /* tags: each of src's tags once in out and all of out's tags paired (balanced, nested) */
    for (int i = 0; i < na; i++)
        if (a[i].kind == PROTECT_OPEN || a[i].kind == PROTECT_CLOSE) {
            char t[256];
            snprintf(t, sizeof t, "%.*s", a[i].len, src + a[i].start);
            if (count_of(out, t, strlen(t)) != count_of(src, t, strlen(t)))
                return 0;
        }
    return pa == pb && ta == tb;
}

/* protect_mask(src); returns the masked text's word count (the model's, for these texts). */
static int mask_words(protect_ctx *c, const char *src)
{
    const char *masked;
    size_t ml;
    protect_mask(c, src, strlen(src), &masked, &ml);
    int ns = 0;
    for (size_t i = 0; i < ml; i++)
        ns += masked[i] != ' ' && (i == 0 || masked[i - 1] == ' ');
    return ns;
}

/* protect_mask + protect_restore with a given target and alignment. */
static void restore_case(protect_ctx *c, const char *src, const char *target, int nt,
                         const int32_t *align, const char *want)
{
    int ns = mask_words(c, src);
    const char *got = protect_restore(c, 0, target, ns, nt, align, NULL);
    if (!got || strcmp(got, want) != 0)
        FAILF("restore: \"%s\" / \"%s\" gives \"%s\", expected \"%s\"", src, target,
              got ? got : "(NULL)", want);
    else
        printf("ok   restore %-40s -> %s\n", src, got);
}

static void restoration(void)
{
    protect_ctx *c = protect_create(4096, 256, 4096, 2);
    if (!c) {
        FAILF("protect_create");
        return;
    }
    /* dropped: after the target word aligned to the word before it */
    restore_case(c, "Ancestors of %s", "Ancêtres de", 2, (const int32_t[]){0, 1},
                 "Ancêtres de %s");
    /* invented (%d) removed, the kept one stays where the model put it */
    restore_case(c, "Delete %s now", "Supprimer %s %d maintenant", 4,
                 (const int32_t[]){0, 1, 1, 2}, "Supprimer %s maintenant");
    /* duplicated: the copy nearest its aligned word wins */
    restore_case(c, "Open %s", "%s Ouvrir %s", 3, (const int32_t[]){0, 0, 1}, "Ouvrir %s");
    /* two identical placeholders, swapped by the model: each kept once */
    restore_case(c, "Copy %s to %s", "Copier %s vers %s", 4, (const int32_t[]){0, 1, 2, 3},
                 "Copier %s vers %s");
    /* tags around the aligned words, reordered */
    restore_case(c, "<b>Save</b> the document", "Enregistrer le document", 3,
                 (const int32_t[]){0, 1, 2}, "<b>Enregistrer</b> le document");
    restore_case(c, "the <i>red</i> car", "la voiture rouge", 3, (const int32_t[]){0, 2, 1},
                 "la voiture <i>rouge</i>");
    /* nested tags: the inner one inside the outer one */
    restore_case(c, "<b><i>Save</i> all</b> now", "Tout enregistrer maintenant", 3,
                 (const int32_t[]){1, 0, 2}, "<b>Tout <i>enregistrer</i></b> maintenant");
    /* a sibling's words inside another's range: nested there */
    restore_case(c, "<b>A B</b> <i>C</i>", "x y z", 3, (const int32_t[]){0, 2, 1},
                 "<b>x <i>y</i> z</b>");
    /* crossing target ranges: the later one is cut at the earlier one's end */
    restore_case(c, "<b>A B</b> <i>C D</i>", "w x y z", 4, (const int32_t[]){0, 2, 1, 3},
                 "<b>w <i>x y</i></b> z");
    /* tags the model invented are removed */
    restore_case(c, "<b>Save</b>", "<u>Enregistrer</u>", 1, (const int32_t[]){0},
                 "<b>Enregistrer</b>");
    /* a mnemonic on the first letter of the aligned word; one the model wrote is removed */
    restore_case(c, "_File", "Fichier", 1, (const int32_t[]){0}, "_Fichier");
    restore_case(c, "Save _As", "_Enregistrer sous", 2, (const int32_t[]){0, 1},
                 "Enregistrer _sous");
    restore_case(c, "St_yle Sheets", "Feuilles de style", 3, (const int32_t[]){1, 1, 0},
                 "Feuilles de st_yle");
    /* no alignment (NULL): relative positions */
    restore_case(c, "Error: %s", "Erreur :", 2, NULL, "Erreur : %s");
    /* empty translation: the spans alone */
    restore_case(c, "%s", "", 0, (const int32_t[]){0}, "%s");
    /* Random targets and alignments: every placeholder exactly once, tags balanced. */
    static const char *const srcs[] = {
        "Copy %s to %s", "<b>Save</b> %d of <i>%s</i> files", "<b><i>a</i> b</b> c <u>d</u>",
        "%1$s: {0} $1 &amp; <br/> %%", "_Open <b>%s</b>", "a<b>b</b>c %d", "<b></b>%s x"};
    static const char *const words[] = {"%s", "%d", "x", "yy", "<b>", "</i>", "_z", "%%", "{0}"};
    unsigned seed = 12345;
    int ok = 0, total = 0;
    for (size_t si = 0; si < sizeof srcs / sizeof *srcs; si++)
        for (int rep = 0; rep < 300; rep++, total++) {
            const char *src = srcs[si];
            int ns = mask_words(c, src);
            char target[256] = "";
            int32_t align[16];
            seed = seed * 1103515245u + 12345u;
            int nt = (int)(seed >> 16) % 8;
            for (int t = 0; t < nt; t++) {
                seed = seed * 1103515245u + 12345u;
                strcat(target, t ? " " : "");
                strcat(target, words[(seed >> 16) % (sizeof words / sizeof *words)]);
                seed = seed * 1103515245u + 12345u;
                align[t] = ns ? (int32_t)((seed >> 16) % (unsigned)ns) : 0;
            }
            const char *out = protect_restore(c, 1, target, ns, nt, rep % 5 ? align : NULL, NULL);
            if (!out || !faithful(src, out))
                FAILF("restore (random): \"%s\" / \"%s\" gives \"%s\"", src, target,
                      out ? out : "(NULL)");
            else
                ok++;
        }
    printf("restore, random alignments: %d/%d faithful\n", ok, total);
    protect_free(c);
    /* limits: more words than the session has source tokens, or spans over
       PROTECT_MAX_SPAN_BYTES together: the text goes unprotected (no error) */
    protect_ctx *small = protect_create(20000, 3, 64, 1);
    static char big[PROTECT_MAX_SPAN_BYTES + 64];
    memset(big, 'x', sizeof big - 1);
    memcpy(big, "<a title=\"", 10);
    memcpy(big + sizeof big - 9, "\">y</a>", 8);
    const char *mk;
    size_t ml;
    if (!small || protect_mask(small, "a b c %s", 8, &mk, &ml) != 0 ||
        protect_mask(small, "a %s", 4, &mk, &ml) != 1 ||
        protect_mask(small, big, strlen(big), &mk, &ml) != 0 || mk != big ||
        protect_mask(small, big + strlen(big) - 200, 200, &mk, &ml) != 0 ||
        protect_mask(small, "<a title=\"xx\">y</a>", 19, &mk, &ml) != 2)
        FAILF("limits: too many words or span bytes should leave the text unprotected");
    protect_free(small);
}

static void shipped(void)
{
    stele_model *m = NULL;
    stele_error err;
    FILE *f = fopen(SHIPPED, "rb");
    if (!f) {
        printf("shipped: %s absent, skipped\n", SHIPPED);
        return;
    }
    fclose(f);
    if (stele_model_load_file(SHIPPED, &m, &err) != STELE_OK) {
        FAILF("shipped: %s", err.message);
        return;
    }
    stele_session *s = NULL;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK) {
        FAILF("shipped: session: %s", err.message);
        stele_model_free(m);
        return;
    }
    static const char *const with_spans[] = {
        "Cannot create directory “%s”: %s.", "Surnames %(surname)s beginning with letter %(letter)s",
        "%lu minute remaining (%s/sec)", "A maximum of %d column can be imported.",
        "Connection timed out after %d second of inactivity", "%i of %u files copied, %m",
        "Failed to copy an event into the calendar “{0}”", "Copy {0} to {1}", "$1 and $2",
        "%d &#215; %d: %s", "<b>Save</b> the document", "Save the <b>current</b> document to <i>%s</i>",
        "<b><i>Warning:</i> the file %s is read-only</b>", "Line one<br/>Line two", "St_yle Sheets",
        "_File", "&Open a file", "%1$s has %2$d new messages", "%ld bytes free of %ld",
        "100%% complete", "Moving files into \"%s\"...", "$name$ wants to send you a file",
        "{count} items selected in {folder}", "Error in '%s' file: cannot load.",
        "Unbalanced <b>tag and 50% and {brace", "%s%s%s", "%s: %s: %s: %s"};
    static const char *const plain[] = {"Save the document", "Open a file", "Print preview",
                                        "The file could not be read.", "Cut Split", "100% done",
                                        "Tom & Jerry"};
    stele_params on = stele_default_params(), off = on;
    off.protect = 0;
    int ok = 0, n = (int)(sizeof with_spans / sizeof *with_spans);
    for (int beam = 1; beam <= 5; beam += 4) {
        on.beam_size = off.beam_size = beam;
        for (int i = 0; i < n; i++) {
            const stele_result *r;
            if (stele_translate(s, with_spans[i], -1, &on, &r, &err) != STELE_OK) {
                FAILF("shipped: \"%s\": %s", with_spans[i], err.message);
                continue;
            }
            if (!faithful(with_spans[i], r->hyps[0].text))
                FAILF("shipped beam %d: \"%s\" -> \"%s\" (placeholders or tags)", beam,
                      with_spans[i], r->hyps[0].text);
            else
                ok++;
            if (beam == 5)
                printf("  %s -> %s\n", with_spans[i], r->hyps[0].text);
        }
        for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
            char a[4096];
            const stele_result *r;
            if (stele_translate(s, plain[i], -1, &off, &r, &err) != STELE_OK) {
                FAILF("shipped: \"%s\": %s", plain[i], err.message);
                continue;
            }
            snprintf(a, sizeof a, "%s", r->hyps[0].text);
            if (stele_translate(s, plain[i], -1, &on, &r, &err) != STELE_OK ||
                strcmp(a, r->hyps[0].text) != 0)
                FAILF("shipped: \"%s\": protection on and off differ (\"%s\" / \"%s\")",
                      plain[i], r ? r->hyps[0].text : "", a);
        }
    }
    printf("shipped: %d/%d translations keep every placeholder once and their tags balanced\n",
           ok, 2 * n);
    stele_session_free(s);
    stele_model_free(m);
}

/* The confidence of every hypothesis of r: per-token log-probabilities and their mean. */
static void check_confidence(const char *what, const stele_result *r, double alpha)
{
    for (int i = 0; i < r->n_hyps; i++) {
        const stele_hypothesis *h = &r->hyps[i];
        double sum = 0.0;
        for (int t = 0; t < h->n_tokens; t++) {
            double p = exp((double)h->token_logp[t]);
            if (!(p > 0.0 && p <= 1.0))
                FAILF("%s hyp %d token %d: exp(logp) %g outside (0, 1]", what, i, t, p);
            sum += (double)h->token_logp[t];
        }
        if (fabs(sum - h->logp) > 1e-9 * (1.0 + fabs(h->logp)))
            FAILF("%s hyp %d: token log-probabilities sum to %.17g, logp %.17g", what, i, sum,
                  h->logp);
        double mean = h->n_tokens ? sum / h->n_tokens : 0.0;
        if (fabs(mean - h->mean_logp) > 1e-9 * (1.0 + fabs(mean)))
            FAILF("%s hyp %d: mean of token log-probabilities %.17g, mean_logp %.17g", what, i,
                  mean, h->mean_logp);
        /* beta 0: score = logp / ((5 + n) / 6)^alpha */
        double sc = h->logp / pow((5.0 + h->n_tokens) / 6.0, alpha);
        if (fabs(sc - h->score) > 1e-9 * (1.0 + fabs(sc)))
            FAILF("%s hyp %d: score %.17g, logp / lp %.17g", what, i, h->score, sc);
    }
}

static void confidence(void)
{
    stele_model *m = NULL;
    stele_error err;
    if (stele_model_load_file(TINY, &m, &err) != STELE_OK) {
        FAILF("confidence: %s", err.message);
        return;
    }
    stele_session *s = NULL;
    stele_batch *b = NULL;
    if (stele_session_create(m, NULL, &s, &err) != STELE_OK ||
        stele_batch_create(m, NULL, 4, &b, &err) != STELE_OK) {
        FAILF("confidence: %s", err.message);
        stele_session_free(s);
        stele_model_free(m);
        return;
    }
    static const char *const texts[] = {"the dog", "open the box", "the cat and the dog",
                                        "close the box"};
    stele_params g = stele_default_params(), b5 = g;
    g.beam_size = 1;
    b5.nbest = 3;
    int checked = 0;
    for (int i = 0; i < 4; i++) {
        const stele_result *r;
        double greedy_mean = 0.0;
        if (stele_translate(s, texts[i], -1, &g, &r, &err) == STELE_OK) {
            check_confidence("greedy", r, g.alpha);
            greedy_mean = r->hyps[0].mean_logp;
            checked++;
        }
        if (stele_translate(s, texts[i], -1, &b5, &r, &err) == STELE_OK) {
            check_confidence("beam 5", r, b5.alpha);
            checked++;
            if (!(r->hyps[0].mean_logp <= 0.0) || !(greedy_mean <= 0.0))
                FAILF("confidence: mean_logp above 0");
        }
    }
    const stele_result *rs[4];
    if (stele_translate_batch(b, texts, NULL, 4, &g, rs, &err) != STELE_OK) {
        FAILF("confidence batch: %s", err.message);
    } else {
        for (int i = 0; i < 4; i++)
            check_confidence("batch", rs[i], g.alpha);
        checked += 4;
    }
    const stele_result *r;
    if (stele_translate(s, "   ", -1, &g, &r, &err) != STELE_OK || r->hyps[0].n_tokens != 0 ||
        r->hyps[0].mean_logp != 0.0 || !r->hyps[0].token_logp)
        FAILF("confidence: empty text should have no tokens, mean_logp 0");
    /* a refused text's error speaks of the text as given, not of its masked form */
    stele_params on = stele_default_params();
    if (stele_translate(s, "<b>x</b> bad \xff", -1, &on, &r, &err) != STELE_ERR_TEXT ||
        !strstr(err.message, "byte 13"))
        FAILF("protected text with invalid UTF-8: %s", err.message);
    printf("confidence: %d results consistent\n", checked);
    stele_batch_free(b);
    stele_session_free(s);
    stele_model_free(m);
}

int main(void)
{
    grammar();
    restoration();
    confidence();
    shipped();
    printf("protect: %s\n", g_failures ? "FAIL" : "ok");
    return g_failures ? 1 : 0;
}
