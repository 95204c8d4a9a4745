#!/usr/bin/python3
"""Build the `scenes-vqa` corpus: questions and answers about the scenes of the `scenes` corpus
(scripts/data/scenes.py, issue 12), for visual question answering (issue 13).

    /usr/bin/python3 scripts/data/scenes_vqa.py --scenes build/corpus/scenes --out build/corpus/scenes-vqa

The questions are asked about the SAME scenes as the captions, split for split (train questions on
train scenes, dev on dev, test ONLY on test scenes): the layouts are read from
SCENES/{split}.npz (made by scenes.py; `make corpus` builds both), and the images are not copied:
question i of a split refers to scene `scene` of SCENES/{split}.npz.

Sizes (PER_TYPE = 1 question of each of the 5 types per scene; "where" and "relation" are
skipped on a scene where no class occurs exactly once, about 5 % of the scenes): train 30,000
scenes -> 147,308 questions, dev 1,000 -> 4,886, test 1,000 -> 4,898 (949 where, 949 relation,
1,000 of each other type).

Grid terms: cell = 3 * row + col (0..8); place phrases are the captions' (PLACES):
"in the top left", "at the top", "in the top right", "on the left", "in the centre", "on the
right", "at the bottom left", "at the bottom", "at the bottom right". Items are named by their
class phrase (PHRASES: "a pair of trousers", "an ankle boot"; "the pair of trousers" after "the").

Question types (TYPES; every question ends with " ?", tokens separated by single spaces):
  what      "what is <place> ?"                 -> the class at that cell (CLASSES: "t-shirt",
            e.g. "what is in the top right ?"       "trousers", ..., "ankle boot") or "nothing"
  where     "where is the <item> ?"             -> the item's place phrase ("in the top left");
            asked only when exactly one item of that class is in the scene
  count     "how many <plural> are there ?"     -> "0" .. "4"; plural of a class
            ("t-shirts", "pairs of trousers", ...) or "shoes" (sandal, sneaker, ankle boot);
            "3" and "4" are rare (3 or 4 items of one class, or shoes), 0 / 1 / 2 about 1/3 each
  exists    "is there <a/an item> ?"            -> "yes" | "no"
  relation  "what is <left of|right of|above|below> the <item> ?"
                                                -> the class in the ADJACENT cell in that
            direction (left of = same row, column - 1; above = same column, row - 1; ...) or
            "nothing" when that cell is empty; asked only when exactly one item of that class
            is in the scene and the adjacent cell is inside the grid.
The closed answer set (ANSWERS, 27): "nothing", the 10 classes, the 9 place phrases, "0".."4",
"yes", "no".

Balance (deterministic, numpy RandomState(SEEDS[split])): for each scene and type, every valid
question of the type is enumerated with its answer; the question asked is drawn uniformly among
the candidates whose answer has been asked LEAST often so far in this split and type (a running
count per answer). So each type's answers come out as even as the scenes allow: no answer above
40 % of its type for the types with 3 or more answers (what, where, count, relation; checked at
the end: the script fails otherwise), and yes/no alternate for exists (50 % each: two answers
cannot go below 50 %). The running counts make the choice depend on the scene's contents, but
the answer to a question text still cannot be told without the image (every answer of a type is
asked under every template of it).

Each question also records `ref`, the cell of the item the question names (where, relation; -1
otherwise), and `target`, the cell whose contents the answer reports (what: the asked cell;
relation: the adjacent cell; where: the item's cell; -1 otherwise): evaluate_vqa.py measures
whether a glimpse looks there.

Output (OUT = build/corpus/scenes-vqa):
  OUT/{split}.jsonl   one question a line: {"scene", "type", "question", "answer", "ref", "target"}
  OUT/vocab.txt       the question vocabulary (<pad> <unk> <s> </s>, then every template word)
  OUT/answers.txt     ANSWERS, one a line (answer i = line i)
  OUT/info.json       sizes, per-type answer counts, the scenes corpus' layout digest
"""
import argparse, hashlib, json, os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenes import CLASSES, PHRASES, PLACES, GRID, SPECIALS, SIZES  # noqa: E402

SEEDS = {"train": 101, "dev": 102, "test": 103}
PER_TYPE = 1
TYPES = ["what", "where", "count", "exists", "relation"]
PLURALS = ["t-shirts", "pairs of trousers", "pullovers", "dresses", "coats", "sandals", "shirts",
           "sneakers", "bags", "ankle boots"]
SHOES = (5, 7, 9)
GROUPS = [("shoes", SHOES)]
DIRECTIONS = [("left of", 0, -1), ("right of", 0, 1), ("above", -1, 0), ("below", 1, 0)]
COUNTS = ["0", "1", "2", "3", "4"]
ANSWERS = ["nothing"] + CLASSES + PLACES + COUNTS + ["yes", "no"]
MAX_SHARE = 0.40
LAYOUT_KEYS = ("n", "cell", "cls")


def the(k):
    """ "the" + the class phrase without its article: "the pair of trousers", "the ankle boot"."""
    return "the " + PHRASES[k].split(" ", 1)[1]


