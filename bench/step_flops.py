#!/usr/bin/env python3
# The work in one CPU training step of each seed config (configs/seed*.yaml), from the config
# alone: matmul FLOPs (forward + backward) and an estimate of the memory traffic of the big
# tensors; given the CPU's roofs (bench/cpu_roofline's JSON lines, or --gflops/--gbs), the
# floor ms/step = max(FLOPs / SGEMM rate, bytes / bandwidth). B = train.batch_size,
# T = sequence.maxlen; every LSTM runs all T steps (masks do not shorten the work).
#   FLOPs: LSTM per direction, G = 4H: input projection 2·B·T·C·G, recurrent 2·B·T·H·G; Dense
#   2·rows·C·U (rows = B·T on [B,T,C], B on [B,C]); backward = 2 x forward (the input and the
#   weight gradients). Embedding, dropout, pooling, activations, merges: no matmul FLOPs. The
#   LSTM's pointwise gate work is counted apart (elements, not in the floor).
#   Bytes (float32, each tensor written once and read once per pass that uses it, as if no
#   cache held it): every layer output and its gradient (4 touches); the LSTM's saved gates
#   [B,T,G], h and c [B,T,H] (written forward, read backward) and d_gates [B,T,G] (written,
#   read); the optimizer's pass over the parameters (Adam 7 touches + zeroing, SGD 3 + 1).
# Needs PyYAML (python3 -m pip install pyyaml; Debian: python3-yaml).
import argparse
import json
import sys
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit("step_flops.py needs PyYAML: python3 -m pip install pyyaml (Debian: python3-yaml)")

REPO = Path(__file__).resolve().parents[1]
F32 = 4


class Unsupported(Exception):
    pass


def layer_entry(item):
    """(type, options) of one model entry: `- Name` or `- Name: {options}`."""
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        (name, opts), = item.items()
        return name, opts or {}
    raise Unsupported(f"unreadable model entry {item!r}")


def lstm_cost(b, t, c, h):
    """(fwd flops, pointwise elements fwd+bwd, internal bytes, params) of one direction."""
    g = 4 * h
    fwd = 2 * b * t * c * g + 2 * b * t * h * g
    saved = F32 * (b * t * g + 2 * b * t * h) * 2  # gates, h, c: written, then read
    d_gates = F32 * b * t * g * 2
    return fwd, 2 * b * t * g, saved + d_gates, c * g + h * g + g


def step_cost(cfg):
    """Per-layer rows and totals for one config; raises Unsupported on an unknown layer."""
    b, t = cfg["train"]["batch_size"], cfg["sequence"]["maxlen"]
    shape = None  # (has_time, features)
    rows, params = [], 0
    for item in cfg["model"]:
        kind, o = layer_entry(item)
        fwd = point = internal = 0
        if shape is None and kind != "Embedding":
            raise Unsupported(f"the first layer must be an Embedding, not {kind}")
        if kind == "Embedding":
            shape = (True, o["output_dim"])
            params += o["input_dim"] * o["output_dim"]
        elif kind in ("Dropout", "SpatialDropout1D", "Activation"):
            pass
        elif kind in ("GlobalMaxPooling1D", "GlobalMaxPool1D"):
            shape = (False, shape[1])
        elif kind in ("LSTM", "Bidirectional"):
            inner = o.get("layer", {}) if kind == "Bidirectional" else {"LSTM": o}
            sub, lo = layer_entry(inner)
            if sub != "LSTM":
                raise Unsupported(f"unsupported layer {kind}({sub})")
            if not shape[0]:
                raise Unsupported(f"{kind} on a [B,C] input")
            dirs = 2 if kind == "Bidirectional" else 1
            h = lo["units"]
            f1, p1, i1, w1 = lstm_cost(b, t, shape[1], h)
            fwd, point, internal = dirs * f1, dirs * p1, dirs * i1
            params += dirs * w1
            merged = 2 * h if dirs == 2 and o.get("merge_mode", "concat") == "concat" else h
            shape = (bool(lo.get("return_sequences", False)), merged)
        elif kind == "Dense":
            n = b * t if shape[0] else b
            fwd = 2 * n * shape[1] * o["units"]
            params += shape[1] * o["units"] + (o["units"] if o.get("use_bias", True) else 0)
            shape = (shape[0], o["units"])
        else:
            raise Unsupported(f"unsupported layer {kind}")
        out_elems = b * (t if shape[0] else 1) * shape[1]
        act = F32 * out_elems * 4  # output written, read; its gradient written, read
        rows.append(dict(layer=kind, fwd_flops=fwd, bwd_flops=2 * fwd, pointwise=point,
                         bytes=act + internal))
    opt = cfg["train"].get("optimizer", "adam")
    name = (opt if isinstance(opt, str) else opt.get("name", "adam")).lower()
    momentum = 0 if isinstance(opt, str) else opt.get("momentum", 0)
    touches = {"adam": 7, "sgd": 5 if momentum else 3}.get(name)
    if touches is None:
        raise Unsupported(f"unsupported optimizer {name}")
    rows.append(dict(layer=f"optimizer ({name})", fwd_flops=0, bwd_flops=0, pointwise=0,
                     bytes=F32 * params * (touches + 1)))
    total = {k: sum(r[k] for r in rows) for k in ("fwd_flops", "bwd_flops", "pointwise", "bytes")}
    total["flops"] = total["fwd_flops"] + total["bwd_flops"]
    return dict(config=cfg["name"], batch=b, maxlen=t, params=params, layers=rows, **total)


