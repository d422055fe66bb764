// CPU reference for kernels/dropout.h. The per-element factor is keep ? scale : 0, drawn with
// ember::dropout_keep at float precision for the rate, exactly as a CUDA kernel would, so the
// reference and the GPU agree bit for bit on which elements survive. SpatialDropout1D draws
// its B*C factors once and reuses them at every step.
#include "kernels/dropout.h"

#include <cstddef>
#include <vector>

#include "engine/core/check.h"
#include "engine/core/rng.h"

namespace ember::ref {

namespace {

template <class T>
T keep_scale(double rate) {
  EMBER_CHECK_ARG(rate >= 0.0 && rate <= 1.0, "dropout: rate " << rate << " is not in [0, 1]");
  return rate < 1.0 ? static_cast<T>(1.0 / (1.0 - rate)) : T(0);  // rate 1: nothing is kept
}

// f(i, factor) for the n draws of stream (seed, offset): factor = keep(base + i) ? scale : 0.
template <class T, class F>
void each_factor(int64_t n, double rate, uint64_t seed, uint64_t offset, uint64_t base, F f) {
  const T scale = keep_scale<T>(rate);
  const float r = static_cast<float>(rate);
  for (int64_t i = 0; i < n; ++i)
    f(i, dropout_keep(seed, offset, base + static_cast<uint64_t>(i), r) ? scale : T(0));
}

// The same factors in a vector.
template <class T>
void draw_factors(std::vector<T>& factor, int64_t n, double rate, uint64_t seed, uint64_t offset,
                  uint64_t base) {
  factor.resize(static_cast<size_t>(n));
  each_factor<T>(n, rate, seed, offset, base, [&](int64_t i, T f) { factor[i] = f; });
}

// f(i, factor) for each element i of [B,T,C], factor the one draw of its (b, c), reused at
// every t.
template <class T, class F>
void each_spatial_factor(int64_t batch, int64_t steps, int64_t channels, double rate, uint64_t seed,
                         uint64_t offset, uint64_t index_base, F f) {
  std::vector<T> factor;  // [B,C]
  draw_factors(factor, batch * channels, rate, seed, offset, index_base);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t base = (b * steps + t) * channels;
      for (int64_t c = 0; c < channels; ++c) f(base + c, factor[b * channels + c]);
    }
}

}  // namespace

// A dropped element is a select to 0, not x * 0: a dropped inf or NaN must give 0, as the mask
// says.
template <class T>
void dropout_forward(const T* x, T* y, int64_t n, double rate, uint64_t seed, uint64_t offset,
                     uint64_t index_base) {
  each_factor<T>(n, rate, seed, offset, index_base,
                 [&](int64_t i, T f) { y[i] = f != T(0) ? x[i] * f : T(0); });
}

template <class T>
void dropout_backward(const T* d_y, T* d_x, int64_t n, double rate, uint64_t seed, uint64_t offset,
                      uint64_t index_base) {
  each_factor<T>(n, rate, seed, offset, index_base, [&](int64_t i, T f) {
    if (f != T(0)) d_x[i] += d_y[i] * f;
  });
}

template <class T>
void spatial_dropout1d_forward(const T* x, T* y, int64_t batch, int64_t steps, int64_t channels,
                               double rate, uint64_t seed, uint64_t offset, uint64_t index_base) {
  each_spatial_factor<T>(batch, steps, channels, rate, seed, offset, index_base,
                         [&](int64_t i, T f) { y[i] = f != T(0) ? x[i] * f : T(0); });
}

template <class T>
void spatial_dropout1d_backward(const T* d_y, T* d_x, int64_t batch, int64_t steps,
                                int64_t channels, double rate, uint64_t seed, uint64_t offset,
                                uint64_t index_base) {
  each_spatial_factor<T>(batch, steps, channels, rate, seed, offset, index_base,
                         [&](int64_t i, T f) {
                           if (f != T(0)) d_x[i] += d_y[i] * f;
                         });
}

#define EMBER_INSTANTIATE_DROPOUT(T)                                                              \
  template void dropout_forward<T>(const T*, T*, int64_t, double, uint64_t, uint64_t, uint64_t);  \
  template void dropout_backward<T>(const T*, T*, int64_t, double, uint64_t, uint64_t, uint64_t); \
  template void spatial_dropout1d_forward<T>(const T*, T*, int64_t, int64_t, int64_t, double,     \
                                             uint64_t, uint64_t, uint64_t);                       \
  template void spatial_dropout1d_backward<T>(const T*, T*, int64_t, int64_t, int64_t, double,    \
                                              uint64_t, uint64_t, uint64_t);
EMBER_INSTANTIATE_DROPOUT(float)
EMBER_INSTANTIATE_DROPOUT(double)
#undef EMBER_INSTANTIATE_DROPOUT

}  // namespace ember::ref
