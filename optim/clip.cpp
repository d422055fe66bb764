// Implementation of optim/clip.h. CPU gradients go through engine/tensor_ops (sum_squares in
// double, scale in the gradient's dtype). CUDA gradients use optim/fused_update.h: per-tensor
// partial sums of squares in fixed slots, one ordered reduction to the norm and the clipping
// factor on the device, and one scaling launch per dtype that reads the factor there, so
// clipping inside a training step never waits for the device; only the functions that return
// the norm copy it back.
#include "optim/clip.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/core/tensor_ops.h"

#ifdef EMBER_HAVE_CUDA
#include "engine/cuda/context.h"
#include "optim/fused_update.h"
#endif

namespace ember {

namespace {

// The defined gradients of params, all on one device (checked).
std::vector<Tensor*> gradients(const std::vector<ag::Var*>& params, const char* op) {
  std::vector<Tensor*> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    EMBER_CHECK_ARG(params[i] && params[i]->defined(), op << ": param " << i << " is undefined");
    Tensor& g = params[i]->mutable_grad();
    if (!g.defined()) continue;
    EMBER_CHECK_ARG(grads.empty() || grads[0]->device() == g.device(),
                    op << ": gradients on different devices (" << grads[0]->str() << " and param "
                       << i << "'s " << g.str() << ")");
    grads.push_back(&g);
  }
  return grads;
}

#ifdef EMBER_HAVE_CUDA
// Queues the norm of `grads` (all on one CUDA device) and its clipping factor into a 2-double
// device tensor {norm, factor}; with `apply`, also scales every gradient by the factor.
Tensor device_norm(const std::vector<Tensor*>& grads, double clip_norm, bool global, bool apply) {
  const Device dev = grads[0]->device();
  cudaStream_t stream = cuda::Context::get(dev.index).stream();
  const int64_t count = static_cast<int64_t>(grads.size());
  Tensor partials = Tensor::empty(Shape{count * cuda::kNormBlocks}, DType::kFloat64, dev);
  Tensor out = Tensor::empty(Shape{2}, DType::kFloat64, dev);
  // float32 tensors take the first slots, float64 the rest, each group in list order.
  std::vector<float*> f32;
  std::vector<double*> f64;
  std::vector<int64_t> n32, n64;
  for (Tensor* g : grads) {
    dispatch_float(g->dtype(), "clip", [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, float>) {
        f32.push_back(g->data<float>());
        n32.push_back(g->numel());
      } else {
        f64.push_back(g->data<double>());
        n64.push_back(g->numel());
      }
    });
  }
  const int c32 = static_cast<int>(f32.size()), c64 = static_cast<int>(f64.size());
  double* p = partials.data<double>();
  if (c32) cuda::sum_squares_partials<float>(f32.data(), n32.data(), c32, 0, p, stream);
  if (c64) cuda::sum_squares_partials<double>(f64.data(), n64.data(), c64, c32, p, stream);
  cuda::norm_and_clip_scale(p, count, clip_norm, global, out.data<double>(), stream);
  if (apply) {
    const double* factor = out.data<double>() + 1;
    if (c32) cuda::scale_by_device_scalar<float>(f32.data(), n32.data(), c32, factor, stream);
    if (c64) cuda::scale_by_device_scalar<double>(f64.data(), n64.data(), c64, factor, stream);
  }
  return out;
}

double read_norm(const Tensor& out) {
  return out.to(Device::cpu()).data<double>()[0];  // a blocking copy: waits for the stream
}
#endif

}  // namespace

double global_norm(const std::vector<ag::Var*>& params) {
  const std::vector<Tensor*> grads = gradients(params, "global_norm");
#ifdef EMBER_HAVE_CUDA
  if (!grads.empty() && !grads[0]->device().is_cpu())
    return read_norm(device_norm(grads, 1.0, true, false));
#endif
  double sum = 0.0;
  for (Tensor* g : grads) sum += sum_squares(*g);
  return std::sqrt(sum);
}

double clip_by_global_norm(const std::vector<ag::Var*>& params, double clip_norm) {
  EMBER_CHECK_ARG(clip_norm > 0.0, "clip_by_global_norm: clip_norm must be > 0, got " << clip_norm);
  const std::vector<Tensor*> grads = gradients(params, "clip_by_global_norm");
#ifdef EMBER_HAVE_CUDA
  if (!grads.empty() && !grads[0]->device().is_cpu())
    return read_norm(device_norm(grads, clip_norm, true, true));
#endif
  const double norm = global_norm(params);
  const double scale = std::isfinite(norm) ? clip_norm / std::fmax(norm, clip_norm)
                                           : std::numeric_limits<double>::quiet_NaN();
  if (scale == 1.0) return norm;  // nothing to clip; skip a pass over every gradient
  for (Tensor* g : grads) scale_inplace(*g, scale);
  return norm;
}

void apply_global_clipnorm(const std::vector<ag::Var*>& params, double clip_norm) {
  EMBER_CHECK_ARG(clip_norm > 0.0, "global_clipnorm must be > 0, got " << clip_norm);
#ifdef EMBER_HAVE_CUDA
  const std::vector<Tensor*> grads = gradients(params, "global_clipnorm");
  if (!grads.empty() && !grads[0]->device().is_cpu()) {
    device_norm(grads, clip_norm, true, true);
    return;
  }
#endif
  clip_by_global_norm(params, clip_norm);
}

void clip_by_norm(Tensor& grad, double clip_norm) {
  EMBER_CHECK_ARG(clip_norm > 0.0, "clip_by_norm: clip_norm must be > 0, got " << clip_norm);
  EMBER_CHECK_ARG(grad.defined(), "clip_by_norm: undefined gradient");
#ifdef EMBER_HAVE_CUDA
  if (!grad.device().is_cpu()) {
    device_norm({&grad}, clip_norm, false, true);
    return;
  }
#endif
  const double norm = std::sqrt(sum_squares(grad));
  if (norm > clip_norm) scale_inplace(grad, clip_norm / norm);
}

}  // namespace ember
