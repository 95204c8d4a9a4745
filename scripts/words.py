#!/usr/bin/python3
"""The word-level tokenizer of image (caption) models, stored in the model file as
`tokenizer.words` (models/FORMAT.md "Image models"): U8 bytes, the UTF-8 words joined by "\\n"
(no trailing newline), line i = id i; ids 0..3 are <pad>, <unk>, <s>, </s>.

Captions are written with every token separated by one space ("a bag in the top left , a dress
in the centre"); encode splits on spaces. decode joins the words with " " except that no space
goes before "," or "?" (the detokenisation rule), and leaves out pad/bos/eos.
"""

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
NO_SPACE_BEFORE = (",", "?")


def detokenize(words):
    out = ""
    for w in words:
        if out and w not in NO_SPACE_BEFORE:
            out += " "
        out += w
    return out


class WordVocab:
    """Just enough of SentencePieceProcessor's interface for the scripts that take either."""

    def __init__(self, words):
        words = list(words)
        if words[:4] != SPECIALS:
            raise ValueError(f"word vocabulary must start with {SPECIALS}, got {words[:4]}")
        for w in words:
            if not w or any(ch.isspace() for ch in w):
                raise ValueError(f"bad word {w!r} (empty or containing white space)")
        if len(set(words)) != len(words):
            raise ValueError("duplicate words in the vocabulary")
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}

    @classmethod
    def from_bytes(cls, data):
        return cls(bytes(data).decode("utf-8").split("\n"))

    def to_bytes(self):
        return "\n".join(self.words).encode("utf-8")

    def encode(self, text):
        """Space-separated tokens -> ids (unknown words -> 1); no bos/eos added."""
        return [self.index.get(w, 1) for w in text.split()]

    def decode(self, ids):
        return detokenize(self.words[i] for i in ids if i not in (0, 2, 3))

    def get_piece_size(self):
        return len(self.words)

    def id_to_piece(self, i):
        return self.words[i]

    def pad_id(self):
        return 0

    def unk_id(self):
        return 1

    def bos_id(self):
        return 2

    def eos_id(self):
        return 3


# ---- questions of VQA models (task "vqa"; models/FORMAT.md "VQA models") ----------------------
ASCII_SPACE = " \t\n\r\v\f"
OWN_TOKENS = ("?", ",")


def question_words(text):
    """A question -> its words: ASCII letters A-Z lower-cased (nothing else is changed), "?" and
    "," made tokens of their own, then split on ASCII white space (space, \\t, \\n, \\r, \\v, \\f).
    "Where is the BAG?" -> ["where", "is", "the", "bag", "?"]."""
    out = []
    for ch in text:
        if "A" <= ch <= "Z":
            out.append(chr(ord(ch) + 32))
        elif ch in OWN_TOKENS:
            out.append(" " + ch + " ")
        elif ch in ASCII_SPACE:
            out.append(" ")
        else:
            out.append(ch)
    return [w for w in "".join(out).split(" ") if w]


def encode_question(vocab, text):
    """-> question ids (unknown words -> unk_id 1; no bos/eos). Empty list for a question with no
    words (the engine refuses it: "empty question")."""
    return [vocab.index.get(w, 1) for w in question_words(text)]
