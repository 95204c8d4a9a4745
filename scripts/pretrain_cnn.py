#!/usr/bin/python3
"""Pretrain the scene CNN as a per-location item classifier, for the image models to start from
(train_vqa.py's train.init_cnn reads OUT/cnn.pt).

    /usr/bin/python3 scripts/pretrain_cnn.py --channels 32,64,128 --scenes build/corpus/scenes \
        --out build/train/cnn-32-64-128

Why per location: the VQA glimpses (and the captioner's attention) sum the features of a few
locations of the final grid, so each location's feature (after the l2 norm the VQA model applies)
must say which item it sits on. A classifier trained on the pooled whole image does not ask that
of every location.

Data: fresh scenes drawn with the scenes corpus' rules (scripts/data/scenes.py: 2-4 items on the
3x3 grid, jitter -3..3, MAX composition) from Fashion-MNIST TRAINING images [0, 55000) only (the
train scenes' pool; 55000.. are the dev scenes' and t10k the test scenes'), a new random scene for
every example. Each location of the final grid is labelled with the class of the item in the cell
its pooling window's centre falls in, or "nothing" (label 10) for an empty cell:
evaluate_vqa.location_cells, the rule of the glimpse measure.

Model: the config's CNN blocks (3x3 conv pad 1 + ReLU, then the 2x2 max-pool unless --pool says
0 for the block; tensors cnn.{i}.weight/bias as in the VQA and caption models), the final map
l2-normalised per location, times a learned scale, then one linear layer (the same at every
location, a 1x1 convolution) -> 11 logits. Input normalisation: (p / 255 - mean) / std with the
mean/std of the train scenes' pixels (what train_vqa.py measures when it has no init_cnn). Adam, cosine learning rate over --steps batches,
1 thread, fixed seed.

Scores (written to OUT/pretrain.json): per-location accuracy, and per-item accuracy: an item's
class is the argmax over the 10 classes of the mean logits of its cell's locations, on the dev
scenes (build/corpus/scenes/dev.npz: the only split used for choices) and on the test scenes
(test.npz: t10k images; reported, never used to choose).
"""
import argparse, json, math, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
import scenes  # noqa: E402
from evaluate_vqa import location_cells  # noqa: E402
from model import cnn_pools, cnn_state, make_cnn, run_cnn  # noqa: E402

NOTHING = 10


class LocationClassifier(nn.Module):
    def __init__(self, channels, pools=None):
        super().__init__()
        self.pools = [True] * len(channels) if pools is None else list(pools)
        self.cnn = make_cnn({"encoder": {"channels": channels}, "image": {"channels": 1}})
        # the features are unit vectors: a learned scale lets the logits grow sharp
        self.scale = nn.Parameter(torch.tensor(10.0))
        self.out = nn.Linear(channels[-1], NOTHING + 1)

    def cnn_features(self, x):
        """x [B, 1, H, W] normalised -> unit feature per location [B, S, C]."""
        x = run_cnn(self.cnn, self.pools, x)
        return F.normalize(x.flatten(2).transpose(1, 2), p=2.0, dim=2, eps=1e-12)

    def head(self, phi):
        return self.out(self.scale * phi)

    def forward(self, x):
        """x [B, 1, H, W] normalised -> logits [B, S, 11]."""
        return self.head(self.cnn_features(x))


# Fashion-MNIST's shoes (sandal 5, sneaker 7, ankle boot 9) all face left, so a mirrored shoe is an
# image no split holds; a mirrored garment or bag is as plausible as the original.
MIRRORABLE = np.array([k not in (5, 7, 9) for k in range(10)])


class SceneSampler:
    """Random scenes from a pool of Fashion-MNIST images, drawn like scenes.draw_layouts.
    mirror: each garment or bag is mirrored left-right with probability 1/2 (augmentation; off,
    the random stream is exactly the one without the option)."""

    def __init__(self, images, labels, pool, seed, mirror=False):
        self.images, self.rs, self.mirror = images, np.random.RandomState(seed), mirror
        self.by_class = [pool[labels[pool] == k] for k in range(10)]

    def batch(self, n):
        """-> (images u8 [n, 84, 84], cell labels [n, 9]: class or NOTHING)."""
        rs, out = self.rs, np.zeros((n, scenes.SIZE, scenes.SIZE), np.uint8)
        lab = np.full((n, scenes.GRID * scenes.GRID), NOTHING, np.int64)
        for s in range(n):
            k = rs.randint(2, scenes.MAX_ITEMS + 1)
            cells = np.sort(rs.choice(scenes.GRID * scenes.GRID, k, replace=False))
            cls = rs.randint(10, size=k)
            src = [self.by_class[c][rs.randint(len(self.by_class[c]))] for c in cls]
            d = rs.randint(-scenes.JITTER, scenes.JITTER + 1, (k, 2))
            sprites = self.images[src]
            if self.mirror:
                flip = (rs.randint(2, size=k) == 1) & MIRRORABLE[cls]
                sprites[flip] = sprites[flip][:, :, ::-1]
            out[s] = scenes.compose(sprites, cells, d[:, 0], d[:, 1])
            lab[s, cells] = cls
        return out, lab


def normalise(u8, mean, std):
    return ((torch.from_numpy(u8).float() / 255.0 - mean) / std).unsqueeze(1)


