#!/usr/bin/env python3
# Charts and a table from the benchmarks' JSON lines, standard library only (SVG by hand):
#  - kernels.svg: each gpu_kernels case as a bar of the fraction of the device's measured roof
#    it reaches (memory-bound ops: GB/s over the memcpy bandwidth; LSTM layers: TFLOP/s over
#    the SGEMM rate; the two are told apart by colour);
#  - steps.svg: Ember's and PyTorch's median training-step time per seed model (log axis:
#    the models span milliseconds to seconds), with the ratio PyTorch / Ember;
#  - a markdown table of the same step lines (--markdown), ratio > 1 meaning Ember is faster.
# Usage: plot_results.py [--kernels F.jsonl] [--steps F.jsonl ...] [--out-dir D] [--markdown F]
import argparse
import json
import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape

BLUE, ORANGE, GREY = "#4C72B0", "#DD8452", "#888888"


def read_lines(paths):
    out = []
    for p in paths:
        for n, line in enumerate(Path(p).read_text().splitlines(), 1):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                print(f"plot_results: {p}:{n}: skipped ({e})", file=sys.stderr)
    return out


def svg(width, height, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="11">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n")


def text(x, y, s, anchor="start", size=11, weight="normal", fill="black"):
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'font-weight="{weight}" fill="{fill}">{escape(str(s))}</text>')


def kernels_svg(lines):
    rows = []
    for j in lines:
        if j.get("bench") != "gpu_kernels" or j.get("status") in ("skipped", "error"):
            continue
        if "frac_copy_bw" in j:
            rows.append((f"{j['group']} {j['case']} {j['impl']}", j["frac_copy_bw"], BLUE, j))
        elif "frac_sgemm" in j:
            rows.append((f"{j['group']} {j['case']} {j['impl']}", j["frac_sgemm"], ORANGE, j))
    if not rows:
        return None
    device = next((j.get("device_name") for j in lines if j.get("bench") == "gpu_kernels"), "?")
    commit = next((j.get("commit") for j in lines if j.get("bench") == "gpu_kernels"), "?")
    left, bar_w, row_h, top = 330, 420, 16, 60
    hi = max(1.0, max(r[1] for r in rows))
    height = top + row_h * len(rows) + 40
    body = [text(10, 20, f"Ember GPU kernels: fraction of the measured roof ({device}, {commit})",
                 size=14, weight="bold"),
            f'<rect x="10" y="32" width="10" height="10" fill="{BLUE}"/>',
            text(24, 41, "GB/s / memcpy D2D bandwidth"),
            f'<rect x="220" y="32" width="10" height="10" fill="{ORANGE}"/>',
            text(234, 41, "TFLOP/s / SGEMM FP32 rate")]
    for k in range(0, 11):
        frac = hi * k / 10
        x = left + bar_w * frac / hi
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 36}" stroke="#ddd"/>')
        body.append(text(x, height - 22, f"{frac:.1f}", anchor="middle", size=10))
    for i, (label, frac, colour, j) in enumerate(rows):
        y = top + i * row_h
        w = max(1.0, bar_w * frac / hi)
        body.append(text(left - 6, y + 11, label[:60], anchor="end", size=10))
        body.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row_h - 4}" fill="{colour}"/>')
        us = j.get("us_median", 0)
        tag = f"{frac:.2f}  ({us:.1f} us)" + ("  MISMATCH" if j.get("status") == "MISMATCH" else "")
        body.append(text(left + w + 4, y + 11, tag, size=10,
                         fill="red" if j.get("status") == "MISMATCH" else "black"))
    return svg(left + bar_w + 170, height, body)


def torch_lines(lines):
    """{(model, device, tf32): the last PyTorch step line of that kind}."""
    return {(j["model"], j["device"], bool(j.get("tf32"))): j for j in lines
            if j.get("framework") == "pytorch" and "step_ms_median" in j}


def step_pairs(lines):
    """[(model, device, ember line, PyTorch line with its defaults or None)] per Ember line.
    On CUDA PyTorch's default lets cuDNN use TF32; the --fp32 line is Ember's math."""
    by = torch_lines(lines)
    out = []
    for j in lines:
        if j.get("framework") == "ember" and "model" in j:
            m, d = j["model"], j.get("device", "?")
            out.append((m, d, j, by.get((m, d, True)) or by.get((m, d, False))))
    return out


def steps_svg(lines):
    pairs = [p for p in step_pairs(lines) if "step_ms_median" in p[2] and p[3]]
    if not pairs:
        return None
    vals = [v for _, _, e, t in pairs for v in (e["step_ms_median"], t["step_ms_median"])]
    lo = 10 ** math.floor(math.log10(min(vals)))
    hi = 10 ** math.ceil(math.log10(max(vals)))
    left, bar_w, top, group_h = 300, 460, 60, 40
    height = top + group_h * len(pairs) + 40

    def xs(v):
        return left + bar_w * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    dev = pairs[0][2].get("device_name", "?")
    body = [text(10, 20, f"Training step, median ms (log scale): Ember vs PyTorch ({dev})",
                 size=14, weight="bold"),
            f'<rect x="10" y="32" width="10" height="10" fill="{BLUE}"/>', text(24, 41, "Ember"),
            f'<rect x="90" y="32" width="10" height="10" fill="{ORANGE}"/>', text(104, 41, "PyTorch")]
    d = lo
    while d <= hi * 1.0001:
        body.append(f'<line x1="{xs(d):.1f}" y1="{top - 4}" x2="{xs(d):.1f}" y2="{height - 36}" stroke="#ddd"/>')
        body.append(text(xs(d), height - 22, f"{d:g}", anchor="middle", size=10))
        d *= 10
    for i, (model, device, e, t) in enumerate(pairs):
        y = top + i * group_h
        label = f"{model} [{device}, {e.get('lstm_impl', '?')}]"
        body.append(text(left - 6, y + 18, label, anchor="end", size=10))
        for k, (j, colour) in enumerate(((e, BLUE), (t, ORANGE))):
            v = j["step_ms_median"]
            body.append(f'<rect x="{left}" y="{y + 2 + 15 * k}" width="{max(1, xs(v) - left):.1f}" '
                        f'height="13" fill="{colour}"/>')
            body.append(text(xs(v) + 4, y + 13 + 15 * k, f"{v:.1f} ms", size=10))
        ratio = t["step_ms_median"] / e["step_ms_median"]
        body.append(text(left + bar_w + 90, y + 18, f"PyTorch/Ember {ratio:.2f}", size=10,
                         weight="bold"))
    return svg(left + bar_w + 210, height, body)


