"""Corpus builders: .mo parsing, cleaning rules, the dates generator's unambiguity conventions."""
import datetime, os, random, re, struct, tempfile, unittest
from tests.python.common import ROOT  # noqa: F401
import ui_en_fr
import dates


def write_mo(path, pairs):
    """A little-endian GNU .mo file holding pairs (bytes, bytes), header entry first."""
    pairs = sorted(pairs)
    n = len(pairs)
    orig_off, trans_off = 28, 28 + 8 * n
    data_off = trans_off + 8 * n
    blob, otab, ttab = b"", b"", b""
    for o, _ in pairs:
        otab += struct.pack("<2I", len(o), data_off + len(blob))
        blob += o + b"\0"
    for _, t in pairs:
        ttab += struct.pack("<2I", len(t), data_off + len(blob))
        blob += t + b"\0"
    with open(path, "wb") as f:
        f.write(struct.pack("<7I", 0x950412DE, 0, n, orig_off, trans_off, 0, 0) + otab + ttab
                + blob)


class MoReader(unittest.TestCase):
    def test_read(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.mo")
            write_mo(p, [(b"", b"Content-Type: text/plain; charset=UTF-8\n"),
                         (b"_Open", "_Ouvrir".encode()),
                         (b"menu\x04File", b"Fichier"),
                         (b"%d file\x00%d files", b"%d fichier\x00%d fichiers")])
            got = dict(ui_en_fr.read_mo(p))
        self.assertEqual(got, {"_Open": "_Ouvrir", "File": "Fichier", "%d file": "%d fichier"})

    def test_bad_magic(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.mo")
            open(p, "wb").write(b"\0" * 40)
            with self.assertRaises(ValueError):
                ui_en_fr.read_mo(p)


class Cleaning(unittest.TestCase):
    def test_mnemonics(self):
        s = ui_en_fr.strip_mnemonics
        self.assertEqual(s("~Open"), "Open")
        self.assertEqual(s("Save _As…"), "Save As…")
        self.assertEqual(s("&File"), "File")
        self.assertEqual(s("Tom && Jerry"), "Tom & Jerry")
        self.assertEqual(s("file_name stays"), "file_name stays")
        self.assertEqual(s("&amp; stays"), "&amp; stays")

    def test_rules(self):
        c = ui_en_fr.clean_pair
        self.assertEqual(c("_Open %s", "_Ouvrir %s")[0], ("Open %s", "Ouvrir %s"))
        self.assertEqual(c("Open", "Open")[1], "untranslated")
        self.assertEqual(c("", "x")[1], "empty")
        self.assertEqual(c("a\nb", "c")[1], "multiline")
        self.assertEqual(c("Copy %s to %s", "Copier %s")[1], "placeholders")
        self.assertEqual(c("Print the whole document now", "Imprimer")[1], "length-ratio")
        self.assertEqual(c("{0} of {1}", "{0} sur {1}")[0], ("{0} of {1}", "{0} sur {1}"))
        self.assertEqual(c("Move $1 up", "Monter $1")[0], ("Move $1 up", "Monter $1"))

    def test_placeholders(self):
        self.assertEqual(ui_en_fr.placeholders("%1$s of %d%% {name} $2"),
                         sorted(["%1$s", "%d", "%%", "{name}", "$2"]))


MONTHS = {m.lower(): i + 1 for i, m in enumerate(dates.EN_MONTHS)}
MONTHS.update({m[:3].lower(): i + 1 for i, m in enumerate(dates.EN_MONTHS)})
MONTHS.update({m: i + 1 for i, m in enumerate(dates.FR_MONTHS)})
MONTHS.update({m: i + 1 for i, m in enumerate(dates.FR_ABBR)})
MONTHS.update({m: i + 1 for i, m in enumerate(dates.RU_MONTHS_GEN)})
MONTHS.update({m: i + 1 for i, m in enumerate(dates.RU_ABBR)})


def parse_date(s):
    """An independent reader of the documented conventions: returns the single date s names."""
    low = s.lower()
    m = re.fullmatch(r"(\d{4})[-/.](\d\d)[-/.](\d\d)", s)
    if m:
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})( г\.)?", s)
    if m:
        return datetime.date(int(m[3]), int(m[2]), int(m[1]))
    words = re.findall(r"[^\W\d_]+\.?|\d+(?:st|nd|rd|th|er)?|'\d\d", low)
    month = [MONTHS[w] for w in words if w in MONTHS]
    if len(month) != 1:
        # "mars"/"мая" style entries appear in two tables with the same number
        month = sorted(set(month))
    assert len(month) == 1, (s, month)
    nums = [w for w in words if re.fullmatch(r"'?\d+(?:st|nd|rd|th|er)?", w)]
    day = year = None
    for w in nums:
        v = re.sub(r"\D", "", w)
        if w.startswith("'") or (len(v) == 2 and day is not None):
            yy = int(v)
            year = 1900 + yy if yy >= 50 else 2000 + yy
        elif len(v) == 4:
            year = int(v)
        else:
            day = int(v)
    return datetime.date(year, month[0], day)


class Dates(unittest.TestCase):
    def test_every_form_is_unambiguous(self):
        rng = random.Random(7)
        for _ in range(3000):
            d = dates.FIRST + datetime.timedelta(rng.randrange((dates.LAST - dates.FIRST).days))
            s = dates.render(d, rng)
            self.assertEqual(parse_date(s), d, s)
            for i, name in enumerate(dates.EN_DAYS + dates.FR_DAYS + dates.RU_DAYS):
                if name.lower() in s.lower().split(", ")[0].split(" ")[:1] or \
                        s.lower().startswith(name.lower()):
                    self.assertEqual(i % 7, d.weekday(), s)

    def test_deterministic_and_disjoint(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            for out in (a, b):
                dates.main.__globals__["__name__"]  # noqa: B018 (module imported, not run)
                import sys
                argv = sys.argv
                sys.argv = ["dates.py", "--out", out, "--train", "500", "--dev", "100",
                            "--test", "100"]
                try:
                    dates.main()
                finally:
                    sys.argv = argv
            for f in ("train.src", "test.tgt", "dev.src"):
                self.assertEqual(open(os.path.join(a, f)).read(), open(os.path.join(b, f)).read())
            test = set(open(os.path.join(a, "test.tgt")).read().split())
            dev = set(open(os.path.join(a, "dev.tgt")).read().split())
            train = set(open(os.path.join(a, "train.tgt")).read().split())
            self.assertFalse(test & dev or test & train or dev & train)


if __name__ == "__main__":
    unittest.main()
