/* Protected spans: what a translator must not touch (placeholders, markup, mnemonics) is taken
 * out of the text before translation and put back afterwards, guided by the word attention.
 *
 * Grammar (byte-level, ASCII syntax; anything it does not accept is plain text and goes to the
 * model unchanged — never an error):
 *   printf     '%' ['(' name ')' | digits '$'] [flags -+#0]* [width digits|'*']
 *              ['.' digits|'*'] [length hh h ll l L q j z t] conversion diouxXeEfFgGaAcCsSpnm@
 *              e.g. %s %d %1$s %-5.2f %ld %lu %m %(name)s. "%%" is a literal percent: one span,
 *              kept as it is. A '%' the grammar rejects ("50% off", '%' at the end) is plain text
 *              (no space flag: "100% done" is not "% d").
 *   braces     '{' ... '}' with balanced nested braces (depth <= 32), whose head (up to the first
 *              ',', ':', '!' or '}') is empty or [A-Za-z0-9_.[]]: {} {0} {name} {0:>5}
 *              {count, plural, one {# file} other {# files}} (ICU: the whole message is one span).
 *              "{{" and "}}" are literal braces; an unbalanced '{' is plain text.
 *   dollar     '$' digits ($1), '$' name '$' ($name$), '${' name '}'.
 *   tags       '<' ['/'] name attributes ['/'] '>' (name [A-Za-z][A-Za-z0-9:_-]*, attributes
 *              without '<', quotes respected). "<x/>" and the void HTML elements (<br>, <hr>,
 *              <img>, ...) are placeholders; an opening tag is protected only with its closing
 *              tag, properly nested (<b>..</b>): unpaired or crossing tags are plain text.
 *   entities   '&' name ';', '&#' digits ';', '&#x' hex ';': placeholders.
 *   mnemonics  '_' or '&' (not an entity) directly before a letter (ASCII or any non-ASCII
 *              character): _File, &Open, St_yle. Only when the text has exactly one such marker
 *              (several underscores are more likely identifiers: snake_case_name).
 * At most PROTECT_MAX_SPANS spans: a text with more is translated unprotected.
 *
 * Masked text (what the model sees): tags and mnemonic markers are cut out; the placeholders
 * the catalogs the model learnt from are full of (%s %d %(name)s {name} {0}) stay as they are,
 * every other one becomes %d (integer conversions d i o u x X) or %s ("%%" stays). Chosen by
 * measurement (README "Placeholders and markup", scripts/protect_fidelity.py): kept as they are,
 * rare forms (%2$s, %ld, $1, &amp;, <br/>) come back from the model as broken fragments beside the
 * restored placeholder ("%2$ %2$s"); all canonical loses 2 chrF on the test split, because names
 * like %(spouse)s tell the model what the slot is.
 *
 * Restoration, on the model's output split at whitespace into words (the model's words: a
 * SentencePiece word starts at each space), with the word alignment a[target word] = source word:
 *   - placeholders in the output are matched to the source's by text, each output one to the
 *     unused source placeholder whose word is nearest its aligned source word; an output
 *     placeholder with no match is invented and removed; a source placeholder never matched is
 *     inserted as its own word after the target word aligned to its own source word (or to the
 *     nearest source word before it with an aligned target word; else before the first target
 *     word aligned to one after it). Each source placeholder ends up exactly once.
 *   - a tag pair wrapping source words [i, j] wraps the target words aligned to any of them
 *     (first to last); with none, an empty pair where a placeholder would go. Target ranges are
 *     clamped into their source parent's and made laminar (a range crossing an earlier one is
 *     cut at its end), so the output's tags are balanced and properly nested. Tags the model
 *     invented are removed.
 *   - the mnemonic marker goes before the first letter of the first target word aligned to its
 *     word (else of the nearest word with a letter); markers the model wrote are removed.
 * When the word counts disagree with the model's (rare normalisations, <unk>), positions are
 * proportional instead: source word i of n goes to target word i * m / n. */
#include "protect.h"
#include <stdlib.h>
#include <string.h>

