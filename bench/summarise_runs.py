#!/usr/bin/env python3
"""Summarises `ember train` run directories into one markdown table (stdout) and copies each
run's small files (history.csv, metrics, reports, SVG pictures; no checkpoints or bundles)
into bench/results/<run name>/, so the table's numbers stay next to their curves.

    python3 bench/summarise_runs.py --device "CPU, 2-core AMD EPYC" --commit b3028ae \
        runs/seed003_igbo_bilstm runs/seed001_model_b > table.md

Columns: epochs run, seconds per epoch (mean and range, from history.csv), test accuracy,
macro F1, per-class F1 and AUC (metrics.json), then every further test set the run scored
(<name>_metrics.json from data.extra_tests) and the bag-of-words baseline's test accuracy and
macro F1 when `ember baseline --out RUN` was run into the same directory. Standard library only.
"""
import argparse
import csv
import json
import os
import shutil
import sys

KEEP_SUFFIXES = (".csv", ".json", ".txt", ".svg", ".yaml")
SKIP_FILES = {"losses.csv"}  # one line per step: large, and the curves already show it


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def epochs_and_seconds(run):
    with open(os.path.join(run, "history.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    secs = [float(r["seconds"]) for r in rows if r.get("seconds")]
    if not secs:
        return len(rows), "-"
    mean = sum(secs) / len(secs)
    return len(rows), f"{mean:.0f} ({min(secs):.0f}-{max(secs):.0f})"


def class_f1s(m):
    return ", ".join(f"{name} {v['f1']:.4f}" for name, v in m["per_class"].items())


def summary_of(run, device, commit):
    name = os.path.basename(os.path.normpath(run))
    m = read_json(os.path.join(run, "metrics.json"))
    epochs, secs = epochs_and_seconds(run)
    extra = []
    for f in sorted(os.listdir(run)):
        if f.endswith("_metrics.json") and not f.startswith("baseline_"):
            e = read_json(os.path.join(run, f))
            extra.append(f"{f[:-len('_metrics.json')]}: accuracy {e['accuracy']:.4f}, "
                         f"macro F1 {e['macro']['f1']:.4f}")
    base = os.path.join(run, "baseline_bow_logreg_test_metrics.json")
    baseline = "-"
    if os.path.exists(base):
        b = read_json(base)
        baseline = f"accuracy {b['accuracy']:.4f}, macro F1 {b['macro']['f1']:.4f}"
    return (f"| {name} | {device} | {epochs} | {secs} | **{m['accuracy']:.4f}** | "
            f"{m['macro']['f1']:.4f} | {class_f1s(m)} | {m['auc']:.4f} | "
            f"{'; '.join(extra) or '-'} | {baseline} | {commit} |")


def copy_small_files(run, dest_root):
    name = os.path.basename(os.path.normpath(run))
    dest = os.path.join(dest_root, name)
    os.makedirs(dest, exist_ok=True)
    for f in sorted(os.listdir(run)):
        src = os.path.join(run, f)
        if os.path.isfile(src) and f.endswith(KEEP_SUFFIXES) and f not in SKIP_FILES:
            shutil.copyfile(src, os.path.join(dest, f))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run directories (each with metrics.json)")
    ap.add_argument("--device", required=True, help="where the runs trained, for the table")
    ap.add_argument("--commit", required=True, help="the commit the runs were trained at")
    ap.add_argument("--copy-to", default=os.path.join(os.path.dirname(__file__), "results"),
                    help="where each run's small files go (default bench/results)")
    ap.add_argument("--no-copy", action="store_true", help="print the table only")
    args = ap.parse_args()
    print("| config | device | epochs | s/epoch | test accuracy | macro F1 | per-class F1 | AUC "
          "| further test sets | BoW baseline (test) | commit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for run in args.runs:
        if not os.path.exists(os.path.join(run, "metrics.json")):
            sys.exit(f"summarise_runs: {run}: no metrics.json (did the run finish?)")
        print(summary_of(run, args.device, args.commit))
        if not args.no_copy:
            copy_small_files(run, args.copy_to)


if __name__ == "__main__":
    main()
