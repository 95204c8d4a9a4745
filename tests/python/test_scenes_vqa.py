"""The scenes-vqa question generator (scripts/data/scenes_vqa.py): determinism, answer balance,
answers consistent with the layouts, a closed answer set and vocabulary. Runs on layouts drawn
by scenes.draw_layouts over synthetic labels (no Fashion-MNIST needed)."""
import re, unittest
import numpy as np
import tests.python.common  # noqa: F401  (sys.path)
import scenes
import scenes_vqa as sv
from scenes_vqa import ANSWERS, TYPES, make_questions, candidates, check_balance, vocabulary

LABELS = (np.arange(5000) % 10).astype(np.uint8)


def layouts(n, seed):
    return scenes.draw_layouts(n, seed, np.arange(len(LABELS)), LABELS)


class Generator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lay = layouts(1500, 7)
        cls.qs = make_questions(cls.lay, 11)

    def test_deterministic(self):
        self.assertEqual(make_questions(layouts(1500, 7), 11), self.qs)
        self.assertNotEqual(make_questions(self.lay, 12), self.qs)

    def test_one_per_type_per_scene(self):
        per_scene = {}
        for q in self.qs:
            per_scene.setdefault(q["scene"], []).append(q["type"])
        self.assertEqual(len(per_scene), 1500)
        for types in per_scene.values():
            self.assertEqual(types, [t for t in TYPES if t in types])   # TYPES order, no repeats
            for t in ("what", "count", "exists"):
                self.assertIn(t, types)

    def test_balance(self):
        self.assertEqual(check_balance(self.qs), [])
        counts = sv.answer_counts(self.qs)
        for t, c in counts.items():
            total = sum(c.values())
            top = max(c.values()) / total
            with self.subTest(t):
                if t == "exists":
                    self.assertLessEqual(abs(c["yes"] - c["no"]), 1)
                else:
                    self.assertLessEqual(top, 0.40)
        self.assertEqual(len(counts["what"]), 11)
        self.assertEqual(len(counts["where"]), 9)
        # the check does catch an unbalanced list
        skewed = [dict(q, answer="nothing") if q["type"] == "what" else q for q in self.qs]
        self.assertTrue(any(b.startswith("what") for b in check_balance(skewed)))

    def test_answers_follow_the_layout(self):
        noun = {sv.the(k)[4:]: k for k in range(10)}
        plural = {p: (k,) for k, p in enumerate(sv.PLURALS)}
        plural["shoes"] = sv.SHOES
        for q in self.qs:
            items = sv.items_of(self.lay, q["scene"])
            at = dict(items)
            text, a = q["question"], q["answer"]
            self.assertIn(a, ANSWERS)
            self.assertTrue(text.endswith(" ?"))
            m = re.fullmatch(r"what is (.+) \?", text)
            if q["type"] == "what":
                c = scenes.PLACES.index(m.group(1))
                self.assertEqual(a, scenes.CLASSES[at[c]] if c in at else "nothing")
                self.assertEqual(q["target"], c)
            elif q["type"] == "where":
                k = noun[re.fullmatch(r"where is the (.+) \?", text).group(1)]
                cells = [c for c, kk in items if kk == k]
                self.assertEqual(len(cells), 1)
                self.assertEqual(a, scenes.PLACES[cells[0]])
                self.assertEqual(q["ref"], cells[0])
            elif q["type"] == "count":
                g = re.fullmatch(r"how many (.+) are there \?", text).group(1)
                self.assertEqual(a, str(sum(1 for _, k in items if k in plural[g])))
            elif q["type"] == "exists":
                phrase = re.fullmatch(r"is there (.+) \?", text).group(1)
                k = scenes.PHRASES.index(phrase)
                self.assertEqual(a, "yes" if any(kk == k for _, kk in items) else "no")
            else:
                m = re.fullmatch(r"what is (left of|right of|above|below) the (.+) \?", text)
                k = noun[m.group(2)]
                cells = [c for c, kk in items if kk == k]
                self.assertEqual(len(cells), 1)
                r, col = divmod(cells[0], 3)
                dr, dc = {"left of": (0, -1), "right of": (0, 1), "above": (-1, 0),
                          "below": (1, 0)}[m.group(1)]
                self.assertTrue(0 <= r + dr < 3 and 0 <= col + dc < 3)
                nb = 3 * (r + dr) + col + dc
                self.assertEqual(a, scenes.CLASSES[at[nb]] if nb in at else "nothing")
                self.assertEqual((q["ref"], q["target"]), (cells[0], nb))

    def test_vocabulary_and_answers_closed(self):
        words = vocabulary()
        self.assertEqual(words[:4], scenes.SPECIALS)
        self.assertEqual(len(set(words)), len(words))
        self.assertEqual(len(set(ANSWERS)), len(ANSWERS))
        for q in self.qs:
            self.assertTrue(all(w in words for w in q["question"].split()), q["question"])
        # every template question of a scene is in the vocabulary, not just the ones asked
        for s in range(50):
            for t, cands in candidates(sv.items_of(self.lay, s)).items():
                for text, a, _, _ in cands:
                    self.assertTrue(all(w in words for w in text.split()), text)
                    self.assertIn(a, ANSWERS)

    def test_unique_reference_required(self):
        # two bags and one coat: no "where is the bag", "where is the coat" is asked
        c = candidates([(0, 8), (4, 8), (8, 4)])
        self.assertEqual([q for q, *_ in c["where"]], ["where is the coat ?"])
        self.assertTrue(all("bag" not in q for q, *_ in c["relation"]))
        # the coat at the bottom right: only left of / above exist in the grid
        self.assertEqual(sorted((q, a) for q, a, _, _ in c["relation"]),
                         [("what is above the coat ?", "nothing"),
                          ("what is left of the coat ?", "nothing")])


if __name__ == "__main__":
    unittest.main()
