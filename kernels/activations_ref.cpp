// CPU reference for kernels/activations.h: plain elementwise loops, softmax one row at a time.
// Sums over a row (softmax normalizer, the <d_y, y> of its backward) are kept in double so the
// float32 reference stays close to the float64 one; each backward reads only the outputs y.
#include "kernels/activations.h"

#include <cmath>

namespace ember::ref {

template <class T>
void relu_forward(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <class T>
void relu_backward(const T* y, const T* d_y, T* d_x, int64_t n) {
  // y > 0 exactly where x > 0; at x = 0 the gradient is 0 (as in TensorFlow).
  for (int64_t i = 0; i < n; ++i)
    if (y[i] > T(0)) d_x[i] += d_y[i];
}

template <class T>
void sigmoid_forward(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    // exp only of -|x|: no overflow at either tail, full relative precision near 0 and 1.
    if (x[i] >= T(0)) {
      y[i] = T(1) / (T(1) + std::exp(-x[i]));
    } else {
      const T e = std::exp(x[i]);
      y[i] = e / (T(1) + e);
    }
  }
}

template <class T>
void sigmoid_backward(const T* y, const T* d_y, T* d_x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d_x[i] += d_y[i] * y[i] * (T(1) - y[i]);
}

template <class T>
void tanh_forward(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

template <class T>
void tanh_backward(const T* y, const T* d_y, T* d_x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d_x[i] += d_y[i] * (T(1) - y[i] * y[i]);
}

template <class T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t classes) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * classes;
    T* yr = y + r * classes;
    T mx = xr[0];
    for (int64_t k = 1; k < classes; ++k) mx = xr[k] > mx ? xr[k] : mx;
    double sum = 0.0;
    for (int64_t k = 0; k < classes; ++k) {
      yr[k] = std::exp(xr[k] - mx);  // <= 1, and the max term is exactly 1: sum >= 1
      sum += static_cast<double>(yr[k]);
    }
    const T inv = static_cast<T>(1.0 / sum);
    for (int64_t k = 0; k < classes; ++k) yr[k] *= inv;
  }
}

template <class T>
void softmax_backward(const T* y, const T* d_y, T* d_x, int64_t rows, int64_t classes) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* yr = y + r * classes;
    const T* gr = d_y + r * classes;
    double dot = 0.0;
    for (int64_t k = 0; k < classes; ++k) dot += static_cast<double>(gr[k]) * yr[k];
    const T tdot = static_cast<T>(dot);
    for (int64_t k = 0; k < classes; ++k) d_x[r * classes + k] += yr[k] * (gr[k] - tdot);
  }
}

#define EMBER_INSTANTIATE_ACTIVATIONS(T)                              \
  template void relu_forward<T>(const T*, T*, int64_t);               \
  template void relu_backward<T>(const T*, const T*, T*, int64_t);    \
  template void sigmoid_forward<T>(const T*, T*, int64_t);            \
  template void sigmoid_backward<T>(const T*, const T*, T*, int64_t); \
  template void tanh_forward<T>(const T*, T*, int64_t);               \
  template void tanh_backward<T>(const T*, const T*, T*, int64_t);    \
  template void softmax_forward<T>(const T*, T*, int64_t, int64_t);   \
  template void softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t);
EMBER_INSTANTIATE_ACTIVATIONS(float)
EMBER_INSTANTIATE_ACTIVATIONS(double)
#undef EMBER_INSTANTIATE_ACTIVATIONS

}  // namespace ember::ref