/* Masks (top comment): 0 every placeholder as it is; 1 every one as %d / %s; 2 (default) %s %d
   %(name)s {name} {0} as they are, the rest as %d / %s; 3 only %s %d {0} as they are. Kept so
   the measurement can be rerun (README "Placeholders and markup"). */
#ifndef PROTECT_MASK_POLICY
#define PROTECT_MASK_POLICY 2
#endif

struct protect_ctx {
    size_t max_text, max_out, out_cap;
    int n_out, max_words, max_tw;
    /* source */
    protect_span spans[PROTECT_MAX_SPANS];
    int n_spans;
    const char *src;
    char *masked;
    size_t masked_len;
    int *sw_start, *sw_end, ns;      /* masked-text words */
    int *first, *last;               /* [ns] first / last target word aligned, -1 */
    /* target */
    int *tw_start, *tw_end, nt;
    protect_span *tspans;            /* spans found in the output */
    int *tmatch;                     /* [tspans]: source span index, -1 (remove) */
    int tcap;
    /* per source span */
    int used[PROTECT_MAX_SPANS], gap[PROTECT_MAX_SPANS];
    int rs[PROTECT_MAX_SPANS], re[PROTECT_MAX_SPANS], order[PROTECT_MAX_SPANS];
    int mn_word, mn_off;             /* mnemonic: target word and byte offset, -1 */
    char **out;
};

static int is_alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_ident(unsigned char c) { return is_alpha(c) || is_digit(c) || c == '_'; }
/* A letter for mnemonics: ASCII, or the lead byte of a non-ASCII character (UI text's
 * non-ASCII characters are overwhelmingly letters). */
static int is_letter(unsigned char c) { return is_alpha(c) || c >= 0xC0; }
static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A printf width or precision at s[j]: '*' or digits (possibly none). Returns the end. */
static size_t skip_count(const unsigned char *s, size_t n, size_t j)
{
    if (j < n && s[j] == '*')
        return j + 1;
    while (j < n && is_digit(s[j]))
        j++;
    return j;
}

static size_t match_printf(const unsigned char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j >= n)
        return 0;
    if (s[j] == '%')
        return 2;
    if (s[j] == '(') {
        size_t k = j + 1;
        while (k < n && is_ident(s[k]))
            k++;
        if (k == j + 1 || k >= n || s[k] != ')')
            return 0;
        j = k + 1;
    } else {
        size_t k = j;
        while (k < n && is_digit(s[k]))
            k++;
        if (k > j && k < n && s[k] == '$')
            j = k + 1;
    }
    while (j < n && (s[j] == '-' || s[j] == '+' || s[j] == '#' || s[j] == '0'))
        j++;
    j = skip_count(s, n, j);   /* width */
    if (j < n && s[j] == '.')
        j = skip_count(s, n, j + 1);   /* precision */
    if (j + 1 < n && ((s[j] == 'h' && s[j + 1] == 'h') || (s[j] == 'l' && s[j + 1] == 'l')))
        j += 2;
    else if (j < n && s[j] && strchr("hlLqjzt", s[j]))
        j++;
    if (j < n && s[j] && strchr("diouxXeEfFgGaAcCsSpnm@", s[j]))
        return j + 1 - i;
    return 0;
}

/* The placeholders the model copies best: %s %d %(name)s {name} {0}. */
static int plain_mask(const char *m, size_t n)
{
    if (n == 2 && m[0] == '%')
        return m[1] == 's' || m[1] == 'd';
    if (PROTECT_MASK_POLICY == 2 && m[0] == '%' && m[1] == '(')
        return m[n - 1] == 's' || m[n - 1] == 'd';
    if (m[0] == '{') {
        if (PROTECT_MASK_POLICY == 3)   /* {0} only */
            for (size_t i = 1; i + 1 < n; i++)
                if (!is_digit((unsigned char)m[i]))
                    return 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (!is_ident((unsigned char)m[i]))
                return 0;
        return n > 2;
    }
    return 0;
}

