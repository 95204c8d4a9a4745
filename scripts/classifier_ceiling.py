#!/usr/bin/python3
"""A ceiling for the captioner's item accuracy: a single-image Fashion-MNIST classifier with the
captioner's CNN stack (the config's channels, 3x3 conv + ReLU + 2x2 max-pool blocks on the 28x28
image, then one linear layer over the flattened map), trained on the same training pool the
train scenes draw from (images 0..54,999), Adam, fixed seed, a few epochs, scored on the 10,000
test images. Writes JSON: test accuracy, per-class accuracy, and the exact-caption rate that
per-item accuracy predicts for the scenes test split (mean over scenes of acc^n).

    /usr/bin/python3 scripts/classifier_ceiling.py --config scripts/configs/scenes-caption.json \
        --corpus build/corpus/scenes --out models/scenes-caption/ceiling.json
"""
import argparse, json, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
import scenes  # noqa: E402


class Classifier(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(1 if i == 0 else channels[i - 1], c, 3, padding=1)
                                   for i, c in enumerate(channels))
        side = 28
        for _ in channels:
            side //= 2
        self.out = nn.Linear(channels[-1] * side * side, 10)

    def forward(self, x):
        for conv in self.convs:
            x = F.max_pool2d(torch.relu(conv(x)), 2)
        return self.out(x.flatten(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    channels = json.load(open(args.config))["model"]["encoder"]["channels"]
    tx, ty = scenes.load_fashion("train")
    vx, vy = scenes.load_fashion("t10k")
    tx, ty = tx[:scenes.TRAIN_POOL], ty[:scenes.TRAIN_POOL]
    norm = lambda a: (torch.tensor(a).float() / 255.0 - 0.2860) / 0.3530   # noqa: E731
    X, Y = norm(tx).unsqueeze(1), torch.from_numpy(ty.astype(np.int64))
    model = Classifier(channels)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    rng = np.random.RandomState(1)
    t0 = time.time()
    for ep in range(args.epochs):
        order = rng.permutation(len(X))
        for b in range(0, len(order), 128):
            idx = torch.from_numpy(order[b:b + 128])
            loss = F.cross_entropy(model(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {ep + 1}: {time.time() - t0:.0f} s", file=sys.stderr)
    secs = time.time() - t0
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(norm(vx[b:b + 1000]).unsqueeze(1)).argmax(1)
                          for b in range(0, len(vx), 1000)]).numpy()
    acc = float((pred == vy).mean())
    per = [float((pred[vy == k] == k).mean()) for k in range(10)]
    n = np.load(os.path.join(args.corpus, "test.npz"))["n"]
    res = {"description": f"A single-image classifier with the captioner's CNN blocks (channels "
                          f"{channels}) and one linear layer, trained {args.epochs} epochs "
                          f"(Adam 2e-3, batches of 128) on training images 0..54,999, 1 thread.",
           "test_accuracy": round(100 * acc, 2),
           "per_class": {scenes.CLASSES[k]: round(100 * per[k], 2) for k in range(10)},
           "expected_exact": round(100 * float(np.mean(acc ** n)), 2),
           "train_seconds": round(secs, 1), "epochs": args.epochs}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    json.dump(res, open(args.out, "w"), indent=1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
