"""The scenes generator (scripts/data/scenes.py): deterministic, the composition rule, the splits'
source pools, and captions that parse back to their layouts."""
import json, os, struct, unittest, zlib
import numpy as np
from tests.python.common import ROOT
import scenes
from words import WordVocab

HAVE_DATA = os.path.exists(os.path.join(scenes.DATA, "t10k-images-idx3-ubyte.gz"))


class Grammar(unittest.TestCase):
    def test_caption_parses_back(self):
        rs = np.random.RandomState(0)
        for _ in range(500):
            n = rs.randint(1, 5)
            cells = sorted(rs.choice(9, n, replace=False).tolist())
            items = [(c, int(rs.randint(10))) for c in cells]
            text = scenes.caption(items[::-1])          # any order in, reading order out
            self.assertEqual(scenes.parse_caption(text), items, text)
        self.assertEqual(scenes.caption([(8, 7), (0, 8), (4, 3)]),
                         "a bag in the top left , a dress in the centre and a sneaker at the "
                         "bottom right")

    def test_malformed_captions_refused(self):
        for bad in ["", "a bag", "a bag in the top left ,", "a bag in the top left and",
                    "a bag in the top left a dress in the centre", "a hat in the top left",
                    "a bag in the top left and a dress in the centre , a coat on the left",
                    "a bag in the top left and a dress in the centre and a coat on the left"]:
            self.assertIsNone(scenes.parse_caption(bad), bad)

    def test_vocabulary_covers_the_grammar(self):
        words = scenes.vocabulary()
        v = WordVocab(words)           # specials first, no duplicates, no spaces
        self.assertEqual(len(words), len(set(words)))
        text = scenes.caption([(c, c % 10) for c in range(9)] + [])
        self.assertNotIn(1, v.encode(text))
        for k in range(10):
            self.assertNotIn(1, v.encode(scenes.caption([(0, k)])))
        self.assertEqual(len(set(scenes.PLACES)), 9)
        self.assertEqual(scenes.NOUNS[9], "boot")


class Compose(unittest.TestCase):
    def test_max_rule_clipping_and_order(self):
        a = np.full((28, 28), 100, np.uint8)
        b = np.zeros((28, 28), np.uint8)
        b[:, :5] = 200
        c1 = scenes.compose([a, b], [0, 1], [3, 3], [-3, 0])
        c2 = scenes.compose([b, a], [1, 0], [3, 3], [0, -3])
        np.testing.assert_array_equal(c1, c2)                 # order-independent
        self.assertEqual(c1.shape, (84, 84))
        self.assertEqual(c1[0, 3], 100)                       # a clipped at the top (dy -3)
        self.assertEqual(c1[24, 3], 100)
        self.assertEqual(c1[25, 3], 0)
        self.assertEqual(c1[0, 2], 0)                         # dx +3
        self.assertEqual(c1[5, 31], 200)                      # b over a: max
        self.assertEqual(c1[5, 30], 100)
        e = scenes.compose([a], [8], [3], [3])                # clipped at the bottom right
        self.assertEqual(e[83, 83], 100)
        self.assertEqual(e[58, 58], 0)
        self.assertEqual(int(e.sum()), 100 * 25 * 25)


