// GlobalMaxPooling1D layer over fn::global_max_pool1d: {T,C} -> {C}. The mask is dropped, as
// in Keras, whose GlobalMaxPooling1D pools over padded steps too; a sequence of zero steps is
// rejected at shape time because a maximum over nothing is undefined.
#include "layers/pooling.h"

#include "layers/functional.h"

namespace ember {

FeatureShape GlobalMaxPooling1D::output_shape(const FeatureShape& in) const {
  EMBER_CHECK_ARG(in.size() == 2, "GlobalMaxPooling1D expects a sequence (None, T, C), got input "
                                      << feature_shape_str(in));
  EMBER_CHECK_ARG(in[0] != 0, "GlobalMaxPooling1D needs at least one step, got input "
                                  << feature_shape_str(in));
  return {in[1]};
}

LayerIO GlobalMaxPooling1D::forward(const LayerIO& in, const RunContext&) {
  LayerIO out;
  out.x = fn::global_max_pool1d(in.x);  // checks [B,T,C]; the mask is dropped
  return out;
}

}  // namespace ember