static size_t match_brace(const unsigned char *s, size_t n, size_t i)
{
    int depth = 0;
    size_t end = 0;
    for (size_t k = i; k < n; k++) {
        if (s[k] == '{' && ++depth > 32)
            return 0;
        if (s[k] == '}' && --depth == 0) {
            end = k + 1;
            break;
        }
    }
    if (!end)
        return 0;
    size_t h = i + 1;
    while (h < end && (is_ident(s[h]) || s[h] == '.' || s[h] == '[' || s[h] == ']'))
        h++;
    if (s[h] != '}' && s[h] != ',' && s[h] != ':' && s[h] != '!')
        return 0;
    return end - i;
}

static size_t match_dollar(const unsigned char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && is_digit(s[j])) {
        while (j < n && is_digit(s[j]))
            j++;
        return j - i;
    }
    int brace = j < n && s[j] == '{';
    j += (size_t)brace;
    if (j >= n || !(is_alpha(s[j]) || s[j] == '_'))
        return 0;
    while (j < n && is_ident(s[j]))
        j++;
    if (j < n && s[j] == (brace ? '}' : '$'))
        return j + 1 - i;
    return 0;
}

static size_t tag_name(const unsigned char *s, size_t n, size_t j)
{
    size_t k = j;
    if (k >= n || !is_alpha(s[k]))
        return 0;
    while (k < n && (is_ident(s[k]) || s[k] == ':' || s[k] == '-'))
        k++;
    return k - j;
}

static int is_void_element(const unsigned char *name, size_t len)
{
    static const char *const v[] = {"br", "hr", "img", "input", "wbr", "meta", "link", "col",
                                    "area", "base", "embed", "param", "source", "track"};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        if (strlen(v[i]) != len)
            continue;
        size_t k = 0;
        while (k < len && (name[k] | 32) == v[i][k])
            k++;
        if (k == len)
            return 1;
    }
    return 0;
}

/* A tag at s[i] == '<': its length and kind (0: not a tag). */
static size_t match_tag(const unsigned char *s, size_t n, size_t i, int *kind)
{
    size_t j = i + 1;
    int close = j < n && s[j] == '/';
    j += (size_t)close;
    size_t nl = tag_name(s, n, j);
    if (!nl)
        return 0;
    const unsigned char *name = s + j;
    j += nl;
    if (j < n && !is_space(s[j]) && s[j] != '>' && s[j] != '/')
        return 0;
    unsigned char quote = 0;
    for (; j < n; j++) {
        if (quote) {
            if (s[j] == quote)
                quote = 0;
        } else if (s[j] == '"' || s[j] == '\'') {
            quote = s[j];
        } else if (s[j] == '<') {
            return 0;
        } else if (s[j] == '>') {
            break;
        }
    }
    if (j >= n)
        return 0;
    int self = s[j - 1] == '/';
    if (close && self)
        return 0;
    *kind = close ? PROTECT_CLOSE
                  : self || is_void_element(name, nl) ? PROTECT_PLACEHOLDER : PROTECT_OPEN;
    return j + 1 - i;
}

static size_t match_entity(const unsigned char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
        j++;
        int hex = j < n && (s[j] == 'x' || s[j] == 'X');
        j += (size_t)hex;
        size_t k = j;
        while (k < n && (is_digit(s[k]) || (hex && (s[k] | 32) >= 'a' && (s[k] | 32) <= 'f')))
            k++;
        return k > j && k < n && s[k] == ';' ? k + 1 - i : 0;
    }
    if (j >= n || !is_alpha(s[j]))
        return 0;
    while (j < n && (is_alpha(s[j]) || is_digit(s[j])))
        j++;
    return j < n && s[j] == ';' ? j + 1 - i : 0;
}

/* The name of the tag span sp (after "<" or "</"). */
static const unsigned char *span_tag_name(const unsigned char *s, size_t n, const protect_span *sp,
                                          size_t *len)
{
    size_t j = (size_t)sp->start + 1 + (sp->kind == PROTECT_CLOSE);
    *len = tag_name(s, n, j);
    return s + j;
}

