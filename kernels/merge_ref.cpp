// CPU reference for kernels/merge.h: concat copies row slices, the other modes are elementwise
// loops. Backward functions only ever add, so d_a and d_b may be the same buffer (merge(x, x))
// and both contributions land.
#include "kernels/merge.h"

#include "engine/core/check.h"

namespace ember::ref {

template <class T>
void merge_concat_forward(const T* a, const T* b, T* y, int64_t rows, int64_t width_a,
                          int64_t width_b) {
  const int64_t width = width_a + width_b;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < width_a; ++k) y[r * width + k] = a[r * width_a + k];
    for (int64_t k = 0; k < width_b; ++k) y[r * width + width_a + k] = b[r * width_b + k];
  }
}

template <class T>
void merge_concat_backward(const T* d_y, T* d_a, T* d_b, int64_t rows, int64_t width_a,
                           int64_t width_b) {
  const int64_t width = width_a + width_b;
  for (int64_t r = 0; r < rows; ++r) {
    if (d_a)
      for (int64_t k = 0; k < width_a; ++k) d_a[r * width_a + k] += d_y[r * width + k];
    if (d_b)
      for (int64_t k = 0; k < width_b; ++k) d_b[r * width_b + k] += d_y[r * width + width_a + k];
  }
}

template <class T>
void merge_elementwise_forward(MergeMode mode, const T* a, const T* b, T* y, int64_t n) {
  switch (mode) {
    case MergeMode::kSum:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
      return;
    case MergeMode::kMul:
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
      return;
    case MergeMode::kAve:
      for (int64_t i = 0; i < n; ++i) y[i] = (a[i] + b[i]) * T(0.5);
      return;
    case MergeMode::kConcat:
      break;
  }
  EMBER_CHECK(false, "merge_elementwise_forward: concat is not elementwise");
}

template <class T>
void merge_elementwise_backward(MergeMode mode, const T* a, const T* b, const T* d_y, T* d_a,
                                T* d_b, int64_t n) {
  switch (mode) {
    case MergeMode::kSum:
    case MergeMode::kAve: {
      const T w = mode == MergeMode::kAve ? T(0.5) : T(1);
      for (int64_t i = 0; i < n; ++i) {
        if (d_a) d_a[i] += w * d_y[i];
        if (d_b) d_b[i] += w * d_y[i];
      }
      return;
    }
    case MergeMode::kMul:
      for (int64_t i = 0; i < n; ++i) {
        if (d_a) d_a[i] += d_y[i] * b[i];
        if (d_b) d_b[i] += d_y[i] * a[i];
      }
      return;
    case MergeMode::kConcat:
      break;
  }
  EMBER_CHECK(false, "merge_elementwise_backward: concat is not elementwise");
}

#define EMBER_INSTANTIATE_MERGE(T)                                                             \
  template void merge_concat_forward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);    \
  template void merge_concat_backward<T>(const T*, T*, T*, int64_t, int64_t, int64_t);         \
  template void merge_elementwise_forward<T>(MergeMode, const T*, const T*, T*, int64_t);      \
  template void merge_elementwise_backward<T>(MergeMode, const T*, const T*, const T*, T*, T*, \
                                              int64_t);
EMBER_INSTANTIATE_MERGE(float)
EMBER_INSTANTIATE_MERGE(double)
#undef EMBER_INSTANTIATE_MERGE

}  // namespace ember::ref
