// Backend-neutral whole-tensor loops for engine/core/tensor_ops.h: the CPU loops live here beside
// the switch to engine/cuda/tensor_ops.h, so each tensor op has one body. Flat [n] arrays on
// ex.device. sum_squares accumulates in double; its CUDA version reduces in fixed blocks
// (deterministic) and waits for its result, which is why it returns a host double.
#pragma once

#include <cstdint>

#include "engine/core/exec.h"

namespace ember::kern {

template <class T>
void axpy(const Exec& ex, T* dst, T a, const T* x, int64_t n);  // dst += a * x
template <class T>
void scale(const Exec& ex, T* dst, T a, int64_t n);  // dst *= a
// Sum of x[i]^2 in double. CUDA: `partials` is sum_squares_scratch(ex) doubles of device memory.
template <class T>
double sum_squares(const Exec& ex, const T* x, int64_t n, double* partials);
// Device scratch sum_squares needs, in doubles (0 on the CPU).
int64_t sum_squares_scratch(const Exec& ex);

}  // namespace ember::kern
