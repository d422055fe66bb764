// CUDA kernels for kernels/merge.h: concat is two strided copies, the other modes one
// elementwise kernel each way with the mode as a template parameter. Backward kernels only add,
// in the reference's order, so merge(x, x) (d_a == d_b) gives the reference's result.
#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "kernels/merge.h"

namespace ember::cuda {

namespace {

template <class T>
__global__ void merge_concat_forward_kernel(const T* __restrict__ a, const T* __restrict__ b,
                                            T* __restrict__ y, int64_t rows, int64_t width_a,
                                            int64_t width_b) {
  const int64_t width = width_a + width_b;
  for (int64_t i = global_thread_index(); i < rows * width; i += grid_stride()) {
    const int64_t r = i / width, k = i - r * width;
    y[i] = k < width_a ? a[r * width_a + k] : b[r * width_b + (k - width_a)];
  }
}

// d_part[r, k] += d_y[r, col0 + k] for a part of width `part` of the concatenated width.
template <class T>
__global__ void merge_concat_backward_kernel(const T* d_y, T* d_part, int64_t rows, int64_t width,
                                             int64_t col0, int64_t part) {
  for (int64_t i = global_thread_index(); i < rows * part; i += grid_stride()) {
    const int64_t r = i / part, k = i - r * part;
    d_part[i] += d_y[r * width + col0 + k];
  }
}

template <class T, MergeMode M>
__global__ void merge_elementwise_forward_kernel(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    if constexpr (M == MergeMode::kSum)
      y[i] = a[i] + b[i];
    else if constexpr (M == MergeMode::kMul)
      y[i] = a[i] * b[i];
    else
      y[i] = (a[i] + b[i]) * T(0.5);
  }
}

// d_a and d_b may be the same buffer (or null): one thread adds d_a's term, then d_b's.
template <class T, MergeMode M>
__global__ void merge_elementwise_backward_kernel(const T* a, const T* b, const T* d_y, T* d_a,
                                                  T* d_b, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    const T g = d_y[i];
    if constexpr (M == MergeMode::kMul) {
      if (d_a) d_a[i] += g * b[i];
      if (d_b) d_b[i] += g * a[i];
    } else {
      const T w = M == MergeMode::kAve ? T(0.5) : T(1);
      if (d_a) d_a[i] += w * g;
      if (d_b) d_b[i] += w * g;
    }
  }
}

template <class T, MergeMode M>
void launch_elementwise_forward(const T* a, const T* b, T* y, int64_t n, cudaStream_t stream) {
  EMBER_LAUNCH((merge_elementwise_forward_kernel<T, M>), grid_for(n), kBlockThreads, 0, stream, a,
               b, y, n);
  EMBER_CUDA_CHECK_LAUNCH("merge_elementwise_forward_kernel");
}

template <class T, MergeMode M>
void launch_elementwise_backward(const T* a, const T* b, const T* d_y, T* d_a, T* d_b, int64_t n,
                                 cudaStream_t stream) {
  EMBER_LAUNCH((merge_elementwise_backward_kernel<T, M>), grid_for(n), kBlockThreads, 0, stream, a,
               b, d_y, d_a, d_b, n);
  EMBER_CUDA_CHECK_LAUNCH("merge_elementwise_backward_kernel");
}

}  // namespace

template <class T>
void merge_concat_forward(const T* a, const T* b, T* y, int64_t rows, int64_t width_a,
                          int64_t width_b, cudaStream_t stream) {
  EMBER_CHECK_ARG(
      rows >= 0 && width_a >= 0 && width_b >= 0,
      "cuda::merge_concat_forward: bad dims R=" << rows << " Ha=" << width_a << " Hb=" << width_b);
  const int64_t n = rows * (width_a + width_b);
  if (n == 0) return;
  EMBER_LAUNCH(merge_concat_forward_kernel<T>, grid_for(n), kBlockThreads, 0, stream, a, b, y, rows,
               width_a, width_b);
  EMBER_CUDA_CHECK_LAUNCH("merge_concat_forward_kernel");
}

