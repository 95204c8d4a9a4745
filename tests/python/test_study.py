"""scripts/study.py: its resampled scores are sums of per-sentence statistics, so those sums must
give exactly scripts/bleu.py's corpus BLEU and chrF on any subset, edge cases included."""
import json, os, random, tempfile, unittest
from tests.python.common import ROOT  # noqa: F401
from bleu import corpus_bleu, corpus_chrf
import study

HYPS = ["Ouvrir le fichier", "Enregistrer", "", "a b c d", "Le chat, 3.5 kg.", "x"]
REFS = ["Ouvrir un fichier", "Enregistrer le document", "vide", "e f g h", "Le chat pèse 3.5 kg.",
        "x"]


class SummedStatistics(unittest.TestCase):
    def test_equal_to_corpus_scores_on_subsets(self):
        bleu, chrf = study.sentence_stats(HYPS, REFS)
        rng = random.Random(3)
        subsets = [list(range(len(HYPS))), [0], [2], [3], [2, 3], [5, 5, 5]]
        subsets += [[rng.randrange(len(HYPS)) for _ in range(8)] for _ in range(20)]
        for idx in subsets:
            with self.subTest(idx=idx):
                h, r = [HYPS[i] for i in idx], [REFS[i] for i in idx]
                self.assertAlmostEqual(float(study.bleu_from(bleu[idx].sum(0))),
                                       corpus_bleu(h, r)["bleu"], places=9)
                self.assertAlmostEqual(float(study.chrf_from(chrf[idx].sum(0))),
                                       corpus_chrf(h, r), places=9)

    def test_end_to_end_is_deterministic(self):
        # two tiny "models" over a 6-sentence test split: the same outputs twice give the same
        # file (fixed seed), and a model against itself has gap 0 with a [0, 0] interval
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "test.en"), "w") as f:
                f.write("\n".join(["Open the file", "Save", "empty", "a b c d e f", "x y z w v u "
                                   "t s r q p o n", "x"]) + "\n")
            with open(os.path.join(d, "test.fr"), "w") as f:
                f.write("\n".join(REFS) + "\n")
            src = open(os.path.join(d, "test.en")).read().splitlines()
            for m, hyps in (("a", HYPS), ("b", HYPS[::-1])):
                with open(os.path.join(d, f"{m}.outputs.jsonl"), "w") as f:
                    for s, h in zip(src, hyps):
                        f.write(json.dumps({"src": s, "beam_text": h}) + "\n")
            outs = []
            for run in range(2):
                for pair in (["a", "b"], ["a", "a"]):
                    out = os.path.join(d, f"s{run}{pair[1]}")
                    study.main(["--corpus", d, "--golden", d, "--models", *pair, "--out", out])
                    outs.append(open(out + ".json").read())
            self.assertEqual(outs[0], outs[2])
            same = json.loads(outs[1])
            for row in same["buckets"]:
                for metric in ("bleu", "chrf"):
                    self.assertEqual(row[metric]["gap"], 0.0)
                    self.assertEqual(row[metric]["ci95"], [0.0, 0.0])


if __name__ == "__main__":
    unittest.main()
