#!/usr/bin/python3
"""Train a visual question answering model (task "vqa", scripts/model.py VQA) from
scripts/configs/<name>.json on the scenes-vqa corpus (scripts/data/scenes_vqa.py) over the
images of the scenes corpus (scripts/data/scenes.py).

    /usr/bin/python3 scripts/train_vqa.py --config scripts/configs/scenes-vqa.json \
        --corpus build/corpus/scenes-vqa --scenes build/corpus/scenes --out build/train/scenes-vqa

The no-attention baseline is the same script with a config whose model has "pool": "mean"
(scripts/configs/scenes-vqa-baseline.json): mean-pooled phi + s into the same classifier, the
same data, batches, optimiser, budget rules and seed.

Batches hold `batch_scenes` scenes with ALL their questions (about 5 each): the CNN runs once per
scene. Loss: mean cross-entropy over the batch's questions. Adam, gradient-norm clipping. The dev
split is scored (loss and accuracy) after every epoch and every `eval_every` batches; the best dev
accuracy is kept (best.pt); the learning rate halves when an evaluation does not improve it, and
training stops after `patience` such evaluations in a row, at max_epochs or at the time budget.

CNN initialisation (train.init_cnn, optional): the path of an exported caption model
(models/scenes-caption/model.safetensors; or a caption training folder's best.pt): its cnn.* tensors become the VQA model's, and its
image mean/std are used (the CNN was trained with them); the channels must match. With
encoder.position "learned" its memory_position.weight (same [S, D]) is the initial position table,
divided by the median norm of the caption CNN's raw features (the caption model added it to
those; VQA adds it to unit-norm ones; train.init_position false: a random start instead).
train.cnn_lr_scale multiplies the CNN's learning rate when it is fine-tuned. With
train.freeze_cnn true the CNN is not trained and each split's phi (after the l2 norm) is
computed once (train.freeze_cnn N: the first N blocks only; their output map is computed once and
the other blocks train on it) ("feature_seconds" in train.json, counted in train_seconds; --feature-cache DIR
keeps them on disk so that the baseline run reuses them: "features_reused"). Without init_cnn the
image mean/std are measured on the train images as train_caption.py does. train.extend_cnn true:
the CNN of init_cnn and of --init-model may be the first blocks of the config's, the others
starting as the identity (model.identity_blocks: unpooled, as many channels out as in), so that a
trained model grows deeper CNN blocks (a wider view for each place) and starts where it was.
train.widen_hidden true: --init-model's attention.hidden and classifier.hidden may be smaller than
the config's; the new units start with zero outgoing weights (model.widen_hidden), so the wider
model also starts where it was. train.questions_per_type K (default 1): the train split's questions
are made again by the corpus generator with K of each type per scene (more_train_questions).

Writes OUT/best.pt, OUT/checkpoint.pt (resume point: running again resumes), OUT/train.json
(history, wall time, device, why it stopped). Options as train_caption.py: --device, --threads,
--max-epochs, --max-minutes (checked after every batch), --limit (first N train scenes, smoke
tests).
"""
import argparse, hashlib, json, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VQA, merge_vqa_config, count_parameters, cnn_state, run_cnn, \
    identity_blocks, widen_hidden, cnn_param_groups  # noqa: E402
from words import WordVocab, encode_question  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
from scenes_vqa import LAYOUT_KEYS, SEEDS, layout_digest, make_questions  # noqa: E402


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


