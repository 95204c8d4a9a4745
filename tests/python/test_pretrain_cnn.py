"""The scene CNN's pretraining (scripts/pretrain_cnn.py): scenes drawn from the given pool only and
labelled by cell, the per-location classifier's shapes, and the cnn.pt it writes read back by
both image trainers (model.cnn_state: train_vqa.init_cnn_from, train_caption.py)."""
import copy, os, tempfile, unittest
import numpy as np
import torch
from tests.python.common import ROOT  # noqa: F401  (puts scripts/ on the path)
import scenes
from pretrain_cnn import SceneSampler, LocationClassifier, NOTHING, score
from evaluate_vqa import location_cells
from golden_vqa import TINY_CONFIG
from model import VQA, merge_vqa_config, cnn_state
from train_vqa import init_cnn_from


def fake_fashion(n=30):
    """n 28x28 images, image i filled with the value i + 1 (so a pixel names its source), label
    i % 10."""
    images = np.repeat(np.arange(1, n + 1, dtype=np.uint8), 28 * 28).reshape(n, 28, 28)
    return images, (np.arange(n) % 10).astype(np.uint8)


class Sampler(unittest.TestCase):
    def test_pool_cells_and_labels(self):
        images, labels = fake_fashion()
        pool = np.arange(10, 20)                       # one image per class: value = 11 + class
        u8, lab = SceneSampler(images, labels, pool, seed=3).batch(200)
        self.assertEqual(u8.shape, (200, 84, 84))
        self.assertEqual(lab.shape, (200, 9))
        used = np.unique(u8)
        self.assertTrue(set(used.tolist()) <= {0} | set(range(11, 21)), "a pixel outside the pool")
        items = (lab != NOTHING).sum(1)
        self.assertTrue(items.min() >= 2 and items.max() <= scenes.MAX_ITEMS)
        self.assertEqual(len(np.unique(items)), 3, "2, 3 and 4 items all occur")
        # jitter is at most 3 pixels: a cell's centre pixel is its own item's (or empty)
        for s in range(200):
            for cell in range(9):
                y = scenes.CELL * (cell // 3) + scenes.CELL // 2
                x = scenes.CELL * (cell % 3) + scenes.CELL // 2
                want = 0 if lab[s, cell] == NOTHING else 11 + lab[s, cell]
                self.assertEqual(int(u8[s, y, x]), want, f"scene {s} cell {cell}")

    def test_deterministic(self):
        images, labels = fake_fashion()
        a = SceneSampler(images, labels, np.arange(20), seed=5).batch(8)
        b = SceneSampler(images, labels, np.arange(20), seed=5).batch(8)
        self.assertTrue(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))

    def test_mirror_garments_only(self):
        images, labels = fake_fashion()
        images[:, :, 14:] = 0                           # left half filled: a mirror shows right
        pool = np.arange(10, 20)
        plain = SceneSampler(images, labels, pool, seed=4).batch(300)
        off = SceneSampler(images, labels, pool, seed=4, mirror=False).batch(300)
        self.assertTrue(np.array_equal(plain[0], off[0]), "mirror off changed the stream")
        u8, lab = SceneSampler(images, labels, pool, seed=4, mirror=True).batch(300)
        mirrored = {k: [0, 0] for k in range(10)}       # class -> [mirrored, seen]
        for u, l in ((plain[0], plain[1]), (u8, lab)):
            for s in range(300):
                for cell in np.flatnonzero(l[s] != NOTHING):
                    y = scenes.CELL * (cell // 3) + scenes.CELL // 2
                    x = scenes.CELL * (cell % 3)
                    left, right = int(u[s, y, x + 8]), int(u[s, y, x + 20])
                    self.assertTrue((left == 0) != (right == 0), f"scene {s} cell {cell}")
                    if u is u8:
                        mirrored[int(l[s, cell])][0] += right != 0
                        mirrored[int(l[s, cell])][1] += 1
                    else:
                        self.assertEqual(right, 0, "mirrored without the option")
        for k, (m, n) in mirrored.items():
            if k in (5, 7, 9):
                self.assertEqual(m, 0, f"shoe class {k} mirrored")
            else:
                self.assertTrue(0.3 < m / n < 0.7, f"class {k}: {m} of {n} mirrored")


class Classifier(unittest.TestCase):
    def test_shapes_and_names(self):
        torch.manual_seed(0)
        m = LocationClassifier([4, 8, 8])
        out = m(torch.zeros(2, 1, 84, 84))
        self.assertEqual(tuple(out.shape), (2, 100, NOTHING + 1))
        self.assertEqual(sorted(k for k in m.state_dict() if k.startswith("cnn.")),
                         ["cnn.0.bias", "cnn.0.weight", "cnn.1.bias", "cnn.1.weight",
                          "cnn.2.bias", "cnn.2.weight"])

    def test_score_counts_every_item(self):
        images, labels = fake_fashion()
        u8, lab = SceneSampler(images, labels, np.arange(30), seed=1).batch(20)
        z = {"images": u8, "n": (lab != NOTHING).sum(1),
             "cell": np.full((20, 4), -1), "cls": np.full((20, 4), -1)}
        for s in range(20):
            cells = np.nonzero(lab[s] != NOTHING)[0]
            z["cell"][s, :len(cells)], z["cls"][s, :len(cells)] = cells, lab[s, cells]
        cfg = {"encoder": {"channels": [4, 8, 8]},
               "image": {"height": 84, "width": 84, "channels": 1}}
        with tempfile.TemporaryDirectory() as d:
            np.savez(os.path.join(d, "s.npz"), **z)
            res = score(LocationClassifier([4, 8, 8]), os.path.join(d, "s.npz"),
                        location_cells(cfg), 0.1, 0.3)
        self.assertEqual(res["items"], int(z["n"].sum()))
        self.assertTrue(0 <= res["item_accuracy"] <= 100)


class Format(unittest.TestCase):
    def write(self, d, channels):
        torch.manual_seed(1)
        m = LocationClassifier(channels)
        cfg = {"encoder": {"type": "cnn", "channels": channels},
               "image": {"height": 84, "width": 84, "channels": 1, "mean": 0.1, "std": 0.25}}
        path = os.path.join(d, "cnn.pt")
        torch.save({"config": cfg, "model": {k: v for k, v in m.state_dict().items()
                                             if k.startswith("cnn.")}}, path)
        return m, path

    def test_vqa_reads_it(self):
        with tempfile.TemporaryDirectory() as d:
            m, path = self.write(d, [4, 8])
            cfg = merge_vqa_config(copy.deepcopy(TINY_CONFIG))
            vqa = VQA(cfg)
            before = vqa.memory_position.weight.clone()
            image, copied = init_cnn_from(vqa, path)
        self.assertEqual((image["mean"], image["std"]), (0.1, 0.25))
        self.assertFalse(copied, "a cnn.pt has no position table")
        self.assertTrue(torch.equal(vqa.memory_position.weight, before))
        for k, v in m.cnn.state_dict().items():
            self.assertTrue(torch.equal(vqa.cnn.state_dict()[k], v), k)

    def test_channels_must_match(self):
        with tempfile.TemporaryDirectory() as d:
            _, path = self.write(d, [4, 8])
            with self.assertRaises(SystemExit) as e:
                cnn_state(path, {"channels": [4, 16]})
        self.assertIn("[4, 8] != [4, 16]", str(e.exception))

    def test_pools_must_match(self):
        with tempfile.TemporaryDirectory() as d:
            _, path = self.write(d, [4, 8])
            with self.assertRaises(SystemExit) as e:
                cnn_state(path, {"channels": [4, 8], "pool": [True, False]})
        self.assertIn("pools [True, True] != [True, False]", str(e.exception))

    def test_unpooled_block_keeps_the_grid(self):
        m = LocationClassifier([4, 8, 8, 8], [True, True, True, False])
        self.assertEqual(tuple(m(torch.zeros(1, 1, 84, 84)).shape), (1, 100, NOTHING + 1))
        cfg = {"encoder": {"channels": [4, 8, 8, 8], "pool": [True, True, True, False]},
               "image": {"height": 84, "width": 84, "channels": 1}}
        self.assertEqual(location_cells(cfg).tolist(), location_cells(
            {"encoder": {"channels": [4, 8, 8]}, "image": cfg["image"]}).tolist())


class Extend(unittest.TestCase):
    """train.extend_cnn: a trained CNN grows unpooled blocks that start as the identity."""

    def test_deeper_model_starts_equal(self):
        from model import identity_blocks
        torch.manual_seed(3)
        cfg = merge_vqa_config(copy.deepcopy(TINY_CONFIG))
        cfg["encoder"].update(channels=[4, 8, 8], pool=[True, True, False])
        small = VQA(cfg).eval()
        deep_cfg = copy.deepcopy(cfg)
        deep_cfg["encoder"].update(channels=[4, 8, 8, 8, 8], pool=[True, True, False, False, False])
        deep = VQA(deep_cfg).eval()
        state = dict(small.state_dict())
        state.update(identity_blocks(cfg["encoder"], deep_cfg["encoder"], "small"))
        deep.load_state_dict(state, strict=True)
        images = np.random.RandomState(1).randint(0, 256, (3, 84, 84)).astype(np.uint8)
        with torch.no_grad():
            a = small.encode_image(small.normalize(images))
            b = deep.encode_image(deep.normalize(images))
        self.assertTrue(torch.equal(a, b), "the identity blocks changed phi")
        self.assertEqual(len(deep.cnn), 5)

    def test_refused(self):
        from model import identity_blocks
        have = {"channels": [4, 8], "pool": [True, True]}
        for want, says in (({"channels": [4, 8, 8], "pool": [True, True, True]}, "block 2"),
                           ({"channels": [4, 8, 16], "pool": [True, True, False]}, "keep 8"),
                           ({"channels": [4, 16, 16], "pool": [True, True, False]},
                            "not the first blocks")):
            with self.assertRaises(SystemExit) as e:
                identity_blocks(have, want, "x.pt")
            self.assertIn(says, str(e.exception))
            self.assertIn("x.pt", str(e.exception))

    def test_cnn_state_extends_only_when_asked(self):
        with tempfile.TemporaryDirectory() as d:
            _, path = Format().write(d, [4, 8])
            want = {"channels": [4, 8, 8], "pool": [True, True, False]}
            with self.assertRaises(SystemExit):
                cnn_state(path, want)
            state, cfg, _ = cnn_state(path, want, extend=True)
        self.assertEqual(sorted(state), ["0.bias", "0.weight", "1.bias", "1.weight", "2.bias",
                                         "2.weight"])
        self.assertEqual(cfg["encoder"]["channels"], [4, 8, 8])
        self.assertEqual(float(state["2.weight"][3, 3, 1, 1]), 1.0)
        self.assertEqual(float(state["2.weight"].abs().sum()), 8.0)


class Widen(unittest.TestCase):
    """train.widen_hidden: the glimpse and classifier hidden layers grow; the model starts equal."""

    def test_wider_model_starts_equal(self):
        from model import widen_hidden
        torch.manual_seed(4)
        cfg = merge_vqa_config(copy.deepcopy(TINY_CONFIG))
        small = VQA(cfg).eval()
        wide_cfg = copy.deepcopy(cfg)
        wide_cfg["attention"]["hidden"] = cfg["attention"]["hidden"] + 5
        wide_cfg["classifier"]["hidden"] = cfg["classifier"]["hidden"] + 3
        wide = VQA(wide_cfg).eval()
        fresh = wide.state_dict()
        state = widen_hidden(small.state_dict(), cfg, wide_cfg, fresh, "small")
        wide.load_state_dict(state, strict=True)
        # the new units are live (their incoming weights are the fresh model's, not zero) but
        # silent (zero outgoing weights)
        A = cfg["attention"]["hidden"]
        self.assertTrue(torch.equal(state["glimpse.conv1.weight"][A:],
                                    fresh["glimpse.conv1.weight"][A:]))
        self.assertGreater(float(state["glimpse.conv1.weight"][A:].abs().sum()), 0)
        self.assertEqual(float(state["glimpse.conv2.weight"][:, A:].abs().sum()), 0)
        images = np.random.RandomState(1).randint(0, 256, (2, 84, 84)).astype(np.uint8)
        q = torch.tensor([[2, 3, 4], [5, 6, 2]])
        with torch.no_grad():
            a = small(small.normalize(images), q, torch.tensor([3, 2]))
            b = wide(wide.normalize(images), q, torch.tensor([3, 2]))
        for k in ("logits", "glimpses"):
            np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), rtol=0, atol=1e-6)

    def test_refused(self):
        from model import widen_hidden
        cfg = merge_vqa_config(copy.deepcopy(TINY_CONFIG))
        state = VQA(cfg).state_dict()
        narrow = copy.deepcopy(cfg)
        narrow["attention"]["hidden"] -= 1
        with self.assertRaisesRegex(SystemExit, "x.pt: attention.hidden .* cannot shrink"):
            widen_hidden(state, cfg, narrow, state, "x.pt")
        other = copy.deepcopy(cfg)
        other["glimpses"] = cfg["glimpses"] + 1
        with self.assertRaisesRegex(SystemExit, "x.pt: only attention.hidden and "
                                    "classifier.hidden may differ"):
            widen_hidden(state, cfg, other, state, "x.pt")


