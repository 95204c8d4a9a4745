#!/usr/bin/python3
"""What a lexical shortlist changes on a test split: each of greedy and beam 5 is run with and
without the shortlist through a CLI (`build/stele translate`, or the Node one), and the outputs
compared: share identical, BLEU (scripts/bleu.py, against the references) with and without, and
the wall time of each pass (model load and encoder included; the decoder step alone:
`make shortlist-bench`).

    scripts/shortlist_eval.py --model build/shortlist/ui-en-fr.safetensors \
        --corpus build/corpus/ui-en-fr [--cli build/stele | --cli "node src/js/cli.js"]
"""
import argparse, os, shlex, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bleu import corpus_bleu  # noqa: E402


def run(cli, model, beam, shortlist, src):
    cmd = shlex.split(cli) + ["translate", "-m", model, "--beam", str(beam)]
    if not shortlist:
        cmd.append("--no-shortlist")
    t0 = time.perf_counter()
    p = subprocess.run(cmd, input=src, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr[:400]}")
    # a low-confidence line ends with a tab and "(low confidence)": the text is before the tab
    return [l.split("\t")[0] for l in p.stdout.split("\n")[:src.count("\n")]], dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True, help="folder with test.en and test.fr")
    ap.add_argument("--cli", default="build/stele")
    ap.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    args = ap.parse_args()
    with open(os.path.join(args.corpus, "test.en"), encoding="utf-8") as f:
        src = f.read()
    with open(os.path.join(args.corpus, "test.fr"), encoding="utf-8") as f:
        refs = [l.rstrip("\n") for l in f]
    if not src.endswith("\n"):
        src += "\n"
    print(f"{args.model} via {args.cli}, {len(refs)} sentences")
    for beam in args.beams:
        off, t_off = run(args.cli, args.model, beam, False, src)
        on, t_on = run(args.cli, args.model, beam, True, src)
        same = sum(a == b for a, b in zip(off, on))
        b_off, b_on = corpus_bleu(off, refs)["bleu"], corpus_bleu(on, refs)["bleu"]
        print(f"beam {beam}: identical {same}/{len(off)} ({100.0 * same / len(off):.1f} %); "
              f"BLEU {b_off:.2f} without, {b_on:.2f} with ({b_on - b_off:+.2f}); "
              f"pass {t_off:.2f} s without, {t_on:.2f} s with")


if __name__ == "__main__":
    main()
