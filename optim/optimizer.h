// Optimizer base class and factory, with Keras semantics: step() clips the gradients as the
// config asks (clipnorm per parameter, or global_clipnorm over all), applies one update to
// every parameter that has a gradient (a parameter without one is left alone, as Keras skips
// None gradients) and counts the iteration. Per-parameter state (momentum, Adam's m and v) is
// keyed by the parameter's position in the list given to step(), so callers pass the same
// list in the same order every time; it is created lazily (zeros) on a parameter's first
// update, in the parameter's dtype and on its device. Params may live on a CUDA device (all on
// the same one, with their gradients): the updates then run as fused multi-tensor kernels
// (optim/fused_update.h) and clipping stays on the device; state() still returns host copies.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config.h"
#include "engine/core/graph.h"

namespace ember {

class Optimizer {
 public:
  using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

  virtual ~Optimizer();
  virtual const char* name() const = 0;

  // Clips the gradients (in place: the grads are modified), then updates every param whose
  // grad() is defined, then increments iterations(). Params and grads must be float tensors
  // of equal shape, dtype and device, every param on the same device.
  void step(const std::vector<ag::Var*>& params);

  double learning_rate() const { return lr_; }
  void set_learning_rate(double lr);  // ReduceLROnPlateau and friends; lr >= 0
  int64_t iterations() const { return iterations_; }

  // Everything needed to resume identically: "iterations" and "learning_rate" (float64
  // scalars) plus the slots, named "<optimizer>/<slot>/<param index>" (e.g. "adam/m/3").
  // Returns copies. load_state replaces the whole state (slots not listed start again from
  // zeros); unknown names throw. Slot shapes are checked against the params at the next step.
  virtual NamedTensors state() const;
  virtual void load_state(const NamedTensors& state);

 protected:
  explicit Optimizer(const OptimizerConfig& cfg);

  // One update of every param with a gradient; iterations() is still the count before this
  // step (Adam's t is iterations() + 1).
  virtual void update(const std::vector<ag::Var*>& params) = 0;
  // Slots for state(): appended after the base entries.
  virtual void append_slots(NamedTensors& out) const = 0;
  // Takes one "<optimizer>/<slot>/<index>" entry; returns false when the name is not its own.
  virtual bool load_slot(const std::string& slot, size_t index, const Tensor& value) = 0;
  virtual void clear_slots() = 0;

  // The slot tensor for params[i] in `slots`, created as zeros on first use; throws when a
  // loaded slot does not match the param's shape or dtype.
  Tensor& slot_for(std::vector<Tensor>& slots, size_t i, const ag::Var& param,
                   const char* slot_name);
  static void append_slot_list(NamedTensors& out, const std::string& prefix,
                               const std::vector<Tensor>& slots);
  static void store_slot(std::vector<Tensor>& slots, size_t index, const Tensor& value);

 private:
  double lr_;
  int64_t iterations_ = 0;
  std::optional<double> clipnorm_, global_clipnorm_;
};

// Adam or SGD as cfg.name says; the learning rate is cfg.lr() (Keras's default when unset).
// Throws std::invalid_argument for an out-of-range hyperparameter.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& cfg);

}  // namespace ember
