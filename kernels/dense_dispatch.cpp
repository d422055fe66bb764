// See dense_dispatch.h: each entry point forwards to ref:: or cuda:: through EMBER_BACKEND.
// The activation switch lives here once, so fn::activation has one body for both backends.
#include "kernels/dense_dispatch.h"

#include "kernels/activations.h"
#include "kernels/dense.h"
#include "kernels/op_kinds.h"

namespace ember::kern {

size_t dense_backward_workspace_bytes(const Exec& ex, int64_t rows, int64_t units) {
  size_t bytes = 0;
  EMBER_BACKEND(ex, (void)rows, bytes = cuda::dense_backward_workspace_bytes(rows, units));
  (void)units;
  return bytes;
}

template <class T>
void dense_forward(const Exec& ex, const T* x, const T* kernel, const T* bias, T* y, int64_t rows,
                   int64_t in_features, int64_t units) {
  EMBER_BACKEND(
      ex, ref::dense_forward<T>(x, kernel, bias, y, rows, in_features, units),
      cuda::dense_forward<T>(ex.cublas(), x, kernel, bias, y, rows, in_features, units, ex.stream));
}

template <class T>
void dense_backward(const Exec& ex, const T* x, const T* kernel, const T* d_y, T* d_x, T* d_kernel,
                    T* d_bias, int64_t rows, int64_t in_features, int64_t units, void* workspace,
                    size_t workspace_bytes) {
  EMBER_BACKEND(
      ex, ref::dense_backward<T>(x, kernel, d_y, d_x, d_kernel, d_bias, rows, in_features, units),
      cuda::dense_backward<T>(ex.cublas(), x, kernel, d_y, d_x, d_kernel, d_bias, rows, in_features,
                              units, workspace, workspace_bytes, ex.stream));
  (void)workspace;
  (void)workspace_bytes;
}

template <class T>
void activation_forward(const Exec& ex, fn::Activation a, const T* x, T* y, int64_t n,
                        int64_t classes) {
  switch (a) {
    case fn::Activation::kRelu:
      EMBER_BACKEND(ex, ref::relu_forward<T>(x, y, n), cuda::relu_forward<T>(x, y, n, ex.stream));
      break;
    case fn::Activation::kSigmoid:
      EMBER_BACKEND(ex, ref::sigmoid_forward<T>(x, y, n),
                    cuda::sigmoid_forward<T>(x, y, n, ex.stream));
      break;
    case fn::Activation::kTanh:
      EMBER_BACKEND(ex, ref::tanh_forward<T>(x, y, n), cuda::tanh_forward<T>(x, y, n, ex.stream));
      break;
    case fn::Activation::kSoftmax:
      EMBER_BACKEND(ex, ref::softmax_forward<T>(x, y, n / classes, classes),
                    cuda::softmax_forward<T>(x, y, n / classes, classes, ex.stream));
      break;
    case fn::Activation::kLinear:
      break;
  }
}

template <class T>
void activation_backward(const Exec& ex, fn::Activation a, const T* y, const T* d_y, T* d_x,
                         int64_t n, int64_t classes) {
  switch (a) {
    case fn::Activation::kRelu:
      EMBER_BACKEND(ex, ref::relu_backward<T>(y, d_y, d_x, n),
                    cuda::relu_backward<T>(y, d_y, d_x, n, ex.stream));
      break;
    case fn::Activation::kSigmoid:
      EMBER_BACKEND(ex, ref::sigmoid_backward<T>(y, d_y, d_x, n),
                    cuda::sigmoid_backward<T>(y, d_y, d_x, n, ex.stream));
      break;
    case fn::Activation::kTanh:
      EMBER_BACKEND(ex, ref::tanh_backward<T>(y, d_y, d_x, n),
                    cuda::tanh_backward<T>(y, d_y, d_x, n, ex.stream));
      break;
    case fn::Activation::kSoftmax:
      EMBER_BACKEND(ex, ref::softmax_backward<T>(y, d_y, d_x, n / classes, classes),
                    cuda::softmax_backward<T>(y, d_y, d_x, n / classes, classes, ex.stream));
      break;
    case fn::Activation::kLinear:
      break;
  }
}

#define EMBER_INSTANTIATE(T)                                                                      \
  template void dense_forward<T>(const Exec&, const T*, const T*, const T*, T*, int64_t, int64_t, \
                                 int64_t);                                                        \
  template void dense_backward<T>(const Exec&, const T*, const T*, const T*, T*, T*, T*, int64_t, \
                                  int64_t, int64_t, void*, size_t);                               \
  template void activation_forward<T>(const Exec&, fn::Activation, const T*, T*, int64_t,         \
                                      int64_t);                                                   \
  template void activation_backward<T>(const Exec&, fn::Activation, const T*, const T*, T*,       \
                                       int64_t, int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::kern