class PartlyFrozen(unittest.TestCase):
    """train.freeze_cnn N: the first N blocks frozen and cached, the rest trained on the cache."""

    def model(self):
        torch.manual_seed(2)
        cfg = merge_vqa_config(copy.deepcopy(TINY_CONFIG))
        cfg["encoder"].update(channels=[4, 8, 8], pool=[True, True, False])
        return VQA(cfg)

    def test_cached_prefix_gives_the_same_phi(self):
        from train_vqa import Features
        model = self.model().eval()
        images = np.random.RandomState(0).randint(0, 256, (5, 84, 84)).astype(np.uint8)
        with torch.no_grad():
            want = model.encode_image(model.normalize(images))
            for blocks in (1, 2, 3):
                got = Features(model, images, torch.device("cpu"), blocks)(torch.arange(5))
                np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6,
                                           err_msg=f"{blocks} blocks cached")

    def test_only_the_first_blocks_freeze(self):
        from model import cnn_param_groups
        model = self.model()
        groups = cnn_param_groups(model, 1e-3, 2, 0.5)
        self.assertEqual([p.requires_grad for p in model.cnn.parameters()],
                         [False, False, False, False, True, True])
        self.assertEqual(len(groups), 2)
        self.assertEqual({id(p) for p in groups[1]["params"]},
                         {id(p) for p in model.cnn[2].parameters()})
        self.assertEqual(groups[1]["lr"], 5e-4)

    def test_bad_count_refused(self):
        from train_vqa import frozen_blocks
        model = self.model()
        self.assertEqual((frozen_blocks(model, True), frozen_blocks(model, False),
                          frozen_blocks(model, 2)), (3, 0, 2))
        with self.assertRaises(SystemExit):
            frozen_blocks(model, 4)




class CardLine(unittest.TestCase):
    def test_one_run_and_two(self):
        from evaluate_vqa import pretrain_runs
        one = {"steps": 8000, "train_seconds": 816.0, "dev": {"item_accuracy": 90.87}}
        self.assertEqual(pretrain_runs(one), "8,000 batches, 13.6 min")
        two = {"steps": 20000, "train_seconds": 2027.5, "mirror": True,
               "dev": {"item_accuracy": 92.9},
               "first_stage": {"steps": 20000, "train_seconds": 2062.2,
                               "dev": {"item_accuracy": 92.87}}}
        self.assertEqual(pretrain_runs(two),
                         "20,000 batches (dev items 92.87 %), then 20,000 more from that CNN "
                         "with garments and bags mirrored at random, 68.2 min")


if __name__ == "__main__":
    unittest.main()
