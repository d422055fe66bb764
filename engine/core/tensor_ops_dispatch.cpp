// See tensor_ops_dispatch.h. The CPU loops are the ones engine/core/tensor_ops.cpp always ran
// (same order of float operations); the CUDA side adds the read-back of sum_squares, whose
// runtime calls are why this file alone includes cuda_runtime.h.
#include "engine/core/tensor_ops_dispatch.h"

#ifdef EMBER_HAVE_CUDA
#include <cuda_runtime.h>

#include "engine/cuda/check.h"
#include "engine/cuda/tensor_ops.h"
#endif

namespace ember::kern {

namespace {

template <class T>
void axpy_host(T* d, T a, const T* s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] += a * s[i];
}

template <class T>
void scale_host(T* d, T a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] *= a;
}

template <class T>
double sum_squares_host(const T* d, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(d[i]) * d[i];
  return s;
}

#ifdef EMBER_HAVE_CUDA
template <class T>
double sum_squares_device(const Exec& ex, const T* x, int64_t n, double* p) {
  cuda::sum_squares<T>(x, n, p, p + cuda::kSumSquaresBlocks, ex.stream);
  double out = 0;
  EMBER_CUDA_CHECK(cudaMemcpyAsync(&out, p + cuda::kSumSquaresBlocks, sizeof(double),
                                   cudaMemcpyDeviceToHost, ex.stream));
  EMBER_CUDA_CHECK(cudaStreamSynchronize(ex.stream));
  return out;
}
#endif

}  // namespace

template <class T>
void axpy(const Exec& ex, T* dst, T a, const T* x, int64_t n) {
  EMBER_BACKEND(ex, axpy_host<T>(dst, a, x, n), cuda::axpy<T>(dst, a, x, n, ex.stream));
}

template <class T>
void scale(const Exec& ex, T* dst, T a, int64_t n) {
  EMBER_BACKEND(ex, scale_host<T>(dst, a, n), cuda::scale<T>(dst, a, n, ex.stream));
}

template <class T>
double sum_squares(const Exec& ex, const T* x, int64_t n, double* partials) {
  double s = 0;
  EMBER_BACKEND(ex, s = sum_squares_host<T>(x, n), s = sum_squares_device<T>(ex, x, n, partials));
  (void)partials;
  return s;
}

int64_t sum_squares_scratch(const Exec& ex) {
  int64_t n = 0;
  EMBER_BACKEND(ex, (void)0, n = cuda::kSumSquaresBlocks + 1);
  return n;
}

#define EMBER_INSTANTIATE(T)                                    \
  template void axpy<T>(const Exec&, T*, T, const T*, int64_t); \
  template void scale<T>(const Exec&, T*, T, int64_t);          \
  template double sum_squares<T>(const Exec&, const T*, int64_t, double*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::kern
