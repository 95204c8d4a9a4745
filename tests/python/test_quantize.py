"""scripts/quantize.py: the int8 rows' rule, what it keeps as float, what it refuses, and that the
reference (export.load) reads the int8 file back as the float weights the integers stand for."""
import json, os, tempfile, unittest
import numpy as np
from tests.python.common import ROOT  # noqa: F401
import quantize, stio
from export import load

GOLDEN = os.path.join(ROOT, "tests", "golden", "tiny")


class Rows(unittest.TestCase):
    def test_rule(self):
        rng = np.random.default_rng(7)
        w = rng.normal(0, 0.3, (9, 40)).astype(np.float32)
        w[3] = 0.0                      # a zero row: scale 0, all zeros
        w[5, 7] = 4.0                   # an outlier sets its row's scale only
        q, s = quantize.quantize_rows(w)
        self.assertEqual(q.dtype, np.int8)
        self.assertEqual(s.dtype, np.float32)
        self.assertEqual(int(np.abs(q).max()), 127)
        self.assertTrue(np.all(np.abs(q).max(axis=1)[s > 0] == 127))
        self.assertEqual(s[3], 0.0)
        self.assertFalse(q[3].any())
        np.testing.assert_allclose(s, np.abs(w).max(axis=1) / 127, rtol=1e-6)
        err = np.abs(q.astype(np.float32) * s[:, None] - w)
        self.assertTrue(np.all(err <= s[:, None] / 2 * (1 + 1e-5)))

    def test_which_tensors(self):
        tensors, meta = stio.load(os.path.join(GOLDEN, "bilstm-additive-bahdanau.safetensors"))
        out, meta2, report = quantize.quantize(tensors, meta)
        int8 = {n for n, a in out.items() if a.dtype == np.int8}
        self.assertIn("src_embed.weight", int8)
        self.assertIn("dec_cells.0.weight_hh", int8)
        self.assertIn("attention.query.weight", int8)
        for n in int8:
            self.assertEqual(out[n + ".scale"].shape, (out[n].shape[0],))
        self.assertNotIn("attention.v.weight", int8)       # a vector
        self.assertFalse(any(n.endswith("bias") for n in int8))
        self.assertEqual(out["tokenizer.spm"].tobytes(), tensors["tokenizer.spm"].tobytes())
        self.assertEqual(meta2["format_version"], "2")
        self.assertEqual(meta2["config"], meta["config"])
        self.assertEqual(len(report), len(int8))

    def test_refuses(self):
        tensors, meta = stio.load(os.path.join(GOLDEN, "caption-tiny.safetensors"))
        with self.assertRaisesRegex(ValueError, "only translation models"):
            quantize.quantize(tensors, meta)
        tensors, meta = stio.load(os.path.join(GOLDEN, "int8-gnmt.safetensors"))
        with self.assertRaisesRegex(ValueError, "expected a float32 model"):
            quantize.quantize(tensors, meta)

    def test_reference_dequantizes(self):
        src = os.path.join(GOLDEN, "bilstm-concat-luong.safetensors")
        tensors, meta = stio.load(src)
        out, meta2, _ = quantize.quantize(tensors, meta)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.safetensors")
            stio.save(path, out, meta2)
            model, _, _ = load(path)
        state = model.state_dict()
        for name, q in out.items():
            if q.dtype == np.int8:
                want = q.astype(np.float32) * out[name + ".scale"][:, None]
                np.testing.assert_array_equal(state[name].numpy(), want, err_msg=name)
        self.assertEqual(json.loads(meta2["config"]), model.cfg)


if __name__ == "__main__":
    unittest.main()
