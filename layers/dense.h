// Dense (Keras Dense) and Activation layers. Dense maps {C} -> {U}, or {T,C} -> {T,U} by
// applying itself at every step, as Keras does on a 3-D input (Models C and D predict per
// step); for a sequence input the mask passes through. Parameters "kernel" [C,U] and, with
// use_bias, "bias" [U]. The activation is applied to the result (linear adds no node).
#pragma once

#include "engine/config/layer_options.h"
#include "layers/functional.h"
#include "layers/layer.h"

namespace ember {

class Dense : public Layer {
 public:
  explicit Dense(const DenseOptions& opts);  // throws on units <= 0 or unknown names
  const char* type() const override { return "Dense"; }
  FeatureShape output_shape(const FeatureShape& in) const override;
  void build(const FeatureShape& in, DType dt, InitRng& rng) override;
  LayerIO forward(const LayerIO& in, const RunContext& ctx) override;
  const DenseOptions& options() const { return opts_; }
  fn::Activation activation() const { return act_; }

 private:
  DenseOptions opts_;
  fn::Activation act_;
};

// Keras Activation: any shape in, the same shape out; the mask passes through.
class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(const ActivationOptions& opts);  // throws on an unknown name
  const char* type() const override { return "Activation"; }
  FeatureShape output_shape(const FeatureShape& in) const override;
  LayerIO forward(const LayerIO& in, const RunContext& ctx) override;
  fn::Activation activation() const { return act_; }

 private:
  fn::Activation act_;
};

}  // namespace ember
