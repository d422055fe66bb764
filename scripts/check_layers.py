#!/usr/bin/env python3
"""Fails when a file includes a header from a layer above its own (cmake/layers.txt).

Each library folder belongs to one layer; a layer may include its own headers and those of the
layers it may use, transitively. Outside the library: tests/ may include anything; bench/ and
fuzz/ may include the library and tests/support/ but no other test file; the library never
includes tests/, bench/ or fuzz/. Only quoted includes are checked: <...> are system headers,
the emulator's shims among them. Prints one line per violation (file:line) and exits 1."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE = re.compile(r'\.(h|cpp|cu|cuh)$')


def read_layers():
    """[(layer, [folders], [direct uses])] in file order, from cmake/layers.txt."""
    layers = []
    with open(os.path.join(ROOT, 'cmake', 'layers.txt'), encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0]
            if not line.strip():
                continue
            if '->' not in line:
                sys.exit(f'cmake/layers.txt:{n}: expected "layer folders... -> uses..."')
            left, right = line.split('->', 1)
            name, folders = left.split()[0], left.split()[1:]
            uses = right.split()
            if not folders:
                sys.exit(f'cmake/layers.txt:{n}: layer {name} names no folder')
            layers.append((name, folders, uses))
    return layers


def closure(layers):
    """layer -> every layer it may use (itself included), checking names and order."""
    seen, allowed = set(), {}
    for name, _, uses in layers:
        for u in uses:
            if u not in seen:
                sys.exit(f'cmake/layers.txt: {name} uses {u}, which is not a layer listed above it')
        allowed[name] = {name}.union(*(allowed[u] for u in uses))
        seen.add(name)
    return allowed


def main():
    layers = read_layers()
    allowed = closure(layers)
    folder_layer = {f: name for name, folders, _ in layers for f in folders}

    def layer_of(path):
        return folder_layer.get(os.path.dirname(path))

    violations = []
    for top in ('engine', 'kernels', 'layers', 'optim', 'tests', 'bench', 'fuzz'):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for fn in sorted(files):
                if not SOURCE.search(fn):
                    continue
                path = os.path.relpath(os.path.join(dirpath, fn), ROOT)
                own = layer_of(path)
                if own is None and top in ('engine', 'kernels', 'layers', 'optim'):
                    violations.append(f'{path}: in no layer (add its folder to cmake/layers.txt)')
                    continue
                with open(os.path.join(ROOT, path), encoding='utf-8') as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        if not os.path.exists(os.path.join(ROOT, inc)):
                            continue  # a sibling-relative or generated header: not a layer
                        target = layer_of(inc)
                        where = f'{path}:{n}: includes {inc}'
                        if own is not None:
                            if target is None:
                                violations.append(f'{where}, which is outside the library')
                            elif target not in allowed[own]:
                                violations.append(f'{where} (layer {target}), but layer {own} '
                                                  f'may use only {", ".join(sorted(allowed[own]))}')
                        elif top in ('bench', 'fuzz') and inc.startswith('tests/') \
                                and not inc.startswith('tests/support/'):
                            violations.append(f'{where}: {top}/ may use tests/support/ only')
    for v in violations:
        print(v)
    if violations:
        print(f'check_layers: {len(violations)} include(s) against the layering (cmake/layers.txt)')
        return 1
    print(f'check_layers: {len(layers)} layers, every include goes downward')
    return 0


if __name__ == '__main__':
    sys.exit(main())
