// LSTM layer over fn::lstm. Options are validated once, in the constructor, so a bad config
// fails when the model is built, not at the first batch. Each parameter draws from its own
// fork of the layer's InitRng (kernel 0, recurrent_kernel 1, bias 2), so adding or removing
// the bias does not change the other weights.
#include "layers/lstm.h"

#include "engine/core/rng.h"
#include "layers/functional.h"

namespace ember {

LSTM::LSTM(const LstmOptions& options) : options_(options) {
  EMBER_CHECK_ARG(options_.units > 0, "LSTM: units must be > 0, got " << options_.units);
  EMBER_CHECK_ARG(options_.activation == fn::Activation::kTanh,
                  "LSTM: only activation 'tanh' is supported, got '"
                      << fn::activation_name(options_.activation) << "'");
  EMBER_CHECK_ARG(options_.recurrent_activation == fn::Activation::kSigmoid,
                  "LSTM: only recurrent_activation 'sigmoid' is supported, got '"
                      << fn::activation_name(options_.recurrent_activation) << "'");
  EMBER_CHECK_ARG(options_.dropout >= 0.0 && options_.dropout < 1.0,
                  "LSTM: dropout must be in [0, 1), got " << options_.dropout);
  EMBER_CHECK_ARG(options_.recurrent_dropout >= 0.0 && options_.recurrent_dropout < 1.0,
                  "LSTM: recurrent_dropout must be in [0, 1), got " << options_.recurrent_dropout);
  impl_ = options_.implementation;
  EMBER_CHECK_ARG(impl_ != fn::LstmImpl::kCudnn || options_.recurrent_dropout == 0.0,
                  "LSTM: implementation 'cudnn' cannot honour recurrent_dropout "
                      << options_.recurrent_dropout
                      << " (cuDNN's LSTM has no recurrent dropout); use implementation 'fused' "
                         "or 'auto', or set recurrent_dropout to 0");
  for (const std::string* init :
       {&options_.kernel_initializer, &options_.recurrent_initializer, &options_.bias_initializer})
    EMBER_CHECK_ARG(is_known_initializer(*init), "LSTM: unknown initializer '" << *init << "'");
}

FeatureShape LSTM::output_shape(const FeatureShape& in) const {
  EMBER_CHECK_ARG(in.size() == 2 && in[1] > 0,
                  "LSTM expects input (batch, steps, features) with known features, got "
                      << feature_shape_str(in));
  if (options_.return_sequences) return {in[0], options_.units};
  return {options_.units};
}

void LSTM::build(const FeatureShape& in, DType dt, InitRng& rng) {
  output_shape(in);  // validates
  const int64_t nc = in[1], nh = options_.units;
  params_.clear();
  Tensor kernel = Tensor::empty(Shape{nc, 4 * nh}, dt);
  InitRng kernel_rng = rng.fork(0);
  initialize(kernel, options_.kernel_initializer, kernel_rng);
  add_param("kernel", kernel);

  Tensor recurrent = Tensor::empty(Shape{nh, 4 * nh}, dt);
  InitRng recurrent_rng = rng.fork(1);
  initialize(recurrent, options_.recurrent_initializer, recurrent_rng);
  add_param("recurrent_kernel", recurrent);

  if (options_.use_bias) {
    Tensor bias = Tensor::empty(Shape{4 * nh}, dt);
    InitRng bias_rng = rng.fork(2);
    initialize(bias, options_.bias_initializer, bias_rng);
    if (options_.unit_forget_bias)  // Keras: the forget gate starts open
      dispatch_float(dt, "LSTM bias", [&](auto tag) {
        using T = decltype(tag);
        for (int64_t j = nh; j < 2 * nh; ++j) bias.data<T>()[j] = T(1);
      });
    add_param("bias", bias);
  }
}

LayerIO LSTM::forward(const LayerIO& in, const RunContext& ctx) {
  return forward_with(in, ctx, options_.go_backwards, /*reverse_outputs=*/false,
                      /*zero_output_for_mask=*/false, static_cast<uint32_t>(index),
                      /*first_slot=*/0);
}

LayerIO LSTM::forward_with(const LayerIO& in, const RunContext& ctx, bool go_backwards,
                           bool reverse_outputs, bool zero_output_for_mask, uint32_t layer,
                           uint32_t first_slot, std::vector<Tensor>* side_stream_keep_alive) const {
  EMBER_CHECK_ARG(params_.size() >= 2, "LSTM '" << name << "': forward before build");
  fn::LstmCall call;
  call.return_sequences = options_.return_sequences;
  call.go_backwards = go_backwards;
  call.reverse_outputs = reverse_outputs;
  call.zero_output_for_mask = zero_output_for_mask;
  call.training = ctx.training;
  call.dropout = options_.dropout;
  call.recurrent_dropout = options_.recurrent_dropout;
  call.seed = ctx.seed;
  call.offset = dropout_offset(ctx.step, layer, first_slot);  // fn::lstm also uses offset+1
  call.first_row = ctx.row_offset;
  call.implementation = impl_;
  call.side_stream_keep_alive = side_stream_keep_alive;
  const ag::Var bias = params_.size() > 2 ? params_[2].var : ag::Var();
  LayerIO out;
  out.x = fn::lstm(in.x, params_[0].var, params_[1].var, bias, in.mask, call);
  if (options_.return_sequences) out.mask = in.mask;
  return out;
}

}  // namespace ember
