#!/usr/bin/python3
"""Train one model from scripts/configs/<name>.json: SentencePiece tokenizer (train split only),
then teacher-forced cross-entropy with Adam, gradient-norm clipping, early stopping on dev loss,
learning-rate halving on a plateau, fixed seeds and resumable per-epoch checkpoints.

    /usr/bin/python3 scripts/train.py --config scripts/configs/dates.json \
        --corpus build/corpus/dates --out build/train/dates

Writes OUT/spm.model, OUT/checkpoint.pt (resume point), OUT/best.pt (best dev loss) and
OUT/train.json (history, wall time, device, why it stopped). Running it again resumes from the
checkpoint.

--device cpu|cuda (default: cuda when PyTorch sees a GPU) only moves the model and each batch;
the recipe (data, batches, loss, optimiser, schedule, seeds) is the same on both. --max-epochs and
--max-minutes override the config's `max_epochs` / `max_minutes`. The time budget is checked
after every batch: an epoch that runs past it is cut short, still scored on dev (and kept as
best.pt if it improved), and training stops there; its history entry has "partial": true.
"""
import argparse, json, math, os, random, sys, time
import sentencepiece as spm
import torch
import torch.nn.functional as F
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Seq2Seq, merge_config, count_parameters  # noqa: E402


def train_tokenizer(conf, corpus, out):
    path = os.path.join(out, "spm.model")
    if os.path.exists(path):
        return path
    t = conf["tokenizer"]
    text = os.path.join(out, "spm-train.txt")
    with open(text, "w", encoding="utf-8") as f:
        for side in ("src", "tgt"):
            with open(os.path.join(corpus, f"train.{conf['files'][side]}"), encoding="utf-8") as g:
                f.write(g.read())
    args = dict(input=text, model_prefix=os.path.join(out, "spm"), model_type=t["model_type"],
                character_coverage=t["character_coverage"], pad_id=0, unk_id=1, bos_id=2,
                eos_id=3, normalization_rule_name="identity", num_threads=1,
                input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2)
    if t["model_type"] == "char":
        args.update(vocab_size=400, hard_vocab_limit=False)
    else:
        args.update(vocab_size=t["vocab_size"])
    spm.SentencePieceTrainer.train(**args)
    os.remove(text)
    return path


def load_split(conf, corpus, split, sp):
    def read(side):
        with open(os.path.join(corpus, f"{split}.{conf['files'][side]}"), encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f]
    src, tgt = read("src"), read("tgt")
    eos, bos = sp.eos_id(), sp.bos_id()
    return [(sp.encode(s) + [eos], [bos] + sp.encode(t) + [eos]) for s, t in zip(src, tgt)]


def batches(data, batch_tokens, rng):
    """Length-bucketed batches of about batch_tokens (source + target) tokens, shuffled."""
    idx = sorted(range(len(data)), key=lambda i: (len(data[i][0]), len(data[i][1]), i))
    out, cur, longest = [], [], 0
    for i in idx:
        n = len(data[i][0]) + len(data[i][1])
        if cur and max(longest, n) * (len(cur) + 1) > batch_tokens:
            out.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, n)
    if cur:
        out.append(cur)
    if rng is not None:
        rng.shuffle(out)
    return out


def collate(data, ids, pad, device="cpu"):
    S = max(len(data[i][0]) for i in ids)
    T = max(len(data[i][1]) for i in ids) - 1
    src = torch.full((len(ids), S), pad, dtype=torch.long)
    tin = torch.full((len(ids), T), pad, dtype=torch.long)
    tout = torch.full((len(ids), T), pad, dtype=torch.long)
    for r, i in enumerate(ids):
        s, t = data[i]
        src[r, :len(s)] = torch.tensor(s)
        tin[r, :len(t) - 1] = torch.tensor(t[:-1])
        tout[r, :len(t) - 1] = torch.tensor(t[1:])
    slen = torch.tensor([len(data[i][0]) for i in ids])
    return src.to(device), slen.to(device), tin.to(device), tout.to(device)


def loss_on(model, batch, pad):
    src, slen, tin, tout = batch
    logits = model(src, slen, tin)
    loss_sum = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tout.reshape(-1),
                               ignore_index=pad, reduction="sum")
    return loss_sum, int((tout != pad).sum())


