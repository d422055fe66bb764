// Elementwise activations (relu, sigmoid, tanh) and softmax over the last axis.
// Every backward is written in terms of the forward OUTPUT y, so an op saves y only:
// relu' = [y > 0], sigmoid' = y(1-y), tanh' = 1-y^2, softmax: d_x = y * (d_y - <d_y, y>).
// Sigmoid is evaluated without overflow for any |x| (exp of a non-positive number only);
// softmax subtracts the row maximum first. Deterministic.
#pragma once

#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

namespace ember::ref {

// Forward: x, y [N] (softmax: [R,K], rows of K contiguous). y OVERWRITTEN; may alias x.
// Backward: y and d_y [N] (or [R,K]); d_x ACCUMULATED (+=); d_x must not alias y or d_y.
template <class T>
void relu_forward(const T* x, T* y, int64_t n);
template <class T>
void relu_backward(const T* y, const T* d_y, T* d_x, int64_t n);

template <class T>
void sigmoid_forward(const T* x, T* y, int64_t n);
template <class T>
void sigmoid_backward(const T* y, const T* d_y, T* d_x, int64_t n);

template <class T>
void tanh_forward(const T* x, T* y, int64_t n);
template <class T>
void tanh_backward(const T* y, const T* d_y, T* d_x, int64_t n);

// Row sums and the dot product <d_y, y> are accumulated in double.
template <class T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t classes);
template <class T>
void softmax_backward(const T* y, const T* d_y, T* d_x, int64_t rows, int64_t classes);

}  // namespace ember::ref

namespace ember::cuda {

// Same contracts as ref:: above, on device pointers, queued on `stream`. Elementwise kernels
// use the reference's formulas (sigmoid through exp(-|x|)); softmax runs one warp per row, the
// row maximum and the sums reduced by fixed warp trees in double, so results are deterministic.
template <class T>
void relu_forward(const T* x, T* y, int64_t n, cudaStream_t stream);
template <class T>
void relu_backward(const T* y, const T* d_y, T* d_x, int64_t n, cudaStream_t stream);
template <class T>
void sigmoid_forward(const T* x, T* y, int64_t n, cudaStream_t stream);
template <class T>
void sigmoid_backward(const T* y, const T* d_y, T* d_x, int64_t n, cudaStream_t stream);
template <class T>
void tanh_forward(const T* x, T* y, int64_t n, cudaStream_t stream);
template <class T>
void tanh_backward(const T* y, const T* d_y, T* d_x, int64_t n, cudaStream_t stream);
template <class T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t classes, cudaStream_t stream);
template <class T>
void softmax_backward(const T* y, const T* d_y, T* d_x, int64_t rows, int64_t classes,
                      cudaStream_t stream);

}  // namespace ember::cuda
