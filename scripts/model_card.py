#!/usr/bin/python3
"""Render models/<name>/README.md (the model card) from the exported file's metadata and the
scores written by scripts/evaluate.py. Hand-written notes go in models/<name>/NOTES.md and are
appended verbatim."""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402

DESCRIPTIONS = {
    "dates": ("Dates written by people in English, French and Russian, in 31 surface forms "
              "(\"Tuesday, 5 March 2019\", \"5 mars 2019\", \"5 марта 2019 г.\", \"05.03.2019\", "
              "\"March 5th '19\", ...) to ISO 8601 (\"2019-03-05\"). Synthetic corpus from "
              "`scripts/data/dates.py` (fixed seed; conventions that make every input "
              "unambiguous are in its docstring): 60,000 train, 2,000 dev, 2,000 test, dev and "
              "test dates disjoint from each other and from train. Character-level SentencePiece "
              "`char` model."),
    "ui-en-fr": ("English → French software user-interface strings. Corpus from the French "
                 "gettext catalogs (`.mo`) of the Debian 12 packages listed below, fetched with "
                 "`apt-get download` + `dpkg -x` by `scripts/data/ui_en_fr.py`: mnemonic markers "
                 "stripped, empty/untranslated/multi-line/overlong/length-ratio-outlier pairs and "
                 "pairs whose placeholders differ dropped, deduplicated by source (the most "
                 "frequent translation wins), split by SHA-256 of the source. Joint SentencePiece "
                 "unigram vocabulary trained on the train split only, identity normalisation."),
}


def fmt_params(n):
    return f"{n:,}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--corpus-info")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    tensors, meta = stio.load(args.model)
    cfg = json.loads(meta["config"])
    sc = json.load(open(args.scores))
    name = sc["model"]
    tr = sc["training"]
    n_params = sum(v.size for k, v in tensors.items() if k != "tokenizer.spm")
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
         f"{sc['file_bytes']:,} bytes ({sc['file_bytes'] / 2**20:.1f} MiB), tokenizer included",
         "", "## Training", "",
         f"`make models` (scripts/train.py, config `scripts/configs/{name}.json`): "
         f"{tr.get('train_pairs', 0):,} training pairs, {tr.get('epochs')} epochs, best dev loss "
         f"{tr.get('best_dev_loss', 0):.3g}, **{tr.get('train_seconds', 0) / 60:.1f} minutes** of "
         f"training on this 2-core machine ({tr.get('threads')} PyTorch thread(s), CPU only).",
         "", "## Scores (test split, measured by `scripts/evaluate.py` on the exported file)", "",
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
    if args.corpus_info and os.path.exists(args.corpus_info):
        info = json.load(open(args.corpus_info))
        L += ["", "## Data sources", "",
              f"{info['unique_pairs']:,} unique pairs after cleaning; dropped: "
              + ", ".join(f"{k} {v:,}" for k, v in sorted(info["dropped"].items())) + ".", "",
              "| Debian package | version | catalogs | pairs kept (before dedupe) |",
              "|---|---|---|---|"]
        for p in info["packages"]:
            L.append(f"| {p['package']} | {p['version']} | {p['catalogs']} | {p['pairs_kept']:,} |")
        L += ["", "The strings are the packages' own translations, under their licences (GPL, LGPL, "
              "MPL); the model is derived from them."]
    notes = os.path.join(os.path.dirname(args.out), "NOTES.md")
    if os.path.exists(notes):
        L += ["", open(notes, encoding="utf-8").read().rstrip()]
    open(args.out, "w", encoding="utf-8").write("\n".join(L) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
