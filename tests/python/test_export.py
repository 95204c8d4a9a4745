"""Export round trip and the reference's own consistency with the committed goldens."""
import glob, json, os, tempfile, unittest
import numpy as np
import torch
from tests.python.common import ROOT
import search, stio
from export import export, load
from golden import tiny_configs, trace_tensors, TINY_INPUTS, GOLDEN_PARAMS
from model import Seq2Seq, merge_config

GOLDEN = os.path.join(ROOT, "tests", "golden")
# float32 epsilons of a tensor's scale that a reference value may move between CPUs (see below)
SCALE_EPS = 32


class RoundTrip(unittest.TestCase):
    def test_every_config_round_trips_bit_exactly(self):
        tensors, _ = stio.load(os.path.join(GOLDEN, "tiny", "lstm-dot-luong.safetensors"))
        sp_bytes = tensors["tokenizer.spm"].tobytes()
        for name, cfg in sorted(tiny_configs(39).items()):
            with self.subTest(name):
                torch.manual_seed(5)
                model = Seq2Seq(merge_config(cfg)).eval()
                with tempfile.TemporaryDirectory() as d:
                    path = os.path.join(d, "m.safetensors")
                    export(model, sp_bytes, path, search={"len_a": 1.0, "len_b": 3.0})
                    back, sp, meta = load(path)
                    raw, _ = stio.load(path)
                self.assertEqual(json.loads(meta["config"]), model.cfg)
                self.assertEqual(meta["format"], "stele")
                for k, v in model.state_dict().items():
                    self.assertTrue(torch.equal(v, back.state_dict()[k]), k)
                if cfg["tie_embeddings"]:
                    self.assertNotIn("generator.weight", raw)
                ids = sp.encode("the dog") + [3]
                a = search.beam_search(model, ids, GOLDEN_PARAMS)
                b = search.beam_search(back, ids, GOLDEN_PARAMS)
                self.assertEqual([h["tokens"] for h in a], [h["tokens"] for h in b])
                self.assertEqual([h["score"] for h in a], [h["score"] for h in b])

    def test_header_layout(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.safetensors")
            stio.save(p, {"b": np.arange(3, dtype=np.float32), "a": np.zeros((2, 2), np.uint8)},
                      {"k": "v"})
            with open(p, "rb") as f:
                data = f.read()
        n = int.from_bytes(data[:8], "little")
        self.assertEqual(n % 8, 0)
        header = json.loads(data[8:8 + n])
        self.assertEqual(header["a"]["data_offsets"], [0, 4])     # name order, contiguous
        self.assertEqual(header["b"]["data_offsets"], [4, 16])
        self.assertEqual(len(data), 8 + n + 16)


class Goldens(unittest.TestCase):
    """The committed goldens are what the reference computes from the committed model files."""

    def test_tiny_traces_reproduce(self):
        # the text models' traces (caption-tiny and vqa-tiny have their own layouts:
        # test_caption.py, test_vqa.py)
        files = sorted(f for f in glob.glob(os.path.join(GOLDEN, "tiny", "*.trace.safetensors"))
                       if not os.path.basename(f).startswith(("caption-", "vqa-")))
        self.assertEqual(len(files), 27)   # 22 configs, 5 of them also int8
        for f in files:
            name = os.path.basename(f)[:-len(".trace.safetensors")]
            with self.subTest(name):
                model, sp, _ = load(os.path.join(GOLDEN, "tiny", f"{name}.safetensors"))
                want, _ = stio.load(f)
                got = trace_tensors(model, sp, TINY_INPUTS, GOLDEN_PARAMS)
                self.assertEqual(sorted(got), sorted(want))
                for k in want:
                    if want[k].dtype.kind in "iu":          # token ids: exact on every CPU
                        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
                        continue
                    # PyTorch's float32 kernels round differently per CPU and per
                    # ATEN_CPU_CAPABILITY (default/avx2/avx512: other summation orders, FMA or
                    # not), so the last bits of every value move with the machine. An absolute
                    # bound fails on large values (a beam score of -62 moved by 2.1e-6 on an AMD
                    # EPYC under avx512); a bound relative to each element fails near zero. So:
                    # SCALE_EPS float32 epsilons of the tensor's own scale (its largest
                    # magnitude, at least 1). Measured worst case over the 22 configs and the
                    # three capabilities: about 5 epsilons of scale.
                    scale = max(1.0, float(np.max(np.abs(want[k]))) if want[k].size else 1.0)
                    tol = SCALE_EPS * np.finfo(np.float32).eps * scale
                    np.testing.assert_allclose(got[k], want[k], rtol=0, atol=tol,
                                               err_msg=f"{k} (bound {tol:.3g} = {SCALE_EPS} eps "
                                                       f"of scale {scale:.3g})")

    def test_shipped_outputs_reproduce(self):
        # every shipped text model (dates, ui-en-fr, the study's ui-en-fr-none, any later one;
        # caption models: test_caption.py; VQA models: test_vqa.py)
        paths = sorted(p for p in glob.glob(os.path.join(ROOT, "models", "*", "model.safetensors"))
                       if json.loads(stio.load(p)[1]["config"]).get("task") not in ("caption",
                                                                                   "vqa"))
        names = [os.path.basename(os.path.dirname(p)) for p in paths]
        self.assertTrue({"dates", "ui-en-fr"} <= set(names), names)
        for name, path in zip(names, paths):
            with self.subTest(name):
                model, sp, meta = load(path)
                p = dict(search.default_params(),
                         **{k: v for k, v in json.loads(meta["search"]).items()})
                lines = open(os.path.join(GOLDEN, f"{name}.outputs.jsonl"),
                             encoding="utf-8").readlines()
                self.assertGreaterEqual(len(lines), 1000)
                for line in lines[::100]:
                    rec = json.loads(line)
                    ids = sp.encode(rec["src"]) + [model.cfg["eos_id"]]
                    self.assertEqual(ids, rec["src_ids"])
                    self.assertEqual(search.greedy(model, ids, p)["tokens"], rec["greedy"])
                    nb = search.beam_search(model, ids, dict(p, beam=5, nbest=1))
                    self.assertEqual(nb[0]["tokens"], rec["beam"])


if __name__ == "__main__":
    unittest.main()