/* target: report every candidate (tags unpaired, several mnemonics) and stop at cap. */
static int scan(const char *text, size_t n, protect_span *sp, int cap, int target)
{
    const unsigned char *s = (const unsigned char *)text;
    int count = 0, mnemonics = 0;
    for (size_t i = 0; i < n;) {
        size_t len = 0;
        int kind = PROTECT_PLACEHOLDER;
        unsigned char c = s[i];
        if (c == '%') {
            len = match_printf(s, n, i);
        } else if (c == '{' || c == '}') {
            if (i + 1 < n && s[i + 1] == c) {   /* "{{" "}}": literal brace */
                i += 2;
                continue;
            }
            len = c == '{' ? match_brace(s, n, i) : 0;
        } else if (c == '$') {
            len = match_dollar(s, n, i);
        } else if (c == '<') {
            len = match_tag(s, n, i, &kind);
        } else if (c == '&') {
            len = match_entity(s, n, i);
            if (!len && i + 1 < n && is_letter(s[i + 1])) {
                kind = PROTECT_MNEMONIC;
                len = 1;
            }
        } else if (c == '_' && i + 1 < n && is_letter(s[i + 1]) && (i == 0 || s[i - 1] != '_')) {
            kind = PROTECT_MNEMONIC;
            len = 1;
        }
        if (!len) {
            i++;
            continue;
        }
        if (count == cap)
            return target ? count : 0;
        protect_span *p = &sp[count++];
        memset(p, 0, sizeof *p);
        p->kind = kind;
        p->start = (int)i;
        p->len = (int)len;
        p->pair = p->parent = -1;
        mnemonics += kind == PROTECT_MNEMONIC;
        i += len;
    }
    if (target)
        return count;
    /* Pair the tags: a closing tag takes the nearest open one of its name; opens it skips over
       and closings without an open one stay plain text (kind 0, dropped below). */
    int stack[PROTECT_MAX_SPANS], top = 0;
    for (int k = 0; k < count; k++) {
        if (sp[k].kind == PROTECT_MNEMONIC && mnemonics != 1)
            sp[k].kind = 0;
        if (sp[k].kind == PROTECT_OPEN) {
            stack[top++] = k;
        } else if (sp[k].kind == PROTECT_CLOSE) {
            size_t cl, ol;
            const unsigned char *cn = span_tag_name(s, n, &sp[k], &cl);
            int d = top - 1;
            for (; d >= 0; d--) {
                const unsigned char *on = span_tag_name(s, n, &sp[stack[d]], &ol);
                if (ol == cl && memcmp(on, cn, cl) == 0)
                    break;
            }
            if (d < 0) {
                sp[k].kind = 0;
                continue;
            }
            for (int e = d + 1; e < top; e++)
                sp[stack[e]].kind = 0;
            top = d;
        }
    }
    for (int e = 0; e < top; e++)
        sp[stack[e]].kind = 0;
    int m = 0;
    for (int k = 0; k < count; k++)
        if (sp[k].kind)
            sp[m++] = sp[k];
    /* The kept tags nest properly: partners and parents from one stack. */
    top = 0;
    for (int k = 0; k < m; k++) {
        if (sp[k].kind == PROTECT_OPEN) {
            sp[k].parent = top ? stack[top - 1] : -1;
            stack[top++] = k;
        } else if (sp[k].kind == PROTECT_CLOSE) {
            int o = stack[--top];
            sp[k].pair = o;
            sp[o].pair = k;
            sp[k].parent = sp[o].parent;
        }
    }
    return m;
}

int protect_scan(const char *text, size_t n, protect_span *spans, int cap)
{
    if (!text || !spans || cap <= 0)
        return 0;
    return scan(text, n, spans, cap, 0);
}

void protect_free(protect_ctx *c)
{
    if (!c)
        return;
    if (c->out)
        for (int i = 0; i < c->n_out; i++)
            free(c->out[i]);
    void *bufs[] = {c->masked, c->sw_start, c->sw_end, c->first, c->last, c->tw_start,
                    c->tw_end, c->tspans, c->tmatch, c->out};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
    free(c);
}

