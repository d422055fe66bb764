// Layout kernels of the cuDNN LSTM path (declared in kernels/lstm/lstm_cuda.h): gathering the real
// steps of every sequence into cuDNN's left-aligned [B, L, *] buffers and back, and converting
// Keras's [K, 4H] gate matrices to cuDNN's per-gate [H, K] ones and back. Each thread owns its
// destination elements, so no atomics are needed and results repeat bit for bit.
#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "engine/cuda/launch.cuh"
#include "kernels/lstm/lstm_cuda.h"

namespace ember::cuda {

namespace {

template <class T>
__global__ void gather_time_rows_kernel(const T* src, int64_t ns, const int32_t* map, T* dst,
                                        int64_t nb, int64_t nk, int64_t n) {
  const int64_t i = global_thread_index();
  if (i >= nb * nk * n) return;
  const int64_t e = i % n, bk = i / n, b = bk / nk;
  const int32_t from = map[bk];
  dst[i] = from >= 0 ? src[(b * ns + from) * n + e] : T(0);
}

template <class T>
__global__ void scatter_add_time_rows_kernel(const T* src, int64_t nk, const int32_t* map,
                                             const T* factor, T* dst, int64_t ns, int64_t nb,
                                             int64_t n) {
  const int64_t i = global_thread_index();
  if (i >= nb * nk * n) return;
  const int64_t e = i % n, bk = i / n, b = bk / nk;
  const int32_t to = map[bk];
  if (to < 0) return;
  T v = src[i];
  if (factor) {
    const T f = factor[b * n + e];
    if (f == T(0)) return;
    v *= f;
  }
  dst[(b * ns + to) * n + e] += v;
}

// One thread per (b, e): walks the source rows in order, so each sum has a fixed order.
template <class T>
__global__ void sum_time_rows_kernel(const T* src, int64_t np, const int32_t* map, T* dst,
                                     int64_t nk, int64_t nb, int64_t n) {
  const int64_t i = global_thread_index();
  if (i >= nb * n) return;
  const int64_t e = i % n, b = i / n;
  T* d = dst + b * nk * n + e;
  for (int64_t k = 0; k < nk; ++k) d[k * n] = T(0);
  const T* s = src + b * np * n + e;
  for (int64_t p = 0; p < np; ++p) {
    const int32_t to = map[b * np + p];
    if (to >= 0) d[to * n] += s[p * n];
  }
}

// Thread i owns Keras element i = (k, qH + h) and the one cuDNN element it maps to.
template <class T, bool kToCudnn>
__global__ void keras_cudnn_kernel(const T* src, T* dst, CudnnGateBlocks blk, int64_t nk,
                                   int64_t nh) {
  const int64_t i = global_thread_index();
  const int64_t ng = 4 * nh;
  if (i >= nk * ng) return;
  const int64_t k = i / ng, col = i - k * ng, q = col / nh, h = col - q * nh;
  const int64_t at = blk.offset[q] + h * blk.stride_unit + k * blk.stride_in;
  if (kToCudnn)
    dst[at] = src ? src[i] : T(0);  // src: Keras, dst: cuDNN space
  else
    dst[i] += src[at];  // src: cuDNN space, dst: Keras
}

}  // namespace

template <class T>
void gather_time_rows(const T* src, int64_t ns, const int32_t* src_map, T* dst, int64_t nb,
                      int64_t nk, int64_t n, cudaStream_t stream) {
  const int64_t total = nb * nk * n;
  if (total <= 0) return;
  EMBER_LAUNCH(gather_time_rows_kernel<T>, blocks_for(total), kBlockThreads, 0, stream, src, ns,
               src_map, dst, nb, nk, n);
  EMBER_CUDA_CHECK_LAUNCH("gather_time_rows_kernel");
}

template <class T>
void scatter_add_time_rows(const T* src, int64_t nk, const int32_t* src_map, const T* factor,
                           T* dst, int64_t ns, int64_t nb, int64_t n, cudaStream_t stream) {
  const int64_t total = nb * nk * n;
  if (total <= 0) return;
  EMBER_LAUNCH(scatter_add_time_rows_kernel<T>, blocks_for(total), kBlockThreads, 0, stream, src,
               nk, src_map, factor, dst, ns, nb, n);
  EMBER_CUDA_CHECK_LAUNCH("scatter_add_time_rows_kernel");
}

template <class T>
void sum_time_rows(const T* src, int64_t np, const int32_t* map, T* dst, int64_t nk, int64_t nb,
                   int64_t n, cudaStream_t stream) {
  const int64_t total = nb * n;
  if (total <= 0) return;
  EMBER_LAUNCH(sum_time_rows_kernel<T>, blocks_for(total), kBlockThreads, 0, stream, src, np, map,
               dst, nk, nb, n);
  EMBER_CUDA_CHECK_LAUNCH("sum_time_rows_kernel");
}

template <class T>
void keras_to_cudnn(const T* w, T* space, const CudnnGateBlocks& blocks, int64_t k, int64_t h,
                    cudaStream_t stream) {
  const int64_t total = k * 4 * h;
  if (total <= 0) return;
  EMBER_LAUNCH((keras_cudnn_kernel<T, true>), blocks_for(total), kBlockThreads, 0, stream, w, space,
               blocks, k, h);
  EMBER_CUDA_CHECK_LAUNCH("keras_cudnn_kernel (to cuDNN)");
}

template <class T>
void cudnn_to_keras_add(const T* space, T* w, const CudnnGateBlocks& blocks, int64_t k, int64_t h,
                        cudaStream_t stream) {
  EMBER_CHECK_ARG(w, "cudnn_to_keras_add: the Keras gradient must not be null");
  const int64_t total = k * 4 * h;
  if (total <= 0) return;
  EMBER_LAUNCH((keras_cudnn_kernel<T, false>), blocks_for(total), kBlockThreads, 0, stream, space,
               w, blocks, k, h);
  EMBER_CUDA_CHECK_LAUNCH("keras_cudnn_kernel (to Keras)");
}

#define EMBER_INSTANTIATE_LAYOUT(T)                                                                \
  template void gather_time_rows<T>(const T*, int64_t, const int32_t*, T*, int64_t, int64_t,       \
                                    int64_t, cudaStream_t);                                        \
  template void scatter_add_time_rows<T>(const T*, int64_t, const int32_t*, const T*, T*, int64_t, \
                                         int64_t, int64_t, cudaStream_t);                          \
  template void sum_time_rows<T>(const T*, int64_t, const int32_t*, T*, int64_t, int64_t, int64_t, \
                                 cudaStream_t);                                                    \
  template void keras_to_cudnn<T>(const T*, T*, const CudnnGateBlocks&, int64_t, int64_t,          \
                                  cudaStream_t);                                                   \
  template void cudnn_to_keras_add<T>(const T*, T*, const CudnnGateBlocks&, int64_t, int64_t,      \
                                      cudaStream_t);
EMBER_INSTANTIATE_LAYOUT(float)
EMBER_INSTANTIATE_LAYOUT(double)
#undef EMBER_INSTANTIATE_LAYOUT

}  // namespace ember::cuda
