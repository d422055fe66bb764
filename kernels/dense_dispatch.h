// Backend-neutral dense layer and activations (kernels/dense.h, kernels/activations.h), the
// contracts of the ref:: functions there. The CUDA dense runs cuBLAS through the device
// context's handle (bound to its main stream, which ex.stream is for these calls). Its bias
// gradient needs device scratch: dense_backward_workspace_bytes(ex, ...) bytes, 0 on the CPU
// (whose workspace arguments are ignored and may be null).
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/core/exec.h"

namespace ember::fn {
enum class Activation;  // kernels/op_kinds.h
}  // namespace ember::fn

namespace ember::kern {

size_t dense_backward_workspace_bytes(const Exec& ex, int64_t rows, int64_t units);
template <class T>
void dense_forward(const Exec& ex, const T* x, const T* kernel, const T* bias, T* y, int64_t rows,
                   int64_t in_features, int64_t units);
template <class T>
void dense_backward(const Exec& ex, const T* x, const T* kernel, const T* d_y, T* d_x, T* d_kernel,
                    T* d_bias, int64_t rows, int64_t in_features, int64_t units, void* workspace,
                    size_t workspace_bytes);

// y = a(x) over n elements; softmax over rows of `classes` (n = rows * classes). kLinear
// does nothing (callers skip it: it is the identity).
template <class T>
void activation_forward(const Exec& ex, fn::Activation a, const T* x, T* y, int64_t n,
                        int64_t classes);
// d_x += d a / d x from the output y; ACCUMULATED as the ref:: backward functions are.
template <class T>
void activation_backward(const Exec& ex, fn::Activation a, const T* y, const T* d_y, T* d_x,
                         int64_t n, int64_t classes);

}  // namespace ember::kern
