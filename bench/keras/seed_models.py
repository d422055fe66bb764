#!/usr/bin/env python3
# The seed models of configs/seed*.yaml rebuilt with tf_keras (the Keras 2 API the seed
# notebooks were written in), and a CLI that times their training steps on the CPU on
# synthetic token data: the Keras half of the Ember-vs-frameworks step benchmark (Ember's half
# is bench/bench_seed_step.cpp, PyTorch's bench/pytorch/seed_models.py; all three print one
# JSON line with the same keys). The sizes come from bench/seed_table.py's MODELS, checked
# against configs/<name>.yaml before anything runs; how each model is put together (Sequential
# or functional, Input or not, the optimizer as a string or an object) follows its notebook.
# Shapes: tokens [B,T] int32 with B = the config's batch_size and T = its maxlen, ids in
# [1,V) (mask_zero models: rows pre-padded with 0 as pad_sequences does, lengths from
# lengths_for()); labels [B] (float 0/1 for binary cross-entropy, int class ids b % K
# otherwise), [B,1] for the per-step models (seed 001 C and D emit [B,T,1]; Keras broadcasts a
# [B,1] label over the steps, and refuses a [B] one). A step is one model.train_on_batch():
# host batch in, forward, loss, backward, optimizer, and the loss back on the host. Usage:
# see --help.
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from seed_table import MODELS, check_config, cpu_name, epoch_steps, lengths_for, pct  # noqa: E402

# How each notebook builds and compiles its model, where that differs between them. The sizes
# are not here (they are MODELS's, which check_config() ties to the configs).
#   api: "functional" (Input -> layers -> Model) or "sequential" (Sequential of the layers)
#   input: a Sequential starts with Input(shape=(T,)) (else Keras builds it at the first batch)
#   input_length: the Embedding is given input_length=T (Keras 2 builds the model from it)
#   optimizer: the notebook's spelling: a string, or "Adam(learning_rate=0.001)" as an object
#   lstm_name: the name the notebook gives its LSTM (it only shows in model.summary())
STYLE = {
    # Model card, lines 1-13: Input(max_length=100), Embedding(..., input_length=100), ...,
    # Adam(learning_rate=0.001).
    "seed000_sentiment140_lstm": dict(api="sequential", input=True, input_length=True,
                                      optimizer="Adam(learning_rate=0.001)"),
    # seed 001, Model_A / Model_B: Input(shape=(max_length,)) and Model(inputs, outputs);
    # compile(optimizer='SGD') and 'adam'.
    "seed001_model_a": dict(api="functional", optimizer="SGD", lstm_name="lstm_layer"),
    "seed001_model_b": dict(api="functional", optimizer="adam"),
    # Model_C / Model_D: Sequential() and model.add(...), no Input and no input_length.
    "seed001_model_c": dict(api="sequential", optimizer="adam"),
    "seed001_model_d": dict(api="sequential", optimizer="adam"),
    # seed 002: models.Sequential([Embedding(..., input_length=MAX_SEQUENCE_LENGTH), ...]).
    "seed002_twitter_bilstm": dict(api="sequential", input_length=True, optimizer="adam"),
    # seed 003 (second version): Input(shape=(MAXLEN,)), Embedding(..., mask_zero=True), Model.
    "seed003_igbo_bilstm": dict(api="functional", optimizer="adam"),
    # seed 004: Sequential([Embedding(input_dim=5000, output_dim=128, input_length=100), ...]).
    "seed004_imdb_lstm": dict(api="sequential", input_length=True, optimizer="adam"),
}


def parse_args():
    ap = argparse.ArgumentParser(
        description="Times model.train_on_batch() of one seed model (configs/seed*.yaml) "
                    "rebuilt with tf_keras, on synthetic batches of its config's batch size and "
                    "maxlen, on the CPU; prints one JSON line (the keys of bench_seed_step and "
                    "bench/pytorch/seed_models.py) on stdout and a readable line on stderr.")
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("--device", default="cpu", choices=["cpu"],
                    help="cpu only (accepted so the three benchmarks take the same arguments)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    ap.add_argument("--warmup", type=int, default=3,
                    help="untimed steps first (default 3; the first one traces and compiles "
                         "the train function, so keep at least 1)")
    ap.add_argument("--threads", type=int, default=0,
                    help="TensorFlow intra-op and inter-op threads, and OMP_NUM_THREADS "
                         "(0: TensorFlow's defaults)")
    ap.add_argument("--epoch", action="store_true",
                    help="time ceil(train_rows / batch) steps: one epoch's worth, and add epoch_s")
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0:
        ap.error("--steps must be >= 1 and --warmup >= 0")
    return args