template <class T>
void merge_concat_backward(const T* d_y, T* d_a, T* d_b, int64_t rows, int64_t width_a,
                           int64_t width_b, cudaStream_t stream) {
  EMBER_CHECK_ARG(
      rows >= 0 && width_a >= 0 && width_b >= 0,
      "cuda::merge_concat_backward: bad dims R=" << rows << " Ha=" << width_a << " Hb=" << width_b);
  const int64_t width = width_a + width_b;
  if (d_a && rows * width_a > 0) {
    EMBER_LAUNCH(merge_concat_backward_kernel<T>, grid_for(rows * width_a), kBlockThreads, 0,
                 stream, d_y, d_a, rows, width, 0, width_a);
    EMBER_CUDA_CHECK_LAUNCH("merge_concat_backward_kernel (a)");
  }
  if (d_b && rows * width_b > 0) {
    EMBER_LAUNCH(merge_concat_backward_kernel<T>, grid_for(rows * width_b), kBlockThreads, 0,
                 stream, d_y, d_b, rows, width, width_a, width_b);
    EMBER_CUDA_CHECK_LAUNCH("merge_concat_backward_kernel (b)");
  }
}

template <class T>
void merge_elementwise_forward(MergeMode mode, const T* a, const T* b, T* y, int64_t n,
                               cudaStream_t stream) {
  EMBER_CHECK_ARG(n >= 0, "cuda::merge_elementwise_forward: negative size " << n);
  if (n == 0) return;
  switch (mode) {
    case MergeMode::kSum:
      return launch_elementwise_forward<T, MergeMode::kSum>(a, b, y, n, stream);
    case MergeMode::kMul:
      return launch_elementwise_forward<T, MergeMode::kMul>(a, b, y, n, stream);
    case MergeMode::kAve:
      return launch_elementwise_forward<T, MergeMode::kAve>(a, b, y, n, stream);
    case MergeMode::kConcat:
      break;
  }
  EMBER_CHECK_ARG(false, "cuda::merge_elementwise_forward: concat is not elementwise");
}

template <class T>
void merge_elementwise_backward(MergeMode mode, const T* a, const T* b, const T* d_y, T* d_a,
                                T* d_b, int64_t n, cudaStream_t stream) {
  EMBER_CHECK_ARG(n >= 0, "cuda::merge_elementwise_backward: negative size " << n);
  if (n == 0 || (!d_a && !d_b)) return;
  switch (mode) {
    case MergeMode::kSum:
      return launch_elementwise_backward<T, MergeMode::kSum>(a, b, d_y, d_a, d_b, n, stream);
    case MergeMode::kMul:
      EMBER_CHECK_ARG((!d_a || b) && (!d_b || a),
                      "cuda::merge_elementwise_backward: mul needs the forward inputs");
      return launch_elementwise_backward<T, MergeMode::kMul>(a, b, d_y, d_a, d_b, n, stream);
    case MergeMode::kAve:
      return launch_elementwise_backward<T, MergeMode::kAve>(a, b, d_y, d_a, d_b, n, stream);
    case MergeMode::kConcat:
      break;
  }
  EMBER_CHECK_ARG(false, "cuda::merge_elementwise_backward: concat is not elementwise");
}

#define EMBER_INSTANTIATE_MERGE_CUDA(T)                                                        \
  template void merge_concat_forward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t,     \
                                        cudaStream_t);                                         \
  template void merge_concat_backward<T>(const T*, T*, T*, int64_t, int64_t, int64_t,          \
                                         cudaStream_t);                                        \
  template void merge_elementwise_forward<T>(MergeMode, const T*, const T*, T*, int64_t,       \
                                             cudaStream_t);                                    \
  template void merge_elementwise_backward<T>(MergeMode, const T*, const T*, const T*, T*, T*, \
                                              int64_t, cudaStream_t);
EMBER_INSTANTIATE_MERGE_CUDA(float)
EMBER_INSTANTIATE_MERGE_CUDA(double)
#undef EMBER_INSTANTIATE_MERGE_CUDA

}  // namespace ember::cuda
