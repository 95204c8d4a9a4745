#!/usr/bin/python3
"""Build the ui-en-fr corpus: English->French UI strings from gettext catalogs (.mo) shipped in
Debian translation packages.

Steps (all deterministic for a given set of package versions):
  1. `apt-get download` each package in PACKAGES into a cache folder, `dpkg -x` it.
  2. Read every French catalog (`*/fr/LC_MESSAGES/*.mo`); plural entries keep their singular form,
     message contexts are dropped, the header entry is skipped.
  3. Clean each pair (see `clean_pair`): strip mnemonic markers, drop empty, untranslated,
     multi-line, overlong and length-ratio-outlier pairs and pairs whose placeholders differ.
  4. Dedupe by source: the most frequent translation wins, ties go to the first package in
     PACKAGES order (then to the first catalog in sorted path order).
  5. Split by SHA-256 of the source: the 1,000 smallest hashes are test, the next 1,000 dev.

Output: OUT/{train,dev,test}.{en,fr} (one string per line) and OUT/packages.json (name, version,
catalogs, pairs contributed).
"""
import argparse, collections, glob, hashlib, json, os, re, struct, subprocess, sys

PACKAGES = [
    "libreoffice-l10n-fr", "gimp-data", "inkscape", "gnucash-common", "vlc-l10n",
    "audacity-data", "gramps", "gnumeric-common",
    "evolution-common", "evolution-data-server-common", "nautilus-data", "gedit-common",
    "gnome-control-center-data", "libgtk-3-common", "filezilla-common",
    "pidgin-data", "hexchat-common", "poedit-common", "xfce4-settings", "thunar-data",
    "xfce4-panel", "darktable", "rhythmbox-data", "shotwell-common", "totem-common",
    "gnome-shell-common",
]
MAX_CHARS = 160          # longer strings are help paragraphs, not UI labels
DEV_SIZE = TEST_SIZE = 1000

# printf-style (%s, %1$s, %d, %.2f, %%), shell/JS-style ($1, $name$), brace-style ({0}, {name}).
PLACEHOLDER = re.compile(r"%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|L|z|j|t)?[diouxXeEfgGcsp%]"
                         r"|\$\d+|\$[A-Za-z_]+\$|\{[A-Za-z0-9_]*\}")


