// CUDA half of engine/core/tensor_ops.h: elementwise updates and a deterministic sum of squares
// (fixed-shape block partials, then one block sums them in order; no float atomics), on the
// device's context stream.
#pragma once

#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

namespace ember::cuda {

template <class T>
void axpy(T* dst, T a, const T* x, int64_t n, cudaStream_t stream);  // dst += a*x
template <class T>
void scale(T* dst, T a, int64_t n, cudaStream_t stream);  // dst *= a
// Sum of squares accumulated in double; `partials` holds at least sum_squares_partials()
// doubles of device scratch, `out` one double on the device.
template <class T>
void sum_squares(const T* x, int64_t n, double* partials, double* out, cudaStream_t stream);
constexpr int kSumSquaresBlocks = 256;

}  // namespace ember::cuda
