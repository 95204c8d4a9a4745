#!/usr/bin/python3
"""Placeholder and markup fidelity of the native CLI, protection off and on.

Two sets of English strings: the lines of the ui-en-fr test split (--corpus DIR/test.en) that
hold at least one placeholder or tag pair, and strings this script generates (fixed seed: UI
templates with every placeholder kind, markup and mnemonics; --generated N of them). Each is
translated with `stele translate --beam 5`, with and without --no-protect.

Metrics (the grammar is re-implemented here as regular expressions, independently of
src/protect.c, so a scanner bug there does not grade itself):
  placeholders kept  every placeholder of the source exactly once in the output, none added
                     (multiset equality), over the strings that have placeholders;
  tags balanced      the output's tags balanced and properly nested, over the strings whose
                     source tags are (and have at least one pair);
  tags kept          the output has the source's tags (multiset), same strings;
  clean              the output has exactly the source's count of each of % { } $ < > & (no
                     fragments of placeholders the model broke: "%2$" next to the restored "%2$s");
  chrF               of the outputs against the test split's references (how well the spans
                     are placed and the rest translated; used to choose the masking).
Prints a Markdown table (the README's "Placeholders and markup" section) and, with --failures,
the strings that still fail with protection on.
"""
import argparse, collections, gettext, os, random, re, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bleu import corpus_chrf  # noqa: E402

PLACEHOLDER = re.compile(
    r"\{\{|\}\}"                                              # literal braces: skipped
    r"|%(?:%|(?:\([A-Za-z0-9_]+\)|[0-9]+\$)?[-+#0]*(?:\*|[0-9]*)(?:\.(?:\*|[0-9]*))?"
    r"(?:hh|ll|[hlLqjzt])?[diouxXeEfFgGaAcCsSpnm@])"          # printf, %(name)s, %1$s, %%
    r"|\{[A-Za-z0-9_.\[\]]*(?:[,:!][^{}]*)?\}"               # {name} {0} {} {0:>5} (no nesting)
    r"|\$(?:[0-9]+|[A-Za-z_][A-Za-z0-9_]*\$|\{[A-Za-z_][A-Za-z0-9_]*\})"   # $1 $name$ ${name}
    r"|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);"  # entities
    r"|<[A-Za-z][A-Za-z0-9:_-]*(?:\s[^<>]*)?/>"              # self-closing tags
    r"|<(?:br|hr|img|wbr)(?:\s[^<>]*)?>")                    # void elements
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:_-]*)(?:\s[^<>]*)?(?<!/)>")
VOID = {"br", "hr", "img", "wbr"}


def placeholders(s):
    return collections.Counter(m.group(0) for m in PLACEHOLDER.finditer(s)
                               if m.group(0) not in ("{{", "}}"))


def tags(s):
    return [(m.group(1) == "/", m.group(2)) for m in TAG.finditer(s) if m.group(2) not in VOID]


def balanced(ts):
    stack = []
    for close, name in ts:
        if not close:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def kind(ph):
    """The kind of a placeholder, for the per-kind breakdown: %s, %ld, ... as they are for plain
    printf conversions; positional, named, brace, dollar, entity, tag, literal %% otherwise."""
    if ph == "%%":
        return "%%"
    if ph[0] == "%":
        if "$" in ph:
            return "%N$x"
        if ph[1] == "(":
            return "%(name)x"
        return "%width.prec" if ph[1] in "-+#0123456789*." else ph
    return {"{": "{...}", "$": "$...", "&": "&entity;", "<": "<tag/>"}[ph[0]]


def by_kind(src, out, table):
    for s, o in zip(src, out):
        ps, po = placeholders(s), placeholders(o)
        for ph, n in ps.items():
            t = table.setdefault(kind(ph), [0, 0])
            t[0] += po[ph] == n
            t[1] += 1


def generate(n, seed=15):
    rng = random.Random(seed)
    phs = ["%s", "%d", "%i", "%u", "%ld", "%lu", "%m", "%1$s", "%2$s", "%1$d", "%.2f", "%5d",
           "%(name)s", "%(count)d", "%(file)s", "{name}", "{0}", "{1}", "{count}", "$1", "$2",
           "$name$", "%%", "&amp;", "&#215;", "<br/>"]
    templates = [
        "Cannot open file {P}", "Deleting {P} files", "{P} of {P} items selected", "Error: {P}",
        "Could not connect to {P}: {P}", "Saved {P} at {P}", "{P} minutes remaining",
        "Welcome back, {P}!", "Copy {P} to {P}", "Downloading {P} ({P} of {P})",
        "File {P} already exists.", "Unable to delete {P}", "Select {P}", "Printing page {P}",
        "The folder {P} is empty", "Found {P} matches for {P}", "Move {P} to the trash?",
        "Sending message to {P}", "Invalid value for {P}", "Installing {P} packages",
        "Last modified: {P}", "Rename {P} to {P}", "{P} is not a valid name",
        "Search for {P} in {P}", "Connected to {P}", "Failed to load {P}",
        "Progress: {P}", "Open {P} with", "Remove {P} from the list", "Size: {P}"]
    markup = ["<b>{W}</b> {R}", "{R} <i>{W}</i>", "<b>{W}</b> {R} <i>{W2}</i>",
              "<b><i>{W}</i></b> {R}", "Click <a href=\"#\">{W}</a> to continue",
              "<span>{W}</span> {R}", "<b>{W} {R}</b>"]
    words = ["Save", "Open", "Close", "Warning", "Note", "Important", "Settings", "Delete",
             "Print", "Edit", "Cancel", "Help", "Error"]
    rests = ["the document", "this file", "all changes", "the window", "your settings",
             "the selected items", "a new folder", "the current page"]
    mnemonic = ["_File", "_Edit", "_View", "_Help", "_Open", "Save _As", "_Quit", "&Open",
                "&Save", "E&xit", "_Print", "_Close", "Re_load", "_Settings"]
    out = []
    for i in range(n):
        k = i % 4
        if k < 2:
            t = rng.choice(templates)
            while "{P}" in t:
                t = t.replace("{P}", rng.choice(phs), 1)
        elif k == 2:
            t = rng.choice(markup).format(W=rng.choice(words), W2=rng.choice(words),
                                          R=rng.choice(rests))
        else:
            t = rng.choice(mnemonic)
        out.append(t)
    return out


