// Dense (fully connected) layer: y = x kernel + bias, row-major, through ember::blas::gemm.
// Dims: N rows (B, or B*T for a [B,T,C] input applied at every step), C input features,
// U units. The kernel is Keras's layout [C,U], so x [N,C] times kernel needs no transpose.
// Deterministic as far as the BLAS is (OpenBLAS with a fixed thread count is).
#pragma once

#include <cstdint>

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
