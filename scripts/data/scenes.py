#!/usr/bin/python3
"""Build the `scenes` corpus: 84x84 grayscale scenes of 2-4 Fashion-MNIST items on a 3x3 grid,
each with a caption that names every item and its place (issue 12).

    /usr/bin/python3 scripts/data/scenes.py --out build/corpus/scenes [--web web/scenes]

Source images: the Debian package dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, 28x28, white
on black). Pools: train scenes use training images 0..54,999, dev scenes training images
55,000..59,999, test scenes ONLY the 10,000 test (t10k) images: no source image is shared
between splits.

Sizes (SIZES): train 30,000, dev 1,000, test 1,000 scenes.

A scene (numpy RandomState(SEEDS[split]), drawn in this order per scene):
  n       number of items, uniform in {2, 3, 4};
  cells   n distinct cells of the 3x3 grid (0..8, row-major: cell = 3 * row + col), sorted;
  then per item (in cell order): class uniform in 0..9, a source image uniform among the pool's
  images of that class, jitter dx then dy, each uniform in -3..3.
Composition rule (the page composes the same way, web/scenes/scenes.json): start from an all-zero
84x84 u8 canvas; each item's 28x28 image is pasted with its top-left corner at
(x, y) = (28 * col + dx, 28 * row + dy), clipped to the canvas, combined with pixel-wise MAX
(overlaps of jittered items are order-independent).

Caption: the items in reading order (row-major cells), each as "<noun phrase> <place phrase>",
joined by " , " with " and " before the last one; tokens are separated by single spaces (the
word tokenizer splits on spaces; detokenised, " ," becomes ","):
    "a bag in the top left , a dress in the centre and an ankle boot at the bottom right"
Noun phrases (class order of Fashion-MNIST's labels; NOUNS are the head words, the last token of
each phrase, whose attention row is the item's map):
    0 "a t-shirt"  1 "a pair of trousers"  2 "a pullover"  3 "a dress"  4 "a coat"
    5 "a sandal"   6 "a shirt"   7 "a sneaker"   8 "a bag"   9 "an ankle boot"
Place phrases (cells 0..8):
    "in the top left", "at the top", "in the top right", "on the left", "in the centre",
    "on the right", "at the bottom left", "at the bottom", "at the bottom right"
parse_caption() turns a caption back into its (cell, class) list.

Output (OUT = build/corpus/scenes):
  OUT/{split}.npz   images u8 [N, 84, 84]; layout arrays [N, 4], -1 past an item count:
                    cell, cls, src (index into the split's Fashion-MNIST file: train-* for
                    train/dev, t10k-* for test), dx, dy; n [N] item counts
  OUT/{split}.txt   the captions, one per line, tokens space-separated
  OUT/vocab.txt     the word vocabulary (<pad> <unk> <s> </s>, then every caption word), one a line
  OUT/packages.json {"packages": [{"package": "dataset-fashion-mnist", "version"}], "splits", ...}
With --web DIR: DIR/sprites.png (an atlas of TEST images, 10 rows = classes in label order x 8
columns, 28x28 each) and DIR/scenes.json (WEB_SCENES test scenes whose items all use atlas
sprites; see make_web()).
"""
import argparse, gzip, json, os, struct, subprocess, zlib
import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
SIZES = {"train": 30000, "dev": 1000, "test": 1000}
SEEDS = {"train": 1, "dev": 2, "test": 3}
TRAIN_POOL = 55000          # training images [0, 55000) -> train scenes, the rest -> dev scenes
GRID, CELL, SIZE, JITTER, MAX_ITEMS = 3, 28, 84, 3, 4
PHRASES = ["a t-shirt", "a pair of trousers", "a pullover", "a dress", "a coat", "a sandal",
           "a shirt", "a sneaker", "a bag", "an ankle boot"]
NOUNS = [p.split()[-1] for p in PHRASES]
CLASSES = ["t-shirt", "trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle boot"]
PLACES = ["in the top left", "at the top", "in the top right", "on the left", "in the centre",
          "on the right", "at the bottom left", "at the bottom", "at the bottom right"]
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
ATLAS_COLS, WEB_SCENES = 8, 24


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)
    if magic == 2049:
        return np.frombuffer(data, np.uint8, offset=8)
    raise ValueError(f"{path}: not an idx file (magic {magic})")


