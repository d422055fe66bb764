// Gradient clipping as TensorFlow does it (Keras's clipnorm / global_clipnorm). Norms are
// accumulated in double whatever the gradient's dtype; scaling happens in the gradient's
// dtype, in place. Params whose grad() is undefined are skipped everywhere. Gradients may be
// on a CUDA device (all on the same one): the norm is then reduced deterministically on the
// device (optim/fused_update.h), and only the functions returning it wait for the device.
#pragma once

#include <vector>

#include "engine/core/graph.h"

namespace ember {

// sqrt(sum over params with a gradient of sum(grad^2)).
double global_norm(const std::vector<ag::Var*>& params);

// tf.clip_by_global_norm: every grad *= clip_norm / max(norm, clip_norm). Returns the norm
// before clipping. A non-finite norm turns every gradient into NaN, as TensorFlow does, so the
// failure shows up in the loss instead of being silently scaled away. clip_norm > 0.
double clip_by_global_norm(const std::vector<ag::Var*>& params, double clip_norm);
// clip_by_global_norm without returning the norm: on CUDA, nothing waits for the device (the
// clipping factor is computed and applied there). What Optimizer::step uses.
void apply_global_clipnorm(const std::vector<ag::Var*>& params, double clip_norm);

// tf.clip_by_norm on one tensor: grad *= clip_norm / norm(grad) when norm(grad) > clip_norm,
// untouched otherwise. clip_norm > 0.
void clip_by_norm(Tensor& grad, double clip_norm);

}  // namespace ember
