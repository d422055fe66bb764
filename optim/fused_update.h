// CUDA launchers for the optimizers: fused multi-tensor SGD and Adam updates, and a
// deterministic global gradient norm for clipping. One launch covers up to kMaxTensorsPerLaunch
// parameter tensors (blockIdx.y picks the tensor); longer lists are cut into several launches.
// The element formulas are the references' (ref::sgd_update, ref::adam_update) with every
// product and sum rounded separately (no fused multiply-add), so the GPU update equals the CPU
// one bit for bit. Norms: each tensor's squares are summed in double by kNormBlocks fixed
// blocks into its own partial slots; one block then adds all slots in order. No atomics.
// Everything is queued on `stream` and nothing synchronizes. Includable without CUDA.
#pragma once

#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

namespace ember::cuda {

constexpr int kMaxTensorsPerLaunch = 32;
constexpr int kNormBlocks = 32;  // partial-sum blocks (and slots) per tensor

// One parameter tensor: p [n] OVERWRITTEN, g [n] read; `slot_a` is SGD's velocity (null when
// momentum is 0) or Adam's m, `slot_b` Adam's v (SGD: unused). No two tensors may overlap.
template <class T>
struct ParamSlices {
  T* p;
  const T* g;
  T* slot_a;
  T* slot_b;
  int64_t n;
};

// ref::sgd_update on every listed tensor.
template <class T>
void sgd_update(const ParamSlices<T>* tensors, int count, T lr, T momentum, bool nesterov,
                cudaStream_t stream);
// ref::adam_update on every listed tensor; alpha is the bias-corrected step (host, double).
template <class T>
void adam_update(const ParamSlices<T>* tensors, int count, T alpha, T beta_1, T beta_2, T epsilon,
                 cudaStream_t stream);

// Squares of tensor i summed in double into partials[(first_slot + i) * kNormBlocks + j],
// j < kNormBlocks. tensors[i] has sizes[i] elements.
template <class T>
void sum_squares_partials(const T* const* tensors, const int64_t* sizes, int count,
                          int64_t first_slot, double* partials, cudaStream_t stream);
// out[0] = norm = sqrt(sum of partials[0 .. slots * kNormBlocks), added in order);
// out[1] = the clipping factor: global (tf.clip_by_global_norm) clip / max(norm, clip), NaN
// when the norm is not finite; per tensor (tf.clip_by_norm) clip / norm when norm > clip,
// else 1. out is 2 doubles of device memory.
void norm_and_clip_scale(const double* partials, int64_t slots, double clip_norm, bool global,
                         double* out, cudaStream_t stream);
// tensors[i] *= T(*scale) for every listed tensor; skipped when *scale == 1 (read on the device).
template <class T>
void scale_by_device_scalar(T* const* tensors, const int64_t* sizes, int count, const double* scale,
                            cudaStream_t stream);

}  // namespace ember::cuda
