"""Corpus builders: .mo parsing, cleaning rules, the dates generator's unambiguity conventions."""
import datetime, os, random, re, struct, tempfile, unittest
from tests.python.common import ROOT  # noqa: F401
import ui_en_fr
import dates
import dates_unseen


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
MONTHS.update({m[:3].lower() + ".": i + 1 for i, m in enumerate(dates.EN_MONTHS)})
MONTHS.update({m: i + 1 for i, m in enumerate(dates.FR_MONTHS)})
MONTHS.update({m: i + 1 for i, m in enumerate(dates.FR_ABBR)})
MONTHS.update({m: i + 1 for i, m in enumerate(dates.RU_MONTHS_GEN)})
MONTHS.update({m: i + 1 for i, m in enumerate(dates.RU_ABBR)})
# day words -> day numbers, longest first so that "vingt et un" wins over "un"-like parts
DAY_WORDS = sorted({w: i + 1 for table in (dates.EN_ORD, dates.FR_CARD, dates.RU_ORD_NOM,
                                           dates.RU_ORD_GEN)
                    for i, w in enumerate(table)}.items(), key=lambda kv: -len(kv[0]))


def parse_date(s):
    """An independent reader of the documented conventions: returns the single date s names."""
    low = s.lower()
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", low)
    if m:
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})( г\.)?", low)
    if m:
        return datetime.date(int(m[3]), int(m[2]), int(m[1]))
    # a day word is a whole word: not followed by a letter, a hyphen or a dot ("sept" the
    # number, "sept." the month), not preceded by a letter or a hyphen ("dix-sept")
    for w, n in DAY_WORDS:
        low = re.sub(rf"(?<![\w-]){re.escape(w)}(?![\w.-])", str(n), low)
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
        for i in range(6000):
            d = dates.FIRST + datetime.timedelta(rng.randrange((dates.LAST - dates.FIRST).days))
            s = (dates.render if i % 2 else dates_unseen.render)(d, rng)
            self.assertEqual(parse_date(s), d, s)
            for i, name in enumerate(dates.EN_DAYS + dates.FR_DAYS + dates.RU_DAYS):
                if name.lower() in s.lower().split(", ")[0].split(" ")[:1] or \
                        s.lower().startswith(name.lower()):
                    self.assertEqual(i % 7, d.weekday(), s)

    def test_every_template_parses(self):
        # each template of both generators, in every case variant, for dates that exercise
        # day 1 ("1er", "premier"), two-digit days and years on both sides of 2000
        for d in (datetime.date(2021, 3, 1), datetime.date(1987, 9, 23), datetime.date(2049, 5, 31),
                  datetime.date(1950, 12, 7)):
            for t in dates.templates(d) + dates_unseen.templates(d):
                for case, _ in dates.CASES:
                    self.assertEqual(parse_date(case(t)), d, case(t))

    def test_unseen_forms_are_never_training_forms(self):
        rng = random.Random(11)
        chars = set()
        for _ in range(400):
            d = dates.FIRST + datetime.timedelta(rng.randrange((dates.LAST - dates.FIRST).days))
            chars |= set("".join(dates.all_forms(d)))
        for _ in range(3000):
            d = dates.FIRST + datetime.timedelta(rng.randrange((dates.LAST - dates.FIRST).days))
            s = dates_unseen.render(d, rng)
            self.assertNotIn(s, dates.all_forms(d))
            # every character is one the model's vocabulary has (no <unk> in the test)
            self.assertLessEqual(set(s), chars, s)
        # the unseen set is not a handful of forms: most templates give a new string
        d = datetime.date(2021, 3, 5)
        new = [t for t in dates_unseen.templates(d) if t not in dates.all_forms(d)]
        self.assertGreaterEqual(len(new), 15)

    def test_unseen_split_uses_the_test_dates(self):
        with tempfile.TemporaryDirectory() as a:
            import sys
            argv = sys.argv
            try:
                sys.argv = ["dates.py", "--out", a, "--train", "50", "--dev", "30", "--test", "40"]
                dates.main()
                sys.argv = ["dates_unseen.py", "--out", a, "--test", "40"]
                dates_unseen.main()
            finally:
                sys.argv = argv
            self.assertEqual(open(os.path.join(a, "unseen.tgt")).read(),
                             open(os.path.join(a, "test.tgt")).read())
            src = open(os.path.join(a, "unseen.src"), encoding="utf-8").read().splitlines()
            test = open(os.path.join(a, "test.src"), encoding="utf-8").read().splitlines()
            self.assertEqual(len(src), 40)
            self.assertNotEqual(src, test)

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
