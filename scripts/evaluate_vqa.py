#!/usr/bin/python3
"""Evaluate VQA models on the scenes-vqa corpus: accuracy overall and per question type, for the
attention model and the no-attention baseline, and where the glimpses look.

    /usr/bin/python3 scripts/evaluate_vqa.py --model models/scenes-vqa/model.safetensors \
        --baseline build/train/scenes-vqa-baseline/best.pt --corpus build/corpus/scenes-vqa \
        --scenes build/corpus/scenes --splits dev test --out models/scenes-vqa/scores.json \
        --card models/scenes-vqa/README.md --train-json models/scenes-vqa/train.json

--model: an exported model file (what the engine runs); --baseline: a training folder's best.pt
(the baseline is Python-only, never exported). Every question is answered as the engine does it
(model.vqa_answer_scene: one CNN pass per scene, argmax of the float32 softmax, lowest index among
ties).

Glimpse localisation: a glimpse's argmax location l = r * w + c of the h x w feature grid covers
input pixels [2^n r, 2^n r + 2^n) vertically (n CNN blocks, each a 2x2 max-pool; 84 -> 42 -> 21 ->
10: 8 pixels a location, the last 4 rows/columns of the image are never pooled); its centre
(2^n r + (2^n - 1) / 2, same for c) falls in the scene cell (floor(y / 28), floor(x / 28)) (clamped
to the 3x3 grid). For "where" and "relation" questions answered correctly, we report the share
where one of the G glimpses' argmax lies in the cell of the item the question names (`ref`, the
issue's measure), and also in the cell the answer reports (`target`: for relation questions the
adjacent cell), and in either.
"""
import argparse, json, os, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VQA, feature_grid, feature_stride, vqa_answer_scene  # noqa: E402
from export import load  # noqa: E402
import stio  # noqa: E402
from words import WordVocab, encode_question  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
from scenes_vqa import TYPES  # noqa: E402

