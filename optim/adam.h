// Keras Adam in its epsilon-hat form: with t = iterations + 1,
//   m = m + (g - m)(1 - b1),  v = v + (g^2 - v)(1 - b2)      (= b1 m + (1-b1) g, etc.)
//   alpha = lr sqrt(1 - b2^t) / (1 - b1^t),  p -= alpha m / (sqrt(v) + eps)
// The (g - m)(1 - b1) arrangement is TensorFlow's (ApplyAdam and Keras's Adam), kept so float32
// rounding matches. Slots "adam/m/<i>" and "adam/v/<i>". ref::adam_update is the flat-array
// update, mirrored bit for bit by cuda::adam_update (optim/fused_update.h): all in T, p, m, v
// OVERWRITTEN in place, no aliasing.
#pragma once

#include <cstdint>

#include "optim/optimizer.h"

namespace ember {

namespace ref {
// p, g, m, v [n]; alpha is the bias-corrected step size computed by the caller (in double).
template <class T>
void adam_update(T* p, const T* g, T* m, T* v, int64_t n, T alpha, T beta_1, T beta_2, T epsilon);
}  // namespace ref

class Adam : public Optimizer {
 public:
  explicit Adam(const OptimizerConfig& cfg);  // uses lr(), beta_1, beta_2, epsilon, clipping
  const char* name() const override { return "adam"; }

 protected:
  void update(const std::vector<ag::Var*>& params) override;
  void append_slots(NamedTensors& out) const override;
  bool load_slot(const std::string& slot, size_t index, const Tensor& value) override;
  void clear_slots() override {
    m_.clear();
    v_.clear();
  }

 private:
  double beta_1_, beta_2_, epsilon_;
  std::vector<Tensor> m_, v_;  // per param index; undefined until first used
};

}  // namespace ember
