// GlobalMaxPooling1D (Keras; GlobalMaxPool1D is the same class): {T,C} -> {C}, the maximum
// over every step. Keras's version does not consult the mask, so padded steps take part and
// no mask leaves the layer.
#pragma once

#include "layers/layer.h"

namespace ember {

class GlobalMaxPooling1D : public Layer {
 public:
  GlobalMaxPooling1D() = default;
  const char* type() const override { return "GlobalMaxPooling1D"; }
  FeatureShape output_shape(const FeatureShape& in) const override;
  LayerIO forward(const LayerIO& in, const RunContext& ctx) override;
};

}  // namespace ember