def set_thread_env(threads):
    # Before TensorFlow is imported: its thread pools, oneDNN's OpenMP pool and Eigen read these
    # when they start, and tf.config.threading must be set before the first op runs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no start-up banners on stderr
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the CPU benchmark, even where a GPU is present
    if threads > 0:
        for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
            os.environ[var] = str(threads)


def build_model(keras, name, spec):
    """The notebook's model, compiled as the notebook compiles it (metrics=['accuracy'] too)."""
    style = STYLE[name]
    t = spec["maxlen"]
    layers = []
    for layer in spec["layers"]:
        kind = layer[0]
        if kind == "Embedding":
            kw = dict(mask_zero=True) if spec.get("mask_zero") else {}
            if style.get("input_length"):
                kw["input_length"] = t
            layers.append(keras.layers.Embedding(spec["vocab"], layer[1], **kw))
        elif kind == "SpatialDropout1D":
            layers.append(keras.layers.SpatialDropout1D(layer[1]))
        elif kind == "Dropout":
            layers.append(keras.layers.Dropout(layer[1]))
        elif kind in ("LSTM", "Bidirectional"):
            o = layer[1]
            kw = dict(return_sequences=o.get("return_sequences", False))
            for k in ("dropout", "recurrent_dropout"):
                if o.get(k):
                    kw[k] = o[k]
            if kind == "LSTM" and style.get("lstm_name"):
                kw["name"] = style["lstm_name"]
            lstm = keras.layers.LSTM(o["units"], **kw)
            layers.append(keras.layers.Bidirectional(lstm) if kind == "Bidirectional" else lstm)
        elif kind == "GlobalMaxPool1D":
            layers.append(keras.layers.GlobalMaxPool1D())
        elif kind == "Dense":
            layers.append(keras.layers.Dense(layer[1], activation=layer[2]))
        else:
            raise ValueError(f"unknown layer {kind}")

    if style["api"] == "functional":
        inp = keras.Input(shape=(t,))
        x = inp
        for lay in layers:
            x = lay(x)
        model = keras.Model(inputs=inp, outputs=x)
    else:
        model = keras.Sequential()
        if style.get("input"):
            model.add(keras.Input(shape=(t,)))
        for lay in layers:
            model.add(lay)

    if spec["loss"] == "bce":
        loss = "binary_crossentropy"
    elif spec["layers"][-1][2] is None:  # seed 003: Dense(3) without activation, logits
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        loss = "sparse_categorical_crossentropy"
    opt = style["optimizer"]
    if opt == "Adam(learning_rate=0.001)":
        opt = keras.optimizers.Adam(learning_rate=0.001)
    # The strings resolve to Keras's defaults: Adam lr 1e-3, epsilon 1e-7; SGD lr 0.01.
    model.compile(loss=loss, optimizer=opt, metrics=["accuracy"])
    return model


def make_batch(np, spec, seed=11):
    """Numpy arrays of one synthetic batch: tokens [B,T] int32 (pad_sequences's dtype), labels
    [B] or [B,1] (per-step models), and class_weight (a dict, or None)."""
    rng = np.random.default_rng(seed)
    b, t, v = spec["batch"], spec["maxlen"], spec["vocab"]
    tokens = rng.integers(1, v, size=(b, t), dtype=np.int32)
    if spec.get("mask_zero"):
        # Pre-padded, as the seed's pad_sequences(maxlen=MAXLEN) and bench_seed_step's rows.
        for row, n in enumerate(lengths_for(b, t)):
            tokens[row, :t - n] = 0
    classes = spec["layers"][-1][1]
    if spec["loss"] == "bce":
        labels = (np.arange(b) % 2).astype(np.float32)
    else:
        labels = (np.arange(b) % classes).astype(np.int32)
    if per_step(spec):
        labels = labels[:, None]
    # Balanced class weights of balanced synthetic labels are 1; still passed, as work (the
    # seed's model.fit(class_weight=...)), as the other two benchmarks pass theirs.
    class_weight = {k: 1.0 for k in range(classes)} if spec.get("class_weight") else None
    return tokens, labels, class_weight


