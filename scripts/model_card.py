#!/usr/bin/python3
"""Render models/<name>/README.md (the model card) from the exported file's metadata and the
scores written by scripts/evaluate.py. Hand-written notes go in models/<name>/NOTES.md and are
appended verbatim."""
import argparse, glob, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402
from svgplot import chart  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DESCRIPTIONS = {
    "dates": ("Dates written by people in English, French and Russian, in 43 surface forms, each "
              "as written, in lower case, in upper case or capitalised (\"Tuesday, 5 March "
              "2019\", \"the fifth of March, 2019\", \"Mar 5 '19\", \"le premier mars 2019\", "
              "\"5 марта 2019 г.\", \"пятое марта 2019 года\", \"05.03.2019\", \"2019/3/5\", "
              "...) to ISO 8601 (\"2019-03-05\"). Synthetic corpus from `scripts/data/dates.py` "
              "(fixed seed; the forms and the conventions that make every input unambiguous are "
              "in its docstring): 120,000 train, 2,000 dev, 2,000 test, dev and test dates "
              "disjoint from each other and from train. A second test set, `unseen`, from "
              "`scripts/data/dates_unseen.py`: the test dates in 17 forms `dates.py` never "
              "writes. Character-level SentencePiece `char` model."),
    "ui-en-fr": ("English → French software user-interface strings. Corpus from the French "
                 "gettext catalogs (`.mo`) of the Debian 12 packages listed below, fetched with "
                 "`apt-get download` + `dpkg -x` by `scripts/data/ui_en_fr.py`: mnemonic markers "
                 "stripped, empty/untranslated/multi-line/overlong/length-ratio-outlier pairs and "
                 "pairs whose placeholders differ dropped, deduplicated by source (the most "
                 "frequent translation wins), split by SHA-256 of the source. Joint SentencePiece "
                 "unigram vocabulary trained on the train split only, identity normalisation."),
}
DESCRIPTIONS["ui-en-fr-none"] = (
    "**A baseline, not a model to use**: `ui-en-fr` with `attention.score = \"none\"`, the "
    "decoder sees the source only through the bridge (one vector: the encoder's final states). "
    "Same corpus, tokenizer, sizes and recipe as `ui-en-fr`; it exists for the attention study "
    "below and is covered by the engine's parity tests like every shipped model. "
    + DESCRIPTIONS["ui-en-fr"])


def dev_loss_svg(history, path, name):
    """Train and dev loss per epoch (a partial last epoch is marked in the legend)."""
    ep = [h["epoch"] for h in history]
    partial = [h["epoch"] for h in history if h.get("partial")]
    best = min(history, key=lambda h: h["dev_loss"])
    panel = {"title": f"{name}: loss per epoch (best dev {best['dev_loss']:.4g}, epoch "
                      f"{best['epoch']})",
             "xlabel": "epoch" + (f" ({', '.join(map(str, partial))} cut short by the time "
                                  "budget)" if partial else ""),
             "ylabel": "cross-entropy per target token",
             "xticks": [(e, str(e)) for e in ep],
             "series": [{"label": "dev", "x": ep, "y": [h["dev_loss"] for h in history]},
                        {"label": "train (running mean)", "x": ep,
                         "y": [h["train_loss"] for h in history], "dash": True}]}
    open(path, "w").write(chart([panel], width=640, height=300))


