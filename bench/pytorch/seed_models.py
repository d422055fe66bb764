#!/usr/bin/env python3
# The seed models of configs/seed*.yaml rebuilt in PyTorch, and a CLI that times their training
# steps on synthetic token data: the PyTorch half of the Ember-vs-PyTorch step benchmark (the
# Ember half is bench/bench_seed_step.cpp; both print one JSON line with the same keys).
# Shapes: tokens [B,T] int64 with B = the config's batch_size and T = its maxlen; labels [B]
# (float 0/1 for binary cross-entropy, int class ids otherwise); per-step models (seed 001
# C and D) emit [B,T,1] and the label applies to every step, as in Keras. Keras semantics are
# kept where they cost work: variational LSTM input dropout (one [B,C] mask per sequence, i.e.
# SpatialDropout1D on the LSTM input), SpatialDropout1D as channel dropout shared over time,
# no special padding index, and a probability loss computed from the logits (as tf.keras's
# fit() and Ember's trainer do). Usage: see --help.
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

# The model table, its check against configs/*.yaml and the small helpers are shared with the
# Keras half (bench/keras/seed_models.py) through bench/seed_table.py, which imports no
# framework.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from seed_table import MODELS, check_config, cpu_name, epoch_steps, lengths_for, pct  # noqa: E402


