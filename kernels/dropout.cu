// CUDA kernels for kernels/dropout.h. One thread per Philox block (4 consecutive draws), so a
// mask costs one Philox evaluation per 4 elements and reads the same lanes as
// ember::dropout_keep. SpatialDropout1D threads own 4 consecutive (b, c) draws and a chunk of
// time steps, applying each factor down the steps of their chunk. With an index base the
// blocks are those of the shifted range [base, base + n): thread q owns Philox block
// base/4 + q and the lanes of it that fall inside the range.
#include "engine/core/check.h"
#include "engine/core/rng.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "kernels/dropout.h"

namespace ember::cuda {

namespace {

constexpr int64_t kStepsPerThread = 16;  // time steps per SpatialDropout1D thread

// Lane `lane` of a Philox block keeps iff its uniform >= rate: philox_uniform's exact formula.
__device__ __forceinline__ bool keep_lane(const Philox4x32& r, int lane, float rate) {
  return static_cast<float>(r.v[lane] >> 8) * (1.0f / 16777216.0f) >= rate;
}

// Accumulate false: y = keep ? x * scale : 0 (forward). true: y += keep ? x * scale (backward;
// dropped elements are left untouched, as the reference does).
template <class T, bool Accumulate>
__global__ void dropout_kernel(const T* x, T* y, int64_t n, float rate, T scale, uint64_t seed,
                               uint64_t offset, uint64_t base) {
  const int64_t skew = static_cast<int64_t>(base & 3);  // lanes of the first block before base
  const int64_t blocks = (skew + n + 3) / 4;
  for (int64_t q = global_thread_index(); q < blocks; q += grid_stride()) {
    const Philox4x32 r = philox_block(seed, offset, (base >> 2) + static_cast<uint64_t>(q));
    const int64_t first = q * 4 - skew;  // local index of lane 0
    for (int lane = 0; lane < 4 && first + lane < n; ++lane) {
      const int64_t i = first + lane;
      if (i < 0) continue;
      const bool keep = keep_lane(r, lane, rate);
      if (Accumulate) {
        if (keep) y[i] += x[i] * scale;
      } else {
        y[i] = keep ? x[i] * scale : T(0);  // a select: a dropped inf/NaN gives 0
      }
    }
  }
}

// Thread (q, chunk): draws q*4 .. q*4+3 of the [B*C] mask, steps [chunk*S, chunk*S + S).
template <class T, bool Accumulate>
__global__ void spatial_dropout1d_kernel(const T* x, T* y, int64_t batch, int64_t steps,
                                         int64_t channels, float rate, T scale, uint64_t seed,
                                         uint64_t offset, uint64_t base) {
  const int64_t draws = batch * channels;
  const int64_t skew = static_cast<int64_t>(base & 3);
  const int64_t groups = (skew + draws + 3) / 4;
  const int64_t chunks = (steps + kStepsPerThread - 1) / kStepsPerThread;
  for (int64_t idx = global_thread_index(); idx < groups * chunks; idx += grid_stride()) {
    const int64_t q = idx % groups, chunk = idx / groups;
    const Philox4x32 r = philox_block(seed, offset, (base >> 2) + static_cast<uint64_t>(q));
    const int64_t t0 = chunk * kStepsPerThread;
    const int64_t t1 = t0 + kStepsPerThread < steps ? t0 + kStepsPerThread : steps;
    for (int lane = 0; lane < 4 && q * 4 - skew + lane < draws; ++lane) {
      const int64_t m = q * 4 - skew + lane;  // local draw index (b*C + c)
      if (m < 0) continue;
      const int64_t b = m / channels, c = m - b * channels;
      const bool keep = keep_lane(r, lane, rate);
      if (Accumulate && !keep) continue;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t i = (b * steps + t) * channels + c;
        if (Accumulate) {
          y[i] += x[i] * scale;
        } else {
          y[i] = keep ? x[i] * scale : T(0);
        }
      }
    }
  }
}

// The reference's scale: 1/(1-rate) in double, rounded to T once; 0 when rate is 1.
template <class T>
T keep_scale(double rate, const char* op) {
  EMBER_CHECK_ARG(rate >= 0.0 && rate <= 1.0, op << ": rate " << rate << " is not in [0, 1]");
  return rate < 1.0 ? static_cast<T>(1.0 / (1.0 - rate)) : T(0);
}

template <class T, bool Accumulate>
void launch_dropout(const T* x, T* y, int64_t n, double rate, uint64_t seed, uint64_t offset,
                    uint64_t base, cudaStream_t stream, const char* op) {
  const T scale = keep_scale<T>(rate, op);
  EMBER_CHECK_ARG(n >= 0, op << ": negative size " << n);
  if (n == 0) return;
  const int64_t blocks = ceil_div(static_cast<int64_t>(base & 3) + n, 4);
  EMBER_LAUNCH((dropout_kernel<T, Accumulate>), grid_for(blocks), kBlockThreads, 0, stream, x, y, n,
               static_cast<float>(rate), scale, seed, offset, base);
  EMBER_CUDA_CHECK_LAUNCH(op);
}

template <class T, bool Accumulate>
void launch_spatial(const T* x, T* y, int64_t batch, int64_t steps, int64_t channels, double rate,
                    uint64_t seed, uint64_t offset, uint64_t base, cudaStream_t stream,
                    const char* op) {
  const T scale = keep_scale<T>(rate, op);
  EMBER_CHECK_ARG(batch >= 0 && steps >= 0 && channels >= 0,
                  op << ": bad dims B=" << batch << " T=" << steps << " C=" << channels);
  if (batch * steps * channels == 0) return;
  const int64_t threads = ceil_div(static_cast<int64_t>(base & 3) + batch * channels, 4) *
                          ceil_div(steps, kStepsPerThread);
  EMBER_LAUNCH((spatial_dropout1d_kernel<T, Accumulate>), grid_for(threads), kBlockThreads, 0,
               stream, x, y, batch, steps, channels, static_cast<float>(rate), scale, seed, offset,
               base);
  EMBER_CUDA_CHECK_LAUNCH(op);
}

}  // namespace

