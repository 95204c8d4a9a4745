#!/usr/bin/python3
"""Tokenizer goldens for the C SentencePiece reader (`make golden`, tests/c/test_sentencepiece.c).

For every tokenizer model it writes tests/golden/tokenizer/<name>.model (the SentencePiece
ModelProto bytes) and tests/golden/tokenizer/<name>.jsonl:

  line 1: {"model": "<name>.model", "type": "unigram"|"char", "vocab_size": V, "unk_id": ..,
           "bos_id": .., "eos_id": .., "pad_id": .., "pieces_fnv1a64": "<hex>"}
  then:   {"text": T, "ids": [...], "decoded": D}      python3-sentencepiece encode / decode
          {"decode_ids": [...], "decoded": D}           decode of an arbitrary id sequence

Models:
  tiny        the char tokenizer embedded in tests/golden/tiny/*.safetensors
  <m>         models/<m>/model.safetensors (tokenizer.spm) when present, else
              build/train/<m>/spm.model (dates: char, ui-en-fr: unigram 8000) when present
  unigram-test  a unigram 8000 tokenizer trained on the ui-en-fr corpus with scripts/train.py's
              exact options; trained here once if absent (kept as a committed test fixture that
              does not change when the shipped model is retrained)
Any other tests/golden/tokenizer/*.model already there gets its .jsonl regenerated.

Texts: the test split of the model's corpus (both sides; for dates and ui-en-fr the whole test
splits of both corpora), odd inputs (empty, whitespace, tabs,
emoji, CJK, Cyrillic, combining marks, "▁", control-piece strings, long text, ...), and seeded
random strings (corpus characters, spaces, random code points).
"""
import argparse, glob, json, os, random, sys, tempfile
import sentencepiece as spm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CORPUS_FILES = {"dates": ["test.src", "test.tgt"], "ui-en-fr": ["test.en", "test.fr"]}
MODEL_CORPUS = {"dates": "dates", "ui-en-fr": "ui-en-fr", "unigram-test": "ui-en-fr",
                "tiny": None, "udef-unigram": "ui-en-fr", "udef-char": "ui-en-fr",
                "flags-unigram": "ui-en-fr", "flags-char": "dates"}

# Small tokenizers trained on the ui-en-fr / dates test split to cover what the shipped ones do
# not: user-defined and extra control pieces, and the other normalizer flag settings.
_UDS = ["<sep>", "Save", "\u2581the", "ou", "é"]
EXTRA = {
    "udef-unigram": ("ui-en-fr", dict(model_type="unigram", vocab_size=300,
                                      user_defined_symbols=_UDS, control_symbols=["<ctl>", "x"])),
    "udef-char": ("ui-en-fr", dict(model_type="char", vocab_size=400, hard_vocab_limit=False,
                                   user_defined_symbols=_UDS, control_symbols=["<ctl>"])),
    "flags-unigram": ("ui-en-fr", dict(model_type="unigram", vocab_size=300,
                                       add_dummy_prefix=False, remove_extra_whitespaces=False)),
    "flags-char": ("dates", dict(model_type="char", vocab_size=400, hard_vocab_limit=False,
                                 add_dummy_prefix=False, remove_extra_whitespaces=False)),
}

ODD = [
    "", " ", "   ", "\t", "\n", " \t ", "\r\n", "a", " a", "a ", "  a  b  ", "a\tb", "a\t\tb",
    "tab\tend\t", "\u3000", "a\u3000b", "\u00a0", "x\u00a0y", "\u2003em space", "\u200b",
    "zero\u200bwidth", "\ufeffbom", "x\u0085y", "\x01\x1f\x7f", "\U0010ffff", "\ue000",
    "😀", "😀😀 x😀", "😀😀😀", "a😀b😀😀c", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷",
    "日本語のテキスト", "中文 文本", "한국어", "Сохранить документ", "Открыть файл…",
    "Ελληνικά", "مرحبا بالعالم", "שלום", "ภาษาไทย", "हिन्दी", "e\u0301", "Ame\u0301lie",
    "n\u0303o\u0308\u0301", "\u0301", "ﬁle", "ＡＢＣ１２３", "Ω≈ç√∫", "▁", "▁▁a▁", "a▁", "▁ ▁",
    " ▁x", "a<sep>b", " <sep> ", "<sep><sep>", "<sep>  <sep>", "Save the file", "▁the the",
    "xx x", "<ctl>", "you", "été où", "  Save", "Saved", "<unk>", "<s>", "</s>", "<pad>", "<s>x</s>", "1234567890", "0.5 %", "3,14",
    "!@#$%^&*()_+-=[]{}|;':\",./<>?`~", "\\", "mixed ünïcödé", "Save  the   document ",
    "  Save the document", "Save the document", "Open\tfile", "Quit without saving",
    "5 March 2019", "the quick brown fox jumps over the lazy dog",
    "THE QUICK BROWN FOX", "l'œuvre « entre guillemets »", "Ça va? Très bien!",
    "a" * 500, "ab " * 300, ("Save the document. " * 60).strip(),
    "Enregistrer le document sous un autre nom " * 20,
]


