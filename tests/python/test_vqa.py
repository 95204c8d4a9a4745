"""VQA models (task "vqa") in the reference: config checks, the glimpse convolutions, question
words, export round trip, and the committed tiny VQA golden reproduces."""
import copy, json, os, tempfile, unittest
import numpy as np
import torch
import torch.nn.functional as F
from tests.python.common import ROOT
import stio
from export import export, load
from golden_vqa import (TINY_CONFIG, TINY_WORDS, TINY_ANSWERS, TINY_QUESTIONS, tiny_model,
                        tiny_images, trace_tensors)
from model import VQA, check_vqa_config, merge_vqa_config, vqa_answer
from words import WordVocab, question_words, encode_question

TINY = os.path.join(ROOT, "tests", "golden", "tiny")
SCALE_EPS = 32


def vqa_config(**over):
    cfg = copy.deepcopy(TINY_CONFIG)
    for k, v in over.items():
        if isinstance(v, dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    return merge_vqa_config(cfg)


class Config(unittest.TestCase):
    def test_tiny_accepted(self):
        check_vqa_config(vqa_config())
        check_vqa_config(vqa_config(glimpses=4))
        check_vqa_config(vqa_config(pool="mean"))

    def test_refused(self):
        bad = {"glimpses 0": dict(glimpses=0), "glimpses 5": dict(glimpses=5),
               "glimpses bool": dict(glimpses=True), "l2norm int": dict(l2norm=1),
               "question hidden 0": dict(question={"hidden": 0}),
               "attention hidden missing": dict(attention={"hidden": None}),
               "classifier hidden 1.5": dict(classifier={"hidden": 1.5}),
               "answers 0": dict(answers=0), "src_vocab 1": dict(src_vocab=1),
               "pad 3": dict(pad_id=3), "no channels": dict(encoder={"channels": []}),
               "image channels 2": dict(image={"channels": 2}), "pool max": dict(pool="max")}
        for what, over in bad.items():
            with self.subTest(what), self.assertRaises(ValueError):
                check_vqa_config(vqa_config(**over))
        with self.assertRaises(ValueError):
            check_vqa_config(dict(vqa_config(), task="caption"))

    def test_parameter_names(self):
        names = {k: tuple(v.shape) for k, v in VQA(vqa_config()).state_dict().items()}
        D, Hq, Eq, A, G, Fh = 8, 12, 8, 10, 2, 16
        want = {"cnn.0.weight": (4, 1, 3, 3), "cnn.0.bias": (4,), "cnn.1.weight": (8, 4, 3, 3),
                "cnn.1.bias": (8,), "q_embed.weight": (len(TINY_WORDS), Eq),
                "q_lstm.weight_ih_l0": (4 * Hq, Eq), "q_lstm.weight_hh_l0": (4 * Hq, Hq),
                "q_lstm.bias_ih_l0": (4 * Hq,), "q_lstm.bias_hh_l0": (4 * Hq,),
                "glimpse.conv1.weight": (A, D + Hq, 1, 1), "glimpse.conv1.bias": (A,),
                "glimpse.conv2.weight": (G, A, 1, 1), "glimpse.conv2.bias": (G,),
                "classifier.fc1.weight": (Fh, G * D + Hq), "classifier.fc1.bias": (Fh,),
                "classifier.fc2.weight": (len(TINY_ANSWERS), Fh),
                "classifier.fc2.bias": (len(TINY_ANSWERS),),
                "memory_position.weight": (21 * 21, D)}   # encoder.position learned: [S, D]
        self.assertEqual(names, want)
        nopos = VQA(vqa_config(encoder={"position": "none"})).state_dict()
        self.assertNotIn("memory_position.weight", nopos)
        self.assertEqual(set(nopos), set(want) - {"memory_position.weight"})
        base = VQA(vqa_config(pool="mean")).state_dict()
        self.assertFalse(any(k.startswith("glimpse.") for k in base))
        self.assertEqual(tuple(base["classifier.fc1.weight"].shape), (Fh, D + Hq))


class Forward(unittest.TestCase):
    def test_glimpses_are_convolutions_over_the_tiled_map(self):
        model = tiny_model()
        x = model.normalize(tiny_images()[2:5])
        q = torch.tensor([[4, 5, 6, 0], [10, 5, 7, 11], [11, 0, 0, 0]])
        q_len = torch.tensor([3, 4, 1])
        with torch.no_grad():
            out = model(x, q, q_len)
            phi, s = out["phi"], out["s"]
            B, S, D = phi.shape
            h = w = 21
            fmap = torch.cat([phi.transpose(1, 2).reshape(B, D, h, w),
                              s[:, :, None, None].expand(B, s.shape[1], h, w)], dim=1)
            e = F.conv2d(torch.relu(F.conv2d(fmap, model.glimpse.conv1.weight,
                                             model.glimpse.conv1.bias)),
                         model.glimpse.conv2.weight, model.glimpse.conv2.bias)
            np.testing.assert_allclose(out["scores"].numpy(), e.reshape(B, 2, S).numpy(),
                                       rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(out["glimpses"].sum(2).numpy(), 1.0, rtol=1e-5)
            # l2 norm: unit rows (or zero rows), before the position is added
            norms = (phi - model.memory_position.weight).norm(dim=2)
            self.assertTrue(bool(((norms - 1).abs() < 1e-5).logical_or(norms == 0).all()))
            # s is the LSTM state after the last real word: padding does not change it
            s1 = model.encode_question(q[:1, :3], q_len[:1])
            np.testing.assert_allclose(s1.numpy(), s[:1].numpy(), rtol=1e-6, atol=1e-6)
            # several questions on one image: scene indices reuse the CNN pass
            shared = model(x[:1], q, q_len, scene=torch.tensor([0, 0, 0]))
            alone = model(x[:1].expand(3, -1, -1, -1), q, q_len)
            np.testing.assert_allclose(shared["logits"].numpy(), alone["logits"].numpy(),
                                       rtol=1e-5, atol=1e-6)

    def test_position_after_the_norm(self):
        """phi = l2norm(cnn) + P: the position model's phi minus P is unit (or zero) rows, equal
        to the no-position model's phi with the same other weights; the glimpse scores and the
        sums x both read that phi."""
        model, nopos = tiny_model(), tiny_model(position=False)
        x = model.normalize(tiny_images()[1:4])
        q, q_len = torch.tensor([[4, 5, 6], [10, 5, 7], [11, 0, 0]]), torch.tensor([3, 3, 1])
        with torch.no_grad():
            a, b = model(x, q, q_len), nopos(x, q, q_len)
            P = model.memory_position.weight
            np.testing.assert_array_equal(a["phi"].numpy(), (b["phi"] + P).numpy())
            norms = (a["phi"] - P).norm(dim=2)
            self.assertTrue(bool(((norms - 1).abs() < 1e-5).logical_or(norms < 1e-6).all()))
            e = model.glimpse(a["phi"], a["s"])
            np.testing.assert_allclose(a["scores"].numpy(), e.numpy(), rtol=1e-6, atol=1e-6)
            xs = torch.bmm(a["glimpses"], a["phi"]).flatten(1)
            np.testing.assert_allclose(a["x"].numpy(), xs.numpy(), rtol=1e-6, atol=1e-6)
            self.assertGreater(float((a["glimpses"] - b["glimpses"]).abs().max()), 1e-3)

    def test_empty_question_refused(self):
        with self.assertRaises(ValueError):
            vqa_answer(tiny_model(), tiny_images()[0], [])

    def test_mean_pool_baseline(self):
        torch.manual_seed(0)
        model = VQA(vqa_config(pool="mean")).eval()
        with torch.no_grad():
            out = model(model.normalize(tiny_images()[:2]), torch.tensor([[4, 5], [6, 0]]),
                        torch.tensor([2, 1]))
        self.assertIsNone(out["glimpses"])
        np.testing.assert_allclose(out["x"].numpy(), out["phi"].mean(1).numpy(), rtol=1e-6)


class Words(unittest.TestCase):
    def test_question_words(self):
        self.assertEqual(question_words("Where is the BAG?"), ["where", "is", "the", "bag", "?"])
        self.assertEqual(question_words(" what,is ,the\ttop?\n"),
                         ["what", ",", "is", ",", "the", "top", "?"])
        self.assertEqual(question_words("ÉLAN"), ["Élan"])   # only ASCII A-Z are lower-cased
        self.assertEqual(question_words("  \t"), [])
        v = WordVocab(TINY_WORDS)
        self.assertEqual(encode_question(v, "where is the zebra?"),
                         [v.index["where"], v.index["is"], v.index["the"], 1, v.index["?"]])


class RoundTrip(unittest.TestCase):
    def test_export_load_bit_exact(self):
        model = tiny_model(seed=5)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.safetensors")
            export(model, (TINY_WORDS, TINY_ANSWERS), path)
            raw, meta = stio.load(path)
            back, vocab, meta = load(path)
        self.assertEqual(json.loads(meta["config"]), model.cfg)
        self.assertEqual(json.loads(meta["special_tokens"]), {"pad_id": 0, "unk_id": 1})
        self.assertEqual(raw["tokenizer.words"].tobytes().decode(), "\n".join(TINY_WORDS))
        self.assertEqual(raw["answers.words"].tobytes().decode(), "\n".join(TINY_ANSWERS))
        self.assertNotIn("tokenizer.spm", raw)
        self.assertEqual(back.answers, TINY_ANSWERS)
        self.assertEqual(vocab.words, TINY_WORDS)
        for k, v in model.state_dict().items():
            self.assertTrue(torch.equal(v, back.state_dict()[k]), k)
        a = vqa_answer(model, tiny_images()[3], [4, 5, 6])
        b = vqa_answer(back, tiny_images()[3], [4, 5, 6])
        self.assertEqual(a["answer"], b["answer"])
        np.testing.assert_array_equal(a["probs"], b["probs"])

    def test_refusals(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "m.safetensors")
            with self.assertRaises(ValueError):
                export(tiny_model(), (TINY_WORDS[:-1], TINY_ANSWERS), p)
            with self.assertRaises(ValueError):
                export(tiny_model(), (TINY_WORDS, TINY_ANSWERS[:-1]), p)
            with self.assertRaises(ValueError):
                export(tiny_model(), (TINY_WORDS, TINY_ANSWERS[:-1] + ["a\nb"]), p)
            torch.manual_seed(0)
            with self.assertRaises(ValueError):   # the baseline is not shipped
                export(VQA(vqa_config(pool="mean")), (TINY_WORDS, TINY_ANSWERS), p)


class TinyGolden(unittest.TestCase):
    def test_tiny_vqa_trace_reproduces(self):
        for name in ("vqa-tiny", "vqa-tiny-nopos"):
            with self.subTest(name):
                self.check_tiny(name)

    def check_tiny(self, name):
        model, vocab, meta = load(os.path.join(TINY, f"{name}.safetensors"))
        want, tmeta = stio.load(os.path.join(TINY, f"{name}.trace.safetensors"))
        position = hasattr(model, "memory_position")
        self.assertEqual(position, name == "vqa-tiny")
        self.assertEqual(json.loads(tmeta["questions"]), [q for _, q in TINY_QUESTIONS])
        self.assertEqual(json.loads(tmeta["grid"]), [21, 21])
        np.testing.assert_array_equal(want["images"], tiny_images())
        got = trace_tensors(model, vocab, want["images"], TINY_QUESTIONS)
        self.assertEqual(sorted(got), sorted(want))
        for k in want:
            if want[k].dtype.kind in "iu":
                np.testing.assert_array_equal(got[k], want[k], err_msg=k)
                continue
            scale = max(1.0, float(np.max(np.abs(want[k]))))
            tol = SCALE_EPS * np.finfo(np.float32).eps * scale
            np.testing.assert_allclose(got[k], want[k], rtol=0, atol=tol, err_msg=k)
        # not degenerate: several different answers, some zero phi rows (the eps path), the
        # glimpses differ from the uniform map, an unknown word among the ids
        self.assertGreaterEqual(len(set(want["answer"].tolist())), 3)
        P = model.memory_position.weight.detach().numpy() if position else 0.0
        self.assertTrue((np.abs(want["phi"] - P).sum(2) == 0).any())
        self.assertGreater(float(want["glimpses"].max()), 10.0 / 441)
        self.assertIn(1, want["question_ids"].tolist()[2])


if __name__ == "__main__":
    unittest.main()


class Localisation(unittest.TestCase):
    def test_location_cells(self):
        from evaluate_vqa import location_cells
        cfg = vqa_config(encoder={"channels": [4, 8, 8]})     # 84 -> 42 -> 21 -> 10
        cells = location_cells(cfg).reshape(10, 10)
        # location r covers pixels [8r, 8r + 8): centre 8r + 3.5 -> rows 0-3 cell row 0, 4-6 row 1
        # (35.5 / 28), 7-9 row 2 (59.5 / 28)
        rows = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
        for r in range(10):
            for c in range(10):
                self.assertEqual(cells[r, c], 3 * rows[r] + rows[c])
        tiny = location_cells(vqa_config()).reshape(21, 21)   # 4-pixel locations
        self.assertEqual(tiny[6, 7], 3 * 0 + 1)               # centre (25.5, 29.5)
        self.assertEqual(tiny[20, 20], 8)

    def test_score(self):
        from evaluate_vqa import score, location_cells
        cells = location_cells(vqa_config(encoder={"channels": [4, 8, 8]}))
        answers = ["nothing", "bag", "in the centre"]

        def res(answer, locs):
            g = np.zeros((2, 100), np.float32)
            for i, l in enumerate(locs):
                g[i, l] = 1.0
            return {"answer": answer, "glimpses": g}
        recs = [{"type": "where", "answer": "in the centre", "ref": 4, "target": 4},
                {"type": "relation", "answer": "bag", "ref": 0, "target": 1},
                {"type": "relation", "answer": "nothing", "ref": 8, "target": 5},
                {"type": "what", "answer": "bag", "ref": -1, "target": 3}]
        # where: glimpse 1 on location (5, 5) = cell 4; relation 1: glimpse 0 on (0, 5) = cell
        # 1 (target), glimpse 1 on (1, 1) = cell 0 (ref); relation 2: wrong answer (ignored)
        results = [res(2, [0, 55]), res(1, [5, 11]), res(1, [99, 99]), res(1, [0, 0])]
        s = score(recs, results, answers, cells)
        self.assertEqual(s["accuracy"], 0.75)
        self.assertEqual(s["per_type"]["relation"], {"accuracy": 0.5, "questions": 2})
        loc = s["localisation"]
        self.assertEqual(loc["all"]["correct_questions"], 2)
        self.assertEqual(loc["all"]["ref_cell"], 1.0)
        self.assertEqual(loc["relation"]["target_cell"], 1.0)
        self.assertEqual(loc["where"]["per_glimpse_ref"], [0.0, 1.0])
        self.assertEqual(loc["relation"]["per_glimpse_ref"], [0.0, 1.0])
        self.assertEqual(loc["relation"]["per_glimpse_target"], [1.0, 0.0])


SHIPPED = os.path.join(ROOT, "models", "scenes-vqa", "model.safetensors")
GOLDEN = os.path.join(ROOT, "tests", "golden")


@unittest.skipUnless(os.path.exists(SHIPPED), "models/scenes-vqa is not there yet")
class ShippedGolden(unittest.TestCase):
    """The committed goldens of models/scenes-vqa are what the reference computes from the
    committed model file, one question at a time (vqa_answer, as the engine): every 25th test
    question."""

    def test_outputs_reproduce(self):
        model, vocab, meta = load(SHIPPED)
        recs = [json.loads(l) for l in open(os.path.join(GOLDEN, "scenes-vqa.outputs.jsonl"))]
        trace, tmeta = stio.load(os.path.join(GOLDEN, "scenes-vqa.trace.safetensors"))
        questions = json.loads(tmeta["questions"])
        self.assertEqual(len(recs), len(trace["answer"]))
        self.assertEqual(len(questions), len(recs))
        self.assertGreaterEqual(len(recs), 4500)
        self.assertEqual(len(trace["images"]), 1000)
        G, S = model.G, int(np.prod(json.loads(tmeta["grid"])))
        self.assertEqual(trace["glimpses"].shape, (len(recs), G, S))
        for i in range(0, len(recs), 25):
            r = recs[i]
            ids = encode_question(vocab, questions[i])
            self.assertEqual(ids, r["ids"])
            self.assertEqual(list(trace["question_ids"][i][:trace["question_n"][i]]), ids)
            got = vqa_answer(model, trace["images"][trace["scene"][i]], ids)
            np.testing.assert_allclose(got["probs"], trace["probs"][i], rtol=0, atol=1e-5)
            np.testing.assert_allclose(got["glimpses"], trace["glimpses"][i], rtol=0, atol=1e-5)
            if r["gap"] > 1e-4:
                self.assertEqual(got["answer"], r["answer"])
                self.assertEqual(got["top"][:2], r["top"][:2])
            self.assertEqual(model.answers[r["answer"]], r["answer_text"])
            self.assertEqual(int(trace["answer"][i]), r["answer"])


class Stages(unittest.TestCase):
    """The card describes every training stage of the exported model, and the export refuses a
    stage list that is not the chain the model was trained through."""
    FROZEN = {"freeze_cnn": True, "frozen_cnn_blocks": 5, "epochs": 13, "train_seconds": 1200.0,
              "stopped": "time budget", "best_dev_accuracy": 0.93, "init_model": None}
    TUNE = {"freeze_cnn": 3, "frozen_cnn_blocks": 3, "cnn_lr_scale": 1.0, "epochs": 5,
            "train_seconds": 840.0, "stopped": "patience", "best_dev_accuracy": 0.9331,
            "init_model": "build/train/scenes-vqa/best.pt"}
    WIDE = {"freeze_cnn": 5, "frozen_cnn_blocks": 5, "cnn_lr_scale": 1.0, "cnn_blocks": 7,
            "extend_cnn": True, "widen_hidden": True, "questions_per_type": 3, "epochs": 5, "train_seconds": 636.0, "stopped": "patience",
            "best_dev_accuracy": 0.9402, "init_model": "build/train/scenes-vqa-tune/best.pt",
            "train_pairs": 147308, "train_scenes": 30000, "device": "cpu", "threads": 2,
            "init_cnn": "cnn.pt"}

    def test_three_stages(self):
        from evaluate_vqa import training_lines
        lines = training_lines(dict(self.WIDE, earlier_stages=[self.FROZEN, self.TUNE]))
        self.assertEqual(len(lines), 4)
        self.assertIn("3 stages", lines[0])
        self.assertTrue(lines[1].startswith("  1. the whole CNN frozen: 13 epochs, 20.0 min"))
        self.assertIn("2. the CNN's first 3 blocks frozen", lines[2])
        self.assertIn("3. the CNN extended from 5 to 7 blocks", lines[3])
        self.assertIn("best dev accuracy 94.02 %", lines[3])
        self.assertIn("hidden layers widened", lines[3])
        self.assertIn("147,308 train questions (3 of each type per train scene", lines[3])
        self.assertNotIn("widened", lines[2])

    def test_one_stage(self):
        from evaluate_vqa import training_lines
        first = dict(self.FROZEN, train_pairs=1, train_scenes=1, init_position=True,
                     init_position_divided_by=2.5)
        lines = training_lines(first)
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].endswith(":"))
        self.assertNotIn("stages", lines[0])
        self.assertIn("(divided by 2.50", lines[1])
        self.assertNotIn("extended", lines[1])

    def test_chain_checked(self):
        from export_vqa import check_stage_chain
        folders = ["build/train/scenes-vqa", "build/train/scenes-vqa-tune",
                   "build/train/scenes-vqa-wide"]
        check_stage_chain(folders, [self.FROZEN, self.TUNE, self.WIDE])
        with self.assertRaisesRegex(SystemExit, "scenes-vqa-wide: its train.json says it "
                                    "started from build/train/scenes-vqa-tune/best.pt"):
            check_stage_chain([folders[0], folders[2]], [self.FROZEN, self.WIDE])
        with self.assertRaisesRegex(SystemExit, "started from None"):
            check_stage_chain(folders[:2], [self.FROZEN, dict(self.TUNE, init_model=None)])


