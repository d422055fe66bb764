// Dropout (one draw per element) and SpatialDropout1D (one draw per (sample, channel), kept at
// every step), Keras semantics: inverted scaling, identity outside training. Masks come from
// Philox stream dropout_offset(ctx.step, index, 0) under ctx.seed, so a step is replayable and
// the GPU draws the same mask. Shapes pass through; so does the mask.
#pragma once

#include "engine/config/layer_options.h"
#include "layers/layer.h"

namespace ember {

class Dropout : public Layer {
 public:
  explicit Dropout(const DropoutOptions& opts);  // rate in [0, 1), else throws
  const char* type() const override { return "Dropout"; }
  FeatureShape output_shape(const FeatureShape& in) const override { return in; }
  LayerIO forward(const LayerIO& in, const RunContext& ctx) override;
  double rate() const { return rate_; }

 private:
  double rate_;
};

class SpatialDropout1D : public Layer {
 public:
  explicit SpatialDropout1D(const DropoutOptions& opts);  // rate in [0, 1), else throws
  const char* type() const override { return "SpatialDropout1D"; }
  FeatureShape output_shape(const FeatureShape& in) const override;  // needs {T,C}
  LayerIO forward(const LayerIO& in, const RunContext& ctx) override;
  double rate() const { return rate_; }

 private:
  double rate_;
};

}  // namespace ember