def load_fashion(kind, data_dir=DATA):
    """kind "train" | "t10k" -> (images u8 [N, 28, 28], labels u8 [N])."""
    if not os.path.exists(os.path.join(data_dir, f"{kind}-images-idx3-ubyte.gz")):
        raise SystemExit(f"{data_dir}: Fashion-MNIST is missing; install the Debian package "
                         "dataset-fashion-mnist (make setup-train does)")
    return (read_idx(os.path.join(data_dir, f"{kind}-images-idx3-ubyte.gz")),
            read_idx(os.path.join(data_dir, f"{kind}-labels-idx1-ubyte.gz")))


def vocabulary():
    """SPECIALS, then every word the grammar can write, in a fixed order."""
    words = list(SPECIALS)
    for text in PHRASES + PLACES + [",", "and"]:
        for w in text.split():
            if w not in words:
                words.append(w)
    return words


def caption(items):
    """items: [(cell, cls)] in any order -> the caption (tokens separated by spaces)."""
    parts = [f"{PHRASES[k]} {PLACES[c]}" for c, k in sorted(items)]
    if len(parts) == 1:
        return parts[0]
    return " , ".join(parts[:-1]) + " and " + parts[-1]


def parse_caption(text):
    """Inverse of caption(): [(cell, cls)] in caption order, or None when the text is not a
    well-formed caption (unknown phrase, or a separator out of place)."""
    toks, i, items = text.split(), 0, []
    phrases = sorted(((p.split(), k) for k, p in enumerate(PHRASES)), key=lambda x: -len(x[0]))
    places = sorted(((p.split(), c) for c, p in enumerate(PLACES)), key=lambda x: -len(x[0]))

    def match(table):
        nonlocal i
        for words, v in table:
            if toks[i:i + len(words)] == words:
                i += len(words)
                return v
        return None

    while True:
        k = match(phrases)
        c = match(places) if k is not None else None
        if c is None:
            return None
        items.append((c, k))
        if i == len(toks):
            return items
        sep = toks[i]
        i += 1
        if sep == "and":
            k = match(phrases)
            c = match(places) if k is not None else None
            return items + [(c, k)] if c is not None and i == len(toks) else None
        if sep != ",":
            return None


