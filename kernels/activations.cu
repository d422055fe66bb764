// CUDA kernels for kernels/activations.h: one templated elementwise kernel per direction (the
// activation is a template parameter) and a warp-per-row softmax. Device exp/tanh differ from
// the host libm by an ulp or two, which the float tolerance covers; everything is elementwise
// or reduced in a fixed order, so results repeat bit for bit.
#include <type_traits>

#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "kernels/activations.h"

namespace ember::cuda {

namespace {

enum class Act { kRelu, kSigmoid, kTanh };

template <class T, Act A>
__global__ void activation_forward_kernel(const T* x, T* y, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    const T v = x[i];
    if constexpr (A == Act::kRelu) {
      y[i] = v > T(0) ? v : T(0);
    } else if constexpr (A == Act::kSigmoid) {
      if (v >= T(0)) {
        y[i] = T(1) / (T(1) + dev_exp(-v));
      } else {
        const T e = dev_exp(v);
        y[i] = e / (T(1) + e);
      }
    } else {
      y[i] = dev_tanh(v);
    }
  }
}

template <class T, Act A>
__global__ void activation_backward_kernel(const T* __restrict__ y, const T* __restrict__ d_y,
                                           T* __restrict__ d_x, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    const T v = y[i];
    if constexpr (A == Act::kRelu) {
      if (v > T(0)) d_x[i] += d_y[i];
    } else if constexpr (A == Act::kSigmoid) {
      d_x[i] += d_y[i] * v * (T(1) - v);
    } else {
      d_x[i] += d_y[i] * (T(1) - v * v);
    }
  }
}

constexpr int kRowsPerBlock = kBlockThreads / kWarp;

// One warp per row of K classes; lane l owns classes l, l+32, ... in every pass, so y may
// alias x.
template <class T>
__global__ void softmax_forward_kernel(const T* x, T* y, int64_t rows, int64_t classes) {
  const int64_t r = global_thread_index() / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (r >= rows) return;  // whole warps leave together
  const T* xr = x + r * classes;
  T* yr = y + r * classes;
  T mx = xr[0];
  for (int64_t k = lane; k < classes; k += kWarp) mx = xr[k] > mx ? xr[k] : mx;
  mx = warp_max(mx);
  double sum = 0.0;
  for (int64_t k = lane; k < classes; k += kWarp) {
    const T e = dev_exp(xr[k] - mx);
    yr[k] = e;
    sum += static_cast<double>(e);
  }
  sum = warp_sum(sum);
  const T inv = static_cast<T>(1.0 / sum);
  for (int64_t k = lane; k < classes; k += kWarp) yr[k] *= inv;
}

template <class T>
__global__ void softmax_backward_kernel(const T* __restrict__ y, const T* __restrict__ d_y,
                                        T* __restrict__ d_x, int64_t rows, int64_t classes) {
  const int64_t r = global_thread_index() / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (r >= rows) return;
  const T* yr = y + r * classes;
  const T* gr = d_y + r * classes;
  double dot = 0.0;
  for (int64_t k = lane; k < classes; k += kWarp)
    dot += static_cast<double>(gr[k]) * static_cast<double>(yr[k]);
  const T tdot = static_cast<T>(warp_sum(dot));
  for (int64_t k = lane; k < classes; k += kWarp) d_x[r * classes + k] += yr[k] * (gr[k] - tdot);
}

template <class T, Act A>
void launch_forward(const T* x, T* y, int64_t n, cudaStream_t stream, const char* op) {
  EMBER_CHECK_ARG(n >= 0, op << ": negative size " << n);
  if (n == 0) return;
  EMBER_LAUNCH((activation_forward_kernel<T, A>), grid_for(n), kBlockThreads, 0, stream, x, y, n);
  EMBER_CUDA_CHECK_LAUNCH(op);
}