template <class T>
void dropout_forward(const T* x, T* y, int64_t n, double rate, uint64_t seed, uint64_t offset,
                     cudaStream_t stream, uint64_t index_base) {
  launch_dropout<T, false>(x, y, n, rate, seed, offset, index_base, stream,
                           "dropout_forward_kernel");
}

template <class T>
void dropout_backward(const T* d_y, T* d_x, int64_t n, double rate, uint64_t seed, uint64_t offset,
                      cudaStream_t stream, uint64_t index_base) {
  launch_dropout<T, true>(d_y, d_x, n, rate, seed, offset, index_base, stream,
                          "dropout_backward_kernel");
}

template <class T>
void spatial_dropout1d_forward(const T* x, T* y, int64_t batch, int64_t steps, int64_t channels,
                               double rate, uint64_t seed, uint64_t offset, cudaStream_t stream,
                               uint64_t index_base) {
  launch_spatial<T, false>(x, y, batch, steps, channels, rate, seed, offset, index_base, stream,
                           "spatial_dropout1d_forward_kernel");
}

template <class T>
void spatial_dropout1d_backward(const T* d_y, T* d_x, int64_t batch, int64_t steps,
                                int64_t channels, double rate, uint64_t seed, uint64_t offset,
                                cudaStream_t stream, uint64_t index_base) {
  launch_spatial<T, true>(d_y, d_x, batch, steps, channels, rate, seed, offset, index_base, stream,
                          "spatial_dropout1d_backward_kernel");
}

#define EMBER_INSTANTIATE_DROPOUT_CUDA(T)                                                      \
  template void dropout_forward<T>(const T*, T*, int64_t, double, uint64_t, uint64_t,          \
                                   cudaStream_t, uint64_t);                                    \
  template void dropout_backward<T>(const T*, T*, int64_t, double, uint64_t, uint64_t,         \
                                    cudaStream_t, uint64_t);                                   \
  template void spatial_dropout1d_forward<T>(const T*, T*, int64_t, int64_t, int64_t, double,  \
                                             uint64_t, uint64_t, cudaStream_t, uint64_t);      \
  template void spatial_dropout1d_backward<T>(const T*, T*, int64_t, int64_t, int64_t, double, \
                                              uint64_t, uint64_t, cudaStream_t, uint64_t);
EMBER_INSTANTIATE_DROPOUT_CUDA(float)
EMBER_INSTANTIATE_DROPOUT_CUDA(double)
#undef EMBER_INSTANTIATE_DROPOUT_CUDA

}  // namespace ember::cuda
