// See merge_dispatch.h: each entry point forwards to ref:: or cuda:: through EMBER_BACKEND.
#include "kernels/merge_dispatch.h"

namespace ember::kern {

template <class T>
void merge_concat_forward(const Exec& ex, const T* a, const T* b, T* y, int64_t rows,
                          int64_t width_a, int64_t width_b) {
  EMBER_BACKEND(ex, ref::merge_concat_forward<T>(a, b, y, rows, width_a, width_b),
                cuda::merge_concat_forward<T>(a, b, y, rows, width_a, width_b, ex.stream));
}

template <class T>
void merge_concat_backward(const Exec& ex, const T* d_y, T* d_a, T* d_b, int64_t rows,
                           int64_t width_a, int64_t width_b) {
  EMBER_BACKEND(ex, ref::merge_concat_backward<T>(d_y, d_a, d_b, rows, width_a, width_b),
                cuda::merge_concat_backward<T>(d_y, d_a, d_b, rows, width_a, width_b, ex.stream));
}

template <class T>
void merge_elementwise_forward(const Exec& ex, MergeMode mode, const T* a, const T* b, T* y,
                               int64_t n) {
  EMBER_BACKEND(ex, ref::merge_elementwise_forward<T>(mode, a, b, y, n),
                cuda::merge_elementwise_forward<T>(mode, a, b, y, n, ex.stream));
}

template <class T>
void merge_elementwise_backward(const Exec& ex, MergeMode mode, const T* a, const T* b,
                                const T* d_y, T* d_a, T* d_b, int64_t n) {
  EMBER_BACKEND(ex, ref::merge_elementwise_backward<T>(mode, a, b, d_y, d_a, d_b, n),
                cuda::merge_elementwise_backward<T>(mode, a, b, d_y, d_a, d_b, n, ex.stream));
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void merge_concat_forward<T>(const Exec&, const T*, const T*, T*, int64_t, int64_t, \
                                        int64_t);                                              \
  template void merge_concat_backward<T>(const Exec&, const T*, T*, T*, int64_t, int64_t,      \
                                         int64_t);                                             \
  template void merge_elementwise_forward<T>(const Exec&, MergeMode, const T*, const T*, T*,   \
                                             int64_t);                                         \
  template void merge_elementwise_backward<T>(const Exec&, MergeMode, const T*, const T*,      \
                                              const T*, T*, T*, int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::kern
