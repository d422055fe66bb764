// Keras SGD: p -= lr g without momentum; with momentum m, the velocity v = m v - lr g and
// p += v, or with nesterov p += m v - lr g (v already updated). The velocity slot exists only
// when momentum > 0 (Keras creates it only then), named "sgd/momentum/<param index>".
// ref::sgd_update is the flat-array update; cuda::sgd_update (optim/fused_update.h) mirrors it
// bit for bit on the device: n elements, everything in T, p and velocity OVERWRITTEN in place,
// deterministic, no aliasing.
#pragma once

#include <cstdint>

#include "optim/optimizer.h"

namespace ember {

namespace ref {
// p [n], g [n], velocity [n] (null when momentum == 0).
template <class T>
void sgd_update(T* p, const T* g, T* velocity, int64_t n, T lr, T momentum, bool nesterov);
}  // namespace ref

class Sgd : public Optimizer {
 public:
  explicit Sgd(const OptimizerConfig& cfg);  // uses lr(), momentum, nesterov, clip settings
  const char* name() const override { return "sgd"; }
  double momentum() const { return momentum_; }
  bool nesterov() const { return nesterov_; }

 protected:
  void update(const std::vector<ag::Var*>& params) override;
  void append_slots(NamedTensors& out) const override;
  bool load_slot(const std::string& slot, size_t index, const Tensor& value) override;
  void clear_slots() override { velocity_.clear(); }

 private:
  double momentum_;
  bool nesterov_;
  std::vector<Tensor> velocity_;  // per param index; undefined until first used
};

}  // namespace ember
