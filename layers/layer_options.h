// Typed options of every layer, with Keras's argument names and defaults. The YAML builder
// (layers/builder.cpp) fills these; the layer classes take them. Anything the config may set
// for a layer is a field here.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace ember {

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
  std::string activation = "linear";  // linear (None), relu, sigmoid, tanh, softmax
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
};

struct ActivationOptions {
  std::string activation = "linear";
};

struct LstmOptions {
  int64_t units = 0;
  std::string activation = "tanh";               // only tanh is supported
  std::string recurrent_activation = "sigmoid";  // only sigmoid is supported
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
  std::string implementation = "auto";
};

struct BidirectionalOptions {
  LstmOptions layer;
  std::string merge_mode = "concat";  // concat | sum | mul | ave
};

// One layer's options, as a LayerConfig (engine/config.h) holds them. monostate: layers
// without arguments (GlobalMaxPooling1D).
using LayerOptions = std::variant<EmbeddingOptions, DropoutOptions, DenseOptions, ActivationOptions,
                                  LstmOptions, BidirectionalOptions, std::monostate>;

}  // namespace ember
