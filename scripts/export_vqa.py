#!/usr/bin/python3
"""Export a trained VQA model (train_vqa.py's best.pt) to ONE .safetensors file (models/FORMAT.md
"VQA models") and write the model folder's train.json.

    /usr/bin/python3 scripts/export_vqa.py --train build/train/scenes-vqa-wide \
        --stage build/train/scenes-vqa --stage build/train/scenes-vqa-tune \
        --baseline-train build/train/scenes-vqa-baseline --corpus build/corpus/scenes-vqa \
        --scenes-info build/corpus/scenes/packages.json --out models/scenes-vqa

OUT/model.safetensors (task "vqa": tokenizer.words = the corpus' vocab.txt, answers.words = its
answers.txt) and OUT/train.json: the attention model's train.json with the baseline's as
"baseline" (the baseline itself is not exported).
"""
import argparse, json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VQA  # noqa: E402
from export import export  # noqa: E402
from words import WordVocab  # noqa: E402


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def check_stage_chain(folders, infos):
    """Each training folder must have started from the one before it (its train.json's
    init_model is that folder's best.pt): a wrong order or a missing stage would make the card
    describe a training that did not happen. Raises SystemExit naming the folder."""
    for i in range(1, len(folders)):
        came_from = infos[i].get("init_model")
        if not came_from or os.path.normpath(os.path.dirname(came_from)) != \
                os.path.normpath(folders[i - 1]):
            raise SystemExit(f"{folders[i]}: its train.json says it started from {came_from}, "
                             f"not from {folders[i - 1]}/best.pt (the stage before it)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--baseline-train")
    ap.add_argument("--stage", action="append", default=[], metavar="DIR",
                    help="an earlier training stage's folder, in training order (repeat it): "
                    "--train started from the last one's best.pt (its --init-model), which "
                    "started from the one before; their train.json files go into OUT/train.json "
                    "as \"earlier_stages\"")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--scenes-info", help="packages.json of the scenes corpus (metadata corpus)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    best = torch.load(os.path.join(args.train, "best.pt"), map_location="cpu")
    model = VQA(best["config"])
    model.load_state_dict(best["model"])
    model.eval()
    vocab = WordVocab(read_lines(os.path.join(args.corpus, "vocab.txt")))
    answers = read_lines(os.path.join(args.corpus, "answers.txt"))
    tinfo = json.load(open(os.path.join(args.train, "train.json")))
    training = {k: tinfo[k] for k in ("parameters", "train_pairs", "epochs", "best_dev_accuracy",
                                      "train_seconds", "threads", "device", "torch", "stopped",
                                      "init_cnn", "freeze_cnn", "frozen_cnn_blocks",
                                      "cnn_lr_scale", "cnn_blocks", "extend_cnn", "position",
                                      "init_position")
                if k in tinfo}
    extra = {"name": tinfo["name"]}
    if args.scenes_info:
        info = json.load(open(args.scenes_info))
        extra["corpus"] = json.dumps([f"{p['package']}={p['version']}" for p in info["packages"]])
    if args.stage:
        tinfo["earlier_stages"] = [json.load(open(os.path.join(d, "train.json")))
                                   for d in args.stage]
        check_stage_chain(args.stage + [args.train], tinfo["earlier_stages"] + [tinfo])
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.safetensors")
    export(model, (vocab, answers), path, training=training, extra=extra)
    if args.baseline_train:
        tinfo["baseline"] = json.load(open(os.path.join(args.baseline_train, "train.json")))
    with open(os.path.join(args.out, "train.json"), "w") as f:
        json.dump(tinfo, f, indent=1)
    print(f"{path}: {os.path.getsize(path):,} bytes")


if __name__ == "__main__":
    main()
