#!/usr/bin/python3
"""A truecasing table for a text model: the usual spelling, in the model's training source text,
of each ASCII word that is not usually written in lower case ("GitHub", "PDF", "Linux"), stored
in the model file as the tensor `tokenizer.truecase` (models/FORMAT.md). The engine respells ALL
CAPS input with it before translating (src/casing.c): the model was trained on text as people
write it, so "OPEN THE GITHUB PAGE" is translated as "Open the GitHub page".

This is the Moses truecaser's idea (a word's usual case is a fact about the corpus). Counting
follows the engine's own reading of a text, so that the two agree:
  * words are runs between ASCII spaces; a word's core is the word without its leading and
    trailing ASCII punctuation (string.punctuation, C's ispunct);
  * a sentence starts at the text's first word and after a word ending in '.', '!' or '?'
    (possibly followed by ')', ']', '"' or "'"); there a capital may be the sentence's, not the
    word's, so a sentence-initial core spelt capitalised (first letter upper, the rest lower) is
    not counted;
  * only printable-ASCII cores with a letter are counted; a core's spelling is its most frequent one (ties:
    lower case first, then the spelling's code order); only spellings with an upper-case letter
    are stored (lower case is the engine's default).

    python3 scripts/truecase.py --model models/ui-en-fr/model.safetensors \\
        --source build/corpus/ui-en-fr/train.en [--min-count 1]

Rewrites the model file in place (other tensors and metadata unchanged) and prints the table's
size. Lines "key<TAB>form\\n" sorted by key (bytes).
"""
import argparse, collections, os, string, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402

CLOSERS = ")]\"'"


def sentence_starts(words):
    """For each word of a line (split on spaces, empty words dropped), whether it starts a
    sentence (the rule of sentence_start in src/casing.c)."""
    out = [True]
    for w in words[:-1]:
        out.append(w.rstrip(CLOSERS)[-1:] in (".", "!", "?"))
    return out


def core_of(word):
    return word.strip(string.punctuation)


def is_ascii_word(core):
    """Printable ASCII only (what the engine's table accepts), with a letter."""
    return all("!" <= c <= "~" for c in core) and any(c.isalpha() for c in core)


def build_table(lines, min_count=1):
    """{key: form} for the given source lines (see the module docstring)."""
    counts = collections.defaultdict(collections.Counter)
    for line in lines:
        words = [w for w in line.rstrip("\n").split(" ") if w]
        for w, start in zip(words, sentence_starts(words)):
            core = core_of(w)
            if not is_ascii_word(core):
                continue
            if start and core[0].isupper() and core[1:] == core[1:].lower():
                continue
            counts[core.lower()][core] += 1
    table = {}
    for key, c in counts.items():
        form, n = sorted(c.items(), key=lambda kv: (-kv[1], kv[0] != key, kv[0]))[0]
        if form != key and n >= min_count:
            table[key] = form
    return table


def table_bytes(table):
    return "".join(f"{k}\t{table[k]}\n" for k in sorted(table)).encode("ascii")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--source", required=True, help="the model's training source text, one per line")
    ap.add_argument("--min-count", type=int, default=1)
    a = ap.parse_args()
    with open(a.source, encoding="utf-8") as f:
        table = build_table(f, a.min_count)
    data = table_bytes(table)
    tensors, meta = stio.load(a.model)
    tensors["tokenizer.truecase"] = np.frombuffer(data, dtype=np.uint8).copy()
    stio.save(a.model, tensors, meta)
    print(f"{a.model}: tokenizer.truecase, {len(table):,} words, {len(data):,} bytes")


if __name__ == "__main__":
    main()