class MoreTrainQuestions(unittest.TestCase):
    """train.questions_per_type: more questions per train scene from the corpus' generator."""
    LAYOUT = {"n": np.array([3, 2], np.int32),
              "cell": np.array([[0, 1, 4, -1], [2, 8, -1, -1]], np.int32),
              "cls": np.array([[4, 5, 0, -1], [8, 8, -1, -1]], np.int32)}

    def test_more_questions_same_rule(self):
        from train_vqa import more_train_questions
        from scenes_vqa import SEEDS, make_questions
        self.assertIsNone(more_train_questions(self.LAYOUT, 1))
        three = more_train_questions(self.LAYOUT, 3)
        self.assertEqual(three, make_questions(self.LAYOUT, SEEDS["train"], 3))
        per = {}
        for q in three:
            per.setdefault((q["scene"], q["type"]), set()).add(q["question"])
        self.assertEqual(len(per[(0, "what")]), 3)          # three different questions
        self.assertNotIn((1, "relation"), per)              # two bags: no item to name
        self.assertGreater(len(three), 10)

    def test_refused(self):
        from train_vqa import more_train_questions
        for bad in (0, -2, 2.5, "2"):
            with self.assertRaisesRegex(SystemExit, "questions_per_type"):
                more_train_questions(self.LAYOUT, bad)
