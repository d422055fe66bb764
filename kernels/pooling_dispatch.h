// Backend-neutral global max pooling (kernels/pooling.h), the contracts of
// ref::global_max_pool1d_*: x [B,T,C] -> y [B,C] and argmax [B,C] int32 (first maximal step);
// the backward ACCUMULATES into d_x. `ex` picks ref:: or cuda:: on ex.stream.
#pragma once

#include <cstdint>

#include "engine/core/exec.h"
#include "kernels/pooling.h"

namespace ember::kern {

template <class T>
void global_max_pool1d_forward(const Exec& ex, const T* x, T* y, int32_t* argmax, int64_t batch,
                               int64_t steps, int64_t channels);
template <class T>
void global_max_pool1d_backward(const Exec& ex, const T* d_y, const int32_t* argmax, T* d_x,
                                int64_t batch, int64_t steps, int64_t channels);

}  // namespace ember::kern
