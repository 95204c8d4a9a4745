#!/usr/bin/python3
"""Train an image-captioning model (task "caption") from scripts/configs/<name>.json on the
scenes corpus (scripts/data/scenes.py): teacher-forced cross-entropy plus the doubly stochastic
attention penalty of Show, Attend and Tell, Adam, gradient-norm clipping, early stopping on dev
loss, learning-rate halving on a plateau, fixed seeds and resumable per-epoch checkpoints.

    /usr/bin/python3 scripts/train_caption.py --config scripts/configs/scenes-caption.json \
        --corpus build/corpus/scenes --out build/train/scenes-caption

Loss per batch = (sum of token NLL + lambda * sum over scenes of sum_l (1 - sum_t alpha_tl)^2)
/ (number of target tokens), lambda = train.doubly_stochastic; the sum over t covers each
caption's real steps (its words and eos), never padding. The dev loss (early stopping, best.pt,
the card's curve) is the token NLL alone, so it is comparable across lambdas.

The image normalisation (image.mean, image.std in the model config) is measured on the train
split's pixels (p / 255) and rounded to 4 decimals; the vocabulary is the corpus' vocab.txt.

Writes OUT/words.txt (the vocabulary), OUT/checkpoint.pt (resume point), OUT/best.pt (best dev
loss) and OUT/train.json (history, wall time, device, why it stopped); running it again resumes.
Options as scripts/train.py: --device, --threads, --max-epochs, --max-minutes (the budget is
checked after every batch; an epoch cut short is still scored on dev, "partial": true).

CNN initialisation (optional, as train_vqa.py): train.init_cnn (or --init-cnn) names a pretrained
CNN (scripts/pretrain_cnn.py's cnn.pt, a training folder's best.pt or an exported model); its
cnn.* tensors are copied (the channels must match) and its image mean/std replace the measured
ones (the CNN was trained with them). train.freeze_cnn true: the CNN is not trained;
train.cnn_lr_scale multiplies its learning rate otherwise (1 = the same).
"""
import argparse, json, math, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Seq2Seq, merge_config, count_parameters, cnn_state, \
    cnn_param_groups  # noqa: E402
from words import WordVocab  # noqa: E402


def load_split(corpus, split, vocab):
    """-> (images u8 tensor [N, H, W], list of target id lists [bos ... eos])."""
    z = np.load(os.path.join(corpus, f"{split}.npz"))
    with open(os.path.join(corpus, f"{split}.txt"), encoding="utf-8") as f:
        caps = [line.rstrip("\n") for line in f]
    if len(caps) != len(z["images"]):
        raise SystemExit(f"{corpus}/{split}: {len(caps)} captions for {len(z['images'])} images")
    tgts = [[vocab.bos_id()] + vocab.encode(c) + [vocab.eos_id()] for c in caps]
    if any(1 in t for t in tgts):
        raise SystemExit(f"{corpus}/{split}: a caption word is missing from vocab.txt")
    return torch.from_numpy(z["images"]), tgts


def batches(tgts, size, rng):
    """Batches of `size` scenes of similar caption length: shuffled (rng) indices, sorted by
    length inside chunks of 50 batches, the batches shuffled again. rng None: in order."""
    idx = list(range(len(tgts)))
    if rng is None:
        return [idx[i:i + size] for i in range(0, len(idx), size)]
    rng.shuffle(idx)
    out = []
    for c in range(0, len(idx), size * 50):
        chunk = sorted(idx[c:c + size * 50], key=lambda i: len(tgts[i]))
        out += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def collate(images, tgts, ids, pad, device):
    T = max(len(tgts[i]) for i in ids) - 1
    tin = torch.full((len(ids), T), pad, dtype=torch.long)
    tout = torch.full((len(ids), T), pad, dtype=torch.long)
    for r, i in enumerate(ids):
        t = tgts[i]
        tin[r, :len(t) - 1] = torch.tensor(t[:-1])
        tout[r, :len(t) - 1] = torch.tensor(t[1:])
    return images[ids].to(device), tin.to(device), tout.to(device)


def loss_on(model, batch, pad, lam):
    """-> (token NLL sum, penalty sum, token count)."""
    px, tin, tout = batch
    logits, alpha = model.caption_forward(model.normalize(px), tin)
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tout.reshape(-1),
                          ignore_index=pad, reduction="sum")
    pen = logits.new_zeros(())
    if lam:
        real = (tout != pad).to(alpha.dtype)                  # [B, T]
        cover = (alpha * real[:, :, None]).sum(1)             # [B, S]
        pen = ((1.0 - cover) ** 2).sum()
    return nll, pen, int((tout != pad).sum())


@torch.no_grad()
def evaluate_loss(model, images, tgts, size, pad, device):
    model.eval()
    total, count = 0.0, 0
    for ids in batches(tgts, size, None):
        nll, _, n = loss_on(model, collate(images, tgts, ids, pad, device), pad, 0.0)
        total += float(nll)
        count += n
    model.train()
    return total / count


