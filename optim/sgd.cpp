// Keras SGD (sgd.h): the flat-array reference update and the per-param driver. The update
// runs in the param's dtype, as Keras applies it in the variable's dtype.
#include "optim/sgd.h"

#include <cmath>

#include "optim/update_dispatch.h"

namespace ember {

namespace ref {

template <class T>
void sgd_update(T* __restrict p, const T* __restrict g, T* __restrict velocity, int64_t n, T lr,
                T momentum, bool nesterov) {
  if (!velocity) {
    for (int64_t i = 0; i < n; ++i) p[i] -= lr * g[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    velocity[i] = momentum * velocity[i] - lr * g[i];
    // Nesterov looks ahead along the new velocity: p += m v_new - lr g.
    p[i] += nesterov ? momentum * velocity[i] - lr * g[i] : velocity[i];
  }
}

template void sgd_update<float>(float*, const float*, float*, int64_t, float, float, bool);
template void sgd_update<double>(double*, const double*, double*, int64_t, double, double, bool);

}  // namespace ref

Sgd::Sgd(const OptimizerConfig& cfg)
    : Optimizer(cfg), momentum_(cfg.momentum), nesterov_(cfg.nesterov) {
  EMBER_CHECK_ARG(std::isfinite(momentum_) && momentum_ >= 0.0 && momentum_ <= 1.0,
                  "sgd: momentum must be in [0, 1], got " << momentum_);
}

void Sgd::update(const std::vector<ag::Var*>& params) {
  // Every param with a gradient: one call for the whole step (on a GPU one fused launch per
  // dtype and per 32 tensors).
  kern::UpdateList list;
  for (size_t i = 0; i < params.size(); ++i) {
    ag::Var& param = *params[i];
    if (!param.grad().defined()) continue;  // Keras skips None gradients
    Tensor* velocity = momentum_ > 0.0 ? &slot_for(velocity_, i, param, "momentum") : nullptr;
    list.add("sgd", param.mutable_value(), param.grad(), velocity, nullptr);
  }
  const kern::Exec ex =
      kern::Exec::of(params.empty() ? Device::cpu() : params[0]->value().device());
  kern::sgd_update(ex, list, learning_rate(), momentum_, nesterov_);
}

void Sgd::append_slots(NamedTensors& out) const {
  append_slot_list(out, "sgd/momentum/", velocity_);
}

bool Sgd::load_slot(const std::string& slot, size_t index, const Tensor& value) {
  if (slot != "momentum") return false;
  store_slot(velocity_, index, value);
  return true;
}

}  // namespace ember