def fnv1a64(pieces):
    h = 0xcbf29ce484222325
    for p in pieces:
        for b in p.encode("utf-8") + b"\0":
            h ^= b
            h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def random_texts(sp, corpus_lines, n, seed):
    rng = random.Random(seed)
    alphabet = sorted({c for line in corpus_lines for c in line}) or list("abc")
    pieces = [sp.id_to_piece(i).replace("\u2581", " ") for i in range(sp.get_piece_size())]
    out = []
    for i in range(n):
        kind = i % 4
        k = rng.randint(1, 40)
        if kind == 0:     # corpus characters and spaces
            s = "".join(rng.choice(alphabet + [" ", " ", "  "]) for _ in range(k))
        elif kind == 1:   # concatenated pieces (many near-ties for the unigram Viterbi)
            s = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        elif kind == 2:   # random scalar values (no NUL, no surrogates)
            cs = []
            while len(cs) < k:
                c = rng.choice([rng.randint(1, 0x7f), rng.randint(0x80, 0x7ff),
                                rng.randint(0x800, 0xffff), rng.randint(0x10000, 0x10ffff)])
                if not 0xd800 <= c <= 0xdfff:
                    cs.append(chr(c))
            s = "".join(cs)
        else:             # corpus words with odd spacing and unknown characters mixed in
            words = rng.choice(corpus_lines).split() if corpus_lines else ["x"]
            s = "".join(w + rng.choice([" ", "  ", "\t", "😀", " \u3000 ", ""]) for w in words)
        out.append(s)
    return out


def decode_cases(sp, n, seed):
    rng = random.Random(seed)
    V = sp.get_piece_size()
    space = [i for i in range(V) if sp.id_to_piece(i).startswith("\u2581")]
    special = [i for i in range(V) if sp.is_control(i) or sp.is_unknown(i)]
    cases = [[], [sp.unk_id()], [sp.bos_id(), sp.eos_id()] if sp.bos_id() >= 0 else [],
             [sp.unk_id(), sp.unk_id()]]
    for i in range(n):
        seq = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            seq.append(rng.choice(space) if r < 0.4 and space else
                       rng.choice(special) if r < 0.55 and special else rng.randrange(V))
        cases.append(seq)
    return cases