def catalog_strings(path, max_chars=160):
    """The English msgids of a gettext catalog (.mo) that fit on one line (<= max_chars) and hold a
    placeholder or a balanced tag pair: a package's real interface strings, for a catalog the
    ui-en-fr corpus does not use (scripts/data/ui_en_fr.py PACKAGES)."""
    with open(path, "rb") as f:
        cat = gettext.GNUTranslations(f)._catalog
    ids = sorted({k for k in cat if isinstance(k, str) and k and "\n" not in k and len(k) <= max_chars})
    return [s for s in ids if placeholders(s) or (tags(s) and balanced(tags(s)))]


def translate(cli, model, lines, protect):
    args = [cli, "translate", "-m", model, "--beam", "5"] + ([] if protect else ["--no-protect"])
    r = subprocess.run(args, input="".join(l + "\n" for l in lines), capture_output=True,
                       text=True, check=True)
    out = r.stdout.split("\n")[:len(lines)]
    assert len(out) == len(lines), (len(out), len(lines))
    return out


def score(src, out):
    ph = [(s, o) for s, o in zip(src, out) if placeholders(s)]
    tg = [(s, o) for s, o in zip(src, out) if tags(s) and balanced(tags(s))]
    kept = sum(placeholders(s) == placeholders(o) for s, o in ph)
    bal = sum(balanced(tags(o)) for s, o in tg)
    same = sum(collections.Counter(tags(s)) == collections.Counter(tags(o)) for s, o in tg)
    special = lambda s: collections.Counter(c for c in s if c in "%{}$<>&")
    spans = [(s, o) for s, o in zip(src, out) if placeholders(s) or tags(s)]
    clean = sum(special(s) == special(o) for s, o in spans)
    fails = [(s, o) for s, o in ph if placeholders(s) != placeholders(o)] + \
            [(s, o) for s, o in tg if not balanced(tags(o))]
    return {"ph_n": len(ph), "ph_kept": kept, "tag_n": len(tg), "tag_bal": bal,
            "tag_kept": same, "clean": clean, "spans": len(spans)}, fails


def pct(a, b):
    return f"{100.0 * a / b:.1f} % ({a}/{b})" if b else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default="build/stele")
    ap.add_argument("--model", default="models/ui-en-fr/model.safetensors")
    ap.add_argument("--corpus", default="build/corpus/ui-en-fr")
    ap.add_argument("--generated", type=int, default=400)
    ap.add_argument("--catalog", action="append", default=[], metavar="FILE.mo",
                    help="also the strings of this catalog (e.g. coreutils' "
                         "/usr/share/locale/fr/LC_MESSAGES/coreutils.mo, a package the corpus "
                         "does not use); repeatable")
    ap.add_argument("--failures", action="store_true")
    ap.add_argument("--by-kind", action="store_true",
                    help="also: per placeholder kind, the share of (string, placeholder) pairs "
                         "kept exactly, both sets together, protection off and on")
    a = ap.parse_args()
    sets = []
    test = os.path.join(a.corpus, "test.en")
    if os.path.exists(test):
        with open(test, encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f]
        with open(os.path.join(a.corpus, "test.fr"), encoding="utf-8") as f:
            refs = [l.rstrip("\n") for l in f]
        keep = [i for i, l in enumerate(lines) if placeholders(l) or
                (tags(l) and balanced(tags(l)))]
        sets.append(("ui-en-fr test split", [lines[i] for i in keep], [refs[i] for i in keep]))
    else:
        print(f"{test} not found (make corpus): generated strings only", file=sys.stderr)
    sets.append((f"generated ({a.generated}, seed 15)", generate(a.generated), None))
    for path in a.catalog:
        sets.append((f"catalog {os.path.basename(path)}", catalog_strings(path), None))
    print("| strings | protection | placeholders kept | tags balanced | tags kept | clean | chrF |")
    print("|---|---|---|---|---|---|---|")
    kinds = {False: {}, True: {}}
    for name, src, refs in sets:
        for protect in (False, True):
            out = translate(a.cli, a.model, src, protect)
            by_kind(src, out, kinds[protect])
            m, fails = score(src, out)
            chrf = f"{corpus_chrf(out, refs):.1f}" if refs else "-"
            print(f"| {name} | {'on' if protect else 'off'} | {pct(m['ph_kept'], m['ph_n'])} "
                  f"| {pct(m['tag_bal'], m['tag_n'])} | {pct(m['tag_kept'], m['tag_n'])} "
                  f"| {pct(m['clean'], m['spans'])} | {chrf} |")
            if protect and a.failures:
                for s, o in fails:
                    print(f"    FAIL {s!r} -> {o!r}", file=sys.stderr)
    if a.by_kind:
        print("\n| placeholder kind | kept, protection off | kept, protection on |")
        print("|---|---|---|")
        for k in sorted(kinds[False], key=lambda k: kinds[False][k][0] / kinds[False][k][1]):
            off, on = kinds[False][k], kinds[True].get(k, [0, 0])
            print(f"| `{k}` | {pct(*off)} | {pct(*on)} |")


if __name__ == "__main__":
    main()
