"""scripts/shortlist.py: the tensors it adds (models/FORMAT.md "Lexical shortlist") are well
formed and ranked as its docstring says, and every other byte of the model is kept: each
existing tensor's offsets and bytes and the metadata. When build/stele exists, the engine loads
the result and translates with and without the shortlist."""
import json, os, subprocess, tempfile, unittest
import numpy as np
from tests.python.common import ROOT
import shortlist as S
import sentencepiece as spm

TINY = os.path.join(ROOT, "tests", "golden", "tiny", "bilstm-general-luong.safetensors")
STELE = os.path.join(ROOT, "build", "stele")
SRC = ["the cat", "the dog", "a cat sat", "the mat", "hello world", "the cat and the dog"]
TGT = ["le chat", "le chien", "un chat assis", "le tapis", "bonjour monde", "le chat et le chien"]


class Shortlist(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        for name, lines in (("train.en", SRC), ("train.fr", TGT)):
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        self.data, self.n, self.header = S.read_model(TINY)
        self.sp = spm.SentencePieceProcessor(
            model_proto=S.tensor_bytes(self.data, self.n, self.header["tokenizer.spm"]))
        self.V = self.sp.get_piece_size()

    def tearDown(self):
        self.tmp.cleanup()

    def build(self, k=3, frequent=2, copy=True):
        return S.build(self.sp, self.tmp.name, self.V, k, frequent, "dice", copy, [0, 1, 2, 3])

    def test_structure_and_ranking(self):
        off, ids, always = self.build()
        V = self.V
        self.assertEqual(off.shape, (V + 1,))
        self.assertEqual(off[0], 0)
        self.assertEqual(off[-1], len(ids))
        self.assertTrue(np.all(np.diff(off) >= 0))
        self.assertTrue(np.all((ids >= 0) & (ids < V)))
        for v in range(V):
            c = ids[off[v]:off[v + 1]]
            self.assertTrue(np.all(np.diff(c) > 0), f"piece {v}: not strictly ascending")
            self.assertLessEqual(len(set(c.tolist()) - {v}), 3)   # k, plus the piece itself
        self.assertTrue({0, 1, 2, 3} <= set(always.tolist()))
        self.assertTrue(np.all(np.diff(always) > 0))
        # the ranking, recomputed here in plain Python: Dice over pairs (presence), ties by the
        # pair count then the lower id, the always-set not counted against k, the piece itself
        src = [set(self.sp.encode(l)) for l in SRC]
        tgt = [set(self.sp.encode(l)) for l in TGT]
        al = set(always.tolist())
        for v in set().union(*src):
            cs = sum(v in a for a in src)
            scored = []
            for t in set().union(*tgt) - al:
                ct = sum(t in b for b in tgt)
                cst = sum(v in a and t in b for a, b in zip(src, tgt))
                if cst:
                    scored.append((-2.0 * cst / (cs + ct), -cst, t))
            want = {t for _, _, t in sorted(scored)[:3]} | ({v} - al)
            self.assertEqual(set(ids[off[v]:off[v + 1]].tolist()), want, f"piece {v}")

    def test_copy_and_k(self):
        off, ids, always = self.build(k=1, copy=False)
        per = np.diff(off)
        self.assertLessEqual(per.max(), 1)
        off2, ids2, _ = self.build(k=1, copy=True)
        cat = self.sp.encode("cat")[-1]
        if cat not in set(always.tolist()):
            self.assertIn(cat, ids2[off2[cat]:off2[cat + 1]].tolist())

    def test_everything_else_byte_identical(self):
        off, ids, always = self.build()
        out = S.add_tensors(self.data, self.n, json.loads(json.dumps(self.header)),
                            dict(zip(S.NAMES, (off, ids, always))))
        path = os.path.join(self.tmp.name, "sl.safetensors")
        with open(path, "wb") as f:
            f.write(out)
        data2, n2, h2 = S.read_model(path)
        self.assertEqual(h2["__metadata__"], self.header["__metadata__"])
        for name, e in self.header.items():
            if name == "__metadata__":
                continue
            self.assertEqual(h2[name], e, name)
            self.assertEqual(S.tensor_bytes(data2, n2, h2[name]),
                             S.tensor_bytes(self.data, self.n, e), name)
        for name, a in zip(S.NAMES, (off, ids, always)):
            self.assertEqual(h2[name]["dtype"], "I32")
            self.assertEqual(h2[name]["data_offsets"][0] % 8, 0)
            got = np.frombuffer(S.tensor_bytes(data2, n2, h2[name]), "<i4")
            self.assertTrue(np.array_equal(got, a), name)
        with self.assertRaises(SystemExit):   # a second shortlist is refused
            S.add_tensors(data2, n2, h2, dict(zip(S.NAMES, (off, ids, always))))
        if os.path.exists(STELE):
            for flag in ([], ["--no-shortlist"]):
                r = subprocess.run([STELE, "translate", "-m", path, "--beam", "1", *flag,
                                    "the cat"], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
            r = subprocess.run([STELE, "info", path], capture_output=True, text=True)
            self.assertIn("shortlist   ", r.stdout)


if __name__ == "__main__":
    unittest.main()
