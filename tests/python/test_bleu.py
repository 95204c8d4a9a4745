"""BLEU and chrF against hand-computed values."""
import math, unittest
from tests.python.common import ROOT  # noqa: F401
from bleu import corpus_bleu, corpus_chrf, tok_13a


class Bleu(unittest.TestCase):
    def test_hand_computed(self):
        # hyp: the cat sat on the mat .   ref: the cat sat on a mat .
        # clipped precisions 6/7, 4/6, 2/5, 1/4; equal lengths so BP = 1;
        # BLEU = 100 * (6/7 * 4/6 * 2/5 * 1/4) ** (1/4) = 100 * (2/35) ** 0.25
        r = corpus_bleu(["the cat sat on the mat."], ["the cat sat on a mat."])
        self.assertAlmostEqual(r["bleu"], 100 * (2 / 35) ** 0.25, places=9)
        self.assertAlmostEqual(r["bleu"], 48.8923, places=3)
        self.assertEqual(r["bp"], 1.0)

    def test_brevity_penalty(self):
        # all precisions 1, c = 5, r = 6: BLEU = 100 * exp(1 - 6/5)
        r = corpus_bleu(["the cat sat on the"], ["the cat sat on the mat"])
        self.assertAlmostEqual(r["bleu"], 100 * math.exp(-0.2), places=9)

    def test_corpus_level_not_sentence_average(self):
        # counts are pooled: segment 2 alone has no 4-gram match, the corpus still scores > 0
        r = corpus_bleu(["a b c d", "x y"], ["a b c d", "x z"])
        # p1 = 5/6, p2 = 3/4, p3 = 2/2, p4 = 1/1, BP = 1
        self.assertAlmostEqual(r["bleu"], 100 * (5 / 6 * 3 / 4) ** 0.25, places=9)

    def test_zero_match(self):
        self.assertEqual(corpus_bleu(["a b c d"], ["e f g h"])["bleu"], 0.0)

    def test_13a_tokenisation(self):
        self.assertEqual(tok_13a("Hello, world! 3.14 and 1,000 -- x-ray 5-6"),
                         ["Hello", ",", "world", "!", "3.14", "and", "1,000", "--", "x-ray",
                          "5", "-", "6"])   # 13a splits a dash only after a digit
        self.assertEqual(tok_13a("&quot;Save&quot; it."), ['"', "Save", '"', "it", "."])


class Chrf(unittest.TestCase):
    def test_identical_and_disjoint(self):
        self.assertAlmostEqual(corpus_chrf(["Ouvrir le fichier"], ["Ouvrir le fichier"]), 100.0)
        self.assertEqual(corpus_chrf(["abc"], ["xyz"]), 0.0)

    def test_hand_computed(self):
        # hyp "ab", ref "abc": 1-grams P=2/2 R=2/3, 2-grams P=1/1 R=1/2; orders 3..6 have no
        # hypothesis n-grams and are skipped. P=1, R=(2/3+1/2)/2=7/12; F2 = 5PR/(4P+R)
        p, r = 1.0, 7 / 12
        self.assertAlmostEqual(corpus_chrf(["ab"], ["abc"]), 100 * 5 * p * r / (4 * p + r))


if __name__ == "__main__":
    unittest.main()
