#!/usr/bin/python3
"""Corpus BLEU and chrF, written from their published definitions.

BLEU (Papineni et al. 2002): clipped n-gram precisions p_1..p_4 summed over the corpus, geometric
mean with equal weights, brevity penalty BP = exp(1 - r/c) when c <= r (c = hypothesis tokens,
r = reference tokens, one reference per segment), BLEU = 100 * BP * exp(mean(log p_n)). Any zero
precision gives 0. Tokenisation: the mteval-v13a rules (the default of sacreBLEU), see tok_13a.

chrF (Popović 2015): character n-grams n = 1..6 with whitespace removed;
precision and recall from corpus-level counts per order, averaged over the orders that have any
hypothesis/reference n-grams, then F_beta with beta = 2; reported x100.
"""
import math, re
from collections import Counter

_13A = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),   # punctuation and symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),                # period/comma unless in a number
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),                     # dash after a digit
]


def tok_13a(line):
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                .replace("&gt;", ">"))
    line = f" {line} "
    for rx, rep in _13A:
        line = rx.sub(rep, line)
    return line.split()


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu_stats(hyps, refs, tokenize=tok_13a):
    match, total = [0] * 4, [0] * 4
    c = r = 0
    for h, ref in zip(hyps, refs):
        ht, rt = tokenize(h), tokenize(ref)
        c += len(ht)
        r += len(rt)
        for n in range(1, 5):
            hn, rn = _ngrams(ht, n), _ngrams(rt, n)
            match[n - 1] += sum(min(k, rn[g]) for g, k in hn.items())
            total[n - 1] += max(len(ht) - n + 1, 0)
    return match, total, c, r


def corpus_bleu(hyps, refs, tokenize=tok_13a):
    """Returns {"bleu", "precisions", "bp", "hyp_len", "ref_len"}."""
    if len(hyps) != len(refs):
        raise ValueError("hypotheses and references differ in number")
    match, total, c, r = bleu_stats(hyps, refs, tokenize)
    precisions = [100.0 * m / t if t else 0.0 for m, t in zip(match, total)]
    if c == 0 or min(match) == 0:
        score = 0.0
    else:
        logp = sum(math.log(m / t) for m, t in zip(match, total)) / 4
        score = 100.0 * math.exp(logp)
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c else 0.0)
    return {"bleu": score * bp, "precisions": precisions, "bp": bp, "hyp_len": c, "ref_len": r}


def corpus_chrf(hyps, refs, order=6, beta=2.0):
    match, hyp_n, ref_n = [0] * order, [0] * order, [0] * order
    for h, ref in zip(hyps, refs):
        hs, rs = "".join(h.split()), "".join(ref.split())
        for n in range(1, order + 1):
            hc, rc = _ngrams(list(hs), n), _ngrams(list(rs), n)
            match[n - 1] += sum(min(k, rc[g]) for g, k in hc.items())
            hyp_n[n - 1] += sum(hc.values())
            ref_n[n - 1] += sum(rc.values())
    precs, recs = [], []
    for n in range(order):
        if hyp_n[n] and ref_n[n]:
            precs.append(match[n] / hyp_n[n])
            recs.append(match[n] / ref_n[n])
    if not precs:
        return 0.0
    p, r = sum(precs) / len(precs), sum(recs) / len(recs)
    if p + r == 0:
        return 0.0
    return 100.0 * (1 + beta ** 2) * p * r / (beta ** 2 * p + r)
