#!/usr/bin/env python3
"""Where cuDNN and cuBLAS are on the GPU machine: inside the Python wheels that PyTorch brought.

Prints KEY=VALUE lines (bash reads them; no quoting, paths hold no newlines):
  CUDNN_LIB       path of libcudnn.so.9        CUDNN_INCLUDE  folder holding cudnn.h (or empty)
  CUDNN_VERSION   e.g. 9.10.2 (wheel metadata, else cudnn_version.h, else empty)
  CUBLAS_LIB      path of libcublas.so.13      CUBLASLT_LIB   path of libcublasLt.so.13
  CUBLAS_VERSION  wheel metadata version       CUDART_LIB     path of libcudart.so.13 (info only)
  NCCL_LIB        path of libnccl.so.2 (needed when engine/dist links NCCL)
  SITE            the site-packages folders searched, ':'-separated
and one "WHY_<KEY>=..." line for each library not found. Exit status 0 even then: the caller
decides (bash falls back to /usr/local/cuda and to a find under SITE).

Why not import the modules: nvidia.cudnn and CUDA 13's nvidia.cu13 are namespace packages with
no __init__.py, so a module's __file__ is None and the parent folder is not the library's. The
search uses importlib.util.find_spec(...).submodule_search_locations (every portion of the
namespace) and looks for each library by its SONAME, since the wheels ship libcudnn.so.9 alone,
without the unversioned libcudnn.so a linker search would want.
"""
import importlib.metadata
import importlib.util
import os
import re
import site
import sys

# (key, SONAME, modules whose folders may hold it: CUDA 13 wheels first, then older layouts).
LIBS = [
    ("CUDNN_LIB", "libcudnn.so.9", ["nvidia.cudnn"]),
    ("CUBLAS_LIB", "libcublas.so.13", ["nvidia.cu13", "nvidia.cublas"]),
    ("CUBLASLT_LIB", "libcublasLt.so.13", ["nvidia.cu13", "nvidia.cublas"]),
    ("CUDART_LIB", "libcudart.so.13", ["nvidia.cu13", "nvidia.cuda_runtime"]),
    ("NCCL_LIB", "libnccl.so.2", ["nvidia.nccl", "nvidia.cu13"]),
]
# Distribution names that carry the version of each (the first one installed wins).
DISTS = {
    "CUDNN_VERSION": ["nvidia-cudnn-cu13", "nvidia-cudnn-cu12", "nvidia-cudnn"],
    "CUBLAS_VERSION": ["nvidia-cublas", "nvidia-cublas-cu13", "nvidia-cublas-cu12"],
    "NCCL_VERSION": ["nvidia-nccl-cu13", "nvidia-nccl-cu12"],
}


def portions(module):
    """Every folder of `module` (all portions of a namespace package), or []."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    folders = list(spec.submodule_search_locations or [])
    if not folders and spec.origin:
        folders = [os.path.dirname(spec.origin)]
    return [f for f in folders if os.path.isdir(f)]


def find(soname, modules):
    for module in modules:
        for folder in portions(module):
            for sub in ("lib", "lib64", ""):
                path = os.path.join(folder, sub, soname)
                if os.path.isfile(path):
                    return path, ""
    return "", "%s not in the folders of %s" % (soname, ", ".join(modules))


def dist_version(names):
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return ""


def header_version(include):
    """cuDNN's version from cudnn_version.h (the wheel's headers), or ""."""
    try:
        with open(os.path.join(include, "cudnn_version.h")) as f:
            text = f.read()
    except OSError:
        return ""
    parts = [re.search(r"#define CUDNN_%s\s+(\d+)" % k, text) for k in ("MAJOR", "MINOR", "PATCHLEVEL")]
    return ".".join(m.group(1) for m in parts) if all(parts) else ""


def main():
    out = {}
    for key, soname, modules in LIBS:
        path, why = find(soname, modules)
        out[key] = path
        if why:
            out["WHY_" + key] = why
    include = ""
    if out["CUDNN_LIB"]:
        candidate = os.path.join(os.path.dirname(os.path.dirname(out["CUDNN_LIB"])), "include")
        include = candidate if os.path.isfile(os.path.join(candidate, "cudnn.h")) else ""
    out["CUDNN_INCLUDE"] = include
    for key, names in DISTS.items():
        out[key] = dist_version(names)
    if not out["CUDNN_VERSION"] and include:
        out["CUDNN_VERSION"] = header_version(include)
    folders = []
    try:
        folders += site.getsitepackages()
    except AttributeError:  # some virtualenvs' site module
        pass
    folders += [p for p in sys.path if p.endswith("-packages")]
    out["SITE"] = ":".join(dict.fromkeys(f for f in folders if os.path.isdir(f)))
    for key, value in out.items():
        print("%s=%s" % (key, value))


if __name__ == "__main__":
    main()
