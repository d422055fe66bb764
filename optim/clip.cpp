// Implementation of optim/clip.h over engine/tensor_ops (sum_squares in double, scale in the
// gradient's dtype), so the CUDA versions arrive with tensor_ops's.
#include "optim/clip.h"

#include <cmath>
#include <limits>

#include "engine/tensor_ops.h"

namespace ember {

double global_norm(const std::vector<ag::Var*>& params) {
  double sum = 0.0;
  for (size_t i = 0; i < params.size(); ++i) {
    EMBER_CHECK_ARG(params[i] && params[i]->defined(),
                    "global_norm: param " << i << " is undefined");
    const Tensor& g = params[i]->grad();
    if (g.defined()) sum += sum_squares(g);
  }
  return std::sqrt(sum);
}

double clip_by_global_norm(const std::vector<ag::Var*>& params, double clip_norm) {
  EMBER_CHECK_ARG(clip_norm > 0.0, "clip_by_global_norm: clip_norm must be > 0, got " << clip_norm);
  const double norm = global_norm(params);
  const double scale = std::isfinite(norm) ? clip_norm / std::fmax(norm, clip_norm)
                                           : std::numeric_limits<double>::quiet_NaN();
  if (scale == 1.0) return norm;  // nothing to clip; skip a pass over every gradient
  for (ag::Var* p : params) {
    if (p->grad().defined()) scale_inplace(p->mutable_grad(), scale);
  }
  return norm;
}

void clip_by_norm(Tensor& grad, double clip_norm) {
  EMBER_CHECK_ARG(clip_norm > 0.0, "clip_by_norm: clip_norm must be > 0, got " << clip_norm);
  EMBER_CHECK_ARG(grad.defined(), "clip_by_norm: undefined gradient");
  const double norm = std::sqrt(sum_squares(grad));
  if (norm > clip_norm) scale_inplace(grad, clip_norm / norm);
}

}  // namespace ember
