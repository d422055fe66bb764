// Dense and Activation layers over fn::dense and fn::activation. The kernel and the bias
// draw from separate sub-streams (rng.fork(0), rng.fork(1)), so the kernel's values do not
// depend on use_bias.
#include "layers/dense.h"

namespace ember {

Dense::Dense(const DenseOptions& opts) : opts_(opts), act_(opts.activation) {
  EMBER_CHECK_ARG(opts_.units > 0, "Dense: units must be positive, got " << opts_.units);
  EMBER_CHECK_ARG(is_known_initializer(opts_.kernel_initializer),
                  "Dense: unknown kernel_initializer '" << opts_.kernel_initializer << "'");
  EMBER_CHECK_ARG(!opts_.use_bias || is_known_initializer(opts_.bias_initializer),
                  "Dense: unknown bias_initializer '" << opts_.bias_initializer << "'");
}

FeatureShape Dense::output_shape(const FeatureShape& in) const {
  EMBER_CHECK_ARG(
      in.size() == 1 || in.size() == 2,
      "Dense expects (None, C) or a sequence (None, T, C), got input " << feature_shape_str(in));
  EMBER_CHECK_ARG(in.back() > 0, "Dense needs a known, positive last dimension, got input "
                                     << feature_shape_str(in));
  FeatureShape out = in;
  out.back() = opts_.units;
  return out;
}

void Dense::build(const FeatureShape& in, DType dt, InitRng& rng) {
  output_shape(in);  // validates
  EMBER_CHECK_ARG(params_.empty(), "Dense '" << name << "' is already built");
  Tensor kernel = Tensor::empty(Shape{in.back(), opts_.units}, dt);
  InitRng kr = rng.fork(0);
  initialize(kernel, opts_.kernel_initializer, kr);
  add_param("kernel", std::move(kernel));
  if (opts_.use_bias) {
    Tensor bias = Tensor::empty(Shape{opts_.units}, dt);
    InitRng br = rng.fork(1);
    initialize(bias, opts_.bias_initializer, br);
    add_param("bias", std::move(bias));
  }
}

LayerIO Dense::forward(const LayerIO& in, const RunContext&) {
  EMBER_CHECK_ARG(!params_.empty(), "Dense '" << name << "': forward before build");
  EMBER_CHECK_ARG(in.x.defined(), "Dense: input is undefined");
  const int nd = in.x.value().ndim();
  EMBER_CHECK_ARG(nd == 2 || nd == 3, "Dense expects [B,C] or [B,T,C], got " << in.x.value().str());
  const ag::Var no_bias;
  LayerIO out;
  ag::Var z = fn::dense(in.x, params_[0].var, opts_.use_bias ? params_[1].var : no_bias);
  out.x = fn::activation(z, act_);
  if (act_ == fn::Activation::kSigmoid || act_ == fn::Activation::kSoftmax) out.logits = z;
  if (nd == 3) out.mask = in.mask;  // per-step output keeps the time axis and its mask
  return out;
}

ActivationLayer::ActivationLayer(const ActivationOptions& opts) : act_(opts.activation) {}

FeatureShape ActivationLayer::output_shape(const FeatureShape& in) const {
  EMBER_CHECK_ARG(
      act_ != fn::Activation::kSoftmax || (!in.empty() && in.back() != 0),
      "Activation softmax needs a non-empty last axis, got input " << feature_shape_str(in));
  return in;
}

LayerIO ActivationLayer::forward(const LayerIO& in, const RunContext&) {
  LayerIO out;
  out.x = fn::activation(in.x, act_);
  if (act_ == fn::Activation::kSigmoid || act_ == fn::Activation::kSoftmax) out.logits = in.x;
  out.mask = in.mask;
  return out;
}

}  // namespace ember