def read_mo(path):
    """Parse a GNU .mo file; returns [(msgid, msgstr)] as str. Raises ValueError if malformed."""
    data = open(path, "rb").read()
    if len(data) < 28:
        raise ValueError(f"{path}: too short for a .mo header")
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if end is None:
        raise ValueError(f"{path}: bad magic {magic:#x}")
    _, count, orig_off, trans_off = struct.unpack(end + "4I", data[4:20])
    pairs = []
    for i in range(count):
        olen, opos = struct.unpack(end + "2I", data[orig_off + 8 * i: orig_off + 8 * i + 8])
        tlen, tpos = struct.unpack(end + "2I", data[trans_off + 8 * i: trans_off + 8 * i + 8])
        pairs.append((data[opos:opos + olen], data[tpos:tpos + tlen]))
    out = []
    for o, t in pairs:
        if not o:
            continue  # header
        if b"\x04" in o:
            o = o.split(b"\x04", 1)[1]  # drop msgctxt
        o = o.split(b"\x00")[0]          # plural: keep the singular
        t = t.split(b"\x00")[0]
        try:
            out.append((o.decode("utf-8"), t.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return out


def strip_mnemonics(s):
    """Remove keyboard-mnemonic markers: LibreOffice '~', GTK '_' before a letter at a word start,
    Qt/wx '&' before a letter ('&&' is a literal '&'; '&amp;'-style entities are kept)."""
    s = s.replace("~", "")
    s = re.sub(r"(?<![\w])_(?=\w)", "", s)
    s = re.sub(r"&(?!&)(?![a-zA-Z]+;)(?=\w)", "", s)
    s = s.replace("&&", "&")
    return s


def placeholders(s):
    return sorted(PLACEHOLDER.findall(s))


def clean_pair(src, tgt):
    """Return the cleaned (src, tgt) or None with the reason dropped."""
    if "\n" in src or "\n" in tgt or "\t" in src or "\t" in tgt:
        return None, "multiline"
    src, tgt = strip_mnemonics(src).strip(), strip_mnemonics(tgt).strip()
    src, tgt = re.sub(r"\s+", " ", src), re.sub(r"\s+", " ", tgt)
    if not src or not tgt:
        return None, "empty"
    if not re.search(r"[A-Za-z]", src):
        return None, "no-letters"
    if src == tgt:
        return None, "untranslated"
    if len(src) > MAX_CHARS or len(tgt) > MAX_CHARS * 1.5:
        return None, "too-long"
    ratio = len(tgt) / len(src)
    if max(len(src), len(tgt)) > 12 and not (0.5 <= ratio <= 2.5):
        return None, "length-ratio"
    if placeholders(src) != placeholders(tgt):
        return None, "placeholders"
    return (src, tgt), None


def fetch(cache):
    os.makedirs(cache, exist_ok=True)
    versions = {}
    for p in PACKAGES:
        debs = glob.glob(os.path.join(cache, f"{p}_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "-o", "APT::Sandbox::User=root", "download", p], cwd=cache, check=True,
                           stdout=subprocess.DEVNULL)
            debs = glob.glob(os.path.join(cache, f"{p}_*.deb"))
        deb = sorted(debs)[-1]
        version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        root = os.path.join(cache, "x", p)
        if not os.path.isdir(root):
            # Like `dpkg -x`, but only the French catalogs are unpacked.
            os.makedirs(root + ".tmp", exist_ok=True)
            subprocess.run(f"dpkg-deb --fsys-tarfile '{deb}' | tar -x -C '{root}.tmp' "
                           "--wildcards '*/fr/LC_MESSAGES/*.mo' 2>/dev/null", shell=True)  # no match: no catalogs
            os.rename(root + ".tmp", root)
        versions[p] = (version, root)
    return versions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", required=True, help="where .deb files are downloaded and unpacked")
    args = ap.parse_args()
    versions = fetch(args.cache)
    candidates = collections.defaultdict(collections.Counter)  # src -> Counter(tgt)
    first_seen = {}                                            # (src, tgt) -> order
    drops = collections.Counter()
    manifest = []
    order = 0
    for p in PACKAGES:
        version, root = versions[p]
        catalogs = sorted(glob.glob(os.path.join(root, "**", "fr", "LC_MESSAGES", "*.mo"),
                                    recursive=True))
        kept = 0
        for cat in catalogs:
            for src, tgt in read_mo(cat):
                pair, why = clean_pair(src, tgt)
                if pair is None:
                    drops[why] += 1
                    continue
                candidates[pair[0]][pair[1]] += 1
                if pair not in first_seen:
                    first_seen[pair] = order
                    order += 1
                kept += 1
        manifest.append({"package": p, "version": version, "catalogs": len(catalogs),
                         "pairs_kept": kept})
    pairs = []
    for src, counter in candidates.items():
        tgt = min(counter, key=lambda t: (-counter[t], first_seen[(src, t)]))
        pairs.append((src, tgt))
    pairs.sort(key=lambda st: hashlib.sha256(st[0].encode("utf-8")).hexdigest())
    splits = {"test": pairs[:TEST_SIZE], "dev": pairs[TEST_SIZE:TEST_SIZE + DEV_SIZE],
              "train": pairs[TEST_SIZE + DEV_SIZE:]}
    os.makedirs(args.out, exist_ok=True)
    for name, rows in splits.items():
        with open(os.path.join(args.out, f"{name}.en"), "w", encoding="utf-8") as fe, \
             open(os.path.join(args.out, f"{name}.fr"), "w", encoding="utf-8") as ff:
            for s, t in rows:
                fe.write(s + "\n")
                ff.write(t + "\n")
    info = {"packages": manifest, "dropped": dict(drops), "unique_pairs": len(pairs),
            "splits": {k: len(v) for k, v in splits.items()}}
    with open(os.path.join(args.out, "packages.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps({"unique_pairs": len(pairs), "splits": info["splits"],
                      "dropped": info["dropped"]}))


if __name__ == "__main__":
    main()
