// CUDA kernels for kernels/pooling.h: one thread per (b, c), adjacent threads on adjacent
// channels so every step's reads are coalesced. The strict '>' keeps the first maximum, as the
// reference does, and the backward touches exactly one element per (b, c).
#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "kernels/pooling.h"

namespace ember::cuda {

namespace {

template <class T>
__global__ void global_max_pool1d_forward_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                 int32_t* __restrict__ argmax, int64_t batch,
                                                 int64_t steps, int64_t channels) {
  for (int64_t i = global_thread_index(); i < batch * channels; i += grid_stride()) {
    const int64_t b = i / channels, c = i - b * channels;
    const T* xb = x + b * steps * channels + c;
    T best = xb[0];
    int32_t at = 0;
    for (int64_t t = 1; t < steps; ++t) {
      const T v = xb[t * channels];
      if (v > best) {  // strict: ties keep the first maximum; NaN never wins
        best = v;
        at = static_cast<int32_t>(t);
      }
    }
    y[i] = best;
    argmax[i] = at;
  }
}

template <class T>
__global__ void global_max_pool1d_backward_kernel(const T* __restrict__ d_y,
                                                  const int32_t* __restrict__ argmax,
                                                  T* __restrict__ d_x, int64_t batch, int64_t steps,
                                                  int64_t channels) {
  for (int64_t i = global_thread_index(); i < batch * channels; i += grid_stride()) {
    const int64_t b = i / channels, c = i - b * channels;
    const int64_t t = argmax[i];
    if (t < 0 || t >= steps) continue;  // not an argmax from the forward; never out of bounds
    d_x[(b * steps + t) * channels + c] += d_y[i];
  }
}

void check_dims(int64_t batch, int64_t steps, int64_t channels, const char* op) {
  EMBER_CHECK_ARG(
      batch >= 0 && steps >= 1 && channels >= 0 && steps <= INT32_MAX,
      op << ": bad dims B=" << batch << " T=" << steps << " C=" << channels << " (T >= 1)");
}

}  // namespace

template <class T>
void global_max_pool1d_forward(const T* x, T* y, int32_t* argmax, int64_t batch, int64_t steps,
                               int64_t channels, cudaStream_t stream) {
  check_dims(batch, steps, channels, "cuda::global_max_pool1d_forward");
  if (batch * channels == 0) return;
  EMBER_LAUNCH(global_max_pool1d_forward_kernel<T>, grid_for(batch * channels), kBlockThreads, 0,
               stream, x, y, argmax, batch, steps, channels);
  EMBER_CUDA_CHECK_LAUNCH("global_max_pool1d_forward_kernel");
}

template <class T>
void global_max_pool1d_backward(const T* d_y, const int32_t* argmax, T* d_x, int64_t batch,
                                int64_t steps, int64_t channels, cudaStream_t stream) {
  check_dims(batch, steps, channels, "cuda::global_max_pool1d_backward");
  if (batch * channels == 0) return;
  EMBER_LAUNCH(global_max_pool1d_backward_kernel<T>, grid_for(batch * channels), kBlockThreads, 0,
               stream, d_y, argmax, d_x, batch, steps, channels);
  EMBER_CUDA_CHECK_LAUNCH("global_max_pool1d_backward_kernel");
}

#define EMBER_INSTANTIATE_POOLING_CUDA(T)                                                       \
  template void global_max_pool1d_forward<T>(const T*, T*, int32_t*, int64_t, int64_t, int64_t, \
                                             cudaStream_t);                                     \
  template void global_max_pool1d_backward<T>(const T*, const int32_t*, T*, int64_t, int64_t,   \
                                              int64_t, cudaStream_t);
EMBER_INSTANTIATE_POOLING_CUDA(float)
EMBER_INSTANTIATE_POOLING_CUDA(double)
#undef EMBER_INSTANTIATE_POOLING_CUDA

}  // namespace ember::cuda
