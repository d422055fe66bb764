#!/usr/bin/env python3
"""Validation-only table of a recipe sweep (issue 16): one row per run, its config's changes
from a base config, and the numbers `ember evaluate --split validation --json` printed. The
test set plays no part: only each run's val.json and history.csv are read, and only they and
config.yaml are copied into OUT/<run>/<seed dir>/ (no metrics.json, so a rejected variant's
test numbers are never looked at).

    python3 bench/sweep_table.py --base configs/seed003_igbo_bilstm.yaml \
        --out bench/results/sweeps/seed003 runs/sweep/ig_faithful/seed1337 ...

A run directory holds config.yaml, history.csv and val.json (written by
`ember evaluate RUN/model.ember --split validation --json > RUN/val.json`). Needs python3-yaml.
"""
import argparse
import csv
import json
import os
import shutil
import sys

import yaml

KEEP = ("config.yaml", "history.csv", "val.json")


def flatten(node, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1}; list items by index, a layer by its type."""
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, dict) and len(v) == 1:  # a layer or callback: {Type: {...}}
                (name, inner), = v.items()
                out.update(flatten(inner, f"{prefix}[{i}].{name}"))
            else:
                out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = node
    return out


def changes(base, cfg):
    a, b = flatten(base), flatten(cfg)
    keys = sorted(set(a) | set(b))
    diff = [f"{k}: {b.get(k, '-')}" for k in keys
            if k not in ("name", "seed") and a.get(k) != b.get(k)]
    return "; ".join(diff) if diff else "none (the base config)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the config the changes are counted from")
    ap.add_argument("--out", help="copy each run's config, history and val.json here")
    ap.add_argument("runs", nargs="+", help="run directories .../<variant>/seed<N>")
    args = ap.parse_args()
    with open(args.base, encoding="utf-8") as f:
        base = yaml.safe_load(f)
    print("| variant | changes from the base | seed | val accuracy | val macro F1 | "
          "epochs | epoch of lowest val_loss | lowest val_loss |")
    print("|---|---|---|---|---|---|---|---|")
    for run in args.runs:
        seed_dir = os.path.basename(os.path.normpath(run))
        variant = os.path.basename(os.path.dirname(os.path.normpath(run)))
        try:
            with open(os.path.join(run, "config.yaml"), encoding="utf-8") as f:
                cfg = yaml.safe_load(f)
            with open(os.path.join(run, "val.json"), encoding="utf-8") as f:
                val = json.load(f)
            with open(os.path.join(run, "history.csv"), encoding="utf-8") as f:
                hist = list(csv.DictReader(f))
        except (OSError, ValueError, yaml.YAMLError) as e:
            sys.exit(f"sweep_table: {run}: {e}")
        if not hist:
            sys.exit(f"sweep_table: {run}/history.csv: no epochs")
        best = min(hist, key=lambda r: float(r["val_loss"]))
        seed = seed_dir[4:] if seed_dir.startswith("seed") else cfg.get("seed")
        print(f"| {variant} | {changes(base, cfg)} | {seed} | "
              f"{val['accuracy']:.4f} | {val['macro']['f1']:.4f} | {len(hist)} | "
              f"{best['epoch']} | {float(best['val_loss']):.4f} |")
        if args.out:
            dest = os.path.join(args.out, variant, seed_dir)
            os.makedirs(dest, exist_ok=True)
            for name in KEEP:
                shutil.copy2(os.path.join(run, name), dest)


if __name__ == "__main__":
    main()
