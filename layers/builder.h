// The YAML -> model builder: turns the `model:` list of a parsed Config into a built Model.
// Each LayerConfig goes to its type's constructor in the layer registry (layers/registry.h;
// GlobalMaxPool1D is GlobalMaxPooling1D); a layer constructor's complaint, a user name given
// twice, or an Embedding.input_length that disagrees with sequence.maxlen becomes a
// ConfigError at the layer's config location. Parameters are created with Config::seed.
#pragma once

#include <memory>

#include "engine/config/config.h"
#include "layers/model.h"

namespace ember {

// One layer from its config entry (unnamed; Model::add names it). Throws ConfigError.
std::unique_ptr<Layer> make_layer(const LayerConfig& lc);

// Builds cfg.model for input length cfg.sequence.maxlen in dtype dt. Throws ConfigError.
Model build_model(const Config& cfg, DType dt = DType::kFloat32);

}  // namespace ember
