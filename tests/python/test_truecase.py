"""scripts/truecase.py: the truecasing table's counting rules, its byte format, and that the
shipped ui-en-fr models carry the table their training source gives."""
import os, unittest
from tests.python.common import ROOT  # noqa: F401
import truecase


class TableRules(unittest.TestCase):
    def test_counting(self):
        lines = [
            "Open the PDF file.",          # PDF: mid-sentence, counted
            "Save as PDF. Linux is here",  # Linux starts a sentence and is capitalised: not counted
            "Install Linux now",           # Linux mid-sentence: counted
            "Run (GitHub) tests!",         # punctuation stripped from the core
            "GitHub rocks",                # sentence start, but not plain capitalised: counted
            "Use github",                  # 1 of 3: GitHub wins
            "Use Foo and foo",             # tie 1-1: lower case wins, no entry
            "Écrire Éditer",               # not ASCII: skipped
            "Hello.World Done",            # "Hello.World" is one word: "Done" is no sentence start
        ]
        t = truecase.build_table(lines)
        self.assertEqual(t["pdf"], "PDF")
        self.assertEqual(t["linux"], "Linux")
        self.assertEqual(t["github"], "GitHub")
        self.assertEqual(t["done"], "Done")
        self.assertNotIn("foo", t)
        self.assertNotIn("open", t)        # sentence-initial capitals are the sentence's
        self.assertNotIn("install", t)
        self.assertTrue(all(k.isascii() for k in t))
        self.assertEqual(truecase.build_table(lines, min_count=2), {"github": "GitHub", "pdf": "PDF"})

    def test_sentence_starts(self):
        words = "a. b! c? d) e.) f\" g h.\" i".split(" ")
        self.assertEqual(truecase.sentence_starts(words),
                         [True, True, True, True, False, True, False, False, True])

    def test_bytes(self):
        b = truecase.table_bytes({"pdf": "PDF", "github": "GitHub", "a1": "A1"})
        self.assertEqual(b, b"a1\tA1\ngithub\tGitHub\npdf\tPDF\n")


class Shipped(unittest.TestCase):
    def test_shipped_tables(self):
        import stio
        for name in ("ui-en-fr", "ui-en-fr-none"):
            path = os.path.join(ROOT, "models", name, "model.safetensors")
            if not os.path.exists(path):
                self.skipTest(f"{path} absent")
            tensors, _ = stio.load(path)
            data = bytes(tensors["tokenizer.truecase"])
            lines = data.decode("ascii").split("\n")
            self.assertEqual(lines[-1], "")
            keys = [ln.split("\t")[0] for ln in lines[:-1]]
            self.assertEqual(keys, sorted(set(keys)))
            for ln in lines[:-1]:
                k, f = ln.split("\t")
                self.assertEqual(k, f.lower())
                self.assertNotEqual(k, f)
            src = os.path.join(ROOT, "build", "corpus", "ui-en-fr", "train.en")
            if os.path.exists(src):   # the table is the training source's
                with open(src, encoding="utf-8") as f:
                    self.assertEqual(data, truecase.table_bytes(truecase.build_table(f)))


if __name__ == "__main__":
    unittest.main()
