// Backend-neutral dropout (kernels/dropout.h), the contracts of ref::dropout_* and
// ref::spatial_dropout1d_*: masks are f(seed, offset, index_base + i), so both backends draw
// the same ones. `ex` picks ref:: or cuda:: on ex.stream.
#pragma once

#include <cstdint>

#include "engine/core/exec.h"
#include "kernels/dropout.h"

namespace ember::kern {

template <class T>
void dropout_forward(const Exec& ex, const T* x, T* y, int64_t n, double rate, uint64_t seed,
                     uint64_t offset, uint64_t index_base);
template <class T>
void dropout_backward(const Exec& ex, const T* d_y, T* d_x, int64_t n, double rate, uint64_t seed,
                      uint64_t offset, uint64_t index_base);
template <class T>
void spatial_dropout1d_forward(const Exec& ex, const T* x, T* y, int64_t batch, int64_t steps,
                               int64_t channels, double rate, uint64_t seed, uint64_t offset,
                               uint64_t index_base);
template <class T>
void spatial_dropout1d_backward(const Exec& ex, const T* d_y, T* d_x, int64_t batch, int64_t steps,
                                int64_t channels, double rate, uint64_t seed, uint64_t offset,
                                uint64_t index_base);

}  // namespace ember::kern