CELL, GRID = 28, 3


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def location_cells(cfg):
    """-> int array [S]: the scene cell (0..8) of each feature-grid location (module docstring)."""
    h, w = feature_grid(cfg)
    stride = feature_stride(cfg)
    centre = lambda i: (stride * i + (stride - 1) / 2.0)  # noqa: E731
    rows = [min(int(centre(r) // CELL), GRID - 1) for r in range(h)]
    cols = [min(int(centre(c) // CELL), GRID - 1) for c in range(w)]
    return np.array([GRID * rows[r] + cols[c] for r in range(h) for c in range(w)])


def load_baseline(path):
    best = torch.load(path, map_location="cpu")
    model = VQA(best["config"])
    model.load_state_dict(best["model"])
    return model.eval()


def answer_split(model, vocab, images, records):
    """-> list of result dicts (vqa_answer_scene), one per record, in order."""
    by_scene = {}
    for i, r in enumerate(records):
        by_scene.setdefault(r["scene"], []).append(i)
    out = [None] * len(records)
    for s, idx in sorted(by_scene.items()):
        res = vqa_answer_scene(model, images[s],
                               [encode_question(vocab, records[i]["question"]) for i in idx])
        for i, r in zip(idx, res):
            out[i] = r
    return out


def score(records, results, answers, cells=None):
    """-> {"accuracy", "questions", "per_type": {type: {"accuracy", "questions"}},
    "localisation": {...} (attention models)}."""
    index = {a: i for i, a in enumerate(answers)}
    ok = [res["answer"] == index[r["answer"]] for r, res in zip(records, results)]
    out = {"accuracy": float(np.mean(ok)), "questions": len(ok), "per_type": {}}
    for t in TYPES:
        sel = [k for r, k in zip(records, ok) if r["type"] == t]
        if sel:
            out["per_type"][t] = {"accuracy": float(np.mean(sel)), "questions": len(sel)}
    if cells is None or results[0]["glimpses"] is None:
        return out
    loc = {}
    for t in ("where", "relation", "all"):
        n = ref = tgt = either = 0
        per_g_ref = per_g_tgt = None
        for r, res, k in zip(records, results, ok):
            if not k or r["ref"] < 0 or (t != "all" and r["type"] != t):
                continue
            at = cells[res["glimpses"].argmax(axis=1)]            # [G] cells of the argmaxes
            n += 1
            hit_r, hit_t = at == r["ref"], at == r["target"]
            ref += bool(hit_r.any())
            tgt += bool(hit_t.any())
            either += bool(hit_r.any() or hit_t.any())
            per_g_ref = hit_r.astype(int) + (0 if per_g_ref is None else per_g_ref)
            per_g_tgt = hit_t.astype(int) + (0 if per_g_tgt is None else per_g_tgt)
        if n:
            loc[t] = {"correct_questions": n, "ref_cell": ref / n, "target_cell": tgt / n,
                      "ref_or_target": either / n,
                      "per_glimpse_ref": [float(x) / n for x in per_g_ref],
                      "per_glimpse_target": [float(x) / n for x in per_g_tgt]}
    out["localisation"] = loc
    return out


def pct(x):
    return f"{100 * x:.1f} %"


def stages(train):
    """The training stages in order, each a train_vqa.py train.json: the earlier ones
    (export_vqa.py --stage), then the final one (train itself)."""
    return train.get("earlier_stages", []) + [train]


def stage_blocks(t):
    """How many CNN blocks a stage's model had, where its train.json says (older ones only say
    it when the whole CNN was frozen)."""
    if t.get("cnn_blocks"):
        return t["cnn_blocks"]
    return t.get("frozen_cnn_blocks") if t.get("freeze_cnn") is True else None


def stage_words(t, blocks_before=None):
    """One training stage's train.json in a sentence: what of the CNN trained, and for how long."""
    parts = []
    blocks = stage_blocks(t)
    if t.get("extend_cnn") and blocks and blocks_before and blocks > blocks_before:
        parts.append(f"the CNN extended from {blocks_before} to {blocks} blocks by unpooled "
                     f"blocks that start as the identity (train.extend_cnn), so the stage starts "
                     f"from the previous stage's answers")
    if t.get("widen_hidden"):
        parts.append("the glimpse and classifier hidden layers widened to the sizes above, the new "
                     "units starting with zero outgoing weights (train.widen_hidden)")
    if t.get("init_position"):
        divided = t.get("init_position_divided_by")
        parts.append("the position table initialised from the CNN file's memory_position.weight"
                     + (f" (divided by {divided:.2f}, the median norm of its raw features)"
                        if divided else ""))
    freeze = t.get("freeze_cnn")
    scale = t.get("cnn_lr_scale", 1.0)
    if freeze is True:
        parts.append("the whole CNN frozen")
    elif freeze:
        parts.append(f"the CNN's first {freeze} blocks frozen, the others trained (learning rate "
                     f"x {scale:g})")
    else:
        parts.append(f"the whole CNN fine-tuned (learning rate x {scale:g})")
    per_type = t.get("questions_per_type", 1)
    asked = (f"{t['train_pairs']:,} train questions"
             + (f" ({per_type} of each type per train scene, train.questions_per_type)"
                if per_type > 1 else "") + ", " if "train_pairs" in t else "")
    return ("; ".join(parts) + f": {asked}{t.get('epochs')} epochs, "
            f"{t.get('train_seconds', 0) / 60:.1f} min, stopped: {t.get('stopped')}, best dev "
            f"accuracy {100 * t.get('best_dev_accuracy', 0):.2f} %")


def training_lines(train, cnn_source=None, pretrain=None):
    """The card's "training" item: where the CNN came from, then one sub-item per stage."""
    runs = stages(train)
    init = train.get("init_cnn")
    head = (f"- training: on the {train.get('train_scenes', '?'):,} train scenes, on "
            f"{train.get('device')} "
            f"({train.get('threads')} thread(s)); the CNN "
            + (f"initialised from {init}" if init else "trained from scratch")
            + (f" (its cnn.* tensors are identical to {cnn_source}'s)" if cnn_source else "")
            + (f", pretrained by scripts/pretrain_cnn.py as a per-location item classifier on "
               f"scenes of training images [0, 55000): item accuracy "
               f"{pretrain['dev']['item_accuracy']:.2f} % on the dev scenes, "
               f"{pretrain['test']['item_accuracy']:.2f} % on the test scenes; "
               f"{pretrain_runs(pretrain)} (cnn-pretrain.json)" if pretrain else "")
            + (f". {len(runs)} stages, each from the previous stage's best model:"
               if len(runs) > 1 else ":"))
    lines = [head]
    before = None
    for i, t in enumerate(runs, 1):
        lines.append(f"  {i}. {stage_words(t, before)}")
        before = stage_blocks(t) or before
    return lines


def same_cnn(model_path, other_path):
    """True when both model files hold identical cnn.* tensors."""
    if not os.path.exists(other_path):
        return False
    a, _ = stio.load(model_path)
    b, _ = stio.load(other_path)
    keys = [k for k in a if k.startswith("cnn.")]
    return bool(keys) and all(k in b and np.array_equal(a[k], b[k]) for k in keys)


def pretrain_runs(pretrain):
    """How the CNN's pretraining ran: one run, or a first run and a second one from its CNN."""
    first = pretrain.get("first_stage")
    seconds = pretrain["train_seconds"] + (first["train_seconds"] if first else 0)
    mirror = " with garments and bags mirrored at random" if pretrain.get("mirror") else ""
    if first:
        runs = (f"{first['steps']:,} batches (dev items {first['dev']['item_accuracy']:.2f} %), "
                f"then {pretrain['steps']:,} more from that CNN{mirror}")
    else:
        runs = f"{pretrain['steps']:,} batches{mirror}"
    return f"{runs}, {seconds / 60:.1f} min"


def card(path, scores, train, baseline_train, cfg, cnn_source=None, notes=None,
         pretrain=None):
    t = scores["test"]
    att, base = t["attention"], t.get("baseline")
    lines = ["# scenes-vqa", "",
             "Visual question answering on the Fashion-MNIST scenes (issue 13): \"Show, Ask, Attend "
             "and Answer\" (Kazemi & Elqursh 2017) with "
             f"{cfg['glimpses']} attention glimpses, over the scenes of the captioning corpus.",
             "", "## Model", "",
             f"- CNN {cfg['encoder']['channels']}"
             + (f" (pool {json.dumps(cfg['encoder']['pool'])})" if "pool" in cfg["encoder"] else "")
             + " on 84x84 gray images -> a "
             f"{'x'.join(map(str, feature_grid(cfg)))} grid of {cfg['encoder']['channels'][-1]} "
             f"features{' (l2-normalised per location)' if cfg['l2norm'] else ''}"
             + (", plus a learned position table (memory_position.weight [S, D]) added after "
                "the l2 norm: phi_l = l2norm(cnn_l) + P_l, read by the glimpse scores and "
                "summed by the glimpses" if cfg["encoder"].get("position") == "learned"
                else "; no position table"),
             f"- question: word embeddings {cfg['question']['emb']} + one LSTM layer "
             f"{cfg['question']['hidden']}; {cfg['src_vocab']} words",
             f"- glimpses: 1x1 convolutions {cfg['attention']['hidden']} -> {cfg['glimpses']}, "
             f"softmax over the grid; classifier {cfg['classifier']['hidden']} -> "
             f"{cfg['answers']} answers",
             ] + training_lines(train, cnn_source, pretrain) + ["",
             "## Data", "",
             "Questions from templates over the scenes of `build/corpus/scenes` "
             "(scripts/data/scenes_vqa.py): one question of each type per scene (train 30,000 "
             "scenes, dev 1,000, test 1,000; test questions only on test scenes); 27 answers. "
             "Types: `what` (\"what is in the top right ?\" -> class or nothing), `where` "
             "(\"where is the bag ?\" -> place), `count` (\"how many shoes are there ?\" -> 0..4), "
             "`exists` (\"is there a dress ?\" -> yes/no), `relation` (\"what is left of the "
             "coat ?\" -> the class in the adjacent cell, or nothing). Answers are balanced "
             "within each type (no answer above 40 %; yes/no 50/50)."
             + (" A training stage with train.questions_per_type K asks the same generator for K "
                "questions of each type per train scene instead (same seed and balance rule); "
                "dev and test are always the corpus' files."
                if any(t.get("questions_per_type", 1) > 1 for t in stages(train)) else ""), "",
             "## Test accuracy (test questions on the 1,000 test scenes only)", "",
             "| type | questions | attention | no-attention baseline | difference |",
             "|---|---:|---:|---:|---:|"]
    for ty in TYPES + ["overall"]:
        a = att if ty == "overall" else att["per_type"].get(ty)
        if a is None:
            continue
        b = None if base is None else (base if ty == "overall" else base["per_type"].get(ty))
        lines.append(f"| {ty} | {a['questions']:,} | {pct(a['accuracy'])} | "
                     + (f"{pct(b['accuracy'])} | {100 * (a['accuracy'] - b['accuracy']):+.1f} |"
                        if b else "- | - |"))
    if base is not None and baseline_train:
        lines += ["", "The baseline is the same model without attention: the mean of the "
                  "(l2-normalised) feature grid and the question state enter the same classifier; "
                  "same data, optimiser, seed and CNN start "
                  f"({'frozen' if baseline_train.get('freeze_cnn') else 'fine-tuned'}); "
                  "no position table (a mean over the locations would make it a constant); "
                  f"{baseline_train.get('epochs')} epochs, "
                  f"{baseline_train.get('train_seconds', 0) / 60:.1f} min (stopped: "
                  f"{baseline_train.get('stopped')}). It is evaluated in Python only and not "
                  "shipped."]
    loc = att.get("localisation", {})
    if loc:
        lines += ["", "## Where the glimpses look", "",
                  "For correctly answered \"where\" and relational test questions: the share "
                  "where one glimpse's argmax location falls in the named item's cell (ref), in "
                  "the cell the answer describes (target: the adjacent cell for relations), in "
                  "either; location -> cell by the centre of its 8x8 pooling window.", "",
                  "| questions | correct | ref cell | target cell | either | ref, per glimpse |",
                  "|---|---:|---:|---:|---:|---|"]
        for ty in ("where", "relation", "all"):
            if ty in loc:
                l = loc[ty]
                lines.append(f"| {ty} | {l['correct_questions']:,} | {pct(l['ref_cell'])} | "
                             f"{pct(l['target_cell'])} | {pct(l['ref_or_target'])} | "
                             + ", ".join(pct(x) for x in l["per_glimpse_ref"]) + " |")
    lines += ["", "## Targets (issue 13)", ""]
    per = [v["accuracy"] for v in att["per_type"].values()]
    lines.append(f"- overall >= 95 %: {pct(att['accuracy'])} -> "
                 f"{'met' if att['accuracy'] >= 0.95 else 'NOT met'}")
    lines.append(f"- every type >= 90 %: lowest {pct(min(per))} -> "
                 f"{'met' if min(per) >= 0.90 else 'NOT met'}")
    if base is not None and "relation" in att["per_type"]:
        d = att["per_type"]["relation"]["accuracy"] - base["per_type"]["relation"]["accuracy"]
        lines.append(f"- relations >= 10 points above the baseline: {100 * d:+.1f} points -> "
                     f"{'met' if d >= 0.10 else 'NOT met'}")
    if "all" in loc:
        lines.append(f"- glimpse on the named item's cell >= 90 %: {pct(loc['all']['ref_cell'])}"
                     f" -> {'met' if loc['all']['ref_cell'] >= 0.90 else 'NOT met'}")
    dev = scores.get("dev", {}).get("attention")
    if dev:
        lines += ["", f"Dev (the split used for every choice): {pct(dev['accuracy'])} overall; "
                  + ", ".join(f"{t} {pct(v['accuracy'])}" for t, v in dev["per_type"].items())
                  + (f"; glimpse on the named item's cell {pct(dev['localisation']['all']['ref_cell'])}"
                     if dev.get("localisation", {}).get("all") else "")
                  + (f"; baseline {pct(scores['dev']['baseline']['accuracy'])}"
                     if "baseline" in scores["dev"] else "") + "."]
    if notes:
        lines += ["", notes.strip()]
    lines += ["", "Made by `make vqa-eval` (scripts/evaluate_vqa.py); the numbers are in "
              "scores.json, the training history in train.json.", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="exported attention model (.safetensors)")
    ap.add_argument("--baseline", help="the baseline's best.pt")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--scenes", required=True)
    ap.add_argument("--splits", nargs="+", default=["test"])
    ap.add_argument("--out", help="scores.json")
    ap.add_argument("--card", help="write the model card (README.md) here")
    ap.add_argument("--train-json", help="train.json of the model (with a baseline entry)")
    ap.add_argument("--notes", help="a Markdown file whose text the card includes before its "
                    "last line (what the numbers do not say: why a target is not met)")
    ap.add_argument("--cnn-pretrain", help="scripts/pretrain_cnn.py's pretrain.json of the CNN "
                    "the model started from (the card quotes its item accuracy)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, vocab, meta = load(args.model)
    answers = model.answers
    if answers != read_lines(os.path.join(args.corpus, "answers.txt")):
        raise SystemExit("the model's answers differ from the corpus' answers.txt")
    models = {"attention": model}
    if args.baseline:
        models["baseline"] = load_baseline(args.baseline)
    cells = location_cells(model.cfg)
    scores = {}
    for split in args.splits:
        records = [json.loads(l) for l in read_lines(os.path.join(args.corpus, f"{split}.jsonl"))]
        images = np.load(os.path.join(args.scenes, f"{split}.npz"))["images"]
        scores[split] = {}
        for name, m in models.items():
            t0 = time.time()
            res = answer_split(m, vocab, images, records)
            scores[split][name] = score(records, res, answers, cells)
            scores[split][name]["seconds"] = round(time.time() - t0, 1)
            s = scores[split][name]
            print(f"{split} {name}: accuracy {s['accuracy']:.4f} "
                  + " ".join(f"{t} {v['accuracy']:.4f}" for t, v in s["per_type"].items())
                  + (f" | localisation ref {s['localisation']['all']['ref_cell']:.4f}"
                     if s.get("localisation", {}).get("all") else ""), file=sys.stderr)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(scores, f, indent=1)
    if args.card:
        train = json.load(open(args.train_json)) if args.train_json else {}
        cap = os.path.join(os.path.dirname(os.path.abspath(args.model)), "..", "scenes-caption",
                           "model.safetensors")
        card(args.card, scores, train, train.get("baseline"), model.cfg,
             "models/scenes-caption/model.safetensors" if same_cnn(args.model, cap) else None,
             open(args.notes).read() if args.notes else None,
             json.load(open(args.cnn_pretrain)) if args.cnn_pretrain else None)


if __name__ == "__main__":
    main()