def training_text(name, tr, history):
    conf_path = os.path.join(ROOT, "scripts", "configs", f"{name}.json")
    tc = json.load(open(conf_path))["train"] if os.path.exists(conf_path) else {}
    best = min(history, key=lambda h: h["dev_loss"])["epoch"] if history else None
    recipe = (f"scripts/train.py (config `scripts/configs/{name}.json`: Adam lr "
              f"{tc.get('lr')}, gradient-norm clip {tc.get('clip')}, batches of about "
              f"{tc.get('batch_tokens')} tokens, seed {tc.get('seed')}, lr halved after an epoch "
              f"without dev improvement, stop after {tc.get('patience')} such epochs in a row)")
    device = tr.get("device", "cpu")
    if device != "cpu":
        cut = [h["epoch"] for h in history if h.get("partial")]
        return (f"Trained on one **{device}** GPU (PyTorch {tr.get('torch', '?')}) with "
                f"the recipe of {recipe}, with a wall-clock budget instead of the config's `max_epochs` "
                f"{tc.get('max_epochs')}: {tr.get('train_pairs', 0):,} training pairs, "
                f"{tr.get('epochs')} epochs"
                + (f" (epoch {cut[0]} cut short by the budget)" if cut else "")
                + f", **{tr.get('train_seconds', 0) / 60:.1f} minutes**; the shipped weights are "
                f"epoch {best}'s, best dev loss **{tr.get('best_dev_loss', 0):.3f}**. Not what "
                f"`make models` does on a CPU-only machine ({tc.get('max_epochs')} epochs "
                f"there). On a GPU, `make model-{name} DEVICE=cuda "
                f"TRAIN_ARGS=\"--max-epochs {best}\"` runs the same recipe for as many epochs; "
                f"`make export-{name} TRAIN_DIR=<folder>` ships a "
                f"training folder (export, goldens, scores, this card).")
    # train.py keeps a new best only when it gains 1e-4 over the last one, so the shipped epoch
    # is the one whose loss is best_dev_loss, not always the lowest in the history
    shipped = [h["epoch"] for h in history if h["dev_loss"] == tr.get("best_dev_loss")]
    return (f"`make models` with {recipe}: "
            f"{tr.get('train_pairs', 0):,} training pairs, {tr.get('epochs')} epochs, best dev loss "
            f"{tr.get('best_dev_loss', 0):.3g}"
            + (f" (the shipped weights are epoch {shipped[0]}'s)" if shipped else "")
            + f", **{tr.get('train_seconds', 0) / 60:.1f} minutes** of "
            f"training on this 2-core machine ({tr.get('threads')} PyTorch thread(s), CPU only).")


def study_for(name, card_dir):
    """The study (scripts/study.py) that covers this model, as markdown with a relative link."""
    for path in sorted(glob.glob(os.path.join(ROOT, "models", "*", "study.json"))):
        st = json.load(open(path))
        if name in st.get("models", []):
            md = open(path[:-len(".json")] + ".md", encoding="utf-8").read().rstrip()
            rel = os.path.relpath(os.path.dirname(path), card_dir)
            return md.replace("](study.", f"]({rel}/study." if rel != "." else "](study.")
    return None

# The licence of each catalog package's translations, from its Debian copyright file (bookworm;
# SPDX; the "Files: *" or "Files: po/*" stanza, upstream's where Debian's is vague).
CATALOG_LICENCES = {
    "libreoffice-l10n-fr": "MPL-2.0",
    "gimp-data": "GPL-3.0-or-later",
    "inkscape": "GPL-2.0-or-later",
    "gnucash-common": "GPL-2.0-or-later",
    "vlc-l10n": "GPL-2.0-or-later",
    "audacity-data": "GPL-2.0-or-later OR CC-BY-3.0",
    "gramps": "GPL-2.0-or-later",
    "gnumeric-common": "GPL-2.0-only OR GPL-3.0-only",
    "evolution-common": "LGPL-2.0-only OR LGPL-3.0-only",
    "evolution-data-server-common": "LGPL-2.0-or-later",
    "nautilus-data": "GPL-3.0-or-later",
    "gedit-common": "GPL-2.0-or-later (Debian's file: GPL-2.0)",
    "gnome-control-center-data": "GPL-2.0-or-later",
    "libgtk-3-common": "LGPL-2.0-or-later",
    "filezilla-common": "GPL-2.0-or-later",
    "pidgin-data": "GPL-2.0-or-later",
    "hexchat-common": "GPL-2.0-or-later",
    "poedit-common": "MIT",
    "xfce4-settings": "GPL-2.0-or-later",
    "thunar-data": "GPL-2.0-or-later",
    "xfce4-panel": "GPL-2.0-or-later",
    "darktable": "GPL-3.0-or-later",
    "rhythmbox-data": "GPL-2.0-or-later",
    "shotwell-common": "LGPL-2.1-or-later",
    "totem-common": "GPL-2.0-or-later",
    "gnome-shell-common": "GPL-2.0-or-later",
}


