// See dropout_dispatch.h: each entry point forwards to ref:: or cuda:: through EMBER_BACKEND.
#include "kernels/dropout_dispatch.h"

namespace ember::kern {

template <class T>
void dropout_forward(const Exec& ex, const T* x, T* y, int64_t n, double rate, uint64_t seed,
                     uint64_t offset, uint64_t base) {
  EMBER_BACKEND(ex, ref::dropout_forward<T>(x, y, n, rate, seed, offset, base),
                cuda::dropout_forward<T>(x, y, n, rate, seed, offset, ex.stream, base));
}

template <class T>
void dropout_backward(const Exec& ex, const T* d_y, T* d_x, int64_t n, double rate, uint64_t seed,
                      uint64_t offset, uint64_t base) {
  EMBER_BACKEND(ex, ref::dropout_backward<T>(d_y, d_x, n, rate, seed, offset, base),
                cuda::dropout_backward<T>(d_y, d_x, n, rate, seed, offset, ex.stream, base));
}

template <class T>
void spatial_dropout1d_forward(const Exec& ex, const T* x, T* y, int64_t batch, int64_t steps,
                               int64_t channels, double rate, uint64_t seed, uint64_t offset,
                               uint64_t base) {
  EMBER_BACKEND(
      ex, ref::spatial_dropout1d_forward<T>(x, y, batch, steps, channels, rate, seed, offset, base),
      cuda::spatial_dropout1d_forward<T>(x, y, batch, steps, channels, rate, seed, offset,
                                         ex.stream, base));
}

template <class T>
void spatial_dropout1d_backward(const Exec& ex, const T* d_y, T* d_x, int64_t batch, int64_t steps,
                                int64_t channels, double rate, uint64_t seed, uint64_t offset,
                                uint64_t base) {
  EMBER_BACKEND(ex,
                ref::spatial_dropout1d_backward<T>(d_y, d_x, batch, steps, channels, rate, seed,
                                                   offset, base),
                cuda::spatial_dropout1d_backward<T>(d_y, d_x, batch, steps, channels, rate, seed,
                                                    offset, ex.stream, base));
}

#define EMBER_INSTANTIATE(T)                                                                       \
  template void dropout_forward<T>(const Exec&, const T*, T*, int64_t, double, uint64_t, uint64_t, \
                                   uint64_t);                                                      \
  template void dropout_backward<T>(const Exec&, const T*, T*, int64_t, double, uint64_t,          \
                                    uint64_t, uint64_t);                                           \
  template void spatial_dropout1d_forward<T>(const Exec&, const T*, T*, int64_t, int64_t, int64_t, \
                                             double, uint64_t, uint64_t, uint64_t);                \
  template void spatial_dropout1d_backward<T>(const Exec&, const T*, T*, int64_t, int64_t,         \
                                              int64_t, double, uint64_t, uint64_t, uint64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::kern
