// CPU reference for kernels/dense.h: two gemm calls (beta = 1, so gradients accumulate) and a
// bias loop. The forward seeds y with the bias and lets gemm add x kernel on top, which saves a
// second pass over y. Rows are B or B*T; the caller flattens a [B,T,C] input.
#include "kernels/dense.h"

#include <cstddef>
#include <vector>

#include "engine/core/blas.h"

namespace ember::ref {

template <class T>
void dense_forward(const T* x, const T* kernel, const T* bias, T* y, int64_t rows,
                   int64_t in_features, int64_t units) {
  // Fill y with the bias (or zeros), then y += x kernel with beta = 1.
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) y[r * units + u] = bias ? bias[u] : T(0);
  blas::gemm<T>(false, false, rows, units, in_features, T(1), x, in_features, kernel, units, T(1),
                y, units);
}

template <class T>
void dense_backward(const T* x, const T* kernel, const T* d_y, T* d_x, T* d_kernel, T* d_bias,
                    int64_t rows, int64_t in_features, int64_t units) {
  if (d_x)  // [N,C] += [N,U] x [C,U]^T
    blas::gemm<T>(false, true, rows, in_features, units, T(1), d_y, units, kernel, units, T(1), d_x,
                  in_features);
  if (d_kernel)  // [C,U] += [N,C]^T x [N,U]
    blas::gemm<T>(true, false, in_features, units, rows, T(1), x, in_features, d_y, units, T(1),
                  d_kernel, units);
  if (d_bias) {
    std::vector<double> acc(static_cast<size_t>(units), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t u = 0; u < units; ++u) acc[u] += static_cast<double>(d_y[r * units + u]);
    for (int64_t u = 0; u < units; ++u) d_bias[u] += static_cast<T>(acc[u]);
  }
}

template void dense_forward<float>(const float*, const float*, const float*, float*, int64_t,
                                   int64_t, int64_t);
template void dense_forward<double>(const double*, const double*, const double*, double*, int64_t,
                                    int64_t, int64_t);
template void dense_backward<float>(const float*, const float*, const float*, float*, float*,
                                    float*, int64_t, int64_t, int64_t);
template void dense_backward<double>(const double*, const double*, const double*, double*, double*,
                                     double*, int64_t, int64_t, int64_t);

}  // namespace ember::ref