def licence_section(name, from_catalogs):
    """The card's Licence section. A model learnt from the gettext catalogs is treated as a work
    derived from their translations (the cautious reading: the law on trained weights is
    unsettled), so it takes the one licence every catalog's allows; a model learnt from
    synthetic data is the project's own work, MIT like the code (LICENSE)."""
    if not from_catalogs:
        return ["## Licence", "",
                "**MIT** (SPDX `MIT`), like the stele code: see [LICENSE](../../LICENSE). The "
                "training data is synthetic, generated by `scripts/data/dates.py`, so the model "
                "owes nothing to anyone else's text."]
    return ["## Licence", "",
            "**GNU GPL version 3 only** (SPDX `GPL-3.0-only`; text in "
            "[LICENSES/GPL-3.0.txt](../../LICENSES/GPL-3.0.txt)). The weights and the vocabulary "
            "are learnt from the translations in the catalogs listed above, so this file is "
            "treated as a work derived from all of them (the cautious reading; the law on trained "
            "models is unsettled), and it can only carry a licence that every catalog's licence "
            "allows for a combined work. GPL-3.0 is that licence: the GPL-2.0-or-later and "
            "GPL-3.0-or-later catalogs allow version 3; LGPL-2.x and LGPL-3.0 allow conversion to "
            "the GPL; MPL-2.0 names the GPL as a compatible Secondary License; MIT allows anything. "
            "Not \"or later\": Gnumeric's catalog is \"GPL-2 or GPL-3\", without \"or any later "
            "version\". Not GPL-2.0: GIMP's, Nautilus's and "
            "darktable's catalogs are GPL-3.0-or-later.",
            "",
            "Distributing the model (in an npm package, an application or a web page) conveys a "
            "GPL-3.0 work: pass on this licence and the source. The source of the model is the Debian packages "
            "above at the versions given (their source packages hold the `.po` files) and this "
            "repository's `scripts/` (`make corpus models` rebuilds it). The stele code that runs "
            "it is MIT; a program that needs no GPL component can load `dates` or its own model.",
            "",
            "Debian's copyright file for gedit says \"version 2 dated June, 1991\" without \"or later\", "
            "while gedit's own sources say \"version 2 of the License, or (at your option) any later "
            "version\"; this licence relies on the latter. Were gedit's translations GPL-2.0-only, "
            "its pairs would have to leave the corpus."]


def fmt_params(n):
    return f"{n:,}"


def usable_confidence_section(c):
    """scripts/confidence.py --rule usable: a mean-logp threshold from a logistic fit on dev."""
    L = ["", "## Low-confidence flag", "",
         f"Threshold `search.low_confidence_mean_logp` = {c['low_confidence_mean_logp']:.4g} "
         "(stored in the model file; models/FORMAT.md), set by `scripts/confidence.py --rule "
         f"usable` on the {c['calibrated_on']} split. Interface strings have many right "
         "translations, and only about one output in five is exactly the reference, so the "
         "criterion is *usable*: sentence chrF against the reference of at least "
         f"{c['usable_chrf']:g} (a reviewer edits it rather than rewriting it). The probability "
         "of a usable output given its mean log-probability per piece (beam 5, the CLIs' and JS "
         "API's default search; length-independent, unlike the summed logp) is fitted by "
         "logistic regression on dev; the threshold is where it crosses one half, so an output "
         "below it is more likely unusable than usable. Such an output is shown as "
         "low-confidence by both CLIs (`(low confidence)` after a tab, `\"low_confidence\": "
         "true` in `--json`), the JS API (`lowConfidence`) and the page.", "",
         "| split | outputs | flagged | usable % (flagged / not) | exact % (flagged / not) | "
         "mean chrF (flagged / not) | unusable outputs caught |",
         "|---|---|---|---|---|---|---|"]
    for name, s in c["splits"].items():
        f, u = s["flagged_part"], s["unflagged_part"]
        L.append(f"| {name} | {s['sentences']:,} | {s['flagged']} ({s['flagged_pct']:.1f} %) | "
                 f"{f['usable_pct']:.1f} / {u['usable_pct']:.1f} | {f['exact_pct']:.1f} / "
                 f"{u['exact_pct']:.1f} | {f['mean_chrf']:.1f} / {u['mean_chrf']:.1f} | "
                 f"{s['unusable_caught_pct']:.1f} % |")
    return L


