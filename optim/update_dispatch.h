// Backend-neutral optimizer updates and gradient clipping: one call per step for both
// backends, so Sgd::update, Adam::update and optim/clip.cpp each have one body. The caller
// lists every parameter with a gradient as cuda::ParamSlices (optim/fused_update.h), float32
// and float64 apart; the CPU runs ref::sgd_update / ref::adam_update per tensor in list order,
// CUDA one fused launch per dtype and per kMaxTensorsPerLaunch tensors. Both give the same
// bits (fused_update.h). The lists' pointers are on ex.device.
#pragma once

#include <vector>

#include "engine/core/exec.h"
#include "engine/core/tensor.h"
#include "optim/fused_update.h"

namespace ember::kern {

template <class T>
using ParamSlices = cuda::ParamSlices<T>;

// One step's parameters with gradients, float32 and float64 apart, in the order added.
struct UpdateList {
  std::vector<ParamSlices<float>> f32;
  std::vector<ParamSlices<double>> f64;
  // Lists p with its gradient g and optimizer slots a, b (either may be null), all of p's
  // dtype; `op` names the optimizer when that dtype is not a float.
  void add(const char* op, Tensor& p, const Tensor& g, Tensor* a, Tensor* b);
};

// ref::sgd_update on every listed tensor (slot_a = velocity or null).
void sgd_update(const Exec& ex, const UpdateList& list, double lr, double momentum, bool nesterov);
// ref::adam_update on every listed tensor (slot_a = m, slot_b = v); alpha bias-corrected.
void adam_update(const Exec& ex, const UpdateList& list, double alpha, double beta_1, double beta_2,
                 double epsilon);

// The norm of `grads` (all on ex.device, any order of dtypes) and its clipping factor, as a
// 2-double tensor {norm, factor} on ex.device: global (tf.clip_by_global_norm) factor
// clip / max(norm, clip), NaN when the norm is not finite; per tensor (tf.clip_by_norm)
// clip / norm when norm > clip, else 1. With `apply`, every gradient is scaled by the factor
// (skipped when it is 1). CPU: the norm is sqrt of the sum, in list order, of each tensor's
// sum_squares (engine/core/tensor_ops.h) and gradients are scaled by scale_inplace; CUDA: the
// fixed-slot reduction of fused_update.h, queued without waiting for the device.
Tensor norm_and_clip(const Exec& ex, const std::vector<Tensor*>& grads, double clip_norm,
                     bool global, bool apply);

}  // namespace ember::kern
