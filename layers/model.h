// Model: a Keras Sequential over token ids [B,T] int32. add() gives each layer its index and
// a Keras-style unique name (lstm, lstm_1, ...; a user's name is kept); build(maxlen) then
// walks the feature shapes from {maxlen}, turning a layer's shape complaint into a
// ConfigError that names both layers and the config location, and creates the parameters,
// layer i drawing from InitRng(seed, i) so weights depend only on the seed and position.
// Shapes are checked in build() rather than add() because only build() knows T.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config.h"
#include "layers/layer.h"

namespace ember {

class Model {
 public:
  explicit Model(std::string name);

  // Takes the layer, names and indexes it. A non-empty layer->name is the user's and must be
  // unique (ConfigError at loc otherwise). loc is where the layer came from, for messages.
  void add(std::unique_ptr<Layer> layer, SourceLoc loc = {});
  // Checks every layer's input shape (the first gets {maxlen}: token ids) and creates the
  // parameters in dtype dt. Once only.
  void build(int64_t maxlen, DType dt, uint64_t seed);
  // Moves every parameter to `dev` (built on the CPU first, so a seed gives the same weights
  // on every device). Gradients and optimizer state follow the parameters' device.
  void to(Device dev);
  Device device() const { return device_; }
  bool built() const { return built_; }

  // tokens [B,T] int32; wrapped in a Var that needs no gradient and run through every layer.
  LayerIO forward(const Tensor& tokens, const RunContext& ctx);

  // "lstm/kernel", "bidirectional/forward_lstm/bias", ... in layer order. The pointers stay
  // valid for the model's lifetime.
  std::vector<std::pair<std::string, ag::Var*>> named_parameters();
  std::vector<ag::Var*> parameters();
  int64_t param_count() const;
  FeatureShape output_shape() const;  // of the last layer; before build() T is None
  // The Keras-style table: layer (type), output shape, parameter count, totals.
  std::string summary() const;

  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  const std::string& name() const { return name_; }
  int64_t maxlen() const { return maxlen_; }

 private:
  std::string default_name(const Layer& layer);
  bool name_taken(const std::string& n) const;

  std::string name_;
  Device device_ = Device::cpu();
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<SourceLoc> locs_;
  std::map<std::string, int> name_counters_;  // Keras's per-base-name counters
  std::vector<FeatureShape> shapes_;          // output shape of each layer, set by build()
  int64_t maxlen_ = -1;
  bool built_ = false;
};

// Keras's default base name of a layer type: "LSTM" -> "lstm",
// "GlobalMaxPooling1D" -> "global_max_pooling1d", "SpatialDropout1D" -> "spatial_dropout1d".
std::string keras_snake_case(const std::string& type);

}  // namespace ember