def steps_markdown(lines):
    by = torch_lines(lines)
    rows = ["| model | device | B x T | Ember LSTM | Ember ms (p10-p90) | PyTorch ms (p10-p90) | "
            "PyTorch / Ember | PyTorch FP32-only ms | PyTorch FP32 / Ember | notes |",
            "|---|---|---|---|---|---|---|---|---|---|"]

    def ms(j):
        return f"{j['step_ms_median']:.1f} ({j['step_ms_p10']:.1f}-{j['step_ms_p90']:.1f})"

    for model, device, e, t in step_pairs(lines):
        shape = f"{e.get('batch', '?')} x {e.get('maxlen', '?')}"
        if "error" in e:
            rows.append(f"| {model} | {device} | {shape} | {e.get('lstm_impl')} | error: "
                        f"{e['error'][:120].replace('|', '/')} | | | | | |")
            continue
        cells = []
        f32 = by.get((model, device, False)) if t and t.get("tf32") else None
        for j in (t, f32):
            cells += [ms(j), f"**{j['step_ms_median'] / e['step_ms_median']:.2f}**"] if j else ["-", "-"]
        notes = "; ".join(e.get("notes", []) + (t.get("notes", []) if t else []))
        rows.append(f"| {model} | {device} | {shape} | {e.get('lstm_impl')} | {ms(e)} | "
                    + " | ".join(cells) + f" | {notes.replace('|', '/')} |")
    return "\n".join(rows) + "\n\nPyTorch / Ember > 1: Ember is faster.\n"


def kernels_markdown(lines):
    """The roofs, then every kernel against its roof (goal: 85% of copy bandwidth for the
    memory-bound ones), then each whole LSTM layer beside its floor."""
    roofs = [j for j in lines if j.get("group") == "roof"]
    out = ["| roof | measured |", "|---|---|"]
    for j in roofs:
        if "gbps" in j:
            out.append(f"| {j['case']} | {j['gbps']:.0f} GB/s |")
        elif "tflops" in j:
            out.append(f"| {j['case']} | {j['tflops']:.1f} TFLOP/s |")
        else:
            out.append(f"| {j['case']} | {j['us_median']:.3f} us |")
    out += ["", "| kernel | case | impl | us | GB/s | of copy bandwidth | status |",
            "|---|---|---|---|---|---|---|"]
    for j in lines:
        if j.get("group") in ("roof", "lstm_layer") or "frac_copy_bw" not in j:
            continue
        out.append(f"| {j['group']} | {j['case']} | {j['impl']} | {j['us_median']:.1f} | "
                   f"{j['gbps']:.0f} | {100 * j['frac_copy_bw']:.0f}% | {j.get('status', '')} |")
    out += ["", "| LSTM layer | impl | us | floor us (barriers / FLOPs) | measured / floor | "
            "of SGEMM rate | status |", "|---|---|---|---|---|---|---|"]
    for j in lines:
        if j.get("group") != "lstm_layer":
            continue
        if j.get("status") in ("skipped", "error"):
            out.append(f"| {j['case']} | {j['impl']} | {j['status']}: "
                       f"{j.get('reason', '')[:100].replace('|', '/')} | | | | |")
            continue
        out.append(f"| {j['case']} | {j['impl']} | {j['us_median']:.0f} | "
                   f"{j.get('floor_us', 0):.0f} ({j.get('floor_barrier_us', 0):.0f} / "
                   f"{j.get('floor_flops_us', 0):.0f}) | {j.get('x_floor', 0):.1f} | "
                   f"{100 * j.get('frac_sgemm', 0):.1f}% | {j.get('status', '')} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kernels", nargs="*", default=[], help="gpu_kernels JSON lines")
    ap.add_argument("--steps", nargs="*", default=[], help="bench_seed_step / seed_models.py lines")
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--markdown", help="write the step table here (and print it)")
    ap.add_argument("--kernels-markdown", help="write the kernel/roof/floor tables here")
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.kernels:
        s = kernels_svg(read_lines(args.kernels))
        if s:
            (out / "kernels.svg").write_text(s)
            print(f"plot_results: wrote {out / 'kernels.svg'}", file=sys.stderr)
        if args.kernels_markdown:
            Path(args.kernels_markdown).write_text(kernels_markdown(read_lines(args.kernels)))
    if args.steps:
        lines = read_lines(args.steps)
        s = steps_svg(lines)
        if s:
            (out / "steps.svg").write_text(s)
            print(f"plot_results: wrote {out / 'steps.svg'}", file=sys.stderr)
        table = steps_markdown(lines)
        if args.markdown:
            Path(args.markdown).write_text(table)
        print(table)


if __name__ == "__main__":
    main()