@torch.no_grad()
def evaluate_loss(model, data, batch_tokens, pad, device="cpu"):
    model.eval()
    total, count = 0.0, 0
    for ids in batches(data, batch_tokens, None):
        l, n = loss_on(model, collate(data, ids, pad, device), pad)
        total += float(l)
        count += n
    model.train()
    return total / count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    # One thread by default: measured here, 2 OpenMP threads on 2 cores ran 1.5x SLOWER than one
    # (per-step ops are small, and any other process on a core stalls every parallel region).
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", choices=["cpu", "cuda"],
                    default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--max-epochs", type=int, help="overrides the config's train.max_epochs")
    ap.add_argument("--max-minutes", type=float,
                    help="wall-clock training budget; overrides the config's train.max_minutes")
    args = ap.parse_args()
    conf = json.load(open(args.config))
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(args.threads)
    tc = dict(conf["train"])
    if args.max_epochs is not None:
        tc["max_epochs"] = args.max_epochs
    if args.max_minutes is not None:
        tc["max_minutes"] = args.max_minutes
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: PyTorch sees no GPU")
    sp = spm.SentencePieceProcessor(model_file=train_tokenizer(conf, args.corpus, args.out))
    cfg = merge_config(conf["model"])
    cfg.update(src_vocab=sp.get_piece_size(), tgt_vocab=sp.get_piece_size(), pad_id=sp.pad_id(),
               unk_id=sp.unk_id(), bos_id=sp.bos_id(), eos_id=sp.eos_id())
    train = load_split(conf, args.corpus, "train", sp)
    dev = load_split(conf, args.corpus, "dev", sp)
    torch.manual_seed(tc["seed"])
    model = Seq2Seq(cfg).to(device)   # initialised on the CPU: the same weights on any device
    opt = torch.optim.Adam(model.parameters(), lr=tc["lr"])
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    state = {"epoch": 0, "best": math.inf, "bad_epochs": 0, "history": [], "seconds": 0.0,
             "lr": tc["lr"]}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        torch.set_rng_state(ck["torch_rng"].cpu())
        if device.type == "cuda" and "cuda_rng" in ck:
            torch.cuda.set_rng_state(ck["cuda_rng"].cpu())
        print(f"resumed after epoch {state['epoch']}", file=sys.stderr)
    print(f"{conf['name']}: {count_parameters(model):,} parameters, {len(train):,} train pairs",
          file=sys.stderr)
    pad = cfg["pad_id"]
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
        plan = batches(train, tc["batch_tokens"], rng)
        total, count = 0.0, 0
        bar = tqdm(plan, desc=f"{conf['name']} epoch {state['epoch'] + 1}", file=sys.stderr,
                   mininterval=5)
        for ids in bar:
            # The time budget also ends an epoch part-way (one large epoch may not fit); the
            # dev loss is then measured and the checkpoint saved as after a whole epoch.
            if state["seconds"] + time.time() - t0 >= budget:
                print("time budget reached inside the epoch", file=sys.stderr)
                partial = True
                break
            loss_sum, n = loss_on(model, collate(train, ids, pad, device), pad)
            opt.zero_grad()
            (loss_sum / n).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc["clip"])
            opt.step()
            total += float(loss_sum)
            count += n
            bar.set_postfix(loss=f"{total / count:.3f}", refresh=False)
        bar.close()
        if count == 0:      # the budget ran out before a single batch
            stopped = "time budget"
            break
        dev_loss = evaluate_loss(model, dev, tc["batch_tokens"], pad, device)
        state["epoch"] += 1
        state["seconds"] += time.time() - t0
        state["history"].append({"epoch": state["epoch"], "train_loss": total / count,
                                 "dev_loss": dev_loss, "lr": state["lr"],
                                 "seconds": round(state["seconds"], 1),
                                 **({"partial": True} if partial else {})})
        print(f"epoch {state['epoch']}: train {total / count:.4f} dev {dev_loss:.4f} "
              f"({state['seconds'] / 60:.1f} min)", file=sys.stderr)
        if dev_loss < state["best"] - 1e-4:
            state["best"], state["bad_epochs"] = dev_loss, 0
            weights = {k: v.cpu() for k, v in model.state_dict().items()}
            torch.save({"config": cfg, "model": weights},
                       os.path.join(args.out, "best.pt"))
        else:
            state["bad_epochs"] += 1
            state["lr"] /= 2
            for g in opt.param_groups:
                g["lr"] = state["lr"]
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                    "torch_rng": torch.get_rng_state(),
                    **({"cuda_rng": torch.cuda.get_rng_state()} if device.type == "cuda" else {})},
                   ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)
    info = {"name": conf["name"], "parameters": count_parameters(model),
            "train_pairs": len(train), "epochs": state["epoch"], "best_dev_loss": state["best"],
            "train_seconds": round(state["seconds"], 1),
            "threads": args.threads if device.type == "cpu" else 0,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "torch": torch.__version__, "stopped": stopped, "history": state["history"]}
    json.dump(info, open(os.path.join(args.out, "train.json"), "w"), indent=1)
    print(json.dumps({k: v for k, v in info.items() if k != "history"}), file=sys.stderr)


if __name__ == "__main__":
    main()