template <class T, Act A>
void launch_backward(const T* y, const T* d_y, T* d_x, int64_t n, cudaStream_t stream,
                     const char* op) {
  EMBER_CHECK_ARG(n >= 0, op << ": negative size " << n);
  if (n == 0) return;
  EMBER_LAUNCH((activation_backward_kernel<T, A>), grid_for(n), kBlockThreads, 0, stream, y, d_y,
               d_x, n);
  EMBER_CUDA_CHECK_LAUNCH(op);
}

unsigned softmax_blocks(int64_t rows, int64_t classes, const char* op) {
  EMBER_CHECK_ARG(rows >= 0 && classes > 0, op << ": bad dims rows=" << rows << " K=" << classes);
  return static_cast<unsigned>(ceil_div(rows, kRowsPerBlock));
}

}  // namespace

// The elementwise activations' entry points: EMBER_ELEMENTWISE_ACTIVATION(name, Act) defines
// name_forward and name_backward over the kernels above.
#define EMBER_ELEMENTWISE_ACTIVATION(name, act)                                            \
  template <class T>                                                                       \
  void name##_forward(const T* x, T* y, int64_t n, cudaStream_t stream) {                  \
    launch_forward<T, act>(x, y, n, stream, #name "_forward_kernel");                      \
  }                                                                                        \
  template <class T>                                                                       \
  void name##_backward(const T* y, const T* d_y, T* d_x, int64_t n, cudaStream_t stream) { \
    launch_backward<T, act>(y, d_y, d_x, n, stream, #name "_backward_kernel");             \
  }
EMBER_ELEMENTWISE_ACTIVATION(relu, Act::kRelu)
EMBER_ELEMENTWISE_ACTIVATION(sigmoid, Act::kSigmoid)
EMBER_ELEMENTWISE_ACTIVATION(tanh, Act::kTanh)
#undef EMBER_ELEMENTWISE_ACTIVATION

template <class T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t classes, cudaStream_t stream) {
  const unsigned blocks = softmax_blocks(rows, classes, "cuda::softmax_forward");
  if (rows == 0) return;
  EMBER_LAUNCH(softmax_forward_kernel<T>, blocks, kBlockThreads, 0, stream, x, y, rows, classes);
  EMBER_CUDA_CHECK_LAUNCH("softmax_forward_kernel");
}

template <class T>
void softmax_backward(const T* y, const T* d_y, T* d_x, int64_t rows, int64_t classes,
                      cudaStream_t stream) {
  const unsigned blocks = softmax_blocks(rows, classes, "cuda::softmax_backward");
  if (rows == 0) return;
  EMBER_LAUNCH(softmax_backward_kernel<T>, blocks, kBlockThreads, 0, stream, y, d_y, d_x, rows,
               classes);
  EMBER_CUDA_CHECK_LAUNCH("softmax_backward_kernel");
}

#define EMBER_INSTANTIATE_ACTIVATIONS_CUDA(T)                                       \
  template void relu_forward<T>(const T*, T*, int64_t, cudaStream_t);               \
  template void relu_backward<T>(const T*, const T*, T*, int64_t, cudaStream_t);    \
  template void sigmoid_forward<T>(const T*, T*, int64_t, cudaStream_t);            \
  template void sigmoid_backward<T>(const T*, const T*, T*, int64_t, cudaStream_t); \
  template void tanh_forward<T>(const T*, T*, int64_t, cudaStream_t);               \
  template void tanh_backward<T>(const T*, const T*, T*, int64_t, cudaStream_t);    \
  template void softmax_forward<T>(const T*, T*, int64_t, int64_t, cudaStream_t);   \
  template void softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, cudaStream_t);
EMBER_INSTANTIATE_ACTIVATIONS_CUDA(float)
EMBER_INSTANTIATE_ACTIVATIONS_CUDA(double)
#undef EMBER_INSTANTIATE_ACTIVATIONS_CUDA

}  // namespace ember::cuda