def write_golden(name, model_bytes, corpus_dir, outdir):
    sp = spm.SentencePieceProcessor(model_proto=model_bytes)
    with open(os.path.join(outdir, f"{name}.model"), "wb") as f:
        f.write(model_bytes)
    lines = []
    corpus = MODEL_CORPUS.get(name)
    if corpus:
        for fn in CORPUS_FILES[corpus]:
            path = os.path.join(corpus_dir, corpus, fn)
            if not os.path.exists(path):
                sys.exit(f"{path} missing: run `make corpus` first")
            side = [l.rstrip("\n") for l in open(path, encoding="utf-8")]
            lines += side[:300] if name in EXTRA else side   # the whole split for real models
        if name in CORPUS_FILES:   # a shipped model also gets the other corpus's whole test split
            for other in sorted(set(CORPUS_FILES) - {corpus}):
                for fn in CORPUS_FILES[other]:
                    path = os.path.join(corpus_dir, other, fn)
                    lines += [l.rstrip("\n") for l in open(path, encoding="utf-8")]
    else:   # tiny: a sample of both corpora (mostly unknown characters for its 60 pieces)
        for c, files in sorted(CORPUS_FILES.items()):
            path = os.path.join(corpus_dir, c, files[0])
            if os.path.exists(path):
                lines += [l.rstrip("\n") for l in open(path, encoding="utf-8")][:150]
    texts = lines + ODD + random_texts(sp, lines, 400, 1234)
    proto_type = "unigram" if _is_unigram(model_bytes) else "char"
    head = {"model": f"{name}.model", "type": proto_type, "vocab_size": sp.get_piece_size(),
            "unk_id": sp.unk_id(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(),
            "pad_id": sp.pad_id(),
            "pieces_fnv1a64": fnv1a64(sp.id_to_piece(i) for i in range(sp.get_piece_size()))}
    path = os.path.join(outdir, f"{name}.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(head, ensure_ascii=False) + "\n")
        for t in texts:
            ids = sp.encode(t)
            f.write(json.dumps({"text": t, "ids": ids, "decoded": sp.decode(ids)},
                               ensure_ascii=False) + "\n")
        for seq in decode_cases(sp, 300, 99):
            f.write(json.dumps({"decode_ids": seq, "decoded": sp.decode(seq)},
                               ensure_ascii=False) + "\n")
    print(f"{path}: {len(texts)} texts, vocab {sp.get_piece_size()}", file=sys.stderr)


def _is_unigram(model_bytes):
    from sentencepiece import sentencepiece_model_pb2 as pb
    m = pb.ModelProto()
    m.ParseFromString(model_bytes)
    return m.trainer_spec.model_type == pb.TrainerSpec.UNIGRAM


def train_unigram_test(corpus_dir):
    """scripts/train.py train_tokenizer()'s options for ui-en-fr (unigram, 8000)."""
    conf = json.load(open(os.path.join(ROOT, "scripts", "configs", "ui-en-fr.json")))
    t = conf["tokenizer"]
    with tempfile.TemporaryDirectory() as d:
        text = os.path.join(d, "train.txt")
        with open(text, "w", encoding="utf-8") as f:
            for side in ("src", "tgt"):
                with open(os.path.join(corpus_dir, "ui-en-fr", f"train.{conf['files'][side]}"),
                          encoding="utf-8") as g:
                    f.write(g.read())
        spm.SentencePieceTrainer.train(
            input=text, model_prefix=os.path.join(d, "spm"), model_type=t["model_type"],
            character_coverage=t["character_coverage"], pad_id=0, unk_id=1, bos_id=2, eos_id=3,
            normalization_rule_name="identity", num_threads=1, input_sentence_size=0,
            shuffle_input_sentence=False, minloglevel=2, vocab_size=t["vocab_size"])
        return open(os.path.join(d, "spm.model"), "rb").read()


def train_extra(name, corpus_dir):
    corpus, opts = EXTRA[name]
    with tempfile.TemporaryDirectory() as d:
        text = os.path.join(d, "train.txt")
        with open(text, "w", encoding="utf-8") as f:
            for fn in CORPUS_FILES[corpus]:
                with open(os.path.join(corpus_dir, corpus, fn), encoding="utf-8") as g:
                    f.write(g.read())
        spm.SentencePieceTrainer.train(
            input=text, model_prefix=os.path.join(d, "spm"), character_coverage=0.98, pad_id=0,
            unk_id=1, bos_id=2, eos_id=3, normalization_rule_name="identity", num_threads=1,
            minloglevel=2, **opts)
        return open(os.path.join(d, "spm.model"), "rb").read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "tokenizer"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--train", default=os.path.join(ROOT, "build", "train"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "build", "corpus"))
    ap.add_argument("--tiny", default=os.path.join(ROOT, "tests", "golden", "tiny"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sources = {}
    tiny = sorted(p for p in glob.glob(os.path.join(args.tiny, "*.safetensors"))
                  if not p.endswith(".trace.safetensors"))
    if tiny:
        sources["tiny"] = stio.load(tiny[0])[0]["tokenizer.spm"].tobytes()
    for m in ("dates", "ui-en-fr"):
        shipped = os.path.join(args.models, m, "model.safetensors")
        trained = os.path.join(args.train, m, "spm.model")
        if os.path.exists(shipped):
            sources[m] = stio.load(shipped)[0]["tokenizer.spm"].tobytes()
        elif os.path.exists(trained):
            sources[m] = open(trained, "rb").read()
    for p in glob.glob(os.path.join(args.models, "*", "model.safetensors")):
        m = os.path.basename(os.path.dirname(p))
        sources.setdefault(m, stio.load(p)[0]["tokenizer.spm"].tobytes())
    ut = os.path.join(args.out, "unigram-test.model")
    sources["unigram-test"] = open(ut, "rb").read() if os.path.exists(ut) else \
        train_unigram_test(args.corpus)
    for name in EXTRA:
        p = os.path.join(args.out, f"{name}.model")
        sources[name] = open(p, "rb").read() if os.path.exists(p) else \
            train_extra(name, args.corpus)
    for p in glob.glob(os.path.join(args.out, "*.model")):
        sources.setdefault(os.path.basename(p)[:-len(".model")], open(p, "rb").read())
    for name, data in sorted(sources.items()):
        write_golden(name, data, args.corpus, args.out)


if __name__ == "__main__":
    main()
