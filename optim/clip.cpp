// Implementation of optim/clip.h. CPU gradients go through engine/tensor_ops (sum_squares in
// double, scale in the gradient's dtype). CUDA gradients use optim/fused_update.h: per-tensor
// partial sums of squares in fixed slots, one ordered reduction to the norm and the clipping
// factor on the device, and one scaling launch per dtype that reads the factor there, so
// clipping inside a training step never waits for the device; only the functions that return
// the norm copy it back.
#include "optim/clip.h"

#include "optim/update_dispatch.h"

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

// Where the gradients are (the CPU for none).
kern::Exec exec_of(const std::vector<Tensor*>& grads) {
  return kern::Exec::of(grads.empty() ? Device::cpu() : grads[0]->device());
}

double read_norm(const Tensor& out) {
  // On a device, a blocking copy that waits for the stream.
  return out.device().is_cpu() ? out.data<double>()[0] : out.to(Device::cpu()).data<double>()[0];
}

}  // namespace

double global_norm(const std::vector<ag::Var*>& params) {
  const std::vector<Tensor*> grads = gradients(params, "global_norm");
  return read_norm(kern::norm_and_clip(exec_of(grads), grads, 1.0, true, false));
}

double clip_by_global_norm(const std::vector<ag::Var*>& params, double clip_norm) {
  EMBER_CHECK_ARG(clip_norm > 0.0, "clip_by_global_norm: clip_norm must be > 0, got " << clip_norm);
  const std::vector<Tensor*> grads = gradients(params, "clip_by_global_norm");
  return read_norm(kern::norm_and_clip(exec_of(grads), grads, clip_norm, true, true));
}

void apply_global_clipnorm(const std::vector<ag::Var*>& params, double clip_norm) {
  EMBER_CHECK_ARG(clip_norm > 0.0, "global_clipnorm must be > 0, got " << clip_norm);
  // Nothing is read back: inside a training step, clipping never waits for the device.
  const std::vector<Tensor*> grads = gradients(params, "global_clipnorm");
  kern::norm_and_clip(exec_of(grads), grads, clip_norm, true, true);
}

void clip_by_norm(Tensor& grad, double clip_norm) {
  EMBER_CHECK_ARG(clip_norm > 0.0, "clip_by_norm: clip_norm must be > 0, got " << clip_norm);
  EMBER_CHECK_ARG(grad.defined(), "clip_by_norm: undefined gradient");
  kern::norm_and_clip(kern::Exec::of(grad.device()), {&grad}, clip_norm, false, true);
}

}  // namespace ember