class SpatialDropout1D(nn.Module):
    """x [B,T,C]: one keep/drop draw per (b, c), shared by every t (Keras SpatialDropout1D, and
    Keras's variational LSTM input dropout); kept values scaled by 1/(1-p)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = F.dropout(x.new_ones(x.shape[0], 1, x.shape[2]), self.p, True)
        return x * keep


class KerasLSTM(nn.Module):
    """Keras LSTM / Bidirectional(LSTM, concat) over nn.LSTM(batch_first). Input dropout is
    Keras's variational one; recurrent_dropout cannot be had (nn.LSTM and cuDNN have none) and
    is left out, which the caller reports. With lengths (mask_zero) the input arrives
    left-aligned and is packed, and a packed output stays packed for a following LSTM."""

    def __init__(self, input_size, units, bidirectional, return_sequences, dropout, maxlen):
        super().__init__()
        self.lstm = nn.LSTM(input_size, units, batch_first=True, bidirectional=bidirectional)
        self.drop = SpatialDropout1D(dropout)
        self.bi = bidirectional
        self.rs = return_sequences
        self.maxlen = maxlen

    def forward(self, x, lengths, keep_packed):
        if isinstance(x, PackedSequence):
            if self.drop.p > 0:  # no seed model has this; a per-sample mask on packed rows
                raise NotImplementedError("input dropout on a packed sequence")
            out, (h_n, _) = self.lstm(x)
        else:
            x = self.drop(x)
            if lengths is not None:
                x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, (h_n, _) = self.lstm(x)
        if self.rs:
            if isinstance(out, PackedSequence) and not keep_packed:
                out, _ = pad_packed_sequence(out, batch_first=True, total_length=self.maxlen)
            return out
        # Keras: the last processed output; the backward direction's is its output at t = 0.
        return torch.cat([h_n[-2], h_n[-1]], dim=1) if self.bi else h_n[-1]


class SeedModel(nn.Module):
    """A Keras Sequential of the layer list in MODELS. forward(tokens, lengths) returns the
    logits of the last Dense layer ([B,1], [B,T,1] or [B,K])."""

    def __init__(self, spec):
        super().__init__()
        self.notes = []
        self.mods = nn.ModuleList()
        self.kinds = []
        feat = None
        for layer in spec["layers"]:
            kind = layer[0]
            if kind == "Embedding":
                # Keras's Embedding has no padding row: id 0 is an ordinary trained row.
                mod = nn.Embedding(spec["vocab"], layer[1])
                feat = layer[1]
            elif kind == "SpatialDropout1D":
                mod = SpatialDropout1D(layer[1])
            elif kind == "Dropout":
                mod = nn.Dropout(layer[1])
            elif kind in ("LSTM", "Bidirectional"):
                o = layer[1]
                bi = kind == "Bidirectional"
                mod = KerasLSTM(feat, o["units"], bi, o.get("return_sequences", False),
                                o.get("dropout", 0.0), spec["maxlen"])
                feat = o["units"] * (2 if bi else 1)
                if o.get("recurrent_dropout"):
                    self.notes.append(f"pytorch runs {kind}({o['units']}) without its "
                                      f"recurrent_dropout {o['recurrent_dropout']} (nn.LSTM / "
                                      "cuDNN have none); ember applies it")
            elif kind == "GlobalMaxPool1D":
                mod = None
            elif kind == "Dense":
                # The activation of the last Dense is folded into the loss (logits).
                mod = nn.Linear(feat, layer[1])
                feat = layer[1]
            else:
                raise ValueError(f"unknown layer {kind}")
            self.kinds.append(layer)
            self.mods.append(mod if mod is not None else nn.Identity())

    def forward(self, tokens, lengths=None):
        x = tokens
        n = len(self.kinds)
        for i, (layer, mod) in enumerate(zip(self.kinds, self.mods)):
            kind = layer[0]
            if kind in ("LSTM", "Bidirectional"):
                nxt = self.kinds[i + 1][0] if i + 1 < n else None
                x = mod(x, lengths, keep_packed=nxt in ("LSTM", "Bidirectional"))
            elif kind == "GlobalMaxPool1D":
                x = x.max(dim=1).values
            elif kind == "Dense":
                x = mod(x)
                if layer[2] == "relu":
                    x = F.relu(x)
            else:
                x = mod(x)
        return x


def make_batch(spec, seed=11):
    """Host tensors of one synthetic batch: tokens [B,T] (ids in [1,V); mask_zero models get
    post-padded rows with lengths_for() real ids, as a PyTorch user packs them), labels [B],
    lengths [B] or None."""
    g = torch.Generator().manual_seed(seed)
    b, t, v = spec["batch"], spec["maxlen"], spec["vocab"]
    tokens = torch.randint(1, v, (b, t), generator=g, dtype=torch.int64)
    lengths = None
    if spec.get("mask_zero"):
        lengths = torch.tensor(lengths_for(b, t), dtype=torch.int64)
        pos = torch.arange(t).unsqueeze(0)
        tokens = torch.where(pos < lengths.unsqueeze(1), tokens, torch.zeros_like(tokens))
    classes = spec["layers"][-1][1]
    if spec["loss"] == "bce":
        labels = (torch.arange(b) % 2).float()
    else:
        labels = torch.arange(b) % classes
    return tokens, labels, lengths


def loss_of(spec, logits, y, class_weights):
    if spec["loss"] == "bce":
        z = logits.squeeze(-1)  # [B] or [B,T]
        if z.dim() == 2:  # per-step output: the label applies to every step
            y = y.unsqueeze(1).expand_as(z)
        return F.binary_cross_entropy_with_logits(z, y)
    per = F.cross_entropy(logits, y, reduction="none")
    if class_weights is not None:  # Keras class_weight: mean of w[y] * loss over the batch
        per = per * class_weights[y]
    return per.mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: default)")
    ap.add_argument("--epoch", action="store_true",
                    help="time ceil(train_rows / batch) steps: one epoch's worth")
    ap.add_argument("--fp32", action="store_true",
                    help="CUDA: no TF32 in cuDNN or cuBLAS (Ember's math); default: PyTorch's "
                         "defaults, under which cuDNN's LSTM may use TF32 tensor cores")
    args = ap.parse_args()

    spec = MODELS[args.model]
    bad = check_config(args.model, spec)
    if bad:
        sys.exit(f"seed_models.py: {args.model} disagrees with its config: " + "; ".join(bad))
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit("seed_models.py: --device cuda but torch.cuda.is_available() is False")
        torch.backends.cudnn.benchmark = True
        if args.fp32:
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(1337)

    model = SeedModel(spec).to(dev).train()
    if spec["optimizer"] == "adam":  # Keras defaults (epsilon 1e-7, not PyTorch's 1e-8)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    else:  # Keras SGD(): learning_rate 0.01, no momentum
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
    tokens, labels, lengths = make_batch(spec)
    # Balanced class weights of balanced synthetic labels are all 1; still applied, as work.
    class_weights = torch.ones(spec["layers"][-1][1], device=dev) if spec.get("class_weight") else None
    notes = list(model.notes)
    if lengths is not None:
        notes.append("mask_zero: rows post-padded and packed (pack_padded_sequence, "
                     "enforce_sorted=False); lengths 1+(7919b+13)%T")

    def step():
        x = tokens.to(dev)  # the batch's upload is part of a training step
        y = labels.to(dev)
        opt.zero_grad(set_to_none=True)
        loss = loss_of(spec, model(x, lengths), y, class_weights)
        loss.backward()
        opt.step()

    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    steps = epoch_steps(spec) if args.epoch else args.steps
    for _ in range(args.warmup):
        step()
    sync()
    wall, gpu = [], []
    for _ in range(steps):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
        t0 = time.perf_counter()
        step()
        if cuda:
            end.record()
        sync()
        wall.append((time.perf_counter() - t0) * 1e3)
        if cuda:
            gpu.append(start.elapsed_time(end))
    ms = sorted(wall)
    out = {
        "framework": "pytorch",
        "model": args.model,
        "device": args.device,
        "device_name": torch.cuda.get_device_name(dev) if cuda else cpu_name(),
        "batch": spec["batch"],
        "maxlen": spec["maxlen"],
        "step_ms_median": round(statistics.median(ms), 3),
        "step_ms_p10": round(pct(ms, 0.1), 3),
        "step_ms_p90": round(pct(ms, 0.9), 3),
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "cudnn_version": torch.backends.cudnn.version() if cuda else None,
        "steps": steps,
        "warmup": args.warmup,
        "lstm_impl": "cudnn" if cuda else "aten-cpu",
        "tf32": bool(cuda and (torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32)),
        "loadavg": round(os.getloadavg()[0], 2),
        "notes": notes,
    }
    if cuda:
        out["gpu_event_ms_median"] = round(statistics.median(gpu), 3)
    if args.epoch:
        out["epoch_s"] = round(sum(wall) / 1e3, 2)
    print(f"pytorch {args.model} on {out['device_name']}: median {out['step_ms_median']:.1f} ms"
          f"/step (p10 {out['step_ms_p10']:.1f}, p90 {out['step_ms_p90']:.1f}) over {steps} "
          f"steps, {out['threads']} threads", file=sys.stderr)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