def confidence_section(c):
    if c.get("rule") == "usable":
        return usable_confidence_section(c)
    sp = c["splits"]
    L = []
    if "unseen" in sp:
        u = sp["unseen"]
        L += ["", "## Never-generated forms (`unseen` split)", "",
              f"{u['sentences']:,} inputs from `scripts/data/dates_unseen.py` (the test dates, in "
              "forms the training generator never writes: \"5th of March 2021\", \"March 5 "
              "2021\", \"Fri, Mar 5, 2021\", \"le vendredi 5 mars 2021\", \"cinq mars 2021\", "
              "\"пятого марта 2021 г.\", \"2021-3-5\", ...; list in its docstring). Beam 5, the "
              f"native engine: **{u['exact_match']:.2f} % exact** ({u['wrong']} wrong)."]
    L += ["", "## Low-confidence flag", "",
          f"Threshold `search.low_confidence_logp` = {c['low_confidence_logp']:.4g} (stored in the "
          f"model file; models/FORMAT.md), set by `scripts/confidence.py` on the {c['calibrated_on']}"
          f" split: the logp of the best hypothesis (beam 5, the CLIs' and JS API's default search) "
          f"below which {100 * c['quantile']:.1f} % of the {c['correct_on_calibration_split']:,} "
          "correct dev outputs fall (dev has few or no wrong outputs to calibrate on: the model is "
          "nearly exact on its own forms); the other splits measure how many wrong outputs the "
          "flag catches and how many right ones it flags. An output "
          "below it is shown as low-confidence by both CLIs (`(low confidence)` after a tab, "
          "`\"low_confidence\": true` in `--json`), the JS API (`lowConfidence`) and the page.", "",
          "| split | sentences | exact % | wrong | wrong flagged | correct flagged |",
          "|---|---|---|---|---|---|"]
    for name, s in sp.items():
        L.append(f"| {name} | {s['sentences']:,} | {s['exact_match']:.2f} | {s['wrong']} | "
                 f"{s['wrong_flagged']} | {s['correct_flagged']} |")
    ex = [e for s in sp.values() for e in s["wrong_examples"]][:8]
    if ex:
        L += ["", "The first wrong outputs, splits in the order above (beam 5):", "",
              "| source | reference | output | logp | flagged |", "|---|---|---|---|---|"]
        for e in ex:
            L.append(f"| {e['src']} | {e['ref']} | {e['hyp']} | {e['logp']:.3g} | "
                     f"{'yes' if e['flagged'] else 'no'} |")
    return L


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--corpus-info")
    ap.add_argument("--confidence", help="scripts/confidence.py's JSON: the unseen split and the "
                    "low-confidence flag")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    tensors, meta = stio.load(args.model)
    cfg = json.loads(meta["config"])
    sc = json.load(open(args.scores))
    name = sc["model"]
    tr = sc["training"]
    n_params = sum(v.size for k, v in tensors.items() if not k.startswith("tokenizer."))
    # the file as it is now (a later step, such as the truecasing table, may have grown it since
    # scores.json was written)
    file_bytes = os.path.getsize(args.model)
    enc, att, dec = cfg["encoder"], cfg["attention"], cfg["decoder"]
    L = [f"# Model card: `{name}`", "", DESCRIPTIONS.get(name, ""), "",
         "## Architecture", "",
         f"- encoder: {enc['type']}, {enc['layers']} layer(s), hidden {enc['hidden']}"
         f"{' per direction' if enc['type'] == 'bilstm' else ''}",
         f"- attention: {att['score']}" + (f" (size {att['dim']})" if att['score'] in
                                            ('additive', 'concat') else ""),
         f"- decoder: {dec['style']} style, {dec['layers']} layer(s), hidden {dec['hidden']}, "
         f"output vector {dec['out']}, placement {dec['placement']}",
         f"- embeddings {cfg['emb']}, vocabulary {cfg['src_vocab']} (one tokenizer for both sides), "
         f"tied target embedding/output: {str(cfg['tie_embeddings']).lower()}, "
         f"bridge: {cfg['bridge']}",
         f"- parameters: {fmt_params(n_params)} (F32); file `model.safetensors`: "
         f"{file_bytes:,} bytes ({file_bytes / 2**20:.1f} MiB), tokenizer included"
         + (" (and its truecasing table)" if "tokenizer.truecase" in tensors else ""),
         "", "## Training", ""]
    card_dir = os.path.dirname(os.path.abspath(args.out))
    tj = os.path.join(card_dir, "train.json")
    history = json.load(open(tj))["history"] if os.path.exists(tj) else []
    L.append(training_text(name, tr, history))
    if history:
        dev_loss_svg(history, os.path.join(card_dir, "dev-loss.svg"), name)
        L += ["", "![Train and dev loss per epoch](dev-loss.svg)", "",
              "Dev loss per epoch (from `train.json`, the training folder's history): "
              + ", ".join(f"{h['dev_loss']:.4g}" for h in history) + "."]
    L += ["", "## Scores (test split, measured by `scripts/evaluate.py` on the exported file)", "",
         f"{sc['test_sentences']:,} test sentences. Search: max length = "
         f"{sc['search']['len_a']}·S + {sc['search']['len_b']}; beam 5 with α = "
         f"{sc['search']['alpha']}, β = {sc['search']['beta']}.", "",
         "| search | exact match % | BLEU | chrF |", "|---|---|---|---|"]
    rows = [("greedy", sc["greedy"]), ("beam 5", sc["beam5"])]
    if "translation_memory" in sc:
        rows.append(("translation-memory baseline", dict(sc["translation_memory"],
                                                         exact_match=None)))
    for label, s in rows:
        em = "–" if s.get("exact_match") is None else f"{s['exact_match']:.2f}"
        L.append(f"| {label} | {em} | {s['bleu']:.2f} | {s['chrf']:.2f} |")
    L += ["", "BLEU by source length (words), beam 5"
          + (" vs translation memory" if "translation_memory" in sc else "") + ":", "",
          "| source words | sentences | beam-5 BLEU |"
          + (" TM BLEU |" if "translation_memory" in sc else ""),
          "|---|---|---|" + ("---|" if "translation_memory" in sc else "")]
    tmb = {r["words"]: r for r in sc.get("translation_memory", {}).get("bleu_by_source_words", [])}
    for r in sc["beam5"]["bleu_by_source_words"]:
        extra = f" {tmb[r['words']]['bleu']:.2f} |" if r["words"] in tmb else ""
        L.append(f"| {r['words']} | {r['sentences']} | {r['bleu']:.2f} |{extra}")
    L += ["", "Examples (first test sentences, beam 5):", "", "| source | reference | output |",
          "|---|---|---|"]
    for e in sc["examples"]:
        cells = [e[k].replace("|", "\\|") for k in ("src", "ref", "hyp")]
        L.append("| " + " | ".join(cells) + " |")
    if args.confidence and os.path.exists(args.confidence):
        L += confidence_section(json.load(open(args.confidence)))
    study = study_for(name, card_dir)
    if study:
        L += ["", study]
    if args.corpus_info and os.path.exists(args.corpus_info):
        info = json.load(open(args.corpus_info))
        L += ["", "## Data sources", "",
              f"{info['unique_pairs']:,} unique pairs after cleaning; dropped: "
              + ", ".join(f"{k} {v:,}" for k, v in sorted(info["dropped"].items())) + ".", "",
              "| Debian package | version | catalogs | pairs kept (before dedupe) | licence |",
              "|---|---|---|---|---|"]
        for p in info["packages"]:
            lic = CATALOG_LICENCES.get(p["package"], "see its copyright file")
            L.append(f"| {p['package']} | {p['version']} | {p['catalogs']} | {p['pairs_kept']:,} "
                     f"| {lic} |")
        L += ["", "The strings are the packages' own translations, under their licences (table, "
              "from each package's `/usr/share/doc/<package>/copyright`); the model is derived "
              "from them (see Licence)."]
    else:
        info = None
    L += [""] + licence_section(name, bool(info and info.get("packages")) or
                                name.startswith("ui-en-fr"))
    notes = os.path.join(os.path.dirname(args.out), "NOTES.md")
    if os.path.exists(notes):
        L += ["", open(notes, encoding="utf-8").read().rstrip()]
    open(args.out, "w", encoding="utf-8").write("\n".join(L) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
