// Kernels for engine/cuda/tensor_ops.h.
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "engine/cuda/tensor_ops.h"

namespace ember::cuda {

namespace {
constexpr int kThreads = kBlockThreads;

template <class T>
__global__ void axpy_kernel(T* dst, T a, const T* x, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) dst[i] += a * x[i];
}

template <class T>
__global__ void scale_kernel(T* dst, T a, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) dst[i] *= a;
}

template <class T>
__global__ void sum_squares_partial_kernel(const T* x, int64_t n, double* partials) {
  double acc = 0;
  for (int64_t i = global_thread_index(); i < n; i += grid_stride())
    acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  EMBER_SHARED(double, scratch, kThreads / kWarp);
  const double total = block_sum<kThreads>(acc, scratch);  // fixed order: reproducible
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void sum_partials_kernel(const double* partials, int n, double* out) {
  double acc = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) acc += partials[i];
  EMBER_SHARED(double, scratch, kThreads / kWarp);
  const double total = block_sum<kThreads>(acc, scratch);
  if (threadIdx.x == 0) *out = total;
}

}  // namespace

template <class T>
void axpy(T* dst, T a, const T* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  EMBER_LAUNCH(axpy_kernel<T>, grid_for(n, kThreads, 4096), kThreads, 0, stream, dst, a, x, n);
  EMBER_CUDA_CHECK_LAUNCH("axpy_kernel");
}

template <class T>
void scale(T* dst, T a, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  EMBER_LAUNCH(scale_kernel<T>, grid_for(n, kThreads, 4096), kThreads, 0, stream, dst, a, n);
  EMBER_CUDA_CHECK_LAUNCH("scale_kernel");
}

template <class T>
void sum_squares(const T* x, int64_t n, double* partials, double* out, cudaStream_t stream) {
  EMBER_LAUNCH(sum_squares_partial_kernel<T>, kSumSquaresBlocks, kThreads, 0, stream, x, n,
               partials);
  EMBER_CUDA_CHECK_LAUNCH("sum_squares_partial_kernel");
  EMBER_LAUNCH(sum_partials_kernel, 1, kThreads, 0, stream, partials, kSumSquaresBlocks, out);
  EMBER_CUDA_CHECK_LAUNCH("sum_partials_kernel");
}

template void axpy<float>(float*, float, const float*, int64_t, cudaStream_t);
template void axpy<double>(double*, double, const double*, int64_t, cudaStream_t);
template void scale<float>(float*, float, int64_t, cudaStream_t);
template void scale<double>(double*, double, int64_t, cudaStream_t);
template void sum_squares<float>(const float*, int64_t, double*, double*, cudaStream_t);
template void sum_squares<double>(const double*, int64_t, double*, double*, cudaStream_t);

}  // namespace ember::cuda