protect_ctx *protect_create(size_t max_text_bytes, int max_words, size_t max_out_bytes, int n_out)
{
    protect_ctx *c = calloc(1, sizeof *c);
    if (!c || n_out < 1 || max_words < 1)
        return free(c), NULL;
    c->max_text = max_text_bytes;
    c->max_out = max_out_bytes;
    c->n_out = n_out;
    /* restored text: the output, every source span once, a space around each */
    c->out_cap = max_out_bytes + PROTECT_MAX_SPAN_BYTES + 3 * PROTECT_MAX_SPANS + 16;
    size_t nsw = (size_t)max_words, ntw = max_out_bytes / 2 + 2;
    c->max_words = max_words;
    c->max_tw = (int)ntw;
    c->tcap = (int)(ntw < 4 * PROTECT_MAX_SPANS ? ntw : 4 * PROTECT_MAX_SPANS);
    c->masked = malloc(max_text_bytes + 1);
    c->sw_start = malloc(nsw * sizeof(int));
    c->sw_end = malloc(nsw * sizeof(int));
    c->first = malloc(nsw * sizeof(int));
    c->last = malloc(nsw * sizeof(int));
    c->tw_start = malloc(ntw * sizeof(int));
    c->tw_end = malloc(ntw * sizeof(int));
    c->tspans = malloc((size_t)c->tcap * sizeof(protect_span));
    c->tmatch = malloc((size_t)c->tcap * sizeof(int));
    c->out = calloc((size_t)n_out, sizeof(char *));
    int ok = c->masked && c->sw_start && c->sw_end && c->first && c->last && c->tw_start &&
             c->tw_end && c->tspans && c->tmatch && c->out;
    for (int i = 0; ok && i < n_out; i++)
        ok = (c->out[i] = malloc(c->out_cap)) != NULL;
    if (!ok) {
        protect_free(c);
        return NULL;
    }
    return c;
}

/* Whitespace-separated words of s[0..n): starts and ends into st/en; returns the count, -1
 * when there are more than cap. */
static int split_words(const char *s, size_t n, int *st, int *en, int cap)
{
    int w = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && is_space((unsigned char)s[i]))
            i++;
        if (i >= n)
            break;
        if (w == cap)
            return -1;
        st[w] = (int)i;
        while (i < n && !is_space((unsigned char)s[i]))
            i++;
        en[w++] = (int)i;
    }
    return w;
}

int protect_mask(protect_ctx *c, const char *text, size_t n, const char **masked,
                 size_t *masked_len)
{
    *masked = text;
    *masked_len = n;
    c->n_spans = 0;
    if (n > c->max_text)
        return 0;
    int ns = scan(text, n, c->spans, PROTECT_MAX_SPANS, 0);
    size_t span_bytes = 0;
    for (int k = 0; k < ns; k++)
        span_bytes += (size_t)c->spans[k].len;
    if (ns == 0 || span_bytes > PROTECT_MAX_SPAN_BYTES)
        return 0;
    size_t j = 0, pos = 0;
    for (int k = 0; k < ns; k++) {
        protect_span *sp = &c->spans[k];
        memcpy(c->masked + j, text + pos, (size_t)sp->start - pos);
        j += (size_t)sp->start - pos;
        sp->mpos = (int)j;
        sp->mlen = 0;
        if (sp->kind == PROTECT_PLACEHOLDER) {   /* see the top comment */
            const char *mk = text + sp->start;
            size_t ml = (size_t)sp->len;
            if (PROTECT_MASK_POLICY && !(ml == 2 && mk[1] == '%') &&
                (PROTECT_MASK_POLICY == 1 || !plain_mask(mk, ml))) {
                char conv = mk[0] == '%' ? mk[ml - 1] : 's';
                mk = strchr("diouxX", conv) ? "%d" : "%s";
                ml = 2;
            }
            memcpy(c->masked + j, mk, ml);
            sp->mlen = (int)ml;
            j += ml;
        }
        pos = (size_t)(sp->start + sp->len);
    }
    memcpy(c->masked + j, text + pos, n - pos);
    j += n - pos;
    c->masked[j] = 0;
    c->masked_len = j;
    c->src = text;
    c->ns = split_words(c->masked, j, c->sw_start, c->sw_end, c->max_words);
    if (c->ns < 0)   /* more words than source tokens: the text fails the limit anyway */
        return 0;
    for (int k = 0; k < ns; k++) {
        protect_span *sp = &c->spans[k];
        int w;
        if (sp->kind == PROTECT_CLOSE) {   /* last word starting before the cut */
            for (w = c->ns - 1; w >= 0 && c->sw_start[w] >= sp->mpos; w--)
                ;
        } else {                           /* first word ending after it */
            for (w = 0; w < c->ns && c->sw_end[w] <= sp->mpos; w++)
                ;
        }
        sp->word = w;
    }
    c->n_spans = ns;
    *masked = c->masked;
    *masked_len = j;
    return ns;
}

