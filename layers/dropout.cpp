// Dropout and SpatialDropout1D layers over fn::dropout / fn::spatial_dropout1d. Outside
// training (or at rate 0) the input LayerIO is returned as is: no copy, no graph node. Each
// layer uses mask slot 0 of its stream dropout_offset(step, index, slot); the other 15 slots
// are free for layers that need more masks.
#include "layers/dropout.h"

#include "engine/core/rng.h"
#include "layers/functional.h"

namespace ember {

namespace {

double checked_rate(const DropoutOptions& opts, const char* layer) {
  // Keras rejects rate 1 too: it would zero everything and leave 1/(1-rate) undefined.
  EMBER_CHECK_ARG(opts.rate >= 0.0 && opts.rate < 1.0,
                  layer << ": rate must be in [0, 1), got " << opts.rate);
  return opts.rate;
}

uint64_t mask_offset(const RunContext& ctx, int index) {
  return dropout_offset(ctx.step, static_cast<uint32_t>(index), 0);
}

}  // namespace

Dropout::Dropout(const DropoutOptions& opts) : rate_(checked_rate(opts, "Dropout")) {}

LayerIO Dropout::forward(const LayerIO& in, const RunContext& ctx) {
  if (!ctx.training || rate_ == 0.0) return in;
  LayerIO out;
  const Tensor& v = in.x.value();
  const uint64_t per_row = v.size(0) > 0 ? static_cast<uint64_t>(v.numel() / v.size(0)) : 0;
  out.x = fn::dropout(in.x, rate_, ctx.seed, mask_offset(ctx, index), ctx.row_offset * per_row);
  out.mask = in.mask;
  return out;
}

SpatialDropout1D::SpatialDropout1D(const DropoutOptions& opts)
    : rate_(checked_rate(opts, "SpatialDropout1D")) {}

FeatureShape SpatialDropout1D::output_shape(const FeatureShape& in) const {
  EMBER_CHECK_ARG(in.size() == 2, "SpatialDropout1D expects a sequence (None, T, C), got input "
                                      << feature_shape_str(in));
  return in;
}

LayerIO SpatialDropout1D::forward(const LayerIO& in, const RunContext& ctx) {
  EMBER_CHECK_ARG(in.x.defined() && in.x.value().ndim() == 3,
                  "SpatialDropout1D expects [B,T,C], got "
                      << (in.x.defined() ? in.x.value().str() : std::string("undefined")));
  if (!ctx.training || rate_ == 0.0) return in;
  LayerIO out;
  out.x = fn::spatial_dropout1d(in.x, rate_, ctx.seed, mask_offset(ctx, index),
                                ctx.row_offset * static_cast<uint64_t>(in.x.value().size(2)));
  out.mask = in.mask;
  return out;
}

}  // namespace ember