def compose(sprites, cells, dxs, dys):
    """The composition rule: MAX of the 28x28 sprites pasted at (28 col + dx, 28 row + dy)."""
    canvas = np.zeros((SIZE, SIZE), np.uint8)
    for img, cell, dx, dy in zip(sprites, cells, dxs, dys):
        y0, x0 = CELL * (cell // GRID) + dy, CELL * (cell % GRID) + dx
        ys, xs = max(0, y0), max(0, x0)
        ye, xe = min(SIZE, y0 + CELL), min(SIZE, x0 + CELL)
        region = canvas[ys:ye, xs:xe]
        np.maximum(region, img[ys - y0:ye - y0, xs - x0:xe - x0], out=region)
    return canvas


def draw_layouts(n_scenes, seed, pool, labels):
    """pool: the source indices this split may use. Returns layout arrays (see the docstring)."""
    rs = np.random.RandomState(seed)
    by_class = [pool[labels[pool] == k] for k in range(10)]
    lay = {k: np.full((n_scenes, MAX_ITEMS), -1, np.int32) for k in ("cell", "cls", "src", "dx", "dy")}
    lay["n"] = np.zeros(n_scenes, np.int32)
    for s in range(n_scenes):
        n = rs.randint(2, MAX_ITEMS + 1)
        cells = np.sort(rs.choice(GRID * GRID, n, replace=False))
        lay["n"][s] = n
        for j, cell in enumerate(cells):
            k = rs.randint(10)
            src = by_class[k][rs.randint(len(by_class[k]))]
            dx, dy = rs.randint(-JITTER, JITTER + 1, 2)
            for key, v in (("cell", cell), ("cls", k), ("src", src), ("dx", dx), ("dy", dy)):
                lay[key][s, j] = v
    return lay


def items_of(lay, s):
    n = lay["n"][s]
    return [(int(lay["cell"][s, j]), int(lay["cls"][s, j])) for j in range(n)]


def render(lay, images):
    out = np.zeros((len(lay["n"]), SIZE, SIZE), np.uint8)
    for s in range(len(out)):
        n = lay["n"][s]
        out[s] = compose(images[lay["src"][s, :n]], lay["cell"][s, :n], lay["dx"][s, :n],
                         lay["dy"][s, :n])
    return out


def build_split(split, n_scenes, data_dir=DATA):
    """-> (images u8 [N, 84, 84], layout dict, captions list)."""
    if split == "test":
        images, labels = load_fashion("t10k", data_dir)
        pool = np.arange(len(images))
    else:
        images, labels = load_fashion("train", data_dir)
        pool = np.arange(TRAIN_POOL) if split == "train" else np.arange(TRAIN_POOL, len(images))
    lay = draw_layouts(n_scenes, SEEDS[split], pool, labels)
    caps = [caption(items_of(lay, s)) for s in range(n_scenes)]
    return render(lay, images), lay, caps


def write_png_gray(path, img):
    """A minimal 8-bit grayscale PNG (no filter, zlib level 9)."""
    img = np.ascontiguousarray(img, np.uint8)
    h, w = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def make_web(lay, caps, outdir, data_dir=DATA):
    """The page's assets from the TEST split. Walking the test scenes in order, a scene is taken
    when its items' source images fit in the atlas (at most ATLAS_COLS distinct images per
    class), until WEB_SCENES scenes are taken; the atlas columns left free are filled with the
    first other test images of the class (t10k order). Scene ids are "test-<index in the test
    split>", so the page's scenes are test scenes with goldens."""
    images, labels = load_fashion("t10k", data_dir)
    atlas = [[] for _ in range(10)]
    chosen = []
    for s in range(len(lay["n"])):
        need = [list(a) for a in atlas]
        for c, k, src in zip(lay["cell"][s], lay["cls"][s], lay["src"][s]):
            if c >= 0 and src not in need[k]:
                need[k].append(int(src))
        if all(len(a) <= ATLAS_COLS for a in need):
            atlas = need
            chosen.append(s)
            if len(chosen) == WEB_SCENES:
                break
    for k in range(10):
        for src in np.nonzero(labels == k)[0]:
            if len(atlas[k]) == ATLAS_COLS:
                break
            if int(src) not in atlas[k]:
                atlas[k].append(int(src))
    sheet = np.zeros((10 * CELL, ATLAS_COLS * CELL), np.uint8)
    for k in range(10):
        for j, src in enumerate(atlas[k]):
            sheet[k * CELL:(k + 1) * CELL, j * CELL:(j + 1) * CELL] = images[src]
    os.makedirs(outdir, exist_ok=True)
    write_png_gray(os.path.join(outdir, "sprites.png"), sheet)
    scenes = []
    for s in chosen:
        n = lay["n"][s]
        items = [{"cell": int(lay["cell"][s, j]), "class": int(lay["cls"][s, j]),
                  "sprite": atlas[lay["cls"][s, j]].index(int(lay["src"][s, j])),
                  "dx": int(lay["dx"][s, j]), "dy": int(lay["dy"][s, j])} for j in range(n)]
        scenes.append({"id": f"test-{s}", "items": items,
                       "caption": caps[s].replace(" ,", ",")})
    doc = {"classes": CLASSES, "phrases": PHRASES, "places": PLACES, "grid": GRID, "cell": CELL,
           "size": SIZE, "atlas": {"rows": 10, "cols": ATLAS_COLS,
                                   "sources": atlas, "source_file": "t10k-images-idx3-ubyte"},
           "scenes": scenes}
    with open(os.path.join(outdir, "scenes.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return sheet, doc


def package_version(name):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--web", help="also write the page's sprites.png and scenes.json here")
    ap.add_argument("--data", default=DATA)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for split, n in SIZES.items():
        images, lay, caps = build_split(split, n, args.data)
        np.savez_compressed(os.path.join(args.out, f"{split}.npz"), images=images, **lay)
        with open(os.path.join(args.out, f"{split}.txt"), "w") as f:
            f.write("\n".join(caps) + "\n")
        if split == "test" and args.web:
            make_web(lay, caps, args.web, args.data)
    with open(os.path.join(args.out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocabulary()) + "\n")
    info = {"packages": [{"package": "dataset-fashion-mnist",
                          "version": package_version("dataset-fashion-mnist")}],
            "splits": SIZES, "seeds": SEEDS, "train_pool": TRAIN_POOL}
    with open(os.path.join(args.out, "packages.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps({"splits": SIZES, "vocab": len(vocabulary())}))


if __name__ == "__main__":
    main()