/* ---- restoration ------------------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t n, cap;
    int sep, overflow;   /* sep: a space before the next word item */
} writer;

static void put(writer *w, const char *s, size_t n)
{
    if (w->n + n + 1 > w->cap) {
        w->overflow = 1;
        return;
    }
    memcpy(w->buf + w->n, s, n);
    w->n += n;
}

/* Text that belongs to a word: the pending separator first. */
static void item(writer *w, const char *s, size_t n)
{
    if (w->sep && w->n > 0)
        put(w, " ", 1);
    w->sep = 0;
    put(w, s, n);
}

/* Where something tied to source word sw goes when sw itself has no aligned target word: after
 * the nearest earlier aligned word, else before the nearest later one, else at the end. */
static int anchor_gap(const protect_ctx *c, int sw)
{
    for (int k = (sw < c->ns ? sw : c->ns) - 1; k >= 0; k--)
        if (c->last[k] >= 0)
            return c->last[k] + 1;
    for (int k = sw + 1; k < c->ns; k++)
        if (c->first[k] >= 0)
            return c->first[k];
    return sw <= 0 ? 0 : c->nt;
}

/* Whether the output span y (in target) is source placeholder x's mask. */
static int is_mask_of(const protect_ctx *c, const protect_span *x, const char *target,
                      const protect_span *y)
{
    return x->mlen == y->len && memcmp(c->masked + x->mpos, target + y->start, (size_t)y->len) == 0;
}

static void place_tags(protect_ctx *c)
{
    const protect_span *sp = c->spans;
    int np = 0;
    for (int k = 0; k < c->n_spans; k++) {
        if (sp[k].kind != PROTECT_OPEN)
            continue;
        int a = sp[k].word, b = sp[sp[k].pair].word, s = -1, e = -1;
        for (int w = a; w <= b && w < c->ns; w++) {
            if (w < 0 || c->first[w] < 0)
                continue;
            if (s < 0 || c->first[w] < s)
                s = c->first[w];
            if (c->last[w] + 1 > e)
                e = c->last[w] + 1;
        }
        if (s < 0)
            s = e = anchor_gap(c, a);
        int p = sp[k].parent;   /* inside the parent's range (parents come first) */
        if (p >= 0) {
            if (s < c->rs[p])
                s = c->rs[p];
            if (e > c->re[p])
                e = c->re[p];
            if (s > e)
                s = e = s > c->re[p] ? c->re[p] : s;
        }
        c->rs[k] = s;
        c->re[k] = e;
        c->order[np++] = k;
    }
    /* Pre-order: start ascending, end descending, then source order (a parent first). */
    for (int i = 1; i < np; i++) {
        int k = c->order[i], j = i;
        while (j > 0) {
            int q = c->order[j - 1];
            if (c->rs[q] < c->rs[k] || (c->rs[q] == c->rs[k] && c->re[q] >= c->re[k]))
                break;
            c->order[j] = q;
            j--;
        }
        c->order[j] = k;
    }
    /* Laminar: a range crossing the enclosing one's end is cut there. */
    int stack[PROTECT_MAX_SPANS], top = 0;
    for (int i = 0; i < np; i++) {
        int k = c->order[i];
        while (top && c->re[stack[top - 1]] <= c->rs[k])
            top--;
        if (top && c->re[k] > c->re[stack[top - 1]])
            c->re[k] = c->re[stack[top - 1]];
        stack[top++] = k;
    }
}

