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


class RoundTrip(unittest.TestCase):
    def test_every_config_round_trips_bit_exactly(self):
        sp_bytes = open(os.path.join(GOLDEN, "tiny", "lstm-dot-luong.safetensors"), "rb").read()
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
            data = open(p, "rb").read()
        n = int.from_bytes(data[:8], "little")
        self.assertEqual(n % 8, 0)
        header = json.loads(data[8:8 + n])
        self.assertEqual(header["a"]["data_offsets"], [0, 4])     # name order, contiguous
        self.assertEqual(header["b"]["data_offsets"], [4, 16])
        self.assertEqual(len(data), 8 + n + 16)


class Goldens(unittest.TestCase):
    """The committed goldens are what the reference computes from the committed model files."""

    def test_tiny_traces_reproduce(self):
        files = sorted(glob.glob(os.path.join(GOLDEN, "tiny", "*.trace.safetensors")))
        self.assertEqual(len(files), 22)
        for f in files:
            name = os.path.basename(f)[:-len(".trace.safetensors")]
            with self.subTest(name):
                model, sp, _ = load(os.path.join(GOLDEN, "tiny", f"{name}.safetensors"))
                want, _ = stio.load(f)
                got = trace_tensors(model, sp, TINY_INPUTS, GOLDEN_PARAMS)
                self.assertEqual(sorted(got), sorted(want))
                for k in want:
                    np.testing.assert_allclose(got[k], want[k], rtol=0, atol=1e-6, err_msg=k)

    def test_shipped_outputs_reproduce(self):
        for name in ("dates", "ui-en-fr"):
            path = os.path.join(ROOT, "models", name, "model.safetensors")
            self.assertTrue(os.path.exists(path), path)
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