def roofs_from_file(path, threads):
    """(GFLOP/s of the square sgemm, triad GB/s, threads) from cpu_roofline's JSON lines."""
    lines = [json.loads(s) for s in Path(path).read_text().splitlines() if s.startswith("{")]
    if threads is None:
        threads = max(x["threads"] for x in lines)
    pick = lambda kind, key: max((x[key] for x in lines if x["kind"] == kind
                                  and x["threads"] == threads
                                  and (kind != "sgemm" or x["name"] == "square")), default=None)
    gflops, gbs = pick("sgemm", "gflops"), pick("triad", "gb_per_s")
    if gflops is None or gbs is None:
        sys.exit(f"{path}: no square sgemm or triad line at {threads} threads")
    return gflops, gbs, threads


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("configs", nargs="*", help="config files (default: configs/seed*.yaml)")
    ap.add_argument("--gflops", type=float, help="SGEMM rate, GFLOP/s")
    ap.add_argument("--gbs", type=float, help="memory bandwidth, GB/s")
    ap.add_argument("--roofline", help="cpu_roofline's stdout (JSON lines): square sgemm, triad")
    ap.add_argument("--threads", type=int, help="which thread count of --roofline (default max)")
    ap.add_argument("--layers", action="store_true", help="a row per layer too")
    ap.add_argument("--json", action="store_true", help="one JSON line per config on stdout")
    a = ap.parse_args()
    if a.roofline:
        a.gflops, a.gbs, a.threads = roofs_from_file(a.roofline, a.threads)
    if (a.gflops is None) != (a.gbs is None):
        sys.exit("give both --gflops and --gbs (or --roofline)")
    paths = a.configs or sorted(str(p) for p in (REPO / "configs").glob("seed*.yaml"))
    out = sys.stderr if a.json else sys.stdout
    roof = a.gflops is not None
    if roof:
        print(f"roofs: {a.gflops:.1f} GFLOP/s, {a.gbs:.2f} GB/s"
              + (f" at threads={a.threads}" if a.threads else ""), file=out)
    head = f"{'config':28} {'B':>4} {'T':>4} {'GFLOP fwd':>9} {'bwd':>7} {'total':>7} " \
           f"{'Mpoint':>7} {'MB':>8}"
    print(head + (f" {'ms flops':>8} {'ms bytes':>8} {'floor ms':>8}" if roof else ""), file=out)
    status = 0
    for p in paths:
        cfg = yaml.safe_load(Path(p).read_text())
        try:
            c = step_cost(cfg)
        except Unsupported as e:
            print(f"{cfg.get('name', p):28} {e}", file=out)
            status = 1
            continue
        line = (f"{c['config']:28} {c['batch']:4} {c['maxlen']:4} {c['fwd_flops'] / 1e9:9.3f} "
                f"{c['bwd_flops'] / 1e9:7.3f} {c['flops'] / 1e9:7.3f} "
                f"{c['pointwise'] / 1e6:7.1f} {c['bytes'] / 1e6:8.1f}")
        if roof:
            c["ms_flops"] = c["flops"] / (a.gflops * 1e9) * 1e3
            c["ms_bytes"] = c["bytes"] / (a.gbs * 1e9) * 1e3
            c["floor_ms"] = max(c["ms_flops"], c["ms_bytes"])
            c.update(gflops=a.gflops, gbs=a.gbs, threads=a.threads)
            line += f" {c['ms_flops']:8.2f} {c['ms_bytes']:8.2f} {c['floor_ms']:8.2f}"
        print(line, file=out)
        if a.layers:
            for r in c["layers"]:
                print(f"  {r['layer']:26} {'':9} {r['fwd_flops'] / 1e9:9.3f} "
                      f"{r['bwd_flops'] / 1e9:7.3f} {(r['fwd_flops'] + r['bwd_flops']) / 1e9:7.3f} "
                      f"{r['pointwise'] / 1e6:7.1f} {r['bytes'] / 1e6:8.1f}", file=out)
        if a.json:
            print(json.dumps(c))
    return status


if __name__ == "__main__":
    sys.exit(main())