static void put_span(writer *w, const protect_ctx *c, int k)
{
    put(w, c->src + c->spans[k].start, (size_t)c->spans[k].len);
}

/* Closing tags of ranges ending at gap g (innermost first), then, unless end, the empty ranges
 * and the openings at g (outermost first). */
static void tags_at(writer *w, const protect_ctx *c, int g, int closes)
{
    const protect_span *sp = c->spans;
    int np = 0;
    for (int k = 0; k < c->n_spans; k++)
        np += sp[k].kind == PROTECT_OPEN;
    for (int r = closes ? np - 1 : 0; closes ? r >= 0 : r < np; r += closes ? -1 : 1) {
        int k = c->order[r];
        if (closes) {
            if (c->re[k] == g && c->rs[k] < g)
                put_span(w, c, sp[k].pair);
        } else if (c->rs[k] == g && c->re[k] == g) {
            item(w, "", 0);
            put_span(w, c, k);
            put_span(w, c, sp[k].pair);
        }
    }
    if (!closes)
        for (int r = 0; r < np; r++) {
            int k = c->order[r];
            if (c->rs[k] == g && c->re[k] > g) {
                item(w, "", 0);
                put_span(w, c, k);
            }
        }
}

const char *protect_restore(protect_ctx *c, int slot, const char *target, int n_src_words,
                            int n_tgt_words, const int32_t *align, const float *word_attn)
{
    if (slot < 0 || slot >= c->n_out || !target)
        return NULL;
    size_t tn = strlen(target);
    if (tn > c->max_out)
        return NULL;
    const protect_span *sp = c->spans;
    const int ns = c->ns, nt = c->nt = split_words(target, tn, c->tw_start, c->tw_end, c->max_tw);
    if (nt < 0)
        return NULL;
    const int use_align = align && nt == n_tgt_words && ns == n_src_words;
    for (int w = 0; w < ns; w++) {
        c->first[w] = c->last[w] = -1;
        if (!use_align && nt > 0)
            c->first[w] = c->last[w] = (int)((long)w * nt / ns);
    }
    for (int t = 0; use_align && t < nt; t++) {
        int a = align[t];
        if (a < 0 || a >= ns)
            continue;
        if (c->first[a] < 0)
            c->first[a] = t;
        c->last[a] = t;
    }
    /* Spans the model wrote: placeholders matched to the source's, the rest removed. */
    int mn_src = -1;
    for (int k = 0; k < c->n_spans; k++) {
        c->used[k] = 0;
        if (sp[k].kind == PROTECT_MNEMONIC)
            mn_src = k;
    }
    int ntsp = scan(target, tn, c->tspans, c->tcap, 1), tw = 0;
    for (int o = 0; o < ntsp; o++) {
        protect_span *t = &c->tspans[o];
        c->tmatch[o] = -1;
        if (t->kind == PROTECT_MNEMONIC &&
            (mn_src < 0 || target[t->start] != c->src[sp[mn_src].start]))
            c->tmatch[o] = -2;   /* not ours: plain text */
        while (tw < nt && c->tw_end[tw] <= t->start)
            tw++;
        /* the source word it is aligned to, kept in its (unused) word field */
        t->word = use_align && tw < nt ? align[tw] : nt ? (int)((long)tw * ns / nt) : 0;
    }
    /* Closest pairs first (source placeholder word vs the output one's aligned word; ties: the
       earlier output), so a copy next to its own word wins over a stray one. */
    for (;;) {
        int bo = -1, bk = -1, bd = 0;
        for (int o = 0; o < ntsp; o++) {
            const protect_span *t = &c->tspans[o];
            if (t->kind != PROTECT_PLACEHOLDER || c->tmatch[o] != -1)
                continue;
            for (int k = 0; k < c->n_spans; k++) {
                if (sp[k].kind != PROTECT_PLACEHOLDER || c->used[k] ||
                    !is_mask_of(c, &sp[k], target, t))
                    continue;
                int d = abs(sp[k].word - t->word);
                if (bo < 0 || d < bd) {
                    bo = o;
                    bk = k;
                    bd = d;
                }
            }
        }
        if (bo < 0)
            break;
        c->tmatch[bo] = bk;
        c->used[bk] = 1;
    }
    for (int k = 0; k < c->n_spans; k++) {
        c->gap[k] = -1;
        if (sp[k].kind == PROTECT_PLACEHOLDER && !c->used[k]) {
            int w = sp[k].word;
            c->gap[k] = w < ns && c->first[w] >= 0 ? c->first[w] + 1 : anchor_gap(c, w);
            if (c->gap[k] > nt)
                c->gap[k] = nt;
        }
    }
    place_tags(c);
    /* The mnemonic: in the target word that attends most to its word (else the first aligned
       one, else the nearest after, else before), on the letter it marked in the source when
       the word has it (St_yle -> st_yle), else on the first letter; no letter at all: the
       start. */
    c->mn_word = c->mn_off = -1;
    if (mn_src >= 0 && nt > 0) {
        int w = sp[mn_src].word, t0 = w < ns && c->first[w] >= 0 ? c->first[w] : anchor_gap(c, w);
        if (use_align && word_attn && w < ns && c->first[w] >= 0)
            for (int t = 0; t < nt; t++)
                if (word_attn[(size_t)t * ns + w] > word_attn[(size_t)t0 * ns + w])
                    t0 = t;
        if (t0 >= nt)
            t0 = nt - 1;
        /* a marker on its word's first letter stays on the first letter (_Settings) */
        unsigned char want = w < ns && c->sw_start[w] == sp[mn_src].mpos
                                 ? 0 : (unsigned char)c->src[sp[mn_src].start + 1];
        for (int i = c->tw_start[t0]; i < c->tw_end[t0] && is_alpha(want); i++)
            if (((unsigned char)target[i] | 32) == (want | 32)) {
                c->mn_word = t0;
                c->mn_off = i;
                break;
            }
        for (int d = 0; d < 2 * nt && c->mn_word < 0; d++) {
            int t = d < nt - t0 ? t0 + d : t0 - (d - (nt - t0)) - 1;
            if (t < 0 || t >= nt)
                continue;
            for (int i = c->tw_start[t]; i < c->tw_end[t]; i++)
                if (is_letter((unsigned char)target[i])) {
                    c->mn_word = t;
                    c->mn_off = i;
                    break;
                }
        }
    }
    writer w = {c->out[slot], 0, c->out_cap, 0, 0};
    if (mn_src >= 0 && c->mn_word < 0)
        put_span(&w, c, mn_src);
    int o = 0;
    for (int g = 0; g <= nt; g++) {
        tags_at(&w, c, g, 1);
        for (int k = 0; k < c->n_spans; k++)
            if (c->gap[k] == g) {
                w.sep = 1;
                item(&w, c->src + sp[k].start, (size_t)sp[k].len);
                w.sep = 1;
            }
        tags_at(&w, c, g, 0);
        if (g == nt)
            break;
        for (int i = c->tw_start[g]; i < c->tw_end[g];) {
            while (o < ntsp && c->tspans[o].start < i)
                o++;
            if (i == c->mn_off)
                item(&w, c->src + sp[mn_src].start, 1);
            if (o < ntsp && c->tspans[o].start == i && c->tmatch[o] != -2) {
                if (c->tmatch[o] >= 0)
                    item(&w, c->src + sp[c->tmatch[o]].start, (size_t)sp[c->tmatch[o]].len);
                i += c->tspans[o].len;
                continue;
            }
            item(&w, target + i, 1);
            i++;
        }
        w.sep = 1;
    }
    if (w.overflow)
        return NULL;
    w.buf[w.n] = 0;
    return w.buf;
}