def candidates(items):
    """items [(cell, cls)] of one scene -> {type: [(question, answer, ref, target)]}, every valid
    question of every type with its answer (see the module docstring)."""
    at = dict(items)
    per_class = [sum(1 for _, k in items if k == c) for c in range(10)]
    out = {t: [] for t in TYPES}
    for c in range(GRID * GRID):
        out["what"].append((f"what is {PLACES[c]} ?",
                            CLASSES[at[c]] if c in at else "nothing", -1, c))
    for cell, k in items:
        if per_class[k] != 1:
            continue
        out["where"].append((f"where is {the(k)} ?", PLACES[cell], cell, cell))
        r, col = divmod(cell, GRID)
        for words, dr, dc in DIRECTIONS:
            rr, cc = r + dr, col + dc
            if 0 <= rr < GRID and 0 <= cc < GRID:
                nb = rr * GRID + cc
                out["relation"].append((f"what is {words} {the(k)} ?",
                                        CLASSES[at[nb]] if nb in at else "nothing", cell, nb))
    for k in range(10):
        out["count"].append((f"how many {PLURALS[k]} are there ?", str(per_class[k]), -1, -1))
        out["exists"].append((f"is there {PHRASES[k]} ?", "yes" if per_class[k] else "no", -1, -1))
    for name, members in GROUPS:
        n = sum(per_class[k] for k in members)
        out["count"].append((f"how many {name} are there ?", str(n), -1, -1))
    return out


def items_of(lay, s):
    return [(int(lay["cell"][s, j]), int(lay["cls"][s, j])) for j in range(int(lay["n"][s]))]


def make_questions(lay, seed, per_type=PER_TYPE):
    """lay: layout arrays (n, cell, cls) of a split -> list of question dicts, scene by scene, in
    TYPES order inside a scene (module docstring: the balance rule)."""
    rs = np.random.RandomState(seed)
    asked = {t: {} for t in TYPES}
    out = []
    for s in range(len(lay["n"])):
        cands = candidates(items_of(lay, s))
        for t in TYPES:
            pool = list(cands[t])
            for _ in range(per_type):
                if not pool:
                    break
                low = min(asked[t].get(a, 0) for _, a, _, _ in pool)
                best = [i for i, (_, a, _, _) in enumerate(pool) if asked[t].get(a, 0) == low]
                q, a, ref, target = pool.pop(best[rs.randint(len(best))])
                asked[t][a] = asked[t].get(a, 0) + 1
                out.append({"scene": s, "type": t, "question": q, "answer": a, "ref": ref,
                            "target": target})
    return out


def vocabulary():
    """SPECIALS, then every word the templates can write, in a fixed order."""
    words = list(SPECIALS)
    texts = (["what is", "where is the", "how many are there", "is there", "?"] + PLACES
             + PHRASES + PLURALS + [g for g, _ in GROUPS] + [d for d, _, _ in DIRECTIONS])
    for text in texts:
        for w in text.split():
            if w not in words:
                words.append(w)
    return words


def answer_counts(questions):
    counts = {t: {} for t in TYPES}
    for q in questions:
        counts[q["type"]][q["answer"]] = counts[q["type"]].get(q["answer"], 0) + 1
    return counts


def check_balance(questions):
    """-> list of problems: an answer above MAX_SHARE of its type (types with >= 3 answers), or
    above 1/2 + 1 question for the yes/no type."""
    bad = []
    for t, c in answer_counts(questions).items():
        total = sum(c.values())
        for a, n in c.items():
            limit = MAX_SHARE * total if t != "exists" else total / 2 + 1
            if n > limit:
                bad.append(f"{t}: answer {a!r} {n}/{total} = {n / total:.1%}")
    return bad


def layout_digest(lay):
    h = hashlib.sha256()
    for k in LAYOUT_KEYS:
        h.update(np.ascontiguousarray(lay[k], np.int32).tobytes())
    return h.hexdigest()[:16]


def load_layout(scenes_dir, split):
    z = np.load(os.path.join(scenes_dir, f"{split}.npz"))
    return {k: z[k] for k in LAYOUT_KEYS}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", required=True, help="the scenes corpus (scenes.py --out)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    vocab = set(vocabulary())
    info = {"splits": {}, "per_type": PER_TYPE, "seeds": SEEDS, "answers": len(ANSWERS),
            "layout_digest": {}, "answer_counts": {}}
    for split in SIZES:
        lay = load_layout(args.scenes, split)
        qs = make_questions(lay, SEEDS[split])
        bad = check_balance(qs)
        if bad:
            raise SystemExit(f"{split}: unbalanced answers: " + "; ".join(bad))
        for q in qs:
            assert q["answer"] in ANSWERS and all(w in vocab for w in q["question"].split())
        with open(os.path.join(args.out, f"{split}.jsonl"), "w") as f:
            for q in qs:
                f.write(json.dumps(q) + "\n")
        info["splits"][split] = {"scenes": int(len(lay["n"])), "questions": len(qs)}
        info["layout_digest"][split] = layout_digest(lay)
        info["answer_counts"][split] = answer_counts(qs)
    with open(os.path.join(args.out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocabulary()) + "\n")
    with open(os.path.join(args.out, "answers.txt"), "w") as f:
        f.write("\n".join(ANSWERS) + "\n")
    with open(os.path.join(args.out, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps({"splits": info["splits"], "vocab": len(vocab), "answers": len(ANSWERS)}))


if __name__ == "__main__":
    main()