class Split:
    """One split's questions grouped by scene: ids (padded LongTensor), lengths, answers, types,
    and for each scene the indices of its questions."""

    def __init__(self, corpus, split, vocab, answers, limit=None, records=None):
        index = {a: i for i, a in enumerate(answers)}
        qs = records if records is not None else \
            [json.loads(line) for line in read_lines(os.path.join(corpus, f"{split}.jsonl"))]
        if limit:
            qs = [q for q in qs if q["scene"] < limit]
        self.records = qs
        ids = [encode_question(vocab, q["question"]) for q in qs]
        if any(1 in x for x in ids):
            raise SystemExit(f"{corpus}/{split}: a question word is missing from vocab.txt")
        T = max(len(x) for x in ids)
        self.q = torch.zeros(len(ids), T, dtype=torch.long)
        for i, x in enumerate(ids):
            self.q[i, :len(x)] = torch.tensor(x)
        self.q_len = torch.tensor([len(x) for x in ids])
        self.y = torch.tensor([index[q["answer"]] for q in qs])
        self.scene = torch.tensor([q["scene"] for q in qs])
        self.by_scene = {}
        for i, q in enumerate(qs):
            self.by_scene.setdefault(q["scene"], []).append(i)
        self.scenes = sorted(self.by_scene)


def more_train_questions(layout, per_type):
    """train.questions_per_type K > 1: the train questions are asked again by the corpus' own
    generator (scripts/data/scenes_vqa.py make_questions, same seed and balance rule) over the
    train scenes' layout, with K questions of each type per scene instead of 1, so each train
    scene (whose features cost the most) teaches more questions; dev and test stay the corpus'
    files. None for K = 1 (the corpus' train.jsonl)."""
    if per_type == 1:
        return None
    if not isinstance(per_type, int) or per_type < 1:
        raise SystemExit(f"train.questions_per_type {per_type!r}: a positive integer")
    return make_questions(layout, SEEDS["train"], per_type)


def load_images(scenes_dir, split, limit=None):
    z = np.load(os.path.join(scenes_dir, f"{split}.npz"))
    images = z["images"][:limit] if limit else z["images"]
    return torch.from_numpy(np.ascontiguousarray(images))


def pixel_stats(images):
    x = images.numpy().astype(np.float64) / 255.0
    return round(float(x.mean()), 4), round(float(x.std()), 4)


def frozen_blocks(model, freeze):
    """train.freeze_cnn -> how many leading CNN blocks are frozen: true all, false none, or N."""
    if isinstance(freeze, bool):
        return len(model.cnn) if freeze else 0
    if not isinstance(freeze, int) or not 0 <= freeze <= len(model.cnn):
        raise SystemExit(f"train.freeze_cnn {freeze!r}: true, false or 0..{len(model.cnn)}")
    return freeze


def cnn_digest(model, n_images, blocks):
    """What cached features depend on: the frozen blocks' weights, the image config, l2norm
    (when every block is frozen: the cache is phi), the count."""
    whole = blocks == len(model.cnn)
    h = hashlib.sha256(json.dumps([model.cfg["image"], whole and model.cfg["l2norm"], n_images,
                                   blocks], sort_keys=True).encode())
    for k, v in sorted(model.cnn.state_dict().items()):
        if int(k.split(".")[0]) < blocks:
            h.update(k.encode())
            h.update(v.cpu().numpy().tobytes())
    return h.hexdigest()[:16]


class Features:
    """phi of a batch of scenes: from the frozen-CNN cache, or the CNN on the pixels. With every
    block frozen the cache holds phi; with the first N frozen (train.freeze_cnn N) it holds their
    output map and the other blocks run on it every batch (trained). With cache_path, the cache
    is kept on disk (torch.save) and reused when the frozen blocks, image config, l2norm and
    image count are the same (the baseline reuses the attention model's)."""

    def __init__(self, model, images, device, blocks, cache_path=None, chunk=50):
        self.model, self.images, self.device, self.cache = model, images, device, None
        self.reused, self.blocks = False, blocks
        if not blocks:
            return
        whole = blocks == len(model.cnn)
        digest = cnn_digest(model, len(images), blocks)
        if cache_path and os.path.exists(cache_path):
            saved = torch.load(cache_path)
            if saved["digest"] == digest:
                self.cache, self.reused = saved["phi"].to(device), True
                return
        with torch.no_grad():
            model.eval()
            run = model.cnn_features if whole else \
                (lambda x: model.cnn_prefix(x, blocks))  # noqa: E731
            parts = [run(model.normalize(images[i:i + chunk]).to(device))
                     for i in range(0, len(images), chunk)]
        self.cache = torch.cat(parts)
        if cache_path:
            os.makedirs(os.path.dirname(os.path.abspath(cache_path)), exist_ok=True)
            torch.save({"digest": digest, "phi": self.cache.cpu()}, cache_path + ".tmp")
            os.replace(cache_path + ".tmp", cache_path)

    def __call__(self, scene_ids):
        """-> phi [B, S, D]: the cached (frozen) or computed CNN features, + the learned
        position (trained even when the CNN is frozen, so never cached)."""
        if self.cache is not None and self.blocks == len(self.model.cnn):
            return self.model.add_position(self.cache[scene_ids])
        if self.cache is not None:
            return self.model.add_position(
                self.model.cnn_features(self.cache[scene_ids], first=self.blocks))
        return self.model.encode_image(self.model.normalize(self.images[scene_ids]).to(self.device))


