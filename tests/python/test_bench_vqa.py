"""scripts/bench/export_vqa_onnx.py (the VQA benchmark's ONNX graph) on the tiny VQA models: the
exported module equals the PyTorch reference, with and without a learned position table (a random
one added to a copy, and the tiny golden model's own when it has one), and the check fails when the
graph leaves the table out or the table has the wrong shape."""
import contextlib, io, json, os, sys, tempfile, unittest

from tests.python.common import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts", "bench"))
try:
    import onnx  # noqa: F401
    HAVE_ONNX = True
except ImportError:
    HAVE_ONNX = False

GOLDEN = os.path.join(ROOT, "tests/golden/tiny")


def has_table(path):
    import json as j, stio
    _, meta = stio.load(path)
    return j.loads(meta["config"])["encoder"].get("position", "none") == "learned"


# the tiny models (scripts/golden_vqa.py): vqa-tiny, and vqa-tiny-nopos once vqa-tiny carries a
# position table; PLAIN = the one without a table, TABLE = the one with (None before the table)
def tiny(name):
    return (os.path.join(GOLDEN, f"{name}.safetensors"), os.path.join(GOLDEN, f"{name}.trace.safetensors"))


PLAIN, TABLE = None, None
if HAVE_ONNX:
    for name in ("vqa-tiny", "vqa-tiny-nopos"):
        if os.path.exists(tiny(name)[0]):
            if has_table(tiny(name)[0]):
                TABLE = tiny(name)
            else:
                PLAIN = tiny(name)


@unittest.skipUnless(PLAIN, "python3-onnx is not installed (make setup-train), or no tiny VQA model")
class TestExportVqaOnnx(unittest.TestCase):
    def setUp(self):
        import export_vqa_onnx
        self.x = export_vqa_onnx
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def run_check(self, model, out, trace=None, **kw):
        with contextlib.redirect_stdout(io.StringIO()):
            return self.x.export_and_check(model, os.path.join(self.tmp.name, out), trace or PLAIN[1],
                                           0, 14, **kw)

    def test_plain(self):
        ok, s = self.run_check(PLAIN[0], "plain")
        self.assertTrue(ok, s)
        self.assertEqual(s["questions"], 8)
        self.assertFalse(s["position"])
        self.assertEqual(s["answer_mismatches"], [])
        self.assertEqual(s["trace_answer_mismatches"], [])
        self.assertLessEqual(s["probs_max_abs_diff"], 1e-4)
        out = os.path.join(self.tmp.name, "plain")
        with open(os.path.join(out, "meta.json")) as f:
            meta = json.load(f)
        self.assertEqual(len(meta["answers"]), meta["config"]["answers"])
        self.assertEqual(len(meta["pixel_table"]), 256)
        with open(os.path.join(out, "reference.json")) as f:
            ref = json.load(f)
        self.assertEqual(len(ref["questions"]), 8)

    def test_position_table(self):
        copy = os.path.join(self.tmp.name, "pos.safetensors")
        self.x.with_random_position(PLAIN[0], copy)
        ok, s = self.run_check(copy, "pos", require_position_effect=True)
        self.assertTrue(ok, s)
        self.assertTrue(s["position"])
        self.assertGreater(s["position_moves_probs_by"], 1e-3)
        self.assertLessEqual(s["glimpses_max_abs_diff"], 1e-4)

    @unittest.skipUnless(TABLE, "no tiny VQA golden model with a position table yet")
    def test_golden_model_with_its_table(self):
        ok, s = self.run_check(TABLE[0], "table", trace=TABLE[1])
        self.assertTrue(ok, s)
        self.assertTrue(s["position"])
        self.assertEqual(s["reference"], "vqa_answer")       # model.py holds the table itself
        self.assertEqual(s["trace_answer_mismatches"], [])

    def test_graph_without_the_table_fails(self):
        copy = os.path.join(self.tmp.name, "pos.safetensors")
        self.x.with_random_position(PLAIN[0], copy)
        real = self.x.VqaGraph

        class Forgetful(real):          # a graph that drops the table: the check must see it
            def __init__(self, m, P):
                super().__init__(m, None)
        self.x.VqaGraph = Forgetful
        try:
            ok, s = self.run_check(copy, "forgetful", require_position_effect=True)
        finally:
            self.x.VqaGraph = real
        self.assertFalse(ok)
        self.assertGreater(s["probs_max_abs_diff"], 1e-3)

    def test_bad_table(self):
        import numpy as np
        import stio
        tensors, meta = stio.load(PLAIN[0])
        cfg = json.loads(meta["config"])
        cfg["encoder"]["position"] = "learned"
        bad = os.path.join(self.tmp.name, "bad.safetensors")
        tensors["memory_position.weight"] = np.zeros((3, 8), np.float32)
        stio.save(bad, tensors, dict(meta, config=json.dumps(cfg)))
        with self.assertRaisesRegex(SystemExit, r"expected F32 \[441, 8\]"):
            self.x.load_model(bad)
        missing = os.path.join(self.tmp.name, "missing.safetensors")
        del tensors["memory_position.weight"]
        stio.save(missing, tensors, dict(meta, config=json.dumps(cfg)))
        with self.assertRaisesRegex(SystemExit, "missing"):
            self.x.load_model(missing)


if __name__ == "__main__":
    unittest.main()
