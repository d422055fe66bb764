// CPU reference for kernels/dropout.h. The per-element factor is keep ? scale : 0, drawn with
// ember::dropout_keep at float precision for the rate, exactly as a CUDA kernel would, so the
// reference and the GPU agree bit for bit on which elements survive. SpatialDropout1D draws
// its B*C factors once and reuses them at every step. The loops run on the CPU pool
// (engine/core/parallel.h) in contiguous ranges; an element's value depends on its own index
// only, so every thread count gives the same bits.
#include "kernels/dropout.h"

#include <cstddef>
#include <vector>

#include "engine/core/check.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "kernels/select_bits.h"

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
  par::parallel_ranges(n, par::kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      f(i, dropout_keep(seed, offset, base + static_cast<uint64_t>(i), r) ? scale : T(0));
  });
}

// f(row, factor) for each [C] row of [B,T,C] (row b*T + t), factor the [C] draws of its
// sample b, shared by every t.
template <class T, class F>
void each_spatial_row(int64_t batch, int64_t steps, int64_t channels, double rate, uint64_t seed,
                      uint64_t offset, uint64_t index_base, F f) {
  std::vector<T> factor(static_cast<size_t>(batch * channels));  // [B,C]
  each_factor<T>(batch * channels, rate, seed, offset, index_base,
                 [&](int64_t i, T v) { factor[i] = v; });
  par::parallel_ranges(batch * steps, par::kGrain / channels, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) f(row, factor.data() + (row / steps) * channels);
  });
}

}  // namespace

// A dropped element is a select to 0, not x * 0: a dropped inf or NaN must give 0, as the mask
// says. SpatialDropout1D's rows select without a branch (select_bits.h), so they vectorize.
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
  each_spatial_row<T>(batch, steps, channels, rate, seed, offset, index_base,
                      [&](int64_t row, const T* f) {
                        const T* xr = x + row * channels;
                        T* yr = y + row * channels;
                        for (int64_t c = 0; c < channels; ++c)
                          yr[c] = select_bits(f[c] != T(0), xr[c] * f[c], T(0));
                      });
}

template <class T>
void spatial_dropout1d_backward(const T* d_y, T* d_x, int64_t batch, int64_t steps,
                                int64_t channels, double rate, uint64_t seed, uint64_t offset,
                                uint64_t index_base) {
  each_spatial_row<T>(batch, steps, channels, rate, seed, offset, index_base,
                      [&](int64_t row, const T* f) {
                        const T* gr = d_y + row * channels;
                        T* dr = d_x + row * channels;
                        for (int64_t c = 0; c < channels; ++c)
                          dr[c] = select_bits(f[c] != T(0), dr[c] + gr[c] * f[c], dr[c]);
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