def batch_of(split, scene_ids, device):
    """-> (scene index per question into scene_ids, q, q_len, y, question indices)."""
    qi = [i for s in scene_ids for i in split.by_scene[s]]
    pos = {s: j for j, s in enumerate(scene_ids)}
    where = torch.tensor([pos[int(split.scene[i])] for i in qi])
    qi_t = torch.tensor(qi)
    T = int(split.q_len[qi_t].max())
    return (where.to(device), split.q[qi_t, :T].to(device), split.q_len[qi_t],
            split.y[qi_t].to(device), qi)


def run_batch(model, feats, split, scene_ids, device):
    """The CNN (or the cache) once per scene, the question LSTM once per distinct question of
    the batch (the templates repeat: same ids, same s)."""
    where, q, q_len, y, qi = batch_of(split, scene_ids, device)
    phi = feats(torch.tensor(scene_ids))
    uq, inv = torch.unique(q, dim=0, return_inverse=True)
    s = model.encode_question(uq, (uq != 0).sum(1).cpu())[inv]
    out = model.answer_from(phi, s, where)
    return out, y, qi


@torch.no_grad()
def evaluate(model, feats, split, size, device):
    """-> (mean loss, accuracy) over the split."""
    model.eval()
    total, correct, n = 0.0, 0, 0
    for b in range(0, len(split.scenes), size):
        out, y, _ = run_batch(model, feats, split, split.scenes[b:b + size], device)
        total += float(F.cross_entropy(out["logits"], y, reduction="sum"))
        correct += int((out["logits"].argmax(1) == y).sum())
        n += len(y)
    model.train()
    return total / n, correct / n


def init_cnn_from(model, path, position=True, extend=False):
    """Copy cnn.* from an exported caption model (.safetensors), a caption training folder's
    best.pt or scripts/pretrain_cnn.py's cnn.pt (model.read_pretrained), and (position true)
    its memory_position.weight as the initial position table when both models have one of the
    same shape; -> (its image config, whether the position was
    copied)."""
    state, cfg, tensors = cnn_state(path, model.cfg["encoder"], extend)
    model.cnn.load_state_dict(state, strict=True)
    pos = tensors.get("memory_position.weight")
    copied = False
    if position and pos is not None and hasattr(model, "memory_position") and \
            tuple(pos.shape) == tuple(model.memory_position.weight.shape):
        with torch.no_grad():
            model.memory_position.weight.copy_(torch.from_numpy(np.array(pos)))
        copied = True
    return cfg["image"], copied