@unittest.skipUnless(HAVE_DATA, "dataset-fashion-mnist is not installed")
class Splits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.train_imgs, cls.train_labels = scenes.load_fashion("train")
        cls.test_imgs, cls.test_labels = scenes.load_fashion("t10k")

    def test_deterministic_and_consistent(self):
        a = scenes.build_split("dev", 60)
        b = scenes.build_split("dev", 60)
        np.testing.assert_array_equal(a[0], b[0])
        self.assertEqual(a[2], b[2])
        images, lay, caps = scenes.build_split("test", 200)
        self.assertEqual(images.dtype, np.uint8)
        self.assertEqual(images.shape, (200, 84, 84))
        self.assertEqual(set(lay["n"].tolist()), {2, 3, 4})
        for s in range(200):
            n = lay["n"][s]
            items = scenes.items_of(lay, s)
            self.assertEqual(scenes.parse_caption(caps[s]), items)    # caption -> layout
            cells = [c for c, _ in items]
            self.assertEqual(cells, sorted(set(cells)))
            self.assertTrue((np.abs(lay["dx"][s, :n]) <= 3).all() and (np.abs(lay["dy"][s, :n]) <= 3).all())
            self.assertTrue((lay["cell"][s, n:] == -1).all())
            # the class is the source image's label, from the TEST images only
            np.testing.assert_array_equal(self.test_labels[lay["src"][s, :n]], lay["cls"][s, :n])
            # the image is the composition of those sources
            want = np.zeros((84, 84), np.uint8)
            for j in range(n):
                r, c = divmod(int(lay["cell"][s, j]), 3)
                y0, x0 = 28 * r + int(lay["dy"][s, j]), 28 * c + int(lay["dx"][s, j])
                for y in range(28):
                    for x in range(28):
                        if 0 <= y0 + y < 84 and 0 <= x0 + x < 84:
                            v = self.test_imgs[lay["src"][s, j]][y, x]
                            want[y0 + y, x0 + x] = max(want[y0 + y, x0 + x], v)
            if s < 20:   # the pixel loop is slow: 20 scenes suffice
                np.testing.assert_array_equal(images[s], want)

    def test_pools_are_disjoint(self):
        _, tr, _ = scenes.build_split("train", 300)
        _, dv, _ = scenes.build_split("dev", 300)
        self.assertTrue((tr["src"][tr["src"] >= 0] < scenes.TRAIN_POOL).all())
        self.assertTrue((dv["src"][dv["src"] >= 0] >= scenes.TRAIN_POOL).all())
        np.testing.assert_array_equal(self.train_labels[dv["src"][dv["src"] >= 0]],
                                      dv["cls"][dv["src"] >= 0])

    def test_web_scenes_compose_from_the_atlas(self):
        path = os.path.join(ROOT, "web", "scenes", "scenes.json")
        doc = json.load(open(path))
        self.assertEqual(doc["classes"][9], "ankle boot")
        self.assertGreaterEqual(len(doc["scenes"]), 20)
        _, lay, caps = scenes.build_split("test", scenes.SIZES["test"])
        src = doc["atlas"]["sources"]
        for sc in doc["scenes"]:
            i = int(sc["id"].split("-")[1])
            n = lay["n"][i]
            self.assertEqual(len(sc["items"]), n)
            for j, it in enumerate(sc["items"]):
                self.assertEqual((it["cell"], it["class"], it["dx"], it["dy"]),
                                 tuple(int(lay[k][i, j]) for k in ("cell", "cls", "dx", "dy")))
                self.assertEqual(src[it["class"]][it["sprite"]], int(lay["src"][i, j]))
                self.assertLess(it["sprite"], 8)
            self.assertEqual(sc["caption"], caps[i].replace(" ,", ","))
        # sprites.png is the atlas: row = class, column = sprite, the t10k images named in sources
        data = open(os.path.join(ROOT, "web", "scenes", "sprites.png"), "rb").read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        w, h = struct.unpack(">II", data[16:24])
        self.assertEqual((w, h, data[24], data[25]), (8 * 28, 10 * 28, 8, 0))   # 8-bit gray
        pos, idat = 8, b""
        while pos < len(data):
            (n,) = struct.unpack(">I", data[pos:pos + 4])
            if data[pos + 4:pos + 8] == b"IDAT":
                idat += data[pos + 8:pos + 8 + n]
            pos += 12 + n
        rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, w + 1)
        self.assertTrue((rows[:, 0] == 0).all())
        sheet = rows[:, 1:]
        for k in range(10):
            for j in range(8):
                np.testing.assert_array_equal(sheet[28 * k:28 * k + 28, 28 * j:28 * j + 28],
                                              self.test_imgs[src[k][j]])
                self.assertEqual(self.test_labels[src[k][j]], k)


if __name__ == "__main__":
    unittest.main()
