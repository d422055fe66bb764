// Dense (fully connected) layer: y = x kernel + bias, row-major, through ember::blas::gemm.
// Dims: N rows (B, or B*T for a [B,T,C] input applied at every step), C input features,
// U units. The kernel is Keras's layout [C,U], so x [N,C] times kernel needs no transpose.
// Deterministic as far as the BLAS is (OpenBLAS with a fixed thread count is).
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

// cuBLAS's handle type, declared as cublas_api.h does, so this header stays CUDA-free.
struct cublasContext;
typedef struct cublasContext* cublasHandle_t;

namespace ember::ref {

// x [N,C], kernel [C,U], bias [U] or null -> y [N,U] OVERWRITTEN. y must not alias x/kernel.
template <class T>
void dense_forward(const T* x, const T* kernel, const T* bias, T* y, int64_t rows,
                   int64_t in_features, int64_t units);

// Given d_y [N,U] and the forward inputs x [N,C], kernel [C,U]:
//   d_x      [N,C] ACCUMULATED (+=) d_y kernel^T   (skipped when null)
//   d_kernel [C,U] ACCUMULATED (+=) x^T d_y        (skipped when null)
//   d_bias   [U]   ACCUMULATED (+=) sum over rows of d_y, in double (skipped when null)
// The two products are gemm calls with beta = 1, so nothing is overwritten.
template <class T>
void dense_backward(const T* x, const T* kernel, const T* d_y, T* d_x, T* d_kernel, T* d_bias,
                    int64_t rows, int64_t in_features, int64_t units);

}  // namespace ember::ref

namespace ember::cuda {

// Same contracts as ref:: above, on device pointers. The products are cuBLAS gemm calls
// (sgemm/dgemm, default math mode: no TF32) on `handle`, which must be bound to `stream` (the
// context's handle is bound to the context's stream); the bias broadcast and the bias gradient
// are Ember kernels on `stream`. Row-major products go through cuBLAS's column-major API as
// C^T = B^T A^T, so nothing is transposed in memory.
//   forward: y = bias (broadcast) then y += x kernel (beta = 1); without bias beta = 0.
//   backward: d_x += d_y kernel^T, d_kernel += x^T d_y (beta = 1), each skipped when null;
//     d_bias += column sums of d_y, deterministic: fixed chunks of kDenseBiasRows rows give
//     partial sums in double (workspace), then one ordered pass per unit adds them.
// `workspace`: dense_backward_workspace_bytes(rows, units) bytes of device scratch (may be
// null when d_bias is null). Deterministic on a given GPU and cuBLAS version.
constexpr int64_t kDenseBiasRows = 256;
size_t dense_backward_workspace_bytes(int64_t rows, int64_t units);
template <class T>
void dense_forward(cublasHandle_t handle, const T* x, const T* kernel, const T* bias, T* y,
                   int64_t rows, int64_t in_features, int64_t units, cudaStream_t stream);
template <class T>
void dense_backward(cublasHandle_t handle, const T* x, const T* kernel, const T* d_y, T* d_x,
                    T* d_kernel, T* d_bias, int64_t rows, int64_t in_features, int64_t units,
                    void* workspace, size_t workspace_bytes, cudaStream_t stream);

}  // namespace ember::cuda
