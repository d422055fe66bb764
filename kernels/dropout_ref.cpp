// CPU reference for kernels/dropout.h. The per-element factor is keep ? scale : 0, drawn with
// ember::dropout_keep at float precision for the rate, exactly as a CUDA kernel would, so the
// reference and the GPU agree bit for bit on which elements survive. SpatialDropout1D draws
// its B*C factors once and reuses them at every step. The loops run on the CPU pool
// (engine/core/parallel.h) in contiguous ranges; an element's value depends on its own index
// only, so every thread count gives the same bits.
#include "kernels/dropout.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "engine/core/check.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"

namespace ember::ref {

namespace {

template <class T>
T keep_scale(double rate) {
  EMBER_CHECK_ARG(rate >= 0.0 && rate <= 1.0, "dropout: rate " << rate << " is not in [0, 1]");
  return rate < 1.0 ? static_cast<T>(1.0 / (1.0 - rate)) : T(0);  // rate 1: nothing is kept
}

// f(begin, end) over [0, n) in contiguous ranges on the pool, each at least `grain` items
// (waking a thread costs more than a few thousand elements of work).
template <class F>
void in_ranges(int64_t n, int64_t grain, F f) {
  const int64_t parts =
      par::in_parallel() ? 1 : std::clamp<int64_t>(n / grain, 1, par::num_threads());
  if (parts == 1) return f(int64_t{0}, n);
  par::parallel_for(parts, [&](int64_t p) {
    const par::Range r = par::split(n, parts, p);
    f(r.begin, r.end);
  });
}

constexpr int64_t kGrain = int64_t{1} << 15;  // elements

// f(i, factor) for the n draws of stream (seed, offset): factor = keep(base + i) ? scale : 0.
template <class T, class F>
void each_factor(int64_t n, double rate, uint64_t seed, uint64_t offset, uint64_t base, F f) {
  const T scale = keep_scale<T>(rate);
  const float r = static_cast<float>(rate);
  in_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      f(i, dropout_keep(seed, offset, base + static_cast<uint64_t>(i), r) ? scale : T(0));
  });
}

// Bit patterns of T, for selects the compiler can vectorize: a float `keep ? a : b` under
// GCC's default -ftrapping-math stays a branch; an and/or of the bits does not.
template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <class T>
Bits<T> bits_of(T v) {
  Bits<T> b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

template <class T>
T from_bits(Bits<T> b) {
  T v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// f(row, factor, keep) for each [C] row of [B,T,C] (row b*T + t): factor the [C] draws of its
// sample b, shared by every t, and keep their select masks (all ones where kept, else 0).
template <class T, class F>
void each_spatial_row(int64_t batch, int64_t steps, int64_t channels, double rate, uint64_t seed,
                      uint64_t offset, uint64_t index_base, F f) {
  const size_t n = static_cast<size_t>(batch * channels);
  std::vector<T> factor(n);  // [B,C]
  std::vector<Bits<T>> keep(n);
  each_factor<T>(batch * channels, rate, seed, offset, index_base, [&](int64_t i, T v) {
    factor[i] = v;
    keep[i] = v != T(0) ? ~Bits<T>{0} : Bits<T>{0};
  });
  in_ranges(batch * steps, std::max<int64_t>(1, kGrain / channels),
            [&](int64_t begin, int64_t end) {
              for (int64_t row = begin; row < end; ++row) {
                const int64_t at = (row / steps) * channels;
                f(row, factor.data() + at, keep.data() + at);
              }
            });
}

}  // namespace

// A dropped element is a select to 0, not x * 0: a dropped inf or NaN must give 0, as the mask
// says. SpatialDropout1D's rows form the product unconditionally and select it by bits, so
// that they vectorize.
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
                      [&](int64_t row, const T* f, const Bits<T>* keep) {
                        const T* xr = x + row * channels;
                        T* yr = y + row * channels;
                        for (int64_t c = 0; c < channels; ++c)
                          yr[c] = from_bits<T>(bits_of(xr[c] * f[c]) & keep[c]);
                      });
}

template <class T>
void spatial_dropout1d_backward(const T* d_y, T* d_x, int64_t batch, int64_t steps,
                                int64_t channels, double rate, uint64_t seed, uint64_t offset,
                                uint64_t index_base) {
  each_spatial_row<T>(batch, steps, channels, rate, seed, offset, index_base,
                      [&](int64_t row, const T* f, const Bits<T>* keep) {
                        const T* gr = d_y + row * channels;
                        T* dr = d_x + row * channels;
                        for (int64_t c = 0; c < channels; ++c) {
                          const Bits<T> sum = bits_of(dr[c] + gr[c] * f[c]);
                          dr[c] = from_bits<T>((sum & keep[c]) | (bits_of(dr[c]) & ~keep[c]));
                        }
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