def per_step(spec):
    """True when the model emits [B,T,1]: no pooling and no LSTM without return_sequences
    after the last LSTM that returns sequences (seed 001 C and D)."""
    seq = False
    for layer in spec["layers"]:
        if layer[0] in ("LSTM", "Bidirectional"):
            seq = layer[1].get("return_sequences", False)
        elif layer[0] == "GlobalMaxPool1D":
            seq = False
    return seq


def lstm_impls(model):
    """Which of Keras 2's two LSTM code paths each LSTM takes: the fused one (standard_lstm on
    the CPU, cuDNN's on a GPU) needs recurrent_dropout 0; otherwise the generic RNN loop runs
    LSTMCell step by step."""
    out = []
    for lay in model.layers:
        inner = getattr(lay, "forward_layer", None)
        for lstm in ([lay.forward_layer, lay.backward_layer] if inner else [lay]):
            if hasattr(lstm, "_could_use_gpu_kernel"):
                out.append("standard_lstm" if lstm._could_use_gpu_kernel else "lstmcell-loop")
    return out


def main():
    args = parse_args()
    spec = MODELS[args.model]
    bad = check_config(args.model, spec)
    if bad:
        sys.exit(f"seed_models.py: {args.model} disagrees with its config: " + "; ".join(bad))
    set_thread_env(args.threads)
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras

    if args.threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(1337)

    model = build_model(keras, args.model, spec)
    tokens, labels, class_weight = make_batch(np, spec)
    impls = lstm_impls(model) if model.built else []
    notes = []

    def step():
        # The host arrays go in each step, as fit() feeds a batch; the returned loss is a host
        # value, so the step's work has finished when this returns.
        model.train_on_batch(tokens, labels, class_weight=class_weight)

    steps = epoch_steps(spec) if args.epoch else args.steps
    for _ in range(args.warmup):
        step()
    if not impls:  # a Sequential without Input is built by its first batch
        impls = lstm_impls(model)
    wall = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        wall.append((time.perf_counter() - t0) * 1e3)
    ms = sorted(wall)

    lstm_impl = ",".join(sorted(set(impls)))
    if "lstmcell-loop" in impls:
        notes.append("recurrent_dropout: Keras runs those LSTMs as the generic RNN loop over "
                     "LSTMCell (variational masks), not the fused standard_lstm")
    if any(layer[0] in ("LSTM", "Bidirectional") and layer[1].get("dropout")
           and not layer[1].get("recurrent_dropout") for layer in spec["layers"]):
        notes.append("LSTM dropout without recurrent_dropout: Keras 2's fused path masks its "
                     "[B,T,C] input per element (one draw per step), not once per sequence")
    if spec.get("mask_zero"):
        notes.append("mask_zero: rows pre-padded with 0 and masked; lengths 1+(7919b+13)%T")
    if per_step(spec):
        notes.append("per-step output [B,T,1] with labels [B,1]: Keras broadcasts the label over "
                     "the steps and takes the loss from the clipped probabilities")
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    out = {
        "framework": "tensorflow-keras",
        "model": args.model,
        "device": "cpu",
        "device_name": cpu_name(),
        "batch": spec["batch"],
        "maxlen": spec["maxlen"],
        "step_ms_median": round(statistics.median(ms), 3),
        "step_ms_p10": round(pct(ms, 0.1), 3),
        "step_ms_p90": round(pct(ms, 0.9), 3),
        # 0 means TensorFlow's default pool: one thread per CPU this process may run on.
        "threads": intra if intra > 0 else len(os.sched_getaffinity(0)),
        "tf_version": tf.__version__,
        "keras_version": keras.__version__,
        "cudnn_version": None,
        "steps": steps,
        "warmup": args.warmup,
        "lstm_impl": lstm_impl,
        "tf32": False,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
        "loadavg": round(os.getloadavg()[0], 2),
        "notes": notes,
    }
    if args.epoch:
        out["epoch_s"] = round(sum(wall) / 1e3, 2)
    print(f"tensorflow-keras {args.model} on {out['device_name']}: median "
          f"{out['step_ms_median']:.1f} ms/step (p10 {out['step_ms_p10']:.1f}, p90 "
          f"{out['step_ms_p90']:.1f}) over {steps} steps, {out['threads']} threads",
          file=sys.stderr)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
