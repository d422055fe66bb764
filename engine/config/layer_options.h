// Typed options of every layer, with Keras's argument names and defaults. The config parser
// fills these (through the layer registry, layers/registry.h); the layer classes take them.
// Anything the config may set for a layer is a field here. A closed set of names is an enum,
// parsed once when the config is read: activations and LSTM implementations are the enums
// of kernels/op_kinds.h (fn::parse_activation / activation_name, fn::parse_lstm_impl /
// lstm_impl_name), merge modes kernels/merge.h's (parse_merge_mode / merge_mode_name below).
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "engine/core/check.h"
#include "kernels/merge.h"
#include "kernels/op_kinds.h"  // fn::Activation, fn::LstmImpl

namespace ember {

// Bidirectional's merge_mode names: concat | sum | mul | ave; anything else throws
// std::invalid_argument listing them.
inline MergeMode parse_merge_mode(const std::string& name) {
  if (name == "concat") return MergeMode::kConcat;
  if (name == "sum") return MergeMode::kSum;
  if (name == "mul") return MergeMode::kMul;
  if (name == "ave") return MergeMode::kAve;
  EMBER_CHECK_ARG(false,
                  "merge: unknown merge_mode '" << name << "'; known: concat, sum, mul, ave");
  return MergeMode::kConcat;  // unreachable
}
inline const char* merge_mode_name(MergeMode m) {
  switch (m) {
    case MergeMode::kConcat:
      return "concat";
    case MergeMode::kSum:
      return "sum";
    case MergeMode::kMul:
      return "mul";
    case MergeMode::kAve:
      return "ave";
  }
  return "?";
}

struct EmbeddingOptions {
  int64_t input_dim = 0;   // vocabulary size V (ids must be < V)
  int64_t output_dim = 0;  // E
  bool mask_zero = false;
  std::string embeddings_initializer = "uniform";
  int64_t input_length = -1;  // Keras 2's optional hint; must match sequence.maxlen if given
};

struct DropoutOptions {  // Dropout and SpatialDropout1D
  double rate = 0.0;
};

struct DenseOptions {
  int64_t units = 0;
  fn::Activation activation = fn::Activation::kLinear;
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
};

struct ActivationOptions {
  fn::Activation activation = fn::Activation::kLinear;
};

struct LstmOptions {
  int64_t units = 0;
  fn::Activation activation = fn::Activation::kTanh;               // only tanh is supported
  fn::Activation recurrent_activation = fn::Activation::kSigmoid;  // only sigmoid is supported
  bool use_bias = true;
  bool return_sequences = false;
  bool go_backwards = false;
  bool unit_forget_bias = true;
  double dropout = 0.0;            // on x, one [B,C] mask per sequence
  double recurrent_dropout = 0.0;  // on h_{t-1}, one [B,H] mask per sequence
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  // auto | reference | fused | cudnn | persistent: layers/lstm.h, layers/functional.h
  fn::LstmImpl implementation = fn::LstmImpl::kAuto;
};

struct BidirectionalOptions {
  LstmOptions layer;
  MergeMode merge_mode = MergeMode::kConcat;  // concat | sum | mul | ave
};

// One layer's options, as a LayerConfig (engine/config/config.h) holds them. monostate: layers
// without arguments (GlobalMaxPooling1D).
using LayerOptions = std::variant<EmbeddingOptions, DropoutOptions, DenseOptions, ActivationOptions,
                                  LstmOptions, BidirectionalOptions, std::monostate>;

}  // namespace ember
