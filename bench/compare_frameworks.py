#!/usr/bin/env python3
"""Summarises step-benchmark JSON lines of Ember (bench_seed_step), tf_keras
(bench/keras/seed_models.py) and PyTorch (bench/pytorch/seed_models.py): per config the median
over rounds of each framework's per-run step_ms_median, and the ratios Keras_ms / Ember_ms and
PyTorch_ms / Ember_ms (above 1: Ember is faster), with the CPU model, its ISA flags and the
thread count. Standard library only, so it runs whichever frameworks are installed.

    python3 bench/compare_frameworks.py RUN.jsonl [--threads N]

scripts/cpu_bench_all.sh passes the lines of its own run; any .jsonl of such lines works (lines
of other thread counts are left out when --threads is given; lines with "error" are counted
and reported, not summarised).
"""
import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_table import MODELS, cpu_name  # noqa: E402

FRAMEWORKS = ("ember", "tensorflow-keras", "pytorch")
# The flags that decide which kernels oneDNN, MKL/OpenBLAS and Eigen pick on x86.
ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
             "avx512_bf16", "amx_tile")


def isa_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return [f for f in ISA_FLAGS if f in have]
    except OSError:
        pass
    return []


def fmt(v):
    return "-" if v is None else f"{v:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("jsonl", help="file of JSON lines (one per benchmark run)")
    ap.add_argument("--threads", type=int, default=None, help="only lines of this thread count")
    args = ap.parse_args()

    runs, errors = {}, []
    for n, line in enumerate(Path(args.jsonl).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            sys.exit(f"compare_frameworks: {args.jsonl}:{n}: not a JSON line")
        fw = r.get("framework")
        if fw not in FRAMEWORKS:
            continue
        if "error" in r or "step_ms_median" not in r:
            errors.append(f"{fw} {r.get('model', r.get('config'))}: {r.get('error', 'no time')}")
            continue
        if args.threads is not None and r.get("threads") != args.threads:
            continue
        runs.setdefault(r["model"], {}).setdefault(fw, []).append(r)

    flags = isa_flags()
    print(f"CPU: {cpu_name()}; ISA: {' '.join(flags) or 'unknown'} (avx2 "
          f"{'yes' if 'avx2' in flags else 'no'}, avx512f {'yes' if 'avx512f' in flags else 'no'})"
          f"; threads: {args.threads if args.threads is not None else 'as recorded'}")
    versions = []
    for fw_runs in runs.values():
        for fw, rs in fw_runs.items():
            for key in ("commit", "tf_version", "keras_version", "torch_version"):
                if rs[0].get(key):
                    versions.append(f"{fw} {key.split('_')[0]} {rs[0][key]}")
    if versions:
        print("versions: " + ", ".join(sorted(set(versions))))
    print("| config | batch x maxlen | ember ms | keras ms | pytorch ms | Keras/Ember "
          "| PyTorch/Ember | rounds (e/k/p) | loadavg |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in [m for m in MODELS if m in runs] + sorted(set(runs) - set(MODELS)):
        fw_runs = runs[name]
        med = {fw: statistics.median(r["step_ms_median"] for r in rs)
               for fw, rs in fw_runs.items()}
        e = med.get("ember")
        ratio = {fw: (med[fw] / e if e and fw in med else None)
                 for fw in ("tensorflow-keras", "pytorch")}
        any_run = next(iter(fw_runs.values()))[0]
        loads = [r.get("loadavg") for rs in fw_runs.values() for r in rs
                 if r.get("loadavg") is not None]
        load = f"{min(loads):.2f}-{max(loads):.2f}" if loads else "-"
        counts = "/".join(str(len(fw_runs.get(fw, []))) for fw in FRAMEWORKS)
        r_k, r_p = ratio["tensorflow-keras"], ratio["pytorch"]
        print(f"| {name} | {any_run['batch']} x {any_run['maxlen']} | {fmt(e)} "
              f"| {fmt(med.get('tensorflow-keras'))} | {fmt(med.get('pytorch'))} "
              f"| {'-' if r_k is None else f'{r_k:.2f}'} | {'-' if r_p is None else f'{r_p:.2f}'} "
              f"| {counts} | {load} |")
    for err in errors:
        print(f"error: {err}")
    if not runs:
        sys.exit("compare_frameworks: no timed lines")


if __name__ == "__main__":
    main()
