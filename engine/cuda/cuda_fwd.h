// The one CUDA type the op contracts name, declared without CUDA's headers so that kernel
// headers (kernels/<op>.h) can declare their cuda:: launchers and still be included by
// CPU-only builds. Identical to cuda_runtime's own typedef, which may appear beside it.
#pragma once

struct CUstream_st;
typedef struct CUstream_st* cudaStream_t;
