#!/usr/bin/env python3
# The seed models of configs/seed*.yaml as one hard-coded table, shared by the framework halves
# of the step benchmark (bench/pytorch/seed_models.py, bench/keras/seed_models.py), with the
# check that the table still agrees with the configs. Standard library only, so that importing
# it pulls in neither torch nor TensorFlow: each framework's script runs in its own venv.
# Shapes (what the scripts build from an entry): tokens [B,T] with B = batch and T = maxlen,
# ids in [1, vocab); labels [B] (0/1 for binary cross-entropy "bce", class ids b % K for
# sparse categorical cross-entropy "sce"); a model whose last LSTM returns sequences without a
# pooling layer after it (seed001 C and D) emits [B,T,1].
import math
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# One entry per config; the numbers are copied from configs/<name>.yaml (check_config() reads
# the file back and the scripts refuse to run when they disagree). Layers use the configs'
# Keras names. train_rows: training rows of one epoch (after the configs' validation splits),
# for --epoch; bench_seed_step.cpp's train_rows() has the same numbers.
MODELS = {
    "seed000_sentiment140_lstm": dict(
        vocab=10000, maxlen=100, batch=64, loss="bce", optimizer="adam", train_rows=80000,
        layers=[("Embedding", 128), ("SpatialDropout1D", 0.2),
                ("LSTM", dict(units=64, dropout=0.2, recurrent_dropout=0.2)),
                ("Dense", 32, "relu"), ("Dropout", 0.5), ("Dense", 1, "sigmoid")]),
    "seed001_model_a": dict(
        vocab=6000, maxlen=370, batch=64, loss="bce", optimizer="sgd", train_rows=20000,
        layers=[("Embedding", 128), ("LSTM", dict(units=60, return_sequences=True)),
                ("GlobalMaxPool1D",), ("Dropout", 0.1), ("Dense", 50, "relu"),
                ("Dropout", 0.1), ("Dense", 1, "sigmoid")]),
    "seed001_model_b": dict(
        vocab=6000, maxlen=370, batch=64, loss="bce", optimizer="adam", train_rows=20000,
        layers=[("Embedding", 128), ("SpatialDropout1D", 0.25),
                ("LSTM", dict(units=100, dropout=0.5)), ("Dropout", 0.5),
                ("Dense", 1, "sigmoid")]),
    "seed001_model_c": dict(
        vocab=6000, maxlen=370, batch=128, loss="bce", optimizer="adam", train_rows=20000,
        layers=[("Embedding", 128),
                ("Bidirectional", dict(units=75, return_sequences=True)),
                ("Dense", 16, "relu"), ("Dense", 8, "relu"), ("Dense", 1, "sigmoid")]),
    "seed001_model_d": dict(
        vocab=6000, maxlen=370, batch=16, loss="bce", optimizer="adam", train_rows=20000,
        layers=[("Embedding", 64), ("LSTM", dict(units=50, return_sequences=True)),
                ("Dense", 16, "relu"), ("Dense", 1, "sigmoid")]),
    "seed002_twitter_bilstm": dict(
        vocab=20000, maxlen=40, batch=32, loss="sce", optimizer="adam", train_rows=21976,
        class_weight=True,
        layers=[("Embedding", 100), ("SpatialDropout1D", 0.1),
                ("Bidirectional", dict(units=128)), ("Dense", 64, "relu"), ("Dropout", 0.3),
                ("Dense", 3, "softmax")]),
    "seed003_igbo_bilstm": dict(
        vocab=20190, maxlen=68, batch=32, loss="sce", optimizer="adam", train_rows=10192,
        mask_zero=True,
        layers=[("Embedding", 20), ("Dropout", 0.25),
                ("Bidirectional", dict(units=64, dropout=0.2, recurrent_dropout=0.2,
                                       return_sequences=True)),
                ("Bidirectional", dict(units=32)), ("Dense", 16, "relu"), ("Dropout", 0.2),
                ("Dense", 3, None)]),
    "seed004_imdb_lstm": dict(
        vocab=5000, maxlen=100, batch=64, loss="bce", optimizer="adam", train_rows=32000,
        layers=[("Embedding", 128), ("LSTM", dict(units=128)), ("Dense", 1, "sigmoid")]),
}


def lengths_for(batch, maxlen):
    # Real lengths of the synthetic rows of a mask_zero model: 1 + (7919 b + 13) mod T, spread
    # over [1, T]. bench_seed_step.cpp uses the same formula, so every framework sees the same
    # amount of real work.
    return [1 + (7919 * b + 13) % maxlen for b in range(batch)]


def epoch_steps(spec):
    """Steps of one epoch: ceil(train_rows / batch), the last partial batch counted whole."""
    return math.ceil(spec["train_rows"] / spec["batch"])


def check_config(name, spec):
    """Differences between MODELS[name] and configs/<name>.yaml (empty list: they agree)."""
    path = REPO / "configs" / f"{name}.yaml"
    if not path.exists():
        return []  # running outside a checkout: nothing to compare with
    text = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    model = text[text.index("\nmodel:"):text.index("\ntrain:")]
    train = text[text.index("\ntrain:"):]
    num = r"([0-9.]+)"
    got = {
        "maxlen": int(re.search(r"maxlen:\s*" + num, text).group(1)),
        "batch": int(re.search(r"batch_size:\s*" + num, train).group(1)),
        "vocab": int(re.search(r"input_dim:\s*" + num, model).group(1)),
        "units": [int(u) for u in re.findall(r"units:\s*" + num, model)],
        "rates": [float(r) for r in re.findall(r"\brate:\s*" + num, model)],
        "dropouts": [float(r) for r in re.findall(r"\bdropout:\s*" + num, model)],
        "recurrent": [float(r) for r in re.findall(r"recurrent_dropout:\s*" + num, model)],
        "mask_zero": "mask_zero: true" in model,
        "optimizer": re.search(r"name:\s*(adam|sgd)", train).group(1),
    }
    want = {"maxlen": spec["maxlen"], "batch": spec["batch"], "vocab": spec["vocab"],
            "units": [], "rates": [], "dropouts": [], "recurrent": [],
            "mask_zero": spec.get("mask_zero", False), "optimizer": spec["optimizer"]}
    for layer in spec["layers"]:
        kind = layer[0]
        if kind in ("LSTM", "Bidirectional"):
            o = layer[1]
            want["units"].append(o["units"])
            if o.get("dropout"):
                want["dropouts"].append(o["dropout"])
            if o.get("recurrent_dropout"):
                want["recurrent"].append(o["recurrent_dropout"])
        elif kind == "Dense":
            want["units"].append(layer[1])
        elif kind in ("Dropout", "SpatialDropout1D"):
            want["rates"].append(layer[1])
    return [f"{k}: config {got[k]} vs here {want[k]}" for k in want if got[k] != want[k]]


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def pct(sorted_ms, q):
    # Nearest-rank percentile of a sorted list (bench_seed_step.cpp's percentile()).
    i = min(len(sorted_ms) - 1, max(0, math.ceil(q * len(sorted_ms)) - 1))
    return sorted_ms[i]


if __name__ == "__main__":
    # `python3 bench/seed_table.py`: check every entry against its config, without a framework.
    import sys
    bad = {n: check_config(n, s) for n, s in MODELS.items()}
    for n, diffs in bad.items():
        print(f"{n}: {'; '.join(diffs) if diffs else 'agrees with its config'}")
    sys.exit(1 if any(bad.values()) else 0)
