#!/usr/bin/env python3
"""Mean and standard deviation over seeds of `ember train` runs of one config, as a markdown
table (stdout), beside the seed's published number; copies each run's small files (history,
metrics, reports; no checkpoints, bundles or per-step losses) into OUT/<config>/<seed dir>/.

    python3 bench/variance.py --out bench/results/variance \
        runs/variance/seed004_imdb_lstm/seed1337 runs/variance/seed004_imdb_lstm/seed2 ...

Each run directory is named seed<N> inside a directory named for its config (what
scripts/seed_variance.sh writes). The standard deviation is the sample one (n - 1), so one run
gives none: a single run is not evidence either way. Standard library only.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import sys
from collections import defaultdict

KEEP = ("history.csv", "metrics.json", "classification_report.txt", "config.yaml")
KEEP_SUFFIXES = ("_metrics.json", "_classification_report.txt")


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def fmt(x):
    return str(x) if isinstance(x, int) else f"{x:.4f}"


def mean_sd(xs):
    if not xs:
        return "-"
    if all(isinstance(x, int) for x in xs):  # epochs: a range says more than a mean
        return f"{min(xs)}–{max(xs)}" if min(xs) != max(xs) else str(xs[0])
    if len(xs) == 1:
        return f"{xs[0]:.4f} (1 run)"
    return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}"


def numbers_of(run):
    """The run's test numbers: accuracy, macro F1, each class's F1, further test sets."""
    m = read_json(os.path.join(run, "metrics.json"))
    nums = {"accuracy": m["accuracy"], "macro F1": m["macro"]["f1"]}
    for name, v in m["per_class"].items():
        nums[f"F1 {name}"] = v["f1"]
    for f in sorted(os.listdir(run)):
        if f.endswith("_metrics.json") and f != "metrics.json" and not f.startswith("baseline_"):
            e = read_json(os.path.join(run, f))
            test = f[: -len("_metrics.json")]
            nums[f"{test} accuracy"] = e["accuracy"]
            nums[f"{test} macro F1"] = e["macro"]["f1"]
    hist = os.path.join(run, "history.csv")
    if os.path.exists(hist):  # how long it trained, and where its validation loss was lowest
        with open(hist, encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        nums["epochs trained"] = len(rows)
        if rows and rows[0].get("val_loss"):
            best = min(rows, key=lambda r: float(r["val_loss"]))
            nums["epoch of lowest val_loss"] = int(best["epoch"])
    base = os.path.join(run, "baseline_bow_logreg_test_metrics.json")
    if os.path.exists(base):
        nums["BoW baseline macro F1"] = read_json(base)["macro"]["f1"]
    return nums


def copy_small_files(run, dest):
    os.makedirs(dest, exist_ok=True)
    for f in sorted(os.listdir(run)):
        if f in KEEP or f.endswith(KEEP_SUFFIXES):
            shutil.copy2(os.path.join(run, f), os.path.join(dest, f))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run directories .../<config>/seed<N>")
    ap.add_argument("--out", help="copy each run's small files under OUT/<config>/seed<N>")
    args = ap.parse_args()

    by_config = defaultdict(list)
    for run in args.runs:
        run = os.path.normpath(run)
        if not os.path.exists(os.path.join(run, "metrics.json")):
            sys.exit(f"variance: {run}/metrics.json is missing (run not finished?)")
        by_config[os.path.basename(os.path.dirname(run))].append(run)

    for config, runs in sorted(by_config.items()):
        seeds = [os.path.basename(r) for r in runs]
        per_run = [numbers_of(r) for r in runs]
        keys = [k for k in per_run[0] if all(k in n for n in per_run)]
        print(f"### {config} ({len(runs)} runs: {', '.join(seeds)})\n")
        print("| number (test set unless named) | mean ± sd | " + " | ".join(seeds) + " |")
        print("|---|---|" + "---|" * len(seeds))
        for k in keys:
            xs = [n[k] for n in per_run]
            print(f"| {k} | {mean_sd(xs)} | " + " | ".join(fmt(x) for x in xs) + " |")
        print()
        if args.out:
            for r in runs:
                copy_small_files(r, os.path.join(args.out, config, os.path.basename(r)))


if __name__ == "__main__":
    main()