@torch.no_grad()
def rescale_position(model, images, n=200):
    """The caption model added its table to the CNN's raw features (median norm m over the
    locations of the first n train images); VQA adds it to unit-norm ones. Dividing the table
    by m keeps the caption model's ratio of place to content. -> m."""
    model.eval()
    x = model.normalize(images[:n])
    x = run_cnn(model.cnn, model.cnn_pools, x)
    m = float(x.permute(0, 2, 3, 1).flatten(0, 2).norm(dim=1).median())
    if m > 0:
        model.memory_position.weight.div_(m)
    model.train()
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True, help="the scenes-vqa corpus")
    ap.add_argument("--scenes", required=True, help="the scenes corpus (images)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", choices=["cpu", "cuda"],
                    default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--max-epochs", type=int, help="overrides the config's train.max_epochs")
    ap.add_argument("--max-minutes", type=float,
                    help="wall-clock training budget; overrides the config's train.max_minutes")
    ap.add_argument("--limit", type=int, help="use only the first N train scenes (smoke tests)")
    ap.add_argument("--init-cnn", help="overrides the config's train.init_cnn")
    ap.add_argument("--init-model", help="a VQA training folder's best.pt to start from: every "
                    "weight (after init_cnn, whose image mean/std it must share); e.g. a frozen "
                    "run's, to fine-tune some CNN blocks with train.freeze_cnn N")
    ap.add_argument("--feature-cache", help="folder for frozen-CNN features ({split}.pt; with "
                    "train.freeze_cnn N, the first N blocks' maps: {split}-blocksN.pt), shared "
                    "by runs with the same frozen blocks")
    args = ap.parse_args()
    t_start = time.time()
    conf = json.load(open(args.config))
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)
    tc = dict(conf["train"])
    if args.max_epochs is not None:
        tc["max_epochs"] = args.max_epochs
    if args.max_minutes is not None:
        tc["max_minutes"] = args.max_minutes
    if args.init_cnn:
        tc["init_cnn"] = args.init_cnn
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: PyTorch sees no GPU")
    vocab = WordVocab(read_lines(os.path.join(args.corpus, "vocab.txt")))
    answers = read_lines(os.path.join(args.corpus, "answers.txt"))
    info = json.load(open(os.path.join(args.corpus, "info.json")))
    z = np.load(os.path.join(args.scenes, "train.npz"))
    layout = {k: z[k] for k in LAYOUT_KEYS}
    if layout_digest(layout) != info["layout_digest"]["train"]:
        raise SystemExit("the scenes corpus is not the one the questions were made from")
    train = Split(args.corpus, "train", vocab, answers, args.limit,
                  more_train_questions(layout, tc.get("questions_per_type", 1)))
    dev = Split(args.corpus, "dev", vocab, answers)
    train_x = load_images(args.scenes, "train", args.limit)
    dev_x = load_images(args.scenes, "dev")
    for name, x in (("train", train_x), ("dev", dev_x)):
        if max(getattr(train if name == "train" else dev, "scenes")) >= len(x):
            raise SystemExit(f"{args.scenes}/{name}.npz has fewer scenes than the questions use")
    cfg = merge_vqa_config(conf["model"])
    cfg.update(src_vocab=vocab.get_piece_size(), answers=len(answers))
    cfg["image"].update(height=int(train_x.shape[1]), width=int(train_x.shape[2]),
                        mean=0.0, std=1.0)
    torch.manual_seed(tc["seed"])
    model = VQA(cfg)            # initialised on the CPU: the same weights on any device
    init = tc.get("init_cnn")
    position_copied = False
    if init:
        img, position_copied = init_cnn_from(model, init, tc.get("init_position", True),
                                             bool(tc.get("extend_cnn")))
        mean, std = img["mean"], img["std"]
    else:
        mean, std = pixel_stats(train_x)
    cfg["image"].update(mean=mean, std=std)
    state_dict = model.state_dict()
    model = VQA(cfg)            # rebuilt: the pixel table follows the final mean/std
    model.load_state_dict(state_dict)
    position_scale = rescale_position(model, train_x) if position_copied and \
        cfg["l2norm"] else None
    if args.init_model:
        start = torch.load(args.init_model, map_location="cpu")
        if tc.get("extend_cnn") and start["config"]["encoder"] != cfg["encoder"]:
            start["model"].update(identity_blocks(start["config"]["encoder"], cfg["encoder"],
                                                  args.init_model))
            start["config"] = dict(start["config"], encoder=cfg["encoder"])
        if tc.get("widen_hidden") and start["config"] != cfg:
            start["model"] = widen_hidden(start["model"], start["config"], cfg,
                                          model.state_dict(), args.init_model)
            start["config"] = dict(start["config"], attention=cfg["attention"],
                                   classifier=cfg["classifier"])
        if start["config"] != cfg:
            raise SystemExit(f"--init-model {args.init_model}: its config differs from this run's")
        model.load_state_dict(start["model"], strict=True)
    model.to(device)
    n_frozen = frozen_blocks(model, tc.get("freeze_cnn", False))
    frozen = n_frozen == len(model.cnn)
    if n_frozen and not init:
        raise SystemExit("train.freeze_cnn needs train.init_cnn")
    # a fine-tuned CNN (initialised from a pretrained one) may learn slower than the rest:
    # train.cnn_lr_scale multiplies the learning rate of cnn.* (1 = the same)
    cnn_scale = float(tc.get("cnn_lr_scale", 1.0))
    groups = cnn_param_groups(model, tc["lr"], n_frozen, cnn_scale)
    params = [p for g in groups for p in g["params"]]
    opt = torch.optim.Adam(groups, lr=tc["lr"])
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    state = {"epoch": 0, "batches": 0, "best": -1.0, "bad": 0, "history": [], "seconds": 0.0,
             "lr": tc["lr"], "feature_seconds": 0.0}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        torch.set_rng_state(ck["torch_rng"].cpu())
        print(f"resumed after epoch {state['epoch']}", file=sys.stderr)
    t0 = time.time()
    fc = args.feature_cache
    tag = "" if frozen else f"-blocks{n_frozen}"   # a partly frozen CNN's own cache
    train_f = Features(model, train_x, device, n_frozen,
                       fc and os.path.join(fc, f"train{tag}.pt"))
    dev_f = Features(model, dev_x, device, n_frozen, fc and os.path.join(fc, f"dev{tag}.pt"))
    feature_seconds = time.time() - t0 if n_frozen else 0.0
    reused = bool(n_frozen) and train_f.reused and dev_f.reused
    state["seconds"] += feature_seconds
    state["feature_seconds"] += feature_seconds
    print(f"{conf['name']}: {count_parameters(model):,} parameters "
          f"({'frozen' if frozen else 'trained' if not n_frozen else f'{n_frozen} blocks frozen'}"
          f" CNN{', from ' + init if init else ''}), "
          f"{len(train.records):,} train questions on {len(train.scenes):,} scenes, image mean "
          f"{mean} std {std}, features {feature_seconds:.0f} s"
          f"{' (reused from ' + fc + ')' if reused else ''}", file=sys.stderr)
    size, budget = tc["batch_scenes"], tc["max_minutes"] * 60
    eval_every = int(tc.get("eval_every", 0))
    stopped = None

    def score(partial):
        loss, acc = evaluate(model, dev_f, dev, size, device)
        rec = {"epoch": state["epoch"] + (0 if partial else 1), "batches": state["batches"],
               "dev_loss": loss, "dev_accuracy": acc, "lr": state["lr"],
               "seconds": round(state["seconds"] + time.time() - t_epoch, 1)}
        if partial:
            rec["partial"] = True
        state["history"].append(rec)
        print(f"  eval: dev loss {loss:.4f} accuracy {acc:.4f} ({rec['seconds'] / 60:.1f} min)",
              file=sys.stderr)
        if acc > state["best"] + 1e-4:
            state["best"], state["bad"] = acc, 0
            weights = {k: v.cpu() for k, v in model.state_dict().items()}
            torch.save({"config": cfg, "model": weights}, os.path.join(args.out, "best.pt"))
        else:
            state["bad"] += 1
            state["lr"] /= 2
            for g in opt.param_groups:
                g["lr"] = state["lr"] * g["scale"]

    while True:
        if state["epoch"] >= tc["max_epochs"]:
            stopped = "max_epochs"
        elif state["bad"] >= tc["patience"]:
            stopped = "patience"
        elif state["seconds"] >= budget:
            stopped = "time budget"
        if stopped:
            break
        t_epoch = time.time()
        rng = random.Random(tc["seed"] * 1000 + state["epoch"])
        order = list(train.scenes)
        rng.shuffle(order)
        plan = [order[i:i + size] for i in range(0, len(order), size)]
        model.train()
        if n_frozen:
            model.cnn.eval()   # no dropout or batch norm inside: only the mode
        total, correct, n, last, done = 0.0, 0, 0, time.time(), 0
        for b, ids in enumerate(plan):
            if state["seconds"] + time.time() - t_epoch >= budget:
                print("time budget reached inside the epoch", file=sys.stderr)
                break
            out, y, _ = run_batch(model, train_f, train, ids, device)
            loss = F.cross_entropy(out["logits"], y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, tc["clip"])
            opt.step()
            total += float(loss) * len(y)
            correct += int((out["logits"].argmax(1) == y).sum())
            n += len(y)
            done += 1
            state["batches"] += 1
            if time.time() - last > 30:
                last = time.time()
                print(f"  epoch {state['epoch'] + 1} batch {b + 1}/{len(plan)}: loss "
                      f"{total / n:.4f} accuracy {correct / n:.4f} "
                      f"({(state['seconds'] + last - t_epoch) / 60:.1f} min)", file=sys.stderr)
            if eval_every and done % eval_every == 0 and b + 1 < len(plan):
                score(partial=True)
                if state["bad"] >= tc["patience"]:
                    break
        if n == 0:
            stopped = "time budget"
            break
        partial = done < len(plan)
        score(partial)
        state["history"][-1].update(train_loss=total / n, train_accuracy=correct / n)
        if not partial:
            state["epoch"] += 1
        state["seconds"] += time.time() - t_epoch
        state["history"][-1]["seconds"] = round(state["seconds"], 1)
        print(f"epoch {state['epoch'] + (1 if partial else 0)}{' (partial)' if partial else ''}"
              f": train loss "
              f"{total / n:.4f} acc {correct / n:.4f} ({state['seconds'] / 60:.1f} min)",
              file=sys.stderr)
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                    "torch_rng": torch.get_rng_state()}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)
        if partial and state["bad"] < tc["patience"]:
            stopped = "time budget"
            break
    out = {"name": conf["name"], "parameters": count_parameters(model),
           "trained_parameters": sum(p.numel() for p in params),
           "train_pairs": len(train.records), "train_scenes": len(train.scenes),
           "epochs": state["epoch"], "batches": state["batches"],
           "best_dev_accuracy": state["best"], "train_seconds": round(state["seconds"], 1),
           "feature_seconds": round(state["feature_seconds"], 1),
           "features_reused": bool(reused),
           "threads": args.threads if device.type == "cpu" else 0,
           "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
           "torch": torch.__version__, "stopped": stopped, "pool": cfg.get("pool", "attention"),
           "init_cnn": init or None, "init_model": args.init_model,
           "freeze_cnn": tc.get("freeze_cnn", False),
           "frozen_cnn_blocks": n_frozen, "cnn_lr_scale": cnn_scale,
           "cnn_blocks": len(cfg["encoder"]["channels"]),
           "extend_cnn": bool(tc.get("extend_cnn")),
           "widen_hidden": bool(tc.get("widen_hidden")),
           "questions_per_type": tc.get("questions_per_type", 1),
           "position": cfg["encoder"].get("position", "none"),
           "init_position": position_copied, "init_position_divided_by": position_scale,
           "image": {"mean": mean, "std": std},
           "wall_seconds": round(time.time() - t_start, 1), "history": state["history"]}
    json.dump(out, open(os.path.join(args.out, "train.json"), "w"), indent=1)
    print(json.dumps({k: v for k, v in out.items() if k != "history"}), file=sys.stderr)


if __name__ == "__main__":
    main()
