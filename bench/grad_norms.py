#!/usr/bin/env python3
"""Per-epoch summary of a run's step losses and gradient norms (losses.csv written with
train.log_grad_norm: step,loss,grad_norm), as a markdown table, and a picture of both over
the steps (SVG: loss on a linear axis, gradient norm on a log axis).

    python3 bench/grad_norms.py runs/variance/seed001_model_c_gradnorm/seed1337 \
        --svg bench/results/model_c_instability/grad_norms.svg

What a loss spike is made of: whether the gradient norm grows before the loss does (an
exploding step), or the loss rises while the norm stays ordinary (the weights walked
somewhere worse under normal-sized steps). Standard library only.
"""
import argparse
import csv
import math
import os
import statistics


def read_steps(run):
    with open(os.path.join(run, "losses.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or "grad_norm" not in rows[0]:
        raise SystemExit(f"grad_norms: {run}/losses.csv has no grad_norm column "
                         "(train with train.log_grad_norm: true)")
    return [float(r["loss"]) for r in rows], [float(r["grad_norm"]) for r in rows]


def epochs_of(run, n_steps):
    with open(os.path.join(run, "history.csv"), encoding="utf-8") as f:
        n_epochs = len(list(csv.DictReader(f)))
    per = math.ceil(n_steps / max(n_epochs, 1))
    return [(e, e * per, min((e + 1) * per, n_steps)) for e in range(n_epochs)]


def quantile(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def svg(losses, norms, path, per_epoch):
    w, h, pad = 900, 360, 50
    n = len(losses)
    x = lambda i: pad + (w - 2 * pad) * i / max(n - 1, 1)
    lmax = max(losses)
    yl = lambda v: h - pad - (h - 2 * pad) * v / lmax
    lo, hi = math.log10(min(norms)), math.log10(max(norms))
    yn = lambda v: h - pad - (h - 2 * pad) * (math.log10(v) - lo) / max(hi - lo, 1e-9)
    pts = lambda ys, f: " ".join(f"{x(i):.1f},{f(v):.1f}" for i, v in enumerate(ys))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    for e, a, _ in per_epoch:
        out.append(f'<line x1="{x(a):.1f}" y1="{pad}" x2="{x(a):.1f}" y2="{h - pad}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{x(a) + 3:.1f}" y="{pad - 5}" font-size="11">epoch {e + 1}</text>')
    out.append(f'<polyline fill="none" stroke="#c33" stroke-width="0.6" '
               f'points="{pts(norms, yn)}"/>')
    out.append(f'<polyline fill="none" stroke="#236" stroke-width="0.8" '
               f'points="{pts(losses, yl)}"/>')
    out.append(f'<text x="{pad}" y="{h - 15}" font-size="12" fill="#236">step loss '
               f'(linear, 0 to {lmax:.2f})</text>')
    out.append(f'<text x="{w // 2}" y="{h - 15}" font-size="12" fill="#c33">gradient norm '
               f'(log, {10 ** lo:.3g} to {10 ** hi:.3g})</text>')
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a run directory (losses.csv with grad_norm, history.csv)")
    ap.add_argument("--svg", help="write the picture here")
    args = ap.parse_args()
    losses, norms = read_steps(args.run)
    per_epoch = epochs_of(args.run, len(losses))
    base = statistics.median(norms[per_epoch[0][1]:per_epoch[0][2]])
    print("| epoch | steps | mean loss | max loss | median grad norm | p99 | max | "
          f"steps > 10 × epoch 1's median ({10 * base:.3g}) |")
    print("|---|---|---|---|---|---|---|---|")
    for e, a, b in per_epoch:
        ls, ns = losses[a:b], norms[a:b]
        big = sum(1 for v in ns if v > 10 * base)
        print(f"| {e + 1} | {b - a} | {statistics.mean(ls):.4f} | {max(ls):.4f} | "
              f"{statistics.median(ns):.4g} | {quantile(ns, 0.99):.4g} | {max(ns):.4g} | {big} |")
    # The sharpest rise of a 50-step running mean of the loss, and the norms around it.
    k = 50
    run_mean = [statistics.mean(losses[max(0, i - k):i + 1]) for i in range(len(losses))]
    rise = max(range(k, len(losses)), key=lambda i: run_mean[i] - run_mean[i - k])
    a = max(0, rise - 2 * k)
    print(f"\nSharpest rise of the {k}-step mean loss: steps {rise - k}-{rise}, "
          f"{run_mean[rise - k]:.4f} -> {run_mean[rise]:.4f}. Median gradient norm in the "
          f"{2 * k} steps before it: {statistics.median(norms[a:rise - k]):.4g}; during it: "
          f"{statistics.median(norms[rise - k:rise + 1]):.4g}; largest during it: "
          f"{max(norms[rise - k:rise + 1]):.4g}.")
    if args.svg:
        svg(losses, norms, args.svg, per_epoch)


if __name__ == "__main__":
    main()
