"""Image (caption) models in the reference: config checks, the text path untouched, pixel
normalisation, export round trip, and the committed tiny caption golden reproduces."""
import copy, json, os, tempfile, unittest
import numpy as np
import torch
from tests.python.common import ROOT
import search, stio
from export import export, load
from golden_caption import (TINY_CONFIG, TINY_PARAMS, TINY_WORDS, make_tiny_model, tiny_images,
                            trace_tensors)
from model import Seq2Seq, check_config, merge_config, feature_grid, pixel_table
from words import WordVocab, detokenize

TINY = os.path.join(ROOT, "tests", "golden", "tiny")
SCALE_EPS = 32   # as test_export: float32 epsilons of a tensor's scale (CPU-dependent rounding)


def caption_config(**over):
    cfg = copy.deepcopy(TINY_CONFIG)
    for k, v in over.items():
        if isinstance(v, dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    return merge_config(cfg)


class Config(unittest.TestCase):
    def test_tiny_accepted_and_merged(self):
        cfg = caption_config()
        check_config(cfg)
        self.assertEqual(cfg["encoder"], {"type": "cnn", "channels": [4, 8], "position": "learned"})
        self.assertEqual(feature_grid(cfg), (21, 21))
        self.assertEqual(feature_grid(caption_config(encoder={"channels": [2, 2, 2]})), (10, 10))

    def test_refused(self):
        bad = {
            "cnn for translate": dict(task="translate"),
            "lstm for caption": dict(encoder={"type": "lstm", "layers": 1, "hidden": 8,
                                              "residual_from": 0}),
            "no channels": dict(encoder={"channels": []}),
            "channel 0": dict(encoder={"channels": [4, 0]}),
            "too many blocks": dict(encoder={"channels": [1] * 8}),
            "image channels 2": dict(image={"channels": 2}),
            "std 0": dict(image={"std": 0.0}),
            "height missing": dict(image={"height": None}),
            "luong": dict(decoder={"style": "luong"}),
            "position unknown": dict(encoder={"position": "sinusoid"}),
            "gate not bool": dict(attention={"gate": 1}),
            "gate without attention": dict(attention={"score": "none"}),
            "vocab sizes differ": dict(src_vocab=30),
            "task unknown": dict(task="segment"),
        }
        for what, over in bad.items():
            with self.subTest(what), self.assertRaises(ValueError):
                check_config(caption_config(**over))
        with self.assertRaises(ValueError):   # the gate on a luong text model
            check_config(merge_config({"attention": {"score": "dot", "gate": True},
                                       "decoder": {"hidden": 512, "style": "luong"}}))

    def test_text_state_dict_unchanged(self):
        # a text model has no cnn, no gate, the same parameter names as before images existed
        names = list(Seq2Seq(merge_config({"src_vocab": 30, "tgt_vocab": 30})).state_dict())
        self.assertEqual(names[:2], ["src_embed.weight", "tgt_embed.weight"])
        self.assertFalse(any(n.startswith("cnn.") or "gate" in n for n in names))
        img = list(Seq2Seq(caption_config()).state_dict())
        self.assertFalse(any(n.startswith(("src_embed", "enc_layers")) for n in img))
        self.assertIn("cnn.1.weight", img)
        self.assertIn("attention.gate.weight", img)


class Normalisation(unittest.TestCase):
    def test_table_is_float32_steps(self):
        img = {"mean": 0.2860, "std": 0.3530}
        t = pixel_table(img)
        self.assertEqual(t.dtype, np.float32)
        for p in (0, 1, 128, 254, 255):
            want = (np.float32(p) / np.float32(255) - np.float32(0.2860)) / np.float32(0.3530)
            self.assertEqual(t[p], want)
        # and it is what torch gives for the same operations on a float32 tensor
        x = torch.arange(256, dtype=torch.float32)
        np.testing.assert_array_equal(((x / 255.0 - 0.2860) / 0.3530).numpy(), t)

    def test_normalize_layout(self):
        model = Seq2Seq(caption_config())
        px = tiny_images()[2:4]
        x = model.normalize(px)
        self.assertEqual(tuple(x.shape), (2, 1, 84, 84))
        self.assertEqual(float(x[1, 0, 5, 7]), float(pixel_table(TINY_CONFIG["image"])[px[1, 5, 7]]))
        with self.assertRaises(ValueError):
            model.normalize(px[:, :80])
        with self.assertRaises(ValueError):
            model.normalize(px.astype(np.int32))

    def test_memory_is_row_major(self):
        model = Seq2Seq(caption_config()).eval()
        x = model.normalize(tiny_images()[3:4])
        memory, fh, fc = model.encode_image(x)
        with torch.no_grad():
            f = x
            for conv in model.cnn:
                f = torch.nn.functional.max_pool2d(torch.relu(conv(f)), 2)
        self.assertEqual(tuple(memory.shape), (1, 441, 8))
        pos = model.memory_position.weight
        self.assertTrue(torch.equal(memory[0, 2 * 21 + 5], f[0, :, 2, 5] + pos[2 * 21 + 5]))
        self.assertTrue(torch.equal(fh, fc))
        np.testing.assert_allclose(fh[0].detach().numpy(),
                                   (f[0].flatten(1).T + pos).mean(0).detach().numpy(),
                                   rtol=1e-6, atol=1e-6)
        # without encoder.position there is no memory_position
        cfg = caption_config()
        cfg["encoder"] = {"type": "cnn", "channels": [4, 8]}
        plain = Seq2Seq(cfg)
        self.assertFalse(hasattr(plain, "memory_position"))


class Words(unittest.TestCase):
    def test_detokenize_and_round_trip(self):
        v = WordVocab(TINY_WORDS)
        text = "a bag in the top left , a dress at the bottom right"
        ids = v.encode(text)
        self.assertEqual(v.decode(ids + [3]), "a bag in the top left, a dress at the bottom right")
        self.assertEqual(detokenize(["is", "it", "?"]), "is it?")
        self.assertEqual(WordVocab.from_bytes(v.to_bytes()).words, TINY_WORDS)
        self.assertEqual(v.encode("a zebra"), [v.index["a"], 1])
        with self.assertRaises(ValueError):
            WordVocab(["a"] + TINY_WORDS[1:])


class RoundTrip(unittest.TestCase):
    def test_export_load_bit_exact(self):
        model = make_tiny_model(seed=7)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.safetensors")
            export(model, TINY_WORDS, path, search={"len_a": 0.0, "len_b": 9.0})
            raw, meta = stio.load(path)
            back, vocab, meta = load(path)
        self.assertEqual(json.loads(meta["config"]), model.cfg)
        self.assertNotIn("tokenizer.spm", raw)
        self.assertEqual(raw["tokenizer.words"].tobytes().decode(), "\n".join(TINY_WORDS))
        self.assertIsInstance(vocab, WordVocab)
        self.assertFalse(any(k.startswith(("src_embed", "enc_layers")) for k in raw))
        self.assertEqual(raw["cnn.0.weight"].shape, (4, 1, 3, 3))
        self.assertEqual(raw["attention.gate.weight"].shape, (1, 16))
        self.assertEqual(raw["memory_position.weight"].shape, (441, 8))
        for k, v in model.state_dict().items():
            self.assertTrue(torch.equal(v, back.state_dict()[k]), k)
        img = tiny_images()[4]
        a = search.beam_search(model, img, TINY_PARAMS)
        b = search.beam_search(back, img, TINY_PARAMS)
        self.assertEqual([h["tokens"] for h in a], [h["tokens"] for h in b])
        self.assertEqual([h["score"] for h in a], [h["score"] for h in b])

    def test_wrong_vocabulary_size_refused(self):
        with tempfile.TemporaryDirectory() as d, self.assertRaises(ValueError):
            export(make_tiny_model(), TINY_WORDS[:-1], os.path.join(d, "m.safetensors"))


class TinyGolden(unittest.TestCase):
    def test_tiny_caption_trace_reproduces(self):
        model, vocab, meta = load(os.path.join(TINY, "caption-tiny.safetensors"))
        want, tmeta = stio.load(os.path.join(TINY, "caption-tiny.trace.safetensors"))
        params = json.loads(tmeta["params"])
        self.assertEqual(params, TINY_PARAMS)
        self.assertEqual(json.loads(tmeta["grid"]), [21, 21])
        np.testing.assert_array_equal(want["images"], tiny_images())
        got = trace_tensors(model, want["images"], params)
        self.assertEqual(sorted(got), sorted(want))
        for k in want:
            if want[k].dtype.kind in "iu":
                np.testing.assert_array_equal(got[k], want[k], err_msg=k)
                continue
            scale = max(1.0, float(np.max(np.abs(want[k]))) if want[k].size else 1.0)
            tol = SCALE_EPS * np.finfo(np.float32).eps * scale
            np.testing.assert_allclose(got[k], want[k], rtol=0, atol=tol, err_msg=k)
        # the trace is not degenerate: some beam outputs end in eos early and some run to the
        # maximum length, and beam differs from greedy somewhere
        self.assertTrue((want["beam_len"][:, 0] < want["beam"].shape[2]).any())
        self.assertTrue((want["beam_len"][:, 0] == want["beam"].shape[2]).any())
        self.assertTrue(any(list(want["greedy"][i][:want["greedy_len"][i]])
                            != list(want["beam"][i, 0][:want["beam_len"][i, 0]])
                            for i in range(len(want["images"]))))


SHIPPED = os.path.join(ROOT, "models", "scenes-caption", "model.safetensors")
GOLDEN = os.path.join(ROOT, "tests", "golden")


@unittest.skipUnless(os.path.exists(SHIPPED), "models/scenes-caption is not there yet")
class ShippedGolden(unittest.TestCase):
    """The committed goldens of models/scenes-caption are what the reference computes from the
    committed model file (every 50th test scene: greedy and beam-5 tokens, greedy attention)."""

    def test_outputs_and_attention_reproduce(self):
        model, vocab, meta = load(SHIPPED)
        recs = [json.loads(l) for l in open(os.path.join(GOLDEN, "scenes-caption.outputs.jsonl"))]
        trace, tmeta = stio.load(os.path.join(GOLDEN, "scenes-caption.trace.safetensors"))
        self.assertEqual(len(recs), len(trace["images"]))
        self.assertGreaterEqual(len(recs), 1000)
        p = json.loads(tmeta["params"])
        S = model.cfg["image"]["height"] // 8 * (model.cfg["image"]["width"] // 8)
        self.assertEqual(trace["attn"].shape, (int(trace["greedy_len"].sum()), S))
        for i in range(0, len(recs), 50):
            img = trace["images"][i]
            g = search.greedy(model, img, p)
            self.assertEqual(g["tokens"], recs[i]["greedy"])
            n = trace["greedy_len"][i]
            self.assertEqual(list(trace["greedy"][i][:n]), g["tokens"])
            rows = trace["attn"][trace["greedy_offset"][i]:trace["greedy_offset"][i] + n]
            np.testing.assert_allclose(g["attention"].numpy(), rows, rtol=0, atol=1e-5)
            self.assertEqual(vocab.decode(g["tokens"]), recs[i]["greedy_text"])
            b = search.beam_search(model, img, dict(p, beam=5, nbest=1))
            self.assertEqual(b[0]["tokens"], recs[i]["beam"])
            self.assertEqual(list(trace["beam"][i][:trace["beam_len"][i]]), b[0]["tokens"])


if __name__ == "__main__":
    unittest.main()