@torch.no_grad()
def score(model, npz, cells_of_loc, mean, std, chunk=100):
    """-> {location accuracy, item accuracy, items} on a scenes split (images + layout)."""
    model.eval()
    z = np.load(npz)
    imgs, n = z["images"], z["n"]
    lab = np.full((len(n), 9), NOTHING, np.int64)
    for s in range(len(n)):
        lab[s, z["cell"][s, :n[s]]] = z["cls"][s, :n[s]]
    loc_ok = loc_n = item_ok = item_n = 0
    onehot = torch.from_numpy(np.eye(9, dtype=np.float32)[cells_of_loc])   # [S, 9]
    for b in range(0, len(imgs), chunk):
        logits = model(normalise(imgs[b:b + chunk], mean, std))            # [B, S, 11]
        y = torch.from_numpy(lab[b:b + chunk])
        yl = y[:, torch.from_numpy(cells_of_loc)]
        loc_ok += int((logits.argmax(2) == yl).sum())
        loc_n += yl.numel()
        per_cell = torch.einsum("bsk,sc->bck", logits, onehot) / onehot.sum(0)[None, :, None]
        pred = per_cell[:, :, :NOTHING].argmax(2)
        has = y != NOTHING
        item_ok += int((pred[has] == y[has]).sum())
        item_n += int(has.sum())
    model.train()
    return {"location_accuracy": round(100 * loc_ok / loc_n, 2),
            "item_accuracy": round(100 * item_ok / item_n, 2), "items": item_n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", default="32,64,128")
    ap.add_argument("--pool", default=None, help="1/0 per block: whether it ends in the 2x2 "
                    "max-pool (encoder.pool; default: every block)")
    ap.add_argument("--scenes", required=True, help="the scenes corpus (dev.npz, test.npz, "
                    "train.npz for the pixel mean/std)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mirror", action="store_true", help="mirror garments and bags left-right "
                    "at random (not shoes: Fashion-MNIST's all face left)")
    ap.add_argument("--init", default=None, help="a cnn.pt to go on from (same channels and "
                    "pools); its classifier was not kept, so a new one trains alone first")
    ap.add_argument("--head-steps", type=int, default=300, help="with --init: batches that "
                    "train the new classifier alone, the CNN fixed, before the run's --steps")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    channels = [int(c) for c in args.channels.split(",")]
    enc = {"type": "cnn", "channels": channels}
    if args.pool is not None:
        enc["pool"] = [p == "1" for p in args.pool.split(",")]
    pools = cnn_pools(enc)
    os.makedirs(args.out, exist_ok=True)
    x = np.load(os.path.join(args.scenes, "train.npz"))["images"].astype(np.float64) / 255.0
    mean, std = round(float(x.mean()), 4), round(float(x.std()), 4)
    del x
    images, labels = scenes.load_fashion("train")
    sampler = SceneSampler(images, labels, np.arange(scenes.TRAIN_POOL), args.seed, args.mirror)
    cfg = {"encoder": enc,
           "image": {"height": scenes.SIZE, "width": scenes.SIZE, "channels": 1,
                     "mean": mean, "std": std}}
    cells_of_loc = location_cells(cfg)
    cell_idx = torch.from_numpy(cells_of_loc)
    model = LocationClassifier(channels, pools)
    history, t0, run_loss = [], time.time(), 0.0
    if args.init:
        state, _, _ = cnn_state(args.init, enc)   # exits naming both when the CNNs differ
        model.cnn.load_state_dict(state, strict=True)
        head = torch.optim.Adam([model.scale] + list(model.out.parameters()), lr=args.lr)
        for _ in range(args.head_steps):
            u8, lab = sampler.batch(args.batch)
            with torch.no_grad():
                feats = model.cnn_features(normalise(u8, mean, std))
            loss = F.cross_entropy(model.head(feats).flatten(0, 1),
                                   torch.from_numpy(lab)[:, cell_idx].flatten())
            head.zero_grad()
            loss.backward()
            head.step()
        print(json.dumps({"init": args.init, "head_steps": args.head_steps,
                          "dev": score(model, os.path.join(args.scenes, "dev.npz"),
                                       cells_of_loc, mean, std)}), file=sys.stderr)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    for step in range(1, args.steps + 1):
        for g in opt.param_groups:   # cosine from lr to 0 over the run
            g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * (step - 1) / args.steps))
        u8, lab = sampler.batch(args.batch)
        logits = model(normalise(u8, mean, std))
        y = torch.from_numpy(lab)[:, cell_idx]
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        run_loss += float(loss)
        if step % args.eval_every == 0 or step == args.steps:
            dev = score(model, os.path.join(args.scenes, "dev.npz"), cells_of_loc, mean, std)
            rec = {"step": step, "train_loss": round(run_loss / args.eval_every, 4),
                   "seconds": round(time.time() - t0, 1), "dev": dev}
            run_loss = 0.0
            history.append(rec)
            print(json.dumps(rec), file=sys.stderr)
    secs = time.time() - t0
    test = score(model, os.path.join(args.scenes, "test.npz"), cells_of_loc, mean, std)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()
               if k.startswith("cnn.")}
    torch.save({"config": cfg, "model": weights}, os.path.join(args.out, "cnn.pt"))
    res = {"description": "CNN pretrained as a per-location item classifier on fresh scenes of "
                          "Fashion-MNIST training images [0, 55000) (scripts/pretrain_cnn.py)",
           "channels": channels, "pool": pools, "image": cfg["image"], "steps": args.steps,
           "batch_scenes": args.batch, "lr": args.lr, "seed": args.seed,
           "mirror": args.mirror, "init": args.init,
           "head_steps": args.head_steps if args.init else 0,
           "threads": args.threads, "train_seconds": round(secs, 1),
           "dev": history[-1]["dev"], "test": test, "history": history}
    json.dump(res, open(os.path.join(args.out, "pretrain.json"), "w"), indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != "history"}))


if __name__ == "__main__":
    main()
