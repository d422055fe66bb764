// See pooling_dispatch.h: each entry point forwards to ref:: or cuda:: through EMBER_BACKEND.
#include "kernels/pooling_dispatch.h"

namespace ember::kern {

template <class T>
void global_max_pool1d_forward(const Exec& ex, const T* x, T* y, int32_t* argmax, int64_t batch,
                               int64_t steps, int64_t channels) {
  EMBER_BACKEND(
      ex, ref::global_max_pool1d_forward<T>(x, y, argmax, batch, steps, channels),
      cuda::global_max_pool1d_forward<T>(x, y, argmax, batch, steps, channels, ex.stream));
}

template <class T>
void global_max_pool1d_backward(const Exec& ex, const T* d_y, const int32_t* argmax, T* d_x,
                                int64_t batch, int64_t steps, int64_t channels) {
  EMBER_BACKEND(
      ex, ref::global_max_pool1d_backward<T>(d_y, argmax, d_x, batch, steps, channels),
      cuda::global_max_pool1d_backward<T>(d_y, argmax, d_x, batch, steps, channels, ex.stream));
}

#define EMBER_INSTANTIATE(T)                                                                      \
  template void global_max_pool1d_forward<T>(const Exec&, const T*, T*, int32_t*, int64_t,        \
                                             int64_t, int64_t);                                   \
  template void global_max_pool1d_backward<T>(const Exec&, const T*, const int32_t*, T*, int64_t, \
                                              int64_t, int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::kern
