// Optimizer's shared machinery (clipping, iteration count, named state, lazily created slots)
// and make_optimizer. Slot names are "<optimizer>/<slot>/<param index>"; the index is the
// param's position in step()'s list, the one stable identity a param has across a resume.
#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>

#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/sgd.h"

namespace ember {

Optimizer::Optimizer(const OptimizerConfig& cfg)
    : lr_(cfg.lr()), clipnorm_(cfg.clipnorm), global_clipnorm_(cfg.global_clipnorm) {
  EMBER_CHECK_ARG(std::isfinite(lr_) && lr_ >= 0.0,
                  optimizer_name(cfg.name) << ": learning_rate must be >= 0, got " << lr_);
  // Keras refuses both at once: which one applies first would change the result.
  EMBER_CHECK_ARG(!(clipnorm_ && global_clipnorm_),
                  optimizer_name(cfg.name) << ": set clipnorm or global_clipnorm, not both");
  EMBER_CHECK_ARG(!clipnorm_ || *clipnorm_ > 0.0,
                  optimizer_name(cfg.name) << ": clipnorm must be > 0, got " << *clipnorm_);
  EMBER_CHECK_ARG(!global_clipnorm_ || *global_clipnorm_ > 0.0,
                  optimizer_name(cfg.name)
                      << ": global_clipnorm must be > 0, got " << *global_clipnorm_);
}

Optimizer::~Optimizer() = default;

void Optimizer::set_learning_rate(double lr) {
  EMBER_CHECK_ARG(std::isfinite(lr) && lr >= 0.0,
                  name() << ": learning_rate must be >= 0, got " << lr);
  lr_ = lr;
}

void Optimizer::step(const std::vector<ag::Var*>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    EMBER_CHECK_ARG(params[i] && params[i]->defined(), name()
                                                           << ": param " << i << " is undefined");
    const Tensor& p = params[i]->value();
    const Tensor& g = params[i]->grad();
    const Tensor& p0 = params[0]->value();
    EMBER_CHECK_ARG(p.device() == p0.device(), name() << ": params on different devices (param 0 "
                                                      << p0.str() << ", param " << i << " "
                                                      << p.str() << ")");
    EMBER_CHECK_ARG(p.dtype() == DType::kFloat32 || p.dtype() == DType::kFloat64,
                    name() << ": param " << i << " must be float32/float64, got " << p.str());
    if (g.defined()) {
      EMBER_CHECK_ARG(
          g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(),
          name() << ": param " << i << " is " << p.str() << " but its gradient is " << g.str());
    }
  }
  if (global_clipnorm_) apply_global_clipnorm(params, *global_clipnorm_);
  if (clipnorm_) {
    for (ag::Var* p : params)
      if (p->grad().defined()) clip_by_norm(p->mutable_grad(), *clipnorm_);
  }
  update(params);
  ++iterations_;
}

Optimizer::NamedTensors Optimizer::state() const {
  NamedTensors out;
  out.emplace_back("iterations",
                   Tensor::full(Shape{}, DType::kFloat64, static_cast<double>(iterations_)));
  out.emplace_back("learning_rate", Tensor::full(Shape{}, DType::kFloat64, lr_));
  append_slots(out);
  return out;
}

void Optimizer::load_state(const NamedTensors& state) {
  clear_slots();
  int64_t iterations = 0;
  double lr = lr_;
  const std::string prefix = std::string(name()) + "/";
  for (const auto& [key, value] : state) {
    EMBER_CHECK_ARG(value.defined() && value.device().is_cpu(),
                    name() << ": state '" << key << "' must be a defined CPU tensor");
    if (key == "iterations" || key == "learning_rate") {
      EMBER_CHECK_ARG(value.numel() == 1,
                      name() << ": state '" << key << "' must be a scalar, got " << value.str());
      if (key == "iterations") {
        const double it = value.item();
        // Bounded before the cast: a larger double does not fit int64 (undefined behaviour).
        EMBER_CHECK_ARG(it >= 0 && it < 9.2e18 && it == std::floor(it),
                        name() << ": state 'iterations' is " << it);
        iterations = static_cast<int64_t>(it);
      } else {
        lr = value.item();
      }
      continue;
    }
    // "<optimizer>/<slot>/<index>"
    const size_t last = key.rfind('/');
    bool ok = key.compare(0, prefix.size(), prefix) == 0 && last != std::string::npos &&
              last > prefix.size() && last + 1 < key.size();
    size_t index = 0;
    if (ok) {
      const std::string digits = key.substr(last + 1);
      ok = std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(c); });
      if (ok) index = std::stoul(digits);
    }
    ok = ok && load_slot(key.substr(prefix.size(), last - prefix.size()), index, value);
    EMBER_CHECK_ARG(ok, name() << ": unknown optimizer state '" << key << "' (expected "
                               << "iterations, learning_rate or " << prefix << "<slot>/<index>)");
  }
  iterations_ = iterations;
  set_learning_rate(lr);
}

Tensor& Optimizer::slot_for(std::vector<Tensor>& slots, size_t i, const ag::Var& param,
                            const char* slot_name) {
  if (slots.size() <= i) slots.resize(i + 1);
  const Tensor& p = param.value();
  if (!slots[i].defined()) {
    slots[i] = Tensor::zeros(p.shape(), p.dtype(), p.device());
  } else {
    EMBER_CHECK_ARG(slots[i].shape() == p.shape() && slots[i].dtype() == p.dtype(),
                    name() << ": state '" << name() << "/" << slot_name << "/" << i << "' is "
                           << slots[i].str() << " but param " << i << " is " << p.str()
                           << " (was the state saved for another model?)");
    // Loaded state arrives on the cpu; it moves to the param's device on first use.
    if (slots[i].device() != p.device()) slots[i] = slots[i].to(p.device());
  }
  return slots[i];
}

void Optimizer::append_slot_list(NamedTensors& out, const std::string& prefix,
                                 const std::vector<Tensor>& slots) {
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].defined())  // host copies, whatever device the slot lives on
      out.emplace_back(prefix + std::to_string(i),
                       slots[i].device().is_cpu() ? slots[i].clone() : slots[i].to(Device::cpu()));
}

void Optimizer::store_slot(std::vector<Tensor>& slots, size_t index, const Tensor& value) {
  EMBER_CHECK_ARG(value.dtype() == DType::kFloat32 || value.dtype() == DType::kFloat64,
                  "optimizer state for param " << index << " must be float, got " << value.str());
  if (slots.size() <= index) slots.resize(index + 1);
  slots[index] = value.clone();
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& cfg) {
  switch (cfg.name) {
    case OptimizerKind::kAdam:
      return std::make_unique<Adam>(cfg);
    case OptimizerKind::kSgd:
      return std::make_unique<Sgd>(cfg);
  }
  return nullptr;  // unreachable: the switch names every kind
}

}  // namespace ember
