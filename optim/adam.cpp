// Keras Adam (adam.h): the flat-array reference update and the per-param driver. The bias
// correction alpha is computed once per step in double; the element loop runs in the param's
// dtype with TensorFlow's arrangement of the moment updates.
#include "optim/adam.h"

#include <cmath>

#include "optim/update_dispatch.h"

namespace ember {

namespace ref {

template <class T>
// __restrict (no aliasing, adam.h) lets the loop vectorize; sqrt and division are correctly
// rounded in vector form too, so the bits are those of the scalar loop.
void adam_update(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                 int64_t n, T alpha, T beta_1, T beta_2, T epsilon) {
  const T one_minus_b1 = T(1) - beta_1, one_minus_b2 = T(1) - beta_2;
  for (int64_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * one_minus_b1;
    v[i] += (g[i] * g[i] - v[i]) * one_minus_b2;
    p[i] -= alpha * m[i] / (std::sqrt(v[i]) + epsilon);
  }
}

template void adam_update<float>(float*, const float*, float*, float*, int64_t, float, float, float,
                                 float);
template void adam_update<double>(double*, const double*, double*, double*, int64_t, double, double,
                                  double, double);

}  // namespace ref

Adam::Adam(const OptimizerConfig& cfg)
    : Optimizer(cfg), beta_1_(cfg.beta_1), beta_2_(cfg.beta_2), epsilon_(cfg.epsilon) {
  EMBER_CHECK_ARG(beta_1_ >= 0.0 && beta_1_ < 1.0,
                  "adam: beta_1 must be in [0, 1), got " << beta_1_);
  EMBER_CHECK_ARG(beta_2_ >= 0.0 && beta_2_ < 1.0,
                  "adam: beta_2 must be in [0, 1), got " << beta_2_);
  EMBER_CHECK_ARG(epsilon_ >= 0.0 && std::isfinite(epsilon_),
                  "adam: epsilon must be >= 0, got " << epsilon_);
}

void Adam::update(const std::vector<ag::Var*>& params) {
  const double t = static_cast<double>(iterations() + 1);
  const double alpha =
      learning_rate() * std::sqrt(1.0 - std::pow(beta_2_, t)) / (1.0 - std::pow(beta_1_, t));
  // Every param with a gradient: one call for the whole step (on a GPU one fused launch per
  // dtype and per 32 tensors).
  kern::UpdateList list;
  for (size_t i = 0; i < params.size(); ++i) {
    ag::Var& param = *params[i];
    if (!param.grad().defined()) continue;  // Keras skips None gradients
    Tensor& m = slot_for(m_, i, param, "m");
    Tensor& v = slot_for(v_, i, param, "v");
    list.add("adam", param.mutable_value(), param.grad(), &m, &v);
  }
  const kern::Exec ex =
      kern::Exec::of(params.empty() ? Device::cpu() : params[0]->value().device());
  kern::adam_update(ex, list, alpha, beta_1_, beta_2_, epsilon_);
}

void Adam::append_slots(NamedTensors& out) const {
  append_slot_list(out, "adam/m/", m_);
  append_slot_list(out, "adam/v/", v_);
}

bool Adam::load_slot(const std::string& slot, size_t index, const Tensor& value) {
  if (slot == "m") {
    store_slot(m_, index, value);
    return true;
  }
  if (slot == "v") {
    store_slot(v_, index, value);
    return true;
  }
  return false;
}

}  // namespace ember