def pixel_stats(images):
    """mean and std of p / 255 over the train images (float64), rounded to 4 decimals."""
    x = images.numpy().astype(np.float64) / 255.0
    return round(float(x.mean()), 4), round(float(x.std()), 4)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", choices=["cpu", "cuda"],
                    default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--max-epochs", type=int, help="overrides the config's train.max_epochs")
    ap.add_argument("--max-minutes", type=float,
                    help="wall-clock training budget; overrides the config's train.max_minutes")
    ap.add_argument("--limit", type=int, help="use only the first N train scenes (smoke tests)")
    ap.add_argument("--init-cnn", help="overrides the config's train.init_cnn")
    args = ap.parse_args()
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
    with open(os.path.join(args.corpus, "vocab.txt"), encoding="utf-8") as f:
        vocab = WordVocab(line.rstrip("\n") for line in f if line.strip())
    with open(os.path.join(args.out, "words.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab.words) + "\n")
    train_x, train_y = load_split(args.corpus, "train", vocab)
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    dev_x, dev_y = load_split(args.corpus, "dev", vocab)
    init, frozen = tc.get("init_cnn"), bool(tc.get("freeze_cnn", False))
    if frozen and not init:
        raise SystemExit("train.freeze_cnn needs train.init_cnn")
    cnn_tensors = None
    if init:
        cnn_tensors, init_cfg, _ = cnn_state(init, conf["model"]["encoder"])
        mean, std = init_cfg["image"]["mean"], init_cfg["image"]["std"]
    else:
        mean, std = pixel_stats(train_x)
    cfg = merge_config(conf["model"])
    cfg["image"].update(height=int(train_x.shape[1]), width=int(train_x.shape[2]), mean=mean,
                        std=std)
    V = vocab.get_piece_size()
    cfg.update(task="caption", src_vocab=V, tgt_vocab=V, pad_id=0, unk_id=1, bos_id=2, eos_id=3)
    torch.manual_seed(tc["seed"])
    model = Seq2Seq(cfg)   # initialised on the CPU: the same weights on any device
    if cnn_tensors is not None:
        model.cnn.load_state_dict(cnn_tensors, strict=True)
    model.to(device)
    cnn_scale = float(tc.get("cnn_lr_scale", 1.0))
    groups = cnn_param_groups(model, tc["lr"], frozen, cnn_scale)
    params = [p for g in groups for p in g["params"]]
    opt = torch.optim.Adam(groups, lr=tc["lr"])
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    state = {"epoch": 0, "best": math.inf, "bad_epochs": 0, "history": [], "seconds": 0.0,
             "lr": tc["lr"]}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        torch.set_rng_state(ck["torch_rng"].cpu())
        print(f"resumed after epoch {state['epoch']}", file=sys.stderr)
    print(f"{conf['name']}: {count_parameters(model):,} parameters, {len(train_y):,} train "
          f"scenes, image mean {mean} std {std}", file=sys.stderr)
    pad, lam, size = cfg["pad_id"], float(tc.get("doubly_stochastic", 0.0)), tc["batch_size"]
    budget = tc["max_minutes"] * 60
    stopped = None
    while True:
        if state["epoch"] >= tc["max_epochs"]:
            stopped = "max_epochs"
        elif state["bad_epochs"] >= tc["patience"]:
            stopped = "patience"
        elif state["seconds"] >= budget:
            stopped = "time budget"
        if stopped:
            break
        t0 = time.time()
        partial = False
        rng = random.Random(tc["seed"] * 1000 + state["epoch"])
        model.train()
        if frozen:
            model.cnn.eval()
        plan = batches(train_y, size, rng)
        total, pen_total, count, last = 0.0, 0.0, 0, time.time()
        for b, ids in enumerate(plan):
            if state["seconds"] + time.time() - t0 >= budget:
                print("time budget reached inside the epoch", file=sys.stderr)
                partial = True
                break
            nll, pen, n = loss_on(model, collate(train_x, train_y, ids, pad, device), pad, lam)
            opt.zero_grad()
            ((nll + lam * pen) / n).backward()
            torch.nn.utils.clip_grad_norm_(params, tc["clip"])
            opt.step()
            total += float(nll)
            pen_total += float(pen)
            count += n
            if time.time() - last > 30:
                last = time.time()
                print(f"  epoch {state['epoch'] + 1} batch {b + 1}/{len(plan)}: nll "
                      f"{total / count:.4f} penalty/scene {pen_total / ((b + 1) * size):.2f} "
                      f"({(state['seconds'] + last - t0) / 60:.1f} min)", file=sys.stderr)
        if count == 0:
            stopped = "time budget"
            break
        dev_loss = evaluate_loss(model, dev_x, dev_y, size, pad, device)
        state["epoch"] += 1
        state["seconds"] += time.time() - t0
        state["history"].append({"epoch": state["epoch"], "train_loss": total / count,
                                 "penalty_per_token": pen_total / count,
                                 "dev_loss": dev_loss, "lr": state["lr"],
                                 "seconds": round(state["seconds"], 1),
                                 **({"partial": True} if partial else {})})
        print(f"epoch {state['epoch']}: train {total / count:.4f} dev {dev_loss:.4f} "
              f"({state['seconds'] / 60:.1f} min)", file=sys.stderr)
        if dev_loss < state["best"] - 1e-4:
            state["best"], state["bad_epochs"] = dev_loss, 0
            weights = {k: v.cpu() for k, v in model.state_dict().items()}
            torch.save({"config": cfg, "model": weights}, os.path.join(args.out, "best.pt"))
        else:
            state["bad_epochs"] += 1
            state["lr"] /= 2
            for g in opt.param_groups:
                g["lr"] = state["lr"] * g["scale"]
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                    "torch_rng": torch.get_rng_state()}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)
    info = {"name": conf["name"], "parameters": count_parameters(model),
            "train_pairs": len(train_y), "epochs": state["epoch"], "best_dev_loss": state["best"],
            "train_seconds": round(state["seconds"], 1),
            "threads": args.threads if device.type == "cpu" else 0,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "torch": torch.__version__, "stopped": stopped, "doubly_stochastic": lam,
            "init_cnn": init or None, "freeze_cnn": frozen, "cnn_lr_scale": cnn_scale,
            "image": {"mean": mean, "std": std}, "history": state["history"]}
    json.dump(info, open(os.path.join(args.out, "train.json"), "w"), indent=1)
    print(json.dumps({k: v for k, v in info.items() if k != "history"}), file=sys.stderr)


if __name__ == "__main__":
    main()
