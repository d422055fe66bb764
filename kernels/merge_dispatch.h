// Backend-neutral merge (kernels/merge.h): one signature for both backends, the contracts of
// ref::merge_* (overwrite / accumulate, d_a and d_b may be one buffer). `ex` picks ref:: on
// the CPU or cuda:: queued on ex.stream. Pointers are on ex.device.
#pragma once

#include <cstdint>

#include "engine/core/exec.h"
#include "kernels/merge.h"

namespace ember::kern {

template <class T>
void merge_concat_forward(const Exec& ex, const T* a, const T* b, T* y, int64_t rows,
                          int64_t width_a, int64_t width_b);
template <class T>
void merge_concat_backward(const Exec& ex, const T* d_y, T* d_a, T* d_b, int64_t rows,
                           int64_t width_a, int64_t width_b);
template <class T>
void merge_elementwise_forward(const Exec& ex, MergeMode mode, const T* a, const T* b, T* y,
                               int64_t n);
template <class T>
void merge_elementwise_backward(const Exec& ex, MergeMode mode, const T* a, const T* b,
                                const T* d_y, T* d_a, T* d_b, int64_t n);

}  // namespace ember::kern
